//! Conversions between the consensus core's types and the ledger's.

use consensus::{CommitCertificate, Validator, ValidatorId, ValidatorSet, ValueId, VotingPower};
use ledger::{Commit, CommitSig, Hash, Height, PublicKey, Signature};

/// A consensus validator set from (key, power) pairs (tests and tools).
pub fn validator_set(validators: &[(PublicKey, u64)]) -> Result<ValidatorSet, String> {
    ValidatorSet::new(
        validators.iter().map(|(pk, p)| Validator { public_key: ValidatorId(pk.0), power: VotingPower(*p) }).collect(),
    )
    .map_err(|e| format!("validator set: {e}"))
}

/// A consensus certificate in the ledger's block format.
pub fn to_ledger_commit(c: &CommitCertificate) -> Commit {
    Commit {
        height: Height(c.height.0),
        round: c.round.0,
        block_hash: Hash(c.value_id.0),
        signatures: c
            .signatures
            .iter()
            .map(|s| CommitSig { validator: PublicKey(s.validator.0), signature: Signature(s.signature.0) })
            .collect(),
    }
}

/// A ledger commit back in the consensus format (for verification).
pub fn to_certificate(c: &Commit) -> CommitCertificate {
    CommitCertificate {
        height: consensus::Height(c.height.0),
        round: consensus::Round(c.round),
        value_id: ValueId(c.block_hash.0),
        signatures: c
            .signatures
            .iter()
            .map(|s| consensus::CommitSignature {
                validator: ValidatorId(s.validator.0),
                signature: consensus::Signature(s.signature.0),
            })
            .collect(),
    }
}
