//! The engine against real block devices: loop devices these tests create, on sparse
//! files in temporary directories (stratisd's pattern). Content is checked by reading
//! the backing file, never with the engine's own verification.
//!
//! Needs root and losetup (mkfs.ext4 and mount for some); without them each test
//! prints why and passes, except under `CI=true`, where it fails (the rule of
//! `custody_tests`, shared by every test of the workspace).

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use custody_tests::{LoopDevice, MountPoint, require_loop, sh};
use custody_wipe::device::Refusal;
use custody_wipe::{
    Error, IoOp, Method, NoReport, Pattern, Plan, Protected, Reporter, Status, VerifyMode,
    VerifyResult, check_all, check_target, run,
};

const MIB: u64 = 1 << 20;
/// Not a multiple of the 4 MiB chunk, but a multiple of 512 as loop devices need.
const ODD_SIZE: u64 = 32 * MIB + 1536;
const PREFILL: u8 = 0x5A;

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
    if !require_loop(&[]) {
        return;
    }
    let dev = LoopDevice::new(ODD_SIZE, PREFILL);
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
    if !require_loop(&[]) {
        return;
    }
    let a = LoopDevice::new(ODD_SIZE, PREFILL);
    let b = LoopDevice::with(32 * MIB + 4096, &["--sector-size", "4096"], Some(PREFILL));
    let c = LoopDevice::new(16 * MIB + 512, PREFILL);
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
    MountPoint::ext4(dev)
}

#[test]
fn a_mounted_loop_device_is_refused_and_untouched() {
    if !require_loop(&["mkfs.ext4", "mount"]) {
        return;
    }
    let dev = LoopDevice::new(ODD_SIZE, PREFILL);
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
    if !require_loop(&["mkfs.ext4", "mount"]) {
        return;
    }
    let good = LoopDevice::new(ODD_SIZE, PREFILL);
    let bad = LoopDevice::new(ODD_SIZE, PREFILL);
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
    if !require_loop(&["mount"]) {
        return;
    }
    let tmpfs = MountPoint::tmpfs("8M");
    let backing = tmpfs.dir.path().join("backing.img");
    LoopDevice::create(backing.clone(), 32 * MIB, None);
    let dev = LoopDevice::attach(backing, &[], None);
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
    if !require_loop(&[]) {
        return;
    }
    let dev = LoopDevice::new(ODD_SIZE, PREFILL);
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
    if !require_loop(&[]) {
        return;
    }
    let dev = LoopDevice::new(ODD_SIZE, PREFILL);
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
