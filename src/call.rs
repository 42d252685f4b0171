//! Calls that run on the client's runtime while their caller goes on: started at once, they hand
//! their outcome (one result, or pages then an end) to the caller when it asks, and tell it when
//! there is something to take, through a descriptor an event loop can wait on and through an
//! optional wake-up function run on a library thread.
//!
//! A [`Call`] is shared between the caller, who takes what it produced, and the task on the
//! runtime that produces it. What the task produced waits in the call's [`State`]; pages wait in
//! a queue of bounded length (the task waits for room, without holding a thread). Dropping the
//! call stops the task; a wake-up running on another thread at that moment is waited for, so
//! that whatever the wake-up uses outlives it. When the client's runtime goes away first (the
//! client was freed), the task is dropped and the call ends as cancelled.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::task::Poll;
use std::thread::ThreadId;

use futures_util::FutureExt;
use tokio::sync::Semaphore;

use crate::cancel::{CancelToken, Ended, race};
use crate::client::Client;
use crate::describe_store_image_tasks::task::TaskPage;
use crate::error::{Error, ErrorKind, Result};
use crate::fleet::Outcome;
use crate::places::Place;

/// What a call produces: one result, or pages followed by an end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One list (a page, every page, a wait's tasks).
    List,
    /// Pages one by one, then the end.
    Pages,
    /// One outcome and one list per place of a fleet.
    Fleet,
    /// The pages of every place of a fleet one by one, each with its place, then one outcome per
    /// place (with an empty list: its tasks went out in the pages).
    FleetPages,
}

/// What a call ended with.
pub enum Output {
    /// The list of a [`Kind::List`] call.
    List(TaskPage),
    /// The places of a [`Kind::Fleet`] or [`Kind::FleetPages`] call, each with its tasks.
    Fleet(Vec<(Outcome, TaskPage)>),
    /// The end of a [`Kind::Pages`] call, whose pages went out one by one.
    Ended,
}

/// A function the library runs on one of its threads each time the call has something new for
/// its caller (a page, or its end).
pub type Wake = Box<dyn Fn() + Send + Sync>;

/// A page for the caller, with the place it came from in a fleet listing.
pub type Delivered = (TaskPage, Option<Place>);

/// What the task produced and the caller has not taken yet.
#[derive(Default)]
struct State {
    pages: VecDeque<Delivered>,
    /// The call's end, once it came.
    end: Option<Result<Output>>,
    end_taken: bool,
    /// Whether the readiness descriptor is readable now.
    raised: bool,
    /// The caller dropped the call: no more wake-ups.
    detached: bool,
    /// The thread running a wake-up now, if any.
    waking: Option<ThreadId>,
    /// Whether wake-ups may run: not before the start function has handed the call to its
    /// caller ([`Call::arm`]).
    armed: bool,
    /// News came before the call was armed: the wake-up is owed.
    owed: bool,
}

struct Shared {
    kind: Kind,
    state: Mutex<State>,
    /// Signalled when a wake-up ends.
    woke: Condvar,
    signal: Signal,
    wake: OnceLock<Wake>,
    /// Room for pages waiting for the caller.
    room: Semaphore,
    /// The runtime the call runs on (set when it starts), where an owed wake-up is run.
    runtime: OnceLock<tokio::runtime::Handle>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records what the task produced and tells the caller: the descriptor becomes readable, and
    /// the wake-up runs on this thread unless the caller has gone.
    fn deliver(&self, record: impl FnOnce(&mut State)) {
        let mut st = self.lock();
        record(&mut st);
        if !st.raised {
            st.raised = true;
            self.signal.raise();
        }
        self.wake_up(st);
    }

    /// Runs the wake-up on this thread, unless the caller has gone or the call is not armed yet
    /// (the wake-up is then owed, and [`Call::arm`] has it run).
    fn wake_up(&self, mut st: MutexGuard<'_, State>) {
        let Some(wake) = self.wake.get().filter(|_| !st.detached) else { return };
        if !st.armed {
            st.owed = true;
            return;
        }
        st.waking = Some(std::thread::current().id());
        drop(st);
        // The wake-up is the caller's code: a panic in it must not leave the call marked as
        // waking forever.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(wake));
        self.lock().waking = None;
        self.woke.notify_all();
    }

    /// Lowers the descriptor when nothing is left to take.
    fn settle(&self, st: &mut State) {
        let pending_end = st.end.is_some() && !st.end_taken;
        if st.raised && st.pages.is_empty() && !pending_end {
            st.raised = false;
            self.signal.lower();
        }
    }
}

/// Ends the call as cancelled if the task is dropped before it finished (its runtime shut down).
struct EndGuard(Option<Arc<Shared>>);

impl EndGuard {
    fn finish(mut self, end: Result<Output>) {
        if let Some(shared) = self.0.take() {
            shared.deliver(|st| st.end = Some(end));
        }
    }
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        if let Some(shared) = self.0.take() {
            let e = Error::new(ErrorKind::Cancelled, "the call was stopped because its client was freed");
            shared.deliver(|st| st.end = Some(Err(e)));
        }
    }
}

/// Lets a call's wake-ups run (see [`Call::armer`]).
pub struct Armer(Arc<Shared>);

impl Armer {
    /// Lets wake-ups run: news that came before runs its wake-up now, on a library thread.
    pub fn arm(self) {
        let shared = self.0;
        let mut st = shared.lock();
        st.armed = true;
        if !std::mem::take(&mut st.owed) {
            return;
        }
        drop(st);
        match shared.runtime.get().cloned() {
            Some(rt) => drop(rt.spawn(async move { shared.wake_up(shared.lock()) })),
            None => shared.wake_up(shared.lock()),
        }
    }
}

/// Hands pages from the task to the caller, waiting for room in the call's queue.
pub(crate) struct PageSink(Arc<Shared>);

impl PageSink {
    /// Queues `page` (of `place`, in a fleet listing) once there is room for it.
    pub(crate) async fn send(&self, page: TaskPage, place: Option<Place>) -> Result<()> {
        self.0.room.acquire().await.map_err(|_| Error::cancelled())?.forget();
        self.0.deliver(|st| st.pages.push_back((page, place)));
        Ok(())
    }
}

/// A call running on a client's runtime. Dropping it stops the call.
pub struct Call {
    shared: Arc<Shared>,
    stop: CancelToken,
}

impl Call {
    /// A call that has not started: its wake-up may be set ([`Call::set_wake`]) before
    /// [`Client::start`] starts it, and runs once the call is armed ([`Call::armer`]).
    pub fn new(kind: Kind, queue: usize) -> Result<Call> {
        let shared = Shared {
            kind,
            state: Mutex::new(State::default()),
            woke: Condvar::new(),
            signal: Signal::new()?,
            wake: OnceLock::new(),
            room: Semaphore::new(queue.max(1)),
            runtime: OnceLock::new(),
        };
        Ok(Call { shared: Arc::new(shared), stop: CancelToken::new() })
    }

    /// Sets the function run each time the call has something new for its caller; before the
    /// call starts only (later, it is ignored).
    pub fn set_wake(&self, wake: Wake) {
        let _ = self.shared.wake.set(wake);
    }

    /// What lets the call's wake-ups run once the call is in its caller's hands ([`Armer::arm`]).
    /// A separate value, so that arming holds no reference to a call that a wake-up may free.
    pub fn armer(&self) -> Armer {
        Armer(self.shared.clone())
    }

    pub fn kind(&self) -> Kind {
        self.shared.kind
    }

    /// Refuses a call made for another kind of result than the one a start function gives.
    pub(crate) fn expect(&self, kind: Kind) -> Result<()> {
        match self.shared.kind == kind {
            true => Ok(()),
            false => Err(Error::invalid("the call was made for another kind of result")),
        }
    }

    /// The descriptor that is readable while the call has something for its caller (POSIX only).
    pub fn fd(&self) -> Option<i32> {
        self.shared.signal.fd()
    }

    /// Whether the call has ended and its end (result, or last page and end) was taken, or is
    /// waiting to be taken with nothing before it.
    pub fn finished(&self) -> bool {
        let st = self.shared.lock();
        (st.end.is_some() || st.end_taken) && st.pages.is_empty()
    }

    /// Stops the call: it ends as cancelled unless it has already ended.
    pub fn cancel(&self) {
        self.stop.cancel();
    }

    /// The result of a [`Kind::List`] call: pending until the call ends, then its list or error,
    /// once.
    pub fn take_result(&self) -> Poll<Result<TaskPage>> {
        self.take_end(Kind::List).map(|end| {
            end.map(|o| match o {
                Output::List(page) => page,
                _ => TaskPage::default(),
            })
        })
    }

    /// The result of a [`Kind::Fleet`] call: pending until the call ends, then every place's
    /// outcome and tasks, or the error that ended it, once. For a [`Kind::FleetPages`] call, the
    /// same once its end came (each place's list empty), whether or not its pages were taken.
    pub fn take_fleet(&self) -> Poll<Result<Vec<(Outcome, TaskPage)>>> {
        let kind = if self.shared.kind == Kind::FleetPages { Kind::FleetPages } else { Kind::Fleet };
        self.take_end(kind).map(|end| {
            end.map(|o| match o {
                Output::Fleet(places) => places,
                _ => Vec::new(),
            })
        })
    }

    fn take_end(&self, kind: Kind) -> Poll<Result<Output>> {
        if self.shared.kind != kind {
            return Poll::Ready(Err(Error::invalid(match self.shared.kind {
                Kind::Pages => "this call delivers pages: take them one by one",
                Kind::List => "this call delivers one list: take it as a list",
                Kind::Fleet | Kind::FleetPages => "this call delivers a fleet result: take it as one",
            })));
        }
        let mut st = self.shared.lock();
        if st.end_taken {
            return Poll::Ready(Err(Error::invalid("the call's result was already taken")));
        }
        let Some(end) = st.end.take() else { return Poll::Pending };
        st.end_taken = true;
        self.shared.settle(&mut st);
        Poll::Ready(end)
    }

    /// The next page of a [`Kind::Pages`] call: a page, `None` at the end (and after it), the
    /// error that ended the listing (once), or pending when neither has come yet. For a
    /// [`Kind::FleetPages`] call, a page with its place, or `None` once the end has come and every
    /// page was taken; the end itself is taken with [`Call::take_fleet`].
    pub fn next_page(&self) -> Poll<Result<Option<Delivered>>> {
        let kind = self.shared.kind;
        if !matches!(kind, Kind::Pages | Kind::FleetPages) {
            return Poll::Ready(Err(Error::invalid("this call delivers one result: take it whole")));
        }
        let mut st = self.shared.lock();
        let next = if let Some(page) = st.pages.pop_front() {
            self.shared.room.add_permits(1);
            Poll::Ready(Ok(Some(page)))
        } else if st.end_taken || (kind == Kind::FleetPages && st.end.is_some()) {
            Poll::Ready(Ok(None))
        } else if let Some(end) = st.end.take() {
            st.end_taken = true;
            Poll::Ready(end.map(|_| None))
        } else {
            Poll::Pending
        };
        self.shared.settle(&mut st);
        next
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        // Detached first, so that the end the stop brings runs no wake-up: none starts after this,
        // and one running on another thread is waited for.
        let me = std::thread::current().id();
        let mut st = self.shared.lock();
        st.detached = true;
        while st.waking.is_some_and(|t| t != me) {
            st = self.shared.woke.wait(st).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        drop(st);
        self.stop.cancel();
        // The queue's room is closed so that a task waiting for it ends at once.
        self.shared.room.close();
    }
}

impl Client {
    /// Starts `call` on the client's runtime: `work` produces the call's end (and, for a pages
    /// call, sends its pages through the sink it is given). Returns at once.
    pub(crate) fn start<F>(&self, call: &Call, work: impl FnOnce(PageSink) -> F)
    where
        F: Future<Output = Result<Output>> + Send + 'static,
    {
        let shared = call.shared.clone();
        let _ = shared.runtime.set(self.handle().clone());
        let stop = call.stop.clone();
        // A panic in the work ends the call with PANIC, as in the blocking calls.
        let fut = std::panic::AssertUnwindSafe(work(PageSink(shared.clone()))).catch_unwind();
        let redact = self.redactor();
        let guard = EndGuard(Some(shared));
        self.handle().spawn(async move {
            let end = match race(fut, None, Some(&stop)).await {
                Ended::Done(end) => end.unwrap_or_else(|payload| Err(Error::from_panic(&*payload))),
                Ended::Cancelled | Ended::Stopped => Err(Error::cancelled()),
            };
            guard.finish(end.map_err(&redact));
        });
    }
}

/// The readiness descriptor: a connected pair of sockets, readable at one end while a byte waits
/// in it (POSIX). Elsewhere there is none, and the wake-up function is the way to learn of news.
struct Signal {
    #[cfg(unix)]
    pair: (std::os::unix::net::UnixStream, std::os::unix::net::UnixStream),
}

#[cfg(unix)]
impl Signal {
    fn new() -> Result<Signal> {
        let pair = std::os::unix::net::UnixStream::pair()
            .and_then(|(r, w)| {
                r.set_nonblocking(true)?;
                w.set_nonblocking(true)?;
                Ok((r, w))
            })
            .map_err(|e| Error::new(ErrorKind::Config, format!("could not make the call's descriptor: {e}")))?;
        Ok(Signal { pair })
    }

    fn fd(&self) -> Option<i32> {
        use std::os::fd::AsRawFd;
        Some(self.pair.0.as_raw_fd())
    }

    fn raise(&self) {
        use std::io::Write;
        let _ = (&self.pair.1).write(&[1]);
    }

    fn lower(&self) {
        use std::io::Read;
        let mut buf = [0u8; 16];
        while matches!((&self.pair.0).read(&mut buf), Ok(n) if n > 0) {}
    }
}

#[cfg(not(unix))]
impl Signal {
    fn new() -> Result<Signal> {
        Ok(Signal {})
    }

    fn fd(&self) -> Option<i32> {
        None
    }

    fn raise(&self) {}

    fn lower(&self) {}
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use super::*;

    /// A client whose work below makes no request.
    fn client() -> Client {
        Client::new(crate::client::offline_config()).unwrap()
    }

    fn ended(call: &Call) -> Result<TaskPage> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Poll::Ready(end) = call.take_result() {
                return end;
            }
            assert!(Instant::now() < deadline, "the call never ended");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_panic_in_a_started_call_ends_it_with_panic() {
        let client = client();
        let call = Call::new(Kind::List, 2).unwrap();
        client.start(&call, |_| async { panic!("the work panicked (test)") });
        let e = ended(&call).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Panic, "{}", e.message);
        assert!(e.message.contains("the work panicked (test)"), "{}", e.message);
    }

    #[test]
    fn wake_ups_wait_until_the_call_is_armed() {
        let client = client();
        let call = Call::new(Kind::List, 2).unwrap();
        let woken = Arc::new(AtomicUsize::new(0));
        let w = woken.clone();
        call.set_wake(Box::new(move || {
            w.fetch_add(1, Ordering::SeqCst);
        }));
        client.start(&call, |_| async { Ok(Output::List(TaskPage::default())) });
        let deadline = Instant::now() + Duration::from_secs(10);
        while !call.finished() {
            assert!(Instant::now() < deadline, "the call never ended");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(woken.load(Ordering::SeqCst), 0, "a wake-up ran before the call was armed");
        call.armer().arm();
        while woken.load(Ordering::SeqCst) == 0 {
            assert!(Instant::now() < deadline, "the owed wake-up never ran");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(woken.load(Ordering::SeqCst), 1, "the owed wake-up ran more than once");
        assert!(ended(&call).is_ok());
    }

    #[test]
    fn a_blocking_call_on_a_library_thread_is_refused() {
        let client = Arc::new(client());
        let call = Call::new(Kind::List, 2).unwrap();
        let c = client.clone();
        client.start(&call, move |_| async move {
            // What a callback making a blocking call would do, on the same thread.
            let e = c.describe_page(&crate::Query::default(), None).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidArgument, "{}", e.message);
            assert!(e.message.contains("one of the library's threads"), "{}", e.message);
            Ok(Output::List(TaskPage::default()))
        });
        assert!(ended(&call).is_ok(), "the refusal was not seen on the library's thread");
    }
}
