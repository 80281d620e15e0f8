//! Thread priorities. Work for clients (JSON-RPC, and admitting sent and
//! gossiped transactions: decoding, mempool checks, signature batches) runs
//! below the threads on the consensus path (the engine and the swarm on the
//! main runtime's workers, the executor thread). Under load the cores go
//! first to finishing the current height, and client work gets the rest, so
//! a flood of submissions lengthens its own wait, not every height.
//!
//! Linux gives each thread its own nice value; a thread is lowered once and
//! stays lowered (an unprivileged process cannot raise it back), so only
//! threads that do nothing but client work are lowered: the RPC runtime's
//! threads, the admission thread and the main runtime's blocking threads
//! (gossip admission; the pool also serves block sync and metrics, both off
//! the consensus path). Best effort: where the call fails (another OS, a sandbox), the
//! thread keeps its priority and nothing else changes.

/// How much lower client work runs (nice steps; each step is ~1.25× less
/// CPU weight under contention, so 19 is ~1/70 of a normal thread's share
/// when both want the core, and the whole core when the other is idle).
/// 19 rather than 10: a node runs many client threads (the RPC runtime, the
/// admission thread, the blocking pool) and at 10 their weights together
/// still took a fair part of the cores from the executor in the middle of a
/// height. Alternated at 10k transfers/s on 4 validators, five pairs: p50
/// finality 450 / 252 / 229 / 316 / 216 ms against 504 / 336 / 234 / 374 /
/// 238 ms at 10, heights of 123–184 ms against 139–248 ms, and saturation
/// not lower (13,476 against 13,105 tx/s).
pub const CLIENT_WORK_NICE: i32 = 19;

/// Lowers the calling thread to [`CLIENT_WORK_NICE`] below the process's
/// main thread (absolute, not relative: a thread started by a lowered
/// thread inherits its value, and lowering it again would go further).
pub fn lower_this_thread() {
    // Called for every gossiped batch: after the first call on a thread, no
    // syscall (nothing else changes a thread's nice value).
    thread_local!(static DONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    if DONE.replace(true) {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        // PRIO_PROCESS with the process id names the main thread (with 0,
        // or a thread id, that thread).
        let main = rustix::process::getpriority_process(Some(rustix::process::getpid()));
        if let (Ok(main), Some(now)) = (main, this_thread_nice()) {
            let target = (main + CLIENT_WORK_NICE).min(19);
            if now < target {
                let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), target);
            }
        }
    }
}

/// This thread's nice value (Linux: `PRIO_PROCESS` with a thread id names
/// that thread; `None` elsewhere or on error).
pub fn this_thread_nice() -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).ok()
    }
    #[cfg(not(target_os = "linux"))]
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lowered thread runs below the main thread; lowering twice, or a
    /// thread started by a lowered one, goes no further; other threads keep
    /// their priority.
    #[test]
    #[cfg(target_os = "linux")]
    fn client_threads_run_below_the_others_once() {
        let base = rustix::process::getpriority_process(Some(rustix::process::getpid())).expect("getpriority");
        let want = Some((base + CLIENT_WORK_NICE).min(19));
        let before = this_thread_nice();
        let lowered = std::thread::spawn(move || {
            lower_this_thread();
            let once = this_thread_nice();
            lower_this_thread();
            let twice = this_thread_nice();
            let child = std::thread::spawn(|| {
                lower_this_thread();
                this_thread_nice()
            })
            .join()
            .expect("child");
            (once, twice, child)
        })
        .join()
        .expect("thread");
        assert_eq!(lowered, (want, want, want));
        assert_eq!(this_thread_nice(), before, "only the calling thread");
    }
}
