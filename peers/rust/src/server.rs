//! What every workload shares: listening, the answers that do not depend on the workload (404,
//! 405, 408), the request counter, the request timeout and the graceful stop.
//!
//! A workload is an `App`: an axum `Router` served over HTTP/1.1 (echo, csv, sql), or tonic's
//! gRPC `Routes` served over cleartext HTTP/2 (grpc, see `grpc::serve`). Both are listened for,
//! counted and stopped the same way (`run`, `serve`); the rest of this file is the HTTP/1.1 side.
//! Both are observed (`telemetry`): the HTTP workloads answer `GET /metrics` on their own port,
//! grpc on `--metrics-port` (`serve_scrapes`).
//! Cargo builds hyper once for both, with HTTP/2 for tonic, and axum::serve's connection builder
//! then speaks it too: a client that opens with the HTTP/2 preface (prior knowledge) is answered
//! over HTTP/2 by the HTTP workloads as well. Every HTTP/1.x request is served as before.
//!
//! HTTP/1.1 itself is hyper's, through `axum::serve`: keep-alive, `Connection: close`, HTTP/1.0,
//! pipelining (answered in order), chunked bodies and `Expect: 100-continue` are all handled
//! there. Two rows of the contract are answered by hyper before any of this code runs, and so
//! differ from the contract text (axum::serve has no hook for them):
//! - malformed HTTP (bad request line or header): hyper answers `400 Bad Request` with an empty
//!   body (`content-length: 0`, no `Content-Type`) and closes the connection; likewise `431` for
//!   a head that is too large, `414` for a URI that is too long, and `400` (not `505`) for an
//!   unsupported version such as `HTTP/3.0`. These answers are not counted as served;
//! - a request whose *head* never completes: axum::serve sets no header-read timer on hyper, so
//!   such a connection stays open until the client goes away (or, during a graceful stop, until
//!   the drain limit below). The 10 s timeout here starts once the head has been read, which
//!   covers the usual slow client: one that sends the head and then stalls in the body.

use std::future::{Future, IntoFuture};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::{Bytes, HttpBody};
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{FromRequest, Request, State};
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header::{ALLOW, CONNECTION, CONTENT_TYPE};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use axum::serve::ListenerExt;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::oneshot;
use tonic::service::Routes;

use crate::grpc;
use crate::telemetry::Metrics;
use crate::telemetry::conn::CountingListener;
use crate::telemetry::http::HttpLayer;
use crate::telemetry::metrics::{scrape_route, scrape_router};

/// A request (from the end of its head to its answer) that takes longer gets a 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// After SIGTERM/SIGINT, requests in flight get this long to finish before the process exits.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// `{"error":"<code>"}`: the body of every error answer without details.
#[derive(Serialize)]
pub struct ErrorBody<'a> {
    pub error: &'a str,
}

/// An error answer: JSON body, `Content-Type: application/json` (set by `Json`).
pub fn error(status: StatusCode, code: &str) -> Response {
    (status, Json(ErrorBody { error: code })).into_response()
}

/// A JSON body as it is, with `Content-Type: application/json`.
pub fn json(body: impl Into<Bytes>) -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body.into(),
    )
        .into_response()
}

/// Values kept for reuse from one request to the next (the tuned tiers' answer buffers and csv
/// symbol tables), as the C service keeps its buffers per connection: a request takes one (or
/// a new one when none is spare) and gives it back when done. At most `keep` are kept, and
/// `give` drops what `keep_it` refuses (a buffer grown too large to be worth its memory).
pub struct Recycler<T> {
    spare: Mutex<Vec<T>>,
    keep: usize,
    keep_it: fn(&T) -> bool,
}

impl<T: Default> Recycler<T> {
    pub fn new(keep: usize, keep_it: fn(&T) -> bool) -> Self {
        Recycler {
            spare: Mutex::new(Vec::with_capacity(keep)),
            keep,
            keep_it,
        }
    }

    pub fn take(&self) -> T {
        let spare = self.spare.lock().unwrap_or_else(|e| e.into_inner()).pop();
        spare.unwrap_or_default()
    }

    pub fn give(&self, value: T) {
        if !(self.keep_it)(&value) {
            return;
        }
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        if spare.len() < self.keep {
            spare.push(value);
        }
    }
}

/// The largest answer buffer worth keeping: the echo body limit.
const KEEP_BUF_MAX: usize = 1 << 20;

/// Answer buffers: up to 64 of at most 1 MiB each are kept.
pub fn buffers() -> Arc<Recycler<Vec<u8>>> {
    Arc::new(Recycler::new(64, |b: &Vec<u8>| {
        b.capacity() <= KEEP_BUF_MAX
    }))
}

/// An answer body written into a recycled buffer, which goes back to its recycler once hyper
/// has sent the answer and dropped the body.
pub struct AnswerBuf {
    buf: Vec<u8>,
    home: Arc<Recycler<Vec<u8>>>,
}

impl AnswerBuf {
    /// An empty buffer from `home`.
    pub fn take(home: &Arc<Recycler<Vec<u8>>>) -> Self {
        let mut buf = home.take();
        buf.clear();
        AnswerBuf {
            buf,
            home: Arc::clone(home),
        }
    }

    pub fn vec(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// The answer body, without a copy.
    pub fn into_bytes(self) -> Bytes {
        Bytes::from_owner(self)
    }
}

impl AsRef<[u8]> for AnswerBuf {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for AnswerBuf {
    fn drop(&mut self) {
        self.home.give(std::mem::take(&mut self.buf));
    }
}

/// `GET /health` (and HEAD): `{"status":"ok"}`, the same for every workload.
pub async fn health() -> Response {
    json(Bytes::from_static(br#"{"status":"ok"}"#))
}

#[derive(Serialize)]
struct TooLarge {
    error: &'static str,
    limit: usize,
}

/// 413 `{"error":"body_too_large","limit":N}`, and the connection is closed: the rest of the
/// body is never read.
pub fn too_large(limit: usize) -> Response {
    let body = TooLarge {
        error: "body_too_large",
        limit,
    };
    closing((StatusCode::PAYLOAD_TOO_LARGE, Json(body)).into_response())
}

/// The whole request body, or the answer when it cannot be had: 413 over `limit`, 400 (and
/// close) when it cannot be read. The route must also carry `DefaultBodyLimit::max(limit)`,
/// which is what cuts a chunked body.
pub async fn read_body(request: Request, limit: usize) -> Result<Bytes, Response> {
    // hyper turns a Content-Length into an exact size hint: a body announced too large is
    // refused before any of it is read.
    if request.body().size_hint().lower() > limit as u64 {
        return Err(too_large(limit));
    }
    match Bytes::from_request(request, &()).await {
        Ok(body) => Ok(body),
        Err(BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_))) => {
            Err(too_large(limit))
        }
        // The body could not be read (bad chunked framing, client gone): the connection is
        // not usable any more.
        Err(_) => Err(closing(error(StatusCode::BAD_REQUEST, "bad_request"))),
    }
}

/// Marks an answer as the last one on its connection: hyper sees `Connection: close`, sends the
/// answer and closes.
pub fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CONNECTION, "close".parse().expect("static header value"));
    response
}

/// The 405 for a route whose methods are `allow` (as written in the `Allow` header).
pub fn method_not_allowed(allow: &'static str) -> Response {
    let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    response
        .headers_mut()
        .insert(ALLOW, allow.parse().expect("static header value"));
    response
}

/// `route` for the methods it has, and the contract's 405 for the others (`allow` as the `Allow`
/// header lists them).
pub fn only<S>(allow: &'static str, route: MethodRouter<S>) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    route.fallback(move || async move { method_not_allowed(allow) })
}

/// The `/health` route of every workload. `get` answers HEAD too: the same head (Content-Length
/// included), no body.
pub fn health_route<S>() -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    only("GET, HEAD", get(health))
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not_found")
}

/// 408 when the handler (for echo: reading the body, then the JSON work) is not done in time.
/// Dropping the handler's future stops the body read; the connection is closed after the 408.
async fn request_timeout(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => closing(error(StatusCode::REQUEST_TIMEOUT, "request_timeout")),
    }
}

/// Counts every request answered by the router, whatever its status.
async fn count_requests(
    State(served): State<Arc<AtomicU64>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    served.fetch_add(1, Ordering::Relaxed);
    response
}

/// Adds what every workload shares to its router: the 404 fallback, the request timeout, the
/// request metrics and spans (`telemetry`), and the counter (those two outermost, so 404, 405,
/// 408 and 413 answers count too); then `GET /metrics`, which is neither counted nor traced.
pub fn with_common(workload: Router, served: Arc<AtomicU64>, telemetry: HttpLayer) -> Router {
    let metrics = Arc::clone(telemetry.metrics());
    workload
        .fallback(not_found)
        .layer(middleware::from_fn(request_timeout))
        .layer(telemetry)
        .layer(middleware::from_fn_with_state(served, count_requests))
        .route("/metrics", scrape_route(metrics))
}

/// Completes on the first SIGTERM or SIGINT. The handlers are installed when this is called
/// (not when it is first polled), so a signal arriving right after the listening line is
/// already ours and not the default "terminate at once".
fn stop_signal() -> io::Result<impl Future<Output = ()>> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// What a workload serves.
pub enum App {
    /// An axum router, over HTTP/1.1, with what `with_common` adds.
    Http(Router),
    /// tonic's gRPC services, over HTTP/2 with prior knowledge (h2c).
    Grpc(Routes),
}

/// Serves `app` on host:port until SIGTERM/SIGINT, then stops accepting, lets the requests in
/// flight finish (for at most `DRAIN_LIMIT`) and returns how many requests were answered. With
/// `metrics_port` (not 0), `GET /metrics` is served on host:metrics_port too, until then.
pub async fn run(
    host: &str,
    port: u16,
    metrics_port: Option<u16>,
    app: App,
    metrics: Arc<Metrics>,
) -> io::Result<u64> {
    let stop = stop_signal()?;
    let listener = TcpListener::bind((host, port)).await?;
    let scrapes = match metrics_port.filter(|&p| p != 0) {
        Some(p) => {
            let scrapes = TcpListener::bind((host, p)).await?;
            eprintln!("metrics on http://{}/metrics", scrapes.local_addr()?);
            Some(tokio::spawn(serve_scrapes(scrapes, Arc::clone(&metrics))))
        }
        None => None,
    };
    // The last line before serving: whoever waits for it finds the metrics port ready too.
    eprintln!("listening on http://{}", listener.local_addr()?);
    let served = serve(listener, app, metrics, stop).await;
    if let Some(scrapes) = scrapes {
        scrapes.abort();
    }
    served
}

/// Answers `GET /metrics` on `listener` (HTTP/1.1), until the task is dropped.
pub async fn serve_scrapes(listener: TcpListener, metrics: Arc<Metrics>) -> io::Result<()> {
    axum::serve(listener, scrape_router(metrics)).await
}

/// Serves `app` on `listener` until `stop` completes, then as `run` does: the tests stop it with
/// a channel instead of a signal. `metrics` are those of the app's protocol (`Metrics::new`).
pub async fn serve(
    listener: TcpListener,
    app: App,
    metrics: Arc<Metrics>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> io::Result<u64> {
    let served = Arc::new(AtomicU64::new(0));
    let (stopping_tx, stopping_rx) = oneshot::channel::<()>();
    let shutdown = async move {
        stop.await;
        let _ = stopping_tx.send(());
    };
    match app {
        App::Http(router) => {
            let telemetry = HttpLayer::new(Arc::clone(&metrics), listener.local_addr()?.port());
            let app = with_common(router, Arc::clone(&served), telemetry);
            let listener = listener.tap_io(|tcp| {
                // Answers are written whole; do not let Nagle hold back the last segment.
                let _ = tcp.set_nodelay(true);
            });
            let listener = CountingListener::new(listener, metrics);
            // axum's graceful shutdown closes the listener and idle connections at once, lets
            // each busy connection finish its request (answered with `Connection: close`), and
            // completes when every connection is gone.
            let server = axum::serve(listener, app).with_graceful_shutdown(shutdown);
            drain_limited(server.into_future(), stopping_rx).await?;
        }
        App::Grpc(routes) => {
            // tonic's graceful shutdown closes the listener, sends GOAWAY on every connection
            // and completes when the calls in flight are done and every connection is gone.
            let server = grpc::serve(listener, routes, Arc::clone(&served), metrics, shutdown);
            drain_limited(server, stopping_rx).await?;
        }
    }
    Ok(served.load(Ordering::Relaxed))
}

/// Runs `server` to its end, or until `DRAIN_LIMIT` after `stopping` fires: a client that never
/// finishes its request (or never stops reading a stream) would otherwise hold the stop forever.
async fn drain_limited(
    server: impl Future<Output = io::Result<()>>,
    stopping: oneshot::Receiver<()>,
) -> io::Result<()> {
    let drain_expired = async move {
        if stopping.await.is_ok() {
            tokio::time::sleep(DRAIN_LIMIT).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => result,
        () = drain_expired => {
            eprintln!("stopping with requests still unfinished after {}s", DRAIN_LIMIT.as_secs());
            Ok(())
        }
    }
}
