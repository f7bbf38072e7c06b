//! Writing a large output file past the page cache.
//!
//! `send` and `open` make their output durable before they record it. Written through
//! the page cache, a 1 GiB output waits ~0.3 s in the final `fsync` with every core idle,
//! and the kernel spends CPU copying it into the cache and writing it back. With
//! `O_DIRECT` the bytes go from an aligned buffer to the disk as they are written, and the
//! final `fsync` has little left to do. File systems that refuse `O_DIRECT` (tmpfs on
//! older kernels, some network shares) get ordinary writes; the result is the same file.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

use nix::fcntl::{FcntlArg, OFlag, fcntl};

use custody_wipe::{ALIGN, AlignedBuf};

use super::CHUNK;

/// Staging buffers in flight between the hashing thread and the disk.
const BUFFERS: usize = 3;

/// One write for the disk thread: the first `len` bytes of `buf` at `offset`.
struct Block {
    buf: AlignedBuf,
    len: usize,
    offset: u64,
}

/// A [`Write`] for a new, empty output file that goes past the page cache when it can.
/// Writes are handed to a thread of their own in 1 MiB blocks, so that waiting for the
/// disk overlaps with the work of the caller.
pub(crate) struct OutputFile<'f> {
    file: &'f File,
    direct: bool,
    current: Option<AlignedBuf>,
    filled: usize,
    offset: u64,
    tx: Option<SyncSender<Block>>,
    pool: Receiver<AlignedBuf>,
    disk: Option<JoinHandle<io::Result<()>>>,
}

/// Turns `O_DIRECT` on or off for `file`'s open file description.
fn set_direct(file: &File, on: bool) -> io::Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(file, FcntlArg::F_GETFL)?);
    let flags = if on {
        flags | OFlag::O_DIRECT
    } else {
        flags - OFlag::O_DIRECT
    };
    fcntl(file, FcntlArg::F_SETFL(flags))?;
    Ok(())
}

/// Writes every block it is sent; a file system that turns out to refuse direct writes
/// (`EINVAL`) gets the same bytes buffered. Stops at the first failure.
fn disk_thread(
    file: File,
    mut direct: bool,
    blocks: Receiver<Block>,
    pool: Sender<AlignedBuf>,
) -> io::Result<()> {
    for block in blocks {
        let bytes = &block.buf.as_slice()[..block.len];
        match file.write_all_at(bytes, block.offset) {
            Err(e) if direct && e.raw_os_error() == Some(nix::errno::Errno::EINVAL as i32) => {
                set_direct(&file, false)?;
                direct = false;
                file.write_all_at(bytes, block.offset)?;
            }
            other => other?,
        }
        let _ = pool.send(block.buf);
    }
    Ok(())
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the disk writer stopped")
}

impl<'f> OutputFile<'f> {
    /// Writes to `file`, which must be empty and written only through this.
    pub(crate) fn new(file: &'f File) -> io::Result<Self> {
        Self::with_mode(file, true)
    }

    /// With `try_direct` false, ordinary writes only (what a file system that refuses
    /// `O_DIRECT` gets).
    fn with_mode(file: &'f File, try_direct: bool) -> io::Result<Self> {
        let direct = try_direct && set_direct(file, true).is_ok();
        let (tx, blocks) = sync_channel(BUFFERS);
        let (pool_tx, pool) = channel();
        for _ in 1..BUFFERS {
            let _ = pool_tx.send(AlignedBuf::new(CHUNK));
        }
        let handle = file.try_clone()?;
        let disk = std::thread::spawn(move || disk_thread(handle, direct, blocks, pool_tx));
        Ok(Self {
            file,
            direct,
            current: Some(AlignedBuf::new(CHUNK)),
            filled: 0,
            offset: 0,
            tx: Some(tx),
            pool,
            disk: Some(disk),
        })
    }

    /// Hands the current buffer's first `len` bytes to the disk thread.
    fn ship(&mut self, len: usize) -> io::Result<()> {
        let buf = self.current.take().expect("a buffer between writes");
        let tx = self.tx.as_ref().expect("open until finished");
        tx.send(Block {
            buf,
            len,
            offset: self.offset,
        })
        // A send fails only when the disk thread has stopped; `gone` finds out why.
        .map_err(|_| gone())
    }

    /// The disk thread's result, once it has stopped.
    fn stop(&mut self) -> io::Result<()> {
        self.tx = None;
        match self.disk.take() {
            Some(disk) => disk
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => Ok(()),
        }
    }

    /// Writes what is left and waits until the whole file is on disk.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        let real = self.filled;
        let result = (|| -> io::Result<()> {
            if real > 0 {
                // A direct write must be whole blocks: pad with zeros, then cut the file
                // back to its real length.
                let len = if self.direct {
                    let padded = real.div_ceil(ALIGN) * ALIGN;
                    let buf = self.current.as_mut().expect("a buffer between writes");
                    buf.as_mut_slice()[real..padded].fill(0);
                    padded
                } else {
                    real
                };
                self.ship(len)?;
            }
            Ok(())
        })();
        // The disk thread's own failure (a full disk, say) is the one to report; the
        // tail's hand-over only fails because of it.
        self.stop()?;
        result?;
        if real > 0 {
            self.file.set_len(self.offset + real as u64)?;
        }
        self.file.sync_all()
    }
}

impl Drop for OutputFile<'_> {
    fn drop(&mut self) {
        // Not finished (a failure elsewhere): let the disk thread end before the file
        // is removed.
        let _ = self.stop();
    }
}

impl Write for OutputFile<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.current.is_none() {
            // Blocks until the disk thread hands a buffer back; fails if it stopped.
            let buf = self.pool.recv();
            // The channel's error says only that it closed; the thread's own error is why.
            self.current = Some(buf.map_err(|_| self.stop().err().unwrap_or_else(gone))?);
        }
        let n = data.len().min(CHUNK - self.filled);
        let at = self.filled;
        let buf = self.current.as_mut().expect("just made sure");
        buf.as_mut_slice()[at..at + n].copy_from_slice(&data[..n]);
        self.filled += n;
        if self.filled == CHUNK {
            // The disk thread's own failure is the one to report.
            self.ship(CHUNK)
                .map_err(|e| self.stop().err().unwrap_or(e))?;
            self.offset += CHUNK as u64;
            self.filled = 0;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sizes around the buffer and block boundaries come back byte for byte.
    #[test]
    fn files_of_any_length_come_back_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lengths = [
            0,
            1,
            ALIGN - 1,
            ALIGN,
            ALIGN + 1,
            CHUNK,
            CHUNK + 7,
            3 * CHUNK - 5,
        ];
        for (len, direct) in lengths.into_iter().flat_map(|l| [(l, true), (l, false)]) {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let path = dir.path().join(format!("out-{len}-{direct}"));
            let file = File::create_new(&path).expect("create");
            let mut out = OutputFile::with_mode(&file, direct).expect("start");
            // Odd-sized writes cross the staging buffer's boundary.
            for piece in data.chunks(65_537) {
                out.write_all(piece).expect("write");
            }
            out.finish().expect("finish");
            assert_eq!(
                std::fs::read(&path).expect("read"),
                data,
                "length {len}, direct {direct}"
            );
        }
    }
}
