//! Property tests of the invariants the record rests on: any sequence of appends
//! verifies; any single changed byte of an entry, a payload or a checkpoint is found
//! by verify at the right entry; canonical JSON is stable; record ids parse what they
//! print; and the parsers of outside input (head blocks, certificate files) never
//! panic on hostile bytes.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;

use custody_core::keys::StationPublicKey;
use custody_core::ledger::HeadBlock;
use custody_core::people::key::{Passphrase, PersonalKey, Signer};
use custody_core::{Error, RecordId, Station, canon};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// sato's personal key, made once for every case (scrypt is slow on purpose).
fn sato() -> &'static PersonalKey {
    static KEY: std::sync::OnceLock<PersonalKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let phrase = Passphrase::new(zeroize::Zeroizing::new("violet kettle harbour 1987".into()));
        PersonalKey::generate("sato", &phrase).unwrap().key
    })
}

/// The shared key, lent to a station.
struct Lent(&'static PersonalKey);

impl Signer for Lent {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn public(&self) -> &StationPublicKey {
        self.0.public()
    }
    fn sign(&self, message: &[u8], comment: &str) -> custody_core::Result<String> {
        self.0.sign(message, comment)
    }
}

/// A data home with `notes` appended, one per command or several at once.
fn ledger(dir: &Path, notes: &[(String, bool)]) -> Station {
    let home = dir.join("home");
    let key_file = dir.join("sato.key");
    Station::init(&home, sato(), Some("Props"), Some("desk-1"), || {
        Ok(key_file)
    })
    .unwrap();
    let mut station = Station::open(&home, "sato").unwrap();
    station.unlock(Box::new(Lent(sato()))).unwrap();
    let mut batch = Vec::new();
    for (text, alone) in notes {
        if *alone {
            station.note(text).unwrap();
        } else {
            batch.push(text.clone());
        }
    }
    if !batch.is_empty() {
        station.notes(&batch).unwrap();
    }
    station
}

fn note_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 個人データ照会、。-]{1,40}".prop_filter("not blank", |t| !t.trim().is_empty())
}

/// One column of one ledger table to change, and where in its text.
#[derive(Debug, Clone)]
enum Target {
    Entry(&'static str),
    Payload(&'static str),
    Checkpoint(&'static str),
    Signature(&'static str),
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        prop::sample::select(vec![
            "at",
            "actor",
            "station",
            "kind",
            "subject",
            "commitment",
            "prev_hash",
            "hash",
        ])
        .prop_map(Target::Entry),
        prop::sample::select(vec!["salt", "body"]).prop_map(Target::Payload),
        prop::sample::select(vec!["head", "at", "signature"]).prop_map(Target::Checkpoint),
        Just(Target::Signature("signature")),
    ]
}

/// Replaces the character at `at` (modulo the length) of `text` with another ASCII
/// character, keeping the text valid UTF-8; for a minisign signature only its second
/// and fourth lines (the signatures) are changed, since the untrusted comment is, by
/// minisign's design, not signed.
fn change(text: &str, at: usize, to: u8, signature: bool) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let positions: Vec<usize> = if signature {
        let mut line = 0;
        let mut out = Vec::new();
        for (i, c) in chars.iter().enumerate() {
            if *c == '\n' {
                line += 1;
            } else if line == 1 || line == 3 {
                out.push(i);
            }
        }
        out
    } else {
        (0..chars.len()).collect()
    };
    if positions.is_empty() {
        // An empty field (the subject of an entry about no record) gains a character.
        return "X".to_owned();
    }
    let i = positions[at % positions.len()];
    let mut replacement = char::from(b'!' + to % 90);
    if replacement == chars[i] {
        replacement = if chars[i] == 'A' { 'B' } else { 'A' };
    }
    chars[i] = replacement;
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_sequence_of_appends_verifies(notes in prop::collection::vec((note_text(), any::<bool>()), 0..12)) {
        let dir = tempfile::tempdir().unwrap();
        let station = ledger(dir.path(), &notes);
        let report = station.verify(None, None).unwrap();
        // init and the first manager, then every note.
        prop_assert_eq!(report.entries, 2 + notes.len() as i64);
        prop_assert_eq!(report.payloads_checked, report.entries);
    }

    #[test]
    fn any_changed_byte_is_found_at_its_entry(
        notes in prop::collection::vec((note_text(), any::<bool>()), 1..8),
        target in target(),
        row in any::<prop::sample::Index>(),
        at in any::<usize>(),
        to in any::<u8>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let station = ledger(dir.path(), &notes);
        drop(station);
        let db = rusqlite::Connection::open(dir.path().join("home/ledger.db")).unwrap();
        db.execute_batch(
            "DROP TRIGGER entries_no_update; DROP TRIGGER checkpoints_no_update; \
             DROP TRIGGER payloads_erase_only; DROP TRIGGER signatures_no_update;",
        )
        .unwrap();
        let (table, key, column) = match &target {
            Target::Entry(c) => ("entries", "seq", *c),
            Target::Payload(c) => ("payloads", "seq", *c),
            Target::Checkpoint(c) => ("checkpoints", "size", *c),
            Target::Signature(c) => ("signatures", "seq", *c),
        };
        let keys: Vec<i64> = db
            .prepare(&format!("SELECT {key} FROM {table} ORDER BY {key}"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let seq = keys[row.index(keys.len())];
        let old: String = db
            .query_row(&format!("SELECT {column} FROM {table} WHERE {key} = ?1"), [seq], |r| r.get(0))
            .unwrap();
        let new = change(&old, at, to, column == "signature");
        db.execute(&format!("UPDATE {table} SET {column} = ?1 WHERE {key} = ?2"), rusqlite::params![new, seq])
            .unwrap();
        drop(db);
        let station = Station::open(&dir.path().join("home"), "kato").unwrap_or_else(|e| panic!("{e}"));
        match station.verify(None, None) {
            Err(Error::Tampered { seq: found, problem }) => {
                prop_assert_eq!(found, seq, "{} {}: {}", table, column, problem);
            }
            other => prop_assert!(false, "{table}.{column} of {seq} changed, verify said {other:?}"),
        }
    }

    #[test]
    fn canonical_json_is_stable_under_round_trips(value in json(3)) {
        let text = canon::to_string(&value).unwrap();
        prop_assert!(canon::is_canonical(&text));
        let again: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&again, &value);
        prop_assert_eq!(canon::to_string(&again).unwrap(), text);
    }

    #[test]
    fn record_ids_parse_what_they_print(prefix in "[A-Z]{2,3}", number in 1u64..u64::MAX) {
        let id = RecordId::parse(&format!("{prefix}-{number}")).unwrap();
        prop_assert_eq!(RecordId::parse(&id.to_string()).unwrap(), id.clone());
        prop_assert_eq!(RecordId::parse(&id.to_string().to_lowercase()).unwrap(), id.clone());
        prop_assert_eq!(id.prefix(), prefix.as_str());
    }

    #[test]
    fn head_blocks_of_any_text_never_panic(text in ".{0,400}", lines in prop::collection::vec(".{0,80}", 0..12)) {
        let _ = HeadBlock::parse(&text);
        let joined = format!("custody-checkpoint/v1\n{}", lines.join("\n"));
        if let Ok(block) = HeadBlock::parse(&joined) {
            // What parses prints back as a block that parses to the same.
            prop_assert_eq!(HeadBlock::parse(&block.to_text()).unwrap(), block);
        }
    }
}

/// Arbitrary JSON values as payloads hold them: integers only.
fn json(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        "[\u{0}-\u{1f}\"\\\\]{0,4}".prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(("\\PC{0,6}", inner), 0..5)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

#[test]
fn certificate_files_of_any_bytes_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let station = ledger(dir.path(), &[]);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    });
    let file = dir.path().join("cert.json");
    let sig = dir.path().join("cert.json.minisig");
    runner
        .run(
            &(
                prop::collection::vec(any::<u8>(), 0..600),
                prop_oneof![
                    prop::collection::vec(any::<u8>(), 0..300),
                    (".{0,40}", "[A-Za-z0-9+/=]{0,120}").prop_map(|(c, s)| {
                        format!("untrusted comment: {c}\n{s}\ntrusted comment: {c}\n{s}\n")
                            .into_bytes()
                    }),
                ],
            ),
            |(document, signature)| {
                std::fs::write(&file, &document).unwrap();
                std::fs::write(&sig, &signature).unwrap();
                if let Ok(verdict) = station.verify_certificate(&file) {
                    prop_assert!(!verdict.valid, "random bytes verified");
                }
                Ok(())
            },
        )
        .unwrap();
}
