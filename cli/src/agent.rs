//! Starting and asking the unlock agent (`custody_core::people::agent`): a copy of
//! this binary, detached, given the key file, the person's name and the passphrase
//! through a pipe (never its arguments or environment).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use custody_core::people::agent::{self, AgentKey};
use custody_core::people::key::{Passphrase, PersonalKey, Signer};
use zeroize::Zeroizing;

/// Minutes a key unlocked on a terminal stays unlocked (the station's setting).
static WINDOW_MINUTES: AtomicU32 = AtomicU32::new(15);

/// Takes the unlock window from the station's configuration.
pub fn set_window(minutes: u32) {
    WINDOW_MINUTES.store(minutes, Ordering::SeqCst);
}

/// The unlock window in minutes.
pub fn window() -> u32 {
    WINDOW_MINUTES.load(Ordering::SeqCst)
}

/// `name`'s key from their agent, while its window is open.
pub fn borrow(name: &str) -> Option<Box<dyn Signer>> {
    AgentKey::connect(name).map(|key| Box::new(key) as Box<dyn Signer>)
}

/// Starts an agent holding `name`'s key (unlocked with `passphrase`) for the window.
/// Says so on failure, but a command goes on without an agent.
pub fn keep(path: &Path, name: &str, passphrase: &Passphrase) -> bool {
    match start(path, name, passphrase) {
        Ok(()) => true,
        Err(e) => {
            eprintln!(
                "{}",
                crate::i18n::t!("agent-failed", error = format!("{e:#}"))
            );
            false
        }
    }
}

fn start(path: &Path, name: &str, passphrase: &Passphrase) -> Result<()> {
    if agent::socket_dir().is_none() {
        anyhow::bail!(crate::i18n::t!("agent-no-runtime-dir"));
    }
    let exe = std::env::current_exe().with_context(|| crate::i18n::t!("agent-no-binary"))?;
    let mut child = {
        use std::os::unix::process::CommandExt;
        Command::new(exe)
            .arg("agent-serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Its own process group: Ctrl-C on this terminal does not end it.
            .process_group(0)
            .spawn()
            .with_context(|| crate::i18n::t!("agent-cannot-start"))?
    };
    {
        let mut input = child.stdin.take().context("no pipe to the agent")?;
        let mut text = Zeroizing::new(String::new());
        text.push_str(&format!("{}\n{}\n{}\n", name, path.display(), window()));
        text.push_str(passphrase.expose_secret());
        text.push('\n');
        input.write_all(text.as_bytes())?;
    }
    let mut reply = String::new();
    BufReader::new(child.stdout.take().context("no pipe from the agent")?).read_line(&mut reply)?;
    if reply.trim_end() != "ready" {
        let _ = child.wait();
        anyhow::bail!(crate::i18n::t!("agent-did-not-start"));
    }
    Ok(())
}

/// `custody agent-serve`: reads name, key file, minutes and passphrase from stdin,
/// unlocks the key, says `ready` and serves until the window ends or `custody lock`.
pub fn serve() -> Result<ExitCode> {
    let mut text = Zeroizing::new(String::new());
    std::io::stdin().read_to_string(&mut text)?;
    let mut lines = text.lines();
    let (Some(name), Some(path), Some(minutes), Some(phrase)) =
        (lines.next(), lines.next(), lines.next(), lines.next())
    else {
        anyhow::bail!(crate::Refused(crate::i18n::t!("agent-not-for-typing")));
    };
    let minutes: u64 = minutes.parse().unwrap_or(15).clamp(1, 480);
    let passphrase = Passphrase::new(Zeroizing::new(phrase.to_owned()));
    let key = PersonalKey::load(Path::new(path), name, &passphrase)?;
    drop(passphrase);
    let socket = agent::socket_for(name).context("XDG_RUNTIME_DIR is not set")?;
    agent::serve(&socket, key, Duration::from_secs(minutes * 60), || {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(b"ready\n");
        let _ = out.flush();
    })?;
    Ok(ExitCode::SUCCESS)
}
