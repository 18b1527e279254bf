//! The HTTP workloads' request telemetry: a tower layer that `server::with_common` puts around
//! every route of the router (outside the request timeout, so a 408 is seen as answered), as
//! the framework's earliest hook on a request.
//!
//! Per request: the `http_*` request families under the route's pattern (axum's `MatchedPath`,
//! `/accounts/{id}`; `other` when no route matched) and a SERVER span named `METHOD ROUTE` with
//! the HTTP semantic conventions, child of a valid `traceparent`. `/health` is neither traced
//! nor counted, and `/metrics` is added after this layer: a scrape measures nothing of itself.
//!
//! axum applies a layer to each route's service separately, so each instance of `Observed`
//! serves one route and keeps that route's series once found (`Shared::series`): the request
//! path then costs a comparison of the pattern, a clock read, and atomic adds.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{Method, Version};
use axum::response::Response;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use pin_project_lite::pin_project;
use prometheus::{IntCounter, IntGauge};
use tower::{Layer, Service};
use tracing::Instrument;
use tracing::field::Empty;
use tracing::instrument::Instrumented;

use super::metrics::{Metrics, OTHER, RouteSeries};
use super::trace;

/// Counts and traces the requests of the routes it is applied to.
#[derive(Clone)]
pub struct HttpLayer {
    metrics: Arc<Metrics>,
    port: u16,
}

impl HttpLayer {
    /// Into `metrics` (an HTTP workload's), with `port` as the spans' `server.port`.
    pub fn new(metrics: Arc<Metrics>, port: u16) -> Self {
        HttpLayer { metrics, port }
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }
}

impl<S> Layer<S> for HttpLayer {
    type Service = Observed<S>;

    fn layer(&self, inner: S) -> Observed<S> {
        Observed {
            inner,
            shared: Arc::new(Shared {
                metrics: Arc::clone(&self.metrics),
                port: self.port,
                series: OnceLock::new(),
            }),
        }
    }
}

/// A route's service, counted and traced.
#[derive(Clone)]
pub struct Observed<S> {
    inner: S,
    shared: Arc<Shared>,
}

struct Shared {
    metrics: Arc<Metrics>,
    port: u16,
    /// The series of the route this instance serves, found at its first request.
    series: OnceLock<Arc<RouteSeries>>,
}

impl Shared {
    fn series(&self, route: &str) -> Arc<RouteSeries> {
        match self.series.get() {
            Some(series) if series.route() == route => Arc::clone(series),
            // The first request, or (were an instance ever to serve two routes) the other one.
            _ => {
                let series = self.metrics.http().route(route);
                let _ = self.series.set(Arc::clone(&series));
                series
            }
        }
    }
}

/// A span's name: `METHOD ROUTE`, or only `METHOD` when no route matched (the semantic
/// conventions' name for a path of unbounded cardinality).
struct SpanName<'a>(&'a Method, Option<&'a str>);

impl fmt::Display for SpanName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(route) => write!(f, "{} {route}", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// `network.protocol.version`.
fn protocol_version(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        _ => "3",
    }
}

impl<S, E> Service<Request> for Observed<S>
where
    S: Service<Request, Response = Response, Error = E>,
{
    type Response = Response;
    type Error = E;
    type Future = ObservedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let matched = request.extensions().get::<MatchedPath>().cloned();
        let route = matched.as_ref().map(MatchedPath::as_str);
        let method = request.method().clone();
        // Probes are neither traced nor counted (contracts/telemetry.md).
        let probe = matches!(route, Some("/health" | "/metrics"));
        let span = if probe {
            tracing::Span::none()
        } else {
            tracing::info_span!(
                "HTTP request",
                otel.name = %SpanName(&method, route),
                otel.kind = "server",
                http.request.method = method.as_str(),
                url.path = request.uri().path(),
                http.route = route,
                network.protocol.version = protocol_version(request.version()),
                server.port = self.shared.port,
                http.response.status_code = Empty,
                otel.status_code = Empty,
            )
        };
        if !span.is_disabled() {
            trace::follow_parent(&span, request.headers());
        }
        let (pending, request) = match route {
            Some("/health" | "/metrics") => (None, request),
            route => {
                let series = self.shared.series(route.unwrap_or(OTHER));
                let pending = Pending {
                    method,
                    start: Instant::now(),
                    _in_flight: InFlight::new(self.shared.metrics.http().in_flight()),
                    series,
                };
                let bytes = pending.series.request_bytes.clone();
                let request = request.map(|inner| Body::new(CountedBody { inner, bytes }));
                (Some(pending), request)
            }
        };
        ObservedFuture {
            inner: self.inner.call(request).instrument(span),
            pending,
        }
    }
}

/// A request counted in `http_requests_in_flight` until its answer (or until it is dropped).
struct InFlight(IntGauge);

impl InFlight {
    fn new(gauge: &IntGauge) -> Self {
        gauge.inc();
        InFlight(gauge.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// What is counted once the answer is there.
struct Pending {
    series: Arc<RouteSeries>,
    method: Method,
    start: Instant,
    _in_flight: InFlight,
}

impl Pending {
    fn answered(self, response: &Response) {
        let series = &self.series;
        series.answered(&self.method, response.status());
        // Every answer of the workloads is whole, its size exact; a HEAD's goes without it.
        if self.method != Method::HEAD {
            let size = response.body().size_hint();
            series
                .response_bytes
                .inc_by(size.exact().unwrap_or(size.lower()));
        }
        series.duration.observe(self.start.elapsed().as_secs_f64());
    }
}

pin_project! {
    /// The answer of an `Observed`: counted and recorded in its span when it is ready.
    pub struct ObservedFuture<F> {
        #[pin]
        inner: Instrumented<F>,
        pending: Option<Pending>,
    }
}

impl<F, E> Future for ObservedFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let result = ready!(this.inner.as_mut().poll(cx));
        if let Ok(response) = &result {
            let status = response.status();
            let span = this.inner.span();
            span.record("http.response.status_code", status.as_u16());
            if status.is_server_error() {
                span.record("otel.status_code", "ERROR");
            }
            if let Some(pending) = this.pending.take() {
                pending.answered(response);
            }
        }
        Poll::Ready(result)
    }
}

/// A request body that counts its bytes as the handler reads them (after de-chunking).
struct CountedBody {
    inner: Body,
    bytes: IntCounter,
}

impl HttpBody for CountedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if let Some(data) = frame.as_ref().and_then(|f| f.as_ref().ok()?.data_ref()) {
            self.bytes.inc_by(data.len() as u64);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
