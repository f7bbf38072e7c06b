//! `custody wipe` and `custody devices` through the real binary, on loop devices these
//! tests create (detached on drop) and on image files. What is on a device afterwards
//! is read from its backing file, never through custody. Every run is checked in the
//! ledger: `wipe` entries with the full report, and `custody ledger verify` passing.
//!
//! The engine crate tests every method in depth (wipe/tests/loop_devices.rs); here a
//! representative few run on devices of 32 MiB + 1536 bytes (not a multiple of the
//! 4 MiB chunk) and the rest on small ones.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use custody_tests::{Home, LoopDevice, MountPoint, Run, require_loop, sh};
use serde_json::Value;

const MIB: u64 = 1 << 20;
const ODD_SIZE: u64 = 32 * MIB + 1536;
const SMALL_SIZE: u64 = MIB + 512;
const PREFILL: u8 = 0x5A;
/// How long a test waits on a wipe that shows no end before calling it hung. Only a
/// guard against holding CI forever: tests wait for progress, not for a time.
const HANG_GUARD: Duration = Duration::from_secs(600);

/// What the last pass must leave.
enum Last {
    Byte(u8),
    Random,
}

/// Asserts the bytes are `last`: a repeated byte, or for random data no 512-byte
/// sector still holding the prefill and a flat byte histogram.
#[track_caller]
fn check_content(data: &[u8], last: &Last) {
    match last {
        Last::Byte(want) => {
            if let Some(i) = data.iter().position(|b| b != want) {
                panic!(
                    "byte {i} of {} is 0x{:02X}, not 0x{want:02X}",
                    data.len(),
                    data[i]
                );
            }
        }
        Last::Random => {
            for (i, sector) in data.chunks(512).enumerate() {
                assert!(
                    sector.iter().any(|&b| b != PREFILL),
                    "sector {i} not overwritten"
                );
            }
            let mut counts = [0_u64; 256];
            for &b in data {
                counts[b as usize] += 1;
            }
            let mean = data.len() as u64 / 256;
            for (value, count) in counts.iter().enumerate() {
                assert!(
                    count.abs_diff(mean) < mean / 8,
                    "byte 0x{value:02X} occurs {count} times, expected about {mean}"
                );
            }
        }
    }
}

/// `custody wipe TARGETS --yes --json EXTRA…` as `actor`.
fn wipe(home: &Home, actor: &str, targets: &[&str], extra: &[&str]) -> Run {
    let mut args = vec!["wipe"];
    args.extend_from_slice(targets);
    args.extend_from_slice(&["--yes", "--json"]);
    args.extend_from_slice(extra);
    home.run(actor, args)
}

/// Entries of `kind`, with payloads.
fn entries(home: &Home, kind: &str) -> Vec<Value> {
    let out = home.run("kato", ["log", "--kind", kind, "--json"]).ok();
    out.json().as_array().unwrap().clone()
}

/// `custody ledger verify` passes.
fn ledger_verifies(home: &Home) {
    home.run("kato", ["ledger", "verify"]).ok();
}

/// Checks one result object of `--json` against the ledger and the device.
#[track_caller]
fn check_recorded(home: &Home, result: &Value, size: u64, passes: usize) {
    assert_eq!(result["status"], "erased", "{result:#}");
    let id = result["id"].as_str().unwrap();
    assert!(id.starts_with("WP-"), "{id}");
    assert_eq!(result["category"], "clear");
    assert_eq!(result["passes"].as_array().unwrap().len(), passes);
    for pass in result["passes"].as_array().unwrap() {
        assert_eq!(pass["bytes"], size, "{pass}");
        assert!(pass["start"].as_str().unwrap().ends_with('Z'));
        assert!(pass["end"].as_str().unwrap() >= pass["start"].as_str().unwrap());
    }
    assert_eq!(result["verify"]["result"], "passed");
    assert_eq!(result["errors"], Value::Array(vec![]));
    assert_eq!(result["operator"]["name"], "ito");
    assert_eq!(result["tool"]["name"], "custody");
    let recorded = entries(home, "wipe");
    let entry = recorded
        .iter()
        .find(|e| e["subject"] == id)
        .unwrap_or_else(|| panic!("no wipe entry {id}"));
    assert_eq!(entry["seq"], result["seq"]);
    assert_eq!(entry["hash"], result["hash"]);
    let mut payload = result.clone();
    let map = payload.as_object_mut().unwrap();
    map.remove("seq");
    map.remove("hash");
    let certificate = map.remove("certificate").unwrap();
    assert!(
        certificate.as_str().unwrap().starts_with("EC-"),
        "{certificate}"
    );
    assert_eq!(
        entry["payload"], payload,
        "the printed result is the recorded one"
    );
    ledger_verifies(home);
}

/// Wipes a fresh loop device of `size` with `args` and checks what is left.
fn check_method(size: u64, args: &[&str], passes: usize, last: Last) {
    if !require_loop(&[]) {
        return;
    }
    let home = Home::with_people();
    let dev = LoopDevice::new(size, PREFILL);
    let out = wipe(&home, "ito", &[dev.arg()], args).ok();
    let results = out.json();
    assert_eq!(results.as_array().unwrap().len(), 1);
    let result = &results[0];
    assert_eq!(result["target"], dev.arg());
    assert_eq!(result["device"]["transport"], "loop");
    assert_eq!(result["device"]["source"], dev.backing.to_str().unwrap());
    assert_eq!(result["device"]["size"], size);
    check_recorded(&home, result, size, passes);
    let data = dev.content();
    assert_eq!(data.len() as u64, size);
    check_content(&data, &last);
}

#[test]
fn zero_leaves_zeros() {
    check_method(ODD_SIZE, &["--method", "zero"], 1, Last::Byte(0));
}

#[test]
fn one_leaves_ones() {
    check_method(ODD_SIZE, &["--method", "one"], 1, Last::Byte(0xFF));
}

#[test]
fn dod_short_leaves_random_bytes() {
    check_method(ODD_SIZE, &["--method", "dod-short"], 3, Last::Random);
}

#[test]
fn hmg_is5_leaves_random_bytes() {
    check_method(ODD_SIZE, &["--method", "hmg-is5"], 3, Last::Random);
}

#[test]
fn random_with_blank_leaves_zeros() {
    check_method(
        ODD_SIZE,
        &[
            "--method", "random", "--passes", "2", "--blank", "--verify", "all",
        ],
        3,
        Last::Byte(0),
    );
}

#[test]
fn the_other_methods_on_a_small_device() {
    check_method(SMALL_SIZE, &["--method", "dod"], 7, Last::Random);
    check_method(SMALL_SIZE, &["--method", "gutmann"], 35, Last::Random);
    check_method(SMALL_SIZE, &["--method", "schneier"], 7, Last::Random);
    check_method(SMALL_SIZE, &["--method", "vsitr"], 7, Last::Byte(0xAA));
    check_method(SMALL_SIZE, &["--method", "random"], 1, Last::Random);
}

#[test]
fn three_targets_are_wiped_at_once_with_one_record_each() {
    if !require_loop(&[]) {
        return;
    }
    let home = Home::with_people();
    let a = LoopDevice::new(ODD_SIZE, PREFILL);
    let b = {
        let dir = tempfile::tempdir().unwrap();
        let backing = dir.path().join("backing.img");
        std::fs::write(&backing, vec![PREFILL; (16 * MIB + 4096) as usize]).unwrap();
        LoopDevice::attach(backing, &["--sector-size", "4096"], Some(dir))
    };
    let c = LoopDevice::new(8 * MIB + 512, PREFILL);
    let out = wipe(
        &home,
        "ito",
        &[a.arg(), b.arg(), c.arg()],
        &["--method", "hmg-is5", "--blank"],
    )
    .ok();
    let results = out.json();
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[1]["device"]["logical_sector"], 4096);
    let mut ids: Vec<&str> = results.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for (result, dev) in results.iter().zip([&a, &b, &c]) {
        assert_eq!(result["target"], dev.arg());
        let size = result["device"]["size"].as_u64().unwrap();
        check_recorded(&home, result, size, 4);
        check_content(&dev.content(), &Last::Byte(0));
    }
    // At the same time: every target's first pass began before any target's last
    // pass ended.
    let first_starts: Vec<&str> = results
        .iter()
        .map(|r| r["passes"][0]["start"].as_str().unwrap())
        .collect();
    let last_ends: Vec<&str> = results
        .iter()
        .map(|r| r["passes"][3]["end"].as_str().unwrap())
        .collect();
    let latest_start = first_starts.iter().max().unwrap();
    let earliest_end = last_ends.iter().min().unwrap();
    assert!(
        latest_start < earliest_end,
        "{first_starts:?} {last_ends:?}"
    );
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    // One wipe-start entry, before the results, naming the three targets.
    let start = entries(&home, "wipe-start");
    assert_eq!(start.len(), 1);
    assert_eq!(start[0]["payload"]["targets"].as_array().unwrap().len(), 3);
    assert_eq!(start[0]["payload"]["method"], "hmg-is5");
    for result in results {
        assert_eq!(result["start_seq"], start[0]["seq"]);
        assert!(result["seq"].as_i64() > start[0]["seq"].as_i64());
    }
}

#[track_caller]
fn assert_nothing_recorded(home: &Home) {
    assert!(entries(home, "wipe-start").is_empty());
    assert!(entries(home, "wipe").is_empty());
    ledger_verifies(home);
}

#[test]
fn a_mounted_loop_device_is_refused_and_untouched() {
    if !require_loop(&["mkfs.ext4", "mount"]) {
        return;
    }
    let home = Home::with_people();
    let dev = LoopDevice::new(ODD_SIZE, PREFILL);
    let mount = MountPoint::ext4(&dev);
    std::fs::write(mount.dir.path().join("record.txt"), b"personal data").unwrap();
    sh("sync", &[]);
    let before = dev.content();
    let out = wipe(&home, "ito", &[dev.arg()], &["--method", "zero"]).expect_code(2);
    assert!(
        out.stderr.contains("is mounted on") && out.stderr.contains("none is touched"),
        "{}",
        out.stderr
    );
    assert_eq!(dev.content(), before);
    assert_eq!(
        std::fs::read(mount.dir.path().join("record.txt")).unwrap(),
        b"personal data"
    );
    assert_nothing_recorded(&home);
}

#[test]
fn a_good_and_a_mounted_device_together_touch_neither() {
    if !require_loop(&["mkfs.ext4", "mount"]) {
        return;
    }
    let home = Home::with_people();
    let good = LoopDevice::new(ODD_SIZE, PREFILL);
    let bad = LoopDevice::new(ODD_SIZE, PREFILL);
    let _mount = MountPoint::ext4(&bad);
    sh("sync", &[]);
    let bad_before = bad.content();
    let out = wipe(
        &home,
        "ito",
        &[good.arg(), bad.arg()],
        &["--method", "zero"],
    )
    .expect_code(2);
    assert!(out.stderr.contains("1 of 2 targets"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(good.content().iter().all(|&b| b == PREFILL));
    assert_eq!(bad.content(), bad_before);
    assert_nothing_recorded(&home);
}

#[test]
fn without_yes_and_without_a_terminal_nothing_is_touched() {
    let home = Home::with_people();
    let image = home.path("disk.img");
    std::fs::write(&image, vec![PREFILL; 100_000]).unwrap();
    // stdin is /dev/null and stderr a pipe: no terminal to confirm on.
    let out = home
        .run("ito", ["wipe", image.to_str().unwrap(), "--method", "zero"])
        .expect_code(2);
    assert!(out.stderr.contains("no terminal"), "{}", out.stderr);
    assert!(std::fs::read(&image).unwrap().iter().all(|&b| b == PREFILL));
    assert_nothing_recorded(&home);
}

#[test]
fn an_image_file_is_wiped_without_root() {
    let home = Home::with_people();
    let image = home.path("retired.img");
    let size = 3 * MIB + 777;
    std::fs::write(&image, vec![PREFILL; size as usize]).unwrap();
    let out = wipe(
        &home,
        "ito",
        &[image.to_str().unwrap()],
        &["--method", "vsitr", "--verify", "all"],
    )
    .ok();
    let result = &out.json()[0];
    assert_eq!(result["device"]["kind"], "image-file");
    assert_eq!(result["device"]["transport"], "file");
    check_recorded(&home, result, size, 7);
    let data = std::fs::read(&image).unwrap();
    assert_eq!(data.len() as u64, size);
    check_content(&data, &Last::Byte(0xAA));
    // The plain-text result names the record.
    let out = home
        .run(
            "ito",
            [
                "wipe",
                image.to_str().unwrap(),
                "--method",
                "one",
                "--yes",
                "--quiet",
            ],
        )
        .ok();
    assert!(out.stdout.starts_with("WP-2  "), "{}", out.stdout);
    assert!(out.stdout.contains("ERASED"), "{}", out.stdout);
    check_content(&std::fs::read(&image).unwrap(), &Last::Byte(0xFF));
}

#[test]
fn only_it_staff_and_managers_may_wipe() {
    let home = Home::with_people();
    let image = home.path("disk.img");
    std::fs::write(&image, vec![PREFILL; 100_000]).unwrap();
    for actor in ["suzuki", "kato", "nobody"] {
        let out = wipe(
            &home,
            actor,
            &[image.to_str().unwrap()],
            &["--method", "zero"],
        )
        .expect_code(2);
        assert!(out.stderr.contains("may not"), "{actor}: {}", out.stderr);
    }
    assert!(std::fs::read(&image).unwrap().iter().all(|&b| b == PREFILL));
    assert_nothing_recorded(&home);
    // A manager may.
    let out = wipe(
        &home,
        "tanaka",
        &[image.to_str().unwrap()],
        &["--method", "zero"],
    )
    .ok();
    assert_eq!(out.json()[0]["operator"]["role"], "manager");
}

#[test]
fn bad_methods_and_pass_counts_are_usage_errors() {
    let home = Home::with_people();
    let image = home.path("disk.img");
    std::fs::write(&image, vec![PREFILL; 4096]).unwrap();
    let path = image.to_str().unwrap();
    for args in [
        &["--method", "rot13"][..],
        &["--method", "zero", "--passes", "2"],
        &["--method", "random", "--passes", "0"],
    ] {
        wipe(&home, "ito", &[path], args).expect_code(2);
    }
    wipe(
        &home,
        "ito",
        &[home.path("missing.img").to_str().unwrap()],
        &["--method", "zero"],
    )
    .expect_code(2);
    assert!(std::fs::read(&image).unwrap().iter().all(|&b| b == PREFILL));
}

#[test]
fn a_device_failing_part_way_ends_failed_with_its_error_offsets() {
    if !require_loop(&["mount"]) {
        return;
    }
    let home = Home::with_people();
    // The backing file is a sparse 32 MiB on an 8 MiB tmpfs: writes past ~8 MiB fail.
    let tmpfs = MountPoint::new(
        std::path::Path::new("tmpfs"),
        &["-t", "tmpfs", "-o", "size=8M"],
    );
    let backing = tmpfs.dir.path().join("backing.img");
    std::fs::File::create(&backing)
        .unwrap()
        .set_len(32 * MIB)
        .unwrap();
    let dev = LoopDevice::attach(backing, &[], None);
    let out = wipe(
        &home,
        "ito",
        &[dev.arg()],
        &["--method", "zero", "--verify", "off"],
    )
    .expect_code(1);
    let result = &out.json()[0];
    assert_eq!(result["status"], "failed", "{result:#}");
    let errors = result["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    for error in errors {
        assert_eq!(error["pass"], 1);
        let offset = error["offset"].as_u64().unwrap();
        assert!((4 * MIB..32 * MIB).contains(&offset), "{error}");
        assert!(error["length"].as_u64().unwrap() > 0);
        assert!(error["errno"].as_i64().is_some(), "{error}");
    }
    assert!(result["passes"][0]["bytes"].as_u64().unwrap() < 32 * MIB);
    let recorded = entries(&home, "wipe");
    assert_eq!(recorded[0]["payload"]["status"], "failed");
    assert_eq!(recorded[0]["payload"]["errors"], result["errors"]);
    // Its certificate says failed, never erased.
    let cert = result["certificate"].as_str().unwrap();
    let doc = home
        .run("kato", ["cert", "show", cert, "--json"])
        .ok()
        .json();
    assert_eq!(doc["status"], "failed");
    assert!(!doc.to_string().contains("\"erased\""), "{doc:#}");
    assert_eq!(
        doc["sanitization"]["errors"].as_array().unwrap().len(),
        errors.len()
    );
    ledger_verifies(&home);
    drop(dev);
}

#[test]
fn sigint_mid_wipe_interrupts_and_is_recorded() {
    if !require_loop(&[]) {
        return;
    }
    let home = Home::with_people();
    let dev = LoopDevice::new(64 * MIB, PREFILL);
    let mut child = home
        .cmd("ito")
        .args(["wipe", dev.arg(), "--method", "gutmann", "--yes", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Without a terminal the progress is one line per pass on stderr.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    // Wait for the second pass for as long as the wipe runs: a fixed 60 s failed on a
    // CI machine busy with other tests (stop 30). The guard only stops a hung wipe
    // from holding CI; it is no judgement of speed.
    let guard = Instant::now() + HANG_GUARD;
    loop {
        match rx.recv_timeout(guard.saturating_duration_since(Instant::now())) {
            Ok(line) if line.contains("pass 2/35") => break,
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().unwrap();
                panic!("the wipe ended ({status}) before its second pass");
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                panic!("the wipe hung before its second pass");
            }
        }
    }
    sh("kill", &["-INT", &child.id().to_string()]);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("the wipe did not stop after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = reader.join().unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert_eq!(
        status.code(),
        Some(1),
        "not a clean exit: {status:?}\n{stderr}"
    );
    let results: Value = serde_json::from_str(&stdout).unwrap();
    let result = &results[0];
    assert_eq!(result["status"], "interrupted", "{result:#}");
    let passes = result["passes"].as_array().unwrap();
    assert!(passes.len() >= 2 && passes.len() < 35, "{}", passes.len());
    assert_eq!(passes.last().unwrap()["complete"], false);
    assert_eq!(result["verify"]["result"], "skipped");
    let recorded = entries(&home, "wipe");
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["payload"]["status"], "interrupted");
    ledger_verifies(&home);
}

#[test]
fn devices_lists_a_loop_device_and_refuses_a_mounted_one() {
    if !require_loop(&["mkfs.ext4", "mount"]) {
        return;
    }
    let home = Home::uninit();
    let free = LoopDevice::new(SMALL_SIZE, PREFILL);
    let busy = LoopDevice::new(ODD_SIZE, PREFILL);
    let mount = MountPoint::ext4(&busy);
    // `devices` needs no data home.
    let out = home.run("anyone", ["devices", "--json"]).ok();
    let devices = out.json();
    let find = |dev: &LoopDevice| -> Value {
        devices
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["path"] == dev.arg())
            .unwrap_or_else(|| panic!("{} not listed", dev.arg()))
            .clone()
    };
    let listed = find(&free);
    assert_eq!(listed["transport"], "loop");
    assert_eq!(listed["source"], free.backing.to_str().unwrap());
    assert_eq!(listed["size"], SMALL_SIZE);
    assert_eq!(listed["logical_sector"], 512);
    assert_eq!(listed["wipeable"], true, "{listed:#}");
    assert_eq!(listed["refusals"], Value::Array(vec![]));
    let listed = find(&busy);
    assert_eq!(listed["wipeable"], false);
    let refusal = &listed["refusals"][0];
    assert_eq!(refusal["reason"], "mounted");
    assert!(
        refusal["message"]
            .as_str()
            .unwrap()
            .contains(mount.dir.path().to_str().unwrap()),
        "{refusal}"
    );
    // The text table says the same.
    let out = home.run("anyone", ["devices"]).ok();
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("{} ", busy.arg())))
        .unwrap();
    assert!(
        line.contains("no: ") && line.contains("is mounted on"),
        "{line}"
    );
}

/// Runs `custody wipe IMAGE --method zero` as ito on a pseudo-terminal (`script`),
/// typing `answer`; returns the exit code and what the terminal showed.
fn wipe_on_a_terminal(home: &Home, image: &std::path::Path, answer: &str) -> (i32, String) {
    use std::io::Write;
    let line = format!(
        "{} wipe {} --method zero",
        custody_tests::custody_bin().display(),
        image.display()
    );
    let mut command = std::process::Command::new("script");
    home.env_of("ito", &mut command);
    let mut child = command
        .args(["-qefc", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Typed after the prompt is up; the terminal buffers it either way.
    std::thread::sleep(Duration::from_millis(300));
    stdin.write_all(answer.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn on_a_terminal_only_the_typed_confirmation_wipes() {
    if !custody_tests::require_tool("script") {
        return;
    }
    let home = Home::with_people();
    let image = home.path("disk.img");
    std::fs::write(&image, vec![PREFILL; 100_000]).unwrap();
    let (code, shown) = wipe_on_a_terminal(&home, &image, "yes\n");
    assert_eq!(code, 2, "{shown}");
    assert!(shown.contains("type \"erase 1\""), "{shown}");
    assert!(
        shown.contains("100000 bytes") && shown.contains("SERIAL"),
        "{shown}"
    );
    assert!(shown.contains("nothing was touched"), "{shown}");
    assert!(std::fs::read(&image).unwrap().iter().all(|&b| b == PREFILL));
    assert_nothing_recorded(&home);
    let (code, shown) = wipe_on_a_terminal(&home, &image, "erase 1\n");
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("WP-1  ") && shown.contains("ERASED"),
        "{shown}"
    );
    assert!(std::fs::read(&image).unwrap().iter().all(|&b| b == 0));
}

/// Makes the wipes of `home` journal their progress every MiB, so that a small test
/// device is interrupted between journal lines.
fn journal_every_mib(home: &Home) {
    let path = home.home.join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replace("journal_every_mib = 1024", "journal_every_mib = 1");
    assert!(text.contains("journal_every_mib = 1\n"), "{text}");
    std::fs::write(&path, text).unwrap();
}

/// The lines of the only wipe journal in `home`.
fn journal(home: &Home) -> Vec<Value> {
    let dir = home.home.join("wipes");
    let Ok(files) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let files: Vec<_> = files.map(|f| f.unwrap().path()).collect();
    assert!(files.len() <= 1, "{files:?}");
    files.first().map_or_else(Vec::new, |f| {
        std::fs::read_to_string(f)
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    })
}

/// The last durable (pass from 0, offset) the journal holds for target `t`.
fn last_durable(lines: &[Value], t: u64) -> Option<(u64, u64)> {
    lines
        .iter()
        .rfind(|l| l["event"] == "durable" && l["t"] == t)
        .map(|l| (l["pass"].as_u64().unwrap(), l["offset"].as_u64().unwrap()))
}

/// Starts `custody wipe ARGS --yes --json --quiet` as ito and sends it `signal` once
/// the journal shows every one of `targets` part-way through pass `pass` (from 1).
/// Returns the process's exit code (None when killed).
fn wipe_until(home: &Home, args: &[&str], targets: u64, pass: u64, signal: &str) -> Option<i32> {
    let mut child = home
        .cmd("ito")
        .arg("wipe")
        .args(args)
        .args(["--yes", "--json", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let guard = Instant::now() + HANG_GUARD;
    loop {
        let lines = journal(home);
        let there = (0..targets).all(|t| {
            lines.iter().any(|l| {
                l["event"] == "durable" && l["t"] == t && l["pass"] == pass - 1 && l["offset"] != 0
            })
        });
        if there {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the wipe ended before pass {pass}: {status:?}");
        }
        assert!(Instant::now() < guard, "the wipe hung before pass {pass}");
        std::thread::sleep(Duration::from_millis(2));
    }
    sh("kill", &[signal, &child.id().to_string()]);
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        assert!(start.elapsed() < HANG_GUARD, "the wipe did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_wipe_killed_in_pass_two_is_resumed_on_both_devices() {
    if !require_loop(&[]) {
        return;
    }
    let home = Home::with_people();
    journal_every_mib(&home);
    let size = 40 * MIB;
    let a = LoopDevice::new(size, PREFILL);
    let b = LoopDevice::new(size, PREFILL);
    // Three random passes, each read back: the second, killed part-way, must go on
    // with the very stream it began (the seed is derived again, never stored), or its
    // read-back fails.
    let args = [
        a.arg(),
        b.arg(),
        "--method",
        "random",
        "--passes",
        "3",
        "--verify",
        "all",
    ];
    let code = wipe_until(&home, &args, 2, 2, "-KILL");
    assert_eq!(code, None, "SIGKILL leaves no exit code");
    assert!(
        entries(&home, "wipe").is_empty(),
        "a killed wipe records no result"
    );
    let start = entries(&home, "wipe-start");
    let run = start[0]["seq"].as_i64().unwrap().to_string();
    let audit = home.run("kato", ["report", "audit"]).stdout;
    assert!(
        audit.contains(a.arg()) && audit.contains(&format!("custody wipe --resume {run}")),
        "the audit lists the unfinished wipe and how to continue it: {audit}"
    );
    let lines = journal(&home);
    let mut stood = Vec::new();
    for t in 0..2 {
        let (pass, offset) = last_durable(&lines, t).unwrap();
        assert_eq!(pass, 1, "killed part-way through pass 2");
        assert!(offset > 0 && offset < size, "{offset}");
        stood.push(offset);
    }

    let out = wipe(&home, "ito", &[], &["--resume", &run]).ok();
    let results = out.json();
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 2);
    for (result, offset) in results.iter().zip(&stood) {
        assert_eq!(result["status"], "erased", "{result:#}");
        assert_eq!(result["start_seq"].to_string(), run);
        assert_eq!(result["verify"]["result"], "passed");
        assert_eq!(
            result["verify"]["bytes"],
            2 * size,
            "passes 2 and 3 are read back over the whole device"
        );
        let passes = result["passes"].as_array().unwrap();
        assert_eq!(passes.len(), 3);
        assert!(
            passes
                .iter()
                .all(|p| p["complete"] == true && p["bytes"] == size && p["verified"] == true),
            "{passes:?}"
        );
        let interruptions = result["interruptions"].as_array().unwrap();
        assert_eq!(interruptions.len(), 1, "{interruptions:?}");
        assert_eq!(interruptions[0]["how"], "killed");
        assert_eq!(interruptions[0]["pass"], 2);
        assert_eq!(interruptions[0]["offset"], *offset);
        let resumptions = result["resumptions"].as_array().unwrap();
        assert_eq!(resumptions.len(), 1);
        assert_eq!(resumptions[0]["offset"], *offset);
        assert_eq!(resumptions[0]["pass"], 2);
        // The certificate lists both, and verifies.
        let cert = result["certificate"].as_str().unwrap();
        let doc = home
            .run("kato", ["cert", "show", cert, "--json"])
            .ok()
            .json();
        assert_eq!(
            doc["sanitization"]["interruptions"],
            result["interruptions"]
        );
        assert_eq!(doc["sanitization"]["resumptions"], result["resumptions"]);
        assert_eq!(doc["status"], "erased");
    }
    // The last pass is a random stream: no sector holds the prefill.
    for dev in [&a, &b] {
        check_content(&dev.content(), &Last::Random);
    }
    assert_eq!(entries(&home, "wipe-resume").len(), 1);
    let audit = home.run("kato", ["report", "audit"]).stdout;
    assert!(!audit.contains(a.arg()), "finished now: {audit}");
    ledger_verifies(&home);
    // Nothing is left to resume.
    let again = wipe(&home, "ito", &[], &["--resume", &run]).expect_code(2);
    assert!(again.stderr.contains("erased already"), "{}", again.stderr);
}

#[test]
fn a_resume_on_another_device_or_after_a_foreign_write_is_refused() {
    if !require_loop(&[]) {
        return;
    }
    let home = Home::with_people();
    journal_every_mib(&home);
    let size = 48 * MIB;
    let a = LoopDevice::new(size, PREFILL);
    let code = wipe_until(&home, &[a.arg(), "--method", "vsitr"], 1, 3, "-INT");
    assert_eq!(code, Some(1));
    let interrupted = entries(&home, "wipe");
    assert_eq!(interrupted[0]["payload"]["status"], "interrupted");
    let id = interrupted[0]["subject"].as_str().unwrap().to_owned();

    // Another loop device of the same size, holding the same bytes as the first
    // one did: refused, untouched.
    let other = LoopDevice::new(size, PREFILL);
    let out = wipe(&home, "ito", &[other.arg()], &["--resume", &id]).expect_code(2);
    assert!(
        out.stderr.contains("is not the device that wipe"),
        "{}",
        out.stderr
    );
    assert!(other.content().iter().all(|&x| x == PREFILL));
    // Only IT staff and managers resume.
    home.run("suzuki", ["wipe", "--resume", &id, "--yes"])
        .expect_code(2);

    // Someone writes 4 KiB at the start of the device through its node: the
    // fingerprint of what the wipe wrote no longer matches.
    let before = a.content();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&a.path)
        .and_then(|mut f| {
            use std::io::Write;
            f.write_all(&[0x11; 4096])?;
            f.sync_all()
        })
        .unwrap();
    let out = wipe(&home, "ito", &[], &["--resume", &id]).expect_code(2);
    assert!(
        out.stderr.contains("written by something else"),
        "{}",
        out.stderr
    );
    let after = a.content();
    assert_eq!(&after[4096..], &before[4096..], "nothing was written");
    assert_eq!(entries(&home, "wipe-resume").len(), 0);
    assert_eq!(entries(&home, "wipe").len(), 1);
    ledger_verifies(&home);
}

#[test]
fn an_interrupted_image_is_resumed_and_ends_in_the_last_pattern() {
    // Without root: an image file, interrupted with SIGTERM part-way through pass 2 of
    // vsitr, resumed by its WP id; every byte is the last pass's 0xAA.
    let home = Home::with_people();
    journal_every_mib(&home);
    let image = home.path("disk.img");
    std::fs::write(&image, vec![PREFILL; (40 * MIB) as usize]).unwrap();
    let code = wipe_until(
        &home,
        &[image.to_str().unwrap(), "--method", "vsitr"],
        1,
        2,
        "-TERM",
    );
    assert_eq!(code, Some(1));
    let id = entries(&home, "wipe")[0]["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = home
        .run("ito", ["wipe", "--resume", &id, "--yes", "--json"])
        .ok();
    let result = &out.json()[0];
    assert_eq!(result["status"], "erased", "{result:#}");
    assert_eq!(result["interruptions"][0]["how"], "interrupted");
    assert_eq!(result["interruptions"][0]["pass"], 2);
    assert_eq!(result["passes"].as_array().unwrap().len(), 7);
    check_content(&std::fs::read(&image).unwrap(), &Last::Byte(0xAA));
    let audit = home.run("kato", ["report", "audit"]).stdout;
    assert!(
        !audit.contains(&id),
        "resumed to erasure, {id} is no finding: {audit}"
    );
    ledger_verifies(&home);
}
