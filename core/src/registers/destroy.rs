//! Witnessed physical destruction of a registered medium (`custody media destroy`):
//! photos kept content-addressed in the data home, the witness's own signature, and a
//! signed destruction certificate (`XC-…`).
//!
//! What a Japanese public office is asked to show since 2019: the destruction done
//! in front of a member of staff, photographs in which the medium can be recognised,
//! and a certificate naming who destroyed it and who watched. The witness signs with
//! their personal key, at the station, what they watched: the medium, the method, who
//! did it, when, and the SHA-256 of every photo. The statement and its signature are
//! in the ledger entry and on the certificate, so anyone can check with minisign that
//! the witness — not the person at the keyboard — vouched for it.
//!
//! The destruction closes the medium as `destroyed` under the same rules as
//! `media retire --reason destroyed`: an approved disposal request, and for media that
//! must be destroyed (the My Number systems) a certificate of a wipe since its last
//! use. Such media are closed by this command only.
//!
//! # Failure modes
//!
//! - A refusal (no photo, a photo that is not a JPEG or PNG image, no witness, the
//!   person who did it or the one recording it named as witness, a witness key that
//!   is not theirs) writes nothing.
//! - Photos are copied into `photos/` before the ledger transaction; if it fails,
//!   the copies it added are removed again.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::{Denial, Error, Field, Result, Rule};
use crate::ledger::RecordId;
use crate::people::Role;
use crate::people::key::Signer;
use crate::registers::media::{Medium, RetireReason, Retirement};
use crate::registers::requests::one_line;
use crate::station::Station;
use crate::vocab::vocabulary;

vocabulary! {
    /// How a medium is physically destroyed (NIST SP 800-88 Destroy techniques).
    pub enum DestroyMethod (Field::Method) {
        /// Shredded into small particles.
        Shred = "shred",
        /// Disintegrated (crushed to fine particles).
        Disintegrate = "disintegrate",
        /// Drilled through the platters or chips.
        Drill = "drill",
        /// Degaussed (magnetic media only).
        Degauss = "degauss",
    }
}

/// The largest photo kept, in bytes.
pub const MAX_PHOTO_BYTES: u64 = 32 << 20;

/// What `custody media destroy` records.
#[derive(Debug, Clone)]
pub struct Destroy {
    /// How.
    pub method: DestroyMethod,
    /// Who destroyed it: a person, or the contractor's operator.
    pub by: String,
    /// The registered person who watched, who signs with their own key.
    pub witness: String,
    /// The contractor, if one did it.
    pub contractor: Option<String>,
    /// Photographs of the destruction (JPEG or PNG), at least one.
    pub photos: Vec<PathBuf>,
}

/// What a destruction produced.
#[derive(Debug, Clone, Serialize)]
pub struct Destroyed {
    /// The medium.
    pub medium: RecordId,
    /// The destruction certificate.
    pub certificate: RecordId,
    /// The photos kept: SHA-256, size and type.
    pub photos: Vec<Value>,
}

/// What the witness signs, each line ending in LF: `custody-destruction/v1`, the
/// medium, its serial, the method, who destroyed it, the witness, the time, then the
/// SHA-256 of every photo in the order given.
pub fn destruction_statement(
    medium: &str,
    serial: &str,
    method: &str,
    by: &str,
    witness: &str,
    at: &str,
    photos: &[String],
) -> String {
    let mut text =
        format!("custody-destruction/v1\n{medium}\n{serial}\n{method}\n{by}\n{witness}\n{at}\n");
    for sha in photos {
        text.push_str(sha);
        text.push('\n');
    }
    text
}

/// A photo read and checked: its bytes, SHA-256 and type.
#[derive(Debug)]
struct Photo {
    bytes: Vec<u8>,
    sha256: String,
    kind: &'static str,
}

fn read_photo(path: &Path) -> Result<Photo> {
    let refuse = |why: &'static str| Error::BadValue {
        field: Field::Photo,
        value: path.display().to_string(),
        rule: Rule::Described(why),
    };
    let meta = fs_err::metadata(path)?;
    if !meta.is_file() {
        return Err(refuse("a photo is a file: a JPEG or PNG image"));
    }
    if meta.len() > MAX_PHOTO_BYTES {
        return Err(refuse("a photo is at most 32 MiB"));
    }
    let bytes = fs_err::read(path)?;
    let kind = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "jpeg"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "png"
    } else {
        return Err(refuse("a photo is a JPEG or PNG image"));
    };
    Ok(Photo {
        sha256: hex::encode(Sha256::digest(&bytes)),
        bytes,
        kind,
    })
}

/// The folder of kept photos in the data home.
pub(crate) fn photo_folder(home: &Path) -> PathBuf {
    home.join("photos")
}

/// Where a photo with this hash and type is kept.
pub(crate) fn photo_path(home: &Path, sha256: &str, kind: &str) -> PathBuf {
    photo_folder(home).join(format!(
        "{sha256}.{}",
        if kind == "png" { "png" } else { "jpg" }
    ))
}

/// Keeps `photo` under its hash, durably; returns whether this call added it.
fn keep_photo(home: &Path, photo: &Photo) -> Result<bool> {
    let dir = photo_folder(home);
    fs_err::create_dir_all(&dir)?;
    let path = photo_path(home, &photo.sha256, photo.kind);
    if path.exists() {
        return Ok(false);
    }
    let temp = dir.join(format!(".{}.part", photo.sha256));
    let mut file = fs_err::File::create(&temp)?;
    file.write_all(&photo.bytes)?;
    file.sync_all()?;
    fs_err::rename(&temp, &path)?;
    fs_err::File::open(&dir)?.sync_all()?;
    Ok(true)
}

impl Station {
    /// Records the witnessed physical destruction of medium `id` and closes it as
    /// destroyed; `witness_key` is the witness's own key, unlocked by them.
    pub fn destroy_medium(
        &mut self,
        id: &RecordId,
        destroy: &Destroy,
        witness_key: &dyn Signer,
    ) -> Result<Destroyed> {
        self.actor
            .require_role(&[Role::Manager, Role::It], "destroy media")?;
        let actor = self.actor.name.clone();
        let action = format!("destroy medium {id}");
        let by = one_line(Field::DestroyedBy, &destroy.by, 200)?;
        let witness = destroy.witness.trim().to_owned();
        let contractor = destroy
            .contractor
            .as_deref()
            .map(|c| one_line(Field::Contractor, c, 200))
            .transpose()?;
        let denied = |reason: Denial| Error::NotAllowed {
            actor: actor.clone(),
            action: action.clone(),
            reason: Box::new(reason),
        };
        // The witness watches someone else's work, and is not the one recording it.
        if witness.is_empty() || witness == by || witness == actor {
            return Err(denied(Denial::Witness {
                witness: Some(witness).filter(|w| !w.is_empty()),
            }));
        }
        let registered = self
            .register()?
            .into_iter()
            .any(|p| p.name == witness && p.removed.is_none());
        if !registered {
            return Err(denied(Denial::Witness {
                witness: Some(witness),
            }));
        }
        if witness_key.name() != witness {
            return Err(denied(Denial::WitnessKey {
                witness: witness.clone(),
                why: crate::error::KeyStanding::NotTheirs,
            }));
        }
        if let Err(why) = self.key_standing(&witness, witness_key)? {
            return Err(denied(Denial::WitnessKey {
                witness: witness.clone(),
                why,
            }));
        }
        if destroy.photos.is_empty() {
            return Err(Error::BadValue {
                field: Field::Photo,
                value: String::new(),
                rule: Rule::Described(
                    "give at least one --photo of the destruction in which the medium can be recognised",
                ),
            });
        }
        let photos = destroy
            .photos
            .iter()
            .map(|p| read_photo(p))
            .collect::<Result<Vec<_>>>()?;
        let medium = self.medium(id)?.medium;
        let at = crate::clock::stamp(crate::clock::now());
        let hashes: Vec<String> = photos.iter().map(|p| p.sha256.clone()).collect();
        let method = destroy.method.to_string();
        let statement = destruction_statement(
            id.as_str(),
            &medium.serial,
            &method,
            &by,
            &witness,
            &at,
            &hashes,
        );
        let signature = witness_key.sign(
            statement.as_bytes(),
            &format!("custody destruction of {id} witnessed by {witness}"),
        )?;
        let public = witness_key.public();
        let listed: Vec<Value> = photos
            .iter()
            .map(|p| json!({ "sha256": p.sha256, "bytes": p.bytes.len(), "type": p.kind }))
            .collect();
        let evidence = json!({
            "method": method,
            "by": by,
            "witness": witness,
            "contractor": contractor,
            "at": at,
            "photos": listed,
            "witness_signature": crate::ledger::PersonalSignature {
                key_id: public.key_id(),
                public_key: public.to_base64(),
                signature,
            }
            .to_json("custody-destruction/v1", &[]),
        });

        let mut added = Vec::new();
        for photo in &photos {
            match keep_photo(&self.home, photo) {
                Ok(true) => added.push(photo_path(&self.home, &photo.sha256, photo.kind)),
                Ok(false) => {}
                Err(e) => {
                    remove_all(&added);
                    return Err(e);
                }
            }
        }
        let department = self.department_of(&actor)?;
        let role = self.actor.role;
        let organisation = self.config.organisation.clone();
        let station = self.config.station.clone();
        let certify = |medium: &Medium, payload: &Value| -> Value {
            json!({
                "schema": "custody.destruction-certificate/v1",
                "organisation": organisation,
                "station": station,
                "medium": {
                    "record": medium.id,
                    "kind": medium.kind,
                    "serial": medium.serial,
                    "label": medium.label,
                    "model": medium.model,
                    "data_class": medium.data_class,
                },
                "destruction": {
                    "category": "destroy",
                    "method": payload["evidence"]["method"],
                    "by": payload["evidence"]["by"],
                    "contractor": payload["evidence"]["contractor"],
                    "at": payload["evidence"]["at"],
                    "photos": payload["evidence"]["photos"],
                },
                "witness": {
                    "name": payload["evidence"]["witness"],
                    "signature": payload["evidence"]["witness_signature"],
                },
                "recorded_by": {
                    "name": actor,
                    "role": role.map(|r| r.as_str()),
                    "department": department,
                },
                "request": { "id": payload["request"], "approver": payload["approver"] },
                "proof": payload["proof"],
                "status": "destroyed",
                "validator": {},
            })
        };
        let retirement = Retirement {
            reason: RetireReason::Destroyed,
            destruction: Some(crate::retention::Destruction {
                by: by.clone(),
                method: method.clone(),
                witness: Some(witness.clone()),
            }),
            contractor,
        };
        match self.retire_medium_with(id, &retirement, Some((evidence, &certify))) {
            Ok((_, Some(cert))) => Ok(Destroyed {
                medium: id.clone(),
                certificate: cert.id,
                photos: listed,
            }),
            Ok((_, None)) => {
                remove_all(&added);
                Err(Error::NotDone {
                    id: id.to_string(),
                    step: crate::error::Step::Disposed,
                })
            }
            Err(e) => {
                remove_all(&added);
                Err(e)
            }
        }
    }
}

fn remove_all(paths: &[PathBuf]) {
    for path in paths {
        let _ = fs_err::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_names_everything_the_witness_vouches_for() {
        let text = destruction_statement(
            "MD-3",
            "SN-1",
            "shred",
            "株式会社破砕",
            "tanaka",
            "2026-12-03T01:00:00Z",
            &["aa".into(), "bb".into()],
        );
        assert_eq!(
            text,
            "custody-destruction/v1\nMD-3\nSN-1\nshred\n株式会社破砕\ntanaka\n2026-12-03T01:00:00Z\naa\nbb\n"
        );
    }

    #[test]
    fn only_jpeg_and_png_photos_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let jpeg = dir.path().join("a.jpg");
        std::fs::write(&jpeg, [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).unwrap();
        let text = dir.path().join("a.txt");
        std::fs::write(&text, "not a photo").unwrap();
        assert_eq!(read_photo(&jpeg).unwrap().kind, "jpeg");
        assert!(read_photo(&text).unwrap_err().is_refusal());
        let photo = read_photo(&jpeg).unwrap();
        assert!(keep_photo(dir.path(), &photo).unwrap());
        assert!(
            !keep_photo(dir.path(), &photo).unwrap(),
            "kept once, by its hash"
        );
        let kept = photo_path(dir.path(), &photo.sha256, "jpeg");
        assert_eq!(std::fs::read(kept).unwrap(), photo.bytes);
    }
}
