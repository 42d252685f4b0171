//! Arbitrary HTTP statuses, headers and bodies handed to the client as the service's reply (no
//! socket: the SDK's in-memory HTTP client answers), through every call that reads a reply. The
//! library must return a status, never crash, and never hand out a task it did not read.

#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use aws_smithy_types::body::SdkBody;
use libfuzzer_sys::fuzz_target;
use storetasks::{Client, ClientConfig, Query, StaticCredentials};

/// The body comes last so that it takes the rest of the input: a seed is four bytes (status,
/// content-type flag, call) followed by a reply body as EC2 would send it.
#[derive(Arbitrary, Debug)]
struct Reply {
    status: u16,
    xml_content_type: bool,
    call: u8,
    body: Vec<u8>,
}

static REPLY: OnceLock<std::sync::Mutex<(u16, bool, Vec<u8>)>> = OnceLock::new();

fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let http = aws_smithy_http_client::test_util::infallible_client_fn(|_req| {
            let (status, xml, body) = REPLY.get().expect("set before use").lock().unwrap().clone();
            let mut b = http::Response::builder().status(status);
            if xml {
                b = b.header("content-type", "text/xml;charset=UTF-8");
            }
            b.header("x-amzn-requestid", "fuzz-request").body(SdkBody::from(body)).unwrap()
        });
        let config = ClientConfig {
            region: Some("us-east-1".into()),
            endpoint_url: Some("http://127.0.0.1:9".into()),
            credentials: Some(StaticCredentials {
                access_key_id: "AKIAFUZZ".into(),
                secret_access_key: "fuzz-secret-key-0000".into(),
                session_token: None,
            }),
            max_attempts: Some(1),
            ..ClientConfig::default()
        };
        Client::with_http_client(config, http).expect("client")
    })
}

fuzz_target!(|r: Reply| {
    let status = if (100..=599).contains(&r.status) { r.status } else { 200 + r.status % 400 };
    *REPLY.get_or_init(Default::default).lock().unwrap() = (status, r.xml_content_type, r.body);
    let c = client();
    let q = Query { max_results: Some(50), ..Query::default() };
    let result = match r.call % 3 {
        0 => c.describe_page(&q, None).map(|p| p.tasks.len()),
        // A reply that keeps its token would loop; the cap and the repeat check end it.
        1 => c.describe_all(&q, Some(500), None).map(|p| p.tasks.len()),
        _ => {
            let ids = ["ami-1".to_owned()];
            let opts = storetasks::WaitOptions {
                min_delay: std::time::Duration::from_micros(1),
                max_delay: std::time::Duration::from_micros(1),
                timeout: Some(std::time::Duration::from_millis(2)),
                not_found_grace: std::time::Duration::ZERO,
            };
            c.wait(&ids, &opts, None, |_| true).map(|t| t.len())
        }
    };
    if let Err(e) = result {
        assert!(!e.message.contains("fuzz-secret-key-0000"));
    }
});
