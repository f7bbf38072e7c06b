//! Everything the command line shows: results as text or JSON ([`Printer`]), tables
//! ([`Table`]), sizes, and progress on stderr ([`progress`]). Commands build values;
//! this module decides how they look, so that every table aligns the same way and
//! every size reads the same.

pub mod progress;
mod table;

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

pub use table::Table;

/// How a command shows its result: text for people, or JSON (`--json`) for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Printer {
    /// Text for people.
    Text,
    /// Pretty JSON of the value itself.
    Json,
}

impl Printer {
    /// JSON when `json`, else text.
    pub fn new(json: bool) -> Printer {
        if json { Printer::Json } else { Printer::Text }
    }

    /// Prints `value` as JSON, or the text `render` makes of it.
    pub fn print<T: Serialize + ?Sized>(
        self,
        value: &T,
        render: impl FnOnce(&T) -> String,
    ) -> Result<()> {
        match self {
            Printer::Json => json(value),
            Printer::Text => text(&render(value)),
        }
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Prints text on stdout, ending it with a line break.
pub fn text(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// Prints bytes on stdout as they are.
pub fn bytes(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// A size for people: `32.00 MiB (33556992 bytes)`, or `512 bytes`.
pub fn size(bytes: u64) -> String {
    if bytes < 1024 {
        crate::i18n::t!("size-bytes", bytes = bytes)
    } else {
        crate::i18n::t!(
            "size-with-bytes",
            size = indicatif::BinaryBytes(bytes),
            bytes = bytes
        )
    }
}

/// True when the error chain ends in a broken pipe (`custody log | head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    let broken = |e: &std::io::Error| e.kind() == std::io::ErrorKind::BrokenPipe;
    err.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(broken)
            // Transparent: its io::Error is not a separate link of the chain.
            || matches!(
                cause.downcast_ref::<custody_core::Error>(),
                Some(custody_core::Error::Io(e)) if broken(e)
            )
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|e| e.io_error_kind())
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}
