//! One error taxonomy for the whole library.
//!
//! Every failure the library reports is an [`Error`] with an [`ErrorKind`]. The kinds are
//! stable: the C surface maps each to a status with a fixed number.

use std::fmt;

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::operation::RequestId;

/// What went wrong, in terms a caller can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// EC2 answered `DryRunOperation`: the request would have succeeded.
    DryRunOk,
    /// A bad argument, found before any request was sent.
    InvalidArgument,
    /// The credentials were refused or are not allowed to make this call.
    Unauthorized,
    /// The service kept throttling after every retry.
    Throttled,
    /// A connect, attempt or operation timeout expired.
    Timeout,
    /// The connection failed or was dropped.
    Network,
    /// Any other error code from the service.
    Service,
    /// A reply the library could not understand.
    Response,
    /// The caller cancelled the call.
    Cancelled,
    /// A panic inside the library was caught at its boundary.
    Panic,
    /// The client could not be configured (bad region, unreadable CA bundle, no runtime...).
    Config,
    /// No credentials could be found or loaded.
    Credentials,
    /// A waited-for store task failed.
    TaskFailed,
    /// A wait's deadline passed before every task completed.
    WaitTimeout,
    /// A waited-for image had no store task for longer than the grace period.
    NotFound,
}

/// A failure with everything known about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// The AWS error code (`RequestLimitExceeded`, `DryRunOperation`...), when the service sent one.
    pub code: Option<String>,
    /// The HTTP status of the reply that carried the error, when there was a reply.
    pub http_status: Option<u16>,
    /// The request id of the reply, when the service sent one.
    pub request_id: Option<String>,
    /// The AMI a wait ended on (failed or not found).
    pub ami_id: Option<String>,
    /// The failure reason of a failed store task.
    pub failure_reason: Option<String>,
}

impl Error {
    /// The error of a panic caught inside the library, with the panic's message.
    pub(crate) fn from_panic(payload: &(dyn std::any::Any + Send)) -> Error {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        Error::new(ErrorKind::Panic, format!("a panic was caught inside the library: {what}"))
    }

    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            code: None,
            http_status: None,
            request_id: None,
            ami_id: None,
            failure_reason: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub fn cancelled() -> Self {
        Error::new(ErrorKind::Cancelled, "the call was cancelled")
    }

    /// Replaces every occurrence of `secret` in the text fields with `***`.
    pub fn redact(mut self, secret: &str) -> Self {
        if secret.len() >= 4 {
            let scrub = |s: &mut String| {
                if s.contains(secret) {
                    *s = s.replace(secret, "***");
                }
            };
            scrub(&mut self.message);
            for field in [&mut self.code, &mut self.request_id, &mut self.ami_id, &mut self.failure_reason] {
                if let Some(s) = field.as_mut() {
                    scrub(s);
                }
            }
        }
        self
    }

    /// Classifies an SDK error.
    ///
    /// `endpoint` names where the request went (`127.0.0.1:8080`, `the EC2 endpoint of
    /// eu-west-1`) for messages about failed connections, which say in one sentence what failed
    /// and where; the SDK's whole chain of causes goes to the debug log.
    pub fn from_sdk<E>(err: SdkError<E, aws_smithy_runtime_api::http::Response>, endpoint: &str) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let http_status = err.raw_response().map(|r| r.status().as_u16());
        let request_id = err
            .request_id()
            .map(str::to_owned)
            .or_else(|| err.raw_response().and_then(|r| r.headers().get("x-amzn-requestid")).map(str::to_owned));
        let detail = aws_sdk_ec2::error::DisplayErrorContext(&err).to_string();
        tracing::debug!(endpoint, "the SDK reported: {detail}");
        let cause = root_cause(&err);
        let mut out = match &err {
            SdkError::ServiceError(se) => service_error(&err, se.err(), http_status, endpoint),
            SdkError::TimeoutError(_) => Error::new(ErrorKind::Timeout, format!("the request to {endpoint} timed out: {cause}")),
            SdkError::DispatchFailure(df) => dispatch_failure(&err, df, &detail, &cause, endpoint),
            SdkError::ResponseError(_) => {
                Error::new(ErrorKind::Response, format!("the reply from {endpoint} could not be read: {cause}"))
            }
            SdkError::ConstructionFailure(_) => {
                if looks_like_credentials(&detail) {
                    Error::new(ErrorKind::Credentials, format!("no usable credentials: {cause}"))
                } else {
                    Error::new(ErrorKind::Config, format!("the request could not be built: {cause}"))
                }
            }
            _ => Error::new(ErrorKind::Network, format!("the request to {endpoint} failed: {cause}")),
        };
        if out.http_status.is_none() {
            out.http_status = http_status;
        }
        if request_id.is_some() || out.request_id.is_none() {
            out.request_id = request_id;
        }
        out
    }
}

/// An error the service answered (or an error status with a body that is no EC2 error document).
fn service_error<E>(
    err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
    se: &E,
    http_status: Option<u16>,
    endpoint: &str,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = se.code().map(str::to_owned);
    let message = se.message().map(str::to_owned);
    let foreign = err.raw_response().filter(|r| code.is_none() && !r.status().is_success());
    let kind = match (code.as_deref(), foreign.map(|r| r.status().as_u16())) {
        (Some(c), _) => kind_for_code(c),
        // An error status with a body that is no EC2 error document: a load balancer's or a
        // proxy's page. A gateway's 502, 503 or 504 means the way to EC2 failed.
        (None, Some(502..=504)) => ErrorKind::Network,
        (None, Some(_)) => ErrorKind::Service,
        // A success status with a body the SDK could not read.
        (None, None) => ErrorKind::Response,
    };
    let message = match (&message, &code) {
        (Some(m), _) => m.clone(),
        (None, Some(c)) => format!("the service answered {c}"),
        (None, None) => match (read_error(err), foreign, err.raw_response()) {
            (_, Some(raw), _) => foreign_reply(raw, endpoint),
            (Some(why), _, _) => format!("the reply from {endpoint} could not be read: {why}"),
            (None, None, Some(raw)) => {
                format!("the reply from {endpoint} (HTTP {}) could not be read as an EC2 reply", raw.status().as_u16())
            }
            (None, None, None) => format!("the reply from {endpoint} could not be read"),
        },
    };
    let mut e = Error::new(kind, message);
    e.code = code;
    e.http_status = http_status;
    e
}

/// A request that could not be sent or got no answer: a timeout, refused credentials, a bad
/// setting, or a connection that failed.
fn dispatch_failure<E>(
    err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
    df: &aws_smithy_runtime_api::client::result::DispatchFailure,
    detail: &str,
    cause: &str,
    endpoint: &str,
) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    if df.is_timeout() {
        Error::new(ErrorKind::Timeout, format!("the request to {endpoint} timed out: {cause}"))
    } else if let Some(meta) = service_answer(err) {
        // A credentials provider that asked a service (STS for an assumed role) and was
        // refused: say what the service answered, with its code.
        let code = meta.code().unwrap_or("an error");
        let said = meta.message().map(|m| format!(": {m}")).unwrap_or_default();
        let mut e =
            Error::new(ErrorKind::Credentials, format!("no usable credentials: the credentials service answered {code}{said}"));
        e.code = meta.code().map(str::to_owned);
        e.request_id = meta.extra("aws_request_id").map(str::to_owned);
        e
    } else if looks_like_credentials(detail) {
        Error::new(ErrorKind::Credentials, format!("no usable credentials: {cause}"))
    } else if df.is_user() {
        Error::new(ErrorKind::Config, format!("the request to {endpoint} could not be sent: {cause}"))
    } else if failed_to_connect(err) {
        Error::new(ErrorKind::Network, format!("could not connect to {endpoint}: {cause}"))
    } else {
        Error::new(ErrorKind::Network, format!("the connection to {endpoint} failed: {cause}"))
    }
}

/// Longest excerpt of a foreign reply's text that a message quotes.
const EXCERPT_CHARS: usize = 120;

/// One sentence about a reply that is not EC2's: its status line, who sent it, its content type
/// and the start of its text with the markup removed.
fn foreign_reply(raw: &aws_smithy_runtime_api::http::Response, endpoint: &str) -> String {
    let status = raw.status().as_u16();
    let reason = match status {
        400 => " Bad Request",
        401 => " Unauthorized",
        403 => " Forbidden",
        404 => " Not Found",
        405 => " Method Not Allowed",
        407 => " Proxy Authentication Required",
        408 => " Request Timeout",
        413 => " Payload Too Large",
        429 => " Too Many Requests",
        500 => " Internal Server Error",
        501 => " Not Implemented",
        502 => " Bad Gateway",
        503 => " Service Unavailable",
        504 => " Gateway Timeout",
        _ => "",
    };
    let content_type =
        raw.headers().get("content-type").map(|c| c.split(';').next().unwrap_or(c).trim()).filter(|c| !c.is_empty());
    let text = raw.body().bytes().map(|b| plain_text(&String::from_utf8_lossy(&b[..b.len().min(1 << 16)]))).unwrap_or_default();
    let what = match (content_type, text.is_empty()) {
        (_, true) if raw.body().bytes().is_some_and(<[u8]>::is_empty) => "an empty body".to_owned(),
        (Some(c), true) => format!("a {c} body"),
        (None, true) => "a body".to_owned(),
        (Some(c), false) => format!("{c}: \"{text}\""),
        (None, false) => format!("\"{text}\""),
    };
    format!("{endpoint} answered HTTP {status}{reason} instead of an EC2 reply, with {what}")
}

fn find_ignoring_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack.as_bytes().windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The text of an HTML, XML or plain body on one line: the head (when the rest says something),
/// tags, scripts and styles removed, common entities decoded, white space collapsed, cut at
/// [`EXCERPT_CHARS`] characters.
fn plain_text(body: &str) -> String {
    if let (Some(start), Some(end)) = (find_ignoring_case(body, "<head"), find_ignoring_case(body, "</head>"))
        && start < end
    {
        let text = text_of(&format!("{}{}", &body[..start], &body[end + "</head>".len()..]));
        if !text.is_empty() {
            return text;
        }
    }
    text_of(body)
}

fn text_of(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while !rest.is_empty() && out.chars().count() <= EXCERPT_CHARS {
        match rest.find('<') {
            Some(0) => {
                let lower = rest.get(..8).unwrap_or(rest).to_ascii_lowercase();
                let skip_to = if lower.starts_with("<script") {
                    "</script>"
                } else if lower.starts_with("<style") {
                    "</style>"
                } else if lower.starts_with("<!--") {
                    "-->"
                } else {
                    ">"
                };
                rest = match find_ignoring_case(rest, skip_to) {
                    Some(i) => &rest[i + skip_to.len()..],
                    None => "",
                };
                out.push(' ');
            }
            Some(i) => {
                out.push_str(&rest[..i]);
                rest = &rest[i..];
            }
            None => {
                out.push_str(rest);
                rest = "";
            }
        }
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let words: Vec<&str> = decoded.split_whitespace().collect();
    let line = words.join(" ");
    if line.chars().count() > EXCERPT_CHARS {
        let cut: String = line.chars().take(EXCERPT_CHARS).collect();
        format!("{}...", cut.trim_end())
    } else {
        line
    }
}

/// The innermost cause of an error, as a short phrase: an I/O error's kind in plain words where
/// it has one ("connection refused"), else the innermost message.
/// The library's reader's own account of a reply it refused, when that is what failed.
fn read_error(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(r) = e.downcast_ref::<crate::describe_store_image_tasks::reader::ReadError>() {
            return Some(r.to_string());
        }
        next = e.source();
    }
    None
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost: &(dyn std::error::Error + 'static) = err;
    let mut io_kind = None;
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        innermost = e;
        next = e.source();
    }
    use std::io::ErrorKind as Io;
    let phrase = match io_kind {
        Some(Io::ConnectionRefused) => Some("connection refused"),
        Some(Io::ConnectionReset) => Some("the connection was reset"),
        Some(Io::ConnectionAborted) => Some("the connection was aborted"),
        Some(Io::NotConnected) | Some(Io::BrokenPipe) => Some("the connection was closed"),
        Some(Io::AddrNotAvailable) => Some("the address is not available"),
        Some(Io::HostUnreachable) => Some("the host is unreachable"),
        Some(Io::NetworkUnreachable) => Some("the network is unreachable"),
        Some(Io::TimedOut) => Some("timed out"),
        Some(Io::UnexpectedEof) => Some("the connection closed before the reply was complete"),
        _ => None,
    };
    match phrase {
        Some(p) => p.to_owned(),
        None => {
            let text = innermost.to_string();
            // rustls's refusal of the server's certificate, in words.
            if let Some(why) = text.strip_prefix("invalid peer certificate: ") {
                let said = match why {
                    "UnknownIssuer" => "its issuer is not trusted",
                    "Expired" => "it has expired",
                    "NotValidYet" => "it is not valid yet",
                    "BadSignature" => "its signature is wrong",
                    "Revoked" => "it was revoked",
                    w if w.starts_with("NotValidForName") => "it is not valid for this host name",
                    _ => why,
                };
                return format!(
                    "the server's certificate was refused ({said}); a CA bundle that holds its issuer can be given (AWS_CA_BUNDLE, the CA bundle setting or ca_bundle in the profile)"
                );
            }
            // A proxy's answer to CONNECT (hyper's tunnel errors).
            match text.strip_prefix("tunnel error: ") {
                Some("proxy authorization required") => {
                    return "the proxy refused the tunnel with HTTP 407 (proxy credentials missing or wrong)".to_owned();
                }
                Some("unsuccessful") => return "the proxy refused to open a tunnel".to_owned(),
                Some(other) => return format!("the tunnel through the proxy failed: {other}"),
                None => {}
            }
            let text = text.trim().trim_end_matches('.');
            if text.is_empty() { "no reason given".to_owned() } else { text.to_owned() }
        }
    }
}

/// The error document of a service that a step before the request asked and that refused (STS
/// refusing to let a role be assumed), found among the causes of `err`.
fn service_answer<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a aws_smithy_types::error::ErrorMetadata> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(meta) = e.downcast_ref::<aws_smithy_types::error::ErrorMetadata>()
            && meta.code().is_some()
        {
            return Some(meta);
        }
        next = e.source();
    }
    None
}

/// Whether a dispatch failure happened while connecting (before a request could be sent).
fn failed_to_connect(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as Io;
            if matches!(io.kind(), Io::ConnectionRefused | Io::AddrNotAvailable | Io::HostUnreachable | Io::NetworkUnreachable) {
                return true;
            }
        }
        let text = e.to_string();
        if text.contains("connect error") || text.contains("dns error") || text.contains("failed to lookup address") {
            return true;
        }
        next = e.source();
    }
    false
}

/// Whether a failure to send came from resolving credentials (the SDK reports those as dispatch
/// or construction failures, with no kind of their own).
fn looks_like_credentials(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    d.contains("credential") || d.contains("identity")
}

/// Maps an AWS error code to a kind. Codes not listed here are `Service` errors.
pub fn kind_for_code(code: &str) -> ErrorKind {
    match code {
        "DryRunOperation" => ErrorKind::DryRunOk,
        "UnauthorizedOperation"
        | "AuthFailure"
        | "UnauthorizedAccess"
        | "AccessDenied"
        | "AccessDeniedException"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "RequestExpired"
        | "OptInRequired"
        | "Blocked" => ErrorKind::Unauthorized,
        "RequestLimitExceeded"
        | "Throttling"
        | "ThrottlingException"
        | "ThrottledException"
        | "TooManyRequestsException"
        | "SlowDown"
        | "RequestThrottled"
        | "RequestThrottledException"
        | "PriorRequestNotComplete" => ErrorKind::Throttled,
        _ => ErrorKind::Service,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(c) => write!(f, "{}: {}", c, self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_bodies_are_quoted_as_one_line_of_text() {
        let html = "<!doctype html>\n<html><head><title>500 Internal Server Error</title><style>p {color: red}</style></head>\n<body><h1>Internal Server Error</h1><script>x()</script><p>The server &amp; its &lt;friends&gt; failed.</p></body></html>";
        assert_eq!(plain_text(html), "Internal Server Error The server & its <friends> failed.");
        assert_eq!(plain_text("<html><head><title>Gone</title></head><body></body></html>"), "Gone");
        let long = "word ".repeat(100);
        let cut = plain_text(&long);
        assert!(cut.ends_with("...") && cut.chars().count() <= EXCERPT_CHARS + 3, "{cut}");
        assert_eq!(plain_text("{\"message\": \"no\"}"), "{\"message\": \"no\"}");
        assert_eq!(plain_text(""), "");
    }

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(kind_for_code("DryRunOperation"), ErrorKind::DryRunOk);
        assert_eq!(kind_for_code("UnauthorizedOperation"), ErrorKind::Unauthorized);
        assert_eq!(kind_for_code("RequestLimitExceeded"), ErrorKind::Throttled);
        assert_eq!(kind_for_code("InvalidParameterValue"), ErrorKind::Service);
    }

    #[test]
    fn redact_scrubs_every_field() {
        let mut e = Error::new(ErrorKind::Service, "bad key SECRETKEY here");
        e.code = Some("XSECRETKEY".into());
        e.request_id = Some("SECRETKEY".into());
        e.ami_id = Some("ami-SECRETKEY".into());
        e.failure_reason = Some("reason SECRETKEY".into());
        let e = e.redact("SECRETKEY");
        assert_eq!(e.message, "bad key *** here");
        assert_eq!(e.code.as_deref(), Some("X***"));
        assert_eq!(e.request_id.as_deref(), Some("***"));
        assert_eq!(e.ami_id.as_deref(), Some("ami-***"));
        assert_eq!(e.failure_reason.as_deref(), Some("reason ***"));
    }
}
