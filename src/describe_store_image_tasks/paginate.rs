//! Sending queries: one request, a batched id list, and listings that follow NextToken.

use std::collections::HashSet;
use std::sync::Arc;

use aws_sdk_ec2::types::Filter as SdkFilter;
use futures_util::stream::{self, StreamExt, TryStreamExt};

use crate::call::{Call, Kind, Output};
use crate::cancel::{CancelToken, Ended, StopOnDrop, race};
use crate::client::Client;
use crate::describe_store_image_tasks::query::{MAX_RESULTS_RANGE, Query};
use crate::describe_store_image_tasks::sdk_hook::{ReadReplies, ReplySlot};
use crate::describe_store_image_tasks::task::{TaskPage, TaskRef, Tasks};
use crate::error::{Error, ErrorKind, Result};

/// A listing that sees this many empty pages in a row, each with a new token, is stopped: the
/// service is not making progress.
pub const MAX_EMPTY_PAGES_IN_A_ROW: usize = 100;

/// EC2 lists tasks newest first across the whole listing. A page that goes back in time, or
/// shows the task the previous one ended with, means the pagination restarted or repeated
/// (a stale or looping NextToken): going on would hand out tasks twice.
#[derive(Debug, Default)]
struct NewestFirst {
    last: Option<(i64, Option<String>)>,
}

impl NewestFirst {
    fn check(&mut self, tasks: &Tasks) -> Result<()> {
        for t in tasks.iter() {
            let Some(time) = t.task_start_time_ms else { continue };
            if let Some((prev, prev_ami)) = &self.last
                && (time > *prev || (time == *prev && t.ami_id.is_some() && t.ami_id == prev_ami.as_deref()))
            {
                return Err(Error::new(
                    ErrorKind::Response,
                    format!(
                        "the service's pages are out of order ({} at {} after {} at {}); a NextToken repeated or restarted the listing, which was stopped so that no task is returned twice",
                        t.ami_id.unwrap_or("a task"),
                        crate::describe_store_image_tasks::task::format_time_ms(time),
                        prev_ami.as_deref().unwrap_or("a task"),
                        crate::describe_store_image_tasks::task::format_time_ms(*prev),
                    ),
                ));
            }
            self.last = Some((time, t.ami_id.map(str::to_owned)));
        }
        Ok(())
    }
}

/// Sends one DescribeStoreImageTasks request exactly as `q` says (no batching).
async fn send_one(ec2: aws_sdk_ec2::Client, q: Query, endpoint: Arc<str>) -> Result<TaskPage> {
    let mut req = ec2.describe_store_image_tasks();
    for id in q.image_ids {
        req = req.image_ids(id);
    }
    for f in q.filters {
        req = req.filters(SdkFilter::builder().name(f.name).set_values(Some(f.values)).build());
    }
    if let Some(m) = q.max_results {
        req = req.max_results(m);
    }
    if let Some(t) = q.next_token {
        req = req.next_token(t);
    }
    if q.dry_run {
        req = req.dry_run(true);
    }
    let slot = ReplySlot::default();
    req.customize().interceptor(ReadReplies::new(slot.clone())).send().await.map_err(|e| {
        let e = Error::from_sdk(e, &endpoint);
        tracing::debug!(status = ?e.kind, code = e.code.as_deref().unwrap_or(""), "DescribeStoreImageTasks failed: {}", e.message);
        e
    })?;
    let (reply, request_id) =
        slot.take().ok_or_else(|| Error::new(ErrorKind::Response, "the SDK reported success but no reply was read"))?;
    let next_token = reply.next_token.clone().filter(|t| !t.is_empty());
    let tasks = reply.tasks();
    tracing::debug!(tasks = tasks.len(), more = next_token.is_some(), "DescribeStoreImageTasks page received");
    Ok(TaskPage { tasks, next_token, request_id, truncated: false })
}

/// Sends `q`, split into requests of at most 20 image ids that run `concurrency` at a time. The
/// merged result is newest first, like a single EC2 answer.
pub(crate) async fn send_batched(ec2: aws_sdk_ec2::Client, q: Query, concurrency: usize, endpoint: Arc<str>) -> Result<TaskPage> {
    let mut batches = q.batches();
    if batches.len() > 1 {
        tracing::debug!(requests = batches.len(), concurrency, "splitting image ids into requests of 20");
    }
    if batches.len() == 1 {
        return send_one(ec2, batches.pop().expect("one batch"), endpoint).await;
    }
    let pages: Vec<TaskPage> =
        stream::iter(batches).map(|b| send_one(ec2.clone(), b, endpoint.clone())).buffered(concurrency).try_collect().await?;
    let request_id = pages.last().and_then(|p| p.request_id.clone());
    let mut tasks: Vec<TaskRef<'_>> = pages.iter().flat_map(|p| p.tasks.iter()).collect();
    // Newest first; tasks without a start time last. The sort is stable, so ties keep batch order.
    tasks.sort_by(|a, b| b.task_start_time_ms.unwrap_or(i64::MIN).cmp(&a.task_start_time_ms.unwrap_or(i64::MIN)));
    let tasks: Tasks = tasks.into_iter().collect();
    Ok(TaskPage { tasks, next_token: None, request_id, truncated: false })
}

/// One listing's state between its pages: which request comes next, and the checks every page
/// must pass (tokens never repeat, pages stay newest first, no endless run of empty pages, the
/// cap). The same rules serve a listing on the calling thread and the listings of a fleet call.
#[derive(Debug)]
pub(crate) struct Listing {
    q: Query,
    user_page_size: Option<i32>,
    max_tasks: Option<usize>,
    seen_tokens: HashSet<String>,
    fetched: usize,
    empty_in_a_row: usize,
    order: NewestFirst,
    done: bool,
}

impl Listing {
    /// A listing of `q` from its token, checked before anything is sent.
    pub(crate) fn new(q: &Query, max_tasks: Option<usize>) -> Result<Listing> {
        q.validate()?;
        let mut seen_tokens = HashSet::new();
        if let Some(t) = &q.next_token {
            seen_tokens.insert(t.clone());
        }
        Ok(Listing {
            q: q.clone(),
            user_page_size: q.max_results,
            max_tasks,
            seen_tokens,
            fetched: 0,
            empty_in_a_row: 0,
            order: NewestFirst::default(),
            done: false,
        })
    }

    /// The next request to send, or `None` when the listing is over (no token, or the cap met).
    pub(crate) fn next_request(&mut self) -> Option<Query> {
        if self.done {
            return None;
        }
        if let Some(cap) = self.max_tasks {
            let remaining = cap.saturating_sub(self.fetched);
            if remaining == 0 {
                self.done = true;
                return None;
            }
            if self.q.image_ids.is_empty() {
                let most = self.user_page_size.unwrap_or(*MAX_RESULTS_RANGE.end());
                self.q.max_results = Some(most.min(i32::try_from(remaining).unwrap_or(i32::MAX)));
            }
        }
        Some(self.q.clone())
    }

    /// Checks the reply to the last request and returns it as the caller gets it (cut at the
    /// cap); the next request follows its token.
    pub(crate) fn accept(&mut self, mut page: TaskPage) -> Result<TaskPage> {
        if let Some(cap) = self.max_tasks {
            // A query with image ids (answered without tokens), or a service that ignores
            // MaxResults, can bring more tasks than the cap leaves room for. The page is cut
            // and marked: its token would skip the tasks cut out, so it has none.
            let room = cap.saturating_sub(self.fetched);
            if page.tasks.len() > room {
                tracing::debug!(
                    received = page.tasks.len(),
                    kept = room,
                    "the cap cut a page that no token can resume; the list is marked truncated"
                );
                page.tasks.truncate(room);
                page.next_token = None;
                page.truncated = true;
            }
        }
        if self.q.image_ids.is_empty() {
            self.order.check(&page.tasks)?;
        }
        self.fetched += page.tasks.len();
        self.empty_in_a_row = if page.tasks.is_empty() { self.empty_in_a_row + 1 } else { 0 };
        match &page.next_token {
            Some(t) => {
                if !self.seen_tokens.insert(t.clone()) {
                    return Err(Error::new(
                        ErrorKind::Response,
                        "the service repeated a NextToken; the listing was stopped to avoid a loop",
                    ));
                }
                if self.empty_in_a_row >= MAX_EMPTY_PAGES_IN_A_ROW {
                    return Err(Error::new(
                        ErrorKind::Response,
                        format!("the service returned {MAX_EMPTY_PAGES_IN_A_ROW} empty pages in a row; the listing was stopped"),
                    ));
                }
                self.q.next_token = Some(t.clone());
            }
            None => self.done = true,
        }
        Ok(page)
    }
}

impl Client {
    /// One page: the tasks of one request (or of all batches, for more than 20 image ids) and
    /// the token for the next page.
    pub fn describe_page(&self, q: &Query, cancel: Option<&CancelToken>) -> Result<TaskPage> {
        q.validate()?;
        let fut = send_batched(self.ec2.clone(), q.clone(), self.max_concurrency, self.endpoint.clone());
        self.run(cancel, fut)
    }

    /// Follows NextToken from `q`'s token to the end, handing each page to `on_page` on the calling
    /// thread. `on_page` returns `false` to stop. `max_tasks` caps the tasks fetched: page sizes
    /// shrink near the cap, so the last page's token resumes exactly after the last task seen.
    /// Where that cannot work (image ids, which EC2 answers in one reply without a token, or a
    /// service that ignores MaxResults), the page that passes the cap is cut, has no token, and
    /// is marked [`TaskPage::truncated`].
    pub fn describe_each(
        &self,
        q: &Query,
        max_tasks: Option<usize>,
        cancel: Option<&CancelToken>,
        mut on_page: impl FnMut(TaskPage) -> bool,
    ) -> Result<()> {
        let mut listing = Listing::new(q, max_tasks)?;
        crate::client::refuse_on_library_thread()?;
        if cancel.is_some_and(CancelToken::is_cancelled) {
            return Err(Error::cancelled());
        }
        // The listing runs on the runtime and hands its pages over, one ahead: the next request is
        // on its way while `on_page` runs. `None` is its last word; only the listing holds a
        // sender, so a panic there closes the channel without it.
        let (tx, rx) = std::sync::mpsc::channel::<Option<Result<TaskPage>>>();
        let room = Arc::new(tokio::sync::Semaphore::new(1));
        let stop = StopOnDrop(CancelToken::new());
        let (ec2, concurrency, endpoint) = (self.ec2.clone(), self.max_concurrency, self.endpoint.clone());
        let (stop_token, caller_cancel, producer_room) = (stop.0.clone(), cancel.cloned(), room.clone());
        let redact = self.redactor();
        self.handle().spawn(async move {
            let work = async {
                while let Some(request) = listing.next_request() {
                    // Room is taken before the request: one page waits for the caller, one is read.
                    producer_room.acquire().await.map_err(|_| Error::cancelled())?.forget();
                    let page = send_batched(ec2.clone(), request, concurrency, endpoint.clone()).await;
                    let page = page.and_then(|p| listing.accept(p));
                    let failed = page.is_err();
                    if tx.send(Some(page.map_err(&redact))).is_err() || failed {
                        return Ok(());
                    }
                }
                let _ = tx.send(None);
                Ok(())
            };
            let end = match race(work, caller_cancel.as_ref(), Some(&stop_token)).await {
                Ended::Done(end) => end,
                Ended::Cancelled => Err(Error::cancelled()),
                Ended::Stopped => Ok(()),
            };
            if let Err(e) = end {
                let _ = tx.send(Some(Err(e)));
            }
        });
        loop {
            let page = rx
                .recv()
                .map_err(|_| Error::new(ErrorKind::Panic, "the listing ended without an answer (a panic inside the library)"))?;
            let Some(page) = page else { return Ok(()) };
            room.add_permits(1);
            if cancel.is_some_and(CancelToken::is_cancelled) {
                return Err(Error::cancelled());
            }
            if !on_page(page?) {
                return Ok(());
            }
        }
    }

    /// Every page from `q`'s token to the end (or to `max_tasks`), as one page whose token
    /// resumes the listing when it was cut at the cap.
    pub fn describe_all(&self, q: &Query, max_tasks: Option<usize>, cancel: Option<&CancelToken>) -> Result<TaskPage> {
        let mut all = TaskPage::default();
        self.describe_each(q, max_tasks, cancel, |page| {
            all.absorb(page);
            true
        })?;
        Ok(all)
    }
}

/// The same calls started on the client's runtime, returning at once (see [`crate::call`]).
impl Client {
    /// Starts fetching one page, as [`Client::describe_page`] does, into `call` (a list call).
    pub fn start_describe(&self, call: &Call, q: &Query) -> Result<()> {
        call.expect(Kind::List)?;
        q.validate()?;
        let fut = send_batched(self.ec2.clone(), q.clone(), self.max_concurrency, self.endpoint.clone());
        self.start(call, |_| async move { fut.await.map(Output::List) });
        Ok(())
    }

    /// Starts fetching every page, as [`Client::describe_all`] does, into `call` (a list call).
    pub fn start_describe_all(&self, call: &Call, q: &Query, max_tasks: Option<usize>) -> Result<()> {
        self.start_listing(call, Kind::List, q, max_tasks)
    }

    /// Starts a listing whose pages `call` (a pages call) hands out one by one, as
    /// [`Client::describe_each`] would give them; the listing waits while the caller's queue of
    /// pages is full.
    pub fn start_describe_pages(&self, call: &Call, q: &Query, max_tasks: Option<usize>) -> Result<()> {
        self.start_listing(call, Kind::Pages, q, max_tasks)
    }

    fn start_listing(&self, call: &Call, kind: Kind, q: &Query, max_tasks: Option<usize>) -> Result<()> {
        call.expect(kind)?;
        let mut listing = Listing::new(q, max_tasks)?;
        let (ec2, concurrency, endpoint) = (self.ec2.clone(), self.max_concurrency, self.endpoint.clone());
        self.start(call, move |sink| async move {
            // A list call gathers the pages; a pages call hands each over as it comes.
            let sink = (kind == Kind::Pages).then_some(sink);
            let mut all = TaskPage::default();
            while let Some(request) = listing.next_request() {
                let page = listing.accept(send_batched(ec2.clone(), request, concurrency, endpoint.clone()).await?)?;
                match &sink {
                    Some(sink) => sink.send(page, None).await?,
                    None => all.absorb(page),
                }
            }
            Ok(if sink.is_some() { Output::Ended } else { Output::List(all) })
        });
        Ok(())
    }
}
