//! The emulator's shared state.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use crate::accounts::{BASE32, Pair};
use crate::cli::Options;
use crate::faults::{FaultBook, FaultSpec, PendingFault, Target};
use crate::sigv4::Verified;
use crate::store::{Clock, Store, mix64};

/// Request counts of one (account, region) pair.
#[derive(Debug, Default, Clone, Serialize)]
pub struct PairCount {
    /// EC2 API requests for the pair (every action, faulted and rejected ones included).
    pub requests: u64,
    pub describe: u64,
    /// Requests for the pair hit by a fault.
    pub faults: u64,
    /// The most EC2 API requests for the pair being answered at one time.
    pub max_in_flight: u64,
    #[serde(skip)]
    pub in_flight: u64,
}

/// What the emulator counted; `GET /_emulator/stats` shows all of it but the fault book.
#[derive(Default, Serialize)]
pub struct Traffic {
    /// EC2 API requests received (every action, faulted and rejected ones included).
    pub requests: u64,
    pub describe: u64,
    pub faults_fired: u64,
    /// STS requests received (AssumeRole or not, faulted and rejected ones included).
    pub assume_role_requests: u64,
    pub assume_role_faults: u64,
    /// Keyed by `account/region`.
    pub by_pair: BTreeMap<String, PairCount>,
    /// API requests by the port they came in on and the service they were signed for:
    /// `main/ec2`, `main/sts`, `sts/ec2`, `sts/sts`.
    pub arrivals: BTreeMap<String, u64>,
    /// EC2 API requests being answered now, and the most at one time.
    pub in_flight: u64,
    pub max_in_flight: u64,
    /// The distinct `User-Agent` headers of EC2 API requests (the first 64).
    pub user_agents: std::collections::BTreeSet<String>,
    #[serde(skip)]
    pub faults: FaultBook,
}

/// An EC2 API request being answered: counted in flight until dropped.
pub struct InFlight<'a> {
    emu: &'a Emulator,
    pair: Option<String>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut t = lock(&self.emu.traffic);
        t.in_flight -= 1;
        if let Some(c) = self.pair.as_ref().and_then(|p| t.by_pair.get_mut(p)) {
            c.in_flight -= 1;
        }
    }
}

/// Temporary credentials handed out by AssumeRole. Never printed or logged.
struct Session {
    secret: String,
    token: String,
    account: String,
    /// Real (wall-clock) time: clients compare it with the system clock.
    expires: SystemTime,
}

/// How long after their expiration issued credentials are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);

/// Credentials issued by AssumeRole, as sent back to the client.
pub struct Issued {
    pub access_key: String,
    pub secret: String,
    pub token: String,
    pub expires: SystemTime,
}

/// Who signed a request.
#[derive(Debug, PartialEq, Eq)]
pub struct Principal {
    pub account: String,
    /// A `--deny-key` key: authenticated, never authorized.
    pub denied: bool,
    /// Temporary credentials from AssumeRole.
    pub temporary: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum PrincipalError {
    /// Temporary credentials without their session token (or with another one).
    BadToken,
    /// Temporary credentials past their expiration.
    Expired,
}

pub struct Emulator {
    pub opts: Options,
    pub clock: Clock,
    stores: BTreeMap<Pair, Mutex<Store>>,
    home: Pair,
    pub traffic: Mutex<Traffic>,
    sessions: Mutex<HashMap<String, Session>>,
    /// Key of the HMAC tag that authenticates pagination tokens of the home pair; other pairs
    /// use keys derived from it.
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Emulator {
    /// `stores` holds the data of every served pair (a pair it lacks gets an empty store).
    pub fn new(opts: Options, mut stores: BTreeMap<Pair, Store>, clock: Clock) -> Emulator {
        let mut traffic = Traffic::default();
        for f in &opts.faults {
            traffic.faults.install(f.clone());
        }
        let pairs = opts.pairs();
        for p in &pairs {
            traffic.by_pair.insert(p.to_string(), PairCount::default());
        }
        let stores = pairs.into_iter().map(|p| (p.clone(), Mutex::new(stores.remove(&p).unwrap_or_default()))).collect();
        Emulator {
            home: opts.home_pair(),
            opts,
            clock,
            stores,
            traffic: Mutex::new(traffic),
            sessions: Mutex::new(HashMap::new()),
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

    /// `n` characters drawn from `alphabet`.
    pub fn random_string(&self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| char::from(alphabet[(self.random_u64() % alphabet.len() as u64) as usize])).collect()
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

    fn is_static_key(&self, access_key: &str) -> bool {
        access_key == self.opts.identity.access_key || self.opts.identity.deny_keys.iter().any(|k| k == access_key)
    }

    pub fn secret_for(&self, access_key: &str) -> Option<String> {
        if self.is_static_key(access_key) {
            return Some(self.opts.identity.secret_key.clone());
        }
        lock(&self.sessions).get(access_key).map(|s| s.secret.clone())
    }

    /// The account an access key belongs to, if the key is known.
    pub fn account_of_key(&self, access_key: &str) -> Option<String> {
        if self.is_static_key(access_key) {
            return Some(self.opts.identity.account_id.clone());
        }
        lock(&self.sessions).get(access_key).map(|s| s.account.clone())
    }

    /// Who signed a request whose signature checked out. Temporary credentials must come with
    /// their own session token, signed, and be unexpired; the static keys accept any token.
    pub fn principal(&self, v: &Verified) -> Result<Principal, PrincipalError> {
        if self.is_static_key(&v.access_key) {
            let denied = self.opts.identity.deny_keys.contains(&v.access_key);
            return Ok(Principal { account: self.opts.identity.account_id.clone(), denied, temporary: false });
        }
        let sessions = lock(&self.sessions);
        let s = sessions.get(&v.access_key).ok_or(PrincipalError::BadToken)?;
        let same = v.session_token.as_deref().is_some_and(|t| {
            t.len() == s.token.len() && t.bytes().zip(s.token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
        });
        if !same {
            return Err(PrincipalError::BadToken);
        }
        if SystemTime::now() >= s.expires {
            return Err(PrincipalError::Expired);
        }
        Ok(Principal { account: s.account.clone(), denied: false, temporary: true })
    }

    /// The secret parts (secret key, session token) of every temporary credential handed out and
    /// not yet forgotten: for tests that check a client never shows them.
    pub fn issued_secrets(&self) -> Vec<String> {
        lock(&self.sessions).values().flat_map(|s| [s.secret.clone(), s.token.clone()]).collect()
    }

    /// Hands out fresh temporary credentials for `account`, valid `duration` of real time.
    pub fn issue_session(&self, account: &str, duration: Duration) -> Issued {
        const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let now = SystemTime::now();
        let issued = Issued {
            access_key: format!("ASIA{}", self.random_string(BASE32, 16)),
            secret: self.random_string(SECRET_CHARS, 40),
            token: format!("IQoJb3JpZ2luX2VjE{}", self.random_string(SECRET_CHARS, 180)),
            expires: now + duration,
        };
        let mut sessions = lock(&self.sessions);
        // Expired credentials are kept a while, to be refused as expired rather than unknown.
        sessions.retain(|_, s| s.expires + FORGET_AFTER > now);
        sessions.insert(
            issued.access_key.clone(),
            Session {
                secret: issued.secret.clone(),
                token: issued.token.clone(),
                account: account.to_owned(),
                expires: issued.expires,
            },
        );
        issued
    }

    /// Whether requests for this region are counted per pair: served and opt-in regions.
    fn counted_region(&self, region: &str) -> bool {
        self.opts.regions.serves(region) || self.opts.regions.is_opt_in(region)
    }

    /// Counts one EC2 API request and returns the fault that applies to it, if any.
    pub fn count_request(&self, is_describe: bool, target: &Target<'_>) -> Option<FaultSpec> {
        let mut t = lock(&self.traffic);
        t.requests += 1;
        if is_describe {
            t.describe += 1;
        }
        let hit = t.faults.hit(target);
        if hit.is_some() {
            t.faults_fired += 1;
        }
        if let (Some(region), Some(account)) = (target.region, target.account)
            && self.counted_region(region)
        {
            let c = t.by_pair.entry(Pair::new(account, region).to_string()).or_default();
            c.requests += 1;
            c.describe += u64::from(is_describe);
            c.faults += u64::from(hit.is_some());
        }
        hit
    }

    /// Counts one STS request and returns the fault that applies to it, if any.
    pub fn count_assume_role(&self, target: &Target<'_>) -> Option<FaultSpec> {
        let mut t = lock(&self.traffic);
        t.assume_role_requests += 1;
        let hit = t.faults.hit(target);
        if hit.is_some() {
            t.assume_role_faults += 1;
        }
        hit
    }

    pub fn install_faults(&self, specs: Vec<FaultSpec>) {
        let mut t = lock(&self.traffic);
        for s in specs {
            t.faults.install(s);
        }
    }

    pub fn pending_faults(&self) -> Vec<PendingFault> {
        lock(&self.traffic).faults.pending()
    }

    pub fn clear_faults(&self) -> usize {
        lock(&self.traffic).faults.clear()
    }

    /// What `GET /_emulator/stats` shows.
    pub fn stats(&self) -> serde_json::Value {
        self.traffic(|t| serde_json::to_value(t).unwrap_or_default())
    }

    /// `f` of what the emulator counted so far.
    pub fn traffic<R>(&self, f: impl FnOnce(&Traffic) -> R) -> R {
        f(&lock(&self.traffic))
    }

    /// Counts an EC2 API request as being answered until the returned guard is dropped.
    pub fn in_flight(&self, target: &Target<'_>) -> InFlight<'_> {
        let mut t = lock(&self.traffic);
        t.in_flight += 1;
        t.max_in_flight = t.max_in_flight.max(t.in_flight);
        let pair = match (target.region, target.account) {
            (Some(region), Some(account)) if self.counted_region(region) => Some(Pair::new(account, region).to_string()),
            _ => None,
        };
        if let Some(c) = pair.as_ref().and_then(|p| t.by_pair.get_mut(p)) {
            c.in_flight += 1;
            c.max_in_flight = c.max_in_flight.max(c.in_flight);
        }
        InFlight { emu: self, pair }
    }

    /// Starts the maxima of requests in flight again from the requests in flight now.
    pub fn reset_max_in_flight(&self) {
        let mut t = lock(&self.traffic);
        t.max_in_flight = t.in_flight;
        for c in t.by_pair.values_mut() {
            c.max_in_flight = c.in_flight;
        }
    }

    /// Keeps a request's `User-Agent` (the first 64 distinct ones).
    pub fn record_user_agent(&self, user_agent: &str) {
        let mut t = lock(&self.traffic);
        if t.user_agents.len() < 64 {
            t.user_agents.insert(user_agent.to_owned());
        }
    }

    /// Counts an API request by the port it came in on and the service it was signed for.
    pub fn count_arrival(&self, listener: crate::api::Listener, service: &str) {
        *lock(&self.traffic).arrivals.entry(format!("{}/{service}", listener.name())).or_insert(0) += 1;
    }

    pub fn home_pair(&self) -> &Pair {
        &self.home
    }

    /// The tasks of a served pair.
    pub fn store_for(&self, pair: &Pair) -> Option<MutexGuard<'_, Store>> {
        self.stores.get(pair).map(lock)
    }

    /// The key of the pagination tokens of a pair: a token is only valid for the pair that
    /// issued it.
    pub fn token_key_for(&self, pair: &Pair) -> [u8; 32] {
        if *pair == self.home {
            return self.token_key;
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.token_key).expect("HMAC accepts keys of any length");
        mac.update(pair.to_string().as_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emulator(args: &[&str]) -> Emulator {
        let opts = match crate::cli::parse(args.iter().map(|s| (*s).to_owned())) {
            Ok(crate::cli::Parsed::Run(o)) => *o,
            _ => panic!("bad test options"),
        };
        Emulator::new(opts, BTreeMap::new(), Clock::new(Some(0)))
    }

    fn verified(access_key: &str, token: Option<&str>) -> Verified {
        Verified { access_key: access_key.into(), region: "us-east-1".into(), session_token: token.map(str::to_owned) }
    }

    #[test]
    fn sessions_need_their_token_and_expire() {
        let emu = emulator(&["--deny-key", "AKIADENIED", "--role", "arn:aws:iam::210987654321:role/r"]);
        let static_key = emu.principal(&verified(crate::cli::DEFAULT_ACCESS_KEY, Some("anything"))).unwrap();
        assert_eq!(static_key, Principal { account: "123456789012".into(), denied: false, temporary: false });
        assert!(emu.principal(&verified("AKIADENIED", None)).unwrap().denied);

        let a = emu.issue_session("210987654321", Duration::from_secs(900));
        let b = emu.issue_session("210987654321", Duration::from_secs(900));
        assert!(a.access_key.starts_with("ASIA") && a.access_key.len() == 20);
        assert_ne!((&a.access_key, &a.secret, &a.token), (&b.access_key, &b.secret, &b.token));
        assert_eq!(emu.secret_for(&a.access_key).as_deref(), Some(a.secret.as_str()));
        assert_eq!(emu.account_of_key(&a.access_key).as_deref(), Some("210987654321"));
        let p = emu.principal(&verified(&a.access_key, Some(&a.token))).unwrap();
        assert_eq!(p, Principal { account: "210987654321".into(), denied: false, temporary: true });
        assert_eq!(emu.principal(&verified(&a.access_key, None)), Err(PrincipalError::BadToken));
        assert_eq!(emu.principal(&verified(&a.access_key, Some(&b.token))), Err(PrincipalError::BadToken));
        assert_eq!(emu.principal(&verified("ASIAUNKNOWN", Some(&a.token))), Err(PrincipalError::BadToken));

        let gone = emu.issue_session("210987654321", Duration::ZERO);
        assert_eq!(emu.principal(&verified(&gone.access_key, Some(&gone.token))), Err(PrincipalError::Expired));
    }

    #[test]
    fn every_served_pair_has_a_store_and_a_count() {
        let emu =
            emulator(&["--regions", "eu-west-3", "--opt-in-region", "af-south-1", "--role", "arn:aws:iam::210987654321:role/r"]);
        for pair in ["123456789012/us-east-1", "123456789012/eu-west-3", "210987654321/us-east-1", "210987654321/eu-west-3"] {
            let (a, r) = pair.split_once('/').unwrap();
            assert!(emu.store_for(&Pair::new(a, r)).is_some(), "{pair}");
            assert!(emu.traffic(|t| t.by_pair.contains_key(pair)), "{pair}");
        }
        assert!(emu.store_for(&Pair::new("123456789012", "af-south-1")).is_none());
        assert_eq!(emu.traffic(|t| t.by_pair.len()), 4);
        let home = emu.home_pair().clone();
        let other = Pair::new("210987654321", "us-east-1");
        assert_eq!(emu.token_key_for(&home), emu.token_key);
        assert_ne!(emu.token_key_for(&other), emu.token_key);
        assert_eq!(emu.token_key_for(&other), emu.token_key_for(&other.clone()));
    }
}
