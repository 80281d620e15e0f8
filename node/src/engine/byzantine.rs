//! TESTING ONLY: ways a validator can misbehave, so multi-process tests can
//! prove that honest validators keep going. `agorad` exposes only the
//! double sign (`--byzantine-double-sign-at`); the rest is reachable only
//! through the separate test binary `agorad-byzantine`.

use consensus::ValueId;
use ledger::merkle::merkle_root;
use ledger::{Address, Amount, Hash, Payload, PublicKey, Signature, SigningKey, TxBody};

use super::{ConsensusMsg, Engine, Executed};

/// An invalid transaction a byzantine proposer puts into its blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidTxKind {
    /// A transfer whose nonce is ahead of the sender's next nonce.
    NonceGap,
    /// A transfer whose gas limit is above `max_tx_gas`.
    OverGas,
}

impl std::str::FromStr for InvalidTxKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "nonce-gap" => Ok(InvalidTxKind::NonceGap),
            "over-gas" => Ok(InvalidTxKind::OverGas),
            _ => Err(format!("`{s}`: expected nonce-gap or over-gas")),
        }
    }
}

/// How a validator misbehaves (default: not at all).
#[derive(Clone, Debug, Default)]
pub struct Byzantine {
    /// Double-sign prevotes from this height on.
    pub double_sign_at: Option<u64>,
    /// Added to the node's clock, in milliseconds (may be negative).
    pub clock_offset_ms: i64,
    /// Put one invalid transaction into every block this node proposes.
    pub propose_invalid_tx: Option<InvalidTxKind>,
}

impl Byzantine {
    pub fn is_honest(&self) -> bool {
        self.double_sign_at.is_none() && self.clock_offset_ms == 0 && self.propose_invalid_tx.is_none()
    }

    /// The node's clock, shifted by the configured offset.
    pub fn now_ms(&self, wall_ms: u64) -> u64 {
        if self.clock_offset_ms >= 0 {
            wall_ms.saturating_add(self.clock_offset_ms.unsigned_abs())
        } else {
            wall_ms.saturating_sub(self.clock_offset_ms.unsigned_abs())
        }
    }
}

impl Engine {
    /// Byzantine test mode: from the configured height on, after each of our
    /// prevotes, sign a conflicting one (nil ↔ value) without the double-sign
    /// guard and send it too, so honest peers hold evidence against us. It
    /// goes on at every height (a node catching up after a restart may sign
    /// its first prevotes for heights the others have left, which proves
    /// nothing to them) until the node is out of the set.
    pub(super) fn maybe_double_sign(&mut self, signed: &consensus::SignedVote) {
        let (Some(at), Some(key)) = (self.byzantine.double_sign_at, &self.byzantine_key) else { return };
        if signed.vote.height.0 < at || signed.vote.vote_type != consensus::VoteType::Prevote {
            return;
        }
        let mut other = signed.vote.clone();
        other.value_id = match other.value_id {
            Some(_) => None,
            None => Some(ValueId(Hash::digest(b"agora/byzantine-test-value").0)),
        };
        let sig = Signature::sign(key, &consensus::vote_sign_bytes(&self.chain_id, &other));
        let (height, round) = (other.height.0, other.round.0);
        let conflicting = consensus::SignedVote { vote: other, signature: consensus::Signature(sig.0) };
        tracing::warn!(height, round, "BYZANTINE TEST MODE: sending a conflicting prevote (double sign)");
        self.net.broadcast(&ConsensusMsg::Vote(conflicting));
    }

    /// Byzantine test mode: adds an invalid transaction to a block this node
    /// built (keeping the header's tx root consistent, so the block is refused
    /// for the transaction itself, not for a root mismatch).
    pub(super) fn corrupt_proposal(&self, executed: &mut Executed) {
        let Some(kind) = self.byzantine.propose_invalid_tx else { return };
        let key = SigningKey::from_bytes(&Hash::digest(b"agora/byzantine-test-sender").0);
        let sender = PublicKey::from_signing_key(&key);
        let params = self.chain.params();
        let height = executed.block.header.height.0;
        let (nonce, gas_limit) = match kind {
            InvalidTxKind::NonceGap => (1_000 + height, 100_000),
            InvalidTxKind::OverGas => (0, params.max_tx_gas.saturating_add(1)),
        };
        let tx = TxBody {
            chain_id: self.chain.chain_id().to_owned(),
            sender,
            nonce,
            gas_limit,
            gas_price: params.min_gas_price,
            payload: Payload::Transfer { to: Address([0xbb; 20]), amount: Amount::new(height as u128 + 1) },
        }
        .sign(&key);
        executed.block.txs.push(tx);
        executed.block.header.tx_root = merkle_root(executed.block.txs.iter().map(ledger::tx::SignedTx::hash));
        tracing::warn!(height, ?kind, "BYZANTINE TEST MODE: proposing a block with an invalid transaction");
    }
}
