//! Small safe wrappers over the C functions, so that the tests read as what they check. Every
//! call here goes through the `extern "C"` surface, exactly as a C program would make it.

use std::ffi::{CStr, CString, c_char, c_void};
use std::ptr::{null, null_mut};

use storetasks::ffi::cancel::*;
use storetasks::ffi::client::*;
use storetasks::ffi::config::*;
use storetasks::ffi::error::*;
use storetasks::ffi::query::*;
use storetasks::ffi::task_list::*;

use crate::emulator::{ACCESS_KEY, REGION, SECRET_KEY};
use storetasks::ffi::log::{storetasks_log_level, storetasks_set_log_callback};

pub fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

pub fn opt_string(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned())
}

/// What an error object held, copied out.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub status: storetasks_status,
    pub message: String,
    pub code: Option<String>,
    pub http_status: u16,
    pub request_id: Option<String>,
}

/// Secrets the tests use; no error, JSON or log line may ever contain one of them.
pub const SECRETS: [&str; 2] = [SECRET_KEY, "not-the-secret-at-all-0123456789abcdef"];

static SWEEP_HITS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
static SWEEP: std::sync::Once = std::sync::Once::new();

fn sweep(text: &str, what: &str) {
    for s in SECRETS {
        if text.contains(s) {
            SWEEP_HITS.lock().unwrap().push(format!("{what}: {text}"));
        }
    }
}

unsafe extern "C" fn sweep_log(_level: i32, target: *const c_char, message: *const c_char, _user: *mut c_void) {
    sweep(&opt_string(target).unwrap_or_default(), "log target");
    sweep(&opt_string(message).unwrap_or_default(), "log line");
}

/// From the first client on, every log event at the most verbose level is searched for the
/// secrets (until a test installs its own capture, which hands back to this one when done).
pub fn install_secret_sweep() {
    SWEEP.call_once(|| {
        assert_eq!(
            storetasks_set_log_callback(Some(sweep_log), storetasks_log_level::Trace as i32, null_mut()),
            storetasks_status::Ok
        );
    });
}

pub fn assert_no_secret_seen() {
    let hits = SWEEP_HITS.lock().unwrap();
    assert!(hits.is_empty(), "secrets appeared: {:?}", &hits[..hits.len().min(3)]);
}

pub fn take_error(status: storetasks_status, err: *mut storetasks_error) -> Failure {
    assert_ne!(status, storetasks_status::Ok);
    assert!(!err.is_null(), "a failed call must fill the error object");
    let f = Failure {
        status: storetasks_error_status(err),
        message: opt_string(storetasks_error_message(err)).expect("message"),
        code: opt_string(storetasks_error_code(err)),
        http_status: storetasks_error_http_status(err),
        request_id: opt_string(storetasks_error_request_id(err)),
    };
    assert_eq!(f.status, status, "the error object's status matches the returned one");
    storetasks_error_free(err);
    for text in [Some(&f.message), f.code.as_ref(), f.request_id.as_ref()].into_iter().flatten() {
        sweep(text, "error object");
    }
    assert_no_secret_seen();
    f
}

/// Declares `$name`, the owner of one C object, which `$free` frees when the owner is dropped.
/// With `shared`, the owner may also be used from several threads at once, as the C API allows
/// for that object once it is built.
macro_rules! owned_handle {
    ($(#[$m:meta])* shared $vis:vis $name:ident($c:ty), $free:path) => {
        owned_handle!($(#[$m])* $vis $name($c), $free);
        // SAFETY: the C API lets this object be used from any thread once it is built.
        unsafe impl Send for $name {}
        // SAFETY: and by many threads at once.
        unsafe impl Sync for $name {}
    };
    ($(#[$m:meta])* $vis:vis $name:ident($c:ty), $free:path) => {
        $(#[$m])*
        $vis struct $name(pub *mut $c);

        impl Drop for $name {
            fn drop(&mut self) {
                $free(self.0);
            }
        }
    };
}
#[allow(unused_imports, reason = "only the fleet tests declare owners outside this file")]
pub(crate) use owned_handle;

/// A task copied out of a list, in the library's own model.
pub type T = storetasks::Task;

owned_handle!(#[derive(Debug)] pub List(storetasks_task_list), storetasks_task_list_free);

impl List {
    pub fn tasks(&self) -> Vec<T> {
        copy_tasks(self.0)
    }
    pub fn next_token(&self) -> Option<String> {
        opt_string(storetasks_task_list_next_token(self.0))
    }
    pub fn truncated(&self) -> bool {
        storetasks_task_list_truncated(self.0)
    }
    pub fn json(&self) -> String {
        let mut out: *mut c_char = null_mut();
        let st = storetasks_task_list_to_json(self.0, &mut out, null_mut());
        assert_eq!(st, storetasks_status::Ok);
        let s = opt_string(out).unwrap();
        storetasks::ffi::storetasks_string_free(out);
        sweep(&s, "JSON");
        s
    }
}

pub fn copy_tasks(list: *const storetasks_task_list) -> Vec<T> {
    let n = storetasks_task_list_len(list);
    let base = storetasks_task_list_tasks(list);
    (0..n)
        .map(|i| {
            let t = unsafe { &*base.add(i) };
            assert!(std::ptr::eq(t, storetasks_task_list_get(list, i)));
            let state = opt_string(t.state_raw);
            let expected_enum = match state.as_deref() {
                Some("InProgress") => storetasks_task_state::InProgress,
                Some("Completed") => storetasks_task_state::Completed,
                Some("Failed") => storetasks_task_state::Failed,
                _ => storetasks_task_state::Unknown,
            };
            assert_eq!(t.state, expected_enum);
            T {
                ami_id: opt_string(t.ami_id),
                task_start_time_ms: t.has_task_start_time.then_some(t.task_start_time_ms),
                bucket: opt_string(t.bucket),
                s3_object_key: opt_string(t.s3_object_key),
                progress_percentage: t.has_progress_percentage.then_some(t.progress_percentage),
                state: storetasks::TaskState::parse(state.as_deref()),
                failure_reason: opt_string(t.failure_reason),
            }
        })
        .collect()
}

owned_handle!(pub Config(storetasks_config), storetasks_config_free);

impl Config {
    /// Region, endpoint and the emulator's credentials, retries kept short.
    pub fn for_endpoint(endpoint: &str) -> Config {
        install_secret_sweep();
        // Every reply these tests read is read twice, by the library and by the SDK, and compared.
        storetasks::describe_store_image_tasks::sdk_hook::check::set_differential(true);
        let c = Config(storetasks_config_new());
        assert!(!c.0.is_null());
        assert_eq!(storetasks_config_set_region(c.0, cs(REGION).as_ptr()), storetasks_status::Ok);
        assert_eq!(storetasks_config_set_endpoint_url(c.0, cs(endpoint).as_ptr()), storetasks_status::Ok);
        // The emulator answers STS on the same port; the endpoint URL is EC2's alone.
        assert_eq!(storetasks_config_set_sts_endpoint_url(c.0, cs(endpoint).as_ptr()), storetasks_status::Ok);
        c.credentials(ACCESS_KEY, SECRET_KEY);
        c
    }
    pub fn sts_endpoint_url(&self, url: Option<&str>) -> &Self {
        let url = url.map(cs);
        let ptr = url.as_ref().map_or(std::ptr::null(), |u| u.as_ptr());
        assert_eq!(storetasks_config_set_sts_endpoint_url(self.0, ptr), storetasks_status::Ok);
        self
    }
    pub fn region(&self, region: &str) -> &Self {
        assert_eq!(storetasks_config_set_region(self.0, cs(region).as_ptr()), storetasks_status::Ok);
        self
    }
    pub fn credentials(&self, ak: &str, sk: &str) -> &Self {
        assert_eq!(storetasks_config_set_credentials(self.0, cs(ak).as_ptr(), cs(sk).as_ptr(), null()), storetasks_status::Ok);
        self
    }
    pub fn retry(&self, mode: storetasks_retry_mode, attempts: u32) -> &Self {
        assert_eq!(storetasks_config_set_retry(self.0, mode as i32, attempts), storetasks_status::Ok);
        self
    }
    pub fn timeouts(&self, connect: u64, attempt: u64, operation: u64) -> &Self {
        assert_eq!(storetasks_config_set_timeouts(self.0, connect, attempt, operation), storetasks_status::Ok);
        self
    }
    pub fn max_concurrency(&self, n: usize) -> &Self {
        assert_eq!(storetasks::ffi::config::storetasks_config_set_max_concurrency(self.0, n), storetasks_status::Ok);
        self
    }
    pub fn client(&self) -> Client {
        Client::new(self).expect("client")
    }
}

#[derive(Debug)]
pub struct Client(pub *mut storetasks_client);
// The C API promises a client may be shared between threads; the tests rely on it.
unsafe impl Send for Client {}
unsafe impl Sync for Client {}

impl Client {
    pub fn new(cfg: &Config) -> Result<Client, Failure> {
        let mut c = null_mut();
        let mut err = null_mut();
        let st = storetasks_client_new(cfg.0, &mut c, &mut err);
        if st != storetasks_status::Ok {
            return Err(take_error(st, err));
        }
        assert!(!c.is_null());
        Ok(Client(c))
    }

    pub fn describe(&self, q: &Query, cancel: Option<&Cancel>) -> Result<List, Failure> {
        let mut l = null_mut();
        let mut err = null_mut();
        let st = storetasks_client_describe(self.0, q.0, cancel.map_or(null(), |c| c.0), &mut l, &mut err);
        finish(st, l, err)
    }

    pub fn all(&self, q: &Query, max_tasks: usize, cancel: Option<&Cancel>) -> Result<List, Failure> {
        let mut l = null_mut();
        let mut err = null_mut();
        let st = storetasks_client_describe_all(self.0, q.0, max_tasks, cancel.map_or(null(), |c| c.0), &mut l, &mut err);
        finish(st, l, err)
    }

    /// Page by page; `keep_going` decides after each page. Returns the pages seen.
    pub fn pages(&self, q: &Query, max_tasks: usize, keep_going: impl FnMut(&[T]) -> bool) -> (Vec<Vec<T>>, Result<(), Failure>) {
        let mut marks = Vec::new();
        self.pages_with(q, max_tasks, keep_going, &mut marks)
    }

    /// Every page, with each page's truncation mark in `marks`.
    pub fn pages_marked(&self, q: &Query, max_tasks: usize, marks: &mut Vec<bool>) -> (Vec<Vec<T>>, Result<(), Failure>) {
        self.pages_with(q, max_tasks, |_| true, marks)
    }

    fn pages_with(
        &self,
        q: &Query,
        max_tasks: usize,
        mut keep_going: impl FnMut(&[T]) -> bool,
        marks: &mut Vec<bool>,
    ) -> (Vec<Vec<T>>, Result<(), Failure>) {
        struct State<'a> {
            pages: Vec<Vec<T>>,
            marks: &'a mut Vec<bool>,
            keep_going: &'a mut dyn FnMut(&[T]) -> bool,
        }
        unsafe extern "C" fn on_page(page: *const storetasks_task_list, user: *mut c_void) -> bool {
            // SAFETY: `user` is the `State` below, alive and not otherwise borrowed for the whole
            // call, and the callback runs on the calling thread.
            let state = unsafe { &mut *(user as *mut State) };
            let tasks = copy_tasks(page);
            state.marks.push(storetasks_task_list_truncated(page));
            let go = (state.keep_going)(&tasks);
            state.pages.push(tasks);
            go
        }
        let mut state = State { pages: Vec::new(), marks, keep_going: &mut keep_going };
        let mut err = null_mut();
        let st = storetasks_client_describe_pages(
            self.0,
            q.0,
            max_tasks,
            null(),
            Some(on_page),
            &mut state as *mut State as *mut c_void,
            &mut err,
        );
        let r = if st == storetasks_status::Ok { Ok(()) } else { Err(take_error(st, err)) };
        (state.pages, r)
    }
}

fn finish(st: storetasks_status, l: *mut storetasks_task_list, err: *mut storetasks_error) -> Result<List, Failure> {
    if st == storetasks_status::Ok {
        assert!(err.is_null(), "a successful call leaves the error untouched");
        Ok(List(l))
    } else {
        assert!(l.is_null(), "a failed call leaves the list untouched");
        Err(take_error(st, err))
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        storetasks_client_free(self.0);
        if !std::thread::panicking() {
            assert_no_secret_seen();
            let disagreements = storetasks::describe_store_image_tasks::sdk_hook::check::disagreements();
            assert!(disagreements.is_empty(), "the reader and the SDK read replies differently: {disagreements:#?}");
        }
    }
}

owned_handle!(shared pub Query(storetasks_query), storetasks_query_free);

impl Query {
    pub fn new() -> Query {
        Query(storetasks_query_new())
    }
    /// `self` once the setter that returned `st` succeeded.
    fn set(self, st: storetasks_status) -> Self {
        assert_eq!(st, storetasks_status::Ok);
        self
    }
    pub fn ids<S: AsRef<str>>(self, ids: &[S]) -> Self {
        ids.iter().fold(self, |q, id| {
            let st = storetasks_query_add_image_id(q.0, cs(id.as_ref()).as_ptr());
            q.set(st)
        })
    }
    pub fn filter(self, name: &str, values: &[&str]) -> Self {
        let owned: Vec<CString> = values.iter().map(|v| cs(v)).collect();
        let ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        let st = storetasks_query_add_filter(self.0, cs(name).as_ptr(), ptrs.as_ptr(), ptrs.len());
        self.set(st)
    }
    pub fn max_results(self, n: i32) -> Self {
        let st = storetasks_query_set_max_results(self.0, n);
        self.set(st)
    }
    pub fn token(self, t: &str) -> Self {
        let st = storetasks_query_set_next_token(self.0, cs(t).as_ptr());
        self.set(st)
    }
    pub fn dry_run(self) -> Self {
        let st = storetasks_query_set_dry_run(self.0, true);
        self.set(st)
    }
}

owned_handle!(shared pub Cancel(storetasks_cancel), storetasks_cancel_free);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel(storetasks_cancel_new())
    }
    pub fn trigger(&self) {
        storetasks_cancel_trigger(self.0);
    }

    /// A token that a thread triggers after `ms` milliseconds; the thread returns when it did.
    pub fn after_ms(ms: u64) -> (std::sync::Arc<Cancel>, std::thread::JoinHandle<std::time::Instant>) {
        let cancel = std::sync::Arc::new(Cancel::new());
        let c2 = cancel.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(ms));
            c2.trigger();
            std::time::Instant::now()
        });
        (cancel, t)
    }
}

use storetasks::ffi::waiter::*;

/// Wait settings for tests: fast polls.
pub struct Wait {
    pub min_ms: u64,
    pub max_ms: u64,
    pub timeout_ms: u64,
    pub grace_ms: u64,
}

impl Default for Wait {
    fn default() -> Self {
        Wait { min_ms: 100, max_ms: 400, timeout_ms: 30_000, grace_ms: 2_000 }
    }
}

impl Client {
    /// Waits for `ids`; returns the final tasks, or the failure; `seen` gets every poll's tasks.
    pub fn wait(&self, ids: &[&str], w: &Wait, cancel: Option<&Cancel>, seen: &mut Vec<Vec<T>>) -> Result<Vec<T>, Failure> {
        unsafe extern "C" fn on_poll(tasks: *const storetasks_task_list, user: *mut c_void) -> bool {
            // SAFETY: `user` is `seen`, which the blocking wait below borrows for its whole run,
            // and the progress callback runs on the calling thread.
            let seen = unsafe { &mut *(user as *mut Vec<Vec<T>>) };
            seen.push(copy_tasks(tasks));
            true
        }
        let opts = storetasks_wait_options_new();
        assert_eq!(storetasks_wait_options_set_delays(opts, w.min_ms, w.max_ms), storetasks_status::Ok);
        assert_eq!(storetasks_wait_options_set_timeout(opts, w.timeout_ms), storetasks_status::Ok);
        assert_eq!(storetasks_wait_options_set_not_found_grace(opts, w.grace_ms), storetasks_status::Ok);
        assert_eq!(
            storetasks_wait_options_set_progress(opts, Some(on_poll), seen as *mut Vec<Vec<T>> as *mut c_void),
            storetasks_status::Ok
        );
        let owned: Vec<CString> = ids.iter().map(|i| cs(i)).collect();
        let ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        let mut out = null_mut();
        let mut err = null_mut();
        let st =
            storetasks_client_wait(self.0, ptrs.as_ptr(), ptrs.len(), opts, cancel.map_or(null(), |c| c.0), &mut out, &mut err);
        storetasks_wait_options_free(opts);
        finish(st, out, err).map(|l| l.tasks())
    }
}

/// Collects log lines through the C callback while alive.
pub struct LogCapture {
    lines: Box<std::sync::Mutex<Vec<(i32, String, String)>>>,
}

impl LogCapture {
    pub fn start(level: storetasks_log_level) -> LogCapture {
        unsafe extern "C" fn on_log(level: i32, target: *const c_char, message: *const c_char, user: *mut c_void) {
            let lines = unsafe { &*(user as *const std::sync::Mutex<Vec<(i32, String, String)>>) };
            let entry = (level, opt_string(target).unwrap(), opt_string(message).unwrap());
            // While a capture is installed it sees every test's lines: each is swept too.
            sweep(&entry.1, "log target");
            sweep(&entry.2, "log line");
            lines.lock().unwrap().push(entry);
        }
        let cap = LogCapture { lines: Box::new(std::sync::Mutex::new(Vec::new())) };
        let user = &*cap.lines as *const _ as *mut c_void;
        assert_eq!(storetasks_set_log_callback(Some(on_log), level as i32, user), storetasks_status::Ok);
        cap
    }

    pub fn lines(&self) -> Vec<(i32, String, String)> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        // Hand the log back to the suite-wide secret sweep. The setter returns only when no call
        // to `on_log` is still running, so the lines' Mutex may be freed right after.
        storetasks_set_log_callback(Some(sweep_log), storetasks_log_level::Trace as i32, null_mut());
    }
}
