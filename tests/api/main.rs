//! Integration tests of the C API against the project's EC2 emulator over real HTTP.

mod emulator;
mod faults;
mod ffi;
mod fleet;
mod wait;

use std::sync::Arc;
use std::time::{Duration, Instant};

use emulator::{DENIED_KEY, Emulator, SECRET_KEY};
use ffi::{Cancel, Client, Config, Query, T};
use storetasks::ffi::config::storetasks_retry_mode as Retry;
use storetasks::ffi::error::storetasks_status as S;

/// The emulator's clock in these tests: 2026-11-20T12:00:00Z.
pub const NOW: &str = "2026-11-20T12:00:00Z";
pub const NOW_MS: i64 = 1_795_176_000_000;
const BUCKETS: [&str; 3] = ["bucket-alpha", "bucket-beta", "bucket-gamma"];

/// `n` visible tasks, newest first, plus a few older than 31 days that EC2 would not show.
/// Every seventh task lacks its optional members; failed ones carry awkward reasons.
pub fn fixture(n: usize) -> (String, Vec<T>) {
    let mut visible = Vec::new();
    let mut json_tasks = Vec::new();
    for i in 0..n + 3 {
        let hidden = i >= n;
        let start = if hidden { NOW_MS - 32 * 86_400_000 - i as i64 * 1000 } else { NOW_MS - 1000 - i as i64 * 37_013 };
        let state = ["Completed", "InProgress", "Failed"][i % 3];
        let sparse = i % 7 == 6;
        let t = T {
            ami_id: Some(format!("ami-{:017x}", 0xabc000 + i)),
            task_start_time_ms: Some(start),
            bucket: Some(BUCKETS[i % BUCKETS.len()].to_owned()),
            s3_object_key: (!sparse).then(|| format!("ami-{:017x}.bin", 0xabc000 + i)),
            progress_percentage: (!sparse).then_some(match state {
                "Completed" => 100,
                "InProgress" => (i % 100) as i32,
                _ => 40,
            }),
            state: storetasks::TaskState::parse(Some(state)),
            failure_reason: (state == "Failed").then(|| format!("copy #{i} failed: <bucket> & \"quota\" — 日本 é")),
        };
        let mut j = serde_json::json!({
            "AmiId": t.ami_id,
            "TaskStartTime": storetasks::describe_store_image_tasks::task::format_time_ms(start),
            "Bucket": t.bucket,
            "StoreTaskState": t.state.as_str(),
        });
        if let Some(k) = &t.s3_object_key {
            j["S3objectKey"] = k.clone().into();
        }
        if let Some(p) = t.progress_percentage {
            j["ProgressPercentage"] = p.into();
        }
        if let Some(r) = &t.failure_reason {
            j["StoreTaskFailureReason"] = r.clone().into();
        }
        json_tasks.push(j);
        if !hidden {
            visible.push(t);
        }
    }
    // Hand them over shuffled, so the emulator's ordering is what is tested.
    json_tasks.reverse();
    json_tasks.swap(0, n / 2);
    let doc = serde_json::json!({ "StoreImageTaskResults": json_tasks }).to_string();
    (doc, visible)
}

fn emulator_with(n: usize, extra: &[&str]) -> (Emulator, Vec<T>) {
    let (doc, expected) = fixture(n);
    let mut args = vec!["--now", NOW];
    args.extend_from_slice(extra);
    (Emulator::with_tasks(&doc, &args), expected)
}

fn ids(tasks: &[T]) -> Vec<String> {
    tasks.iter().map(|t| t.ami_id.clone().unwrap()).collect()
}

#[test]
fn listing_returns_every_task_once_in_order_for_many_page_sizes() {
    let (emu, expected) = emulator_with(523, &[]);
    let client = Config::for_endpoint(&emu.endpoint()).client();
    for page in [1, 7, 100, 199, 200] {
        let before = emu.requests();
        let list = client.all(&Query::new().max_results(page), 0, None).unwrap();
        assert_eq!(list.tasks(), expected, "page size {page}");
        assert_eq!(list.next_token(), None);
        let rid = ffi::opt_string(storetasks::ffi::task_list::storetasks_task_list_request_id(list.0));
        assert!(rid.is_some_and(|r| r.len() >= 16), "a successful listing carries the request id");
        let pages = 523usize.div_ceil(page as usize) as u64;
        assert_eq!(emu.requests() - before, pages, "page size {page}: one request per page");
    }
    // No page size: the service's default.
    assert_eq!(client.all(&Query::new(), 0, None).unwrap().tasks(), expected);
}

#[test]
fn one_page_at_a_time_with_next_token() {
    let (emu, expected) = emulator_with(95, &[]);
    let client = Config::for_endpoint(&emu.endpoint()).client();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut q = Query::new().max_results(20);
        if let Some(t) = &token {
            q = q.token(t);
        }
        let page = client.describe(&q, None).unwrap();
        let tasks = page.tasks();
        assert!(tasks.len() <= 20);
        seen.extend(tasks);
        token = page.next_token();
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, expected);
}

#[test]
fn page_callback_sees_each_page_and_can_stop() {
    let (emu, expected) = emulator_with(250, &[]);
    let client = Config::for_endpoint(&emu.endpoint()).client();
    let q = Query::new().max_results(30);
    let (pages, r) = client.pages(&q, 0, |_| true);
    r.unwrap();
    assert_eq!(pages.len(), 9);
    assert!(pages.iter().all(|p| p.len() <= 30));
    assert_eq!(pages.concat(), expected);

    let before = emu.requests();
    let (pages, r) = client.pages(&q, 0, |_| false);
    r.unwrap();
    assert_eq!(pages.len(), 1, "returning false stops the listing");
    assert_eq!(emu.requests() - before, 1);

    // A cap shrinks the last page so nothing is fetched past it.
    let (pages, r) = client.pages(&q, 45, |_| true);
    r.unwrap();
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![30, 15]);
}

#[test]
fn a_capped_listing_resumes_exactly_where_it_stopped() {
    let (emu, expected) = emulator_with(120, &[]);
    let client = Config::for_endpoint(&emu.endpoint()).client();
    let first = client.all(&Query::new().max_results(50), 73, None).unwrap();
    assert_eq!(first.tasks(), expected[..73]);
    let token = first.next_token().expect("a capped listing carries a token");
    let rest = client.all(&Query::new().max_results(50).token(&token), 0, None).unwrap();
    assert_eq!(rest.tasks(), expected[73..]);
}

#[test]
fn a_cap_that_no_token_can_resume_marks_the_list_truncated() {
    let (emu, expected) = emulator_with(120, &[]);
    let client = Config::for_endpoint(&emu.endpoint()).client();
    // 30 image ids are answered in two replies without tokens: a cap of 10 cuts 20 tasks out.
    let thirty: Vec<T> = expected.iter().step_by(4).take(30).cloned().collect();
    assert_eq!(thirty.len(), 30);
    let list = client.all(&Query::new().ids(&ids(&thirty)), 10, None).unwrap();
    assert_eq!(list.tasks(), thirty[..10], "the ten newest of the thirty");
    assert!(list.truncated(), "the list says it was cut");
    assert_eq!(list.next_token(), None, "no token pretends to resume it");
    // The same ids without a cap, or with a cap they fit in, are complete.
    let whole = client.all(&Query::new().ids(&ids(&thirty)), 0, None).unwrap();
    assert_eq!((whole.tasks(), whole.truncated()), (thirty.clone(), false));
    let fits = client.all(&Query::new().ids(&ids(&thirty)), 30, None).unwrap();
    assert_eq!((fits.tasks().len(), fits.truncated()), (30, false));
    // Page by page, the page that passes the cap is cut and marked too.
    let mut marks = Vec::new();
    let (pages, r) = client.pages_marked(&Query::new().ids(&ids(&thirty)), 10, &mut marks);
    r.unwrap();
    assert_eq!((pages.concat(), marks), (thirty[..10].to_vec(), vec![true]));

    // A server that ignores MaxResults sends 100 tasks where 10 were asked for.
    emu.faults(&["ignore-max-results"]);
    let list = client.all(&Query::new(), 10, None).unwrap();
    assert_eq!(list.tasks(), expected[..10]);
    assert!(list.truncated());
    assert_eq!(list.next_token(), None);
    // A capped listing that the server pages as asked is not truncated and resumes exactly.
    let list = client.all(&Query::new(), 10, None).unwrap();
    assert_eq!((list.tasks(), list.truncated()), (expected[..10].to_vec(), false));
    let rest = client.all(&Query::new().token(&list.next_token().unwrap()), 0, None).unwrap();
    assert_eq!(rest.tasks(), expected[10..]);
}

#[test]
fn filters_reach_the_wire() {
    let (emu, expected) = emulator_with(200, &[]);
    let client = Config::for_endpoint(&emu.endpoint()).client();
    let pick = |f: &dyn Fn(&T) -> bool| expected.iter().filter(|t| f(t)).cloned().collect::<Vec<_>>();

    let failed = client.all(&Query::new().filter("task-state", &["Failed"]).max_results(40), 0, None).unwrap();
    assert_eq!(failed.tasks(), pick(&|t| t.state.as_str() == Some("Failed")));

    let either = Query::new().filter("bucket", &["bucket-alpha", "bucket-gamma"]);
    let got = client.all(&either, 0, None).unwrap();
    assert_eq!(got.tasks(), pick(&|t| t.bucket.as_deref() != Some("bucket-beta")), "values are OR'd");

    let both = Query::new().filter("bucket", &["bucket-beta"]).filter("task-state", &["InProgress", "Completed"]);
    let got = client.all(&both, 0, None).unwrap();
    let want = pick(&|t| t.bucket.as_deref() == Some("bucket-beta") && t.state.as_str() != Some("Failed"));
    assert!(!want.is_empty());
    assert_eq!(got.tasks(), want, "filters are AND'd");

    // Names other than EC2's are sent as they are, for the service to judge.
    let e = client.all(&Query::new().filter("colour", &["blue"]), 0, None).unwrap_err();
    assert_eq!(e.status, S::Service);
    assert_eq!(e.code.as_deref(), Some("InvalidParameterValue"));
    assert_eq!(e.http_status, 400);
    assert!(e.request_id.is_some(), "the request id reaches the error object");
}

#[test]
fn image_ids_beyond_twenty_are_batched_and_merged() {
    let (emu, expected) = emulator_with(300, &[]);
    let client = Config::for_endpoint(&emu.endpoint()).client();
    // Every fifth task, listed oldest first, plus one that has no task and one repeat.
    let mut wanted: Vec<T> = expected.iter().step_by(5).cloned().collect();
    let mut id_list = ids(&wanted);
    id_list.reverse();
    id_list.push("ami-00000000000000000".into());
    id_list.push(id_list[0].clone());
    assert_eq!(id_list.len(), 62);

    let before = emu.requests();
    let list = client.describe(&Query::new().ids(&id_list), None).unwrap();
    assert_eq!(emu.requests() - before, 4, "61 distinct ids go out as 20 + 20 + 20 + 1");
    wanted.sort_by_key(|t| std::cmp::Reverse(t.task_start_time_ms));
    assert_eq!(list.tasks(), wanted, "merged newest first, each task once");
    assert_eq!(list.next_token(), None);

    // Filters travel along but EC2 ignores them when ids are given.
    let list = client.all(&Query::new().ids(&id_list[..3]).filter("task-state", &["Failed"]), 0, None).unwrap();
    assert_eq!(list.tasks().len(), 3);
}

/// The batches of a long id list go out `max_concurrency` at a time, as the emulator sees them.
#[test]
fn id_batches_run_at_most_max_concurrency_at_once() {
    let (emu, expected) = emulator_with(300, &["--fault", "delay,ms=300,count=100000"]);
    let id_list = ids(&expected[..200]);
    // None: the default, eight.
    for (n, most) in [(Some(1), 1), (Some(3), 3), (None, 8)] {
        let cfg = Config::for_endpoint(&emu.endpoint());
        if let Some(n) = n {
            cfg.max_concurrency(n);
        }
        emu.reset_max_in_flight();
        let list = cfg.client().describe(&Query::new().ids(&id_list), None).unwrap();
        assert_eq!(list.tasks().len(), 200);
        assert_eq!(emu.stats()["max_in_flight"], most, "max_concurrency {n:?}: ten batches of 20 ids");
    }
}

#[test]
fn bad_arguments_fail_before_anything_is_sent() {
    let (emu, _) = emulator_with(5, &[]);
    let client = Config::for_endpoint(&emu.endpoint()).client();
    let before = emu.requests();
    for (q, needle) in [
        (Query::new().max_results(-3), "between 1 and 200"),
        (Query::new().max_results(201), "between 1 and 200"),
        (Query::new().ids(&["ami-1"]).max_results(5), "cannot be combined"),
    ] {
        let e = client.describe(&q, None).unwrap_err();
        assert_eq!(e.status, S::InvalidArgument);
        assert!(e.message.contains(needle), "{}", e.message);
        let e = client.all(&q, 0, None).unwrap_err();
        assert_eq!(e.status, S::InvalidArgument);
    }
    assert_eq!(emu.requests(), before, "nothing reached the service");
}

#[test]
fn dry_run_and_authorization() {
    let (emu, _) = emulator_with(5, &[]);
    let ok = Config::for_endpoint(&emu.endpoint()).client();
    let e = ok.describe(&Query::new().dry_run(), None).unwrap_err();
    assert_eq!((e.status, e.code.as_deref(), e.http_status), (S::DryRunOk, Some("DryRunOperation"), 412));
    assert!(e.message.contains("would have succeeded"), "{}", e.message);

    let denied_cfg = Config::for_endpoint(&emu.endpoint());
    denied_cfg.credentials(DENIED_KEY, SECRET_KEY);
    let denied = denied_cfg.client();
    for q in [Query::new(), Query::new().dry_run()] {
        let e = denied.describe(&q, None).unwrap_err();
        assert_eq!((e.status, e.code.as_deref(), e.http_status), (S::Unauthorized, Some("UnauthorizedOperation"), 403));
    }

    let wrong_cfg = Config::for_endpoint(&emu.endpoint());
    let wrong_secret = ffi::SECRETS[1];
    wrong_cfg.credentials(emulator::ACCESS_KEY, wrong_secret);
    let e = wrong_cfg.client().describe(&Query::new(), None).unwrap_err();
    assert_eq!((e.status, e.code.as_deref(), e.http_status), (S::Unauthorized, Some("AuthFailure"), 401));
    assert!(!e.message.contains(wrong_secret));
}

#[test]
fn throttling_is_retried_until_the_budget_runs_out() {
    let (emu, expected) = emulator_with(10, &[]);
    let client = Config::for_endpoint(&emu.endpoint()).retry(Retry::Standard, 3).client();
    emu.faults(&["throttle,count=2"]);
    let before = emu.requests();
    assert_eq!(client.describe(&Query::new(), None).unwrap().tasks(), expected);
    assert_eq!(emu.requests() - before, 3, "two throttled attempts, then success");

    emu.faults(&["throttle,count=5"]);
    let e = client.describe(&Query::new(), None).unwrap_err();
    assert_eq!((e.status, e.code.as_deref(), e.http_status), (S::Throttled, Some("RequestLimitExceeded"), 503));
    emu.clear_faults();
}

#[test]
fn server_errors_network_failures_and_bad_replies() {
    let (emu, expected) = emulator_with(60, &[]);
    let retrying = Config::for_endpoint(&emu.endpoint()).retry(Retry::Standard, 3).client();
    let once = Config::for_endpoint(&emu.endpoint()).retry(Retry::Standard, 1).timeouts(0, 400, 0).client();

    // A 500 or a dropped connection on page 3 of 6 is retried, and nothing is lost.
    for fault in ["internal,at=3", "drop,at=3", "unavailable,at=3"] {
        emu.faults(&[fault]);
        assert_eq!(retrying.all(&Query::new().max_results(10), 0, None).unwrap().tasks(), expected, "{fault}");
        emu.clear_faults();
    }

    let cases: [(&str, S, Option<&str>); 7] = [
        ("wrongroot", S::Response, None),
        ("internal", S::Service, Some("InternalError")),
        ("drop", S::Network, None),
        ("delay,ms=1500", S::Timeout, None),
        ("malformed", S::Response, None),
        ("garbage", S::Response, None),
        ("truncate", S::Response, None),
    ];
    for (fault, status, code) in cases {
        emu.faults(&[fault]);
        let e = match once.describe(&Query::new().max_results(10), None) {
            Ok(l) => panic!("{fault}: expected {status:?}, got {} tasks", l.tasks().len()),
            Err(e) => e,
        };
        assert_eq!(e.status, status, "{fault}: {e:?}");
        assert_eq!(e.code.as_deref(), code, "{fault}");
        emu.clear_faults();
    }
    // The client is still healthy afterwards.
    assert_eq!(once.all(&Query::new(), 0, None).unwrap().tasks(), expected);
}

#[test]
fn a_repeated_token_stops_the_listing() {
    let (emu, _) = emulator_with(60, &[]);
    let client = Config::for_endpoint(&emu.endpoint()).client();
    emu.faults(&["repeat-token,at=2"]);
    let e = client.all(&Query::new().max_results(10), 0, None).unwrap_err();
    assert_eq!(e.status, S::Response);
    assert!(e.message.contains("repeated"), "{}", e.message);
}

#[test]
fn cancellation_from_another_thread_ends_a_call_promptly() {
    let (emu, _) = emulator_with(400, &[]);
    let client = Arc::new(Config::for_endpoint(&emu.endpoint()).client());
    emu.faults(&["delay,ms=20000,at=3"]);
    let (cancel, t) = Cancel::after_ms(300);
    let e = client.all(&Query::new().max_results(10), 0, Some(&cancel)).unwrap_err();
    let returned = Instant::now();
    let triggered = t.join().unwrap();
    assert_eq!(e.status, S::Cancelled);
    assert!(
        returned.duration_since(triggered) < Duration::from_secs(1),
        "returned {:?} after the trigger",
        returned.duration_since(triggered)
    );
    // A triggered token ends later calls at once, without a request.
    let before = emu.requests();
    assert_eq!(client.describe(&Query::new(), Some(&cancel)).unwrap_err().status, S::Cancelled);
    assert_eq!(emu.requests(), before);
    emu.clear_faults();
}

#[test]
fn eight_threads_share_one_client() {
    let (emu, expected) = emulator_with(333, &[]);
    let client = Arc::new(Config::for_endpoint(&emu.endpoint()).client());
    let expected = Arc::new(expected);
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let (client, expected) = (client.clone(), expected.clone());
            std::thread::spawn(move || {
                for round in 0..3 {
                    let page = 10 + 23 * i + round;
                    let got = client.all(&Query::new().max_results(page), 0, None).unwrap().tasks();
                    assert_eq!(got, *expected, "thread {i} page size {page}");
                    let failed = client.all(&Query::new().filter("task-state", &["Failed"]), 0, None).unwrap().tasks();
                    let want: Vec<T> = expected.iter().filter(|t| t.state.as_str() == Some("Failed")).cloned().collect();
                    assert!(!want.is_empty(), "the fixture has failed tasks");
                    assert_eq!(failed, want, "thread {i}: exactly the failed tasks, in order");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn calls_from_inside_a_tokio_runtime_do_not_panic() {
    let (emu, expected) = emulator_with(12, &[]);
    let endpoint = emu.endpoint();
    for rt in [
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap(),
    ] {
        let got = rt.block_on(async {
            let client = Config::for_endpoint(&endpoint).client();
            let got = client.all(&Query::new(), 0, None).unwrap().tasks();
            drop(client); // freeing inside a runtime must not panic either
            got
        });
        assert_eq!(got, expected);
    }
}

#[test]
fn json_matches_the_cli_shape() {
    let (emu, expected) = emulator_with(15, &[]);
    let client = Config::for_endpoint(&emu.endpoint()).client();
    let list = client.all(&Query::new(), 0, None).unwrap();
    let v: serde_json::Value = serde_json::from_str(&list.json()).unwrap();
    let items = v["StoreImageTaskResults"].as_array().unwrap();
    assert_eq!(items.len(), expected.len());
    assert!(v.get("NextToken").is_none());
    let sparse = &items[6];
    assert!(sparse.get("S3objectKey").is_none() && sparse.get("ProgressPercentage").is_none());
    assert_eq!(items[2]["StoreTaskFailureReason"], expected[2].failure_reason.clone().unwrap());
    assert_eq!(items[0]["TaskStartTime"], "2026-11-20T11:59:59.000Z");
    let page = client.describe(&Query::new().max_results(4), None).unwrap();
    let v: serde_json::Value = serde_json::from_str(&page.json()).unwrap();
    assert_eq!(v["NextToken"].as_str(), page.next_token().as_deref());
}

#[test]
fn bad_client_configurations_are_reported() {
    let (emu, _) = emulator_with(1, &[]);
    use storetasks::ffi::config::*;
    type Setter = extern "C" fn(*mut storetasks_config, *const std::ffi::c_char) -> S;
    let cases: [(Setter, &str, S, &str); 4] = [
        (storetasks_config_set_endpoint_url, "ftp://x", S::InvalidArgument, "http"),
        (storetasks_config_set_app_name, "bad name/1", S::InvalidArgument, "app name"),
        (storetasks_config_set_ca_bundle, "/nonexistent/ca.pem", S::Config, "CA bundle"),
        (storetasks_config_set_region, "", S::InvalidArgument, "region"),
    ];
    for (set, value, status, needle) in cases {
        let cfg = Config::for_endpoint(&emu.endpoint());
        set(cfg.0, ffi::cs(value).as_ptr());
        let e = Client::new(&cfg).err().unwrap_or_else(|| panic!("expected {status:?} for {needle}"));
        assert_eq!(e.status, status, "{e:?}");
        assert!(e.message.contains(needle), "{}", e.message);
    }
    let cfg = Config::for_endpoint(&emu.endpoint());
    assert_eq!(storetasks_config_set_retry(cfg.0, 7, 3), S::InvalidArgument);
    assert_eq!(storetasks_config_set_max_concurrency(cfg.0, 0), S::InvalidArgument);
}
