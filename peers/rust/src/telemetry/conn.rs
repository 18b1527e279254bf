//! `http_connections_total` and `http_connections_open`, counted where connections are
//! accepted: an accepted connection's stream carries a guard that counts it open until hyper
//! (or tonic) drops the stream, whatever ended it.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tonic::transport::server::Connected;

use super::metrics::{Metrics, OpenConnection};

/// A connection's stream, counted open while it lives.
#[derive(Debug)]
pub struct CountedIo<T> {
    io: T,
    _open: OpenConnection,
}

impl<T> CountedIo<T> {
    /// `io`, just accepted: counted in `metrics`.
    pub fn new(io: T, metrics: &Metrics) -> Self {
        CountedIo {
            io,
            _open: metrics.connections().accepted(),
        }
    }
}

impl<T: Connected> Connected for CountedIo<T> {
    type ConnectInfo = T::ConnectInfo;

    fn connect_info(&self) -> T::ConnectInfo {
        self.io.connect_info()
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for CountedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for CountedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// A listener for `axum::serve` whose connections are counted.
pub struct CountingListener<L> {
    inner: L,
    metrics: Arc<Metrics>,
}

impl<L> CountingListener<L> {
    pub fn new(inner: L, metrics: Arc<Metrics>) -> Self {
        CountingListener { inner, metrics }
    }
}

impl<L> Listener for CountingListener<L>
where
    L: Listener,
    L::Io: Unpin,
{
    type Io = CountedIo<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = self.inner.accept().await;
        (CountedIo::new(io, &self.metrics), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}
