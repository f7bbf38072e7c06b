//! `MANIFEST.sha256`: one line per file, `HASH  relative/path`, exactly what
//! `sha256sum -c` reads.

use std::collections::BTreeMap;

use super::{Error, FileDigest, MANIFEST_NAME};

/// Manifests larger than this are refused when opening (about 100,000 long paths).
pub(crate) const MANIFEST_LIMIT: u64 = 64 << 20;

/// Renders the manifest of `files`, in the order given.
pub(crate) fn render(files: &[FileDigest]) -> String {
    let mut out = String::with_capacity(files.len() * 100);
    for file in files {
        out.push_str(&file.sha256);
        out.push_str("  ");
        out.push_str(&file.path);
        out.push('\n');
    }
    out
}

/// Whether a stored path can be written into a manifest line without `sha256sum`'s
/// backslash escaping (which custody does not produce).
pub(crate) fn path_is_representable(path: &str) -> bool {
    !path.contains(['\n', '\r', '\\'])
}

/// Parses a manifest into a map from path to lower-case hex hash.
pub(crate) fn parse(text: &[u8]) -> Result<BTreeMap<String, String>, Error> {
    let bad = |reason: String| Error::ManifestMismatch {
        entry: MANIFEST_NAME.to_owned(),
        reason,
    };
    let text = std::str::from_utf8(text).map_err(|_| bad("not UTF-8 text".to_owned()))?;
    let mut out = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.is_empty() {
            continue;
        }
        let (hash, rest) = line
            .split_at_checked(64)
            .ok_or_else(|| bad(format!("line {number} is too short")))?;
        let path = rest
            .strip_prefix("  ")
            .or_else(|| rest.strip_prefix(" *"))
            .ok_or_else(|| bad(format!("line {number} is not `HASH  PATH`")))?;
        if !hash.bytes().all(|b| b.is_ascii_hexdigit()) || path.is_empty() {
            return Err(bad(format!("line {number} is not `HASH  PATH`")));
        }
        if out
            .insert(path.to_owned(), hash.to_ascii_lowercase())
            .is_some()
        {
            return Err(bad(format!("line {number} lists {path:?} a second time")));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(path: &str, sha: char) -> FileDigest {
        FileDigest {
            path: path.to_owned(),
            size: 1,
            sha256: sha.to_string().repeat(64),
        }
    }

    #[test]
    fn render_then_parse_round_trips() {
        let files = vec![digest("a/報告書.csv", 'a'), digest("b c/d", 'b')];
        let text = render(&files);
        assert_eq!(
            text.lines().next(),
            Some(format!("{}  a/報告書.csv", "a".repeat(64)).as_str())
        );
        let parsed = parse(text.as_bytes()).expect("valid");
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed["b c/d"], "b".repeat(64));
    }

    #[test]
    fn parse_refuses_duplicates_and_garbage() {
        let line = format!("{}  x\n", "a".repeat(64));
        assert!(parse(format!("{line}{line}").as_bytes()).is_err());
        assert!(parse(b"hello  x\n").is_err());
        assert!(parse(format!("{} x\n", "a".repeat(64)).as_bytes()).is_err());
    }
}
