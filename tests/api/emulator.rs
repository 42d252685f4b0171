//! Starts the project's EC2 emulator for a test and talks to its control endpoint.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const ACCESS_KEY: &str = "AKIASTORETASKSLOCAL1";
pub const SECRET_KEY: &str = "storetasks-local-secret-key-0000000000000";
pub const DENIED_KEY: &str = "AKIASTORETASKSDENIED";
pub const REGION: &str = "us-east-1";

/// The emulator binary, built into the same target directory as this test.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("STORETASKS_EMULATOR") {
        return p.into();
    }
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> -> target/<profile>/storetasks-emulator
    let dir = exe.parent().and_then(|d| d.parent()).expect("target profile dir");
    let bin = dir.join("storetasks-emulator");
    assert!(bin.exists(), "{} is missing: build the workspace first (make build)", bin.display());
    bin
}

pub struct Emulator {
    child: Child,
    pub port: u16,
}

impl Emulator {
    pub fn start(args: &[&str]) -> Emulator {
        let mut child = Command::new(binary())
            .args(["--port", "0", "--deny-key", DENIED_KEY])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the emulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read listening line");
        let addr = line.trim().strip_prefix("listening ").unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        let port = addr.rsplit(':').next().unwrap().parse().expect("port");
        Emulator { child, port }
    }

    /// Starts with tasks from a JSON document in the AWS CLI's shape.
    pub fn with_tasks(json: &str, extra: &[&str]) -> Emulator {
        let dir = std::env::temp_dir().join(format!("storetasks-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let path = dir.join(format!("tasks-{}.json", N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)));
        std::fs::write(&path, json).unwrap();
        let mut args = vec!["--tasks-file", path.to_str().unwrap()];
        args.extend_from_slice(extra);
        Emulator::start(&args)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the emulator");
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let status = resp.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
        (status, body)
    }

    /// Installs faults (`KIND[,at=K][,count=N][,ms=D]`), counted from the next EC2 request.
    pub fn faults(&self, specs: &[&str]) {
        let body = serde_json::json!({ "faults": specs }).to_string();
        let (status, text) = self.http("POST", "/_emulator/faults", &body);
        assert_eq!(status, 200, "installing faults {specs:?}: {text}");
    }

    pub fn clear_faults(&self) {
        self.http("DELETE", "/_emulator/faults", "");
    }

    /// EC2 API requests received so far (all actions, faulted ones included).
    pub fn requests(&self) -> u64 {
        self.stat("requests")
    }

    /// Requests hit by an installed fault so far.
    pub fn faults_fired(&self) -> u64 {
        self.stat("faults_fired")
    }

    /// The secret keys and session tokens of the temporary credentials the emulator's STS issued.
    pub fn issued_secrets(&self) -> Vec<String> {
        let (status, body) = self.http("GET", "/_emulator/issued-secrets", "");
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("secrets JSON");
        v["secrets"].as_array().expect("secrets").iter().map(|s| s.as_str().unwrap().to_owned()).collect()
    }

    /// A counter from the emulator's stats.
    pub fn stat_u64(&self, name: &str) -> u64 {
        self.stat(name)
    }

    /// The emulator's stats document.
    pub fn stats(&self) -> serde_json::Value {
        let (_, body) = self.http("GET", "/_emulator/stats", "");
        serde_json::from_str(&body).expect("stats JSON")
    }

    /// Starts counting the most EC2 requests in flight at once again.
    pub fn reset_max_in_flight(&self) {
        let (status, body) = self.http("DELETE", "/_emulator/max-in-flight", "");
        assert_eq!(status, 200, "{body}");
    }

    /// The ids of a pair's tasks that EC2 reports (started within 31 days of `now_ms`), newest
    /// first, from the emulator's own store: what a listing of that place must return.
    pub fn visible_ids(&self, region: &str, account: &str, now_ms: i64) -> Vec<String> {
        let (status, body) = self.http("GET", &format!("/_emulator/tasks?region={region}&account={account}"), "");
        assert_eq!(status, 200, "{body}");
        let doc: serde_json::Value = serde_json::from_str(&body).expect("tasks JSON");
        // The same UTC format with milliseconds on both sides: the strings order as the times.
        let window_start = storetasks::describe_store_image_tasks::task::format_time_ms(now_ms - 31 * 86_400_000);
        doc["StoreImageTaskResults"]
            .as_array()
            .expect("tasks")
            .iter()
            .filter(|t| t["TaskStartTime"].as_str().expect("a start time") >= window_start.as_str())
            .map(|t| t["AmiId"].as_str().expect("an id").to_owned())
            .collect()
    }

    fn stat(&self, name: &str) -> u64 {
        let (_, body) = self.http("GET", "/_emulator/stats", "");
        let v: serde_json::Value = serde_json::from_str(&body).expect("stats JSON");
        v[name].as_u64().unwrap_or_else(|| panic!("no {name} in the stats: {body}"))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
