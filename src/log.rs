//! Where the library's `tracing` events go: a callback the host registers, and stderr when the
//! environment variable `STORETASKS_LOG` asks for it. Secrets of live clients are masked in
//! every line, at every level.
//!
//! `STORETASKS_LOG` takes a level (`error`, `warn`, `info`, `debug`, `trace`), optionally
//! followed or replaced by `target=level` pairs, comma-separated: `STORETASKS_LOG=info,storetasks=trace`.
//! The most specific target prefix wins.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

/// A sink for log lines: level, target, message.
pub type LogSink = Arc<dyn Fn(Level, &str, &str) + Send + Sync>;

struct Callback {
    max_level: Level,
    sink: LogSink,
}

#[derive(Default)]
struct Hub {
    callback: RwLock<Option<Callback>>,
    stderr: Vec<(String, Level)>,
    secrets: Mutex<Vec<(u64, String)>>,
}

static HUB: OnceLock<Hub> = OnceLock::new();
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Parses a `STORETASKS_LOG` value into (target prefix, level) directives; "" targets all.
pub fn parse_directives(spec: &str) -> Vec<(String, Level)> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (target, level) = match part.split_once('=') {
            Some((t, l)) => (t.trim().to_owned(), l.trim()),
            None => (String::new(), part),
        };
        if let Ok(level) = level.parse::<Level>() {
            out.push((target, level));
        }
    }
    // Longest prefix first, so the most specific directive decides.
    out.sort_by_key(|e| std::cmp::Reverse(e.0.len()));
    out
}

fn stderr_allows(directives: &[(String, Level)], meta: &Metadata<'_>) -> bool {
    directives.iter().find(|(t, _)| meta.target().starts_with(t.as_str())).is_some_and(|(_, l)| meta.level() <= l)
}

static CAPTURE: AtomicBool = AtomicBool::new(true);

fn hub() -> &'static Hub {
    HUB.get_or_init(|| {
        let stderr = std::env::var("STORETASKS_LOG").map(|s| parse_directives(&s)).unwrap_or_default();
        let hub = Hub { stderr, ..Hub::default() };
        // A host that already set its own global subscriber keeps it; ours is then unused.
        if CAPTURE.load(Ordering::SeqCst) {
            let _ = tracing::subscriber::set_global_default(HubSubscriber);
        }
        hub
    })
}

/// For Rust programs that use the library as a crate: never install the library's `tracing`
/// subscriber as the process's global default, so that the program's own subscriber (set before
/// or after the first client) receives the library's events. Call it before the first client is
/// created; afterwards it changes nothing. The log callback and `STORETASKS_LOG` then stay silent.
/// Returns whether it took effect.
pub fn keep_host_subscriber() -> bool {
    CAPTURE.store(false, Ordering::SeqCst);
    HUB.get().is_none()
}

/// Makes sure events are routed (reads `STORETASKS_LOG` once). Called when a client is created.
pub fn init() {
    hub();
}

/// Registers (or, with `None`, removes) the log callback and the most verbose level it wants.
///
/// Returns only when no call to the callback it replaces is still running on any thread (calls
/// hold the lock that this takes for writing), so the old callback's data may be released as
/// soon as it returns. Must not be called from inside the callback itself: that would wait for
/// its own call to end.
pub fn set_callback(callback: Option<(Level, LogSink)>) {
    let h = hub();
    let old = {
        let mut slot = h.callback.write().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut *slot, callback.map(|(max_level, sink)| Callback { max_level, sink }))
    };
    // The old sink is dropped here, outside the lock: nothing can call it any more.
    drop(old);
    tracing::callsite::rebuild_interest_cache();
}

/// Masks these strings in every log line until the returned guard is dropped.
pub fn register_secrets(secrets: &[String]) -> SecretGuard {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let mut list = hub().secrets.lock().unwrap_or_else(|e| e.into_inner());
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        list.push((id, s.clone()));
    }
    SecretGuard(id)
}

/// Removes a client's secrets from the mask list when the client goes away.
#[derive(Debug)]
pub struct SecretGuard(u64);

impl Drop for SecretGuard {
    fn drop(&mut self) {
        if let Some(h) = HUB.get() {
            h.secrets.lock().unwrap_or_else(|e| e.into_inner()).retain(|(id, _)| *id != self.0);
        }
    }
}

fn mask(h: &Hub, mut line: String) -> String {
    for (_, s) in h.secrets.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        if line.contains(s.as_str()) {
            line = line.replace(s.as_str(), "***");
        }
    }
    line
}

struct HubSubscriber;

#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={:?}", field.name(), value);
        }
    }
}

impl HubSubscriber {
    fn wants(&self, meta: &Metadata<'_>) -> (bool, bool) {
        let Some(h) = HUB.get() else { return (false, false) };
        let to_callback = h.callback.read().map(|c| c.as_ref().is_some_and(|c| meta.level() <= &c.max_level)).unwrap_or(false);
        (to_callback, stderr_allows(&h.stderr, meta))
    }
}

impl Subscriber for HubSubscriber {
    fn register_callsite(&self, _meta: &'static Metadata<'static>) -> Interest {
        // The callback can be set at any time, so every callsite is asked again each time.
        Interest::sometimes()
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        if meta.is_span() {
            return false;
        }
        let (cb, err) = self.wants(meta);
        cb || err
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let (to_callback, to_stderr) = self.wants(meta);
        let Some(h) = HUB.get() else { return };
        let mut line = Line::default();
        event.record(&mut line);
        let text = mask(h, format!("{}{}", line.message, line.fields));
        if to_stderr {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            let stamp = crate::describe_store_image_tasks::task::format_time_ms(now.as_millis() as i64);
            let _ = writeln!(std::io::stderr().lock(), "{stamp} {:>5} {}: {text}", meta.level(), meta.target());
        }
        if to_callback {
            // The read lock is held for the whole call, so that `set_callback`, which takes the
            // write lock, returns only once no call to the callback it replaces is running: the
            // host may free the old callback's data as soon as the setter returns.
            let guard = h.callback.read().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = guard.as_ref().filter(|c| meta.level() <= &c.max_level) {
                (c.sink)(*meta.level(), meta.target(), &text);
            }
        }
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_pick_the_most_specific_target() {
        let d = parse_directives("warn, storetasks=trace ,aws_smithy=bogus");
        assert_eq!(d, vec![("storetasks".to_owned(), Level::TRACE), (String::new(), Level::WARN)]);
        assert!(parse_directives("").is_empty());
    }
}
