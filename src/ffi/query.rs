//! The query builder.

use std::ffi::c_char;

use super::{boundary, boundary_or, mut_arg, opt_str_arg, storetasks_status, str_arg, take_and_drop};
use crate::error::Error;
use crate::query::{Filter, Query};

/// The parameters of a DescribeStoreImageTasks call. Opaque; create with `storetasks_query_new`,
/// free with `storetasks_query_free`. Not safe to change from two threads at once; once built it
/// may be used by many calls on many threads at the same time.
pub struct storetasks_query {
    pub(crate) inner: Query,
}

/// A new, empty query: every task of the last 31 days, newest first.
///
/// The caller owns it and frees it with `storetasks_query_free`. NULL only if memory ran out.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_query_new() -> *mut storetasks_query {
    boundary_or(std::ptr::null_mut(), || Box::into_raw(Box::new(storetasks_query { inner: Query::default() })))
}

/// Frees a query. NULL is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_query_free(query: *mut storetasks_query) {
    take_and_drop(query);
}

fn edit(query: *mut storetasks_query, f: impl FnOnce(&mut Query) -> Result<(), Error>) -> storetasks_status {
    boundary(std::ptr::null_mut(), || f(&mut mut_arg(query, "query")?.inner))
}

/// Adds an image id (copied). Any number may be added: more than 20 are sent as several
/// requests. INVALID_ARGUMENT for NULL, invalid UTF-8 or an empty id.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_query_add_image_id(query: *mut storetasks_query, image_id: *const c_char) -> storetasks_status {
    edit(query, |q| {
        let id = str_arg(image_id, "image id")?;
        if id.trim().is_empty() {
            return Err(Error::invalid("image id is empty"));
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
            return Err(Error::invalid("filter name is empty"));
        }
        if values.is_null() && values_len > 0 {
            return Err(Error::invalid("filter values is NULL but values_len is not 0"));
        }
        let mut vals = Vec::with_capacity(values_len);
        for i in 0..values_len {
            let p = unsafe { *values.add(i) };
            vals.push(str_arg(p, &format!("filter value #{}", i + 1))?.to_owned());
        }
        q.filters.push(Filter { name: name.to_owned(), values: vals });
        Ok(())
    })
}

/// Sets the page size. EC2 accepts 1 to 200, and not together with image ids; a call with a
/// value outside that range fails with INVALID_ARGUMENT before sending anything. 0 removes it.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_query_set_max_results(query: *mut storetasks_query, max_results: i32) -> storetasks_status {
    edit(query, |q| Ok(q.max_results = (max_results != 0).then_some(max_results)))
}

/// Sets the token to resume from (copied); NULL removes it.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_query_set_next_token(query: *mut storetasks_query, next_token: *const c_char) -> storetasks_status {
    edit(query, |q| Ok(q.next_token = opt_str_arg(next_token, "next token")?.map(str::to_owned)))
}

/// Only checks permissions: a call answers `STORETASKS_STATUS_DRY_RUN_OK` when it would have succeeded.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_query_set_dry_run(query: *mut storetasks_query, dry_run: bool) -> storetasks_status {
    edit(query, |q| Ok(q.dry_run = dry_run))
}
