//! libstoretasks: the progress of Amazon EC2 AMI store-to-S3 tasks (DescribeStoreImageTasks),
//! for native code.
//!
//! The Rust core (`client`, `query`, `paginate`, `task`, `error`, `cancel`) knows nothing of C;
//! the C surface lives in `ffi` and is what `include/storetasks.h` declares.

pub mod cancel;
pub mod client;
pub mod error;
pub mod ffi;
pub mod paginate;
pub mod query;
mod reply;
pub mod task;

pub use cancel::CancelToken;
pub use client::{Client, ClientConfig, RetryMode, StaticCredentials};
pub use error::{Error, ErrorKind, Result};
pub use query::{Filter, Query};
pub use task::{Task, TaskPage, TaskState};
