//! storetasks-emulator: a local Amazon EC2 endpoint for DescribeStoreImageTasks and
//! CreateStoreImageTask, faithful to the EC2 Query protocol on the wire. See README.md.

mod api;
mod cli;
mod control;
mod faults;
mod server;
mod sigv4;
mod state;
mod store;
mod xml;

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::{Options, Parsed};
use crate::state::Emulator;
use crate::store::{Clock, Store, TasksFile};

fn load(opts: &Options, clock: &Clock) -> Result<Store, String> {
    let now = clock.now_ms();
    let mut store = Store::default();
    if let Some(path) = &opts.tasks_file {
        let bytes = std::fs::read(path).map_err(|e| format!("--tasks-file {}: {e}", path.display()))?;
        let file = TasksFile::parse(&bytes).map_err(|e| format!("--tasks-file {}: {e}", path.display()))?;
        store.add_entries(file, now);
    }
    if let Some(n) = opts.generate {
        store.add_entries(store::generate(n, opts.seed, now), now);
    }
    Ok(store)
}

fn dump(store: &Store, target: &str) -> Result<(), String> {
    let mut json = serde_json::to_string_pretty(&store.to_file()).map_err(|e| e.to_string())?;
    json.push('\n');
    if target == "-" {
        std::io::stdout().write_all(json.as_bytes()).map_err(|e| e.to_string())
    } else {
        std::fs::write(target, json).map_err(|e| format!("--dump-tasks {target}: {e}"))
    }
}

async fn run(opts: Options, store: Store, clock: Clock) -> Result<(), String> {
    let addr = SocketAddr::new(opts.bind, opts.port);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let emu = Arc::new(Emulator::new(opts, store, clock));
    let router = server::router(emu.clone());
    // Signal handlers go in before the line that tells the parent we are ready.
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM handler: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT handler: {e}"))?;
    let shutdown = async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
            () = emu.stop.notified() => {}
        }
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening {local}").and_then(|()| out.flush()).map_err(|e| e.to_string())?;
    drop(out);
    server::serve(listener, router, shutdown).await;
    Ok(())
}

fn main() -> ExitCode {
    let opts = match cli::parse(std::env::args().skip(1)) {
        Ok(Parsed::Help) => {
            print!("{}", cli::HELP);
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Run(o)) => *o,
        Err(e) => {
            eprintln!("storetasks-emulator: {e}");
            return ExitCode::from(2);
        }
    };
    let clock = Clock::new(opts.now_ms);
    let store = match load(&opts, &clock) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("storetasks-emulator: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(target) = &opts.dump_tasks {
        return match dump(&store, target) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("storetasks-emulator: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("storetasks-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(opts, store, clock));
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("storetasks-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}
