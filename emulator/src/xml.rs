//! EC2 Query-protocol response bodies, written with quick-xml.

use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::accounts::Role;
use crate::state::Issued;
use crate::store::{View, format_ms};

pub const NAMESPACE: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";
pub const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

type W = Writer<Vec<u8>>;

fn document() -> io::Result<W> {
    let mut w = Writer::new(Vec::new());
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Text(BytesText::new("\n")))?;
    Ok(w)
}

fn root(name: &str) -> BytesStart<'_> {
    BytesStart::new(name).with_attributes([("xmlns", NAMESPACE)])
}

fn text_element(w: &mut W, name: &str, text: &str) -> io::Result<()> {
    w.create_element(name).write_text_content(BytesText::new(text))?;
    Ok(())
}

fn optional(w: &mut W, name: &str, text: Option<&str>) -> io::Result<()> {
    match text {
        Some(t) => text_element(w, name, t),
        None => Ok(()),
    }
}

fn item(w: &mut W, v: &View) -> io::Result<()> {
    w.create_element("item").write_inner_content(|w| {
        optional(w, "amiId", v.ami_id.as_deref())?;
        optional(w, "taskStartTime", v.start_ms.map(format_ms).as_deref())?;
        optional(w, "bucket", v.bucket.as_deref())?;
        optional(w, "s3objectKey", v.s3_key.as_deref())?;
        optional(w, "progressPercentage", v.progress.map(|p| p.to_string()).as_deref())?;
        optional(w, "storeTaskState", v.state.as_deref())?;
        optional(w, "storeTaskFailureReason", v.failure_reason.as_deref())
    })?;
    Ok(())
}

fn finish(r: io::Result<W>) -> Vec<u8> {
    // Writing into a Vec cannot fail.
    r.expect("writing XML into memory").into_inner()
}

pub fn describe(request_id: &str, items: &[View], next_token: Option<&str>) -> Vec<u8> {
    finish((|| {
        let mut w = document()?;
        w.write_event(Event::Start(root("DescribeStoreImageTasksResponse")))?;
        text_element(&mut w, "requestId", request_id)?;
        w.create_element("storeImageTaskResultSet").write_inner_content(|w| {
            for v in items {
                item(w, v)?;
            }
            Ok(())
        })?;
        optional(&mut w, "nextToken", next_token)?;
        w.write_event(Event::End(BytesEnd::new("DescribeStoreImageTasksResponse")))?;
        Ok(w)
    })())
}

pub fn create(request_id: &str, object_key: &str) -> Vec<u8> {
    finish((|| {
        let mut w = document()?;
        w.write_event(Event::Start(root("CreateStoreImageTaskResponse")))?;
        text_element(&mut w, "requestId", request_id)?;
        text_element(&mut w, "objectKey", object_key)?;
        w.write_event(Event::End(BytesEnd::new("CreateStoreImageTaskResponse")))?;
        Ok(w)
    })())
}

/// `regions` holds (name, opt-in status) pairs, in the order to list them.
pub fn describe_regions(request_id: &str, regions: &[(String, &str)]) -> Vec<u8> {
    finish((|| {
        let mut w = document()?;
        w.write_event(Event::Start(root("DescribeRegionsResponse")))?;
        text_element(&mut w, "requestId", request_id)?;
        w.create_element("regionInfo").write_inner_content(|w| {
            for (name, status) in regions {
                w.create_element("item").write_inner_content(|w| {
                    text_element(w, "regionName", name)?;
                    text_element(w, "regionEndpoint", &format!("ec2.{name}.amazonaws.com"))?;
                    text_element(w, "optInStatus", status)
                })?;
            }
            Ok(())
        })?;
        w.write_event(Event::End(BytesEnd::new("DescribeRegionsResponse")))?;
        Ok(w)
    })())
}

/// STS writes `Expiration` as an RFC 3339 UTC time with whole seconds.
fn format_expiration(t: std::time::SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
}

pub fn assume_role(request_id: &str, role: &Role, session: &str, issued: &Issued) -> Vec<u8> {
    finish((|| {
        let mut w = document()?;
        w.create_element("AssumeRoleResponse").with_attribute(("xmlns", STS_NAMESPACE)).write_inner_content(|w| {
            w.create_element("AssumeRoleResult").write_inner_content(|w| {
                w.create_element("Credentials").write_inner_content(|w| {
                    text_element(w, "AccessKeyId", &issued.access_key)?;
                    text_element(w, "SecretAccessKey", &issued.secret)?;
                    text_element(w, "SessionToken", &issued.token)?;
                    text_element(w, "Expiration", &format_expiration(issued.expires))
                })?;
                w.create_element("AssumedRoleUser").write_inner_content(|w| {
                    text_element(w, "AssumedRoleId", &format!("{}:{session}", role.role_id()))?;
                    text_element(w, "Arn", &format!("arn:aws:sts::{}:assumed-role/{}/{session}", role.account, role.name))
                })?;
                Ok(())
            })?;
            w.create_element("ResponseMetadata").write_inner_content(|w| text_element(w, "RequestId", request_id))?;
            Ok(())
        })?;
        Ok(w)
    })())
}

/// An STS error document; `kind` is `Sender` or `Receiver`.
pub fn sts_error(request_id: &str, kind: &str, code: &str, message: &str) -> Vec<u8> {
    finish((|| {
        let mut w = document()?;
        w.create_element("ErrorResponse").with_attribute(("xmlns", STS_NAMESPACE)).write_inner_content(|w| {
            w.create_element("Error").write_inner_content(|w| {
                text_element(w, "Type", kind)?;
                text_element(w, "Code", code)?;
                text_element(w, "Message", message)
            })?;
            text_element(w, "RequestId", request_id)
        })?;
        Ok(w)
    })())
}

pub fn error(request_id: &str, code: &str, message: &str) -> Vec<u8> {
    finish((|| {
        let mut w = document()?;
        w.create_element("Response").write_inner_content(|w| {
            w.create_element("Errors").write_inner_content(|w| {
                w.create_element("Error").write_inner_content(|w| {
                    text_element(w, "Code", code)?;
                    text_element(w, "Message", message)
                })?;
                Ok(())
            })?;
            text_element(w, "RequestID", request_id)
        })?;
        Ok(w)
    })())
}

/// Not well-formed: elements opened and never closed, the document just stops.
pub fn malformed(root_name: &str, request_id: &str) -> Vec<u8> {
    finish((|| {
        let mut w = document()?;
        w.write_event(Event::Start(root(root_name)))?;
        text_element(&mut w, "requestId", request_id)?;
        w.write_event(Event::Start(BytesStart::new("storeImageTaskResultSet")))?;
        w.write_event(Event::Start(BytesStart::new("item")))?;
        w.write_event(Event::Start(BytesStart::new("amiId")))?;
        w.write_event(Event::Text(BytesText::new("ami-")))?;
        w.write_event(Event::End(BytesEnd::new("bucket")))?;
        Ok(w)
    })())
}

/// Well-formed XML under a root element no EC2 operation answers with.
pub fn wrong_root(request_id: &str) -> Vec<u8> {
    finish((|| {
        let mut w = document()?;
        w.write_event(Event::Start(root("UnexpectedEmulatorResponse")))?;
        text_element(&mut w, "requestId", request_id)?;
        text_element(&mut w, "note", "this root element is not the one the operation defines")?;
        w.write_event(Event::End(BytesEnd::new("UnexpectedEmulatorResponse")))?;
        Ok(w)
    })())
}
