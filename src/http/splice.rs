//! Response bodies sent from a file with `sendfile(2)`: the rendered feeds (each kept in a
//! sealed memfd beside its bytes) and the renditions (kept in memory, or mapped when larger:
//! `http::media`) go from the file to the socket inside the kernel, without the copy from our memory that a write costs. On
//! loopback that copy was about a third of the CPU a 226 KB answer took; nginx serves files
//! this way (`sendfile on`).
//!
//! hyper owns the connection and only writes bytes, so the file travels beside them: a
//! handler that answers with bytes that are also a file's marks its response with a
//! [`FileBytes`] extension, and sends the bytes as the body as usual. [`track`] wraps the
//! connection's service and moves the mark from the response to the connection's [`Slot`].
//! [`Spliced`], the connection's IO, then sees hyper's vectored writes: a slice lying inside
//! the marked bytes (the same memory: hyper queues a body's `Bytes`, it never copies them)
//! is sent with `sendfile` from the matching offset of the file, the head before it with
//! `MSG_MORE` so that both leave in full segments.
//!
//! **Invariant:** the bytes in memory are the truth and the file a faster way to the same
//! bytes. A mark is only made for a file holding those bytes (a memfd sealed against writes,
//! or a rendition, which is never changed in place: a re-render writes a new file); a slice
//! that is not inside the marked bytes, or a `sendfile` that fails or comes up short, is
//! written from memory as before, so the answer hyper framed is always the one sent. The
//! exception is a mark of a mapped file ([`FileBytes::mapped`], large renditions): there the
//! file is the truth, its slices always go out with `sendfile`, and one that fails fails
//! the connection instead of reading the mapping.

use std::fs::File;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::conn::Rewound;

/// Bodies smaller than this are written from memory: one `writev` of head and body costs
/// less than a `send` and a `sendfile` when the copy is this short.
pub const MIN_SPLICE: usize = 16 * 1024;

/// Sealed memfds alive at most (feed pages): each is a descriptor, and the connection limit
/// leaves only a reserve of them for everything but connections (`conn::FD_RESERVE`). Past
/// it, feed pages are written from memory.
pub const MAX_SEALED: usize = 64;

/// Sealed memfds alive.
static SEALED: AtomicUsize = AtomicUsize::new(0);

/// A file a mark sends from.
pub type Source = Arc<dyn AsFd + Send + Sync>;

/// "These bytes are the file's from `offset`": the mark a response carries in its
/// extensions when its body is `bytes` (or a slice of them).
#[derive(Clone)]
pub struct FileBytes {
    bytes: Bytes,
    file: Source,
    offset: u64,
    /// The bytes are a mapping of the file ([`FileBytes::mapped`]): never read from memory.
    only_file: bool,
}

impl std::fmt::Debug for FileBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileBytes")
            .field("len", &self.bytes.len())
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
impl FileBytes {
    /// `file` must hold `bytes` at `offset` for as long as the mark lives (see the
    /// module's invariant).
    pub fn new(bytes: Bytes, file: Source, offset: u64) -> FileBytes {
        FileBytes {
            bytes,
            file,
            offset,
            only_file: false,
        }
    }

    /// Like [`FileBytes::new`] for `bytes` that are a memory mapping of `file`: every slice of
    /// them, however small, goes out with `sendfile`, and when that fails or comes up short
    /// the connection fails rather than reading the mapping (a file truncated under its
    /// mapping would fault the process; renditions are never changed in place, but a disk
    /// error or a hand on the data folder should cost one download, not the station).
    pub fn mapped(bytes: Bytes, file: Source, offset: u64) -> FileBytes {
        FileBytes {
            only_file: true,
            ..FileBytes::new(bytes, file, offset)
        }
    }

    /// The file offset of `slice` when it lies inside these bytes (compared by address: it
    /// is then a view of them).
    fn offset_of(&self, slice: &[u8]) -> Option<u64> {
        let base = self.bytes.as_ptr() as usize;
        let at = slice.as_ptr() as usize;
        let inside = at >= base && at + slice.len() <= base + self.bytes.len();
        inside.then(|| self.offset + (at - base) as u64)
    }

    /// Whether `slice` ends where these bytes end.
    fn ends_with(&self, slice: &[u8]) -> bool {
        slice.as_ptr() as usize + slice.len() == self.bytes.as_ptr() as usize + self.bytes.len()
    }
}

/// A memfd holding a copy of some bytes, sealed against any change; counted against
/// [`MAX_SEALED`] while it lives.
#[derive(Debug)]
pub struct Sealed(File);

impl AsFd for Sealed {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl Drop for Sealed {
    fn drop(&mut self) {
        SEALED.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `bytes` in a [`Sealed`] memfd, for [`FileBytes`]; `None` where there are no memfds (or
/// [`MAX_SEALED`] are alive), and for bodies too small to gain from it.
pub fn sealed_copy(bytes: &[u8]) -> Option<Arc<Sealed>> {
    if bytes.len() < MIN_SPLICE {
        return None;
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{MemfdFlags, SealFlags};
        use std::io::Write;
        if SEALED.fetch_add(1, Ordering::Relaxed) >= MAX_SEALED {
            SEALED.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        let fd = rustix::fs::memfd_create(
            "antenne-body",
            MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
        );
        let Ok(fd) = fd else {
            SEALED.fetch_sub(1, Ordering::Relaxed);
            return None;
        };
        // Counted from here on: dropping it on any failure below gives its place back.
        let mut sealed = Sealed(File::from(fd));
        sealed.0.write_all(bytes).ok()?;
        let seals = SealFlags::WRITE | SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL;
        rustix::fs::fcntl_add_seals(&sealed.0, seals).ok()?;
        Some(Arc::new(sealed))
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// The mark of the response a connection is writing, shared by its service ([`track`]) and
/// its IO ([`Spliced`]).
#[derive(Debug, Clone, Default)]
pub struct Slot(Arc<Mutex<Option<FileBytes>>>);

impl Slot {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<FileBytes>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The connection's response future `response`, whose [`FileBytes`] mark (if any) goes to
/// `slot` for the IO to find. A response without one clears the slot.
pub async fn track<B, E>(
    response: impl Future<Output = Result<axum::http::Response<B>, E>>,
    slot: Slot,
) -> Result<axum::http::Response<B>, E> {
    let mut response = response.await;
    if let Ok(r) = &mut response {
        *slot.lock() = r.extensions_mut().remove::<FileBytes>();
    }
    response
}

/// A connection's IO that sends the marked body bytes with `sendfile` (see the module doc);
/// everything else goes to the connection as it is.
pub struct Spliced {
    inner: Rewound<TcpStream>,
    slot: Slot,
}

impl Spliced {
    pub fn new(inner: Rewound<TcpStream>, slot: Slot) -> Spliced {
        Spliced { inner, slot }
    }

    /// Writes `bufs`, the ones inside the slot's marked bytes through `sendfile`.
    fn write(&mut self, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        #[cfg(target_os = "linux")]
        if let Some((i, mark)) = self.marked(bufs) {
            return self.splice(cx, bufs, i, &mark);
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    /// The first of `bufs` worth sending from the marked file, with the mark.
    #[cfg(target_os = "linux")]
    fn marked(&self, bufs: &[io::IoSlice<'_>]) -> Option<(usize, FileBytes)> {
        let mark = self.slot.lock().clone()?;
        let i = bufs.iter().position(|b| {
            (b.len() >= MIN_SPLICE || mark.only_file) && mark.offset_of(b).is_some()
        })?;
        Some((i, mark))
    }

    /// Sends `bufs[..i]` with `MSG_MORE`, then `bufs[i]` from `mark`'s file (from memory if
    /// that fails).
    #[cfg(target_os = "linux")]
    fn splice(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
        i: usize,
        mark: &FileBytes,
    ) -> Poll<io::Result<usize>> {
        let tcp = self.inner.get_ref();
        let mut sent = 0;
        if i > 0 {
            // The head (and whatever hyper queued before the body), held back for the
            // body's first segment.
            let head: usize = bufs[..i].iter().map(|b| b.len()).sum();
            let flags = rustix::net::SendFlags::MORE | rustix::net::SendFlags::NOSIGNAL;
            let send = || {
                rustix::net::sendmsg(tcp, &bufs[..i], &mut Default::default(), flags)
                    .map_err(io::Error::from)
            };
            sent = ready!(poll_send(tcp, cx, send))?;
            if sent < head {
                return Poll::Ready(Ok(sent));
            }
        }
        let body = &bufs[i];
        let mut offset = mark.offset_of(body).unwrap_or(mark.offset);
        let file = &*mark.file;
        let splice = || {
            rustix::fs::sendfile(tcp, file, Some(&mut offset), body.len()).map_err(io::Error::from)
        };
        match poll_send(tcp, cx, splice) {
            Poll::Ready(Ok(n)) if n > 0 => {
                if n == body.len() && mark.ends_with(body) {
                    // The body is out: the slot no longer holds its bytes alive.
                    self.slot.lock().take();
                }
                Poll::Ready(Ok(sent + n))
            }
            // Having sent the head, say so; hyper comes back for the body.
            Poll::Pending if sent > 0 => Poll::Ready(Ok(sent)),
            Poll::Pending => Poll::Pending,
            // A mapping is never read: the mark stays for hyper's next try, which fails.
            Poll::Ready(_) if mark.only_file && sent > 0 => Poll::Ready(Ok(sent)),
            Poll::Ready(Ok(_)) if mark.only_file => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file is shorter than when it was mapped",
            ))),
            Poll::Ready(Err(e)) if mark.only_file => Poll::Ready(Err(e)),
            // The file came up short or cannot be sent from: write from memory from now on.
            Poll::Ready(_) => {
                self.slot.lock().take();
                match Pin::new(&mut self.inner).poll_write(cx, body) {
                    Poll::Ready(Ok(n)) => Poll::Ready(Ok(sent + n)),
                    Poll::Pending | Poll::Ready(Err(_)) if sent > 0 => Poll::Ready(Ok(sent)),
                    other => other,
                }
            }
        }
    }
}

/// Runs the non-blocking `send` on `tcp` when it is writable, waiting for writability when
/// the socket is full (as tokio's own writes do).
#[cfg(target_os = "linux")]
fn poll_send(
    tcp: &TcpStream,
    cx: &mut Context<'_>,
    mut send: impl FnMut() -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    loop {
        ready!(tcp.poll_write_ready(cx))?;
        match tcp.try_io(tokio::io::Interest::WRITABLE, &mut send) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            r => return Poll::Ready(r),
        }
    }
}

impl AsyncRead for Spliced {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Spliced {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.write(cx, &[io::IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.write(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A connected pair: the server's side as a [`Spliced`] with `slot`, and the client's.
    async fn pair(slot: Slot) -> (Spliced, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        let server = Rewound::new(Bytes::new(), accepted.unwrap().0);
        (Spliced::new(server, slot), client.unwrap())
    }

    /// Writes `head` and `body` as hyper does (vectored, until all is written) and returns
    /// what the client read.
    async fn exchange(
        io: &mut Spliced,
        client: &mut TcpStream,
        head: &[u8],
        body: &Bytes,
    ) -> Vec<u8> {
        let total = head.len() + body.len();
        let reader = async {
            let mut got = vec![0; total];
            client.read_exact(&mut got).await.unwrap();
            got
        };
        let writer = async {
            let mut done = 0;
            while done < total {
                let bufs: Vec<io::IoSlice<'_>> = if done < head.len() {
                    vec![io::IoSlice::new(&head[done..]), io::IoSlice::new(body)]
                } else {
                    vec![io::IoSlice::new(&body[done - head.len()..])]
                };
                done += io.write_vectored(&bufs).await.unwrap();
            }
        };
        tokio::join!(reader, writer).0
    }

    fn body(len: usize) -> Bytes {
        (0..len)
            .map(|i| (i * 7 % 251) as u8)
            .collect::<Vec<_>>()
            .into()
    }

    #[tokio::test]
    async fn marked_bytes_go_out_from_the_file_and_arrive_whole() {
        let body = body(3 * 1024 * 1024);
        let file = sealed_copy(&body).expect("memfd");
        let slot = Slot::default();
        let (mut io, mut client) = pair(slot.clone()).await;
        for _ in 0..3 {
            *slot.lock() = Some(FileBytes::new(body.clone(), file.clone(), 0));
            let got = exchange(&mut io, &mut client, b"HTTP/1.1 200 OK\r\n\r\n", &body).await;
            assert_eq!(&got[..19], b"HTTP/1.1 200 OK\r\n\r\n");
            assert!(got[19..] == body[..], "the body as in memory");
            assert!(slot.lock().is_none(), "a sent body is no longer held");
        }
        // A slice of the marked bytes is sent from its own offset.
        let tail = body.slice(1_000_000..1_100_000);
        *slot.lock() = Some(FileBytes::new(body.clone(), file.clone(), 0));
        let got = exchange(&mut io, &mut client, b"head", &tail).await;
        assert!(got[4..] == tail[..]);
    }

    #[tokio::test]
    async fn a_file_shorter_than_its_mark_falls_back_to_memory() {
        let body = body(100_000);
        // Only the first half of the bytes is in the file.
        let file = sealed_copy(&body[..50_000]).expect("memfd");
        let slot = Slot::default();
        let (mut io, mut client) = pair(slot.clone()).await;
        *slot.lock() = Some(FileBytes::new(body.clone(), file, 0));
        let got = exchange(&mut io, &mut client, b"head", &body).await;
        assert!(got[4..] == body[..]);
        assert!(slot.lock().is_none(), "the mark is dropped");
        // Unmarked bytes are written as they are.
        let other = self::body(40_000);
        let got = exchange(&mut io, &mut client, b"", &other).await;
        assert!(got == other[..]);
        io.shutdown().await.unwrap();
    }

    /// A mapped file's bytes are never read from memory: small slices go out from the file
    /// too, and a file shorter than its mapping (truncated under it, which would fault a
    /// read of the mapping) fails the connection after what the file had.
    #[tokio::test]
    async fn a_mapped_mark_never_falls_back_to_memory() {
        let body = body(100_000);
        let file = sealed_copy(&body).expect("memfd");
        let slot = Slot::default();
        let (mut io, mut client) = pair(slot.clone()).await;
        let small = body.slice(99_000..);
        *slot.lock() = Some(FileBytes::mapped(body.clone(), file, 0));
        let got = exchange(&mut io, &mut client, b"head", &small).await;
        assert!(got[4..] == small[..], "1,000 bytes from the file");
        assert!(slot.lock().is_none(), "the body is out");

        let short = sealed_copy(&body[..50_000]).expect("memfd");
        *slot.lock() = Some(FileBytes::mapped(body.clone(), short, 0));
        let mut sent = 0;
        let failed = loop {
            match io.write_vectored(&[io::IoSlice::new(&body[sent..])]).await {
                Ok(n) => sent += n,
                Err(e) => break e,
            }
        };
        assert_eq!(failed.kind(), io::ErrorKind::UnexpectedEof, "{failed}");
        assert_eq!(sent, 50_000, "what the file had, then the failure");
        assert!(
            slot.lock().is_some(),
            "the mark stays: no retry reads memory"
        );
    }

    #[test]
    fn only_slices_of_the_marked_bytes_are_located() {
        let bytes = body(MIN_SPLICE * 2);
        let file = Arc::new(File::open("/dev/null").unwrap());
        let mark = FileBytes::new(bytes.slice(100..), file, 500);
        assert_eq!(mark.offset_of(&bytes[100..]), Some(500));
        assert_eq!(mark.offset_of(&bytes[150..200]), Some(550));
        assert!(mark.ends_with(&bytes[150..]) && !mark.ends_with(&bytes[150..200]));
        assert_eq!(mark.offset_of(&bytes[50..200]), None, "starts before");
        assert_eq!(
            mark.offset_of(&bytes.clone().to_vec()[100..]),
            None,
            "a copy"
        );
        assert!(
            sealed_copy(&bytes[..MIN_SPLICE - 1]).is_none(),
            "too small to gain"
        );
    }
}
