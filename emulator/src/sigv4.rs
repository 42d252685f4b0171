//! AWS Signature Version 4 verification of a received request (Authorization header form).
//!
//! The canonical request is rebuilt from what arrived on the wire: method, path, query string,
//! the headers named in `SignedHeaders`, and the SHA-256 of the body.

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// RFC 3986 unreserved characters stay; everything else is percent-encoded.
const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

#[derive(Debug, PartialEq, Eq)]
pub enum AuthError {
    /// No Authorization header.
    Missing,
    /// Present but not parseable, or a required part is absent or inconsistent.
    Malformed(String),
    /// The credential scope names another service or a region this endpoint does not serve.
    Scope,
    /// The access key is not known.
    UnknownKey,
    /// The signature does not match.
    Mismatch,
}

pub struct Received<'a> {
    pub method: &'a str,
    /// The path as received (still percent-encoded).
    pub path: &'a str,
    /// The raw query string as received, without `?`.
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// The parts of an `Authorization` header, as claimed by the request (nothing checked yet).
#[derive(Debug, Clone)]
pub struct AuthHeader {
    pub access_key: String,
    date: String,
    pub region: String,
    pub service: String,
    terminator: String,
    signed_headers: Vec<String>,
    signature: String,
}

/// What a verified signature establishes.
#[derive(Debug)]
pub struct Verified {
    pub access_key: String,
    pub region: String,
    /// The `x-amz-security-token` header, when it is among the signed headers.
    pub session_token: Option<String>,
}

/// Reads the request's `Authorization` header without checking it.
pub fn claimed(headers: &HeaderMap) -> Result<AuthHeader, AuthError> {
    parse_authorization(header_str(headers, "authorization").ok_or(AuthError::Missing)?)
}

fn parse_authorization(value: &str) -> Result<AuthHeader, AuthError> {
    let bad = |why: &str| AuthError::Malformed(why.to_owned());
    let rest = value.strip_prefix(ALGORITHM).ok_or_else(|| bad("unsupported signing algorithm"))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        let (k, v) = part.split_once('=').ok_or_else(|| bad("authorization part without '='"))?;
        match k.trim() {
            "Credential" => credential = Some(v.trim()),
            "SignedHeaders" => signed = Some(v.trim()),
            "Signature" => signature = Some(v.trim()),
            _ => return Err(bad("unknown authorization part")),
        }
    }
    let credential = credential.ok_or_else(|| bad("no Credential"))?;
    let signed = signed.ok_or_else(|| bad("no SignedHeaders"))?;
    let signature = signature.ok_or_else(|| bad("no Signature"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, terminator] = scope[..] else {
        return Err(bad("Credential is not AK/date/region/service/aws4_request"));
    };
    Ok(AuthHeader {
        access_key: access_key.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        terminator: terminator.to_owned(),
        signed_headers: signed.split(';').map(str::to_owned).collect(),
        signature: signature.to_ascii_lowercase(),
    })
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, URI_ENCODE).to_string()
}

/// The canonical URI: each segment of the received (already encoded) path encoded again, as
/// SigV4 requires for every service but S3.
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    path.split('/').map(encode).collect::<Vec<_>>().join("/")
}

fn canonical_query(query: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let k = percent_decode_str(k).decode_utf8_lossy();
            let v = percent_decode_str(v).decode_utf8_lossy();
            (encode(&k), encode(&v))
        })
        .filter(|(k, _)| k != "X-Amz-Signature")
        .collect();
    pairs.sort();
    pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

fn canonical_header_value(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Verifies the request's signature, whose `Authorization` header `auth` is (see [`claimed`]).
/// The scope must name `service` and a region for which `region_ok` holds; `secret_for` maps an
/// access key to its secret.
pub fn verify(
    req: &Received<'_>,
    auth: &AuthHeader,
    service: &str,
    region_ok: impl Fn(&str) -> bool,
    secret_for: impl Fn(&str) -> Option<String>,
) -> Result<Verified, AuthError> {
    let amz_date = header_str(req.headers, "x-amz-date").ok_or_else(|| AuthError::Malformed("no x-amz-date header".into()))?;
    if amz_date.len() != 16 || !amz_date.ends_with('Z') || amz_date.get(..8) != Some(auth.date.as_str()) {
        return Err(AuthError::Malformed("x-amz-date does not match the credential scope".into()));
    }
    if auth.terminator != "aws4_request" {
        return Err(AuthError::Malformed("the credential scope does not end in aws4_request".into()));
    }
    if auth.service != service || !region_ok(&auth.region) {
        return Err(AuthError::Scope);
    }
    let signed_sorted = {
        let mut s = auth.signed_headers.clone();
        s.sort();
        s
    };
    if signed_sorted != auth.signed_headers
        || auth.signed_headers.iter().any(|h| h.is_empty() || *h != h.to_ascii_lowercase())
        || !auth.signed_headers.iter().any(|h| h == "host")
    {
        return Err(AuthError::Malformed("SignedHeaders must be sorted, lowercase and include host".into()));
    }
    let secret = secret_for(&auth.access_key).ok_or(AuthError::UnknownKey)?;

    let body_hash = sha256_hex(req.body);
    let payload_hash = match header_str(req.headers, "x-amz-content-sha256") {
        Some("UNSIGNED-PAYLOAD") => "UNSIGNED-PAYLOAD".to_owned(),
        Some(h) if h.eq_ignore_ascii_case(&body_hash) => h.to_ascii_lowercase(),
        Some(_) => return Err(AuthError::Mismatch),
        None => body_hash,
    };

    let mut canonical_headers = String::new();
    for name in &auth.signed_headers {
        let values: Vec<String> =
            req.headers.get_all(name.as_str()).iter().map(|v| canonical_header_value(v.as_bytes())).collect();
        if values.is_empty() {
            return Err(AuthError::Malformed(format!("signed header `{name}` is missing")));
        }
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }

    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        canonical_uri(req.path),
        canonical_query(req.query),
        canonical_headers,
        auth.signed_headers.join(";"),
        payload_hash
    );
    let scope = format!("{}/{}/{}/aws4_request", auth.date, auth.region, auth.service);
    let string_to_sign = format!("{ALGORITHM}\n{amz_date}\n{scope}\n{}", sha256_hex(canonical_request.as_bytes()));

    let k_date = hmac(format!("AWS4{secret}").as_bytes(), auth.date.as_bytes());
    let k_region = hmac(&k_date, auth.region.as_bytes());
    let k_service = hmac(&k_region, auth.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let expected = hex::encode(hmac(&k_signing, string_to_sign.as_bytes()));

    let same = expected.len() == auth.signature.len()
        && expected.bytes().zip(auth.signature.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if !same {
        return Err(AuthError::Mismatch);
    }
    let session_token = auth
        .signed_headers
        .iter()
        .any(|h| h == "x-amz-security-token")
        .then(|| header_str(req.headers, "x-amz-security-token").map(str::to_owned))
        .flatten();
    Ok(Verified { access_key: auth.access_key.clone(), region: auth.region.clone(), session_token })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_parts() {
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/a%20b/c"), "/a%2520b/c");
        assert_eq!(canonical_query(Some("b=2&a=x%20y&a=1")), "a=1&a=x%20y&b=2");
        assert_eq!(canonical_header_value(b"  a   b  c "), "a b c");
    }
}
