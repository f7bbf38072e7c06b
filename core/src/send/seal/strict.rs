//! Reader adapters that make opening follow the age specification where the age crate
//! (0.12) is more lenient or stricter than the specification and Go age, as the community
//! test vectors show:
//! - [`SkipLeadingSpace`]: whitespace before an ASCII-armored file is allowed;
//! - [`WholeHeader`]: every stanza must end with a short (possibly empty) body line;
//!   the header is read once, bounded, and handed to the age crate whole (which makes
//!   its parsing linear).

use std::io::{self, BufRead, Read};

/// How much leading whitespace before `-----BEGIN` is tolerated.
const LEADING_LIMIT: usize = 1024;

const ARMOR_BEGIN: &[u8] = b"-----BEGIN";

/// Drops whitespace in front of an ASCII-armored file; anything else passes untouched.
pub(crate) struct SkipLeadingSpace<R> {
    inner: R,
    prefix: Vec<u8>,
    pos: usize,
    started: bool,
}

impl<R: Read> SkipLeadingSpace<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            prefix: Vec::new(),
            pos: 0,
            started: false,
        }
    }

    fn fill_prefix(&mut self) -> io::Result<()> {
        self.started = true;
        let mut buf = vec![0u8; LEADING_LIMIT + ARMOR_BEGIN.len()];
        let mut filled = 0;
        // Read only while everything so far is whitespace, so binary files pass after one
        // read.
        while filled < buf.len() {
            let n = match self.inner.read(&mut buf[filled..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                break;
            }
            filled += n;
            let spaces = buf[..filled]
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                .count();
            if spaces == 0 || filled - spaces >= ARMOR_BEGIN.len() {
                break;
            }
        }
        buf.truncate(filled);
        let spaces = buf
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        if spaces > 0 && buf[spaces..].starts_with(ARMOR_BEGIN) {
            self.pos = spaces;
        }
        self.prefix = buf;
        Ok(())
    }
}

impl<R: Read> Read for SkipLeadingSpace<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if !self.started {
            self.fill_prefix()?;
        }
        if self.pos < self.prefix.len() {
            let n = out.len().min(self.prefix.len() - self.pos);
            out[..n].copy_from_slice(&self.prefix[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        self.inner.read(out)
    }
}

/// The most recipient stanzas an age header may have. Go age and rage put no explicit
/// bound on them; thousands of recipients is far beyond any office's use (a file is
/// encrypted to a handful of people), while every stanza costs each identity a key
/// agreement. A header with more is refused before any of it is parsed by age.
pub const MAX_STANZAS: usize = 2048;

/// The most bytes an age header may have (ssh-rsa stanzas are about 700 bytes each, so
/// [`MAX_STANZAS`] of them fit).
pub const MAX_HEADER_BYTES: usize = 2 << 20;

/// The longest header line accepted: stanza bodies are wrapped at 64 columns, and an
/// argument line is short.
const MAX_LINE: usize = 4096;

/// Why a header was refused before the age crate saw it.
#[derive(Debug)]
pub(crate) enum HeaderProblem {
    /// More than [`MAX_STANZAS`] stanzas.
    TooManyStanzas,
    /// More than [`MAX_HEADER_BYTES`] bytes, or a line over [`MAX_LINE`].
    TooLarge,
    /// A stanza lacks its final short body line, or the header ends early.
    Malformed(&'static str),
    /// Reading (or de-armoring) failed.
    Io(io::Error),
}

/// The header of a (de-armored) age file, read whole and checked before the age
/// crate parses it, then handed over in one piece.
///
/// The age crate (0.12) parses a buffered header by reading one line, re-parsing the
/// whole header read so far, and repeating: the work grows with the square of the
/// header's size (8,000 stanzas took over 20 s). Here the header is read once, line by
/// line, counted against [`MAX_STANZAS`] and [`MAX_HEADER_BYTES`], and checked for the
/// final short body line of every stanza (which the specification requires and the age
/// crate does not check). The first `read_until` the age crate makes then receives the
/// whole header, so it parses it once.
pub(crate) struct WholeHeader<R> {
    inner: io::BufReader<R>,
    header: Vec<u8>,
    /// How much of `header` has been handed on.
    pos: usize,
    /// How many times `read_until` handed on header bytes (for tests: once).
    pub(crate) handovers: usize,
}

impl<R: Read> WholeHeader<R> {
    /// Reads the header of `inner`; the rest stays to be read through the result.
    pub(crate) fn read(inner: R, capacity: usize) -> Result<Self, HeaderProblem> {
        let mut inner = io::BufReader::with_capacity(capacity, inner);
        let mut header = Vec::new();
        let mut stanzas = 0usize;
        let mut need_final = false;
        let mut first = true;
        loop {
            let start = header.len();
            let n = (&mut inner)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut header)
                .map_err(HeaderProblem::Io)?;
            let line = &header[start..];
            if n == 0 || !line.ends_with(b"\n") {
                if n > MAX_LINE {
                    return Err(HeaderProblem::TooLarge);
                }
                if first {
                    // Not even a first line: age says what it is.
                    break;
                }
                return Err(HeaderProblem::Malformed("the header ends early"));
            }
            if header.len() > MAX_HEADER_BYTES {
                return Err(HeaderProblem::TooLarge);
            }
            let text = &line[..line.len() - 1];
            if first {
                first = false;
                if text != b"age-encryption.org/v1" {
                    // Another version, or not age at all: age refuses it.
                    break;
                }
                continue;
            }
            if text.starts_with(b"->") || text.starts_with(b"---") {
                if need_final {
                    return Err(HeaderProblem::Malformed(
                        "age header stanza is missing its final body line",
                    ));
                }
                if text.starts_with(b"---") {
                    break;
                }
                stanzas += 1;
                if stanzas > MAX_STANZAS {
                    return Err(HeaderProblem::TooManyStanzas);
                }
                need_final = true;
            } else if text.len() < 64 {
                need_final = false;
            }
        }
        Ok(Self {
            inner,
            header,
            pos: 0,
            handovers: 0,
        })
    }
}

impl<R: Read> Read for WholeHeader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.header.len() {
            let n = out.len().min(self.header.len() - self.pos);
            out[..n].copy_from_slice(&self.header[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        self.inner.read(out)
    }
}

impl<R: Read> BufRead for WholeHeader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos < self.header.len() {
            return Ok(&self.header[self.pos..]);
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if self.pos < self.header.len() {
            self.pos = (self.pos + amount).min(self.header.len());
        } else {
            self.inner.consume(amount);
        }
    }

    /// Hands on the whole (pre-read) header at once, though it holds many lines: the
    /// age crate reads its header with `read_until(b'\n')` and re-parses after each
    /// call, so one call means one parse. After the header, an ordinary `read_until`.
    fn read_until(&mut self, byte: u8, buf: &mut Vec<u8>) -> io::Result<usize> {
        if self.pos < self.header.len() {
            let rest = &self.header[self.pos..];
            buf.extend_from_slice(rest);
            self.pos = self.header.len();
            self.handovers += 1;
            return Ok(rest.len());
        }
        self.inner.read_until(byte, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(header: &str) -> Result<Vec<u8>, HeaderProblem> {
        let mut out = Vec::new();
        WholeHeader::read(header.as_bytes(), 64)?
            .read_to_end(&mut out)
            .map_err(HeaderProblem::Io)?;
        Ok(out)
    }

    #[test]
    fn stanza_needs_final_line() {
        let full = "A".repeat(64);
        assert_eq!(
            check("age-encryption.org/v1\n-> a\n\n--- x\npayload").unwrap(),
            b"age-encryption.org/v1\n-> a\n\n--- x\npayload"
        );
        assert!(check("age-encryption.org/v1\n-> a\nAAAA\n--- x\n").is_ok());
        assert!(check("age-encryption.org/v1\n-> a\n--- x\n").is_err());
        assert!(check(&format!("age-encryption.org/v1\n-> a\n{full}\n--- x\n")).is_err());
        assert!(
            check(&format!(
                "age-encryption.org/v1\n-> a\n{full}\n\n--- x\n->\n"
            ))
            .is_ok()
        );
    }

    #[test]
    fn leading_space_is_dropped_only_before_armor() {
        let mut out = Vec::new();
        SkipLeadingSpace::new(&b" \r\n\t-----BEGIN AGE"[..])
            .read_to_end(&mut out)
            .expect("read");
        assert_eq!(out, b"-----BEGIN AGE");
        out.clear();
        SkipLeadingSpace::new(&b"  binary"[..])
            .read_to_end(&mut out)
            .expect("read");
        assert_eq!(out, b"  binary");
    }

    /// A header of `stanzas` X25519-like stanzas.
    fn many(stanzas: usize) -> String {
        let mut header = String::from("age-encryption.org/v1\n");
        for _ in 0..stanzas {
            header.push_str("-> X25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
        }
        header.push_str("--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\npayload");
        header
    }

    /// Counts the bytes read from the file.
    struct Counting<'a>(&'a [u8], usize);

    impl Read for Counting<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.read(out)?;
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn a_header_with_too_many_stanzas_is_refused_after_reading_a_bounded_prefix() {
        let text = many(8000);
        let mut input = Counting(text.as_bytes(), 0);
        let refused = WholeHeader::read(&mut input, 1 << 16);
        assert!(matches!(refused, Err(HeaderProblem::TooManyStanzas)));
        // The work is bounded by the limit, not by the file: a little over MAX_STANZAS
        // stanzas (plus one buffer) was read of 8,000.
        let stanza = many(1).len() - many(0).len();
        assert!(
            input.1 <= (MAX_STANZAS + 1) * stanza + (1 << 16),
            "{}",
            input.1
        );
        assert!(input.1 < text.len() / 2);
        assert!(WholeHeader::read(many(MAX_STANZAS).as_bytes(), 1 << 16).is_ok());
    }

    #[test]
    fn the_age_crate_receives_the_header_in_one_piece() {
        let text = many(1000);
        let mut reader = WholeHeader::read(text.as_bytes(), 1 << 16).unwrap();
        let mut header = Vec::new();
        // What age's read_buffered does: read_until, parse, repeat.
        reader.read_until(b'\n', &mut header).unwrap();
        assert_eq!(reader.handovers, 1);
        assert!(header.ends_with(b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"));
        assert_eq!(header.len(), text.len() - "payload".len());
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"payload");
    }

    #[test]
    fn an_endless_line_or_header_is_refused() {
        let long = format!("age-encryption.org/v1\n-> {}\n", "A".repeat(10_000));
        assert!(matches!(
            WholeHeader::read(long.as_bytes(), 64),
            Err(HeaderProblem::TooLarge)
        ));
        assert!(matches!(
            WholeHeader::read(&b"age-encryption.org/v1\n-> a\n"[..], 64),
            Err(HeaderProblem::Malformed(_))
        ));
    }
}
