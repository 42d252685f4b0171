//! The fault matrix: each fault the emulator can inject, at the first page and in the middle of
//! a 50-page listing, and the outcome the library reports. Every successful listing must hold
//! each task exactly once; every failure must carry the documented status and code, and a
//! message of one line with no Debug dump of the SDK's types in it.

use crate::emulator::Emulator;
use crate::ffi::{Config, Query};
use storetasks::ffi::config::storetasks_retry_mode as Retry;
use storetasks::ffi::error::storetasks_status as S;

const TASKS: usize = 500;
/// What a message must never hold: pieces of a Rust Debug dump of the SDK's types.
const DEBUG_DUMP: [&str; 6] = ["ServiceError(", "SdkBody", "Extensions", "Some(b\"", "Response {", "Unhandled("];
const PAGE: i32 = 10; // 50 pages

struct Case {
    fault: &'static str,
    /// The outcome: Ok, or the status and AWS code.
    expect: Result<(), (S, Option<&'static str>)>,
}

fn cases() -> Vec<Case> {
    let ok = Ok(());
    vec![
        Case { fault: "throttle,count=2", expect: ok },
        Case { fault: "throttle,count=3", expect: Err((S::Throttled, Some("RequestLimitExceeded"))) },
        Case { fault: "internal,count=2", expect: ok },
        Case { fault: "internal,count=3", expect: Err((S::Service, Some("InternalError"))) },
        Case { fault: "unavailable,count=1", expect: ok },
        Case { fault: "drop,count=2", expect: ok },
        Case { fault: "drop,count=3", expect: Err((S::Network, None)) },
        Case { fault: "delay,ms=1500,count=1", expect: ok },
        Case { fault: "delay,ms=1500,count=3", expect: Err((S::Timeout, None)) },
        Case { fault: "truncate", expect: Err((S::Response, None)) },
        Case { fault: "malformed", expect: Err((S::Response, None)) },
        Case { fault: "garbage", expect: Err((S::Response, None)) },
        Case { fault: "wrongroot", expect: Err((S::Response, None)) },
        Case { fault: "repeat-token", expect: Err((S::Response, None)) },
        Case { fault: "empty-pages,count=5", expect: ok },
        Case { fault: "empty-pages,count=150", expect: Err((S::Response, None)) },
        // Replies that are not EC2's: retried, then reported with their HTTP status.
        Case { fault: "html,count=2", expect: ok },
        Case { fault: "html,count=3", expect: Err((S::Service, None)) },
        Case { fault: "empty503,count=3", expect: Err((S::Network, None)) },
        Case { fault: "json502,count=3", expect: Err((S::Network, None)) },
    ]
}

fn describe(r: &Result<(), (S, Option<String>)>) -> String {
    match r {
        Ok(()) => "OK, all tasks once".to_owned(),
        Err((s, Some(c))) => format!("{s:?} ({c})"),
        Err((s, None)) => format!("{s:?}"),
    }
}

#[test]
fn fault_matrix() {
    let (doc, expected) = crate::fixture(TASKS);
    let expected = std::sync::Arc::new(expected);
    let mut rows = Vec::new();
    let positions = [("first page", 1), ("page 25 of 50", 25)];
    let handles: Vec<_> = cases()
        .into_iter()
        .flat_map(|c| positions.iter().map(move |p| (c.fault, c.expect, *p)))
        .map(|(fault, expect, (pos_name, at))| {
            let doc = doc.clone();
            let expected = expected.clone();
            std::thread::spawn(move || {
                let emu = Emulator::with_tasks(&doc, &["--now", crate::NOW]);
                let cfg = Config::for_endpoint(&emu.endpoint());
                cfg.retry(Retry::Standard, 3).timeouts(2_000, 500, 10_000);
                let client = cfg.client();
                let spec = format!("{fault},at={at}");
                emu.faults(&[&spec]);
                let got = match client.all(&Query::new().max_results(PAGE), 0, None) {
                    Ok(list) => {
                        let tasks = list.tasks();
                        assert_eq!(tasks, *expected, "{spec}: a successful listing holds each task exactly once");
                        Ok(())
                    }
                    Err(f) => {
                        assert!(!f.message.contains('\n'), "{spec}: one line: {:?}", f.message);
                        for dump in DEBUG_DUMP {
                            assert!(!f.message.contains(dump), "{spec}: a Debug dump in {:?}", f.message);
                        }
                        Err((f.status, f.code.clone()))
                    }
                };
                let want = expect.map_err(|(s, c)| (s, c.map(str::to_owned)));
                (fault, pos_name, got, want)
            })
        })
        .collect();
    let mut wrong = 0;
    for h in handles {
        let (fault, pos, got, want) = h.join().expect("a fault case panicked");
        let mark = if got == want { String::new() } else { format!("  <-- expected {}", describe(&want)) };
        if got != want {
            wrong += 1;
        }
        rows.push(format!("| {fault:<24} | {pos:<13} | {}{mark} |", describe(&got)));
    }
    eprintln!("| fault                    | position      | outcome |");
    eprintln!("|--------------------------|---------------|---------|");
    for r in &rows {
        eprintln!("{r}");
    }
    eprintln!("{} faults x {} positions tried", cases().len(), positions.len());
    assert_eq!(wrong, 0, "{wrong} cases differ from the documented outcome");
}
