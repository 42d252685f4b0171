//! The emulator's shared state.

use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::cli::Options;
use crate::faults::{FaultBook, FaultSpec, PendingFault};
use crate::store::{Clock, Store, mix64};

#[derive(Default)]
pub struct Traffic {
    /// EC2 API requests received (every action, faulted and rejected ones included).
    pub requests: u64,
    pub describe: u64,
    pub faults_fired: u64,
    pub faults: FaultBook,
}

pub struct Emulator {
    pub opts: Options,
    pub clock: Clock,
    pub store: Mutex<Store>,
    pub traffic: Mutex<Traffic>,
    /// Key of the HMAC tag that authenticates pagination tokens.
    pub token_key: [u8; 32],
    random_seed: u64,
    random_counter: AtomicU64,
    /// Told by `POST /_emulator/shutdown`: the server stops as on SIGTERM.
    pub stop: tokio::sync::Notify,
}

fn os_random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf));
    if filled.is_err() {
        // Fall back on the clock and the process id: tokens only need to be hard to forge by
        // accident in a test.
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        let mut s = t ^ u64::from(std::process::id()).rotate_left(32);
        for chunk in buf.chunks_mut(8) {
            s = mix64(s.wrapping_add(0x9E37_79B9_7F4A_7C15));
            chunk.copy_from_slice(&s.to_le_bytes()[..chunk.len()]);
        }
    }
    buf
}

impl Emulator {
    pub fn new(opts: Options, store: Store, clock: Clock) -> Emulator {
        let mut traffic = Traffic::default();
        for f in &opts.faults {
            traffic.faults.install(f.clone(), 0);
        }
        Emulator {
            opts,
            clock,
            store: Mutex::new(store),
            traffic: Mutex::new(traffic),
            token_key: os_random_bytes::<32>(),
            random_seed: u64::from_le_bytes(os_random_bytes::<8>()),
            random_counter: AtomicU64::new(0),
            stop: tokio::sync::Notify::new(),
        }
    }

    pub fn random_u64(&self) -> u64 {
        let n = self.random_counter.fetch_add(1, Ordering::Relaxed);
        mix64(self.random_seed ^ mix64(n.wrapping_add(0x5151_5151)))
    }

    /// A version-4 UUID string.
    pub fn request_id(&self) -> String {
        let a = self.random_u64();
        let b = self.random_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    pub fn secret_for(&self, access_key: &str) -> Option<String> {
        (access_key == self.opts.access_key || self.opts.deny_keys.iter().any(|k| k == access_key))
            .then(|| self.opts.secret_key.clone())
    }

    pub fn is_denied(&self, access_key: &str) -> bool {
        self.opts.deny_keys.iter().any(|k| k == access_key)
    }

    /// Counts one EC2 API request and returns the fault that applies to it, if any.
    pub fn count_request(&self, is_describe: bool) -> Option<FaultSpec> {
        let mut t = self.traffic.lock().unwrap_or_else(|e| e.into_inner());
        t.requests += 1;
        if is_describe {
            t.describe += 1;
        }
        let ordinal = t.requests;
        let hit = t.faults.hit(ordinal);
        if hit.is_some() {
            t.faults_fired += 1;
        }
        hit
    }

    pub fn install_faults(&self, specs: Vec<FaultSpec>) {
        let mut t = self.traffic.lock().unwrap_or_else(|e| e.into_inner());
        let so_far = t.requests;
        for s in specs {
            t.faults.install(s, so_far);
        }
    }

    pub fn pending_faults(&self) -> Vec<PendingFault> {
        let t = self.traffic.lock().unwrap_or_else(|e| e.into_inner());
        t.faults.pending(t.requests)
    }

    pub fn clear_faults(&self) -> usize {
        self.traffic.lock().unwrap_or_else(|e| e.into_inner()).faults.clear()
    }

    pub fn stats(&self) -> (u64, u64, u64) {
        let t = self.traffic.lock().unwrap_or_else(|e| e.into_inner());
        (t.requests, t.describe, t.faults_fired)
    }

    pub fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}
