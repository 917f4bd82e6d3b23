//! What every interop test (tests/tests/interop_*.rs) shares: finding the real peers,
//! skipping loudly when they are absent, and failing instead when `SIPWS_INTEROP=required`
//! (which `.ci/run` sets after `tests/interop/install.sh` installed them).

use std::io::Write as _;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The environment variable that turns a missing peer from a skip into a failure.
pub const REQUIRED_ENV: &str = "SIPWS_INTEROP";

/// True when `SIPWS_INTEROP=required`.
pub fn required() -> bool {
    std::env::var(REQUIRED_ENV).is_ok_and(|v| v == "required")
}

/// Decide what a test does about a peer: `Ok(x)` runs it; `Err(why)` skips it with a loud
/// message on stderr, or panics when interop is required. Returns `None` on a skip.
pub fn require<T>(test: &str, found: Result<T, String>) -> Option<T> {
    match found {
        Ok(v) => Some(v),
        Err(why) if required() => {
            panic!("{test}: interop peer missing and {REQUIRED_ENV}=required: {why}")
        }
        Err(why) => {
            // Straight to the process's stderr: libtest captures `eprintln!` of a passing
            // test, and a skip must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED {test}: {why}\n*** install the peers with tests/interop/install.sh \
                 (or set {REQUIRED_ENV}=required to make this a failure)\n"
            );
            None
        }
    }
}

/// An executable on PATH (or an absolute path), checked by running it with `version_arg`.
pub fn executable(name: &str, version_arg: &str) -> Result<PathBuf, String> {
    let path = if Path::new(name).is_absolute() {
        PathBuf::from(name)
    } else {
        std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
            .ok_or_else(|| format!("`{name}` is not on PATH"))?
    };
    let out = Command::new(&path)
        .arg(version_arg)
        .output()
        .map_err(|e| format!("{} {version_arg}: {e}", path.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} {version_arg} exited with {}",
            path.display(),
            out.status
        ));
    }
    Ok(path)
}

/// `tests/interop/`: the install script, the Kamailio configuration, the Node packages.
pub fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// Where interop tests write their reports: `<target>/interop/`, created on demand.
pub fn report_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("interop");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    dir
}

/// A TCP port on 127.0.0.1 that was free a moment ago, for peers that cannot bind port 0
/// and report the port they got (Kamailio). Another process may take it in between; callers
/// retry a failed start with fresh ports.
pub fn free_tcp_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Writes `target/interop/matrix/<name>.md`: rows of the README's interop matrix
/// (`| peer, runtime, transport | what works | pass | fail | warn | info | skip |`), made by
/// the last run of each interop test; `cat target/interop/matrix/*.md` gives the table body.
pub fn write_matrix_rows(name: &str, rows: &[String]) {
    let dir = report_dir().join("matrix");
    let path = dir.join(format!("{name}.md"));
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text)) {
        panic!("cannot write {}: {e}", path.display());
    }
}

/// The last `n` lines of a peer's log, for a failure message ("" if it cannot be read).
pub fn file_tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// SIGKILL to a whole process group: a peer started with `process_group(0)` and whatever it
/// forked (Kamailio's workers, the Chromium a Node script started). Errors (the group is
/// already gone) are ignored.
pub fn kill_process_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}
