//! Owned task lists and the read-only task views inside them.

use std::ffi::{CString, c_char};

use super::{BoxHandle, c_string, free_box, getter, opt_ptr, render_json, storetasks_error, storetasks_status};
use crate::describe_store_image_tasks::task::{ABSENT, Rec, Span, TaskPage, TaskRef, to_cli_json};

/// A store task's state.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum storetasks_task_state {
    /// A state this library does not know (see `state_raw`), or none was sent (`state_raw` NULL).
    Unknown = 0,
    /// The copy to S3 is running.
    InProgress = 1,
    /// The copy finished.
    Completed = 2,
    /// The copy failed; see `failure_reason`.
    Failed = 3,
}

/// One store task, read-only. Its strings are NUL-terminated UTF-8, NULL when EC2 left the member
/// out, and live as long as the list that holds the task.
#[repr(C)]
pub struct storetasks_task {
    /// The AMI id ("ami-..."), or NULL.
    pub ami_id: *const c_char,
    /// The S3 bucket, or NULL.
    pub bucket: *const c_char,
    /// The S3 object key, or NULL.
    pub s3_object_key: *const c_char,
    /// Why the task failed, or NULL.
    pub failure_reason: *const c_char,
    /// The state exactly as EC2 sent it, or NULL.
    pub state_raw: *const c_char,
    /// When the task started, in milliseconds since the Unix epoch; valid if `has_task_start_time`.
    pub task_start_time_ms: i64,
    /// Progress in percent as EC2 sent it (0 to 100 from EC2; passed through unchanged, so a value
    /// outside that range is the service's, and a progress bar should clamp it); valid if
    /// `has_progress_percentage`.
    pub progress_percentage: i32,
    /// The state.
    pub state: storetasks_task_state,
    /// Whether `task_start_time_ms` holds a value.
    pub has_task_start_time: bool,
    /// Whether `progress_percentage` holds a value.
    pub has_progress_percentage: bool,
}

/// An owned list of tasks and the token of the next page. Opaque; freed with
/// `storetasks_task_list_free`. Read-only, so any number of threads may read it at once.
#[derive(Default)]
pub struct storetasks_task_list {
    views: Vec<storetasks_task>,
    // The texts the views point into: NUL-terminated strings, one after another, one text per
    // reply read. Never grown or changed after the views are made, so they never move.
    _texts: Vec<Vec<u8>>,
    next_token: Option<CString>,
    request_id: Option<CString>,
    truncated: bool,
    /// The region and account (None: the client's own) of a fleet listing's page.
    place: Option<(CString, Option<CString>)>,
}

// SAFETY: handed to C only by `OutPtr::set` (the calls and the wait), freed only by
// `storetasks_task_list_free`. Lists lent to callbacks live on the library's stack and are
// never freed through a pointer.
unsafe impl BoxHandle for storetasks_task_list {
    const NAME: &'static str = "list";
}

/// The state named by the string at `span` of `text` (the spellings of [`crate::describe_store_image_tasks::task::TaskState::parse`]).
fn state_of(text: &[u8], span: Span) -> storetasks_task_state {
    if span.at == ABSENT {
        return storetasks_task_state::Unknown;
    }
    let at = span.at as usize;
    match text.get(at..at + span.len as usize) {
        Some(b"InProgress") => storetasks_task_state::InProgress,
        Some(b"Completed") => storetasks_task_state::Completed,
        Some(b"Failed") => storetasks_task_state::Failed,
        _ => storetasks_task_state::Unknown,
    }
}

impl storetasks_task_list {
    pub(crate) fn from_page(page: TaskPage) -> Self {
        let mut list = Self::default();
        list.views.reserve_exact(page.tasks.len());
        list.append(page);
        list
    }

    /// A page of a fleet listing, which knows the place it came from.
    pub(crate) fn from_place_page(page: TaskPage, place: &crate::places::Place) -> Self {
        let mut list = Self::from_page(page);
        list.place = Some((c_string(&place.region), place.account.as_deref().map(c_string)));
        list
    }

    /// Adds the next page of the same listing: its tasks after these, its token, request id and
    /// cut. A listing made page by page this way never holds a page's packed records and the
    /// views of every page at once.
    pub(crate) fn append(&mut self, page: TaskPage) {
        // The list takes over the text of every chunk as it is: each string was written once,
        // NUL-terminated and without an inner NUL, when the reply was read. A chunk's text is
        // never grown or changed again, and moving its `Vec` does not move the bytes, so the
        // views can point into it.
        for chunk in page.tasks.into_chunks() {
            let text = chunk.text.into_bytes();
            let base = text.as_ptr();
            let at = |span: Span| -> *const c_char {
                if span.at == ABSENT {
                    return std::ptr::null();
                }
                debug_assert!((span.at as usize + span.len as usize) < text.len());
                // SAFETY: a span is only made by `Chunk::end_string`, for a string (and its NUL)
                // inside this text.
                unsafe { base.add(span.at as usize) }.cast()
            };
            self.views.extend(chunk.recs.iter().map(|r| storetasks_task {
                ami_id: at(r.strings[Rec::AMI_ID]),
                bucket: at(r.strings[Rec::BUCKET]),
                s3_object_key: at(r.strings[Rec::S3_OBJECT_KEY]),
                failure_reason: at(r.strings[Rec::FAILURE_REASON]),
                state_raw: at(r.strings[Rec::STATE]),
                task_start_time_ms: r.time_ms,
                progress_percentage: r.progress,
                state: state_of(&text, r.strings[Rec::STATE]),
                has_task_start_time: r.has_time,
                has_progress_percentage: r.has_progress,
            }));
            self._texts.push(text);
        }
        self.next_token = page.next_token.as_deref().map(c_string);
        self.request_id = page.request_id.as_deref().map(c_string);
        self.truncated |= page.truncated;
    }

    pub(crate) fn task_refs(&self) -> impl Iterator<Item = TaskRef<'_>> {
        fn s<'a>(p: *const c_char) -> Option<&'a str> {
            // SAFETY: every view pointer is NULL or points at a NUL-terminated UTF-8 string in the
            // list's own text buffer, which lives as long as `self`.
            (!p.is_null()).then(|| unsafe { std::ffi::CStr::from_ptr(p) }.to_str().unwrap_or(""))
        }
        self.views.iter().map(|v| TaskRef {
            ami_id: s(v.ami_id),
            task_start_time_ms: v.has_task_start_time.then_some(v.task_start_time_ms),
            bucket: s(v.bucket),
            s3_object_key: s(v.s3_object_key),
            progress_percentage: v.has_progress_percentage.then_some(v.progress_percentage),
            state: s(v.state_raw),
            failure_reason: s(v.failure_reason),
        })
    }
}

/// The number of tasks; 0 for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_task_list_len(list: *const storetasks_task_list) -> usize {
    getter(list, 0, |l| l.views.len())
}

/// The tasks as a contiguous array of `storetasks_task_list_len` elements, newest first. Borrowed
/// from the list until it is freed; NULL for a NULL or empty list.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_task_list_tasks(list: *const storetasks_task_list) -> *const storetasks_task {
    getter(list, std::ptr::null(), |l| if l.views.is_empty() { std::ptr::null() } else { l.views.as_ptr() })
}

/// The task at `index`, borrowed from the list until it is freed; NULL for a NULL list or an
/// index out of range.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_task_list_get(list: *const storetasks_task_list, index: usize) -> *const storetasks_task {
    getter(list, std::ptr::null(), |l| l.views.get(index).map_or(std::ptr::null(), |t| t as *const _))
}

/// The token that resumes the listing after this list, or NULL when there is nothing more.
/// Borrowed from the list until it is freed.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_task_list_next_token(list: *const storetasks_task_list) -> *const c_char {
    getter(list, std::ptr::null(), |l| opt_ptr(&l.next_token))
}

/// The request id of the reply that produced this list (for a listing of several pages, the
/// last page's), or NULL when the service sent none. Borrowed from the list until it is freed.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_task_list_request_id(list: *const storetasks_task_list) -> *const c_char {
    getter(list, std::ptr::null(), |l| opt_ptr(&l.request_id))
}

/// The region a fleet listing's page came from (`storetasks_call_next_page` on a call started by
/// `storetasks_client_describe_fleet_pages_start`); NULL for any other list and for NULL.
/// Borrowed from the list until it is freed.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_task_list_region(list: *const storetasks_task_list) -> *const c_char {
    getter(list, std::ptr::null(), |l| l.place.as_ref().map_or(std::ptr::null(), |(region, _)| region.as_ptr()))
}

/// The account a fleet listing's page came from, as `storetasks_task_list_region`: NULL for the
/// client's own credentials, for any other list and for NULL. Borrowed from the list until it is
/// freed.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_task_list_account(list: *const storetasks_task_list) -> *const c_char {
    getter(list, std::ptr::null(), |l| l.place.as_ref().map_or(std::ptr::null(), |(_, account)| opt_ptr(account)))
}

/// Whether a `max_tasks` cap cut tasks out of this listing that no next token can bring back:
/// the query named image ids (EC2 answers them in one reply, without a token), or the service
/// sent more tasks than MaxResults asked for. The list then has no next token; for image ids,
/// ask again for the ids whose tasks the list does not hold. False for NULL. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_task_list_truncated(list: *const storetasks_task_list) -> bool {
    getter(list, false, |l| l.truncated)
}

/// Renders the list as the JSON the AWS CLI prints for `aws ec2 describe-store-image-tasks
/// --output json` (four-space indent, absent members left out, `NextToken` only when there is
/// one, a final newline).
///
/// On success `*json_out` is a new NUL-terminated string that the caller frees with
/// `storetasks_string_free`; on failure it is left untouched. `err` may be NULL. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_task_list_to_json(
    list: *const storetasks_task_list,
    json_out: *mut *mut c_char,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    render_json(list, json_out, err, |l| to_cli_json(l.task_refs(), l.next_token.as_ref().and_then(|t| t.to_str().ok())))
}

/// Frees a list and every string and task view it holds. NULL is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_task_list_free(list: *mut storetasks_task_list) {
    free_box(list);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe_store_image_tasks::task::{Task, TaskState};
    use std::ffi::CStr;

    fn text(p: *const c_char) -> Option<String> {
        // SAFETY: the test reads only pointers the list handed out, while the list lives.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned())
    }

    #[test]
    fn views_point_at_their_own_strings() {
        let mut tasks = Vec::new();
        for i in 0..300 {
            tasks.push(Task {
                ami_id: Some(format!("ami-{i}")),
                task_start_time_ms: (i % 2 == 0).then_some(i as i64),
                bucket: (i % 3 != 0).then(|| format!("bucket-{i}")),
                s3_object_key: None,
                progress_percentage: Some(i % 101),
                state: if i % 5 == 0 { TaskState::Unknown("Paused".into()) } else { TaskState::Failed },
                failure_reason: Some(format!("bad\0byte {i}")),
            });
        }
        let list = storetasks_task_list::from_page(TaskPage {
            tasks: tasks.into(),
            next_token: Some("t".into()),
            request_id: None,
            truncated: false,
        });
        assert_eq!(storetasks_task_list_len(&list), 300);
        for i in 0..300usize {
            // SAFETY: index i < len, so the getter returns a view that lives as long as the list.
            let v = unsafe { &*storetasks_task_list_get(&list, i) };
            assert_eq!(text(v.ami_id), Some(format!("ami-{i}")));
            assert_eq!(text(v.bucket), (i % 3 != 0).then(|| format!("bucket-{i}")));
            assert_eq!(text(v.s3_object_key), None);
            assert_eq!(text(v.failure_reason), Some(format!("bad\u{fffd}byte {i}")));
            assert_eq!(v.has_task_start_time, i % 2 == 0);
            let (state, raw) =
                if i % 5 == 0 { (storetasks_task_state::Unknown, "Paused") } else { (storetasks_task_state::Failed, "Failed") };
            assert_eq!((v.state, text(v.state_raw).as_deref()), (state, Some(raw)));
        }
        assert!(storetasks_task_list_get(&list, 300).is_null());
        assert_eq!(text(storetasks_task_list_next_token(&list)).as_deref(), Some("t"));
        let empty = storetasks_task_list::from_page(TaskPage::default());
        assert!(storetasks_task_list_tasks(&empty).is_null());
    }
}
