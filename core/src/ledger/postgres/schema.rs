//! The ledger's schema on PostgreSQL, as an append-only list of migrations.
//!
//! The same tables, columns (in the same order) and rules as the SQLite schema
//! ([`super::super::sqlite`]), in PostgreSQL's words: integers are `BIGINT`, text is
//! compared byte by byte (`COLLATE "C"`, as SQLite does, whatever locale the database
//! was created with), and the append-only rules are triggers that raise. Everything
//! lives in the schema `custody`. `custody.schema_version` holds how many migrations
//! were applied.
//!
//! A shipped migration is never edited. A change to the SQLite schema is a new
//! migration here too, so that both backends hold the same rows.
//!
//! `{station}` in a migration is the role stations connect as: what it may do is
//! granted table by table. It may add entries, payloads, signatures and checkpoints,
//! never change or remove them (no grant, and the triggers as a second line); the
//! only change a payload admits is its erasure.

/// `TXT` in a migration: text compared byte by byte.
pub(crate) const TEXT: &str = "TEXT COLLATE \"C\"";

/// The migrations, in order. Index `i` brings the database to version `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: everything the SQLite schema holds after its migration 11.
    r#"
    CREATE TABLE custody.entries (
        seq         BIGINT PRIMARY KEY,
        at          TXT NOT NULL,
        actor       TXT NOT NULL,
        station     TXT NOT NULL,
        kind        TXT NOT NULL,
        subject     TXT NOT NULL,
        commitment  TXT NOT NULL,
        prev_hash   TXT NOT NULL,
        hash        TXT NOT NULL UNIQUE
    );
    CREATE INDEX entries_kind ON custody.entries(kind);
    CREATE INDEX entries_subject ON custody.entries(subject);

    CREATE TABLE custody.payloads (
        seq     BIGINT PRIMARY KEY REFERENCES custody.entries(seq),
        salt    TXT,
        body    TXT,
        erased  TXT
    );

    CREATE TABLE custody.checkpoints (
        size       BIGINT PRIMARY KEY,
        head       TXT NOT NULL,
        at         TXT NOT NULL,
        signature  TXT NOT NULL
    );

    CREATE TABLE custody.counters (
        prefix  TXT PRIMARY KEY,
        last    BIGINT NOT NULL
    );

    CREATE TABLE custody.records (
        id       TXT PRIMARY KEY,
        kind     TXT NOT NULL,
        seq      BIGINT NOT NULL REFERENCES custody.entries(seq)
    );

    CREATE TABLE custody.people (
        name            TXT PRIMARY KEY,
        role            TXT NOT NULL,
        id              TXT NOT NULL UNIQUE REFERENCES custody.records(id),
        seq             BIGINT NOT NULL REFERENCES custody.entries(seq),
        department      TXT,
        removed_seq     BIGINT REFERENCES custody.entries(seq),
        removed_reason  TXT
    );

    CREATE TABLE custody.requests (
        id             TXT PRIMARY KEY REFERENCES custody.records(id),
        kind           TXT NOT NULL,
        requester      TXT NOT NULL,
        summary        TXT NOT NULL,
        requested_at   TXT NOT NULL,
        status         TXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
        decided_by     TXT,
        decided_at     TXT,
        decision_note  TXT,
        used_by        TXT
    );
    CREATE INDEX requests_status ON custody.requests(status);

    CREATE TABLE custody.media (
        id              TXT PRIMARY KEY REFERENCES custody.records(id),
        kind            TXT NOT NULL,
        serial          TXT NOT NULL,
        label           TXT,
        model           TXT,
        owner           TXT,
        location        TXT,
        encrypted       BIGINT NOT NULL,
        status          TXT NOT NULL,
        added_at        TXT NOT NULL,
        certificate     TXT,
        retired_reason  TXT,
        data_class      TXT NOT NULL DEFAULT 'general'
    );
    CREATE INDEX media_serial ON custody.media(serial);

    CREATE TABLE custody.carryouts (
        id             TXT PRIMARY KEY REFERENCES custody.requests(id),
        what           TXT NOT NULL,
        reason         TXT NOT NULL,
        destination    TXT NOT NULL,
        return_by      TXT NOT NULL,
        transport      TXT NOT NULL,
        media          TXT REFERENCES custody.media(id),
        transfer       TXT,
        personal_data  BIGINT NOT NULL,
        records        BIGINT,
        encrypted      TXT NOT NULL,
        out_at         TXT,
        out_by         TXT,
        returned_at    TXT,
        returned_by    TXT,
        condition      TXT,
        lost_at        TXT,
        lost_by        TXT,
        personal_file  TXT
    );

    CREATE TABLE custody.handovers (
        id            TXT PRIMARY KEY REFERENCES custody.records(id),
        media         TXT NOT NULL REFERENCES custody.media(id),
        direction     TXT NOT NULL CHECK (direction IN ('send', 'receive')),
        counterparty  TXT NOT NULL,
        purpose       TXT NOT NULL,
        method        TXT NOT NULL,
        count         BIGINT NOT NULL,
        at            TXT NOT NULL,
        by            TXT NOT NULL,
        confirmed_by  TXT,
        confirmed_at  TXT
    );

    CREATE TABLE custody.downloads (
        id             TXT PRIMARY KEY REFERENCES custody.requests(id),
        content        TXT NOT NULL,
        system         TXT NOT NULL,
        deleted_at     TXT,
        deleted_by     TXT,
        personal_file  TXT
    );

    CREATE TABLE custody.certificates (
        id         TXT PRIMARY KEY REFERENCES custody.records(id),
        kind       TXT NOT NULL,
        subject    TXT NOT NULL,
        serial     TXT,
        status     TXT NOT NULL,
        issued_at  TXT NOT NULL,
        body       TXT NOT NULL,
        signature  TXT NOT NULL,
        sha256     TXT NOT NULL
    );
    CREATE INDEX certificates_serial ON custody.certificates(serial);

    CREATE TABLE custody.retained (
        id                TXT PRIMARY KEY REFERENCES custody.records(id),
        class             TXT NOT NULL,
        basis             TXT NOT NULL,
        years             BIGINT NOT NULL,
        trigger           TXT NOT NULL,
        since             TXT NOT NULL,
        event_date        TXT,
        due               TXT,
        media             TXT REFERENCES custody.media(id),
        folders           TXT NOT NULL,
        note              TXT,
        added_at          TXT NOT NULL,
        added_by          TXT NOT NULL,
        hold_reason       TXT,
        held_by           TXT,
        held_at           TXT,
        disposal_request  TXT REFERENCES custody.requests(id),
        disposed_at       TXT,
        disposed_by       TXT,
        certificate       TXT,
        personal_file     TXT
    );

    CREATE TABLE custody.retained_files (
        item    TXT NOT NULL REFERENCES custody.retained(id),
        path    TXT NOT NULL,
        size    BIGINT NOT NULL,
        sha256  TXT NOT NULL,
        PRIMARY KEY (item, path)
    );

    CREATE TABLE custody.contacts (
        name         TXT PRIMARY KEY,
        key          TXT NOT NULL,
        fingerprint  TXT NOT NULL,
        seq          BIGINT NOT NULL REFERENCES custody.entries(seq)
    );

    CREATE TABLE custody.signatures (
        seq        BIGINT PRIMARY KEY REFERENCES custody.entries(seq),
        key_id     TXT NOT NULL,
        signature  TXT NOT NULL
    );

    CREATE TABLE custody.person_keys (
        key_id          TXT PRIMARY KEY,
        name            TXT NOT NULL,
        public_key      TXT NOT NULL,
        enrolled_seq    BIGINT NOT NULL REFERENCES custody.entries(seq),
        confirmed_seq   BIGINT REFERENCES custody.entries(seq),
        confirmed_by    TXT,
        revoked_seq     BIGINT REFERENCES custody.entries(seq),
        revoked_reason  TXT
    );
    CREATE INDEX person_keys_name ON custody.person_keys(name);

    CREATE TABLE custody.operations (
        id          TXT PRIMARY KEY REFERENCES custody.records(id),
        kind        TXT NOT NULL CHECK (kind IN ('input', 'paper-disposal', 'deletion')),
        content     TXT NOT NULL,
        count       BIGINT,
        system      TXT,
        done_on     TXT NOT NULL,
        at          TXT NOT NULL,
        by          TXT NOT NULL,
        checked_by  TXT,
        checked_at  TXT
    );

    CREATE TABLE custody.incidents (
        id             TXT PRIMARY KEY REFERENCES custody.records(id),
        what           TXT NOT NULL,
        found_on       TXT NOT NULL,
        records        TXT NOT NULL,
        reported_by    TXT NOT NULL,
        reported_at    TXT NOT NULL,
        told           TXT,
        cause          TXT,
        measures       TXT,
        effect         TXT,
        commission_on  TXT,
        people_on      TXT,
        updated_by     TXT,
        updated_at     TXT
    );

    CREATE TABLE custody.personal_files (
        id          TXT PRIMARY KEY REFERENCES custody.records(id),
        name        TXT NOT NULL,
        department  TXT NOT NULL,
        purpose     TXT NOT NULL,
        items       TXT,
        scope       TXT,
        collection  TXT,
        recipients  TXT,
        management  TXT,
        kind        TXT,
        retention   TXT,
        added_at    TXT NOT NULL,
        added_by    TXT NOT NULL,
        updated_at  TXT
    );

    CREATE TABLE custody.disposal_batches (
        id          TXT PRIMARY KEY REFERENCES custody.records(id),
        contractor  TXT NOT NULL,
        due_on      TXT NOT NULL,
        created_at  TXT NOT NULL,
        created_by  TXT NOT NULL,
        closed_at   TXT,
        closed_by   TXT
    );
    CREATE TABLE custody.batch_items (
        batch     TXT NOT NULL REFERENCES custody.disposal_batches(id),
        media     TXT NOT NULL,
        serial    TXT NOT NULL,
        handover  TXT NOT NULL,
        PRIMARY KEY (batch, media)
    );

    CREATE FUNCTION custody.refuse() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
        RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'insufficient_privilege';
    END
    $fn$;
    CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON custody.entries
        FOR EACH ROW EXECUTE FUNCTION custody.refuse('ledger entries are append-only');
    CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON custody.entries
        FOR EACH STATEMENT EXECUTE FUNCTION custody.refuse('ledger entries are append-only');
    CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON custody.checkpoints
        FOR EACH ROW EXECUTE FUNCTION custody.refuse('ledger checkpoints are append-only');
    CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON custody.checkpoints
        FOR EACH STATEMENT EXECUTE FUNCTION custody.refuse('ledger checkpoints are append-only');
    CREATE TRIGGER signatures_append_only BEFORE UPDATE OR DELETE ON custody.signatures
        FOR EACH ROW EXECUTE FUNCTION custody.refuse('entry signatures are append-only');
    CREATE TRIGGER signatures_no_truncate BEFORE TRUNCATE ON custody.signatures
        FOR EACH STATEMENT EXECUTE FUNCTION custody.refuse('entry signatures are append-only');
    CREATE TRIGGER payloads_no_delete BEFORE DELETE ON custody.payloads
        FOR EACH ROW EXECUTE FUNCTION custody.refuse('ledger payloads are never deleted, only erased');
    CREATE TRIGGER payloads_no_truncate BEFORE TRUNCATE ON custody.payloads
        FOR EACH STATEMENT EXECUTE FUNCTION custody.refuse('ledger payloads are never deleted, only erased');
    CREATE FUNCTION custody.payload_erase_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
        IF NOT (NEW.seq = OLD.seq AND NEW.body IS NULL AND NEW.salt IS NULL
                AND NEW.erased IS NOT NULL AND OLD.body IS NOT NULL) THEN
            RAISE EXCEPTION 'a ledger payload can only be erased, never changed'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END
    $fn$;
    CREATE TRIGGER payloads_erase_only BEFORE UPDATE ON custody.payloads
        FOR EACH ROW EXECUTE FUNCTION custody.payload_erase_only();

    GRANT USAGE ON SCHEMA custody TO {station};
    GRANT SELECT ON custody.schema_version TO {station};
    GRANT SELECT, INSERT ON custody.entries, custody.signatures, custody.checkpoints TO {station};
    GRANT SELECT, INSERT ON custody.payloads TO {station};
    GRANT UPDATE (salt, body, erased) ON custody.payloads TO {station};
    GRANT SELECT, INSERT, UPDATE, DELETE ON
        custody.counters, custody.records, custody.people, custody.requests, custody.media,
        custody.carryouts, custody.handovers, custody.downloads, custody.certificates,
        custody.retained, custody.retained_files, custody.contacts, custody.person_keys,
        custody.operations, custody.incidents, custody.personal_files,
        custody.disposal_batches, custody.batch_items
        TO {station};
    "#,
];
