//! A three-stage pipeline for `send`, so that reading and hashing the input, encrypting,
//! and hashing and writing the output run on different cores: on one core the two
//! SHA-256 passes alone cost more than age's encryption.
//!
//! Stages hand 1 MiB buffers to each other over bounded channels and recycle them, so
//! memory stays at a few MiB whatever the input size.

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

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
        let mut next = self
            .pool
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        next.clear();
        let full = std::mem::replace(&mut self.buf, next);
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
    fn writer_fails_when_receiver_stops() {
        let (mut w, r) = chunk_channel();
        drop(r);
        let err = w.write_all(&vec![0u8; CHUNK]).expect_err("receiver gone");
        assert!(is_gone(&err));
    }
}
