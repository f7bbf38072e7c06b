//! The ledger's schema, as an append-only list of migrations.
//!
//! A shipped migration is never edited: a change is a new migration at the end.
//! `PRAGMA user_version` holds how many have been applied.

/// The migrations, in order. Index `i` brings the database to `user_version = i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the chain, its payloads, signed checkpoints, record ids, people.
    r#"
    CREATE TABLE entries (
        seq         INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        actor       TEXT NOT NULL,
        station     TEXT NOT NULL,
        kind        TEXT NOT NULL,
        subject     TEXT NOT NULL,
        commitment  TEXT NOT NULL,
        prev_hash   TEXT NOT NULL,
        hash        TEXT NOT NULL UNIQUE
    ) STRICT;
    CREATE INDEX entries_kind ON entries(kind);
    CREATE INDEX entries_subject ON entries(subject);

    CREATE TABLE payloads (
        seq     INTEGER PRIMARY KEY REFERENCES entries(seq),
        salt    TEXT,
        body    TEXT,
        erased  TEXT
    ) STRICT;

    CREATE TABLE checkpoints (
        size       INTEGER PRIMARY KEY,
        head       TEXT NOT NULL,
        at         TEXT NOT NULL,
        signature  TEXT NOT NULL
    ) STRICT;

    CREATE TABLE counters (
        prefix  TEXT PRIMARY KEY,
        last    INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE records (
        id       TEXT PRIMARY KEY,
        kind     TEXT NOT NULL,
        seq      INTEGER NOT NULL REFERENCES entries(seq)
    ) STRICT;

    CREATE TABLE people (
        name     TEXT PRIMARY KEY,
        role     TEXT NOT NULL,
        id       TEXT NOT NULL UNIQUE REFERENCES records(id),
        seq      INTEGER NOT NULL REFERENCES entries(seq)
    ) STRICT;

    CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
    BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
    CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
    BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
    CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'ledger checkpoints are append-only'); END;
    CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'ledger checkpoints are append-only'); END;
    CREATE TRIGGER payloads_no_delete BEFORE DELETE ON payloads
    BEGIN SELECT RAISE(ABORT, 'ledger payloads are never deleted, only erased'); END;
    CREATE TRIGGER payloads_erase_only BEFORE UPDATE ON payloads
    WHEN NOT (NEW.seq = OLD.seq AND NEW.body IS NULL AND NEW.salt IS NULL AND NEW.erased IS NOT NULL
              AND OLD.body IS NOT NULL)
    BEGIN SELECT RAISE(ABORT, 'a ledger payload can only be erased, never changed'); END;
    "#,
];
