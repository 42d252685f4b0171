//! The C functions that need no client, driven the way a C program drives them: every handle is
//! created, used through raw pointers and freed. These tests also run under Miri (`make miri`),
//! which checks the ownership helpers, the out-pointers and the views into lists for undefined
//! behaviour; nothing here touches the network, the SDK's cryptography or a runtime.

use crate::error::ErrorKind;
use std::ffi::{CStr, c_char};
use std::ptr;

use super::cancel::*;
use super::client::*;
use super::config::*;
use super::error::*;
use super::query::*;
use super::task_list::*;
use super::waiter::*;
use super::*;
use crate::describe_store_image_tasks::task::{Task, TaskPage, TaskState};

fn text(p: *const c_char) -> Option<String> {
    // SAFETY: every pointer given here came from a live handle, which outlives the call.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned())
}

#[test]
fn a_config_keeps_the_reason_of_its_last_refused_setting() {
    let cfg = storetasks_config_new();
    assert!(!cfg.is_null());
    assert_eq!(text(storetasks_config_last_error(cfg)), None);
    assert_eq!(storetasks_config_set_region(cfg, c"eu-west-1".as_ptr()), storetasks_status::Ok);
    assert_eq!(
        storetasks_config_set_credentials(cfg, c"AKID".as_ptr(), ptr::null(), ptr::null()),
        storetasks_status::InvalidArgument
    );
    let why = text(storetasks_config_last_error(cfg)).expect("a reason");
    assert!(why.contains("secret access key"), "{why}");
    assert_eq!(storetasks_config_set_retry(cfg, 99, 3), storetasks_status::InvalidArgument);
    assert!(text(storetasks_config_last_error(cfg)).unwrap().contains("99"));
    // A setting that succeeds clears the reason.
    assert_eq!(storetasks_config_set_timeouts(cfg, 1, 2, 3), storetasks_status::Ok);
    assert_eq!(text(storetasks_config_last_error(cfg)), None);
    assert_eq!(storetasks_config_set_region(ptr::null_mut(), c"x".as_ptr()), storetasks_status::InvalidArgument);
    assert_eq!(text(storetasks_config_last_error(ptr::null())), None);
    storetasks_config_free(cfg);
    storetasks_config_free(ptr::null_mut());
}

#[test]
fn a_query_copies_ids_and_filters_and_refuses_bad_ones() {
    let q = storetasks_query_new();
    let id = String::from("ami-0123456789abcdef0\0");
    assert_eq!(storetasks_query_add_image_id(q, id.as_ptr().cast()), storetasks_status::Ok);
    drop(id); // the query holds its own copy
    assert_eq!(storetasks_query_add_image_id(q, c" ".as_ptr()), storetasks_status::InvalidArgument);
    assert!(text(storetasks_query_last_error(q)).unwrap().contains("empty"));
    let values = [c"InProgress".as_ptr(), c"Failed".as_ptr()];
    assert_eq!(storetasks_query_add_filter(q, c"task-state".as_ptr(), values.as_ptr(), 2), storetasks_status::Ok);
    assert_eq!(storetasks_query_add_filter(q, c"bucket".as_ptr(), ptr::null(), 1), storetasks_status::InvalidArgument);
    let bad = [c"ok".as_ptr(), ptr::null()];
    assert_eq!(storetasks_query_add_filter(q, c"bucket".as_ptr(), bad.as_ptr(), 2), storetasks_status::InvalidArgument);
    assert!(text(storetasks_query_last_error(q)).is_some());
    assert_eq!(storetasks_query_set_next_token(q, c"token".as_ptr()), storetasks_status::Ok);
    assert_eq!(storetasks_query_set_next_token(q, ptr::null()), storetasks_status::Ok);
    assert_eq!(storetasks_query_set_dry_run(q, true), storetasks_status::Ok);
    assert_eq!(text(storetasks_query_last_error(q)), None);
    // SAFETY: `q` is a live query that no other thread touches.
    let held = unsafe { &*q };
    assert_eq!(held.inner.image_ids, ["ami-0123456789abcdef0"]);
    assert_eq!(held.inner.filters.len(), 1);
    assert_eq!(held.inner.filters[0].values, ["InProgress", "Failed"]);
    storetasks_query_free(q);
}

#[test]
fn a_call_without_a_client_fails_cleanly_and_leaves_the_out_pointer_alone() {
    let q = storetasks_query_new();
    let mut list: *mut storetasks_task_list = ptr::null_mut();
    let mut err: *mut storetasks_error = ptr::null_mut();
    let st = storetasks_client_describe(ptr::null(), q, ptr::null(), &mut list, &mut err);
    assert_eq!(st, storetasks_status::InvalidArgument);
    assert!(list.is_null());
    assert_eq!(storetasks_error_status(err), storetasks_status::InvalidArgument);
    assert!(text(storetasks_error_message(err)).unwrap().contains("client"));
    assert_eq!(text(storetasks_error_code(err)), None);
    assert_eq!(storetasks_error_http_status(err), 0);
    storetasks_error_free(err);
    // No error object wanted: only the status.
    let st = storetasks_client_describe_all(ptr::null(), q, 0, ptr::null(), &mut list, ptr::null_mut());
    assert_eq!(st, storetasks_status::InvalidArgument);
    storetasks_query_free(q);
}

#[test]
fn an_error_object_carries_every_field() {
    let mut e = Error::new(ErrorKind::TaskFailed, "the task failed");
    e.code = Some("X".into());
    e.http_status = Some(412);
    e.request_id = Some("req-1".into());
    e.ami_id = Some("ami-1".into());
    e.failure_reason = Some("disk\0full".into());
    let obj = into_raw(storetasks_error::from_error(&e));
    assert_eq!(storetasks_error_status(obj), storetasks_status::TaskFailed);
    assert_eq!(text(storetasks_error_message(obj)).as_deref(), Some("the task failed"));
    assert_eq!(text(storetasks_error_code(obj)).as_deref(), Some("X"));
    assert_eq!(storetasks_error_http_status(obj), 412);
    assert_eq!(text(storetasks_error_request_id(obj)).as_deref(), Some("req-1"));
    assert_eq!(text(storetasks_error_ami_id(obj)).as_deref(), Some("ami-1"));
    assert_eq!(text(storetasks_error_failure_reason(obj)).as_deref(), Some("disk\u{fffd}full"));
    storetasks_error_free(obj);
    assert_eq!(text(storetasks_error_message(ptr::null())), None);
    assert_eq!(text(storetasks_status_name(storetasks_status::Panic as i32)).as_deref(), Some("STORETASKS_STATUS_PANIC"));
    assert_eq!(text(storetasks_status_name(-1)).as_deref(), Some("STORETASKS_STATUS_UNKNOWN"));
}

#[test]
fn a_cancel_token_is_triggered_once_and_for_all() {
    let c = storetasks_cancel_new();
    assert!(!storetasks_cancel_is_triggered(c));
    storetasks_cancel_trigger(c);
    storetasks_cancel_trigger(c);
    assert!(storetasks_cancel_is_triggered(c));
    storetasks_cancel_trigger(ptr::null());
    assert!(!storetasks_cancel_is_triggered(ptr::null()));
    storetasks_cancel_free(c);
}

#[test]
fn wait_options_refuse_impossible_delays() {
    let o = storetasks_wait_options_new();
    assert_eq!(storetasks_wait_options_set_delays(o, 0, 10), storetasks_status::InvalidArgument);
    assert!(text(storetasks_wait_options_last_error(o)).unwrap().contains("min_delay_ms"));
    assert_eq!(storetasks_wait_options_set_delays(o, 20, 10), storetasks_status::InvalidArgument);
    assert_eq!(storetasks_wait_options_set_delays(o, 10, 20), storetasks_status::Ok);
    assert_eq!(storetasks_wait_options_set_timeout(o, 0), storetasks_status::Ok);
    assert_eq!(storetasks_wait_options_set_not_found_grace(o, 5), storetasks_status::Ok);
    assert_eq!(text(storetasks_wait_options_last_error(o)), None);
    storetasks_wait_options_free(o);
}

#[test]
fn a_list_outlives_nothing_it_hands_out() {
    let tasks = (0..3)
        .map(|i| Task {
            ami_id: Some(format!("ami-{i}")),
            task_start_time_ms: Some(1_700_000_000_000 - i),
            bucket: Some("b".into()),
            s3_object_key: Some(format!("ami-{i}.bin")),
            progress_percentage: Some(50),
            state: TaskState::InProgress,
            failure_reason: None,
        })
        .collect::<Vec<_>>();
    let page = TaskPage { tasks: tasks.into(), next_token: Some("next".into()), request_id: Some("r".into()), truncated: false };
    let list = into_raw(storetasks_task_list::from_page(page));
    assert_eq!(storetasks_task_list_len(list), 3);
    let first = storetasks_task_list_tasks(list);
    for i in 0..3 {
        // SAFETY: `first` points at `len` views that live as long as the list, and i < len.
        let t = unsafe { &*first.add(i) };
        assert!(ptr::eq(t, storetasks_task_list_get(list, i)));
        assert_eq!(text(t.ami_id), Some(format!("ami-{i}")));
        assert_eq!(text(t.s3_object_key), Some(format!("ami-{i}.bin")));
    }
    assert_eq!(text(storetasks_task_list_next_token(list)).as_deref(), Some("next"));
    assert_eq!(text(storetasks_task_list_request_id(list)).as_deref(), Some("r"));
    assert!(!storetasks_task_list_truncated(list));
    let mut json: *mut c_char = ptr::null_mut();
    assert_eq!(storetasks_task_list_to_json(list, &mut json, ptr::null_mut()), storetasks_status::Ok);
    let doc = text(json).unwrap();
    assert!(doc.contains("\"AmiId\": \"ami-2\"") && doc.contains("\"NextToken\": \"next\""), "{doc}");
    storetasks_string_free(json);
    assert_eq!(storetasks_task_list_to_json(list, ptr::null_mut(), ptr::null_mut()), storetasks_status::InvalidArgument);
    storetasks_task_list_free(list);
    assert_eq!(storetasks_task_list_len(ptr::null()), 0);
}
