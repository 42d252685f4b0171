//! The C entry points driven with arbitrary arguments: NULLs, invalid UTF-8, strings with and
//! without their terminator inside, empty and long lists, extreme numbers. Freed-then-reused
//! handles are outside the contract and are not tried. Calls that pass the checks are sent to a
//! closed loopback port, so they fail fast with a network status. An input that configures
//! nothing calls through one client shared by all such inputs (building a client, with its
//! runtime, costs more than the rest of an input); one that configures builds its own. Calls that
//! do not block are started, taken from (in either form), cancelled and freed in any order,
//! while they run or after they ended.

#![no_main]

use std::ffi::{c_char, c_void};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use storetasks::ffi::call::*;
use storetasks::ffi::cancel::*;
use storetasks::ffi::client::*;
use storetasks::ffi::config::*;
use storetasks::ffi::error::*;
use storetasks::ffi::fleet::*;
use storetasks::ffi::query::*;
use storetasks::ffi::task_list::*;
use storetasks::ffi::waiter::*;

#[derive(Arbitrary, Debug)]
enum Text {
    Null,
    Bytes(Vec<u8>),
}

impl Text {
    /// A NUL-terminated copy (bytes after an inner NUL are simply not seen by C).
    fn c(&self) -> Option<Vec<u8>> {
        match self {
            Text::Null => None,
            Text::Bytes(b) => {
                let mut v = b.clone();
                v.push(0);
                Some(v)
            }
        }
    }
}

fn ptr(v: &Option<Vec<u8>>) -> *const c_char {
    v.as_ref().map_or(null(), |b| b.as_ptr().cast())
}

#[derive(Arbitrary, Debug)]
enum Op {
    Region(Text),
    Endpoint(Text),
    Profile(Text),
    Credentials(Text, Text, Text),
    Retry(i32, u32),
    Timeouts(u64, u64, u64),
    AppName(Text),
    CaBundle(Text),
    Concurrency(usize),
    ImageId(Text),
    Filter(Text, Vec<Text>, bool),
    MaxResults(i32),
    NextToken(Text),
    DryRun(bool),
    StatusName(i32),
    Describe { all: bool, max_tasks: u16, cancelled: bool },
    Wait { ids: Vec<Text>, null_ids: bool, delays: (u64, u64), grace: u64 },
    FleetRegion(Text),
    FleetRole(Text),
    FleetAllRegions(bool),
    DescribeFleet { pages: bool, keep_result: bool, cancelled: bool },
    WaitTargets { targets: Vec<(Text, Text, Text)>, null_targets: bool },
    NullCalls,
    /// Starts a call that does not block (one page, every page, page by page, a wait, a fleet).
    Start { kind: u8, max_tasks: u16, callback: bool },
    /// Takes from a started call, in the form its kind wants or another (list, page, fleet).
    Take { which: u8, form: u8, null_out: bool },
    Peek(u8),
    CancelCall(u8),
    FreeCall(u8),
    /// Waits a little for started calls to end.
    Pause(u8),
}

/// A started call and the client it runs on (freed after it when the input configured one).
struct Started {
    call: *mut storetasks_call,
    client: *mut storetasks_client,
    configured: bool,
}

impl Started {
    fn free(self) {
        storetasks_call_free(self.call);
        done_with(self.client, self.configured);
    }
}

/// A call's callback: runs on a library thread and reads what may be read from any thread.
unsafe extern "C" fn on_news(call: *mut storetasks_call, _user: *mut c_void) {
    let _ = storetasks_call_fd(call);
    let _ = storetasks_call_finished(call);
}

/// Takes what call `s` has, as a list, a page or a fleet result, and reads it.
fn take(s: &Started, form: u8, null_out: bool) {
    let mut err = null_mut();
    if form % 3 == 2 {
        let mut result = null_mut();
        let out: *mut *mut storetasks_fleet_result = if null_out { null_mut() } else { &mut result };
        match storetasks_call_take_fleet(s.call, out, &mut err) {
            storetasks_status::Ok if !result.is_null() => read_fleet(result),
            storetasks_status::Ok | storetasks_status::Pending => assert!(err.is_null(), "an error object without an error"),
            _ => read_error(err),
        }
        return;
    }
    let mut list = null_mut();
    let out: *mut *mut storetasks_task_list = if null_out { null_mut() } else { &mut list };
    let st = if form % 3 == 1 {
        storetasks_call_next_page(s.call, out, &mut err)
    } else {
        storetasks_call_take_list(s.call, out, &mut err)
    };
    match st {
        storetasks_status::Ok if !list.is_null() => read_list(list),
        storetasks_status::Ok | storetasks_status::Pending => assert!(err.is_null(), "an error object without an error"),
        _ => read_error(err),
    }
}

unsafe extern "C" fn stop_at_once(_page: *const storetasks_task_list, _user: *mut c_void) -> bool {
    false
}

fn read_error(err: *mut storetasks_error) {
    read_error_fields(err);
    storetasks_error_free(err);
}

fn read_error_fields(err: *const storetasks_error) {
    for p in [
        storetasks_error_message(err),
        storetasks_error_code(err),
        storetasks_error_request_id(err),
        storetasks_error_ami_id(err),
    ] {
        if !p.is_null() {
            let _ = unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes().len();
        }
    }
    let _ = storetasks_error_http_status(err);
}

fn read_list(list: *mut storetasks_task_list) {
    read_tasks(list);
    storetasks_task_list_free(list);
}

fn read_tasks(list: *const storetasks_task_list) {
    for text in [storetasks_task_list_region(list), storetasks_task_list_account(list)] {
        if !text.is_null() {
            // SAFETY: a non-NULL place string is NUL-terminated and lives as long as the list.
            let _ = unsafe { std::ffi::CStr::from_ptr(text) }.to_bytes().len();
        }
    }
    for i in 0..storetasks_task_list_len(list) + 2 {
        let _ = storetasks_task_list_get(list, i);
    }
    let mut json: *mut c_char = null_mut();
    if storetasks_task_list_to_json(list, &mut json, null_mut()) == storetasks_status::Ok {
        storetasks::ffi::storetasks_string_free(json);
    }
}

fn read_text(p: *const c_char) {
    if !p.is_null() {
        let _ = unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes().len();
    }
}

/// Reads every place of a fleet result (and two indexes past the end), then frees it.
fn read_fleet(result: *mut storetasks_fleet_result) {
    let _ = storetasks_fleet_result_failed(result);
    for i in 0..storetasks_fleet_result_len(result) + 2 {
        read_text(storetasks_fleet_result_region(result, i));
        read_text(storetasks_fleet_result_account(result, i));
        read_text(storetasks_fleet_result_role_arn(result, i));
        let _ = storetasks_fleet_result_task_count(result, i);
        read_tasks(storetasks_fleet_result_tasks(result, i));
        let e = storetasks_fleet_result_error(result, i);
        if !e.is_null() {
            read_error_fields(e);
        }
    }
    let mut json: *mut c_char = null_mut();
    if storetasks_fleet_result_to_json(result, &mut json, null_mut()) == storetasks_status::Ok {
        storetasks::ffi::storetasks_string_free(json);
    }
    storetasks_fleet_result_free(result);
}

unsafe extern "C" fn stop_fleet_at_once(
    region: *const c_char,
    account: *const c_char,
    page: *const storetasks_task_list,
    _user: *mut c_void,
) -> bool {
    read_text(region);
    read_text(account);
    read_tasks(page);
    false
}

/// A configuration every input starts from: calls that get through the checks go to a closed
/// port and fail fast.
fn base_config() -> *mut storetasks_config {
    let cfg = storetasks_config_new();
    storetasks_config_set_endpoint_url(cfg, b"http://127.0.0.1:9\0".as_ptr().cast());
    storetasks_config_set_region(cfg, b"us-east-1\0".as_ptr().cast());
    storetasks_config_set_credentials(cfg, b"AKIAFUZZ\0".as_ptr().cast(), b"fuzz-secret\0".as_ptr().cast(), null());
    storetasks_config_set_retry(cfg, 1, 1);
    storetasks_config_set_timeouts(cfg, 200, 200, 400);
    cfg
}

/// The client of [`base_config`], built once and never freed.
struct Shared(*mut storetasks_client);
// The C API lets one client serve calls from any thread.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

fn shared_client() -> *mut storetasks_client {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let cfg = base_config();
            let mut client = null_mut();
            let st = storetasks_client_new(cfg, &mut client, null_mut());
            assert!(st == storetasks_status::Ok && !client.is_null(), "the base configuration must build a client");
            storetasks_config_free(cfg);
            Shared(client)
        })
        .0
}

/// A client for the next call: the shared one while the input has configured nothing, else a new
/// one from `cfg` (freed by [`done_with`]). `None` when that fails (its error is read and freed
/// when `err` is given).
fn client_for(
    cfg: *const storetasks_config,
    configured: bool,
    err: *mut *mut storetasks_error,
) -> Option<*mut storetasks_client> {
    if !configured {
        return Some(shared_client());
    }
    let mut client = null_mut();
    if storetasks_client_new(cfg, &mut client, err) != storetasks_status::Ok {
        if !err.is_null() {
            read_error(unsafe { *err });
        }
        return None;
    }
    Some(client)
}

/// Reads what a blocking call handed over: its list when it succeeded, else its error.
fn read_outcome(st: storetasks_status, list: *mut storetasks_task_list, err: *mut storetasks_error) {
    if st == storetasks_status::Ok {
        read_list(list)
    } else {
        read_error(err)
    }
}

/// Runs a wait through `wait` (given where its list and error go), reads what it handed over,
/// then frees `opts` and, if it was made for this input, the client.
fn finish_wait(
    client: *mut storetasks_client,
    configured: bool,
    opts: *mut storetasks_wait_options,
    wait: impl FnOnce(*mut *mut storetasks_task_list, *mut *mut storetasks_error) -> storetasks_status,
) {
    let mut out = null_mut();
    let mut err = null_mut();
    let st = wait(&mut out, &mut err);
    read_outcome(st, out, err);
    storetasks_wait_options_free(opts);
    done_with(client, configured);
}

fn done_with(client: *mut storetasks_client, configured: bool) {
    if configured {
        storetasks_client_free(client);
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let cfg = base_config();
    let q = storetasks_query_new();
    let fleet = storetasks_fleet_new();
    // Whether a configuration call was made, so that calls need a client of their own.
    let mut configured = false;
    let mut started: Vec<Started> = Vec::new();
    for op in ops.iter().take(64) {
        configured |= matches!(
            op,
            Op::Region(_)
                | Op::Endpoint(_)
                | Op::Profile(_)
                | Op::Credentials(..)
                | Op::Retry(..)
                | Op::Timeouts(..)
                | Op::AppName(_)
                | Op::CaBundle(_)
                | Op::Concurrency(_)
        );
        match op {
            Op::Region(t) => {
                let c = t.c();
                storetasks_config_set_region(cfg, ptr(&c));
            }
            Op::Endpoint(t) => {
                // Only loopback endpoints: the fuzzer may not reach any other address.
                if let Some(mut c) = t.c() {
                    let mut v = b"http://127.0.0.1:9/".to_vec();
                    v.append(&mut c);
                    storetasks_config_set_endpoint_url(cfg, v.as_ptr().cast());
                }
            }
            Op::Profile(t) => {
                let c = t.c();
                storetasks_config_set_profile(cfg, ptr(&c));
            }
            Op::Credentials(a, b, s) => {
                let (a, b, s) = (a.c(), b.c(), s.c());
                storetasks_config_set_credentials(cfg, ptr(&a), ptr(&b), ptr(&s));
            }
            Op::Retry(m, n) => {
                storetasks_config_set_retry(cfg, *m, (*n).min(2));
            }
            Op::Timeouts(a, b, c) => {
                storetasks_config_set_timeouts(cfg, (*a).min(300), (*b).min(300), (*c).min(600));
            }
            Op::AppName(t) => {
                let c = t.c();
                storetasks_config_set_app_name(cfg, ptr(&c));
            }
            Op::CaBundle(t) => {
                let c = t.c();
                storetasks_config_set_ca_bundle(cfg, ptr(&c));
            }
            Op::Concurrency(n) => {
                storetasks_config_set_max_concurrency(cfg, *n % 64);
            }
            Op::ImageId(t) => {
                let c = t.c();
                storetasks_query_add_image_id(q, ptr(&c));
            }
            Op::Filter(name, values, null_values) => {
                let n = name.c();
                let vs: Vec<Option<Vec<u8>>> = values.iter().take(50).map(Text::c).collect();
                let ps: Vec<*const c_char> = vs.iter().map(ptr).collect();
                let vp = if *null_values { null() } else { ps.as_ptr() };
                storetasks_query_add_filter(q, ptr(&n), vp, ps.len());
            }
            Op::MaxResults(n) => {
                storetasks_query_set_max_results(q, *n);
            }
            Op::NextToken(t) => {
                let c = t.c();
                storetasks_query_set_next_token(q, ptr(&c));
            }
            Op::DryRun(b) => {
                storetasks_query_set_dry_run(q, *b);
            }
            Op::StatusName(n) => {
                let _ = storetasks_status_name(*n);
            }
            Op::Describe { all, max_tasks, cancelled } => {
                let mut err = null_mut();
                let Some(client) = client_for(cfg, configured, &mut err) else { continue };
                let cancel = storetasks_cancel_new();
                if *cancelled {
                    storetasks_cancel_trigger(cancel);
                }
                let mut list = null_mut();
                let mut err = null_mut();
                let st = if *all {
                    storetasks_client_describe_all(client, q, *max_tasks as usize, cancel, &mut list, &mut err)
                } else if *max_tasks % 2 == 0 {
                    storetasks_client_describe(client, q, cancel, &mut list, &mut err)
                } else {
                    storetasks_client_describe_pages(client, q, 0, cancel, Some(stop_at_once), null_mut(), &mut err)
                };
                read_outcome(st, list, err);
                storetasks_cancel_free(cancel);
                done_with(client, configured);
            }
            Op::Wait { ids, null_ids, delays, grace } => {
                let Some(client) = client_for(cfg, configured, null_mut()) else { continue };
                let opts = storetasks_wait_options_new();
                storetasks_wait_options_set_delays(opts, delays.0 % 5, delays.1 % 5);
                storetasks_wait_options_set_not_found_grace(opts, *grace % 5);
                // Short: a wait on a closed port polls until its deadline, and every input pays for it.
                storetasks_wait_options_set_timeout(opts, 5);
                let vs: Vec<Option<Vec<u8>>> = ids.iter().take(30).map(Text::c).collect();
                let ps: Vec<*const c_char> = vs.iter().map(ptr).collect();
                let idp = if *null_ids { null() } else { ps.as_ptr() };
                finish_wait(client, configured, opts, |out, err| {
                    storetasks_client_wait(client, idp, ps.len(), opts, null(), out, err)
                });
            }
            Op::FleetRegion(t) => {
                let c = t.c();
                storetasks_fleet_add_region(fleet, ptr(&c));
                read_text(storetasks_fleet_last_error(fleet));
            }
            Op::FleetRole(t) => {
                let c = t.c();
                storetasks_fleet_add_role_arn(fleet, ptr(&c));
                read_text(storetasks_fleet_last_error(fleet));
            }
            Op::FleetAllRegions(b) => {
                storetasks_fleet_set_all_regions(fleet, *b);
            }
            Op::DescribeFleet { pages, keep_result, cancelled } => {
                let Some(client) = client_for(cfg, configured, null_mut()) else { continue };
                let cancel = storetasks_cancel_new();
                if *cancelled {
                    storetasks_cancel_trigger(cancel);
                }
                let mut result: *mut storetasks_fleet_result = null_mut();
                let out: *mut *mut storetasks_fleet_result = if *keep_result || !*pages { &mut result } else { null_mut() };
                let mut err = null_mut();
                let st = if *pages {
                    storetasks_client_describe_fleet_pages(client, fleet, q, cancel, Some(stop_fleet_at_once), null_mut(), out, &mut err)
                } else {
                    storetasks_client_describe_fleet(client, fleet, q, cancel, out, &mut err)
                };
                if st == storetasks_status::Ok {
                    if !result.is_null() {
                        read_fleet(result)
                    }
                } else {
                    read_error(err)
                }
                storetasks_cancel_free(cancel);
                done_with(client, configured);
            }
            Op::WaitTargets { targets, null_targets } => {
                let Some(client) = client_for(cfg, configured, null_mut()) else { continue };
                let opts = storetasks_wait_options_new();
                storetasks_wait_options_set_delays(opts, 1, 2);
                storetasks_wait_options_set_timeout(opts, 5);
                let texts: Vec<[Option<Vec<u8>>; 3]> = targets.iter().take(30).map(|(r, a, i)| [r.c(), a.c(), i.c()]).collect();
                let raw: Vec<storetasks_wait_target> = texts
                    .iter()
                    .map(|[r, a, i]| storetasks_wait_target { region: ptr(r), role_arn: ptr(a), image_id: ptr(i) })
                    .collect();
                let tp = if *null_targets { null() } else { raw.as_ptr() };
                finish_wait(client, configured, opts, |out, err| {
                    storetasks_client_wait_targets(client, tp, raw.len(), opts, null(), out, err)
                });
            }
            Op::Start { kind, max_tasks, callback } => {
                if started.len() >= 8 {
                    continue;
                }
                let Some(client) = client_for(cfg, configured, null_mut()) else { continue };
                let cb: storetasks_call_callback = if *callback { Some(on_news) } else { None };
                let mut call = null_mut();
                let mut err = null_mut();
                let max = *max_tasks as usize;
                let ids = [b"ami-00000000000000001\0".as_ptr().cast::<c_char>()];
                let st = match kind % 6 {
                    0 => storetasks_client_describe_start(client, q, cb, null_mut(), &mut call, &mut err),
                    1 => storetasks_client_describe_all_start(client, q, max, cb, null_mut(), &mut call, &mut err),
                    2 => storetasks_client_describe_pages_start(client, q, max, cb, null_mut(), &mut call, &mut err),
                    3 => storetasks_client_wait_start(client, ids.as_ptr(), max % 2, null(), cb, null_mut(), &mut call, &mut err),
                    4 => storetasks_client_describe_fleet_start(client, fleet, q, cb, null_mut(), &mut call, &mut err),
                    _ => storetasks_client_describe_fleet_pages_start(client, fleet, q, cb, null_mut(), &mut call, &mut err),
                };
                if st == storetasks_status::Ok {
                    started.push(Started { call, client, configured });
                } else {
                    assert!(call.is_null(), "a refused start wrote its call");
                    read_error(err);
                    done_with(client, configured);
                }
            }
            Op::Take { which, form, null_out } => {
                if let Some(s) = started.get(*which as usize % started.len().max(1)) {
                    take(s, *form, *null_out);
                }
            }
            Op::Peek(which) => {
                if let Some(s) = started.get(*which as usize % started.len().max(1)) {
                    let _ = storetasks_call_fd(s.call);
                    let _ = storetasks_call_finished(s.call);
                }
            }
            Op::CancelCall(which) => {
                if let Some(s) = started.get(*which as usize % started.len().max(1)) {
                    storetasks_call_cancel(s.call);
                }
            }
            Op::FreeCall(which) => {
                if !started.is_empty() {
                    started.swap_remove(*which as usize % started.len()).free();
                }
            }
            Op::Pause(ms) => std::thread::sleep(std::time::Duration::from_millis(u64::from(*ms % 20))),
            Op::NullCalls => {
                storetasks_call_free(null_mut());
                storetasks_call_cancel(null());
                let _ = storetasks_call_take_list(null_mut(), null_mut(), null_mut());
                let _ = storetasks_client_describe_start(null(), null(), None, null_mut(), null_mut(), null_mut());
                let _ = storetasks_fleet_result_len(null());
                let _ = storetasks_fleet_add_region(null_mut(), null());
                let _ = storetasks_client_describe_fleet(null(), null(), null(), null(), null_mut(), null_mut());
                let _ = storetasks_client_describe(null(), null(), null(), null_mut(), null_mut());
                let _ = storetasks_client_new(null(), null_mut(), null_mut());
                let _ = storetasks_task_list_len(null());
                let _ = storetasks_error_message(null());
                let _ = storetasks_query_add_image_id(null_mut(), null());
                let _ = storetasks_config_set_region(null_mut(), null());
            }
        }
    }
    // What is still running is freed while it runs, or after it ended.
    for s in started {
        s.free();
    }
    storetasks_fleet_free(fleet);
    storetasks_query_free(q);
    storetasks_config_free(cfg);
});
