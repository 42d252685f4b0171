//! The EC2 Query API: parameter parsing, validation, the actions, pagination tokens and faults
//! applied to API requests. Requests signed for the `sts` service go to [`crate::sts`].

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::accounts::Pair;
use crate::faults::{FaultKind, FaultSpec, Service, Target};
use crate::sigv4::{self, AuthHeader, Received};
use crate::state::{Emulator, Principal, PrincipalError};
use crate::store::{IN_PROGRESS, Position, Task, View};
use crate::{sts, xml};

pub const API_VERSION: &str = "2016-11-15";
pub const DESCRIBE: &str = "DescribeStoreImageTasks";
pub const CREATE: &str = "CreateStoreImageTask";
pub const DESCRIBE_REGIONS: &str = "DescribeRegions";
pub const MAX_IMAGE_IDS: usize = 20;
pub const MAX_RESULTS_RANGE: std::ops::RangeInclusive<usize> = 1..=200;

/// What the HTTP layer must do.
pub enum Reply {
    Xml {
        status: StatusCode,
        body: Vec<u8>,
    },
    /// An STS response (no `Server: AmazonEC2` header).
    StsXml {
        status: StatusCode,
        body: Vec<u8>,
    },
    /// A reply that is not EC2's (a load balancer's or a proxy's page).
    Foreign {
        status: StatusCode,
        content_type: &'static str,
        body: &'static str,
    },
    /// Close the connection without answering.
    Drop,
}

/// The port a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// The main port: EC2 and STS.
    Main,
    /// `--sts-port`: STS alone.
    Sts,
}

impl Listener {
    pub fn name(self) -> &'static str {
        match self {
            Listener::Main => "main",
            Listener::Sts => "sts",
        }
    }
}

/// What the `html` fault answers: a load balancer's error page.
const LOAD_BALANCER_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title>\n<style>body { font-family: sans-serif; }</style></head>\n<body><center><h1>500 Internal Server Error</h1></center>\n<hr><center>the load balancer in front of this endpoint</center>\n</body></html>\n";

/// An error a service answers: its HTTP status, code and message, in the vocabulary `V` of one
/// service (EC2's [`Ec2`] or STS's), which says which errors there are and how they are written.
#[derive(Debug)]
pub struct ServiceError<V> {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    vocabulary: std::marker::PhantomData<V>,
}

impl<V> ServiceError<V> {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ServiceError<V> {
        ServiceError { status, code, message: message.into(), vocabulary: std::marker::PhantomData }
    }
}

/// EC2's errors.
#[derive(Debug)]
pub enum Ec2 {}

pub type ApiError = ServiceError<Ec2>;

impl ApiError {
    fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    fn auth_failure() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "AuthFailure", "AWS was not able to validate the provided access credentials")
    }

    fn region_not_enabled(region: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AuthFailure",
            format!(
                "AWS was not able to validate the provided access credentials: the region {region} is not enabled for this account"
            ),
        )
    }

    fn expired() -> ApiError {
        ApiError::bad("RequestExpired", "Request has expired.")
    }

    fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "UnauthorizedOperation", "You are not authorized to perform this operation.")
    }

    fn dry_run() -> ApiError {
        ApiError::new(StatusCode::PRECONDITION_FAILED, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
    }

    fn missing(name: &str) -> ApiError {
        ApiError::bad("MissingParameter", format!("The request must contain the parameter {name}"))
    }

    fn invalid_value(message: impl Into<String>) -> ApiError {
        ApiError::bad("InvalidParameterValue", message)
    }

    fn reply(&self, request_id: &str) -> Reply {
        Reply::Xml { status: self.status, body: xml::error(request_id, self.code, &self.message) }
    }
}

/// Request parameters from the query string and the form body (the body wins on duplicates).
pub type Params = HashMap<String, String>;

pub fn parse_params(query: Option<&str>, body: &[u8]) -> Params {
    let mut params = Params::new();
    if let Some(q) = query {
        params.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    params.extend(form_urlencoded::parse(body).into_owned());
    params
}

// ---- pagination tokens ---------------------------------------------------------------------

/// Tokens are base64 (standard alphabet) of: a 3-byte prefix that encodes as `+/+/`, a version
/// byte, the position of the last item returned (start time, sequence), a nonce and a 16-byte
/// HMAC-SHA256 tag. 40 bytes, so the text always ends in `==`.
const TOKEN_PREFIX: [u8; 3] = [0xFB, 0xFF, 0xBF];
const TOKEN_VERSION: u8 = 1;
const TOKEN_LEN: usize = 40;
/// The position before every task: a token carrying it leads to the first page.
const FIRST_PAGE: Position = (i64::MAX, u64::MAX);

fn token_tag(key: &[u8], data: &[u8]) -> [u8; 16] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    let full = mac.finalize().into_bytes();
    let mut tag = [0u8; 16];
    tag.copy_from_slice(&full[..16]);
    tag
}

pub fn encode_token(key: &[u8], pos: Position, nonce: u32) -> String {
    let mut b = Vec::with_capacity(TOKEN_LEN);
    b.extend_from_slice(&TOKEN_PREFIX);
    b.push(TOKEN_VERSION);
    b.extend_from_slice(&pos.0.to_be_bytes());
    b.extend_from_slice(&pos.1.to_be_bytes());
    b.extend_from_slice(&nonce.to_be_bytes());
    let tag = token_tag(key, &b);
    b.extend_from_slice(&tag);
    BASE64.encode(b)
}

pub fn decode_token(key: &[u8], token: &str) -> Option<Position> {
    let b = BASE64.decode(token.trim()).ok()?;
    if b.len() != TOKEN_LEN || b[..3] != TOKEN_PREFIX || b[3] != TOKEN_VERSION {
        return None;
    }
    let (data, tag) = b.split_at(TOKEN_LEN - 16);
    let expected = token_tag(key, data);
    if expected.iter().zip(tag).fold(0u8, |acc, (a, b)| acc | (a ^ b)) != 0 {
        return None;
    }
    let start = i64::from_be_bytes(data[4..12].try_into().ok()?);
    let seq = u64::from_be_bytes(data[12..20].try_into().ok()?);
    Some((start, seq))
}

fn invalid_token() -> ApiError {
    ApiError::invalid_value("Unable to parse pagination token: the NextToken value is invalid.")
}

// ---- parameter parsing ---------------------------------------------------------------------

fn is_index(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u32>().is_ok_and(|n| n >= 1)
}

/// Rejects parameters the action does not define. `patterns` use `#` for a 1-based index.
fn check_known(params: &Params, patterns: &[&str]) -> Result<(), ApiError> {
    let matches = |name: &str, pattern: &str| {
        let n: Vec<&str> = name.split('.').collect();
        let p: Vec<&str> = pattern.split('.').collect();
        n.len() == p.len() && n.iter().zip(&p).all(|(a, b)| if *b == "#" { is_index(a) } else { a == b })
    };
    let mut names: Vec<&String> = params.keys().collect();
    names.sort();
    for name in names {
        let common = ["Action", "Version", "DryRun"];
        if !common.contains(&name.as_str()) && !patterns.iter().any(|p| matches(name, p)) {
            return Err(ApiError::bad("UnknownParameter", format!("The parameter {name} is not recognized")));
        }
    }
    Ok(())
}

fn dry_run(params: &Params) -> Result<bool, ApiError> {
    match params.get("DryRun").map(|s| s.to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(v) => Err(ApiError::invalid_value(format!("Value ({v}) for parameter DryRun is invalid. Expecting a boolean."))),
    }
}

/// `Prefix.N` values, in index order.
fn indexed(params: &Params, prefix: &str) -> Vec<String> {
    let mut v: Vec<(u32, String)> = params
        .iter()
        .filter_map(|(k, val)| {
            let n = k.strip_prefix(prefix)?.strip_prefix('.')?;
            is_index(n).then(|| (n.parse().unwrap_or(0), val.clone()))
        })
        .collect();
    v.sort();
    v.into_iter().map(|(_, val)| val).collect()
}

struct Filter {
    name: String,
    values: Vec<String>,
}

fn filters(params: &Params) -> Result<Vec<Filter>, ApiError> {
    let mut by_index: BTreeMap<u32, (Option<String>, BTreeMap<u32, String>)> = BTreeMap::new();
    for (k, v) in params {
        let Some(rest) = k.strip_prefix("Filter.") else {
            continue;
        };
        let Some((n, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(n) = n.parse::<u32>() else { continue };
        let entry = by_index.entry(n).or_default();
        if field == "Name" {
            entry.0 = Some(v.clone());
        } else if let Some(m) = field.strip_prefix("Value.").and_then(|m| m.parse::<u32>().ok()) {
            entry.1.insert(m, v.clone());
        }
    }
    by_index
        .into_iter()
        .map(|(n, (name, values))| {
            let name = name.ok_or_else(|| ApiError::missing(&format!("Filter.{n}.Name")))?;
            Ok(Filter { name, values: values.into_values().collect() })
        })
        .collect()
}

// ---- request handling ----------------------------------------------------------------------

pub struct Request<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub listener: Listener,
}

/// Handles one request on the API path: STS when the signature's scope names `sts`, else EC2.
pub async fn handle(emu: &Emulator, req: Request<'_>, request_id: &str) -> Reply {
    let params = parse_params(req.uri.query(), req.body);
    let claimed = sigv4::claimed(req.headers);
    let is_sts = claimed.as_ref().is_ok_and(|auth| auth.service == "sts");
    emu.count_arrival(req.listener, if is_sts { "sts" } else { "ec2" });
    if let Ok(auth) = &claimed
        && is_sts
    {
        return sts::handle(emu, &req, &params, auth, request_id).await;
    }
    if req.listener == Listener::Sts {
        return ApiError::new(StatusCode::BAD_REQUEST, "InvalidAction", "This endpoint serves STS only.").reply(request_id);
    }
    handle_ec2(emu, req, &params, claimed.ok(), request_id).await
}

/// Handles one EC2 API request: counts it, applies the fault that targets it, answers.
async fn handle_ec2(emu: &Emulator, req: Request<'_>, params: &Params, auth: Option<AuthHeader>, request_id: &str) -> Reply {
    let is_describe = params.get("Action").is_some_and(|a| a == DESCRIBE);
    // Faults come before the signature check: they aim at the pair the request claims.
    let account = auth.as_ref().and_then(|a| emu.account_of_key(&a.access_key));
    let target = Target { service: Service::Ec2, region: auth.as_ref().map(|a| a.region.as_str()), account: account.as_deref() };
    let fault = emu.count_request(is_describe, &target);
    let _in_flight = emu.in_flight(&target);
    if let Some(agent) = req.headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()) {
        emu.record_user_agent(agent);
    }
    let kind = fault.as_ref().map(|f| f.kind);
    match &fault {
        Some(FaultSpec { kind: FaultKind::Throttle, .. }) => {
            return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "RequestLimitExceeded", "Request limit exceeded.")
                .reply(request_id);
        }
        Some(FaultSpec { kind: FaultKind::Internal, .. }) => {
            return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "An internal error has occurred.")
                .reply(request_id);
        }
        Some(FaultSpec { kind: FaultKind::Unavailable, .. }) => {
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Unavailable",
                "The service is unavailable. Please try again shortly.",
            )
            .reply(request_id);
        }
        Some(FaultSpec { kind: FaultKind::Deny, .. }) => return ApiError::unauthorized().reply(request_id),
        Some(FaultSpec { kind: FaultKind::Drop, .. }) => return Reply::Drop,
        Some(FaultSpec { kind: FaultKind::Html, .. }) => {
            return Reply::Foreign {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                content_type: "text/html",
                body: LOAD_BALANCER_PAGE,
            };
        }
        Some(FaultSpec { kind: FaultKind::Empty503, .. }) => {
            return Reply::Foreign { status: StatusCode::SERVICE_UNAVAILABLE, content_type: "text/plain", body: "" };
        }
        Some(FaultSpec { kind: FaultKind::Json502, .. }) => {
            return Reply::Foreign {
                status: StatusCode::BAD_GATEWAY,
                content_type: "application/json",
                body: "{\"message\": \"An invalid response was received from the upstream server\"}",
            };
        }
        Some(FaultSpec { kind: FaultKind::Garbage, .. }) => {
            return Reply::Xml { status: StatusCode::OK, body: b"this is not xml".to_vec() };
        }
        Some(FaultSpec { kind: FaultKind::Delay, ms, .. }) => {
            tokio::time::sleep(std::time::Duration::from_millis(*ms)).await;
        }
        _ => {}
    }
    match process(emu, &req, params, auth.as_ref(), kind, request_id) {
        Err(e) => e.reply(request_id),
        Ok((root, body)) => {
            let body = match kind {
                Some(FaultKind::Truncate) => body[..body.len() / 2].to_vec(),
                Some(FaultKind::Malformed) => xml::malformed(root, request_id),
                Some(FaultKind::WrongRoot) => xml::wrong_root(request_id),
                _ => body,
            };
            Reply::Xml { status: StatusCode::OK, body }
        }
    }
}

/// Authenticates, routes and runs the action. Returns the response's root element name and body.
fn process(
    emu: &Emulator,
    req: &Request<'_>,
    params: &Params,
    auth: Option<&AuthHeader>,
    fault: Option<FaultKind>,
    request_id: &str,
) -> Result<(&'static str, Vec<u8>), ApiError> {
    let auth = auth.ok_or_else(ApiError::auth_failure)?;
    if emu.opts.regions.is_opt_in(&auth.region) {
        return Err(ApiError::region_not_enabled(&auth.region));
    }
    let verified = sigv4::verify(&Received::from(req), auth, "ec2", |r| emu.opts.regions.serves(r), |k| emu.secret_for(k))
        .map_err(|_| ApiError::auth_failure())?;
    let principal = emu.principal(&verified).map_err(|e| match e {
        PrincipalError::BadToken => ApiError::auth_failure(),
        PrincipalError::Expired => ApiError::expired(),
    })?;
    let pair = Pair::new(&principal.account, &verified.region);

    let action =
        params.get("Action").ok_or_else(|| ApiError::bad("MissingAction", "The request must contain the parameter Action"))?;
    if action != DESCRIBE && action != CREATE && action != DESCRIBE_REGIONS {
        return Err(ApiError::bad("InvalidAction", format!("The action {action} is not valid for this web service.")));
    }
    match params.get("Version") {
        None => return Err(ApiError::missing("Version")),
        Some(v) if v != API_VERSION => {
            return Err(ApiError::bad(
                "NoSuchVersion",
                format!("The requested version ({v}) of service AmazonEC2 does not exist"),
            ));
        }
        Some(_) => {}
    }
    if action == DESCRIBE {
        describe(emu, params, &principal, &pair, fault, request_id).map(|b| ("DescribeStoreImageTasksResponse", b))
    } else if action == CREATE {
        create(emu, params, &principal, &pair, request_id).map(|b| ("CreateStoreImageTaskResponse", b))
    } else {
        describe_regions(emu, params, &principal, request_id).map(|b| ("DescribeRegionsResponse", b))
    }
}

impl<'a> From<&'a Request<'a>> for Received<'a> {
    fn from(req: &'a Request<'a>) -> Received<'a> {
        Received {
            method: req.method.as_str(),
            path: req.uri.path(),
            query: req.uri.query(),
            headers: req.headers,
            body: req.body,
        }
    }
}

/// The tasks of the pair a request is for. Every served pair has a store; a missing one would
/// be an emulator bug, answered as an internal error rather than a crash.
fn store_of<'e>(emu: &'e Emulator, pair: &Pair) -> Result<std::sync::MutexGuard<'e, crate::store::Store>, ApiError> {
    emu.store_for(pair).ok_or_else(|| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", format!("The emulator holds no data for {pair}."))
    })
}

fn describe(
    emu: &Emulator,
    params: &Params,
    principal: &Principal,
    pair: &Pair,
    fault: Option<FaultKind>,
    request_id: &str,
) -> Result<Vec<u8>, ApiError> {
    check_known(params, &["ImageId.#", "Filter.#.Name", "Filter.#.Value.#", "MaxResults", "NextToken"])?;
    let dry = dry_run(params)?;
    if principal.denied {
        return Err(ApiError::unauthorized());
    }
    let image_ids = indexed(params, "ImageId");
    let filters = filters(params)?;
    if !image_ids.is_empty() {
        return describe_ids(emu, params, pair, &image_ids, dry, request_id);
    }
    describe_page(emu, params, pair, &filters, fault, dry, request_id)
}

/// DescribeStoreImageTasks with `ImageId.N`: the latest task of each listed AMI, no pages.
fn describe_ids(
    emu: &Emulator,
    params: &Params,
    pair: &Pair,
    image_ids: &[String],
    dry: bool,
    request_id: &str,
) -> Result<Vec<u8>, ApiError> {
    for other in ["MaxResults", "NextToken"] {
        if params.get(other).is_some() {
            return Err(ApiError::bad(
                "InvalidParameterCombination",
                format!("The parameter {other} cannot be used with the parameter ImageIds"),
            ));
        }
    }
    if image_ids.len() > MAX_IMAGE_IDS {
        return Err(ApiError::invalid_value(format!(
            "The maximum number of ImageIds is {MAX_IMAGE_IDS}; {} were given.",
            image_ids.len()
        )));
    }
    if dry {
        return Err(ApiError::dry_run());
    }
    let wanted: HashSet<&str> = image_ids.iter().map(String::as_str).collect();
    let now = emu.clock.now_ms();
    let store = store_of(emu, pair)?;
    let mut seen = HashSet::new();
    let items: Vec<View> = store
        .visible_sorted(now)
        .into_iter()
        .filter(|t| t.stored.ami_id.as_deref().is_some_and(|a| wanted.contains(a) && seen.insert(a.to_owned())))
        .map(|t| t.view(now, emu.opts.progress_rate))
        .collect();
    Ok(xml::describe(request_id, &items, None))
}

/// The page size a request asks for (`MaxResults`, else the default), checked.
fn page_size(emu: &Emulator, max_results: Option<&String>, fault: Option<FaultKind>) -> Result<usize, ApiError> {
    // A server that validates MaxResults but then answers with its default page size.
    if fault == Some(FaultKind::IgnoreMaxResults) {
        return Ok(emu.opts.default_page_size);
    }
    ranged(max_results, emu.opts.default_page_size, &MAX_RESULTS_RANGE, |s, lo, hi| {
        ApiError::invalid_value(format!(
            "Value ({s}) for parameter MaxResults is invalid. Expecting a value between {lo} and {hi}."
        ))
    })
}

/// A whole-number parameter: `default` when absent, else its value (spaces around it allowed)
/// when it lies in `range`, else what `refuse` makes of its text and the range's ends.
pub fn ranged<T: std::str::FromStr + PartialOrd + Copy, E>(
    text: Option<&String>,
    default: T,
    range: &std::ops::RangeInclusive<T>,
    refuse: impl FnOnce(&str, T, T) -> E,
) -> Result<T, E> {
    let Some(text) = text else { return Ok(default) };
    text.trim().parse::<T>().ok().filter(|n| range.contains(n)).ok_or_else(|| refuse(text, *range.start(), *range.end()))
}

/// DescribeStoreImageTasks without ids: one page of the filtered tasks, from `NextToken`.
fn describe_page(
    emu: &Emulator,
    params: &Params,
    pair: &Pair,
    filters: &[Filter],
    fault: Option<FaultKind>,
    dry: bool,
    request_id: &str,
) -> Result<Vec<u8>, ApiError> {
    for f in filters {
        if f.name != "task-state" && f.name != "bucket" {
            return Err(ApiError::invalid_value(format!("The filter '{}' is invalid", f.name)));
        }
        if f.values.is_empty() {
            return Err(ApiError::invalid_value(format!("The filter '{}' requires at least one value", f.name)));
        }
    }
    let page_size = page_size(emu, params.get("MaxResults"), fault)?;
    let next_token = params.get("NextToken");
    let token_key = emu.token_key_for(pair);
    let after = match next_token {
        None => FIRST_PAGE,
        Some(t) => decode_token(&token_key, t).ok_or_else(invalid_token)?,
    };
    if dry {
        return Err(ApiError::dry_run());
    }
    let nonce = || emu.random_u64() as u32;
    if fault == Some(FaultKind::EmptyPages) {
        let token = encode_token(&token_key, after, nonce());
        return Ok(xml::describe(request_id, &[], Some(&token)));
    }
    let (now, rate) = (emu.clock.now_ms(), emu.opts.progress_rate);
    let store = store_of(emu, pair)?;
    let matches = |v: &View| {
        filters.iter().all(|f| {
            let field = if f.name == "task-state" { v.state.as_deref() } else { v.bucket.as_deref() };
            field.is_some_and(|x| f.values.iter().any(|want| want == x))
        })
    };
    let mut page: Vec<(Position, View)> = Vec::with_capacity(page_size + 1);
    for t in store.visible_after(now, after) {
        let v = t.view(now, rate);
        if matches(&v) {
            page.push((t.position(), v));
            if page.len() > page_size {
                break;
            }
        }
    }
    drop(store);
    let more = page.len() > page_size;
    page.truncate(page_size);
    let token = match (fault, more, page.last()) {
        (Some(FaultKind::RepeatToken), _, _) => {
            Some(next_token.cloned().unwrap_or_else(|| encode_token(&token_key, FIRST_PAGE, nonce())))
        }
        (_, true, Some((pos, _))) => Some(encode_token(&token_key, *pos, nonce())),
        _ => None,
    };
    let items: Vec<View> = page.into_iter().map(|(_, v)| v).collect();
    Ok(xml::describe(request_id, &items, token.as_deref()))
}

fn create(emu: &Emulator, params: &Params, principal: &Principal, pair: &Pair, request_id: &str) -> Result<Vec<u8>, ApiError> {
    check_known(params, &["ImageId", "Bucket", "S3ObjectTag.#.Key", "S3ObjectTag.#.Value"])?;
    let dry = dry_run(params)?;
    if principal.denied {
        return Err(ApiError::unauthorized());
    }
    let non_empty = |name: &str| params.get(name).filter(|v| !v.is_empty()).cloned().ok_or_else(|| ApiError::missing(name));
    let image_id = non_empty("ImageId")?;
    let bucket = non_empty("Bucket")?;
    if dry {
        return Err(ApiError::dry_run());
    }
    let now = emu.clock.now_ms();
    let key = format!("{image_id}.bin");
    let stored = View {
        ami_id: Some(image_id),
        start_ms: Some(now),
        bucket: Some(bucket),
        s3_key: Some(key.clone()),
        progress: Some(0),
        state: Some(IN_PROGRESS.to_owned()),
        failure_reason: None,
    };
    store_of(emu, pair)?.push(Task { seq: 0, stored, fail_at: None, added_ms: now });
    Ok(xml::create(request_id, &key))
}

/// Whether `value` matches an EC2 filter value, where `*` matches any run of characters and `?`
/// any one character.
fn wildcard_match(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

pub const NOT_OPTED_IN: &str = "not-opted-in";

fn describe_regions(emu: &Emulator, params: &Params, principal: &Principal, request_id: &str) -> Result<Vec<u8>, ApiError> {
    check_known(params, &["RegionName.#", "AllRegions", "Filter.#.Name", "Filter.#.Value.#"])?;
    let dry = dry_run(params)?;
    if principal.denied {
        return Err(ApiError::unauthorized());
    }
    let all_regions = match params.get("AllRegions").map(|s| s.to_ascii_lowercase()) {
        None => false,
        Some(v) if v == "true" => true,
        Some(v) if v == "false" => false,
        Some(v) => {
            return Err(ApiError::invalid_value(format!(
                "Value ({v}) for parameter AllRegions is invalid. Expecting a boolean."
            )));
        }
    };
    let filters = filters(params)?;
    for f in &filters {
        if f.name != "region-name" && f.name != "opt-in-status" {
            return Err(ApiError::invalid_value(format!("The filter '{}' is invalid", f.name)));
        }
        if f.values.is_empty() {
            return Err(ApiError::invalid_value(format!("The filter '{}' requires at least one value", f.name)));
        }
    }
    let names = indexed(params, "RegionName");
    for n in &names {
        if !emu.opts.regions.serves(n) && !emu.opts.regions.is_opt_in(n) {
            return Err(ApiError::invalid_value(format!("Invalid region: {n}")));
        }
    }
    if dry {
        return Err(ApiError::dry_run());
    }
    let mut regions: Vec<(String, &'static str)> =
        emu.opts.regions.served().into_iter().map(|r| (emu.opts.regions.opt_in_status(&r), r)).map(|(s, r)| (r, s)).collect();
    if all_regions {
        regions.extend(emu.opts.regions.opt_in.iter().map(|r| (r.clone(), NOT_OPTED_IN)));
    }
    regions.sort();
    regions.retain(|(name, status)| {
        (names.is_empty() || names.contains(name))
            && filters.iter().all(|f| {
                let field = if f.name == "region-name" { name.as_str() } else { status };
                f.values.iter().any(|want| wildcard_match(want, field))
            })
    });
    Ok(xml::describe_regions(request_id, &regions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_wildcards() {
        assert!(wildcard_match("eu-west-3", "eu-west-3"));
        assert!(!wildcard_match("eu-west-3", "eu-west-31"));
        assert!(wildcard_match("eu-*", "eu-west-3") && wildcard_match("*", "") && wildcard_match("*-1", "us-east-1"));
        assert!(wildcard_match("us-?ast-*", "us-east-2") && !wildcard_match("us-?ast-*", "us-west-2"));
        assert!(wildcard_match("*opted*", "not-opted-in") && !wildcard_match("opt-in", "opt-in-not-required"));
        assert!(wildcard_match("a*b*c", "aXbYbZc") && !wildcard_match("a*b*c", "aXbYbZ"));
    }

    #[test]
    fn tokens_round_trip_and_carry_special_characters() {
        let key = [7u8; 32];
        let t = encode_token(&key, (1_700_000_000_123, 42), 9);
        assert!(t.starts_with("+/+/") && t.ends_with("=="), "{t}");
        assert_eq!(decode_token(&key, &t), Some((1_700_000_000_123, 42)));
        assert_eq!(decode_token(&[8u8; 32], &t), None);
        let mut forged = t.clone();
        forged.replace_range(10..11, if &t[10..11] == "A" { "B" } else { "A" });
        assert_eq!(decode_token(&key, &forged), None);
        assert_eq!(decode_token(&key, "garbage"), None);
    }
}
