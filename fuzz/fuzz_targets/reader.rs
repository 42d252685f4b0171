//! The reply reader on arbitrary bytes: it must return, never panic, and what it accepts must be
//! a document whose element structure is sound (the older well-formedness scan agrees), holding
//! no more tasks than it has `item` start tags, each string of them taken from the body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use storetasks::describe_store_image_tasks::reader::read_reply;
use storetasks::describe_store_image_tasks::sdk_hook::check::xml_problem;

fuzz_target!(|data: &[u8]| {
    let Ok(reply) = read_reply(data) else { return };
    assert_eq!(xml_problem(data), None, "the reader accepted a document the scan refuses");
    let body = String::from_utf8_lossy(data);
    let items = body.matches("item").count();
    let tasks = reply.tasks();
    assert!(tasks.len() <= items, "{} tasks from {items} mentions of item", tasks.len());
    for t in tasks.iter() {
        for s in [t.ami_id, t.bucket, t.s3_object_key, t.state, t.failure_reason].into_iter().flatten() {
            assert!(!s.contains('\0'), "a string with a NUL: {s:?}");
            // Text without markup characters or references must appear in the body as it is.
            if !s.contains(['<', '>', '&', '"', '\'', '\u{fffd}']) && !s.is_empty() {
                assert!(body.contains(s), "{s:?} is not in the body");
            }
        }
    }
});
