//! Byzantine validators (total power < 1/3). Each runs an honest core so
//! its messages stay plausible, signs without a guard, and tampers with its
//! own outgoing messages: double votes (different values to different
//! peers, sometimes both to one peer), votes for random values, double
//! proposals (a second, random value), and silence.

use consensus::signing::{sign_proposal_unguarded, sign_vote_unguarded};
use consensus::{Height, SignedMessage, ValueId, Vote, VoteType};
use rand::{Rng, RngCore};

use super::checker::TraceEv;
use super::world::{NetMsg, Sim};

impl Sim {
    /// The coordinated fork attempt runs before GST in seeds that ask for it.
    pub fn forking(&self) -> bool {
        self.sc.byz.fork_attack && self.now < self.sc.gst && self.sc.byzantine.iter().any(|b| *b)
    }

    /// Roles of the fork attempt at height `h`, chosen once per height:
    /// a victim (the honest node of least power) that alone will see the
    /// byzantine precommits, and a set `E` of honest nodes that the
    /// adversarial pre-GST network keeps from every round-0 prevote, so
    /// they precommit nil. `E` is picked so that the honest nodes outside it
    /// (victim included) hold less than 2/3 of the power on their own but
    /// more with the byzantine power: the victim can decide, nobody else.
    /// `None` if the powers admit no such split.
    pub fn fork_roles(&mut self, h: Height) -> Option<(usize, Vec<bool>)> {
        if let Some(r) = self.fork.get(&h) {
            return r.clone();
        }
        let n = self.nodes.len();
        let powers = &self.sc.powers;
        let total: u64 = powers.iter().sum();
        let byz: u64 = (0..n).filter(|i| self.nodes[*i].byzantine).map(|i| powers[i]).sum();
        let honest: Vec<usize> = (0..n).filter(|i| !self.nodes[*i].byzantine).collect();
        let victim = honest.iter().copied().min_by_key(|i| (powers[*i], *i));
        let mut options = Vec::new();
        if let Some(victim) = victim {
            let rest: Vec<usize> = honest.iter().copied().filter(|i| *i != victim).collect();
            for mask in 1u32..(1 << rest.len()) {
                let excluded: u64 = (0..rest.len()).filter(|k| mask & (1 << k) != 0).map(|k| powers[rest[k]]).sum();
                let outside = honest.iter().map(|i| powers[*i]).sum::<u64>() - excluded;
                if 3 * outside <= 2 * total && 3 * (outside + byz) > 2 * total {
                    let mut e = vec![false; n];
                    for k in (0..rest.len()).filter(|k| mask & (1 << k) != 0) {
                        e[rest[k]] = true;
                    }
                    options.push((victim, e));
                }
            }
        }
        let pick =
            if options.is_empty() { None } else { Some(options.swap_remove(self.rng.gen_range(0..options.len()))) };
        self.fork.insert(h, pick.clone());
        pick
    }

    /// The adversarial network of the fork attempt: round-0 prevotes of an
    /// attacked height never reach the nodes of `E` before GST.
    pub fn fork_blocks(&mut self, to: usize, msg: &NetMsg) -> bool {
        if !self.forking() {
            return false;
        }
        let NetMsg::Consensus(SignedMessage::Vote(sv)) = msg else { return false };
        if sv.vote.vote_type != VoteType::Prevote || sv.vote.round.0 != 0 {
            return false;
        }
        self.fork_roles(sv.vote.height).is_some_and(|(_, e)| e[to])
    }

    /// Fork attempt (pre-GST, coordinated with the network): byzantine
    /// precommits for a value go only to the victim (the rest get nil), so
    /// the victim decides on 2f+1 that only it has seen; it is then cut off
    /// until GST (`maybe_crash_after_decide`), and byzantine proposers
    /// propose fresh values instead of validValue while byzantine voters
    /// ignore locks. Correct locks make the honest nodes that precommitted
    /// the value refuse any other one later; a broken lock lets them decide
    /// another value.
    fn fork_vote(&mut self, i: usize, sv: consensus::SignedVote) -> bool {
        if sv.vote.value_id.is_none() || sv.vote.vote_type != VoteType::Precommit {
            return false;
        }
        let Some((victim, _)) = self.fork_roles(sv.vote.height) else { return false };
        let nil = Vote { value_id: None, ..sv.vote.clone() };
        let nil = SignedMessage::Vote(sign_vote_unguarded(&self.nodes[i].key, &self.chain, nil));
        let real = SignedMessage::Vote(sv);
        self.counts.equivocations += 1;
        for to in 0..self.nodes.len() {
            if to != i {
                let msg = if to == victim || self.nodes[to].byzantine { real.clone() } else { nil.clone() };
                self.send(i, to, NetMsg::Consensus(msg));
            }
        }
        true
    }

    fn random_value(&mut self) -> ValueId {
        let mut b = [0u8; 32];
        self.rng.fill_bytes(&mut b);
        ValueId(b)
    }

    /// Sends `a` to some peers and `b` to the others; ~10% get both, so
    /// the equivocation reaches some honest node directly.
    fn split_send(&mut self, from: usize, a: SignedMessage, b: SignedMessage) {
        for to in 0..self.nodes.len() {
            if to == from {
                continue;
            }
            match self.rng.gen_range(0..100) {
                0..45 => self.send(from, to, NetMsg::Consensus(a.clone())),
                45..90 => self.send(from, to, NetMsg::Consensus(b.clone())),
                _ => {
                    self.send(from, to, NetMsg::Consensus(a.clone()));
                    self.send(from, to, NetMsg::Consensus(b.clone()));
                }
            }
        }
    }

    pub fn byz_broadcast(&mut self, i: usize, m: SignedMessage) {
        if m.signer() != self.nodes[i].id {
            // Others' messages (POL prevotes) are forwarded unchanged.
            return self.broadcast(i, NetMsg::Consensus(m));
        }
        if self.forking()
            && let SignedMessage::Vote(sv) = &m
            && self.fork_vote(i, sv.clone())
        {
            return;
        }
        let b = self.sc.byz;
        if self.rng.gen_range(0..1000) < b.silent_permille {
            return;
        }
        let roll = self.rng.gen_range(0..1000);
        match m {
            SignedMessage::Vote(sv) => {
                if roll < b.equivocate_permille {
                    let other = match sv.vote.value_id {
                        Some(_) if self.rng.gen_bool(0.5) => None,
                        _ => Some(self.random_value()),
                    };
                    let vote = Vote { value_id: other, ..sv.vote.clone() };
                    let second = sign_vote_unguarded(&self.nodes[i].key, &self.chain, vote);
                    self.counts.equivocations += 1;
                    self.checker.trace(self.now, TraceEv::Equivocation(i, sv.vote.height, sv.vote.round));
                    self.split_send(i, SignedMessage::Vote(sv), SignedMessage::Vote(second));
                } else if roll < b.equivocate_permille + b.random_vote_permille {
                    let vote = Vote { value_id: Some(self.random_value()), ..sv.vote.clone() };
                    let random = sign_vote_unguarded(&self.nodes[i].key, &self.chain, vote);
                    self.counts.random_votes += 1;
                    self.broadcast(i, NetMsg::Consensus(SignedMessage::Vote(random)));
                } else if sv.vote.vote_type == VoteType::Precommit
                    && sv.vote.value_id.is_some()
                    && self.rng.gen_range(0..1000) < b.withhold_precommit_permille
                {
                    // Only a few peers get it: they may decide, the rest not.
                    for to in 0..self.nodes.len() {
                        if to != i && self.rng.gen_range(0..3) == 0 {
                            self.send(i, to, NetMsg::Consensus(SignedMessage::Vote(sv.clone())));
                        }
                    }
                } else {
                    self.broadcast(i, NetMsg::Consensus(SignedMessage::Vote(sv)));
                }
            }
            SignedMessage::Proposal(sp) => {
                if roll < b.double_proposal_permille {
                    let mut p = sp.proposal.clone();
                    p.value_id = self.random_value();
                    p.pol_round = None;
                    self.checker.proposed(&p);
                    let second = sign_proposal_unguarded(&self.nodes[i].key, &self.chain, p);
                    self.counts.equivocations += 1;
                    self.checker.trace(self.now, TraceEv::Equivocation(i, sp.proposal.height, sp.proposal.round));
                    self.split_send(i, SignedMessage::Proposal(sp), SignedMessage::Proposal(second));
                } else {
                    self.broadcast(i, NetMsg::Consensus(SignedMessage::Proposal(sp)));
                }
            }
        }
    }
}
