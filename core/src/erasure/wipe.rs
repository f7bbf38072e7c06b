//! The wipe workflow: describe block devices, check and confirm targets, overwrite
//! them with [`custody_wipe`], and record every result in the ledger.
//!
//! The flow is split in two so that a person can confirm between the steps while the
//! targets are already claimed (a block device is held open with `O_EXCL`, so nothing
//! can mount it in between):
//!
//! 1. [`Station::prepare_wipe`] checks the actor's role, the method and every target;
//!    any refusal refuses the whole list and nothing is touched. The returned
//!    [`WipeJob`] describes each target ([`TargetIdentity`]) for the confirmation.
//! 2. [`Station::run_wipe`] appends a `wipe-start` entry in its own transaction
//!    *before* the first byte is written, so that a wipe killed mid-way still leaves
//!    a trace; then wipes every target at once; then appends one `wipe` record
//!    (`WP-…`) per target, all in one transaction.
//!
//! # The `wipe` entry
//!
//! Its payload is everything an erasure certificate needs, so that a certificate can
//! cite the entry's sequence number and hash alone. Field by field it is documented on
//! [`WipeResult::payload`]; `docs/wipe.md` shows an example.
//!
//! # Failure modes
//!
//! - A refusal (role, method, a mounted or busy target, no terminal to confirm on) is
//!   returned before anything is written to a target or to the ledger.
//! - If the `wipe-start` append fails, nothing is written to any target.
//! - If the process dies during the wipe, the ledger holds the `wipe-start` entry and
//!   no `wipe` entry: the targets are partly overwritten, and the journal in the data
//!   home says how far ([`Station::prepare_resume`] continues from there).
//! - If the final append fails after the wipe, the error says so; the targets have
//!   been overwritten as far as the engine got, and the `wipe-start` entry remains.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use custody_wipe::device::TargetKind;
use custody_wipe::{
    Course, Device, IoOp, Method, Plan, Position, Protected, Refusal, Target, TargetReport,
};
use serde::Serialize;
use serde_json::{Value, json};

pub use custody_wipe::method::METHOD_NAMES;
pub use custody_wipe::{NoReport, Reporter, Status, VerifyMode, VerifyResult};

use crate::clock;
use crate::erasure::certificate::{Issue, issue_in};
use crate::erasure::hidden::HiddenAreas;
use crate::erasure::resume::{self, DeviceChange, History, Journal, Journaling, ResumeProblem};
use crate::erasure::smart::SmartInfo;
use crate::error::{Error, Result};
use crate::ledger::RecordId;
use crate::people::Role;
use crate::registers::media;
use crate::station::Station;

/// The NIST SP 800-88 category of every overwrite method: Clear, never Purge.
pub const CATEGORY: &str = "clear";

/// The note shown and recorded for flash targets.
pub const FLASH_NOTE: &str = "flash media (non-rotational, NVMe or a USB stick): an overwrite is NIST SP 800-88 Clear, not Purge; spare and remapped cells are not reached; a Purge needs the drive's own sanitize command (ATA SANITIZE, NVMe Sanitize) or its destruction";

/// A reason a device may not be wiped, as `custody devices` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusalInfo {
    /// A stable code: `mounted`, `running-system`, `swap`, `held`, `read-only`,
    /// `busy`, `cannot-open`, `not-block-device`, `unknown`, `empty`, `duplicate`,
    /// `overlaps`, `data-home`, `open-for-writing`, `changed` or `other`.
    pub reason: &'static str,
    /// The reason in words, e.g. "/dev/sdb1 is mounted on /media/stick".
    pub message: String,
    /// The reason itself, for a front end that words it in its person's language.
    #[serde(skip)]
    pub refusal: Refusal,
}

impl From<&Refusal> for RefusalInfo {
    fn from(refusal: &Refusal) -> Self {
        let reason = match refusal {
            Refusal::Mounted { .. } => "mounted",
            Refusal::HoldsRunningSystem { .. } => "running-system",
            Refusal::Swap { .. } => "swap",
            Refusal::HeldBy { .. } => "held",
            Refusal::ReadOnly => "read-only",
            Refusal::Busy => "busy",
            Refusal::CannotOpen { .. } => "cannot-open",
            Refusal::NotBlockDevice { .. } => "not-block-device",
            Refusal::Unknown => "unknown",
            Refusal::Empty => "empty",
            Refusal::Duplicate { .. } => "duplicate",
            Refusal::Overlaps { .. } => "overlaps",
            Refusal::DataHome { .. } => "data-home",
            Refusal::OpenForWriting { .. } => "open-for-writing",
            Refusal::Changed => "changed",
            _ => "other",
        };
        RefusalInfo {
            reason,
            message: refusal.to_string(),
            refusal: refusal.clone(),
        }
    }
}

/// A partition of a listed device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionInfo {
    /// Kernel name, e.g. sdb1.
    pub name: String,
    /// Device node.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
}

/// A block device as `custody devices` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    /// Kernel name, e.g. sda, nvme0n1, loop3.
    pub name: String,
    /// Device node, e.g. /dev/sda.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Logical sector size in bytes.
    pub logical_sector: u32,
    /// Physical sector size in bytes.
    pub physical_sector: u32,
    /// Model, as the device reports it.
    pub model: Option<String>,
    /// Vendor, as the device reports it.
    pub vendor: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// usb, sata, nvme, virtio, loop, scsi, mmc, dm, md, zram or unknown.
    pub transport: &'static str,
    /// Whether it reports spinning media.
    pub rotational: bool,
    /// Whether the kernel marks it removable.
    pub removable: bool,
    /// Whether the kernel marks it read-only.
    pub read_only: bool,
    /// Whether it is flash: an overwrite is then Clear, not Purge.
    pub flash: bool,
    /// For a loop device, its backing file.
    pub source: Option<PathBuf>,
    /// Its partitions.
    pub partitions: Vec<PartitionInfo>,
    /// Whether nothing stands in the way of wiping it.
    pub wipeable: bool,
    /// Why it may not be wiped; empty when it may.
    pub refusals: Vec<RefusalInfo>,
}

impl From<&Device> for DeviceInfo {
    fn from(d: &Device) -> Self {
        DeviceInfo {
            name: d.name.clone(),
            path: d.path.clone(),
            size: d.size,
            logical_sector: d.logical_sector,
            physical_sector: d.physical_sector,
            model: d.model.clone(),
            vendor: d.vendor.clone(),
            serial: d.serial.clone(),
            transport: d.transport.as_str(),
            rotational: d.rotational,
            removable: d.removable,
            read_only: d.read_only,
            flash: d.is_flash(),
            source: d.source.clone(),
            partitions: d
                .partitions
                .iter()
                .map(|p| PartitionInfo {
                    name: p.name.clone(),
                    path: p.path.clone(),
                    size: p.size,
                })
                .collect(),
            wipeable: d.wipeable(),
            refusals: d.refusals.iter().map(RefusalInfo::from).collect(),
        }
    }
}

/// Lists the block devices (whole disks and attached loop devices) with whether each
/// may be wiped. Needs no data home: it only reads /sys and /proc; when `home` holds
/// one, a device that reaches any of its files (a loop device over the ledger) is
/// refused.
pub fn devices(home: Option<&Path>) -> Result<Vec<DeviceInfo>> {
    let protected = match home {
        Some(home) if home.join("config.toml").exists() || home.join("ledger.db").exists() => {
            protected_home(home)?
        }
        _ => Protected::none(),
    };
    Ok(custody_wipe::device::list(&protected)?
        .iter()
        .map(DeviceInfo::from)
        .collect())
}

/// Every file and folder of the data home at `home`, by identity: never wiped,
/// shredded or retained, whatever name or loop device reaches them.
pub(crate) fn protected_home(home: &Path) -> Result<Protected> {
    let mut protected = Protected::none();
    protected.add_tree(home).map_err(|e| Error::File {
        path: home.to_path_buf(),
        source: e,
    })?;
    Ok(protected)
}

/// What to do to every target of one `custody wipe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WipeOptions {
    /// The method's name, e.g. `dod-short` (nwipe's names are accepted as aliases).
    pub method: String,
    /// The number of passes, for `random` only.
    pub passes: Option<u32>,
    /// Which passes to read back.
    pub verify: VerifyMode,
    /// Whether to add a final 0x00 pass.
    pub blank: bool,
    /// The serial number, for a medium whose serial cannot be read (one target only);
    /// a serial the device reports wins, and a different one given here is refused.
    pub serial: Option<String>,
    /// The property number or asset tag, printed on the certificate.
    pub asset_tag: Option<String>,
    /// What happens to the medium next: reuse, disposal, return-to-lessor, recycling.
    pub destination: Option<Destination>,
    /// Where the media came from and who sanitizes them where (NIST SP 800-88 Rev. 2).
    pub details: WipeDetails,
}

/// What NIST SP 800-88 Rev. 2 asks a certificate to say besides the wipe itself: the
/// machine or person the media came from, and the sanitizer's title, contact and
/// location. Each is one line, at most 200 characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct WipeDetails {
    /// The machine or person the media came from, e.g. `PC-0412 (総務課)`.
    pub origin: Option<String>,
    /// The sanitizer's title (役職).
    pub title: Option<String>,
    /// How to reach the sanitizer: extension, mail.
    pub contact: Option<String>,
    /// Where the sanitization took place.
    pub location: Option<String>,
}

impl WipeDetails {
    /// Each value checked: one line of at most 200 characters.
    pub(crate) fn checked(&self) -> Result<WipeDetails> {
        let line = |field, v: &Option<String>| {
            v.as_deref()
                .map(|s| crate::registers::requests::one_line(field, s, 200))
                .transpose()
        };
        use crate::error::Field;
        Ok(WipeDetails {
            origin: line(Field::Origin, &self.origin)?,
            title: line(Field::Title, &self.title)?,
            contact: line(Field::Contact, &self.contact)?,
            location: line(Field::Place, &self.location)?,
        })
    }
}

crate::vocab::vocabulary! {
    /// Where a sanitized medium goes next.
    pub enum Destination (crate::error::Field::WipeDestination) {
        /// Used again in the office.
        Reuse = "reuse",
        /// Disposed of.
        Disposal = "disposal",
        /// Returned to the company that leased it.
        ReturnToLessor = "return-to-lessor",
        /// Recycled.
        Recycling = "recycling",
    }
}

/// Who a target is: what the certificate names and the confirmation shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetIdentity {
    /// The target as the user named it.
    pub path: PathBuf,
    /// The path with symbolic links resolved.
    pub resolved: PathBuf,
    /// `block-device` or `image-file`.
    pub kind: &'static str,
    /// Kernel name of a block device.
    pub name: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Vendor.
    pub vendor: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Where the serial came from: `device` (read), `operator` (`--serial`) or `none`.
    pub serial_source: &'static str,
    /// Size in bytes.
    pub size: u64,
    /// How it is attached (`usb`, `sata`, `nvme`, `loop`, …); `file` for an image.
    pub transport: &'static str,
    /// Whether it reports spinning media (`null` for an image file).
    pub rotational: Option<bool>,
    /// Whether the kernel marks it removable (`null` for an image file).
    pub removable: Option<bool>,
    /// Whether it is (or, for an image, lies on) flash: the overwrite is Clear only.
    pub flash: bool,
    /// Logical sector size (4096 for an image file: the unit of its direct I/O).
    pub logical_sector: u32,
    /// Physical sector size (`null` for an image file).
    pub physical_sector: Option<u32>,
    /// The backing file of a loop device, or the image file itself.
    pub source: Option<PathBuf>,
    /// That file's identity, `device:inode`, when it can be read: a resumed wipe
    /// must find the same file, not one of the same name.
    pub source_file: Option<String>,
    /// Whether a Host Protected Area or a DCO hides sectors from the overwrite, or
    /// why that could not be checked.
    pub hidden_areas: HiddenAreas,
    /// The firmware revision (sysfs, else smartctl).
    pub firmware: Option<String>,
    /// What smartctl read: power-on hours, health; or why nothing was read.
    pub smart: SmartInfo,
}

fn file_identity(path: Option<&PathBuf>) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path?).ok()?;
    Some(format!("{}:{}", meta.dev(), meta.ino()))
}

impl TargetIdentity {
    fn of(target: &Target) -> Self {
        let mut identity = TargetIdentity::sysfs(target);
        // What the drive itself says fills what sysfs did not.
        if identity.smart.state == "read" {
            let smart = identity.smart.clone();
            identity.model = identity.model.or(smart.model);
            identity.firmware = identity.firmware.or(smart.firmware);
            if identity.serial.is_none() && smart.serial.is_some() {
                identity.serial = smart.serial;
                identity.serial_source = "device";
            }
        }
        identity
    }

    fn sysfs(target: &Target) -> Self {
        match (&target.kind, &target.device) {
            (TargetKind::BlockDevice, Some(d)) => TargetIdentity {
                path: target.path.clone(),
                resolved: target.resolved.clone(),
                kind: "block-device",
                name: Some(d.name.clone()),
                model: d.model.clone(),
                vendor: d.vendor.clone(),
                serial: d.serial.clone().filter(|s| !s.trim().is_empty()),
                serial_source: if d.serial.as_deref().is_some_and(|s| !s.trim().is_empty()) {
                    "device"
                } else {
                    "none"
                },
                size: target.size,
                transport: d.transport.as_str(),
                rotational: Some(d.rotational),
                removable: Some(d.removable),
                flash: target.flash,
                logical_sector: d.logical_sector,
                physical_sector: Some(d.physical_sector),
                source: d.source.clone(),
                source_file: file_identity(d.source.as_ref()),
                hidden_areas: crate::erasure::hidden::check(
                    &target.resolved,
                    d.transport.as_str(),
                    "block-device",
                    target.size / u64::from(d.logical_sector.max(512)),
                ),
                firmware: crate::erasure::smart::sysfs_firmware(&d.name),
                smart: crate::erasure::smart::read(
                    &target.resolved,
                    d.transport.as_str(),
                    "block-device",
                ),
            },
            _ => TargetIdentity {
                path: target.path.clone(),
                resolved: target.resolved.clone(),
                kind: match target.kind {
                    TargetKind::BlockDevice => "block-device",
                    TargetKind::ImageFile => "image-file",
                },
                name: None,
                model: None,
                vendor: None,
                serial: None,
                serial_source: "none",
                size: target.size,
                transport: "file",
                rotational: None,
                removable: None,
                flash: target.flash,
                logical_sector: target.sector,
                physical_sector: None,
                source: Some(target.resolved.clone()),
                source_file: file_identity(Some(&target.resolved)),
                hidden_areas: crate::erasure::hidden::check(
                    &target.resolved,
                    "file",
                    "image-file",
                    target.size / 512,
                ),
                firmware: None,
                smart: crate::erasure::smart::read(&target.resolved, "file", "image-file"),
            },
        }
    }
}

/// Checked targets, held open, and the plan for them: what [`Station::run_wipe`] does.
#[derive(Debug)]
pub struct WipeJob {
    targets: Vec<Target>,
    identities: Vec<TargetIdentity>,
    plan: Plan,
    patterns: Vec<String>,
    asset_tag: Option<String>,
    destination: Option<Destination>,
    details: WipeDetails,
    /// Each target's passes (every random choice made) and where it begins.
    courses: Vec<Course>,
    /// For a resumed wipe, what the earlier runs left.
    resumed: Option<Resumed>,
}

/// A wipe taken up again: its start entry, its journal and each target's place in it.
#[derive(Debug)]
struct Resumed {
    /// As the user named it.
    reference: String,
    start_seq: i64,
    start_hash: String,
    /// The journal's index of each target, in the order of the job's targets.
    indexes: Vec<usize>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Journal")
    }
}

impl WipeJob {
    /// For a resumed wipe, where each target continues: pass (from 1) and offset.
    pub fn resumes_at(&self) -> Option<Vec<(usize, u64)>> {
        self.resumed.as_ref()?;
        Some(
            self.courses
                .iter()
                .map(|c| (c.from.pass + 1, c.from.offset))
                .collect(),
        )
    }

    /// For a resumed wipe, the number of its `wipe-start` entry.
    pub fn resumes(&self) -> Option<i64> {
        self.resumed.as_ref().map(|r| r.start_seq)
    }

    /// The targets, in the order given.
    pub fn targets(&self) -> &[TargetIdentity] {
        &self.identities
    }

    /// The method's name.
    pub fn method(&self) -> &'static str {
        self.plan.method.name()
    }

    /// The label of every pass, in order (`--blank` included).
    pub fn passes(&self) -> &[String] {
        &self.patterns
    }

    /// Which passes are read back.
    pub fn verify(&self) -> VerifyMode {
        self.plan.verify
    }

    /// How many passes are read back.
    pub fn verified_passes(&self) -> usize {
        match self.plan.verify {
            VerifyMode::Off => 0,
            VerifyMode::Last => 1.min(self.patterns.len()),
            VerifyMode::All => self.patterns.len(),
        }
    }
}

/// The result for one target, recorded in the ledger as a `wipe` entry.
#[derive(Debug, Clone, Serialize)]
pub struct WipeResult {
    /// The record id, `WP-…` (serialized as the payload's `id`).
    #[serde(skip)]
    pub id: RecordId,
    /// The erasure certificate issued for it (`EC-…`).
    pub certificate: RecordId,
    /// The ledger sequence number of the `wipe` entry.
    pub seq: i64,
    /// The hash of the `wipe` entry, which a certificate cites.
    pub hash: String,
    /// How the target ended.
    #[serde(skip)]
    pub status: Status,
    /// The engine's report.
    #[serde(skip)]
    pub report: TargetReport,
    /// The target's identity.
    #[serde(skip)]
    pub identity: TargetIdentity,
    /// The `wipe` entry's payload, exactly as recorded (its `id` included):
    ///
    /// `id`, `target` (the path as named), `status` (`erased`, `failed`,
    /// `interrupted`), `method`, `category` (`clear`), `flash`, `flash_note` (text or
    /// `null`), `blank`, `direct_io`, `started`, `ended` (RFC 3339 UTC),
    /// `device` (a [`TargetIdentity`]), `media` (the register id with the target's
    /// serial, or `null`), `passes` (`pass` from 1, `pattern`, `bytes`, `start`,
    /// `end`, `complete`, `verified`), `verify` (`mode`, `result`, `bytes`,
    /// `mismatches`, `first_mismatches`), `errors` (`pass` from 1, `op`
    /// `write`/`read`/`flush`, `offset`, `length`, `errno`, `message`), `aborted`,
    /// `operator` (`name`, `role`), `station` (`name`, `organisation`, `key_id`),
    /// `tool` (`name` `custody`, `version`, `engine_version`) and `start_seq` (the
    /// `wipe-start` entry).
    #[serde(flatten)]
    pub payload: Value,
}

impl Station {
    /// A plan for `method` with this station's journal interval.
    fn plan(&self, method: Method) -> Plan {
        let mut plan = Plan::new(method);
        plan.checkpoint_bytes = self.config.wipe.journal_every_mib << 20;
        plan.checkpoint_interval =
            std::time::Duration::from_secs(self.config.wipe.journal_every_seconds);
        plan
    }

    /// Checks the actor (IT staff or a manager), the method and every target, and
    /// claims the targets; refuses the whole list if any target may not be wiped.
    /// Nothing is written anywhere.
    pub fn prepare_wipe<P: AsRef<Path>>(
        &self,
        paths: &[P],
        options: &WipeOptions,
    ) -> Result<WipeJob> {
        self.actor
            .require_role(&[Role::It, Role::Manager], "wipe media")?;
        if paths.is_empty() {
            return Err(Error::Nothing {
                what: crate::error::Nothing::ToWipe,
            });
        }
        let method = Method::parse(&options.method, options.passes)?;
        let mut plan = self.plan(method);
        plan.verify = options.verify;
        plan.blank = options.blank;
        let patterns = method
            .passes(options.blank)?
            .iter()
            .map(|p| p.label())
            .collect();
        let given_serial = options
            .serial
            .as_deref()
            .map(|s| crate::registers::requests::one_line(crate::error::Field::Serial, s, 200))
            .transpose()?;
        let asset_tag = options
            .asset_tag
            .as_deref()
            .map(|s| crate::registers::requests::one_line(crate::error::Field::AssetTag, s, 200))
            .transpose()?;
        let details = options.details.checked()?;
        if given_serial.is_some() && paths.len() != 1 {
            return Err(Error::SerialForSeveral);
        }
        self.refuse_data_home(paths)?;
        let targets = custody_wipe::check_all(paths, &protected_home(&self.home)?)?;
        let courses = targets
            .iter()
            .map(|_| Course::new(method, options.blank))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut identities: Vec<TargetIdentity> = targets.iter().map(TargetIdentity::of).collect();
        refuse_hidden(&identities)?;
        if let (Some(given), Some(identity)) = (&given_serial, identities.first_mut()) {
            match &identity.serial {
                Some(read) if read != given => {
                    return Err(Error::SerialMismatch {
                        path: identity.path.clone(),
                        read: read.clone(),
                        given: given.clone(),
                    });
                }
                Some(_) => {}
                None => {
                    identity.serial = Some(given.clone());
                    identity.serial_source = "operator";
                }
            }
        }
        Ok(WipeJob {
            targets,
            identities,
            plan,
            patterns,
            asset_tag,
            destination: options.destination,
            details,
            courses,
            resumed: None,
        })
    }

    /// Takes up a wipe that did not finish (a signal, a power cut, SIGKILL, a device
    /// that went away): `reference` is the `WP-…` of a result that is not `erased`, or
    /// the number of the `wipe-start` entry (`custody audit` lists unfinished wipes).
    ///
    /// The targets are those of the wipe not yet erased, at the paths it recorded, or
    /// at `paths` (as many, in the same order) when their names changed. Each is
    /// checked like a new target, then must be the same device — size, serial, model,
    /// vendor, backing file by device and inode — and hold what the wipe wrote, at
    /// the blocks of the fingerprint its journal recorded last. Anything else is
    /// refused, and nothing is written anywhere.
    pub fn prepare_resume<P: AsRef<Path>>(&self, reference: &str, paths: &[P]) -> Result<WipeJob> {
        self.actor
            .require_role(&[Role::It, Role::Manager], "wipe media")?;
        let cannot = |why| Error::CannotResume {
            reference: reference.to_owned(),
            why,
        };
        let mut prover = self.ledger.prover(self.key.public());
        let start_seq = if reference.starts_with("WP-") {
            let entries = prover.about(reference)?;
            let result = entries
                .iter()
                .find(|e| e.kind == "wipe")
                .and_then(|e| e.payload.as_ref())
                .ok_or_else(|| cannot(ResumeProblem::NotAWipe))?;
            if result["status"] == "erased" {
                return Err(cannot(ResumeProblem::Finished));
            }
            result["start_seq"]
                .as_i64()
                .ok_or_else(|| cannot(ResumeProblem::NotAWipe))?
        } else {
            reference
                .trim_start_matches('#')
                .parse::<i64>()
                .map_err(|_| cannot(ResumeProblem::NotAWipe))?
        };
        let start = prover
            .of_kind("wipe-start")?
            .into_iter()
            .find(|e| e.seq == start_seq)
            .ok_or_else(|| cannot(ResumeProblem::NotAWipe))?;
        let erased: Vec<u64> = prover
            .of_kind("wipe")?
            .iter()
            .filter_map(|e| e.payload.as_ref())
            .filter(|p| p["start_seq"].as_i64() == Some(start_seq) && p["status"] == "erased")
            .filter_map(|p| p["target_index"].as_u64())
            .collect();
        let lines = Journal::read(&self.home, start_seq).map_err(|e| match e {
            Error::CannotResume { why, .. } => cannot(why),
            other => other,
        })?;
        let header = &lines[0];
        if header["start_seq"].as_i64() != Some(start_seq)
            || header["start_hash"].as_str() != Some(start.hash.as_str())
            || header["station_key"].as_str() != Some(self.key.public().key_id().as_str())
        {
            return Err(cannot(ResumeProblem::JournalMismatch));
        }
        let listed = header["targets"]
            .as_array()
            .ok_or_else(|| cannot(ResumeProblem::JournalDamaged))?;
        let left: Vec<(usize, &Value)> = listed
            .iter()
            .enumerate()
            .filter(|(i, _)| !erased.contains(&(*i as u64)))
            .collect();
        if left.is_empty() {
            return Err(cannot(ResumeProblem::Finished));
        }
        let method = Method::parse(
            header["method"].as_str().unwrap_or_default(),
            header["random_passes"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok()),
        )?;
        let mut plan = self.plan(method);
        plan.blank = header["blank"] == true;
        plan.verify = match header["verify"].as_str() {
            Some("off") => VerifyMode::Off,
            Some("all") => VerifyMode::All,
            _ => VerifyMode::Last,
        };
        let named: Vec<PathBuf> = if paths.is_empty() {
            left.iter()
                .map(|(_, t)| PathBuf::from(t["device"]["path"].as_str().unwrap_or_default()))
                .collect()
        } else if paths.len() == left.len() {
            paths.iter().map(|p| p.as_ref().to_path_buf()).collect()
        } else {
            return Err(cannot(ResumeProblem::TargetCount { left: left.len() }));
        };
        self.refuse_data_home(&named)?;
        let targets = custody_wipe::check_all(&named, &protected_home(&self.home)?)?;
        let mut identities = Vec::new();
        let mut courses = Vec::new();
        for ((index, listed), target) in left.iter().zip(&targets) {
            let mut identity = TargetIdentity::of(target);
            refuse_hidden(std::slice::from_ref(&identity))?;
            let was = &listed["device"];
            if let Err(why) = same_device(was, &identity) {
                return Err(Error::ResumeDevice {
                    reference: reference.to_owned(),
                    path: identity.path,
                    why,
                });
            }
            if identity.serial.is_none() {
                identity.serial = was["serial"].as_str().map(str::to_owned);
                identity.serial_source = "operator";
            }
            let passes = resume::patterns_from(&listed["patterns"])
                .ok_or_else(|| cannot(ResumeProblem::JournalDamaged))?;
            let history = History::of(&lines, *index, target.size);
            let mut course = Course {
                passes,
                seed: resume::seed(&self.key, &start.hash, *index)?,
                from: Position::default(),
            };
            if let Some((at, fp)) = &history.last {
                course.from = *at;
                if resume::expected_fingerprint(&course, target.size, *at) != *fp {
                    return Err(Error::ResumeDevice {
                        reference: reference.to_owned(),
                        path: identity.path,
                        why: DeviceChange::Journal,
                    });
                }
                let samples = custody_wipe::fingerprint::samples(target.size, *at);
                let expected = custody_wipe::fingerprint::expected(&course, &samples);
                let found =
                    custody_wipe::fingerprint::read(target, &samples).map_err(|e| Error::File {
                        path: identity.resolved.clone(),
                        source: e,
                    })?;
                if found.len() != expected.len() {
                    return Err(cannot(ResumeProblem::JournalDamaged));
                }
                if let Some((pass, offset)) =
                    custody_wipe::fingerprint::first_difference(&course, *at, &samples, &found)
                {
                    return Err(Error::ResumeDevice {
                        reference: reference.to_owned(),
                        path: identity.path,
                        why: DeviceChange::Written {
                            pass: pass + 1,
                            offset,
                        },
                    });
                }
            }
            identities.push(identity);
            courses.push(course);
        }
        let patterns = courses
            .first()
            .map(|c| c.passes.iter().map(|p| p.label()).collect())
            .unwrap_or_default();
        Ok(WipeJob {
            targets,
            identities,
            plan,
            patterns,
            asset_tag: header["asset_tag"].as_str().map(str::to_owned),
            destination: header["destination"]
                .as_str()
                .and_then(|d| Destination::parse(d).ok()),
            details: serde_json::from_value(header["details"].clone()).unwrap_or_default(),
            courses,
            resumed: Some(Resumed {
                reference: reference.to_owned(),
                start_seq,
                start_hash: start.hash,
                indexes: left.iter().map(|(i, _)| *i).collect(),
            }),
        })
    }

    /// Records `wipe-start`, wipes every target of `job` at the same time, then
    /// records one `wipe` entry per target; returns them in the order of the targets.
    ///
    /// Setting `stop` (from a signal handler) stops every worker at its next chunk;
    /// those targets end `interrupted` and are recorded as such.
    pub fn run_wipe(
        &mut self,
        job: WipeJob,
        reporter: &dyn Reporter,
        stop: &AtomicBool,
    ) -> Result<Vec<WipeResult>> {
        let role = self
            .actor
            .require_role(&[Role::It, Role::Manager], "wipe media")?;
        // The department of the person who wipes, on the record itself (004 art.11-6).
        let department = self.department_of(&self.actor.name)?;
        let operator = json!({
            "name": self.actor.name, "role": role.as_str(), "department": department,
            "title": job.details.title, "contact": job.details.contact,
            "location": job.details.location,
        });
        let station = json!({
            "name": self.config.station,
            "organisation": self.config.organisation,
            "key_id": self.key.public().key_id(),
        });
        let actor = self.actor.name.clone();
        let WipeJob {
            targets,
            identities,
            plan,
            patterns,
            asset_tag,
            destination,
            details,
            mut courses,
            resumed,
        } = job;
        let labels: Vec<Vec<String>> = courses
            .iter()
            .map(|c| c.passes.iter().map(|p| p.label()).collect())
            .collect();

        let (start_seq, start_hash, indexes, resume_seq, journal) = match &resumed {
            None => {
                let start = self.write(|w| {
                    let mut listed = Vec::new();
                    for (identity, passes) in identities.iter().zip(&labels) {
                        let medium = medium_of(w, identity)?;
                        listed
                            .push(json!({ "device": identity, "media": medium, "passes": passes }));
                    }
                    w.append(
                        &actor,
                        "wipe-start",
                        "",
                        &json!({
                            "targets": listed,
                            "method": plan.method.name(),
                            "category": CATEGORY,
                            "passes": patterns,
                            "blank": plan.blank,
                            "verify": plan.verify.as_str(),
                            "operator": operator,
                            "station": station,
                            "tool": tool(),
                        }),
                    )
                })?;
                let header = json!({
                    "journal": resume::JOURNAL_FORMAT,
                    "start_seq": start.seq,
                    "start_hash": start.hash,
                    "station_key": self.key.public().key_id(),
                    "method": plan.method.name(),
                    "random_passes": match plan.method {
                        Method::Random { passes } => Some(passes),
                        _ => None,
                    },
                    "blank": plan.blank,
                    "verify": plan.verify.as_str(),
                    "asset_tag": asset_tag,
                    "destination": destination,
                    "details": details,
                    "targets": identities.iter().zip(&courses).zip(&labels).enumerate().map(
                        |(index, ((identity, course), passes))| json!({
                            "index": index,
                            "device": identity,
                            "passes": passes,
                            "patterns": resume::patterns_json(&course.passes),
                        }),
                    ).collect::<Vec<_>>(),
                });
                let journal = Journal::create(&self.home, start.seq, &header)?;
                let indexes = (0..identities.len()).collect();
                (start.seq, start.hash, indexes, None, journal)
            }
            Some(r) => {
                let from: Vec<Value> = r
                    .indexes
                    .iter()
                    .zip(&courses)
                    .map(|(index, c)| json!({ "t": index, "pass": c.from.pass, "offset": c.from.offset }))
                    .collect();
                let listed: Vec<Value> = identities
                    .iter()
                    .zip(&r.indexes)
                    .zip(&courses)
                    .map(|((identity, index), c)| {
                        json!({
                            "index": index, "device": identity,
                            "pass": c.from.pass + 1, "offset": c.from.offset,
                        })
                    })
                    .collect();
                let entry = self.write(|w| {
                    w.append(
                        &actor,
                        "wipe-resume",
                        "",
                        &json!({
                            "start_seq": r.start_seq,
                            "resumed": r.reference,
                            "targets": listed,
                            "operator": operator,
                            "station": station,
                            "tool": tool(),
                        }),
                    )
                })?;
                let (mut journal, _) = Journal::open(&self.home, r.start_seq)?;
                journal.line(&json!({
                    "event": "resumed", "seq": entry.seq, "from": from,
                    "at": clock::stamp(clock::now()),
                }))?;
                (
                    r.start_seq,
                    r.start_hash.clone(),
                    r.indexes.clone(),
                    Some(entry.seq),
                    journal,
                )
            }
        };
        // Every random pass comes from a seed the station can derive again to resume.
        for (course, index) in courses.iter_mut().zip(&indexes) {
            course.seed = resume::seed(&self.key, &start_hash, *index)?;
        }

        let sizes = targets.iter().map(|t| t.size).collect();
        let journaling =
            Journaling::new(reporter, journal, courses.clone(), sizes, indexes.clone());
        let reports = custody_wipe::run_courses(
            targets,
            courses.into_iter().map(Ok).collect(),
            &plan,
            &journaling,
            stop,
        );
        let (mut journal, mut journal_error) = journaling.finish().map_or(
            (None, Some("the journal's writer stopped".to_owned())),
            |(j, e)| (Some(j), e),
        );
        for (report, index) in reports.iter().zip(&indexes) {
            if report.status != Status::Erased {
                journal_line(
                    &mut journal,
                    &mut journal_error,
                    json!({ "event": "stopped", "t": index, "how": report.status.as_str() }),
                );
            }
        }
        // Every run's lines, this one's included, for the history of a resumed wipe.
        let lines = match resume_seq {
            Some(_) => Journal::read(&self.home, start_seq).ok(),
            None => None,
        };

        let recording = Recording {
            actor,
            operator,
            station,
            organisation: self.config.organisation.clone(),
            station_name: self.config.station.clone(),
            asset_tag,
            destination,
            origin: details.origin.clone(),
            blank: plan.blank,
            start_seq,
            resume_seq,
            journal_error: journal_error.clone(),
            ended: clock::stamp(clock::now()),
        };
        let results: Vec<WipeResult> = self.write_signed(|w, key| {
            reports
                .into_iter()
                .zip(identities)
                .zip(indexes.iter().zip(&labels))
                .map(|((report, identity), (index, labels))| {
                    let history = lines
                        .as_ref()
                        .map(|lines| History::of(lines, *index, report.size));
                    let place = Place {
                        index: *index,
                        labels,
                        history: history.as_ref(),
                    };
                    record_result_in(w, key, &recording, report, identity, &place)
                })
                .collect()
        })?;
        for (r, index) in results.iter().zip(&indexes) {
            journal_line(
                &mut journal,
                &mut journal_error,
                json!({
                    "event": "done", "t": index, "status": r.payload["status"], "id": r.id.as_str(),
                }),
            );
        }
        Ok(results)
    }
}

/// Refuses a target whose HPA or DCO hides sectors: an overwrite would leave them, and
/// its certificate would say erased.
fn refuse_hidden(identities: &[TargetIdentity]) -> Result<()> {
    match identities.iter().find(|i| i.hidden_areas.hides_sectors()) {
        Some(i) => Err(Error::HiddenArea {
            path: i.path.clone(),
            state: i.hidden_areas.state,
            visible: i.hidden_areas.visible_sectors.unwrap_or_default(),
            real: i.hidden_areas.real_sectors().unwrap_or_default(),
        }),
        None => Ok(()),
    }
}

/// Appends a timestamped line to the journal, keeping the first error.
fn journal_line(journal: &mut Option<Journal>, error: &mut Option<String>, mut line: Value) {
    line["at"] = Value::String(clock::stamp(clock::now()));
    if let Some(Err(e)) = journal.as_mut().map(|j| j.line(&line)) {
        error.get_or_insert_with(|| e.to_string());
    }
}

/// Whether `now` is the device a wipe recorded as `was` (its `device`).
fn same_device(was: &Value, now: &TargetIdentity) -> std::result::Result<(), DeviceChange> {
    if was["size"].as_u64() != Some(now.size) {
        return Err(DeviceChange::Size {
            was: was["size"].as_u64().unwrap_or_default(),
            now: now.size,
        });
    }
    let describe = |serial: Option<&str>, model: Option<&str>, vendor: Option<&str>, kind: &str| {
        format!(
            "{kind}, serial {}, model {}, vendor {}",
            serial.unwrap_or("-"),
            model.unwrap_or("-"),
            vendor.unwrap_or("-")
        )
    };
    // A serial the operator typed is only what they typed; one the device reports
    // must be reported again.
    let was_serial = (was["serial_source"] == "device")
        .then(|| was["serial"].as_str())
        .flatten();
    let now_serial = (now.serial_source == "device")
        .then_some(now.serial.as_deref())
        .flatten();
    let was_id = (
        was_serial,
        was["model"].as_str(),
        was["vendor"].as_str(),
        was["kind"].as_str(),
    );
    let now_id = (
        now_serial,
        now.model.as_deref(),
        now.vendor.as_deref(),
        Some(now.kind),
    );
    if was_id != now_id {
        return Err(DeviceChange::Identity {
            was: describe(was_id.0, was_id.1, was_id.2, was_id.3.unwrap_or("-")),
            now: describe(now_id.0, now_id.1, now_id.2, now.kind),
        });
    }
    let was_file = (was["source"].as_str(), was["source_file"].as_str());
    let now_source = now.source.as_ref().map(|s| s.display().to_string());
    let now_file = (now_source.as_deref(), now.source_file.as_deref());
    if was_file != now_file {
        let show = |(path, id): (Option<&str>, Option<&str>)| {
            format!("{} ({})", path.unwrap_or("-"), id.unwrap_or("-"))
        };
        return Err(DeviceChange::Backing {
            was: show(was_file),
            now: show(now_file),
        });
    }
    Ok(())
}

/// Where a result stands in its wipe: the target's place in the journal, the labels of
/// its passes and, resumed, its history over every run.
struct Place<'a> {
    index: usize,
    labels: &'a [String],
    history: Option<&'a History>,
}

/// What every result of one wipe run is recorded with.
struct Recording {
    actor: String,
    operator: Value,
    station: Value,
    organisation: String,
    station_name: String,
    asset_tag: Option<String>,
    destination: Option<Destination>,
    /// The machine or person the media came from.
    origin: Option<String>,
    blank: bool,
    /// The `wipe-start` entry the results answer.
    start_seq: i64,
    /// The `wipe-resume` entry of this run, when it continued an earlier one.
    resume_seq: Option<i64>,
    /// The first error writing the journal, if any.
    journal_error: Option<String>,
    /// When the run ended, for a target that wrote no pass.
    ended: String,
}

/// One target's `wipe` entry (`WP-…`) and its signed erasure certificate (`EC-…`),
/// inside the transaction that records the run.
fn record_result_in(
    w: &mut crate::ledger::Writer<'_>,
    key: &crate::keys::StationKey,
    r: &Recording,
    mut report: TargetReport,
    identity: TargetIdentity,
    place: &Place<'_>,
) -> Result<WipeResult> {
    let registered = registered_in(w, &identity)?;
    let medium = registered.as_ref().map(|m| m.id.clone());
    let (passes, interruptions, resumptions) = match place.history {
        Some(h) => {
            // A read-back that failed in an earlier run fails the whole wipe.
            if h.verify_failed && report.status == Status::Erased {
                report.status = Status::Failed;
                report.verify.result = VerifyResult::Failed;
            }
            (
                h.passes_json(place.labels, report.size),
                h.interruptions.clone(),
                h.resumptions.clone(),
            )
        }
        None => (passes_json(&report), Vec::new(), Vec::new()),
    };
    let payload = json!({
        "target": identity.path,
        "status": report.status.as_str(),
        "method": report.method,
        "category": CATEGORY,
        "flash": report.flash,
        "flash_note": report.flash.then_some(FLASH_NOTE),
        "blank": r.blank,
        "direct_io": report.direct_io,
        "started": passes.first().map(|p| p["start"].clone()),
        "ended": report.passes.last().map_or_else(|| r.ended.clone(), |p| stamp(p.ended)),
        "device": identity,
        "media": medium,
        "origin": r.origin,
        "passes": passes,
        "interruptions": interruptions,
        "resumptions": resumptions,
        "verify": {
            "mode": report.verify.mode.as_str(),
            "result": report.verify.result.as_str(),
            "bytes": report.verify.bytes_verified,
            "mismatches": report.verify.mismatches,
            "first_mismatches": report.verify.first_mismatches,
        },
        "errors": errors_json(&report),
        "aborted": report.aborted,
        "operator": r.operator,
        "station": r.station,
        "tool": tool(),
        "start_seq": r.start_seq,
        "resume_seq": r.resume_seq,
        "target_index": place.index,
        "journal_error": r.journal_error,
    });
    let (id, appended) = w.create_record(&r.actor, "wipe", "WP", payload.clone())?;
    let mut payload = payload;
    if let Value::Object(map) = &mut payload {
        map.insert("id".into(), Value::String(id.to_string()));
    }
    // The sanitizer's own signature: the one their key made of the wipe entry, which
    // anyone checks with minisign against `custody-entry/v1` and the entry's hash.
    let signature = w.actor_signature(appended.seq)?;
    let document = certificate_document(
        &payload,
        &identity,
        r,
        registered.map(|m| m.kind),
        (appended.seq, &appended.hash),
        signature.as_ref(),
    );
    let cert = issue_in(
        w,
        key,
        Issue {
            actor: &r.actor,
            kind: crate::erasure::certificate::CertificateKind::Erasure,
            prefix: "EC",
            subject: id.as_str(),
            serial: identity.serial.as_deref(),
            status: report.status.as_str(),
        },
        document,
    )?;
    Ok(WipeResult {
        id,
        certificate: cert.id,
        seq: appended.seq,
        hash: appended.hash,
        status: report.status,
        report,
        identity,
        payload,
    })
}

/// The `custody.erasure-certificate/v1` document for one wipe result (see
/// docs/certificate-format.md); the certificate id and issue time are added when it is
/// issued.
fn certificate_document(
    payload: &Value,
    identity: &TargetIdentity,
    r: &Recording,
    registered_kind: Option<media::MediaKind>,
    (seq, hash): (i64, &str),
    signature: Option<&crate::ledger::PersonalSignature>,
) -> Value {
    let mut operator = payload["operator"].clone();
    if let Value::Object(map) = &mut operator {
        map.insert("date".into(), payload["ended"].clone());
        map.insert(
            "signature".into(),
            signature.map_or(Value::Null, |s| {
                s.to_json("custody-entry/v1", &[("entry_hash", hash)])
            }),
        );
    }
    let medium_type = if identity.kind == "image-file" {
        "other"
    } else if identity.flash {
        "flash"
    } else if identity.rotational == Some(true) {
        "magnetic"
    } else {
        "other"
    };
    let passes: Vec<Value> = payload["passes"]
        .as_array()
        .map(|passes| {
            passes
                .iter()
                .map(|p| json!({ "pattern": p["pattern"], "bytes": p["bytes"], "start": p["start"], "end": p["end"] }))
                .collect()
        })
        .unwrap_or_default();
    let errors: Vec<Value> = payload["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| json!({ "pass": e["pass"], "op": e["op"], "offset": e["offset"], "length": e["length"], "errno": e["errno"] }))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "schema": "custody.erasure-certificate/v1",
        "organisation": r.organisation,
        "station": r.station_name,
        "operator": operator,
        "medium": {
            "type": medium_type,
            "registered_kind": registered_kind,
            "manufacturer": identity.vendor,
            "model": identity.model,
            "serial": identity.serial.clone().unwrap_or_default(),
            "serial_source": identity.serial_source,
            "firmware": identity.firmware,
            "size_bytes": identity.size,
            "transport": identity.transport,
            "asset_tag": r.asset_tag,
            "source": identity.source.as_ref().unwrap_or(&identity.resolved).display().to_string(),
            "device": identity.resolved.display().to_string(),
            "rotational": identity.rotational,
            "removable": identity.removable,
            "media_record": payload["media"],
            "hidden_areas": identity.hidden_areas,
            "origin": payload["origin"],
            "power_on_hours": identity.smart.power_on_hours,
            "health": identity.smart.health,
            "smart": identity.smart,
        },
        "sanitization": {
            "category": CATEGORY,
            "method": payload["method"],
            "blank": payload["blank"],
            "passes": passes,
            "tool": payload["tool"],
            "verification": {
                "mode": payload["verify"]["mode"],
                "result": payload["verify"]["result"],
                "mismatches": payload["verify"]["mismatches"],
            },
            "errors": errors,
            "flash_note": payload["flash_note"],
            "interruptions": payload["interruptions"],
            "resumptions": payload["resumptions"],
            "started": payload["started"],
            "ended": payload["ended"],
        },
        "status": payload["status"],
        "destination": r.destination,
        "ledger": { "seq": seq, "hash": hash },
        "validator": {},
    })
}

/// The id of the registered medium with the target's serial, if any.
fn medium_of(w: &crate::ledger::Writer<'_>, identity: &TargetIdentity) -> Result<Option<RecordId>> {
    Ok(registered_in(w, identity)?.map(|m| m.id))
}

/// The medium the register holds under the target's serial, if any.
fn registered_in(
    w: &crate::ledger::Writer<'_>,
    identity: &TargetIdentity,
) -> Result<Option<media::Medium>> {
    match &identity.serial {
        Some(serial) => media::by_serial_in(w, serial),
        None => Ok(None),
    }
}

fn tool() -> Value {
    json!({
        "name": "custody",
        "version": crate::VERSION,
        "engine_version": custody_wipe::VERSION,
    })
}

fn stamp(at: SystemTime) -> String {
    clock::stamp(DateTime::<Utc>::from(at))
}

fn passes_json(report: &TargetReport) -> Vec<Value> {
    report
        .passes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({
                "pass": i + 1,
                "pattern": p.pattern,
                "bytes": p.bytes_written,
                "start": stamp(p.started),
                "end": stamp(p.ended),
                "complete": p.complete,
                "verified": p.verified,
            })
        })
        .collect()
}

fn errors_json(report: &TargetReport) -> Vec<Value> {
    report
        .errors
        .iter()
        .map(|e| {
            json!({
                "pass": e.pass + 1,
                "op": match e.op {
                    IoOp::Write => "write",
                    IoOp::Read => "read",
                    IoOp::Flush => "flush",
                },
                "offset": e.offset,
                "length": e.length,
                "errno": e.errno,
                "message": e.message,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registers::media::NewMedium;

    fn station(dir: &Path, actor: &str) -> Station {
        let home = dir.join("home");
        if !home.exists() {
            crate::people::register::testing::home(
                &home,
                "sato",
                &[("ito", Role::It), ("suzuki", Role::Clerk)],
            );
        }
        crate::people::register::testing::open(&home, actor)
    }

    fn image(dir: &Path, len: usize) -> PathBuf {
        let path = dir.join("disk.img");
        std::fs::write(&path, vec![0x5A_u8; len]).unwrap();
        path
    }

    fn options(method: &str) -> WipeOptions {
        WipeOptions {
            method: method.into(),
            passes: None,
            verify: VerifyMode::Last,
            blank: false,
            serial: None,
            asset_tag: None,
            destination: None,
            details: WipeDetails::default(),
        }
    }

    #[test]
    fn an_image_is_wiped_and_recorded_with_every_field_a_certificate_needs() {
        let dir = tempfile::tempdir().unwrap();
        let img = image(dir.path(), 3 * 4096 + 100);
        let mut st = station(dir.path(), "ito");
        let mut opts = options("hmg-is5");
        opts.blank = true;
        let job = st.prepare_wipe(&[&img], &opts).unwrap();
        assert_eq!(job.passes(), ["0x00", "0xFF", "random", "0x00"]);
        assert_eq!(job.targets()[0].kind, "image-file");
        let results = st
            .run_wipe(job, &NoReport, &AtomicBool::new(false))
            .unwrap();
        assert_eq!(results.len(), 1);
        let r = &results[0];
        assert_eq!(r.status, Status::Erased);
        assert_eq!(r.id.as_str(), "WP-1");
        let p = &r.payload;
        assert_eq!(p["id"], "WP-1");
        assert_eq!(p["status"], "erased");
        assert_eq!(p["method"], "hmg-is5");
        assert_eq!(p["category"], "clear");
        assert_eq!(p["passes"].as_array().unwrap().len(), 4);
        assert_eq!(p["passes"][3]["bytes"], 3 * 4096 + 100);
        assert!(p["passes"][0]["start"].as_str().unwrap().ends_with('Z'));
        assert_eq!(p["verify"]["result"], "passed");
        assert_eq!(p["operator"]["role"], "it");
        assert_eq!(p["station"]["name"], "desk-1");
        assert_eq!(p["tool"]["name"], "custody");
        assert_eq!(
            p["device"]["source"],
            img.canonicalize().unwrap().to_str().unwrap()
        );
        assert!(std::fs::read(&img).unwrap().iter().all(|&b| b == 0));
        // The recorded payload is what the result carries.
        let entries = st
            .log(&crate::ledger::LogFilter {
                kind: Some("wipe".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].payload.as_ref(), Some(&r.payload));
        assert_eq!(entries[0].seq, r.seq);
        let start = st
            .log(&crate::ledger::LogFilter {
                kind: Some("wipe-start".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(start.len(), 1);
        assert_eq!(p["start_seq"], start[0].seq);
        assert!(start[0].seq < r.seq);
        st.verify(None, None).unwrap();
    }

    #[test]
    fn a_disk_whose_hpa_hides_sectors_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let img = image(dir.path(), 4096);
        let st = station(dir.path(), "ito");
        let job = st.prepare_wipe(&[&img], &options("zero")).unwrap();
        let mut identity = job.targets()[0].clone();
        assert_eq!(identity.hidden_areas.state, "not-applicable");
        refuse_hidden(std::slice::from_ref(&identity)).unwrap();
        // As hdparm reports a 500 GB disk with 2113 sectors behind an HPA.
        identity.hidden_areas = crate::erasure::hidden::decide(
            976771055,
            Some(" max sectors   = 976771055/976773168, HPA is enabled"),
            None,
        );
        let err = refuse_hidden(&[identity]).unwrap_err();
        assert!(err.is_refusal());
        assert!(err.to_string().contains("976771055 of 976773168"), "{err}");
    }

    #[test]
    fn a_clerk_is_refused_before_anything_is_touched() {
        let dir = tempfile::tempdir().unwrap();
        let img = image(dir.path(), 4096);
        let _ = station(dir.path(), "sato");
        let st = station(dir.path(), "suzuki");
        let err = st.prepare_wipe(&[&img], &options("zero")).unwrap_err();
        assert!(err.is_refusal(), "{err}");
        assert!(std::fs::read(&img).unwrap().iter().all(|&b| b == 0x5A));
    }

    #[test]
    fn bad_methods_and_refused_targets_are_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let img = image(dir.path(), 4096);
        let st = station(dir.path(), "ito");
        let err = st.prepare_wipe(&[&img], &options("rot13")).unwrap_err();
        assert!(err.is_refusal(), "{err}");
        let mut opts = options("zero");
        opts.passes = Some(3);
        assert!(st.prepare_wipe(&[&img], &opts).unwrap_err().is_refusal());
        let err = st
            .prepare_wipe(&[img.as_path(), dir.path()], &options("zero"))
            .unwrap_err();
        assert!(err.is_refusal(), "{err}");
        assert!(std::fs::read(&img).unwrap().iter().all(|&b| b == 0x5A));
    }

    #[test]
    fn a_registered_medium_is_found_by_serial() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = station(dir.path(), "ito");
        let id = st
            .add_medium(&NewMedium::new(
                crate::registers::media::MediaKind::Usb,
                "SN-0042",
            ))
            .unwrap();
        let mut identity = TargetIdentity {
            path: "/dev/sdz".into(),
            resolved: "/dev/sdz".into(),
            kind: "block-device",
            name: Some("sdz".into()),
            model: None,
            vendor: None,
            serial: Some("SN-0042".into()),
            serial_source: "device",
            size: 1,
            transport: "usb",
            rotational: Some(false),
            removable: Some(true),
            flash: true,
            logical_sector: 512,
            physical_sector: Some(512),
            source: None,
            source_file: None,
            hidden_areas: crate::erasure::hidden::check(
                Path::new("/dev/sdz"),
                "loop",
                "block-device",
                1,
            ),
            firmware: None,
            smart: crate::erasure::smart::read(Path::new("/dev/sdz"), "loop", "block-device"),
        };
        let found = st.write(|w| medium_of(w, &identity)).unwrap();
        assert_eq!(found, Some(id));
        identity.serial = Some("other".into());
        assert_eq!(st.write(|w| medium_of(w, &identity)).unwrap(), None);
    }
}
