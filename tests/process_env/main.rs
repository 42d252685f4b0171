//! Tests that change process-wide state (environment variables the AWS SDK reads). They live in
//! a test binary of their own, so that no other test runs while the environment is changed, and
//! they take one lock each, so that they do not run at the same time as each other.

#![allow(dead_code)]

#[path = "../api/emulator.rs"]
mod emulator;
#[path = "../api/ffi.rs"]
mod ffi;

use std::net::TcpListener;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use emulator::{ACCESS_KEY, Emulator, SECRET_KEY};
use ffi::{Cancel, Config, Query, cs};
use storetasks::ffi::config::*;
use storetasks::ffi::error::storetasks_status as S;

static ENV: Mutex<()> = Mutex::new(());

/// The environment lock, and an environment in which the AWS SDK's default chain finds nothing:
/// no credentials or region variables, empty config files, the metadata service left enabled
/// (each test says where it points).
fn bare_environment() -> MutexGuard<'static, ()> {
    let guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join(format!("storetasks-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty");
    std::fs::write(&empty, "").unwrap();
    // SAFETY: every test of this binary holds the lock while it changes or relies on the
    // environment, and no test of another binary shares this process.
    unsafe {
        for v in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_EC2_METADATA_DISABLED",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        ] {
            std::env::remove_var(v);
        }
        std::env::set_var("AWS_CONFIG_FILE", &empty);
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", &empty);
    }
    guard
}

/// A listener standing in for the instance metadata service, and the environment pointing at it.
fn fake_metadata_service() -> TcpListener {
    let imds = TcpListener::bind("127.0.0.1:0").unwrap();
    imds.set_nonblocking(true).unwrap();
    let url = format!("http://{}", imds.local_addr().unwrap());
    // SAFETY: called with the environment lock held (see `bare_environment`).
    unsafe { std::env::set_var("AWS_EC2_METADATA_SERVICE_ENDPOINT", &url) };
    imds
}

/// Whether something connects to `listener` within `limit`.
fn contacted_within(listener: &TcpListener, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if listener.accept().is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn emulator() -> Emulator {
    Emulator::start(&["--generate", "3", "--seed", "4"])
}

#[test]
fn explicit_region_and_credentials_never_touch_the_metadata_service() {
    let _env = bare_environment();
    let imds = fake_metadata_service();
    let emu = emulator();

    let started = Instant::now();
    let client = Config::for_endpoint(&emu.endpoint()).client();
    let took = started.elapsed();
    assert_eq!(client.describe(&Query::new(), None).unwrap().tasks().len(), 3);
    drop(client);
    assert!(imds.accept().is_err(), "the metadata service was contacted although region and credentials were given");
    eprintln!("client creation with explicit region and credentials took {took:?}");

    // The control: without credentials the default chain does ask the metadata service, and the
    // listener sees it. So the check above can fail.
    let cfg = ffi::Config(storetasks_config_new());
    storetasks_config_set_region(cfg.0, cs("us-east-1").as_ptr());
    storetasks_config_set_endpoint_url(cfg.0, cs(&emu.endpoint()).as_ptr());
    let client = std::sync::Arc::new(cfg.client());
    let cancel = std::sync::Arc::new(Cancel::new());
    let call = {
        let (client, cancel) = (client.clone(), cancel.clone());
        std::thread::spawn(move || client.describe(&Query::new(), Some(&cancel)).map(|l| l.tasks().len()))
    };
    let contacted = contacted_within(&imds, Duration::from_secs(10));
    cancel.trigger();
    let outcome = call.join().unwrap();
    assert!(contacted, "without credentials the default chain should have asked the metadata service ({outcome:?})");
}

#[test]
fn missing_credentials_are_reported_as_such() {
    let _env = bare_environment();
    // SAFETY: the environment lock is held.
    unsafe { std::env::set_var("AWS_EC2_METADATA_DISABLED", "true") };
    let emu = emulator();
    let cfg = ffi::Config(storetasks_config_new());
    storetasks_config_set_region(cfg.0, cs("us-east-1").as_ptr());
    storetasks_config_set_endpoint_url(cfg.0, cs(&emu.endpoint()).as_ptr());
    // The profile names a section that does not exist, so nothing is found in the files either.
    storetasks_config_set_profile(cfg.0, cs("storetasks-test-no-such-profile").as_ptr());
    let client = cfg.client();
    let e = client.describe(&Query::new(), None).unwrap_err();
    assert_eq!(e.status, S::Credentials, "{e:?}");
}

#[test]
fn a_client_that_cannot_be_made_inside_a_tokio_runtime_reports_why() {
    let _env = bare_environment();
    // SAFETY: the environment lock is held.
    unsafe { std::env::set_var("AWS_EC2_METADATA_DISABLED", "true") };
    let emu = emulator();
    // No region anywhere: the client cannot be made, and its half-built runtime must be shut
    // down without the panic that dropping a runtime inside another one causes.
    for rt in [
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap(),
    ] {
        let e = rt.block_on(async {
            let cfg = ffi::Config(storetasks_config_new());
            storetasks_config_set_endpoint_url(cfg.0, cs(&emu.endpoint()).as_ptr());
            cfg.credentials(ACCESS_KEY, SECRET_KEY);
            let Err(e) = ffi::Client::new(&cfg) else { panic!("no region: no client") };
            e
        });
        assert_eq!(e.status, S::Config, "{e:?}");
        assert!(e.message.contains("no region"), "{}", e.message);
    }
}
