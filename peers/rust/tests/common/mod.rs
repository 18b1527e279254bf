//! What the router tests of every workload share: one request sent to a router through
//! `tower::ServiceExt::oneshot`, without a socket, and request bodies of unknown length.

// Each test crate uses its own part of this module.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, Request, StatusCode};
use http_body::Frame;
use http_body_util::BodyExt;
use stackbench_rust::server;
use stackbench_rust::telemetry::http::HttpLayer;
use stackbench_rust::telemetry::{Metrics, Protocol};
use tokio::time::Instant;
use tower::ServiceExt;

/// `workload` with what `server` adds to every workload (the 404 fallback, the request timeout,
/// the metrics and spans, the counter), as `server::run` serves it.
pub fn app(workload: Router) -> Router {
    let metrics = Arc::new(Metrics::new(Protocol::Http));
    server::with_common(
        workload,
        Arc::new(AtomicU64::new(0)),
        HttpLayer::new(metrics, 0),
    )
}

/// An answer as `send` reads it.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    /// From sending the request to the end of the answer's body.
    pub took: Duration,
}

impl Answer {
    pub fn header(&self, name: HeaderName) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// Sends one request to `app` and checks what every answer of every workload has: a JSON
/// Content-Type and, but for HEAD, a Content-Length that is the body's.
pub async fn send(app: &Router, method: &str, uri: &str, body: impl Into<Body>) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(body.into())
        .unwrap();
    let start = Instant::now();
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let answer = Answer {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
        took: start.elapsed(),
    };
    assert_eq!(
        answer.header(CONTENT_TYPE),
        Some("application/json"),
        "{method} {uri}"
    );
    if method != "HEAD" {
        let length = answer.body.len().to_string();
        assert_eq!(
            answer.header(CONTENT_LENGTH),
            Some(length.as_str()),
            "{method} {uri}"
        );
    }
    answer
}

/// A body of unknown length, as a chunked one is: these chunks, then its end.
pub fn chunked(chunks: &[&str]) -> Body {
    Body::new(Chunks::new(chunks, false))
}

/// A body of unknown length that sends these chunks and then stalls: its end never comes.
pub fn stalled(chunks: &[&str]) -> Body {
    Body::new(Chunks::new(chunks, true))
}

struct Chunks {
    chunks: VecDeque<Bytes>,
    stall: bool,
}

impl Chunks {
    fn new(chunks: &[&str], stall: bool) -> Chunks {
        let chunks = chunks
            .iter()
            .map(|c| Bytes::copy_from_slice(c.as_bytes()))
            .collect();
        Chunks { chunks, stall }
    }
}

impl HttpBody for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.chunks.pop_front() {
            Some(chunk) => Poll::Ready(Some(Ok(Frame::data(chunk)))),
            None if self.stall => Poll::Pending,
            None => Poll::Ready(None),
        }
    }
}
