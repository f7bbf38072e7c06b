//! `seal::open` against the age community test vectors (C2SP CCTV, `age/testdata`) kept in
//! `shared/testdata/age-cctv`: every success vector decrypts to its payload hash, every
//! failure vector is refused, and nothing is left behind either way.
#![allow(clippy::print_stderr, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use custody_core::send::seal::{self, Error, NoProgress, OpenInput};
use secrecy::SecretString;

/// Vectors the age crate (0.12) cannot decrypt: their only identity is a post-quantum
/// hybrid key (`AGE-SECRET-KEY-PQ-1…`, ML-KEM-768 + X25519, `mlkem768x25519` stanzas),
/// which the crate does not implement. They must still be refused cleanly (the identity
/// file is rejected) with nothing left behind.
const UNSUPPORTED_PQ: &[&str] = &[
    "armor_hybrid",
    "hybrid",
    "hybrid_and_x25519",
    "hybrid_bad_tag",
    "hybrid_currupted_enc_mlkem",
    "hybrid_currupted_enc_x25519",
    "hybrid_extra_argument",
    "hybrid_grease",
    "hybrid_identity",
    "hybrid_long_file_key",
    "hybrid_long_share",
    "hybrid_low_order",
    "hybrid_multiple_recipients",
    "hybrid_no_match",
    "hybrid_not_canonical_body",
    "hybrid_not_canonical_enc",
    "hybrid_short_share",
    "hybrid_uppercase",
];

const PQ_PREFIX: &str = "AGE-SECRET-KEY-PQ-";

fn vectors_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/age-cctv");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        !custody_tests::in_ci(),
        "age test vectors missing at {}",
        dir.display()
    );
    eprintln!("skipping: age test vectors missing at {}", dir.display());
    None
}

struct Vector {
    name: String,
    expect: String,
    payload: Option<String>,
    identities: Vec<String>,
    passphrases: Vec<String>,
    body: Vec<u8>,
}

fn parse_vector(path: &Path) -> Vector {
    let raw = std::fs::read(path).unwrap();
    let split = raw.windows(2).position(|w| w == b"\n\n").unwrap();
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut body = raw[split + 2..].to_vec();
    let mut v = Vector {
        name: path.file_name().unwrap().to_string_lossy().into_owned(),
        expect: String::new(),
        payload: None,
        identities: vec![],
        passphrases: vec![],
        body: vec![],
    };
    let mut compressed = false;
    for line in head.lines() {
        let (key, value) = line.split_once(": ").unwrap();
        match key {
            "expect" => v.expect = value.to_owned(),
            "payload" => v.payload = Some(value.to_owned()),
            "identity" => v.identities.push(value.to_owned()),
            "passphrase" => v.passphrases.push(value.to_owned()),
            "compressed" => {
                assert_eq!(value, "zlib");
                compressed = true;
            }
            _ => {}
        }
    }
    if compressed {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(&body[..])
            .read_to_end(&mut out)
            .unwrap();
        body = out;
    }
    v.body = body;
    v
}

fn tree(dir: &Path) -> BTreeSet<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().path().to_path_buf())
        .collect()
}

/// Runs one vector; returns the result of `open` after checking nothing was left behind
/// on failure.
fn run(v: &Vector, identities: &[String]) -> Result<seal::OpenReport, Error> {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join(&v.name);
    std::fs::write(&file, &v.body).unwrap();
    let mut identity_files = vec![];
    if !identities.is_empty() {
        let key = tmp.path().join("identity.txt");
        std::fs::write(&key, identities.join("\n") + "\n").unwrap();
        identity_files.push(key);
    }
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let before = tree(tmp.path());
    let result = seal::open(
        OpenInput {
            identity_passphrase: None,
            file,
            out_dir: out.clone(),
            identity_files,
            passphrase: v
                .passphrases
                .first()
                .map(|p| SecretString::from(p.as_str())),
            force: false,
            max_work_factor: custody_core::send::seal::DEFAULT_MAX_WORK_FACTOR,
        },
        &NoProgress,
    );
    if result.is_err() {
        assert_eq!(
            tree(tmp.path()),
            before,
            "{}: something was left behind",
            v.name
        );
    }
    result
}

#[test]
fn cctv_vectors() {
    let Some(dir) = vectors_dir() else { return };
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n != "LICENSE" && n != "README.md"
        })
        .collect();
    names.sort();
    assert!(names.len() > 100, "expected the full vector set");

    let (mut ok_success, mut ok_failure, mut unsupported) = (0, 0, 0);
    let mut problems = vec![];
    for path in &names {
        let v = parse_vector(path);
        let classic: Vec<String> = v
            .identities
            .iter()
            .filter(|i| !i.starts_with(PQ_PREFIX))
            .cloned()
            .collect();
        let pq_only = classic.is_empty() && !v.identities.is_empty();
        assert_eq!(
            pq_only,
            UNSUPPORTED_PQ.contains(&v.name.as_str()),
            "{}: UNSUPPORTED_PQ must list exactly the vectors whose identities are all post-quantum",
            v.name
        );
        if pq_only {
            // Given as is, the post-quantum identity file is refused before decrypting.
            match run(&v, &v.identities) {
                Err(Error::InvalidIdentity { .. }) => unsupported += 1,
                other => problems.push(format!(
                    "{}: unsupported vector not refused cleanly: {:?}",
                    v.name,
                    other.map(|r| r.files)
                )),
            }
            continue;
        }
        let result = run(&v, &classic);
        match (v.expect.as_str(), result) {
            ("success", Ok(report)) => {
                let want = v.payload.as_deref().unwrap();
                if report.files.len() == 1 && report.files[0].sha256 == want {
                    ok_success += 1;
                } else {
                    problems.push(format!("{}: wrong payload {:?}", v.name, report.files));
                }
            }
            ("success", Err(e)) => problems.push(format!("{}: refused: {e}", v.name)),
            (_, Ok(_)) => problems.push(format!("{}: expected {}, opened", v.name, v.expect)),
            (_, Err(_)) => ok_failure += 1,
        }
    }
    eprintln!(
        "cctv: {ok_success} success vectors decrypted, {ok_failure} failure vectors refused, \
         {unsupported} post-quantum vectors unsupported and refused"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(unsupported, UNSUPPORTED_PQ.len());
}

/// Failure vectors are refused with an error of the matching kind, not just any error.
#[test]
fn cctv_failures_have_meaningful_errors() {
    let Some(dir) = vectors_dir() else { return };
    for (name, check) in [
        ("x25519_no_match", "wrong key"),
        ("scrypt_no_match", "wrong passphrase"),
        ("hmac_bad", "invalid file"),
        ("stream_bad_tag", "corrupted"),
        ("stream_no_final", "corrupted"),
        ("scrypt_work_factor_23", "excessive work"),
    ] {
        let v = parse_vector(&dir.join(name));
        let err = run(&v, &v.identities).expect_err(name);
        let ok = match check {
            "wrong key" => matches!(err, Error::WrongKey { .. }),
            "wrong passphrase" => matches!(err, Error::WrongPassphrase { .. }),
            "invalid file" => matches!(err, Error::InvalidFile { .. }),
            "corrupted" => matches!(err, Error::Corrupted { .. }),
            "excessive work" => matches!(err, Error::ExcessiveWork { .. }),
            _ => unreachable!(),
        };
        assert!(ok, "{name}: expected {check}, got {err:?}");
    }
}
