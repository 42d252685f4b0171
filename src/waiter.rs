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

use crate::cancel::CancelToken;
use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::query::Query;
use crate::task::{Task, TaskState};

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

/// "ami-1: InProgress 40%, ami-2: no task yet".
fn summary(ids: &[String], latest: &HashMap<String, Task>) -> String {
    ids.iter()
        .map(|id| match latest.get(id) {
            Some(t) => format!("{id}: {}", describe_state(t)),
            None => format!("{id}: no task yet"),
        })
        .collect::<Vec<_>>()
        .join(", ")
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

impl Client {
    /// Polls until every image's latest store task is `Completed` (returning them in the order of
    /// `image_ids`), or one fails, or the deadline passes, or `cancel` fires. `on_poll` receives
    /// the tasks seen after each successful poll and returns false to stop waiting (`Cancelled`).
    pub fn wait(
        &self,
        image_ids: &[String],
        opts: &WaitOptions,
        cancel: Option<&CancelToken>,
        mut on_poll: impl FnMut(&[Task]) -> bool,
    ) -> Result<Vec<Task>> {
        if image_ids.is_empty() {
            return Err(Error::invalid("no image ids to wait for"));
        }
        if opts.min_delay.is_zero() || opts.max_delay < opts.min_delay {
            return Err(Error::invalid("the delays must satisfy 0 < min_delay <= max_delay"));
        }
        let query = Query { image_ids: image_ids.to_vec(), ..Query::default() };
        query.validate()?;
        let ids = query.unique_image_ids();
        let started = Instant::now();
        let deadline = opts.timeout.map(|t| started + t);
        let mut latest: HashMap<String, Task> = HashMap::new();
        let mut jitter = Jitter::new();
        let mut ceiling = opts.min_delay;
        let mut polls = 0u32;
        let timed_out = |latest: &HashMap<String, Task>| {
            Error::new(
                ErrorKind::WaitTimeout,
                format!("gave up after {:?}; last seen: {}", started.elapsed(), summary(&ids, latest)),
            )
        };
        loop {
            polls += 1;
            let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let poll = {
                let ec2 = self.ec2.clone();
                let q = query.clone();
                let conc = self.max_concurrency;
                let endpoint = self.endpoint.clone();
                self.run(cancel, async move {
                    let fut = crate::paginate::send_batched(ec2, q, conc, endpoint);
                    match remaining {
                        Some(r) => tokio::time::timeout(r, fut)
                            .await
                            .unwrap_or_else(|_| Err(Error::new(ErrorKind::WaitTimeout, "the deadline passed during a poll"))),
                        None => fut.await,
                    }
                })
            };
            match poll {
                Ok(page) => {
                    for t in page.tasks.iter() {
                        if let Some(id) = t.ami_id {
                            latest.insert(id.to_owned(), Task::from(t));
                        }
                    }
                    let seen: Vec<Task> = ids.iter().filter_map(|id| latest.get(id).cloned()).collect();
                    tracing::debug!(poll = polls, seen = seen.len(), wanted = ids.len(), "wait poll: {}", summary(&ids, &latest));
                    if !on_poll(&seen) {
                        return Err(Error::new(ErrorKind::Cancelled, "the progress callback stopped the wait"));
                    }
                    if let Some(t) = seen.iter().find(|t| t.state == TaskState::Failed) {
                        let ami = t.ami_id.clone().unwrap_or_default();
                        let reason = t.failure_reason.clone().unwrap_or_else(|| "no reason given".to_owned());
                        let mut e = Error::new(ErrorKind::TaskFailed, format!("{ami} failed: {reason}"));
                        e.ami_id = Some(ami);
                        e.failure_reason = t.failure_reason.clone();
                        return Err(e);
                    }
                    if let Some(missing) = ids.iter().find(|id| !latest.contains_key(*id)) {
                        if started.elapsed() >= opts.not_found_grace {
                            let mut e = Error::new(
                                ErrorKind::NotFound,
                                format!("{missing} has had no store task for {:?}", started.elapsed()),
                            );
                            e.ami_id = Some(missing.clone());
                            return Err(e);
                        }
                    } else if seen.iter().all(|t| t.state == TaskState::Completed) {
                        tracing::info!(polls, "every store task completed");
                        return Ok(seen);
                    }
                }
                Err(e) if e.kind == ErrorKind::WaitTimeout => return Err(timed_out(&latest)),
                Err(e) if is_transient(&e) => {
                    tracing::warn!(poll = polls, "transient error while waiting, polling again: {e}");
                }
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Err(timed_out(&latest));
            }
            let mut pause = jitter.between(opts.min_delay, ceiling);
            if let Some(d) = deadline {
                pause = pause.min(d - now);
            }
            ceiling = (ceiling * 2).min(opts.max_delay);
            tracing::debug!(pause_ms = pause.as_millis() as u64, "waiting before the next poll");
            self.run(cancel, async move {
                tokio::time::sleep(pause).await;
                Ok(())
            })?;
        }
    }
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
