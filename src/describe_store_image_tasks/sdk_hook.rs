//! How the library's own reader ([`crate::describe_store_image_tasks::reader`]) takes the place of the SDK's deserializer for
//! successful DescribeStoreImageTasks replies, and the check that both read replies alike.
//!
//! # Wiring
//!
//! Each request carries a [`ReadReplies`] interceptor (added with the fluent builder's
//! `customize().interceptor(...)`). In `modify_before_serialization`, which runs once per
//! operation after the operation's runtime plugin has put the SDK's `SharedResponseDeserializer`
//! into the config bag, it replaces that deserializer, in the interceptor layer of the bag, with a
//! [`FastDeserializer`] that holds the SDK's one. For every attempt the orchestrator then calls
//! ours:
//!
//! - a 2xx reply is read by [`crate::describe_store_image_tasks::reader::read_reply`]. Its tasks go into the request's
//!   [`ReplySlot`] and the orchestrator gets an empty `DescribeStoreImageTasksOutput`, so retries,
//!   interceptors and the fluent `send()` see a normal operation. A reply the reader refuses
//!   becomes `DescribeStoreImageTasksError::unhandled`, exactly the error the SDK's own parser
//!   gives a reply it cannot read (not retried; RESPONSE in C);
//! - any other reply goes to the SDK's deserializer, which parses the error code, message and
//!   request id as before.
//!
//! The SDK still serializes the request, resolves the endpoint, finds credentials, signs (SigV4),
//! retries, applies timeouts and runs the HTTP client. The request id of a successful reply comes
//! from the same headers the SDK reads it from.
//!
//! # The differential check
//!
//! [`check`] runs the SDK's deserializer and the former well-formedness scan side by side with
//! the reader; tests and fuzz targets use it, and [`check::set_differential`] turns it on for
//! every reply a client reads, so that a whole test suite compares both readers on every reply.

use std::sync::{Arc, Mutex, OnceLock};

use aws_sdk_ec2::operation::describe_store_image_tasks::{DescribeStoreImageTasksError, DescribeStoreImageTasksOutput};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextMut, Error, Output, OutputOrError,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;
use aws_smithy_runtime_api::client::ser_de::{DeserializeResponse, SharedResponseDeserializer};
use aws_smithy_types::config_bag::{ConfigBag, FrozenLayer};

use crate::describe_store_image_tasks::reader::{Reply, read_reply};

/// Where the reader leaves a request's reply for the code that sent it.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReplySlot(Arc<Mutex<Option<ReadReply>>>);

/// A reply read, and its request id.
type ReadReply = (Reply, Option<String>);

impl ReplySlot {
    /// The reply read and its request id.
    pub(crate) fn take(&self) -> Option<ReadReply> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
    }

    fn put(&self, reply: Reply, request_id: Option<String>) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((reply, request_id));
    }
}

/// The per-request interceptor that installs [`FastDeserializer`].
#[derive(Debug)]
pub(crate) struct ReadReplies {
    slot: ReplySlot,
}

impl ReadReplies {
    pub(crate) fn new(slot: ReplySlot) -> Self {
        ReadReplies { slot }
    }
}

impl Intercept for ReadReplies {
    fn name(&self) -> &'static str {
        "storetasks::ReadReplies"
    }

    fn modify_before_serialization(
        &self,
        _context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg.load::<SharedResponseDeserializer>().is_none() {
            return Err("the SDK put no response deserializer in the config bag".into());
        }
        cfg.interceptor_state()
            .store_put(SharedResponseDeserializer::new(FastDeserializer { sdk: sdk_deserializer(), slot: self.slot.clone() }));
        Ok(())
    }
}

/// The SDK's deserializer for DescribeStoreImageTasks replies, as the operation's own runtime
/// plugin makes it (the type itself is private to the SDK; the plugin and its config layer are
/// public).
pub(crate) fn sdk_deserializer() -> &'static SharedResponseDeserializer {
    static LAYER: OnceLock<FrozenLayer> = OnceLock::new();
    LAYER
        .get_or_init(|| {
            aws_sdk_ec2::operation::describe_store_image_tasks::DescribeStoreImageTasks::new()
                .config()
                .expect("the operation's runtime plugin has a config layer")
        })
        .load::<SharedResponseDeserializer>()
        .expect("the operation's config layer holds its response deserializer")
}

/// Reads 2xx replies with the library's reader; hands every other reply to the SDK's deserializer.
#[derive(Debug)]
pub(crate) struct FastDeserializer {
    sdk: &'static SharedResponseDeserializer,
    slot: ReplySlot,
}

/// The request id of a reply, from the headers the SDK takes it from.
pub(crate) fn request_id(response: &HttpResponse) -> Option<String> {
    let h = response.headers();
    h.get("x-amzn-requestid").or_else(|| h.get("x-amz-request-id")).map(str::to_owned)
}

impl DeserializeResponse for FastDeserializer {
    fn deserialize_nonstreaming_with_config(&self, response: &HttpResponse, cfg: &ConfigBag) -> OutputOrError {
        // The SDK's own test for the success path.
        if !response.status().is_success() && response.status().as_u16() != 200 {
            return self.sdk.deserialize_nonstreaming_with_config(response, cfg);
        }
        let body = response.body().bytes().unwrap_or_default();
        let read = read_reply(body);
        if check::differential()
            && let Err(why) = check::compare_with(self.sdk, body, &read)
        {
            check::record_disagreement(&why, body);
            return Err(OrchestratorError::operation(Error::erase(DescribeStoreImageTasksError::unhandled(format!(
                "the reader and the SDK disagree on a reply: {why}"
            )))));
        }
        match read {
            Ok(reply) => {
                self.slot.put(reply, request_id(response));
                Ok(Output::erase(DescribeStoreImageTasksOutput::builder().build()))
            }
            Err(e) => Err(OrchestratorError::operation(Error::erase(DescribeStoreImageTasksError::unhandled(e)))),
        }
    }
}

/// The differential check: the SDK's deserializer, together with the former well-formedness scan
/// (the SDK accepts documents that end early or close the wrong element), against the reader.
#[doc(hidden)]
pub mod check {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    use aws_sdk_ec2::operation::describe_store_image_tasks::DescribeStoreImageTasksOutput;
    use aws_smithy_runtime_api::client::ser_de::{DeserializeResponse, SharedResponseDeserializer};
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::config_bag::ConfigBag;

    use crate::describe_store_image_tasks::reader::{ReadError, Reply, read_reply};
    use crate::describe_store_image_tasks::task::Task;

    static DIFFERENTIAL: AtomicBool = AtomicBool::new(false);
    static COMPARED: AtomicU64 = AtomicU64::new(0);
    static DISAGREEMENTS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

    pub(super) fn record_disagreement(why: &str, body: &[u8]) {
        let mut d = DISAGREEMENTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        d.push(format!("{why}; the body: {}", String::from_utf8_lossy(&body[..body.len().min(2000)])));
    }

    /// The disagreements seen in differential mode so far (each with the start of its body).
    pub fn disagreements() -> Vec<String> {
        DISAGREEMENTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Makes every client of the process compare the reader with the SDK on every 2xx reply; a
    /// disagreement fails the call with RESPONSE and a message that starts "the reader and the SDK
    /// disagree". For tests only: it doubles the cost of reading.
    pub fn set_differential(on: bool) {
        DIFFERENTIAL.store(on, Ordering::SeqCst);
    }

    pub(super) fn differential() -> bool {
        DIFFERENTIAL.load(Ordering::Relaxed)
    }

    /// How many replies have been compared so far in this process.
    pub fn comparisons() -> u64 {
        COMPARED.load(Ordering::SeqCst)
    }

    /// What a reader made of a reply: its tasks and token (an empty token counts as none, as the
    /// library has always taken it), or why it refused it.
    pub type Outcome = Result<(Vec<Task>, Option<String>), String>;

    fn response(body: &[u8]) -> Response {
        let mut r = Response::new(StatusCode::try_from(200).expect("200 is a status"), SdkBody::from(body.to_vec()));
        r.headers_mut().insert("x-amzn-requestid", "check");
        r
    }

    fn sdk_outcome(sdk: &SharedResponseDeserializer, body: &[u8]) -> Outcome {
        let out = sdk.deserialize_nonstreaming_with_config(&response(body), &ConfigBag::base());
        let out = match out {
            Ok(o) => o.downcast::<DescribeStoreImageTasksOutput>().map_err(|_| "the SDK gave another output type".to_owned())?,
            Err(e) => return Err(format!("the SDK refused it: {e:?}")),
        };
        if let Some(why) = xml_problem(body) {
            return Err(format!("the well-formedness scan refused it: {why}"));
        }
        // The library's one change to what the SDK reads: a NUL (which XML cannot carry) is U+FFFD.
        let clean = |s: Option<String>| s.map(|s| s.replace('\0', "\u{fffd}"));
        let tasks = out
            .store_image_task_results()
            .iter()
            .map(|r| {
                let mut t = Task::from(r);
                t.ami_id = clean(t.ami_id);
                t.bucket = clean(t.bucket);
                t.s3_object_key = clean(t.s3_object_key);
                t.failure_reason = clean(t.failure_reason);
                t.state = crate::describe_store_image_tasks::task::TaskState::parse(
                    clean(t.state.as_str().map(str::to_owned)).as_deref(),
                );
                t
            })
            .collect();
        Ok((tasks, out.next_token().filter(|t| !t.is_empty()).map(str::to_owned)))
    }

    fn fast_outcome(read: &Result<Reply, ReadError>) -> Outcome {
        match read {
            Ok(r) => Ok((
                crate::describe_store_image_tasks::task::Tasks::from_chunk(r.chunk.clone()).to_vec(),
                r.next_token.clone().filter(|t| !t.is_empty()),
            )),
            Err(e) => Err(e.to_string()),
        }
    }

    /// What the SDK (with the well-formedness scan) makes of a 2xx reply with this body.
    pub fn sdk_read(body: &[u8]) -> Outcome {
        sdk_outcome(super::sdk_deserializer(), body)
    }

    /// What the library's reader makes of it.
    pub fn fast_read(body: &[u8]) -> Outcome {
        fast_outcome(&read_reply(body))
    }

    /// Both readers on `body`: `Ok` with the common outcome when they read the same tasks and
    /// token or both refuse it, `Err` describing the difference otherwise.
    pub fn compare(body: &[u8]) -> Result<Outcome, String> {
        let read = read_reply(body);
        compare_with(super::sdk_deserializer(), body, &read)
    }

    pub(super) fn compare_with(
        sdk: &SharedResponseDeserializer,
        body: &[u8],
        read: &Result<Reply, ReadError>,
    ) -> Result<Outcome, String> {
        COMPARED.fetch_add(1, Ordering::SeqCst);
        let (theirs, ours) = (sdk_outcome(sdk, body), fast_outcome(read));
        match (&theirs, &ours) {
            (Ok(a), Ok(b)) if a == b => Ok(ours),
            (Err(_), Err(_)) => Ok(ours),
            (Ok(a), Ok(b)) => {
                let first = a.0.iter().zip(&b.0).position(|(x, y)| x != y);
                Err(format!(
                    "different tasks or token: {} vs {} tasks, tokens {:?} vs {:?}, first difference at task {:?}: {:?} vs {:?}",
                    a.0.len(),
                    b.0.len(),
                    a.1,
                    b.1,
                    first,
                    first.map(|i| &a.0[i]),
                    first.map(|i| &b.0[i])
                ))
            }
            (Ok(_), Err(e)) => Err(format!("only the reader refused it: {e}")),
            (Err(e), Ok(_)) => Err(format!("only the SDK refused it: {e}")),
        }
    }

    /// Why `body` is not one well-formed XML document as far as its element structure goes, or
    /// `None`: a scan that matches every end tag with its start tag and counts root elements.
    /// Before the reader, every successful reply went through it after the SDK's parser.
    pub fn xml_problem(body: &[u8]) -> Option<String> {
        let mut open: Vec<&[u8]> = Vec::with_capacity(8);
        let mut roots = 0usize;
        let mut i = 0usize;
        while let Some(off) = memchr::memchr(b'<', &body[i..]) {
            let start = i + off;
            if matches!(body.get(start + 1), Some(b'!' | b'?')) {
                match declaration_end(body, start) {
                    Ok(end) => i = end,
                    Err(why) => return Some(why),
                }
                continue;
            }
            let j = match tag_end(body, start) {
                Ok(j) => j,
                Err(why) => return Some(why),
            };
            let tag = &body[start + 1..j];
            let name_len = |t: &[u8]| t.iter().position(|c| c.is_ascii_whitespace() || *c == b'/').unwrap_or(t.len());
            if let Some(closing) = tag.strip_prefix(b"/") {
                let name = &closing[..name_len(closing)];
                match open.pop() {
                    Some(expected) if expected == name => {}
                    Some(_) => return Some(format!("a mismatched end tag at byte {start}")),
                    None => return Some(format!("an end tag that closes nothing at byte {start}")),
                }
            } else {
                let name = &tag[..name_len(tag)];
                if name.is_empty() {
                    return Some(format!("a tag without a name at byte {start}"));
                }
                if open.is_empty() {
                    roots += 1;
                }
                if !tag.ends_with(b"/") {
                    open.push(name);
                }
            }
            i = j + 1;
        }
        match (roots, open.len()) {
            (1, 0) => None,
            (0, _) => Some("no root element".to_owned()),
            (_, 0) => Some("more than one root element".to_owned()),
            (_, d) => Some(format!("the document ends with {d} element(s) still open")),
        }
    }

    /// Just past the declaration, comment, processing instruction or CDATA section that starts at
    /// `start` (`<!` or `<?`). Its end is looked for after the whole opener, so "<!-->" does not
    /// end itself.
    fn declaration_end(body: &[u8], start: usize) -> Result<usize, String> {
        let rest = &body[start + 1..];
        let (opener, end): (usize, &[u8]) = if rest.starts_with(b"?") {
            (1, b"?>")
        } else if rest.starts_with(b"!--") {
            (3, b"-->")
        } else if rest.starts_with(b"![CDATA[") {
            (8, b"]]>")
        } else {
            (1, b">")
        };
        body.get(start + 1 + opener..)
            .and_then(|tail| memchr::memmem::find(tail, end))
            .map(|p| start + 1 + opener + p + end.len())
            .ok_or_else(|| format!("an unterminated declaration at byte {start}"))
    }

    /// The `>` that ends the tag starting at `start`, skipping any inside quoted attribute values.
    fn tag_end(body: &[u8], start: usize) -> Result<usize, String> {
        let mut j = start + 1;
        loop {
            let Some(k) = memchr::memchr3(b'>', b'"', b'\'', &body[j..]) else {
                return Err(format!("the tag at byte {start} never ends"));
            };
            j += k;
            let c = body[j];
            if c == b'>' {
                return Ok(j);
            }
            let Some(close) = memchr::memchr(c, &body[j + 1..]) else {
                return Err(format!("the tag at byte {start} never ends"));
            };
            j += close + 2;
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_scan_finds_broken_documents() {
            assert_eq!(xml_problem(b"<?xml version=\"1.0\"?>\n<a><b>x</b><c/></a>"), None);
            assert!(xml_problem(b"<a><b>x</c></a>").is_some());
            assert!(xml_problem(b"<a><b>x</b>").unwrap().contains("still open"));
            assert!(xml_problem(b"this is not xml").is_some());
            assert!(xml_problem(b"<a/><b/>").is_some());
            assert_eq!(xml_problem(b"<a x='1>2' y=\"/\"><!-- <b> --><![CDATA[</a>]]><c/></a>"), None);
            assert_eq!(xml_problem(b"<a><!--><>>--></a>"), None);
            assert_eq!(xml_problem(b"<a><![CDATA[]]></a>"), None);
        }

        #[test]
        #[cfg_attr(miri, ignore = "builds an SDK client")]
        fn both_readers_agree_on_a_page() {
            let body = "<DescribeStoreImageTasksResponse xmlns=\"x\"><storeImageTaskResultSet><item><amiId>ami-1&amp;</amiId>\
                <taskStartTime>2026-11-18T11:06:40.123Z</taskStartTime><progressPercentage>5</progressPercentage></item>\
                </storeImageTaskResultSet><nextToken>t</nextToken></DescribeStoreImageTasksResponse>";
            let (tasks, token) = compare(body.as_bytes()).unwrap().unwrap();
            assert_eq!((tasks.len(), token.as_deref()), (1, Some("t")));
            // Both refuse a wrong root; the SDK alone would take a document cut short.
            assert!(compare(b"<Other/>").unwrap().is_err());
            assert!(compare(&body.as_bytes()[..body.len() - 10]).unwrap().is_err());
            // A broken time: both refuse.
            assert!(compare(body.replace("2026-11-18T", "2026-11-18 ").as_bytes()).unwrap().is_err());
        }
    }
}
