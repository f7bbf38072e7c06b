//! Passphrases that custody generates for passphrase mode.
//!
//! Words come from the BIP39 English list (shipped by the `bip39` crate): 2048 common
//! words, each identified by its first four letters, so they survive being read aloud
//! over the phone and typed back. Each word carries 11 bits; eight words give 88 bits.

use secrecy::SecretString;
use zeroize::Zeroizing;

/// Number of words in a generated passphrase.
pub const PASSPHRASE_WORDS: u32 = 8;

/// Separator between words (a hyphen reads and types unambiguously).
pub const SEPARATOR: char = '-';

/// Bits of entropy per word: the list has 2^11 entries.
const BITS_PER_WORD: u32 = 11;

/// Returns the entropy of a passphrase from [`generate_passphrase`], in bits.
pub fn passphrase_entropy_bits() -> u32 {
    PASSPHRASE_WORDS * BITS_PER_WORD
}

/// Generates a new passphrase of [`PASSPHRASE_WORDS`] words chosen uniformly with the
/// operating system's random number generator, joined by [`SEPARATOR`].
///
/// # Panics
///
/// Panics if the operating system cannot provide randomness, since there is no safe way
/// to go on without it.
pub fn generate_passphrase() -> SecretString {
    let list = bip39::Language::English.word_list();
    debug_assert_eq!(list.len(), 1 << BITS_PER_WORD);
    let mut random = Zeroizing::new([0u8; 2 * PASSPHRASE_WORDS as usize]);
    getrandom::fill(random.as_mut_slice()).expect("the OS random number generator works");
    let mut phrase = Zeroizing::new(String::with_capacity(10 * PASSPHRASE_WORDS as usize));
    for (i, pair) in random.chunks_exact(2).enumerate() {
        if i > 0 {
            phrase.push(SEPARATOR);
        }
        // 2048 divides 65536, so masking a uniform u16 gives a uniform index.
        let index = usize::from(u16::from_le_bytes([pair[0], pair[1]])) & (list.len() - 1);
        phrase.push_str(list[index]);
    }
    SecretString::from(phrase.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashSet;

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
