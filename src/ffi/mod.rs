//! The C surface. Every `extern "C"` function of the library is in this module; each is a thin
//! layer of pointer checks and conversions over the Rust core, run inside [`boundary`].

#![allow(non_camel_case_types, reason = "C type names are snake_case with the storetasks_ prefix, as the header spells them")]
#![warn(missing_docs)]

use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::Error;

/// Declares a builder handle (config, query, wait options): a boxed handle whose setters keep the
/// reason of their last refusal in its `last_error` field. Its `_new` function is the only place
/// that hands one to C (through `into_raw`) and its `_free` function the only one that frees it.
macro_rules! builder_handle {
    ($t:ty, $name:literal) => {
        // SAFETY: handed to C only by `into_raw` in the handle's `_new` function, freed only by
        // its `_free` function (see `builder_handle!`).
        unsafe impl $crate::ffi::BoxHandle for $t {
            const NAME: &'static str = $name;
        }

        impl $crate::ffi::Settable for $t {
            fn last_error_slot(&mut self) -> &mut Option<std::ffi::CString> {
                &mut self.last_error
            }
            fn last_error(&self) -> Option<&std::ffi::CString> {
                self.last_error.as_ref()
            }
        }
    };
}

pub mod call;
pub mod cancel;
pub mod client;
pub mod config;
pub mod error;
pub mod fleet;
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

/// The largest value `storetasks_config_set_max_concurrency` takes.
pub const STORETASKS_MAX_CONCURRENCY: usize = 1024;
/// The largest number of attempts `storetasks_config_set_retry` takes.
pub const STORETASKS_MAX_ATTEMPTS: u32 = 100;
// The header states the core's limits: a change to one without the other does not compile.
const _: () = assert!(
    STORETASKS_MAX_CONCURRENCY == crate::client::MAX_CONCURRENCY && STORETASKS_MAX_ATTEMPTS == crate::client::MAX_ATTEMPTS
);

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
        Err(payload) => Error::from_panic(&*payload),
    };
    let status = storetasks_status::from(outcome.kind);
    // A failure to build the error object must not turn into a second panic.
    if let Ok(out) = OutPtr::new(err, "err")
        && let Ok(obj) = catch_unwind(AssertUnwindSafe(|| storetasks_error::from_error(&outcome)))
    {
        out.set(obj);
    }
    status
}

/// [`boundary`] for the functions that take what a call produced: `Poll::Pending` (nothing to
/// take yet) is `STORETASKS_STATUS_PENDING`, without an error object.
pub(crate) fn boundary_pending(
    err: *mut *mut storetasks_error,
    f: impl FnOnce() -> Result<std::task::Poll<()>, Error>,
) -> storetasks_status {
    let mut pending = false;
    let status = boundary(err, || {
        pending = f()?.is_pending();
        Ok(())
    });
    if pending { storetasks_status::Pending } else { status }
}

/// Runs `f` behind the panic boundary, returning `fallback` if it panics.
pub(crate) fn boundary_or<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// A type the library hands to C as an opaque handle allocated as a `Box<Self>`: created only
/// through [`OutPtr::set`] or [`into_raw`], borrowed through [`try_ref`] / [`try_mut`] /
/// [`opt_ref`], and freed only by [`free_box`] from the type's own `_free` function.
///
/// # Safety
///
/// Implement it only for types that C never sees except as pointers made by this module. A
/// non-NULL pointer of this type that C hands back is either an owned handle, made by
/// `Box::into_raw` here and not yet freed, or a borrowed one that an owner lends and keeps alive
/// (the task lists and error objects inside a fleet result): the borrowing helpers below accept
/// both; [`free_box`] only the first, which the header says of every borrowed pointer.
pub(crate) unsafe trait BoxHandle: Sized {
    /// The handle's name in messages ("client is NULL").
    const NAME: &'static str;
}

/// Hands `value` to C as a new handle that the caller frees with the type's `_free` function.
pub(crate) fn into_raw<T: BoxHandle>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// A handle argument that may be NULL, borrowed for the duration of the call.
pub(crate) fn opt_ref<'a, T: BoxHandle>(p: *const T) -> Option<&'a T> {
    // SAFETY: by the `BoxHandle` contract a non-NULL handle points to a live `T`, owned (made by
    // `into_raw`) or lent by a live owner; the C caller promises in every function's
    // documentation not to free it (or its owner) while the call runs, and only shared access
    // happens through this reference.
    unsafe { p.as_ref() }
}

/// A required handle argument, borrowed: NULL is INVALID_ARGUMENT.
pub(crate) fn try_ref<'a, T: BoxHandle>(p: *const T) -> Result<&'a T, Error> {
    opt_ref(p).ok_or_else(|| Error::invalid(format!("{} is NULL", T::NAME)))
}

/// A required handle argument, borrowed mutably: NULL is INVALID_ARGUMENT.
pub(crate) fn try_mut<'a, T: BoxHandle>(p: *mut T) -> Result<&'a mut T, Error> {
    // SAFETY: as for `opt_ref`; the functions that take a `*mut` handle are documented as not
    // safe to call from two threads at once on the same object, so this borrow is unique.
    unsafe { p.as_mut() }.ok_or_else(|| Error::invalid(format!("{} is NULL", T::NAME)))
}

/// Frees a handle made by [`into_raw`] or [`OutPtr::set`]; NULL is ignored. A panic in a
/// destructor is caught.
pub(crate) fn free_box<T: BoxHandle>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: `_free` functions take only owned handles (the header forbids passing them a
        // lent one), so by the `BoxHandle` contract `p` came from `Box::into_raw`; the C caller
        // hands it to its `_free` function once, after every call using it has returned.
        let owned = unsafe { Box::from_raw(p) };
        let _ = catch_unwind(AssertUnwindSafe(|| drop(owned)));
    }
}

/// What `f` makes of a handle that may be NULL (a getter's field, or an action such as a
/// cancel, with `()` for both): `f`'s answer, or `fallback` for a NULL handle or a panic.
pub(crate) fn getter<T: BoxHandle, R: Copy>(p: *const T, fallback: R, f: impl FnOnce(&T) -> R) -> R {
    boundary_or(fallback, || opt_ref(p).map_or(fallback, f))
}

/// An out-parameter, checked for NULL when it is made: the only way the library writes a result
/// to a caller's pointer, so that no result can be written through an unchecked one. Made
/// before any work is done, written at the end; on failure it is never written.
pub(crate) struct OutPtr<T>(std::ptr::NonNull<*mut T>);

impl<T> OutPtr<T> {
    /// Checks `p`: NULL is INVALID_ARGUMENT naming `what`.
    pub(crate) fn new(p: *mut *mut T, what: &str) -> Result<Self, Error> {
        std::ptr::NonNull::new(p).map(OutPtr).ok_or_else(|| Error::invalid(format!("{what} is NULL")))
    }

    fn write(self, value: *mut T) {
        // SAFETY: the pointer is not NULL (checked in `new`), and the C caller promises that a
        // non-NULL out-parameter points to writable storage for one pointer.
        unsafe { self.0.as_ptr().write(value) }
    }
}

impl<T: BoxHandle> OutPtr<T> {
    /// Hands `value` to the caller as a new handle.
    pub(crate) fn set(self, value: T) {
        self.write(into_raw(value));
    }

    /// Hands the caller a handle made with `Box::into_raw` (whose address something else holds
    /// already).
    pub(crate) fn set_raw(self, value: *mut T) {
        self.write(value);
    }

    /// Writes NULL: "no such object".
    pub(crate) fn set_null(self) {
        self.write(std::ptr::null_mut());
    }
}

impl OutPtr<c_char> {
    /// Hands `s` to the caller, who frees it with `storetasks_string_free`.
    pub(crate) fn set_string(self, s: CString) {
        self.write(s.into_raw());
    }
}

/// A builder handle (configuration, query, wait options) whose setters keep the reason they
/// last refused their input, for the `_last_error` getters.
pub(crate) trait Settable: BoxHandle {
    /// Where the reason of the last refused setter call is kept.
    fn last_error_slot(&mut self) -> &mut Option<CString>;
    /// The reason of the last refused setter call.
    fn last_error(&self) -> Option<&CString>;
}

/// Runs a setter on a builder handle behind the panic boundary, and records why it refused its
/// input (or clears the record when it succeeded).
pub(crate) fn setter<T: Settable>(p: *mut T, f: impl FnOnce(&mut T) -> Result<(), Error>) -> storetasks_status {
    boundary(std::ptr::null_mut(), || {
        let obj = try_mut(p)?;
        let outcome = f(obj);
        *obj.last_error_slot() = outcome.as_ref().err().map(|e| c_string(&e.message));
        outcome
    })
}

/// The body of a `_to_json` function: `render`'s text for the object behind `p`, handed out as a
/// new string in `*json_out` (NULL `p` or `json_out` is INVALID_ARGUMENT, and nothing is written).
pub(crate) fn render_json<T: BoxHandle>(
    p: *const T,
    json_out: *mut *mut c_char,
    err: *mut *mut storetasks_error,
    render: impl FnOnce(&T) -> String,
) -> storetasks_status {
    boundary(err, || {
        let obj = try_ref(p)?;
        let out = OutPtr::new(json_out, "json_out")?;
        out.set_string(c_string(&render(obj)));
        Ok(())
    })
}

/// A setter that stores what `read` makes of its C argument where `field` points. When `read`
/// refuses it, the field keeps its value and the handle's last error says why (as for every
/// setter).
pub(crate) fn store<T: Settable, V>(
    p: *mut T,
    read: impl FnOnce() -> Result<V, Error>,
    field: impl FnOnce(&mut T) -> &mut V,
) -> storetasks_status {
    setter(p, |x| {
        *field(x) = read()?;
        Ok(())
    })
}

/// The reason of the last refused setter call on `p`, borrowed from it; NULL when there is none.
pub(crate) fn last_error<T: Settable>(p: *const T) -> *const c_char {
    getter(p, std::ptr::null(), |o| o.last_error().map_or(std::ptr::null(), |c| c.as_ptr()))
}

/// An optional string argument, copied: NULL is `None`, invalid UTF-8 is INVALID_ARGUMENT.
pub(crate) fn opt_string_arg(p: *const c_char, what: &str) -> Result<Option<String>, Error> {
    Ok(opt_str_arg(p, what)?.map(str::to_owned))
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
    // SAFETY: not NULL, and every string argument is documented as a NUL-terminated string that
    // stays valid and unchanged while the call runs.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map(Some)
        .map_err(|e| Error::invalid(format!("{what} is not valid UTF-8 (bad byte at offset {})", e.valid_up_to())))
}

/// An array of `len` required strings (`what` #1, #2... in messages), copied. `p` may be NULL
/// only when `len` is 0.
/// The `len` items at `p`, borrowed for the call: empty for 0, INVALID_ARGUMENT for NULL with a
/// length.
pub(crate) fn slice_arg<'a, T>(p: *const T, len: usize, what: &str) -> Result<&'a [T], Error> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Error::invalid(format!("the {what} array is NULL but its length is {len}")));
    }
    // SAFETY: not NULL, and the caller promises `len` readable items there for the call.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

pub(crate) fn str_array(p: *const *const c_char, len: usize, what: &str) -> Result<Vec<String>, Error> {
    slice_arg(p, len, what)?.iter().enumerate().map(|(i, &s)| Ok(str_arg(s, &format!("{what} #{}", i + 1))?.to_owned())).collect()
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
#[allow(clippy::not_unsafe_ptr_arg_deref, reason = "a C entry point: its contract is in the header, like every other")]
pub extern "C" fn storetasks_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: the library hands out strings to free here only through
        // `OutPtr::set_string`, which made them with `CString::into_raw`; the caller frees each once.
        let owned = unsafe { CString::from_raw(s) };
        let _ = catch_unwind(AssertUnwindSafe(|| drop(owned)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_matches_the_package() {
        // SAFETY: the version is a static NUL-terminated string.
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
        // SAFETY: `boundary` just stored a live error object in `err`.
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
mod handle_tests;

#[cfg(test)]
mod header {
    /// The committed header must be what cbindgen makes of the current source. Run with
    /// STORETASKS_BLESS=1 (`make header`) to rewrite it.
    #[test]
    #[cfg_attr(miri, ignore = "reads files and runs cbindgen: nothing for Miri to check")]
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

#[cfg(test)]
mod exports {
    /// The helpers whose call keeps a C function's body inside the panic boundary.
    const WRAPPERS: [&str; 17] = [
        "boundary(",
        "boundary_or(",
        "super::boundary_or(",
        "getter(",
        "super::getter(",
        "set(",
        "edit(",
        "store(",
        "add_checked(",
        "render_json(",
        "place(",
        "free_box(",
        "super::last_error(",
        "list_call(",
        "boundary_pending(",
        "start(",
        "take_end(",
    ];

    /// The C functions that cannot panic, and why they need no boundary.
    const CANNOT_PANIC: [(&str, &str); 3] = [
        ("storetasks_version", "returns a pointer to a static string"),
        ("storetasks_status_name", "looks a number up in a static table"),
        ("storetasks_string_free", "drops its string inside catch_unwind"),
    ];

    /// Every `extern "C"` function starts inside the panic boundary: its body is one call of a
    /// wrapper, or it is listed above with the reason it cannot panic. A new C function that
    /// forgets the boundary fails here, not in a host process that aborts.
    #[test]
    #[cfg_attr(miri, ignore = "reads the source files: nothing for Miri to check")]
    fn every_export_starts_inside_the_panic_boundary() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("src/ffi") {
            let path = entry.expect("a directory entry").path();
            let text = std::fs::read_to_string(&path).expect("a source file");
            let mut rest = text.as_str();
            while let Some(at) = rest.find("extern \"C\" fn ") {
                let after = &rest[at + "extern \"C\" fn ".len()..];
                let name = &after[..after.find('(').expect("a parameter list")];
                let body = &after[after.find(" {\n").expect("a body") + 3..];
                let first = body.trim_start();
                let wrapped = WRAPPERS.iter().any(|w| first.starts_with(w));
                let exempt = CANNOT_PANIC.iter().any(|(n, _)| *n == name);
                assert!(
                    wrapped || exempt,
                    "{name} ({}) does not start inside the panic boundary: its body begins {:?}",
                    path.display(),
                    &first[..first.len().min(60)]
                );
                seen += 1;
                rest = body;
            }
        }
        assert!(seen > 60, "only {seen} C functions found");
    }
}
