//! Command-line options.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::faults::FaultSpec;
use crate::store::parse_rfc3339_ms;

pub const DEFAULT_ACCESS_KEY: &str = "AKIASTORETASKSLOCAL1";
pub const DEFAULT_SECRET_KEY: &str = "storetasks-local-secret-key-0000000000000";
pub const DEFAULT_REGION: &str = "us-east-1";
pub const DEFAULT_PAGE_SIZE: usize = 100;

pub const HELP: &str = "\
storetasks-emulator: a local Amazon EC2 endpoint for DescribeStoreImageTasks
and CreateStoreImageTask (EC2 Query protocol, API version 2016-11-15).

USAGE:
    storetasks-emulator [OPTIONS]

Server:
    --port N                 TCP port to listen on (default 0: any free port)
    --bind ADDR              address to bind (default 127.0.0.1)
    Once accepting connections, prints one line `listening ADDR:PORT` on stdout.
    SIGTERM or SIGINT stop it with exit status 0.

Credentials (requests must carry a valid AWS Signature Version 4):
    --region R               region in the credential scope (default us-east-1)
    --access-key K           accepted access key (default AKIASTORETASKSLOCAL1)
    --secret-key S           its secret (default storetasks-local-secret-key-0000000000000)
    --deny-key K             an extra access key, signed with the same secret, that is
                             authenticated but not authorized (403 UnauthorizedOperation);
                             repeatable

Data:
    --tasks-file FILE        load tasks in the AWS CLI output shape
                             {\"StoreImageTaskResults\": [...]}; an extra member
                             \"EmulatorFailAt\": P on an InProgress task makes it fail
                             when its progress reaches P percent
    --generate N             generate N visible tasks (plus a few older than 31 days)
    --seed S                 seed for --generate (default 1)
    --dump-tasks FILE        write all tasks (tasks-file shape, newest first) to FILE
                             (`-` for stdout) and exit without serving
    --now RFC3339            emulator clock at start-up (default: real time); it
                             advances in real time from there
    --progress-rate P        InProgress tasks gain P percentage points per second of
                             emulator time (default 0)
    --default-page-size N    page size when MaxResults is absent (default 100)

Faults:
    --fault SPEC             install a fault at start-up; repeatable.
                             SPEC = KIND[,at=K][,count=N][,ms=D], KIND one of
                             throttle internal unavailable drop delay truncate malformed
                             garbage wrongroot repeat-token empty-pages
                             ignore-max-results

Control endpoint (no signature): /_emulator/stats, /_emulator/faults,
/_emulator/tasks, /_emulator/clock. See tests/emulator/README.md.

    -h, --help               print this help
";

#[derive(Debug, Clone)]
pub struct Options {
    pub port: u16,
    pub bind: IpAddr,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    pub deny_keys: Vec<String>,
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
            bind: IpAddr::from([127, 0, 0, 1]),
            region: DEFAULT_REGION.to_owned(),
            access_key: DEFAULT_ACCESS_KEY.to_owned(),
            secret_key: DEFAULT_SECRET_KEY.to_owned(),
            deny_keys: Vec::new(),
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
        match flag.as_str() {
            "--port" => opts.port = parse_num(&flag, &value()?)?,
            "--bind" => {
                let v = value()?;
                opts.bind = v.parse().map_err(|_| format!("--bind: `{v}` is not an IP address"))?;
            }
            "--region" => opts.region = value()?,
            "--access-key" => opts.access_key = value()?,
            "--secret-key" => opts.secret_key = value()?,
            "--deny-key" => opts.deny_keys.push(value()?),
            "--tasks-file" => opts.tasks_file = Some(PathBuf::from(value()?)),
            "--generate" => opts.generate = Some(parse_num(&flag, &value()?)?),
            "--seed" => opts.seed = parse_num(&flag, &value()?)?,
            "--dump-tasks" => opts.dump_tasks = Some(value()?),
            "--now" => {
                let v = value()?;
                opts.now_ms = Some(parse_rfc3339_ms(&v).ok_or_else(|| format!("--now: `{v}` is not RFC 3339"))?);
            }
            "--progress-rate" => {
                let rate: f64 = parse_num(&flag, &value()?)?;
                if !rate.is_finite() || rate < 0.0 {
                    return Err("--progress-rate must be a finite number >= 0".into());
                }
                opts.progress_rate = rate;
            }
            "--default-page-size" => {
                let n: usize = parse_num(&flag, &value()?)?;
                if n == 0 {
                    return Err("--default-page-size must be at least 1".into());
                }
                opts.default_page_size = n;
            }
            "--fault" => {
                let spec = value()?;
                opts.faults.push(FaultSpec::parse(&spec).map_err(|e| format!("--fault: {e}"))?);
            }
            other => return Err(format!("unknown argument `{other}` (see --help)")),
        }
    }
    if opts.deny_keys.contains(&opts.access_key) {
        return Err("--deny-key must differ from --access-key".into());
    }
    Ok(Parsed::Run(Box::new(opts)))
}
