//! Block sync as a sans-IO state machine: which peer to ask for which
//! blocks, when a request has failed, and which peers lie.
//!
//! Inputs are peers' claimed tips, answers (how many blocks were applied,
//! or why they were refused) and the time; outputs are [`SyncAction`]s the
//! node carries out (send a request, penalise and drop a peer). No I/O, no
//! clock: time comes in as milliseconds, so every rule is tested directly.
//!
//! - Requests go to peers ahead of us in turn, the least recently asked first
//!   (a peer seen for the first time counts as just asked), never always the
//!   peer that claims the highest tip: a peer that claims a huge tip gets a
//!   turn, not all of them.
//! - Progress is required: an answer that applies no block although the peer
//!   claimed it and our tip has not moved past it meanwhile, a request that
//!   times out, fails, or whose peer disconnects while it is out, is a
//!   strike; [`MAX_STRIKES`] strikes and the peer is penalised. A block that
//!   does not match its certificate, or an invalid certificate, is penalised
//!   at once. A "busy" answer, or a certified block that does not execute
//!   here (our state or a local bound, not the peer's fault), is no strike.
//! - A peer's record (strikes, turns) outlives its connection, so
//!   reconnecting wipes nothing; a penalised peer's claims are forgotten and
//!   it is not asked again until its ban ends.

use std::collections::BTreeMap;

use ledger::Height;

/// Strikes (empty answers, timeouts) before a peer is penalised.
pub const MAX_STRIKES: u32 = 2;
/// How long a penalised peer is not asked (and, in the network, not let
/// back in).
pub const BAN_MS: u64 = 120_000;
/// A request not answered by then is a strike (the network's own request
/// timeout is the same).
pub const REQUEST_TIMEOUT_MS: u64 = 20_000;
/// How long a peer may be one height ahead before we fetch that block
/// instead of waiting for the height's precommits (the longest grace; see
/// [`one_behind_grace_for`]).
pub const ONE_BEHIND_GRACE_MS: u64 = 1_500;
/// The shortest grace (chains with a short block interval).
pub const MIN_ONE_BEHIND_GRACE_MS: u64 = 500;

/// The grace for a chain whose block interval is `interval_ms`: five
/// intervals, within [`MIN_ONE_BEHIND_GRACE_MS`, `ONE_BEHIND_GRACE_MS`].
///
/// A validator that falls two heights behind under load (its executor was
/// late) drops the messages of the height the others decide meanwhile (the
/// core keeps the next height's only), so it cannot decide that height
/// itself and waits for this grace before fetching the block. With 1.5 s on
/// a 100 ms chain, such a validator, when it was the next proposer, held
/// the whole chain up past the others' propose timeout (1 s there): a round
/// change and a 1.4 s height, seen at saturation. Shorter than the propose
/// timeout (`3 × interval`, at least 1 s), the laggard has the block and can
/// still propose in time.
pub fn one_behind_grace_for(interval_ms: u64) -> u64 {
    interval_ms.saturating_mul(5).clamp(MIN_ONE_BEHIND_GRACE_MS, ONE_BEHIND_GRACE_MS)
}
/// Peers whose claims are remembered (the network bounds connections; this
/// bounds the map even if it did not).
pub const MAX_TRACKED_PEERS: usize = 256;

/// What the node must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncAction<P> {
    /// Ask `peer` for decided blocks from `from` on.
    Request { peer: P, from: Height },
    /// Drop the peer and keep it out for [`BAN_MS`].
    Penalise { peer: P, reason: String },
}

/// How an answer to our request turned out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `applied` blocks were verified and committed (0: nothing usable).
    Applied(u64),
    /// A block's certificate did not verify, or block and certificate differ.
    Invalid(String),
    /// The request failed (error answer, stream error, timeout).
    Failed(String),
    /// The peer is serving others to its bound: ask someone else, no blame.
    Busy,
    /// Certified blocks that do not execute here: not the peer's fault.
    NotApplicable(String),
}

#[derive(Clone, Debug, Default)]
struct PeerState {
    tip: Height,
    strikes: u32,
    /// When we last sent this peer a request (or first saw it).
    last_asked_ms: u64,
    connected: bool,
}

#[derive(Clone, Copy, Debug)]
struct Inflight<P> {
    peer: P,
    from: Height,
    sent_ms: u64,
}

/// The block-sync state machine.
#[derive(Debug)]
pub struct Sync<P> {
    peers: BTreeMap<P, PeerState>,
    banned: BTreeMap<P, u64>,
    inflight: Option<Inflight<P>>,
    /// Blocks committed through sync since start.
    pub synced: u64,
    /// How long a peer may be one height ahead before we fetch.
    one_behind_grace_ms: u64,
}

impl<P: Ord + Copy + std::fmt::Debug> Default for Sync<P> {
    fn default() -> Self {
        Sync::with_one_behind_grace(ONE_BEHIND_GRACE_MS)
    }
}

impl<P: Ord + Copy + std::fmt::Debug> Sync<P> {
    /// A state machine that fetches a block a peer is one height ahead by
    /// once our height is `grace_ms` old.
    pub fn with_one_behind_grace(grace_ms: u64) -> Self {
        Sync {
            peers: BTreeMap::new(),
            banned: BTreeMap::new(),
            inflight: None,
            synced: 0,
            one_behind_grace_ms: grace_ms,
        }
    }

    /// A peer's claimed tip (status answer, or a hint from its messages).
    /// Claims only ever raise a peer's tip; banned peers are not heard.
    pub fn on_tip(&mut self, peer: P, tip: Height, now_ms: u64) {
        if self.banned.get(&peer).is_some_and(|until| *until > now_ms) {
            return;
        }
        if !self.peers.contains_key(&peer) && self.peers.len() >= MAX_TRACKED_PEERS {
            // Make room by forgetting a disconnected peer with a clean record.
            let gone = self.peers.iter().find(|(_, st)| !st.connected && st.strikes == 0).map(|(p, _)| *p);
            match gone {
                Some(g) => {
                    self.peers.remove(&g);
                }
                None => return,
            }
        }
        // A new peer waits its turn behind the ones already there.
        let st = self.peers.entry(peer).or_insert_with(|| PeerState { last_asked_ms: now_ms, ..PeerState::default() });
        st.connected = true;
        if tip > st.tip {
            st.tip = tip;
        }
    }

    /// The peer disconnected: its claims are stale, its record stays. If our
    /// request to it was out, that is a strike.
    pub fn on_peer_gone(&mut self, peer: P, now_ms: u64) -> Vec<SyncAction<P>> {
        let mut out = Vec::new();
        if let Some(st) = self.peers.get_mut(&peer) {
            st.connected = false;
            st.tip = Height::default();
        }
        if self.inflight.is_some_and(|i| i.peer == peer) {
            self.inflight = None;
            self.strike(peer, "disconnected with our request", now_ms, &mut out);
        }
        out
    }

    /// Is a request outstanding?
    pub fn is_syncing(&self) -> bool {
        self.inflight.is_some()
    }

    /// Highest tip any (unbanned) peer claims.
    pub fn best_claim(&self) -> Height {
        self.peers.values().map(|p| p.tip).max().unwrap_or_default()
    }

    /// Is `peer` banned at `now_ms`?
    pub fn is_banned(&self, peer: &P, now_ms: u64) -> bool {
        self.banned.get(peer).is_some_and(|until| *until > now_ms)
    }

    /// What to do now, given our tip and how long the current height has
    /// been running: a timed-out request becomes a strike, and a new request
    /// goes out if some peer is ahead.
    pub fn poll(&mut self, our_tip: Height, height_age_ms: u64, now_ms: u64) -> Vec<SyncAction<P>> {
        let mut out = Vec::new();
        self.banned.retain(|_, until| *until > now_ms);
        if let Some(i) = self.inflight {
            if now_ms.saturating_sub(i.sent_ms) < REQUEST_TIMEOUT_MS {
                return out;
            }
            self.inflight = None;
            self.strike(i.peer, "request timed out", now_ms, &mut out);
        }
        let ahead = |st: &PeerState| {
            let behind = st.tip.0.saturating_sub(our_tip.0);
            st.connected && (behind >= 2 || (behind == 1 && height_age_ms >= self.one_behind_grace_ms))
        };
        // The least recently asked peer that is ahead (ties: lowest id).
        let pick =
            self.peers.iter().filter(|(_, st)| ahead(st)).min_by_key(|(_, st)| st.last_asked_ms).map(|(p, _)| *p);
        if let Some(peer) = pick {
            let from = our_tip.next();
            if let Some(st) = self.peers.get_mut(&peer) {
                st.last_asked_ms = now_ms.max(1);
            }
            self.inflight = Some(Inflight { peer, from, sent_ms: now_ms });
            out.push(SyncAction::Request { peer, from });
        }
        out
    }

    /// The answer to our request from `peer`.
    pub fn on_answer(&mut self, peer: P, answer: Answer, our_tip: Height, now_ms: u64) -> Vec<SyncAction<P>> {
        let mut out = Vec::new();
        let Some(i) = self.inflight.filter(|i| i.peer == peer) else {
            // Not what we asked (late, or never asked): ignored.
            return out;
        };
        self.inflight = None;
        match answer {
            Answer::Applied(n) if n > 0 => {
                self.synced += n;
                if let Some(st) = self.peers.get_mut(&peer) {
                    st.strikes = 0;
                }
            }
            Answer::Applied(_) => {
                // Nothing usable although it claimed to have `from`, and we
                // did not get there another way meanwhile.
                let claimed = self.peers.get(&peer).is_some_and(|st| st.tip >= i.from);
                if claimed && our_tip < i.from {
                    self.strike(peer, "claimed a tip it does not serve", now_ms, &mut out);
                }
            }
            Answer::Invalid(reason) => self.penalise(peer, reason, now_ms, &mut out),
            Answer::Failed(reason) => self.strike(peer, &reason, now_ms, &mut out),
            Answer::Busy | Answer::NotApplicable(_) => {}
        }
        out
    }

    fn strike(&mut self, peer: P, reason: &str, now_ms: u64, out: &mut Vec<SyncAction<P>>) {
        let Some(st) = self.peers.get_mut(&peer) else { return };
        st.strikes += 1;
        if st.strikes >= MAX_STRIKES {
            self.penalise(peer, format!("{reason} ({MAX_STRIKES} times)"), now_ms, out);
        }
    }

    fn penalise(&mut self, peer: P, reason: String, now_ms: u64, out: &mut Vec<SyncAction<P>>) {
        self.peers.remove(&peer);
        if self.banned.len() < MAX_TRACKED_PEERS {
            self.banned.insert(peer, now_ms.saturating_add(BAN_MS));
        }
        out.push(SyncAction::Penalise { peer, reason });
    }
}

#[cfg(test)]
mod tests;
