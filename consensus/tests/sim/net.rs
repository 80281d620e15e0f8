//! The simulated network (delays, drops, duplicates, partitions, the fork
//! attempt's targeted drops) and block sync.
//!
//! Liveness aids a real node would have besides the core's own rebroadcast
//! and catch-up: block sync. A node that gets a message from a peer at a
//! lower height answers with that height's commit certificate; a node that
//! hears from a peer two or more heights ahead asks it for the certificate
//! of its own height. The lagging node verifies the certificate with
//! `CommitCertificate::verify_for_height` and commits it (its core never
//! sees it; the node simply starts the next height).

use std::collections::VecDeque;

use consensus::{CommitCertificate, Height, Input, SignedMessage};
use rand::Rng;

use super::checker::{Checker, TraceEv};
use super::world::{Event, NetMsg, Sim, WINDOW};

impl Sim {
    pub fn broadcast(&mut self, from: usize, msg: NetMsg) {
        for to in 0..self.nodes.len() {
            if to != from {
                self.send(from, to, msg.clone());
            }
        }
    }

    pub fn send(&mut self, from: usize, to: usize, msg: NetMsg) {
        let before_gst = self.now < self.sc.gst;
        let link = if before_gst { self.sc.pre } else { self.sc.post };
        let cut = before_gst
            && (self.active.iter().any(|k| {
                let side = &self.sc.partitions[*k].side;
                side[from] != side[to]
            }) || self.fork_blocks(to, &msg));
        if cut || self.rng.gen_range(0..1000) < link.drop_permille {
            self.counts.dropped += 1;
            return;
        }
        let copies = if self.rng.gen_range(0..1000) < link.dup_permille {
            self.counts.duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = self.rng.gen_range(link.min_delay_ms..=link.max_delay_ms);
            let msg = msg.clone();
            self.at(self.now + delay, Event::Deliver { from, to, msg });
        }
    }

    pub fn deliver(&mut self, from: usize, to: usize, msg: NetMsg) {
        let Some(state) = self.nodes[to].core.as_ref().map(|c| c.state()) else {
            return; // crashed: lost
        };
        self.counts.delivered += 1;
        let m = match msg {
            NetMsg::Sync(cert) => return self.on_sync(to, *cert),
            NetMsg::SyncRequest(h) => {
                if self.honest(to) {
                    self.maybe_sync(to, from, h);
                }
                return;
            }
            NetMsg::Consensus(m) => m,
        };
        if let Some(st) = state {
            if m.height() < st.height && self.honest(to) {
                // A peer still working on a height we committed: block sync.
                self.maybe_sync(to, from, m.height());
            } else if m.height() > st.height.next().unwrap_or(st.height) {
                // The sender is ahead of us by more than the one height the
                // core buffers: ask it for the certificate of our height.
                self.request_sync(to, from, st.height);
            }
        }
        // Evidence bookkeeping: a vote the core will store for its slot.
        let expect = match (&m, state) {
            (SignedMessage::Vote(sv), Some(st))
                if self.honest(to)
                    && st.height == sv.vote.height
                    && st.decision.is_none()
                    && sv.vote.round.0 <= st.round.0.saturating_add(WINDOW) =>
            {
                Some((Checker::evidence_key_of(&sv.vote), sv.vote.value_id))
            }
            _ => None,
        };
        let input = match m {
            SignedMessage::Proposal(sp) => Input::ProposalReceived(sp),
            SignedMessage::Vote(sv) => Input::VoteReceived(sv),
        };
        let inc = self.nodes[to].incarnation;
        let Some(core) = self.nodes[to].core.as_mut() else {
            return;
        };
        let Ok(effects) = core.handle(input) else {
            return;
        };
        let mut required = None;
        if let Some((key, value)) = expect {
            match self.nodes[to].seen_votes.get(&key) {
                None => {
                    self.nodes[to].seen_votes.insert(key, value);
                }
                Some(prev) if *prev != value => required = Some(key),
                Some(_) => {}
            }
        }
        let mut work = VecDeque::new();
        self.execute_all(to, effects, &mut work);
        self.drain(to, &mut work);
        if let Some(key) = required
            && self.nodes[to].incarnation == inc
            && !self.nodes[to].evidence_keys.contains(&key)
        {
            self.checker.violation(
                self.now,
                format!("EVIDENCE: node {to} accepted conflicting votes {key:?} without evidence"),
            );
        }
    }

    fn maybe_sync(&mut self, me: usize, peer: usize, h: Height) {
        let Some((_, cert)) = self.nodes[me].store.get(&h) else {
            return;
        };
        let cert = cert.clone();
        let last = self.nodes[me].last_sync.get(&(peer, h)).copied();
        if last.is_some_and(|t| self.now < t + 500) {
            return;
        }
        self.nodes[me].last_sync.insert((peer, h), self.now);
        self.counts.syncs += 1;
        self.send(me, peer, NetMsg::Sync(Box::new(cert)));
    }

    fn request_sync(&mut self, me: usize, peer: usize, h: Height) {
        let last = self.nodes[me].last_sync.get(&(peer, h)).copied();
        if last.is_some_and(|t| self.now < t + 500) {
            return;
        }
        self.nodes[me].last_sync.insert((peer, h), self.now);
        self.send(me, peer, NetMsg::SyncRequest(h));
    }

    fn on_sync(&mut self, to: usize, cert: CommitCertificate) {
        let Some(st) = self.nodes[to].core.as_ref().and_then(|c| c.state()) else {
            return;
        };
        if st.height != cert.height || st.decision.is_some() {
            return;
        }
        if cert.verify_for_height(st.height, &self.set, &self.chain).is_err() {
            return;
        }
        self.checker.trace(self.now, TraceEv::Sync(to, cert.height, cert.value_id));
        let mut work = VecDeque::new();
        let (h, v) = (cert.height, cert.value_id);
        self.commit(to, h, v, cert, &mut work);
        self.drain(to, &mut work);
    }
}
