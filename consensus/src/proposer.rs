//! Proposer selection: CometBFT's weighted round-robin with priorities
//! (spec/consensus/proposer-selection.md, types/validator_set.go).
//!
//! One *step* ([`ProposerSelection::advance`]) is CometBFT's
//! `IncrementProposerPriority(1)`:
//! 1. scale: if max − min > 2·P, divide every priority by
//!    ceil((max − min) / 2·P) (integer division truncating towards zero, as Go);
//! 2. centre: subtract avg = floor(Σ / n) (Go's `big.Int.Div` is Euclidean,
//!    i.e. floor for positive n);
//! 3. every priority += its power (clipped to i64);
//! 4. the highest priority is elected, ties to the LOWEST validator id;
//!    the elected one loses P (clipped).
//!
//! The exact rule used by the core (documented here once):
//! - `S_h` is the priority state a height starts from (what the node carries
//!   and passes in `StartHeight`). The genesis state is all zeros.
//! - proposer(h, r) = the validator elected by the (r+1)-th step from `S_h`.
//!   Every round is one full step (scale + centre + increment), so the
//!   proposer of a round never depends on how the node reached the round
//!   (CometBFT centres once per `IncrementProposerPriority(k)` call, so a round
//!   skip there can differ; we don't).
//! - S_{h+1} = apply_changes(one step from S_h, set_{h+1}), whatever round h
//!   was decided in (like CometBFT, rounds don't leak into the next height).
//! - apply_changes: members keep their priority; a new member starts at
//!   −(P' + P'/8) = −1.125·P' (P' = total after updates, before removals);
//!   removed members disappear; then scale (2·P) and centre once.
//!
//! Mapped onto CometBFT: its set at height h (already incremented) is our S_h
//! after one step, so both elect the same proposers when rounds advance one at
//! a time.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::error::Error;
use crate::types::{Round, ValidatorId};
use crate::validator_set::ValidatorSet;

/// One validator's entry: id, power and accumulated priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PriorityEntry {
    /// The validator.
    pub id: ValidatorId,
    /// Its voting power (copied from the set so a step needs nothing else).
    pub power: u64,
    /// Accumulated proposer priority.
    pub priority: i64,
}

/// Proposer priorities of one validator set, in canonical (id) order.
/// Carried from height to height by the node (borsh-encode it with the state).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProposerSelection {
    entries: Vec<PriorityEntry>,
}

impl ProposerSelection {
    /// Genesis priorities: all zero (what CometBFT's `NewValidatorSet` ends
    /// up with before its first increment).
    pub fn genesis(set: &ValidatorSet) -> ProposerSelection {
        ProposerSelection {
            entries: set
                .validators()
                .iter()
                .map(|v| PriorityEntry { id: v.public_key, power: v.power.0, priority: 0 })
                .collect(),
        }
    }

    /// Rebuilds from persisted priorities (canonical order), checking they
    /// belong to `set`.
    pub fn from_priorities(set: &ValidatorSet, priorities: &[i64]) -> Result<ProposerSelection, Error> {
        if priorities.len() != set.len() {
            return Err(Error::PrioritiesMismatch);
        }
        let mut s = ProposerSelection::genesis(set);
        for (e, p) in s.entries.iter_mut().zip(priorities) {
            e.priority = *p;
        }
        Ok(s)
    }

    /// Entries in canonical order.
    pub fn entries(&self) -> &[PriorityEntry] {
        &self.entries
    }

    /// Priority of a member.
    pub fn priority(&self, id: &ValidatorId) -> Option<i64> {
        self.entries.iter().find(|e| e.id == *id).map(|e| e.priority)
    }

    /// True if these priorities are for exactly `set` (same ids and powers).
    pub fn matches(&self, set: &ValidatorSet) -> bool {
        self.entries.len() == set.len()
            && self.entries.iter().zip(set.validators()).all(|(e, v)| e.id == v.public_key && e.power == v.power.0)
    }

    fn total(&self) -> i64 {
        // Bounded by MAX_TOTAL_VOTING_POWER (i64::MAX / 8), checked by the set.
        self.entries.iter().map(|e| e.power as i64).sum()
    }

    /// One selection step; returns the elected validator's canonical index.
    pub fn advance(&mut self) -> usize {
        assert!(!self.entries.is_empty(), "validator sets are never empty");
        let total = self.total();
        self.rescale(2 * total);
        self.centre();
        for e in &mut self.entries {
            e.priority = e.priority.saturating_add(e.power as i64);
        }
        // Strict `>` while scanning in id order: ties go to the lowest id.
        let mut best = 0;
        for (i, e) in self.entries.iter().enumerate() {
            if e.priority > self.entries[best].priority {
                best = i;
            }
        }
        self.entries[best].priority = self.entries[best].priority.saturating_sub(total);
        best
    }

    /// The proposer of `round` for a height starting from `self`.
    /// O(n·round); the core caches per round instead of calling this.
    pub fn proposer(&self, round: Round) -> ValidatorId {
        let mut s = self.clone();
        let mut idx = s.advance();
        for _ in 0..round.0 {
            idx = s.advance();
        }
        s.entries[idx].id
    }

    /// The state the next height starts from: one step (the round-0 election
    /// of this height) then the validator-set changes to `next`.
    pub fn next_height(&self, next: &ValidatorSet) -> ProposerSelection {
        let mut s = self.clone();
        s.advance();
        s.apply_changes(next);
        s
    }

    /// Applies a validator-set change (powers, joins, removals) as
    /// CometBFT's `updateWithChangeSet` does.
    pub fn apply_changes(&mut self, next: &ValidatorSet) {
        let removed: u64 = self.entries.iter().filter(|e| next.get(&e.id).is_none()).map(|e| e.power).sum();
        // P' = total after updates, before removals (≤ 2 × MAX, fits i64).
        let p_prime = (next.total_power().0 + removed) as i64;
        let new_priority = -(p_prime + (p_prime >> 3));
        let old = std::mem::take(&mut self.entries);
        self.entries = next
            .validators()
            .iter()
            .map(|v| PriorityEntry {
                id: v.public_key,
                power: v.power.0,
                priority: old.iter().find(|e| e.id == v.public_key).map_or(new_priority, |e| e.priority),
            })
            .collect();
        let total = self.total();
        self.rescale(2 * total);
        self.centre();
    }

    fn rescale(&mut self, diff_max: i64) {
        if diff_max <= 0 {
            return;
        }
        let max = self.entries.iter().map(|e| e.priority).max().unwrap_or(0);
        let min = self.entries.iter().map(|e| e.priority).min().unwrap_or(0);
        let diff = i128::from(max) - i128::from(min);
        let diff_max = i128::from(diff_max);
        if diff > diff_max {
            let ratio = (diff + diff_max - 1) / diff_max;
            for e in &mut self.entries {
                // Rust's `/` truncates towards zero, like Go's.
                e.priority = (i128::from(e.priority) / ratio) as i64;
            }
        }
    }

    fn centre(&mut self) {
        let n = self.entries.len() as i128;
        let sum: i128 = self.entries.iter().map(|e| i128::from(e.priority)).sum();
        // Euclidean division (floor for n > 0), as Go's big.Int.Div.
        let avg = sum.div_euclid(n);
        for e in &mut self.entries {
            let p = i128::from(e.priority) - avg;
            e.priority = p.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        }
    }
}

/// Per-height cache: proposer of each round, computed lazily from `S_h`.
#[derive(Clone, Debug)]
pub(crate) struct ProposerSchedule {
    cursor: ProposerSelection,
    by_round: Vec<usize>,
}

impl ProposerSchedule {
    pub(crate) fn new(start: ProposerSelection) -> ProposerSchedule {
        ProposerSchedule { cursor: start, by_round: Vec::new() }
    }

    /// Canonical index of the proposer of `round`. Rounds are only asked for
    /// within the buffering window above the current round, so the cache
    /// grows with real progress only.
    pub(crate) fn proposer(&mut self, round: Round) -> usize {
        let r = round.0 as usize;
        while self.by_round.len() <= r {
            let idx = self.cursor.advance();
            self.by_round.push(idx);
        }
        self.by_round[r]
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::types::VotingPower;
    use crate::validator_set::Validator;

    /// Ids whose byte order is the given order: id(1) < id(2) < id(3) ...
    fn id(n: u8) -> ValidatorId {
        // Real keys are needed by ValidatorSet; pick seeds and sort by key.
        let mut keys: Vec<ValidatorId> = (1..=20u8)
            .map(|s| ValidatorId(ed25519_dalek::SigningKey::from_bytes(&[s; 32]).verifying_key().to_bytes()))
            .collect();
        keys.sort();
        keys[usize::from(n) - 1]
    }

    fn set(powers: &[(u8, u64)]) -> ValidatorSet {
        ValidatorSet::new(
            powers.iter().map(|(n, p)| Validator { public_key: id(*n), power: VotingPower(*p) }).collect(),
        )
        .unwrap()
    }

    fn name(s: &ProposerSelection, idx: usize) -> u8 {
        let id_ = s.entries[idx].id;
        (1..=20u8).find(|n| id(*n) == id_).unwrap()
    }

    fn sequence(s: &mut ProposerSelection, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                let i = s.advance();
                name(s, i)
            })
            .collect()
    }

    fn prios(s: &ProposerSelection) -> Vec<i64> {
        s.entries.iter().map(|e| e.priority).collect()
    }

    #[test]
    fn powers_1_2_3() {
        // Hand computed (P = 6), priorities after each step:
        // +VP [1,2,3] → p3 elected → [1,2,-3]
        // +VP [2,4,0] → p2         → [2,-2,0]
        // +VP [3,0,3] → tie p1/p3, lowest id p1 → [-3,0,3]
        // +VP [-2,2,6] → p3        → [-2,2,0]
        // +VP [-1,4,3] → p2        → [-1,-2,3]
        // +VP [0,0,6] → p3         → [0,0,0]  (period 6: 1×p1, 2×p2, 3×p3)
        let vs = set(&[(1, 1), (2, 2), (3, 3)]);
        let mut s = ProposerSelection::genesis(&vs);
        assert_eq!(s.advance(), 2);
        assert_eq!(prios(&s), vec![1, 2, -3]);
        let mut s = ProposerSelection::genesis(&vs);
        assert_eq!(sequence(&mut s, 12), vec![3, 2, 1, 3, 2, 3, 3, 2, 1, 3, 2, 3]);
        assert_eq!(prios(&s), vec![0, 0, 0]);
    }

    #[test]
    fn spec_stable_set_1_3() {
        // Spec "Stable Set"/R2: VP p1 = 1, p2 = 3 → p2, p1, p2, p2, ...
        let vs = set(&[(1, 1), (2, 3)]);
        let mut s = ProposerSelection::genesis(&vs);
        assert_eq!(sequence(&mut s, 8), vec![2, 1, 2, 2, 2, 1, 2, 2]);
    }

    #[test]
    fn proposer_of_round_is_r_plus_one_steps() {
        let vs = set(&[(1, 1), (2, 2), (3, 3)]);
        let s = ProposerSelection::genesis(&vs);
        let expect = [3u8, 2, 1, 3, 2, 3];
        for (r, e) in expect.iter().enumerate() {
            assert_eq!(s.proposer(Round(r as u32)), id(*e));
        }
        let mut sched = ProposerSchedule::new(s.clone());
        assert_eq!(sched.proposer(Round(4)), 1); // p2
        assert_eq!(sched.proposer(Round(0)), 2); // p3
    }

    #[test]
    fn new_validator_joins_at_minus_1_125_p() {
        // Spec "New Validator": p1 = 1, p2 = 3 with priorities p1 = 2,
        // p2 = −2; p3 (power 8) joins: P' = 12, A(p3) = −(12 + 12/8) = −13.
        let old = set(&[(1, 1), (2, 3)]);
        let mut s = ProposerSelection::from_priorities(&old, &[2, -2]).unwrap();
        let new = set(&[(1, 1), (2, 3), (3, 8)]);
        s.apply_changes(&new);
        // apply_changes centres once: sum = −13, avg = floor(−13/3) = −5
        // (the spec's table says −4; CometBFT's code uses big.Int.Div, which
        // floors, and we follow the code). Diff 15 ≤ 2·12, no scaling.
        assert_eq!(prios(&s), vec![7, 3, -8]);
        // Next step: centre (sum 2, avg 0), +VP → [8, 6, 0] → p1 elected,
        // 8 − 12 = −4.
        assert_eq!(s.advance(), 0);
        assert_eq!(prios(&s), vec![-4, 6, 0]);
        // Then: sum 2 → avg 0; +VP → [-3, 9, 8] → p2 → [-3, -3, 8].
        assert_eq!(s.advance(), 1);
        assert_eq!(prios(&s), vec![-3, -3, 8]);
        // p3 now leads: +VP → [-2, 0, 16] → p3 → [-2, 0, 4].
        assert_eq!(s.advance(), 2);
        assert_eq!(prios(&s), vec![-2, 0, 4]);
    }

    #[test]
    fn removal_and_power_change() {
        // Spec "Validator Removal": p1 = 1, p2 = 2, p3 = 3 at [1, 2, −3]
        // (sum 0); remove p2. Centre: sum −2, avg = floor(−2/2) = −1 →
        // [2, −2]; step: +VP [3, 1] → p1 → 3 − 4 = −1 → [−1, 1].
        let old = set(&[(1, 1), (2, 2), (3, 3)]);
        let mut s = ProposerSelection::from_priorities(&old, &[1, 2, -3]).unwrap();
        let new = set(&[(1, 1), (3, 3)]);
        s.apply_changes(&new);
        assert_eq!(prios(&s), vec![2, -2]);
        assert_eq!(s.advance(), 0);
        assert_eq!(prios(&s), vec![-1, 1]);

        // Spec "Voting Power Change": p1 = 1, p2 = 3 at [1, −1]; p1 → 4.
        // Centre (sum 0), +VP [5, 2] → p1 → 5 − 7 = −2 → [−2, 2].
        let old = set(&[(1, 1), (2, 3)]);
        let mut s = ProposerSelection::from_priorities(&old, &[1, -1]).unwrap();
        s.apply_changes(&set(&[(1, 4), (2, 3)]));
        assert_eq!(prios(&s), vec![1, -1]);
        assert_eq!(s.advance(), 0);
        assert_eq!(prios(&s), vec![-2, 2]);
    }

    #[test]
    fn scaling_keeps_window_within_2p() {
        // Spec "Proposer Priority Range": far-apart priorities are scaled so
        // that max − min ≤ 2·P after a step's scaling.
        let vs = set(&[(1, 10), (2, 10)]);
        let mut s = ProposerSelection::from_priorities(&vs, &[-60_000, -15_000]).unwrap();
        s.advance();
        let p = prios(&s);
        let spread = p.iter().max().unwrap() - p.iter().min().unwrap();
        // Scaled by ceil(45000/40) = 1125: [-53, -13] → centred [-20, 20]
        // → +VP [-10, 30] → p2 → [-10, 10].
        assert_eq!(p, vec![-10, 10]);
        assert!(spread <= 2 * 20 + 20);
    }

    #[test]
    fn fairness_over_many_rounds() {
        let vs = set(&[(1, 5), (2, 1), (3, 7), (4, 2)]);
        let mut s = ProposerSelection::genesis(&vs);
        let mut count = [0u32; 5];
        for _ in 0..(15 * 10) {
            let i = s.advance();
            count[usize::from(name(&s, i))] += 1;
        }
        assert_eq!(&count[1..], &[50, 10, 70, 20]);
    }

    #[test]
    fn next_height_consumes_one_step() {
        let vs = set(&[(1, 1), (2, 2), (3, 3)]);
        let s1 = ProposerSelection::genesis(&vs);
        let s2 = s1.next_height(&vs);
        // Height 2 round 0 = the second step overall.
        assert_eq!(s2.proposer(Round(0)), s1.proposer(Round(1)));
        assert!(s2.matches(&vs));
        assert!(!s2.matches(&set(&[(1, 1), (2, 2)])));
    }
}
