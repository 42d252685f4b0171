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
use quick_xml::events::Event;

#[derive(Debug, Default)]
pub(crate) struct WellFormedReplies;

/// Why `body` is not one well-formed XML document, or `None` when it is.
pub(crate) fn xml_problem(body: &[u8]) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut depth: usize = 0;
    let mut roots = 0;
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Ok(Event::Empty(_)) if depth == 0 => roots += 1,
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Some(format!("at byte {}: {e}", reader.buffer_position())),
        }
    }
    match (roots, depth) {
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
    }
}
