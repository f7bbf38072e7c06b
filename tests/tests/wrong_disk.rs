//! The wrong disk is never touched: regression tests for the cases where `custody
//! wipe` once reported ERASED and destroyed a mounted filesystem or the ledger. Every
//! device here is a loop device these tests create on a file in a temporary folder
//! (detached on drop); what is on it is read from the backing file, never through
//! custody.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use custody_tests::{Home, LoopDevice, MountPoint, Run, require_loop, sh};
use serde_json::Value;

const MIB: u64 = 1 << 20;
const PREFILL: u8 = 0x5A;

fn wipe(home: &Home, targets: &[&str]) -> Run {
    let mut args = vec!["wipe"];
    args.extend_from_slice(targets);
    args.extend_from_slice(&["--method", "zero", "--yes", "--json"]);
    home.run("ito", args)
}

fn entries(home: &Home, kind: &str) -> Vec<Value> {
    let out = home.run("kato", ["log", "--kind", kind, "--json"]).ok();
    out.json().as_array().unwrap().clone()
}

/// Refused (exit 2) for `reason`, nothing recorded, the ledger intact.
#[track_caller]
fn assert_refused(home: &Home, out: &Run, reason: &str) {
    assert_eq!(out.code, 2, "not refused:\n{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(reason) && out.stderr.contains("none is touched"),
        "{}",
        out.stderr
    );
    assert!(entries(home, "wipe-start").is_empty());
    assert!(entries(home, "wipe").is_empty());
    home.run("kato", ["ledger", "verify"]).ok();
}

/// A file of `size` bytes of `PREFILL` in a folder of its own.
fn image(size: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backing.img");
    std::fs::write(&path, vec![PREFILL; size as usize]).unwrap();
    (dir, path)
}

/// The listing of `dev` by `custody devices --json`.
fn listed(home: &Home, dev: &LoopDevice) -> Value {
    let out = home.run("anyone", ["devices", "--json"]).ok();
    out.json()
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == dev.arg())
        .unwrap_or_else(|| panic!("{} not listed", dev.arg()))
        .clone()
}

#[test]
fn a_loop_sharing_its_backing_file_with_a_mounted_offset_loop_is_refused() {
    if !require_loop(&["mkfs.ext4", "mount"]) {
        return;
    }
    let home = Home::with_people();
    let (_dir, backing) = image(64 * MIB);
    let whole = LoopDevice::attach(backing.clone(), &[], None);
    let offset = LoopDevice::attach(
        backing.clone(),
        &["--offset", &(32 * MIB).to_string()],
        None,
    );
    let mount = MountPoint::ext4(&offset);
    std::fs::write(mount.dir.path().join("members.csv"), b"personal data").unwrap();
    sh("sync", &[]);
    let before = std::fs::read(&backing).unwrap();
    let out = wipe(&home, &[whole.arg()]);
    assert_refused(&home, &out, "is mounted on");
    assert!(out.stderr.contains(offset.arg()), "{}", out.stderr);
    assert_eq!(std::fs::read(&backing).unwrap(), before);
    let device = listed(&home, &whole);
    assert_eq!(device["wipeable"], false, "{device:#}");
    assert!(
        device["refusals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["reason"] == "mounted"),
        "{device:#}"
    );
    drop(mount);
}

#[test]
fn a_loop_backing_a_mounted_stacked_loop_is_refused() {
    if !require_loop(&["mkfs.ext4", "mount"]) {
        return;
    }
    let home = Home::with_people();
    let lower = LoopDevice::new(32 * MIB, PREFILL);
    // A loop device over a loop device: the kernel leaves no holders/ entry for it.
    let upper = LoopDevice::attach(lower.path.clone(), &[], None);
    let mount = MountPoint::ext4(&upper);
    std::fs::write(mount.dir.path().join("members.csv"), b"personal data").unwrap();
    sh("sync", &[]);
    let before = lower.content();
    let out = wipe(&home, &[lower.arg()]);
    assert_refused(&home, &out, "is mounted on");
    assert!(out.stderr.contains(upper.arg()), "{}", out.stderr);
    assert_eq!(lower.content(), before);
    assert_eq!(
        std::fs::read(mount.dir.path().join("members.csv")).unwrap(),
        b"personal data"
    );
    let device = listed(&home, &lower);
    assert_eq!(device["wipeable"], false, "{device:#}");
    drop(mount);
}

#[test]
fn a_file_backing_a_mounted_loop_is_refused() {
    if !require_loop(&["mkfs.ext4", "mount"]) {
        return;
    }
    let home = Home::with_people();
    let (_dir, backing) = image(32 * MIB);
    let dev = LoopDevice::attach(backing.clone(), &[], None);
    let mount = MountPoint::ext4(&dev);
    std::fs::write(mount.dir.path().join("members.csv"), b"personal data").unwrap();
    sh("sync", &[]);
    let before = std::fs::read(&backing).unwrap();
    // Named by the file, and by a hard link to it.
    let link = backing.with_file_name("innocent.img");
    std::fs::hard_link(&backing, &link).unwrap();
    for name in [&backing, &link] {
        let out = wipe(&home, &[name.to_str().unwrap()]);
        assert_refused(&home, &out, "is mounted on");
        assert!(out.stderr.contains(dev.arg()), "{}", out.stderr);
    }
    assert_eq!(std::fs::read(&backing).unwrap(), before);
    drop(mount);
}

#[test]
fn a_hard_link_to_the_ledger_is_refused() {
    if !custody_tests::require_sqlite() {
        return;
    }
    let home = Home::with_people();
    let link = home.path("old-disk.img");
    std::fs::hard_link(home.ledger(), &link).unwrap();
    let before = std::fs::read(home.ledger()).unwrap();
    let out = wipe(&home, &[link.to_str().unwrap()]);
    assert_refused(&home, &out, "data home");
    assert_eq!(std::fs::read(home.ledger()).unwrap(), before);
    // Retaining it, to be shredded later, is refused too.
    let out = home
        .run(
            "suzuki",
            [
                "retain",
                "add",
                link.to_str().unwrap(),
                "--class",
                "system-data",
            ],
        )
        .expect_code(2);
    assert!(out.stderr.contains("data home"), "{}", out.stderr);
}

#[test]
fn a_loop_over_the_ledger_is_refused_and_listed_unwipeable() {
    if !custody_tests::require_sqlite() {
        return;
    }
    if !require_loop(&[]) {
        return;
    }
    let home = Home::with_people();
    let dev = LoopDevice::attach(home.ledger(), &[], None);
    let device = listed(&home, &dev);
    assert_eq!(device["wipeable"], false, "{device:#}");
    assert_eq!(device["refusals"][0]["reason"], "data-home", "{device:#}");
    let out = home.run("anyone", ["devices"]).ok();
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("{} ", dev.arg())))
        .unwrap();
    assert!(
        line.contains("no: ") && line.contains("data home"),
        "{line}"
    );
    let out = wipe(&home, &[dev.arg()]);
    drop(dev);
    assert_refused(&home, &out, "data home");
}

#[test]
fn one_file_named_twice_through_a_hard_link_is_one_target() {
    let home = Home::with_people();
    let image = home.path("disk.img");
    std::fs::write(&image, vec![PREFILL; 100_000]).unwrap();
    let link = home.path("same-disk.img");
    std::fs::hard_link(&image, &link).unwrap();
    let out = wipe(&home, &[image.to_str().unwrap(), link.to_str().unwrap()]);
    assert_refused(&home, &out, "it is the same as");
    assert!(std::fs::read(&image).unwrap().iter().all(|&b| b == PREFILL));
    assert!(
        home.run("kato", ["cert", "list", "--json"]).ok().json()["certificates"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_loop_device_and_its_own_backing_file_are_refused_together() {
    if !require_loop(&[]) {
        return;
    }
    let home = Home::with_people();
    let dev = LoopDevice::new(4 * MIB, PREFILL);
    let out = wipe(&home, &[dev.arg(), dev.backing.to_str().unwrap()]);
    assert_refused(&home, &out, "shares bytes with");
    assert!(dev.content().iter().all(|&b| b == PREFILL));
}

#[test]
fn a_file_open_for_writing_by_another_process_is_refused() {
    let home = Home::with_people();
    let image = home.path("vm-disk.img");
    std::fs::write(&image, vec![PREFILL; 100_000]).unwrap();
    // A process that holds the image open for writing (a running virtual machine).
    let mut holder = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec 3>>'{}'; echo ready; exec sleep 60",
            image.display()
        ))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
        &mut ready,
    )
    .unwrap();
    let out = wipe(&home, &[image.to_str().unwrap()]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_refused(&home, &out, "is open for writing by process");
    assert!(std::fs::read(&image).unwrap().iter().all(|&b| b == PREFILL));
    // Once the other process is gone, the same image is wiped.
    wipe(&home, &[image.to_str().unwrap()]).ok();
    assert!(std::fs::read(&image).unwrap().iter().all(|&b| b == 0));
}

#[test]
fn a_wipe_killed_before_its_result_is_listed_by_the_audit() {
    if !require_loop(&[]) {
        return;
    }
    let home = Home::with_people();
    let dev = LoopDevice::new(64 * MIB, PREFILL);
    let mut child = home
        .cmd("ito")
        .args(["wipe", dev.arg(), "--method", "gutmann", "--yes", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Killed once the wipe-start entry is in the ledger, as a power cut would.
    // A guard against a hung wipe, not a judgement of speed: CI machines are slow.
    let deadline = Instant::now() + Duration::from_secs(600);
    while entries(&home, "wipe-start").is_empty() {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            panic!("the wipe ended ({status}) before it started: {stderr}");
        }
        assert!(Instant::now() < deadline, "the wipe never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    sh("kill", &["-KILL", &child.id().to_string()]);
    let _ = child.wait();
    assert!(entries(&home, "wipe").is_empty());
    let findings = home.run("kato", ["report", "audit", "--json"]).ok().json();
    let finding = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "unfinished-wipe")
        .unwrap_or_else(|| panic!("no unfinished wipe in {findings:#}"));
    let start = &entries(&home, "wipe-start")[0];
    assert_eq!(finding["id"], format!("seq {}", start["seq"]));
    assert!(
        finding["detail"].as_str().unwrap().contains(dev.arg()),
        "{finding}"
    );
}
