//! The ledger in a PostgreSQL database that several stations share: against a real
//! server each test starts for itself (initdb in a temporary folder, 127.0.0.1 and a
//! unix socket only), stopped when the test ends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use custody_tests::{Home, PgServer};

fn entries(home: &Home) -> i64 {
    home.run("kato", ["ledger", "verify", "--json"]).ok().json()["entries"]
        .as_i64()
        .unwrap()
}

#[test]
fn init_lays_the_schema_and_the_station_keeps_no_copy_of_the_ledger() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let db = server.ledger();
    let home = Home::with_people_on(&db, "desk-1");
    home.run("suzuki", ["note", "a note on the office ledger"])
        .ok();
    let report = home.run("kato", ["ledger", "verify", "--json"]).ok().json();
    assert_eq!(report["ok"], true, "{report}");
    assert!(report["projection_rows"].as_i64().unwrap() > 0, "{report}");

    // The data home holds config, keys and the witness: no ledger file.
    assert!(!home.home.join("ledger.db").exists());
    assert!(home.home.join("witness").is_file());
    let config = std::fs::read_to_string(home.home.join("config.toml")).unwrap();
    assert!(config.contains(&db.url), "{config}");
    assert!(!config.contains("secret"), "no password in config.toml");

    // The rows are in the database, as psql reads them.
    let count = server.psql(&db.name, "SELECT COUNT(*) FROM custody.entries");
    assert_eq!(count, report["entries"].to_string());
    let note = server.psql(
        &db.name,
        "SELECT p.body FROM custody.entries e JOIN custody.payloads p ON p.seq = e.seq WHERE e.kind = 'note'",
    );
    assert!(note.contains("a note on the office ledger"), "{note}");

    // A second init on the same database is refused, and changes nothing.
    let other = Home::uninit();
    let mut args = vec!["init", "--org", "Test Union", "--station", "desk-9"];
    args.extend(db.init_args());
    let out = other.run("sato", &args).expect_code(1);
    assert!(
        out.stderr.contains("already holds a custody ledger"),
        "{}",
        out.stderr
    );
    assert!(!other.home.exists());
    assert_eq!(entries(&home), report["entries"].as_i64().unwrap());
}

#[test]
fn the_station_role_cannot_change_or_remove_what_was_recorded() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let db = server.ledger();
    let home = Home::with_people_on(&db, "desk-1");
    let station = db
        .url
        .split("//")
        .nth(1)
        .unwrap()
        .split('@')
        .next()
        .unwrap();
    for sql in [
        "UPDATE custody.entries SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM custody.checkpoints",
        "DELETE FROM custody.entries WHERE seq = 3",
        "UPDATE custody.signatures SET signature = 'x'",
        "TRUNCATE custody.entries CASCADE",
        "DROP TRIGGER entries_append_only ON custody.entries",
    ] {
        let out = server.psql_as(station, &db.name, sql);
        assert_ne!(out.code, 0, "{sql} was allowed");
        assert!(
            out.stderr.contains("permission denied") || out.stderr.contains("must be owner"),
            "{sql}: {}",
            out.stderr
        );
    }
    // A payload may only be erased (retention), which the station role does.
    let out = server.psql_as(
        station,
        &db.name,
        "UPDATE custody.payloads SET body = '{}' WHERE seq = 2",
    );
    assert!(out.stderr.contains("only be erased"), "{}", out.stderr);
    // The owner has the rights; the triggers still refuse.
    let owner = db
        .owner_url
        .split("//")
        .nth(1)
        .unwrap()
        .split('@')
        .next()
        .unwrap();
    for (sql, why) in [
        (
            "UPDATE custody.entries SET actor = 'mallory' WHERE seq = 2",
            "append-only",
        ),
        ("DELETE FROM custody.checkpoints", "append-only"),
        (
            "UPDATE custody.payloads SET body = '{}' WHERE seq = 2",
            "only be erased",
        ),
    ] {
        let out = server.psql_as(owner, &db.name, sql);
        assert_ne!(out.code, 0, "{sql} was allowed to the owner");
        assert!(out.stderr.contains(why), "{sql}: {}", out.stderr);
    }
    home.run("kato", ["ledger", "verify"]).ok();
}

#[test]
fn four_processes_appending_at_once_lose_nothing_on_postgres() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let db = server.ledger();
    let home = Arc::new(Home::with_people_on(&db, "desk-1"));
    let before = entries(&home);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let home = Arc::clone(&home);
            std::thread::spawn(move || {
                for i in 0..100 {
                    home.run("suzuki", ["note", &format!("writer {w} note {i}")])
                        .ok();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let report = home.run("kato", ["ledger", "verify", "--json"]).ok().json();
    assert_eq!(report["entries"].as_i64().unwrap(), before + 400);
    let gaps = server.psql(
        &db.name,
        "SELECT COUNT(*) FROM custody.entries e WHERE e.seq > 1 AND NOT EXISTS \
         (SELECT 1 FROM custody.entries p WHERE p.seq = e.seq - 1 AND p.hash = e.prev_hash)",
    );
    assert_eq!(gaps, "0", "every entry follows the one before it");
}

#[test]
fn appenders_killed_and_a_server_crash_lose_no_acknowledged_entry() {
    const BATCH: usize = 5_000;
    let Some(server) = PgServer::start() else {
        return;
    };
    let db = server.ledger();
    let home = Arc::new(Home::with_people_on(&db, "desk-1"));
    let batch = home.path("batch.txt");
    let lines: String = (0..BATCH).map(|i| format!("batch line {i}\n")).collect();
    std::fs::write(&batch, lines).unwrap();
    let acknowledged = Arc::new(AtomicUsize::new(0));

    // A steady writer: every note it was told is recorded must be there at the end.
    let steady = {
        let home = Arc::clone(&home);
        let acknowledged = Arc::clone(&acknowledged);
        std::thread::spawn(move || {
            let mut failed = 0;
            for i in 0..60 {
                let out = home.run("suzuki", ["note", &format!("steady {i}")]);
                if out.code == 0 {
                    acknowledged.fetch_add(1, Ordering::SeqCst);
                } else {
                    failed += 1;
                }
            }
            failed
        })
    };
    let mut killed = 0;
    for round in 0..6u64 {
        let mut child = home
            .cmd("ito")
            .args(["note", "--file", batch.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(30 + (round * 53) % 200));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
        if round == 2 {
            server.restart_immediate();
        }
    }
    let failed = steady.join().unwrap();
    assert!(
        killed > 0,
        "no writer was killed part-way; the test proved nothing"
    );
    eprintln!("killed {killed} batch writers; {failed} steady notes failed during the restart");

    let report = home.run("kato", ["ledger", "verify", "--json"]).ok().json();
    assert_eq!(report["ok"], true);
    let notes = home
        .run("kato", ["log", "--kind", "note", "--json"])
        .ok()
        .json();
    let notes = notes.as_array().unwrap();
    let steady_count = notes
        .iter()
        .filter(|n| n["payload"]["text"].as_str().unwrap().starts_with("steady"))
        .count();
    assert_eq!(steady_count, acknowledged.load(Ordering::SeqCst));
    let batch_count = notes.iter().filter(|n| n["actor"] == "ito").count();
    assert_eq!(batch_count % BATCH, 0, "a batch is all there or not at all");
}

#[test]
fn a_stopped_server_is_named_and_nothing_is_half_written() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let db = server.ledger();
    let home = Home::with_people_on(&db, "desk-1");
    let before = entries(&home);
    server.stop();
    let out = home
        .run("suzuki", ["note", "while the server is down"])
        .expect_code(1);
    assert!(
        out.stderr.contains(&format!("127.0.0.1:{}", server.port)),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("secret"), "{}", out.stderr);
    server.start_again();
    home.run("suzuki", ["note", "after the server came back"])
        .ok();
    assert_eq!(entries(&home), before + 1);
}

#[test]
fn a_password_in_the_address_is_refused_and_never_shown() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let db = server.ledger();
    let home = Home::uninit();
    let with_password = db.url.replacen("_station@", "_station:hunter2@", 1);
    let out = home
        .run(
            "sato",
            ["init", "--org", "Test Union", "--database", &with_password],
        )
        .expect_code(1);
    assert!(out.stderr.contains("password file"), "{}", out.stderr);
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
    assert!(!home.home.exists());
    assert_eq!(
        server.psql(&db.name, "SELECT to_regclass('custody.entries') IS NULL"),
        "t"
    );
}

/// `custody` with a clean environment for the data home `home`, as `actor`.
fn custody_in(dir: &std::path::Path, home: &std::path::Path, actor: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(custody_tests::custody_bin());
    cmd.env("HOME", dir)
        .env("CUSTODY_HOME", home)
        .env("CUSTODY_ACTOR", actor)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_RUNTIME_DIR", dir.join("run"))
        .env("LANG", "C.UTF-8")
        .env("NO_COLOR", "1")
        .env_remove("LC_ALL")
        .env_remove("CUSTODY_KEY_PASSPHRASE_FILE")
        .stdin(Stdio::null());
    cmd
}

#[test]
fn a_desks_ledger_moves_into_the_database_with_every_hash_unchanged() {
    if !custody_tests::require_tool("sqlite3") {
        return;
    }
    let Some(server) = PgServer::start() else {
        return;
    };
    let db = server.ledger();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("run")).unwrap();
    // The demo's ledger: people, keys, sends, carry-outs, a wipe and its certificate,
    // retention with a disposal and erased payloads.
    let demo = dir.path().join("demo");
    let out = custody_in(dir.path(), &demo.join("home"), "sato")
        .args(["demo", "--keep", demo.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let home = demo.join("home");
    let file = home.join("ledger.db");
    let sqlite = |sql: &str| custody_tests::sh("sqlite3", &[file.to_str().unwrap(), sql]);
    let chain = "SELECT e.seq || ' ' || e.kind || ' ' || e.hash || ' ' || COALESCE(p.body, '-') || ' ' || COALESCE(s.signature, '-') \
                 FROM entries e LEFT JOIN payloads p ON p.seq = e.seq LEFT JOIN signatures s ON s.seq = e.seq ORDER BY e.seq";
    let checkpoints =
        "SELECT size || ' ' || head || ' ' || signature FROM checkpoints ORDER BY size";
    let before = (sqlite(chain), sqlite(checkpoints));
    let kinds: usize = sqlite("SELECT COUNT(DISTINCT kind) FROM entries")
        .parse()
        .unwrap();
    assert!(kinds >= 20, "the demo makes {kinds} kinds of entry");

    let migrate = |actor: &str| {
        custody_tests::Run::from_output(
            custody_in(dir.path(), &home, actor)
                .args([
                    "ledger",
                    "migrate",
                    "--to",
                    &db.url,
                    "--schema-owner",
                    &db.owner_url,
                    "--password-file",
                    db.password_file.to_str().unwrap(),
                    "--json",
                ])
                .output()
                .unwrap(),
        )
    };
    // Only a manager moves the ledger.
    let refused = migrate("suzuki");
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    assert_eq!(
        server.psql(&db.name, "SELECT to_regclass('custody.entries') IS NULL"),
        "t"
    );

    let report = migrate("sato").ok().json();
    let entries: i64 = sqlite("SELECT COUNT(*) FROM entries").parse().unwrap();
    assert_eq!(report["entries"].as_i64().unwrap(), entries);
    assert!(report["projection_rows"].as_i64().unwrap() > 0);

    // Every entry, payload, signature and checkpoint is in the database as it was.
    let psql = |sql: &str| server.psql(&db.name, &format!("SET search_path = custody; {sql}"));
    assert_eq!(psql(chain), before.0.trim());
    assert_eq!(psql(checkpoints), before.1.trim());

    // The file stays, read-only and unchanged, as the archive.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o222, 0, "the archive is read-only ({mode:o})");
    assert_eq!((sqlite(chain), sqlite(checkpoints)), before);
    let config = std::fs::read_to_string(home.join("config.toml")).unwrap();
    assert!(config.contains(&db.url), "{config}");

    // The station now records in the database, and verifies there.
    let keys = demo.join("keys");
    let out = custody_in(dir.path(), &home, "sato")
        .args([
            "--key",
            keys.join("sato.key").to_str().unwrap(),
            "--key-passphrase-file",
            keys.join("sato.passphrase").to_str().unwrap(),
            "note",
            "the first note in the office ledger",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        psql("SELECT COUNT(*) FROM entries"),
        (entries + 1).to_string()
    );
    assert_eq!(sqlite("SELECT COUNT(*) FROM entries"), entries.to_string());
    let verified = custody_tests::Run::from_output(
        custody_in(dir.path(), &home, "sato")
            .args(["ledger", "verify", "--json"])
            .output()
            .unwrap(),
    )
    .ok()
    .json();
    assert_eq!(verified["entries"].as_i64().unwrap(), entries + 1);

    // Moving it again is refused.
    let again = migrate("sato");
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(
        again.stderr.contains("already in the office database"),
        "{}",
        again.stderr
    );
}

#[test]
fn a_send_whose_record_the_stopped_server_cannot_take_leaves_no_file() {
    if !custody_tests::require_tool("age-keygen") {
        return;
    }
    let Some(server) = PgServer::start() else {
        return;
    };
    let db = server.ledger();
    let home = Home::with_people_on(&db, "desk-1");
    home.relax_send_approval();
    let key = home.path("bob.txt");
    custody_tests::sh("age-keygen", &["-o", key.to_str().unwrap()]);
    let public = std::fs::read_to_string(&key)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_owned))
        .unwrap();
    // Large enough that encrypting it takes far longer than the wait before the stop.
    let big = home.path("members.bin");
    custody_tests::sh(
        "dd",
        &[
            "if=/dev/urandom",
            &format!("of={}", big.display()),
            "bs=1M",
            "count=400",
            "status=none",
        ],
    );
    let before = entries(&home);
    let sealed = home.path("members.bin.age");
    let child = home
        .cmd("suzuki")
        .args([
            "send",
            big.to_str().unwrap(),
            "--to",
            "bob",
            "--recipient",
            &public,
            "-o",
            sealed.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    server.stop();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("127.0.0.1:{}", server.port)),
        "{stderr}"
    );
    assert!(
        !sealed.exists(),
        "a send that could not be recorded leaves no file"
    );
    let leftovers: Vec<_> = std::fs::read_dir(home.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".age"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    server.start_again();
    assert_eq!(entries(&home), before, "nothing was recorded");
    let transfers = home.run("kato", ["transfer", "list", "--json"]).ok().json();
    assert_eq!(transfers.as_array().unwrap().len(), 0);
}

#[test]
fn a_superuser_rewriting_the_last_entries_and_resigning_is_refused_by_the_witness() {
    if !custody_tests::require_tool("minisign") {
        return;
    }
    let Some(server) = PgServer::start() else {
        return;
    };
    let db = server.ledger();
    let home = Home::with_people_on(&db, "desk-1");
    for i in 1..=6 {
        home.run("suzuki", ["note", &format!("note {i}")]).ok();
    }
    let head = home.path("head.txt");
    std::fs::write(&head, home.run("kato", ["ledger", "head"]).ok().stdout).unwrap();
    let before = entries(&home);

    // Someone with superuser rights switches the triggers off, rewrites the text of
    // the last five notes, recomputes every commitment and hash from there, and signs
    // a new checkpoint over the new head with the station key (stolen from the
    // station, as the worst case).
    server.psql(
        &db.name,
        "SET session_replication_role = replica; \
         DO $$ DECLARE r record; prev text; n bigint; body text; c text; BEGIN \
           SELECT max(seq) INTO n FROM custody.entries; \
           SELECT hash INTO prev FROM custody.entries WHERE seq = n - 5; \
           FOR r IN SELECT e.*, p.salt FROM custody.entries e JOIN custody.payloads p ON p.seq = e.seq \
                    WHERE e.seq > n - 5 ORDER BY e.seq LOOP \
             body := '{\"id\":\"' || r.subject || '\",\"text\":\"nothing happened\"}'; \
             c := encode(sha256(convert_to(r.salt || body, 'UTF8')), 'hex'); \
             prev := encode(sha256(convert_to(concat_ws(E'\\n', 'custody-ledger/v1', r.seq::text, r.at, \
                      r.actor, r.station, r.kind, r.subject, c, prev), 'UTF8')), 'hex'); \
             EXECUTE 'UPDATE custody.payloads SET body = $1 WHERE seq = $2' USING body, r.seq; \
             UPDATE custody.entries SET commitment = c, hash = prev, \
               prev_hash = (SELECT hash FROM custody.entries WHERE seq = r.seq - 1) WHERE seq = r.seq; \
           END LOOP; \
           DELETE FROM custody.checkpoints WHERE size > n - 5; \
         END $$;",
    );
    let (size, new_head, station) = {
        let row = server.psql(
            &db.name,
            "SELECT seq || '|' || hash || '|' || station FROM custody.entries ORDER BY seq DESC LIMIT 1",
        );
        let parts: Vec<String> = row.split('|').map(str::to_owned).collect();
        (parts[0].clone(), parts[1].clone(), parts[2].clone())
    };
    let at = "2099-01-01T00:00:00.000000Z";
    let message = format!(
        "custody-checkpoint/v1\nstation: {station}\nsize: {size}\nhead: {new_head}\nat: {at}\n"
    );
    let msg = home.path("checkpoint.msg");
    std::fs::write(&msg, &message).unwrap();
    custody_tests::sh(
        "minisign",
        &[
            "-S",
            "-s",
            home.home.join("keys/station.key").to_str().unwrap(),
            "-m",
            msg.to_str().unwrap(),
            "-t",
            "forged",
        ],
    );
    let signature = std::fs::read_to_string(home.path("checkpoint.msg.minisig")).unwrap();
    server.psql(
        &db.name,
        &format!(
            "SET session_replication_role = replica; \
             INSERT INTO custody.checkpoints(size, head, at, signature) VALUES ({size}, '{new_head}', '{at}', '{}')",
            signature.replace('\'', "''")
        ),
    );
    let rewritten = server.psql(
        &db.name,
        &format!("SELECT body FROM custody.payloads WHERE seq = {size}"),
    );
    assert!(rewritten.contains("nothing happened"), "{rewritten}");

    // The station remembers the head it saw: it refuses to write, and says so.
    let out = home.run("suzuki", ["note", "on top of a rewritten ledger"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("rewritten") || out.stderr.contains("not the one this station saw"),
        "{}",
        out.stderr
    );
    let now = server.psql(&db.name, "SELECT COUNT(*) FROM custody.entries");
    assert_eq!(now, before.to_string(), "nothing was appended");
    let out = home.run("kato", ["ledger", "verify"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("TAMPERED"), "{}", out.stderr);
    // A head kept outside the machine catches it too.
    let out = home.run(
        "kato",
        ["ledger", "verify", "--against", head.to_str().unwrap()],
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
}
