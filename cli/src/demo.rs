//! `custody demo`: the main job end to end in a throwaway data home.

use std::process::ExitCode;

use anyhow::{Context, Result};
use custody_core::Station;
use custody_core::people::Role;
use custody_core::people::key::{Passphrase, PersonalKey, Signer as _};
use custody_core::registers::carryout::NewCarryout;
use custody_core::registers::media::{MediaKind, NewMedium};
use custody_core::retention::NewRetained;

use crate::i18n::t;
use crate::output;

const MANAGER: &str = "sato";
const CLERK: &str = "suzuki";

/// The demo's people and their personal keys: each passphrase is a file in the
/// throwaway folder (0600), as a script would keep it, and each key file sits beside
/// it, outside the data home.
struct People {
    dir: std::path::PathBuf,
}

impl People {
    fn files(&self, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        (
            self.dir.join(format!("{name}.key")),
            self.dir.join(format!("{name}.passphrase")),
        )
    }

    /// `name`'s key: made (with a new random passphrase) the first time, then unlocked
    /// from its file with the passphrase file, as `--key-passphrase-file` does.
    fn key(&self, name: &str) -> Result<PersonalKey> {
        let (key_file, passphrase_file) = self.files(name);
        if !key_file.exists() {
            use fs_err::os::unix::fs::OpenOptionsExt;
            use secrecy::ExposeSecret;
            fs_err::create_dir_all(&self.dir)?;
            let words = custody_core::send::seal::words::generate_passphrase();
            let mut file = fs_err::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&passphrase_file)?;
            std::io::Write::write_all(&mut file, words.expose_secret().as_bytes())?;
            let passphrase = Passphrase::from_file(&passphrase_file)?;
            let new = PersonalKey::generate(name, &passphrase)?;
            PersonalKey::write_file(&key_file, &new.file_text)?;
        }
        let passphrase = Passphrase::from_file(&passphrase_file)?;
        Ok(PersonalKey::load(&key_file, name, &passphrase)?)
    }

    /// The data home opened for `name`, their key unlocked.
    fn open(&self, home: &std::path::Path, name: &str) -> Result<Station> {
        let mut station = Station::open(home, name)?;
        station.unlock(Box::new(self.key(name)?))?;
        Ok(station)
    }

    /// `name` enrolls their key; the manager confirms it.
    fn enroll(&self, home: &std::path::Path, name: &str, manager: &str) -> Result<String> {
        let key = self.key(name)?;
        Station::open(home, name)?.enroll(&key, false)?;
        let key_id = key.public().key_id();
        self.open(home, manager)?.confirm_key(name, &key_id)?;
        Ok(key_id)
    }
}

fn step(title: &str) -> Result<()> {
    output::text(&format!("\n== {title}"))
}

/// `custody demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Keep everything in DIR (a new or empty folder): the data home, the people's
    /// keys, an erasure certificate as PDF in Japanese and in English, and the
    /// registers as CSV, for a manager to open.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<std::path::PathBuf>,
}

/// Where the demo works: a folder removed at the end, or the one `--keep` names.
enum Place {
    Throwaway(tempfile::TempDir),
    Kept(std::path::PathBuf),
}

impl Place {
    fn new(keep: Option<&std::path::Path>) -> Result<Place> {
        let Some(dir) = keep else {
            let dir = tempfile::Builder::new()
                .prefix("custody-demo-")
                .tempdir()
                .with_context(|| t!("demo-no-temp"))?;
            return Ok(Place::Throwaway(dir));
        };
        let empty = match fs_err::read_dir(dir) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(e.into()),
        };
        if !empty {
            return Err(crate::Refused(t!("demo-keep-not-empty", dir = dir.display())).into());
        }
        fs_err::create_dir_all(dir)?;
        Ok(Place::Kept(std::path::absolute(dir)?))
    }

    fn path(&self) -> &std::path::Path {
        match self {
            Place::Throwaway(dir) => dir.path(),
            Place::Kept(dir) => dir,
        }
    }
}

/// Runs the walkthrough; the data home is removed at the end unless `--keep` names a
/// folder for it.
pub fn run(args: &DemoArgs) -> Result<ExitCode> {
    let dir = Place::new(args.keep.as_deref())?;
    let home = dir.path().join("home");
    output::text(&if args.keep.is_some() {
        t!("demo-start-kept", home = home.display())
    } else {
        t!("demo-start", home = home.display())
    })?;

    let people = People {
        dir: dir.path().join("keys"),
    };
    step(&t!("demo-step-1"))?;
    let manager_key = people.key(MANAGER)?;
    let manager_key_file = people.files(MANAGER).0;
    let report = Station::init(
        &home,
        &manager_key,
        Some("Demo Health Insurance Union"),
        Some("desk-1"),
        || Ok(manager_key_file.clone()),
    )?;
    output::text(&t!(
        "demo-home-created",
        key = report.key_id,
        public = report.public_key.display(),
        manager = MANAGER,
        personal = report.manager_key_id,
        file = report.manager_key_file.display()
    ))?;

    step(&t!("demo-step-2"))?;
    let mut manager = people.open(&home, MANAGER)?;
    let id = manager.add_person(CLERK, Role::Clerk, Some("総務課"))?;
    output::text(&t!("demo-clerk-registered", name = CLERK, id = id))?;
    let key_id = people.enroll(&home, CLERK, MANAGER)?;
    output::text(&t!(
        "demo-clerk-enrolled",
        name = CLERK,
        key = key_id,
        manager = MANAGER
    ))?;

    step(&t!("demo-step-3"))?;
    let mut clerk = people.open(&home, CLERK)?;
    let id = clerk.note("個人データ抽出作業を開始 (export of member data started)")?;
    output::text(&t!("demo-note-recorded", id = id))?;

    step(&t!("demo-step-4"))?;
    {
        use custody_core::send::{PasswordChannel, ReceiveOptions, SendOptions};
        use secrecy::ExposeSecret;
        let folder = dir.path().join("会員データ");
        fs_err::create_dir_all(folder.join("明細"))?;
        fs_err::write(
            folder.join("名簿.csv"),
            "番号,氏名\n1,山田 花子\n2,佐藤 一郎\n",
        )?;
        fs_err::write(folder.join("明細/2026年度.csv"), "番号,金額\n1,12000\n")?;
        // Sending personal data needs a manager's approval beforehand (002 art.4-7).
        let request = clerk.file_request(
            custody_core::registers::requests::RequestKind::Send,
            "会員データを本部 総務課へ送付 (member data to head office)",
            serde_json::json!({}),
        )?;
        people
            .open(&home, MANAGER)?
            .approve(&request, Some("送付先と暗号化を確認"))?;
        output::text(&t!(
            "demo-send-approved",
            name = CLERK,
            request = request,
            manager = MANAGER
        ))?;
        let mut clerk = people.open(&home, CLERK)?;
        let sent = clerk.send(
            SendOptions {
                paths: vec![folder],
                output: Some(dir.path().join("会員データ.tar.age")),
                to: "本部 総務課 田中様".into(),
                password_via: Some(PasswordChannel::Phone),
                can_show_passphrase: true,
                words: Some(crate::send::default_words()),
                request: Some(request),
                ..SendOptions::default()
            },
            &custody_core::send::seal::NoProgress,
        )?;
        let passphrase = sent
            .passphrase
            .as_ref()
            .map(|p| p.expose_secret().to_string())
            .unwrap_or_default();
        output::text(&t!(
            "demo-sent",
            id = sent.id,
            files = sent.report.files.len(),
            output = sent.report.output.display(),
            passphrase = passphrase
        ))?;
        let received = dir.path().join("受信");
        let (id, opened) = clerk.receive(
            ReceiveOptions {
                file: sent.report.output.clone(),
                out_dir: received.clone(),
                identities: Vec::new(),
                passphrase: sent.passphrase,
                identity_passphrase: None,
                force: false,
            },
            &custody_core::send::seal::NoProgress,
        )?;
        output::text(&t!(
            "demo-received",
            id = id,
            files = opened.files.len(),
            folder = received.display(),
            checked = crate::registers::yes_no(opened.manifest_checked)
        ))?;
    }

    step(&t!("demo-step-5"))?;
    let medium = clerk.add_medium(&NewMedium {
        label: Some("持出し用USB 1".into()),
        encrypted: true,
        ..NewMedium::new(MediaKind::Usb, "DEMO-USB-0001")
    })?;
    // Checked for viruses on registration: only a clean medium leaves.
    clerk.check_medium(
        &medium,
        "ClamAV 1.4",
        custody_core::registers::media::CheckResult::Clean,
        None,
    )?;
    let carryout = clerk.new_carryout(&NewCarryout {
        what: "組合員名簿 2026年度 (encrypted USB)".into(),
        reason: "本部での年次監査".into(),
        destination: "本部 監査室".into(),
        return_by: "2099-12-31T17:00:00+09:00".into(),
        transport: "施錠した鞄で職員が手持ち".into(),
        media: Some(medium.clone()),
        personal_data: true,
        records: Some(1200),
        ..NewCarryout::default()
    })?;
    output::text(&t!(
        "demo-carryout-requested",
        name = CLERK,
        medium = medium,
        carryout = carryout
    ))?;
    if let Err(e) = clerk.carryout_out(&carryout) {
        let error = crate::say::error(&e).unwrap_or_else(|| e.to_string());
        output::text(&t!("demo-carryout-refused", error = error))?;
    }
    let mut manager = people.open(&home, MANAGER)?;
    manager.approve(&medium, Some("暗号化USBを確認"))?;
    manager.approve(&carryout, Some("施錠・暗号化を確認"))?;
    let mut clerk = people.open(&home, CLERK)?;
    clerk.carryout_out(&carryout)?;
    let back = clerk.carryout_return(&carryout, Some("異常なし"))?;
    output::text(&t!(
        "demo-carryout-done",
        medium = medium,
        carryout = carryout,
        manager = MANAGER,
        encrypted = crate::registers::protection(&back.encrypted)
    ))?;

    step(&t!("demo-step-6"))?;
    let old = dir.path().join("旧システム抽出 2019");
    fs_err::create_dir_all(&old)?;
    fs_err::write(old.join("組合員一覧.csv"), "番号,氏名\n1,山田 花子\n")?;
    let item = clerk.retain_add(&NewRetained {
        paths: vec![old.clone()],
        class: "system-data".into(),
        since: Some("2019-04-01".into()),
        note: Some("旧システムからの抽出データ".into()),
        backdate_reason: Some("旧システムから2019年度の抽出データを移行".into()),
        ..NewRetained::default()
    })?;
    // Its period starts before today: a manager approves that, with the reason.
    if let Some(backdate) = clerk.backdate_request(&item)? {
        people
            .open(&home, MANAGER)?
            .approve(&backdate, Some("移行元の抽出日を確認"))?;
    }
    let mut clerk = people.open(&home, CLERK)?;
    let registered = clerk.retained(&item)?;
    output::text(&t!(
        "demo-retained",
        item = item,
        class = registered.class,
        basis = registered.basis,
        due = registered.due.as_deref().unwrap_or("?")
    ))?;
    let request = clerk.request_disposal(&item, None)?;
    let mut manager = people.open(&home, MANAGER)?;
    manager.approve(&request, Some("保存期間経過を確認"))?;
    let mut clerk = people.open(&home, CLERK)?;
    let disposal = clerk.dispose(&item, None)?;
    output::text(&t!(
        "demo-disposed",
        request = request,
        manager = MANAGER,
        files = disposal.files.len(),
        gone = crate::registers::yes_no(!old.exists()),
        certificate = disposal.certificate.id
    ))?;

    step(&t!("demo-step-7"))?;
    {
        use custody_core::erasure::{Destination, NoReport, VerifyMode, WipeOptions};
        const IT: &str = "ito";
        let mut manager = people.open(&home, MANAGER)?;
        let id = manager.add_person(IT, Role::It, Some("情報システム課"))?;
        let key_id = people.enroll(&home, IT, MANAGER)?;
        output::text(&t!("demo-it-registered", name = IT, id = id, key = key_id))?;
        // 4 MiB + 512 bytes: not a multiple of the engine's 4 MiB chunk. An image file
        // needs no root; `custody wipe /dev/sdX` works the same way on a real disk.
        let image = dir.path().join("retired-pc-disk.img");
        fs_err::write(&image, vec![0x5A_u8; (4 << 20) + 512])?;
        let mut it = people.open(&home, IT)?;
        let job = it.prepare_wipe(
            &[&image],
            &WipeOptions {
                method: "dod-short".into(),
                passes: None,
                verify: VerifyMode::Last,
                blank: true,
                serial: Some("DEMO-HDD-0042".into()),
                asset_tag: Some("PC-2019-017".into()),
                destination: Some(Destination::Disposal),
                details: custody_core::erasure::WipeDetails {
                    origin: Some("PC-2019-017（総務課 旧事務用端末）".into()),
                    title: Some("主任".into()),
                    contact: Some("内線 2104".into()),
                    location: Some("本庁舎 3 階 情報システム課".into()),
                },
            },
        )?;
        let stop = std::sync::atomic::AtomicBool::new(false);
        let results = it.run_wipe(job, &NoReport, &stop)?;
        for r in &results {
            let passes = r
                .report
                .passes
                .iter()
                .map(|p| p.pattern.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            output::text(&t!(
                "demo-wiped",
                path = r.identity.path.display(),
                size = r.report.size,
                status = crate::i18n::word("wipe-status", r.status.as_str()),
                method = r.report.method,
                passes = passes,
                verify = crate::i18n::word("verify-result", r.report.verify.result.as_str()),
                id = r.id,
                seq = r.seq,
                hash = &r.hash[..16]
            ))?;
        }
        let manager = people.open(&home, MANAGER)?;
        for r in &results {
            let cert = &r.certificate;
            let file = dir.path().join(format!("{}.json", r.certificate));
            manager.export_certificate_json(cert, &file)?;
            let verdict = manager.verify_certificate(&file)?;
            output::text(&t!(
                "demo-cert-exported",
                id = r.certificate,
                file = file.display()
            ))?;
            for check in &verdict.checks {
                output::text(&format!(
                    "  {} {}: {}",
                    if check.ok {
                        t!("check-ok").trim_end().to_owned()
                    } else {
                        t!("check-fail")
                    },
                    crate::i18n::word("check", &check.name),
                    crate::cert::check_words(check)
                ))?;
            }
            if !verdict.valid {
                anyhow::bail!("the demo's own certificate did not verify");
            }
        }
    }

    step(&t!("demo-step-8"))?;
    let head = clerk.head()?;
    output::text(&head.to_text())?;
    let head_file = dir.path().join("head.txt");
    fs_err::write(&head_file, head.to_text())?;

    step(&t!("demo-step-9"))?;
    clerk.note("demo finished")?;
    let verified = clerk.verify(Some(&head_file), None)?;
    output::text(&t!(
        "demo-verified",
        entries = verified.entries,
        signed = verified.signed,
        checkpoints = verified.checkpoints,
        kept = verified.extends.unwrap_or(0)
    ))?;

    if let Place::Kept(kept) = &dir {
        keep_papers(&clerk, kept)?;
    } else {
        output::text(&format!("\n{}", t!("demo-finished")))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes what a manager opens after the demo into `dir`: the first erasure
/// certificate as PDF in both languages, and every register as CSV (Japanese headers).
fn keep_papers(station: &Station, dir: &std::path::Path) -> Result<()> {
    use custody_core::Lang;
    use custody_core::report::ReportKind;
    let papers = dir.join("papers");
    fs_err::create_dir_all(&papers)?;
    let mut written = Vec::new();
    if let Some(cert) = station
        .certificates()?
        .into_iter()
        .find(|c| c.id.as_str().starts_with("EC-"))
    {
        for (lang, tag) in [(Lang::Ja, "ja"), (Lang::En, "en")] {
            let file = papers.join(format!("{}-{tag}.pdf", cert.id));
            station.export_certificate_pdf(&cert.id, lang, &file)?;
            written.push(file);
        }
    }
    let today = custody_core::clock::today().to_string();
    for kind in ReportKind::ALL {
        let report = station.report(*kind, "2000-01-01", &today)?;
        let file = papers.join(format!("{}.csv", kind.as_str()));
        fs_err::write(&file, report.to_csv(Lang::Ja))?;
        written.push(file);
    }
    let mut text = format!(
        "\n{}\n",
        t!(
            "demo-kept",
            dir = dir.display(),
            home = dir.join("home").display(),
            keys = dir.join("keys").display()
        )
    );
    for file in written {
        text.push_str(&format!("  {}\n", file.display()));
    }
    text.push_str(&t!("demo-look-around", home = dir.join("home").display()));
    output::text(&text)
}
