//! Signing side of the host: the validator key, its double-sign guard file
//! and the signature audit log.

use consensus::{SignedMessage, SignerState};
use ledger::{Hash, PublicKey, SigningKey};

use super::{Byzantine, EngineError, now_ms};
use crate::privval::SignerStateFile;

/// A validator's key with its double-sign guard file.
#[derive(Debug)]
pub struct ValidatorKey {
    pub key: SigningKey,
    pub state_file: SignerStateFile,
    /// The guard state read from the file (`None`: never signed).
    pub state: Option<Vec<u8>>,
    /// Where to append an audit line per released signature, if enabled.
    pub audit_log: Option<std::fs::File>,
    /// Testing only: how this validator misbehaves (default: honest).
    pub byzantine: Byzantine,
}

/// One line of the signature audit log.
fn audit_line(msg: &SignedMessage) -> String {
    let (kind, h, r, value) = match msg {
        SignedMessage::Proposal(p) => ("proposal", p.proposal.height.0, p.proposal.round.0, Some(p.proposal.value_id)),
        SignedMessage::Vote(v) => {
            let kind = match v.vote.vote_type {
                consensus::VoteType::Prevote => "prevote",
                consensus::VoteType::Precommit => "precommit",
            };
            (kind, v.vote.height.0, v.vote.round.0, v.vote.value_id)
        }
    };
    let value = value.map_or("null".to_string(), |v| format!("\"{}\"", Hash(v.0)));
    format!(
        "{{\"validator\":\"{}\",\"height\":{h},\"round\":{r},\"step\":\"{kind}\",\"value\":{value},\"time_ms\":{}}}\n",
        PublicKey(msg.signer().0),
        now_ms()
    )
}

pub(super) fn audit(log: &mut Option<std::fs::File>, msg: &SignedMessage) {
    if let Some(f) = log {
        use std::io::Write;
        if let Err(e) = f.write_all(audit_line(msg).as_bytes()) {
            tracing::warn!(error = %e, "cannot append to the signature log");
        }
    }
}

pub(super) fn persist_signer(file: &mut SignerStateFile, state: &SignerState) -> Result<(), EngineError> {
    let bytes = borsh::to_vec(state).map_err(|e| EngineError::Corrupt(e.to_string()))?;
    file.write(&bytes).map_err(|e| EngineError::Corrupt(format!("writing the signer state: {e}")))
}
