//! HTTP serving: an accept loop over hyper's HTTP/1.1 connections (over TLS with `--tls`), with
//! the axum router as the service. The loop owns each connection so that a `drop` fault can
//! close it without a reply. Each request carries the listener it came in on.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;
use tower_service::Service;

use crate::api::{self, Listener, Reply};
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
    let listener = req.extensions().get::<Listener>().copied().unwrap_or(Listener::Main);
    let (parts, body) = req.into_parts();
    let body = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return control::json_response(StatusCode::PAYLOAD_TOO_LARGE, json!({ "error": "body too large" }));
        }
    };
    let reply = api::handle(
        &emu,
        api::Request { method: &parts.method, uri: &parts.uri, headers: &parts.headers, body: &body, listener },
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
        Reply::Foreign { status, content_type, body } => Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, content_type)
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

async fn serve_connection<S>(stream: S, router: Router, listener: Listener)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let kill = Arc::new(Notify::new());
    let handle = ConnectionKill(kill.clone());
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(handle.clone());
        req.extensions_mut().insert(listener);
        let mut router = router.clone();
        async move { router.call(req).await }
    });
    let conn = hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = conn => {}
        _ = kill.notified() => {}
    }
}

/// One listening socket and how to serve what it accepts.
pub struct Port {
    pub socket: TcpListener,
    pub listener: Listener,
    pub tls: Option<TlsAcceptor>,
}

/// Accepts connections on every port until `shutdown` completes, then gives the open ones up to
/// a second to end, so that the answer that asked for the shutdown (`POST /_emulator/shutdown`)
/// still goes out before the process exits.
pub async fn serve(ports: Vec<Port>, router: Router, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    let (accepted_tx, mut accepted) = tokio::sync::mpsc::channel(16);
    let mut acceptors = tokio::task::JoinSet::new();
    for port in ports {
        let tx = accepted_tx.clone();
        acceptors.spawn(async move {
            loop {
                match port.socket.accept().await {
                    Ok((stream, _)) => {
                        let _ = stream.set_nodelay(true);
                        if tx.send((stream, port.listener, port.tls.clone())).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        eprintln!("accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
            }
        });
    }
    let mut open = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            Some((stream, listener, tls)) = accepted.recv() => {
                while open.try_join_next().is_some() {}
                let router = router.clone();
                open.spawn(async move {
                    match tls {
                        None => serve_connection(stream, router, listener).await,
                        // A client that gives up on the handshake (one that does not trust the
                        // test CA) just ends its connection.
                        Some(tls) => {
                            if let Ok(stream) = tls.accept(stream).await {
                                serve_connection(stream, router, listener).await;
                            }
                        }
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    acceptors.abort_all();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), async { while open.join_next().await.is_some() {} }).await;
}
