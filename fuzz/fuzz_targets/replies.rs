//! Arbitrary HTTP statuses, headers and bodies handed to the client as the service's reply (no
//! socket: the SDK's in-memory HTTP client answers), through every call that reads a reply. The
//! library must return a status, never crash, and never hand out a task it did not read: every
//! task handed out is checked against a reading of the body made here, independently of the SDK.

#![no_main]

use std::collections::HashSet;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_smithy_types::body::SdkBody;
use libfuzzer_sys::fuzz_target;
use storetasks::{Client, ClientConfig, Query, Task};

/// A seed is four bytes (status, little-endian; content-type flag; call) followed by a reply body
/// as EC2 would send it, byte for byte. (Read by hand: a derived `Arbitrary` would read a
/// continuation flag before every body byte, so a seed's XML would never reach the client.)
#[derive(Debug)]
struct Reply {
    status: u16,
    xml_content_type: bool,
    call: u8,
    body: Vec<u8>,
}

impl Reply {
    fn read(data: &[u8]) -> Reply {
        let mut head = [0u8; 4];
        let n = data.len().min(4);
        head[..n].copy_from_slice(&data[..n]);
        Reply {
            status: u16::from_le_bytes([head[0], head[1]]),
            xml_content_type: head[2] & 1 == 1,
            call: head[3],
            body: data[n..].to_vec(),
        }
    }
}

static REPLY: OnceLock<std::sync::Mutex<(u16, bool, Vec<u8>)>> = OnceLock::new();
/// Requests answered since the current input started: every one gets the same body.
static REQUESTS: AtomicUsize = AtomicUsize::new(0);

fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let http = aws_smithy_http_client::test_util::infallible_client_fn(|_req| {
            REQUESTS.fetch_add(1, Ordering::SeqCst);
            let (status, xml, body) = REPLY.get().expect("set before use").lock().unwrap().clone();
            let mut b = http::Response::builder().status(status);
            if xml {
                b = b.header("content-type", "text/xml;charset=UTF-8");
            }
            b.header("x-amzn-requestid", "fuzz-request").body(SdkBody::from(body)).unwrap()
        });
        let config = ClientConfig { max_attempts: Some(1), ..storetasks::client::offline_config() };
        Client::with_http_client(config, http).expect("client")
    })
}

/// What the body says, read without the SDK: for each member of a task, every text a parser could
/// take as that member's value, and how many `item` elements there are. It errs on the generous
/// side (any prefix, any nesting, every text run inside the element, with and without entity
/// decoding), so a value outside these sets cannot have come from the body.
struct BodyReading {
    items: usize,
    ami_ids: HashSet<String>,
    buckets: HashSet<String>,
    keys: HashSet<String>,
    states: HashSet<String>,
    reasons: HashSet<String>,
}

/// `&lt;`, `&gt;`, `&amp;`, `&quot;`, `&apos;` and numeric character references decoded; `None`
/// when a reference is malformed.
fn decode_entities(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut parts = s.split('&');
    out.push_str(parts.next().unwrap_or(""));
    for part in parts {
        let (name, rest) = part.split_once(';')?;
        let c = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = name.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()?
                } else {
                    name.strip_prefix('#')?.parse::<u32>().ok()?
                };
                char::from_u32(code)?
            }
        };
        out.push(c);
        out.push_str(rest);
    }
    Some(out)
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| from + p)
}

/// The markup starting at `body[at] == b'<'`: where it ends (one past its `>`), and for an
/// element's start tag, its local name and whether it closes itself. `None` when it never ends.
fn markup(body: &[u8], at: usize) -> Option<(usize, Option<(&[u8], bool)>, bool)> {
    let rest = &body[at + 1..];
    for (open, close) in [(&b"!--"[..], &b"-->"[..]), (b"![CDATA[", b"]]>"), (b"?", b"?>"), (b"!", b">")] {
        if rest.starts_with(open) {
            let end = find(body, at + 1 + open.len(), close)? + close.len();
            return Some((end, None, false));
        }
    }
    // The end of the tag, skipping '>' inside quoted attribute values.
    let mut j = at + 1;
    loop {
        let k = body[j..].iter().position(|c| matches!(c, b'>' | b'"' | b'\''))?;
        j += k;
        if body[j] == b'>' {
            break;
        }
        let q = body[j];
        j += 1 + body[j + 1..].iter().position(|c| *c == q)? + 1;
    }
    let tag = &body[at + 1..j];
    if tag.starts_with(b"/") {
        return Some((j + 1, None, true));
    }
    let name_len = tag.iter().position(|c| c.is_ascii_whitespace() || *c == b'/').unwrap_or(tag.len());
    let name = &tag[..name_len];
    let local = match name.iter().rposition(|c| *c == b':') {
        Some(p) => &name[p + 1..],
        None => name,
    };
    Some((j + 1, Some((local, tag.ends_with(b"/"))), false))
}

/// Adds a text as read, and as the library hands it out: a NUL (which XML cannot carry) as U+FFFD.
fn insert(set: &mut HashSet<String>, text: String) {
    if text.contains('\0') {
        set.insert(text.replace('\0', "\u{fffd}"));
    }
    set.insert(text);
}

fn read_body(body: &[u8]) -> BodyReading {
    let mut r = BodyReading {
        items: 0,
        ami_ids: HashSet::new(),
        buckets: HashSet::new(),
        keys: HashSet::new(),
        states: HashSet::new(),
        reasons: HashSet::new(),
    };
    let mut i = 0;
    while let Some(off) = body[i..].iter().position(|c| *c == b'<') {
        let at = i + off;
        let Some((end, start_tag, _)) = markup(body, at) else { break };
        i = end;
        let Some((local, self_closing)) = start_tag else { continue };
        if local == b"item" {
            r.items += 1;
            continue;
        }
        let set = match local {
            b"amiId" => &mut r.ami_ids,
            b"bucket" => &mut r.buckets,
            b"s3objectKey" => &mut r.keys,
            b"storeTaskState" => &mut r.states,
            b"storeTaskFailureReason" => &mut r.reasons,
            _ => continue,
        };
        set.insert(String::new());
        if self_closing {
            continue;
        }
        // Every run of text (and CDATA) up to the next element tag, start or end.
        let mut j = end;
        loop {
            let stop = body[j..].iter().position(|c| *c == b'<').map_or(body.len(), |p| j + p);
            if let Ok(text) = std::str::from_utf8(&body[j..stop]) {
                insert(set, text.to_owned());
                if let Some(decoded) = decode_entities(text) {
                    insert(set, decoded);
                }
            }
            if stop == body.len() {
                break;
            }
            match markup(body, stop) {
                Some((next, None, false)) => {
                    if body[stop..].starts_with(b"<![CDATA[") {
                        if let Ok(text) = std::str::from_utf8(&body[stop + 9..next - 3]) {
                            insert(set, text.to_owned());
                        }
                    }
                    j = next;
                }
                _ => break,
            }
        }
    }
    r
}

/// Panics unless every task could have been read from `body`, as answered to `requests` requests.
fn check_tasks(tasks: &[Task], reading: &BodyReading, requests: usize) {
    assert!(
        tasks.len() <= reading.items * requests,
        "{} tasks handed out from {requests} replies of {} items each",
        tasks.len(),
        reading.items
    );
    for t in tasks {
        for (what, value, seen) in [
            ("amiId", t.ami_id.as_deref(), &reading.ami_ids),
            ("bucket", t.bucket.as_deref(), &reading.buckets),
            ("s3objectKey", t.s3_object_key.as_deref(), &reading.keys),
            ("storeTaskState", t.state.as_str(), &reading.states),
            ("storeTaskFailureReason", t.failure_reason.as_deref(), &reading.reasons),
        ] {
            if let Some(v) = value {
                assert!(seen.contains(v), "a task with {what} {v:?}, which the reply does not hold: {t:?}");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let r = Reply::read(data);
    let status = if (100..=599).contains(&r.status) { r.status } else { 200 + r.status % 400 };
    let reading = read_body(&r.body);
    *REPLY.get_or_init(Default::default).lock().unwrap() = (status, r.xml_content_type, r.body);
    REQUESTS.store(0, Ordering::SeqCst);
    let c = client();
    let q = Query { max_results: Some(50), ..Query::default() };
    let result = match r.call % 3 {
        0 => c.describe_page(&q, None).map(|p| p.tasks.to_vec()),
        // A reply that keeps its token would loop; the cap and the repeat check end it.
        1 => c.describe_all(&q, Some(500), None).map(|p| p.tasks.to_vec()),
        _ => {
            let ids = ["ami-1".to_owned()];
            let opts = storetasks::WaitOptions {
                min_delay: std::time::Duration::from_micros(1),
                max_delay: std::time::Duration::from_micros(1),
                timeout: Some(std::time::Duration::from_millis(2)),
                not_found_grace: std::time::Duration::ZERO,
            };
            c.wait(&ids, &opts, None, |seen| {
                // Each poll is one request; what it shows may only come from replies so far.
                check_tasks(seen, &reading, REQUESTS.load(Ordering::SeqCst));
                assert!(
                    seen.iter().all(|t| t.ami_id.as_deref() == Some("ami-1")),
                    "a task for an image not asked about: {seen:?}"
                );
                true
            })
        }
    };
    match result {
        Ok(tasks) => check_tasks(&tasks, &reading, REQUESTS.load(Ordering::SeqCst)),
        Err(e) => assert!(!e.message.contains("fuzz-secret-key-0000")),
    }
});
