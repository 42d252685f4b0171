//! Injected faults: `KIND[,at=K][,count=N][,ms=D][,region=R][,account=A][,service=S]`.

use serde::Serialize;

use crate::accounts::{is_account_id, is_region_name};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    Throttle,
    Internal,
    Unavailable,
    Drop,
    Delay,
    Truncate,
    Malformed,
    Garbage,
    WrongRoot,
    RepeatToken,
    EmptyPages,
    IgnoreMaxResults,
    Deny,
    Html,
    Empty503,
    Json502,
}

impl FaultKind {
    pub const ALL: [(&'static str, FaultKind); 16] = [
        ("throttle", FaultKind::Throttle),
        ("internal", FaultKind::Internal),
        ("unavailable", FaultKind::Unavailable),
        ("drop", FaultKind::Drop),
        ("delay", FaultKind::Delay),
        ("truncate", FaultKind::Truncate),
        ("malformed", FaultKind::Malformed),
        ("garbage", FaultKind::Garbage),
        ("wrongroot", FaultKind::WrongRoot),
        ("repeat-token", FaultKind::RepeatToken),
        ("empty-pages", FaultKind::EmptyPages),
        ("ignore-max-results", FaultKind::IgnoreMaxResults),
        ("deny", FaultKind::Deny),
        ("html", FaultKind::Html),
        ("empty503", FaultKind::Empty503),
        ("json502", FaultKind::Json502),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, k)| *k == self).map(|(n, _)| *n).unwrap_or("?")
    }

    /// Kinds that only make sense for DescribeStoreImageTasks pages.
    fn is_paging_only(self) -> bool {
        matches!(self, FaultKind::RepeatToken | FaultKind::EmptyPages | FaultKind::IgnoreMaxResults)
    }
}

/// Which requests a fault watches: EC2 API requests (the default) or STS AssumeRole requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Ec2,
    Sts,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2",
            Service::Sts => "sts",
        }
    }
}

pub const DEFAULT_DELAY_MS: u64 = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSpec {
    pub kind: FaultKind,
    /// 1-based: the fault starts with the at-th request it watches after installation.
    pub at: u64,
    pub count: u64,
    pub ms: u64,
    /// Only requests signed for this region (the credential scope's region).
    pub region: Option<String>,
    /// Only requests for this account (EC2: the account of the signing key; STS: the account
    /// of the role asked for).
    pub account: Option<String>,
    pub service: Service,
}

/// What a request is, for the faults' purposes. `None` where the request does not tell.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub service: Service,
    pub region: Option<&'a str>,
    pub account: Option<&'a str>,
}

impl FaultSpec {
    pub fn parse(spec: &str) -> Result<FaultSpec, String> {
        let mut parts = spec.split(',').map(str::trim);
        let kind_name = parts.next().unwrap_or_default();
        let kind = FaultKind::ALL.iter().find(|(n, _)| *n == kind_name).map(|(_, k)| *k).ok_or_else(|| {
            let names: Vec<&str> = FaultKind::ALL.iter().map(|(n, _)| *n).collect();
            format!("unknown fault kind `{kind_name}` (one of: {})", names.join(", "))
        })?;
        let mut f = FaultSpec { kind, at: 1, count: 1, ms: DEFAULT_DELAY_MS, region: None, account: None, service: Service::Ec2 };
        for part in parts {
            let (key, value) = part.split_once('=').ok_or_else(|| format!("`{part}` in fault `{spec}` is not key=value"))?;
            match key {
                "region" => {
                    if !is_region_name(value) {
                        return Err(format!("`{value}` in fault `{spec}` is not a region name"));
                    }
                    f.region = Some(value.to_owned());
                    continue;
                }
                "account" => {
                    if !is_account_id(value) {
                        return Err(format!("`{value}` in fault `{spec}` is not a 12-digit account id"));
                    }
                    f.account = Some(value.to_owned());
                    continue;
                }
                "service" => {
                    f.service = match value {
                        "ec2" => Service::Ec2,
                        "sts" => Service::Sts,
                        _ => return Err(format!("service in fault `{spec}` must be ec2 or sts")),
                    };
                    continue;
                }
                _ => {}
            }
            let n: u64 = value.parse().map_err(|_| format!("`{value}` in fault `{spec}` is not a non-negative integer"))?;
            match key {
                "at" if n >= 1 => f.at = n,
                "count" if n >= 1 => f.count = n,
                "ms" => f.ms = n,
                "at" | "count" => {
                    return Err(format!("{key} must be at least 1 in fault `{spec}`"));
                }
                _ => return Err(format!("unknown fault parameter `{key}` in `{spec}`")),
            }
        }
        if f.service == Service::Sts && f.kind.is_paging_only() {
            return Err(format!("fault `{spec}`: {} only applies to DescribeStoreImageTasks, not to sts", f.kind.name()));
        }
        Ok(f)
    }

    pub fn to_spec_string(&self) -> String {
        let mut s = format!("{},at={},count={}", self.kind.name(), self.at, self.count);
        if self.kind == FaultKind::Delay {
            s.push_str(&format!(",ms={}", self.ms));
        }
        if let Some(r) = &self.region {
            s.push_str(&format!(",region={r}"));
        }
        if let Some(a) = &self.account {
            s.push_str(&format!(",account={a}"));
        }
        if self.service == Service::Sts {
            s.push_str(",service=sts");
        }
        s
    }

    /// Whether the fault watches this request.
    pub fn watches(&self, t: &Target<'_>) -> bool {
        self.service == t.service
            && self.region.as_deref().is_none_or(|r| t.region == Some(r))
            && self.account.as_deref().is_none_or(|a| t.account == Some(a))
    }

    /// The ordinal (among watched requests) of the fault's last hit.
    fn last(&self) -> u64 {
        self.at.saturating_add(self.count - 1)
    }
}

/// An installed fault and how many requests it has watched since its installation.
#[derive(Debug, Clone)]
struct Installed {
    spec: FaultSpec,
    seen: u64,
}

#[derive(Debug, Serialize)]
pub struct PendingFault {
    pub spec: String,
    pub kind: &'static str,
    /// How many watched requests will pass before the fault's next hit (0: the next one).
    pub starts_after: u64,
    pub remaining: u64,
    pub ms: u64,
    pub service: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

#[derive(Default)]
pub struct FaultBook {
    installed: Vec<Installed>,
}

impl FaultBook {
    pub fn install(&mut self, spec: FaultSpec) {
        self.installed.push(Installed { spec, seen: 0 });
    }

    pub fn clear(&mut self) -> usize {
        let n = self.installed.len();
        self.installed.clear();
        n
    }

    /// Counts the request for every fault that watches it and returns the fault that applies;
    /// the first installed fault wins when several cover the same request (the others still
    /// count it).
    pub fn hit(&mut self, target: &Target<'_>) -> Option<FaultSpec> {
        let mut winner = None;
        for f in &mut self.installed {
            if !f.spec.watches(target) {
                continue;
            }
            f.seen += 1;
            if winner.is_none() && f.spec.at <= f.seen && f.seen <= f.spec.last() {
                winner = Some(f.spec.clone());
            }
        }
        self.installed.retain(|f| f.seen < f.spec.last());
        winner
    }

    pub fn pending(&self) -> Vec<PendingFault> {
        self.installed
            .iter()
            .filter(|f| f.spec.last() > f.seen)
            .map(|f| {
                let next = f.seen + 1;
                let from = f.spec.at.max(next);
                PendingFault {
                    spec: f.spec.to_spec_string(),
                    kind: f.spec.kind.name(),
                    starts_after: from - next,
                    remaining: f.spec.last() - from + 1,
                    ms: f.spec.ms,
                    service: f.spec.service.name(),
                    region: f.spec.region.clone(),
                    account: f.spec.account.clone(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANY: Target<'static> = Target { service: Service::Ec2, region: None, account: None };

    /// A book with `specs` installed in order.
    fn book_of(specs: &[&str]) -> FaultBook {
        let mut book = FaultBook::default();
        for spec in specs {
            book.install(FaultSpec::parse(spec).unwrap());
        }
        book
    }

    fn ec2<'a>(region: &'a str, account: &'a str) -> Target<'a> {
        Target { service: Service::Ec2, region: Some(region), account: Some(account) }
    }

    #[test]
    fn parses_specs() {
        let f = FaultSpec::parse("delay,at=3,count=2,ms=250").unwrap();
        assert_eq!(
            f,
            FaultSpec { kind: FaultKind::Delay, at: 3, count: 2, ms: 250, region: None, account: None, service: Service::Ec2 }
        );
        assert_eq!(FaultSpec::parse("repeat-token").unwrap().count, 1);
        assert!(FaultSpec::parse("explode").is_err());
        assert!(FaultSpec::parse("throttle,at=0").is_err());
        assert!(FaultSpec::parse("throttle,colour=red").is_err());
    }

    #[test]
    fn parses_targets_and_deny() {
        let f = FaultSpec::parse("deny,region=ap-south-1,count=1000000,account=210987654321").unwrap();
        assert_eq!(f.kind, FaultKind::Deny);
        assert_eq!((f.region.as_deref(), f.account.as_deref(), f.count), (Some("ap-south-1"), Some("210987654321"), 1_000_000));
        assert_eq!(f.to_spec_string(), "deny,at=1,count=1000000,region=ap-south-1,account=210987654321");
        assert_eq!(FaultSpec::parse(&f.to_spec_string()).unwrap(), f);
        let s = FaultSpec::parse("throttle,service=sts,account=210987654321").unwrap();
        assert_eq!(s.service, Service::Sts);
        assert_eq!(FaultSpec::parse(&s.to_spec_string()).unwrap(), s);
        for bad in [
            "throttle,region=EU_WEST",
            "throttle,region=",
            "throttle,account=12345",
            "throttle,account=abcdefghijkl",
            "throttle,service=s3",
            "empty-pages,service=sts",
            "throttle,region",
        ] {
            assert!(FaultSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hits_the_right_ordinals() {
        let mut book = book_of(&["throttle,at=2,count=2"]);
        assert!(book.hit(&ANY).is_none());
        assert!(book.hit(&ANY).is_some());
        assert_eq!(book.pending()[0].remaining, 1);
        assert!(book.hit(&ANY).is_some());
        assert!(book.hit(&ANY).is_none());
        assert!(book.pending().is_empty());
    }

    #[test]
    fn targeted_faults_count_only_their_requests() {
        let mut book = book_of(&["throttle,at=2,region=eu-west-3", "deny,account=210987654321,count=2", "internal,service=sts"]);
        let home = ec2("us-east-1", "123456789012");
        let paris = ec2("eu-west-3", "123456789012");
        let other = ec2("us-east-1", "210987654321");
        assert!(book.hit(&home).is_none());
        assert!(book.hit(&ANY).is_none(), "a request that names no region is not watched by region= faults");
        assert!(book.hit(&paris).is_none(), "the first eu-west-3 request");
        assert_eq!(book.pending()[0].starts_after, 0);
        assert!(book.hit(&home).is_none());
        assert_eq!(book.hit(&paris).unwrap().kind, FaultKind::Throttle, "the second eu-west-3 request");
        assert_eq!(book.hit(&other).unwrap().kind, FaultKind::Deny);
        assert_eq!(book.hit(&ec2("eu-west-3", "210987654321")).unwrap().kind, FaultKind::Deny);
        assert!(book.hit(&other).is_none());
        let pending = book.pending();
        assert_eq!(pending.len(), 1);
        assert_eq!((pending[0].kind, pending[0].service), ("internal", "sts"));
        let sts = Target { service: Service::Sts, region: Some("us-east-1"), account: None };
        assert_eq!(book.hit(&sts).unwrap().kind, FaultKind::Internal);
        assert!(book.pending().is_empty());
    }

    #[test]
    fn first_installed_wins_and_others_still_count() {
        let mut book = book_of(&["throttle,region=eu-west-3", "internal,count=2"]);
        let paris = ec2("eu-west-3", "123456789012");
        assert_eq!(book.hit(&paris).unwrap().kind, FaultKind::Throttle);
        assert_eq!(book.hit(&paris).unwrap().kind, FaultKind::Internal);
        assert!(book.hit(&paris).is_none());
    }

    #[test]
    fn huge_counts_do_not_overflow() {
        let mut book = book_of(&[&format!("delay,at={},count={}", u64::MAX, u64::MAX)]);
        assert!(book.hit(&ANY).is_none());
        assert_eq!(book.pending()[0].remaining, 1);
    }
}
