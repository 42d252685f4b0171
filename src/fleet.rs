//! Fleet-wide listings: one query run in many (account, region) places at once.
//!
//! A [`Fleet`] names the regions (a list, or every region enabled for the account, found through
//! EC2 DescribeRegions) and, optionally, IAM roles to assume, one per account; without roles the
//! client's own credentials are used. Every place is listed to its end with the same checks as a
//! single listing, `max_concurrency` places at a time. A place that fails does not fail the call:
//! its [`Outcome`] carries its error, and every other place's tasks still arrive.
//!
//! Pages are handed to the caller on the calling thread, as they arrive from any place; at most
//! `max_concurrency` pages wait for the caller at any time, so a slow caller slows the listings
//! instead of filling memory.

use std::sync::Arc;
use std::sync::mpsc;

use aws_credential_types::provider::SharedCredentialsProvider;
use futures_util::stream::{self, StreamExt};
use tokio::sync::Semaphore;

use crate::call::{Call, Kind, Output};
use crate::cancel::{CancelToken, Ended, StopOnDrop, race};
use crate::client::Client;
use crate::describe_store_image_tasks::paginate::{Listing, send_batched};
use crate::describe_store_image_tasks::query::Query;
use crate::describe_store_image_tasks::task::TaskPage;
use crate::error::{Error, ErrorKind, Result};
pub use crate::places::Place;
use crate::places::{account_of_role, check_region_name, ec2_for, endpoint_label, role_credentials, unique};

/// Where a fleet call runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fleet {
    /// The regions to list, in this order. Must be empty when `all_regions` is set.
    pub regions: Vec<String>,
    /// Every region enabled for each account, as EC2 DescribeRegions (asked in the client's
    /// region, with that account's credentials) lists it.
    pub all_regions: bool,
    /// IAM roles to assume, one per account, with the client's credentials as the source. Empty:
    /// the client's own credentials, in one account.
    pub role_arns: Vec<String>,
}

impl Fleet {
    /// Checks the fleet before anything is sent.
    pub fn validate(&self) -> Result<()> {
        match (self.regions.is_empty(), self.all_regions) {
            (true, false) => {
                return Err(Error::invalid("the fleet names no region: add regions, or ask for every enabled region"));
            }
            (false, true) => {
                return Err(Error::invalid("the fleet names regions and also asks for every enabled region: choose one"));
            }
            _ => {}
        }
        for r in &self.regions {
            check_region_name(r)?;
        }
        for a in &self.role_arns {
            account_of_role(a)?;
        }
        Ok(())
    }
}

/// How one place's listing ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub place: Place,
    /// Pages and tasks handed to the caller from this place.
    pub pages: usize,
    pub tasks: usize,
    /// Why the place failed; `None` when its listing ran to the end (or the caller stopped it).
    pub error: Option<Error>,
}

/// What the listings tell the calling thread.
enum Event {
    Places(Vec<Place>),
    Page(usize, TaskPage),
    Done(usize, Option<Error>),
    Finished,
    Cancelled,
}

/// An account the fleet runs in: its role (if any) and the credentials that assume it.
#[derive(Clone)]
struct Account {
    role_arn: Option<String>,
    account: Option<String>,
    credentials: Option<SharedCredentialsProvider>,
}

/// What every place's listing shares.
struct Shared {
    sdk_config: aws_config::SdkConfig,
    sts_config: aws_config::SdkConfig,
    endpoint_url: Option<String>,
    proxies: Arc<crate::transport::Proxies>,
    concurrency: usize,
    query: Query,
    /// Room for pages waiting for the caller; the calling thread holds it too, to free room.
    pages_waiting: Arc<Semaphore>,
    /// Only the listings hold senders, never the caller: when the listings' task ends without a
    /// last word (a panic), the channel closes and the caller learns it.
    events: Events,
}

/// Where the listings' events go: to a calling thread that blocks, or to a task on the runtime.
#[derive(Clone)]
enum Events {
    Blocking(mpsc::Sender<Event>),
    Async(tokio::sync::mpsc::UnboundedSender<Event>),
}

impl Events {
    /// Sends `e`; an error when the caller has gone.
    fn send(&self, e: Event) -> std::result::Result<(), ()> {
        match self {
            Events::Blocking(tx) => tx.send(e).map_err(|_| ()),
            Events::Async(tx) => tx.send(e).map_err(|_| ()),
        }
    }
}

/// What the caller knows of the places: their outcomes so far, and which have ended.
#[derive(Default)]
struct Gather {
    outcomes: Vec<Outcome>,
    ended: Vec<bool>,
}

impl Gather {
    fn begin(&mut self, places: Vec<Place>) {
        self.ended = vec![false; places.len()];
        self.outcomes = places.into_iter().map(|place| Outcome { place, pages: 0, tasks: 0, error: None }).collect();
    }

    /// Counts a page of place `i`, and gives that place (`None` for an index out of range).
    fn page(&mut self, i: usize, page: &TaskPage) -> Option<&Place> {
        let outcome = self.outcomes.get_mut(i)?;
        outcome.pages += 1;
        outcome.tasks += page.tasks.len();
        Some(&outcome.place)
    }

    fn end(&mut self, i: usize, error: Option<Error>) {
        if let (Some(outcome), Some(ended)) = (self.outcomes.get_mut(i), self.ended.get_mut(i)) {
            outcome.error = error;
            *ended = true;
        }
    }

    /// The outcomes once the caller stopped: places still running are marked as stopped.
    fn stopped(mut self) -> Vec<Outcome> {
        for (outcome, _) in self.outcomes.iter_mut().zip(&self.ended).filter(|(_, ended)| !**ended) {
            outcome.error = Some(Error::new(
                ErrorKind::Cancelled,
                format!("the caller stopped the call before the listing of {} had ended", outcome.place.name()),
            ));
        }
        self.outcomes
    }
}

/// Adds a page of place `i` to that place's list (all its tasks, the last reply's request id).
fn keep_page(pages: &mut Vec<TaskPage>, i: usize, page: TaskPage) {
    if pages.len() <= i {
        pages.resize_with(i + 1, TaskPage::default);
    }
    let all = &mut pages[i];
    all.tasks.append(page.tasks);
    all.request_id = page.request_id;
}

/// Each place's outcome with its list.
fn with_pages(outcomes: Vec<Outcome>, mut pages: Vec<TaskPage>) -> Vec<(Outcome, TaskPage)> {
    pages.resize_with(outcomes.len(), TaskPage::default);
    outcomes.into_iter().zip(pages).collect()
}

/// The checks of a fleet call made before anything is sent.
fn check_fleet_call(fleet: &Fleet, q: &Query) -> Result<()> {
    fleet.validate()?;
    q.validate()?;
    if q.next_token.is_some() {
        return Err(Error::invalid("a fleet query cannot start from a NextToken: a token belongs to one region's listing"));
    }
    Ok(())
}

fn listing_panicked() -> Error {
    Error::new(ErrorKind::Panic, "the fleet listing ended without an answer (a panic inside the library)")
}

impl Shared {
    fn ec2(&self, region: &str, account: &Account) -> aws_sdk_ec2::Client {
        ec2_for(&self.sdk_config, self.endpoint_url.as_deref(), region, account.credentials.as_ref())
    }

    fn label(&self, region: &str) -> Arc<str> {
        endpoint_label(self.endpoint_url.as_deref(), Some(region), &self.proxies).into()
    }

    /// The regions enabled for `account`, from DescribeRegions in the client's region.
    async fn regions_of(&self, account: &Account) -> Result<Vec<String>> {
        let home = self.sdk_config.region().map(|r| r.as_ref().to_owned()).unwrap_or_default();
        let label = self.label(&home);
        let out = self.ec2(&home, account).describe_regions().send().await.map_err(|e| {
            let mut e = Error::from_sdk(e, &label);
            e.message = format!("could not list the account's regions (DescribeRegions): {}", e.message);
            e
        })?;
        let mut regions: Vec<String> = out
            .regions()
            .iter()
            .filter(|r| r.opt_in_status() != Some("not-opted-in"))
            .filter_map(|r| r.region_name().map(str::to_owned))
            .filter(|r| check_region_name(r).is_ok())
            .collect();
        regions.sort();
        regions.dedup();
        Ok(regions)
    }

    /// Lists one place to its end, sending each page to the calling thread.
    async fn list(&self, index: usize, region: &str, account: &Account) -> Result<()> {
        #[cfg(test)]
        if region == tests::PANICKING_REGION {
            panic!("a place's listing panicked (test hook)");
        }
        let ec2 = self.ec2(region, account);
        let label = self.label(region);
        let mut listing = Listing::new(&self.query, None)?;
        while let Some(request) = listing.next_request() {
            let page = send_batched(ec2.clone(), request, self.concurrency, label.clone()).await?;
            let page = listing.accept(page)?;
            // A page waits for the caller only when there is room; the caller frees the room.
            self.pages_waiting.acquire().await.map_err(|_| Error::cancelled())?.forget();
            if self.events.send(Event::Page(index, page)).is_err() {
                break;
            }
        }
        Ok(())
    }
}

impl Client {
    /// Runs `q` in every place of `fleet`, handing each page to `on_page` on the calling thread
    /// with the place it came from (and its index among the outcomes); `on_page` returns false to stop every listing. Returns one
    /// outcome per place, in place order (accounts in the order of their roles, then regions in
    /// the fleet's order or sorted by name). A failing place is an outcome with an error, not a
    /// failed call; the call itself fails only for a bad fleet or query, or when cancelled.
    pub fn describe_fleet_each(
        &self,
        fleet: &Fleet,
        q: &Query,
        cancel: Option<&CancelToken>,
        mut on_page: impl FnMut(usize, &Place, TaskPage) -> bool,
    ) -> Result<Vec<Outcome>> {
        check_fleet_call(fleet, q)?;
        crate::client::refuse_on_library_thread()?;
        if cancel.is_some_and(CancelToken::is_cancelled) {
            return Err(Error::cancelled());
        }
        let (tx, rx) = mpsc::channel();
        let (stop, pages_waiting) = self.start_listings(fleet, q, cancel, Events::Blocking(tx));
        let mut gather = Gather::default();
        loop {
            match rx.recv().map_err(|_| listing_panicked())? {
                Event::Places(p) => gather.begin(p),
                Event::Page(i, page) => {
                    pages_waiting.add_permits(1);
                    // Once the caller's token is triggered, no page reaches the callback.
                    if cancel.is_some_and(CancelToken::is_cancelled) {
                        return Err(Error::cancelled());
                    }
                    let Some(place) = gather.page(i, &page) else { continue };
                    if !on_page(i, place, page) {
                        // What had already happened is reported: the places whose end is queued
                        // keep their outcome; those still running are marked as stopped.
                        stop.0.cancel();
                        while let Ok(event) = rx.try_recv() {
                            if let Event::Done(i, error) = event {
                                gather.end(i, error.map(|e| self.redact(e)));
                            }
                        }
                        return Ok(gather.stopped());
                    }
                }
                Event::Done(i, error) => gather.end(i, error.map(|e| self.redact(e))),
                Event::Finished => return Ok(gather.outcomes),
                Event::Cancelled => return Err(Error::cancelled()),
            }
        }
    }

    /// Starts a fleet listing, as [`Client::describe_fleet_all`] makes it, into `call` (a fleet
    /// call); returns at once.
    pub fn start_describe_fleet(&self, call: &Call, fleet: &Fleet, q: &Query) -> Result<()> {
        self.start_fleet(call, Kind::Fleet, fleet, q)
    }

    /// Starts a fleet listing whose pages go to the caller one by one with their place, as
    /// [`Client::describe_fleet_each`] hands them, into `call` (a fleet pages call); returns at
    /// once. Its end is each place's outcome with an empty list.
    pub fn start_describe_fleet_pages(&self, call: &Call, fleet: &Fleet, q: &Query) -> Result<()> {
        self.start_fleet(call, Kind::FleetPages, fleet, q)
    }

    /// Starts `call` of `kind` ([`Kind::Fleet`]: pages kept, or [`Kind::FleetPages`]: pages sent to
    /// the caller), once the call and its arguments are checked.
    fn start_fleet(&self, call: &Call, kind: Kind, fleet: &Fleet, q: &Query) -> Result<()> {
        call.expect(kind)?;
        check_fleet_call(fleet, q)?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (stop, pages_waiting) = self.start_listings(fleet, q, None, Events::Async(tx));
        let redact = self.redactor();
        self.start(call, move |sink| async move {
            // Dropped with this task: a stopped call stops its listings.
            let _stop = stop;
            let mut gather = Gather::default();
            let mut pages = Vec::new();
            loop {
                match rx.recv().await.ok_or_else(listing_panicked)? {
                    Event::Places(p) => gather.begin(p),
                    Event::Page(i, page) => {
                        // The room is given back once the page is out of the listings' channel:
                        // the caller's own queue bounds what waits after that.
                        pages_waiting.add_permits(1);
                        let Some(place) = gather.page(i, &page) else { continue };
                        match kind {
                            Kind::FleetPages => sink.send(page, Some(place.clone())).await?,
                            _ => keep_page(&mut pages, i, page),
                        }
                    }
                    Event::Done(i, error) => gather.end(i, error.map(&redact)),
                    Event::Finished => return Ok(Output::Fleet(with_pages(gather.outcomes, pages))),
                    Event::Cancelled => return Err(Error::cancelled()),
                }
            }
        });
        Ok(())
    }
}

impl Client {
    /// Starts the listings of `fleet` on the runtime: the events they send, what stops them when
    /// the caller leaves, and the room for pages waiting for the caller (which the caller frees).
    /// The caller holds no sender: when the listings' task ends without a last word (a panic),
    /// the channel closes.
    fn start_listings(&self, fleet: &Fleet, q: &Query, cancel: Option<&CancelToken>, tx: Events) -> (StopOnDrop, Arc<Semaphore>) {
        let stop = StopOnDrop(CancelToken::new());
        let pages_waiting = Arc::new(Semaphore::new(self.max_concurrency));
        let shared = Arc::new(Shared {
            sdk_config: self.sdk_config.clone(),
            sts_config: self.sts_config.clone(),
            endpoint_url: self.endpoint_url.clone(),
            proxies: self.proxies.clone(),
            concurrency: self.max_concurrency,
            query: q.clone(),
            pages_waiting: pages_waiting.clone(),
            events: tx.clone(),
        });
        let work = run_fleet(shared, fleet.clone());
        let (stop_token, caller_cancel) = (stop.0.clone(), cancel.cloned());
        self.handle().spawn(async move {
            let event = match race(work, caller_cancel.as_ref(), Some(&stop_token)).await {
                Ended::Done(()) => Event::Finished,
                Ended::Cancelled => Event::Cancelled,
                Ended::Stopped => return,
            };
            let _ = tx.send(event);
        });
        (stop, pages_waiting)
    }
}

impl Client {
    /// Runs `q` in every place of `fleet` and keeps every page: one outcome and one page (all its
    /// tasks, newest first, and the last reply's request id) per place, in place order.
    pub fn describe_fleet_all(&self, fleet: &Fleet, q: &Query, cancel: Option<&CancelToken>) -> Result<Vec<(Outcome, TaskPage)>> {
        let mut pages: Vec<TaskPage> = Vec::new();
        let outcomes = self.describe_fleet_each(fleet, q, cancel, |i, _, page| {
            keep_page(&mut pages, i, page);
            true
        })?;
        Ok(with_pages(outcomes, pages))
    }
}

/// Finds the places (assuming roles and listing regions where asked) and lists them all,
/// `concurrency` at a time, reporting everything through `shared.events`.
async fn run_fleet(shared: Arc<Shared>, fleet: Fleet) {
    let accounts = accounts_of(&shared, &fleet).await;
    let (places, failed_discovery, work) = places_of(&shared, &fleet, &accounts).await;
    tracing::debug!(places = places.len(), accounts = accounts.len(), "fleet listing starts");
    if shared.events.send(Event::Places(places)).is_err() {
        return;
    }
    for (i, e) in failed_discovery {
        let _ = shared.events.send(Event::Done(i, Some(e)));
    }
    stream::iter(work)
        .map(|(i, region, account)| {
            let shared = shared.clone();
            async move {
                let result = shared.list(i, &region, &account).await;
                if let Err(e) = &result {
                    tracing::debug!(region = region.as_str(), status = ?e.kind, "a fleet place failed: {}", e.message);
                }
                let _ = shared.events.send(Event::Done(i, result.err()));
            }
        })
        .buffer_unordered(shared.concurrency)
        .collect::<()>()
        .await;
}

/// The accounts the fleet runs in: the client's own without roles, else one per role (assumed
/// once each, however many regions it lists).
async fn accounts_of(shared: &Shared, fleet: &Fleet) -> Vec<Account> {
    let mut accounts = Vec::new();
    if fleet.role_arns.is_empty() {
        accounts.push(Account { role_arn: None, account: None, credentials: None });
    }
    for arn in unique(&fleet.role_arns) {
        let credentials = role_credentials(&shared.sts_config, &arn).await;
        accounts.push(Account {
            account: account_of_role(&arn).ok().map(str::to_owned),
            role_arn: Some(arn),
            credentials: Some(credentials),
        });
    }
    accounts
}

/// A place to list: its index among the outcomes, its region and its account.
type Work = (usize, String, Account);

/// The places of every account (its regions, listed through DescribeRegions when the fleet asks
/// for every region), the accounts whose regions could not be found (one place each, with its
/// error), and the listings to run.
async fn places_of(shared: &Arc<Shared>, fleet: &Fleet, accounts: &[Account]) -> (Vec<Place>, Vec<(usize, Error)>, Vec<Work>) {
    let regions: Vec<Result<Vec<String>>> = if fleet.all_regions {
        stream::iter(accounts.to_vec())
            .map(|a| {
                let shared = shared.clone();
                async move { shared.regions_of(&a).await }
            })
            .buffered(shared.concurrency)
            .collect()
            .await
    } else {
        accounts.iter().map(|_| Ok(unique(&fleet.regions))).collect()
    };
    let mut places = Vec::new();
    let mut failed_discovery = Vec::new();
    let mut work = Vec::new();
    for (account, found) in accounts.iter().zip(regions) {
        let place = |region: String| Place { region, account: account.account.clone(), role_arn: account.role_arn.clone() };
        match found {
            Ok(regions) => {
                for region in regions {
                    work.push((places.len(), region.clone(), account.clone()));
                    places.push(place(region));
                }
            }
            Err(e) => {
                failed_discovery.push((places.len(), e));
                places.push(place(String::new()));
            }
        }
    }
    (places, failed_discovery, work)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A region whose listing panics (the test-only fault hook in `Shared::list`).
    pub(super) const PANICKING_REGION: &str = "xx-panic-1";

    #[test]
    fn a_panic_inside_a_place_ends_the_call_with_panic() {
        // Nothing is sent: the hook panics before the first request.
        let config = crate::client::offline_config();
        let client = Client::new(config).unwrap();
        let fleet = Fleet { regions: vec![PANICKING_REGION.into()], ..Default::default() };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(client.describe_fleet_all(&fleet, &Query::default(), None).map(|_| ()));
        });
        // A caller that kept a sender of its own would wait here forever.
        let result = rx.recv_timeout(std::time::Duration::from_secs(30)).expect("the call returned");
        let e = result.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Panic, "{}", e.message);
        assert!(e.message.contains("panic inside the library"), "{}", e.message);
    }

    #[test]
    fn a_fleet_names_regions_or_asks_for_all() {
        let mut f = Fleet::default();
        assert!(f.validate().unwrap_err().message.contains("no region"));
        f.all_regions = true;
        f.validate().unwrap();
        f.regions.push("eu-west-3".into());
        assert!(f.validate().unwrap_err().message.contains("choose one"));
        f.all_regions = false;
        f.validate().unwrap();
        f.role_arns.push("not-an-arn".into());
        assert_eq!(f.validate().unwrap_err().kind, ErrorKind::InvalidArgument);
    }
}
