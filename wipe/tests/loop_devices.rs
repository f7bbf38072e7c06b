//! The engine against real block devices: loop devices these tests create, on sparse
//! files in temporary directories (stratisd's pattern). Content is checked by reading
//! the backing file, never with the engine's own verification.
//!
//! Needs root and losetup (mkfs.ext4 and mount for some); without them each test
//! prints why and passes, except under `CI=true`, where it fails.

// Skipping prints its reason to stderr on purpose: a silent pass would hide it.
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use custody_wipe::device::Refusal;
use custody_wipe::{
    Error, IoOp, Method, NoReport, Pattern, Plan, Protected, Reporter, Status, VerifyMode,
    VerifyResult, check_all, check_target, run,
};

const MIB: u64 = 1 << 20;
/// Not a multiple of the 4 MiB chunk, but a multiple of 512 as loop devices need.
const ODD_SIZE: u64 = 32 * MIB + 1536;
const PREFILL: u8 = 0x5A;

/// Whether the tests can run here; panics under CI=true when they cannot.
fn can_run(tools: &[&str]) -> bool {
    let mut missing = Vec::new();
    if !nix::unistd::geteuid().is_root() {
        missing.push("root".to_owned());
    }
    for tool in tools {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            missing.push((*tool).to_owned());
        }
    }
    if missing.is_empty() {
        return true;
    }
    let why = format!("loop-device test skipped: needs {}", missing.join(", "));
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{why} (CI=true)"
    );
    eprintln!("{why}");
    false
}

fn sh(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().expect("spawn");
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A loop device over a file in its own temporary directory, detached on drop.
struct LoopDevice {
    path: PathBuf,
    backing: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl LoopDevice {
    /// A loop device of `size` bytes whose every byte is `PREFILL`.
    fn new(size: u64) -> Self {
        Self::with(size, &[], true)
    }

    fn with(size: u64, losetup_args: &[&str], prefill: bool) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let backing = dir.path().join("backing.img");
        Self::attach_file(backing, size, losetup_args, prefill, Some(dir))
    }

    fn attach_file(
        backing: PathBuf,
        size: u64,
        losetup_args: &[&str],
        prefill: bool,
        dir: Option<tempfile::TempDir>,
    ) -> Self {
        if prefill {
            std::fs::write(&backing, vec![PREFILL; size as usize]).expect("prefill");
        } else {
            let file = std::fs::File::create(&backing).expect("create");
            file.set_len(size).expect("sparse file");
        }
        let backing_str = backing.to_str().expect("utf-8 temp path");
        let mut args = vec!["--find", "--show"];
        args.extend_from_slice(losetup_args);
        args.push(backing_str);
        let path = PathBuf::from(sh("losetup", &args));
        assert!(
            path.to_string_lossy().starts_with("/dev/loop"),
            "losetup gave {}",
            path.display()
        );
        Self {
            path,
            backing,
            _dir: dir,
        }
    }

    /// The device's bytes, read from the backing file, not through the engine.
    fn content(&self) -> Vec<u8> {
        std::fs::read(&self.backing).expect("read backing file")
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.path).status();
    }
}

/// A filesystem mounted on a temporary directory, unmounted on drop.
struct MountPoint {
    dir: tempfile::TempDir,
}

impl MountPoint {
    fn new(source: &Path, args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut all: Vec<&str> = args.to_vec();
        all.push(source.to_str().expect("utf-8"));
        all.push(dir.path().to_str().expect("utf-8"));
        sh("mount", &all);
        Self { dir }
    }
}

impl Drop for MountPoint {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Asserts the bytes are what `pattern` leaves: a repeated pattern from offset 0, or
/// for a random pass no 512-byte sector still holding the prefill and a flat histogram.
fn check_content(data: &[u8], pattern: &Pattern) {
    match pattern {
        Pattern::Fixed(bytes) => {
            for (i, b) in data.iter().enumerate() {
                assert_eq!(*b, bytes[i % bytes.len()], "byte {i} of {}", data.len());
            }
        }
        Pattern::Random => {
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
                    count.abs_diff(mean) < mean / 10,
                    "byte 0x{value:02X} occurs {count} times, expected about {mean}"
                );
            }
        }
    }
}

fn check_method(method: Method, blank: bool) {
    if !can_run(&["losetup"]) {
        return;
    }
    let dev = LoopDevice::new(ODD_SIZE);
    let mut plan = Plan::new(method);
    plan.blank = blank;
    let target =
        check_target(&dev.path, &Protected::none()).expect("a fresh loop device is wipeable");
    assert_eq!(target.size, ODD_SIZE);
    let reports = run(vec![target], &plan, &NoReport, &AtomicBool::new(false));
    let report = &reports[0];
    assert_eq!(report.status, Status::Erased, "{report:#?}");
    assert!(report.direct_io);
    assert_eq!(report.verify.result, VerifyResult::Passed);
    let expected = method.passes(blank).expect("passes");
    assert_eq!(report.passes.len(), expected.len());
    for pass in &report.passes {
        assert_eq!(pass.bytes_written, ODD_SIZE);
        assert!(pass.complete);
    }
    let last = &report.passes.last().expect("a pass").pattern;
    let last = if last == "random" {
        Pattern::Random
    } else {
        Pattern::Fixed(
            last.split(' ')
                .map(|b| u8::from_str_radix(&b[2..], 16).expect("hex label"))
                .collect(),
        )
    };
    let data = dev.content();
    assert_eq!(data.len() as u64, ODD_SIZE);
    check_content(&data, &last);
}

#[test]
fn zero_leaves_zeros() {
    check_method(Method::Zero, false);
}

#[test]
fn one_leaves_ones() {
    check_method(Method::One, false);
}

#[test]
fn random_leaves_random_bytes() {
    check_method(Method::Random { passes: 2 }, false);
}

#[test]
fn random_with_blank_leaves_zeros() {
    check_method(Method::Random { passes: 1 }, true);
}

#[test]
fn dod_short_leaves_random_bytes() {
    check_method(Method::DodShort, false);
}

#[test]
fn dod_leaves_random_bytes() {
    check_method(Method::Dod, false);
}

#[test]
fn gutmann_leaves_random_bytes() {
    check_method(Method::Gutmann, false);
}

#[test]
fn schneier_leaves_random_bytes() {
    check_method(Method::Schneier, false);
}

#[test]
fn vsitr_leaves_0xaa() {
    check_method(Method::Vsitr, false);
}

#[test]
fn hmg_is5_leaves_random_bytes() {
    check_method(Method::HmgIs5, false);
}

/// Records which targets started and finished, in order.
#[derive(Default)]
struct Events(Mutex<Vec<(usize, &'static str)>>);

impl Reporter for Events {
    fn pass_started(&self, target: usize, pass: usize, _: usize, _: &str, _: u64) {
        if pass == 0 {
            self.0.lock().expect("lock").push((target, "started"));
        }
    }

    fn finished(&self, target: usize, _: Status) {
        self.0.lock().expect("lock").push((target, "finished"));
    }
}

#[test]
fn three_targets_are_wiped_at_the_same_time() {
    if !can_run(&["losetup"]) {
        return;
    }
    let a = LoopDevice::new(ODD_SIZE);
    let b = LoopDevice::with(32 * MIB + 4096, &["--sector-size", "4096"], true);
    let c = LoopDevice::new(16 * MIB + 512);
    // A by-id style symlink must resolve to the device itself.
    let links = tempfile::tempdir().expect("tempdir");
    let link = links.path().join("usb-Stick_0001");
    std::os::unix::fs::symlink(&c.path, &link).expect("symlink");
    let targets = check_all(&[&a.path, &b.path, &link], &Protected::none()).expect("all wipeable");
    assert_eq!(targets[1].sector, 4096);
    assert_eq!(targets[2].resolved, c.path);
    let events = Events::default();
    let mut plan = Plan::new(Method::HmgIs5);
    plan.blank = true;
    plan.verify = VerifyMode::All;
    let reports = run(targets, &plan, &events, &AtomicBool::new(false));
    for report in &reports {
        assert_eq!(report.status, Status::Erased, "{report:#?}");
        assert!(report.passes.iter().all(|p| p.verified));
    }
    let events = events.0.into_inner().expect("lock");
    let first_finish = events
        .iter()
        .position(|e| e.1 == "finished")
        .expect("finished");
    assert_eq!(
        first_finish, 3,
        "every worker starts before any ends: {events:?}"
    );
    for dev in [&a, &b, &c] {
        assert!(
            dev.content().iter().all(|&x| x == 0),
            "{} not zeroed",
            dev.path.display()
        );
    }
}

fn mounted_ext4(dev: &LoopDevice) -> MountPoint {
    sh("mkfs.ext4", &["-q", dev.path.to_str().expect("utf-8")]);
    MountPoint::new(&dev.path, &[])
}

#[test]
fn a_mounted_loop_device_is_refused_and_untouched() {
    if !can_run(&["losetup", "mkfs.ext4", "mount"]) {
        return;
    }
    let dev = LoopDevice::new(ODD_SIZE);
    let mount = mounted_ext4(&dev);
    std::fs::write(mount.dir.path().join("record.txt"), b"personal data").expect("write");
    sh("sync", &[]);
    let before = dev.content();
    match check_target(&dev.path, &Protected::none()) {
        Err(Error::Refused { reasons, .. }) => assert!(
            reasons
                .iter()
                .any(|r| matches!(r, Refusal::Mounted { mountpoint, .. }
                if Path::new(mountpoint) == mount.dir.path())),
            "{reasons:?}"
        ),
        other => panic!("a mounted device was accepted: {other:?}"),
    }
    let listed = custody_wipe::device::list(&Protected::none()).expect("list");
    let listed = listed.iter().find(|d| d.path == dev.path).expect("listed");
    assert!(!listed.wipeable());
    assert_eq!(dev.content(), before);
    assert_eq!(
        std::fs::read(mount.dir.path().join("record.txt")).expect("read"),
        b"personal data"
    );
}

#[test]
fn a_good_and_a_mounted_device_together_touch_neither() {
    if !can_run(&["losetup", "mkfs.ext4", "mount"]) {
        return;
    }
    let good = LoopDevice::new(ODD_SIZE);
    let bad = LoopDevice::new(ODD_SIZE);
    let _mount = mounted_ext4(&bad);
    sh("sync", &[]);
    let bad_before = bad.content();
    match check_all(&[&good.path, &bad.path], &Protected::none()) {
        Err(Error::TargetsRefused { refused, total }) => {
            assert_eq!(total, 2);
            assert_eq!(refused.len(), 1);
            assert_eq!(refused[0].0, bad.path);
        }
        other => panic!("the list was accepted: {other:?}"),
    }
    assert!(good.content().iter().all(|&b| b == PREFILL));
    assert_eq!(bad.content(), bad_before);
    // The refusal released the good device: it can be claimed exclusively again.
    check_target(&good.path, &Protected::none()).expect("good device released");
}

#[test]
fn a_device_failing_part_way_ends_failed_with_offsets() {
    if !can_run(&["losetup", "mount"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let tmpfs = MountPoint::new(Path::new("tmpfs"), &["-t", "tmpfs", "-o", "size=8M"]);
    let backing = tmpfs.dir.path().join("backing.img");
    let dev = LoopDevice::attach_file(backing, 32 * MIB, &[], false, Some(dir));
    let mut plan = Plan::new(Method::Zero);
    plan.verify = VerifyMode::Off;
    let target = check_target(&dev.path, &Protected::none()).expect("wipeable");
    let reports = run(vec![target], &plan, &NoReport, &AtomicBool::new(false));
    let report = &reports[0];
    assert_eq!(report.status, Status::Failed, "{report:#?}");
    assert!(!report.errors.is_empty());
    let writes: Vec<_> = report
        .errors
        .iter()
        .filter(|e| e.op == IoOp::Write)
        .collect();
    assert!(!writes.is_empty(), "{:?}", report.errors);
    for fault in &writes {
        assert!(fault.errno.is_some());
        assert!(fault.offset + fault.length <= 32 * MIB);
        // tmpfs holds 8 MiB, less its own overhead: the first failure is past 4 MiB.
        assert!(fault.offset >= 4 * MIB, "{fault:?}");
    }
    assert!(report.passes[0].bytes_written < 32 * MIB);
    drop(dev);
    drop(tmpfs);
}

/// Sets the stop flag at the first chunk written, as a SIGINT handler would.
struct StopAtFirstChunk<'a>(&'a AtomicBool);

impl Reporter for StopAtFirstChunk<'_> {
    fn advanced(&self, _: usize, _: u64) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn the_stop_flag_interrupts_mid_pass() {
    if !can_run(&["losetup"]) {
        return;
    }
    let dev = LoopDevice::new(ODD_SIZE);
    let stop = AtomicBool::new(false);
    let plan = Plan::new(Method::Dod);
    let target = check_target(&dev.path, &Protected::none()).expect("wipeable");
    let reports = run(vec![target], &plan, &StopAtFirstChunk(&stop), &stop);
    let report = &reports[0];
    assert_eq!(report.status, Status::Interrupted, "{report:#?}");
    assert_eq!(report.passes.len(), 1);
    assert!(!report.passes[0].complete);
    assert_eq!(report.passes[0].bytes_written, 4 * MIB);
    assert_eq!(report.verify.result, VerifyResult::Skipped);
    let data = dev.content();
    let first = u8::from_str_radix(&report.passes[0].pattern[2..], 16).expect("hex");
    assert!(data[..4 * MIB as usize].iter().all(|&b| b == first));
    assert!(data[4 * MIB as usize..].iter().all(|&b| b == PREFILL));
}

#[test]
fn an_image_file_of_odd_size_is_wiped_to_the_last_byte() {
    // No loop device needed: any user may wipe an image file they own.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("disk.img");
    let size = 5 * MIB as usize + 777;
    std::fs::write(&path, vec![PREFILL; size]).expect("write");
    let mut plan = Plan::new(Method::Schneier);
    plan.verify = VerifyMode::All;
    plan.blank = true;
    let reports = run(
        vec![check_target(&path, &Protected::none()).expect("wipeable")],
        &plan,
        &NoReport,
        &AtomicBool::new(false),
    );
    assert_eq!(reports[0].status, Status::Erased, "{:#?}", reports[0]);
    assert_eq!(reports[0].passes.len(), 8);
    let data = std::fs::read(&path).expect("read");
    assert_eq!(data.len(), size);
    assert!(data.iter().all(|&b| b == 0));
}

#[test]
fn shred_file_removes_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("名簿.csv");
    std::fs::write(&path, "山田,090-0000-0000\n".repeat(10_000)).expect("write");
    let report = custody_wipe::shred_file(&path, &Method::DodShort, true).expect("shred");
    assert_eq!(report.passes.len(), 3);
    assert!(report.verified);
    assert!(std::fs::symlink_metadata(&path).is_err());
    assert!(std::fs::symlink_metadata(&report.unlinked_as).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

#[test]
fn list_shows_a_loop_device_with_its_backing_file() {
    if !can_run(&["losetup"]) {
        return;
    }
    let dev = LoopDevice::new(ODD_SIZE);
    let devices = custody_wipe::device::list(&Protected::none()).expect("list");
    let found = devices.iter().find(|d| d.path == dev.path).expect("listed");
    assert_eq!(found.transport.as_str(), "loop");
    assert_eq!(found.size, ODD_SIZE);
    assert_eq!(found.source.as_deref(), Some(dev.backing.as_path()));
    assert!(found.wipeable(), "{:?}", found.refusals);
    // And the system disk is never offered.
    for d in &devices {
        if d.refusals
            .iter()
            .any(|r| matches!(r, Refusal::HoldsRunningSystem { .. }))
        {
            assert!(!d.wipeable());
        }
    }
}
