//! storetasks-emulator: a local Amazon EC2 endpoint for DescribeStoreImageTasks and
//! CreateStoreImageTask, faithful to the EC2 Query protocol on the wire. See README.md.

mod accounts;
mod api;
mod cli;
mod control;
mod faults;
mod server;
mod sigv4;
mod state;
mod store;
mod sts;
mod tls;
mod xml;

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use crate::accounts::Pair;
use crate::cli::{Options, Parsed};
use crate::state::Emulator;
use crate::store::{Clock, Store, TasksFile};

/// The home pair's tasks: `--tasks-file` and `--generate` as they have always been.
fn load_home(opts: &Options, clock: &Clock) -> Result<Store, String> {
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

/// The tasks of every served pair: the home pair's, then `--generate N` for each other pair,
/// in pair order, with AMI ids distinct from all ids before them.
fn load(opts: &Options, clock: &Clock) -> Result<BTreeMap<Pair, Store>, String> {
    let home = opts.home_pair();
    let home_store = load_home(opts, clock)?;
    let mut taken: HashSet<String> = home_store.ami_ids().map(str::to_owned).collect();
    let mut stores = BTreeMap::new();
    stores.insert(home.clone(), home_store);
    let now = clock.now_ms();
    for pair in opts.pairs().into_iter().filter(|p| *p != home) {
        let mut store = Store::default();
        if let Some(n) = opts.generate {
            store.add_entries(store::generate_for_pair(n, opts.seed, &pair, now, &mut taken), now);
        }
        stores.insert(pair, store);
    }
    Ok(stores)
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

async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), String> {
    let socket = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    Ok((socket, local))
}

async fn run(opts: Options, stores: BTreeMap<Pair, Store>, clock: Clock) -> Result<(), String> {
    let tls = opts.tls_dir.as_deref().map(tls::acceptor).transpose()?;
    let (socket, local) = bind(SocketAddr::new(opts.bind, opts.port)).await?;
    let mut ports = vec![server::Port { socket, listener: api::Listener::Main, tls: tls.clone() }];
    let mut sts_local = None;
    if let Some(port) = opts.sts_port {
        let (socket, local) = bind(SocketAddr::new(opts.bind, port)).await?;
        ports.push(server::Port { socket, listener: api::Listener::Sts, tls });
        sts_local = Some(local);
    }
    let emu = Arc::new(Emulator::new(opts, stores, clock));
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
    let mut ready = format!("listening {local}\n");
    if let Some(sts) = sts_local {
        ready.push_str(&format!("sts {sts}\n"));
    }
    out.write_all(ready.as_bytes()).and_then(|()| out.flush()).map_err(|e| e.to_string())?;
    drop(out);
    server::serve(ports, router, shutdown).await;
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
    if let Some(target) = &opts.dump_tasks {
        let store = match load_home(&opts, &clock) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("storetasks-emulator: {e}");
                return ExitCode::from(2);
            }
        };
        return match dump(&store, target) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("storetasks-emulator: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let stores = match load(&opts, &clock) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("storetasks-emulator: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("storetasks-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(opts, stores, clock));
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("storetasks-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}
