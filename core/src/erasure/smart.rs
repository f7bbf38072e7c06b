//! What a drive says of itself beyond sysfs: firmware revision, power-on hours and
//! SMART health, from `smartctl --json` (smartmontools) when it is installed, and the
//! firmware revision from sysfs otherwise. NIST SP 800-88 Rev. 2 asks for the
//! manufacturer, model, serial and firmware of every sanitized medium; the hours and
//! the health say what kind of drive was handed on.
//!
//! Parsing ([`parse`]) works on smartctl's JSON, so that it is tested on recorded
//! output of real drives; running the tool is [`read`].

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

/// What smartctl reported, or why nothing was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmartInfo {
    /// `read`, `not-available` (the device cannot have SMART data: a loop device, an
    /// image) or `not-read` (no smartctl, or it could not read the drive).
    pub state: &'static str,
    /// The model as the drive reports it.
    pub model: Option<String>,
    /// The serial number as the drive reports it.
    pub serial: Option<String>,
    /// The firmware revision.
    pub firmware: Option<String>,
    /// Hours powered on.
    pub power_on_hours: Option<u64>,
    /// `passed` or `failed`: the drive's overall SMART health assessment.
    pub health: Option<&'static str>,
    /// The smartctl version that read it.
    pub tool: Option<String>,
    /// Why nothing was read.
    pub note: Option<String>,
}

impl SmartInfo {
    fn without(state: &'static str, note: impl Into<String>) -> SmartInfo {
        SmartInfo {
            state,
            model: None,
            serial: None,
            firmware: None,
            power_on_hours: None,
            health: None,
            tool: None,
            note: Some(note.into()),
        }
    }
}

/// Parses `smartctl --json -i -H -A` output (ATA, SCSI or NVMe); `None` when it is not
/// smartctl's JSON or names no drive.
pub fn parse(output: &str) -> Option<SmartInfo> {
    let v: Value = serde_json::from_str(output).ok()?;
    let text = |key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let model = text("model_name").or_else(|| {
        // SCSI drives give vendor and product apart.
        let product = text("scsi_product")?;
        Some(match text("scsi_vendor") {
            Some(vendor) => format!("{vendor} {product}"),
            None => product,
        })
    });
    let serial = text("serial_number");
    if model.is_none() && serial.is_none() {
        return None;
    }
    let hours = v
        .pointer("/power_on_time/hours")
        .and_then(Value::as_u64)
        .or_else(|| {
            v.pointer("/nvme_smart_health_information_log/power_on_hours")
                .and_then(Value::as_u64)
        });
    let health = v
        .pointer("/smart_status/passed")
        .and_then(Value::as_bool)
        .map(|ok| if ok { "passed" } else { "failed" });
    let tool = v
        .pointer("/smartctl/version")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter_map(Value::as_u64)
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(".")
        })
        .map(|version| format!("smartctl {version}"));
    Some(SmartInfo {
        state: "read",
        model,
        serial,
        firmware: text("firmware_version").or_else(|| text("scsi_revision")),
        power_on_hours: hours,
        health,
        tool,
        note: None,
    })
}

/// Reads a target: `transport` as `custody devices` shows it.
pub fn read(path: &Path, transport: &str, kind: &str) -> SmartInfo {
    if kind == "image-file" || transport == "loop" {
        return SmartInfo::without(
            "not-available",
            "a loop device or an image file has no SMART data",
        );
    }
    let Some(smartctl) = crate::erasure::tool::find("smartctl") else {
        return SmartInfo::without(
            "not-read",
            "smartctl is not installed (Debian package smartmontools)",
        );
    };
    let out = crate::erasure::tool::output(
        &smartctl,
        &["--json", "-i", "-H", "-A"],
        path,
        Duration::from_secs(20),
        false,
    );
    match out.as_deref().and_then(parse) {
        Some(info) => info,
        None => SmartInfo::without("not-read", "smartctl could not read the drive"),
    }
}

/// The firmware revision the kernel shows for block device `name` (NVMe, SCSI, ATA
/// and USB disks), when it shows one.
pub fn sysfs_firmware(name: &str) -> Option<String> {
    ["firmware_rev", "rev"].iter().find_map(|file| {
        std::fs::read_to_string(format!("/sys/class/block/{name}/device/{file}"))
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Trimmed from what smartctl 7.3 prints for a SATA hard disk and an NVMe drive.
    const SATA: &str = r#"{
      "json_format_version": [1, 0],
      "smartctl": {"version": [7, 3], "exit_status": 4},
      "device": {"name": "/dev/sdb", "type": "sat", "protocol": "ATA"},
      "model_family": "Western Digital Blue",
      "model_name": "WDC WD5000AAKX-00ERMA0",
      "serial_number": "WD-WCC2EV123456",
      "firmware_version": "15.01H15",
      "user_capacity": {"blocks": 976773168, "bytes": 500107862016},
      "rotation_rate": 7200,
      "smart_status": {"passed": true},
      "power_on_time": {"hours": 31457}
    }"#;
    const NVME: &str = r#"{
      "smartctl": {"version": [7, 3]},
      "device": {"name": "/dev/nvme0", "type": "nvme", "protocol": "NVMe"},
      "model_name": "Samsung SSD 970 EVO Plus 500GB",
      "serial_number": "S4EVNX0R123456",
      "firmware_version": "2B2QEXM7",
      "smart_status": {"passed": false},
      "nvme_smart_health_information_log": {"power_on_hours": 8123, "percentage_used": 3}
    }"#;
    const SCSI: &str = r#"{
      "smartctl": {"version": [7, 2]},
      "scsi_vendor": "SEAGATE", "scsi_product": "ST600MM0006", "scsi_revision": "LS0A",
      "serial_number": "S0M1ABCD",
      "smart_status": {"passed": true},
      "power_on_time": {"hours": 50210, "minutes": 12}
    }"#;
    const NO_DRIVE: &str = r#"{"smartctl": {"version": [7, 3], "messages": [{"string": "/dev/loop0: Unable to detect device type", "severity": "error"}], "exit_status": 1}}"#;

    #[test]
    fn recorded_smartctl_output_of_three_kinds_of_drive_is_read() {
        let sata = parse(SATA).unwrap();
        assert_eq!(sata.state, "read");
        assert_eq!(sata.model.as_deref(), Some("WDC WD5000AAKX-00ERMA0"));
        assert_eq!(sata.serial.as_deref(), Some("WD-WCC2EV123456"));
        assert_eq!(sata.firmware.as_deref(), Some("15.01H15"));
        assert_eq!(sata.power_on_hours, Some(31457));
        assert_eq!(sata.health, Some("passed"));
        assert_eq!(sata.tool.as_deref(), Some("smartctl 7.3"));

        let nvme = parse(NVME).unwrap();
        assert_eq!(nvme.power_on_hours, Some(8123));
        assert_eq!(nvme.health, Some("failed"));
        assert_eq!(nvme.firmware.as_deref(), Some("2B2QEXM7"));

        let scsi = parse(SCSI).unwrap();
        assert_eq!(scsi.model.as_deref(), Some("SEAGATE ST600MM0006"));
        assert_eq!(scsi.firmware.as_deref(), Some("LS0A"));
        assert_eq!(scsi.power_on_hours, Some(50210));
    }

    #[test]
    fn output_naming_no_drive_is_not_read() {
        assert_eq!(parse(NO_DRIVE), None);
        assert_eq!(parse("not json"), None);
        let p = Path::new("/dev/loop0");
        assert_eq!(read(p, "loop", "block-device").state, "not-available");
        assert_eq!(read(p, "file", "image-file").state, "not-available");
    }
}
