//! Waiting for store tasks to finish.

use std::ffi::{CString, c_char, c_void};
use std::time::Duration;

use super::cancel::storetasks_cancel;
use super::client::storetasks_client;
use super::task_list::storetasks_task_list;
use super::{
    OutPtr, boundary, boundary_or, free_box, into_raw, opt_ref, opt_string_arg, setter, slice_arg, store, storetasks_error,
    storetasks_status, str_arg, str_array, try_ref,
};
use crate::describe_store_image_tasks::task::{Task, TaskPage};
use crate::error::Error;
use crate::waiter::{WaitOptions, WaitTarget};

/// Called after each successful poll of `storetasks_client_wait`, on the calling thread, with the
/// latest task of each waited-for image that has one, in the order the ids were given. `tasks`
/// is borrowed for the duration of the call. Return true to keep waiting, false to stop (the
/// wait then ends with `STORETASKS_STATUS_CANCELLED`). It must return normally: a C++ exception
/// or a `longjmp` must not leave it.
pub type storetasks_progress_callback =
    Option<unsafe extern "C" fn(tasks: *const storetasks_task_list, user_data: *mut c_void) -> bool>;

/// How to wait. Opaque; create with `storetasks_wait_options_new`, free with
/// `storetasks_wait_options_free`. Not safe to change from two threads at once.
pub struct storetasks_wait_options {
    inner: WaitOptions,
    progress: storetasks_progress_callback,
    user_data: *mut c_void,
    last_error: Option<CString>,
}

builder_handle!(storetasks_wait_options, "options");

/// New options with the defaults: delays from 5 s growing to 120 s, a 2-hour deadline, and a
/// 60-second grace period for images without a store task. No progress callback.
///
/// The caller owns the result and frees it with `storetasks_wait_options_free`. NULL only if
/// memory ran out.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_wait_options_new() -> *mut storetasks_wait_options {
    boundary_or(std::ptr::null_mut(), || {
        into_raw(storetasks_wait_options {
            inner: WaitOptions::default(),
            progress: None,
            user_data: std::ptr::null_mut(),
            last_error: None,
        })
    })
}

/// Frees wait options. NULL is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_wait_options_free(options: *mut storetasks_wait_options) {
    free_box(options);
}

fn edit(
    options: *mut storetasks_wait_options,
    f: impl FnOnce(&mut storetasks_wait_options) -> Result<(), Error>,
) -> storetasks_status {
    setter(options, f)
}

/// Why the most recent setter call on `options` (`storetasks_wait_options_set_*`) did not return
/// OK, as one sentence; NULL when that call succeeded (each setter call sets or clears it), and
/// for NULL options. Borrowed from the options until their next setter call or their free. Like
/// the setters, not to be called while another thread changes the same options.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_wait_options_last_error(options: *const storetasks_wait_options) -> *const c_char {
    super::last_error(options)
}

/// Sets the delay between polls: it starts at `min_delay_ms` and doubles up to `max_delay_ms`,
/// each pause drawn at random between `min_delay_ms` and the current ceiling. INVALID_ARGUMENT
/// unless 0 < min_delay_ms <= max_delay_ms.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_wait_options_set_delays(
    options: *mut storetasks_wait_options,
    min_delay_ms: u64,
    max_delay_ms: u64,
) -> storetasks_status {
    edit(options, |o| {
        if min_delay_ms == 0 || max_delay_ms < min_delay_ms {
            return Err(Error::invalid("the delays must satisfy 0 < min_delay_ms <= max_delay_ms"));
        }
        o.inner.min_delay = Duration::from_millis(min_delay_ms);
        o.inner.max_delay = Duration::from_millis(max_delay_ms);
        Ok(())
    })
}

/// Sets the deadline of the whole wait in milliseconds; 0 waits without a deadline (until the
/// tasks finish or the wait is cancelled).
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_wait_options_set_timeout(
    options: *mut storetasks_wait_options,
    timeout_ms: u64,
) -> storetasks_status {
    store(options, || Ok((timeout_ms > 0).then(|| Duration::from_millis(timeout_ms))), |o| &mut o.inner.timeout)
}

/// Sets how long, in milliseconds, an image may have no store task before the wait ends with
/// `STORETASKS_STATUS_NOT_FOUND` (0: at the first poll that does not find it).
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_wait_options_set_not_found_grace(
    options: *mut storetasks_wait_options,
    grace_ms: u64,
) -> storetasks_status {
    store(options, || Ok(Duration::from_millis(grace_ms)), |o| &mut o.inner.not_found_grace)
}

/// Sets the progress callback (NULL removes it) and the pointer passed to it untouched.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_wait_options_set_progress(
    options: *mut storetasks_wait_options,
    callback: storetasks_progress_callback,
    user_data: *mut c_void,
) -> storetasks_status {
    edit(options, |o| {
        o.progress = callback;
        o.user_data = user_data;
        Ok(())
    })
}

/// Waits until the latest store task of every image in `image_ids` (`image_ids_len` ids; more
/// than 20 are polled in batches) is Completed.
///
/// Outcomes: OK when all completed (`*tasks_out`, if `tasks_out` is not NULL, receives their final
/// state, to free with `storetasks_task_list_free`); `TASK_FAILED` as soon as one fails
/// (`storetasks_error_ami_id` and `storetasks_error_failure_reason` say which and why);
/// `WAIT_TIMEOUT` when the deadline passes (the message lists each AMI's last seen state);
/// `NOT_FOUND` when an image has no task after the grace period; `CANCELLED` when `cancel` fires
/// or the progress callback returns false. Throttling, network errors, timeouts and 5xx replies
/// are retried at the next poll; other errors end the wait with their own status.
///
/// `options` and `cancel` may be NULL (defaults; not cancellable). Blocks the calling thread,
/// which is also the thread the progress callback runs on. Thread-safe: many waits may run on
/// one client at once.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_client_wait(
    client: *const storetasks_client,
    image_ids: *const *const c_char,
    image_ids_len: usize,
    options: *const storetasks_wait_options,
    cancel: *const storetasks_cancel,
    tasks_out: *mut *mut storetasks_task_list,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    boundary(err, || run_wait(client, &id_targets(image_ids, image_ids_len)?, options, cancel, tasks_out))
}

/// The image ids of a wait, as targets in the client's own place.
pub(crate) fn id_targets(image_ids: *const *const c_char, image_ids_len: usize) -> Result<Vec<WaitTarget>, Error> {
    let ids = str_array(image_ids, image_ids_len, "image id")?;
    if ids.is_empty() {
        return Err(Error::invalid("no image ids to wait for"));
    }
    Ok(ids.into_iter().map(|image_id| WaitTarget { image_id, ..WaitTarget::default() }).collect())
}

/// The targets of a wait, copied from C.
pub(crate) fn wait_targets(targets: *const storetasks_wait_target, targets_len: usize) -> Result<Vec<WaitTarget>, Error> {
    if targets_len == 0 {
        return Err(Error::invalid("no image ids to wait for"));
    }
    slice_arg(targets, targets_len, "target")?
        .iter()
        .map(|t| {
            Ok(WaitTarget {
                region: opt_string_arg(t.region, "region")?,
                role_arn: opt_string_arg(t.role_arn, "role ARN")?,
                image_id: str_arg(t.image_id, "image id")?.to_owned(),
            })
        })
        .collect()
}

/// The options of a wait, copied (defaults for NULL), so that a setter called on another thread
/// during the wait changes nothing for it.
pub(crate) fn wait_options(options: *const storetasks_wait_options) -> WaitOptions {
    opt_ref(options).map_or_else(WaitOptions::default, |o| o.inner.clone())
}

/// One image to wait for in `storetasks_client_wait_targets`, and where its store task runs.
#[repr(C)]
pub struct storetasks_wait_target {
    /// The region, such as "eu-west-3"; NULL for the client's region.
    pub region: *const c_char,
    /// The IAM role to assume for the image's account (`arn:aws:iam::ACCOUNT:role/NAME`); NULL for
    /// the client's own credentials.
    pub role_arn: *const c_char,
    /// The AMI id.
    pub image_id: *const c_char,
}

/// Like `storetasks_client_wait`, for images in several regions and accounts: `targets` holds
/// `targets_len` (region, role, image id) triples, and each poll asks every (account, region)
/// place for its images at once; each role is assumed once. The tasks in `*tasks_out` and those
/// given to the progress callback come in the order of `targets` (a triple given twice, once).
/// Messages name an image as "REGION/ami-..." (or "ACCOUNT/REGION/ami-...") when the targets span
/// more than one place. A place's throttling or network error means another poll; its other errors
/// end the wait. INVALID_ARGUMENT for no targets, a NULL image id, a bad region name or role ARN.
/// The strings are copied. Outcomes, ownership and thread safety as for `storetasks_client_wait`.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_client_wait_targets(
    client: *const storetasks_client,
    targets: *const storetasks_wait_target,
    targets_len: usize,
    options: *const storetasks_wait_options,
    cancel: *const storetasks_cancel,
    tasks_out: *mut *mut storetasks_task_list,
    err: *mut *mut storetasks_error,
) -> storetasks_status {
    boundary(err, || run_wait(client, &wait_targets(targets, targets_len)?, options, cancel, tasks_out))
}

fn run_wait(
    client: *const storetasks_client,
    targets: &[WaitTarget],
    options: *const storetasks_wait_options,
    cancel: *const storetasks_cancel,
    tasks_out: *mut *mut storetasks_task_list,
) -> Result<(), Error> {
    let client = super::client::inner(try_ref(client)?);
    // The options are copied, so that a setter called on another thread during the wait
    // changes nothing for it.
    let (opts, progress, user_data) = match opt_ref(options) {
        Some(o) => (o.inner.clone(), o.progress, o.user_data),
        None => (WaitOptions::default(), None, std::ptr::null_mut()),
    };
    let out = (!tasks_out.is_null()).then(|| OutPtr::new(tasks_out, "tasks_out")).transpose()?;
    let cancel = opt_ref(cancel).map(|c| c.token.clone());
    let tasks = client.wait_targets(targets, &opts, cancel.as_ref(), |seen| match progress {
        Some(cb) => {
            let list = storetasks_task_list::from_page(TaskPage {
                tasks: seen.iter().map(Task::as_ref).collect(),
                ..TaskPage::default()
            });
            // SAFETY: the caller promised a callback that takes these arguments; `list`
            // outlives the call, and `user_data` is passed through as the caller gave it.
            unsafe { cb(&list, user_data) }
        }
        None => true,
    })?;
    if let Some(out) = out {
        out.set(storetasks_task_list::from_page(TaskPage { tasks: tasks.into(), ..TaskPage::default() }));
    }
    Ok(())
}
