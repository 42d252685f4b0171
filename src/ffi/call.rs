//! Calls that do not block: started with a `storetasks_client_*_start` function, they run on the
//! client's threads while the caller goes on, and hand over what the blocking call would have
//! returned when the caller takes it.

use std::ffi::{c_char, c_void};
use std::task::Poll;

use super::client::{call_args, inner, storetasks_client};
use super::fleet::{fleet_of, storetasks_fleet, storetasks_fleet_result};
use super::query::storetasks_query;
use super::task_list::storetasks_task_list;
use super::waiter::{id_targets, storetasks_wait_options, storetasks_wait_target, wait_options, wait_targets};
use super::{
    BoxHandle, OutPtr, boundary, boundary_or, boundary_pending, free_box, getter, opt_ref, storetasks_error, storetasks_status,
    try_ref,
};
use crate::call::{Call, Kind};
use crate::error::Error;

/// A call running on a client's threads. Opaque; made by a `storetasks_client_*_start` function,
/// freed once with `storetasks_call_free`. Its other functions may be called from any thread, its
/// callback's included.
pub struct storetasks_call {
    inner: Call,
}

// SAFETY: handed to C only by `OutPtr::set_raw` in `start`, freed only by
// `storetasks_call_free`.
unsafe impl BoxHandle for storetasks_call {
    const NAME: &'static str = "call";
}

/// Run on one of the library's threads each time `call` has something new for its caller: its
/// result (once), or a page or the end of a page-by-page call; never before the start function has
/// returned the call. It may take what is ready, start other calls, and free `call` itself (its
/// caller then no longer uses that pointer). It must return quickly (the thread serves other
/// calls) and normally (no C++ exception or `longjmp` may leave it), must not free any other call,
/// and makes no blocking call: those are refused with INVALID_ARGUMENT on the library's threads.
pub type storetasks_call_callback = Option<unsafe extern "C" fn(call: *mut storetasks_call, user_data: *mut c_void)>;

/// The pages a page-by-page call holds for its caller before the listing waits.
const QUEUED_PAGES: usize = 2;

/// A raw pointer handed to a callback on another thread, as C gave it.
struct Passed(*mut c_void, *mut storetasks_call);

// SAFETY: the pointers are only passed back to the caller's callback, which the header says may
// run on any of the library's threads; the call pointer stays valid while a callback runs (see
// `Call`'s drop, which waits for a callback running on another thread).
unsafe impl Send for Passed {}
// SAFETY: as above; the pointers are only read.
unsafe impl Sync for Passed {}

/// Makes a call of `kind`, sets its callback, starts it with `begin` and hands it to C. The
/// callback runs only once the call is in the caller's hands (news before that runs it then, on a
/// library thread): the start function never holds a call its callback may free.
fn start(
    kind: Kind,
    callback: storetasks_call_callback,
    user_data: *mut c_void,
    call_out: *mut *mut storetasks_call,
    err: *mut *mut storetasks_error,
    begin: impl FnOnce(&Call) -> Result<(), Error>,
) -> storetasks_status {
    boundary(err, || {
        let out = OutPtr::new(call_out, "call_out")?;
        let raw = Box::into_raw(Box::new(storetasks_call { inner: Call::new(kind, QUEUED_PAGES)? }));
        // SAFETY: `raw` was made just above from a Box and is freed only below on failure, or by
        // the caller through `storetasks_call_free` once it is handed over; no callback can free
        // it before `arm`.
        let call = unsafe { &*raw };
        if let Some(cb) = callback {
            let passed = Passed(user_data, raw);
            call.inner.set_wake(Box::new(move || {
                let p = &passed;
                // SAFETY: the caller's callback takes these arguments; the call is alive (see
                // `Passed`), and `user_data` is passed through as the caller gave it.
                unsafe { cb(p.1, p.0) }
            }));
        }
        if let Err(e) = begin(&call.inner) {
            // SAFETY: `raw` came from `Box::into_raw` above and was never handed out.
            drop(unsafe { Box::from_raw(raw) });
            return Err(e);
        }
        let armer = call.inner.armer();
        out.set_raw(raw);
        armer.arm();
        Ok(())
    })
}

/// Starts fetching one page, as `storetasks_client_describe` does, and returns at once.
///
/// `query` may be NULL (every task, EC2's page size). `callback` may be NULL (then wait on
/// `storetasks_call_fd`); `user_data` is passed to it untouched. Arguments are checked before
/// anything starts: a bad one fails here, as in the blocking call, and nothing runs. On success
/// `*call_out` is a new call that the caller frees with `storetasks_call_free` (the callback may
/// already be running by the time this returns); take its list with `storetasks_call_take_list`.
/// Thread-safe: any number of calls may be started and run on one client at once.
#[unsafe(no_mangle)]
#[allow(clippy::not_unsafe_ptr_arg_deref, reason = "user_data is only passed back to the caller's callback")]
pub extern "C" fn storetasks_client_describe_start(
    client: *const storetasks_client,
    query: *const storetasks_query,
    callback: storetasks_call_callback,
    user_data: *mut c_void,
    call_out: *mut *mut storetasks_call,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    start(Kind::List, callback, user_data, call_out, err, |call| {
        let a = call_args(client, query, std::ptr::null())?;
        a.client.start_describe(call, &a.query)
    })
}

/// Starts fetching every page, as `storetasks_client_describe_all` does (`max_tasks` 0: no cap),
/// and returns at once. Arguments, callback and ownership as for
/// `storetasks_client_describe_start`.
#[unsafe(no_mangle)]
#[allow(clippy::not_unsafe_ptr_arg_deref, reason = "user_data is only passed back to the caller's callback")]
pub extern "C" fn storetasks_client_describe_all_start(
    client: *const storetasks_client,
    query: *const storetasks_query,
    max_tasks: usize,
    callback: storetasks_call_callback,
    user_data: *mut c_void,
    call_out: *mut *mut storetasks_call,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    start(Kind::List, callback, user_data, call_out, err, |call| {
        let a = call_args(client, query, std::ptr::null())?;
        a.client.start_describe_all(call, &a.query, (max_tasks > 0).then_some(max_tasks))
    })
}

/// Starts a listing page by page, as `storetasks_client_describe_pages` makes it (`max_tasks` 0:
/// no cap), and returns at once; take its pages with `storetasks_call_next_page`. At most two
/// pages wait for the caller: the listing waits for room (holding no thread), so memory stays
/// bounded however slowly pages are taken. Arguments, callback and ownership as for
/// `storetasks_client_describe_start`; the callback runs for every page and for the end.
#[unsafe(no_mangle)]
#[allow(clippy::not_unsafe_ptr_arg_deref, reason = "user_data is only passed back to the caller's callback")]
pub extern "C" fn storetasks_client_describe_pages_start(
    client: *const storetasks_client,
    query: *const storetasks_query,
    max_tasks: usize,
    callback: storetasks_call_callback,
    user_data: *mut c_void,
    call_out: *mut *mut storetasks_call,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    start(Kind::Pages, callback, user_data, call_out, err, |call| {
        let a = call_args(client, query, std::ptr::null())?;
        a.client.start_describe_pages(call, &a.query, (max_tasks > 0).then_some(max_tasks))
    })
}

/// Starts a wait, as `storetasks_client_wait` makes it, and returns at once; its list (the tasks
/// of the end, in the order of `image_ids`) is taken with `storetasks_call_take_list`, and a wait
/// that ends otherwise gives the blocking wait's status and error there. The ids and `options`
/// (NULL: defaults) are copied at the start; the options' progress callback is not called by a
/// wait that does not block. Arguments are checked before anything starts; callback and
/// ownership as for `storetasks_client_describe_start`.
#[unsafe(no_mangle)]
#[allow(clippy::not_unsafe_ptr_arg_deref, reason = "user_data is only passed back to the caller's callback")]
pub extern "C" fn storetasks_client_wait_start(
    client: *const storetasks_client,
    image_ids: *const *const c_char,
    image_ids_len: usize,
    options: *const storetasks_wait_options,
    callback: storetasks_call_callback,
    user_data: *mut c_void,
    call_out: *mut *mut storetasks_call,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    start(Kind::List, callback, user_data, call_out, err, |call| {
        let targets = id_targets(image_ids, image_ids_len)?;
        inner(try_ref(client)?).start_wait_targets(call, &targets, &wait_options(options))
    })
}

/// Starts a wait across places, as `storetasks_client_wait_targets` makes it, and returns at once.
/// Results, copies, checks, callback and ownership as for `storetasks_client_wait_start`.
#[unsafe(no_mangle)]
#[allow(clippy::not_unsafe_ptr_arg_deref, reason = "user_data is only passed back to the caller's callback")]
pub extern "C" fn storetasks_client_wait_targets_start(
    client: *const storetasks_client,
    targets: *const storetasks_wait_target,
    targets_len: usize,
    options: *const storetasks_wait_options,
    callback: storetasks_call_callback,
    user_data: *mut c_void,
    call_out: *mut *mut storetasks_call,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    start(Kind::List, callback, user_data, call_out, err, |call| {
        let targets = wait_targets(targets, targets_len)?;
        inner(try_ref(client)?).start_wait_targets(call, &targets, &wait_options(options))
    })
}

/// Starts a fleet listing, as `storetasks_client_describe_fleet` makes it, and returns at once;
/// take its result with `storetasks_call_take_fleet`. The fleet and the query are copied at the
/// start. Arguments are checked before anything starts; callback and ownership as for
/// `storetasks_client_describe_start`.
#[unsafe(no_mangle)]
#[allow(clippy::not_unsafe_ptr_arg_deref, reason = "user_data is only passed back to the caller's callback")]
pub extern "C" fn storetasks_client_describe_fleet_start(
    client: *const storetasks_client,
    fleet: *const storetasks_fleet,
    query: *const storetasks_query,
    callback: storetasks_call_callback,
    user_data: *mut c_void,
    call_out: *mut *mut storetasks_call,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    start(Kind::Fleet, callback, user_data, call_out, err, |call| {
        let a = call_args(client, query, std::ptr::null())?;
        a.client.start_describe_fleet(call, fleet_of(fleet)?, &a.query)
    })
}

/// Starts a fleet listing whose pages come one by one, as `storetasks_client_describe_fleet_pages`
/// hands them to its callback, and returns at once. Take the pages with
/// `storetasks_call_next_page` (each names its place: `storetasks_task_list_region` and
/// `storetasks_task_list_account`); once that gives NULL, `storetasks_call_take_fleet` gives each
/// place's outcome and count of tasks, with empty lists. At most two pages wait for the caller in
/// the call and `max_concurrency` in the listings, which then wait for room (holding no thread),
/// so memory stays bounded however slowly pages are taken. Stopping early is
/// `storetasks_call_cancel` (the call then ends as CANCELLED) or `storetasks_call_free`. The
/// fleet and the query are copied at the start. Arguments are checked before anything starts;
/// callback and ownership as for `storetasks_client_describe_start`; the callback runs for every
/// page and for the end.
#[unsafe(no_mangle)]
#[allow(clippy::not_unsafe_ptr_arg_deref, reason = "user_data is only passed back to the caller's callback")]
pub extern "C" fn storetasks_client_describe_fleet_pages_start(
    client: *const storetasks_client,
    fleet: *const storetasks_fleet,
    query: *const storetasks_query,
    callback: storetasks_call_callback,
    user_data: *mut c_void,
    call_out: *mut *mut storetasks_call,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    start(Kind::FleetPages, callback, user_data, call_out, err, |call| {
        let a = call_args(client, query, std::ptr::null())?;
        a.client.start_describe_fleet_pages(call, fleet_of(fleet)?, &a.query)
    })
}

/// A descriptor that is readable while `call` has something for its caller (its result, a page,
/// or the end), for an event loop to wait on (`poll`, `epoll`, asyncio's `add_reader`, libuv's
/// `uv_poll`). It stays readable until everything ready was taken, so with edge-triggered waiting
/// take until `STORETASKS_STATUS_PENDING` after each wake-up. Owned by the call: never read, write
/// or close it, and stop watching it before `storetasks_call_free` (it is closed then or soon
/// after). Each call holds two descriptors of the process. -1 for NULL, and on Windows, where the
/// callback is the way to learn of news. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_call_fd(call: *const storetasks_call) -> i32 {
    boundary_or(-1, || opt_ref(call).and_then(|c| c.inner.fd()).unwrap_or(-1))
}

/// Whether `call` has ended with nothing left before its end: for a list, its result is ready
/// (or was taken); for pages, every page was taken and the end is ready (or was taken). False
/// for NULL. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_call_finished(call: *const storetasks_call) -> bool {
    getter(call, false, |c| c.inner.finished())
}

/// Stops `call`: unless it has already ended, it ends as `STORETASKS_STATUS_CANCELLED` soon (its
/// callback runs and its descriptor becomes readable then). NULL is ignored. Thread-safe, and safe
/// inside the call's callback.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_call_cancel(call: *const storetasks_call) {
    getter(call, (), |c| c.inner.cancel());
}

/// Takes the list of a call started by `storetasks_client_describe_start`,
/// `storetasks_client_describe_all_start`, `storetasks_client_wait_start` or
/// `storetasks_client_wait_targets_start`.
///
/// `STORETASKS_STATUS_PENDING` (and nothing written) while the call runs. Once it has ended: on
/// success `*list_out` is the new list the blocking call would have returned, which the caller
/// frees with `storetasks_task_list_free`; on failure the blocking call's status, and `*err` (when
/// `err` is not NULL) receives its error object. Only once: afterwards, and for a call of another
/// kind, INVALID_ARGUMENT. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_call_take_list(
    call: *mut storetasks_call,
    list_out: *mut *mut storetasks_task_list,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    take_end(call, list_out, "list_out", err, Call::take_result, storetasks_task_list::from_page)
}

/// As `storetasks_call_take_list`, for a call started by `storetasks_client_describe_fleet_start`:
/// what it hands over is the fleet result the blocking call would have returned, which the caller
/// frees with `storetasks_fleet_result_free`. For a call started by
/// `storetasks_client_describe_fleet_pages_start`, the same once the listing has ended (each
/// place's outcome and count of tasks, with empty lists), whether or not its pages were taken.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_call_take_fleet(
    call: *mut storetasks_call,
    result_out: *mut *mut storetasks_fleet_result,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    take_end(call, result_out, "result_out", err, Call::take_fleet, storetasks_fleet_result::new)
}

/// Takes a call's end with `take` and hands it to C through `out` as `convert` makes it:
/// PENDING while there is none yet.
fn take_end<T: BoxHandle, R>(
    call: *mut storetasks_call,
    out: *mut *mut T,
    what: &str,
    err: *mut *mut storetasks_error,
    take: impl FnOnce(&Call) -> Poll<Result<R, Error>>,
    convert: impl FnOnce(R) -> T,
) -> storetasks_status {
    boundary_pending(err, || {
        let c = try_ref(call)?;
        let out = OutPtr::new(out, what)?;
        let Poll::Ready(end) = take(&c.inner) else { return Ok(Poll::Pending) };
        out.set(convert(end?));
        Ok(Poll::Ready(()))
    })
}

/// Takes the next page of a call started by `storetasks_client_describe_pages_start` or
/// `storetasks_client_describe_fleet_pages_start`.
///
/// `STORETASKS_STATUS_PENDING` (and nothing written) while no page is ready and the listing has
/// not ended. Otherwise OK with `*page_out` set to the next page (a new list the caller frees with
/// `storetasks_task_list_free`), or to NULL at the end of the listing (and at every call after
/// it); or, once, the status and error object of what ended the listing early (the pages before
/// it stay delivered). A fleet listing's page names its place (`storetasks_task_list_region`,
/// `storetasks_task_list_account`); its end is not taken here: once this gives NULL, take the
/// fleet result with `storetasks_call_take_fleet`. INVALID_ARGUMENT for a call that delivers one
/// result. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_call_next_page(
    call: *mut storetasks_call,
    page_out: *mut *mut storetasks_task_list,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    boundary_pending(err, || {
        let c = try_ref(call)?;
        let out = OutPtr::new(page_out, "page_out")?;
        let Poll::Ready(next) = c.inner.next_page() else { return Ok(Poll::Pending) };
        match next? {
            Some((page, None)) => out.set(storetasks_task_list::from_page(page)),
            Some((page, Some(place))) => out.set(storetasks_task_list::from_place_page(page, &place)),
            None => out.set_null(),
        }
        Ok(Poll::Ready(()))
    })
}

/// Frees `call`, stopping it first if it is still running; its callback does not run for the end
/// this brings. NULL is ignored. It returns at once, except when the call's callback is running on
/// another thread at that moment: then it waits for that callback to return, so that nothing the
/// callback uses is freed under it (so do not call it while holding anything that callback waits
/// for). Inside the call's own callback, it frees the call without waiting (the callback must not
/// use it after). What the call produced and nobody took is freed with it. Once per call.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_call_free(call: *mut storetasks_call) {
    free_box(call);
}
