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

/// Tasks in the order EC2 returned them, and the token for the next page, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskPage {
    pub tasks: Vec<Task>,
    pub next_token: Option<String>,
    /// The request id of the reply (for a listing of several requests, the last one's).
    pub request_id: Option<String>,
    /// Whether a cap cut tasks out of this page that its token cannot bring back (see
    /// [`crate::Client::describe_each`]); the token is then `None`.
    pub truncated: bool,
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

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CliTask<'a> {
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
#[derive(Debug, Clone, Copy, Default)]
pub struct TaskRef<'a> {
    pub ami_id: Option<&'a str>,
    pub task_start_time_ms: Option<i64>,
    pub bucket: Option<&'a str>,
    pub s3_object_key: Option<&'a str>,
    pub progress_percentage: Option<i32>,
    pub state: Option<&'a str>,
    pub failure_reason: Option<&'a str>,
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
    let out = CliOutput {
        store_image_task_results: tasks
            .into_iter()
            .map(|t| CliTask {
                ami_id: t.ami_id,
                task_start_time: t.task_start_time_ms.map(format_time_ms),
                bucket: t.bucket,
                s3_object_key: t.s3_object_key,
                progress_percentage: t.progress_percentage,
                store_task_state: t.state,
                store_task_failure_reason: t.failure_reason,
            })
            .collect(),
        next_token,
    };
    let mut buf = Vec::with_capacity(256 * out.store_image_task_results.len() + 64);
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    out.serialize(&mut ser).expect("serialising plain strings and numbers cannot fail");
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
