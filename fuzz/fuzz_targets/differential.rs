//! The reply reader against the SDK's deserializer (with the former well-formedness scan), on
//! well-formed replies built from arbitrary tasks: members in any order, left out, given twice,
//! empty, escaped in every way XML allows, with prefixes, unknown members, comments and white
//! space between elements, CDATA sections before a member's text, attributes on members, unknown
//! siblings of the task list; sometimes a progress or a time that is not one. Both must read the
//! same tasks and token, or both refuse the reply.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use storetasks::describe_store_image_tasks::sdk_hook::check::compare;

#[derive(Arbitrary, Debug)]
enum Member {
    AmiId(String),
    Bucket(String),
    Key(String),
    State(u8, String),
    Reason(String),
    /// A progress: a number, or arbitrary text.
    Progress(Result<i64, String>),
    /// A time: milliseconds from 1970 (formatted with 0, 3 or 9 fraction digits), or arbitrary text.
    Time(Result<(i64, u8), String>),
    Unknown(String),
    Comment(String),
}

#[derive(Arbitrary, Debug)]
struct Reply {
    items: Vec<Vec<Member>>,
    token: Option<String>,
    /// How text is escaped, whether names get a prefix, how much white space goes between.
    style: u8,
    with_list: bool,
    request_id_first: bool,
    /// A CDATA section put before the text of members (the SDK passes over it).
    cdata: Option<String>,
    /// An attribute value given to members.
    attribute: Option<String>,
    /// An unknown element beside the task list (EC2 may add some), with an attribute and text.
    sibling: Option<String>,
}

/// `s` as the body of a CDATA section: without `]]>` and characters XML cannot carry.
fn cdata_body(s: &str) -> String {
    let safe: String = s
        .chars()
        .filter(|c| (*c as u32 >= 0x20 || matches!(c, '\t' | '\n')) && !matches!(c, '\u{fffe}' | '\u{ffff}'))
        .collect();
    safe.replace("]]>", "]] >")
}

/// `s` as an attribute value in double quotes.
fn attribute_value(s: &str, mode: u8) -> String {
    let mut out = String::new();
    escape(&s.replace('"', "'"), mode, &mut out);
    out
}

/// Escapes `s` for text content; `mode` picks among the forms XML allows for each character.
fn escape(s: &str, mode: u8, out: &mut String) {
    for (i, c) in s.chars().enumerate() {
        let pick = mode.wrapping_add(i as u8) % 4;
        match c {
            '<' => out.push_str(if pick == 0 { "&#60;" } else { "&lt;" }),
            '&' => out.push_str(if pick == 0 { "&#x26;" } else { "&amp;" }),
            // Always escaped: a raw '>' could end a "]]>", which text may not hold.
            '>' => out.push_str(if pick == 1 { "&#x3E;" } else { "&gt;" }),
            '"' if pick == 2 => out.push_str("&quot;"),
            '\'' if pick == 3 => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry, raw or referenced, are left out: this target is
            // about well-formed documents.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            '\u{fffe}' | '\u{ffff}' => {}
            // '\r' would be read back as it is by both; keep it referenced so no parser folds it.
            '\r' => out.push_str("&#13;"),
            c if pick == 0 && !c.is_ascii_alphanumeric() => out.push_str(&format!("&#{};", c as u32)),
            c if pick == 1 && !c.is_ascii() => out.push_str(&format!("&#x{:X};", c as u32)),
            c => out.push(c),
        }
    }
}

fn time(ms: i64, digits: u8) -> String {
    let ms = ms.rem_euclid(4_102_444_800_000); // 1970..2100
    let (secs, frac) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since the epoch (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let base = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60);
    match digits % 3 {
        0 => format!("{base}Z"),
        1 => format!("{base}.{frac:03}Z"),
        _ => format!("{base}.{frac:03}000000Z"),
    }
}

fn render(r: &Reply) -> String {
    let prefix = if r.style & 1 == 1 { "ec2:" } else { "" };
    let ws = ["", "\n", "\n    ", " "][(r.style >> 1) as usize % 4];
    let mode = r.style >> 3;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<{prefix}DescribeStoreImageTasksResponse xmlns{}=\"http://ec2.amazonaws.com/doc/2016-11-15/\">{ws}",
        if prefix.is_empty() { "" } else { ":ec2" }
    ));
    let attribute = r.attribute.as_deref().map(|v| format!(" note=\"{}\"", attribute_value(v, mode))).unwrap_or_default();
    let leaf = |out: &mut String, name: &str, text: &str| {
        if text.is_empty() && mode & 1 == 1 {
            out.push_str(&format!("<{prefix}{name}{attribute}/>{ws}"));
        } else {
            out.push_str(&format!("<{prefix}{name}{attribute}>"));
            if let Some(c) = &r.cdata {
                out.push_str(&format!("<![CDATA[{}]]>", cdata_body(c)));
            }
            escape(text, mode, out);
            out.push_str(&format!("</{prefix}{name}>{ws}"));
        }
    };
    if r.request_id_first {
        leaf(&mut out, "requestId", "req-1");
    }
    let sibling = |out: &mut String| {
        if let Some(text) = &r.sibling {
            out.push_str(&format!("<{prefix}laterAddition version=\"2\"><{prefix}item>"));
            escape(text, mode, out);
            out.push_str(&format!("</{prefix}item></{prefix}laterAddition>{ws}"));
        }
    };
    if !r.request_id_first {
        sibling(&mut out);
    }
    if r.with_list || !r.items.is_empty() {
        out.push_str(&format!("<{prefix}storeImageTaskResultSet>{ws}"));
        for item in &r.items {
            out.push_str(&format!("<{prefix}item>{ws}"));
            for m in item {
                match m {
                    Member::AmiId(s) => leaf(&mut out, "amiId", s),
                    Member::Bucket(s) => leaf(&mut out, "bucket", s),
                    Member::Key(s) => leaf(&mut out, "s3objectKey", s),
                    Member::State(k, s) => {
                        let known = ["InProgress", "Completed", "Failed"];
                        leaf(&mut out, "storeTaskState", known.get(*k as usize % 4).copied().unwrap_or(s))
                    }
                    Member::Reason(s) => leaf(&mut out, "storeTaskFailureReason", s),
                    Member::Progress(Ok(n)) => leaf(&mut out, "progressPercentage", &n.to_string()),
                    Member::Progress(Err(s)) => leaf(&mut out, "progressPercentage", s),
                    Member::Time(Ok((ms, d))) => leaf(&mut out, "taskStartTime", &time(*ms, *d)),
                    Member::Time(Err(s)) => leaf(&mut out, "taskStartTime", s),
                    Member::Unknown(s) => {
                        out.push_str(&format!("<{prefix}futureMember kind=\"x\"><{prefix}inner>"));
                        escape(s, mode, &mut out);
                        out.push_str(&format!("</{prefix}inner></{prefix}futureMember>{ws}"));
                    }
                    Member::Comment(s) => {
                        let safe: String = s
                            .chars()
                            .filter(|c| *c != '-' && (*c as u32 >= 0x20 || *c == '\n') && !matches!(c, '\u{fffe}' | '\u{ffff}'))
                            .collect();
                        out.push_str(&format!("<!--{safe}-->{ws}"));
                    }
                }
            }
            out.push_str(&format!("</{prefix}item>{ws}"));
        }
        out.push_str(&format!("</{prefix}storeImageTaskResultSet>{ws}"));
    }
    if r.request_id_first {
        sibling(&mut out);
    }
    if let Some(t) = &r.token {
        leaf(&mut out, "nextToken", t);
    }
    if !r.request_id_first {
        leaf(&mut out, "requestId", "req-1");
    }
    out.push_str(&format!("</{prefix}DescribeStoreImageTasksResponse>\n"));
    out
}

fuzz_target!(|r: Reply| {
    let body = render(&r);
    if let Err(why) = compare(body.as_bytes()) {
        panic!("{why}\n{body}");
    }
});
