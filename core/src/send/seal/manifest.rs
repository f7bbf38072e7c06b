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

/// Parses a manifest into a map from path to lower-case hex hash. Only what
/// [`render`] writes is accepted: lines of 64 lower-case hex digits, two spaces and a
/// path without line breaks or backslashes, each ending in a line feed.
pub(crate) fn parse(text: &[u8]) -> Result<BTreeMap<String, String>, Error> {
    let bad = |reason: String| Error::ManifestMismatch {
        entry: MANIFEST_NAME.to_owned(),
        reason,
    };
    // The byte offset of the bad UTF-8 adds nothing a person can use.
    let text = std::str::from_utf8(text).map_err(|_| bad("not UTF-8 text".to_owned()))?;
    if !text.is_empty() && !text.ends_with('\n') {
        return Err(bad("the last line does not end in a line feed".to_owned()));
    }
    let mut out = BTreeMap::new();
    for (index, line) in text.split_terminator('\n').enumerate() {
        let number = index + 1;
        let (hash, rest) = line
            .split_at_checked(64)
            .ok_or_else(|| bad(format!("line {number} is too short")))?;
        let path = rest
            .strip_prefix("  ")
            .ok_or_else(|| bad(format!("line {number} is not `HASH  PATH`")))?;
        let hex = hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex || path.is_empty() || !path_is_representable(path) {
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

    /// The manifest custody would write for these lines, checked by hand, not by
    /// `parse`.
    fn written_by_custody(text: &[u8]) -> bool {
        let Ok(text) = std::str::from_utf8(text) else {
            return false;
        };
        let mut seen = std::collections::HashSet::new();
        (text.is_empty() || text.ends_with('\n'))
            && text.split_terminator('\n').all(|line| {
                line.len() > 66
                    && line.as_bytes()[..64]
                        .iter()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
                    && &line[64..66] == "  "
                    && path_is_representable(&line[66..])
                    && seen.insert(line[66..].to_owned())
            })
    }

    proptest::proptest! {
        #[test]
        fn only_what_custody_writes_is_accepted(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            proptest::prop_assert_eq!(parse(&bytes).is_ok(), written_by_custody(&bytes));
        }

        #[test]
        fn near_misses_of_a_real_manifest_are_judged_the_same(
            paths in proptest::collection::vec("[a-zA-Z0-9 ./_報告-]{1,12}", 1..5),
            at in 0usize..2000,
            byte in proptest::num::u8::ANY,
        ) {
            let files: Vec<FileDigest> = paths.iter().enumerate().map(|(i, p)| FileDigest {
                path: format!("{p}{i}"),
                size: 1,
                sha256: format!("{:064x}", i * 7919),
            }).collect();
            let mut text = render(&files).into_bytes();
            proptest::prop_assert!(parse(&text).is_ok());
            if !text.is_empty() {
                let at = at % text.len();
                text[at] = byte;
            }
            proptest::prop_assert_eq!(parse(&text).is_ok(), written_by_custody(&text));
        }
    }

    #[test]
    fn parse_refuses_duplicates_and_garbage() {
        assert!(parse(format!("{}  x\n", "A".repeat(64)).as_bytes()).is_err());
        assert!(parse(format!("{} *x\n", "a".repeat(64)).as_bytes()).is_err());
        assert!(parse(format!("{}  x", "a".repeat(64)).as_bytes()).is_err());
        assert!(parse(format!("\n{}  x\n", "a".repeat(64)).as_bytes()).is_err());
        let line = format!("{}  x\n", "a".repeat(64));
        assert!(parse(format!("{line}{line}").as_bytes()).is_err());
        assert!(parse(b"hello  x\n").is_err());
        assert!(parse(format!("{} x\n", "a".repeat(64)).as_bytes()).is_err());
    }
}
