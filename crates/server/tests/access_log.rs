//! The access log: every request leaves one `mixplane::access` event naming its method, path,
//! status, latency and principal — including requests refused before any handler ran.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::TestApp;

/// A writer appending to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self, needle: &str) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_owned)
            .collect()
    }
}

#[tokio::test]
async fn every_request_leaves_one_access_line() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let app = TestApp::start().await;
    let (status, _, _) = app.get("/v1/orders?limit=1&mode=process").await;
    assert_eq!(status, 200);
    let anonymous = app
        .client
        .get(app.url("/v1/work-centers"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let (status, _, _) = app.get("/v1/nowhere").await;
    assert_eq!(status, 404);

    let orders = captured.lines("path=/v1/orders");
    assert_eq!(orders.len(), 1, "one line per request: {orders:?}");
    let line = &orders[0];
    for needle in [
        "mixplane::access",
        "method=GET",
        "status=200",
        "latency_ms=",
        "principal=person:alice",
    ] {
        assert!(line.contains(needle), "`{needle}` missing from {line}");
    }
    let refused = captured.lines("path=/v1/work-centers");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].contains("status=401") && refused[0].contains("principal=-"));
    let missing = captured.lines("path=/v1/nowhere");
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(missing[0].contains("status=404"));
}
