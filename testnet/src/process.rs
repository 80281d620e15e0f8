//! Signals and liveness of node processes, including ones started by another
//! invocation of the tool (known only by their pid).

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// What a pid currently is, as far as this testnet is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcState {
    /// Alive and scheduled.
    Running,
    /// Alive but stopped (SIGSTOP).
    Paused,
    /// Gone, a zombie, or the pid now belongs to an unrelated process.
    Dead,
}

fn pid_of(pid: u32) -> Option<Pid> {
    i32::try_from(pid).ok().filter(|p| *p > 0).map(Pid::from_raw)
}

/// The state of `pid`, checking (where `/proc` exists) that it is still an
/// `agorad` of `home` rather than a recycled pid.
pub fn proc_state(pid: u32, home: &Path) -> ProcState {
    let Some(p) = pid_of(pid) else {
        return ProcState::Dead;
    };
    if kill(p, None).is_err() {
        // ESRCH: gone; EPERM: the pid belongs to someone else now.
        return ProcState::Dead;
    }
    let proc_dir = Path::new("/proc").join(pid.to_string());
    let Ok(stat) = std::fs::read_to_string(proc_dir.join("stat")) else {
        // No procfs (or it vanished in between): trust kill(pid, 0).
        return ProcState::Running;
    };
    // Format: `pid (comm) S ...`; comm may contain spaces or parentheses.
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
    if matches!(state, Some('Z' | 'X' | 'x')) {
        return ProcState::Dead;
    }
    if let Ok(cmdline) = std::fs::read(proc_dir.join("cmdline")) {
        let home = home.as_os_str().as_encoded_bytes();
        if !cmdline.split(|b| *b == 0).any(|arg| arg == home) {
            return ProcState::Dead;
        }
    }
    match state {
        Some('T' | 't') => ProcState::Paused,
        _ => ProcState::Running,
    }
}

/// Sends `sig` to `pid`; a process that is already gone is not an error.
pub fn send(pid: u32, sig: Signal) -> Result<()> {
    let Some(p) = pid_of(pid) else {
        return Ok(());
    };
    match kill(p, sig) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("sending {sig} to process {pid}")),
    }
}

/// Reaps `pid` if it is a dead child of this process that no `Child` handle
/// owns (a no-op for any other pid), so stopped nodes do not linger as zombies.
/// Waits up to `patience` for a dying child to become reapable (a killed
/// multi-threaded process shows as a zombie before its threads are gone).
pub fn reap_if_child(pid: u32, patience: Duration) {
    let Some(p) = pid_of(pid) else {
        return;
    };
    let deadline = Instant::now() + patience;
    loop {
        match waitpid(p, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            // Reaped, still alive after `patience`, or not our child (ECHILD).
            _ => return,
        }
    }
}

/// The last `lines` lines of a file (reads at most its last 256 KiB).
pub fn tail_file(path: &Path, lines: usize) -> String {
    let Ok(mut f) = std::fs::File::open(path) else {
        return format!("(no log at {})", path.display());
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(256 * 1024);
    let mut buf = Vec::new();
    if f.seek(SeekFrom::Start(start)).is_err() || f.read_to_end(&mut buf).is_err() {
        return format!("(cannot read {})", path.display());
    }
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
