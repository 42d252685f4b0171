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
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

/// Receives one log event: its level (a `storetasks_log_level`), its target (the Rust module
/// that logged it, such as "storetasks::paginate" or "aws_smithy_runtime::client::orchestrator")
/// and its message, both borrowed for the duration of the call. Secrets of live clients are
/// masked. Called from any thread, including the library's worker threads, possibly from
/// several at once: it must be thread-safe and must not call back into the library.
pub type storetasks_log_callback = Option<
    unsafe extern "C" fn(level: i32, target: *const c_char, message: *const c_char, user_data: *mut c_void),
>;

struct UserData(*mut c_void);
// The host promises in the documentation that its callback and data are safe from any thread.
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

/// Sends the library's log events up to `max_level` (a `storetasks_log_level`) to `callback`,
/// with `user_data` passed through untouched; a NULL callback stops it. Replaces any earlier
/// callback. This is process-wide and independent of `STORETASKS_LOG`, which writes events to
/// stderr with no code at all (`STORETASKS_LOG=debug`). Thread-safe.
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
            unsafe { cb(n as i32, target.as_ptr(), message.as_ptr(), d.0) };
        });
        crate::log::set_callback(Some((level, sink)));
        Ok(())
    })
}
