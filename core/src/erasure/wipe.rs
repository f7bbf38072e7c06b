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
//!   no `wipe` entry: the targets are in an unknown, partly overwritten state.
//! - If the final append fails after the wipe, the error says so; the targets have
//!   been overwritten as far as the engine got, and the `wipe-start` entry remains.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use custody_wipe::device::TargetKind;
use custody_wipe::{Device, IoOp, Method, Plan, Protected, Refusal, Target, TargetReport};
use serde::Serialize;
use serde_json::{Value, json};

pub use custody_wipe::method::METHOD_NAMES;
pub use custody_wipe::{NoReport, Reporter, Status, VerifyMode, VerifyResult};

use crate::clock;
use crate::erasure::certificate::{Issue, issue_in};
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
        Some(home) if home.join("ledger.db").exists() => protected_home(home)?,
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
}

impl TargetIdentity {
    fn of(target: &Target) -> Self {
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
}

impl WipeJob {
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
        let mut plan = Plan::new(method);
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
        if given_serial.is_some() && paths.len() != 1 {
            return Err(Error::SerialForSeveral);
        }
        self.refuse_data_home(paths)?;
        let targets = custody_wipe::check_all(paths, &protected_home(&self.home)?)?;
        let mut identities: Vec<TargetIdentity> = targets.iter().map(TargetIdentity::of).collect();
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
        } = job;

        let start = self.write(|w| {
            let mut listed = Vec::new();
            for identity in &identities {
                let medium = medium_of(w, identity)?;
                listed.push(json!({ "device": identity, "media": medium }));
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

        let reports = custody_wipe::run(targets, &plan, reporter, stop);

        let recording = Recording {
            actor,
            operator,
            station,
            organisation: self.config.organisation.clone(),
            station_name: self.config.station.clone(),
            asset_tag,
            destination,
            blank: plan.blank,
            start_seq: start.seq,
            ended: clock::stamp(clock::now()),
        };
        self.write_signed(|w, key| {
            reports
                .into_iter()
                .zip(identities)
                .map(|(report, identity)| record_result_in(w, key, &recording, report, identity))
                .collect()
        })
    }
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
    blank: bool,
    /// The `wipe-start` entry the results answer.
    start_seq: i64,
    /// When the run ended, for a target that wrote no pass.
    ended: String,
}

/// One target's `wipe` entry (`WP-…`) and its signed erasure certificate (`EC-…`),
/// inside the transaction that records the run.
fn record_result_in(
    w: &mut crate::ledger::Writer<'_>,
    key: &crate::keys::StationKey,
    r: &Recording,
    report: TargetReport,
    identity: TargetIdentity,
) -> Result<WipeResult> {
    let registered = registered_in(w, &identity)?;
    let medium = registered.as_ref().map(|m| m.id.clone());
    let payload = json!({
        "target": identity.path,
        "status": report.status.as_str(),
        "method": report.method,
        "category": CATEGORY,
        "flash": report.flash,
        "flash_note": report.flash.then_some(FLASH_NOTE),
        "blank": r.blank,
        "direct_io": report.direct_io,
        "started": report.passes.first().map(|p| stamp(p.started)),
        "ended": report.passes.last().map_or_else(|| r.ended.clone(), |p| stamp(p.ended)),
        "device": identity,
        "media": medium,
        "passes": passes_json(&report),
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
    });
    let (id, appended) = w.create_record(&r.actor, "wipe", "WP", payload.clone())?;
    let mut payload = payload;
    if let Value::Object(map) = &mut payload {
        map.insert("id".into(), Value::String(id.to_string()));
    }
    let document = certificate_document(
        &payload,
        &identity,
        r,
        registered.map(|m| m.kind),
        (appended.seq, &appended.hash),
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
) -> Value {
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
        "operator": payload["operator"],
        "medium": {
            "type": medium_type,
            "registered_kind": registered_kind,
            "manufacturer": identity.vendor,
            "model": identity.model,
            "serial": identity.serial.clone().unwrap_or_default(),
            "serial_source": identity.serial_source,
            "size_bytes": identity.size,
            "transport": identity.transport,
            "asset_tag": r.asset_tag,
            "source": identity.source.as_ref().unwrap_or(&identity.resolved).display().to_string(),
            "device": identity.resolved.display().to_string(),
            "rotational": identity.rotational,
            "removable": identity.removable,
            "media_record": payload["media"],
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
        };
        let found = st.write(|w| medium_of(w, &identity)).unwrap();
        assert_eq!(found, Some(id));
        identity.serial = Some("other".into());
        assert_eq!(st.write(|w| medium_of(w, &identity)).unwrap(), None);
    }
}
