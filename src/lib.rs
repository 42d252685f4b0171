//! libstoretasks: the progress of Amazon EC2 AMI store-to-S3 tasks (DescribeStoreImageTasks),
//! for native code.
//!
//! The Rust core knows nothing of C. What is generic (`client`, `transport`, `places`, `error`,
//! `cancel`, `log`) stands apart from what belongs to DescribeStoreImageTasks
//! (`describe_store_image_tasks`: its query, task model, reply reader, SDK hook and paginator), on
//! which the two calls built over places stand (`fleet`, `waiter`). The C surface lives in `ffi`
//! and is what `include/storetasks.h` declares.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![allow(
    clippy::result_large_err,
    reason = "`Error` carries the code, request id and wait details by value: it is built once per failed call and handed to C as is, so boxing it would only add an allocation on the error path"
)]

pub mod call;
pub mod cancel;
pub mod client;
pub mod describe_store_image_tasks;
pub mod error;
pub mod ffi;
pub mod fleet;
pub mod log;
pub mod places;
pub mod transport;
pub mod waiter;

pub use cancel::CancelToken;
pub use client::{Client, ClientConfig, RetryMode, StaticCredentials};
pub use describe_store_image_tasks::query::{Filter, Query};
pub use describe_store_image_tasks::task::{Task, TaskPage, TaskRef, TaskState, Tasks};
pub use error::{Error, ErrorKind, Result};
pub use fleet::{Fleet, Outcome};
pub use places::Place;
pub use waiter::{WaitOptions, WaitTarget};
