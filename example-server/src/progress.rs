//! A connection whose answer stops moving is cut.
//!
//! A client can ask for a large answer and never read it. hyper stops polling the response
//! body while the socket is not writable, so no timer inside the body ever fires, and the
//! request keeps what it holds (a large listing's turn) for as long as the client likes.
//! [`WriteProgress`] wraps the connection's socket instead: once a write has waited for the
//! socket longer than the limit without a byte getting through, the write fails, hyper
//! closes the connection, and the answer with everything it held is dropped.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// An IO whose writes must make progress within `limit`.
pub struct WriteProgress<T> {
    inner: T,
    limit: Duration,
    /// Armed while a write waits for the socket: when it fires, the write fails.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> WriteProgress<T> {
    /// Wraps `inner`; a write that waits for the socket longer than `limit` fails.
    pub fn new(inner: T, limit: Duration) -> Self {
        WriteProgress {
            inner,
            limit,
            stalled: None,
        }
    }

    /// After the inner write answered `poll`: clears the timer on progress; on a wait, arms
    /// it (waking this task when it fires) and fails once it has fired.
    fn watch<R>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        if poll.is_ready() {
            self.stalled = None;
            return poll;
        }
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(Instant::now() + limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no byte of the answer got through in {limit:?}"),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteProgress<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteProgress<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn a_write_nobody_reads_fails_after_the_limit_and_one_read_goes_through() {
        let (near, mut far) = tokio::io::duplex(64);
        let mut io = WriteProgress::new(near, Duration::from_millis(200));
        // The control: while the far end reads, writes larger than the pipe go through.
        let reader = tokio::spawn(async move {
            let mut sink = vec![0u8; 4096];
            let mut total = 0;
            while total < 4096 {
                use tokio::io::AsyncReadExt;
                total += far.read(&mut sink).await.expect("read");
            }
            far
        });
        io.write_all(&[1u8; 4096]).await.expect("read as written");
        let _far = reader.await.expect("reader");
        // Nobody reads now: the write stalls and fails once the limit has passed.
        let started = std::time::Instant::now();
        let err = io
            .write_all(&[2u8; 4096])
            .await
            .expect_err("a stalled write fails");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(200));
    }
}
