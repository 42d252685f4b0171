//! Injected faults: `KIND[,at=K][,count=N][,ms=D]`.

use serde::Serialize;

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
}

impl FaultKind {
    pub const ALL: [(&'static str, FaultKind); 12] = [
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
    ];

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, k)| *k == self).map(|(n, _)| *n).unwrap_or("?")
    }
}

pub const DEFAULT_DELAY_MS: u64 = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSpec {
    pub kind: FaultKind,
    /// 1-based: the fault starts with the at-th EC2 API request after installation.
    pub at: u64,
    pub count: u64,
    pub ms: u64,
}

impl FaultSpec {
    pub fn parse(spec: &str) -> Result<FaultSpec, String> {
        let mut parts = spec.split(',').map(str::trim);
        let kind_name = parts.next().unwrap_or_default();
        let kind = FaultKind::ALL.iter().find(|(n, _)| *n == kind_name).map(|(_, k)| *k).ok_or_else(|| {
            let names: Vec<&str> = FaultKind::ALL.iter().map(|(n, _)| *n).collect();
            format!("unknown fault kind `{kind_name}` (one of: {})", names.join(", "))
        })?;
        let mut f = FaultSpec { kind, at: 1, count: 1, ms: DEFAULT_DELAY_MS };
        for part in parts {
            let (key, value) = part.split_once('=').ok_or_else(|| format!("`{part}` in fault `{spec}` is not key=value"))?;
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
        Ok(f)
    }

    pub fn to_spec_string(&self) -> String {
        let mut s = format!("{},at={},count={}", self.kind.name(), self.at, self.count);
        if self.kind == FaultKind::Delay {
            s.push_str(&format!(",ms={}", self.ms));
        }
        s
    }
}

/// A fault installed when `installed_after` EC2 API requests had been received: it covers the
/// requests with ordinals `first..=last`.
#[derive(Debug, Clone)]
struct Installed {
    spec: FaultSpec,
    first: u64,
    last: u64,
}

#[derive(Debug, Serialize)]
pub struct PendingFault {
    pub spec: String,
    pub kind: &'static str,
    /// How many EC2 API requests will pass before the fault's next hit (0: the next one).
    pub starts_after: u64,
    pub remaining: u64,
    pub ms: u64,
}

#[derive(Default)]
pub struct FaultBook {
    installed: Vec<Installed>,
}

impl FaultBook {
    pub fn install(&mut self, spec: FaultSpec, requests_so_far: u64) {
        let first = requests_so_far + spec.at;
        let last = first + spec.count - 1;
        self.installed.push(Installed { spec, first, last });
    }

    pub fn clear(&mut self) -> usize {
        let n = self.installed.len();
        self.installed.clear();
        n
    }

    /// The fault that applies to the request with this 1-based ordinal; the first installed
    /// fault wins when several cover the same request.
    pub fn hit(&mut self, ordinal: u64) -> Option<FaultSpec> {
        self.installed.retain(|f| f.last >= ordinal);
        self.installed.iter().find(|f| f.first <= ordinal && ordinal <= f.last).map(|f| f.spec.clone())
    }

    pub fn pending(&self, requests_so_far: u64) -> Vec<PendingFault> {
        let next = requests_so_far + 1;
        self.installed
            .iter()
            .filter(|f| f.last >= next)
            .map(|f| {
                let from = f.first.max(next);
                PendingFault {
                    spec: f.spec.to_spec_string(),
                    kind: f.spec.kind.name(),
                    starts_after: from - next,
                    remaining: f.last - from + 1,
                    ms: f.spec.ms,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let f = FaultSpec::parse("delay,at=3,count=2,ms=250").unwrap();
        assert_eq!(f, FaultSpec { kind: FaultKind::Delay, at: 3, count: 2, ms: 250 });
        assert_eq!(FaultSpec::parse("repeat-token").unwrap().count, 1);
        assert!(FaultSpec::parse("explode").is_err());
        assert!(FaultSpec::parse("throttle,at=0").is_err());
        assert!(FaultSpec::parse("throttle,colour=red").is_err());
    }

    #[test]
    fn hits_the_right_ordinals() {
        let mut book = FaultBook::default();
        book.install(FaultSpec::parse("throttle,at=2,count=2").unwrap(), 10);
        assert!(book.hit(11).is_none());
        assert!(book.hit(12).is_some());
        assert!(book.hit(13).is_some());
        assert!(book.hit(14).is_none());
        assert!(book.pending(14).is_empty());
    }
}
