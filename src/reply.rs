//! A check on successful replies that the SDK does not make: that the XML is well-formed.
//!
//! The SDK's EC2 parser reads what it can and accepts a document that ends early or closes the
//! wrong element, which would turn a broken reply into made-up tasks. This interceptor rejects
//! such a reply, so the caller gets a RESPONSE error instead of wrong data.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

#[derive(Debug, Default)]
pub(crate) struct WellFormedReplies;

/// Why `body` is not one well-formed XML document (as far as its element structure goes), or
/// `None` when it is. A single scan over the bytes: it matches every end tag with its start tag
/// and counts root elements, and leaves text and attribute values to the SDK's parser.
pub(crate) fn xml_problem(body: &[u8]) -> Option<String> {
    fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
        hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| from + p)
    }
    let mut open: Vec<&[u8]> = Vec::with_capacity(8);
    let mut roots = 0usize;
    let mut i = 0usize;
    while let Some(off) = memchr::memchr(b'<', &body[i..]) {
        let start = i + off;
        let rest = &body[start + 1..];
        let skip_to = |end: &[u8]| find(body, start + 1, end).map(|p| p + end.len());
        if rest.starts_with(b"?") || rest.starts_with(b"!--") || rest.starts_with(b"![CDATA[") || rest.starts_with(b"!") {
            let end: &[u8] = if rest.starts_with(b"?") {
                b"?>"
            } else if rest.starts_with(b"!--") {
                b"-->"
            } else if rest.starts_with(b"![CDATA[") {
                b"]]>"
            } else {
                b">"
            };
            match skip_to(end) {
                Some(next) => i = next,
                None => return Some(format!("an unterminated declaration at byte {start}")),
            }
            continue;
        }
        // The end of the tag, skipping '>' inside quoted attribute values.
        let mut j = start + 1;
        loop {
            let Some(k) = memchr::memchr3(b'>', b'"', b'\'', &body[j..]) else {
                return Some(format!("the tag at byte {start} never ends"));
            };
            j += k;
            let c = body[j];
            if c == b'>' {
                break;
            }
            let Some(close) = memchr::memchr(c, &body[j + 1..]) else {
                return Some(format!("the tag at byte {start} never ends"));
            };
            j += close + 2;
        }
        let tag = &body[start + 1..j];
        let name_of = |t: &[u8]| -> usize { t.iter().position(|c| c.is_ascii_whitespace() || *c == b'/').unwrap_or(t.len()) };
        if let Some(closing) = tag.strip_prefix(b"/") {
            let name = &closing[..name_of(closing)];
            match open.pop() {
                Some(expected) if expected == name => {}
                Some(expected) => {
                    return Some(format!(
                        "</{}> at byte {start} closes <{}>",
                        String::from_utf8_lossy(name),
                        String::from_utf8_lossy(expected)
                    ));
                }
                None => return Some(format!("</{}> at byte {start} closes nothing", String::from_utf8_lossy(name))),
            }
        } else {
            let name = &tag[..name_of(tag)];
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

impl Intercept for WellFormedReplies {
    fn name(&self) -> &'static str {
        "storetasks::WellFormedReplies"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if context.output_or_error().is_err() {
            return Ok(());
        }
        let Some(body) = context.response().body().bytes() else {
            return Ok(());
        };
        match xml_problem(body) {
            None => Ok(()),
            Some(why) => Err(format!("the reply is not well-formed XML ({why})").into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::xml_problem;

    #[test]
    fn detects_broken_documents() {
        assert_eq!(xml_problem(b"<?xml version=\"1.0\"?>\n<a><b>x</b><c/></a>"), None);
        assert!(xml_problem(b"<a><b>x</c></a>").is_some());
        assert!(xml_problem(b"<a><b>x</b>").unwrap().contains("still open"));
        assert!(xml_problem(b"this is not xml").is_some());
        assert!(xml_problem(b"").is_some());
        assert!(xml_problem(b"<a/><b/>").is_some());
        assert_eq!(xml_problem(b"<a x='1>2' y=\"/\"><!-- <b> --><![CDATA[</a>]]><c/></a>"), None);
        assert!(xml_problem(b"<a><b").unwrap().contains("never ends"));
        assert!(xml_problem(b"</a>").unwrap().contains("closes nothing"));
    }
}
