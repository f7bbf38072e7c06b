//! The fingerprint of what a wipe wrote: the bytes of a few dozen blocks spread over
//! the ranges whose contents the wipe itself determined, at a given [`Position`].
//!
//! Below the position the device holds the current pass; above it, the previous pass
//! (nothing is known there before the first pass). Both are pure functions of the
//! [`Course`], so the expected bytes can be generated again at any time and compared
//! with what the device returns: a different device, or one written by someone else
//! since, differs (wherever the foreign write hits a sampled block; the final
//! verification reads the rest).

use std::io;

use crate::device::Target;
use crate::engine::{Course, Position};
use crate::pass::{AlignedBuf, Handles};
use crate::stream::Source;

/// Blocks sampled on each side of the position, at most.
pub const SAMPLES: u64 = 32;

/// Bytes per sampled block.
pub const SAMPLE_BYTES: usize = 4096;

/// One sampled block: which pass's bytes it should hold, where, how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sample {
    /// The pass whose bytes the block holds, counted from 0.
    pub pass: usize,
    /// Its first byte.
    pub offset: u64,
    /// Its length, at most [`SAMPLE_BYTES`].
    pub len: usize,
}

/// The blocks sampled at `at` on a target of `size` bytes: evenly spread over
/// `[0, at.offset)` (pass `at.pass`) and `[at.offset, size)` (the pass before), the
/// first and last block of each range included.
pub fn samples(size: u64, at: Position) -> Vec<Sample> {
    let mut out = Vec::new();
    let cut = at.offset.min(size);
    spread(&mut out, at.pass, 0, cut);
    if let Some(previous) = at.pass.checked_sub(1) {
        spread(&mut out, previous, cut, size);
    }
    out
}

fn spread(out: &mut Vec<Sample>, pass: usize, start: u64, end: u64) {
    if end <= start {
        return;
    }
    let blocks = (end - start).div_ceil(SAMPLE_BYTES as u64);
    let n = SAMPLES.min(blocks);
    for i in 0..n {
        let block = if n == 1 {
            0
        } else {
            i * (blocks - 1) / (n - 1)
        };
        let offset = start + block * SAMPLE_BYTES as u64;
        let len = usize::try_from((end - offset).min(SAMPLE_BYTES as u64))
            .expect("a sample is at most a block");
        out.push(Sample { pass, offset, len });
    }
}

/// The bytes the samples should hold, one after the other, generated from `course`.
pub fn expected(course: &Course, samples: &[Sample]) -> Vec<u8> {
    let mut out = Vec::with_capacity(samples.iter().map(|s| s.len).sum());
    for s in samples {
        let mut buf = vec![0_u8; s.len];
        if let Some(pattern) = course.passes.get(s.pass) {
            Source::for_pass(pattern, &course.seed, s.pass).fill(s.offset, &mut buf);
        }
        out.extend_from_slice(&buf);
    }
    out
}

/// The first sampled sector (512 bytes) of `found` that holds neither what the
/// course wrote there by `at`, nor, above `at.offset`, what the current pass may have
/// written after the last durable position before the wipe stopped: `(pass from 0,
/// offset)` of the bytes expected, or `None` when every sector agrees.
pub fn first_difference(
    course: &Course,
    at: Position,
    samples: &[Sample],
    found: &[u8],
) -> Option<(usize, u64)> {
    const SECTOR: usize = 512;
    let mut start = 0;
    for s in samples {
        // Bytes missing, or a pass the course does not have, agree with nothing.
        let (Some(got), Some(pattern)) =
            (found.get(start..start + s.len), course.passes.get(s.pass))
        else {
            return Some((s.pass, s.offset));
        };
        start += s.len;
        let mut want = vec![0_u8; s.len];
        Source::for_pass(pattern, &course.seed, s.pass).fill(s.offset, &mut want);
        // Above the position the current pass may have gone on after its last
        // durable line: its bytes are no foreign write.
        let newer = (s.pass + 1 == at.pass).then(|| {
            let mut newer = vec![0_u8; s.len];
            if let Some(pattern) = course.passes.get(at.pass) {
                Source::for_pass(pattern, &course.seed, at.pass).fill(s.offset, &mut newer);
            }
            newer
        });
        for (i, (w, g)) in want.chunks(SECTOR).zip(got.chunks(SECTOR)).enumerate() {
            let also = newer
                .as_ref()
                .map(|n| &n[i * SECTOR..(i * SECTOR + g.len())]);
            if w != g && also != Some(g) {
                return Some((s.pass, s.offset + (i * SECTOR) as u64));
            }
        }
    }
    None
}

/// The bytes the samples hold on the device, read past the page cache.
pub fn read(target: &Target, samples: &[Sample]) -> io::Result<Vec<u8>> {
    let handles = Handles::open(target);
    handles.drop_cache();
    let mut buf = AlignedBuf::new(SAMPLE_BYTES);
    let mut out = Vec::with_capacity(samples.iter().map(|s| s.len).sum());
    for s in samples {
        let got = &mut buf.as_mut_slice()[..s.len];
        handles.read(s.offset, got).map_err(|f| f.error)?;
        out.extend_from_slice(got);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_cover_both_sides_and_their_ends() {
        let size = 10 << 20;
        let at = Position {
            pass: 1,
            offset: 4 << 20,
        };
        let s = samples(size, at);
        assert_eq!(s.len(), 64);
        assert_eq!((s[0].pass, s[0].offset), (1, 0));
        assert_eq!(s[31].offset + s[31].len as u64, 4 << 20);
        assert_eq!((s[32].pass, s[32].offset), (0, 4 << 20));
        assert_eq!(s[63].offset + s[63].len as u64, size);
        // Nothing is known above the position during the first pass.
        let first = samples(size, Position { pass: 0, ..at });
        assert!(first.iter().all(|s| s.pass == 0 && s.offset < 4 << 20));
        // A short unaligned target gets short blocks, never past its end.
        let tiny = samples(
            5000,
            Position {
                pass: 0,
                offset: 5000,
            },
        );
        assert_eq!(tiny.iter().map(|s| s.len).sum::<usize>(), 5000);
    }
}
