//! What the programs share: the emulator's key, argument parsing and the output line.

use std::time::Instant;

pub const ACCESS_KEY: &str = "AKIASTORETASKSLOCAL1";
pub const SECRET_KEY: &str = "storetasks-local-secret-key-0000000000000";
pub const REGION: &str = "us-east-1";
pub const PAGE_SIZE: i32 = 200;

/// `--endpoint URL --tasks N --warmup W --reps R`.
pub struct Args {
    pub endpoint: String,
    pub tasks: usize,
    pub warmup: usize,
    pub reps: usize,
}

impl Args {
    pub fn parse(program: &str) -> Args {
        Args::parse_from(program, std::env::args().collect())
    }

    /// Parses `argv` (the program's name first).
    pub fn parse_from(program: &str, argv: Vec<String>) -> Args {
        let mut a = Args { endpoint: String::new(), tasks: 0, warmup: 1, reps: 5 };
        let mut it = argv.iter().skip(1);
        while let Some(flag) = it.next() {
            let value = it.next().unwrap_or_else(|| usage(program));
            let number = || value.parse::<usize>().unwrap_or_else(|_| usage(program));
            match flag.as_str() {
                "--endpoint" => a.endpoint = value.clone(),
                "--tasks" => a.tasks = number(),
                "--warmup" => a.warmup = number(),
                "--reps" => a.reps = number(),
                _ => usage(program),
            }
        }
        if a.endpoint.is_empty() || a.reps == 0 {
            usage(program);
        }
        a
    }
}

fn usage(program: &str) -> ! {
    eprintln!("usage: {program} --endpoint URL --tasks N [--warmup W] [--reps R]");
    std::process::exit(2);
}

/// Runs `listing` `warmup` times untimed, then `reps` times timed; each run returns the number
/// of tasks it saw, which must be `tasks` (when not 0). Prints `{"times": [seconds...]}`.
pub fn measure(args: &Args, mut listing: impl FnMut() -> usize) {
    let mut times = Vec::with_capacity(args.reps);
    for i in 0..args.warmup + args.reps {
        let start = Instant::now();
        let n = listing();
        let elapsed = start.elapsed().as_secs_f64();
        if args.tasks != 0 && n != args.tasks {
            eprintln!("listed {n} tasks, expected {}", args.tasks);
            std::process::exit(1);
        }
        if i >= args.warmup {
            times.push(elapsed);
        }
    }
    let list: Vec<String> = times.iter().map(|t| format!("{t:.6}")).collect();
    println!("{{\"times\": [{}]}}", list.join(", "));
}
