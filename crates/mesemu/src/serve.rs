//! The accept loop: HTTP/1.1 connections served by hyper, and the outage that closes the
//! port. While the emulator is down in `refuse` mode the listener is dropped (connections
//! are refused), open connections finish the request they are serving and close, and the
//! same address is bound again when the outage ends (by itself, or early when told `up`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_service::Service;

use crate::Shared;
use crate::faults::DownMode;

/// How long a request's headers may take to arrive.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `shutdown` turns true.
pub(crate) async fn accept_loop(
    mut listener: TcpListener,
    router: Router,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(error) => {
            tracing::error!(%error, "the listener has no address");
            return;
        }
    };
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    loop {
        let graceful = GracefulShutdown::new();
        let until = loop {
            if let Some(until) = refusing_until(&shared) {
                break until;
            }
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        let service = hyper::service::service_fn({
                            let router = router.clone();
                            move |request: hyper::Request<Incoming>| {
                                let mut router = router.clone();
                                async move { router.call(request.map(axum::body::Body::new)).await }
                            }
                        });
                        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                        tokio::spawn(async move {
                            if let Err(error) = connection.await {
                                tracing::debug!(%peer, %error, "connection ended with an error");
                            }
                        });
                    }
                    Err(error) => {
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                () = shared.outage.notified() => {}
                _ = shutdown.changed() => {
                    graceful.shutdown().await;
                    return;
                }
            }
        };
        drop(listener);
        // In-flight requests (the admin call that set the outage) finish; idle ones close.
        tokio::spawn(graceful.shutdown());
        tracing::info!(seconds = ?until.saturating_duration_since(Instant::now()), "down: the port is closed");
        // Until the outage ends, or a fault request ends (`up`) or extends it.
        let mut until = until;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(until.into()) => {}
                () = shared.outage.notified() => {}
                _ = shutdown.changed() => return,
            }
            match refusing_until(&shared) {
                Some(later) => until = later,
                None => break,
            }
        }
        listener = match rebind(addr).await {
            Some(listener) => listener,
            None => return,
        };
        tracing::info!(%addr, "up again");
    }
}

/// The end of an outage in `refuse` mode in force now, if any.
fn refusing_until(shared: &Shared) -> Option<Instant> {
    let mut faults = shared
        .faults
        .lock()
        .expect("the faults lock is never poisoned");
    match faults.down_at(Instant::now()) {
        Some((until, DownMode::Refuse)) => Some(until),
        _ => None,
    }
}

/// Binds `addr` again after an outage; the port may take a moment to be free.
async fn rebind(addr: SocketAddr) -> Option<TcpListener> {
    for _ in 0..100 {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Some(listener),
            Err(error) => {
                tracing::debug!(%addr, %error, "binding again after the outage");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    tracing::error!(%addr, "could not bind the address again after the outage");
    None
}
