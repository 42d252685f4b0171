//! STS AssumeRole (Query protocol, API version 2011-06-15) on the emulator's port: requests
//! whose signature scope names the `sts` service come here.

use std::time::Duration;

use axum::http::StatusCode;

use crate::accounts::{Role, is_session_name};
use crate::api::{Params, Reply, Request, ServiceError, ranged};
use crate::faults::{FaultKind, FaultSpec, Service, Target};
use crate::sigv4::{self, AuthError, AuthHeader, Received, Verified};
use crate::state::{Emulator, PrincipalError};
use crate::xml;

pub const STS_VERSION: &str = "2011-06-15";
pub const ASSUME_ROLE: &str = "AssumeRole";
/// STS's global region, accepted in the scope whether served or not.
pub const GLOBAL_REGION: &str = "us-east-1";
pub const DURATION_RANGE: std::ops::RangeInclusive<u64> = 900..=43_200;
pub const DEFAULT_DURATION: u64 = 3600;

/// STS's errors, whose type is `Sender` for the client's faults, `Receiver` for the server's.
#[derive(Debug)]
pub enum Sts {}

pub type StsError = ServiceError<Sts>;

impl StsError {
    fn validation(message: impl Into<String>) -> StsError {
        StsError::new(StatusCode::BAD_REQUEST, "ValidationError", message)
    }

    fn missing(name: &str) -> StsError {
        StsError::new(StatusCode::BAD_REQUEST, "MissingParameter", format!("The request must contain the parameter {name}."))
    }

    fn invalid_token() -> StsError {
        StsError::new(StatusCode::FORBIDDEN, "InvalidClientTokenId", "The security token included in the request is invalid.")
    }

    fn access_denied(caller: &str, role_arn: &str) -> StsError {
        StsError::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            format!("User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"),
        )
    }

    fn error_type(&self) -> &'static str {
        if self.status.is_server_error() { "Receiver" } else { "Sender" }
    }

    fn reply(&self, request_id: &str) -> Reply {
        Reply::StsXml { status: self.status, body: xml::sts_error(request_id, self.error_type(), self.code, &self.message) }
    }
}

/// Parameters AssumeRole defines beyond the three the emulator uses; accepted and ignored.
/// `#` stands for a 1-based index.
const IGNORED: [&str; 14] = [
    "Policy",
    "PolicyArns.member.#.arn",
    "Tags.member.#.Key",
    "Tags.member.#.Value",
    "TransitiveTagKeys.member.#",
    "ExternalId",
    "SerialNumber",
    "TokenCode",
    "SourceIdentity",
    "ProvidedContexts.member.#.ProviderArn",
    "ProvidedContexts.member.#.ContextAssertion",
    "MinimumSessionTokenSize",
    "DurationSeconds",
    "RoleSessionName",
];

fn is_known(name: &str) -> bool {
    if ["Action", "Version", "RoleArn"].contains(&name) {
        return true;
    }
    let n: Vec<&str> = name.split('.').collect();
    IGNORED.iter().any(|pattern| {
        let p: Vec<&str> = pattern.split('.').collect();
        n.len() == p.len()
            && n.iter().zip(&p).all(|(a, b)| {
                if *b == "#" { !a.is_empty() && a.bytes().all(|c| c.is_ascii_digit()) && *a != "0" } else { a == b }
            })
    })
}

/// Handles one STS request: counts it, applies the `service=sts` fault that targets it,
/// answers.
pub async fn handle(emu: &Emulator, req: &Request<'_>, params: &Params, auth: &AuthHeader, request_id: &str) -> Reply {
    let role_account = params.get("RoleArn").and_then(|a| Role::parse(a).ok()).map(|r| r.account);
    let target = Target { service: Service::Sts, region: Some(&auth.region), account: role_account.as_deref() };
    let fault = emu.count_assume_role(&target);
    let kind = fault.as_ref().map(|f| f.kind);
    let fail = |status, code, message: &str| StsError::new(status, code, message).reply(request_id);
    match &fault {
        Some(FaultSpec { kind: FaultKind::Throttle, .. }) => return fail(StatusCode::BAD_REQUEST, "Throttling", "Rate exceeded"),
        Some(FaultSpec { kind: FaultKind::Internal, .. }) => {
            return fail(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", "An internal error has occurred.");
        }
        Some(FaultSpec { kind: FaultKind::Unavailable, .. }) => {
            return fail(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "Service is unable to handle request.");
        }
        Some(FaultSpec { kind: FaultKind::Deny, .. }) => {
            return fail(StatusCode::FORBIDDEN, "AccessDenied", "You are not authorized to perform sts:AssumeRole.");
        }
        Some(FaultSpec { kind: FaultKind::Drop, .. }) => return Reply::Drop,
        Some(FaultSpec { kind: FaultKind::Garbage, .. }) => {
            return Reply::StsXml { status: StatusCode::OK, body: b"this is not xml".to_vec() };
        }
        Some(FaultSpec { kind: FaultKind::Delay, ms, .. }) => {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
        }
        _ => {}
    }
    match assume_role(emu, req, params, auth, request_id) {
        Err(e) => e.reply(request_id),
        Ok(body) => {
            let body = match kind {
                Some(FaultKind::Truncate) => body[..body.len() / 2].to_vec(),
                Some(FaultKind::Malformed) => xml::malformed("AssumeRoleResponse", request_id),
                Some(FaultKind::WrongRoot) => xml::wrong_root(request_id),
                _ => body,
            };
            Reply::StsXml { status: StatusCode::OK, body }
        }
    }
}

/// The request's signature checked for the `sts` service, in STS's error shape.
fn verify(emu: &Emulator, req: &Request<'_>, auth: &AuthHeader) -> Result<Verified, StsError> {
    let region_ok = |r: &str| r == GLOBAL_REGION || emu.opts.regions.serves(r);
    sigv4::verify(&Received::from(req), auth, "sts", region_ok, |k| emu.secret_for(k)).map_err(|e| match e {
        AuthError::UnknownKey => StsError::invalid_token(),
        AuthError::Mismatch => StsError::new(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
        ),
        AuthError::Scope => StsError::new(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            format!("Credential should be scoped to a valid region, not '{}'.", auth.region),
        ),
        AuthError::Missing => StsError::new(StatusCode::FORBIDDEN, "MissingAuthenticationToken", "Request is missing Authentication Token"),
        AuthError::Malformed(why) => {
            StsError::new(StatusCode::BAD_REQUEST, "IncompleteSignature", format!("The request signature is incomplete: {why}."))
        }
    })
}

/// `DurationSeconds`, checked: the default when absent.
fn duration_of(params: &Params) -> Result<u64, StsError> {
    ranged(params.get("DurationSeconds"), DEFAULT_DURATION, &DURATION_RANGE, |d, lo, hi| {
        StsError::validation(format!(
            "1 validation error detected: Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer between {lo} and {hi}"
        ))
    })
}

/// Checks, in order: signature, Action, Version, unknown parameters, authorization (only the
/// `--access-key` key may assume roles), parameter values, the role.
fn assume_role(
    emu: &Emulator,
    req: &Request<'_>,
    params: &Params,
    auth: &AuthHeader,
    request_id: &str,
) -> Result<Vec<u8>, StsError> {
    let verified = verify(emu, req, auth)?;
    let principal = emu.principal(&verified).map_err(|e| match e {
        PrincipalError::BadToken => StsError::invalid_token(),
        PrincipalError::Expired => {
            StsError::new(StatusCode::BAD_REQUEST, "ExpiredToken", "The security token included in the request is expired")
        }
    })?;

    let action = params.get("Action").ok_or_else(|| StsError::new(StatusCode::BAD_REQUEST, "MissingAction", "Missing Action"))?;
    let version = params.get("Version").ok_or_else(|| StsError::missing("Version"))?;
    if action != ASSUME_ROLE || version != STS_VERSION {
        return Err(StsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            format!("Could not find operation {action} for version {version}"),
        ));
    }
    let mut names: Vec<&String> = params.keys().collect();
    names.sort();
    if let Some(unknown) = names.into_iter().find(|n| !is_known(n)) {
        return Err(StsError::validation(format!("The parameter {unknown} is not recognized")));
    }

    let role_arn = params.get("RoleArn").filter(|v| !v.is_empty()).ok_or_else(|| StsError::missing("RoleArn"))?;
    if principal.temporary || principal.denied {
        let caller = if principal.temporary {
            format!("arn:aws:sts::{}:assumed-role/session", principal.account)
        } else {
            format!("arn:aws:iam::{}:user/storetasks-denied", principal.account)
        };
        return Err(StsError::access_denied(&caller, role_arn));
    }
    let session = params.get("RoleSessionName").ok_or_else(|| StsError::missing("RoleSessionName"))?;
    if role_arn.len() < 20 || role_arn.len() > 2048 {
        return Err(StsError::validation(format!(
            "1 validation error detected: Value '{role_arn}' at 'roleArn' failed to satisfy constraint: Member must have length between 20 and 2048"
        )));
    }
    if !is_session_name(session) {
        return Err(StsError::validation(format!(
            "1 validation error detected: Value '{session}' at 'roleSessionName' failed to satisfy constraint: Member must be 2 to 64 characters of [\\w+=,.@-]"
        )));
    }
    let duration = duration_of(params)?;
    let caller = format!("arn:aws:iam::{}:user/storetasks-local", principal.account);
    let role = match Role::parse(role_arn) {
        Ok(parsed) => emu.opts.identity.role(&parsed.arn).ok_or_else(|| StsError::access_denied(&caller, role_arn))?,
        Err(_) => return Err(StsError::validation(format!("{role_arn} is invalid: not a role ARN"))),
    };
    let issued = emu.issue_session(&role.account, Duration::from_secs(duration));
    Ok(xml::assume_role(request_id, role, session, &issued))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_parameters() {
        for ok in ["Action", "RoleArn", "RoleSessionName", "DurationSeconds", "PolicyArns.member.1.arn", "Tags.member.12.Value"] {
            assert!(is_known(ok), "{ok}");
        }
        for bad in ["RoleARN", "PolicyArns.member.0.arn", "PolicyArns.member.x.arn", "Tags.member.1", "DryRun"] {
            assert!(!is_known(bad), "{bad}");
        }
    }
}
