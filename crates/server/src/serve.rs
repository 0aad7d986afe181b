//! The accept loop: HTTP/1.1 connections served by hyper with the connection bounds of
//! [`Limits`](crate::limits::Limits), and a graceful shutdown.
//!
//! `axum::serve` can set neither a header read timeout nor a connection limit, so a client
//! could hold any number of connections open by sending half a header, or nothing. Here:
//!
//! - at most `max_connections` are open at once: the loop stops accepting while they are
//!   all taken (further clients wait in the kernel's listen backlog);
//! - a connection that takes longer than `header_read_timeout_seconds` to send a request's
//!   headers — or sits that long idle between requests — is closed (hyper's
//!   `header_read_timeout`, which runs from the moment the server waits for a request);
//! - the whole request is held to `request_timeout_seconds` by [`crate::limits::deadline`]
//!   in the router;
//! - each request carries its peer's address (`ConnectInfo<SocketAddr>`) for the per-client
//!   limits of [`crate::verification`].
//!
//! On shutdown the listener closes, idle connections close at once and open requests are
//! finished (an event batch being stored is stored and answered).
//!
//! With the `tls` feature, [`serve_tls`] speaks HTTPS with rustls: the handshake runs in the
//! connection's own task, held to the header read timeout, so a client that never finishes
//! it takes a connection slot for no longer than one that never sends its headers.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_service::Service;

use crate::{AppState, router};

/// Serves the API on `listener` until `shutdown` completes, then drains open requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, None, shutdown).await
}

/// [`serve`] over TLS: every connection first completes a handshake with `tls`.
#[cfg(feature = "tls")]
pub async fn serve_tls(
    listener: TcpListener,
    state: AppState,
    tls: crate::tls::Tls,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, Some(tls), shutdown).await
}

/// What a connection is wrapped in before HTTP: nothing, or TLS.
#[cfg(feature = "tls")]
type Wrap = Option<crate::tls::Tls>;
#[cfg(not(feature = "tls"))]
type Wrap = Option<std::convert::Infallible>;

async fn serve_with(
    listener: TcpListener,
    state: AppState,
    wrap: Wrap,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.limits.clone();
    let closing = state.closing.clone();
    let router = router(state);
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout())
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => {
                permit.expect("the connection semaphore is never closed")
            }
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    pause_after(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small answers go out at once rather than waiting for Nagle's timer.
        let _ = stream.set_nodelay(true);
        let service = with_peer(&router, peer);
        let watcher = graceful.watcher();
        let builder = builder.clone();
        #[cfg(feature = "tls")]
        let handshake_limit = limits.header_read_timeout();
        let wrap = wrap.as_ref().cloned();
        tokio::spawn(async move {
            // Held until the connection ends, however it ends.
            let _permit = permit;
            let result = match wrap {
                None => {
                    let connection = builder.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(connection).await
                }
                #[cfg(feature = "tls")]
                Some(tls) => {
                    let accepted =
                        tokio::time::timeout(handshake_limit, tls.acceptor().accept(stream)).await;
                    let stream = match accepted {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(error)) => {
                            tracing::debug!(%peer, %error, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    };
                    let connection = builder.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(connection).await
                }
                #[cfg(not(feature = "tls"))]
                Some(never) => match never {},
            };
            if let Err(error) = result {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // Live streams (the dashboard's server-sent events) never finish by themselves.
    closing.send_replace(true);
    graceful.shutdown().await;
    Ok(())
}

/// The router as a hyper service for one connection, each request carrying `peer`.
fn with_peer(
    router: &Router,
    peer: SocketAddr,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<axum::response::Response, std::convert::Infallible>>
             + Send
             + 'static,
> + Clone
+ 'static {
    let router = router.clone();
    hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        // A router is always ready; `call` on a clone leaves this one untouched.
        router.clone().call(request)
    })
}

/// After a failed `accept`: connection errors (the peer went away before being accepted)
/// are passed over at once; others (out of file descriptors) wait a moment, so the loop does
/// not spin, as `axum::serve` does.
async fn pause_after(error: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
