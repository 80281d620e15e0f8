//! CPU accounting from /proc: each validator's CPU over a stage, by thread job.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::Cpu;

pub(super) fn clk_tck() -> f64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok().flatten().map(|v| v as f64).unwrap_or(100.0)
}

/// (comm, utime + stime) of a `/proc/…/stat` line; `comm` may hold spaces
/// and parentheses, so the fields after it are found from the last `)`.
pub(super) fn parse_stat(line: &str) -> Option<(String, u64)> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let comm = line.get(open + 1..close)?.to_owned();
    let rest: Vec<&str> = line.get(close + 1..)?.split_whitespace().collect();
    // After `)`: state(3) ppid(4) … utime(14) stime(15): indices 11 and 12 here.
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

pub(super) fn process_ticks(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|l| parse_stat(&l)).map(|x| x.1).unwrap_or(0)
}

/// CPU ticks per thread id, with the thread's name.
pub(super) fn thread_ticks(pid: u32) -> HashMap<u64, (String, u64)> {
    let mut out = HashMap::new();
    let dir = PathBuf::from(format!("/proc/{pid}/task"));
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let Some(tid) = e.file_name().to_str().and_then(|s| s.parse::<u64>().ok()) else { continue };
            if let Some(s) = read_stat(&e.path().join("stat")) {
                out.insert(tid, s);
            }
        }
    }
    out
}

pub(super) fn read_stat(p: &Path) -> Option<(String, u64)> {
    parse_stat(&std::fs::read_to_string(p).ok()?)
}

/// The job a node thread does, from its name (unknown names stand for
/// themselves).
pub fn thread_group(comm: &str) -> String {
    known_group(comm).map(str::to_owned).unwrap_or_else(|| format!("thread {comm}"))
}

pub(super) fn known_group(comm: &str) -> Option<&'static str> {
    Some(if comm.starts_with("executor") {
        "executor (build, validate, execute, commit)"
    } else if comm.starts_with("agora-rpc") {
        "rpc (JSON-RPC: requests, queries)"
    } else if comm.starts_with("admission") {
        "admission (sent txs: checks, signature batches)"
    } else if comm.starts_with("tokio-r") || comm == "agorad" {
        "main runtime (consensus, p2p, gossip admission)"
    } else if comm.starts_with("rocksdb") {
        "rocksdb background (flush, compaction)"
    } else {
        return None;
    })
}

/// `total`: the process's CPU ticks over the window (its `/proc/PID/stat`
/// counts threads that have exited too, e.g. short-lived verification or
/// blocking-pool threads, which `/proc/PID/task` no longer lists).
pub(super) fn cpu_use(
    name: &str,
    total: u64,
    before: &HashMap<u64, (String, u64)>,
    after: &HashMap<u64, (String, u64)>,
    wall: f64,
) -> Cpu {
    let tck = clk_tck();
    let mut groups: Vec<(String, f64)> = Vec::new();
    let mut live = 0u64;
    for (tid, (comm, t1)) in after {
        let t0 = before.get(tid).map(|x| x.1).unwrap_or(0);
        let ticks = t1.saturating_sub(t0);
        live += ticks;
        let cores = ticks as f64 / tck / wall;
        let g = thread_group(comm);
        match groups.iter_mut().find(|(n, _)| *n == g) {
            Some(x) => x.1 += cores,
            None => groups.push((g, cores)),
        }
    }
    let gone = total.saturating_sub(live);
    if gone > 0 {
        groups
            .push(("threads that exited (scoped workers, idle blocking threads)".to_owned(), gone as f64 / tck / wall));
    }
    groups.sort_by(|a, b| b.1.total_cmp(&a.1));
    Cpu { name: name.to_owned(), total: total.max(live) as f64 / tck / wall, groups }
}
