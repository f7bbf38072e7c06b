//! Reader adapters that make opening follow the age specification where the age crate
//! (0.12) is more lenient or stricter than the specification and Go age, as the community
//! test vectors show:
//! - [`SkipLeadingSpace`]: whitespace before an ASCII-armored file is allowed;
//! - [`HeaderCheck`]: every stanza must end with a short (possibly empty) body line.

use std::io::{self, Read};

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

/// Watches the header lines of a (de-armored) age file go by and fails the read if a
/// stanza lacks its final short body line; after the MAC line it only passes bytes on.
pub(crate) struct HeaderCheck<R> {
    inner: R,
    done: bool,
    first_line: bool,
    /// A stanza is open and still needs a body line shorter than 64 columns.
    need_final: bool,
    line_len: usize,
    line_start: [u8; 3],
}

impl<R: Read> HeaderCheck<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            done: false,
            first_line: true,
            need_final: false,
            line_len: 0,
            line_start: [0; 3],
        }
    }

    fn end_line(&mut self) -> io::Result<()> {
        let start = &self.line_start[..self.line_len.min(3)];
        if self.first_line {
            self.first_line = false;
        } else if start.starts_with(b"->") || start == b"---" {
            if self.need_final {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "age header stanza is missing its final body line",
                ));
            }
            if start == b"---" {
                self.done = true;
            } else {
                self.need_final = true;
            }
        } else if self.line_len < 64 {
            self.need_final = false;
        }
        self.line_len = 0;
        Ok(())
    }
}

impl<R: Read> Read for HeaderCheck<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        if self.done {
            return Ok(n);
        }
        for &b in &out[..n] {
            if self.done {
                break;
            }
            if b == b'\n' {
                self.end_line()?;
            } else {
                if self.line_len < 3 {
                    self.line_start[self.line_len] = b;
                }
                self.line_len += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(header: &str) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        HeaderCheck::new(header.as_bytes()).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn stanza_needs_final_line() {
        let full = "A".repeat(64);
        assert!(check("age-encryption.org/v1\n-> a\n\n--- x\npayload").is_ok());
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
}
