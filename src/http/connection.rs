//! The listening socket ([`listen`]), each accepted TCP connection ([`Connection`]), and how
//! the rest of a refused body is thrown away without holding memory ([`Discard`]).
//!
//! [`listen`] keeps a backlog of [`BACKLOG`] connections, the default of actix-web's
//! `HttpServer::bind`: with std's 128, a burst of 2 500 connections within a second overflowed
//! the kernel's queue and up to one client in five was reset before it was accepted
//! (`TcpExtListenOverflows` in `nstat`).
//!
//! When [`super::body_budget`] answers before reading a body (413 for a `Content-Length` over
//! the route's limit, 503 past the budget), the answer says `Connection: close` and actix-http
//! lingers on the connection for `client_disconnect_timeout` (1 s), reading and dropping what
//! the client still sends, so that the client gets its answer instead of a reset. actix-http
//! reads those bytes into the connection's read buffer, which grows to 256 KiB while a fast
//! client's body streams in, and keeps that capacity until the connection closes: 2 500
//! refused uploads of 1 MiB within a second held 555 MiB of RSS (`scripts/slow-bodies.py`;
//! a single one, traced, read its 116-byte head into 8 KiB and then its body into 256 KiB).
//!
//! So the refusal marks its connection ([`Discard::set`], through the connection's data,
//! [`actix_web::HttpRequest::conn_data`]), and from then on the connection reads what arrives
//! into an 8 KiB buffer of its own and drops it: actix-http sees no more bytes, only the end of
//! the stream when the client closes, while it lingers exactly as before. Only bodies of a
//! declared length are discarded this way: a chunked body's end is what actix-http waits for.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Connections the kernel holds, complete, until the server accepts them (Linux caps it at
/// `net.core.somaxconn`, 4 096 by default).
pub const BACKLOG: i32 = 1024;

/// A listening socket on `addr` (`host:port`; each address it resolves to is tried in turn, as
/// std's `TcpListener::bind` does), with `SO_REUSEADDR` as std sets it on Unix and a backlog of
/// [`BACKLOG`]. Errors: resolution, or the last address's `bind`/`listen` error.
pub fn listen(addr: &str) -> io::Result<TcpListener> {
    let mut last = None;
    for address in addr.to_socket_addrs()? {
        match listen_on(address) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        )
    }))
}

fn listen_on(address: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// Bytes a discarding connection drops in one poll before it lets the worker's other
/// connections run (it is polled again at once).
const DISCARD_PER_POLL: usize = 64 * 1024;

/// The size of the buffer a discarding connection reads into.
const DISCARD_BUFFER: usize = 8 * 1024;

/// A connection's switch to discarding what it receives from now on; cloned into the
/// connection's data ([`Connection::discard`]) for the layers to find.
#[derive(Debug, Clone, Default)]
pub struct Discard(Arc<AtomicBool>);

impl Discard {
    /// From now on the connection drops whatever it receives; its reader sees only the end of
    /// the stream. For an answer with `Connection: close` whose request body is left unread.
    pub fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// An accepted TCP connection: reads and writes pass through until [`Discard::set`], after
/// which reads drop what arrives (see the module).
#[derive(Debug)]
pub struct Connection {
    inner: TcpStream,
    discard: Discard,
}

impl Connection {
    /// Wraps an accepted connection.
    pub fn new(inner: TcpStream) -> Self {
        Self {
            inner,
            discard: Discard::default(),
        }
    }

    /// The connection's switch, for its data.
    pub fn discard(&self) -> Discard {
        self.discard.clone()
    }
}

/// Reads from `inner` and drops the bytes, up to [`DISCARD_PER_POLL`] per call: `Ready(Ok)`
/// at the end of the stream (the caller's buffer left empty), `Pending` when nothing more has arrived
/// (the waker registered) or after a poll's share (woken at once), or the read's error.
fn poll_discard(inner: Pin<&mut TcpStream>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    let inner = inner.get_mut();
    let mut scratch = [0u8; DISCARD_BUFFER];
    let mut dropped = 0;
    while dropped < DISCARD_PER_POLL {
        let mut buf = ReadBuf::new(&mut scratch);
        match Pin::new(&mut *inner).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(Ok(())),
            Poll::Ready(Ok(())) => dropped += buf.filled().len(),
            other => return other,
        }
    }
    cx.waker().wake_by_ref();
    Poll::Pending
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.discard.is_set() {
            return poll_discard(Pin::new(&mut self.inner), cx);
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn pair() -> (TcpStream, Connection) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let client = TcpStream::connect(addr).await.expect("connect");
        let (accepted, _) = listener.accept().await.expect("accept");
        (client, Connection::new(accepted))
    }

    #[test]
    fn the_listener_binds_what_std_binds_and_refuses_what_it_refuses() {
        let listener = listen("localhost:0").expect("localhost resolves and binds");
        let port = listener.local_addr().expect("addr").port();
        assert_ne!(port, 0);
        // The port is taken now: binding it again fails, as std's bind would.
        let again = listen(&format!("127.0.0.1:{port}"));
        let ipv6 = listener.local_addr().expect("addr").is_ipv6();
        if !ipv6 {
            assert!(again.is_err(), "a port in use is refused");
        }
        assert!(listen("not an address").is_err());
    }

    #[tokio::test]
    async fn bytes_pass_until_discard_then_only_the_end_of_the_stream() {
        let (mut client, mut conn) = pair().await;
        client.write_all(b"head").await.expect("write");
        let mut head = [0u8; 4];
        conn.read_exact(&mut head).await.expect("head");
        assert_eq!(&head, b"head");

        conn.discard().set();
        // 1 MiB after the switch: none of it reaches the reader, which then sees the end.
        let writer = tokio::spawn(async move {
            client.write_all(&vec![7u8; 1 << 20]).await.expect("body");
            client.shutdown().await.expect("shutdown");
            client
        });
        let mut rest = Vec::new();
        let n = conn.read_to_end(&mut rest).await.expect("read to the end");
        assert_eq!(n, 0, "no byte after the switch reaches the reader");
        let mut client = writer.await.expect("writer");

        // Writes still pass: the answer reaches the client.
        conn.write_all(b"answer").await.expect("answer");
        conn.shutdown().await.expect("close");
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).await.expect("the answer");
        assert_eq!(answer, b"answer");
    }
}
