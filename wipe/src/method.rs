//! Wipe methods and the patterns of their passes.
//!
//! The exact pass tables, with their sources, are in `docs/wipe-methods.md`; the tests
//! at the bottom of this file pin the same tables.

use std::fmt;

use crate::error::{Error, Result};

/// The most passes `random` accepts with an explicit count.
pub const MAX_RANDOM_PASSES: u32 = 1000;

/// A wipe method: a named sequence of passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// One pass of 0x00 (nwipe `zero`); NIST SP 800-88 Clear.
    Zero,
    /// One pass of 0xFF (nwipe `one`).
    One,
    /// `passes` passes of an AES-128-CTR keystream (nwipe `random`, the PRNG stream).
    Random {
        /// How many passes, at least 1.
        passes: u32,
    },
    /// DoD 5220.22-M short, 3 passes: a random byte, its complement, a random stream
    /// (nwipe `dodshort`).
    DodShort,
    /// DoD 5220.22-M ECE, 7 passes (nwipe `dod522022m`).
    Dod,
    /// Peter Gutmann's 35 passes; passes 5 to 31 in a random order (nwipe `gutmann`).
    Gutmann,
    /// Bruce Schneier's 7 passes: 0xFF, 0x00, then five random streams (nwipe `bruce7`).
    Schneier,
    /// German BSI VSITR, 7 passes: 0x00 and 0xFF alternating six times, then 0xAA.
    Vsitr,
    /// HMG Infosec Standard 5 Enhanced, 3 passes: 0x00, 0xFF, random (nwipe `is5enh`).
    HmgIs5,
}

/// The names [`Method::parse`] accepts, in the order they are documented.
pub const METHOD_NAMES: &[&str] = &[
    "zero",
    "one",
    "random",
    "dod-short",
    "dod",
    "gutmann",
    "schneier",
    "vsitr",
    "hmg-is5",
];

/// What one pass writes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// These bytes repeated from offset 0 of the target, e.g. `[0x92, 0x49, 0x24]`.
    Fixed(Vec<u8>),
    /// A keystream from a fresh key for this pass.
    Random,
}

impl Pattern {
    /// The label recorded for the pass: `"0x00"`, `"0x92 0x49 0x24"` or `"random"`.
    pub fn label(&self) -> String {
        match self {
            Pattern::Random => "random".to_owned(),
            Pattern::Fixed(bytes) => bytes
                .iter()
                .map(|b| format!("0x{b:02X}"))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl Method {
    /// Parses a method name as the user types it; `passes` is only for `random`.
    ///
    /// nwipe's names (`dodshort`, `dod522022m`, `is5enh`, `bruce7`, `prng`, `quick`)
    /// are accepted as aliases.
    pub fn parse(name: &str, passes: Option<u32>) -> Result<Method> {
        let method = match name.to_ascii_lowercase().as_str() {
            "zero" | "zeros" | "quick" => Method::Zero,
            "one" | "ones" => Method::One,
            "random" | "prng" | "stream" => {
                let passes = passes.unwrap_or(1);
                if !(1..=MAX_RANDOM_PASSES).contains(&passes) {
                    return Err(Error::BadPassCount {
                        passes,
                        max: MAX_RANDOM_PASSES,
                    });
                }
                return Ok(Method::Random { passes });
            }
            "dod-short" | "dodshort" | "dod3pass" => Method::DodShort,
            "dod" | "dod522022m" | "dod-7" => Method::Dod,
            "gutmann" => Method::Gutmann,
            "schneier" | "bruce7" => Method::Schneier,
            "vsitr" => Method::Vsitr,
            "hmg-is5" | "is5enh" | "hmg-is5-enhanced" => Method::HmgIs5,
            _ => {
                return Err(Error::UnknownMethod {
                    name: name.to_owned(),
                    known: METHOD_NAMES.join(", "),
                });
            }
        };
        if passes.is_some() {
            return Err(Error::PassesNotAllowed {
                method: method.name().to_owned(),
            });
        }
        Ok(method)
    }

    /// The canonical name, as [`Method::parse`] accepts it and as the ledger records it.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Zero => "zero",
            Method::One => "one",
            Method::Random { .. } => "random",
            Method::DodShort => "dod-short",
            Method::Dod => "dod",
            Method::Gutmann => "gutmann",
            Method::Schneier => "schneier",
            Method::Vsitr => "vsitr",
            Method::HmgIs5 => "hmg-is5",
        }
    }

    /// The passes of this method, plus a final 0x00 pass when `blank` is set.
    ///
    /// Methods with random elements (the DoD bytes, the Gutmann order) draw them from
    /// the operating system here, so two calls may differ; the labels of the returned
    /// patterns say what was chosen.
    pub fn passes(&self, blank: bool) -> Result<Vec<Pattern>> {
        let mut passes = match self {
            Method::Zero => vec![fixed(0x00)],
            Method::One => vec![fixed(0xFF)],
            Method::Random { passes } => vec![Pattern::Random; *passes as usize],
            Method::DodShort => {
                let [a, _, _] = random_bytes::<3>()?;
                vec![fixed(a), fixed(!a), Pattern::Random]
            }
            Method::Dod => {
                let [a, c, e] = random_bytes::<3>()?;
                vec![
                    fixed(a),
                    fixed(!a),
                    Pattern::Random,
                    fixed(c),
                    fixed(e),
                    fixed(!e),
                    Pattern::Random,
                ]
            }
            Method::Gutmann => gutmann()?,
            Method::Schneier => {
                let mut passes = vec![fixed(0xFF), fixed(0x00)];
                passes.extend(std::iter::repeat_n(Pattern::Random, 5));
                passes
            }
            Method::Vsitr => vec![
                fixed(0x00),
                fixed(0xFF),
                fixed(0x00),
                fixed(0xFF),
                fixed(0x00),
                fixed(0xFF),
                fixed(0xAA),
            ],
            Method::HmgIs5 => vec![fixed(0x00), fixed(0xFF), Pattern::Random],
        };
        if blank {
            passes.push(fixed(0x00));
        }
        Ok(passes)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::Random { passes } if *passes != 1 => write!(f, "random ({passes} passes)"),
            _ => f.write_str(self.name()),
        }
    }
}

fn fixed(byte: u8) -> Pattern {
    Pattern::Fixed(vec![byte])
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0_u8; N];
    getrandom::fill(&mut bytes).map_err(Error::Seed)?;
    Ok(bytes)
}

/// The 27 deterministic passes of Gutmann's table, passes 5 to 31 in his order.
const GUTMANN_FIXED: [[u8; 3]; 27] = [
    [0x55, 0x55, 0x55],
    [0xAA, 0xAA, 0xAA],
    [0x92, 0x49, 0x24],
    [0x49, 0x24, 0x92],
    [0x24, 0x92, 0x49],
    [0x00, 0x00, 0x00],
    [0x11, 0x11, 0x11],
    [0x22, 0x22, 0x22],
    [0x33, 0x33, 0x33],
    [0x44, 0x44, 0x44],
    [0x55, 0x55, 0x55],
    [0x66, 0x66, 0x66],
    [0x77, 0x77, 0x77],
    [0x88, 0x88, 0x88],
    [0x99, 0x99, 0x99],
    [0xAA, 0xAA, 0xAA],
    [0xBB, 0xBB, 0xBB],
    [0xCC, 0xCC, 0xCC],
    [0xDD, 0xDD, 0xDD],
    [0xEE, 0xEE, 0xEE],
    [0xFF, 0xFF, 0xFF],
    [0x92, 0x49, 0x24],
    [0x49, 0x24, 0x92],
    [0x24, 0x92, 0x49],
    [0x6D, 0xB6, 0xDB],
    [0xB6, 0xDB, 0x6D],
    [0xDB, 0x6D, 0xB6],
];

/// Four random passes, the 27 fixed ones shuffled (as nwipe and DBAN do, and as
/// Gutmann recommends, so the order cannot be predicted), four random passes.
fn gutmann() -> Result<Vec<Pattern>> {
    let mut order: Vec<usize> = (0..GUTMANN_FIXED.len()).collect();
    let draws = random_bytes::<{ 27 * 4 }>()?;
    // Fisher-Yates with 32-bit draws; the modulo bias is below 1e-8 and harmless here.
    for i in (1..order.len()).rev() {
        let draw = u32::from_le_bytes([
            draws[4 * i],
            draws[4 * i + 1],
            draws[4 * i + 2],
            draws[4 * i + 3],
        ]);
        let j = draw as usize % (i + 1);
        order.swap(i, j);
    }
    let mut passes = vec![Pattern::Random; 4];
    passes.extend(
        order
            .iter()
            .map(|&i| Pattern::Fixed(GUTMANN_FIXED[i].to_vec())),
    );
    passes.extend(std::iter::repeat_n(Pattern::Random, 4));
    Ok(passes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(method: &str, blank: bool) -> Vec<String> {
        Method::parse(method, None)
            .unwrap()
            .passes(blank)
            .unwrap()
            .iter()
            .map(Pattern::label)
            .collect()
    }

    #[test]
    fn fixed_tables_match_the_documentation() {
        assert_eq!(labels("zero", false), ["0x00"]);
        assert_eq!(labels("one", true), ["0xFF", "0x00"]);
        assert_eq!(labels("hmg-is5", false), ["0x00", "0xFF", "random"]);
        assert_eq!(
            labels("schneier", false),
            [
                "0xFF", "0x00", "random", "random", "random", "random", "random"
            ]
        );
        assert_eq!(
            labels("vsitr", false),
            ["0x00", "0xFF", "0x00", "0xFF", "0x00", "0xFF", "0xAA"]
        );
    }

    #[test]
    fn dod_passes_pair_each_byte_with_its_complement() {
        let short = Method::DodShort.passes(false).unwrap();
        assert_eq!(short.len(), 3);
        let byte = |p: &Pattern| match p {
            Pattern::Fixed(b) => b[0],
            Pattern::Random => panic!("expected a fixed pass"),
        };
        assert_eq!(byte(&short[1]), !byte(&short[0]));
        assert_eq!(short[2], Pattern::Random);

        let long = Method::Dod.passes(false).unwrap();
        assert_eq!(long.len(), 7);
        assert_eq!(byte(&long[1]), !byte(&long[0]));
        assert_eq!(byte(&long[5]), !byte(&long[4]));
        assert_eq!(long[2], Pattern::Random);
        assert_eq!(long[6], Pattern::Random);
        let _ = byte(&long[3]);
    }

    #[test]
    fn gutmann_keeps_random_ends_and_every_fixed_pass_once() {
        let passes = Method::Gutmann.passes(false).unwrap();
        assert_eq!(passes.len(), 35);
        assert!(passes[..4].iter().all(|p| *p == Pattern::Random));
        assert!(passes[31..].iter().all(|p| *p == Pattern::Random));
        let mut middle: Vec<Vec<u8>> = passes[4..31]
            .iter()
            .map(|p| match p {
                Pattern::Fixed(b) => b.clone(),
                Pattern::Random => panic!("random pass in the middle"),
            })
            .collect();
        let mut book: Vec<Vec<u8>> = GUTMANN_FIXED.iter().map(|b| b.to_vec()).collect();
        middle.sort();
        book.sort();
        assert_eq!(middle, book);
    }

    #[test]
    fn random_takes_a_pass_count_and_others_refuse_it() {
        assert_eq!(
            Method::parse("random", Some(3)).unwrap(),
            Method::Random { passes: 3 }
        );
        assert_eq!(labels("random", true), ["random", "0x00"]);
        assert!(matches!(
            Method::parse("dod", Some(3)),
            Err(Error::PassesNotAllowed { .. })
        ));
        assert!(matches!(
            Method::parse("random", Some(0)),
            Err(Error::BadPassCount { .. })
        ));
        assert!(matches!(
            Method::parse("erase-harder", None),
            Err(Error::UnknownMethod { .. })
        ));
    }

    #[test]
    fn nwipe_names_are_aliases() {
        assert_eq!(Method::parse("dodshort", None).unwrap(), Method::DodShort);
        assert_eq!(Method::parse("dod522022m", None).unwrap(), Method::Dod);
        assert_eq!(Method::parse("is5enh", None).unwrap(), Method::HmgIs5);
        assert_eq!(Method::parse("bruce7", None).unwrap(), Method::Schneier);
        for name in METHOD_NAMES {
            assert_eq!(Method::parse(name, None).unwrap().name(), *name);
        }
    }

    #[test]
    fn gutmann_label_shows_three_bytes() {
        assert_eq!(
            Pattern::Fixed(vec![0x92, 0x49, 0x24]).label(),
            "0x92 0x49 0x24"
        );
    }
}
