//! Hidden areas of ATA disks: a Host Protected Area (HPA) or a Device Configuration
//! Overlay (DCO) makes a disk report fewer sectors than it has, and an overwrite of
//! what it reports leaves the rest untouched.
//!
//! For a disk that speaks ATA (SATA, and SATA behind a USB or SAS bridge that passes
//! ATA commands through), custody asks `hdparm -N` for the visible and native maximum
//! sectors, and `hdparm --dco-identify` for the real maximum a DCO may hide. A disk
//! whose visible size is smaller than either is refused before anything is written:
//! its hidden area must be removed first (`hdparm -N p<native>`, `hdparm --dco-restore`),
//! or it would be certified erased with data left in it. Where the check cannot be
//! made (no hdparm, a bridge that does not pass the commands, an NVMe drive, which
//! has neither, a loop device or an image), the certificate says so and why.
//!
//! The decision ([`decide`]) works on the tools' output, so that it is tested on
//! recorded output of real disks; running the tools is [`check`].

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

/// What the check found for one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HiddenAreas {
    /// `none` (checked: nothing hidden), `hpa`, `dco`, `hpa+dco`, `not-checked` or
    /// `not-applicable` (a device that cannot have them).
    pub state: &'static str,
    /// Sectors the disk reports now.
    pub visible_sectors: Option<u64>,
    /// The native maximum (`hdparm -N`), above which an HPA hides sectors.
    pub native_sectors: Option<u64>,
    /// The real maximum a DCO allows (`hdparm --dco-identify`).
    pub dco_sectors: Option<u64>,
    /// Why the check could not be made, or was not needed.
    pub note: Option<String>,
}

impl HiddenAreas {
    /// Whether sectors are hidden from the overwrite.
    pub fn hides_sectors(&self) -> bool {
        matches!(self.state, "hpa" | "dco" | "hpa+dco")
    }

    fn without(state: &'static str, note: impl Into<String>) -> HiddenAreas {
        HiddenAreas {
            state,
            visible_sectors: None,
            native_sectors: None,
            dco_sectors: None,
            note: Some(note.into()),
        }
    }

    /// The largest number of sectors the disk has, hidden ones included.
    pub fn real_sectors(&self) -> Option<u64> {
        self.native_sectors.max(self.dco_sectors)
    }
}

/// Parses `hdparm -N` output: ` max sectors   = 976771055/976773168, HPA is enabled`
/// gives (visible, native).
pub fn parse_max_sectors(output: &str) -> Option<(u64, u64)> {
    let line = output
        .lines()
        .find(|l| l.trim_start().starts_with("max sectors"))?;
    let value = line.split_once('=')?.1;
    let numbers = value.split(',').next()?.trim();
    let (visible, native) = numbers.split_once('/')?;
    Some((visible.trim().parse().ok()?, native.trim().parse().ok()?))
}

/// Parses `hdparm --dco-identify` output: its `Real max sectors: N` line.
pub fn parse_dco_max(output: &str) -> Option<u64> {
    output.lines().find_map(|l| {
        let (key, value) = l.trim().split_once(':')?;
        (key.trim().eq_ignore_ascii_case("real max sectors"))
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}

/// The decision on one ATA disk of `visible_sectors` (what the kernel reports), from
/// what `hdparm -N` and `hdparm --dco-identify` printed (`None` when they failed).
pub fn decide(visible_sectors: u64, max: Option<&str>, dco: Option<&str>) -> HiddenAreas {
    let max = max.and_then(parse_max_sectors);
    let dco = dco.and_then(parse_dco_max);
    let Some((visible, native)) = max else {
        return HiddenAreas {
            dco_sectors: dco,
            visible_sectors: Some(visible_sectors),
            ..HiddenAreas::without(
                "not-checked",
                "the disk did not answer READ NATIVE MAX ADDRESS (hdparm -N): a bridge that does not pass ATA commands through, or no ATA disk",
            )
        };
    };
    // The kernel's figure and the disk's must agree, else trust the smaller.
    let visible = visible.min(visible_sectors);
    let hpa = native > visible;
    let dco_hides = dco.is_some_and(|real| real > native.max(visible));
    let state = match (hpa, dco_hides) {
        (false, false) => "none",
        (true, false) => "hpa",
        (false, true) => "dco",
        (true, true) => "hpa+dco",
    };
    HiddenAreas {
        state,
        visible_sectors: Some(visible),
        native_sectors: Some(native),
        dco_sectors: dco,
        note: dco.is_none().then(|| {
            "the disk gave no DCO identify data (hdparm --dco-identify): a DCO could not be checked".to_owned()
        }),
    }
}

/// Checks a target: `transport` as `custody devices` shows it, `sectors` its size in
/// 512-byte units. Runs hdparm for ATA-capable transports only.
pub fn check(path: &Path, transport: &str, kind: &str, sectors: u64) -> HiddenAreas {
    if kind == "image-file" {
        return HiddenAreas::without("not-applicable", "an image file has no hidden areas");
    }
    match transport {
        "loop" => {
            return HiddenAreas::without("not-applicable", "a loop device has no hidden areas");
        }
        "nvme" => {
            return HiddenAreas::without(
                "not-applicable",
                "NVMe drives have no HPA or DCO (namespaces are listed by nvme-cli)",
            );
        }
        "sata" | "usb" | "scsi" => {}
        other => {
            return HiddenAreas::without(
                "not-checked",
                format!("a {other} device: HPA and DCO can only be checked on ATA disks"),
            );
        }
    }
    let Some(hdparm) = crate::erasure::tool::find("hdparm") else {
        return HiddenAreas::without(
            "not-checked",
            "hdparm is not installed (Debian package hdparm): HPA and DCO could not be checked",
        );
    };
    let limit = Duration::from_secs(10);
    let max = crate::erasure::tool::output(&hdparm, &["-N"], path, limit, true);
    let dco = crate::erasure::tool::output(&hdparm, &["--dco-identify"], path, limit, true);
    decide(sectors, max.as_deref(), dco.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    // What hdparm 9.65 prints for a 500 GB SATA disk (976773168 sectors) with 2113
    // sectors hidden in an HPA, and without; and its DCO identify data.
    const HPA_ON: &str = "\n/dev/sdb:\n max sectors   = 976771055/976773168, HPA is enabled\n";
    const HPA_OFF: &str = "\n/dev/sdb:\n max sectors   = 976773168/976773168, HPA is disabled\n";
    const DCO_SAME: &str = "\n/dev/sdb:\nDCO Revision: 0x0002\nThe following features can be selectively disabled via DCO:\n\tTransfer modes:\n\t\t mdma0 mdma1 mdma2\n\t\t udma0 udma1 udma2 udma3 udma4 udma5 udma6\n\tReal max sectors: 976773168\n\tATA command/feature sets:\n\t\t SMART self_test error_log security HPA 48_bit\n";
    const DCO_MORE: &str = "\n/dev/sdb:\nDCO Revision: 0x0002\n\tReal max sectors: 1953525168\n";

    #[test]
    fn recorded_hdparm_output_is_parsed() {
        assert_eq!(parse_max_sectors(HPA_ON), Some((976771055, 976773168)));
        assert_eq!(parse_max_sectors(HPA_OFF), Some((976773168, 976773168)));
        assert_eq!(parse_max_sectors("garbage"), None);
        assert_eq!(parse_dco_max(DCO_SAME), Some(976773168));
        assert_eq!(parse_dco_max(DCO_MORE), Some(1953525168));
        assert_eq!(parse_dco_max(HPA_ON), None);
    }

    #[test]
    fn an_hpa_or_a_dco_hides_sectors_and_a_clean_disk_does_not() {
        let clean = decide(976773168, Some(HPA_OFF), Some(DCO_SAME));
        assert_eq!(clean.state, "none");
        assert!(!clean.hides_sectors());
        assert_eq!(clean.note, None);

        let hpa = decide(976771055, Some(HPA_ON), Some(DCO_SAME));
        assert_eq!(hpa.state, "hpa");
        assert!(hpa.hides_sectors());
        assert_eq!(hpa.real_sectors(), Some(976773168));

        let dco = decide(976773168, Some(HPA_OFF), Some(DCO_MORE));
        assert_eq!(dco.state, "dco");
        assert_eq!(dco.real_sectors(), Some(1953525168));

        let both = decide(976771055, Some(HPA_ON), Some(DCO_MORE));
        assert_eq!(both.state, "hpa+dco");
    }

    #[test]
    fn a_disk_that_does_not_answer_is_not_checked_and_says_so() {
        let silent = decide(976773168, None, None);
        assert_eq!(silent.state, "not-checked");
        assert!(!silent.hides_sectors());
        assert!(silent.note.unwrap().contains("hdparm -N"));
        // An HPA answer without DCO data: the HPA is checked, the DCO noted.
        let half = decide(976773168, Some(HPA_OFF), None);
        assert_eq!(half.state, "none");
        assert!(half.note.unwrap().contains("DCO could not be checked"));
    }

    #[test]
    fn loop_devices_images_and_nvme_cannot_have_them() {
        let p = Path::new("/dev/loop0");
        assert_eq!(check(p, "loop", "block-device", 8).state, "not-applicable");
        assert_eq!(check(p, "file", "image-file", 8).state, "not-applicable");
        assert_eq!(check(p, "nvme", "block-device", 8).state, "not-applicable");
        assert_eq!(check(p, "mmc", "block-device", 8).state, "not-checked");
    }
}
