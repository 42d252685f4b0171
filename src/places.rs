//! Places: the (account, region) pairs a call runs in, and what every call that runs in several
//! of them shares — checking region names and role ARNs, assuming roles, making an EC2 client per
//! place, and naming a place in messages and in the endpoint label. Fleet listings
//! ([`crate::fleet`]) and waits across places ([`crate::waiter`]) both build on it.

use std::collections::HashSet;

use aws_config::Region;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::SharedCredentialsProvider;

use crate::error::{Error, Result};

/// The session name given to STS for every role the library assumes.
pub const ROLE_SESSION_NAME: &str = "libstoretasks";

/// Checks a region name: lower-case letters, digits and dashes, starting with a letter.
pub fn check_region_name(region: &str) -> Result<()> {
    let ok = !region.is_empty()
        && region.len() <= 64
        && region.starts_with(|c: char| c.is_ascii_lowercase())
        && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok { Ok(()) } else { Err(Error::invalid(format!("{region:?} is not a region name (such as eu-west-3)"))) }
}

/// The account id in an IAM role ARN (`arn:PARTITION:iam::ACCOUNT:role/NAME`).
pub fn account_of_role(arn: &str) -> Result<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if let ["arn", partition, "iam", "", account, resource] = parts[..]
        && !partition.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource.len() > "role/".len()
        && resource.starts_with("role/")
    {
        return Ok(account);
    }
    Err(Error::invalid(format!("{arn:?} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)")))
}

/// One (account, region) place of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The region; empty for an account whose regions could not be listed (its outcome says why).
    pub region: String,
    /// The account of the assumed role; `None` for the client's own credentials.
    pub account: Option<String>,
    /// The role assumed there, if any.
    pub role_arn: Option<String>,
}

impl Place {
    /// The place as messages name it: `ACCOUNT/REGION` with a role, `REGION` without.
    pub fn name(&self) -> String {
        place_name(self.account.as_deref(), &self.region)
    }
}

/// `ACCOUNT/REGION`, or `REGION` without an account.
pub fn place_name(account: Option<&str>, region: &str) -> String {
    match account {
        Some(a) => format!("{a}/{region}"),
        None => region.to_owned(),
    }
}

/// An EC2 client for `region` with `credentials` (the client's own when `None`).
pub(crate) fn ec2_for(
    sdk_config: &aws_config::SdkConfig,
    endpoint_url: Option<&str>,
    region: &str,
    credentials: Option<&SharedCredentialsProvider>,
) -> aws_sdk_ec2::Client {
    let mut b = aws_sdk_ec2::config::Builder::from(sdk_config).region(Region::new(region.to_owned()));
    if let Some(u) = endpoint_url {
        b.set_endpoint_url(Some(u.to_owned()));
    }
    // The same provider (not a new wrapper) for every region of an account, so that the identity
    // cache asks STS once per account, not once per region.
    b.set_credentials_provider(credentials.cloned());
    aws_sdk_ec2::Client::from_conf(b.build())
}

/// Credentials of `role_arn`, assumed through STS with the configuration's own credentials;
/// `sts_config` is the client's configuration with the STS endpoint it was given, if any.
pub(crate) async fn role_credentials(sts_config: &aws_config::SdkConfig, role_arn: &str) -> SharedCredentialsProvider {
    let provider =
        AssumeRoleProvider::builder(role_arn.to_owned()).session_name(ROLE_SESSION_NAME).configure(sts_config).build().await;
    SharedCredentialsProvider::new(provider)
}

/// Keeps each item once, in its first position.
pub(crate) fn unique(items: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    items.iter().filter(|i| seen.insert(i.as_str())).cloned().collect()
}

/// How messages name where requests go: the endpoint URL's `host:port` (no credentials, path or
/// query), or "the EC2 endpoint of REGION", followed by the proxy the requests go through.
pub(crate) fn endpoint_label(url: Option<&str>, region: Option<&str>, proxies: &crate::transport::Proxies) -> String {
    let (label, target) = match url {
        Some(u) => {
            let host = crate::client::url_host(u);
            (if host.is_empty() { u.to_owned() } else { host }, u.to_owned())
        }
        None => {
            let region = region.unwrap_or("the configured region");
            (format!("the EC2 endpoint of {region}"), format!("https://ec2.{region}.amazonaws.com"))
        }
    };
    match proxies.for_url(&target) {
        Some(p) => format!("{label} through the proxy {}", p.label),
        None => label,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn role_arns_name_their_account() {
        assert_eq!(account_of_role("arn:aws:iam::123456789012:role/Reader").unwrap(), "123456789012");
        assert_eq!(account_of_role("arn:aws-cn:iam::000000000001:role/path/R").unwrap(), "000000000001");
        for bad in [
            "",
            "arn:aws:iam::12345678901:role/R",
            "arn:aws:iam::1234567890123:role/R",
            "arn:aws:iam::12345678901x:role/R",
            "arn:aws:iam::123456789012:user/R",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:sts::123456789012:role/R",
            "arn::iam::123456789012:role/R",
            "arn:aws:iam:us-east-1:123456789012:role/R",
        ] {
            let e = account_of_role(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidArgument, "{bad}");
            assert!(e.message.contains("IAM role ARN"), "{}", e.message);
        }
    }

    #[test]
    fn region_names_are_checked() {
        for good in ["us-east-1", "eu-west-3", "ap-southeast-4", "us-gov-west-1"] {
            check_region_name(good).unwrap();
        }
        for bad in ["", "US-EAST-1", "1us", "eu west", "eu_west_1", "-eu"] {
            assert_eq!(check_region_name(bad).unwrap_err().kind, ErrorKind::InvalidArgument, "{bad:?}");
        }
    }

    #[test]
    fn duplicates_are_kept_once_in_first_place() {
        let v: Vec<String> = ["b", "a", "b", "c", "a"].iter().map(|s| s.to_string()).collect();
        assert_eq!(unique(&v), ["b", "a", "c"]);
    }

    #[test]
    fn places_are_named_with_their_account() {
        assert_eq!(place_name(Some("123456789012"), "eu-west-3"), "123456789012/eu-west-3");
        assert_eq!(place_name(None, "eu-west-3"), "eu-west-3");
    }
}
