//! Routing the library's log events to the host program.

use std::ffi::{CString, c_char, c_void};
use std::sync::Arc;

use tracing::Level;

use super::{boundary, storetasks_status};
use crate::error::Error;

/// Log levels, from the least to the most verbose.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum storetasks_log_level {
    /// Failures.
    Error = 1,
    /// Problems the library worked around (a retried request, a slow reply).
    Warn = 2,
    /// Notable events.
    Info = 3,
    /// What the library does: clients made, pages received, polls.
    Debug = 4,
    /// Everything, the AWS SDK's own events included.
    Trace = 5,
}

/// Receives one log event: its level (a `storetasks_log_level`), its target (the Rust module
/// that logged it, such as "storetasks::describe_store_image_tasks::paginate" or "aws_smithy_runtime::client::orchestrator")
/// and its message, both borrowed for the duration of the call. Secrets of live clients are
/// masked. Called from any thread, including the library's worker threads, possibly from
/// several at once: it must be thread-safe, must not call back into the library, and must return
/// normally (no C++ exception, no `longjmp` out of it).
pub type storetasks_log_callback =
    Option<unsafe extern "C" fn(level: i32, target: *const c_char, message: *const c_char, user_data: *mut c_void)>;

struct UserData(*mut c_void);
// SAFETY: the host promises, as the callback's documentation asks, that its callback and data
// may be used from any thread, several at once; the library never reads through the pointer.
unsafe impl Send for UserData {}
// SAFETY: as for `Send`.
unsafe impl Sync for UserData {}

/// Sends the library's log events up to `max_level` (a `storetasks_log_level`) to `callback`,
/// with `user_data` passed through untouched; a NULL callback stops it. Replaces any earlier
/// callback. This is process-wide and independent of `STORETASKS_LOG`, which writes events to
/// stderr with no code at all (`STORETASKS_LOG=debug`). Thread-safe.
///
/// Returns only when no call to the callback it replaces is still running on any thread, so the
/// earlier callback's `user_data` may be freed (or its code unloaded) as soon as this returns.
/// For the same reason it must not be called from inside the log callback: it would wait for
/// that very call to end.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_set_log_callback(
    callback: storetasks_log_callback,
    max_level: i32,
    user_data: *mut c_void,
) -> storetasks_status {
    boundary(std::ptr::null_mut(), || {
        let Some(cb) = callback else {
            crate::log::set_callback(None);
            return Ok(());
        };
        let level = match max_level {
            1 => Level::ERROR,
            2 => Level::WARN,
            3 => Level::INFO,
            4 => Level::DEBUG,
            5 => Level::TRACE,
            other => return Err(Error::invalid(format!("{other} is not a storetasks_log_level"))),
        };
        let data = UserData(user_data);
        let sink = Arc::new(move |level: Level, target: &str, message: &str| {
            let n = match level {
                Level::ERROR => storetasks_log_level::Error,
                Level::WARN => storetasks_log_level::Warn,
                Level::INFO => storetasks_log_level::Info,
                Level::DEBUG => storetasks_log_level::Debug,
                Level::TRACE => storetasks_log_level::Trace,
            };
            let target = super::c_string(target);
            let message: CString = super::c_string(message);
            let d = &data;
            // SAFETY: the host registered a callback of this type; the strings live until it
            // returns, and `user_data` is passed through as the host gave it. The setter keeps
            // it from running after it was replaced (see `crate::log::set_callback`).
            unsafe { cb(n as i32, target.as_ptr(), message.as_ptr(), d.0) };
        });
        crate::log::set_callback(Some((level, sink)));
        Ok(())
    })
}
