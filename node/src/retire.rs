//! Dropping a committed block's data off the consensus path. After a commit
//! the executor held the block, its verified transactions and its outcome
//! (receipts, events, the state diff): thousands of allocations, whose
//! freeing took ~1.5 % of a validator's CPU at 10k transfers/s, on the way
//! from one height to the next. They go to one lowered thread
//! ([`crate::priority`]) instead. The queue is bounded ([`QUEUE`]): when that
//! thread is behind, the caller drops the value itself, as before, so memory
//! held for dropping is at most a few blocks.

use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};

/// Values waiting to be dropped; past it the caller drops its own.
pub const QUEUE: usize = 4;

type Item = Box<dyn Send>;

/// The handle values are handed over with. The thread ends when the last
/// handle is dropped.
#[derive(Debug)]
pub struct Retire {
    queue: Option<SyncSender<Item>>,
}

impl Retire {
    /// Starts the thread (if it cannot be started, values are dropped by the
    /// caller).
    pub fn start() -> Retire {
        let (queue, rx) = sync_channel::<Item>(QUEUE);
        let thread = std::thread::Builder::new().name("retire".into()).spawn(move || {
            crate::priority::lower_this_thread();
            while let Ok(item) = rx.recv() {
                drop(item);
            }
        });
        Retire { queue: thread.ok().map(|_| queue) }
    }

    /// Drops `value` on the retire thread; `false` when it was dropped here
    /// instead (the queue was full, or the thread is gone).
    pub fn drop_later<T: Send + 'static>(&self, value: T) -> bool {
        let Some(queue) = &self.queue else {
            drop(value);
            return false;
        };
        match queue.try_send(Box::new(value)) {
            Ok(()) => true,
            Err(TrySendError::Full(v) | TrySendError::Disconnected(v)) => {
                drop(v);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::mpsc::{Receiver, Sender, channel};
    use std::sync::{Arc, Barrier};
    use std::thread::ThreadId;
    use std::time::Duration;

    /// Reports the thread it is dropped on; optionally meets the test at a
    /// barrier twice first (once it is being dropped, then to be let go), to
    /// hold the retire thread busy.
    struct Probe(Sender<ThreadId>, Option<Arc<Barrier>>);
    impl Drop for Probe {
        fn drop(&mut self) {
            if let Some(b) = &self.1 {
                b.wait();
                b.wait();
            }
            let _ = self.0.send(std::thread::current().id());
        }
    }

    fn dropped_on(rx: &Receiver<ThreadId>) -> ThreadId {
        rx.recv_timeout(Duration::from_secs(10)).expect("the value is dropped")
    }

    #[test]
    fn values_are_dropped_on_the_retire_thread() {
        let r = Retire::start();
        let (tx, rx) = channel();
        assert!(r.drop_later(Probe(tx, None)));
        assert_ne!(dropped_on(&rx), std::thread::current().id());
    }

    /// With the thread busy and the queue full, the caller drops the value
    /// at once: nothing waits, and no more than `QUEUE` values are held.
    #[test]
    fn a_full_queue_drops_here() {
        let r = Retire::start();
        let (tx, rx) = channel();
        let gate = Arc::new(Barrier::new(2));
        // Taken by the thread, which then waits at the gate.
        assert!(r.drop_later(Probe(tx.clone(), Some(gate.clone()))));
        gate.wait();
        for _ in 0..QUEUE {
            assert!(r.drop_later(Probe(tx.clone(), None)));
        }
        let me = std::thread::current().id();
        assert!(!r.drop_later(Probe(tx.clone(), None)), "the queue is full");
        assert_eq!(dropped_on(&rx), me, "dropped by the caller");
        gate.wait();
        for _ in 0..=QUEUE {
            assert_ne!(dropped_on(&rx), me);
        }
    }
}
