//! Validators and the validator set of one height: canonical order (by public
//! key), total power, lookup, power thresholds (> 2/3, > 1/3 with exact
//! integer arithmetic) and the set hash used in block headers.
//!
//! Keys are parsed (and weak keys rejected) once here, so verifying a message
//! later costs only the signature check.

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::types::{ValidatorId, VotingPower};

/// Largest allowed total voting power: `i64::MAX / 8`, as in CometBFT, so
/// proposer priorities (`i64`, including the −1.125 × total start value of a
/// new validator) can never overflow.
pub const MAX_TOTAL_VOTING_POWER: u64 = (i64::MAX / 8) as u64;

/// Domain tag of the validator-set hash.
const SET_HASH_DOMAIN: &[u8] = b"agora/validator-set/v1";

/// One member of a validator set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Validator {
    /// The ed25519 public key, which is also the validator's id/address.
    pub public_key: ValidatorId,
    /// Its voting power (> 0).
    pub power: VotingPower,
}

/// The validators of one height, sorted by public key (the canonical order:
/// indices, certificates and the hash all use it).
#[derive(Clone, Debug)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    keys: Vec<VerifyingKey>,
    total: u64,
}

impl PartialEq for ValidatorSet {
    fn eq(&self, other: &Self) -> bool {
        // Keys are derived from the ids, so comparing members is enough.
        self.validators == other.validators
    }
}

impl Eq for ValidatorSet {}

impl ValidatorSet {
    /// Builds a set, sorting by public key. Rejects an empty set, duplicate
    /// keys, zero power, keys that do not decode or are weak (small order),
    /// and a total above [`MAX_TOTAL_VOTING_POWER`].
    pub fn new(mut validators: Vec<Validator>) -> Result<ValidatorSet, Error> {
        if validators.is_empty() {
            return Err(Error::EmptyValidatorSet);
        }
        validators.sort_by_key(|v| v.public_key);
        let mut keys = Vec::with_capacity(validators.len());
        let mut total: u64 = 0;
        for (i, v) in validators.iter().enumerate() {
            if i > 0 && validators[i - 1].public_key == v.public_key {
                return Err(Error::DuplicateValidator(v.public_key));
            }
            if v.power.0 == 0 {
                return Err(Error::ZeroVotingPower(v.public_key));
            }
            let key = VerifyingKey::from_bytes(&v.public_key.0).map_err(|_| Error::InvalidPublicKey(v.public_key))?;
            // The one verification rule is `verify_strict`, which refuses weak
            // keys anyway; refusing them at the door keeps them out of sets.
            if key.is_weak() {
                return Err(Error::InvalidPublicKey(v.public_key));
            }
            keys.push(key);
            total = total
                .checked_add(v.power.0)
                .filter(|t| *t <= MAX_TOTAL_VOTING_POWER)
                .ok_or(Error::TotalVotingPowerOverflow)?;
        }
        Ok(ValidatorSet { validators, keys, total })
    }

    /// Members in canonical order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// Number of members (never 0).
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Always false: empty sets cannot be built. Present for API symmetry.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// Sum of all voting power.
    pub fn total_power(&self) -> VotingPower {
        VotingPower(self.total)
    }

    /// Canonical index of a member.
    pub fn index_of(&self, id: &ValidatorId) -> Option<usize> {
        self.validators.binary_search_by(|v| v.public_key.cmp(id)).ok()
    }

    /// A member by id.
    pub fn get(&self, id: &ValidatorId) -> Option<&Validator> {
        self.index_of(id).map(|i| &self.validators[i])
    }

    /// A member by canonical index.
    pub fn by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }

    /// The parsed verifying key of a member.
    pub(crate) fn key(&self, index: usize) -> &VerifyingKey {
        &self.keys[index]
    }

    /// Power of a member (0 for non-members).
    pub fn power_of(&self, id: &ValidatorId) -> VotingPower {
        self.get(id).map(|v| v.power).unwrap_or_default()
    }

    /// `power > 2/3 · total`, i.e. `3·power > 2·total` (the paper's 2f+1).
    pub fn is_quorum(&self, power: u64) -> bool {
        3 * u128::from(power) > 2 * u128::from(self.total)
    }

    /// `power > 1/3 · total`, i.e. `3·power > total` (the paper's f+1).
    pub fn is_one_third(&self, power: u64) -> bool {
        3 * u128::from(power) > u128::from(self.total)
    }

    /// Deterministic hash for the block header: SHA-256 over a domain tag and
    /// the borsh encoding of the canonical member list (key, power).
    pub fn hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(SET_HASH_DOMAIN);
        h.update((self.validators.len() as u64).to_le_bytes());
        for v in &self.validators {
            h.update(v.public_key.0);
            h.update(v.power.0.to_le_bytes());
        }
        h.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ed25519_dalek::SigningKey;

    fn id(seed: u8) -> ValidatorId {
        ValidatorId(SigningKey::from_bytes(&[seed; 32]).verifying_key().to_bytes())
    }

    fn v(seed: u8, power: u64) -> Validator {
        Validator { public_key: id(seed), power: VotingPower(power) }
    }

    #[test]
    fn sorted_lookup_and_thresholds() {
        let set = ValidatorSet::new(vec![v(3, 1), v(1, 2), v(2, 3)]).unwrap();
        assert_eq!(set.total_power(), VotingPower(6));
        let ids: Vec<_> = set.validators().iter().map(|v| v.public_key).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert_eq!(set.power_of(&id(2)), VotingPower(3));
        assert_eq!(set.power_of(&id(9)), VotingPower(0));
        // 2/3 of 6 is 4: exactly 4 is not a quorum, 5 is.
        assert!(!set.is_quorum(4));
        assert!(set.is_quorum(5));
        // 1/3 of 6 is 2: exactly 2 is not f+1, 3 is.
        assert!(!set.is_one_third(2));
        assert!(set.is_one_third(3));
    }

    #[test]
    fn rejects_bad_sets() {
        assert_eq!(ValidatorSet::new(vec![]), Err(Error::EmptyValidatorSet));
        assert_eq!(ValidatorSet::new(vec![v(1, 1), v(1, 2)]), Err(Error::DuplicateValidator(id(1))));
        assert_eq!(ValidatorSet::new(vec![v(1, 0)]), Err(Error::ZeroVotingPower(id(1))));
        assert_eq!(
            ValidatorSet::new(vec![v(1, MAX_TOTAL_VOTING_POWER), v(2, 1)]),
            Err(Error::TotalVotingPowerOverflow)
        );
        // The identity point is a weak key.
        let mut weak = [0u8; 32];
        weak[0] = 1;
        let weak = ValidatorId(weak);
        assert_eq!(
            ValidatorSet::new(vec![Validator { public_key: weak, power: VotingPower(1) }]),
            Err(Error::InvalidPublicKey(weak))
        );
    }

    #[test]
    fn hash_is_order_independent_and_power_sensitive() {
        let a = ValidatorSet::new(vec![v(1, 1), v(2, 2)]).unwrap();
        let b = ValidatorSet::new(vec![v(2, 2), v(1, 1)]).unwrap();
        let c = ValidatorSet::new(vec![v(2, 3), v(1, 1)]).unwrap();
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
    }
}
