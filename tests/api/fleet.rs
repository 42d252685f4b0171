//! Fleet calls through the C API: many regions and accounts at once, against one emulator that
//! serves them all (the region comes from each request's signature, the account from the
//! credentials STS handed out for a role).

use std::collections::HashSet;
use std::ffi::{c_char, c_void};
use std::ptr::{null, null_mut};
use std::time::{Duration, Instant};

use storetasks::ffi::error::storetasks_status as S;
use storetasks::ffi::error::*;
use storetasks::ffi::fleet::*;

use crate::emulator::Emulator;
use crate::ffi::{Cancel, Client, Config, Failure, LogCapture, Query, T, copy_tasks, cs, opt_string, owned_handle, take_error};
use crate::{NOW, NOW_MS, ids};
use storetasks::ffi::log::storetasks_log_level;

const ROLE_A: &str = "arn:aws:iam::111111111111:role/StoreTasksReader";
const ROLE_B: &str = "arn:aws:iam::222222222222:role/StoreTasksReader";

owned_handle!(Fleet(storetasks_fleet), storetasks_fleet_free);

impl Fleet {
    fn regions(regions: &[&str]) -> Fleet {
        let f = Fleet(storetasks_fleet_new());
        assert!(!f.0.is_null());
        for r in regions {
            assert_eq!(storetasks_fleet_add_region(f.0, cs(r).as_ptr()), S::Ok, "{r}");
        }
        f
    }
    fn all() -> Fleet {
        let f = Fleet::regions(&[]);
        assert_eq!(storetasks_fleet_set_all_regions(f.0, true), S::Ok);
        f
    }
    fn role(self, arn: &str) -> Self {
        assert_eq!(storetasks_fleet_add_role_arn(self.0, cs(arn).as_ptr()), S::Ok);
        self
    }
    fn last_error(&self) -> Option<String> {
        opt_string(storetasks_fleet_last_error(self.0))
    }
}

/// One place of a result, copied out.
#[derive(Debug)]
struct PlaceOut {
    region: String,
    account: Option<String>,
    tasks: Vec<T>,
    count: usize,
    error: Option<Failure>,
}

fn copy_error(e: *const storetasks_error) -> Option<Failure> {
    (!e.is_null()).then(|| Failure {
        status: storetasks_error_status(e),
        message: opt_string(storetasks_error_message(e)).unwrap(),
        code: opt_string(storetasks_error_code(e)),
        http_status: storetasks_error_http_status(e),
        request_id: opt_string(storetasks_error_request_id(e)),
    })
}

fn copy_result(r: *const storetasks_fleet_result) -> Vec<PlaceOut> {
    let n = storetasks_fleet_result_len(r);
    let places: Vec<PlaceOut> = (0..n)
        .map(|i| PlaceOut {
            region: opt_string(storetasks_fleet_result_region(r, i)).expect("every place has a region string"),
            account: opt_string(storetasks_fleet_result_account(r, i)),
            tasks: copy_tasks(storetasks_fleet_result_tasks(r, i)),
            count: storetasks_fleet_result_task_count(r, i),
            error: copy_error(storetasks_fleet_result_error(r, i)),
        })
        .collect();
    assert!(storetasks_fleet_result_region(r, n).is_null());
    assert!(storetasks_fleet_result_tasks(r, n).is_null());
    assert!(storetasks_fleet_result_error(r, n).is_null());
    assert_eq!(storetasks_fleet_result_failed(r), places.iter().filter(|p| p.error.is_some()).count());
    places
}

fn fleet_call(c: &Client, f: &Fleet, q: &Query, cancel: Option<&Cancel>) -> Result<(Vec<PlaceOut>, String), Failure> {
    let mut r = null_mut();
    let mut err = null_mut();
    let st = storetasks_client_describe_fleet(c.0, f.0, q.0, cancel.map_or(null(), |c| c.0), &mut r, &mut err);
    if st != S::Ok {
        assert!(r.is_null(), "a failed call leaves the result untouched");
        return Err(take_error(st, err));
    }
    assert!(err.is_null());
    let places = copy_result(r);
    let mut json: *mut c_char = null_mut();
    assert_eq!(storetasks_fleet_result_to_json(r, &mut json, null_mut()), S::Ok);
    let text = opt_string(json).unwrap();
    storetasks::ffi::storetasks_string_free(json);
    storetasks_fleet_result_free(r);
    Ok((places, text))
}

/// What `on_page` is given for each page of a fleet: the page's region, its account (for a
/// role's place) and how many tasks it holds; the listing goes on while it says true.
type OnPage<'a> = dyn FnMut(String, Option<String>, usize) -> bool + 'a;

/// The blocking fleet call page by page: its status, its result (NULL unless OK) and its error.
fn fleet_pages(
    c: &Client,
    f: &Fleet,
    q: &Query,
    cancel: Option<&Cancel>,
    mut on_page: impl FnMut(String, Option<String>, usize) -> bool,
) -> (S, *mut storetasks_fleet_result, *mut storetasks_error) {
    unsafe extern "C" fn each_page(
        region: *const c_char,
        account: *const c_char,
        page: *const storetasks::ffi::task_list::storetasks_task_list,
        user: *mut c_void,
    ) -> bool {
        // SAFETY: `user` is the `&mut OnPage` below, alive for the whole call.
        let on_page = unsafe { &mut *(user as *mut &mut OnPage) };
        on_page(opt_string(region).unwrap(), opt_string(account), copy_tasks(page).len())
    }
    let mut on_page: &mut OnPage = &mut on_page;
    let user = &mut on_page as *mut &mut OnPage as *mut c_void;
    let (mut r, mut err) = (null_mut(), null_mut());
    let cancel = cancel.map_or(null(), |c| c.0);
    let st = storetasks_client_describe_fleet_pages(c.0, f.0, q.0, cancel, Some(each_page), user, &mut r, &mut err);
    (st, r, err)
}

/// Every task of `region` (and of a role's account), listed the ordinary way by a client of that
/// region: what a fleet place must hold.
fn baseline(endpoint: &str, region: &str, role: Option<&str>) -> Vec<T> {
    let cfg = Config::for_endpoint(endpoint);
    cfg.region(region);
    let c = cfg.client();
    match role {
        None => c.all(&Query::new().max_results(200), 0, None).expect("baseline listing").tasks(),
        Some(arn) => {
            let f = Fleet::regions(&[region]).role(arn);
            let (mut places, _) = fleet_call(&c, &f, &Query::new(), None).expect("baseline fleet");
            assert!(places[0].error.is_none(), "{:?}", places[0].error);
            places.remove(0).tasks
        }
    }
}

const REGIONS: [&str; 4] = ["us-east-1", "eu-west-3", "ap-south-1", "us-west-2"];

fn fleet_emulator(extra: &[&str]) -> Emulator {
    let mut args = vec!["--now", NOW, "--generate", "230", "--regions", "us-east-1,eu-west-3,ap-south-1,us-west-2,ca-central-1"];
    args.extend_from_slice(extra);
    Emulator::start(&args)
}

#[test]
fn a_fleet_lists_every_region_once_in_the_order_given() {
    let emu = fleet_emulator(&[]);
    let c = Config::for_endpoint(&emu.endpoint()).client();
    let f = Fleet::regions(&REGIONS);
    // A region added twice is listed once.
    assert_eq!(storetasks_fleet_add_region(f.0, cs("eu-west-3").as_ptr()), S::Ok);
    let (places, json) = fleet_call(&c, &f, &Query::new().max_results(50), None).unwrap();
    assert_eq!(places.iter().map(|p| p.region.as_str()).collect::<Vec<_>>(), REGIONS);
    let mut all_ids = HashSet::new();
    for p in &places {
        assert!(p.error.is_none(), "{}: {:?}", p.region, p.error);
        assert_eq!(p.account, None, "the client's own credentials have no role account");
        let expected = baseline(&emu.endpoint(), &p.region, None);
        assert!(expected.len() >= 230, "{}: {} tasks", p.region, expected.len());
        assert_eq!(p.tasks, expected, "{}: the fleet's tasks are the region's listing, in order", p.region);
        assert_eq!(p.count, p.tasks.len());
        for id in ids(&p.tasks) {
            assert!(all_ids.insert(id.clone()), "{id} came back twice");
        }
    }
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let json_places = doc["Places"].as_array().unwrap();
    assert_eq!(json_places.len(), 4);
    for (p, j) in places.iter().zip(json_places) {
        assert_eq!(j["Region"], p.region.as_str());
        assert!(j["Account"].is_null());
        assert!(j.get("Error").is_none());
        let ids: Vec<&str> =
            j["StoreImageTaskResults"].as_array().unwrap().iter().map(|t| t["AmiId"].as_str().unwrap()).collect();
        assert_eq!(ids, crate::ids(&p.tasks));
    }
}

#[test]
fn a_failing_region_never_hides_the_others() {
    let faults = [
        "--fault",
        "throttle,region=eu-west-3,count=1000000",
        "--fault",
        "deny,region=ap-south-1,count=1000000",
        "--fault",
        "drop,region=ca-central-1,count=1000000",
    ];
    let emu = fleet_emulator(&faults);
    let cfg = Config::for_endpoint(&emu.endpoint());
    cfg.retry(storetasks::ffi::config::storetasks_retry_mode::Standard, 2).timeouts(2_000, 5_000, 20_000);
    let c = cfg.client();
    let f = Fleet::regions(&["us-east-1", "eu-west-3", "ap-south-1", "ca-central-1", "us-west-2"]);
    let (places, json) = fleet_call(&c, &f, &Query::new().max_results(40), None).expect("partial failure is not a failed call");
    let by_region = |r: &str| places.iter().find(|p| p.region == r).unwrap();
    // What the healthy regions hold, listed from the same emulator once its faults are gone (a
    // second emulator would date its generated tasks a millisecond apart).
    emu.clear_faults();
    for healthy in ["us-east-1", "us-west-2"] {
        let p = by_region(healthy);
        assert!(p.error.is_none(), "{healthy}: {:?}", p.error);
        let expected = baseline(&emu.endpoint(), healthy, None);
        assert!(!expected.is_empty());
        assert_eq!(p.tasks, expected, "{healthy}: every task exactly once, in order");
    }
    let throttled = by_region("eu-west-3").error.as_ref().expect("eu-west-3 fails");
    assert_eq!(throttled.status, S::Throttled, "{throttled:?}");
    assert_eq!(throttled.code.as_deref(), Some("RequestLimitExceeded"));
    assert!(throttled.request_id.is_some());
    let denied = by_region("ap-south-1").error.as_ref().expect("ap-south-1 fails");
    assert_eq!((denied.status, denied.http_status), (S::Unauthorized, 403), "{denied:?}");
    assert_eq!(denied.code.as_deref(), Some("UnauthorizedOperation"));
    let dropped = by_region("ca-central-1").error.as_ref().expect("ca-central-1 fails");
    assert_eq!(dropped.status, S::Network, "{dropped:?}");
    for r in ["eu-west-3", "ap-south-1", "ca-central-1"] {
        assert!(by_region(r).tasks.is_empty(), "{r} failed on its first page");
    }
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let errors: Vec<(&str, &str)> = doc["Places"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| Some((p["Region"].as_str()?, p.get("Error")?["Status"].as_str()?)))
        .collect();
    assert_eq!(
        errors,
        [
            ("eu-west-3", "STORETASKS_STATUS_THROTTLED"),
            ("ap-south-1", "STORETASKS_STATUS_UNAUTHORIZED"),
            ("ca-central-1", "STORETASKS_STATUS_NETWORK")
        ]
    );
}

/// A place whose listing fails after some pages keeps the tasks it had read, with its error.
#[test]
fn a_place_that_fails_half_way_keeps_the_pages_it_read() {
    let emu = fleet_emulator(&[]);
    let cfg = Config::for_endpoint(&emu.endpoint());
    cfg.retry(storetasks::ffi::config::storetasks_retry_mode::Standard, 1);
    let c = cfg.client();
    let expected = baseline(&emu.endpoint(), "eu-west-3", None);
    // eu-west-3's third page request fails, and every one after it.
    emu.faults(&["internal,region=eu-west-3,at=3,count=1000"]);
    let f = Fleet::regions(&["us-east-1", "eu-west-3"]);
    let (places, json) = fleet_call(&c, &f, &Query::new().max_results(40), None).unwrap();
    let eu = &places[1];
    let e = eu.error.as_ref().expect("eu-west-3 failed on its third page");
    assert_eq!((e.status, e.code.as_deref()), (S::Service, Some("InternalError")), "{e:?}");
    assert_eq!(eu.tasks, expected[..80], "the two pages read before the failure, in order");
    assert_eq!(eu.count, 80);
    assert!(places[0].error.is_none() && places[0].tasks.len() >= 230, "{:?}", places[0].error);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["Places"][1]["StoreImageTaskResults"].as_array().unwrap().len(), 80);
    assert_eq!(doc["Places"][1]["Error"]["Code"], "InternalError");
}

/// Places run `max_concurrency` at a time, as the emulator sees them (each request held 300 ms).
#[test]
fn places_run_at_most_max_concurrency_at_once() {
    let emu = fleet_emulator(&["--fault", "delay,ms=300,count=100000"]);
    let f = Fleet::regions(&["us-east-1", "eu-west-3", "ap-south-1", "us-west-2", "ca-central-1"]);
    for (n, low, high) in [(1, 1, 1), (2, 2, 2), (8, 4, 5)] {
        let cfg = Config::for_endpoint(&emu.endpoint());
        cfg.max_concurrency(n);
        emu.reset_max_in_flight();
        let (places, _) = fleet_call(&cfg.client(), &f, &Query::new().max_results(100), None).unwrap();
        assert!(places.iter().all(|p| p.error.is_none() && p.tasks.len() >= 230));
        let stats = emu.stats();
        let most = stats["max_in_flight"].as_u64().unwrap();
        assert!((low..=high).contains(&most), "max_concurrency {n}: {most} requests at once");
        for (pair, c) in stats["by_pair"].as_object().unwrap() {
            assert!(c["max_in_flight"].as_u64().unwrap() <= 1, "{pair}: a place's pages follow one another");
        }
    }
}

/// Every enabled region of several accounts: DescribeRegions asked once per account with its
/// role's credentials; an account whose regions cannot be listed is one failed place, and the
/// others are listed in full. Opted-in regions are listed, those not opted in are not.
#[test]
fn all_regions_with_roles_and_an_account_whose_regions_cannot_be_listed() {
    let emu = fleet_emulator(&[
        "--role",
        ROLE_A,
        "--role",
        ROLE_B,
        "--opted-in-region",
        "me-central-1",
        "--opt-in-region",
        "af-south-1",
        "--fault",
        "deny,account=222222222222,count=1000",
    ]);
    let c = Config::for_endpoint(&emu.endpoint()).client();
    let f = Fleet::all().role(ROLE_A).role(ROLE_B);
    let (places, _) = fleet_call(&c, &f, &Query::new().max_results(100), None).unwrap();
    let got: Vec<(Option<&str>, &str)> = places.iter().map(|p| (p.account.as_deref(), p.region.as_str())).collect();
    let a = Some("111111111111");
    assert_eq!(
        got,
        [
            (a, "ap-south-1"),
            (a, "ca-central-1"),
            (a, "eu-west-3"),
            (a, "me-central-1"),
            (a, "us-east-1"),
            (a, "us-west-2"),
            (Some("222222222222"), "")
        ],
        "account A's enabled regions, sorted, the opted-in one included; account B as one place"
    );
    for p in &places[..6] {
        assert!(p.error.is_none(), "{}: {:?}", p.region, p.error);
        assert_eq!(ids(&p.tasks), emu.visible_ids(&p.region, "111111111111", NOW_MS), "{}", p.region);
    }
    let e = places[6].error.as_ref().expect("account B's regions could not be listed");
    assert_eq!(e.status, S::Unauthorized, "{e:?}");
    assert!(e.message.starts_with("could not list the account's regions (DescribeRegions): "), "{}", e.message);
    let by_pair = &emu.stats()["by_pair"];
    assert_eq!(by_pair["222222222222/us-east-1"]["requests"], 1, "one DescribeRegions for account B, nothing after it");
    assert_eq!(by_pair["222222222222/eu-west-3"]["requests"], 0);
    assert_eq!(by_pair["111111111111/af-south-1"]["requests"], serde_json::Value::Null, "nothing sent to a region not opted in");
}

#[test]
fn every_enabled_region_comes_from_describe_regions() {
    let emu = fleet_emulator(&["--opt-in-region", "me-south-1", "--opt-in-region", "af-south-1"]);
    let c = Config::for_endpoint(&emu.endpoint()).client();
    let (places, _) = fleet_call(&c, &Fleet::all(), &Query::new().filter("task-state", &["Failed"]), None).unwrap();
    let regions: Vec<&str> = places.iter().map(|p| p.region.as_str()).collect();
    assert_eq!(regions, ["ap-south-1", "ca-central-1", "eu-west-3", "us-east-1", "us-west-2"], "sorted, opt-in ones left out");
    for p in &places {
        assert!(p.error.is_none(), "{}: {:?}", p.region, p.error);
        assert!(!p.tasks.is_empty(), "{}: some tasks failed", p.region);
        assert!(p.tasks.iter().all(|t| t.state.as_str() == Some("Failed")), "{}: the filter reached every region", p.region);
    }
}

#[test]
fn roles_are_assumed_once_per_account_and_list_their_own_tasks() {
    let emu = fleet_emulator(&["--role", ROLE_A, "--role", ROLE_B]);
    let c = Config::for_endpoint(&emu.endpoint()).client();
    let f = Fleet::regions(&["eu-west-3", "us-west-2"]).role(ROLE_A).role(ROLE_B);
    let capture = LogCapture::start(storetasks_log_level::Trace);
    let (places, json) = fleet_call(&c, &f, &Query::new(), None).unwrap();
    let lines = capture.lines();
    drop(capture);
    // The assumed roles' secrets appear nowhere: not in a log line (of any field), not in the JSON.
    let secrets = emu.issued_secrets();
    assert_eq!(secrets.len(), 4, "a secret key and a session token per role");
    assert!(lines.iter().any(|(_, _, m)| m.contains("assumed credentials")), "the capture saw the role being assumed");
    for s in &secrets {
        assert!(!json.contains(s.as_str()));
        for (_, target, message) in &lines {
            assert!(!target.contains(s.as_str()) && !message.contains(s.as_str()), "an assumed secret was logged: {message}");
        }
    }
    let got: Vec<(Option<&str>, &str)> = places.iter().map(|p| (p.account.as_deref(), p.region.as_str())).collect();
    assert_eq!(
        got,
        [
            (Some("111111111111"), "eu-west-3"),
            (Some("111111111111"), "us-west-2"),
            (Some("222222222222"), "eu-west-3"),
            (Some("222222222222"), "us-west-2")
        ]
    );
    let mut seen = HashSet::new();
    for p in &places {
        assert!(p.error.is_none(), "{:?} {}: {:?}", p.account, p.region, p.error);
        // Every page of the role's listing (230 tasks: three pages), as the emulator holds them.
        let expected = emu.visible_ids(&p.region, p.account.as_deref().unwrap(), NOW_MS);
        assert!(expected.len() >= 230, "{}", expected.len());
        assert_eq!(ids(&p.tasks), expected, "{:?} {}: the role's own tasks, in order", p.account, p.region);
        for id in ids(&p.tasks) {
            assert!(seen.insert(id.clone()), "{id} appears in two places: accounts must not share data");
        }
    }
    // The client's own account is another account again.
    let own = baseline(&emu.endpoint(), "eu-west-3", None);
    assert!(ids(&own).iter().all(|id| !seen.contains(id)));
    assert_eq!(emu.stat_u64("assume_role_requests"), 2, "one AssumeRole per role, shared by its regions");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["Places"][0]["Account"], "111111111111");
    assert_eq!(doc["Places"][0]["RoleArn"], ROLE_A);
}

#[test]
fn the_endpoint_url_is_ec2s_alone_and_roles_go_to_the_sts_endpoint() {
    let emu = fleet_emulator(&["--role", ROLE_A]);
    let f = Fleet::regions(&["eu-west-3"]).role(ROLE_A);
    // No STS endpoint: AssumeRole goes to STS's regional endpoint (unreachable here), never to
    // the EC2 endpoint URL.
    let cfg = Config::for_endpoint(&emu.endpoint());
    cfg.sts_endpoint_url(None).timeouts(500, 2_000, 5_000).retry(storetasks::ffi::config::storetasks_retry_mode::Standard, 1);
    let (places, _) = fleet_call(&cfg.client(), &f, &Query::new(), None).unwrap();
    let e = places[0].error.as_ref().expect("the role could not be assumed");
    assert_eq!(e.status, S::Credentials, "{e:?}");
    assert_eq!(emu.stat_u64("assume_role_requests"), 0, "AssumeRole reached the EC2 endpoint: {e:?}");
    assert_eq!(emu.stat_u64("requests"), 0, "{e:?}");
    // With one, it goes there.
    let c = Config::for_endpoint(&emu.endpoint()).client();
    let (places, _) = fleet_call(&c, &f, &Query::new(), None).unwrap();
    assert!(places[0].error.is_none() && !places[0].tasks.is_empty(), "{:?}", places[0]);
    assert_eq!(emu.stat_u64("assume_role_requests"), 1);
}

#[test]
fn a_role_that_cannot_be_assumed_fails_only_its_own_places() {
    let emu = fleet_emulator(&["--role", ROLE_A]);
    let c = Config::for_endpoint(&emu.endpoint()).client();
    let f = Fleet::regions(&["eu-west-3", "us-west-2"]).role(ROLE_B).role(ROLE_A);
    let (places, _) = fleet_call(&c, &f, &Query::new(), None).unwrap();
    assert_eq!(places.len(), 4);
    for p in &places {
        match p.account.as_deref() {
            Some("222222222222") => {
                let e = p.error.as_ref().expect("the unknown role fails");
                assert_eq!(e.status, S::Credentials, "{e:?}");
                assert_eq!(e.code.as_deref(), Some("AccessDenied"), "{e:?}");
                assert!(e.message.starts_with("no usable credentials: the credentials service answered AccessDenied: "), "{e:?}");
                assert!(!e.message.contains("Error {"), "one sentence, no debug output: {e:?}");
                assert!(e.request_id.is_some(), "STS's request id: {e:?}");
            }
            _ => assert!(p.error.is_none() && !p.tasks.is_empty(), "{p:?}"),
        }
    }
}

#[test]
fn stopping_the_pages_keeps_what_had_happened_and_marks_what_had_not_ended() {
    let emu = fleet_emulator(&["--fault", "deny,region=us-west-2,count=1000"]);
    let c = Config::for_endpoint(&emu.endpoint()).client();
    let f = Fleet::regions(&REGIONS);
    // Pages of 10 tasks: more pages than may wait for the caller, so some listings are still
    // running when it stops.
    let q = Query::new().max_results(10);
    let (st, r, _) = fleet_pages(&c, &f, &q, None, |_, _, _| {
        // Long enough for the denied region's failure to be reported meanwhile.
        std::thread::sleep(Duration::from_millis(1500));
        false
    });
    assert_eq!(st, S::Ok);
    let places = copy_result(r);
    storetasks_fleet_result_free(r);
    assert_eq!(emu.stat_u64("faults_fired"), 1);
    let denied = places.iter().find(|p| p.region == "us-west-2").unwrap();
    let e = denied.error.as_ref().expect("the failure that had happened is reported");
    assert_eq!(e.status, S::Unauthorized, "{e:?}");
    let stopped: Vec<&PlaceOut> = places.iter().filter(|p| p.error.as_ref().is_some_and(|e| e.status == S::Cancelled)).collect();
    assert!(!stopped.is_empty(), "the listings still running are marked: {places:?}");
    for p in &stopped {
        let m = &p.error.as_ref().unwrap().message;
        assert!(m.starts_with("the caller stopped the call before the listing of ") && m.contains(&p.region), "{m}");
    }
    for p in places.iter().filter(|p| p.region != "us-west-2") {
        assert!(p.error.as_ref().is_none_or(|e| e.status == S::Cancelled), "{p:?}");
    }
}

#[test]
fn pages_stream_with_their_place_and_the_caller_can_stop() {
    let emu = fleet_emulator(&[]);
    let c = Config::for_endpoint(&emu.endpoint()).client();
    let f = Fleet::regions(&REGIONS);
    let q = Query::new().max_results(25);
    for stop_after in [usize::MAX, 3] {
        let mut pages: Vec<(String, Option<String>, usize)> = Vec::new();
        let (st, r, _) = fleet_pages(&c, &f, &q, None, |region, account, n| {
            pages.push((region, account, n));
            pages.len() < stop_after
        });
        assert_eq!(st, S::Ok);
        let places = copy_result(r);
        storetasks_fleet_result_free(r);
        if stop_after == 3 {
            assert_eq!(pages.len(), 3, "no page after the callback said stop");
            continue;
        }
        for p in &places {
            assert!(p.tasks.is_empty(), "streamed tasks are not kept");
            let streamed: usize = pages.iter().filter(|(r, _, _)| *r == p.region).map(|(_, _, n)| n).sum();
            assert_eq!(p.count, streamed);
            assert_eq!(streamed, baseline(&emu.endpoint(), &p.region, None).len(), "{}", p.region);
            assert!(pages.iter().filter(|(r, _, _)| *r == p.region).all(|(_, a, n)| a.is_none() && *n <= 25));
        }
    }
    // Without a result pointer, and a NULL callback is refused.
    let mut err = null_mut();
    assert_eq!(
        storetasks_client_describe_fleet_pages(c.0, f.0, q.0, null(), None, null_mut(), null_mut(), &mut err),
        S::InvalidArgument
    );
    assert!(take_error(S::InvalidArgument, err).message.contains("callback"));
}

#[test]
fn a_started_fleet_pages_call_hands_over_what_the_blocking_call_gives() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use storetasks::ffi::call::*;
    use storetasks::ffi::task_list::{storetasks_task_list_account, storetasks_task_list_free, storetasks_task_list_region};
    unsafe extern "C" fn count(_call: *mut storetasks_call, user: *mut c_void) {
        // SAFETY: `user` is the counter below, alive until the call is freed.
        unsafe { &*(user as *const AtomicUsize) }.fetch_add(1, Ordering::SeqCst);
    }
    let emu = fleet_emulator(&["--role", ROLE_A]);
    let c = Config::for_endpoint(&emu.endpoint()).client();
    let f = Fleet::regions(&["eu-west-3", "us-east-1"]).role(ROLE_A);
    let q = Query::new().max_results(25);
    let (blocking, _) = fleet_call(&c, &f, &q, None).unwrap();
    let wakes = AtomicUsize::new(0);
    let (mut call, mut err) = (null_mut(), null_mut());
    let user = &wakes as *const AtomicUsize as *mut c_void;
    assert_eq!(storetasks_client_describe_fleet_pages_start(c.0, f.0, q.0, Some(count), user, &mut call, &mut err), S::Ok);
    let mut pages: Vec<(String, Option<String>, usize)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut page = null_mut();
        match storetasks_call_next_page(call, &mut page, &mut err) {
            S::Pending => {
                assert!(Instant::now() < deadline, "the call went quiet");
                std::thread::sleep(Duration::from_millis(2));
            }
            S::Ok if page.is_null() => break,
            S::Ok => {
                let region = opt_string(storetasks_task_list_region(page)).expect("a fleet page names its region");
                pages.push((region, opt_string(storetasks_task_list_account(page)), copy_tasks(page).len()));
                storetasks_task_list_free(page);
            }
            st => panic!("{:?}", take_error(st, err)),
        }
    }
    let mut r = null_mut();
    assert_eq!(storetasks_call_take_fleet(call, &mut r, &mut err), S::Ok);
    let places = copy_result(r);
    storetasks_fleet_result_free(r);
    storetasks_call_free(call);
    assert!(wakes.load(Ordering::SeqCst) >= 1, "the callback never ran");
    assert_eq!(places.len(), blocking.len());
    for (p, b) in places.iter().zip(&blocking) {
        assert_eq!((&p.region, &p.account, p.error.is_none()), (&b.region, &b.account, b.error.is_none()));
        assert!(p.tasks.is_empty(), "the pages' tasks are not kept");
        let of_place = pages.iter().filter(|(r, a, _)| *r == p.region && *a == p.account);
        assert!(of_place.clone().all(|(_, _, n)| *n <= 25));
        assert_eq!(of_place.map(|(_, _, n)| n).sum::<usize>(), b.tasks.len(), "{}", p.region);
        assert_eq!(p.count, b.tasks.len());
    }
    assert!(places.iter().all(|p| p.account.as_deref() == Some("111111111111")), "{places:?}");
}

#[test]
fn no_page_reaches_the_callback_once_the_token_is_triggered() {
    let emu = fleet_emulator(&[]);
    let c = Config::for_endpoint(&emu.endpoint()).client();
    let f = Fleet::regions(&REGIONS);
    let cancel = Cancel::new();
    let mut seen = 0;
    let (st, r, err) = fleet_pages(&c, &f, &Query::new().max_results(10), Some(&cancel), |_, _, _| {
        seen += 1;
        if seen == 1 {
            // Long enough for every other place's first page to be waiting for the caller.
            std::thread::sleep(Duration::from_millis(1000));
            cancel.trigger();
        }
        true
    });
    assert_eq!(st, S::Cancelled);
    take_error(S::Cancelled, err);
    assert!(r.is_null());
    assert_eq!(seen, 1, "pages reached the callback after the token was triggered");
}

#[test]
fn cancelling_ends_a_fleet_call_at_once() {
    let emu = fleet_emulator(&["--fault", "delay,ms=3000,count=1000"]);
    let c = Config::for_endpoint(&emu.endpoint()).client();
    let f = Fleet::regions(&REGIONS);
    let cancel = Cancel::new();
    let started = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(200));
            cancel.trigger();
        });
        let e = fleet_call(&c, &f, &Query::new(), Some(&cancel)).map(|_| ()).unwrap_err();
        assert_eq!(e.status, S::Cancelled);
    });
    assert!(started.elapsed() < Duration::from_millis(2500), "{:?}", started.elapsed());
}

#[test]
fn bad_fleets_fail_before_anything_is_sent() {
    let emu = fleet_emulator(&[]);
    let c = Config::for_endpoint(&emu.endpoint()).client();
    let before = emu.requests();
    let f = Fleet::regions(&[]);
    assert!(fleet_call(&c, &f, &Query::new(), None).unwrap_err().message.contains("no region"));
    assert_eq!(storetasks_fleet_add_region(f.0, cs("EU WEST").as_ptr()), S::InvalidArgument);
    assert!(f.last_error().unwrap().contains("region name"));
    assert_eq!(storetasks_fleet_add_region(f.0, null()), S::InvalidArgument);
    assert_eq!(storetasks_fleet_add_role_arn(f.0, cs("arn:aws:iam::1:role/x").as_ptr()), S::InvalidArgument);
    assert!(f.last_error().unwrap().contains("IAM role ARN"));
    assert_eq!(storetasks_fleet_add_region(f.0, cs("eu-west-3").as_ptr()), S::Ok);
    assert_eq!(f.last_error(), None);
    assert_eq!(storetasks_fleet_set_all_regions(f.0, true), S::Ok);
    assert!(fleet_call(&c, &f, &Query::new(), None).unwrap_err().message.contains("choose one"));
    let f = Fleet::regions(&["eu-west-3"]);
    let e = fleet_call(&c, &f, &Query::new().token("abc"), None).unwrap_err();
    assert_eq!(e.status, S::InvalidArgument);
    assert!(e.message.contains("NextToken"));
    let e = fleet_call(&c, &f, &Query::new().max_results(500), None).unwrap_err();
    assert_eq!(e.status, S::InvalidArgument);
    let mut err = null_mut();
    let mut r = null_mut();
    assert_eq!(storetasks_client_describe_fleet(c.0, null(), null(), null(), &mut r, &mut err), S::InvalidArgument);
    take_error(S::InvalidArgument, err);
    let mut err = null_mut();
    assert_eq!(storetasks_client_describe_fleet(c.0, f.0, null(), null(), null_mut(), &mut err), S::InvalidArgument);
    take_error(S::InvalidArgument, err);
    assert_eq!(emu.requests(), before, "nothing was sent");
    // NULL results read as empty.
    assert_eq!(storetasks_fleet_result_len(null()), 0);
    assert!(storetasks_fleet_result_region(null(), 0).is_null());
    assert_eq!(storetasks_fleet_add_region(null_mut(), cs("eu-west-3").as_ptr()), S::InvalidArgument);
    storetasks_fleet_free(null_mut());
    storetasks_fleet_result_free(null_mut());
}

#[test]
fn a_dry_run_answers_in_every_region() {
    let emu = fleet_emulator(&[]);
    let c = Config::for_endpoint(&emu.endpoint()).client();
    let (places, _) = fleet_call(&c, &Fleet::regions(&REGIONS), &Query::new().dry_run(), None).unwrap();
    assert_eq!(places.len(), REGIONS.len());
    for p in &places {
        let e = p.error.as_ref().expect("a dry run's answer is an error document");
        assert_eq!((e.status, e.code.as_deref()), (S::DryRunOk, Some("DryRunOperation")), "{}", p.region);
    }
}

/// Waits through `storetasks_client_wait_targets` for (region, role, image) triples.
fn wait_targets(c: &Client, targets: &[(Option<&str>, Option<&str>, &str)], grace_ms: u64) -> Result<Vec<T>, Failure> {
    use storetasks::ffi::waiter::*;
    let owned: Vec<(Option<std::ffi::CString>, Option<std::ffi::CString>, std::ffi::CString)> =
        targets.iter().map(|(r, a, i)| (r.map(cs), a.map(cs), cs(i))).collect();
    let raw: Vec<storetasks_wait_target> = owned
        .iter()
        .map(|(r, a, i)| storetasks_wait_target {
            region: r.as_ref().map_or(null(), |s| s.as_ptr()),
            role_arn: a.as_ref().map_or(null(), |s| s.as_ptr()),
            image_id: i.as_ptr(),
        })
        .collect();
    let opts = storetasks_wait_options_new();
    assert_eq!(storetasks_wait_options_set_delays(opts, 50, 200), S::Ok);
    assert_eq!(storetasks_wait_options_set_timeout(opts, 20_000), S::Ok);
    assert_eq!(storetasks_wait_options_set_not_found_grace(opts, grace_ms), S::Ok);
    let mut out = null_mut();
    let mut err = null_mut();
    let st = storetasks_client_wait_targets(c.0, raw.as_ptr(), raw.len(), opts, null(), &mut out, &mut err);
    storetasks_wait_options_free(opts);
    if st != S::Ok {
        return Err(take_error(st, err));
    }
    let tasks = copy_tasks(out);
    storetasks::ffi::task_list::storetasks_task_list_free(out);
    Ok(tasks)
}

fn first_in_state(tasks: &[T], state: &str) -> T {
    tasks.iter().find(|t| t.state.as_str() == Some(state)).cloned().unwrap_or_else(|| panic!("no {state} task"))
}

#[test]
fn one_wait_follows_images_in_several_regions_and_accounts() {
    let emu = fleet_emulator(&["--role", ROLE_A]);
    let c = Config::for_endpoint(&emu.endpoint()).client();
    let eu = baseline(&emu.endpoint(), "eu-west-3", None);
    let west = baseline(&emu.endpoint(), "us-west-2", None);
    let role_eu = baseline(&emu.endpoint(), "eu-west-3", Some(ROLE_A));
    let (a, b, r) = (first_in_state(&eu, "Completed"), first_in_state(&west, "Completed"), first_in_state(&role_eu, "Completed"));
    let id = |t: &T| t.ami_id.clone().unwrap();
    let (ida, idb, idr) = (id(&a), id(&b), id(&r));
    let done = wait_targets(
        &c,
        &[
            (Some("us-west-2"), None, &idb),
            (Some("eu-west-3"), Some(ROLE_A), &idr),
            (Some("eu-west-3"), None, &ida),
            (Some("us-west-2"), None, &idb),
        ],
        2_000,
    )
    .expect("every task completed");
    assert_eq!(done, [b.clone(), r, a.clone()], "in the order given, a repeated triple once");

    // An image looked for in the wrong region is not found there, and the message says where.
    let e = wait_targets(&c, &[(Some("eu-west-3"), None, &ida), (Some("us-west-2"), None, &ida)], 300).unwrap_err();
    assert_eq!(e.status, S::NotFound, "{e:?}");
    assert!(e.message.contains(&format!("us-west-2/{ida}")), "{}", e.message);

    // A failed task anywhere ends the wait, named with its region.
    let failed = first_in_state(&west, "Failed");
    let e =
        wait_targets(&c, &[(Some("eu-west-3"), None, &ida), (Some("us-west-2"), None, failed.ami_id.as_deref().unwrap())], 2_000)
            .unwrap_err();
    assert_eq!(e.status, S::TaskFailed, "{e:?}");
    assert!(e.message.starts_with("us-west-2/"), "{}", e.message);

    // A denied region ends the wait with its own status.
    emu.faults(&["deny,region=eu-west-3,count=1000"]);
    let e = wait_targets(&c, &[(Some("us-west-2"), None, &idb), (Some("eu-west-3"), None, &ida)], 2_000).unwrap_err();
    assert_eq!(e.status, S::Unauthorized, "{e:?}");
    assert!(e.message.starts_with("eu-west-3: "), "{}", e.message);
    emu.clear_faults();

    // Bad triples are refused before anything is sent.
    for (region, role, image) in [(Some("EU"), None, "ami-1"), (None, Some("arn:nope"), "ami-1"), (None, None, " ")] {
        let e = wait_targets(&c, &[(region, role, image)], 100).unwrap_err();
        assert_eq!(e.status, S::InvalidArgument, "{region:?} {role:?} {image:?}");
    }
    let mut err = null_mut();
    let st = storetasks::ffi::waiter::storetasks_client_wait_targets(c.0, null(), 0, null(), null(), null_mut(), &mut err);
    assert_eq!(st, S::InvalidArgument);
    take_error(st, err);
}

/// A transient error in one place of several means polling again, not the end of the wait; a
/// role that STS refuses ends it at once with CREDENTIALS (it would never come right by itself).
#[test]
fn a_wait_across_places_rides_out_a_transient_error_and_ends_on_a_refused_role() {
    let emu = fleet_emulator(&["--role", ROLE_A]);
    let cfg = Config::for_endpoint(&emu.endpoint());
    // One attempt per request: each fault is one failed poll of that place.
    cfg.retry(storetasks::ffi::config::storetasks_retry_mode::Standard, 1);
    let c = cfg.client();
    let eu = first_in_state(&baseline(&emu.endpoint(), "eu-west-3", None), "Completed");
    let west = first_in_state(&baseline(&emu.endpoint(), "us-west-2", None), "Completed");
    let (ide, idw) = (eu.ami_id.clone().unwrap(), west.ami_id.clone().unwrap());
    let before = emu.stats()["by_pair"]["123456789012/eu-west-3"]["requests"].as_u64().unwrap();
    emu.faults(&["throttle,region=eu-west-3,count=2"]);
    let done = wait_targets(&c, &[(Some("us-west-2"), None, &idw), (Some("eu-west-3"), None, &ide)], 2_000)
        .expect("the throttled polls are ridden out");
    assert_eq!(done, [west, eu]);
    assert_eq!(emu.faults_fired(), 2);
    let after = emu.stats()["by_pair"]["123456789012/eu-west-3"]["requests"].as_u64().unwrap();
    assert_eq!(after - before, 3, "two throttled polls of eu-west-3, then one that answered");

    let e = wait_targets(&c, &[(Some("us-west-2"), None, &idw), (Some("eu-west-3"), Some(ROLE_B), &ide)], 2_000).unwrap_err();
    assert_eq!(e.status, S::Credentials, "{e:?}");
    assert_eq!(e.code.as_deref(), Some("AccessDenied"), "{e:?}");
}

/// The setters that size the runtime's work refuse what it cannot take, saying why: a concurrency
/// above the documented limit was once accepted and made every fleet call return PANIC (the
/// runtime's semaphores overflow above `usize::MAX >> 3`), and billions of attempts panicked
/// inside the SDK's retry strategy. The limits themselves work, a fleet call included.
#[test]
fn concurrency_and_attempts_are_refused_above_their_limits() {
    use storetasks::ffi::config::*;
    use storetasks::ffi::{STORETASKS_MAX_ATTEMPTS, STORETASKS_MAX_CONCURRENCY};
    let emu = fleet_emulator(&[]);
    let cfg = Config::for_endpoint(&emu.endpoint());
    let why = |cfg: &Config| opt_string(storetasks_config_last_error(cfg.0)).unwrap_or_default();
    for n in [0, STORETASKS_MAX_CONCURRENCY + 1, (usize::MAX >> 3) + 1, usize::MAX] {
        assert_eq!(storetasks_config_set_max_concurrency(cfg.0, n), S::InvalidArgument, "{n}");
        assert_eq!(why(&cfg), format!("max concurrency must be from 1 to {STORETASKS_MAX_CONCURRENCY}, not {n}"));
    }
    for n in [STORETASKS_MAX_ATTEMPTS + 1, u32::MAX] {
        assert_eq!(storetasks_config_set_retry(cfg.0, 0, n), S::InvalidArgument, "{n}");
        assert_eq!(why(&cfg), format!("max attempts must be from 1 to {STORETASKS_MAX_ATTEMPTS}, not {n}"));
    }
    assert_eq!(storetasks_config_set_max_concurrency(cfg.0, STORETASKS_MAX_CONCURRENCY), S::Ok);
    assert_eq!(storetasks_config_set_retry(cfg.0, 0, STORETASKS_MAX_ATTEMPTS), S::Ok);
    let c = cfg.client();
    let (places, _) = fleet_call(&c, &Fleet::regions(&REGIONS), &Query::new().max_results(100), None).unwrap();
    for p in &places {
        assert!(p.error.is_none(), "{}: {:?}", p.region, p.error);
        assert_eq!(p.tasks, baseline(&emu.endpoint(), &p.region, None), "{}", p.region);
    }
}
