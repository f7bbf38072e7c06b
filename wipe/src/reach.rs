//! What a wipe of a target would reach, found by device and inode numbers, never by
//! name.
//!
//! Overwriting a target destroys more than the target when other storage is built on
//! it or shares its bytes: the partitions of a disk, a device-mapper or md device on
//! it, a loop device whose backing file or device it is, another loop device over the
//! same backing file, and whatever is stacked on those in turn. Names do not show
//! these relations (a hard link is a second name for the same bytes; a loop device
//! over another loop device leaves no `holders/` entry), so every object here is an
//! [`Identity`]: a block device by its major:minor, a file by its filesystem's device
//! and its inode number. A loop device's backing object comes from the kernel
//! (`LOOP_GET_STATUS64`, which gives the backing inode's device, inode and, for a
//! block device, its number), falling back to `stat` of the path sysfs shows.
//!
//! `Topology::reach` walks down from the target to what it is stored on (a loop
//! device to its backing file or device, a partition to its disk, a dm or md device
//! to its members), then up from every one of those to everything stored on them.
//! `Topology::refusals` then refuses the target when anything reached is mounted,
//! holds the running system, is swap, is open for writing by another process, or is
//! a file of custody's data home ([`Protected`]).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fs::File;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::device::Refusal;
use crate::usage::{self, DevNum, Usage, dev_of};

/// A block device or a file, by number: what it is, whatever it is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identity {
    /// A block device, by its major and minor number.
    Block(u32, u32),
    /// A file (or directory), by the device of its filesystem and its inode number.
    File {
        /// `st_dev`.
        dev: u64,
        /// `st_ino`.
        ino: u64,
    },
}

impl Identity {
    /// The identity of what `meta` describes: a block device's number, or a file's
    /// device and inode.
    pub fn of(meta: &std::fs::Metadata) -> Identity {
        if meta.file_type().is_block_device() {
            let (major, minor) = dev_of(meta.rdev());
            Identity::Block(major, minor)
        } else {
            Identity::File {
                dev: meta.dev(),
                ino: meta.ino(),
            }
        }
    }

    fn block(dev: DevNum) -> Identity {
        Identity::Block(dev.0, dev.1)
    }

    fn devnum(self) -> Option<DevNum> {
        match self {
            Identity::Block(major, minor) => Some((major, minor)),
            Identity::File { .. } => None,
        }
    }
}

/// Files that may never be wiped, by identity: custody's data home.
#[derive(Debug, Clone, Default)]
pub struct Protected {
    files: Vec<(Identity, PathBuf)>,
}

impl Protected {
    /// Nothing protected beyond what the system uses.
    pub fn none() -> Protected {
        Protected::default()
    }

    /// Protects every file and folder under `dir` (symbolic links are not followed):
    /// their identities, so that a hard link or a loop device over one is refused too.
    pub fn add_tree(&mut self, dir: &Path) -> std::io::Result<()> {
        let meta = std::fs::symlink_metadata(dir)?;
        self.files.push((Identity::of(&meta), dir.to_path_buf()));
        if !meta.is_dir() {
            return Ok(());
        }
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                self.add_tree(&entry.path())?;
            } else if !kind.is_symlink() {
                let meta = entry.metadata()?;
                self.files.push((Identity::of(&meta), entry.path()));
            }
        }
        Ok(())
    }

    /// The protected path with this identity, if any.
    pub fn find(&self, id: Identity) -> Option<&Path> {
        self.files
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, p)| p.as_path())
    }
}

/// A loop device and what backs it.
#[derive(Debug, Clone)]
struct Loop {
    dev: DevNum,
    /// The backing file or device; `None` when neither the kernel nor the path told.
    backing: Option<Identity>,
    /// The backing file's path as sysfs shows it.
    backing_path: String,
}

/// A process holding an object open for writing.
#[derive(Debug, Clone)]
struct Writer {
    pid: u32,
    command: String,
}

/// How one object was reached from the target.
#[derive(Debug, Clone)]
pub(crate) struct Reached {
    /// What it is.
    pub(crate) id: Identity,
    /// How people call it: `/dev/loop5` or a path.
    pub(crate) label: String,
    /// The labels of the objects between the target and this one.
    pub(crate) through: Vec<String>,
}

impl Reached {
    /// "/dev/loop5 (through /tmp/x.img)" or just the label for the target itself.
    pub(crate) fn describe(&self) -> String {
        if self.through.is_empty() {
            self.label.clone()
        } else {
            format!("{} (through {})", self.label, self.through.join(" → "))
        }
    }
}

/// A snapshot of how block devices and files are stacked and used.
pub(crate) struct Topology {
    pub(crate) usage: Usage,
    loops: Vec<Loop>,
    protected: Protected,
    /// Mounts by the block device they are on.
    mounted: HashMap<DevNum, Vec<usize>>,
    /// Swap areas by identity, with their names.
    swaps: Vec<(Identity, String)>,
    writers: OnceLock<HashMap<Identity, Vec<Writer>>>,
}

impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topology")
            .field("loops", &self.loops)
            .finish_non_exhaustive()
    }
}

/// Device stacks are shallow; the bound only guards against a malformed sysfs or a
/// cycle of loop devices.
const MAX_REACHED: usize = 4096;

impl Topology {
    /// Reads mounts, swaps and loop devices now.
    pub(crate) fn gather(protected: &Protected) -> crate::Result<Topology> {
        let usage = Usage::gather()?;
        let mut mounted: HashMap<DevNum, Vec<usize>> = HashMap::new();
        for (i, (mount, _)) in usage.mounts.iter().enumerate() {
            let dev = if mount.dev.0 != 0 {
                Some(mount.dev)
            } else {
                // btrfs and others report an anonymous number; the source names the
                // real device.
                std::fs::metadata(&mount.source)
                    .ok()
                    .filter(|m| mount.source.starts_with('/') && m.file_type().is_block_device())
                    .map(|m| dev_of(m.rdev()))
            };
            if let Some(dev) = dev {
                mounted.entry(dev).or_default().push(i);
            }
        }
        let swaps = usage
            .swaps
            .iter()
            .filter_map(|(path, _)| {
                std::fs::metadata(path)
                    .ok()
                    .map(|m| (Identity::of(&m), path.clone()))
            })
            .collect();
        Ok(Topology {
            usage,
            loops: loops(),
            protected: protected.clone(),
            mounted,
            swaps,
            writers: OnceLock::new(),
        })
    }

    /// The label people know an object by.
    fn label(&self, id: Identity) -> String {
        match id {
            Identity::Block(major, minor) => usage::name_of((major, minor)).map_or_else(
                || format!("block device {major}:{minor}"),
                |name| format!("/dev/{name}"),
            ),
            Identity::File { dev, ino } => {
                if let Some(path) = self.protected.find(id) {
                    return path.display().to_string();
                }
                self.loops
                    .iter()
                    .find(|l| l.backing == Some(id))
                    .map_or_else(
                        || format!("file {ino} on device {}:{}", dev_of(dev).0, dev_of(dev).1),
                        |l| l.backing_path.clone(),
                    )
            }
        }
    }

    /// What `id` is stored on: a loop device's backing object, a partition's disk, the
    /// members of a dm or md device. Also says whether it went from a partition to
    /// its disk (whose other partitions do not share the partition's bytes).
    fn lower(&self, id: Identity) -> Vec<(Identity, bool)> {
        let Some(dev) = id.devnum() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Some(l) = self.loops.iter().find(|l| l.dev == dev)
            && let Some(backing) = l.backing
        {
            out.push((backing, false));
        }
        if let Some(name) = usage::name_of(dev) {
            if let Some(disk) = usage::disk_of_partition(&name)
                && let Some(d) = usage::dev_of_name(&disk)
            {
                out.push((Identity::block(d), true));
            }
            for slave in usage::list_dir(&Path::new(SYS_BLOCK).join(&name).join("slaves")) {
                if let Some(d) = usage::dev_of_name(&slave) {
                    out.push((Identity::block(d), false));
                }
            }
        }
        out
    }

    /// What is stored on `id`: partitions and holders of a block device, and loop
    /// devices whose backing object it is. `skip_partitions` leaves out the partitions
    /// (when `id` is a disk reached from one of its partitions).
    fn upper(&self, id: Identity, skip_partitions: bool) -> Vec<Identity> {
        let mut out: Vec<Identity> = self
            .loops
            .iter()
            .filter(|l| l.backing == Some(id))
            .map(|l| Identity::block(l.dev))
            .collect();
        if let Some(dev) = id.devnum()
            && let Some(name) = usage::name_of(dev)
        {
            let dir = Path::new(SYS_BLOCK).join(&name);
            let mut names = usage::list_dir(&dir.join("holders"));
            if !skip_partitions {
                names.extend(
                    usage::list_dir(&dir)
                        .into_iter()
                        .filter(|p| dir.join(p).join("partition").exists()),
                );
            }
            out.extend(
                names
                    .iter()
                    .filter_map(|n| usage::dev_of_name(n))
                    .map(Identity::block),
            );
        }
        out
    }

    /// Everything a wipe of `target` (called `label`) reaches, the target first.
    pub(crate) fn reach(&self, target: Identity, label: &str) -> Vec<Reached> {
        let mut seen: BTreeSet<Identity> = BTreeSet::from([target]);
        let mut out = vec![Reached {
            id: target,
            label: label.to_owned(),
            through: Vec::new(),
        }];
        // Down: what the target's bytes are stored on.
        let mut down: Vec<(usize, bool)> = vec![(0, false)];
        let mut i = 0;
        while i < down.len() && out.len() < MAX_REACHED {
            let (at, _) = down[i];
            i += 1;
            for (lower, from_partition) in self.lower(out[at].id) {
                if seen.insert(lower) {
                    let mut through = out[at].through.clone();
                    through.push(out[at].label.clone());
                    out.push(Reached {
                        id: lower,
                        label: self.label(lower),
                        through,
                    });
                    down.push((out.len() - 1, from_partition));
                }
            }
        }
        // Up: everything stored on the target or on what it is stored on.
        let mut queue: VecDeque<(usize, bool)> = down.into_iter().collect();
        while let Some((at, from_partition)) = queue.pop_front() {
            if out.len() >= MAX_REACHED {
                break;
            }
            for upper in self.upper(out[at].id, from_partition) {
                if seen.insert(upper) {
                    let mut through = out[at].through.clone();
                    through.push(out[at].label.clone());
                    out.push(Reached {
                        id: upper,
                        label: self.label(upper),
                        through,
                    });
                    queue.push_back((out.len() - 1, false));
                }
            }
        }
        out
    }

    /// Every reason found, in what a wipe of `target` reaches, not to wipe it.
    pub(crate) fn refusals(&self, target: Identity, label: &str) -> Vec<Refusal> {
        let reached = self.reach(target, label);
        let mut out = Vec::new();
        for r in &reached {
            if let Some(dev) = r.id.devnum() {
                for &m in self.mounted.get(&dev).into_iter().flatten() {
                    let (mount, _) = &self.usage.mounts[m];
                    out.push(Refusal::Mounted {
                        what: r.describe(),
                        mountpoint: mount.mountpoint.clone(),
                    });
                }
                if let Some(name) = usage::name_of(dev) {
                    for (mountpoint, beneath) in &self.usage.system {
                        let holds = self.mounted.get(&dev).is_some_and(|ms| {
                            ms.iter()
                                .any(|&m| self.usage.mounts[m].0.mountpoint == *mountpoint)
                        }) || (r.through.is_empty() && beneath.contains(&name));
                        if holds
                            && !out.iter().any(|x| {
                                matches!(x, Refusal::HoldsRunningSystem { mountpoint: m } if m == mountpoint)
                            })
                        {
                            out.push(Refusal::HoldsRunningSystem {
                                mountpoint: mountpoint.clone(),
                            });
                        }
                    }
                }
            }
            for (id, what) in &self.swaps {
                if *id == r.id {
                    out.push(Refusal::Swap {
                        what: if r.through.is_empty() {
                            what.clone()
                        } else {
                            r.describe()
                        },
                    });
                }
            }
            if let Some(path) = self.protected.find(r.id) {
                out.push(Refusal::DataHome {
                    what: r.describe(),
                    file: path.to_path_buf(),
                });
            }
            for w in self.writers().get(&r.id).into_iter().flatten() {
                out.push(Refusal::OpenForWriting {
                    what: r.describe(),
                    pid: w.pid,
                    command: w.command.clone(),
                });
            }
        }
        out
    }

    /// The identities a wipe of `target` reaches (itself included).
    pub(crate) fn reached_ids(&self, target: Identity, label: &str) -> BTreeSet<Identity> {
        self.reach(target, label)
            .into_iter()
            .map(|r| r.id)
            .collect()
    }

    fn writers(&self) -> &HashMap<Identity, Vec<Writer>> {
        self.writers.get_or_init(steady_writers)
    }
}

const SYS_BLOCK: &str = "/sys/class/block";

/// The attached loop devices with what backs each.
fn loops() -> Vec<Loop> {
    let mut out = Vec::new();
    for name in usage::list_dir(Path::new(SYS_BLOCK)) {
        let dir = Path::new(SYS_BLOCK).join(&name);
        if !name.starts_with("loop") || dir.join("partition").exists() {
            continue;
        }
        let Ok(path) = std::fs::read_to_string(dir.join("loop/backing_file")) else {
            continue; // not attached
        };
        let Some(dev) = usage::dev_of_name(&name) else {
            continue;
        };
        let backing_path = path.trim_end_matches('\n').to_owned();
        let backing = kernel_backing(&name).or_else(|| {
            // The path sysfs shows is where the file is now; a deleted file has none.
            let plain = backing_path
                .strip_suffix(" (deleted)")
                .unwrap_or(&backing_path);
            std::fs::metadata(plain).ok().map(|m| Identity::of(&m))
        });
        out.push(Loop {
            dev,
            backing,
            backing_path,
        });
    }
    out
}

/// `struct loop_info64` of `<linux/loop.h>`.
#[repr(C)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; 64],
    lo_crypt_name: [u8; 64],
    lo_encrypt_key: [u8; 32],
    lo_init: [u64; 2],
}

/// `LOOP_GET_STATUS64` of `<linux/loop.h>`.
const LOOP_GET_STATUS64: u64 = 0x4C05;

/// The backing object of loop device `name`, as the kernel holds it: the device and
/// inode of the backing file, or the number of the backing block device.
#[allow(unsafe_code)]
fn kernel_backing(name: &str) -> Option<Identity> {
    use std::os::fd::AsRawFd;
    // Opening read-only claims nothing and changes nothing.
    let file: File = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(Path::new("/dev").join(name))
        .ok()?;
    // Make sure the node is the loop device of that name, not a stale or planted one.
    let meta = file.metadata().ok()?;
    if !meta.file_type().is_block_device() || Some(dev_of(meta.rdev())) != usage::dev_of_name(name)
    {
        return None;
    }
    // SAFETY: an all-zero `loop_info64` is a valid value (integers and byte arrays).
    let mut info: LoopInfo64 = unsafe { std::mem::zeroed() };
    // SAFETY: LOOP_GET_STATUS64 writes one `struct loop_info64` into the pointer, which
    // points to a live, correctly sized and aligned `LoopInfo64`; `file` stays open.
    let rc = unsafe {
        libc::ioctl(
            file.as_raw_fd(),
            LOOP_GET_STATUS64 as libc::Ioctl,
            &raw mut info,
        )
    };
    if rc != 0 {
        return None;
    }
    if info.lo_rdevice != 0 {
        // The backing inode is a device node: the loop device is over a block device.
        let (major, minor) = dev_of(info.lo_rdevice);
        return Some(Identity::Block(major, minor));
    }
    Some(Identity::File {
        dev: info.lo_device,
        ino: info.lo_inode,
    })
}

/// The writers that stay: a process holding something open for writing in three scans
/// 150 ms apart. Tools that open a device for a moment (`losetup` looking for a free
/// loop device, udev's probes) are not holders; a virtual machine or a database is.
fn steady_writers() -> HashMap<Identity, Vec<Writer>> {
    let mut steady = scan_writers();
    for _ in 0..2 {
        if steady.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(150));
        let again = scan_writers();
        steady.retain(|id, writers| {
            writers.retain(|w| {
                again
                    .get(id)
                    .is_some_and(|now| now.iter().any(|n| n.pid == w.pid))
            });
            !writers.is_empty()
        });
    }
    steady
}

/// Every object some other process holds open for writing, with who holds it.
fn scan_writers() -> HashMap<Identity, Vec<Writer>> {
    let own = std::process::id();
    let mut out: HashMap<Identity, Vec<Writer>> = HashMap::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    for proc in procs.flatten() {
        let Some(pid) = proc
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == own {
            continue;
        }
        let dir = proc.path();
        let Ok(fds) = std::fs::read_dir(dir.join("fd")) else {
            continue; // gone, or not ours to read
        };
        let mut command: Option<String> = None;
        for fd in fds.flatten() {
            let Ok(link) = std::fs::read_link(fd.path()) else {
                continue;
            };
            // Sockets, pipes and anonymous inodes are never wipe targets.
            if !link.starts_with("/") {
                continue;
            }
            let Some(flags) = fd_flags(&dir, &fd.file_name()) else {
                continue;
            };
            if flags & libc::O_ACCMODE as u32 == libc::O_RDONLY as u32 {
                continue;
            }
            let Ok(meta) = std::fs::metadata(fd.path()) else {
                continue;
            };
            let kind = meta.file_type();
            if !(kind.is_file() || kind.is_block_device()) {
                continue;
            }
            let command = command
                .get_or_insert_with(|| {
                    std::fs::read_to_string(dir.join("comm"))
                        .map(|c| c.trim().to_owned())
                        .unwrap_or_default()
                })
                .clone();
            out.entry(Identity::of(&meta))
                .or_default()
                .push(Writer { pid, command });
        }
    }
    out
}

/// The open flags of one file descriptor, from `/proc/PID/fdinfo/FD` (octal).
fn fd_flags(proc: &Path, fd: &std::ffi::OsStr) -> Option<u32> {
    let text = std::fs::read_to_string(proc.join("fdinfo").join(fd)).ok()?;
    let line = text.lines().find(|l| l.starts_with("flags:"))?;
    u32::from_str_radix(line["flags:".len()..].trim(), 8).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_tell_hard_links_apart_from_copies() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        let c = dir.path().join("c");
        std::fs::write(&a, b"x").unwrap();
        std::fs::hard_link(&a, &b).unwrap();
        std::fs::write(&c, b"x").unwrap();
        let id = |p: &Path| Identity::of(&std::fs::metadata(p).unwrap());
        assert_eq!(id(&a), id(&b));
        assert_ne!(id(&a), id(&c));
    }

    #[test]
    fn protected_trees_find_files_by_identity() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join("keys")).unwrap();
        std::fs::write(home.join("ledger.db"), b"db").unwrap();
        std::fs::write(home.join("keys/station.key"), b"k").unwrap();
        let link = dir.path().join("innocent.img");
        std::fs::hard_link(home.join("ledger.db"), &link).unwrap();
        let mut protected = Protected::none();
        protected.add_tree(&home).unwrap();
        let id = Identity::of(&std::fs::metadata(&link).unwrap());
        assert_eq!(protected.find(id), Some(home.join("ledger.db").as_path()));
        let key = Identity::of(&std::fs::metadata(home.join("keys/station.key")).unwrap());
        assert!(protected.find(key).is_some());
    }

    #[test]
    fn this_process_writing_a_file_is_not_another_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("held.img");
        let _file = std::fs::File::create(&path).unwrap();
        let id = Identity::of(&std::fs::metadata(&path).unwrap());
        assert!(!scan_writers().contains_key(&id));
    }
}
