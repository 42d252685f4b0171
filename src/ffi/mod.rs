//! The C surface. Every `extern "C"` function of the library is in this module; each is a thin
//! layer of pointer checks and conversions over the Rust core, run inside [`boundary`].

#![allow(non_camel_case_types)]

use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{Error, ErrorKind};

pub mod cancel;
pub mod client;
pub mod config;
pub mod error;
pub mod log;
pub mod query;
pub mod task_list;
pub mod waiter;

pub use error::{storetasks_error, storetasks_status};

/// The library's major version; the SONAME changes when it does.
pub const STORETASKS_VERSION_MAJOR: u32 = 0;
/// The library's minor version.
pub const STORETASKS_VERSION_MINOR: u32 = 1;
/// The library's patch version.
pub const STORETASKS_VERSION_PATCH: u32 = 0;

static VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
    Ok(v) => v,
    Err(_) => panic!("the package version holds a NUL byte"),
};

/// The library's version as "MAJOR.MINOR.PATCH".
///
/// Returns a static NUL-terminated string: never NULL, never to be freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_version() -> *const c_char {
    VERSION.as_ptr()
}

/// Runs `f` behind the panic boundary and reports its outcome as a status, filling `*err` with a
/// new error object on failure when `err` is not NULL.
pub(crate) fn boundary(err: *mut *mut storetasks_error, f: impl FnOnce() -> Result<(), Error>) -> storetasks_status {
    let outcome = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return storetasks_status::Ok,
        Ok(Err(e)) => e,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Error::new(ErrorKind::Panic, format!("a panic was caught inside the library: {what}"))
        }
    };
    let status = storetasks_status::from(outcome.kind);
    if !err.is_null() {
        // A failure to build the error object must not turn into a second panic.
        if let Ok(obj) = catch_unwind(AssertUnwindSafe(|| storetasks_error::from_error(&outcome))) {
            unsafe { *err = Box::into_raw(Box::new(obj)) };
        }
    }
    status
}

/// Runs `f` behind the panic boundary, returning `fallback` if it panics.
pub(crate) fn boundary_or<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// A required string argument: NULL and invalid UTF-8 are INVALID_ARGUMENT.
pub(crate) fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str, Error> {
    opt_str_arg(p, what)?.ok_or_else(|| Error::invalid(format!("{what} is NULL")))
}

/// An optional string argument: NULL is `None`, invalid UTF-8 is INVALID_ARGUMENT.
pub(crate) fn opt_str_arg<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, Error> {
    if p.is_null() {
        return Ok(None);
    }
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map(Some).map_err(|e| {
        Error::invalid(format!("{what} is not valid UTF-8 (bad byte at offset {})", e.valid_up_to()))
    })
}

/// A required pointer argument, borrowed.
pub(crate) fn ref_arg<'a, T>(p: *const T, what: &str) -> Result<&'a T, Error> {
    unsafe { p.as_ref() }.ok_or_else(|| Error::invalid(format!("{what} is NULL")))
}

/// A required pointer argument, borrowed mutably.
pub(crate) fn mut_arg<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T, Error> {
    unsafe { p.as_mut() }.ok_or_else(|| Error::invalid(format!("{what} is NULL")))
}

/// Checks that an out-parameter can be written, before any work is done.
pub(crate) fn out_arg<T>(p: *mut *mut T, what: &str) -> Result<(), Error> {
    if p.is_null() { Err(Error::invalid(format!("{what} is NULL"))) } else { Ok(()) }
}

/// Hands ownership of `value` to the caller through an out-parameter checked with [`out_arg`].
pub(crate) fn give<T>(out: *mut *mut T, value: T) {
    unsafe { *out = Box::into_raw(Box::new(value)) };
}

/// Frees an object handed out by [`give`]; NULL is ignored.
pub(crate) fn take_and_drop<T>(p: *mut T) {
    if !p.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(p) })));
    }
}

/// A C string from Rust text; a NUL inside the text (which EC2's XML cannot carry) becomes U+FFFD.
pub(crate) fn c_string(s: &str) -> CString {
    CString::new(s).unwrap_or_else(|_| CString::new(s.replace('\0', "\u{fffd}")).expect("no NUL left"))
}

/// A pointer into an optional C string, NULL when absent.
pub(crate) fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
}

/// Frees a string the library returned (such as JSON). NULL is ignored.
///
/// Only for strings whose documentation says to free them with this function. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_string_free(s: *mut c_char) {
    if !s.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { CString::from_raw(s) })));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_matches_the_package() {
        let v = unsafe { CStr::from_ptr(storetasks_version()) }.to_str().unwrap();
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        assert_eq!(STORETASKS_VERSION_MAJOR.to_string(), env!("CARGO_PKG_VERSION_MAJOR"));
        assert_eq!(STORETASKS_VERSION_MINOR.to_string(), env!("CARGO_PKG_VERSION_MINOR"));
        assert_eq!(STORETASKS_VERSION_PATCH.to_string(), env!("CARGO_PKG_VERSION_PATCH"));
    }

    #[test]
    fn boundary_turns_a_panic_into_a_status() {
        let mut err: *mut storetasks_error = std::ptr::null_mut();
        let st = boundary(&mut err, || panic!("boom"));
        assert_eq!(st, storetasks_status::Panic);
        assert!(!err.is_null());
        let e = unsafe { &*err };
        assert!(e.message.to_str().unwrap().contains("boom"));
        error::storetasks_error_free(err);
    }

    #[test]
    fn strings_are_checked() {
        let bad = [0xffu8, 0];
        assert!(str_arg(bad.as_ptr().cast(), "x").unwrap_err().message.contains("UTF-8"));
        assert!(str_arg(std::ptr::null(), "the id").unwrap_err().message.contains("the id is NULL"));
        assert_eq!(c_string("a\0b").to_str().unwrap(), "a\u{fffd}b");
    }
}

#[cfg(test)]
mod header {
    /// The committed header must be what cbindgen makes of the current source. Run with
    /// STORETASKS_BLESS=1 (`make header`) to rewrite it.
    #[test]
    fn header_is_up_to_date() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
        let bindings = cbindgen::Builder::new()
            .with_config(config)
            .with_src(root.join("src/ffi/mod.rs"))
            .generate()
            .expect("cbindgen could not read the source");
        let mut fresh = Vec::new();
        bindings.write(&mut fresh);
        let path = root.join("include/storetasks.h");
        if std::env::var_os("STORETASKS_BLESS").is_some() {
            std::fs::write(&path, &fresh).expect("write include/storetasks.h");
            return;
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "include/storetasks.h is stale: run `make header` (STORETASKS_BLESS=1 cargo test --release --lib header) and commit it"
        );
    }
}
