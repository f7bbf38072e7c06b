//! Who uses a block device: mounts, swap, the running system, stacked devices.
//!
//! Read from /proc/self/mountinfo, /proc/swaps and /sys. Mounts in other mount
//! namespaces are not visible here; the exclusive open in
//! [`check_target`](crate::check_target) is the second line of defence against those.

use std::collections::BTreeSet;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A major:minor device number.
pub(crate) type DevNum = (u32, u32);

/// One line of /proc/self/mountinfo, reduced to what the checks need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    pub(crate) dev: DevNum,
    pub(crate) mountpoint: String,
    pub(crate) source: String,
}

/// A snapshot of the system's use of block devices.
#[derive(Debug, Default)]
pub(crate) struct Usage {
    /// Every mount, with the names of the block devices beneath it.
    pub(crate) mounts: Vec<(Mount, BTreeSet<String>)>,
    /// Each active swap area, with the names of the block devices beneath it.
    pub(crate) swaps: Vec<(String, BTreeSet<String>)>,
    /// The mountpoints of the running system (/, /boot, /usr, …) with their devices.
    pub(crate) system: Vec<(String, BTreeSet<String>)>,
}

/// Mountpoints whose devices hold the running system.
const SYSTEM_MOUNTS: &[&str] = &["/", "/boot", "/boot/efi", "/usr", "/var"];

impl Usage {
    /// Reads mounts and swaps now.
    pub(crate) fn gather() -> Result<Usage> {
        let mountinfo =
            fs_err::read_to_string("/proc/self/mountinfo").map_err(|source| Error::System {
                what: "mount table",
                source,
            })?;
        let mut usage = Usage::default();
        for mount in parse_mountinfo(&mountinfo) {
            let beneath = beneath_mount(&mount);
            if SYSTEM_MOUNTS.contains(&mount.mountpoint.as_str()) && !beneath.is_empty() {
                usage
                    .system
                    .push((mount.mountpoint.clone(), beneath.clone()));
            }
            usage.mounts.push((mount, beneath));
        }
        // /proc/swaps is absent without swap support; that means no swap.
        if let Ok(swaps) = fs_err::read_to_string("/proc/swaps") {
            for path in parse_swaps(&swaps) {
                let beneath = match std::fs::metadata(&path) {
                    Ok(meta) if meta.file_type().is_block_device() => beneath(dev_of(meta.rdev())),
                    // A swap file sits on a mounted filesystem, caught as mounted.
                    _ => BTreeSet::new(),
                };
                usage.swaps.push((path, beneath));
            }
        }
        Ok(usage)
    }
}

fn beneath_mount(mount: &Mount) -> BTreeSet<String> {
    if mount.dev.0 != 0 {
        return beneath(mount.dev);
    }
    // btrfs and some others report an anonymous device number; the source names the
    // real device.
    match std::fs::metadata(&mount.source) {
        Ok(meta) if mount.source.starts_with('/') && meta.file_type().is_block_device() => {
            beneath(dev_of(meta.rdev()))
        }
        _ => BTreeSet::new(),
    }
}

/// Splits a `dev_t` into major and minor.
pub(crate) fn dev_of(rdev: u64) -> DevNum {
    (libc::major(rdev), libc::minor(rdev))
}

/// Parses /proc/self/mountinfo (proc(5)): field 3 is major:minor, field 5 the
/// mountpoint, and after the " - " separator come the type and the source.
pub(crate) fn parse_mountinfo(text: &str) -> Vec<Mount> {
    let mut mounts = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let fields: Vec<&str> = left.split(' ').collect();
        let right: Vec<&str> = right.split(' ').collect();
        let (Some(dev), Some(mountpoint), Some(source)) =
            (fields.get(2), fields.get(4), right.get(1))
        else {
            continue;
        };
        let Some(dev) = parse_devnum(dev) else {
            continue;
        };
        mounts.push(Mount {
            dev,
            mountpoint: unescape(mountpoint),
            source: unescape(source),
        });
    }
    mounts
}

/// Parses /proc/swaps: a header line, then the path first on each line.
pub(crate) fn parse_swaps(text: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .map(unescape)
        .collect()
}

/// Parses "8:0".
pub(crate) fn parse_devnum(text: &str) -> Option<DevNum> {
    let (major, minor) = text.trim().split_once(':')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Undoes the octal escapes (`\040` for a space) of /proc mount files.
fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let digits = &bytes[i + 1..i + 4];
            if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                let value = digits
                    .iter()
                    .fold(0_u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                if let Ok(value) = u8::try_from(value) {
                    out.push(value);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The sysfs directory of a block device number, e.g. /sys/dev/block/8:1.
fn sys_dev(dev: DevNum) -> PathBuf {
    PathBuf::from(format!("/sys/dev/block/{}:{}", dev.0, dev.1))
}

/// The kernel name (sda, sda1, dm-0) of a device number, if it exists.
pub(crate) fn name_of(dev: DevNum) -> Option<String> {
    let real = std::fs::canonicalize(sys_dev(dev)).ok()?;
    Some(real.file_name()?.to_string_lossy().into_owned())
}

/// The names of a device and everything beneath it: the slaves of dm, md and LVM
/// devices, recursively, and the disk of each partition.
pub(crate) fn beneath(dev: DevNum) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    if let Some(name) = name_of(dev) {
        collect_beneath(&name, &mut names, 0);
    }
    names
}

fn collect_beneath(name: &str, names: &mut BTreeSet<String>, depth: usize) {
    // Device stacks are shallow; the bound only guards against a malformed sysfs.
    if depth > 16 || !names.insert(name.to_owned()) {
        return;
    }
    let dir = Path::new("/sys/class/block").join(name);
    if let Some(disk) = disk_of_partition(name) {
        collect_beneath(&disk, names, depth + 1);
    }
    for slave in list_dir(&dir.join("slaves")) {
        collect_beneath(&slave, names, depth + 1);
    }
}

/// The device number of a kernel name (sda, loop3), from /sys/class/block/NAME/dev.
pub(crate) fn dev_of_name(name: &str) -> Option<DevNum> {
    let text =
        std::fs::read_to_string(Path::new("/sys/class/block").join(name).join("dev")).ok()?;
    parse_devnum(&text)
}

/// For a partition name (sda1, nvme0n1p2), the name of its disk.
pub(crate) fn disk_of_partition(name: &str) -> Option<String> {
    let dir = Path::new("/sys/class/block").join(name);
    if !dir.join("partition").exists() {
        return None;
    }
    let real = std::fs::canonicalize(&dir).ok()?;
    Some(real.parent()?.file_name()?.to_string_lossy().into_owned())
}

/// The entry names of a directory, sorted; empty when it does not exist.
pub(crate) fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_lines_give_device_mountpoint_and_source() {
        let text = "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n\
                    90 27 7:3 / /mnt/usb\\040stick rw - vfat /dev/loop3 rw\n\
                    91 27 0:55 / /data rw - btrfs /dev/sdb2 rw\n\
                    garbage line\n";
        let mounts = parse_mountinfo(text);
        assert_eq!(mounts.len(), 3);
        assert_eq!(mounts[0].dev, (254, 0));
        assert_eq!(mounts[1].mountpoint, "/mnt/usb stick");
        assert_eq!(mounts[1].source, "/dev/loop3");
        assert_eq!(mounts[2].dev, (0, 55));
    }

    #[test]
    fn swaps_skip_the_header() {
        let text = "Filename\tType\tSize\tUsed\tPriority\n/dev/sda2  partition 100 0 -2\n";
        assert_eq!(parse_swaps(text), ["/dev/sda2"]);
        assert!(parse_swaps("Filename Type Size Used Priority\n").is_empty());
    }

    #[test]
    fn running_system_is_found_beneath_root() {
        let usage = Usage::gather().unwrap();
        // On a machine whose root is on a block device, that device is recorded; in a
        // container with an overlay root there is none, and nothing is claimed.
        let root_on_block = usage
            .mounts
            .iter()
            .any(|(m, b)| m.mountpoint == "/" && !b.is_empty());
        assert_eq!(root_on_block, usage.system.iter().any(|(m, _)| m == "/"));
    }
}
