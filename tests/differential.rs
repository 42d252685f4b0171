//! The library reads successful replies with its own reader; every client of the API tests also
//! has the SDK read each of them and compares (see `Config::for_endpoint`). This test makes sure
//! the comparison runs on every kind of reply the emulator sends: XML-special and non-ASCII text,
//! absent members, generated sets, empty lists, filtered and batched answers, one-task pages, and
//! every fault that changes a body. It is a test program of its own, so that the process-wide
//! count of comparisons is its own replies' alone.

#[allow(dead_code)]
#[path = "api/emulator.rs"]
mod emulator;
#[allow(dead_code)]
#[path = "api/ffi.rs"]
mod ffi;

use emulator::Emulator;
use ffi::{Config, Query};
use storetasks::describe_store_image_tasks::sdk_hook::check::{comparisons, disagreements};
use storetasks::ffi::config::storetasks_retry_mode as Retry;

const NOW: &str = "2026-11-20T12:00:00Z";

#[test]
fn the_reader_and_the_sdk_agree_on_every_kind_of_reply() {
    let before = comparisons();
    let emu = Emulator::start(&["--generate", "300", "--seed", "5", "--now", NOW]);
    let client = Config::for_endpoint(&emu.endpoint()).retry(Retry::Standard, 1).client();
    let mut requests = 0;
    let expected = client.all(&Query::new().max_results(200), 0, None).unwrap().tasks();
    requests += 2;
    assert_eq!(expected.len(), 300);
    assert!(
        expected.iter().any(|t| t.s3_object_key.is_none()) && expected.iter().any(|t| t.progress_percentage.is_none()),
        "absent members"
    );
    for page in [1, 7] {
        assert_eq!(client.all(&Query::new().max_results(page), 0, None).unwrap().tasks(), expected);
        requests += 300usize.div_ceil(page as usize);
    }
    let failed = client.all(&Query::new().filter("task-state", &["Failed"]).max_results(200), 0, None).unwrap().tasks();
    requests += 1;
    assert!(failed.iter().any(|t| t.failure_reason.as_deref().is_some_and(|r| r.contains('&') && r.contains('<'))));
    assert!(failed.iter().any(|t| t.failure_reason.as_deref().is_some_and(|r| !r.is_ascii())));
    assert!(client.all(&Query::new().filter("bucket", &["no-such-bucket"]), 0, None).unwrap().tasks().is_empty());
    requests += 1;
    let some: Vec<String> = expected[..45].iter().map(|t| t.ami_id.clone().unwrap()).collect();
    assert_eq!(client.all(&Query::new().ids(&some), 0, None).unwrap().tasks().len(), 45);
    requests += 3;
    for fault in ["truncate", "malformed", "garbage", "wrongroot", "empty-pages,count=2", "repeat-token", "ignore-max-results"] {
        emu.faults(&[fault]);
        let _ = client.all(&Query::new().max_results(50), 0, None);
        requests += 1;
        emu.clear_faults();
    }
    let empty = Emulator::start(&["--now", NOW]);
    assert!(Config::for_endpoint(&empty.endpoint()).client().all(&Query::new(), 0, None).unwrap().tasks().is_empty());
    requests += 1;
    let compared = comparisons() - before;
    assert!(compared >= requests as u64, "{compared} replies compared, {requests} expected at least");
    assert_eq!(disagreements(), Vec::<String>::new());
}
