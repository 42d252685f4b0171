//! The floor: the HTTP exchanges of a listing and nothing else. Each DescribeStoreImageTasks
//! request is signed with aws-sigv4 and sent over one kept-alive TCP connection; each reply is
//! read whole, and the only thing looked at in it is the text between `<nextToken>` and
//! `</nextToken>`. No XML parsing, no retries, no runtime: a blocking socket.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use common::{ACCESS_KEY, Args, PAGE_SIZE, REGION, SECRET_KEY, measure};

const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

struct Connection {
    host: String,
    url: String,
    identity: Identity,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    fn open(endpoint: &str) -> Connection {
        let host = endpoint
            .strip_prefix("http://")
            .expect("the floor speaks plain HTTP: the endpoint must start with http://")
            .trim_end_matches('/')
            .to_owned();
        let stream = TcpStream::connect(&host).expect("connect");
        stream.set_nodelay(true).unwrap();
        Connection {
            url: format!("http://{host}/"),
            host,
            identity: Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "bench").into(),
            reader: BufReader::with_capacity(64 * 1024, stream.try_clone().unwrap()),
            writer: stream,
        }
    }

    /// One signed POST; returns the reply's body.
    fn post(&mut self, body: &str) -> Vec<u8> {
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(REGION)
            .name("ec2")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let headers = [("host", self.host.as_str()), ("content-type", CONTENT_TYPE)];
        let signable =
            SignableRequest::new("POST", &self.url, headers.into_iter(), SignableBody::Bytes(body.as_bytes())).unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let mut request = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        for (name, value) in instructions.headers() {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        self.writer.write_all(request.as_bytes()).expect("send");
        self.read_reply()
    }

    fn read_reply(&mut self) -> Vec<u8> {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read the status line");
        if !line.starts_with("HTTP/1.1 200") {
            panic!("unexpected reply: {}", line.trim_end());
        }
        let mut length = None;
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("read a header");
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = Some(value.trim().parse::<usize>().expect("Content-Length"));
            }
        }
        let mut body = vec![0; length.expect("a reply without Content-Length")];
        self.reader.read_exact(&mut body).expect("read the body");
        body
    }
}

/// Percent-encodes a form value (tokens are base64: `+`, `/` and `=` need it).
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn between<'a>(haystack: &'a [u8], open: &[u8], close: &[u8]) -> Option<&'a [u8]> {
    let start = haystack.windows(open.len()).position(|w| w == open)? + open.len();
    let len = haystack[start..].windows(close.len()).position(|w| w == close)?;
    Some(&haystack[start..start + len])
}

fn main() {
    let args = Args::parse("storetasks-bench-floor");
    let mut conn = Connection::open(&args.endpoint);
    let task_tag = b"<amiId>";
    measure(&args, || {
        let mut token: Option<String> = None;
        let mut tasks = 0;
        loop {
            let mut body = format!("Action=DescribeStoreImageTasks&Version=2016-11-15&MaxResults={PAGE_SIZE}");
            if let Some(t) = &token {
                body.push_str("&NextToken=");
                body.push_str(&form_encode(t));
            }
            let reply = conn.post(&body);
            // Counting tasks checks that the floor did the same work; it is a byte search.
            tasks += reply.windows(task_tag.len()).filter(|w| w == task_tag).count();
            match between(&reply, b"<nextToken>", b"</nextToken>") {
                Some(t) => token = Some(String::from_utf8(t.to_vec()).unwrap()),
                None => return tasks,
            }
        }
    });
}
