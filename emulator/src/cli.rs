//! Command-line options.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::accounts::{DEFAULT_ACCOUNT_ID, Pair, Role, is_account_id, is_region_name};
use crate::faults::{FaultSpec, Service};
use crate::store::parse_rfc3339_ms;

pub const DEFAULT_ACCESS_KEY: &str = "AKIASTORETASKSLOCAL1";
pub const DEFAULT_SECRET_KEY: &str = "storetasks-local-secret-key-0000000000000";
pub const DEFAULT_REGION: &str = "us-east-1";
pub const DEFAULT_PAGE_SIZE: usize = 100;

pub const HELP: &str = "\
storetasks-emulator: a local Amazon EC2 endpoint for DescribeStoreImageTasks,
CreateStoreImageTask and DescribeRegions (EC2 Query protocol, API version
2016-11-15), and for STS AssumeRole, on one port.

USAGE:
    storetasks-emulator [OPTIONS]

Server:
    --port N                 TCP port to listen on (default 0: any free port)
    --bind ADDR              address to bind (default 127.0.0.1)
    --sts-port N             also listen on this port (0: any free port) for STS alone:
                             EC2 requests sent there get 400 (wrong endpoint)
    --tls DIR                serve HTTPS instead of HTTP: writes a new test CA
                             (DIR/ca.pem) and a certificate for localhost and 127.0.0.1
                             signed by it, valid for a day; clients trust DIR/ca.pem
    Once accepting connections, prints one line `listening ADDR:PORT` on stdout
    (with --sts-port, a second line `sts ADDR:PORT`).
    SIGTERM or SIGINT stop it with exit status 0.

Credentials (requests must carry a valid AWS Signature Version 4):
    --region R               the home region, always served (default us-east-1)
    --access-key K           accepted access key (default AKIASTORETASKSLOCAL1)
    --secret-key S           its secret (default storetasks-local-secret-key-0000000000000)
    --deny-key K             an extra access key, signed with the same secret, that is
                             authenticated but not authorized (403 UnauthorizedOperation);
                             repeatable

Regions and accounts:
    --regions R1,R2,...      more regions to serve (enabled, opt-in-not-required);
                             requests signed for a region not served get 401 AuthFailure
    --opt-in-region R        a region that exists but is not opted in: listed by
                             DescribeRegions only with AllRegions=true, EC2 requests
                             signed for it get 401 AuthFailure; repeatable
    --opted-in-region R      a served region that the account opted in to
                             (DescribeRegions: opted-in); repeatable
    --account-id ID          12-digit account of the access key and the deny keys
                             (default 123456789012)
    --role ARN               an assumable role, arn:aws:iam::<12 digits>:role/<name>;
                             its account gets data of its own in every served region;
                             STS AssumeRole (service sts, same port) hands out temporary
                             credentials for it; repeatable

Data:
    --tasks-file FILE        load tasks in the AWS CLI output shape
                             {\"StoreImageTaskResults\": [...]}; an extra member
                             \"EmulatorFailAt\": P on an InProgress task makes it fail
                             when its progress reaches P percent
    --generate N             generate N visible tasks (plus a few older than 31 days);
                             every served (account, region) pair other than the home
                             one (the --account-id account in --region) gets N tasks of
                             its own, from a seed derived from --seed and the pair
    --seed S                 seed for --generate (default 1)
    --dump-tasks FILE        write all tasks of the home pair (tasks-file shape, newest
                             first) to FILE (`-` for stdout) and exit without serving
    --now RFC3339            emulator clock at start-up (default: real time); it
                             advances in real time from there
    --progress-rate P        InProgress tasks gain P percentage points per second of
                             emulator time (default 0)
    --default-page-size N    page size when MaxResults is absent (default 100)

Faults:
    --fault SPEC             install a fault at start-up; repeatable.
                             SPEC = KIND[,at=K][,count=N][,ms=D][,region=R][,account=A]
                             [,service=ec2|sts], KIND one of
                             throttle internal unavailable drop delay truncate malformed
                             garbage wrongroot repeat-token empty-pages
                             ignore-max-results deny, or html (HTTP 500 with a load
                             balancer's HTML page), empty503 (HTTP 503, empty body),
                             json502 (HTTP 502 with a JSON body): replies that are
                             not EC2's.
                             region= and account= limit the fault to the requests for
                             that region and/or account, and at= counts only those;
                             service=sts aims it at AssumeRole requests instead

Control endpoint (no signature): /_emulator/stats, /_emulator/faults,
/_emulator/tasks[?region=R&account=A], /_emulator/clock, /_emulator/shutdown.
See emulator/README.md.

    -h, --help               print this help
";

/// The regions served, and those known but not served.
#[derive(Debug, Clone)]
pub struct Regions {
    /// The home region (`--region`).
    pub home: String,
    /// Regions served besides the home region (`--regions`), in the order given.
    pub others: Vec<String>,
    /// Regions DescribeRegions names but that are not served (`--opt-in-region`).
    pub opt_in: Vec<String>,
    /// Served regions whose opt-in status is `opted-in` (also in `others`).
    pub opted_in: Vec<String>,
}

/// Who may call: the access key's account and keys, and the roles it may assume.
#[derive(Debug, Clone)]
pub struct Identity {
    pub account_id: String,
    pub roles: Vec<Role>,
    pub access_key: String,
    pub secret_key: String,
    /// Keys that are known but refused (`UnauthorizedOperation`).
    pub deny_keys: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub port: u16,
    /// A second listener for STS alone.
    pub sts_port: Option<u16>,
    /// Where the test CA goes when serving HTTPS.
    pub tls_dir: Option<PathBuf>,
    pub bind: IpAddr,
    pub regions: Regions,
    pub identity: Identity,
    pub tasks_file: Option<PathBuf>,
    pub generate: Option<usize>,
    pub seed: u64,
    pub dump_tasks: Option<String>,
    pub now_ms: Option<i64>,
    pub progress_rate: f64,
    pub default_page_size: usize,
    pub faults: Vec<FaultSpec>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 0,
            sts_port: None,
            tls_dir: None,
            bind: IpAddr::from([127, 0, 0, 1]),
            regions: Regions { home: DEFAULT_REGION.to_owned(), others: Vec::new(), opt_in: Vec::new(), opted_in: Vec::new() },
            identity: Identity {
                account_id: DEFAULT_ACCOUNT_ID.to_owned(),
                roles: Vec::new(),
                access_key: DEFAULT_ACCESS_KEY.to_owned(),
                secret_key: DEFAULT_SECRET_KEY.to_owned(),
                deny_keys: Vec::new(),
            },
            tasks_file: None,
            generate: None,
            seed: 1,
            dump_tasks: None,
            now_ms: None,
            progress_rate: 0.0,
            default_page_size: DEFAULT_PAGE_SIZE,
            faults: Vec::new(),
        }
    }
}

impl Regions {
    /// The served regions, the home region included, sorted.
    pub fn served(&self) -> Vec<String> {
        let mut v: Vec<String> = std::iter::once(&self.home).chain(&self.others).cloned().collect();
        v.sort();
        v.dedup();
        v
    }

    pub fn serves(&self, region: &str) -> bool {
        region == self.home || self.others.iter().any(|r| r == region)
    }

    /// The opt-in status DescribeRegions gives a served region.
    pub fn opt_in_status(&self, region: &str) -> &'static str {
        if self.opted_in.iter().any(|r| r == region) { "opted-in" } else { "opt-in-not-required" }
    }

    pub fn is_opt_in(&self, region: &str) -> bool {
        self.opt_in.iter().any(|r| r == region)
    }
}

impl Identity {
    /// Every account with data: the access key's and the roles', sorted.
    pub fn accounts(&self) -> Vec<String> {
        let mut v: Vec<String> =
            std::iter::once(self.account_id.clone()).chain(self.roles.iter().map(|r| r.account.clone())).collect();
        v.sort();
        v.dedup();
        v
    }

    pub fn role(&self, arn: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.arn == arn)
    }
}

impl Options {
    pub fn home_pair(&self) -> Pair {
        Pair::new(&self.identity.account_id, &self.regions.home)
    }

    /// Every served (account, region) pair, sorted.
    pub fn pairs(&self) -> Vec<Pair> {
        let regions = self.regions.served();
        self.identity.accounts().iter().flat_map(|a| regions.iter().map(move |r| Pair::new(a, r))).collect()
    }

    /// Checks that a fault's region and account are ones this emulator knows.
    pub fn check_fault_target(&self, f: &FaultSpec) -> Result<(), String> {
        if let Some(r) = &f.region {
            let sts_global = f.service == Service::Sts && r == DEFAULT_REGION;
            if !self.regions.serves(r) && !self.regions.is_opt_in(r) && !sts_global {
                return Err(format!("fault `{}`: region {r} is neither served nor an opt-in region", f.to_spec_string()));
            }
        }
        if let Some(a) = &f.account
            && !self.identity.accounts().contains(a)
        {
            return Err(format!("fault `{}`: account {a} is neither --account-id nor a --role's account", f.to_spec_string()));
        }
        Ok(())
    }
}

pub enum Parsed {
    Run(Box<Options>),
    Help,
}

fn parse_num<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value.parse().map_err(|_| format!("{flag}: `{value}` is not a valid number"))
}

/// Parses the arguments after the program name. Accepts `--flag value` and `--flag=value`.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Parsed, String> {
    let mut opts = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Parsed::Help);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args.next().ok_or_else(|| format!("{flag} needs a value")),
            }
        };
        opts.set(&flag, &mut value)?;
    }
    opts.check()?;
    Ok(Parsed::Run(Box::new(opts)))
}

/// Adds region `r` (given with `flag`) to `list` once, after checking its name.
fn add_region(list: &mut Vec<String>, flag: &str, r: &str) -> Result<(), String> {
    if !is_region_name(r) {
        return Err(format!("{flag}: `{r}` is not a region name"));
    }
    if !list.iter().any(|x| x == r) {
        list.push(r.to_owned());
    }
    Ok(())
}

impl Options {
    /// Applies one option; `value` gives its value when it takes one.
    fn set(&mut self, flag: &str, value: &mut dyn FnMut() -> Result<String, String>) -> Result<(), String> {
        match flag {
            "--port" => self.port = parse_num(flag, &value()?)?,
            "--sts-port" => self.sts_port = Some(parse_num(flag, &value()?)?),
            "--tls" => self.tls_dir = Some(PathBuf::from(value()?)),
            "--bind" => {
                let v = value()?;
                self.bind = v.parse().map_err(|_| format!("--bind: `{v}` is not an IP address"))?;
            }
            "--region" => self.regions.home = value()?,
            "--regions" => {
                for r in value()?.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                    add_region(&mut self.regions.others, flag, r)?;
                }
            }
            "--opted-in-region" => {
                let r = value()?;
                add_region(&mut self.regions.opted_in, flag, &r)?;
                add_region(&mut self.regions.others, flag, &r)?;
            }
            "--opt-in-region" => add_region(&mut self.regions.opt_in, flag, &value()?)?,
            "--account-id" => {
                let a = value()?;
                if !is_account_id(&a) {
                    return Err(format!("--account-id: `{a}` is not a 12-digit account id"));
                }
                self.identity.account_id = a;
            }
            "--role" => {
                let role = Role::parse(&value()?).map_err(|e| format!("--role: {e}"))?;
                if self.identity.role(&role.arn).is_none() {
                    self.identity.roles.push(role);
                }
            }
            "--access-key" => self.identity.access_key = value()?,
            "--secret-key" => self.identity.secret_key = value()?,
            "--deny-key" => self.identity.deny_keys.push(value()?),
            "--tasks-file" => self.tasks_file = Some(PathBuf::from(value()?)),
            "--generate" => self.generate = Some(parse_num(flag, &value()?)?),
            "--seed" => self.seed = parse_num(flag, &value()?)?,
            "--dump-tasks" => self.dump_tasks = Some(value()?),
            "--now" => {
                let v = value()?;
                self.now_ms = Some(parse_rfc3339_ms(&v).ok_or_else(|| format!("--now: `{v}` is not RFC 3339"))?);
            }
            "--progress-rate" => {
                let rate: f64 = parse_num(flag, &value()?)?;
                if !rate.is_finite() || rate < 0.0 {
                    return Err("--progress-rate must be a finite number >= 0".into());
                }
                self.progress_rate = rate;
            }
            "--default-page-size" => {
                let n: usize = parse_num(flag, &value()?)?;
                if n == 0 {
                    return Err("--default-page-size must be at least 1".into());
                }
                self.default_page_size = n;
            }
            "--fault" => self.faults.push(FaultSpec::parse(&value()?).map_err(|e| format!("--fault: {e}"))?),
            other => return Err(format!("unknown argument `{other}` (see --help)")),
        }
        Ok(())
    }

    /// What no single option can check: how the options fit together.
    fn check(&self) -> Result<(), String> {
        if self.identity.deny_keys.contains(&self.identity.access_key) {
            return Err("--deny-key must differ from --access-key".into());
        }
        if let Some(r) = self.regions.opt_in.iter().find(|r| self.regions.serves(r)) {
            return Err(format!("--opt-in-region {r} is also a served region (--region or --regions)"));
        }
        for f in &self.faults {
            self.check_fault_target(f).map_err(|e| format!("--fault: {e}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Options, String> {
        match parse(args.iter().map(|s| (*s).to_owned()))? {
            Parsed::Run(o) => Ok(*o),
            Parsed::Help => Err("help".into()),
        }
    }

    #[test]
    fn defaults_serve_one_pair() {
        let o = run(&[]).unwrap();
        assert_eq!(o.regions.served(), ["us-east-1"]);
        assert_eq!(o.identity.accounts(), ["123456789012"]);
        assert_eq!(o.pairs(), [Pair::new("123456789012", "us-east-1")]);
        assert_eq!(o.home_pair(), o.pairs()[0]);
    }

    #[test]
    fn regions_accounts_and_roles() {
        let o = run(&[
            "--region",
            "eu-west-1",
            "--regions",
            "eu-west-3, ap-south-1,eu-west-1,eu-west-3",
            "--regions=ca-central-1",
            "--opt-in-region",
            "af-south-1",
            "--opt-in-region=me-south-1",
            "--account-id",
            "111111111111",
            "--role",
            "arn:aws:iam::222222222222:role/reader",
            "--role=arn:aws:iam::111111111111:role/same-account",
            "--role",
            "arn:aws:iam::333333333333:role/path/x",
            "--fault",
            "throttle,region=eu-west-3,count=1000000",
            "--fault",
            "deny,region=af-south-1,account=333333333333",
            "--fault",
            "internal,service=sts,region=us-east-1",
        ])
        .unwrap();
        assert_eq!(o.regions.served(), ["ap-south-1", "ca-central-1", "eu-west-1", "eu-west-3"]);
        assert!(
            o.regions.serves("eu-west-1")
                && o.regions.serves("ca-central-1")
                && !o.regions.serves("us-east-1")
                && !o.regions.serves("af-south-1")
        );
        assert!(o.regions.is_opt_in("me-south-1") && !o.regions.is_opt_in("eu-west-3"));
        assert_eq!(o.identity.accounts(), ["111111111111", "222222222222", "333333333333"]);
        assert_eq!(o.pairs().len(), 12);
        assert_eq!(o.home_pair(), Pair::new("111111111111", "eu-west-1"));
        assert_eq!(o.identity.role("arn:aws:iam::333333333333:role/path/x").unwrap().name, "x");
        assert_eq!(o.faults.len(), 3);
    }

    #[test]
    fn rejects_bad_values() {
        for (args, why) in [
            (&["--regions", "eu-west-3,EU"][..], "region syntax"),
            (&["--opt-in-region", "af_south_1"], "opt-in region syntax"),
            (&["--opt-in-region", "us-east-1"], "the home region cannot be opt-in"),
            (&["--regions", "eu-west-3", "--opt-in-region", "eu-west-3"], "served and opt-in"),
            (&["--account-id", "12345"], "account id length"),
            (&["--role", "arn:aws:iam::12345:role/x"], "role account"),
            (&["--role", "reader"], "not an ARN"),
            (&["--fault", "throttle,region=eu-west-3"], "fault region not served"),
            (&["--fault", "throttle,account=999999999999"], "fault account unknown"),
            (&["--fault", "throttle,region=us-east-1,service=s3"], "fault service"),
        ] {
            assert!(run(args).is_err(), "{why}: {args:?}");
        }
        // us-east-1 is the STS global region even when not served.
        assert!(run(&["--region", "eu-west-1", "--fault", "throttle,service=sts,region=us-east-1"]).is_ok());
        assert!(run(&["--region", "eu-west-1", "--fault", "throttle,region=us-east-1"]).is_err());
        let e = run(&["--fault", "deny,region=ap-south-1"]).unwrap_err();
        assert!(e.contains("ap-south-1"), "{e}");
    }
}
