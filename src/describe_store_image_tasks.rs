//! Everything that belongs to the one EC2 operation the library calls, DescribeStoreImageTasks:
//! what a request asks ([`query`]), what a reply holds ([`task`]), how a successful reply is read
//! ([`reader`]) and plugged into the SDK in place of its own deserializer ([`sdk_hook`]), and how
//! pages follow one another ([`paginate`]).
//!
//! What is generic stands outside: the client and its settings (`client`, `transport`), places
//! and roles (`places`), errors, cancellation and logs. A second operation would get a module of
//! its own beside this one; `docs/ARCHITECTURE.md` lists what a new C function touches.

pub mod paginate;
pub mod query;
pub mod reader;
pub mod sdk_hook;
pub mod task;
