//! Status codes and the error object.

use std::ffi::{CStr, CString, c_char};

use super::{BoxHandle, c_string, free_box, getter, opt_ptr};
use crate::error::{Error, ErrorKind};

/// The outcome of a call. The numbers are fixed and never reused.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum storetasks_status {
    /// Success.
    Ok = 0,
    /// The dry run would have succeeded (EC2's `DryRunOperation`).
    DryRunOk = 1,
    /// A bad argument: NULL where a value is needed, invalid UTF-8, a value out of range.
    InvalidArgument = 2,
    /// The credentials were refused or lack permission (`UnauthorizedOperation`, `AuthFailure`...).
    Unauthorized = 3,
    /// Still throttled after every retry (`RequestLimitExceeded`...).
    Throttled = 4,
    /// A connect, attempt or operation timeout expired.
    Timeout = 5,
    /// The connection failed or was dropped, a proxy refused it (the message names the proxy), or
    /// a gateway on the way answered 502, 503 or 504 with a reply that is not EC2's (the error
    /// object has the HTTP status and no AWS code).
    Network = 6,
    /// Any other error code from the service (see the error object's code), or an error status
    /// with a reply that is not EC2's, such as a load balancer's HTML page: then the error object
    /// has the HTTP status and no AWS code, and the message quotes the start of the reply's text.
    Service = 7,
    /// A reply that could not be understood (malformed, truncated, looping pagination).
    Response = 8,
    /// Cancelled through a cancellation token.
    Cancelled = 9,
    /// A panic inside the library was caught; the library is still usable.
    Panic = 10,
    /// The client could not be configured (no region, unreadable CA bundle...).
    Config = 11,
    /// No usable credentials were found.
    Credentials = 12,
    /// A waited-for store task failed; the error object names the AMI and the reason.
    TaskFailed = 13,
    /// A wait's deadline passed; the message gives the last seen state of each AMI.
    WaitTimeout = 14,
    /// A waited-for image had no store task for longer than the grace period; the error object
    /// names the AMI.
    NotFound = 15,
    /// A call started with a `_start` function has nothing to take yet; no error object is made.
    Pending = 16,
}

impl storetasks_status {
    /// Every status with its C name, in number order: the one table that names them.
    pub(crate) const NAMES: [(storetasks_status, &'static CStr); 17] = [
        (storetasks_status::Ok, c"STORETASKS_STATUS_OK"),
        (storetasks_status::DryRunOk, c"STORETASKS_STATUS_DRY_RUN_OK"),
        (storetasks_status::InvalidArgument, c"STORETASKS_STATUS_INVALID_ARGUMENT"),
        (storetasks_status::Unauthorized, c"STORETASKS_STATUS_UNAUTHORIZED"),
        (storetasks_status::Throttled, c"STORETASKS_STATUS_THROTTLED"),
        (storetasks_status::Timeout, c"STORETASKS_STATUS_TIMEOUT"),
        (storetasks_status::Network, c"STORETASKS_STATUS_NETWORK"),
        (storetasks_status::Service, c"STORETASKS_STATUS_SERVICE"),
        (storetasks_status::Response, c"STORETASKS_STATUS_RESPONSE"),
        (storetasks_status::Cancelled, c"STORETASKS_STATUS_CANCELLED"),
        (storetasks_status::Panic, c"STORETASKS_STATUS_PANIC"),
        (storetasks_status::Config, c"STORETASKS_STATUS_CONFIG"),
        (storetasks_status::Credentials, c"STORETASKS_STATUS_CREDENTIALS"),
        (storetasks_status::TaskFailed, c"STORETASKS_STATUS_TASK_FAILED"),
        (storetasks_status::WaitTimeout, c"STORETASKS_STATUS_WAIT_TIMEOUT"),
        (storetasks_status::NotFound, c"STORETASKS_STATUS_NOT_FOUND"),
        (storetasks_status::Pending, c"STORETASKS_STATUS_PENDING"),
    ];
}

impl From<ErrorKind> for storetasks_status {
    fn from(k: ErrorKind) -> Self {
        match k {
            ErrorKind::DryRunOk => storetasks_status::DryRunOk,
            ErrorKind::InvalidArgument => storetasks_status::InvalidArgument,
            ErrorKind::Unauthorized => storetasks_status::Unauthorized,
            ErrorKind::Throttled => storetasks_status::Throttled,
            ErrorKind::Timeout => storetasks_status::Timeout,
            ErrorKind::Network => storetasks_status::Network,
            ErrorKind::Service => storetasks_status::Service,
            ErrorKind::Response => storetasks_status::Response,
            ErrorKind::Cancelled => storetasks_status::Cancelled,
            ErrorKind::Panic => storetasks_status::Panic,
            ErrorKind::Config => storetasks_status::Config,
            ErrorKind::Credentials => storetasks_status::Credentials,
            ErrorKind::TaskFailed => storetasks_status::TaskFailed,
            ErrorKind::WaitTimeout => storetasks_status::WaitTimeout,
            ErrorKind::NotFound => storetasks_status::NotFound,
        }
    }
}

/// The static name of a status, such as "STORETASKS_STATUS_THROTTLED".
///
/// Returns a static string (never NULL, never to be freed); "STORETASKS_STATUS_UNKNOWN" for a
/// number that is not a status. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_status_name(status: i32) -> *const c_char {
    storetasks_status::NAMES
        .iter()
        .find(|(s, _)| *s as i32 == status)
        .map_or(c"STORETASKS_STATUS_UNKNOWN", |(_, name)| name)
        .as_ptr()
}

/// The details of a failed call. Created by the library, freed with `storetasks_error_free`.
pub struct storetasks_error {
    pub(crate) status: storetasks_status,
    pub(crate) message: CString,
    pub(crate) code: Option<CString>,
    pub(crate) http_status: u16,
    pub(crate) request_id: Option<CString>,
    pub(crate) ami_id: Option<CString>,
    pub(crate) failure_reason: Option<CString>,
}

// SAFETY: handed to C only by `OutPtr::set` in the panic boundary, freed only by
// `storetasks_error_free`.
unsafe impl BoxHandle for storetasks_error {
    const NAME: &'static str = "err";
}

impl storetasks_error {
    pub(crate) fn from_error(e: &Error) -> Self {
        storetasks_error {
            status: e.kind.into(),
            message: c_string(&e.message),
            code: e.code.as_deref().map(c_string),
            http_status: e.http_status.unwrap_or(0),
            request_id: e.request_id.as_deref().map(c_string),
            ami_id: e.ami_id.as_deref().map(c_string),
            failure_reason: e.failure_reason.as_deref().map(c_string),
        }
    }
}

/// The status of the failed call. `STORETASKS_STATUS_INVALID_ARGUMENT` for a NULL error.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_error_status(err: *const storetasks_error) -> storetasks_status {
    getter(err, storetasks_status::InvalidArgument, |e| e.status)
}

/// A readable message (never containing a secret). Borrowed from `err` until it is freed; NULL
/// only for a NULL error.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_error_message(err: *const storetasks_error) -> *const c_char {
    getter(err, std::ptr::null(), |e| e.message.as_ptr())
}

/// The AWS error code (such as "RequestLimitExceeded"), or NULL when the failure carried none
/// (a network error, a bad argument). Borrowed from `err` until it is freed.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_error_code(err: *const storetasks_error) -> *const c_char {
    getter(err, std::ptr::null(), |e| opt_ptr(&e.code))
}

/// The HTTP status of the reply that carried the error, or 0 when there was no reply.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_error_http_status(err: *const storetasks_error) -> u16 {
    getter(err, 0, |e| e.http_status)
}

/// The request id of the reply, or NULL when none was sent. Borrowed from `err` until it is freed.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_error_request_id(err: *const storetasks_error) -> *const c_char {
    getter(err, std::ptr::null(), |e| opt_ptr(&e.request_id))
}

/// The AMI a wait ended on (`TASK_FAILED`, `NOT_FOUND`), or NULL. Borrowed from `err` until it
/// is freed.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_error_ami_id(err: *const storetasks_error) -> *const c_char {
    getter(err, std::ptr::null(), |e| opt_ptr(&e.ami_id))
}

/// The failure reason EC2 gave for a failed store task (`TASK_FAILED`), or NULL. Borrowed from
/// `err` until it is freed.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_error_failure_reason(err: *const storetasks_error) -> *const c_char {
    getter(err, std::ptr::null(), |e| opt_ptr(&e.failure_reason))
}

/// Frees an error object that a call handed over. NULL is ignored. Never pass it an error lent by
/// a fleet result (`storetasks_fleet_result_error`): the result frees those. An error object a
/// call handed over may be used by one thread at a time; one lent by a fleet result is read-only
/// and may be read by any number of threads, as the result may.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_error_free(err: *mut storetasks_error) {
    free_box(err);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_name() {
        for (n, s) in [(0, storetasks_status::Ok), (4, storetasks_status::Throttled), (12, storetasks_status::Credentials)] {
            assert_eq!(s as i32, n);
        }
        // SAFETY: storetasks_status_name always returns a static NUL-terminated string.
        let name = |n| unsafe { CStr::from_ptr(storetasks_status_name(n)) }.to_str().unwrap();
        assert_eq!(name(1), "STORETASKS_STATUS_DRY_RUN_OK");
        assert_eq!(name(12), "STORETASKS_STATUS_CREDENTIALS");
        assert_eq!(name(15), "STORETASKS_STATUS_NOT_FOUND");
        assert_eq!(name(99), "STORETASKS_STATUS_UNKNOWN");
        for (i, (s, n)) in storetasks_status::NAMES.iter().enumerate() {
            assert_eq!(*s as usize, i, "the table is in number order");
            assert_eq!(name(i as i32), n.to_str().unwrap());
        }
        assert_eq!(name(-1), "STORETASKS_STATUS_UNKNOWN");
    }
}
