//! The waiter against the emulator's moving clock (`--progress-rate`).

use std::time::{Duration, Instant};

use crate::emulator::{Emulator, SECRET_KEY};
use crate::ffi::{Cancel, Config, Failure, LogCapture, Wait};
use storetasks::ffi::error::storetasks_status as S;
use storetasks::ffi::log::storetasks_log_level;

const NOW: &str = "2026-11-20T12:00:00Z";

/// Tasks that start now at 0%; `fail_at` marks some to fail at that percentage.
fn moving_tasks(specs: &[(&str, Option<u32>)]) -> String {
    let tasks: Vec<serde_json::Value> = specs
        .iter()
        .enumerate()
        .map(|(i, (id, fail_at))| {
            let mut t = serde_json::json!({
                "AmiId": id,
                "TaskStartTime": format!("2026-11-20T11:59:{:02}.000Z", 50 - i),
                "Bucket": "wait-bucket",
                "S3objectKey": format!("{id}.bin"),
                "ProgressPercentage": 0,
                "StoreTaskState": "InProgress",
            });
            if let Some(p) = fail_at {
                t["EmulatorFailAt"] = (*p).into();
                t["StoreTaskFailureReason"] = "the bucket's KMS key is disabled".into();
            }
            t
        })
        .collect();
    serde_json::json!({ "StoreImageTaskResults": tasks }).to_string()
}

fn start(specs: &[(&str, Option<u32>)], rate: &str) -> Emulator {
    Emulator::with_tasks(&moving_tasks(specs), &["--now", NOW, "--progress-rate", rate])
}

/// A wait on `ids` with `w` against `emu` that must fail: its failure and how long it took.
fn failed_wait(emu: &Emulator, ids: &[&str], w: &Wait) -> (Failure, Duration) {
    let client = Config::for_endpoint(&emu.endpoint()).client();
    let started = Instant::now();
    let e = client.wait(ids, w, None, &mut Vec::new()).unwrap_err();
    (e, started.elapsed())
}

#[test]
fn waits_until_every_task_completes_with_rising_progress() {
    let emu = start(&[("ami-0000000000000000a", None), ("ami-0000000000000000b", None)], "60");
    let client = Config::for_endpoint(&emu.endpoint()).client();
    let mut seen = Vec::new();
    let done = client.wait(&["ami-0000000000000000b", "ami-0000000000000000a"], &Wait::default(), None, &mut seen).unwrap();
    assert_eq!(done.len(), 2);
    assert_eq!(done[0].ami_id.as_deref(), Some("ami-0000000000000000b"), "in the order asked for");
    assert!(done.iter().all(|t| t.state.as_str() == Some("Completed") && t.progress_percentage == Some(100)));
    assert!(seen.len() >= 3, "several polls: {}", seen.len());
    let progress: Vec<i32> = seen.iter().map(|p| p[0].progress_percentage.unwrap()).collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {progress:?}");
    assert!(progress.first() < progress.last(), "progress rose: {progress:?}");
}

#[test]
fn a_failed_task_ends_the_wait_with_its_ami_and_reason() {
    let emu = start(&[("ami-0000000000000000c", None), ("ami-0000000000000000d", Some(30))], "60");
    let (e, _) = failed_wait(&emu, &["ami-0000000000000000c", "ami-0000000000000000d"], &Wait::default());
    assert_eq!(e.status, S::TaskFailed);
    assert!(e.message.contains("ami-0000000000000000d") && e.message.contains("KMS key"), "{}", e.message);
    let err_ami = e.message.split(' ').next().unwrap();
    assert_eq!(err_ami, "ami-0000000000000000d");
}

#[test]
fn the_error_object_names_the_failed_ami() {
    use std::ffi::CString;
    use storetasks::ffi::error::*;
    use storetasks::ffi::waiter::*;
    let emu = start(&[("ami-0000000000000000e", Some(10))], "100");
    let client = Config::for_endpoint(&emu.endpoint()).client();
    let id = CString::new("ami-0000000000000000e").unwrap();
    let ids = [id.as_ptr()];
    let opts = storetasks_wait_options_new();
    storetasks_wait_options_set_delays(opts, 100, 200);
    let mut err = std::ptr::null_mut();
    let st = storetasks_client_wait(client.0, ids.as_ptr(), 1, opts, std::ptr::null(), std::ptr::null_mut(), &mut err);
    assert_eq!(st, S::TaskFailed);
    let s = |p| crate::ffi::opt_string(p);
    assert_eq!(s(storetasks_error_ami_id(err)).as_deref(), Some("ami-0000000000000000e"));
    assert_eq!(s(storetasks_error_failure_reason(err)).as_deref(), Some("the bucket's KMS key is disabled"));
    storetasks_error_free(err);
    storetasks_wait_options_free(opts);
}

#[test]
fn a_short_deadline_times_out_with_the_last_states() {
    let emu = start(&[("ami-0000000000000000f", None)], "1");
    let w = Wait { timeout_ms: 800, ..Wait::default() };
    let (e, took) = failed_wait(&emu, &["ami-0000000000000000f"], &w);
    assert_eq!(e.status, S::WaitTimeout);
    assert!(e.message.contains("ami-0000000000000000f: InProgress"), "{}", e.message);
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

#[test]
fn an_unknown_ami_is_reported_after_the_grace_period() {
    let emu = start(&[("ami-00000000000000010", None)], "1");
    let w = Wait { grace_ms: 600, ..Wait::default() };
    let (e, took) = failed_wait(&emu, &["ami-00000000000000010", "ami-0ffffffffffffffff"], &w);
    assert_eq!(e.status, S::NotFound);
    assert!(e.message.starts_with("ami-0ffffffffffffffff"), "{}", e.message);
    assert!(took >= Duration::from_millis(600) && took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn cancelling_a_wait_from_another_thread_returns_within_a_second() {
    let emu = start(&[("ami-00000000000000011", None)], "0.1");
    let client = Config::for_endpoint(&emu.endpoint()).client();
    let (cancel, t) = Cancel::after_ms(700);
    let w = Wait { min_ms: 5_000, max_ms: 10_000, ..Wait::default() };
    let e = client.wait(&["ami-00000000000000011"], &w, Some(&cancel), &mut Vec::new()).unwrap_err();
    let returned = Instant::now();
    assert_eq!(e.status, S::Cancelled);
    assert!(returned.duration_since(t.join().unwrap()) < Duration::from_secs(1));
}

#[test]
fn throttling_during_a_wait_is_survived() {
    // 20 points a second: five seconds of polls, so every fault below is met before the end.
    let emu = start(&[("ami-00000000000000012", None)], "20");
    let cfg = Config::for_endpoint(&emu.endpoint());
    cfg.retry(storetasks::ffi::config::storetasks_retry_mode::Standard, 2);
    let client = cfg.client();
    emu.faults(&["throttle,at=2,count=4", "internal,at=7", "drop,at=8"]);
    let done = client.wait(&["ami-00000000000000012"], &Wait::default(), None, &mut Vec::new()).unwrap();
    assert_eq!(done[0].state.as_str(), Some("Completed"));
    // Every fault was met and survived: 4 throttles, one 500, one dropped connection.
    assert_eq!(emu.faults_fired(), 6, "the faults fired during the wait");
    assert!(emu.requests() >= 9, "at least the faulted requests and the ones that followed them");
}

#[test]
fn permanent_errors_end_the_wait_at_once() {
    let emu = start(&[("ami-00000000000000013", None)], "1");
    let cfg = Config::for_endpoint(&emu.endpoint());
    cfg.credentials(crate::emulator::DENIED_KEY, SECRET_KEY);
    let started = Instant::now();
    let e = cfg.client().wait(&["ami-00000000000000013"], &Wait::default(), None, &mut Vec::new()).unwrap_err();
    assert_eq!(e.status, S::Unauthorized);
    assert!(started.elapsed() < Duration::from_secs(2));
    let client = Config::for_endpoint(&emu.endpoint()).client();
    assert_eq!(client.wait(&[], &Wait::default(), None, &mut Vec::new()).unwrap_err().status, S::InvalidArgument);
    assert_eq!(client.wait(&[""], &Wait::default(), None, &mut Vec::new()).unwrap_err().status, S::InvalidArgument);
}

#[test]
fn log_callback_sees_events_and_never_a_secret() {
    let capture = LogCapture::start(storetasks_log_level::Trace);
    let emu = start(&[("ami-00000000000000014", None)], "80");
    let client = Config::for_endpoint(&emu.endpoint()).client();
    client.wait(&["ami-00000000000000014"], &Wait::default(), None, &mut Vec::new()).unwrap();
    emu.faults(&["throttle,count=9"]);
    let _ = client.describe(&crate::ffi::Query::new(), None);
    let lines = capture.lines();
    drop(capture);
    assert!(lines.iter().any(|(_, t, m)| t.starts_with("storetasks") && m.contains("DescribeStoreImageTasks page received")));
    assert!(
        lines.iter().any(|(l, t, _)| *l == storetasks_log_level::Trace as i32 && t.starts_with("aws")),
        "SDK trace events arrive too"
    );
    for (_, _, m) in &lines {
        assert!(!m.contains(SECRET_KEY), "a secret in a log line: {m}");
    }
    eprintln!("{} log lines captured", lines.len());
}
