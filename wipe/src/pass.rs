//! One pass over a target: aligned buffers, the generator/writer pipeline, direct I/O.
//!
//! A generator thread fills one buffer while the worker writes (or reads back and
//! compares) the other; two buffers go round between them over channels, so the
//! keystream costs no wall-clock time as long as it is faster than the device.

use std::fs::{File, OpenOptions};
use std::io;
use std::ops::ControlFlow;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use crate::device::Target;
use crate::stream::Source;

/// Buffers are aligned to this many bytes, enough for any logical sector size.
pub const ALIGN: usize = 4096;

/// A heap buffer whose start is aligned for O_DIRECT, made safely by over-allocating.
pub struct AlignedBuf {
    raw: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    /// A zeroed buffer of `len` bytes starting on an [`ALIGN`] boundary.
    pub fn new(len: usize) -> Self {
        let raw = vec![0_u8; len + ALIGN];
        let start = raw.as_ptr().align_offset(ALIGN);
        assert!(start < ALIGN, "a byte pointer can always be aligned");
        Self { raw, start, len }
    }

    /// The buffer's bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.raw[self.start..self.start + self.len]
    }

    /// The buffer's bytes, to fill.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.raw[self.start..self.start + self.len]
    }
}

/// A failed read or write: where, how much was skipped, and the OS error.
pub(crate) struct Failure {
    pub(crate) offset: u64,
    pub(crate) length: u64,
    pub(crate) error: io::Error,
}

/// The two ways into a target: O_DIRECT for the sector-aligned bulk, and the checked
/// (buffered) handle for an image file's unaligned tail, or for everything when the
/// filesystem refuses O_DIRECT.
pub(crate) struct Handles<'t> {
    direct: Option<File>,
    buffered: &'t File,
    /// Bytes below this go through `direct`.
    direct_end: u64,
}

impl<'t> Handles<'t> {
    /// Opens the direct handle; falls back to buffered I/O when O_DIRECT is refused.
    pub(crate) fn open(target: &'t Target) -> Self {
        // No O_EXCL here: the target's own handle already holds the exclusive claim,
        // and a second exclusive open from this process would be refused.
        let direct = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_DIRECT | libc::O_CLOEXEC)
            .open(&target.resolved)
            .ok();
        let sector = u64::from(target.sector.max(512));
        let direct_end = if direct.is_some() {
            target.size - target.size % sector
        } else {
            0
        };
        Self {
            direct,
            buffered: &target.file,
            direct_end,
        }
    }

    /// Whether the bulk of the target goes through O_DIRECT.
    pub(crate) fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// Writes `data` at `offset`; on error the rest of the chunk is skipped.
    pub(crate) fn write(&self, offset: u64, data: &[u8]) -> Result<(), Failure> {
        self.split(offset, data.len(), |file, at, range| {
            let part = &data[range];
            let mut done = 0;
            while done < part.len() {
                match file.write_at(&part[done..], at + done as u64) {
                    Ok(0) => return Err((done, io::ErrorKind::WriteZero.into())),
                    Ok(n) => done += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err((done, e)),
                }
            }
            Ok(())
        })
    }

    /// Reads `buf.len()` bytes at `offset` into `buf`.
    pub(crate) fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), Failure> {
        let len = buf.len();
        let direct_end = self.direct_end;
        let mut result = Ok(());
        let cut = usize::try_from(direct_end.saturating_sub(offset))
            .unwrap_or(usize::MAX)
            .min(len);
        let (head, tail) = buf.split_at_mut(cut);
        if let Some(direct) = &self.direct {
            result = read_all(direct, offset, head);
        }
        if result.is_ok() {
            result = read_all(self.buffered, offset + cut as u64, tail);
        }
        result
    }

    /// Flushes both handles to the device.
    pub(crate) fn flush(&self) -> io::Result<()> {
        if let Some(direct) = &self.direct {
            direct.sync_all()?;
        }
        self.buffered.sync_all()
    }

    /// Drops cached pages of the buffered handle so a read-back comes from the device.
    pub(crate) fn drop_cache(&self) {
        // Best effort: without it a buffered read-back may come from the page cache,
        // which only weakens verification of an unaligned tail.
        let _ = nix::fcntl::posix_fadvise(
            self.buffered,
            0,
            0,
            nix::fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED,
        );
    }

    fn split(
        &self,
        offset: u64,
        len: usize,
        mut op: impl FnMut(&File, u64, std::ops::Range<usize>) -> Result<(), (usize, io::Error)>,
    ) -> Result<(), Failure> {
        let cut = usize::try_from(self.direct_end.saturating_sub(offset))
            .unwrap_or(usize::MAX)
            .min(len);
        let fail = |start: usize, (done, error): (usize, io::Error), end: usize| Failure {
            offset: offset + (start + done) as u64,
            length: (end - start - done) as u64,
            error,
        };
        if cut > 0 {
            let direct = self
                .direct
                .as_ref()
                .expect("direct_end is 0 without a direct handle");
            op(direct, offset, 0..cut).map_err(|e| fail(0, e, cut))?;
        }
        if cut < len {
            op(self.buffered, offset + cut as u64, cut..len).map_err(|e| fail(cut, e, len))?;
        }
        Ok(())
    }
}

fn read_all(file: &File, offset: u64, buf: &mut [u8]) -> Result<(), Failure> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => {
                return Err(Failure {
                    offset: offset + done as u64,
                    length: (buf.len() - done) as u64,
                    error: io::ErrorKind::UnexpectedEof.into(),
                });
            }
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => {
                return Err(Failure {
                    offset: offset + done as u64,
                    length: (buf.len() - done) as u64,
                    error,
                });
            }
        }
    }
    Ok(())
}

/// The chunks of a pass over `[start, size)`: `(offset, length)`, covering it once, in
/// order, each `chunk` long except perhaps the last.
pub(crate) fn chunks(start: u64, size: u64, chunk: usize) -> impl Iterator<Item = (u64, usize)> {
    let step = chunk.max(1) as u64;
    let start = start.min(size);
    (0..(size - start).div_ceil(step)).map(move |i| {
        let offset = start + i * step;
        let len = usize::try_from(step.min(size - offset)).expect("a chunk fits in memory");
        (offset, len)
    })
}

/// Generates the pass's bytes over `[start, size)` chunk by chunk on a second thread
/// and hands each chunk to `consume`, until the end, a `Break`, or the stop flag.
/// Returns whether every chunk was consumed.
pub(crate) fn pipeline(
    source: &Source,
    start: u64,
    size: u64,
    chunk: usize,
    stop: &AtomicBool,
    mut consume: impl FnMut(u64, &[u8]) -> ControlFlow<()>,
) -> bool {
    std::thread::scope(|scope| {
        let (free_tx, free_rx) = mpsc::channel::<AlignedBuf>();
        let (full_tx, full_rx) = mpsc::channel::<(AlignedBuf, u64, usize)>();
        for _ in 0..2 {
            free_tx
                .send(AlignedBuf::new(chunk))
                .expect("the receiver is alive until the generator starts");
        }
        scope.spawn(move || {
            for (offset, len) in chunks(start, size, chunk) {
                // Closed when the consumer stops early: nothing more to generate.
                let Ok(mut buf) = free_rx.recv() else { return };
                source.fill(offset, &mut buf.as_mut_slice()[..len]);
                if full_tx.send((buf, offset, len)).is_err() {
                    return;
                }
            }
        });
        let mut complete = true;
        for (buf, offset, len) in full_rx.iter() {
            if stop.load(Ordering::Relaxed) || consume(offset, &buf.as_slice()[..len]).is_break() {
                complete = false;
                break;
            }
            // The generator may already be done and gone; then the buffer is simply freed.
            let _ = free_tx.send(buf);
        }
        drop(free_tx);
        complete
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn chunks_cover_every_byte_once(
            size in 0_u64..200_000,
            chunk in 1_usize..70_000,
            start in 0_u64..250_000,
        ) {
            let start = start.min(size);
            let mut next = start;
            for (offset, len) in chunks(start, size, chunk) {
                prop_assert_eq!(offset, next);
                prop_assert!(len > 0 && len <= chunk);
                next += len as u64;
            }
            prop_assert_eq!(next, size);
        }

        #[test]
        fn pipeline_hands_over_the_source_in_order(
            size in 0_u64..100_000,
            chunk in 1_usize..30_000,
            pattern in prop::collection::vec(any::<u8>(), 1..4),
        ) {
            let source = Source::Fixed(pattern.clone());
            let mut seen = Vec::new();
            let stop = AtomicBool::new(false);
            let complete = pipeline(&source, 0, size, chunk, &stop, |offset, data| {
                assert_eq!(offset, seen.len() as u64);
                seen.extend_from_slice(data);
                ControlFlow::Continue(())
            });
            prop_assert!(complete);
            let mut expected = vec![0; size as usize];
            crate::stream::fill_fixed(&pattern, 0, &mut expected);
            prop_assert_eq!(seen, expected);
        }
    }

    #[test]
    fn aligned_buffers_are_aligned() {
        for len in [1, 4096, 5000, 1 << 20] {
            let mut buf = AlignedBuf::new(len);
            assert_eq!(buf.as_mut_slice().as_ptr() as usize % ALIGN, 0);
            assert_eq!(buf.as_slice().len(), len);
        }
    }

    #[test]
    fn pipeline_stops_on_the_flag() {
        let source = Source::Fixed(vec![1]);
        let stop = AtomicBool::new(false);
        let mut calls = 0;
        let complete = pipeline(&source, 0, 1 << 20, 4096, &stop, |_, _| {
            calls += 1;
            stop.store(true, Ordering::Relaxed);
            ControlFlow::Continue(())
        });
        assert!(!complete);
        assert_eq!(calls, 1);
    }
}
