//! Files a hostile sender crafts, opened with `custody open` through the binary:
//! archive entries whose mode or name would surprise the receiver, and age headers
//! built to stall the station. Archives are written with Python's tarfile (an
//! independent tar writer) and encrypted with the `age` CLI.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use custody_tests::{Home, Run, require_tool};

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An age key pair made by age-keygen: (identity file, public key).
fn keypair(home: &Home, name: &str) -> (PathBuf, String) {
    let key = home.path(name);
    run_ok(Command::new("age-keygen").arg("-o").arg(&key));
    let text = std::fs::read_to_string(&key).unwrap();
    let public = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_string();
    (key, public)
}

/// A tar archive built by the Python statements `entries` (with `t` the archive and
/// `d` some bytes), encrypted to `public` with the age CLI.
fn crafted(home: &Home, name: &str, entries: &str, public: &str) -> PathBuf {
    let tar = home.path(&format!("{name}.tar"));
    let script = format!(
        "import tarfile,io,sys\nt=tarfile.open(sys.argv[1],'w')\nd=b'member data'\n{entries}\nt.close()"
    );
    run_ok(Command::new("python3").arg("-c").arg(script).arg(&tar));
    let enc = home.path(&format!("{name}.tar.age"));
    run_ok(
        Command::new("age")
            .args(["-r", public, "-o"])
            .arg(&enc)
            .arg(&tar),
    );
    enc
}

/// `custody open FILE -i KEY -o OUT` as suzuki, under `umask`.
fn open_under_umask(home: &Home, file: &Path, key: &Path, out: &Path, umask: &str) -> Run {
    let line = format!("umask {umask}; exec \"$0\" open \"$1\" -i \"$2\" -o \"$3\" --json",);
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(&line)
        .arg(custody_tests::custody_bin())
        .arg(file)
        .arg(key)
        .arg(out);
    // suzuki's environment, key and passphrase file included.
    home.env_of("suzuki", &mut command);
    let out = command.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn tools() -> bool {
    require_tool("age") && require_tool("age-keygen") && require_tool("python3")
}

fn receives(home: &Home) -> usize {
    home.run("kato", ["log", "--kind", "receive", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn a_setuid_world_writable_entry_becomes_an_ordinary_file_under_the_umask() {
    if !tools() {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let (key, public) = keypair(&home, "k.key");
    let enc = crafted(
        &home,
        "modes",
        "i=tarfile.TarInfo('run.sh');i.size=len(d);i.mode=0o6777;t.addfile(i,io.BytesIO(d))\n\
         j=tarfile.TarInfo('sticky.csv');j.size=len(d);j.mode=0o1666;t.addfile(j,io.BytesIO(d))",
        &public,
    );
    let out = home.path("inbox");
    open_under_umask(&home, &enc, &key, &out, "027").ok();
    let mode = |name: &str| {
        std::fs::metadata(out.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    // No setuid, setgid or sticky bit; the umask (027) applied; the owner can read
    // and write.
    assert_eq!(mode("run.sh"), 0o750, "{:o}", mode("run.sh"));
    assert_eq!(mode("sticky.csv"), 0o640, "{:o}", mode("sticky.csv"));
}

#[test]
fn two_names_equal_after_normalisation_are_refused_as_a_clash() {
    if !tools() {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let (key, public) = keypair(&home, "k.key");
    // "café.csv" with é as one code point, then as e and a combining acute accent; and
    // the same for a folder holding different files.
    for (name, entries) in [
        (
            "files",
            "for n in ['caf\\u00e9.csv','cafe\\u0301.csv']:\n  i=tarfile.TarInfo(n);i.size=len(d);t.addfile(i,io.BytesIO(d))",
        ),
        (
            "folders",
            "for n in ['r\\u00e9sum\\u00e9/a.csv','re\\u0301sume\\u0301/b.csv']:\n  i=tarfile.TarInfo(n);i.size=len(d);t.addfile(i,io.BytesIO(d))",
        ),
    ] {
        let enc = crafted(&home, name, entries, &public);
        let out = home.path(&format!("inbox-{name}"));
        std::fs::create_dir(&out).unwrap();
        let run = open_under_umask(&home, &enc, &key, &out, "022");
        assert_eq!(run.code, 1, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains("same after Unicode normalisation"),
            "{name}: {}",
            run.stderr
        );
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            0,
            "{name}: something was left behind"
        );
    }
    assert_eq!(receives(&home), 0);
}

/// An age v1 file whose header has `stanzas` X25519 stanzas of random bytes, written
/// by Python.
fn many_stanzas(home: &Home, stanzas: usize) -> PathBuf {
    let path = home.path(&format!("stanzas-{stanzas}.age"));
    let script = "import base64,os,sys\n\
        b=lambda n: base64.b64encode(os.urandom(n)).decode().rstrip('=')\n\
        h='age-encryption.org/v1\\n'\n\
        h+=''.join('-> X25519 '+b(32)+'\\n'+b(32)+'\\n' for _ in range(int(sys.argv[2])))\n\
        h+='--- '+b(32)+'\\n'\n\
        open(sys.argv[1],'wb').write(h.encode()+os.urandom(16)+os.urandom(1024))";
    run_ok(
        Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&path)
            .arg(stanzas.to_string()),
    );
    path
}

#[test]
fn eight_thousand_stanzas_are_refused_before_any_key_is_tried() {
    if !tools() {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let (key, _) = keypair(&home, "k.key");
    let enc = many_stanzas(&home, 8000);
    assert!(std::fs::metadata(&enc).unwrap().len() > 700_000);
    let out = home.path("inbox");
    let run = open_under_umask(&home, &enc, &key, &out, "022");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("more than 2048 recipient stanzas")
            && run.stderr.contains("without parsing it or trying any key"),
        "{}",
        run.stderr
    );
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().count() == 0);
    // Under the limit, the same kind of header is parsed and every stanza tried: the
    // key is simply not among them.
    let enc = many_stanzas(&home, 2000);
    let run = open_under_umask(&home, &enc, &key, &out, "022");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("none of the given keys"),
        "{}",
        run.stderr
    );
    assert_eq!(receives(&home), 0);
}

#[test]
fn a_file_for_many_recipients_still_opens() {
    if !tools() {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let (key, public) = keypair(&home, "k.key");
    let plain = home.path("list.csv");
    std::fs::write(&plain, "1,山田\n").unwrap();
    let mut age = Command::new("age");
    for i in 0..40 {
        let (_, other) = keypair(&home, &format!("other-{i}.key"));
        age.args(["-r", &other]);
    }
    let enc = home.path("list.csv.age");
    run_ok(age.args(["-r", &public, "-o"]).arg(&enc).arg(&plain));
    let out = home.path("inbox");
    open_under_umask(&home, &enc, &key, &out, "022").ok();
    assert_eq!(
        std::fs::read_to_string(out.join("list.csv")).unwrap(),
        "1,山田\n"
    );
}

#[test]
fn scrypt_beyond_the_station_memory_is_refused_before_any_work() {
    let home = Home::with_people();
    home.relax_send_approval();
    let file = home.path("給与.csv");
    std::fs::write(&file, "payroll\n").unwrap();
    let sent = home
        .run(
            "suzuki",
            [
                "send",
                file.to_str().unwrap(),
                "--to",
                "tax office",
                "--password-via",
                "phone",
                "--json",
            ],
        )
        .ok()
        .json();
    let enc = PathBuf::from(sent["output"]["path"].as_str().unwrap());
    let pass = home.path("pass.txt");
    std::fs::write(&pass, sent["passphrase"].as_str().unwrap()).unwrap();
    let open = |file: &Path, out: &str| {
        home.run(
            "suzuki",
            [
                "open",
                file.to_str().unwrap(),
                "-o",
                home.path(out).to_str().unwrap(),
                "--passphrase-file",
                pass.to_str().unwrap(),
            ],
        )
    };
    // The header asks for work factor 21 (2 GiB of memory), above the default 1 GiB.
    let bytes = std::fs::read(&enc).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let at = text.find(" 18\n").expect("custody writes work factor 18");
    let mut crafted = bytes.clone();
    crafted[at + 1..at + 3].copy_from_slice(b"21");
    let heavy = home.path("heavy.age");
    std::fs::write(&heavy, &crafted).unwrap();
    let run = open(&heavy, "out-heavy").expect_code(1);
    assert!(
        run.stderr.contains("scrypt work factor 21 (2048 MiB")
            && run.stderr.contains("refused before any work"),
        "{}",
        run.stderr
    );
    // A station configured for less memory refuses custody's own 256 MiB files too.
    let config = home.home.join("config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text = text.replace(
        "max_scrypt_memory_mib = 1024",
        "max_scrypt_memory_mib = 128",
    );
    std::fs::write(&config, text).unwrap();
    let run = open(&enc, "out-small").expect_code(1);
    assert!(
        run.stderr.contains("scrypt work factor 18 (256 MiB") && run.stderr.contains("128 MiB"),
        "{}",
        run.stderr
    );
    assert_eq!(receives(&home), 0);
}
