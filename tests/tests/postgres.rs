//! The ledger in a PostgreSQL database that several stations share: against a real
//! server each test starts for itself (initdb in a temporary folder, 127.0.0.1 and a
//! unix socket only), stopped when the test ends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use custody_tests::{Home, PgServer};

/// A server of the test's own. These tests run once, in the pass on SQLite: the pass
/// on PostgreSQL (`CUSTODY_TEST_BACKEND=postgres`) would only run them again.
fn own_server() -> Option<PgServer> {
    if custody_tests::on_postgres() {
        eprintln!("SKIP: runs in the SQLite pass, against a server of its own");
        return None;
    }
    PgServer::start()
}

fn entries(home: &Home) -> i64 {
    home.run("kato", ["ledger", "verify", "--json"]).ok().json()["entries"]
        .as_i64()
        .unwrap()
}

#[test]
fn init_lays_the_schema_and_the_station_keeps_no_copy_of_the_ledger() {
    let Some(server) = own_server() else {
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
    let Some(server) = own_server() else {
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

/// Bug: a page of the chain read from a head a station had seen (`WHERE e.seq > $1`)
/// joined payloads and signatures from their first row, so that every append on a
/// large ledger read every payload before its witness, and verify read the table
/// from the start once per page (quadratic; the reason verify at a million entries
/// fell behind SQLite). The server's own account of each plan (`auto_explain`,
/// with actual row counts) shows how many payload rows the station's reads touched.
#[test]
fn a_page_of_the_chain_does_not_read_the_payloads_before_it() {
    let Some(server) = own_server() else {
        return;
    };
    let db = server.ledger();
    let first = Home::with_people_on(&db, "desk-1");
    let second = Home::joined(&first, &db, "desk-2");
    let lines = first.dir.path().join("notes.txt");
    std::fs::write(
        &lines,
        (0..1500)
            .map(|i| format!("earlier note {i}\n"))
            .collect::<String>(),
    )
    .unwrap();
    first
        .run("ito", ["note", "--file", lines.to_str().unwrap()])
        .ok();
    // desk-2 sees the head, then desk-1 writes a few more: desk-2's next append
    // reads the chain from the head it saw, a short tail after 1,500 entries.
    second.run("suzuki", ["note", "seen"]).ok();
    for i in 0..5 {
        first.run("suzuki", ["note", &format!("later {i}")]).ok();
    }
    server.psql(&db.name, "ANALYZE");
    // Plans as a long-lived session makes them after a few runs of a statement
    // (generic, for any parameter), and the server's account of each.
    let station = format!("{}_station", db.name);
    for setting in [
        "plan_cache_mode = force_generic_plan",
        "session_preload_libraries = 'auto_explain'",
        "auto_explain.log_min_duration = 0",
        "auto_explain.log_analyze = on",
        "auto_explain.log_format = json",
    ] {
        server.psql("postgres", &format!("ALTER ROLE {station} SET {setting}"));
    }
    let before = server.log().len();
    second.run("suzuki", ["note", "one more"]).ok();
    let log = server.log()[before..].to_owned();

    let mut pages = 0;
    for (at, _) in log.match_indices("plan:") {
        let plan: serde_json::Value = serde_json::Deserializer::from_str(&log[at + 5..])
            .into_iter()
            .next()
            .unwrap()
            .unwrap();
        let text = plan["Query Text"].as_str().unwrap_or_default();
        if !(text.contains("LEFT JOIN payloads") && text.contains("e.seq > $1")) {
            continue;
        }
        pages += 1;
        let returned = plan["Plan"]["Actual Rows"].as_f64().unwrap();
        let mut read = 0.0;
        let mut nodes = vec![&plan["Plan"]];
        while let Some(node) = nodes.pop() {
            if node["Relation Name"] == "payloads" {
                read +=
                    node["Actual Rows"].as_f64().unwrap() * node["Actual Loops"].as_f64().unwrap();
            }
            if let Some(children) = node["Plans"].as_array() {
                nodes.extend(children);
            }
        }
        assert!(
            read <= returned + 1.0,
            "a page of {returned} entries read {read} payload rows: {text}"
        );
    }
    assert!(pages >= 1, "the station read no page of the chain:\n{log}");
}

#[test]
fn four_processes_appending_at_once_lose_nothing_on_postgres() {
    let Some(server) = own_server() else {
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
    let Some(server) = own_server() else {
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
    let Some(server) = own_server() else {
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
    let Some(server) = own_server() else {
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
    let Some(server) = own_server() else {
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
    let Some(server) = own_server() else {
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
fn a_superuser_rewriting_history_and_resigning_with_one_station_key_is_refused_by_every_station() {
    if !custody_tests::require_tool("minisign") {
        return;
    }
    let Some(server) = own_server() else {
        return;
    };
    let db = server.ledger();
    let first = Home::with_people_on(&db, "desk-1");
    let others = [
        Home::joined(&first, &db, "desk-2"),
        Home::joined(&first, &db, "desk-3"),
    ];
    for i in 1..=6 {
        first.run("suzuki", ["note", &format!("note {i}")]).ok();
    }
    let head = first.path("head.txt");
    std::fs::write(&head, first.run("kato", ["ledger", "head"]).ok().stdout).unwrap();
    // Every station has seen the head: desk-1 wrote it, the others verified it.
    for other in &others {
        other.run("kato", ["ledger", "verify"]).ok();
    }
    let before = entries(&first);
    let seen = server.psql(
        &db.name,
        "SELECT hash FROM custody.entries ORDER BY seq DESC LIMIT 1",
    );

    // Someone with superuser rights switches the triggers off, rewrites the text of
    // the last five notes, recomputes every commitment and hash from there, and signs
    // a new checkpoint over the new head with desk-1's station key (stolen from that
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
    let (size, new_head, station) = last_entry(&server, &db);
    assert_eq!(station, "desk-1");
    sign_checkpoint(
        &server,
        &db,
        &first.home.join("keys/station.key"),
        (&station, &size, &new_head),
        &first.path("checkpoint.msg"),
    );
    let rewritten = server.psql(
        &db.name,
        &format!("SELECT body FROM custody.payloads WHERE seq = {size}"),
    );
    assert!(rewritten.contains("nothing happened"), "{rewritten}");

    // Every station remembers the head it saw: each refuses to write, and says what
    // it remembers and what it now sees.
    for station in others.iter().chain([&first]) {
        let out = station.run("suzuki", ["note", "on top of a rewritten ledger"]);
        assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("rewritten")
                && out.stderr.contains(&seen)
                && out.stderr.contains(&new_head),
            "{}",
            out.stderr
        );
        let out = station.run("kato", ["ledger", "verify"]);
        assert_eq!(out.code, 1, "{}", out.stdout);
        assert!(
            out.stderr.contains("TAMPERED") && out.stderr.contains(&seen),
            "{}",
            out.stderr
        );
    }
    let now = server.psql(&db.name, "SELECT COUNT(*) FROM custody.entries");
    assert_eq!(now, before.to_string(), "nothing was appended");
    // A head kept outside the machine, signed by desk-1, catches it at desk-3 too.
    let out = others[1].run(
        "kato",
        ["ledger", "verify", "--against", head.to_str().unwrap()],
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
}

/// The last entry's sequence number, hash and station.
fn last_entry(server: &PgServer, db: &custody_tests::PgLedger) -> (String, String, String) {
    let row = server.psql(
        &db.name,
        "SELECT seq || '|' || hash || '|' || station FROM custody.entries ORDER BY seq DESC LIMIT 1",
    );
    let parts: Vec<String> = row.split('|').map(str::to_owned).collect();
    (parts[0].clone(), parts[1].clone(), parts[2].clone())
}

/// Signs a checkpoint over (`station`, `size`, `head`) with the minisign secret key
/// `key` (no password) and inserts it behind custody's back, triggers off.
fn sign_checkpoint(
    server: &PgServer,
    db: &custody_tests::PgLedger,
    key: &std::path::Path,
    (station, size, head): (&str, &str, &str),
    msg: &std::path::Path,
) {
    let at = "2099-01-01T00:00:00.000000Z";
    let message = format!(
        "custody-checkpoint/v1\nstation: {station}\nsize: {size}\nhead: {head}\nat: {at}\n"
    );
    std::fs::write(msg, &message).unwrap();
    custody_tests::sh(
        "minisign",
        &[
            "-S",
            "-s",
            key.to_str().unwrap(),
            "-m",
            msg.to_str().unwrap(),
            "-t",
            "forged",
        ],
    );
    let signature = std::fs::read_to_string(format!("{}.minisig", msg.display())).unwrap();
    server.psql(
        &db.name,
        &format!(
            "SET session_replication_role = replica; \
             INSERT INTO custody.checkpoints(size, head, at, signature) VALUES ({size}, '{head}', '{at}', '{}')",
            signature.replace('\'', "''")
        ),
    );
}

#[test]
fn stations_join_by_a_managers_signed_entry_and_write_one_chain() {
    let Some(server) = own_server() else {
        return;
    };
    let db = server.ledger();
    let first = Home::with_people_on(&db, "desk-1");
    let second = Home::joined(&first, &db, "desk-2");

    // The joined station keeps its config, its key and its witness: no ledger.
    assert!(second.home.join("config.toml").is_file());
    assert!(second.home.join("keys/station.key").is_file());
    assert!(second.home.join("witness").is_file());
    assert!(!second.home.join("ledger.db").exists());
    let join = first
        .run("kato", ["log", "--kind", "station-join", "--json"])
        .ok()
        .json();
    let join = &join.as_array().unwrap()[0];
    assert_eq!(join["actor"], "sato");
    assert_eq!(join["station"], "desk-2");
    let pubkey = std::fs::read_to_string(second.home.join("keys/station.pub")).unwrap();
    assert!(
        pubkey.contains(join["payload"]["public_key"].as_str().unwrap()),
        "{pubkey}\n{join}"
    );
    let signature = server.psql(
        &db.name,
        &format!(
            "SELECT COUNT(*) FROM custody.signatures WHERE seq = {}",
            join["seq"]
        ),
    );
    assert_eq!(signature, "1", "the joining is signed by the manager's key");

    // A clerk cannot join a station; a name already taken is refused; nothing of
    // either is left behind.
    let before = entries(&first);
    let clerk = Home::uninit();
    let out = clerk.run(
        "suzuki",
        [
            "station",
            "join",
            &db.url,
            "--station",
            "desk-9",
            "--password-file",
            db.password_file.to_str().unwrap(),
        ],
    );
    assert!(matches!(out.code, 1 | 2), "{}\n{}", out.stdout, out.stderr);
    assert!(!clerk.home.exists(), "no data home is left");
    let again = Home::uninit();
    std::fs::create_dir_all(again.keys_dir()).unwrap();
    std::fs::copy(first.key_file("sato"), again.key_file("sato")).unwrap();
    let out = again.run(
        "sato",
        [
            "station",
            "join",
            &db.url,
            "--station",
            "desk-2",
            "--password-file",
            db.password_file.to_str().unwrap(),
        ],
    );
    assert!(matches!(out.code, 1 | 2), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("desk-2"), "{}", out.stderr);
    assert!(!again.home.exists(), "no data home is left");
    assert_eq!(entries(&first), before, "nothing was recorded");

    let third = Home::joined(&first, &db, "desk-3");
    let stations = [&first, &second, &third];
    let listed = third.run("kato", ["station", "list", "--json"]).ok().json();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["desk-1", "desk-2", "desk-3"]);

    // 3 stations × 4 processes × 100 notes at the same moment.
    let before = entries(&first);
    let start = Arc::new(std::sync::Barrier::new(12));
    std::thread::scope(|scope| {
        for (s, station) in stations.iter().enumerate() {
            for w in 0..4 {
                let start = Arc::clone(&start);
                scope.spawn(move || {
                    start.wait();
                    for i in 0..100 {
                        station
                            .run(
                                "suzuki",
                                ["note", &format!("station {s} writer {w} note {i}")],
                            )
                            .ok();
                    }
                });
            }
        }
    });
    let gaps = server.psql(
        &db.name,
        "SELECT COUNT(*) FROM custody.entries e WHERE e.seq > 1 AND NOT EXISTS \
         (SELECT 1 FROM custody.entries p WHERE p.seq = e.seq - 1 AND p.hash = e.prev_hash)",
    );
    assert_eq!(gaps, "0", "every entry follows the one before it");
    let by_station = server.psql(
        &db.name,
        "SELECT string_agg(station || '=' || n, ',' ORDER BY station) FROM \
         (SELECT station, COUNT(*) AS n FROM custody.entries WHERE kind = 'note' GROUP BY station) s",
    );
    assert_eq!(by_station, "desk-1=400,desk-2=400,desk-3=400");

    // One chain, which verifies from every station, each checkpoint with the key of
    // the station that made it.
    for station in stations {
        let report = station
            .run("kato", ["ledger", "verify", "--json"])
            .ok()
            .json();
        assert_eq!(report["entries"].as_i64().unwrap(), before + 1200);
        assert_eq!(report["stations"].as_array().unwrap().len(), 3);
    }
    let text = second.run("kato", ["ledger", "verify"]).ok().stdout;
    assert!(text.contains("3 stations"), "{text}");

    // A head signed at one station is accepted at another.
    let head = second.path("head.txt");
    std::fs::write(&head, second.run("kato", ["ledger", "head"]).ok().stdout).unwrap();
    let report = third
        .run(
            "kato",
            [
                "ledger",
                "verify",
                "--against",
                head.to_str().unwrap(),
                "--json",
            ],
        )
        .ok()
        .json();
    assert!(report["extends"].as_i64().is_some(), "{report}");
}

#[test]
fn a_station_joined_behind_the_managers_back_is_refused() {
    if !custody_tests::require_tool("minisign") {
        return;
    }
    let Some(server) = own_server() else {
        return;
    };
    let db = server.ledger();
    let first = Home::with_people_on(&db, "desk-1");
    let second = Home::joined(&first, &db, "desk-2");
    second.run("suzuki", ["note", "before"]).ok();
    first.run("kato", ["ledger", "verify"]).ok();
    let before = entries(&first);

    // Someone with rights on the database adds a station of their own: a
    // station-join entry with consistent hashes, the manager's signature copied from
    // another entry, and a checkpoint signed by the key they made.
    let evil = first.path("evil");
    std::fs::create_dir(&evil).unwrap();
    let (public, secret) = (evil.join("evil.pub"), evil.join("evil.key"));
    custody_tests::sh(
        "minisign",
        &[
            "-G",
            "-W",
            "-p",
            public.to_str().unwrap(),
            "-s",
            secret.to_str().unwrap(),
        ],
    );
    let key = std::fs::read_to_string(&public).unwrap();
    let key = key.lines().nth(1).unwrap();
    server.psql(
        &db.name,
        &format!(
            "SET session_replication_role = replica; \
             DO $$ DECLARE n bigint; prev text; t text; body text; salt text := repeat('ab', 16); c text; h text; BEGIN \
               SELECT max(e.seq), max(e.at) INTO n, t FROM custody.entries e; \
               SELECT hash INTO prev FROM custody.entries WHERE seq = n; \
               body := '{{\"station\":\"evil\",\"public_key\":\"{key}\"}}'; \
               c := encode(sha256(convert_to(salt || body, 'UTF8')), 'hex'); \
               h := encode(sha256(convert_to(concat_ws(E'\\n', 'custody-ledger/v1', (n + 1)::text, t, \
                      'sato', 'evil', 'station-join', '', c, prev), 'UTF8')), 'hex'); \
               INSERT INTO custody.entries(seq, at, actor, station, kind, subject, commitment, prev_hash, hash) \
                 VALUES (n + 1, t, 'sato', 'evil', 'station-join', '', c, prev, h); \
               INSERT INTO custody.payloads(seq, salt, body) VALUES (n + 1, salt, body); \
               INSERT INTO custody.signatures(seq, key_id, signature) \
                 SELECT n + 1, key_id, signature FROM custody.signatures \
                 WHERE seq = (SELECT max(s.seq) FROM custody.signatures s JOIN custody.entries e ON e.seq = s.seq WHERE e.actor = 'sato'); \
             END $$;"
        ),
    );
    let (size, head, station) = last_entry(&server, &db);
    assert_eq!(station, "evil");
    sign_checkpoint(
        &server,
        &db,
        &secret,
        (&station, &size, &head),
        &first.path("checkpoint.msg"),
    );

    // Neither station takes the forged station's key: both refuse to write, and
    // verify says where.
    for station in [&first, &second] {
        let out = station.run("suzuki", ["note", "after"]);
        assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains(&format!("entry {size}")) && out.stderr.contains("sato"),
            "{}",
            out.stderr
        );
        let out = station.run("kato", ["ledger", "verify"]);
        assert_eq!(out.code, 1, "{}", out.stdout);
        assert!(
            out.stderr.contains("TAMPERED") && out.stderr.contains(&format!("entry {size}")),
            "{}",
            out.stderr
        );
    }
    let now = server.psql(&db.name, "SELECT COUNT(*) FROM custody.entries");
    assert_eq!(
        now,
        (before + 1).to_string(),
        "nothing was appended after it"
    );
}

#[test]
fn across_a_network_the_station_checks_the_servers_certificate() {
    if !custody_tests::require_tool("openssl") {
        return;
    }
    let Some(server) = own_server() else {
        return;
    };
    let ca = server.require_tls();
    let db = server.ledger();
    let tls = |url: &str, roots: &std::path::Path| {
        format!("{url}?sslmode=verify-full&sslrootcert={}", roots.display())
    };
    let init = |home: &Home, url: &str, owner: &str| {
        home.run(
            "sato",
            [
                "init",
                "--org",
                "Test Union",
                "--station",
                "desk-1",
                "--database",
                url,
                "--schema-owner",
                owner,
                "--password-file",
                db.password_file.to_str().unwrap(),
            ],
        )
    };

    // Without TLS the server lets no one in over TCP: what works below runs over TLS.
    let plain = Home::uninit();
    let out = init(&plain, &db.url, &db.owner_url);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(!plain.home.exists());

    // A certificate signed by another authority is refused, naming the server.
    let elsewhere = tempfile::tempdir().unwrap();
    let other = custody_tests::authority(elsewhere.path(), "someone-else");
    let home = Home::uninit();
    let out = init(&home, &tls(&db.url, &other), &tls(&db.owner_url, &other));
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("127.0.0.1") && out.stderr.contains("certificate"),
        "{}",
        out.stderr
    );
    assert!(!home.home.exists());

    // The right authority, but a name the certificate does not hold (localhost, at
    // the same address): refused.
    let by_name = |url: &str| url.replace("@127.0.0.1:", "@localhost:") + "?hostaddr=127.0.0.1";
    let pgpass = home.path("pgpass");
    std::fs::write(
        &pgpass,
        std::fs::read_to_string(&db.password_file)
            .unwrap()
            .replace("127.0.0.1:", "localhost:"),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = home.run(
        "sato",
        [
            "init",
            "--station",
            "desk-1",
            "--database",
            &format!(
                "{}&sslmode=verify-full&sslrootcert={}",
                by_name(&db.url),
                ca.display()
            ),
            "--password-file",
            pgpass.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("certificate"), "{}", out.stderr);

    // A connection that would not check the server is refused before connecting.
    for unchecked in ["require", "verify-ca"] {
        let out = home.run(
            "sato",
            [
                "init",
                "--database",
                &format!("{}?sslmode={unchecked}", db.url),
                "--password-file",
                db.password_file.to_str().unwrap(),
            ],
        );
        assert!(matches!(out.code, 1 | 2), "{}\n{}", out.stdout, out.stderr);
        assert!(out.stderr.contains("verify-full"), "{}", out.stderr);
    }
    assert!(!home.home.exists());

    // With the office's authority: init, a note and a verify, over TLS.
    init(&home, &tls(&db.url, &ca), &tls(&db.owner_url, &ca)).ok();
    home.run("sato", ["note", "over TLS"]).ok();
    let report = home.run("sato", ["ledger", "verify", "--json"]).ok().json();
    assert!(report["entries"].as_i64().unwrap() > 2, "{report}");
    let config = std::fs::read_to_string(home.home.join("config.toml")).unwrap();
    assert!(config.contains("sslmode=verify-full"), "{config}");
}

#[test]
fn a_restored_backup_stops_every_station_until_a_manager_acknowledges_it() {
    let Some(server) = own_server() else {
        return;
    };
    let db = server.ledger();
    let first = Home::with_people_on(&db, "desk-1");
    let second = Home::joined(&first, &db, "desk-2");
    let third = Home::joined(&first, &db, "desk-3");
    first.run("suzuki", ["note", "kept 1"]).ok();
    second.run("suzuki", ["note", "kept 2"]).ok();
    let backup = server.dump(&db.name);
    let at_backup = entries(&first);
    // After the backup: entries that the restore will lose, seen by both stations.
    first.run("suzuki", ["note", "lost 1"]).ok();
    second.run("suzuki", ["note", "lost 2"]).ok();
    first.run("kato", ["ledger", "verify"]).ok();
    third.run("kato", ["ledger", "verify"]).ok();
    let seen = entries(&second);
    assert_eq!(seen, at_backup + 2);

    // The disk is lost; the DBA restores last night's dump.
    server.restore(&db.name, &backup);
    assert_eq!(
        server.psql(&db.name, "SELECT COUNT(*) FROM custody.entries"),
        at_backup.to_string()
    );
    for station in [&first, &second, &third] {
        let out = station.run("suzuki", ["note", "on the restored copy"]);
        assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
        assert!(
            out.stderr
                .contains(&format!("this station saw {seen} entries"))
                && out.stderr.contains("an older copy was restored"),
            "{}",
            out.stderr
        );
        let out = station.run("kato", ["ledger", "verify"]);
        assert_eq!(out.code, 1, "{}", out.stdout);
    }
    // Only a manager acknowledges it.
    let out = second.run(
        "suzuki",
        ["ledger", "accept-restore", "--reason", "the disk failed"],
    );
    assert!(matches!(out.code, 1 | 2), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        server.psql(&db.name, "SELECT COUNT(*) FROM custody.entries"),
        at_backup.to_string(),
        "nothing was recorded"
    );

    let report = second
        .run(
            "sato",
            [
                "ledger",
                "accept-restore",
                "--reason",
                "the database disk failed; restored the dump of 02:00",
                "--json",
            ],
        )
        .ok()
        .json();
    assert_eq!(report["seen_size"].as_i64().unwrap(), seen);
    assert_eq!(report["restored_size"].as_i64().unwrap(), at_backup);
    let acknowledged = report["seq"].as_i64().unwrap();
    assert_eq!(acknowledged, at_backup + 1);
    let entry = server.psql(
        &db.name,
        &format!(
            "SELECT e.actor || '|' || e.kind || '|' || (SELECT COUNT(*) FROM custody.signatures s WHERE s.seq = e.seq) \
             FROM custody.entries e WHERE e.seq = {acknowledged}"
        ),
    );
    assert_eq!(entry, "sato|ledger-restored|1");
    // A second acknowledgement has nothing to acknowledge.
    let out = second.run("sato", ["ledger", "accept-restore", "--reason", "again"]);
    assert!(matches!(out.code, 1 | 2), "{}\n{}", out.stdout, out.stderr);

    // Every station writes again: desk-2 acknowledged it; desk-1 and desk-3, whose
    // last heads are older than the acknowledgement, take the restored ledger after
    // checking it in full (desk-1 as it appends, desk-3 as it verifies).
    second.run("suzuki", ["note", "after the restore 2"]).ok();
    first.run("suzuki", ["note", "after the restore 1"]).ok();
    let report = third
        .run("kato", ["ledger", "verify", "--json"])
        .ok()
        .json();
    assert_eq!(report["restore_acknowledged"].as_i64(), Some(acknowledged));
    third.run("suzuki", ["note", "after the restore 3"]).ok();
    for station in [&first, &second, &third] {
        assert_eq!(entries(station), at_backup + 4);
    }
    let lost = server.psql(
        &db.name,
        "SELECT COUNT(*) FROM custody.payloads WHERE body LIKE '%lost %'",
    );
    assert_eq!(
        lost, "0",
        "the lost notes are gone, as the acknowledgement says"
    );

    // The acknowledgement covers the restore, not what is done after it: the last
    // entry removed behind custody's back is refused by the station that saw it.
    server.psql(
        &db.name,
        "SET session_replication_role = replica; \
         DO $$ DECLARE n bigint; BEGIN SELECT max(seq) INTO n FROM custody.entries; \
           DELETE FROM custody.checkpoints WHERE size = n; DELETE FROM custody.signatures WHERE seq = n; \
           DELETE FROM custody.payloads WHERE seq = n; DELETE FROM custody.records WHERE seq = n; \
           DELETE FROM custody.entries WHERE seq = n; END $$;",
    );
    let out = third.run("suzuki", ["note", "on a shortened ledger"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("entries were removed"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_auditor_verifies_the_office_ledger_on_a_streaming_replica() {
    let Some(server) = own_server() else {
        return;
    };
    let db = server.ledger();
    let home = Home::with_people_on(&db, "desk-1");
    for i in 1..=5 {
        home.run("suzuki", ["note", &format!("note {i}")]).ok();
    }
    let replica = server.replica();
    replica.catch_up(&server);
    // The replica's address, its password in the station's password file.
    let primary_port = format!(":{}/", server.port);
    let replica_port = format!(":{}/", replica.port);
    let url = db.url.replace(&primary_port, &replica_port);
    let passwords = std::fs::read_to_string(&db.password_file).unwrap();
    std::fs::write(
        &db.password_file,
        format!(
            "{passwords}\n{}",
            passwords.replace(
                &format!(":{}:", server.port),
                &format!(":{}:", replica.port)
            )
        ),
    )
    .unwrap();

    let on_primary = home.run("kato", ["ledger", "verify", "--json"]).ok().json();
    let report = home
        .run("kato", ["ledger", "verify", "--database", &url, "--json"])
        .ok()
        .json();
    assert_eq!(report["replica"], true, "{report}");
    assert_eq!(report["entries"], on_primary["entries"]);
    assert_eq!(report["head"], on_primary["head"]);
    assert!(report["witnessed"].as_i64().is_some(), "{report}");
    let text = home
        .run("kato", ["ledger", "verify", "--database", &url])
        .ok()
        .stdout;
    assert!(text.contains("read-only replica"), "{text}");

    // A replica that has not caught up is said to lag, not taken for a removal.
    replica.psql("postgres", "SELECT pg_wal_replay_pause()");
    home.run("suzuki", ["note", "while the replica waits"]).ok();
    let report = home
        .run("kato", ["ledger", "verify", "--database", &url, "--json"])
        .ok()
        .json();
    assert_eq!(
        report["behind_witness"].as_i64().unwrap(),
        report["entries"].as_i64().unwrap() + 1,
        "{report}"
    );
    replica.psql("postgres", "SELECT pg_wal_replay_resume()");
    replica.catch_up(&server);

    // What a superuser rewrites on the primary reaches the replica, where the auditor
    // finds it.
    server.psql(
        &db.name,
        "SET session_replication_role = replica; \
         UPDATE custody.payloads SET body = replace(body, 'note 3', 'note 0') \
         WHERE body LIKE '%note 3%'",
    );
    replica.catch_up(&server);
    let out = home.run("kato", ["ledger", "verify", "--database", &url]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("TAMPERED"), "{}", out.stderr);
}

#[test]
fn an_emptied_database_is_not_written_onto() {
    let Some(server) = own_server() else {
        return;
    };
    let db = server.ledger();
    let home = Home::with_people_on(&db, "desk-1");
    home.run("suzuki", ["note", "before"]).ok();
    // Someone with rights on the database empties every table, triggers off.
    server.psql(
        &db.name,
        "SET session_replication_role = replica; \
         DO $$ DECLARE t text; BEGIN \
           FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'custody' AND tablename <> 'schema_version' LOOP \
             EXECUTE format('DELETE FROM custody.%I', t); \
           END LOOP; END $$;",
    );
    assert_eq!(
        server.psql(&db.name, "SELECT COUNT(*) FROM custody.entries"),
        "0"
    );
    // Refused: the people the station knows are not in it (config.toml's mirror),
    // and, below that, the station that saw entries never writes onto none.
    let out = home.run("sato", ["note", "onto nothing"]);
    assert!(matches!(out.code, 1 | 2), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        server.psql(&db.name, "SELECT COUNT(*) FROM custody.entries"),
        "0",
        "nothing was written"
    );
}

#[test]
fn a_shorter_copy_that_is_not_a_copy_is_refused_not_called_behind() {
    if !custody_tests::require_tool("minisign") {
        return;
    }
    let Some(server) = own_server() else {
        return;
    };
    let db = server.ledger();
    let home = Home::with_people_on(&db, "desk-1");
    for i in 1..=4 {
        home.run("suzuki", ["note", &format!("note {i}")]).ok();
    }
    let backup = server.dump(&db.name);
    for i in 5..=7 {
        home.run("suzuki", ["note", &format!("note {i}")]).ok();
    }
    // A "copy" beside the ledger: the older dump, its last note rewritten with
    // consistent hashes and re-signed with the (stolen) station key.
    server.restore_as("forged", &backup);
    server.psql(
        "forged",
        "SET session_replication_role = replica; \
         DO $$ DECLARE r record; n bigint; body text; c text; h text; BEGIN \
           SELECT max(seq) INTO n FROM custody.entries; \
           SELECT e.*, p.salt INTO r FROM custody.entries e JOIN custody.payloads p ON p.seq = e.seq WHERE e.seq = n; \
           body := '{\"id\":\"' || r.subject || '\",\"text\":\"nothing happened\"}'; \
           c := encode(sha256(convert_to(r.salt || body, 'UTF8')), 'hex'); \
           h := encode(sha256(convert_to(concat_ws(E'\\n', 'custody-ledger/v1', r.seq::text, r.at, \
                  r.actor, r.station, r.kind, r.subject, c, r.prev_hash), 'UTF8')), 'hex'); \
           EXECUTE 'UPDATE custody.payloads SET body = $1 WHERE seq = $2' USING body, n; \
           UPDATE custody.entries SET commitment = c, hash = h WHERE seq = n; \
           DELETE FROM custody.checkpoints WHERE size = n; \
         END $$;",
    );
    let forged_db = custody_tests::PgLedger {
        name: "forged".into(),
        ..db.clone()
    };
    let (size, head, station) = last_entry(&server, &forged_db);
    sign_checkpoint(
        &server,
        &forged_db,
        &home.home.join("keys/station.key"),
        (&station, &size, &head),
        &home.path("checkpoint.msg"),
    );
    let url = format!("{}/forged", db.url.rsplit_once('/').unwrap().0);
    let passwords = std::fs::read_to_string(&db.password_file).unwrap();
    std::fs::write(
        &db.password_file,
        format!(
            "{passwords}\n{}",
            passwords.replace(&format!(":{}:", db.name), ":forged:")
        ),
    )
    .unwrap();
    let out = home.run("kato", ["ledger", "verify", "--database", &url]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("TAMPERED"), "{}", out.stderr);
    assert!(!out.stdout.contains("catching up"), "{}", out.stdout);
}
