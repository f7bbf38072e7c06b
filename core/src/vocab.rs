//! custody's vocabulary: the closed sets of words the registers use (a medium's kind
//! and status, a request's state, a password channel, a language…), each defined once
//! as an enum by the module that owns it, with the word the ledger stores.
//!
//! The `vocabulary!` macro writes the same few impls for every such
//! enum: the word (`as_str`, `Display`, serde), parsing what a person typed (trimmed,
//! any case) with an error that lists the words, and reading and writing it as a
//! table cell.

/// Defines a vocabulary enum: `vocabulary! { /// docs pub enum Name (Field::X) { /// docs
/// Variant = "word", … } }`.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($field:expr) {
            $( $(#[$vmeta:meta])* $variant:ident = $word:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Every word, in order.
            pub const WORDS: &'static [&'static str] = &[$($word),+];

            /// The word the ledger stores and `--json` shows.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $word, )+
                }
            }

            /// Reads a word as a person types it (surrounding spaces and case do not
            /// matter), or says which words there are.
            pub fn parse(text: &str) -> $crate::error::Result<$name> {
                let word = text.trim().to_ascii_lowercase();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == word)
                    .ok_or_else(|| $crate::error::Error::BadValue {
                        field: $field,
                        value: text.to_owned(),
                        rule: $crate::error::Rule::OneOf(
                            $name::WORDS.iter().map(|w| (*w).to_owned()).collect(),
                        ),
                    })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::Error;
            fn from_str(text: &str) -> $crate::error::Result<$name> {
                $name::parse(text)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(
                &self,
                serializer: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(
                deserializer: D,
            ) -> std::result::Result<$name, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                $name::parse(&text).map_err(serde::de::Error::custom)
            }
        }

        impl $crate::ledger::store::ToCell for $name {
            fn to_cell(&self) -> $crate::ledger::store::Cell {
                $crate::ledger::store::Cell::Text(self.as_str().to_owned())
            }
        }

        impl $crate::ledger::store::FromCell for $name {
            fn from_cell(
                cell: &$crate::ledger::store::Cell,
            ) -> std::result::Result<$name, String> {
                let text = <String as $crate::ledger::store::FromCell>::from_cell(cell)?;
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == text)
                    .ok_or_else(|| format!("{text:?} is not a {}", stringify!($name)))
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary! {
    /// The language of a document people read (a certificate, a register).
    pub enum Lang (crate::error::Field::Lang) {
        /// Japanese: the office forms' own words, dates with the era name.
        Ja = "ja",
        /// English.
        En = "en",
    }
}
