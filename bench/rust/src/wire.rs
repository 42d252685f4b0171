//! The wire of the benchmark programs that speak HTTP themselves: each DescribeStoreImageTasks
//! request signed with aws-sigv4 and sent over one kept-alive blocking TCP connection, each reply
//! read whole.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::common::{ACCESS_KEY, PAGE_SIZE, REGION, SECRET_KEY};

const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

pub struct Connection {
    host: String,
    url: String,
    identity: Identity,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    pub fn open(endpoint: &str) -> Connection {
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
    pub fn post(&mut self, body: &str) -> Vec<u8> {
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
pub fn form_encode(value: &str) -> String {
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

pub fn between<'a>(haystack: &'a [u8], open: &[u8], close: &[u8]) -> Option<&'a [u8]> {
    let start = haystack.windows(open.len()).position(|w| w == open)? + open.len();
    let len = haystack[start..].windows(close.len()).position(|w| w == close)?;
    Some(&haystack[start..start + len])
}

/// The body of the request for one page of a listing, from `token` (none: the first page).
pub fn page_request(token: Option<&str>) -> String {
    let mut body = format!("Action=DescribeStoreImageTasks&Version=2016-11-15&MaxResults={PAGE_SIZE}");
    if let Some(t) = token {
        body.push_str("&NextToken=");
        body.push_str(&form_encode(t));
    }
    body
}

/// The `nextToken` of a reply, looked for as bytes.
pub fn next_token(reply: &[u8]) -> Option<String> {
    between(reply, b"<nextToken>", b"</nextToken>").map(|t| String::from_utf8(t.to_vec()).expect("a UTF-8 token"))
}
