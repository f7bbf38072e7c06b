//! Block devices as the kernel describes them, and the checks before a wipe.
//!
//! [`list`] reads /sys/class/block; [`check_target`] and [`check_all`] turn user-named
//! paths into [`Target`]s, refusing anything mounted, holding the running system, used
//! as swap, held by a stacked device (LVM, md, dm), read-only, open for writing by
//! another process, protected (custody's data home), or that the kernel will not open
//! exclusively — the target itself or anything a wipe of it would reach
//! ([`crate::reach`]). Targets are identified by device and inode number: two names
//! for one target are one target, and targets that share bytes are refused together.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::reach::{Identity, Protected, Topology};
use crate::usage::{self, DevNum, dev_of, list_dir};

const SYS_BLOCK: &str = "/sys/class/block";

/// How a block device is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// USB mass storage: sticks, card readers, external disks.
    Usb,
    /// NVMe.
    Nvme,
    /// SATA or PATA through libata.
    Sata,
    /// SCSI or SAS (also USB-attached disks behind some bridges appear here).
    Scsi,
    /// A virtio disk of a virtual machine.
    Virtio,
    /// SD or eMMC.
    Mmc,
    /// A loop device over a file.
    Loop,
    /// A device-mapper device (LVM, dm-crypt, multipath).
    DeviceMapper,
    /// A Linux software RAID (md) device.
    Md,
    /// A compressed RAM disk.
    Zram,
    /// Anything else.
    Unknown,
}

impl Transport {
    /// The lower-case name shown to users and written to JSON, e.g. `"usb"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Transport::Usb => "usb",
            Transport::Nvme => "nvme",
            Transport::Sata => "sata",
            Transport::Scsi => "scsi",
            Transport::Virtio => "virtio",
            Transport::Mmc => "mmc",
            Transport::Loop => "loop",
            Transport::DeviceMapper => "dm",
            Transport::Md => "md",
            Transport::Zram => "zram",
            Transport::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reason a target may not be wiped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The device, or one of its partitions or a device stacked on it, is mounted.
    Mounted {
        /// The mounted device, e.g. /dev/sdb1.
        what: String,
        /// Where it is mounted.
        mountpoint: String,
    },
    /// The device holds a filesystem of the running system (/, /boot, /usr, /var).
    HoldsRunningSystem {
        /// The system mountpoint beneath which this device lies.
        mountpoint: String,
    },
    /// The device, or something on it, is active swap.
    Swap {
        /// The swap area as /proc/swaps names it.
        what: String,
    },
    /// Other block devices are built on it (LVM, md, dm-crypt).
    HeldBy {
        /// Their kernel names, e.g. dm-0, md127.
        holders: Vec<String>,
    },
    /// The kernel reports the device read-only.
    ReadOnly,
    /// The kernel refused an exclusive open: something else has claimed the device.
    Busy,
    /// The path could not be opened for writing.
    CannotOpen {
        /// The operating system's error number.
        errno: i32,
    },
    /// The path is neither a block device nor a regular file.
    NotBlockDevice {
        /// What it is instead, e.g. "directory".
        kind: &'static str,
    },
    /// The block device has no entry in /sys (not a device this crate understands).
    Unknown,
    /// The target has no bytes (an empty file, a drive without a medium).
    Empty,
    /// The same device or file was named twice (by another name, a hard link, a
    /// symbolic link).
    Duplicate {
        /// The earlier name of it.
        of: PathBuf,
    },
    /// Another named target shares bytes with this one (a loop device and its
    /// backing file, a disk and its partition, stacked loop devices).
    Overlaps {
        /// The other target, as named.
        of: PathBuf,
    },
    /// It is, or reaches, a file of custody's data home (the ledger, the keys).
    DataHome {
        /// What was reached, and through what.
        what: String,
        /// The data home's file.
        file: PathBuf,
    },
    /// It, or something it reaches, is open for writing by another process.
    OpenForWriting {
        /// What was reached, and through what.
        what: String,
        /// The process.
        pid: u32,
        /// Its command name.
        command: String,
    },
    /// The path named something else when it was opened than when it was checked.
    Changed,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Mounted { what, mountpoint } => write!(f, "{what} is mounted on {mountpoint}"),
            Refusal::HoldsRunningSystem { mountpoint } => {
                write!(f, "it holds the running system ({mountpoint})")
            }
            Refusal::Swap { what } => write!(f, "{what} is in use as swap"),
            Refusal::HeldBy { holders } => write!(f, "in use by {}", holders.join(", ")),
            Refusal::ReadOnly => f.write_str("it is read-only"),
            Refusal::Busy => f.write_str("the kernel refuses an exclusive open (in use)"),
            Refusal::CannotOpen { errno } => write!(
                f,
                "cannot open it for writing: {}",
                io::Error::from_raw_os_error(*errno)
            ),
            Refusal::NotBlockDevice { kind } => {
                write!(f, "it is a {kind}, not a block device or an image file")
            }
            Refusal::Unknown => f.write_str("the kernel does not describe it in /sys"),
            Refusal::Empty => f.write_str("it has no bytes"),
            Refusal::Duplicate { of } => write!(f, "it is the same as {}", of.display()),
            Refusal::Overlaps { of } => {
                write!(f, "it shares bytes with {}, also named", of.display())
            }
            Refusal::DataHome { what, file } => write!(
                f,
                "{what} is custody's data home ({}); the ledger and keys are never wiped",
                file.display()
            ),
            Refusal::OpenForWriting { what, pid, command } => {
                write!(f, "{what} is open for writing by process {pid} ({command})")
            }
            Refusal::Changed => {
                f.write_str("it changed between the check and the open; check again")
            }
        }
    }
}

/// A partition of a [`Device`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Kernel name, e.g. sda1.
    pub name: String,
    /// Device node, e.g. /dev/sda1.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
}

/// A block device as /sys describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Kernel name, e.g. sda, nvme0n1, loop3.
    pub name: String,
    /// Device node, e.g. /dev/sda.
    pub path: PathBuf,
    /// Major and minor number.
    pub dev: (u32, u32),
    /// Size in bytes.
    pub size: u64,
    /// Logical sector size in bytes: the unit of addressing and of direct I/O.
    pub logical_sector: u32,
    /// Physical sector size in bytes.
    pub physical_sector: u32,
    /// Model, as the device reports it.
    pub model: Option<String>,
    /// Vendor, as the device reports it.
    pub vendor: Option<String>,
    /// Serial number (device/serial, else device/wwid).
    pub serial: Option<String>,
    /// For a loop device, its backing file.
    pub source: Option<PathBuf>,
    /// How it is attached.
    pub transport: Transport,
    /// Whether it reports spinning media.
    pub rotational: bool,
    /// Whether the kernel marks it removable.
    pub removable: bool,
    /// Whether the kernel marks it read-only.
    pub read_only: bool,
    /// Its partitions.
    pub partitions: Vec<Partition>,
    /// Why it may not be wiped; empty when it may.
    pub refusals: Vec<Refusal>,
}

impl Device {
    /// Whether nothing stands in the way of wiping it (the exclusive open comes later).
    pub fn wipeable(&self) -> bool {
        self.refusals.is_empty()
    }

    /// Whether it is flash, where an overwrite is NIST SP 800-88 Clear, never Purge:
    /// non-rotational, NVMe, or a removable USB device (sticks often claim to rotate).
    pub fn is_flash(&self) -> bool {
        !self.rotational
            || self.transport == Transport::Nvme
            || (self.transport == Transport::Usb && self.removable)
    }
}

/// Lists whole disks and attached loop devices, each with its partitions and refusals;
/// `protected` names files (custody's data home) that no wipe may reach.
pub fn list(protected: &Protected) -> Result<Vec<Device>> {
    let topology = Topology::gather(protected)?;
    let entries = fs_err::read_dir(SYS_BLOCK).map_err(|source| Error::System {
        what: "block devices",
        source,
    })?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut devices = Vec::new();
    for name in names {
        let dir = Path::new(SYS_BLOCK).join(&name);
        if dir.join("partition").exists() || name.starts_with("ram") {
            continue;
        }
        if name.starts_with("loop") && !dir.join("loop/backing_file").exists() {
            continue; // an unattached loop device
        }
        if let Some(device) = describe(&name, &topology) {
            devices.push(device);
        }
    }
    Ok(devices)
}

/// Describes one block device (a disk or a partition) by kernel name.
fn describe(name: &str, topology: &Topology) -> Option<Device> {
    let dir = Path::new(SYS_BLOCK).join(name);
    let dev = usage::parse_devnum(&attr(&dir, "dev")?)?;
    // A partition shares its disk's queue and identity.
    let disk = usage::disk_of_partition(name);
    let disk_dir = disk
        .as_ref()
        .map_or_else(|| dir.clone(), |d| Path::new(SYS_BLOCK).join(d));
    let partitions: Vec<Partition> = if disk.is_some() {
        Vec::new()
    } else {
        list_dir(&dir)
            .into_iter()
            .filter(|p| dir.join(p).join("partition").exists())
            .map(|p| Partition {
                size: number(&dir.join(&p), "size").unwrap_or(0) * 512,
                path: PathBuf::from("/dev").join(&p),
                name: p,
            })
            .collect()
    };
    let transport = transport(disk.as_deref().unwrap_or(name), &disk_dir);
    let read_only = number(&dir, "ro") == Some(1);
    let mut members = vec![name.to_owned()];
    members.extend(partitions.iter().map(|p| p.name.clone()));
    let mut refusals = topology.refusals(Identity::Block(dev.0, dev.1), &format!("/dev/{name}"));
    refusals.extend(held_or_read_only(&members, read_only));
    // A partition of the disk that holds the running system is refused too: wiping
    // an unmounted partition there (an EFI or recovery partition, a spare root) can
    // still leave the machine unbootable, and it is never what a retired-media wipe
    // means.
    if let Some(disk) = &disk {
        let mut siblings = vec![disk.clone()];
        siblings.extend(
            list_dir(&disk_dir)
                .into_iter()
                .filter(|p| disk_dir.join(p).join("partition").exists()),
        );
        for (mountpoint, beneath) in &topology.usage.system {
            let on_disk = siblings.iter().any(|m| beneath.contains(m));
            let already = refusals
                .iter()
                .any(|r| matches!(r, Refusal::HoldsRunningSystem { .. }));
            if on_disk && !already {
                refusals.push(Refusal::HoldsRunningSystem {
                    mountpoint: mountpoint.clone(),
                });
            }
        }
    }
    let serial = attr(&disk_dir, "device/serial")
        .or_else(|| attr(&disk_dir, "device/wwid"))
        .or_else(|| attr(&disk_dir, "serial"));
    Some(Device {
        name: name.to_owned(),
        path: PathBuf::from("/dev").join(name),
        dev,
        size: number(&dir, "size").unwrap_or(0) * 512,
        logical_sector: sector(&disk_dir, "queue/logical_block_size"),
        physical_sector: sector(&disk_dir, "queue/physical_block_size"),
        model: attr(&disk_dir, "device/model"),
        vendor: attr(&disk_dir, "device/vendor"),
        serial,
        source: attr(&disk_dir, "loop/backing_file").map(PathBuf::from),
        transport,
        rotational: number(&disk_dir, "queue/rotational") == Some(1),
        removable: number(&disk_dir, "removable") == Some(1),
        read_only,
        partitions,
        refusals,
    })
}

/// Stacked devices claiming the device or its partitions (`members`), and the
/// read-only flag: the reasons not found by walking what a wipe reaches.
fn held_or_read_only(members: &[String], read_only: bool) -> Vec<Refusal> {
    let mut out = Vec::new();
    let holders: Vec<String> = members
        .iter()
        .flat_map(|m| list_dir(&Path::new(SYS_BLOCK).join(m).join("holders")))
        .collect();
    if !holders.is_empty() {
        out.push(Refusal::HeldBy { holders });
    }
    if read_only {
        out.push(Refusal::ReadOnly);
    }
    out
}

fn transport(disk: &str, disk_dir: &Path) -> Transport {
    let by_name = [
        ("loop", Transport::Loop),
        ("nvme", Transport::Nvme),
        ("dm-", Transport::DeviceMapper),
        ("md", Transport::Md),
        ("zram", Transport::Zram),
        ("mmcblk", Transport::Mmc),
    ];
    if let Some((_, t)) = by_name.iter().find(|(prefix, _)| disk.starts_with(prefix)) {
        return *t;
    }
    let real = std::fs::canonicalize(disk_dir)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Order matters: a USB disk's path also passes through a SCSI host.
    if real.contains("/usb") {
        Transport::Usb
    } else if real.contains("/virtio") {
        Transport::Virtio
    } else if real.contains("/ata") {
        Transport::Sata
    } else if real.contains("/host") {
        Transport::Scsi
    } else {
        Transport::Unknown
    }
}

fn attr(dir: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(name)).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn number(dir: &Path, name: &str) -> Option<u64> {
    attr(dir, name)?.parse().ok()
}

fn sector(dir: &Path, name: &str) -> u32 {
    number(dir, name)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| n.is_power_of_two())
        .unwrap_or(512)
}

/// What a [`Target`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// A block device (a disk, a partition, a loop device).
    BlockDevice,
    /// A regular file holding a disk image.
    ImageFile,
}

/// A checked target, held open (exclusively for a block device) until it is wiped.
#[derive(Debug)]
pub struct Target {
    /// The path as the caller named it.
    pub path: PathBuf,
    /// The path with symbolic links resolved, e.g. /dev/sdb for /dev/disk/by-id/….
    pub resolved: PathBuf,
    /// A block device or an image file.
    pub kind: TargetKind,
    /// Size in bytes, from the kernel.
    pub size: u64,
    /// The unit of direct I/O: the logical sector of a block device, 4096 for a file.
    pub sector: u32,
    /// The device's description, for a block device.
    pub device: Option<Device>,
    /// Whether the target is flash (or, for an image file, lies on flash): an overwrite
    /// is then NIST SP 800-88 Clear, not Purge.
    pub flash: bool,
    /// What the target is, by number: the device's major:minor, or the file's device
    /// and inode, taken from the open handle.
    pub identity: Identity,
    /// The open handle whose exclusive claim keeps others off the device.
    pub(crate) file: File,
}

/// Checks one path and opens it for wiping, or refuses it with every reason found;
/// nothing a wipe of it would reach may be mounted, in use or `protected`.
pub fn check_target(path: impl AsRef<Path>, protected: &Protected) -> Result<Target> {
    let topology = Topology::gather(protected)?;
    let path = path.as_ref();
    check_with(path, &topology)?.map_err(|reasons| Error::Refused {
        path: path.to_owned(),
        reasons,
    })
}

/// Checks every path; if any is refused, returns every refusal and keeps none open,
/// so that nothing is touched. Two names for one target (a hard link, a symbolic
/// link, `/dev/disk/by-id/…`) are refused as a duplicate, and targets that share
/// bytes (a loop device and its backing file, a disk and its partition) as overlaps.
pub fn check_all<P: AsRef<Path>>(paths: &[P], protected: &Protected) -> Result<Vec<Target>> {
    let topology = Topology::gather(protected)?;
    let mut targets: Vec<(Target, std::collections::BTreeSet<Identity>)> = Vec::new();
    let mut refused = Vec::new();
    for path in paths {
        let path = path.as_ref();
        match check_with(path, &topology)? {
            Ok(target) => {
                let reached = topology.reached_ids(target.identity, &path.display().to_string());
                let same = targets.iter().find(|(t, _)| t.identity == target.identity);
                let shared = targets.iter().find(|(t, earlier)| {
                    earlier.contains(&target.identity) || reached.contains(&t.identity)
                });
                match (same, shared) {
                    (Some((earlier, _)), _) => refused.push((
                        path.to_owned(),
                        vec![Refusal::Duplicate {
                            of: earlier.path.clone(),
                        }],
                    )),
                    (None, Some((earlier, _))) => refused.push((
                        path.to_owned(),
                        vec![Refusal::Overlaps {
                            of: earlier.path.clone(),
                        }],
                    )),
                    (None, None) => targets.push((target, reached)),
                }
            }
            Err(reasons) => refused.push((path.to_owned(), reasons)),
        }
    }
    if refused.is_empty() {
        Ok(targets.into_iter().map(|(t, _)| t).collect())
    } else {
        Err(Error::TargetsRefused {
            refused,
            total: paths.len(),
        })
    }
}

fn check_with(path: &Path, topology: &Topology) -> Result<Result<Target, Vec<Refusal>>> {
    let io_err = |action, source| Error::Io {
        action,
        path: path.to_owned(),
        source,
    };
    let resolved = std::fs::canonicalize(path).map_err(|e| io_err("resolve", e))?;
    let meta = std::fs::metadata(&resolved).map_err(|e| io_err("examine", e))?;
    let kind = meta.file_type();
    let label = path.display().to_string();
    if kind.is_block_device() {
        let Some(name) = usage::name_of(dev_of(meta.rdev())) else {
            return Ok(Err(vec![Refusal::Unknown]));
        };
        let Some(device) = describe(&name, topology) else {
            return Ok(Err(vec![Refusal::Unknown]));
        };
        if !device.refusals.is_empty() {
            return Ok(Err(device.refusals));
        }
        // O_EXCL on a block device asks the kernel for an exclusive claim, which it
        // refuses while the device is mounted (in any namespace) or claimed by md, dm
        // or another wiper: the second line of defence after the checks above.
        let file = match open(&resolved, libc::O_EXCL) {
            Ok(file) => file,
            Err(reason) => return Ok(Err(vec![reason])),
        };
        // What was opened must be what was checked: the same device number.
        let identity = Identity::of(&file.metadata().map_err(|e| io_err("examine", e))?);
        if identity != Identity::Block(device.dev.0, device.dev.1) {
            return Ok(Err(vec![Refusal::Changed]));
        }
        let size = size_of(&file).map_err(|e| io_err("measure", e))?;
        if size == 0 {
            return Ok(Err(vec![Refusal::Empty]));
        }
        Ok(Ok(Target {
            path: path.to_owned(),
            resolved,
            kind: TargetKind::BlockDevice,
            size,
            sector: device.logical_sector,
            flash: device.is_flash(),
            device: Some(device),
            identity,
            file,
        }))
    } else if kind.is_file() {
        if meta.len() == 0 {
            return Ok(Err(vec![Refusal::Empty]));
        }
        let file = match open(&resolved, libc::O_NOFOLLOW) {
            Ok(file) => file,
            Err(reason) => return Ok(Err(vec![reason])),
        };
        // Checked by what was opened (device and inode), not by the name: a hard link
        // to the ledger, or a file backing a mounted loop device, is refused however
        // it is called.
        let opened = file.metadata().map_err(|e| io_err("examine", e))?;
        let identity = Identity::of(&opened);
        if !opened.is_file() || identity != Identity::of(&meta) {
            return Ok(Err(vec![Refusal::Changed]));
        }
        let refusals = topology.refusals(identity, &label);
        if !refusals.is_empty() {
            return Ok(Err(refusals));
        }
        let size = size_of(&file).map_err(|e| io_err("measure", e))?;
        Ok(Ok(Target {
            path: path.to_owned(),
            resolved,
            kind: TargetKind::ImageFile,
            size,
            sector: 4096,
            device: None,
            flash: lies_on_flash(dev_of(meta.dev())),
            identity,
            file,
        }))
    } else {
        let what = if kind.is_dir() {
            "directory"
        } else if kind.is_char_device() {
            "character device"
        } else if kind.is_fifo() {
            "fifo"
        } else if kind.is_socket() {
            "socket"
        } else {
            "special file"
        };
        Ok(Err(vec![Refusal::NotBlockDevice { kind: what }]))
    }
}

fn open(path: &Path, flags: i32) -> Result<File, Refusal> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(flags | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::EBUSY) => Refusal::Busy,
            Some(libc::EROFS) => Refusal::ReadOnly,
            Some(errno) => Refusal::CannotOpen { errno },
            None => Refusal::CannotOpen { errno: libc::EIO },
        })
}

/// The size of an open file or block device; for a block device, seeking to the end
/// is how the kernel reports its size without an ioctl.
pub(crate) fn size_of(file: &File) -> io::Result<u64> {
    let mut file = file;
    let size = file.seek(SeekFrom::End(0))?;
    file.seek(SeekFrom::Start(0))?;
    Ok(size)
}

/// Whether the filesystem holding a file lies on a non-rotational disk.
fn lies_on_flash(dev: DevNum) -> bool {
    let Some(name) = usage::name_of(dev) else {
        return false;
    };
    let disk = usage::disk_of_partition(&name).unwrap_or(name);
    number(&Path::new(SYS_BLOCK).join(disk), "queue/rotational") == Some(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_describes_devices_with_sane_sectors() {
        let devices = list(&Protected::none()).unwrap();
        for d in &devices {
            assert!(d.logical_sector.is_power_of_two() && d.logical_sector >= 512);
            assert!(d.physical_sector >= d.logical_sector || d.physical_sector == 512);
            assert!(d.path.starts_with("/dev"));
            assert_eq!(d.wipeable(), d.refusals.is_empty());
        }
    }

    #[test]
    fn the_root_filesystem_device_is_refused() {
        let topology = Topology::gather(&Protected::none()).unwrap();
        for (mountpoint, beneath) in &topology.usage.system {
            for name in beneath {
                let device = describe(name, &topology).unwrap();
                assert!(
                    device.refusals.iter().any(|r| matches!(
                        r,
                        Refusal::HoldsRunningSystem { mountpoint: m } if m == mountpoint
                    )),
                    "{name} holds {mountpoint} but is not refused: {:?}",
                    device.refusals
                );
            }
        }
    }

    #[test]
    fn every_partition_of_the_system_disk_is_refused() {
        let topology = Topology::gather(&Protected::none()).unwrap();
        for (_, beneath) in &topology.usage.system {
            for name in beneath {
                let disk = usage::disk_of_partition(name).unwrap_or_else(|| name.clone());
                let dir = Path::new(SYS_BLOCK).join(&disk);
                for part in list_dir(&dir)
                    .into_iter()
                    .filter(|p| dir.join(p).join("partition").exists())
                {
                    let device = describe(&part, &topology).unwrap();
                    assert!(
                        device
                            .refusals
                            .iter()
                            .any(|r| matches!(r, Refusal::HoldsRunningSystem { .. })),
                        "{part} is on the system disk {disk} but is not refused"
                    );
                }
            }
        }
    }

    #[test]
    fn directories_and_char_devices_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (path, kind) in [
            (dir.path(), "directory"),
            (Path::new("/dev/null"), "character device"),
        ] {
            match check_target(path, &Protected::none()) {
                Err(Error::Refused { reasons, .. }) => {
                    assert_eq!(reasons, [Refusal::NotBlockDevice { kind }]);
                }
                other => panic!("{} not refused: {other:?}", path.display()),
            }
        }
    }

    #[test]
    fn empty_files_are_refused_and_duplicates_too() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.img");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(
            check_target(&empty, &Protected::none()),
            Err(Error::Refused { reasons, .. }) if reasons == [Refusal::Empty]
        ));
        let image = dir.path().join("disk.img");
        std::fs::write(&image, [1_u8; 4096]).unwrap();
        let link = dir.path().join("link.img");
        std::os::unix::fs::symlink(&image, &link).unwrap();
        match check_all(&[&image, &link], &Protected::none()) {
            Err(Error::TargetsRefused { refused, total }) => {
                assert_eq!(total, 2);
                assert_eq!(refused[0].0, link);
            }
            other => panic!("duplicate accepted: {other:?}"),
        }
        let target = check_target(&link, &Protected::none()).unwrap();
        assert_eq!(target.resolved, std::fs::canonicalize(&image).unwrap());
        assert_eq!(target.size, 4096);
        assert_eq!(target.kind, TargetKind::ImageFile);
    }
}
