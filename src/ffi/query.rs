//! The query builder.

use std::ffi::{CString, c_char};

use super::{boundary_or, free_box, into_raw, opt_string_arg, setter, store, storetasks_status, str_arg, str_array};
use crate::describe_store_image_tasks::query::{Filter, Query};
use crate::error::Error;

/// The parameters of a DescribeStoreImageTasks call. Opaque; create with `storetasks_query_new`,
/// free with `storetasks_query_free`. Not safe to change from two threads at once; once built it
/// may be used by many calls on many threads at the same time.
pub struct storetasks_query {
    pub(crate) inner: Query,
    last_error: Option<CString>,
}

builder_handle!(storetasks_query, "query");

/// A new, empty query: every task of the last 31 days, newest first.
///
/// The caller owns it and frees it with `storetasks_query_free`. NULL only if memory ran out.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_query_new() -> *mut storetasks_query {
    boundary_or(std::ptr::null_mut(), || into_raw(storetasks_query { inner: Query::default(), last_error: None }))
}

/// Frees a query. NULL is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_query_free(query: *mut storetasks_query) {
    free_box(query);
}

fn edit(query: *mut storetasks_query, f: impl FnOnce(&mut Query) -> Result<(), Error>) -> storetasks_status {
    setter(query, |q| f(&mut q.inner))
}

/// Why the most recent setter call on `query` (`storetasks_query_add_image_id`,
/// `storetasks_query_add_filter`, `storetasks_query_set_*`) did not return OK, as one sentence;
/// NULL when that call succeeded (each setter call sets or clears it), and for a NULL query.
/// Borrowed from the query until its next setter call or its free. Like the setters, not to be
/// called while another thread changes the same query.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_query_last_error(query: *const storetasks_query) -> *const c_char {
    super::last_error(query)
}

/// Adds an image id (copied). Any number may be added: more than 20 are sent as several
/// requests. INVALID_ARGUMENT for NULL, invalid UTF-8 or an empty id
/// (`storetasks_query_last_error` says which).
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_query_add_image_id(query: *mut storetasks_query, image_id: *const c_char) -> storetasks_status {
    edit(query, |q| {
        let id = str_arg(image_id, "image id")?;
        if id.trim().is_empty() {
            return Err(Error::invalid("the image id is empty"));
        }
        q.image_ids.push(id.to_owned());
        Ok(())
    })
}

/// Adds a filter: `name` ("task-state" or "bucket"; other names are sent as they are, for EC2 to
/// judge) and `values_len` values, any of which may match. All strings are copied; `values` may
/// be NULL only when `values_len` is 0.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_query_add_filter(
    query: *mut storetasks_query,
    name: *const c_char,
    values: *const *const c_char,
    values_len: usize,
) -> storetasks_status {
    edit(query, |q| {
        let name = str_arg(name, "filter name")?;
        if name.trim().is_empty() {
            return Err(Error::invalid("the filter name is empty"));
        }
        let values = str_array(values, values_len, "filter value")?;
        q.filters.push(Filter { name: name.to_owned(), values });
        Ok(())
    })
}

/// Sets the page size. EC2 accepts 1 to 200, and not together with image ids; a call with a
/// value outside that range fails with INVALID_ARGUMENT before sending anything. 0 removes it.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_query_set_max_results(query: *mut storetasks_query, max_results: i32) -> storetasks_status {
    store(query, || Ok((max_results != 0).then_some(max_results)), |q| &mut q.inner.max_results)
}

/// Sets the token to resume from (copied); NULL removes it.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_query_set_next_token(query: *mut storetasks_query, next_token: *const c_char) -> storetasks_status {
    store(query, || opt_string_arg(next_token, "next token"), |q| &mut q.inner.next_token)
}

/// Only checks permissions: a call answers `STORETASKS_STATUS_DRY_RUN_OK` when it would have succeeded.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_query_set_dry_run(query: *mut storetasks_query, dry_run: bool) -> storetasks_status {
    store(query, || Ok(dry_run), |q| &mut q.inner.dry_run)
}
