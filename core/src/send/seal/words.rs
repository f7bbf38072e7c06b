//! Passphrases that custody generates for passphrase mode.
//!
//! Three lists, for three ways of reading a passphrase out over the phone, each giving
//! at least 88 bits:
//! - English words from the BIP39 English list (shipped by the `bip39` crate): 2048
//!   common words, each identified by its first four letters; eight words, joined by
//!   hyphens, 88 bits;
//! - Japanese words from the BIP39 Japanese list, in hiragana: eight words joined by
//!   the ideographic space that a Japanese input method types (as BIP39 itself joins
//!   them), in composed form (NFC), as an input method writes them; 88 bits;
//! - digits: seven groups of four, joined by hyphens; 28 digits, 93 bits.

use secrecy::SecretString;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::error::Field;
use crate::vocab::vocabulary;

/// Number of words in a generated passphrase.
pub const PASSPHRASE_WORDS: u32 = 8;

/// Separator between words (a hyphen reads and types unambiguously).
pub const SEPARATOR: char = '-';

/// Separator between Japanese words: the ideographic space.
pub const JAPANESE_SEPARATOR: char = '\u{3000}';

/// Bits of entropy per word: the list has 2^11 entries.
const BITS_PER_WORD: u32 = 11;

/// Groups of digits, and digits per group.
const DIGIT_GROUPS: usize = 7;
const DIGITS_PER_GROUP: usize = 4;

vocabulary! {
    /// What a generated passphrase is made of.
    pub enum Words (Field::Words) {
        /// English words.
        English = "en",
        /// Japanese words in hiragana.
        Japanese = "ja",
        /// Groups of digits.
        Digits = "digits",
    }
}

/// Returns the entropy of a passphrase from [`generate_passphrase`], in bits.
pub fn passphrase_entropy_bits() -> u32 {
    entropy_bits(Words::English)
}

/// The entropy of a passphrase that [`generate`] makes from `words`, in bits.
pub fn entropy_bits(words: Words) -> u32 {
    match words {
        Words::English | Words::Japanese => PASSPHRASE_WORDS * BITS_PER_WORD,
        // 28 digits: 28 · log2(10) = 93.0 bits, rounded down.
        Words::Digits => ((DIGIT_GROUPS * DIGITS_PER_GROUP) as f64 * 10f64.log2()) as u32,
    }
}

/// Generates a new passphrase of [`PASSPHRASE_WORDS`] English words (see
/// [`generate`]).
///
/// # Panics
///
/// Panics if the operating system cannot provide randomness, since there is no safe way
/// to go on without it.
pub fn generate_passphrase() -> SecretString {
    generate(Words::English)
}

/// Generates a new passphrase from `words`, chosen uniformly with the operating
/// system's random number generator.
///
/// # Panics
///
/// Panics if the operating system cannot provide randomness, since there is no safe way
/// to go on without it.
pub fn generate(words: Words) -> SecretString {
    let mut phrase = Zeroizing::new(String::with_capacity(16 * PASSPHRASE_WORDS as usize));
    match words {
        Words::English => pick_words(bip39::Language::English, SEPARATOR, &mut phrase),
        Words::Japanese => pick_words(bip39::Language::Japanese, JAPANESE_SEPARATOR, &mut phrase),
        Words::Digits => {
            let mut random = Zeroizing::new([0u8; 4 * DIGIT_GROUPS * DIGITS_PER_GROUP]);
            getrandom::fill(random.as_mut_slice()).expect("the OS random number generator works");
            let mut count = 0;
            for chunk in random.chunks_exact(4) {
                // Rejection sampling: below the largest multiple of 10, a uniform u32
                // modulo 10 is uniform.
                let value = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                if value >= u32::MAX - u32::MAX % 10 {
                    continue;
                }
                if count > 0 && count % DIGITS_PER_GROUP == 0 {
                    phrase.push(SEPARATOR);
                }
                phrase.push(char::from(b'0' + (value % 10) as u8));
                count += 1;
                if count == DIGIT_GROUPS * DIGITS_PER_GROUP {
                    break;
                }
            }
            // Four bytes per digit and a rejection chance of 1 in 4·10^8: running out
            // is as likely as a broken random number generator.
            assert_eq!(
                count,
                DIGIT_GROUPS * DIGITS_PER_GROUP,
                "enough random bytes"
            );
        }
    }
    SecretString::from(phrase.as_str())
}

fn pick_words(language: bip39::Language, separator: char, phrase: &mut String) {
    let list = language.word_list();
    debug_assert_eq!(list.len(), 1 << BITS_PER_WORD);
    let mut random = Zeroizing::new([0u8; 2 * PASSPHRASE_WORDS as usize]);
    getrandom::fill(random.as_mut_slice()).expect("the OS random number generator works");
    for (i, pair) in random.chunks_exact(2).enumerate() {
        if i > 0 {
            phrase.push(separator);
        }
        // 2048 divides 65536, so masking a uniform u16 gives a uniform index.
        let index = usize::from(u16::from_le_bytes([pair[0], pair[1]])) & (list.len() - 1);
        // Composed, as an input method types it (the list itself is decomposed).
        phrase.extend(list[index].nfc());
    }
}

/// A passphrase as a person typed it, in the form [`generate`] made it, when it is one
/// that [`generate`] could have made: eight words of the Japanese list joined by the
/// ideographic space whether typed with it, with spaces or with hyphens, composed
/// (NFC); 28 digits in groups of four joined by hyphens whether typed full-width, with
/// spaces, or with the long-vowel mark an input method makes of a hyphen. Any other
/// passphrase is returned as it was typed.
pub fn as_generated(typed: &str) -> Zeroizing<String> {
    let composed: Zeroizing<String> = Zeroizing::new(typed.nfc().collect());
    let is_separator = |c: char| matches!(c, ' ' | '\u{3000}' | '-' | '－' | 'ー');
    let words: Vec<&str> = composed
        .split(is_separator)
        .filter(|w| !w.is_empty())
        .collect();
    let japanese = bip39::Language::Japanese.word_list();
    if words.len() == PASSPHRASE_WORDS as usize
        && words
            .iter()
            .all(|w| japanese.iter().any(|j| j.nfc().eq(w.chars())))
    {
        return Zeroizing::new(words.join("\u{3000}"));
    }
    let digits: Zeroizing<String> = Zeroizing::new(
        composed
            .chars()
            .filter(|c| !is_separator(*c))
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                _ => c,
            })
            .collect(),
    );
    if digits.len() == DIGIT_GROUPS * DIGITS_PER_GROUP && digits.bytes().all(|b| b.is_ascii_digit())
    {
        let groups: Vec<&str> = (0..DIGIT_GROUPS)
            .map(|g| &digits[g * DIGITS_PER_GROUP..(g + 1) * DIGITS_PER_GROUP])
            .collect();
        return Zeroizing::new(groups.join("-"));
    }
    Zeroizing::new(typed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashSet;

    #[test]
    fn every_list_gives_at_least_88_bits() {
        for words in Words::ALL {
            assert!(entropy_bits(*words) >= 88, "{words:?}");
        }
    }

    #[test]
    fn japanese_passphrases_are_eight_hiragana_words_as_an_input_method_types_them() {
        let list: HashSet<String> = bip39::Language::Japanese
            .word_list()
            .iter()
            .map(|w| w.nfc().collect())
            .collect();
        for _ in 0..50 {
            let phrase = generate(Words::Japanese);
            let text = phrase.expose_secret();
            let words: Vec<&str> = text.split(JAPANESE_SEPARATOR).collect();
            assert_eq!(words.len(), 8, "{text}");
            assert!(words.iter().all(|w| list.contains(*w)), "{text}");
            assert_eq!(text.nfc().collect::<String>(), text, "composed");
            // Typed with spaces or hyphens, decomposed, it is the same passphrase.
            let spaced = text.replace(JAPANESE_SEPARATOR, " ");
            let decomposed: String = spaced.nfd().collect();
            assert_eq!(*as_generated(&decomposed), text);
            assert_eq!(*as_generated(&text.replace(JAPANESE_SEPARATOR, "ー")), text);
        }
    }

    #[test]
    fn digit_passphrases_are_seven_groups_of_four() {
        let mut seen = HashSet::new();
        for _ in 0..50 {
            let phrase = generate(Words::Digits);
            let text = phrase.expose_secret().to_owned();
            let groups: Vec<&str> = text.split('-').collect();
            assert_eq!(groups.len(), 7, "{text}");
            assert!(
                groups
                    .iter()
                    .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_digit()))
            );
            let full_width: String = text
                .chars()
                .map(|c| match c {
                    '0'..='9' => char::from_u32(c as u32 + 0xFEE0).unwrap(),
                    _ => 'ー',
                })
                .collect();
            assert_eq!(*as_generated(&full_width), text);
            assert_eq!(*as_generated(&text.replace('-', " ")), text);
            seen.insert(text);
        }
        assert_eq!(seen.len(), 50);
    }

    #[test]
    fn a_passphrase_of_ones_own_is_left_as_typed() {
        for own in [
            "correct horse battery",
            "12345",
            "あいだ あおぞら",
            " spaced ",
        ] {
            assert_eq!(*as_generated(own), own);
        }
    }

    #[test]
    fn passphrase_has_enough_entropy() {
        assert!(passphrase_entropy_bits() >= 80);
    }

    #[test]
    fn passphrase_is_words_from_the_list() {
        let list: HashSet<&str> = bip39::Language::English
            .word_list()
            .iter()
            .copied()
            .collect();
        let phrase = generate_passphrase();
        let words: Vec<&str> = phrase.expose_secret().split(SEPARATOR).collect();
        assert_eq!(words.len(), PASSPHRASE_WORDS as usize);
        for word in words {
            assert!(list.contains(word), "{word} is not in the list");
        }
    }

    #[test]
    fn passphrases_differ() {
        let a = generate_passphrase();
        let b = generate_passphrase();
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn word_list_is_unambiguous_by_four_letters() {
        let list = bip39::Language::English.word_list();
        let prefixes: HashSet<String> = list.iter().map(|w| w.chars().take(4).collect()).collect();
        assert_eq!(prefixes.len(), list.len());
    }
}
