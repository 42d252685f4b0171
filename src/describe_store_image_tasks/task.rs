//! The result model: one store task as EC2 reports it, and a page of them.

use aws_sdk_ec2::types::StoreImageTaskResult;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde::Serialize;

/// The state of a store task. EC2 may add states later; those keep their raw text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskState {
    InProgress,
    Completed,
    Failed,
    /// A state this library does not know, with the text EC2 sent.
    Unknown(String),
    /// EC2 sent no state.
    Absent,
}

impl TaskState {
    pub fn parse(raw: Option<&str>) -> Self {
        match raw {
            None => TaskState::Absent,
            Some("InProgress") => TaskState::InProgress,
            Some("Completed") => TaskState::Completed,
            Some("Failed") => TaskState::Failed,
            Some(other) => TaskState::Unknown(other.to_owned()),
        }
    }

    /// The text EC2 uses for this state, or `None` when EC2 sent none.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            TaskState::InProgress => Some("InProgress"),
            TaskState::Completed => Some("Completed"),
            TaskState::Failed => Some("Failed"),
            TaskState::Unknown(s) => Some(s),
            TaskState::Absent => None,
        }
    }
}

/// One store task. Members EC2 left out are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub ami_id: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub task_start_time_ms: Option<i64>,
    pub bucket: Option<String>,
    pub s3_object_key: Option<String>,
    pub progress_percentage: Option<i32>,
    pub state: TaskState,
    pub failure_reason: Option<String>,
}

impl From<&StoreImageTaskResult> for Task {
    fn from(r: &StoreImageTaskResult) -> Self {
        Task {
            ami_id: r.ami_id().map(str::to_owned),
            task_start_time_ms: r.task_start_time().and_then(|t| t.to_millis().ok()),
            bucket: r.bucket().map(str::to_owned),
            s3_object_key: r.s3object_key().map(str::to_owned),
            progress_percentage: r.progress_percentage(),
            state: TaskState::parse(r.store_task_state()),
            failure_reason: r.store_task_failure_reason().map(str::to_owned),
        }
    }
}

/// Where a string sits in a chunk's text: its byte offset and length (the NUL after it not
/// counted); `at == ABSENT` when EC2 left the member out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub(crate) at: u32,
    pub(crate) len: u32,
}

pub(crate) const ABSENT: u32 = u32::MAX;

impl Span {
    pub(crate) const NONE: Span = Span { at: ABSENT, len: 0 };
}

/// The members of one task; its strings live in the text of the chunk that holds it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rec {
    /// AMI id, bucket, S3 object key, failure reason, state (the order of [`Rec::STRINGS`]).
    pub(crate) strings: [Span; 5],
    pub(crate) time_ms: i64,
    pub(crate) progress: i32,
    pub(crate) has_time: bool,
    pub(crate) has_progress: bool,
}

impl Rec {
    pub(crate) const AMI_ID: usize = 0;
    pub(crate) const BUCKET: usize = 1;
    pub(crate) const S3_OBJECT_KEY: usize = 2;
    pub(crate) const FAILURE_REASON: usize = 3;
    pub(crate) const STATE: usize = 4;
    pub(crate) const EMPTY: Rec = Rec { strings: [Span::NONE; 5], time_ms: 0, progress: 0, has_time: false, has_progress: false };
}

/// Tasks read from one reply (or built from owned tasks): every string once, NUL-terminated, one
/// after another in `text`, and per task the places of its strings. A C list takes the text over
/// as it is, without copying a string.
#[derive(Debug, Clone, Default)]
pub(crate) struct Chunk {
    pub(crate) text: String,
    pub(crate) recs: Vec<Rec>,
}

impl Chunk {
    /// Appends `s` (a NUL inside it, which EC2's XML cannot carry, becomes U+FFFD) and its NUL.
    pub(crate) fn push_str(&mut self, s: &str) -> Span {
        let at = self.text.len();
        if s.contains('\0') {
            self.text.push_str(&s.replace('\0', "\u{fffd}"));
        } else {
            self.text.push_str(s);
        }
        self.end_string(at)
    }

    /// Ends the string that starts at byte `at` of the text (appending its NUL) and returns its
    /// place. The text of one reply is far below 4 GiB; a longer one saturates and is refused by
    /// the reader before it gets here.
    pub(crate) fn end_string(&mut self, at: usize) -> Span {
        let len = self.text.len() - at;
        self.text.push('\0');
        Span { at: u32::try_from(at).unwrap_or(ABSENT), len: u32::try_from(len).unwrap_or(0) }
    }

    pub(crate) fn str_at(&self, span: Span) -> Option<&str> {
        if span.at == ABSENT {
            return None;
        }
        let at = span.at as usize;
        self.text.get(at..at + span.len as usize)
    }

    pub(crate) fn task_ref(&self, r: &Rec) -> TaskRef<'_> {
        TaskRef {
            ami_id: self.str_at(r.strings[Rec::AMI_ID]),
            task_start_time_ms: r.has_time.then_some(r.time_ms),
            bucket: self.str_at(r.strings[Rec::BUCKET]),
            s3_object_key: self.str_at(r.strings[Rec::S3_OBJECT_KEY]),
            progress_percentage: r.has_progress.then_some(r.progress),
            state: self.str_at(r.strings[Rec::STATE]),
            failure_reason: self.str_at(r.strings[Rec::FAILURE_REASON]),
        }
    }

    fn push_ref(&mut self, t: TaskRef<'_>) {
        let mut put = |s: Option<&str>| s.map_or(Span::NONE, |s| self.push_str(s));
        let strings = [put(t.ami_id), put(t.bucket), put(t.s3_object_key), put(t.failure_reason), put(t.state)];
        self.recs.push(Rec {
            strings,
            time_ms: t.task_start_time_ms.unwrap_or(0),
            progress: t.progress_percentage.unwrap_or(0),
            has_time: t.task_start_time_ms.is_some(),
            has_progress: t.progress_percentage.is_some(),
        });
    }
}

/// Tasks in order, kept packed: a sequence of chunks (one per reply read), each with its own
/// text. Joining two lists moves chunks and copies no string.
#[derive(Debug, Clone, Default)]
pub struct Tasks {
    chunks: Vec<Chunk>,
}

impl Tasks {
    pub(crate) fn from_chunk(chunk: Chunk) -> Self {
        Tasks { chunks: if chunk.recs.is_empty() { Vec::new() } else { vec![chunk] } }
    }

    pub(crate) fn into_chunks(self) -> Vec<Chunk> {
        self.chunks
    }

    pub fn len(&self) -> usize {
        self.chunks.iter().map(|c| c.recs.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.iter().all(|c| c.recs.is_empty())
    }

    /// The tasks, borrowed, in order.
    pub fn iter(&self) -> impl Iterator<Item = TaskRef<'_>> + '_ {
        self.chunks.iter().flat_map(|c| c.recs.iter().map(move |r| c.task_ref(r)))
    }

    /// Owned copies of the tasks.
    pub fn to_vec(&self) -> Vec<Task> {
        self.iter().map(Task::from).collect()
    }

    /// Keeps the first `n` tasks.
    pub fn truncate(&mut self, n: usize) {
        let mut left = n;
        self.chunks.retain_mut(|c| {
            let keep = c.recs.len().min(left);
            c.recs.truncate(keep);
            left -= keep;
            keep > 0
        });
    }

    /// Moves `other`'s tasks after these.
    pub fn append(&mut self, other: Tasks) {
        self.chunks.extend(other.chunks.into_iter().filter(|c| !c.recs.is_empty()));
    }

    pub fn push(&mut self, t: TaskRef<'_>) {
        if self.chunks.is_empty() {
            self.chunks.push(Chunk::default());
        }
        self.chunks.last_mut().expect("one chunk at least").push_ref(t);
    }
}

impl PartialEq for Tasks {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl Eq for Tasks {}

impl<'a> FromIterator<TaskRef<'a>> for Tasks {
    fn from_iter<I: IntoIterator<Item = TaskRef<'a>>>(iter: I) -> Self {
        let mut chunk = Chunk::default();
        for t in iter {
            chunk.push_ref(t);
        }
        Tasks::from_chunk(chunk)
    }
}

impl FromIterator<Task> for Tasks {
    fn from_iter<I: IntoIterator<Item = Task>>(iter: I) -> Self {
        let mut chunk = Chunk::default();
        for t in iter {
            chunk.push_ref(t.as_ref());
        }
        Tasks::from_chunk(chunk)
    }
}

impl From<Vec<Task>> for Tasks {
    fn from(v: Vec<Task>) -> Self {
        v.into_iter().collect()
    }
}

/// Tasks in the order EC2 returned them, and the token for the next page, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskPage {
    pub tasks: Tasks,
    pub next_token: Option<String>,
    /// The request id of the reply (for a listing of several requests, the last one's).
    pub request_id: Option<String>,
    /// Whether a cap cut tasks out of this page that its token cannot bring back (see
    /// [`crate::Client::describe_each`]); the token is then `None`.
    pub truncated: bool,
}

impl TaskPage {
    /// Appends the next page of the same listing: its tasks after these, its token, request id and
    /// cut.
    pub(crate) fn absorb(&mut self, page: TaskPage) {
        self.tasks.append(page.tasks);
        self.next_token = page.next_token;
        self.request_id = page.request_id;
        self.truncated |= page.truncated;
    }
}

/// Formats milliseconds since the epoch the way EC2 sends them: `2026-11-20T12:00:00.123Z`.
pub fn format_time_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000) as u32;
    let dt = DateTime::from_secs_and_nanos(secs, millis * 1_000_000);
    match dt.fmt(Format::DateTime) {
        // The SDK leaves out a zero fraction and trims trailing zeros; EC2 always sends three digits.
        Ok(s) => {
            let base = s.trim_end_matches('Z');
            let (whole, frac) = match base.split_once('.') {
                Some((w, f)) => (w, f),
                None => (base, ""),
            };
            format!("{whole}.{:0<3}Z", &frac[..frac.len().min(3)])
        }
        Err(_) => ms.to_string(),
    }
}

/// A task in the AWS CLI's JSON shape.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CliTask<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    ami_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    task_start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bucket: Option<&'a str>,
    #[serde(rename = "S3objectKey", skip_serializing_if = "Option::is_none")]
    s3_object_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    progress_percentage: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    store_task_state: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    store_task_failure_reason: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CliOutput<'a> {
    store_image_task_results: Vec<CliTask<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<&'a str>,
}

/// A task's members borrowed from wherever they are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskRef<'a> {
    pub ami_id: Option<&'a str>,
    pub task_start_time_ms: Option<i64>,
    pub bucket: Option<&'a str>,
    pub s3_object_key: Option<&'a str>,
    pub progress_percentage: Option<i32>,
    pub state: Option<&'a str>,
    pub failure_reason: Option<&'a str>,
}

impl From<TaskRef<'_>> for Task {
    fn from(t: TaskRef<'_>) -> Self {
        Task {
            ami_id: t.ami_id.map(str::to_owned),
            task_start_time_ms: t.task_start_time_ms,
            bucket: t.bucket.map(str::to_owned),
            s3_object_key: t.s3_object_key.map(str::to_owned),
            progress_percentage: t.progress_percentage,
            state: TaskState::parse(t.state),
            failure_reason: t.failure_reason.map(str::to_owned),
        }
    }
}

impl Task {
    pub fn as_ref(&self) -> TaskRef<'_> {
        TaskRef {
            ami_id: self.ami_id.as_deref(),
            task_start_time_ms: self.task_start_time_ms,
            bucket: self.bucket.as_deref(),
            s3_object_key: self.s3_object_key.as_deref(),
            progress_percentage: self.progress_percentage,
            state: self.state.as_str(),
            failure_reason: self.failure_reason.as_deref(),
        }
    }
}

/// Renders tasks as the AWS CLI prints `describe-store-image-tasks --output json`: four-space
/// indent, members in the service model's order, absent members left out, and a final newline.
pub fn to_cli_json<'a>(tasks: impl IntoIterator<Item = TaskRef<'a>>, next_token: Option<&str>) -> String {
    let out = CliOutput { store_image_task_results: tasks.into_iter().map(CliTask::from).collect(), next_token };
    pretty_json(&out)
}

impl<'a> From<TaskRef<'a>> for CliTask<'a> {
    fn from(t: TaskRef<'a>) -> Self {
        CliTask {
            ami_id: t.ami_id,
            task_start_time: t.task_start_time_ms.map(format_time_ms),
            bucket: t.bucket,
            s3_object_key: t.s3_object_key,
            progress_percentage: t.progress_percentage,
            store_task_state: t.state,
            store_task_failure_reason: t.failure_reason,
        }
    }
}

/// JSON as the AWS CLI prints it: four-space indent and a final newline.
pub(crate) fn pretty_json<T: Serialize>(value: &T) -> String {
    let mut buf = Vec::with_capacity(256);
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    value.serialize(&mut ser).expect("serialising plain strings and numbers cannot fail");
    buf.push(b'\n');
    String::from_utf8(buf).expect("serde_json writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_has_three_fraction_digits() {
        assert_eq!(format_time_ms(1_795_000_000_000), "2026-11-18T11:06:40.000Z");
        assert_eq!(format_time_ms(1_795_000_000_120), "2026-11-18T11:06:40.120Z");
        assert_eq!(format_time_ms(1_795_000_000_123), "2026-11-18T11:06:40.123Z");
    }

    #[test]
    fn json_omits_absent_members_and_keeps_order() {
        let t = Task {
            ami_id: Some("ami-1".into()),
            task_start_time_ms: Some(1_795_000_000_123),
            bucket: None,
            s3_object_key: Some("ami-1.bin".into()),
            progress_percentage: Some(0),
            state: TaskState::Failed,
            failure_reason: Some("<é>".into()),
        };
        let s = to_cli_json([t.as_ref()], None);
        assert_eq!(
            s,
            "{\n    \"StoreImageTaskResults\": [\n        {\n            \"AmiId\": \"ami-1\",\n            \"TaskStartTime\": \"2026-11-18T11:06:40.123Z\",\n            \"S3objectKey\": \"ami-1.bin\",\n            \"ProgressPercentage\": 0,\n            \"StoreTaskState\": \"Failed\",\n            \"StoreTaskFailureReason\": \"<é>\"\n        }\n    ]\n}\n"
        );
        assert_eq!(to_cli_json([], Some("t")), "{\n    \"StoreImageTaskResults\": [],\n    \"NextToken\": \"t\"\n}\n");
    }
}
