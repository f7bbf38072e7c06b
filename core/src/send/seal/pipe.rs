//! Three-stage pipelines for `send` and `open`, so that reading and hashing the input,
//! encrypting or decrypting, and hashing and writing the output run on different cores:
//! on one core the two SHA-256 passes alone cost more than age's encryption.
//!
//! Stages hand 1 MiB buffers to each other over bounded channels and recycle them, so
//! memory stays at a few MiB whatever the input size.

use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use sha2::{Digest, Sha256};

use super::CHUNK;

/// Buffers queued between two stages.
const QUEUE: usize = 4;

/// The sending end of a stage: a [`Write`] that ships full 1 MiB buffers downstream.
pub(crate) struct ChunkWriter {
    tx: SyncSender<Vec<u8>>,
    pool: Receiver<Vec<u8>>,
    buf: Vec<u8>,
}

/// The receiving end of a stage: yields buffers and takes them back for reuse.
pub(crate) struct ChunkReceiver {
    rx: Receiver<Vec<u8>>,
    pool: Sender<Vec<u8>>,
}

/// Makes a connected writer and receiver.
pub(crate) fn chunk_channel() -> (ChunkWriter, ChunkReceiver) {
    let (tx, rx) = sync_channel(QUEUE);
    let (pool_tx, pool_rx) = channel();
    (
        ChunkWriter {
            tx,
            pool: pool_rx,
            buf: Vec::with_capacity(CHUNK),
        },
        ChunkReceiver { rx, pool: pool_tx },
    )
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the next stage stopped")
}

impl ChunkWriter {
    fn ship(&mut self) -> io::Result<()> {
        // Once per MiB: a signal stops the pipeline here.
        if super::leftover::stopped() {
            return Err(super::leftover::stop_error());
        }
        let mut next = self
            .pool
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        next.clear();
        let full = std::mem::replace(&mut self.buf, next);
        // A send fails only when the writer thread has stopped; `gone` finds out why.
        self.tx.send(full).map_err(|_| gone())
    }

    /// Sends what is left; dropping the writer afterwards tells the receiver the end.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.ship()?;
        }
        Ok(())
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.ship()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl ChunkReceiver {
    /// Calls `f` with every buffer until the writer is dropped or `f` fails.
    pub(crate) fn for_each(self, mut f: impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        for buf in self.rx {
            f(&buf)?;
            // The writer may be gone already; then the buffer is simply freed.
            let _ = self.pool.send(buf);
        }
        Ok(())
    }
}

/// The reading end of [`read_ahead`]: a [`Read`] over the buffers the reading thread
/// filled. A read error on that thread comes out of [`Read::read`] here, never as an end
/// of file.
pub(crate) struct AheadReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    pool: Sender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
}

impl Read for AheadReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            if super::leftover::stopped() {
                return Err(super::leftover::stop_error());
            }
            let Ok(next) = self.rx.recv() else {
                return Ok(0);
            };
            let full = next?;
            let empty = std::mem::replace(&mut self.current, full);
            self.pos = 0;
            let _ = self.pool.send(empty);
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// What the reading thread of [`read_ahead`] saw: the SHA-256 state and the byte count of
/// everything it read, which is the start of the source (all of it if it reached the end).
pub(crate) type ReadDigest = (Sha256, u64);

/// Reads `source` on a thread of `scope`, hashing it in the same pass, and hands it on in
/// 1 MiB buffers: the consumer gets the bytes from the returned reader, and the thread
/// returns the digest of what it read. The thread stops at the end of `source`, at
/// a read error (which the reader then returns), or when the reader is dropped.
pub(crate) fn read_ahead<'scope, R: Read + Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    mut source: R,
) -> (
    AheadReader,
    std::thread::ScopedJoinHandle<'scope, ReadDigest>,
) {
    let (tx, rx) = sync_channel::<io::Result<Vec<u8>>>(QUEUE);
    let (pool_tx, pool_rx) = channel::<Vec<u8>>();
    let handle = scope.spawn(move || {
        let mut hasher = Sha256::new();
        let mut count = 0u64;
        loop {
            let mut buf = pool_rx.try_recv().unwrap_or_default();
            buf.resize(CHUNK, 0);
            let (n, error) = fill(&mut source, &mut buf);
            if n > 0 {
                buf.truncate(n);
                hasher.update(&buf);
                count += n as u64;
                if tx.send(Ok(buf)).is_err() {
                    break;
                }
            }
            match error {
                Some(e) => {
                    let _ = tx.send(Err(e));
                    break;
                }
                None if n == 0 => break,
                None => {}
            }
        }
        (hasher, count)
    });
    let reader = AheadReader {
        rx,
        pool: pool_tx,
        current: Vec::new(),
        pos: 0,
    };
    (reader, handle)
}

/// Reads until `buf` is full or the end of `source`; returns how many bytes it read.
pub(crate) fn read_full(source: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    match fill(source, buf) {
        (n, None) => Ok(n),
        (_, Some(e)) => Err(e),
    }
}

/// Reads until `buf` is full, the end of `source` or an error; returns how many bytes
/// were read before it stopped, and the error if one stopped it.
fn fill(source: &mut impl Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (filled, Some(e)),
        }
    }
    (filled, None)
}

/// Whether an error only says that a later stage stopped (the later stage's own error is
/// the one to report).
pub(crate) fn is_gone(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe && e.to_string() == "the next stage stopped"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_arrive_in_order_and_complete() {
        let (mut w, r) = chunk_channel();
        let data: Vec<u8> = (0..(3 * CHUNK + 123)).map(|i| (i % 253) as u8).collect();
        let expected = data.clone();
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            r.for_each(|b| {
                got.extend_from_slice(b);
                Ok(())
            })
            .expect("no error");
            got
        });
        for piece in data.chunks(7777) {
            w.write_all(piece).expect("write");
        }
        w.finish().expect("finish");
        assert_eq!(reader.join().expect("thread"), expected);
    }

    #[test]
    fn read_ahead_hands_on_every_byte_and_hashes_them() {
        let data: Vec<u8> = (0..(2 * CHUNK + 4321)).map(|i| (i % 251) as u8).collect();
        let (got, (hasher, count)) = std::thread::scope(|scope| {
            let (mut reader, digest) = read_ahead(scope, &data[..]);
            let mut got = Vec::new();
            // Odd-sized reads cross the 1 MiB buffer boundaries.
            let mut piece = [0u8; 7777];
            loop {
                let n = reader.read(&mut piece).expect("read");
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&piece[..n]);
            }
            (got, digest.join().expect("thread"))
        });
        assert_eq!(got, data);
        assert_eq!(count, data.len() as u64);
        assert_eq!(hasher.finalize(), Sha256::digest(&data));
    }

    /// A source that fails after handing out some bytes.
    struct Failing(usize);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(7);
            self.0 -= n;
            Ok(n)
        }
    }

    #[test]
    fn read_ahead_passes_a_read_error_on_instead_of_an_end_of_file() {
        let result = std::thread::scope(|scope| {
            let (mut reader, _) = read_ahead(scope, Failing(CHUNK + 10));
            let mut sink = Vec::new();
            let result = reader.read_to_end(&mut sink);
            (result, sink.len())
        });
        let (result, read) = result;
        assert_eq!(
            result.expect_err("the error comes through").to_string(),
            "disk on fire"
        );
        assert_eq!(read, CHUNK + 10);
    }

    #[test]
    fn read_ahead_stops_when_the_reader_is_dropped() {
        // An endless source: the thread must notice the consumer left, not read forever.
        let count = std::thread::scope(|scope| {
            let (reader, digest) = read_ahead(scope, io::repeat(1));
            drop(reader);
            digest.join().expect("thread").1
        });
        assert!(count <= ((QUEUE + 2) * CHUNK) as u64, "read {count} bytes");
    }

    #[test]
    fn writer_fails_when_receiver_stops() {
        let (mut w, r) = chunk_channel();
        drop(r);
        let err = w.write_all(&vec![0u8; CHUNK]).expect_err("receiver gone");
        assert!(is_gone(&err));
    }
}
