//! Cancellation tokens.

use super::{BoxHandle, boundary_or, free_box, getter, into_raw};
use crate::cancel::CancelToken;

/// A cancellation token: pass it to a call, trigger it from any thread to end that call with
/// `STORETASKS_STATUS_CANCELLED`. Once triggered it stays triggered. Thread-safe.
pub struct storetasks_cancel {
    pub(crate) token: CancelToken,
}

// SAFETY: handed to C only by `into_raw` in `storetasks_cancel_new`, freed only by
// `storetasks_cancel_free`.
unsafe impl BoxHandle for storetasks_cancel {
    const NAME: &'static str = "cancel";
}

/// A new, untriggered token. The caller owns it and frees it with `storetasks_cancel_free`, after
/// every call using it has returned. Returns NULL only if memory ran out. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_cancel_new() -> *mut storetasks_cancel {
    boundary_or(std::ptr::null_mut(), || into_raw(storetasks_cancel { token: CancelToken::new() }))
}

/// Triggers the token: calls using it end promptly with `STORETASKS_STATUS_CANCELLED`, and calls
/// started with it later end at once. NULL is ignored. Safe to call from any thread, and more than once.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_cancel_trigger(cancel: *const storetasks_cancel) {
    getter(cancel, (), |c| c.token.cancel())
}

/// Whether the token was triggered. False for NULL. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_cancel_is_triggered(cancel: *const storetasks_cancel) -> bool {
    getter(cancel, false, |c| c.token.is_cancelled())
}

/// Frees a token. NULL is ignored. No call may still be using it.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_cancel_free(cancel: *mut storetasks_cancel) {
    free_box(cancel);
}
