//! `served N requests` for gRPC: a tower layer around every service of the server (Ticks,
//! health, tonic's UNIMPLEMENTED fallback) that counts the calls answered with a status.
//!
//! What is counted: a call whose answer ended with its `grpc-status`, whatever the status, as
//! the contract says. That is an answer that is only a head (a trailers-only error: invalid
//! argument, unimplemented, not found, a request that does not decode), counted when the head
//! is ready, or a body that ends with its trailers (Quote, Check, a Stream's last tick or its
//! DEADLINE_EXCEEDED), counted when the trailers are handed to hyper. Not counted: a call the
//! client reset before its status (a cancelled stream), or whose connection went away.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

/// Wraps a service so that every call it answers with a status adds one to a counter.
#[derive(Clone, Debug)]
pub struct CountLayer {
    served: Arc<AtomicU64>,
}

impl CountLayer {
    pub fn new(served: Arc<AtomicU64>) -> Self {
        CountLayer { served }
    }
}

impl<S> Layer<S> for CountLayer {
    type Service = CountedService<S>;

    fn layer(&self, inner: S) -> CountedService<S> {
        CountedService {
            inner,
            served: Arc::clone(&self.served),
        }
    }
}

#[derive(Clone, Debug)]
pub struct CountedService<S> {
    inner: S,
    served: Arc<AtomicU64>,
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for CountedService<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    ResBody: Body,
{
    type Response = http::Response<Counted<ResBody>>;
    type Error = S::Error;
    type Future = CountedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        CountedFuture {
            inner: self.inner.call(request),
            served: Some(Arc::clone(&self.served)),
        }
    }
}

pin_project! {
    /// The answer's head, with its body wrapped to count the status at its end.
    pub struct CountedFuture<F> {
        #[pin]
        inner: F,
        served: Option<Arc<AtomicU64>>,
    }
}

impl<F, ResBody, E> Future for CountedFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
    ResBody: Body,
{
    type Output = Result<http::Response<Counted<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        let mut served = this.served.take();
        if response.body().is_end_stream() {
            // Trailers-only: the status is in this head, which hyper sends with END_STREAM
            // without ever polling the body.
            count(&mut served);
        }
        Poll::Ready(Ok(response.map(|inner| Counted { inner, served })))
    }
}

pin_project! {
    /// An answer's body that counts its call when its trailers (or its end) go out.
    pub struct Counted<B> {
        #[pin]
        inner: B,
        // Some until the call is counted.
        served: Option<Arc<AtomicU64>>,
    }
}

fn count(served: &mut Option<Arc<AtomicU64>>) {
    if let Some(served) = served.take() {
        served.fetch_add(1, Ordering::Relaxed);
    }
}

impl<B: Body> Body for Counted<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        match &frame {
            Some(Ok(f)) if f.is_trailers() => count(this.served),
            None => count(this.served),
            Some(Ok(_)) => {}
            // hyper resets the stream: no status reaches the client.
            Some(Err(_)) => *this.served = None,
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
