//! HTTP serving: an accept loop over hyper's HTTP/1.1 connections, with the axum router as the
//! service. The loop owns each connection so that a `drop` fault can close it without a reply.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tower_service::Service;

use crate::api::{self, Reply};
use crate::control;
use crate::state::Emulator;

/// Largest request body accepted.
const MAX_BODY: usize = 1 << 20;

/// Put in each request's extensions: notifying it closes the request's connection.
#[derive(Clone)]
struct ConnectionKill(Arc<Notify>);

pub fn router(emu: Arc<Emulator>) -> Router {
    control::routes().fallback(ec2_api).with_state(emu)
}

async fn ec2_api(State(emu): State<Arc<Emulator>>, req: Request) -> Response {
    let request_id = emu.request_id();
    if req.uri().path().starts_with("/_emulator") {
        return control::json_response(StatusCode::NOT_FOUND, json!({ "error": "no such control endpoint" }));
    }
    let kill = req.extensions().get::<ConnectionKill>().cloned();
    let (parts, body) = req.into_parts();
    let body = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return control::json_response(StatusCode::PAYLOAD_TOO_LARGE, json!({ "error": "body too large" }));
        }
    };
    let reply = api::handle(
        &emu,
        api::Request { method: &parts.method, uri: &parts.uri, headers: &parts.headers, body: &body },
        &request_id,
    )
    .await;
    match reply {
        Reply::Xml { status, body } => Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "text/xml;charset=UTF-8")
            .header("x-amzn-requestid", HeaderValue::from_str(&request_id).expect("request ids are ASCII"))
            .header(header::SERVER, "AmazonEC2")
            .body(Body::from(body))
            .expect("static response parts are valid"),
        Reply::StsXml { status, body } => Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "text/xml")
            .header("x-amzn-requestid", HeaderValue::from_str(&request_id).expect("request ids are ASCII"))
            .body(Body::from(body))
            .expect("static response parts are valid"),
        Reply::Drop => {
            if let Some(kill) = kill {
                kill.0.notify_one();
            }
            // The connection task drops this future together with the connection.
            std::future::pending().await
        }
    }
}

async fn serve_connection(stream: TcpStream, router: Router) {
    let _ = stream.set_nodelay(true);
    let kill = Arc::new(Notify::new());
    let handle = ConnectionKill(kill.clone());
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(handle.clone());
        let mut router = router.clone();
        async move { router.call(req).await }
    });
    let conn = hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = conn => {}
        _ = kill.notified() => {}
    }
}

/// Accepts connections until `shutdown` completes, then gives the open ones up to a second to
/// end, so that the answer that asked for the shutdown (`POST /_emulator/shutdown`) still goes
/// out before the process exits.
pub async fn serve(listener: TcpListener, router: Router, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    let mut open = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    while open.try_join_next().is_some() {}
                    open.spawn(serve_connection(stream, router.clone()));
                }
                Err(e) => {
                    eprintln!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), async { while open.join_next().await.is_some() {} }).await;
}
