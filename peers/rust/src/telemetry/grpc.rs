//! The grpc workload's call telemetry: a tower layer around tonic's services (as `count`'s),
//! which counts the `grpc_server_*` families and makes a SERVER span per call, named by its
//! method (`stackbench.v1.Ticks/Stream`), child of a valid `traceparent`.
//!
//! A call ends with its status: in the answer's head when it is only a head (an error before
//! any message), else in its trailers; that is when it is counted as handled, its duration
//! observed and its span ended. A call whose answer is dropped before its status (the client
//! reset the stream, or the connection went away) ends Canceled, as grpc-go counts it.
//! Messages are counted as they are sent, from the gRPC framing of the answer's DATA (tonic
//! may put several messages in one frame, or one across frames), and as they are received,
//! from the request's.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tower::{Layer, Service};
use tracing::field::Empty;
use tracing::instrument::{Instrument, Instrumented};

use super::metrics::{MethodSeries, Metrics};
use super::trace;

const CANCELLED: usize = 1;
const UNKNOWN: usize = 2;

/// The status codes that make a server span's status ERROR, as the semantic conventions for
/// gRPC list them: UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS.
fn server_error(code: usize) -> bool {
    matches!(code, 2 | 4 | 12 | 13 | 14 | 15)
}

/// The status of `grpc-status` in `headers` (a head or trailers), if there is one; a value
/// that is not a code is UNKNOWN.
fn status_of(headers: &HeaderMap) -> Option<usize> {
    let value = headers.get("grpc-status")?;
    let code = std::str::from_utf8(value.as_bytes())
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|&c| c <= 16);
    Some(code.unwrap_or(UNKNOWN))
}

/// Counts and traces every call of the services it wraps.
#[derive(Clone)]
pub struct GrpcLayer {
    metrics: Arc<Metrics>,
}

impl GrpcLayer {
    /// Into `metrics` (the grpc workload's).
    pub fn new(metrics: Arc<Metrics>) -> Self {
        GrpcLayer { metrics }
    }
}

impl<S> Layer<S> for GrpcLayer {
    type Service = ObservedCalls<S>;

    fn layer(&self, inner: S) -> ObservedCalls<S> {
        ObservedCalls {
            inner,
            metrics: Arc::clone(&self.metrics),
        }
    }
}

#[derive(Clone)]
pub struct ObservedCalls<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for ObservedCalls<S>
where
    S: Service<http::Request<tonic::body::Body>, Response = http::Response<ResBody>>,
    ReqBody: Body<Data = Bytes> + Send + 'static,
    ReqBody::Error: Into<tonic::codegen::StdError>,
    ResBody: Body<Data = Bytes>,
{
    type Response = http::Response<CallBody<ResBody>>;
    type Error = S::Error;
    type Future = CallFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let path = request.uri().path();
        let series = self.metrics.grpc().method(path);
        series.started.inc();
        let name = path.strip_prefix('/').unwrap_or(path);
        let (service, method) = name.split_once('/').unwrap_or((name, ""));
        let span = tracing::info_span!(
            "gRPC call",
            otel.name = name,
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = service,
            rpc.method = method,
            rpc.grpc.status_code = Empty,
            otel.status_code = Empty,
        );
        if !span.is_disabled() {
            trace::follow_parent(&span, request.headers());
        }
        // The request's messages, counted as they arrive (tonic's Body boxes the wrapper).
        let received = Arc::clone(&series);
        let request = request.map(move |inner| {
            tonic::body::Body::new(RequestBody {
                inner,
                series: received,
                messages: Messages::default(),
            })
        });
        let call = Call {
            series,
            start: Instant::now(),
            span: span.clone(),
            ended: false,
        };
        CallFuture {
            inner: self.inner.call(request).instrument(span),
            call: Some(call),
        }
    }
}

/// A call until its status.
struct Call {
    series: Arc<MethodSeries>,
    start: Instant,
    span: tracing::Span,
    ended: bool,
}

impl Call {
    fn end(&mut self, code: usize) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        self.series.handled(code);
        self.series
            .handling
            .observe(self.start.elapsed().as_secs_f64());
        self.span.record("rpc.grpc.status_code", code as u64);
        if server_error(code) {
            self.span.record("otel.status_code", "ERROR");
        }
        // The call's last handle on its span: dropping it ends the span.
        self.span = tracing::Span::none();
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.end(CANCELLED);
    }
}

pin_project! {
    /// The answer's head; a head with the status ends the call.
    pub struct CallFuture<F> {
        #[pin]
        inner: Instrumented<F>,
        call: Option<Call>,
    }
}

impl<F, ResBody, E> Future for CallFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = Result<http::Response<CallBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        let mut call = this.call.take();
        if let (Some(code), Some(call)) = (status_of(response.headers()), call.as_mut()) {
            call.end(code); // trailers-only: nothing more will come
        }
        Poll::Ready(Ok(response.map(|inner| CallBody {
            inner,
            call,
            messages: Messages::default(),
        })))
    }
}

pin_project! {
    /// An answer's body: its messages counted, its trailers ending the call.
    pub struct CallBody<B> {
        #[pin]
        inner: B,
        call: Option<Call>,
        messages: Messages,
    }
}

impl<B: Body<Data = Bytes>> Body for CallBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if let Some(call) = this.call.as_mut() {
            match &frame {
                Some(Ok(f)) => {
                    if let Some(data) = f.data_ref() {
                        let sent = this.messages.feed(data);
                        if sent > 0 {
                            call.series.msg_sent.inc_by(sent);
                        }
                    } else if let Some(trailers) = f.trailers_ref() {
                        call.end(status_of(trailers).unwrap_or(UNKNOWN));
                    }
                }
                // The body failed (hyper resets the stream) or ended without a status.
                Some(Err(_)) | None => call.end(UNKNOWN),
            }
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

pin_project! {
    /// A request's body: its messages counted as grpc_server_msg_received_total.
    struct RequestBody<B> {
        #[pin]
        inner: B,
        series: Arc<MethodSeries>,
        messages: Messages,
    }
}

impl<B: Body<Data = Bytes>> Body for RequestBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if let Some(Ok(f)) = &frame
            && let Some(data) = f.data_ref()
        {
            let n = this.messages.feed(data);
            if n > 0 {
                this.series.msg_received.inc_by(n);
            }
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

/// Where the answer's bytes are in gRPC's framing: each message is a 5-byte prefix (a flag,
/// then its length, 4 bytes big-endian) and its bytes.
#[derive(Debug, Default)]
pub struct Messages {
    /// Bytes of the current prefix seen, 0 to 4.
    prefix: u8,
    /// The length being read from the prefix.
    length: u32,
    /// Bytes of the current message still to come.
    rest: u64,
}

impl Messages {
    /// Reads the next bytes of the answer; the messages that start in them.
    pub fn feed(&mut self, mut data: &[u8]) -> u64 {
        let mut started = 0;
        while !data.is_empty() {
            if self.rest > 0 {
                let skip = data
                    .len()
                    .min(usize::try_from(self.rest).unwrap_or(usize::MAX));
                data = &data[skip..];
                self.rest -= skip as u64;
                continue;
            }
            if self.prefix > 0 {
                self.length = self.length << 8 | u32::from(data[0]);
            }
            data = &data[1..];
            self.prefix += 1;
            if self.prefix == 5 {
                started += 1;
                self.rest = u64::from(self.length);
                self.prefix = 0;
                self.length = 0;
            }
        }
        started
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(len: u32) -> Vec<u8> {
        let mut m = vec![0];
        m.extend_from_slice(&len.to_be_bytes());
        m.extend(std::iter::repeat_n(7u8, len as usize));
        m
    }

    #[test]
    fn messages_in_one_frame_and_across_frames() {
        let mut all: Vec<u8> = Vec::new();
        for len in [0, 1, 300, 70_000, 5, 0] {
            all.extend(message(len));
        }
        let mut whole = Messages::default();
        assert_eq!(whole.feed(&all), 6);
        // The same bytes cut everywhere, prefixes included.
        for cut in [1, 2, 3, 4, 5, 6, 7, 4096, 65_536] {
            let mut m = Messages::default();
            let n: u64 = all.chunks(cut).map(|c| m.feed(c)).sum();
            assert_eq!(n, 6, "chunks of {cut}");
        }
        let mut m = Messages::default();
        assert_eq!(m.feed(&message(10)[..4]), 0);
        assert_eq!(m.feed(&[0]), 1, "the prefix's last byte starts it");
    }

    #[test]
    fn statuses() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert("grpc-status", v.parse().unwrap());
            status_of(&h)
        };
        assert_eq!(with("0"), Some(0));
        assert_eq!(with("3"), Some(3));
        assert_eq!(with("16"), Some(16));
        assert_eq!(with("17"), Some(UNKNOWN));
        assert_eq!(with("x"), Some(UNKNOWN));
        assert_eq!(status_of(&HeaderMap::new()), None);
        assert!(server_error(13) && !server_error(0) && !server_error(3));
    }
}
