//! Accounts, regions and roles: what an (account, region) pair is, and the syntax checks of
//! account ids, region names, role ARNs and role session names.

use std::fmt;

use crate::store::{fnv1a64, mix64};

pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";

/// The data set a request is answered from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pair {
    pub account: String,
    pub region: String,
}

impl Pair {
    pub fn new(account: &str, region: &str) -> Pair {
        Pair { account: account.to_owned(), region: region.to_owned() }
    }

    /// A stable 64-bit digest of the pair, the same on every run and platform.
    pub fn digest(&self) -> u64 {
        mix64(fnv1a64(self.to_string().as_bytes()))
    }
}

impl fmt::Display for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.account, self.region)
    }
}

/// Twelve ASCII digits.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A region name such as `eu-west-3` or `us-gov-west-1`: lowercase letters, digits and
/// hyphens, starting with a letter, with at least one hyphen, at most 32 characters.
pub fn is_region_name(s: &str) -> bool {
    (3..=32).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && s.contains('-')
        && !s.contains("--")
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The characters IAM allows in role names and STS in role session names: `[\w+=,.@-]`.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// A role session name: 2 to 64 characters of `[\w+=,.@-]`.
pub fn is_session_name(s: &str) -> bool {
    (2..=64).contains(&s.len()) && s.chars().all(is_name_char)
}

/// An assumable role, `arn:aws:iam::<account>:role/<path/><name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub arn: String,
    pub account: String,
    pub name: String,
}

impl Role {
    pub fn parse(arn: &str) -> Result<Role, String> {
        let bad = |why: &str| format!("`{arn}` is not a role ARN (arn:aws:iam::<12 digits>:role/<name>): {why}");
        let rest = arn.strip_prefix("arn:aws:iam::").ok_or_else(|| bad("it must start with arn:aws:iam::"))?;
        let (account, resource) = rest.split_once(':').ok_or_else(|| bad("no account part"))?;
        if !is_account_id(account) {
            return Err(bad("the account is not 12 digits"));
        }
        let path_and_name = resource.strip_prefix("role/").ok_or_else(|| bad("the resource must start with role/"))?;
        let name = path_and_name.rsplit('/').next().unwrap_or_default();
        if name.is_empty() || name.len() > 64 || !name.chars().all(is_name_char) {
            return Err(bad("the role name must be 1 to 64 characters of letters, digits and _+=,.@-"));
        }
        let path = &path_and_name[..path_and_name.len() - name.len()];
        if !path.chars().all(|c| c.is_ascii_graphic()) || path.contains("//") {
            return Err(bad("the role path has characters IAM does not allow"));
        }
        Ok(Role { arn: arn.to_owned(), account: account.to_owned(), name: name.to_owned() })
    }

    /// The role's unique id, `AROA` and 17 characters, stable for a given ARN.
    pub fn role_id(&self) -> String {
        let mut s = mix64(fnv1a64(self.arn.as_bytes()) ^ 0x524f_4c45);
        let mut id = String::from("AROA");
        for _ in 0..17 {
            id.push(char::from(BASE32[(s & 31) as usize]));
            s = mix64(s.wrapping_add(0x9E37_79B9_7F4A_7C15));
        }
        id
    }
}

/// The alphabet of AWS key ids (upper-case letters and the digits 2 to 7).
pub const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_names() {
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("12345678901") && !is_account_id("12345678901a") && !is_account_id("1234567890123"));
        for ok in ["us-east-1", "eu-west-3", "us-gov-west-1", "ap-southeast-5", "local-1"] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in ["", "us", "US-EAST-1", "us_east_1", "-us-east-1", "us-east-", "1us-east", "us--east-1", "us east 1"] {
            assert!(!is_region_name(bad), "{bad}");
        }
        assert!(is_session_name("ab") && is_session_name("fleet+run=1,x.y@z-w_9"));
        assert!(!is_session_name("a") && !is_session_name(&"a".repeat(65)) && !is_session_name("has space"));
        assert!(!is_session_name("slash/no") && !is_session_name("é-accent"));
    }

    #[test]
    fn parses_role_arns() {
        let r = Role::parse("arn:aws:iam::210987654321:role/fleet-reader").unwrap();
        assert_eq!((r.account.as_str(), r.name.as_str()), ("210987654321", "fleet-reader"));
        let r = Role::parse("arn:aws:iam::210987654321:role/team/sub/Reader+1").unwrap();
        assert_eq!(r.name, "Reader+1");
        for bad in [
            "",
            "arn:aws:iam::21098765432:role/x",
            "arn:aws:iam::210987654321:user/x",
            "arn:aws:iam::210987654321:role/",
            "arn:aws:sts::210987654321:role/x",
            "arn:aws:iam::210987654321:role/bad name",
            "arn:aws:iam::210987654321",
        ] {
            assert!(Role::parse(bad).is_err(), "{bad}");
        }
        let id = r.role_id();
        assert!(id.starts_with("AROA") && id.len() == 21, "{id}");
        assert_eq!(id, Role::parse("arn:aws:iam::210987654321:role/team/sub/Reader+1").unwrap().role_id());
        assert_ne!(id, Role::parse("arn:aws:iam::210987654321:role/other").unwrap().role_id());
    }

    #[test]
    fn pairs_display_and_digest() {
        let p = Pair::new("123456789012", "eu-west-3");
        assert_eq!(p.to_string(), "123456789012/eu-west-3");
        assert_eq!(p.digest(), Pair::new("123456789012", "eu-west-3").digest());
        assert_ne!(p.digest(), Pair::new("123456789012", "eu-west-2").digest());
    }
}
