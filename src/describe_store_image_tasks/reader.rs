//! The reader of successful DescribeStoreImageTasks replies: one strict pass from the body's
//! bytes to packed tasks.
//!
//! The reply is EC2's query-protocol XML:
//!
//! ```xml
//! <DescribeStoreImageTasksResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
//!     <requestId>...</requestId>
//!     <storeImageTaskResultSet>
//!         <item><amiId>ami-...</amiId><taskStartTime>2026-11-20T12:00:00.000Z</taskStartTime>...</item>
//!     </storeImageTaskResultSet>
//!     <nextToken>...</nextToken>
//! </DescribeStoreImageTasksResponse>
//! ```
//!
//! One scan over the bytes checks the document as it reads it: one root element, named
//! `DescribeStoreImageTasksResponse`; every element closed, by its own name; nothing but white
//! space, comments and processing instructions outside the root; no DOCTYPE; attributes quoted,
//! unique and free of `<`; every entity and character reference known, in skipped parts too; no
//! character that XML does not allow (control characters but tab and line ends, U+FFFE, U+FFFF).
//! A member's text is decoded straight into the text of a [`Chunk`] (NUL-terminated, ready for C),
//! so a string is written once. Anything else is a [`ReadError`] that names the byte where it was
//! found.
//!
//! What a member holds is decided as the AWS SDK decides it, so that both read a reply alike:
//! element names are compared without their namespace prefix; a member's value is its first run
//! of text (comments, processing instructions and CDATA sections before it are passed over, as is
//! everything after it; an element before any text is an error); an empty member is an empty
//! string; a member given twice keeps its last value, as does the task list and `nextToken`;
//! unknown elements are skipped wherever they are (EC2 adds members); members come in any order.
//! References decode as the SDK decodes them: the five predefined entities and decimal or
//! hexadecimal character references to any Unicode scalar value; a NUL (which XML cannot carry)
//! becomes U+FFFD, as everywhere in the library. `progressPercentage` is read as an `i32` and
//! `taskStartTime` with the SDK's own RFC 3339 parser; a time past what milliseconds since the
//! epoch can hold is absent, as the SDK path had it.
//!
//! Speed comes from recognising EC2's common shapes whole and leaving everything else to the
//! general path, which alone decides what is accepted: a member's start tag `<name>` is compared
//! with the one member name its first bytes allow, a member's text and its end tag are found in
//! one scan (eight bytes at a time, for the first `<` or `&`), an end tag is compared whole with
//! the name it must close, and a time written exactly as EC2 writes it is converted without the
//! SDK's parser (which reads every other form). Whenever the shape is not the common one, the
//! reader goes back to the general path at the same byte, so the rules above hold either way.

use std::fmt;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

use crate::describe_store_image_tasks::task::{Chunk, Rec};

mod scan;

/// The largest reply read. Offsets into a chunk's text are `u32`; a real page of 200 tasks is
/// under 100 KiB.
pub const MAX_REPLY_BYTES: usize = 1 << 30;

/// What the reader took from a reply: its tasks (one chunk) and its token.
#[derive(Debug, Default)]
pub struct Reply {
    pub(crate) chunk: Chunk,
    /// `nextToken` as sent (an empty one included).
    pub next_token: Option<String>,
}

impl Reply {
    /// The tasks read.
    pub fn tasks(self) -> crate::describe_store_image_tasks::task::Tasks {
        crate::describe_store_image_tasks::task::Tasks::from_chunk(self.chunk)
    }
}

/// Why a reply could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// Byte offset into the body.
    pub at: usize,
    pub what: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.what, self.at)
    }
}

impl std::error::Error for ReadError {}

const ROOT: &str = "DescribeStoreImageTasksResponse";

/// Reads a successful reply's body.
pub fn read_reply(body: &[u8]) -> Result<Reply, ReadError> {
    if body.len() > MAX_REPLY_BYTES {
        return Err(ReadError { at: MAX_REPLY_BYTES, what: format!("the reply is larger than {MAX_REPLY_BYTES} bytes") });
    }
    let text = checked_text(body)?;
    let mut r = Reader { s: text, b: body, pos: 0, open: Vec::with_capacity(8), scratch: String::with_capacity(32) };
    let mut reply = Reply { chunk: Chunk { text: String::with_capacity(body.len() / 2), recs: Vec::new() }, next_token: None };
    r.document(&mut reply)?;
    // The text was sized for the worst case; what is left over is given back (in place).
    reply.chunk.text.shrink_to_fit();
    reply.chunk.recs.shrink_to_fit();
    Ok(reply)
}

/// `body` as text, once it is known to be UTF-8 holding no character that XML 1.0 allows nowhere
/// in a document: a control character other than tab, line feed and carriage return, or U+FFFE or
/// U+FFFF. (Surrogates cannot occur in UTF-8.) The SDK's parser refuses them in text but, inside a
/// comment or processing instruction, stops reading there and keeps what it had, which would lose
/// tasks.
///
/// One pass for both checks: each block of 64 bytes is first tested whole for a byte below a space
/// or not ASCII; only a block holding one is looked at closer ([`check_block`]).
fn checked_text(body: &[u8]) -> Result<&str, ReadError> {
    // Every byte before `checked` is known to be good, and `checked` starts a character.
    let mut checked = 0;
    let mut at = 0;
    while at + 64 <= body.len() {
        let lane = |i: usize| scan::block(body, at + 16 * i).expect("a block of 64 bytes holds four of 16");
        let lanes = [lane(0), lane(1), lane(2), lane(3)];
        if scan::any_unusual(lanes) {
            checked = check_block(body, checked.max(at), at, lanes)?;
        }
        at += 64;
    }
    let from = checked.max(at);
    check_span(body, from, body.len(), first_non_xml_char(&body[from..], from))?;
    debug_assert!(std::str::from_utf8(body).is_ok());
    // SAFETY: every byte outside the spans decoded by `check_block` and above is ASCII, and each of
    // those spans was decoded whole from a character's start (the body's start, a byte after an
    // ASCII byte, or the end of the span before) through the end of the last character it
    // begins: the body is UTF-8.
    Ok(unsafe { std::str::from_utf8_unchecked(body) })
}

/// Checks the block of 64 bytes at `at` (its four `lanes`), of which the bytes before `from` are
/// known to be good, and returns where the bytes known to be good now end: past the block, or past
/// the end of a character that its last bytes begin.
fn check_block(body: &[u8], from: usize, at: usize, lanes: [&scan::Block; 4]) -> Result<usize, ReadError> {
    let mask = |f: fn(&scan::Block) -> u32| lanes.iter().enumerate().fold(0u64, |m, (i, l)| m | u64::from(f(l)) << (16 * i));
    // Bytes before `from` were decoded with the block before.
    let skip = from - at;
    let high = if skip >= 64 { 0 } else { mask(scan::high) >> skip << skip };
    // The first character not allowed: a control byte, or U+FFFE or U+FFFF (which begin with EF).
    let control = mask(scan::control);
    let mut bad = (control != 0).then(|| at + control.trailing_zeros() as usize).map(|p| (p, char::from(body[p])));
    let mut ef = if high == 0 { 0 } else { mask(scan::ef) };
    while ef != 0 {
        let p = at + ef.trailing_zeros() as usize;
        if bad.is_some_and(|(b, _)| b < p) {
            break;
        }
        if let Some(c) = non_character(body, p) {
            bad = Some((p, c));
            break;
        }
        ef &= ef - 1;
    }
    if high == 0 {
        return match bad {
            Some((p, c)) => Err(not_allowed(p, c)),
            None => Ok((at + 64).max(from)),
        };
    }
    // The span decoded: from its first byte that is not ASCII through the end of the character
    // that the block's last bytes begin.
    let mut end = at + 64;
    while end < body.len() && end < at + 67 && (body[end] as i8) < -0x40 {
        end += 1;
    }
    check_span(body, at + high.trailing_zeros() as usize, end, bad)?;
    Ok(end)
}

/// Decodes `body[from..to]` as UTF-8 up to `bad` (the first character there that XML does not
/// allow, if any), and refuses whichever comes first: a byte that is not UTF-8, or `bad`.
fn check_span(body: &[u8], from: usize, to: usize, bad: Option<(usize, char)>) -> Result<(), ReadError> {
    let to = bad.map_or(to, |(p, _)| p.clamp(from, to));
    std::str::from_utf8(&body[from..to]).map_err(|e| not_utf8(from + e.valid_up_to()))?;
    match bad {
        Some((p, c)) => Err(not_allowed(p, c)),
        None => Ok(()),
    }
}

/// U+FFFE or U+FFFF, if their bytes (EF BF BE, EF BF BF) are at `at`.
fn non_character(body: &[u8], at: usize) -> Option<char> {
    match body.get(at..at + 3) {
        Some([0xEF, 0xBF, 0xBE]) => Some('\u{fffe}'),
        Some([0xEF, 0xBF, 0xBF]) => Some('\u{ffff}'),
        _ => None,
    }
}

fn not_utf8(at: usize) -> ReadError {
    ReadError { at, what: "the reply is not UTF-8".to_owned() }
}

fn not_allowed(at: usize, c: char) -> ReadError {
    ReadError { at, what: format!("a character XML does not allow (U+{:04X})", c as u32) }
}

/// The first character of `text` (which starts at byte `base` of the body) that XML does not
/// allow anywhere: see [`checked_text`].
fn first_non_xml_char(text: &[u8], base: usize) -> Option<(usize, char)> {
    text.iter().enumerate().find_map(|(i, &b)| match b {
        0xEF => non_character(text, i).map(|c| (base + i, c)),
        b if b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r' => Some((base + i, char::from(b))),
        _ => None,
    })
}

/// A start tag: its name with and without prefix, where it began, and whether it was `<x/>`.
struct Tag<'a> {
    qname: &'a str,
    /// Where the local name starts in `qname` (after the last `:`).
    local_at: usize,
    at: usize,
    empty: bool,
}

impl<'a> Tag<'a> {
    fn local(&self) -> &'a str {
        &self.qname[self.local_at..]
    }
}

/// What a byte is in a name: not part of one, part of one, or the prefix separator `:`.
/// Non-ASCII bytes are taken as name characters.
const NAME_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.' || c >= 0x80 {
            t[b] = 1;
        }
        b += 1;
    }
    t[b':' as usize] = 2;
    t
};

/// One piece of an element's content.
enum Event<'a> {
    /// A run of character data (raw, references not yet decoded) and where it starts.
    Text(&'a str, usize),
    Start(Tag<'a>),
    /// The end tag of the innermost open element (already matched).
    End,
    /// A comment, processing instruction or CDATA section.
    Other,
}

struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    /// Names of the open elements, for matching end tags.
    open: Vec<&'a str>,
    /// Where a time or progress is decoded before it is parsed, kept from task to task.
    scratch: String,
}

fn err<T>(at: usize, what: impl Into<String>) -> Result<T, ReadError> {
    Err(ReadError { at, what: what.into() })
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// A byte that may appear in an XML name (non-ASCII bytes are taken as name characters).
fn is_name_byte(c: u8) -> bool {
    NAME_CLASS[c as usize] != 0
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a [u8] {
        &self.b[self.pos..]
    }

    fn find(&self, needle: &[u8]) -> Option<usize> {
        memchr::memmem::find(self.rest(), needle).map(|p| self.pos + p)
    }

    fn skip_space(&mut self) {
        while self.pos < self.b.len() && is_space(self.b[self.pos]) {
            self.pos += 1;
        }
    }

    /// Skips `<?...?>`, `<!--...-->` or `<![CDATA[...]]>` at `pos`; `false` if none is there.
    fn skip_markup(&mut self) -> Result<bool, ReadError> {
        let rest = self.rest();
        let (open, close, what): (usize, &[u8], &str) = if rest.starts_with(b"<?") {
            (2, b"?>", "processing instruction")
        } else if rest.starts_with(b"<!--") {
            (4, b"-->", "comment")
        } else if rest.starts_with(b"<![CDATA[") {
            (9, b"]]>", "CDATA section")
        } else {
            return Ok(false);
        };
        let at = self.pos;
        self.pos += open;
        match self.find(close) {
            Some(end) => {
                self.pos = end + close.len();
                Ok(true)
            }
            None => err(at, format!("a {what} that never ends")),
        }
    }

    fn name(&mut self) -> Result<&'a str, ReadError> {
        self.qualified_name().map(|(name, _)| name)
    }

    /// A name and where its local part starts (after its last `:`).
    fn qualified_name(&mut self) -> Result<(&'a str, usize), ReadError> {
        let start = self.pos;
        let first = self.b.get(start).copied();
        if !first.is_some_and(|c| is_name_byte(c) && !c.is_ascii_digit() && c != b'-' && c != b'.') {
            return err(start, "a name was expected");
        }
        // One table look-up per byte; a prefix (rare) is then looked for in the name alone.
        let rest = &self.b[start..];
        let mut len = 0;
        let mut seen = 0;
        while len < rest.len() {
            let class = NAME_CLASS[rest[len] as usize];
            if class == 0 {
                break;
            }
            seen |= class;
            len += 1;
        }
        let name = &self.s[start..start + len];
        let local = if seen & 2 == 0 { 0 } else { name.rfind(':').map_or(0, |p| p + 1) };
        self.pos = start + len;
        Ok((name, local))
    }

    /// Reads a start tag at `pos` (which holds `<` followed by a name).
    fn start_tag(&mut self) -> Result<Tag<'a>, ReadError> {
        let at = self.pos;
        self.pos += 1;
        let (qname, local_at) = self.qualified_name()?;
        // The common case: no attribute.
        if self.b.get(self.pos) == Some(&b'>') {
            self.pos += 1;
            return Ok(Tag { qname, local_at, at, empty: false });
        }
        let mut attrs: Vec<&'a str> = Vec::new();
        loop {
            let before = self.pos;
            self.skip_space();
            match self.b.get(self.pos) {
                None | Some(b'<') => return err(at, format!("the start tag <{qname}> never ends")),
                Some(b'>') => {
                    self.pos += 1;
                    return Ok(Tag { qname, local_at, at, empty: false });
                }
                Some(b'/') => {
                    if self.b.get(self.pos + 1) != Some(&b'>') {
                        return err(self.pos, format!("'/' inside the start tag <{qname}>"));
                    }
                    self.pos += 2;
                    return Ok(Tag { qname, local_at, at, empty: true });
                }
                Some(_) if self.pos == before => return err(self.pos, format!("no space before an attribute of <{qname}>")),
                Some(_) => {}
            }
            let name_at = self.pos;
            let name = self.name()?;
            if attrs.contains(&name) {
                return err(name_at, format!("the attribute {name} is given twice"));
            }
            attrs.push(name);
            self.skip_space();
            if self.b.get(self.pos) != Some(&b'=') {
                return err(self.pos, format!("the attribute {name} has no value"));
            }
            self.pos += 1;
            self.skip_space();
            let quote = match self.b.get(self.pos) {
                Some(&q @ (b'"' | b'\'')) => q,
                _ => return err(self.pos, format!("the value of the attribute {name} is not quoted")),
            };
            let value_at = self.pos + 1;
            let Some(len) = memchr::memchr(quote, &self.b[value_at..]) else {
                return err(value_at, format!("the value of the attribute {name} never ends"));
            };
            let value = &self.s[value_at..value_at + len];
            if let Some(p) = value.find('<') {
                return err(value_at + p, format!("'<' in the value of the attribute {name}"));
            }
            check_references(value, value_at)?;
            self.pos = value_at + len + 1;
        }
    }

    /// Reads `</name>` at `pos` and checks it closes the innermost open element.
    fn end_tag(&mut self) -> Result<(), ReadError> {
        let at = self.pos;
        // The common case: `</name>` of the innermost open element, compared whole.
        if let Some(&open) = self.open.last() {
            let after = &self.b[at + 2..];
            if after.len() > open.len() && starts_with(after, open.as_bytes()) && after[open.len()] == b'>' {
                self.pos = at + 3 + open.len();
                self.open.pop();
                return Ok(());
            }
        }
        self.pos += 2;
        let name = self.name()?;
        self.skip_space();
        if self.b.get(self.pos) != Some(&b'>') {
            return err(at, format!("the end tag </{name}> never ends"));
        }
        self.pos += 1;
        match self.open.pop() {
            Some(open) if open == name => Ok(()),
            Some(open) => err(at, format!("</{name}> closes <{open}>")),
            None => err(at, format!("</{name}> closes nothing")),
        }
    }

    /// The next piece of the content of the innermost open element.
    fn event(&mut self) -> Result<Event<'a>, ReadError> {
        let rest = self.rest();
        if rest.is_empty() {
            let open = self.open.last().copied().unwrap_or_default();
            return err(self.pos, format!("the reply ends inside <{open}>"));
        }
        if rest[0] != b'<' {
            let at = self.pos;
            let len = memchr::memchr(b'<', rest).unwrap_or(rest.len());
            self.pos += len;
            return Ok(Event::Text(&self.s[at..at + len], at));
        }
        match rest.get(1) {
            Some(b'/') => {
                self.end_tag()?;
                Ok(Event::End)
            }
            Some(b'?' | b'!') => {
                if self.skip_markup()? {
                    Ok(Event::Other)
                } else {
                    err(self.pos, "a declaration inside an element")
                }
            }
            _ => {
                let tag = self.start_tag()?;
                if !tag.empty {
                    self.open.push(tag.qname);
                }
                Ok(Event::Start(tag))
            }
        }
    }

    /// Skips the rest of an element whose start tag was just read, checking it all the same.
    fn skip(&mut self, tag: &Tag<'a>) -> Result<(), ReadError> {
        if tag.empty {
            return Ok(());
        }
        let depth = self.open.len();
        while self.open.len() >= depth {
            if let Event::Text(t, at) = self.event()? {
                check_references(t, at)?;
            }
        }
        Ok(())
    }

    /// The prolog, the root element, and what may follow it.
    fn document(&mut self, reply: &mut Reply) -> Result<(), ReadError> {
        if self.rest().starts_with("\u{feff}".as_bytes()) {
            self.pos += 3;
        }
        let root = loop {
            self.skip_space();
            if self.pos == self.b.len() {
                return err(self.pos, "no root element");
            }
            if self.skip_markup()? {
                continue;
            }
            let rest = self.rest();
            if rest.starts_with(b"<!") {
                return err(self.pos, "a DOCTYPE or other declaration, which EC2 never sends");
            }
            if rest[0] != b'<' || rest.get(1) == Some(&b'/') {
                return err(self.pos, "text or an end tag before the root element");
            }
            break self.start_tag()?;
        };
        if root.local() != ROOT {
            return err(root.at, format!("the root element is <{}>, not <{ROOT}>", root.qname));
        }
        if !root.empty {
            self.open.push(root.qname);
            self.root_content(reply)?;
        }
        loop {
            self.skip_space();
            if self.pos == self.b.len() {
                return Ok(());
            }
            if !self.skip_markup()? {
                return err(self.pos, "more after the root element");
            }
        }
    }

    fn root_content(&mut self, reply: &mut Reply) -> Result<(), ReadError> {
        loop {
            match self.event()? {
                Event::End => return Ok(()),
                Event::Text(t, at) => check_references(t, at)?,
                Event::Other => {}
                Event::Start(tag) => match tag.local() {
                    "storeImageTaskResultSet" => {
                        // A second list replaces the first, as in the SDK.
                        reply.chunk.recs.clear();
                        self.task_set(&tag, &mut reply.chunk)?;
                    }
                    "nextToken" => {
                        let mut token = String::new();
                        self.leaf(&tag, &mut token)?;
                        reply.next_token = Some(token);
                    }
                    _ => self.skip(&tag)?,
                },
            }
        }
    }

    fn task_set(&mut self, set: &Tag<'a>, chunk: &mut Chunk) -> Result<(), ReadError> {
        if set.empty {
            return Ok(());
        }
        loop {
            // The common case, `<item>`, recognised whole.
            if starts_with(self.rest(), b"<item>") {
                let at = self.pos;
                let qname = self.text(at + 1, at + 5);
                self.pos = at + 6;
                self.open.push(qname);
                self.item(&Tag { qname, local_at: 0, at, empty: false }, chunk)?;
                continue;
            }
            match self.event()? {
                Event::End => return Ok(()),
                Event::Text(t, at) => check_references(t, at)?,
                Event::Other => {}
                Event::Start(tag) if tag.local() == "item" => self.item(&tag, chunk)?,
                Event::Start(tag) => self.skip(&tag)?,
            }
        }
    }

    fn item(&mut self, item: &Tag<'a>, chunk: &mut Chunk) -> Result<(), ReadError> {
        let mut rec = Rec::EMPTY;
        if !item.empty {
            let mut scratch = std::mem::take(&mut self.scratch);
            loop {
                if let Some((member, value, at)) = self.whole_member() {
                    keep(&mut rec, chunk, member, value, at)?;
                    continue;
                }
                let (member, tag) = match self.member_start() {
                    Some(known) => known,
                    None => match self.event()? {
                        Event::End => break,
                        Event::Text(t, at) => {
                            check_references(t, at)?;
                            continue;
                        }
                        Event::Other => continue,
                        Event::Start(tag) => (Member::of(tag.local()), tag),
                    },
                };
                let Some(member) = member else {
                    self.skip(&tag)?;
                    continue;
                };
                scratch.clear();
                let at = self.leaf(&tag, &mut scratch)?;
                keep(&mut rec, chunk, member, &scratch, at)?;
            }
            self.scratch = scratch;
        }
        chunk.recs.push(rec);
        Ok(())
    }

    /// A whole member in its common shape, `<name>text</name>` with a name the reader keeps and
    /// text without references, at `pos`: its value and where that starts (the tag, for an empty
    /// one). Read past; anything else is left where it is, for the general path.
    fn whole_member(&mut self) -> Option<(Member, &'a str, usize)> {
        let at = self.pos;
        let rest = self.rest();
        let known = known_start(rest)?;
        let text_at = known.start.len();
        let n = text_end(&rest[text_at..]);
        if !starts_with(&rest[text_at + n..], known.end) {
            return None;
        }
        self.pos = at + text_at + n + known.end.len();
        let value = self.text(at + text_at, at + text_at + n);
        Some((known.member, value, if n == 0 { at } else { at + text_at }))
    }

    /// The start tag `<name>` of a member the reader keeps, at `pos`, without prefix or
    /// attributes (the common case): recognised by comparing it whole with the one name its first
    /// bytes allow, so that its bytes need no other look. Anything else is left to [`Self::event`].
    fn member_start(&mut self) -> Option<(Option<Member>, Tag<'a>)> {
        let known = known_start(self.rest())?;
        let at = self.pos;
        let qname = self.text(at + 1, at + known.start.len() - 1);
        self.pos = at + known.start.len();
        self.open.push(qname);
        Some((Some(known.member), Tag { qname, local_at: 0, at, empty: false }))
    }

    /// The text of the body's bytes `from..to`, each of which is the body's end or next to an
    /// ASCII byte: after `<`, `>` or `/`, or at `<`, `&` or `>`.
    #[inline(always)]
    fn text(&self, from: usize, to: usize) -> &'a str {
        debug_assert!(self.s.is_char_boundary(from) && self.s.is_char_boundary(to));
        // SAFETY: the body is UTF-8 (`checked_text`), and a position that is its end or next to an
        // ASCII byte (which is a whole character) is between two characters.
        unsafe { std::str::from_utf8_unchecked(&self.b[from..to]) }
    }

    /// Reads a member's value (see the module documentation) into `out`, and returns where it was.
    fn leaf(&mut self, tag: &Tag<'a>, out: &mut String) -> Result<usize, ReadError> {
        if tag.empty {
            return Ok(tag.at);
        }
        // The common case, `text</name>` with nothing to decode in the text, in one scan.
        let start = self.pos;
        let rest = self.rest();
        let n = text_end(rest);
        if rest.get(n) == Some(&b'<') {
            let name = tag.qname.as_bytes();
            let after = &rest[n + 1..];
            if after.len() > name.len() + 1 && after[0] == b'/' && starts_with(&after[1..], name) && after[1 + name.len()] == b'>'
            {
                out.push_str(&self.s[start..start + n]);
                self.pos = start + n + 3 + name.len();
                self.open.pop();
                return Ok(if n == 0 { tag.at } else { start });
            }
        }
        let mut value_at = None;
        loop {
            match self.event()? {
                Event::End => return Ok(value_at.unwrap_or(tag.at)),
                Event::Other => {}
                Event::Text(t, at) => match value_at {
                    None => {
                        decode_into(t, at, out)?;
                        value_at = Some(at);
                    }
                    Some(_) => check_references(t, at)?,
                },
                Event::Start(inner) => {
                    if value_at.is_none() {
                        return err(inner.at, format!("<{}> inside <{}>, where text was expected", inner.qname, tag.qname));
                    }
                    self.skip(&inner)?;
                }
            }
        }
    }
}

/// The length of the text at the start of `rest`: up to its first `<` or `&` (or its end).
/// Sixteen bytes at a time, inline: a member's text is short, and a call to a vector search would
/// cost more than the search.
#[inline(always)]
fn text_end(rest: &[u8]) -> usize {
    let mut i = 0;
    while let Some(block) = scan::block(rest, i) {
        let hits = scan::markup(block);
        if hits != 0 {
            return i + hits.trailing_zeros() as usize;
        }
        i += 16;
    }
    while i < rest.len() && rest[i] != b'<' && rest[i] != b'&' {
        i += 1;
    }
    i
}

/// Whether `hay` starts with `needle`, compared a word at a time (the last word overlapping the
/// one before): names are short, and a call to `memcmp` would cost more than the comparison.
#[inline(always)]
fn starts_with(hay: &[u8], needle: &[u8]) -> bool {
    let Some(hay) = hay.get(..needle.len()) else { return false };
    let n = needle.len();
    let w8 = |s: &[u8], at: usize| u64::from_ne_bytes(s[at..at + 8].try_into().expect("eight bytes"));
    let w4 = |s: &[u8], at: usize| u32::from_ne_bytes(s[at..at + 4].try_into().expect("four bytes"));
    if n < 4 {
        return hay == needle;
    }
    if n < 8 {
        return w4(hay, 0) == w4(needle, 0) && w4(hay, n - 4) == w4(needle, n - 4);
    }
    let mut at = 0;
    while at + 8 <= n {
        if w8(hay, at) != w8(needle, at) {
            return false;
        }
        at += 8;
    }
    w8(hay, n - 8) == w8(needle, n - 8)
}

/// A member of a task that the reader keeps.
#[derive(Clone, Copy)]
enum Member {
    /// A string member: its index in a record's strings.
    String(usize),
    Time,
    Progress,
}

/// A member the reader keeps, with its start and end tags as EC2 writes them.
struct Known {
    start: &'static [u8],
    end: &'static [u8],
    member: Member,
}

impl Known {
    const fn new(start: &'static [u8], end: &'static [u8], member: Member) -> Known {
        Known { start, end, member }
    }

    /// The member's name.
    fn name(&self) -> &'static [u8] {
        &self.start[1..self.start.len() - 1]
    }
}

const AMI_ID: Known = Known::new(b"<amiId>", b"</amiId>", Member::String(Rec::AMI_ID));
const BUCKET: Known = Known::new(b"<bucket>", b"</bucket>", Member::String(Rec::BUCKET));
const S3_OBJECT_KEY: Known = Known::new(b"<s3objectKey>", b"</s3objectKey>", Member::String(Rec::S3_OBJECT_KEY));
const TASK_START_TIME: Known = Known::new(b"<taskStartTime>", b"</taskStartTime>", Member::Time);
const STATE: Known = Known::new(b"<storeTaskState>", b"</storeTaskState>", Member::String(Rec::STATE));
const PROGRESS: Known = Known::new(b"<progressPercentage>", b"</progressPercentage>", Member::Progress);
const FAILURE_REASON: Known =
    Known::new(b"<storeTaskFailureReason>", b"</storeTaskFailureReason>", Member::String(Rec::FAILURE_REASON));

impl Member {
    /// The one member whose start tag `rest` can begin, by its first bytes.
    #[inline(always)]
    fn by_first_bytes(rest: &[u8]) -> Option<&'static Known> {
        Some(match *rest.get(1)? {
            b'a' => &AMI_ID,
            b'b' => &BUCKET,
            b't' => &TASK_START_TIME,
            b'p' => &PROGRESS,
            b's' if rest.get(2) == Some(&b'3') => &S3_OBJECT_KEY,
            b's' if rest.get(10) == Some(&b'S') => &STATE,
            b's' => &FAILURE_REASON,
            _ => return None,
        })
    }

    /// The member named `local`: the names differ in length, so the length picks the one
    /// candidate and a single comparison confirms it.
    fn of(local: &str) -> Option<Member> {
        let known = match local.len() {
            5 => &AMI_ID,
            6 => &BUCKET,
            11 => &S3_OBJECT_KEY,
            13 => &TASK_START_TIME,
            14 => &STATE,
            18 => &PROGRESS,
            22 => &FAILURE_REASON,
            _ => return None,
        };
        starts_with(local.as_bytes(), known.name()).then_some(known.member)
    }
}

/// The member whose start tag `<name>` (no prefix, no attribute) begins `rest`, if any: the one
/// name its first bytes allow, compared whole.
#[inline(always)]
fn known_start(rest: &[u8]) -> Option<&'static Known> {
    let known = Member::by_first_bytes(rest)?;
    starts_with(rest, known.start).then_some(known)
}

/// Keeps a member's decoded `value` (which starts at byte `at`) in `rec` and `chunk`.
#[inline(always)]
fn keep(rec: &mut Rec, chunk: &mut Chunk, member: Member, value: &str, at: usize) -> Result<(), ReadError> {
    match member {
        Member::String(i) => {
            let start = chunk.text.len();
            chunk.text.push_str(value);
            rec.strings[i] = chunk.end_string(start);
            Ok(())
        }
        Member::Time => keep_time(rec, value, at),
        Member::Progress => keep_progress(rec, value, at),
    }
}

fn keep_time(rec: &mut Rec, value: &str, at: usize) -> Result<(), ReadError> {
    match plain_time_ms(value) {
        Some(ms) => (rec.has_time, rec.time_ms) = (true, ms),
        None => {
            let time = DateTime::from_str(value, Format::DateTime)
                .map_err(|_| ReadError { at, what: format!("taskStartTime {value:?} is not an RFC 3339 time") })?;
            rec.has_time = time.to_millis().is_ok();
            rec.time_ms = time.to_millis().unwrap_or(0);
        }
    }
    Ok(())
}

fn keep_progress(rec: &mut Rec, value: &str, at: usize) -> Result<(), ReadError> {
    rec.progress = value
        .parse()
        .map_err(|_| ReadError { at, what: format!("progressPercentage {value:?} is not a 32-bit whole number") })?;
    rec.has_progress = true;
    Ok(())
}

/// Milliseconds since the epoch of a time written exactly `YYYY-MM-DDTHH:MM:SSZ` or
/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (as EC2 writes them) with a year from 1000 to 9999 and every field
/// in range; `None` for anything else, which the SDK's own parser then reads.
fn plain_time_ms(s: &str) -> Option<i64> {
    // The time in a fixed frame of 24 bytes (a time without fraction is given `.000Z`), read as
    // three words of eight bytes, each XORed with the frame's form: a separator then becomes 0 and
    // a digit its value, so one test per word checks every byte of it.
    let mut b = *b"0000-00-00T00:00:00.000Z";
    match s.len() {
        20 if s.as_bytes()[19] == b'Z' => b[..19].copy_from_slice(&s.as_bytes()[..19]),
        24 => b.copy_from_slice(s.as_bytes()),
        _ => return None,
    }
    const FORM: &[u8; 24] = b"0000-00-00T00:00:00.000Z";
    // Per word: 0xFF over a separator and 0xF0 over a digit (what must be clear), and 0x06 over a
    // digit (added, it carries into 0x10 for a value above 9).
    const CLEAR: [u64; 3] = [0xFFF0_F0FF_F0F0_F0F0, 0xF0F0_FFF0_F0FF_F0F0, 0xFFF0_F0F0_FFF0_F0FF];
    const SIX: [u64; 3] = [0x0006_0600_0606_0606, 0x0606_0006_0600_0606, 0x0006_0606_0006_0600];
    let word = |s: &[u8; 24], i: usize| u64::from_le_bytes(s[8 * i..8 * i + 8].try_into().expect("eight bytes"));
    let mut x = [0u64; 3];
    for i in 0..3 {
        x[i] = word(&b, i) ^ word(FORM, i);
        if x[i] & CLEAR[i] != 0 || (x[i] + SIX[i]) & (SIX[i] << 3) & 0x1010_1010_1010_1010 != 0 {
            return None;
        }
    }
    let digit = |at: usize| (x[at / 8] >> (8 * (at % 8))) & 0xF;
    let two = |at: usize| digit(at) * 10 + digit(at + 1);
    let (year, month, day) = (two(0) * 100 + two(2), two(5), two(8));
    let (hour, minute, second) = (two(11), two(14), two(17));
    let millis = two(20) * 10 + digit(22);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    // Days before each month in a year that is not a leap year.
    const BEFORE: [u64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1000..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || day < 1
        || day > month_days[(month - 1) as usize]
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    // Days from 0001-01-01 (proleptic Gregorian) to the date, then from 1970-01-01 (719,162 days
    // after it).
    let y = year - 1;
    let days = y * 365 + y / 4 - y / 100 + y / 400 + BEFORE[(month - 1) as usize] + u64::from(leap && month > 2) + day - 1;
    let days = days as i64 - 719_162;
    Some(((days * 24 + hour as i64) * 60 + minute as i64) * 60_000 + (second * 1000 + millis) as i64)
}

/// What `&...;` at the start of `s` stands for, and how many bytes it takes.
fn reference(s: &str) -> Result<(char, usize), String> {
    // The five predefined entities, looked for first: EC2 writes these.
    let b = s.as_bytes();
    if b.len() >= 6 {
        match &b[..4] {
            b"&lt;" => return Ok(('<', 4)),
            b"&gt;" => return Ok(('>', 4)),
            b"&amp" if b[4] == b';' => return Ok(('&', 5)),
            b"&quo" if &b[4..6] == b"t;" => return Ok(('"', 6)),
            b"&apo" if &b[4..6] == b"s;" => return Ok(('\'', 6)),
            _ => {}
        }
    }
    let body = &s[1..];
    let Some(semi) = body.find([';', '&']).filter(|&p| body.as_bytes()[p] == b';') else {
        return Err("an entity reference without its ';'".to_owned());
    };
    let name = &body[..semi];
    let c = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let (digits, radix) = match name.strip_prefix("#x") {
                Some(d) => (d, 16),
                None => match name.strip_prefix('#') {
                    Some(d) => (d, 10),
                    None => return Err(format!("the undeclared entity &{name};")),
                },
            };
            u32::from_str_radix(digits, radix)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| format!("&{name}; is not a character reference to a Unicode scalar value"))?
        }
    };
    Ok((c, semi + 2))
}

/// Decodes the references in `raw` (text that starts at byte `at` of the body) onto `out`.
fn decode_into(raw: &str, at: usize, out: &mut String) -> Result<(), ReadError> {
    let mut rest = raw;
    let mut offset = at;
    while let Some(amp) = memchr::memchr2(b'&', b'\0', rest.as_bytes()) {
        out.push_str(&rest[..amp]);
        let (c, used) = if rest.as_bytes()[amp] == b'\0' {
            ('\0', 1)
        } else {
            reference(&rest[amp..]).map_err(|what| ReadError { at: offset + amp, what })?
        };
        out.push(if c == '\0' { '\u{fffd}' } else { c });
        rest = &rest[amp + used..];
        offset += amp + used;
    }
    out.push_str(rest);
    Ok(())
}

/// Checks the references in text that is not kept.
fn check_references(raw: &str, at: usize) -> Result<(), ReadError> {
    let mut from = 0;
    while let Some(amp) = memchr::memchr(b'&', &raw.as_bytes()[from..]) {
        let (_, used) = reference(&raw[from + amp..]).map_err(|what| ReadError { at: at + from + amp, what })?;
        from += amp + used;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe_store_image_tasks::task::{Task, TaskState};

    fn tasks(body: &str) -> (Vec<Task>, Option<String>) {
        let r = read_reply(body.as_bytes()).unwrap_or_else(|e| panic!("{e}: {body}"));
        let token = r.next_token.clone();
        (r.tasks().to_vec(), token)
    }

    fn refused(body: &str) -> String {
        match read_reply(body.as_bytes()) {
            Ok(r) => panic!("accepted {body:?}: {:?}", r.tasks().to_vec()),
            Err(e) => e.to_string(),
        }
    }

    const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeStoreImageTasksResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">";

    #[test]
    fn reads_a_page() {
        let body = format!(
            "{HEAD}<requestId>r-1</requestId><storeImageTaskResultSet><item><amiId>ami-1</amiId>\
             <taskStartTime>2026-11-18T11:06:40.123Z</taskStartTime><bucket>b &amp; &lt;c&gt;</bucket>\
             <s3objectKey>k&#233;&#x1F600;</s3objectKey><progressPercentage>42</progressPercentage>\
             <storeTaskState>InProgress</storeTaskState><newMember><x>1</x></newMember></item>\
             <item><storeTaskFailureReason>r</storeTaskFailureReason><amiId>ami-2</amiId><storeTaskState>Failed</storeTaskState></item>\
             </storeImageTaskResultSet><nextToken>tok</nextToken></DescribeStoreImageTasksResponse>"
        );
        let (t, token) = tasks(&body);
        assert_eq!(token.as_deref(), Some("tok"));
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].ami_id.as_deref(), Some("ami-1"));
        assert_eq!(t[0].task_start_time_ms, Some(1_795_000_000_123));
        assert_eq!(t[0].bucket.as_deref(), Some("b & <c>"));
        assert_eq!(t[0].s3_object_key.as_deref(), Some("k\u{e9}\u{1F600}"));
        assert_eq!(t[0].progress_percentage, Some(42));
        assert_eq!(t[0].state, TaskState::InProgress);
        assert_eq!(t[0].failure_reason, None);
        assert_eq!(
            (t[1].ami_id.as_deref(), t[1].failure_reason.as_deref(), &t[1].state),
            (Some("ami-2"), Some("r"), &TaskState::Failed)
        );
        assert_eq!((t[1].task_start_time_ms, t[1].bucket.as_deref(), t[1].progress_percentage), (None, None, None));
    }

    #[test]
    fn reads_as_the_sdk_does() {
        // Empty members are empty strings; the last of two values wins; prefixes are ignored; a
        // member's value is its first run of text.
        let (t, token) = tasks(&format!(
            "{HEAD}<storeImageTaskResultSet><item><bucket/><amiId>a</amiId><amiId>b</amiId><x:s3objectKey>k</x:s3objectKey>\
             <storeTaskFailureReason><!--c-->one<!--d-->two<y/></storeTaskFailureReason></item></storeImageTaskResultSet>\
             <nextToken></nextToken></DescribeStoreImageTasksResponse>"
        ));
        assert_eq!(token.as_deref(), Some(""));
        assert_eq!(t[0].bucket.as_deref(), Some(""));
        assert_eq!(t[0].ami_id.as_deref(), Some("b"));
        assert_eq!(t[0].s3_object_key.as_deref(), Some("k"));
        assert_eq!(t[0].failure_reason.as_deref(), Some("one"));
        // A second list replaces the first; no list, an empty list and an empty root hold no task.
        let (t, _) = tasks(&format!(
            "{HEAD}<storeImageTaskResultSet><item><amiId>a</amiId></item></storeImageTaskResultSet>\
             <storeImageTaskResultSet><item><amiId>b</amiId></item></storeImageTaskResultSet></DescribeStoreImageTasksResponse>"
        ));
        assert_eq!(t.iter().map(|t| t.ami_id.as_deref()).collect::<Vec<_>>(), [Some("b")]);
        assert!(tasks(&format!("{HEAD}<storeImageTaskResultSet/></DescribeStoreImageTasksResponse>")).0.is_empty());
        assert!(tasks("<DescribeStoreImageTasksResponse/>").0.is_empty());
        // A NUL becomes U+FFFD; references decode like the SDK's (a '+' sign included).
        let (t, _) = tasks(&format!(
            "{HEAD}<storeImageTaskResultSet><item><amiId>a&#0;b&#x+41;</amiId></item></storeImageTaskResultSet></DescribeStoreImageTasksResponse>"
        ));
        assert_eq!(t[0].ami_id.as_deref(), Some("a\u{fffd}bA"));
    }

    #[test]
    fn refuses_what_is_not_a_reply() {
        let item = |inner: &str| {
            format!(
                "{HEAD}<storeImageTaskResultSet><item>{inner}</item></storeImageTaskResultSet></DescribeStoreImageTasksResponse>"
            )
        };
        for (body, why) in [
            (String::new(), "no root element"),
            ("not xml".to_owned(), "before the root"),
            ("<Other/>".to_owned(), "the root element is <Other>"),
            (format!("{HEAD}<storeImageTaskResultSet><item>"), "ends inside <item>"),
            (
                format!("{HEAD}<storeImageTaskResultSet></item></DescribeStoreImageTasksResponse>"),
                "</item> closes <storeImageTaskResultSet>",
            ),
            (format!("{HEAD}</DescribeStoreImageTasksResponse><DescribeStoreImageTasksResponse/>"), "more after the root"),
            (format!("{HEAD}</DescribeStoreImageTasksResponse>text"), "more after the root"),
            (format!("<!DOCTYPE x>{HEAD}</DescribeStoreImageTasksResponse>"), "DOCTYPE"),
            (item("<amiId>&bogus;</amiId>"), "undeclared entity &bogus;"),
            (item("<other>&bogus;</other>"), "undeclared entity"),
            (item("<amiId>a &amp b</amiId>"), "without its ';'"),
            (item("<amiId>&#xD800;</amiId>"), "not a character reference"),
            (item("<progressPercentage>4x</progressPercentage>"), "not a 32-bit whole number"),
            (item("<progressPercentage>99999999999</progressPercentage>"), "not a 32-bit whole number"),
            (item("<taskStartTime>yesterday</taskStartTime>"), "not an RFC 3339 time"),
            (item("<amiId><x/>a</amiId>"), "where text was expected"),
            (item("<amiId a='1' a='2'>x</amiId>"), "given twice"),
            (item("<amiId a='<'>x</amiId>"), "'<' in the value"),
            (item("<amiId a=1>x</amiId>"), "not quoted"),
            (item("<!-- never closed"), "comment that never ends"),
            (item("<amiId"), "never ends"),
            (item("<amiId>a\u{1}b</amiId>"), "does not allow (U+0001)"),
            (item("<!-- \u{ffff} --><amiId>a</amiId>"), "does not allow (U+FFFF)"),
            (item("<?pi \u{fffe}?>"), "does not allow (U+FFFE)"),
            (item(&format!("{}<![CDATA[\u{0}]]>", " ".repeat(130))), "does not allow (U+0000)"),
        ] {
            let e = refused(&body);
            assert!(e.contains(why), "{body:?}: {e}");
            assert!(e.contains("at byte"), "{e}");
        }
        assert!(read_reply(b"<a>\xff</a>").unwrap_err().to_string().contains("not UTF-8"));
    }

    /// The one-pass check of characters refuses what decoding the whole body and then looking for
    /// characters XML does not allow refuses, at the first such place, whatever falls on the
    /// edges of its blocks.
    #[test]
    fn characters_are_checked_as_a_whole_body_check_would() {
        let pieces: [&[u8]; 14] = [
            b"a",
            b"<x>",
            b"\n",
            b"\t",
            "\u{e9}".as_bytes(),
            "\u{20ac}".as_bytes(),
            "\u{1F600}".as_bytes(),
            "\u{fffd}".as_bytes(),
            b"\x01",
            b"\x7f",
            "\u{fffe}".as_bytes(),
            "\u{ffff}".as_bytes(),
            b"\xbf",
            b"\xe2\x82",
        ];
        let expected = |body: &[u8]| -> Option<usize> {
            let utf8 = std::str::from_utf8(body).err().map(|e| e.valid_up_to());
            let bad = first_non_xml_char(body, 0).map(|(at, _)| at);
            match (utf8, bad) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..20_000 {
            let mut body = b"a".repeat((next() % 70) as usize);
            // Mostly good pieces; now and then one that is not allowed or not UTF-8.
            let count = 1 + next() % 12;
            for _ in 0..count {
                let n = next() as usize;
                let piece = if round % 3 == 0 { pieces[n % pieces.len()] } else { pieces[n % 8] };
                body.extend_from_slice(piece);
                body.extend(std::iter::repeat_n(b'b', (next() % 20) as usize));
            }
            let got = checked_text(&body).err().map(|e| e.at);
            assert_eq!(got, expected(&body), "{body:?}");
        }
    }

    /// The short way of reading EC2's times gives what the SDK's parser gives, and leaves it
    /// everything that is not a plain valid time.
    #[test]
    fn plain_times_read_as_the_sdk_reads_them() {
        let sdk = |s: &str| DateTime::from_str(s, Format::DateTime).ok().and_then(|t| t.to_millis().ok());
        let mut ms: i64 = -30_610_224_000_000; // 1000-01-01
        let end: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999
        let mut step: i64 = 86_399_999;
        while ms <= end {
            let text = crate::describe_store_image_tasks::task::format_time_ms(ms);
            assert_eq!(plain_time_ms(&text), sdk(&text), "{text}");
            assert_eq!(plain_time_ms(&text), Some(ms), "{text}");
            let whole = format!("{}Z", &text[..19]);
            assert_eq!(plain_time_ms(&whole), sdk(&whole), "{whole}");
            ms += step;
            step = step * 3 % 1_000_000_007 + 86_400_000 * 17;
        }
        for text in ["2024-02-29T00:00:00.000Z", "2000-02-29T23:59:59.999Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999Z"] {
            assert_eq!(plain_time_ms(text), sdk(text), "{text}");
            assert!(plain_time_ms(text).is_some(), "{text}");
        }
        for text in [
            "2023-02-29T00:00:00.000Z",
            "1900-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:60Z",
            "2026-01-01t00:00:00Z",
            "2026-01-01T00:00:00z",
            "2026-01-01T00:00:00.12Z",
            "2026-01-01T00:00:00.1234Z",
            "2026-01-01T00:00:00+00:00",
            "0999-01-01T00:00:00Z",
            "2026-01-01T0a:00:00Z",
            "+026-01-01T00:00:00Z",
        ] {
            assert_eq!(plain_time_ms(text), None, "{text} is left to the SDK's parser");
        }
    }
}
