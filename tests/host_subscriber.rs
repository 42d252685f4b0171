//! A Rust program that uses the library as a crate can keep its own `tracing` subscriber: with
//! `storetasks::log::keep_host_subscriber()` called first, the library installs none, and the
//! program's subscriber, set after the first client, receives the library's events. This is a
//! test binary of its own because the global subscriber is process-wide.

#[allow(dead_code)]
#[path = "api/emulator.rs"]
mod emulator;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

struct Counting(Arc<AtomicUsize>);

impl Subscriber for Counting {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if event.metadata().target().starts_with("storetasks") {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn the_host_keeps_its_own_subscriber() {
    assert!(storetasks::log::keep_host_subscriber(), "called before any client");
    let emu = emulator::Emulator::start(&["--generate", "4", "--seed", "2"]);
    let config = storetasks::ClientConfig {
        region: Some(emulator::REGION.into()),
        endpoint_url: Some(emu.endpoint()),
        credentials: Some(storetasks::StaticCredentials {
            access_key_id: emulator::ACCESS_KEY.into(),
            secret_access_key: emulator::SECRET_KEY.into(),
            session_token: None,
        }),
        ..Default::default()
    };
    let client = storetasks::Client::new(config.clone()).unwrap();
    // The library took no global subscriber, so the host can still set its own.
    let seen = Arc::new(AtomicUsize::new(0));
    tracing::subscriber::set_global_default(Counting(seen.clone())).expect("the global default is still free");
    let page = client.describe_page(&storetasks::Query::default(), None).unwrap();
    assert_eq!(page.tasks.len(), 4);
    drop(storetasks::Client::new(config).unwrap());
    assert!(seen.load(Ordering::SeqCst) > 0, "the host's subscriber received the library's events");
    assert!(!storetasks::log::keep_host_subscriber(), "too late once a client exists");
}
