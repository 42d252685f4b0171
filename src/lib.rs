//! libstoretasks: the progress of Amazon EC2 AMI store-to-S3 tasks (DescribeStoreImageTasks),
//! for native code.
//!
//! The Rust core (`client`, `query`, `paginate`, `places`, `fleet`, `reader`, `reply`, `waiter`, `task`, `error`,
//! `cancel`, `log`, `transport`) knows nothing of C;
//! the C surface lives in `ffi` and is what `include/storetasks.h` declares.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![allow(
    clippy::result_large_err,
    reason = "`Error` carries the code, request id and wait details by value: it is built once per failed call and handed to C as is, so boxing it would only add an allocation on the error path"
)]

pub mod cancel;
pub mod client;
pub mod error;
pub mod ffi;
pub mod fleet;
pub mod log;
pub mod paginate;
pub mod places;
pub mod query;
pub mod reader;
pub mod reply;
pub mod task;
pub mod transport;
pub mod waiter;

pub use cancel::CancelToken;
pub use client::{Client, ClientConfig, RetryMode, StaticCredentials};
pub use error::{Error, ErrorKind, Result};
pub use fleet::{Fleet, Outcome};
pub use places::Place;
pub use query::{Filter, Query};
pub use task::{Task, TaskPage, TaskRef, TaskState, Tasks};
pub use waiter::{WaitOptions, WaitTarget};
