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
    // 2: requests and approvals; the registers (media, carry-outs, handovers,
    // downloads). All are projections of ledger entries.
    r#"
    CREATE TABLE requests (
        id             TEXT PRIMARY KEY REFERENCES records(id),
        kind           TEXT NOT NULL,
        requester      TEXT NOT NULL,
        summary        TEXT NOT NULL,
        requested_at   TEXT NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
        decided_by     TEXT,
        decided_at     TEXT,
        decision_note  TEXT,
        used_by        TEXT
    ) STRICT;
    CREATE INDEX requests_status ON requests(status);

    CREATE TABLE media (
        id              TEXT PRIMARY KEY REFERENCES records(id),
        kind            TEXT NOT NULL,
        serial          TEXT NOT NULL,
        label           TEXT,
        model           TEXT,
        owner           TEXT,
        location        TEXT,
        encrypted       INTEGER NOT NULL,
        status          TEXT NOT NULL,
        added_at        TEXT NOT NULL,
        certificate     TEXT,
        retired_reason  TEXT
    ) STRICT;
    CREATE INDEX media_serial ON media(serial);

    CREATE TABLE carryouts (
        id             TEXT PRIMARY KEY REFERENCES requests(id),
        what           TEXT NOT NULL,
        reason         TEXT NOT NULL,
        destination    TEXT NOT NULL,
        return_by      TEXT NOT NULL,
        transport      TEXT NOT NULL,
        media          TEXT REFERENCES media(id),
        transfer       TEXT,
        personal_data  INTEGER NOT NULL,
        records        INTEGER,
        encrypted      TEXT NOT NULL,
        out_at         TEXT,
        out_by         TEXT,
        returned_at    TEXT,
        returned_by    TEXT,
        condition      TEXT
    ) STRICT;

    CREATE TABLE handovers (
        id            TEXT PRIMARY KEY REFERENCES records(id),
        media         TEXT NOT NULL REFERENCES media(id),
        direction     TEXT NOT NULL CHECK (direction IN ('send', 'receive')),
        counterparty  TEXT NOT NULL,
        purpose       TEXT NOT NULL,
        method        TEXT NOT NULL,
        count         INTEGER NOT NULL,
        at            TEXT NOT NULL,
        by            TEXT NOT NULL,
        confirmed_by  TEXT,
        confirmed_at  TEXT
    ) STRICT;

    CREATE TABLE downloads (
        id          TEXT PRIMARY KEY REFERENCES requests(id),
        content     TEXT NOT NULL,
        system      TEXT NOT NULL,
        deleted_at  TEXT,
        deleted_by  TEXT
    ) STRICT;
    "#,
    // 3: signed certificates (erasure, disposal), retained items and their files.
    r#"
    CREATE TABLE certificates (
        id         TEXT PRIMARY KEY REFERENCES records(id),
        kind       TEXT NOT NULL,
        subject    TEXT NOT NULL,
        serial     TEXT,
        status     TEXT NOT NULL,
        issued_at  TEXT NOT NULL,
        body       TEXT NOT NULL,
        signature  TEXT NOT NULL,
        sha256     TEXT NOT NULL
    ) STRICT;
    CREATE INDEX certificates_serial ON certificates(serial);

    CREATE TABLE retained (
        id                TEXT PRIMARY KEY REFERENCES records(id),
        class             TEXT NOT NULL,
        basis             TEXT NOT NULL,
        years             INTEGER NOT NULL,
        trigger           TEXT NOT NULL,
        since             TEXT NOT NULL,
        event_date        TEXT,
        due               TEXT,
        media             TEXT REFERENCES media(id),
        folders           TEXT NOT NULL,
        note              TEXT,
        added_at          TEXT NOT NULL,
        added_by          TEXT NOT NULL,
        hold_reason       TEXT,
        held_by           TEXT,
        held_at           TEXT,
        disposal_request  TEXT REFERENCES requests(id),
        disposed_at       TEXT,
        disposed_by       TEXT,
        certificate       TEXT
    ) STRICT;

    CREATE TABLE retained_files (
        item    TEXT NOT NULL REFERENCES retained(id),
        path    TEXT NOT NULL,
        size    INTEGER NOT NULL,
        sha256  TEXT NOT NULL,
        PRIMARY KEY (item, path)
    ) STRICT;
    "#,
    // 4: the address book of recipients' public keys.
    r#"
    CREATE TABLE contacts (
        name         TEXT PRIMARY KEY,
        key          TEXT NOT NULL,
        fingerprint  TEXT NOT NULL,
        seq          INTEGER NOT NULL REFERENCES entries(seq)
    ) STRICT;
    "#,
    // 5: personal keys. Every entry from the first key enrolment on is signed by its
    // actor's key (`signatures`); `person_keys` projects who holds which key, and
    // people gain a department and a removal.
    r#"
    CREATE TABLE signatures (
        seq        INTEGER PRIMARY KEY REFERENCES entries(seq),
        key_id     TEXT NOT NULL,
        signature  TEXT NOT NULL
    ) STRICT;
    CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures
    BEGIN SELECT RAISE(ABORT, 'entry signatures are append-only'); END;
    CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures
    BEGIN SELECT RAISE(ABORT, 'entry signatures are append-only'); END;

    CREATE TABLE person_keys (
        key_id          TEXT PRIMARY KEY,
        name            TEXT NOT NULL,
        public_key      TEXT NOT NULL,
        enrolled_seq    INTEGER NOT NULL REFERENCES entries(seq),
        confirmed_seq   INTEGER REFERENCES entries(seq),
        confirmed_by    TEXT,
        revoked_seq     INTEGER REFERENCES entries(seq),
        revoked_reason  TEXT
    ) STRICT;
    CREATE INDEX person_keys_name ON person_keys(name);

    ALTER TABLE people ADD COLUMN department TEXT;
    ALTER TABLE people ADD COLUMN removed_seq INTEGER REFERENCES entries(seq);
    ALTER TABLE people ADD COLUMN removed_reason TEXT;
    "#,
    // 6: operation records (003 別紙1 運用状況記録票) and their check by another person.
    r#"
    CREATE TABLE operations (
        id          TEXT PRIMARY KEY REFERENCES records(id),
        kind        TEXT NOT NULL CHECK (kind IN ('input', 'paper-disposal', 'deletion')),
        content     TEXT NOT NULL,
        count       INTEGER,
        system      TEXT,
        done_on     TEXT NOT NULL,
        at          TEXT NOT NULL,
        by          TEXT NOT NULL,
        checked_by  TEXT,
        checked_at  TEXT
    ) STRICT;
    "#,
    // 7: incidents (情報漏えい等事案, 004 arts.27-28) and their handling.
    r#"
    CREATE TABLE incidents (
        id             TEXT PRIMARY KEY REFERENCES records(id),
        what           TEXT NOT NULL,
        found_on       TEXT NOT NULL,
        records        TEXT NOT NULL,
        reported_by    TEXT NOT NULL,
        reported_at    TEXT NOT NULL,
        told           TEXT,
        cause          TEXT,
        measures       TEXT,
        effect         TEXT,
        commission_on  TEXT,
        people_on      TEXT,
        updated_by     TEXT,
        updated_at     TEXT
    ) STRICT;
    "#,
    // 8: the register of files of personal data (004 art.9-2, 003 別紙2).
    r#"
    CREATE TABLE personal_files (
        id          TEXT PRIMARY KEY REFERENCES records(id),
        name        TEXT NOT NULL,
        department  TEXT NOT NULL,
        purpose     TEXT NOT NULL,
        items       TEXT,
        scope       TEXT,
        collection  TEXT,
        recipients  TEXT,
        management  TEXT,
        kind        TEXT,
        retention   TEXT,
        added_at    TEXT NOT NULL,
        added_by    TEXT NOT NULL,
        updated_at  TEXT
    ) STRICT;
    "#,
    // 9: a carry-out closed as lost (004 art.27), and the file of personal data
    // (004 art.9-2) that a carry-out, a download or a retained item concerns.
    r#"
    ALTER TABLE carryouts ADD COLUMN lost_at TEXT;
    ALTER TABLE carryouts ADD COLUMN lost_by TEXT;
    ALTER TABLE carryouts ADD COLUMN personal_file TEXT;
    ALTER TABLE downloads ADD COLUMN personal_file TEXT;
    ALTER TABLE retained ADD COLUMN personal_file TEXT;
    "#,
    // 10: what a medium holds, which decides what closes its life (physical
    // destruction after a wipe for media of the My Number systems).
    r#"
    ALTER TABLE media ADD COLUMN data_class TEXT NOT NULL DEFAULT 'general';
    "#,
    // 11: media handed to a disposal contractor in batches, and their manifests.
    r#"
    CREATE TABLE disposal_batches (
        id          TEXT PRIMARY KEY REFERENCES records(id),
        contractor  TEXT NOT NULL,
        due_on      TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        created_by  TEXT NOT NULL,
        closed_at   TEXT,
        closed_by   TEXT
    ) STRICT;
    CREATE TABLE batch_items (
        batch     TEXT NOT NULL REFERENCES disposal_batches(id),
        media     TEXT NOT NULL,
        serial    TEXT NOT NULL,
        handover  TEXT NOT NULL,
        PRIMARY KEY (batch, media)
    ) STRICT;
    "#,
];
