//! End-to-end tests of the emulator binary over real HTTP, with requests signed by the
//! aws-sigv4 crate.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_storetasks-emulator");
const AK: &str = "AKIASTORETASKSLOCAL1";
const SK: &str = "storetasks-local-secret-key-0000000000000";
const DENIED: &str = "AKIASTORETASKSDENIED";
const NOW: &str = "2026-11-20T12:00:00Z";

// ---- a tiny HTTP/1.1 client ----------------------------------------------------------------

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn error_code(&self) -> String {
        let doc = parse_xml(&self.body).unwrap_or_else(|e| panic!("error body not XML ({e}): {}", self.text()));
        assert_eq!(doc.root, "Response", "{}", self.text());
        doc.code.clone().expect("an error code")
    }
    /// The code of an STS error document (`ErrorResponse`).
    fn sts_error_code(&self) -> String {
        let text = self.text();
        assert!(text.contains("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>"), "{text}");
        field(&text, "Code").expect("an error code")
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

fn read_response(reader: &mut BufReader<TcpStream>) -> std::io::Result<Resp> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
    }
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status line");
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').expect("header line");
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().expect("content-length"))
        .expect("responses carry Content-Length");
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    Ok(Resp { status, headers, body })
}

fn form_encode(params: &[(&str, &str)]) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    params.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

struct Signer {
    access_key: String,
    secret_key: String,
    token: Option<String>,
    region: String,
    service: &'static str,
}

impl Signer {
    fn default_key() -> Signer {
        Signer { access_key: AK.into(), secret_key: SK.into(), token: None, region: "us-east-1".into(), service: "ec2" }
    }
    fn in_region(region: &str) -> Signer {
        Signer { region: region.into(), ..Signer::default_key() }
    }
    fn sts() -> Signer {
        Signer { service: "sts", ..Signer::default_key() }
    }
    fn key(access_key: &str, secret_key: &str) -> Signer {
        Signer { access_key: access_key.into(), secret_key: secret_key.into(), ..Signer::default_key() }
    }

    /// Returns the headers to send, Authorization included.
    fn sign(&self, method: &str, host: &str, path_and_query: &str, body: &[u8]) -> Vec<(String, String)> {
        let mut req = http::Request::builder()
            .method(method)
            .uri(format!("http://{host}{path_and_query}"))
            .header("host", host)
            .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
            .body(())
            .unwrap();
        let identity: Identity = Credentials::new(&self.access_key, &self.secret_key, self.token.clone(), None, "tests").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(self.service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let headers: Vec<(String, String)> =
            req.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned())).collect();
        let signable = SignableRequest::new(
            method,
            req.uri().to_string(),
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut req);
        req.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned())).collect()
    }
}

// ---- the emulator process ------------------------------------------------------------------

struct Emu {
    child: Child,
    host: String,
    _stdout: BufReader<ChildStdout>,
}

impl Emu {
    fn start(args: &[&str]) -> Emu {
        let mut child = Command::new(BIN)
            .args(["--now", NOW, "--deny-key", DENIED])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the emulator");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let host =
            line.trim_end().strip_prefix("listening ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_owned();
        assert!(host.starts_with("127.0.0.1:"), "{host}");
        Emu { child, host, _stdout: stdout }
    }

    fn connect(&self) -> BufReader<TcpStream> {
        let s = TcpStream::connect(&self.host).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        BufReader::new(s)
    }

    fn send_on(
        conn: &mut BufReader<TcpStream>,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> std::io::Result<Resp> {
        let mut out = format!("{method} {path} HTTP/1.1\r\n");
        for (k, v) in headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
        let s = conn.get_mut();
        s.write_all(out.as_bytes())?;
        s.write_all(body)?;
        read_response(conn)
    }

    fn raw(&self, method: &str, path: &str, headers: &[(String, String)], body: &[u8]) -> std::io::Result<Resp> {
        Self::send_on(&mut self.connect(), method, path, headers, body)
    }

    fn call_as(&self, signer: &Signer, params: &[(&str, &str)]) -> Resp {
        let body = form_encode(params);
        let headers = signer.sign("POST", &self.host, "/", body.as_bytes());
        self.raw("POST", "/", &headers, body.as_bytes()).expect("a response")
    }

    fn call(&self, params: &[(&str, &str)]) -> Resp {
        self.call_as(&Signer::default_key(), params)
    }

    fn describe(&self, extra: &[(&str, &str)]) -> Resp {
        let mut p = vec![("Action", "DescribeStoreImageTasks"), ("Version", "2016-11-15")];
        p.extend_from_slice(extra);
        self.call(&p)
    }

    fn describe_ok(&self, extra: &[(&str, &str)]) -> Doc {
        let r = self.describe(extra);
        assert_eq!(r.status, 200, "{}", r.text());
        let doc = parse_xml(&r.body).unwrap();
        assert_eq!(doc.root, "DescribeStoreImageTasksResponse");
        doc
    }

    fn control(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let headers = vec![("host".to_owned(), self.host.clone()), ("content-type".into(), "application/json".into())];
        self.raw(method, path, &headers, body.as_bytes()).unwrap()
    }

    fn stats(&self) -> Value {
        self.control("GET", "/_emulator/stats", None).json()
    }

    /// The stats fields every version of the emulator has had.
    fn base_stats(&self) -> Value {
        let s = self.stats();
        json!({"requests": s["requests"], "describe": s["describe"], "faults_fired": s["faults_fired"]})
    }

    fn faults(&self, specs: &[&str]) {
        let r = self.control("POST", "/_emulator/faults", Some(json!({ "faults": specs })));
        assert_eq!(r.status, 200, "{}", r.text());
    }

    /// Every visible task, following tokens.
    fn all_pages(&self, extra: &[(&str, &str)], page: Option<usize>) -> (Vec<BTreeMap<String, String>>, usize) {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        let page_s = page.map(|p| p.to_string());
        loop {
            let mut p: Vec<(&str, &str)> = extra.to_vec();
            if let Some(s) = &page_s {
                p.push(("MaxResults", s));
            }
            if let Some(t) = &token {
                p.push(("NextToken", t));
            }
            let doc = self.describe_ok(&p);
            pages += 1;
            if let Some(n) = page {
                assert!(doc.items.len() <= n);
            }
            items.extend(doc.items);
            match doc.next_token {
                Some(t) => {
                    assert!(Some(&t) != token.as_ref(), "token repeated");
                    token = Some(t)
                }
                None => break,
            }
            assert!(pages < 10_000);
        }
        (items, pages)
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- XML reading ---------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Doc {
    root: String,
    items: Vec<BTreeMap<String, String>>,
    next_token: Option<String>,
    request_id: Option<String>,
    code: Option<String>,
    message: Option<String>,
    object_key: Option<String>,
}

/// Parses a response into its interesting parts; errors on anything not well-formed.
fn parse_xml(body: &[u8]) -> Result<Doc, String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let mut reader = Reader::from_str(text);
    let mut doc = Doc::default();
    let mut stack: Vec<String> = Vec::new();
    let mut raw = String::new();
    let mut item: Option<BTreeMap<String, String>> = None;
    let mut saw_decl = false;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Decl(_) => saw_decl = true,
            Event::Start(s) => {
                let name = s.name().as_ref().to_owned();
                if stack.is_empty() {
                    if !doc.root.is_empty() {
                        return Err("two root elements".into());
                    }
                    doc.root = name.clone();
                }
                if name == "item" {
                    item = Some(BTreeMap::new());
                }
                stack.push(name);
                raw.clear();
            }
            Event::Text(t) => raw.push_str(&t),
            Event::GeneralRef(r) => raw.push_str(&format!("&{};", &*r)),
            Event::End(e) => {
                let name = e.name().as_ref().to_owned();
                if stack.pop().as_deref() != Some(name.as_str()) {
                    return Err(format!("mismatched </{name}>"));
                }
                let value = quick_xml::escape::unescape(&raw).map_err(|e| e.to_string())?.into_owned();
                match name.as_str() {
                    "item" => doc.items.push(item.take().unwrap()),
                    "nextToken" => doc.next_token = Some(value),
                    "requestId" | "RequestID" => doc.request_id = Some(value),
                    "Code" => doc.code = Some(value),
                    "Message" => doc.message = Some(value),
                    "objectKey" => doc.object_key = Some(value),
                    field => {
                        if let Some(i) = item.as_mut() {
                            i.insert(field.to_owned(), value);
                        }
                    }
                }
                raw.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_decl || doc.root.is_empty() || !stack.is_empty() {
        return Err(format!("incomplete document (open elements: {stack:?})"));
    }
    Ok(doc)
}

/// The text of the first `<name>` element (for values without markup).
fn field(text: &str, name: &str) -> Option<String> {
    let start = text.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + text[start..].find(&format!("</{name}>"))?;
    Some(quick_xml::escape::unescape(&text[start..end]).unwrap().into_owned())
}

fn write_tasks(name: &str, tasks: Value) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("storetasks-emulator-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, json!({ "StoreImageTaskResults": tasks }).to_string()).unwrap();
    path
}

fn amis(items: &[BTreeMap<String, String>]) -> Vec<String> {
    items.iter().map(|i| i["amiId"].clone()).collect()
}

fn dump(args: &[&str]) -> Vec<Value> {
    let out = Command::new(BIN).args(["--now", NOW, "--dump-tasks", "-"]).args(args).output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["StoreImageTaskResults"].as_array().unwrap().clone()
}

fn ms(s: &str) -> i128 {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap().unix_timestamp_nanos() / 1_000_000
}

const WINDOW_MS: i128 = 31 * 86_400_000;

// ---- tests ---------------------------------------------------------------------------------

#[test]
fn prints_listening_line_and_help() {
    let emu = Emu::start(&[]);
    let port: u16 = emu.host.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0);
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains(AK) && help.contains(SK) && help.contains("--fault"));
    let bad = Command::new(BIN).args(["--fault", "explode"]).output().unwrap();
    assert!(!bad.status.success());
}

#[test]
fn sigterm_stops_with_status_zero() {
    let mut emu = Emu::start(&[]);
    let pid = emu.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert_exits_with_zero(&mut emu, "SIGTERM");
}

/// Waits up to ten seconds for the emulator to end, and checks it ended with status 0.
fn assert_exits_with_zero(emu: &mut Emu, after: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = emu.child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0), "after {after}");
            break;
        }
        assert!(Instant::now() < deadline, "the emulator kept running after {after}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_control_endpoint_stops_it_with_status_zero() {
    let mut emu = Emu::start(&[]);
    assert_eq!(emu.control("POST", "/_emulator/shutdown", None).status, 200);
    assert_exits_with_zero(&mut emu, "/_emulator/shutdown");
}

#[test]
fn orders_newest_first_within_31_days() {
    let path = write_tasks(
        "window.json",
        json!([
            {"AmiId": "ami-00000000000000001", "TaskStartTime": "2026-11-01T00:00:00.000Z", "Bucket": "b", "StoreTaskState": "Completed", "ProgressPercentage": 100},
            {"AmiId": "ami-00000000000000002", "TaskStartTime": "2026-11-19T23:59:59.999Z", "Bucket": "b", "StoreTaskState": "InProgress", "ProgressPercentage": 5},
            {"AmiId": "ami-00000000000000003", "TaskStartTime": "2026-10-20T12:30:00Z", "Bucket": "b", "StoreTaskState": "Completed"},
            {"AmiId": "ami-00000000000000004", "TaskStartTime": "2026-10-19T11:00:00Z", "Bucket": "b", "StoreTaskState": "Completed"},
            {"AmiId": "ami-00000000000000005", "TaskStartTime": "2026-11-10T08:00:00.5+02:00", "Bucket": "b", "StoreTaskState": "Failed", "StoreTaskFailureReason": "x"}
        ]),
    );
    let emu = Emu::start(&["--tasks-file", path.to_str().unwrap()]);
    let doc = emu.describe_ok(&[]);
    assert_eq!(
        amis(&doc.items),
        ["ami-00000000000000002", "ami-00000000000000005", "ami-00000000000000001", "ami-00000000000000003"]
    );
    assert_eq!(doc.items[0]["taskStartTime"], "2026-11-19T23:59:59.999Z");
    assert_eq!(doc.items[1]["taskStartTime"], "2026-11-10T06:00:00.500Z");
    assert!(doc.next_token.is_none());
    assert!(!doc.items[2].contains_key("storeTaskFailureReason"));
    assert!(!doc.items[3].contains_key("progressPercentage"));
    // Moving the clock a day on hides the task started 31 days and ~half a day ago.
    emu.control("POST", "/_emulator/clock", Some(json!({"advance_seconds": 86400})));
    assert_eq!(emu.describe_ok(&[]).items.len(), 3);
}

#[test]
fn image_ids_give_latest_task_per_ami() {
    let path = write_tasks(
        "ids.json",
        json!([
            {"AmiId": "ami-aaaaaaaaaaaaaaaaa", "TaskStartTime": "2026-11-01T00:00:00Z", "Bucket": "old", "StoreTaskState": "Failed", "StoreTaskFailureReason": "first try"},
            {"AmiId": "ami-aaaaaaaaaaaaaaaaa", "TaskStartTime": "2026-11-02T00:00:00Z", "Bucket": "new", "StoreTaskState": "Completed", "ProgressPercentage": 100},
            {"AmiId": "ami-bbbbbbbbbbbbbbbbb", "TaskStartTime": "2026-11-03T00:00:00Z", "Bucket": "new", "StoreTaskState": "InProgress", "ProgressPercentage": 3},
            {"AmiId": "ami-ccccccccccccccccc", "TaskStartTime": "2026-11-04T00:00:00Z", "Bucket": "new", "StoreTaskState": "Completed"}
        ]),
    );
    let emu = Emu::start(&["--tasks-file", path.to_str().unwrap()]);
    let doc = emu.describe_ok(&[
        ("ImageId.1", "ami-aaaaaaaaaaaaaaaaa"),
        ("ImageId.2", "ami-bbbbbbbbbbbbbbbbb"),
        ("ImageId.3", "ami-00000000000000404"),
        ("Filter.1.Name", "task-state"),
        ("Filter.1.Value.1", "Failed"),
    ]);
    assert_eq!(amis(&doc.items), ["ami-bbbbbbbbbbbbbbbbb", "ami-aaaaaaaaaaaaaaaaa"]);
    assert_eq!(doc.items[1]["bucket"], "new");
    assert!(doc.next_token.is_none());

    let ids: Vec<String> = (0..21).map(|i| format!("ImageId.{}", i + 1)).collect();
    let vals: Vec<String> = (0..21).map(|i| format!("ami-{i:017x}")).collect();
    let p21: Vec<(&str, &str)> = ids.iter().zip(&vals).map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(emu.describe_ok(&p21[..20]).items.len(), 0);
    let r = emu.describe(&p21);
    assert_eq!((r.status, r.error_code().as_str()), (400, "InvalidParameterValue"));
    let r = emu.describe(&[("ImageId.1", "ami-aaaaaaaaaaaaaaaaa"), ("MaxResults", "5")]);
    assert_eq!((r.status, r.error_code().as_str()), (400, "InvalidParameterCombination"));
}

#[test]
fn filters_or_values_and_filters() {
    let emu = Emu::start(&["--generate", "120", "--seed", "11"]);
    let (all, _) = emu.all_pages(&[], Some(200));
    assert_eq!(all.len(), 120);
    let states: HashSet<&str> = all.iter().map(|i| i["storeTaskState"].as_str()).collect();
    assert_eq!(states, HashSet::from(["InProgress", "Completed", "Failed"]));

    let doc = emu.describe_ok(&[
        ("Filter.1.Name", "task-state"),
        ("Filter.1.Value.1", "Failed"),
        ("Filter.1.Value.2", "InProgress"),
        ("MaxResults", "200"),
    ]);
    let want: Vec<_> = all.iter().filter(|i| i["storeTaskState"] != "Completed").cloned().collect();
    assert_eq!(doc.items, want);

    let doc = emu.describe_ok(&[
        ("Filter.1.Name", "task-state"),
        ("Filter.1.Value.1", "Completed"),
        ("Filter.2.Name", "bucket"),
        ("Filter.2.Value.1", "storetasks-bucket-a"),
        ("Filter.2.Value.2", "storetasks-bucket-c"),
        ("MaxResults", "200"),
    ]);
    let want: Vec<_> = all
        .iter()
        .filter(|i| {
            i["storeTaskState"] == "Completed" && ["storetasks-bucket-a", "storetasks-bucket-c"].contains(&i["bucket"].as_str())
        })
        .cloned()
        .collect();
    assert!(!want.is_empty());
    assert_eq!(doc.items, want);

    let r = emu.describe(&[("Filter.1.Name", "image-id"), ("Filter.1.Value.1", "x")]);
    assert_eq!((r.status, r.error_code().as_str()), (400, "InvalidParameterValue"));
}

#[test]
fn max_results_range() {
    let emu = Emu::start(&["--generate", "250", "--seed", "2", "--default-page-size", "30"]);
    for bad in ["0", "201", "-1", "abc", "1.5", ""] {
        let r = emu.describe(&[("MaxResults", bad)]);
        assert_eq!((r.status, r.error_code().as_str()), (400, "InvalidParameterValue"), "MaxResults={bad}");
    }
    assert_eq!(emu.describe_ok(&[("MaxResults", "1")]).items.len(), 1);
    assert_eq!(emu.describe_ok(&[("MaxResults", "200")]).items.len(), 200);
    assert_eq!(emu.describe_ok(&[]).items.len(), 30);
}

#[test]
fn pagination_returns_each_task_once_in_order() {
    let n = 237;
    let fixture = dump(&["--generate", &n.to_string(), "--seed", "5"]);
    let now = ms(NOW);
    let expected: Vec<String> = fixture
        .iter()
        .filter(|t| ms(t["TaskStartTime"].as_str().unwrap()) >= now - WINDOW_MS)
        .map(|t| t["AmiId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(expected.len(), n);
    assert!(fixture.len() > n, "the generator also makes tasks older than 31 days");

    let emu = Emu::start(&["--generate", &n.to_string(), "--seed", "5"]);
    for page in [1, 2, 3, 7, 50, 100, 199, 200] {
        let (items, pages) = emu.all_pages(&[], Some(page));
        assert_eq!(amis(&items), expected, "page size {page}");
        assert_eq!(pages, n.div_ceil(page), "page size {page}");
    }
    let (items, pages) = emu.all_pages(&[], None);
    assert_eq!(amis(&items), expected);
    assert_eq!(pages, 3);
    let doc = emu.describe_ok(&[("MaxResults", "5")]);
    let token = doc.next_token.unwrap();
    assert!(token.contains('+') && token.contains('/') && token.contains('='), "{token}");
}

#[test]
fn pagination_is_stable_while_tasks_are_added() {
    let emu = Emu::start(&["--generate", "40", "--seed", "9"]);
    let (expected, _) = emu.all_pages(&[], Some(200));
    let first = emu.describe_ok(&[("MaxResults", "10")]);
    let mut got = amis(&first.items);
    let mut token = first.next_token;
    let mut k = 0;
    while let Some(t) = token {
        k += 1;
        let ami = format!("ami-1000000000000{k:04}");
        let r = emu.call(&[("Action", "CreateStoreImageTask"), ("Version", "2016-11-15"), ("ImageId", &ami), ("Bucket", "late")]);
        assert_eq!(r.status, 200);
        let doc = emu.describe_ok(&[("MaxResults", "10"), ("NextToken", &t)]);
        got.extend(amis(&doc.items));
        token = doc.next_token;
    }
    assert_eq!(got, amis(&expected));
}

#[test]
fn forged_and_garbled_tokens_are_rejected() {
    let emu = Emu::start(&["--generate", "30", "--seed", "3"]);
    let token = emu.describe_ok(&[("MaxResults", "5")]).next_token.unwrap();
    let mut forged = token.clone().into_bytes();
    forged[12] = if forged[12] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    for bad in [forged.as_str(), "garbage", "", "+/+/AAAA==", &token[..token.len() - 4]] {
        let r = emu.describe(&[("NextToken", bad)]);
        assert_eq!((r.status, r.error_code().as_str()), (400, "InvalidParameterValue"), "token {bad:?}");
    }
    // A token from another emulator process is forged too.
    let other = Emu::start(&["--generate", "30", "--seed", "3"]);
    let r = other.describe(&[("NextToken", &token)]);
    assert_eq!(r.status, 400);
}

#[test]
fn dry_run_and_denied_key() {
    let emu = Emu::start(&["--generate", "5"]);
    let r = emu.describe(&[("DryRun", "true")]);
    assert_eq!((r.status, r.error_code().as_str()), (412, "DryRunOperation"));
    assert_eq!(parse_xml(&r.body).unwrap().message.unwrap(), "Request would have succeeded, but DryRun flag is set.");
    assert_eq!(emu.describe(&[("DryRun", "false")]).status, 200);
    let denied = Signer::key(DENIED, SK);
    for extra in [vec![], vec![("DryRun", "true")]] {
        let mut p = vec![("Action", "DescribeStoreImageTasks"), ("Version", "2016-11-15")];
        p.extend(extra);
        let r = emu.call_as(&denied, &p);
        assert_eq!((r.status, r.error_code().as_str()), (403, "UnauthorizedOperation"));
        assert_eq!(parse_xml(&r.body).unwrap().message.unwrap(), "You are not authorized to perform this operation.");
    }
}

#[test]
fn signatures_are_verified() {
    let emu = Emu::start(&["--generate", "5"]);
    let body = form_encode(&[("Action", "DescribeStoreImageTasks"), ("Version", "2016-11-15")]);
    let host = emu.host.clone();
    let unsigned = vec![("host".to_owned(), host.clone())];
    type Headers = Vec<(String, String)>;
    let cases: Vec<(&str, Headers, String)> = vec![
        ("no Authorization", unsigned, body.clone()),
        ("wrong secret", Signer::key(AK, "not-the-secret").sign("POST", &host, "/", body.as_bytes()), body.clone()),
        ("unknown key", Signer::key("AKIAUNKNOWNKEY000000", SK).sign("POST", &host, "/", body.as_bytes()), body.clone()),
        (
            "wrong region",
            Signer { region: "eu-west-1".into(), ..Signer::default_key() }.sign("POST", &host, "/", body.as_bytes()),
            body.clone(),
        ),
        (
            "body changed after signing",
            Signer::default_key().sign("POST", &host, "/", body.as_bytes()),
            format!("{body}&MaxResults=5"),
        ),
        (
            "garbled Authorization",
            vec![("host".to_owned(), host.clone()), ("authorization".into(), "AWS4-HMAC-SHA256 nonsense".into())],
            body.clone(),
        ),
    ];
    for (what, headers, sent) in cases {
        let r = emu.raw("POST", "/", &headers, sent.as_bytes()).unwrap();
        assert_eq!((r.status, r.error_code().as_str()), (401, "AuthFailure"), "{what}");
        assert!(r.header("x-amzn-requestid").is_some());
    }
    // Temporary credentials: the security token is signed and accepted.
    let with_token = Signer { token: Some("FwoGZXIvYXdzEtoken/+=".into()), ..Signer::default_key() };
    let headers = with_token.sign("POST", &host, "/", body.as_bytes());
    assert!(headers.iter().any(|(k, _)| k == "x-amz-security-token"));
    assert_eq!(emu.raw("POST", "/", &headers, body.as_bytes()).unwrap().status, 200);
    // The query-string form of the protocol.
    let path =
        format!("/?{}", form_encode(&[("Action", "DescribeStoreImageTasks"), ("Version", "2016-11-15"), ("MaxResults", "2")]));
    let headers = Signer::default_key().sign("GET", &host, &path, b"");
    let r = emu.raw("GET", &path, &headers, b"").unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(parse_xml(&r.body).unwrap().items.len(), 2);
}

#[test]
fn actions_and_parameters_are_checked() {
    let emu = Emu::start(&[]);
    let r = emu.call(&[("Action", "DescribeInstances"), ("Version", "2016-11-15")]);
    assert_eq!((r.status, r.error_code().as_str()), (400, "InvalidAction"));
    let r = emu.call(&[("Version", "2016-11-15")]);
    assert_eq!((r.status, r.error_code().as_str()), (400, "MissingAction"));
    let r = emu.describe(&[("ImageIds.1", "ami-1")]);
    assert_eq!((r.status, r.error_code().as_str()), (400, "UnknownParameter"));
    let r = emu.call(&[("Action", "DescribeStoreImageTasks")]);
    assert_eq!((r.status, r.error_code().as_str()), (400, "MissingParameter"));
}

#[test]
fn responses_have_the_ec2_shape_and_keep_alive() {
    let emu = Emu::start(&["--generate", "3"]);
    let body = form_encode(&[("Action", "DescribeStoreImageTasks"), ("Version", "2016-11-15")]);
    let mut conn = emu.connect();
    let mut ids = HashSet::new();
    for _ in 0..3 {
        let headers = Signer::default_key().sign("POST", &emu.host, "/", body.as_bytes());
        let r = Emu::send_on(&mut conn, "POST", "/", &headers, body.as_bytes()).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("text/xml;charset=UTF-8"));
        let text = r.text();
        assert!(
            text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeStoreImageTasksResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>"),
            "{text}"
        );
        let doc = parse_xml(&r.body).unwrap();
        let rid = doc.request_id.unwrap();
        assert_eq!(r.header("x-amzn-requestid"), Some(rid.as_str()));
        assert_eq!(rid.len(), 36);
        ids.insert(rid);
    }
    assert_eq!(ids.len(), 3);
    let r = emu.call(&[("Action", "Nope"), ("Version", "2016-11-15")]);
    assert!(
        r.text().starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>InvalidAction</Code><Message>"
        )
    );
    assert_eq!(r.header("x-amzn-requestid"), parse_xml(&r.body).unwrap().request_id.as_deref());
}

#[test]
fn special_characters_round_trip() {
    let reasons = [
        "Access <denied> & \"quoted\" 'single' > done",
        "Échec — 日本語 &amp; already-escaped-looking text",
        "tab\tand emoji 🚀",
    ];
    let tasks: Vec<Value> = reasons
        .iter()
        .enumerate()
        .map(|(i, r)| json!({"AmiId": format!("ami-{i:017}"), "TaskStartTime": format!("2026-11-1{i}T00:00:00Z"), "Bucket": "b<&>", "StoreTaskState": "Failed", "StoreTaskFailureReason": r}))
        .collect();
    let path = write_tasks("special.json", Value::Array(tasks));
    let emu = Emu::start(&["--tasks-file", path.to_str().unwrap()]);
    let r = emu.describe(&[]);
    assert!(r.text().contains("&lt;denied&gt; &amp;"), "{}", r.text());
    assert!(r.text().contains("&amp;amp;"));
    let doc = parse_xml(&r.body).unwrap();
    let got: Vec<&str> = doc.items.iter().rev().map(|i| i["storeTaskFailureReason"].as_str()).collect();
    assert_eq!(got, reasons);
    assert_eq!(doc.items[0]["bucket"], "b<&>");
    // Generated fixtures carry such reasons too.
    let emu = Emu::start(&["--generate", "200", "--seed", "4"]);
    let (items, _) = emu.all_pages(&[], Some(200));
    let generated: HashSet<&str> = items.iter().filter_map(|i| i.get("storeTaskFailureReason").map(String::as_str)).collect();
    assert!(generated.iter().any(|r| r.contains('<') && r.contains('&') && r.contains('"')));
    assert!(generated.iter().any(|r| r.contains('日')));
    assert!(items.iter().any(|i| !i.contains_key("progressPercentage")));
    assert!(items.iter().any(|i| !i.contains_key("s3objectKey")));
}

#[test]
fn progress_rate_completes_and_fails_tasks() {
    let path = write_tasks(
        "progress.json",
        json!([
            {"AmiId": "ami-0000000000000000a", "TaskStartTime": "2026-11-20T11:00:00Z", "Bucket": "b", "S3objectKey": "a.bin", "ProgressPercentage": 0, "StoreTaskState": "InProgress"},
            {"AmiId": "ami-0000000000000000b", "TaskStartTime": "2026-11-20T10:00:00Z", "Bucket": "b", "ProgressPercentage": 10, "StoreTaskState": "InProgress", "EmulatorFailAt": 40, "StoreTaskFailureReason": "disk <full> & gone"},
            {"AmiId": "ami-0000000000000000c", "TaskStartTime": "2026-11-20T09:00:00Z", "Bucket": "b", "ProgressPercentage": 10, "StoreTaskState": "InProgress", "EmulatorFailAt": 60}
        ]),
    );
    let emu = Emu::start(&["--tasks-file", path.to_str().unwrap(), "--progress-rate", "1"]);
    let state = |emu: &Emu| {
        let doc = emu.describe_ok(&[]);
        doc.items
            .iter()
            .map(|i| {
                (
                    i["storeTaskState"].clone(),
                    i["progressPercentage"].parse::<i64>().unwrap(),
                    i.get("storeTaskFailureReason").cloned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let s = state(&emu);
    assert_eq!(s[0].0, "InProgress");
    assert!(s[0].1 < 10);
    assert_eq!(s[1], ("InProgress".into(), s[1].1, None), "a pending failure reason is not shown");
    emu.control("POST", "/_emulator/clock", Some(json!({"advance_seconds": 45})));
    let s = state(&emu);
    assert_eq!(s[0].0, "InProgress");
    assert!((45..60).contains(&s[0].1), "{s:?}");
    assert_eq!(s[1], ("Failed".into(), 40, Some("disk <full> & gone".into())));
    assert_eq!(s[2].0, "InProgress");
    // State filters see the state at request time.
    let failed = emu.describe_ok(&[("Filter.1.Name", "task-state"), ("Filter.1.Value.1", "Failed")]);
    assert_eq!(amis(&failed.items), ["ami-0000000000000000b"]);
    emu.control("POST", "/_emulator/clock", Some(json!({"advance_seconds": 60})));
    let s = state(&emu);
    assert_eq!((s[0].0.as_str(), s[0].1), ("Completed", 100));
    assert_eq!((s[2].0.as_str(), s[2].1), ("Failed", 60));
    assert!(s[2].2.as_deref().is_some_and(|r| !r.is_empty()), "a default reason");
}

#[test]
fn create_store_image_task() {
    let emu = Emu::start(&["--generate", "10", "--progress-rate", "0"]);
    let create = |p: &[(&str, &str)], signer: &Signer| {
        let mut all = vec![("Action", "CreateStoreImageTask"), ("Version", "2016-11-15")];
        all.extend_from_slice(p);
        emu.call_as(signer, &all)
    };
    let me = Signer::default_key();
    let r = create(
        &[
            ("ImageId", "ami-0123456789abcdef0"),
            ("Bucket", "my-bucket"),
            ("S3ObjectTag.1.Key", "k"),
            ("S3ObjectTag.1.Value", "v"),
        ],
        &me,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let doc = parse_xml(&r.body).unwrap();
    assert_eq!(doc.root, "CreateStoreImageTaskResponse");
    assert_eq!(doc.object_key.as_deref(), Some("ami-0123456789abcdef0.bin"));
    let first = &emu.describe_ok(&[("MaxResults", "1")]).items[0];
    assert_eq!(first["amiId"], "ami-0123456789abcdef0");
    assert_eq!(first["bucket"], "my-bucket");
    assert_eq!(first["s3objectKey"], "ami-0123456789abcdef0.bin");
    assert_eq!(first["storeTaskState"], "InProgress");
    assert_eq!(first["progressPercentage"], "0");
    assert!(ms(&first["taskStartTime"]) >= ms(NOW));
    let by_id = emu.describe_ok(&[("ImageId.1", "ami-0123456789abcdef0")]);
    assert_eq!(by_id.items.len(), 1);

    let r = create(&[("ImageId", "ami-0123456789abcdef0")], &me);
    assert_eq!((r.status, r.error_code().as_str()), (400, "MissingParameter"));
    let r = create(&[("ImageId", "ami-1"), ("Bucket", "b"), ("DryRun", "true")], &me);
    assert_eq!((r.status, r.error_code().as_str()), (412, "DryRunOperation"));
    let r = create(&[("ImageId", "ami-1"), ("Bucket", "b")], &Signer::key(DENIED, SK));
    assert_eq!((r.status, r.error_code().as_str()), (403, "UnauthorizedOperation"));
    assert_eq!(emu.describe_ok(&[("MaxResults", "200")]).items.len(), 11);
}

#[test]
fn error_faults() {
    let emu = Emu::start(&["--generate", "5", "--fault", "throttle"]);
    let r = emu.describe(&[]);
    assert_eq!((r.status, r.error_code().as_str()), (503, "RequestLimitExceeded"));
    assert_eq!(parse_xml(&r.body).unwrap().message.unwrap(), "Request limit exceeded.");
    assert_eq!(emu.describe(&[]).status, 200);
    emu.faults(&["internal"]);
    let r = emu.describe(&[]);
    assert_eq!((r.status, r.error_code().as_str()), (500, "InternalError"));
    emu.faults(&["unavailable"]);
    let r = emu.describe(&[]);
    assert_eq!((r.status, r.error_code().as_str()), (503, "Unavailable"));
    // Faults hit every action and come before authentication.
    emu.faults(&["throttle"]);
    let r = emu.call_as(&Signer::key(AK, "wrong"), &[("Action", "CreateStoreImageTask")]);
    assert_eq!(r.error_code(), "RequestLimitExceeded");
    assert_eq!(emu.describe(&[]).status, 200);
}

#[test]
fn drop_and_delay_faults() {
    let emu = Emu::start(&["--generate", "5"]);
    emu.faults(&["drop"]);
    let body = form_encode(&[("Action", "DescribeStoreImageTasks"), ("Version", "2016-11-15")]);
    let headers = Signer::default_key().sign("POST", &emu.host, "/", body.as_bytes());
    let mut conn = emu.connect();
    let err = Emu::send_on(&mut conn, "POST", "/", &headers, body.as_bytes()).expect_err("no response");
    let mut rest = Vec::new();
    let _ = conn.get_mut().read_to_end(&mut rest);
    assert!(rest.is_empty(), "{err}");
    assert_eq!(emu.describe(&[]).status, 200);

    emu.faults(&["delay,ms=400"]);
    let t = Instant::now();
    assert_eq!(emu.describe(&[]).status, 200);
    assert!(t.elapsed() >= Duration::from_millis(400));
    let t = Instant::now();
    assert_eq!(emu.describe(&[]).status, 200);
    assert!(t.elapsed() < Duration::from_millis(400));
}

#[test]
fn body_faults() {
    let emu = Emu::start(&["--generate", "20", "--seed", "8"]);
    let normal = emu.describe(&[]);
    emu.faults(&["truncate"]);
    let r = emu.describe(&[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length").unwrap().parse::<usize>().unwrap(), r.body.len());
    assert_eq!(r.body.len(), normal.body.len() / 2);
    assert!(r.text().starts_with("<?xml"));
    assert!(parse_xml(&r.body).is_err());

    emu.faults(&["malformed"]);
    let r = emu.describe(&[]);
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("<?xml"));
    assert!(parse_xml(&r.body).is_err());

    emu.faults(&["garbage"]);
    let r = emu.describe(&[]);
    assert_eq!((r.status, r.text().as_str()), (200, "this is not xml"));

    emu.faults(&["wrongroot"]);
    let r = emu.describe(&[]);
    assert_eq!(r.status, 200);
    let doc = parse_xml(&r.body).unwrap();
    assert_ne!(doc.root, "DescribeStoreImageTasksResponse");
    assert_eq!(parse_xml(&emu.describe(&[]).body).unwrap().root, "DescribeStoreImageTasksResponse");
}

#[test]
fn token_faults() {
    let emu = Emu::start(&["--generate", "25", "--seed", "6"]);
    let first = emu.describe_ok(&[("MaxResults", "10")]);
    let t1 = first.next_token.clone().unwrap();
    emu.faults(&["repeat-token"]);
    let again = emu.describe_ok(&[("MaxResults", "10"), ("NextToken", &t1)]);
    assert_eq!(again.next_token.as_deref(), Some(t1.as_str()));
    assert_eq!(again.items.len(), 10);
    // On a first page, the token leads back to the first page.
    emu.faults(&["repeat-token"]);
    let p = emu.describe_ok(&[("MaxResults", "10")]);
    let back = emu.describe_ok(&[("MaxResults", "10"), ("NextToken", &p.next_token.unwrap())]);
    assert_eq!(back.items, first.items);
    // Empty pages with fresh tokens, after which pagination carries on where it was.
    let (expected, _) = emu.all_pages(&[], Some(10));
    emu.faults(&["empty-pages,at=2,count=3"]);
    let (items, pages) = emu.all_pages(&[], Some(10));
    assert_eq!(items, expected);
    assert_eq!(pages, 3 + 3);
    // A server that ignores MaxResults answers with its default page size (100 here).
    emu.faults(&["ignore-max-results"]);
    let big = emu.describe_ok(&[("MaxResults", "10")]);
    assert_eq!(big.items.len(), 25);
    assert_eq!(emu.describe_ok(&[("MaxResults", "10")]).items.len(), 10, "only the faulted request");
}

#[test]
fn faults_target_the_kth_request_and_stats_count() {
    let emu = Emu::start(&["--generate", "5"]);
    assert_eq!(emu.base_stats(), json!({"requests": 0, "describe": 0, "faults_fired": 0}));
    emu.faults(&["internal,at=3,count=2"]);
    let listed = emu.control("GET", "/_emulator/faults", None).json();
    assert_eq!(listed["faults"][0]["kind"], "internal");
    assert_eq!(listed["faults"][0]["starts_after"], 2);
    let codes: Vec<u16> = (0..5).map(|_| emu.describe(&[]).status).collect();
    assert_eq!(codes, [200, 200, 500, 500, 200]);
    assert_eq!(emu.base_stats(), json!({"requests": 5, "describe": 5, "faults_fired": 2}));
    // Rejected and other-action requests count as requests; control requests never do.
    emu.raw("POST", "/", &[("host".into(), emu.host.clone())], b"Action=DescribeStoreImageTasks").unwrap();
    emu.call(&[("Action", "CreateStoreImageTask"), ("Version", "2016-11-15"), ("ImageId", "ami-1"), ("Bucket", "b")]);
    assert_eq!(emu.base_stats(), json!({"requests": 7, "describe": 6, "faults_fired": 2}));
    // The unsigned request names no pair; the other six are the home pair's.
    assert_eq!(
        emu.stats()["by_pair"],
        json!({"123456789012/us-east-1": {"requests": 6, "describe": 5, "faults": 2, "max_in_flight": 1}})
    );
    assert_eq!(emu.stats()["assume_role_requests"], 0);

    emu.faults(&["throttle,at=2"]);
    assert_eq!(emu.control("GET", "/_emulator/faults", None).json()["faults"].as_array().unwrap().len(), 1);
    assert_eq!(emu.control("DELETE", "/_emulator/faults", None).status, 200);
    assert!(emu.control("GET", "/_emulator/faults", None).json()["faults"].as_array().unwrap().is_empty());
    assert_eq!(emu.describe(&[]).status, 200);
    assert_eq!(emu.describe(&[]).status, 200);
    let r = emu.control("POST", "/_emulator/faults", Some(json!({"faults": ["explode"]})));
    assert_eq!(r.status, 400);
}

#[test]
fn control_endpoint_manages_tasks() {
    let emu = Emu::start(&["--generate", "5"]);
    assert_eq!(emu.control("DELETE", "/_emulator/tasks", None).json()["removed"], 8);
    assert!(emu.describe_ok(&[]).items.is_empty());
    let r = emu.control(
        "POST",
        "/_emulator/tasks",
        Some(json!({"StoreImageTaskResults": [{"AmiId": "ami-00000000000000abc", "TaskStartTime": "2026-11-20T11:59:00.250Z", "StoreTaskState": "InProgress", "ProgressPercentage": 99, "EmulatorFailAt": 99}]})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let doc = emu.describe_ok(&[]);
    assert_eq!(doc.items[0]["storeTaskState"], "Failed");
    assert!(!doc.items[0].contains_key("bucket"));
    let r = emu.control("POST", "/_emulator/tasks", Some(json!({"StoreImageTaskResults": [{"Bogus": 1}]})));
    assert_eq!(r.status, 400);
    assert_eq!(emu.stats()["requests"], 2);
}

#[test]
fn sample_tasks_file_loads() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/sample-tasks.json");
    let emu = Emu::start(&["--tasks-file", path]);
    let doc = emu.describe_ok(&[]);
    assert_eq!(doc.items.len(), 16, "19 tasks, 3 of them older than 31 days");
    let latest = emu.describe_ok(&[("ImageId.1", "ami-0123456789abcdef0")]);
    assert_eq!(latest.items[0]["storeTaskState"], "InProgress");
}

// ---- regions, accounts, STS ----------------------------------------------------------------

const ROLE: &str = "arn:aws:iam::210987654321:role/fleet-reader";

fn describe_as(emu: &Emu, signer: &Signer, extra: &[(&str, &str)]) -> Resp {
    let mut p = vec![("Action", "DescribeStoreImageTasks"), ("Version", "2016-11-15")];
    p.extend_from_slice(extra);
    emu.call_as(signer, &p)
}

fn ids_as(emu: &Emu, signer: &Signer) -> Vec<String> {
    let r = describe_as(emu, signer, &[("MaxResults", "200")]);
    assert_eq!(r.status, 200, "{}", r.text());
    let doc = parse_xml(&r.body).unwrap();
    assert!(doc.next_token.is_none());
    amis(&doc.items)
}

fn assume_role(emu: &Emu, signer: &Signer, params: &[(&str, &str)]) -> Resp {
    let mut p = vec![("Action", "AssumeRole"), ("Version", "2011-06-15")];
    p.extend_from_slice(params);
    emu.call_as(signer, &p)
}

/// Assumes `role` and returns a signer with its temporary credentials.
fn assumed(emu: &Emu, role: &str, region: &str) -> Signer {
    let r = assume_role(emu, &Signer::sts(), &[("RoleArn", role), ("RoleSessionName", "fleet-test")]);
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.text();
    Signer {
        access_key: field(&t, "AccessKeyId").unwrap(),
        secret_key: field(&t, "SecretAccessKey").unwrap(),
        token: field(&t, "SessionToken"),
        region: region.into(),
        service: "ec2",
    }
}

#[test]
fn each_account_and_region_has_its_own_data() {
    let args = ["--generate", "20", "--seed", "3", "--regions", "eu-west-3,ap-south-1", "--role", ROLE];
    let emu = Emu::start(&args);
    // The home pair has exactly the data it has without the new options.
    let plain = Emu::start(&["--generate", "20", "--seed", "3"]);
    let home = ids_as(&emu, &Signer::default_key());
    assert_eq!(home, ids_as(&plain, &Signer::default_key()));
    assert_eq!(home.len(), 20);

    let paris = ids_as(&emu, &Signer::in_region("eu-west-3"));
    let mumbai = ids_as(&emu, &Signer::in_region("ap-south-1"));
    let role_home = ids_as(&emu, &assumed(&emu, ROLE, "us-east-1"));
    let role_paris = ids_as(&emu, &assumed(&emu, ROLE, "eu-west-3"));
    let sets = [&home, &paris, &mumbai, &role_home, &role_paris];
    let all: HashSet<&String> = sets.iter().flat_map(|v| v.iter()).collect();
    assert!(sets.iter().all(|v| v.len() == 20));
    assert_eq!(all.len(), 100, "AMI ids never repeat across pairs");
    assert!(paris.iter().all(|id| id.len() == 21 && id.starts_with("ami-")));

    // The same options give the same data; the control endpoint shows the same pair.
    let again = Emu::start(&args);
    assert_eq!(ids_as(&again, &Signer::in_region("eu-west-3")), paris);
    assert_eq!(ids_as(&again, &assumed(&again, ROLE, "eu-west-3")), role_paris);
    let listed = emu.control("GET", "/_emulator/tasks?region=eu-west-3&account=123456789012", None).json();
    let listed: Vec<&str> =
        listed["StoreImageTaskResults"].as_array().unwrap().iter().map(|t| t["AmiId"].as_str().unwrap()).collect();
    assert_eq!(listed.len(), 20 + 4, "plus the hidden ones");
    assert!(paris.iter().all(|id| listed.contains(&id.as_str())));
    assert_eq!(emu.control("GET", "/_emulator/tasks?region=eu-north-1", None).status, 400);
    assert_eq!(emu.control("GET", "/_emulator/tasks?account=999999999999", None).status, 400);
    assert_eq!(emu.control("GET", "/_emulator/tasks?colour=red", None).status, 400);

    // CreateStoreImageTask and the control endpoint act on one pair only.
    let create =
        [("Action", "CreateStoreImageTask"), ("Version", "2016-11-15"), ("ImageId", "ami-0feedfeedfeedfeed"), ("Bucket", "b")];
    assert_eq!(emu.call_as(&Signer::in_region("ap-south-1"), &create).status, 200);
    assert_eq!(ids_as(&emu, &Signer::in_region("ap-south-1"))[0], "ami-0feedfeedfeedfeed");
    assert_eq!(ids_as(&emu, &Signer::default_key()), home);
    let r = emu.control("DELETE", "/_emulator/tasks?account=210987654321&region=eu-west-3", None);
    assert_eq!(r.json()["removed"], 24);
    assert!(ids_as(&emu, &assumed(&emu, ROLE, "eu-west-3")).is_empty());
    assert_eq!(ids_as(&emu, &Signer::in_region("eu-west-3")), paris);

    // A token is only valid in the pair that issued it.
    let token =
        parse_xml(&describe_as(&emu, &Signer::in_region("eu-west-3"), &[("MaxResults", "5")]).body).unwrap().next_token.unwrap();
    let r = describe_as(&emu, &Signer::default_key(), &[("NextToken", &token)]);
    assert_eq!((r.status, r.error_code().as_str()), (400, "InvalidParameterValue"));
    assert_eq!(describe_as(&emu, &Signer::in_region("eu-west-3"), &[("NextToken", &token)]).status, 200);

    // A region not served is an authentication failure, as before.
    let r = describe_as(&emu, &Signer::in_region("eu-west-1"), &[]);
    assert_eq!((r.status, r.error_code().as_str()), (401, "AuthFailure"));

    let stats = emu.stats();
    assert_eq!(stats["assume_role_requests"], 3);
    let pairs = stats["by_pair"].as_object().unwrap();
    assert_eq!(pairs.len(), 6, "every served pair is listed: {pairs:?}");
    assert_eq!(
        stats["by_pair"]["123456789012/eu-west-3"],
        json!({"requests": 4, "describe": 4, "faults": 0, "max_in_flight": 1})
    );
    assert_eq!(stats["by_pair"]["210987654321/eu-west-3"]["requests"], 2);
    assert_eq!(stats["by_pair"]["210987654321/ap-south-1"]["requests"], 0);
}

#[test]
fn describe_regions_lists_served_and_opt_in_regions() {
    let emu =
        Emu::start(&["--regions", "eu-west-3,ap-south-1", "--opt-in-region", "af-south-1", "--opt-in-region", "me-south-1"]);
    let call = |extra: &[(&str, &str)], signer: &Signer| {
        let mut p = vec![("Action", "DescribeRegions"), ("Version", "2016-11-15")];
        p.extend_from_slice(extra);
        emu.call_as(signer, &p)
    };
    let regions = |extra: &[(&str, &str)]| {
        let r = call(extra, &Signer::default_key());
        assert_eq!(r.status, 200, "{}", r.text());
        let doc = parse_xml(&r.body).unwrap();
        assert_eq!(doc.root, "DescribeRegionsResponse");
        assert!(doc.request_id.is_some());
        doc.items
            .iter()
            .map(|i| {
                assert_eq!(i["regionEndpoint"], format!("ec2.{}.amazonaws.com", i["regionName"]));
                format!("{}={}", i["regionName"], i["optInStatus"])
            })
            .collect::<Vec<_>>()
    };
    let r = call(&[], &Signer::default_key());
    assert!(r.text().contains("<DescribeRegionsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>"));
    assert!(r.text().contains("<regionInfo><item><regionName>ap-south-1</regionName><regionEndpoint>ec2.ap-south-1.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>"));
    assert_eq!(
        regions(&[]),
        ["ap-south-1=opt-in-not-required", "eu-west-3=opt-in-not-required", "us-east-1=opt-in-not-required"]
    );
    assert_eq!(
        regions(&[("AllRegions", "true")]),
        [
            "af-south-1=not-opted-in",
            "ap-south-1=opt-in-not-required",
            "eu-west-3=opt-in-not-required",
            "me-south-1=not-opted-in",
            "us-east-1=opt-in-not-required"
        ]
    );
    assert_eq!(regions(&[("RegionName.1", "us-east-1"), ("RegionName.2", "eu-west-3")]).len(), 2);
    assert!(regions(&[("RegionName.1", "af-south-1")]).is_empty());
    assert_eq!(regions(&[("RegionName.1", "af-south-1"), ("AllRegions", "true")]), ["af-south-1=not-opted-in"]);
    assert_eq!(
        regions(&[("AllRegions", "true"), ("Filter.1.Name", "opt-in-status"), ("Filter.1.Value.1", "not-opted-in")]),
        ["af-south-1=not-opted-in", "me-south-1=not-opted-in"]
    );
    assert_eq!(
        regions(&[("Filter.1.Name", "region-name"), ("Filter.1.Value.1", "eu-*"), ("Filter.1.Value.2", "us-east-1")]).len(),
        2
    );
    // Served in any served region, by the roles' credentials too.
    assert_eq!(call(&[], &Signer::in_region("eu-west-3")).status, 200);
    for (extra, code) in [
        (&[("RegionName.1", "xx-nowhere-1")][..], "InvalidParameterValue"),
        (&[("AllRegions", "maybe")], "InvalidParameterValue"),
        (&[("Filter.1.Name", "endpoint"), ("Filter.1.Value.1", "x")], "InvalidParameterValue"),
        (&[("RegionNames.1", "us-east-1")], "UnknownParameter"),
    ] {
        let r = call(extra, &Signer::default_key());
        assert_eq!((r.status, r.error_code().as_str()), (400, code), "{extra:?}");
    }
    let r = call(&[("DryRun", "true")], &Signer::default_key());
    assert_eq!((r.status, r.error_code().as_str()), (412, "DryRunOperation"));
    let r = call(&[], &Signer::key(DENIED, SK));
    assert_eq!((r.status, r.error_code().as_str()), (403, "UnauthorizedOperation"));
    // A region that is not opted in refuses EC2 requests, saying so.
    let r = call(&[], &Signer::in_region("af-south-1"));
    assert_eq!((r.status, r.error_code().as_str()), (401, "AuthFailure"));
    assert!(parse_xml(&r.body).unwrap().message.unwrap().contains("af-south-1 is not enabled"));
    assert_eq!(emu.stats()["by_pair"]["123456789012/af-south-1"]["requests"], 1);
}

#[test]
fn assume_role_hands_out_temporary_credentials() {
    let emu = Emu::start(&["--generate", "5", "--regions", "eu-west-3", "--role", ROLE, "--account-id", "111122223333"]);
    let before = SystemTime::now();
    let r =
        assume_role(&emu, &Signer::sts(), &[("RoleArn", ROLE), ("RoleSessionName", "fleet@run-1"), ("DurationSeconds", "900")]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("x-amzn-requestid").is_some());
    let t = r.text();
    assert!(t.contains("<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials><AccessKeyId>ASIA"), "{t}");
    let key = field(&t, "AccessKeyId").unwrap();
    assert_eq!(key.len(), 20);
    assert_eq!(field(&t, "Arn").unwrap(), "arn:aws:sts::210987654321:assumed-role/fleet-reader/fleet@run-1");
    let role_id = field(&t, "AssumedRoleId").unwrap();
    assert!(role_id.starts_with("AROA") && role_id.ends_with(":fleet@run-1"), "{role_id}");
    assert_eq!(field(&t, "RequestId").as_deref(), r.header("x-amzn-requestid"));
    // Expiration is real time plus the duration, in whole seconds.
    let expires = ms(&field(&t, "Expiration").unwrap());
    let now = before.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i128;
    assert!((now + 899_000..=now + 905_000).contains(&expires), "{expires} vs {now}");
    assert!(field(&t, "Expiration").unwrap().ends_with('Z'));

    // Every call gives fresh credentials; both sets work, in any served region.
    let a = assumed(&emu, ROLE, "us-east-1");
    let b = assumed(&emu, ROLE, "eu-west-3");
    assert_ne!(a.access_key, b.access_key);
    assert_ne!(a.token, b.token);
    assert_eq!(describe_as(&emu, &a, &[]).status, 200);
    assert_eq!(describe_as(&emu, &b, &[]).status, 200);
    // STS accepts us-east-1 and the served regions in the scope.
    let sts_paris = Signer { region: "eu-west-3".into(), ..Signer::sts() };
    assert_eq!(assume_role(&emu, &sts_paris, &[("RoleArn", ROLE), ("RoleSessionName", "ab")]).status, 200);

    // Temporary credentials need their own session token.
    for token in [None, Some("not-the-token".to_owned()), b.token.clone()] {
        let s = Signer {
            token,
            ..Signer { access_key: a.access_key.clone(), secret_key: a.secret_key.clone(), ..Signer::default_key() }
        };
        let r = describe_as(&emu, &s, &[]);
        assert_eq!((r.status, r.error_code().as_str()), (401, "AuthFailure"));
    }
    let r = describe_as(&emu, &Signer { secret_key: "wrong".into(), ..assumed(&emu, ROLE, "us-east-1") }, &[]);
    assert_eq!((r.status, r.error_code().as_str()), (401, "AuthFailure"));

    // STS errors, in STS's shape.
    type Case<'a> = (Signer, Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            Signer::sts(),
            vec![("RoleArn", "arn:aws:iam::210987654321:role/unknown"), ("RoleSessionName", "s1")],
            403,
            "AccessDenied",
        ),
        (Signer::sts(), vec![("RoleArn", ROLE)], 400, "MissingParameter"),
        (Signer::sts(), vec![("RoleSessionName", "s1")], 400, "MissingParameter"),
        (Signer::sts(), vec![("RoleArn", ROLE), ("RoleSessionName", "x")], 400, "ValidationError"),
        (Signer::sts(), vec![("RoleArn", ROLE), ("RoleSessionName", "has space")], 400, "ValidationError"),
        (Signer::sts(), vec![("RoleArn", ROLE), ("RoleSessionName", "s1"), ("DurationSeconds", "899")], 400, "ValidationError"),
        (Signer::sts(), vec![("RoleArn", ROLE), ("RoleSessionName", "s1"), ("DurationSeconds", "43201")], 400, "ValidationError"),
        (Signer::sts(), vec![("RoleArn", "arn:aws:s3:::not-a-role-at-all"), ("RoleSessionName", "s1")], 400, "ValidationError"),
        (Signer::sts(), vec![("RoleArn", ROLE), ("RoleSessionName", "s1"), ("Bogus", "1")], 400, "ValidationError"),
        (
            Signer { secret_key: "wrong".into(), ..Signer::sts() },
            vec![("RoleArn", ROLE), ("RoleSessionName", "s1")],
            403,
            "SignatureDoesNotMatch",
        ),
        (
            Signer { region: "eu-west-1".into(), ..Signer::sts() },
            vec![("RoleArn", ROLE), ("RoleSessionName", "s1")],
            403,
            "SignatureDoesNotMatch",
        ),
        (
            Signer { access_key: "AKIAUNKNOWNKEY000000".into(), ..Signer::sts() },
            vec![("RoleArn", ROLE), ("RoleSessionName", "s1")],
            403,
            "InvalidClientTokenId",
        ),
        (
            Signer { access_key: DENIED.into(), ..Signer::sts() },
            vec![("RoleArn", ROLE), ("RoleSessionName", "s1")],
            403,
            "AccessDenied",
        ),
        (
            Signer { service: "sts", ..assumed(&emu, ROLE, "us-east-1") },
            vec![("RoleArn", ROLE), ("RoleSessionName", "s1")],
            403,
            "AccessDenied",
        ),
    ];
    for (signer, params, status, code) in cases {
        let r = assume_role(&emu, &signer, &params);
        assert_eq!((r.status, r.sts_error_code().as_str()), (status, code), "{params:?} {}", r.text());
        assert!(r.text().contains("<Type>Sender</Type>"));
    }
    let r = emu.call_as(&Signer::sts(), &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")]);
    assert_eq!((r.status, r.sts_error_code().as_str()), (400, "InvalidAction"));
    // STS requests are not EC2 requests.
    let stats = emu.stats();
    assert_eq!(stats["requests"], 6);
    assert_eq!(stats["assume_role_requests"], 21, "20 AssumeRole calls and a GetCallerIdentity");
}

#[test]
fn faults_aim_at_one_region_or_account() {
    let emu = Emu::start(&[
        "--generate",
        "3",
        "--regions",
        "eu-west-3,ap-south-1,ca-central-1",
        "--role",
        ROLE,
        "--fault",
        "throttle,region=eu-west-3,at=2,count=2",
        "--fault",
        "deny,region=ap-south-1,count=1000000",
        "--fault",
        "drop,region=ca-central-1,count=1000000",
    ]);
    let status = |s: &Signer| describe_as(&emu, s, &[]).status;
    let paris = Signer::in_region("eu-west-3");
    assert_eq!(status(&paris), 200);
    assert_eq!(status(&Signer::default_key()), 200, "other regions do not move the fault's count");
    let r = describe_as(&emu, &paris, &[]);
    assert_eq!((r.status, r.error_code().as_str()), (503, "RequestLimitExceeded"));
    assert_eq!(status(&paris), 503);
    assert_eq!(status(&paris), 200);
    let r = describe_as(&emu, &Signer::in_region("ap-south-1"), &[]);
    assert_eq!((r.status, r.error_code().as_str()), (403, "UnauthorizedOperation"));
    let body = form_encode(&[("Action", "DescribeStoreImageTasks"), ("Version", "2016-11-15")]);
    let headers = Signer::in_region("ca-central-1").sign("POST", &emu.host, "/", body.as_bytes());
    assert!(emu.raw("POST", "/", &headers, body.as_bytes()).is_err(), "the connection is dropped");
    assert_eq!(status(&Signer::default_key()), 200);

    // account= aims at one account; STS faults only with service=sts.
    emu.faults(&["internal,account=210987654321", "throttle,service=sts,count=1"]);
    let listed = emu.control("GET", "/_emulator/faults", None).json();
    let sts_fault = listed["faults"].as_array().unwrap().iter().find(|f| f["service"] == "sts").unwrap();
    assert_eq!(sts_fault["kind"], "throttle");
    let r = assume_role(&emu, &Signer::sts(), &[("RoleArn", ROLE), ("RoleSessionName", "s1")]);
    assert_eq!((r.status, r.sts_error_code().as_str()), (400, "Throttling"));
    let role = assumed(&emu, ROLE, "us-east-1");
    assert_eq!(status(&Signer::default_key()), 200);
    assert_eq!(status(&role), 500);
    assert_eq!(status(&role), 200);
    // Targets the emulator does not know are refused.
    for bad in ["throttle,region=eu-north-1", "throttle,account=999999999999", "empty-pages,service=sts"] {
        let r = emu.control("POST", "/_emulator/faults", Some(json!({ "faults": [bad] })));
        assert_eq!(r.status, 400, "{bad}");
    }
    let stats = emu.stats();
    assert_eq!(
        stats["by_pair"]["123456789012/eu-west-3"],
        json!({"requests": 4, "describe": 4, "faults": 2, "max_in_flight": 1})
    );
    assert_eq!(
        stats["by_pair"]["123456789012/ca-central-1"],
        json!({"requests": 1, "describe": 1, "faults": 1, "max_in_flight": 1})
    );
    assert_eq!(stats["by_pair"]["210987654321/us-east-1"]["faults"], 1);
    assert_eq!((stats["assume_role_requests"].as_u64(), stats["assume_role_faults"].as_u64()), (Some(2), Some(1)));
    assert_eq!(stats["faults_fired"], 5);
}

#[test]
fn requests_in_flight_user_agents_and_opted_in_regions() {
    let emu = Emu::start(&["--generate", "5", "--opted-in-region", "me-central-1", "--fault", "delay,ms=300,count=100"]);
    // Three requests held 300 ms each, sent at once.
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| assert_eq!(emu.describe(&[]).status, 200));
        }
    });
    let stats = emu.stats();
    assert_eq!((stats["in_flight"].as_u64(), stats["max_in_flight"].as_u64()), (Some(0), Some(3)), "{stats}");
    assert_eq!(stats["by_pair"]["123456789012/us-east-1"]["max_in_flight"], 3);
    assert_eq!(stats["by_pair"]["123456789012/me-central-1"]["max_in_flight"], 0);
    let r = emu.control("DELETE", "/_emulator/max-in-flight", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"in_flight": 0, "max_in_flight": 0}));
    assert_eq!(emu.stats()["by_pair"]["123456789012/us-east-1"]["max_in_flight"], 0);

    // The User-Agent of each request is kept, each distinct one once.
    let body = form_encode(&[("Action", "DescribeStoreImageTasks"), ("Version", "2016-11-15")]);
    for _ in 0..2 {
        let mut headers = Signer::default_key().sign("POST", &emu.host, "/", body.as_bytes());
        headers.push(("user-agent".to_owned(), "probe/1.0 app/emulator-test".to_owned()));
        assert_eq!(emu.raw("POST", "/", &headers, body.as_bytes()).unwrap().status, 200);
    }
    let agents = emu.stats()["user_agents"].clone();
    assert_eq!(agents.as_array().unwrap().iter().filter(|a| *a == "probe/1.0 app/emulator-test").count(), 1, "{agents}");

    // An opted-in region is served and says so.
    let r = emu.call(&[("Action", "DescribeRegions"), ("Version", "2016-11-15")]);
    assert_eq!(r.status, 200);
    assert!(
        r.text().contains("<regionName>me-central-1</regionName><regionEndpoint>ec2.me-central-1.amazonaws.com</regionEndpoint><optInStatus>opted-in</optInStatus>"),
        "{}",
        r.text()
    );
    assert_eq!(describe_as(&emu, &Signer::in_region("me-central-1"), &[]).status, 200);
}
