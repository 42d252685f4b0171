//! Fleet-wide calls: the fleet builder, the calls, and their result.
//!
//! The tasks of a place keep the layout of `storetasks_task`: a fleet result holds one task list
//! per (account, region) place, and the place's region and account are read from the result, not
//! from new members of `storetasks_task`. Adding members would change the struct's size, which the
//! ABI policy allows only with a new major version (programs index `storetasks_task` arrays).

use std::ffi::{CString, c_char, c_void};

use serde::Serialize;

use super::cancel::storetasks_cancel;
use super::client::{CallArgs, call_args, storetasks_client};
use super::query::storetasks_query;
use super::task_list::storetasks_task_list;
use super::{
    BoxHandle, OutPtr, boundary, boundary_or, c_string, free_box, getter, into_raw, opt_ptr, render_json, setter, store,
    storetasks_error, storetasks_status, str_arg, try_ref,
};
use crate::describe_store_image_tasks::task::{CliTask, TaskPage};
use crate::error::{Error, ErrorKind};
use crate::fleet::{Fleet, Outcome};
use crate::places::{account_of_role, check_region_name};

/// Where a fleet call runs: regions (a list, or every region enabled for the account) and,
/// optionally, IAM roles to assume, one per account. Opaque; create with `storetasks_fleet_new`,
/// free with `storetasks_fleet_free`. Not safe to change from two threads at once; once built it
/// may be used by many calls at the same time, but it must not be changed or freed while a call
/// that was given it is running (the call reads it at its start and may read it again).
pub struct storetasks_fleet {
    inner: Fleet,
    last_error: Option<CString>,
}

builder_handle!(storetasks_fleet, "fleet");

/// A new, empty fleet. Before a call it needs regions (`storetasks_fleet_add_region`) or
/// `storetasks_fleet_set_all_regions`. Without roles, the client's own credentials are used.
///
/// The caller owns it and frees it with `storetasks_fleet_free`. NULL only if memory ran out.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_fleet_new() -> *mut storetasks_fleet {
    boundary_or(std::ptr::null_mut(), || into_raw(storetasks_fleet { inner: Fleet::default(), last_error: None }))
}

/// Frees a fleet. NULL is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_fleet_free(fleet: *mut storetasks_fleet) {
    free_box(fleet);
}

/// Why the most recent setter call on `fleet` did not return OK, as one sentence; NULL when that
/// call succeeded, and for a NULL fleet. Borrowed from the fleet until its next setter call or
/// its free. Like the setters, not to be called while another thread changes the same fleet.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_fleet_last_error(fleet: *const storetasks_fleet) -> *const c_char {
    super::last_error(fleet)
}

fn edit(fleet: *mut storetasks_fleet, f: impl FnOnce(&mut Fleet) -> Result<(), Error>) -> storetasks_status {
    setter(fleet, |x| f(&mut x.inner))
}

/// Adds `value` (copied) to the fleet's list that `list` picks, once `check` accepts it.
fn add_checked(
    fleet: *mut storetasks_fleet,
    value: *const c_char,
    what: &str,
    check: impl FnOnce(&str) -> Result<(), Error>,
    list: impl FnOnce(&mut Fleet) -> &mut Vec<String>,
) -> storetasks_status {
    edit(fleet, |f| {
        let value = str_arg(value, what)?;
        check(value)?;
        list(f).push(value.to_owned());
        Ok(())
    })
}

/// Adds a region (copied), such as "eu-west-3". A region added twice is listed once.
/// INVALID_ARGUMENT for NULL, invalid UTF-8, or a name that is not a region's (lower-case
/// letters, digits and dashes).
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_fleet_add_region(fleet: *mut storetasks_fleet, region: *const c_char) -> storetasks_status {
    add_checked(fleet, region, "region", check_region_name, |f| &mut f.regions)
}

/// With true, the call lists every region enabled for each account, as EC2 DescribeRegions
/// (asked in the client's region) names them; regions that are not opted in are left out. A
/// fleet may not both name regions and ask for all: the call refuses it.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_fleet_set_all_regions(fleet: *mut storetasks_fleet, all_regions: bool) -> storetasks_status {
    store(fleet, || Ok(all_regions), |f| &mut f.inner.all_regions)
}

/// Adds an IAM role to assume (copied), `arn:aws:iam::ACCOUNT:role/NAME`: its account is listed
/// with the role's temporary credentials, which STS gives for the client's own credentials
/// (session name "libstoretasks"). With roles, the client's own account is listed only if one
/// of them is in it. INVALID_ARGUMENT for NULL, invalid UTF-8 or a string that is not a role ARN.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_fleet_add_role_arn(fleet: *mut storetasks_fleet, role_arn: *const c_char) -> storetasks_status {
    add_checked(fleet, role_arn, "role ARN", |arn| account_of_role(arn).map(drop), |f| &mut f.role_arns)
}

/// One place of a fleet result.
struct Place {
    region: CString,
    account: Option<CString>,
    role_arn: Option<CString>,
    tasks: storetasks_task_list,
    task_count: usize,
    error: Option<storetasks_error>,
    json_error: Option<JsonError>,
}

/// The outcome of a fleet call: one entry per (account, region) place, in order (accounts in
/// the order their roles were added, then regions in the order added, or by name for all
/// regions). Each entry has its tasks, or the error that ended its listing. Opaque; freed with
/// `storetasks_fleet_result_free`. Read-only, so any number of threads may read it at once,
/// including the task lists and error objects it lends (the one-thread-at-a-time rule of error
/// objects is for those a call hands over, which the caller may free).
pub struct storetasks_fleet_result {
    places: Vec<Place>,
}

// SAFETY: handed to C only by `OutPtr::set` in the fleet calls, freed only by
// `storetasks_fleet_result_free`.
unsafe impl BoxHandle for storetasks_fleet_result {
    const NAME: &'static str = "result";
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
struct JsonError {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

fn status_name(kind: ErrorKind) -> &'static str {
    let status = storetasks_status::from(kind);
    storetasks_status::NAMES
        .iter()
        .find(|(s, _)| *s == status)
        .and_then(|(_, n)| n.to_str().ok())
        .unwrap_or("STORETASKS_STATUS_UNKNOWN")
}

impl storetasks_fleet_result {
    pub(crate) fn new(outcomes: Vec<(Outcome, TaskPage)>) -> Self {
        let places = outcomes
            .into_iter()
            .map(|(o, page)| Place {
                region: c_string(&o.place.region),
                account: o.place.account.as_deref().map(c_string),
                role_arn: o.place.role_arn.as_deref().map(c_string),
                tasks: storetasks_task_list::from_page(page),
                task_count: o.tasks,
                json_error: o.error.as_ref().map(|e| JsonError {
                    status: status_name(e.kind),
                    code: e.code.clone(),
                    message: e.message.clone(),
                    http_status: e.http_status,
                    request_id: e.request_id.clone(),
                }),
                error: o.error.as_ref().map(storetasks_error::from_error),
            })
            .collect();
        storetasks_fleet_result { places }
    }
}

/// Called once per page by `storetasks_client_describe_fleet_pages`, on the calling thread, with
/// the page's region and account (NULL for the client's own credentials). The strings and `page`
/// are borrowed for the duration of the call only. Return true to go on, false to stop every
/// listing. It must return normally (no C++ exception or `longjmp` may leave it), and must not
/// free the client, the fleet, the query or the cancel token of the call it runs under (it may
/// trigger the token: no page reaches it after that, and the call returns CANCELLED).
pub type storetasks_fleet_page_callback = Option<
    unsafe extern "C" fn(
        region: *const c_char,
        account: *const c_char,
        page: *const storetasks_task_list,
        user_data: *mut c_void,
    ) -> bool,
>;

fn fleet_args<'a>(
    client: *const storetasks_client,
    fleet: *const storetasks_fleet,
    query: *const storetasks_query,
    cancel: *const storetasks_cancel,
) -> Result<(CallArgs<'a>, &'a Fleet), Error> {
    let args = call_args(client, query, cancel)?;
    Ok((args, fleet_of(fleet)?))
}

/// The fleet behind a C handle (NULL is INVALID_ARGUMENT).
pub(crate) fn fleet_of<'a>(fleet: *const storetasks_fleet) -> Result<&'a Fleet, Error> {
    Ok(&try_ref(fleet)?.inner)
}

/// Runs the query (NULL: every task) in every (account, region) place of `fleet` at once,
/// `max_concurrency` places at a time (see `storetasks_config_set_max_concurrency`), each
/// listed to its end, and keeps every task.
///
/// Returns OK when the places were listed, even when some or all of them failed: each place's
/// outcome in `*result_out` says whether it succeeded (`storetasks_fleet_result_error`). The call
/// itself fails with INVALID_ARGUMENT for a fleet without regions, with both regions and all
/// regions, or a query with a NextToken (a token belongs to one region), and with CANCELLED when
/// `cancel` fires. On success `*result_out` is a new result the caller frees with
/// `storetasks_fleet_result_free`; on failure it is left untouched and `*err` (when `err` is not
/// NULL) receives an error object. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_client_describe_fleet(
    client: *const storetasks_client,
    fleet: *const storetasks_fleet,
    query: *const storetasks_query,
    cancel: *const storetasks_cancel,
    result_out: *mut *mut storetasks_fleet_result,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    boundary(err, || {
        let (a, fleet) = fleet_args(client, fleet, query, cancel)?;
        let out = OutPtr::new(result_out, "result_out")?;
        let outcomes = a.client.describe_fleet_all(fleet, &a.query, a.cancel.as_ref())?;
        out.set(storetasks_fleet_result::new(outcomes));
        Ok(())
    })
}

/// The streaming form of `storetasks_client_describe_fleet`: `callback` receives each page as it
/// arrives from any place, on the calling thread; at most `max_concurrency` pages wait for it, so
/// memory stays bounded whatever the fleet's size. Returning false stops every listing: the call
/// then returns OK with every outcome known by then (a place that had failed keeps its error, one
/// that had ended keeps none), and each place still running has an error of status CANCELLED
/// ("the caller stopped the call before the listing of ... had ended"), counted by
/// `storetasks_fleet_result_failed`.
///
/// `result_out` may be NULL; otherwise it receives the outcome of every place as for
/// `storetasks_client_describe_fleet`, with empty task lists (the tasks went to the callback) and
/// each place's count of tasks delivered (`storetasks_fleet_result_task_count`). Errors, NULL
/// handling and thread safety as for `storetasks_client_describe_fleet`.
#[unsafe(no_mangle)]
#[allow(clippy::not_unsafe_ptr_arg_deref, reason = "user_data is only passed back to the caller's callback")]
#[allow(clippy::too_many_arguments, reason = "the C call takes its arguments flat, like the other calls")]
pub extern "C" fn storetasks_client_describe_fleet_pages(
    client: *const storetasks_client,
    fleet: *const storetasks_fleet,
    query: *const storetasks_query,
    cancel: *const storetasks_cancel,
    callback: storetasks_fleet_page_callback,
    user_data: *mut c_void,
    result_out: *mut *mut storetasks_fleet_result,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    boundary(err, || {
        let (a, fleet) = fleet_args(client, fleet, query, cancel)?;
        let callback = callback.ok_or_else(|| Error::invalid("callback is NULL"))?;
        let out = if result_out.is_null() { None } else { Some(OutPtr::new(result_out, "result_out")?) };
        let mut names: Vec<Option<(CString, Option<CString>)>> = Vec::new();
        let outcomes = a.client.describe_fleet_each(fleet, &a.query, a.cancel.as_ref(), |i, place, page| {
            if names.len() <= i {
                names.resize_with(i + 1, || None);
            }
            let (region, account) =
                names[i].get_or_insert_with(|| (c_string(&place.region), place.account.as_deref().map(c_string)));
            let list = storetasks_task_list::from_page(page);
            // SAFETY: the caller promised a callback that takes these arguments; the strings and
            // `list` outlive the call, and `user_data` is passed through as the caller gave it.
            unsafe { callback(region.as_ptr(), opt_ptr(account), &list, user_data) }
        })?;
        if let Some(out) = out {
            out.set(storetasks_fleet_result::new(outcomes.into_iter().map(|o| (o, TaskPage::default())).collect()));
        }
        Ok(())
    })
}

/// Reads place `index` of `result` behind the panic boundary; `fallback` for a NULL result or an
/// index out of range.
fn place<R: Copy>(result: *const storetasks_fleet_result, index: usize, fallback: R, f: impl FnOnce(&Place) -> R) -> R {
    getter(result, fallback, |r| r.places.get(index).map_or(fallback, f))
}

/// The number of places (account, region pairs) in the result; 0 for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_fleet_result_len(result: *const storetasks_fleet_result) -> usize {
    getter(result, 0, |r| r.places.len())
}

/// The number of places whose listing failed, or did not end because the caller stopped a
/// streaming call (status CANCELLED); 0 for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_fleet_result_failed(result: *const storetasks_fleet_result) -> usize {
    getter(result, 0, |r| r.places.iter().filter(|p| p.error.is_some()).count())
}

/// The region of place `index`. An empty string for an account whose regions could not be
/// listed (its error says why). NULL for a NULL result or an index out of range. Borrowed from
/// the result until it is freed.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_fleet_result_region(result: *const storetasks_fleet_result, index: usize) -> *const c_char {
    place(result, index, std::ptr::null(), |p| p.region.as_ptr())
}

/// The account of place `index`, from its role ARN; NULL for the client's own credentials, a
/// NULL result or an index out of range. Borrowed from the result until it is freed.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_fleet_result_account(result: *const storetasks_fleet_result, index: usize) -> *const c_char {
    place(result, index, std::ptr::null(), |p| opt_ptr(&p.account))
}

/// The role assumed for place `index`; NULL for the client's own credentials, a NULL result or
/// an index out of range. Borrowed from the result until it is freed.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_fleet_result_role_arn(result: *const storetasks_fleet_result, index: usize) -> *const c_char {
    place(result, index, std::ptr::null(), |p| opt_ptr(&p.role_arn))
}

/// The tasks of place `index`, newest first: every task listed there (for a failed place, those
/// read before it failed; empty after `storetasks_client_describe_fleet_pages`). The list has no
/// next token; its request id is the last reply's. Borrowed from the result until it is freed
/// (never pass it to `storetasks_task_list_free`); NULL for a NULL result or an index out of range.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_fleet_result_tasks(
    result: *const storetasks_fleet_result,
    index: usize,
) -> *const storetasks_task_list {
    place(result, index, std::ptr::null(), |p| &p.tasks as *const _)
}

/// How many tasks place `index` delivered (to the result or to the callback); 0 for a NULL
/// result or an index out of range.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_fleet_result_task_count(result: *const storetasks_fleet_result, index: usize) -> usize {
    place(result, index, 0, |p| p.task_count)
}

/// Why place `index` failed, read with the `storetasks_error_*` functions; NULL when it
/// succeeded, for a NULL result or an index out of range. Borrowed from the result until it is
/// freed (never pass it to `storetasks_error_free`).
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_fleet_result_error(result: *const storetasks_fleet_result, index: usize) -> *const storetasks_error {
    place(result, index, std::ptr::null(), |p| p.error.as_ref().map_or(std::ptr::null(), |e| e as *const _))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JsonPlace<'a> {
    region: &'a str,
    account: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_arn: Option<&'a str>,
    store_image_task_results: Vec<CliTask<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a JsonError>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JsonResult<'a> {
    places: Vec<JsonPlace<'a>>,
}

/// Renders the result as JSON: `{"Places": [{"Region": ..., "Account": ... or null,
/// "RoleArn": ... (with a role), "StoreImageTaskResults": [...], "Error": {"Status", "Code",
/// "Message", "HttpStatus", "RequestId"} (for a failed place)}]}`, the tasks in the AWS CLI's
/// shape, four-space indent and a final newline.
///
/// On success `*json_out` is a new NUL-terminated string that the caller frees with
/// `storetasks_string_free`; on failure it is left untouched. `err` may be NULL. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_fleet_result_to_json(
    result: *const storetasks_fleet_result,
    json_out: *mut *mut c_char,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    render_json(result, json_out, err, |r| crate::describe_store_image_tasks::task::pretty_json(&JsonResult::of(r)))
}

impl<'a> JsonResult<'a> {
    fn of(r: &'a storetasks_fleet_result) -> Self {
        let places = r.places.iter().map(|p| JsonPlace {
            region: text(&p.region),
            account: p.account.as_ref().map(text),
            role_arn: p.role_arn.as_ref().map(text),
            store_image_task_results: p.tasks.task_refs().map(CliTask::from).collect(),
            error: p.json_error.as_ref(),
        });
        JsonResult { places: places.collect() }
    }
}

fn text(s: &CString) -> &str {
    s.to_str().unwrap_or("")
}

/// Frees a fleet result, its task lists and its errors. NULL is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_fleet_result_free(result: *mut storetasks_fleet_result) {
    free_box(result);
}
