//! Waiting for store tasks to finish.
//!
//! The AWS SDKs' StoreImageTaskComplete waiters disagree on the edge cases; this one decides
//! them as follows:
//! - An image id with no store task is polled for a grace period (a task just created may not be
//!   listed yet), then the wait ends with `NotFound`, instead of polling until the deadline (most
//!   SDKs) or declaring success (the C++ SDK).
//! - The first `Failed` task ends the wait with `TaskFailed`, naming the AMI and the reason.
//! - Transient errors (throttling, network, timeouts, unreadable replies, 5xx) are retried at the
//!   next poll; permanent ones (unauthorized, bad arguments, other 4xx) end the wait at once.
//! - Between polls the delay grows exponentially from `min_delay` to `max_delay`, with jitter.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::call::{Call, Kind, Output};
use crate::cancel::CancelToken;
use crate::client::Client;
use crate::describe_store_image_tasks::query::Query;
use crate::describe_store_image_tasks::task::{Task, TaskPage, TaskState};
use crate::error::{Error, ErrorKind, Result};

/// How to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitOptions {
    /// The delay after the first poll, and the least delay between polls.
    pub min_delay: Duration,
    /// The longest delay between polls.
    pub max_delay: Duration,
    /// The whole wait ends with `WaitTimeout` after this long; `None` waits without a deadline.
    pub timeout: Option<Duration>,
    /// How long an image id may have no store task before the wait ends with `NotFound`.
    pub not_found_grace: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            min_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(120),
            timeout: Some(Duration::from_secs(2 * 3600)),
            not_found_grace: Duration::from_secs(60),
        }
    }
}

/// Errors worth another poll.
pub fn is_transient(e: &Error) -> bool {
    match e.kind {
        ErrorKind::Throttled | ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Response => true,
        ErrorKind::Service => e.http_status.is_none_or(|s| s >= 500),
        _ => false,
    }
}

fn describe_state(t: &Task) -> String {
    let state = t.state.as_str().unwrap_or("no state");
    match t.progress_percentage {
        Some(p) => format!("{state} {p}%"),
        None => state.to_owned(),
    }
}

/// A small xorshift generator for jitter; seeded from the clock, no quality needed.
struct Jitter(u64);

impl Jitter {
    fn new() -> Self {
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
        Jitter(seed | 1)
    }

    /// A duration uniformly between `lo` and `hi`.
    fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo).as_micros() as u64;
        lo + Duration::from_micros(self.0 % (span + 1))
    }
}

/// One image to wait for, and where its store task runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WaitTarget {
    /// The region; `None` for the client's own.
    pub region: Option<String>,
    /// The IAM role to assume for the image's account; `None` for the client's own credentials.
    pub role_arn: Option<String>,
    pub image_id: String,
}

/// The images of one (account, region) place, polled with one client.
#[derive(Clone)]
struct Group {
    ec2: aws_sdk_ec2::Client,
    endpoint: std::sync::Arc<str>,
    /// How messages name the place ("eu-west-3", "111111111111/eu-west-3"); empty for the
    /// client's own place.
    name: String,
    query: Query,
}

/// What a wait has seen: the latest task of each (place, image) it waits for, and its clock.
struct Watch {
    /// (group, image id) in the order given, each once, and how messages name each.
    keys: Vec<(usize, String)>,
    names: Vec<String>,
    latest: HashMap<(usize, String), Task>,
    started: Instant,
    deadline: Option<Instant>,
    polls: u32,
}

impl Watch {
    fn new(targets: &[WaitTarget], groups: &[Group], group_of: &[usize], timeout: Option<Duration>) -> Watch {
        let mut seen_keys = std::collections::HashSet::new();
        let keys: Vec<(usize, String)> =
            targets.iter().zip(group_of).map(|(t, g)| (*g, t.image_id.clone())).filter(|k| seen_keys.insert(k.clone())).collect();
        let names = keys
            .iter()
            .map(|(g, id)| if groups[*g].name.is_empty() { id.clone() } else { format!("{}/{id}", groups[*g].name) })
            .collect();
        let started = Instant::now();
        Watch { keys, names, latest: HashMap::new(), started, deadline: timeout.map(|t| started + t), polls: 0 }
    }

    /// The time left before the deadline; `None` without one.
    fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// The time left for a pause before the next poll: `None` when the deadline has passed,
    /// `Some(Duration::MAX)` without a deadline.
    fn until_deadline(&self) -> Option<Duration> {
        match self.deadline {
            None => Some(Duration::MAX),
            Some(d) => {
                let now = Instant::now();
                (now < d).then(|| d - now)
            }
        }
    }

    /// Keeps the latest task of every image the poll's pages hold.
    fn record(&mut self, pages: &[TaskPage]) {
        for (g, page) in pages.iter().enumerate() {
            for t in page.tasks.iter() {
                if let Some(id) = t.ami_id {
                    self.latest.insert((g, id.to_owned()), Task::from(t));
                }
            }
        }
    }

    /// The tasks seen so far, in the order of the targets.
    fn seen(&self) -> Vec<Task> {
        self.keys.iter().filter_map(|k| self.latest.get(k).cloned()).collect()
    }

    /// How the wait ends after this poll, if it does: a failed task, an image without a task for
    /// longer than the grace period, or every task completed.
    fn verdict(&self, seen: Vec<Task>, not_found_grace: Duration) -> Option<Result<Vec<Task>>> {
        let mut keyed = self.keys.iter().zip(&self.names);
        if let Some((k, name)) = keyed.clone().find(|(k, _)| self.latest.get(*k).is_some_and(|t| t.state == TaskState::Failed)) {
            let t = &self.latest[k];
            let reason = t.failure_reason.clone().unwrap_or_else(|| "no reason given".to_owned());
            let mut e = Error::new(ErrorKind::TaskFailed, format!("{name} failed: {reason}"));
            e.ami_id = Some(t.ami_id.clone().unwrap_or_default());
            e.failure_reason = t.failure_reason.clone();
            return Some(Err(e));
        }
        if let Some((k, name)) = keyed.find(|(k, _)| !self.latest.contains_key(*k)) {
            if self.started.elapsed() < not_found_grace {
                return None;
            }
            let mut e = Error::new(ErrorKind::NotFound, format!("{name} has had no store task for {:?}", self.started.elapsed()));
            e.ami_id = Some(k.1.clone());
            return Some(Err(e));
        }
        if seen.iter().all(|t| t.state == TaskState::Completed) {
            tracing::info!(polls = self.polls, "every store task completed");
            return Some(Ok(seen));
        }
        None
    }

    /// Each image's last known state, for messages.
    fn summary(&self) -> String {
        self.keys
            .iter()
            .zip(&self.names)
            .map(|(k, name)| match self.latest.get(k) {
                Some(t) => format!("{name}: {}", describe_state(t)),
                None => format!("{name}: no task yet"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn timed_out(&self) -> Error {
        Error::new(ErrorKind::WaitTimeout, format!("gave up after {:?}; last seen: {}", self.started.elapsed(), self.summary()))
    }
}

/// The pause between polls: from `min_delay`, doubling up to `max_delay`, with jitter.
struct Backoff {
    jitter: Jitter,
    floor: Duration,
    ceiling: Duration,
    max: Duration,
}

impl Backoff {
    fn new(opts: &WaitOptions) -> Backoff {
        Backoff { jitter: Jitter::new(), floor: opts.min_delay, ceiling: opts.min_delay, max: opts.max_delay }
    }

    /// The next pause, never past `until_deadline`.
    fn next(&mut self, until_deadline: Duration) -> Duration {
        let pause = self.jitter.between(self.floor, self.ceiling).min(until_deadline);
        self.ceiling = (self.ceiling * 2).min(self.max);
        pause
    }
}

/// How a poll's outcome moves a wait on: another poll after a pause, or the end.
enum Step {
    Again(Duration),
    Done(Result<Vec<Task>>),
}

/// A wait under way: what it has seen, its pauses and its options.
struct Waiting {
    watch: Watch,
    backoff: Backoff,
    opts: WaitOptions,
}

impl Waiting {
    fn new(targets: &[WaitTarget], groups: &[Group], group_of: &[usize], opts: &WaitOptions) -> Waiting {
        Waiting { watch: Watch::new(targets, groups, group_of, opts.timeout), backoff: Backoff::new(opts), opts: opts.clone() }
    }

    /// Keeps what a poll saw, shows it to `on_poll` (false stops the wait), and decides.
    fn after_poll(&mut self, polled: Result<Vec<TaskPage>>, on_poll: &mut impl FnMut(&[Task]) -> bool) -> Step {
        let watch = &mut self.watch;
        match polled {
            Ok(pages) => {
                watch.record(&pages);
                let seen = watch.seen();
                tracing::debug!(
                    poll = watch.polls,
                    seen = seen.len(),
                    wanted = watch.keys.len(),
                    "wait poll: {}",
                    watch.summary()
                );
                if !on_poll(&seen) {
                    return Step::Done(Err(Error::new(ErrorKind::Cancelled, "the progress callback stopped the wait")));
                }
                if let Some(end) = watch.verdict(seen, self.opts.not_found_grace) {
                    return Step::Done(end);
                }
            }
            Err(e) if e.kind == ErrorKind::WaitTimeout => return Step::Done(Err(watch.timed_out())),
            Err(e) if is_transient(&e) => {
                tracing::warn!(poll = watch.polls, "transient error while waiting, polling again: {e}");
            }
            Err(e) => return Step::Done(Err(e)),
        }
        let Some(until_deadline) = watch.until_deadline() else { return Step::Done(Err(watch.timed_out())) };
        let pause = self.backoff.next(until_deadline);
        tracing::debug!(pause_ms = pause.as_millis() as u64, "waiting before the next poll");
        Step::Again(pause)
    }
}

/// The checks of a wait made before anything is sent, and its targets grouped by place.
fn check_wait(targets: &[WaitTarget], opts: &WaitOptions) -> Result<Grouped> {
    if targets.is_empty() {
        return Err(Error::invalid("no image ids to wait for"));
    }
    if opts.min_delay.is_zero() || opts.max_delay < opts.min_delay {
        return Err(Error::invalid("the delays must satisfy 0 < min_delay <= max_delay"));
    }
    group_targets(targets)
}

fn targets_of(image_ids: &[String]) -> Vec<WaitTarget> {
    image_ids.iter().map(|id| WaitTarget { image_id: id.clone(), ..WaitTarget::default() }).collect()
}

impl Client {
    /// Polls until every image's latest store task is `Completed` (returning them in the order of
    /// `image_ids`), or one fails, or the deadline passes, or `cancel` fires. `on_poll` receives
    /// the tasks seen after each successful poll and returns false to stop waiting (`Cancelled`).
    pub fn wait(
        &self,
        image_ids: &[String],
        opts: &WaitOptions,
        cancel: Option<&CancelToken>,
        on_poll: impl FnMut(&[Task]) -> bool,
    ) -> Result<Vec<Task>> {
        self.wait_targets(&targets_of(image_ids), opts, cancel, on_poll)
    }

    /// Like [`Client::wait`], for images in several regions and accounts: each poll asks every
    /// (account, region) place for its images at once. Tasks come back in the order of `targets`
    /// (an image named twice for one place, once).
    pub fn wait_targets(
        &self,
        targets: &[WaitTarget],
        opts: &WaitOptions,
        cancel: Option<&CancelToken>,
        mut on_poll: impl FnMut(&[Task]) -> bool,
    ) -> Result<Vec<Task>> {
        let Grouped { places, ids, group_of } = check_wait(targets, opts)?;
        let ctx = self.wait_context();
        let groups = {
            let ctx = ctx.clone();
            self.run(cancel, async move { ctx.groups(places, ids).await })?
        };
        let mut waiting = Waiting::new(targets, &groups, &group_of, opts);
        loop {
            waiting.watch.polls += 1;
            let (c, g, remaining) = (ctx.clone(), groups.clone(), waiting.watch.remaining());
            let polled = self.run(cancel, async move { c.poll(&g, remaining).await });
            match waiting.after_poll(polled, &mut on_poll) {
                Step::Done(end) => return end,
                Step::Again(pause) => self.run(cancel, async move {
                    tokio::time::sleep(pause).await;
                    Ok(())
                })?,
            }
        }
    }

    /// Starts a wait, as [`Client::wait`] makes it, into `call` (a list call); returns at once.
    pub fn start_wait(&self, call: &Call, image_ids: &[String], opts: &WaitOptions) -> Result<()> {
        self.start_wait_targets(call, &targets_of(image_ids), opts)
    }

    /// Starts a wait, as [`Client::wait_targets`] makes it, into `call` (a list call): the tasks
    /// of the end become the call's list. Returns at once.
    pub fn start_wait_targets(&self, call: &Call, targets: &[WaitTarget], opts: &WaitOptions) -> Result<()> {
        call.expect(Kind::List)?;
        let Grouped { places, ids, group_of } = check_wait(targets, opts)?;
        let (ctx, targets, opts) = (self.wait_context(), targets.to_vec(), opts.clone());
        self.start(call, move |_| async move {
            let groups = ctx.groups(places, ids).await?;
            let mut waiting = Waiting::new(&targets, &groups, &group_of, &opts);
            loop {
                waiting.watch.polls += 1;
                let polled = ctx.poll(&groups, waiting.watch.remaining()).await;
                match waiting.after_poll(polled, &mut |_| true) {
                    Step::Done(end) => {
                        return end.map(|tasks| Output::List(TaskPage { tasks: tasks.into(), ..TaskPage::default() }));
                    }
                    Step::Again(pause) => tokio::time::sleep(pause).await,
                }
            }
        });
        Ok(())
    }

    fn wait_context(&self) -> WaitContext {
        WaitContext {
            ec2: self.ec2.clone(),
            endpoint: self.endpoint.clone(),
            sdk_config: self.sdk_config.clone(),
            sts_config: self.sts_config.clone(),
            endpoint_url: self.endpoint_url.clone(),
            proxies: self.proxies.clone(),
            max_concurrency: self.max_concurrency,
        }
    }
}

/// What a wait needs of its client, owned, so that it can run on the runtime.
#[derive(Clone)]
struct WaitContext {
    ec2: aws_sdk_ec2::Client,
    endpoint: std::sync::Arc<str>,
    sdk_config: aws_config::SdkConfig,
    sts_config: aws_config::SdkConfig,
    endpoint_url: Option<String>,
    proxies: std::sync::Arc<crate::transport::Proxies>,
    max_concurrency: usize,
}

impl WaitContext {
    /// One poll: every place asked for its images at once, within `remaining` (the deadline). A
    /// poll counts when every place answered; a place's permanent error fails it, and so does a
    /// transient one (the caller polls again).
    async fn poll(&self, groups: &[Group], remaining: Option<Duration>) -> Result<Vec<TaskPage>> {
        let requests = groups.iter().map(|g| {
            let fut = crate::describe_store_image_tasks::paginate::send_batched(
                g.ec2.clone(),
                g.query.clone(),
                self.max_concurrency,
                g.endpoint.clone(),
            );
            async move {
                fut.await.map_err(|mut e| {
                    if !g.name.is_empty() {
                        e.message = format!("{}: {}", g.name, e.message);
                    }
                    e
                })
            }
        });
        let all = futures_util::future::join_all(requests);
        let pages = match remaining {
            Some(r) => tokio::time::timeout(r, all)
                .await
                .map_err(|_| Error::new(ErrorKind::WaitTimeout, "the deadline passed during a poll"))?,
            None => all.await,
        };
        let mut transient = None;
        let mut answered = Vec::with_capacity(pages.len());
        for page in pages {
            match page {
                Ok(p) => answered.push(p),
                Err(e) if e.kind == ErrorKind::WaitTimeout || !is_transient(&e) => return Err(e),
                Err(e) => transient = Some(e),
            }
        }
        match transient {
            Some(e) => Err(e),
            None => Ok(answered),
        }
    }

    /// One group per (region, role) in the order of first appearance, each with its own client
    /// (the client's own for targets without region and role), its roles assumed once each.
    async fn groups(&self, places: Vec<PlaceKey>, ids: Vec<Vec<String>>) -> Result<Vec<Group>> {
        let roles = crate::places::unique(&places.iter().filter_map(|(_, r)| r.clone()).collect::<Vec<_>>());
        let mut credentials = Vec::new();
        for arn in roles {
            let c = crate::places::role_credentials(&self.sts_config, &arn).await;
            credentials.push((arn, c));
        }
        let home = self.sdk_config.region().map(|r| r.as_ref().to_owned()).unwrap_or_default();
        let many = places.len() > 1;
        places
            .into_iter()
            .zip(ids)
            .map(|((region, role), ids)| {
                let query = Query { image_ids: ids, ..Query::default() };
                query.validate()?;
                let account = role.as_deref().and_then(|r| crate::places::account_of_role(r).ok());
                let region_name = region.clone().unwrap_or_else(|| home.clone());
                // A single place without a role goes unnamed in messages.
                let name =
                    if many || account.is_some() { crate::places::place_name(account, &region_name) } else { String::new() };
                if region.is_none() && role.is_none() {
                    return Ok(Group { ec2: self.ec2.clone(), endpoint: self.endpoint.clone(), name, query });
                }
                let creds = role.as_ref().and_then(|r| credentials.iter().find(|(a, _)| a == r).map(|(_, c)| c));
                Ok(Group {
                    ec2: crate::places::ec2_for(&self.sdk_config, self.endpoint_url.as_deref(), &region_name, creds),
                    endpoint: crate::places::endpoint_label(self.endpoint_url.as_deref(), Some(&region_name), &self.proxies)
                        .into(),
                    name,
                    query,
                })
            })
            .collect()
    }
}

/// Where a group of targets is: its region and its role (`None`: the client's own).
type PlaceKey = (Option<String>, Option<String>);

/// Targets grouped by place: each group's place and image ids, and the group of each target.
struct Grouped {
    places: Vec<PlaceKey>,
    ids: Vec<Vec<String>>,
    group_of: Vec<usize>,
}

/// The targets grouped by (region, role), in the order of first appearance: each group's place,
/// its image ids, and the group of each target. Checks every target first.
fn group_targets(targets: &[WaitTarget]) -> Result<Grouped> {
    let mut places: Vec<PlaceKey> = Vec::new();
    let mut ids: Vec<Vec<String>> = Vec::new();
    let mut group_of = Vec::with_capacity(targets.len());
    for t in targets {
        if t.image_id.trim().is_empty() {
            return Err(Error::invalid("an image id is empty"));
        }
        if let Some(r) = &t.region {
            crate::places::check_region_name(r)?;
        }
        if let Some(a) = &t.role_arn {
            crate::places::account_of_role(a)?;
        }
        let key = (t.region.clone(), t.role_arn.clone());
        let at = places.iter().position(|p| *p == key).unwrap_or_else(|| {
            places.push(key);
            ids.push(Vec::new());
            places.len() - 1
        });
        ids[at].push(t.image_id.clone());
        group_of.push(at);
    }
    Ok(Grouped { places, ids, group_of })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_range() {
        let mut j = Jitter::new();
        for _ in 0..1000 {
            let d = j.between(Duration::from_millis(100), Duration::from_millis(400));
            assert!(d >= Duration::from_millis(100) && d <= Duration::from_millis(400));
        }
        assert_eq!(j.between(Duration::from_secs(5), Duration::from_secs(1)), Duration::from_secs(5));
    }

    #[test]
    fn transient_errors() {
        let mut e = Error::new(ErrorKind::Service, "x");
        e.http_status = Some(503);
        assert!(is_transient(&e));
        e.http_status = Some(400);
        assert!(!is_transient(&e));
        assert!(is_transient(&Error::new(ErrorKind::Throttled, "x")));
        assert!(!is_transient(&Error::new(ErrorKind::Unauthorized, "x")));
    }
}
