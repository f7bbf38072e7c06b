//! Running a drive's own tools (hdparm, smartctl) on a device: found on `PATH` or in
//! the sbin folders, read as they write, and stopped after a time limit, so that a
//! drive that does not answer never hangs a wipe.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where the tool `name` is installed, if it is.
pub(crate) fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `tool ARGS DEVICE`'s standard output, when it ends within `limit` (and exits 0,
/// when `success` is asked for; smartctl's exit status is a bit mask that is often
/// non-zero for a readable drive, so there the output decides).
pub(crate) fn output(
    tool: &Path,
    args: &[&str],
    device: &Path,
    limit: Duration,
    success: bool,
) -> Option<String> {
    let mut child = Command::new(tool)
        .args(args)
        .arg(device)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut out).ok()?;
        Some(out)
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Err(_) => return None,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let out = reader.join().ok().flatten()?;
    (!success || status.success()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_is_found_run_and_its_failure_seen() {
        let sh = find("sh").expect("sh is installed");
        let out = output(
            &sh,
            &["-c", "echo hello; exit 3", "sh"],
            Path::new("x"),
            Duration::from_secs(5),
            false,
        );
        assert_eq!(out.as_deref(), Some("hello\n"));
        let failed = output(
            &sh,
            &["-c", "exit 3", "sh"],
            Path::new("x"),
            Duration::from_secs(5),
            true,
        );
        assert_eq!(failed, None);
        let slow = output(
            &sh,
            &["-c", "sleep 5", "sh"],
            Path::new("x"),
            Duration::from_millis(100),
            false,
        );
        assert_eq!(slow, None);
        assert_eq!(find("no-such-tool-custody"), None);
    }
}
