//! Vote keeper: the votes of one height, per round and type, with power
//! tallies per value and equivocation detection.
//!
//! Counting follows the paper, which counts *messages*: "2f+1 ⟨PREVOTE, h,
//! r, id(v)⟩" is the power of the distinct validators that sent a prevote
//! for `v`. So a validator that equivocates counts once towards each value
//! it voted for, and once towards "any" (L34/L47). That is safe — two > 2/3
//! tallies in one round would need > 1/3 of the power to equivocate — and
//! it is needed for liveness: if a node kept only the first vote of an
//! equivocator, a POL or commit that relies on the equivocator's other vote
//! could stay invisible to it forever (CometBFT solves the same problem with
//! its VoteSetMaj23 messages).
//!
//! Memory stays bounded: a validator's first vote per (round, type) is
//! always kept; a conflicting one only if its value is relevant (nil, or
//! the value of a proposal of this height) and at most
//! `MAX_VOTES_PER_SLOT` in all. The first conflict is reported as evidence
//! (once per validator, round and type).

use std::collections::{BTreeMap, BTreeSet};

use crate::evidence::Evidence;
use crate::messages::{SignedVote, Vote};
use crate::types::{Round, ValueId, VoteType};

/// Distinct votes kept per (validator, round, type).
pub(crate) const MAX_VOTES_PER_SLOT: usize = 4;

/// Votes of one type in one round.
#[derive(Clone, Debug, Default)]
pub(crate) struct VoteSet {
    /// Distinct votes of each validator (by canonical index), first first.
    votes: BTreeMap<usize, Vec<SignedVote>>,
    /// Power per value (`None` = nil).
    power_by_value: BTreeMap<Option<ValueId>, u64>,
    /// Power of the validators that voted at all (each once).
    total: u64,
}

impl VoteSet {
    /// Power of the validators that voted for `value` (`None` = nil).
    pub(crate) fn power_for(&self, value: Option<ValueId>) -> u64 {
        self.power_by_value.get(&value).copied().unwrap_or(0)
    }

    /// Power of the validators that voted, whatever for.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Values with their power, in value order (deterministic).
    pub(crate) fn tallies(&self) -> impl Iterator<Item = (Option<ValueId>, u64)> + '_ {
        self.power_by_value.iter().map(|(v, p)| (*v, *p))
    }

    /// Every kept vote, in validator order.
    pub(crate) fn all(&self) -> impl Iterator<Item = &SignedVote> {
        self.votes.values().flatten()
    }

    /// The votes for `value`, in validator order (one per validator).
    pub(crate) fn votes_for(&self, value: Option<ValueId>) -> impl Iterator<Item = &SignedVote> {
        self.votes.values().filter_map(move |vs| vs.iter().find(|sv| sv.vote.value_id == value))
    }
}

/// Outcome of adding a verified vote.
#[derive(Debug)]
pub(crate) enum AddOutcome {
    /// First vote of this validator for this slot, counted.
    Added,
    /// Same content as a vote already kept: ignored.
    Duplicate,
    /// Conflicts with a kept vote; evidence to report (first time only).
    /// Kept and counted for its value if relevant and there is room.
    Equivocation(Option<Box<Evidence>>),
}

/// All votes of one height.
#[derive(Clone, Debug, Default)]
pub(crate) struct VoteKeeper {
    rounds: BTreeMap<Round, [VoteSet; 2]>,
    reported: BTreeSet<(usize, Round, VoteType)>,
}

fn slot(t: VoteType) -> usize {
    match t {
        VoteType::Prevote => 0,
        VoteType::Precommit => 1,
    }
}

impl VoteKeeper {
    /// The vote set of (round, type), if any vote arrived.
    pub(crate) fn get(&self, round: Round, t: VoteType) -> Option<&VoteSet> {
        self.rounds.get(&round).map(|s| &s[slot(t)])
    }

    /// True if exactly this vote is already kept (so it needs no
    /// verification and changes nothing).
    pub(crate) fn contains(&self, idx: usize, vote: &Vote) -> bool {
        self.get(vote.round, vote.vote_type)
            .and_then(|s| s.votes.get(&idx))
            .is_some_and(|vs| vs.iter().any(|sv| sv.vote == *vote))
    }

    /// Rounds that have at least one vote, ascending.
    pub(crate) fn rounds(&self) -> impl Iterator<Item = Round> + '_ {
        self.rounds.keys().copied()
    }

    /// Adds a vote whose signature and membership were already checked.
    /// `relevant` says whether a conflicting vote for its value is worth
    /// keeping (see the module doc).
    pub(crate) fn add(&mut self, idx: usize, power: u64, sv: SignedVote, relevant: bool) -> AddOutcome {
        let (round, t) = (sv.vote.round, sv.vote.vote_type);
        let set = &mut self.rounds.entry(round).or_default()[slot(t)];
        let Some(kept) = set.votes.get_mut(&idx) else {
            *set.power_by_value.entry(sv.vote.value_id).or_insert(0) += power;
            set.total += power;
            set.votes.insert(idx, vec![sv]);
            return AddOutcome::Added;
        };
        if kept.iter().any(|k| k.vote == sv.vote) {
            return AddOutcome::Duplicate;
        }
        let evidence = if self.reported.insert((idx, round, t)) {
            Some(Box::new(Evidence::DuplicateVote { first: kept[0].clone(), second: sv.clone() }))
        } else {
            None
        };
        if relevant && kept.len() < MAX_VOTES_PER_SLOT {
            *set.power_by_value.entry(sv.vote.value_id).or_insert(0) += power;
            kept.push(sv);
        }
        AddOutcome::Equivocation(evidence)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::messages::Vote;
    use crate::types::{Height, Signature, ValidatorId};

    fn sv(t: VoteType, r: u32, v: Option<u8>, who: u8) -> SignedVote {
        SignedVote {
            vote: Vote {
                vote_type: t,
                height: Height(1),
                round: Round(r),
                value_id: v.map(|b| ValueId([b; 32])),
                validator: ValidatorId([who; 32]),
            },
            signature: Signature([0; 64]),
        }
    }

    #[test]
    fn tallies_duplicates_and_equivocation() {
        let mut k = VoteKeeper::default();
        let pv = VoteType::Prevote;
        assert!(matches!(k.add(0, 3, sv(pv, 0, Some(1), 0), true), AddOutcome::Added));
        assert!(matches!(k.add(1, 2, sv(pv, 0, None, 1), true), AddOutcome::Added));
        assert!(matches!(k.add(0, 3, sv(pv, 0, Some(1), 0), true), AddOutcome::Duplicate));
        assert!(k.contains(0, &sv(pv, 0, Some(1), 0).vote));
        // Conflict on a relevant value: reported once, counted for its value
        // but not twice in "any".
        assert!(matches!(k.add(0, 3, sv(pv, 0, Some(2), 0), true), AddOutcome::Equivocation(Some(_))));
        // Irrelevant value: not kept, not reported again.
        assert!(matches!(k.add(0, 3, sv(pv, 0, Some(9), 0), false), AddOutcome::Equivocation(None)));
        let set = k.get(Round(0), pv).unwrap();
        assert_eq!(set.power_for(Some(ValueId([1; 32]))), 3);
        assert_eq!(set.power_for(Some(ValueId([2; 32]))), 3);
        assert_eq!(set.power_for(Some(ValueId([9; 32]))), 0);
        assert_eq!(set.power_for(None), 2);
        assert_eq!(set.total(), 5);
        assert_eq!(set.votes_for(Some(ValueId([2; 32]))).count(), 1);
        // Bounded: at most MAX_VOTES_PER_SLOT kept per slot.
        for b in 3..20u8 {
            let _ = k.add(0, 3, sv(pv, 0, Some(b), 0), true);
        }
        let kept: usize = (0..=20u8).filter(|b| k.contains(0, &sv(pv, 0, Some(*b), 0).vote)).count();
        assert_eq!(kept, MAX_VOTES_PER_SLOT);
        // Same validator, other type or round: independent.
        assert!(matches!(k.add(0, 3, sv(VoteType::Precommit, 0, Some(2), 0), true), AddOutcome::Added));
        assert!(matches!(k.add(0, 3, sv(pv, 1, Some(2), 0), true), AddOutcome::Added));
        assert_eq!(k.rounds().collect::<Vec<_>>(), vec![Round(0), Round(1)]);
    }
}
