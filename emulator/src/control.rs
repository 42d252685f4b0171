//! The control endpoint under `/_emulator/`: JSON in and out, no signature.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::accounts::Pair;
use crate::faults::FaultSpec;
use crate::state::Emulator;
use crate::store::{Store, TasksFile, format_ms};

type Shared = State<Arc<Emulator>>;

pub fn json_response(status: StatusCode, value: Value) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(value.to_string()))
        .expect("static response parts are valid")
}

fn bad_request(message: impl Into<String>) -> Response {
    json_response(StatusCode::BAD_REQUEST, json!({ "error": message.into() }))
}

pub fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/faults", get(list_faults).post(add_faults).delete(clear_faults))
        .route("/_emulator/tasks", get(list_tasks).post(add_tasks).delete(clear_tasks))
        .route("/_emulator/clock", get(clock).post(advance_clock))
        .route("/_emulator/shutdown", post(shutdown))
        .route("/_emulator/issued-secrets", get(issued_secrets))
        .route("/_emulator/max-in-flight", delete(reset_max_in_flight))
}

/// Stops the emulator as SIGTERM does: for a parent that cannot send signals (a Windows test
/// program under Wine starting this Linux binary).
async fn shutdown(State(emu): Shared) -> Response {
    emu.stop.notify_one();
    json_response(StatusCode::OK, json!({ "stopping": true }))
}

/// The secret keys and session tokens of the temporary credentials AssumeRole handed out, so that
/// a test can check that none of them shows in what a client logs or reports. Only this control
/// endpoint, which a test reaches on the loopback address, ever returns them.
async fn issued_secrets(State(emu): Shared) -> Response {
    json_response(StatusCode::OK, json!({ "secrets": emu.issued_secrets() }))
}

async fn stats(State(emu): Shared) -> Response {
    json_response(StatusCode::OK, emu.stats())
}

/// Starts the maxima of requests in flight again, so that a test measures its own calls.
async fn reset_max_in_flight(State(emu): Shared) -> Response {
    emu.reset_max_in_flight();
    json_response(StatusCode::OK, emu_in_flight(&emu))
}

fn emu_in_flight(emu: &Emulator) -> Value {
    emu.traffic(|t| json!({ "in_flight": t.in_flight, "max_in_flight": t.max_in_flight }))
}

async fn list_faults(State(emu): Shared) -> Response {
    json_response(StatusCode::OK, json!({ "faults": emu.pending_faults() }))
}

#[derive(Deserialize)]
struct FaultsBody {
    faults: Vec<String>,
}

async fn add_faults(State(emu): Shared, body: Bytes) -> Response {
    let parsed: FaultsBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(format!("expected {{\"faults\": [\"SPEC\", ...]}}: {e}")),
    };
    let specs: Result<Vec<FaultSpec>, String> =
        parsed.faults.iter().map(|s| FaultSpec::parse(s).and_then(|f| emu.opts.check_fault_target(&f).map(|()| f))).collect();
    match specs {
        Err(e) => bad_request(e),
        Ok(specs) => {
            let n = specs.len();
            emu.install_faults(specs);
            json_response(StatusCode::OK, json!({ "installed": n, "faults": emu.pending_faults() }))
        }
    }
}

async fn clear_faults(State(emu): Shared) -> Response {
    json_response(StatusCode::OK, json!({ "removed": emu.clear_faults() }))
}

/// The pair named by the `region=` and `account=` query parameters, each defaulting to the
/// home pair's.
fn pair_of(emu: &Emulator, uri: &Uri) -> Result<Pair, String> {
    let mut pair = emu.home_pair().clone();
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "region" => pair.region = v.into_owned(),
            "account" => pair.account = v.into_owned(),
            other => return Err(format!("unknown query parameter `{other}` (region= and account= are accepted)")),
        }
    }
    Ok(pair)
}

/// Runs `f` on the store of the pair the request names, or answers 400.
fn with_store(emu: &Emulator, uri: &Uri, f: impl FnOnce(&mut Store) -> Response) -> Response {
    let pair = match pair_of(emu, uri) {
        Ok(p) => p,
        Err(e) => return bad_request(e),
    };
    match emu.store_for(&pair) {
        Some(mut store) => f(&mut store),
        None => bad_request(format!("{pair} is not a served (account, region) pair")),
    }
}

async fn list_tasks(State(emu): Shared, uri: Uri) -> Response {
    with_store(&emu, &uri, |store| json_response(StatusCode::OK, serde_json::to_value(store.to_file()).unwrap_or(Value::Null)))
}

async fn add_tasks(State(emu): Shared, uri: Uri, body: Bytes) -> Response {
    match TasksFile::parse(&body) {
        Err(e) => bad_request(format!("not a tasks file: {e}")),
        Ok(file) => {
            let now = emu.clock.now_ms();
            with_store(&emu, &uri, |store| {
                let added = store.add_entries(file, now);
                json_response(StatusCode::OK, json!({ "added": added, "total": store.len() }))
            })
        }
    }
}

async fn clear_tasks(State(emu): Shared, uri: Uri) -> Response {
    with_store(&emu, &uri, |store| json_response(StatusCode::OK, json!({ "removed": store.clear() })))
}

async fn clock(State(emu): Shared) -> Response {
    json_response(StatusCode::OK, json!({ "now": format_ms(emu.clock.now_ms()) }))
}

#[derive(Deserialize)]
struct AdvanceBody {
    advance_seconds: f64,
}

async fn advance_clock(State(emu): Shared, body: Bytes) -> Response {
    let parsed: AdvanceBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(format!("expected {{\"advance_seconds\": X}}: {e}")),
    };
    if !parsed.advance_seconds.is_finite() || parsed.advance_seconds < 0.0 {
        return bad_request("advance_seconds must be a finite number >= 0");
    }
    emu.clock.advance_ms((parsed.advance_seconds * 1000.0).round() as i64);
    json_response(StatusCode::OK, json!({ "now": format_ms(emu.clock.now_ms()) }))
}
