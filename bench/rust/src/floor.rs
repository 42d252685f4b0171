//! The floor: the HTTP exchanges of a listing and nothing else. Each DescribeStoreImageTasks
//! request is signed with aws-sigv4 and sent over one kept-alive TCP connection; each reply is
//! read whole, and the only thing looked at in it is the text between `<nextToken>` and
//! `</nextToken>`. No XML parsing, no retries, no runtime: a blocking socket.

mod common;
mod wire;

use common::{Args, measure};
use wire::{Connection, next_token, page_request};

fn main() {
    let args = Args::parse("storetasks-bench-floor");
    let mut conn = Connection::open(&args.endpoint);
    let task_tag = b"<amiId>";
    measure(&args, || {
        let mut token: Option<String> = None;
        let mut tasks = 0;
        loop {
            let reply = conn.post(&page_request(token.as_deref()));
            // Counting tasks checks that the floor did the same work; it is a byte search.
            tasks += reply.windows(task_tag.len()).filter(|w| w == task_tag).count();
            match next_token(&reply) {
                Some(t) => token = Some(t),
                None => return tasks,
            }
        }
    });
}
