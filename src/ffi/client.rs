//! The client handle and the calls that query EC2.

use std::ffi::c_void;

use super::cancel::storetasks_cancel;
use super::config::storetasks_config;
use super::query::storetasks_query;
use super::task_list::storetasks_task_list;
use super::{BoxHandle, OutPtr, boundary, free_box, opt_ref, storetasks_error, storetasks_status, try_ref};
use crate::cancel::CancelToken;
use crate::client::{Client, ClientConfig};
use crate::describe_store_image_tasks::query::Query;
use crate::error::Error;

/// A client: its own runtime, connection pool and credentials. Opaque; create with
/// `storetasks_client_new`, free with `storetasks_client_free`. Safe to share between threads:
/// any number of calls may run on one client at the same time.
pub struct storetasks_client {
    inner: Client,
}

// SAFETY: handed to C only by `OutPtr::set` in `storetasks_client_new`, freed only by
// `storetasks_client_free`.
unsafe impl BoxHandle for storetasks_client {
    const NAME: &'static str = "client";
}

pub(crate) fn inner(c: &storetasks_client) -> &Client {
    &c.inner
}

/// Called once per page by `storetasks_client_describe_pages`, on the calling thread. `page` is
/// borrowed for the duration of the call only. Return true to go on, false to stop.
/// It must return normally: a C++ exception or a `longjmp` must not leave it (the C++ wrapper
/// catches exceptions inside its callbacks and rethrows them after the call returns). It must
/// not free the client, the query or the cancel token of the call it runs under.
pub type storetasks_page_callback =
    Option<unsafe extern "C" fn(page: *const storetasks_task_list, user_data: *mut c_void) -> bool>;

/// Creates a client from `config` (copied; NULL means the standard AWS defaults for everything).
///
/// With an explicit region and credentials it is ready in milliseconds and contacts nothing.
/// On success `*client_out` is a new client that the caller frees with `storetasks_client_free`;
/// on failure it is left untouched and `*err` (when `err` is not NULL) receives an error object
/// to free with `storetasks_error_free`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_client_new(
    config: *const storetasks_config,
    client_out: *mut *mut storetasks_client,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    boundary(err, || {
        let out = OutPtr::new(client_out, "client_out")?;
        let cfg = opt_ref(config).map_or_else(ClientConfig::default, |c| c.inner.clone());
        let client = Client::new(cfg)?;
        out.set(storetasks_client { inner: client });
        Ok(())
    })
}

/// Frees a client, closing its connections and stopping its threads. NULL is ignored. No blocking
/// call may still be running on it; calls started with a `_start` function that are still running
/// end as `STORETASKS_STATUS_CANCELLED`, and their callbacks may run while this function runs or
/// after it returns: they must not use this client (each call is still freed with
/// `storetasks_call_free`). Safe to call from any thread, including one inside a tokio runtime.
/// It waits for the library's threads to end, up to 5 seconds (a request still being answered is
/// dropped then); inside a tokio runtime it returns at once and they end in the background.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_client_free(client: *mut storetasks_client) {
    free_box(client);
}

pub(crate) struct CallArgs<'a> {
    pub(crate) client: &'a Client,
    pub(crate) query: Query,
    pub(crate) cancel: Option<CancelToken>,
}

pub(crate) fn call_args<'a>(
    client: *const storetasks_client,
    query: *const storetasks_query,
    cancel: *const storetasks_cancel,
) -> Result<CallArgs<'a>, Error> {
    let client = &try_ref(client)?.inner;
    let query = opt_ref(query).map_or_else(Query::default, |q| q.inner.clone());
    let cancel = opt_ref(cancel).map(|c| c.token.clone());
    Ok(CallArgs { client, query, cancel })
}

/// A call that checks its arguments, fetches a page and hands it out as a new list.
fn list_call(
    client: *const storetasks_client,
    query: *const storetasks_query,
    cancel: *const storetasks_cancel,
    list_out: *mut *mut storetasks_task_list,
    err: *mut *mut storetasks_error,
    fetch: impl FnOnce(&CallArgs<'_>) -> Result<crate::describe_store_image_tasks::task::TaskPage, Error>,
) -> storetasks_status {
    boundary(err, || {
        let a = call_args(client, query, cancel)?;
        let out = OutPtr::new(list_out, "list_out")?;
        let page = fetch(&a)?;
        out.set(storetasks_task_list::from_page(page));
        Ok(())
    })
}

fn cap(max_tasks: usize) -> Option<usize> {
    (max_tasks > 0).then_some(max_tasks)
}

/// Fetches one page: the tasks of one DescribeStoreImageTasks request (for more than 20 image
/// ids, of all the requests they were split into, merged newest first) and the next token.
///
/// `query` may be NULL (every task, EC2's page size); `cancel` may be NULL. Blocks until done.
/// On success `*list_out` is a new list the caller frees with `storetasks_task_list_free`; on
/// failure it is left untouched and `*err` (when `err` is not NULL) receives an error object.
/// Thread-safe: many threads may call this on one client at once.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_client_describe(
    client: *const storetasks_client,
    query: *const storetasks_query,
    cancel: *const storetasks_cancel,
    list_out: *mut *mut storetasks_task_list,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    list_call(client, query, cancel, list_out, err, |a| a.client.describe_page(&a.query, a.cancel.as_ref()))
}

/// Fetches every page, following NextToken from the query's token to the end, into one list.
///
/// `max_tasks` caps the number of tasks (0: no cap); when the cap ends the listing early, the
/// list's next token resumes it exactly after the last task returned. Where no token can do that
/// (a query with image ids, which EC2 answers without tokens, or a service that sent more tasks
/// than MaxResults asked for), the list has no token and `storetasks_task_list_truncated` is
/// true: the cap cut tasks out that this list does not hold. A service that repeats a
/// token ends the call with `STORETASKS_STATUS_RESPONSE`. Ownership, NULL handling and thread
/// safety as for `storetasks_client_describe`.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_client_describe_all(
    client: *const storetasks_client,
    query: *const storetasks_query,
    max_tasks: usize,
    cancel: *const storetasks_cancel,
    list_out: *mut *mut storetasks_task_list,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    boundary(err, || {
        let a = call_args(client, query, cancel)?;
        let out = OutPtr::new(list_out, "list_out")?;
        // Each page becomes C tasks as it arrives, so that its packed records are freed at once.
        let mut list = storetasks_task_list::from_page(Default::default());
        a.client.describe_each(&a.query, cap(max_tasks), a.cancel.as_ref(), |page| {
            list.append(page);
            true
        })?;
        out.set(list);
        Ok(())
    })
}

/// Lists page by page: `callback` receives each page as it arrives (on the calling thread) and
/// returns false to stop (the next page may already be on its way, and is dropped), so a listing of
/// any size needs memory for a few pages only: the next page is fetched while the callback runs.
///
/// `max_tasks` caps the number of tasks (0: no cap; the page that reaches the cap is cut, as for
/// `storetasks_client_describe_all`). `user_data` is passed through untouched.
/// Returns OK when the listing ended or the callback stopped it; on failure `*err` (when `err`
/// is not NULL) receives an error object, and pages already delivered stay delivered.
#[unsafe(no_mangle)]
#[allow(clippy::not_unsafe_ptr_arg_deref, reason = "user_data is only passed back to the caller's callback")]
pub extern "C" fn storetasks_client_describe_pages(
    client: *const storetasks_client,
    query: *const storetasks_query,
    max_tasks: usize,
    cancel: *const storetasks_cancel,
    callback: storetasks_page_callback,
    user_data: *mut c_void,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    boundary(err, || {
        let a = call_args(client, query, cancel)?;
        let callback = callback.ok_or_else(|| Error::invalid("callback is NULL"))?;
        a.client.describe_each(&a.query, cap(max_tasks), a.cancel.as_ref(), |page| {
            let list = storetasks_task_list::from_page(page);
            // SAFETY: the caller promised a callback that takes these arguments; `list` outlives
            // the call, and `user_data` is passed through as the caller gave it.
            unsafe { callback(&list, user_data) }
        })
    })
}
