//! TESTING ONLY: ways a validator can misbehave, so multi-process tests can
//! prove that honest validators keep going. `agorad` exposes only the
//! double sign (`--byzantine-double-sign-at`); the rest is reachable only
//! through the separate test binary `agorad-byzantine`.

use consensus::{Proposal, Round, SignedProposal, ValueId, Vote, VoteType};
use ledger::merkle::merkle_root;
use ledger::{Address, Amount, Block, Hash, Payload, PublicKey, Signature, SigningKey, TxBody};

use super::{ConsensusMsg, Engine};
use crate::chain::Executed;

/// Extra proposals a flooding validator sends per proposal of its own
/// (more than the 16 bodies a height the store kept before).
pub const FLOOD: u32 = 64;
/// Extra votes a flooding validator sends per vote of its own.
pub const FLOOD_VOTES: u32 = 256;

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
    /// With each proposal, send [`FLOOD`] more signed proposals with
    /// distinct valid-looking bodies: equivocations in its round, others in
    /// rounds it does not propose, and for the next height.
    pub flood_proposals: bool,
    /// Re-send every proposal received from another validator with a
    /// tampered body (same signed header).
    pub tamper_relay: bool,
    /// With each vote, send [`FLOOD_VOTES`] more signed votes: for rounds far
    /// beyond the window, and for many values at the next height.
    pub flood_votes: bool,
}

impl Byzantine {
    pub fn is_honest(&self) -> bool {
        self.double_sign_at.is_none()
            && self.clock_offset_ms == 0
            && self.propose_invalid_tx.is_none()
            && !self.flood_proposals
            && !self.tamper_relay
            && !self.flood_votes
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

    /// Byzantine test mode: a mutation the executor applies to blocks this
    /// node builds (one invalid transaction, keeping the header's tx root
    /// consistent, so the block is refused for the transaction itself).
    pub(super) fn corruption(&self) -> super::executor::Corrupt {
        let kind = self.byzantine.propose_invalid_tx?;
        let params = self.chain.params();
        let chain_id = self.chain.chain_id().to_owned();
        Some(Box::new(move |executed: &mut Executed| {
            let height = executed.block.header.height.0;
            let (nonce, gas_limit) = match kind {
                InvalidTxKind::NonceGap => (1_000 + height, 100_000),
                InvalidTxKind::OverGas => (0, params.max_tx_gas.saturating_add(1)),
            };
            executed.block.txs.push(junk_tx(&chain_id, nonce, gas_limit, params.min_gas_price, height));
            executed.block.header.tx_root = merkle_root(executed.block.txs.iter().map(ledger::tx::SignedTx::hash));
            tracing::warn!(height, ?kind, "BYZANTINE TEST MODE: proposing a block with an invalid transaction");
        }))
    }

    /// Byzantine test mode: floods proposals signed with our key, each with
    /// a distinct body whose roots match its header (so only the per-signer
    /// bound and the proposer rule stand between it and honest memory).
    pub(super) fn maybe_flood_proposals(&mut self, own: &SignedProposal) {
        let (true, Some(key)) = (self.byzantine.flood_proposals, self.byzantine_key.clone()) else { return };
        let Some(body) = self.proposals.get(&own.proposal.value_id).cloned() else { return };
        let p = &own.proposal;
        for k in 0..FLOOD {
            let mut block = body.clone();
            block.header.time_ms = block.header.time_ms.saturating_add(u64::from(k) + 1);
            let (height, round) = match k % 3 {
                0 => (p.height, p.round),
                1 => (p.height, Round(p.round.0 + 1 + k % 9)),
                _ => (consensus::Height(p.height.0 + 1), Round(k % 11)),
            };
            block.header.height = ledger::Height(height.0);
            let proposal =
                Proposal { height, round, value_id: ValueId(block.hash().0), pol_round: None, proposer: p.proposer };
            let sig = Signature::sign(&key, &consensus::proposal_sign_bytes(&self.chain_id, &proposal));
            let signed = SignedProposal { proposal, signature: consensus::Signature(sig.0) };
            self.net.broadcast(&ConsensusMsg::Proposal { proposal: signed, block: Box::new(block) });
        }
        tracing::warn!(height = p.height.0, "BYZANTINE TEST MODE: flooded {FLOOD} proposals");
    }

    /// Byzantine test mode: floods votes signed with our key, for rounds far
    /// beyond the window and for many values of the next height.
    pub(super) fn maybe_flood_votes(&mut self, own: &consensus::SignedVote) {
        let (true, Some(key)) = (self.byzantine.flood_votes, self.byzantine_key.clone()) else { return };
        let v = &own.vote;
        for k in 0..FLOOD_VOTES {
            let value = Some(ValueId(Hash::digest(&[&v.height.0.to_be_bytes()[..], &k.to_be_bytes()].concat()).0));
            let vote = if k % 2 == 0 {
                Vote { round: Round(v.round.0 + 1000 + k), value_id: None, ..v.clone() }
            } else {
                Vote {
                    height: consensus::Height(v.height.0 + 1),
                    round: Round(k % 11),
                    vote_type: if k % 4 == 1 { VoteType::Prevote } else { VoteType::Precommit },
                    value_id: value,
                    ..v.clone()
                }
            };
            let sig = Signature::sign(&key, &consensus::vote_sign_bytes(&self.chain_id, &vote));
            self.net
                .broadcast(&ConsensusMsg::Vote(consensus::SignedVote { vote, signature: consensus::Signature(sig.0) }));
        }
    }

    /// Byzantine test mode: relays others' proposals with a tampered body.
    pub(super) fn byzantine_relay(&self, msg: &ConsensusMsg) {
        if !self.byzantine.tamper_relay {
            return;
        }
        let ConsensusMsg::Proposal { proposal, block } = msg else { return };
        if Some(PublicKey(proposal.proposal.proposer.0)) == self.me {
            return;
        }
        let mut tampered: Block = (**block).clone();
        let params = self.chain.params();
        let h = tampered.header.height.0;
        tampered.txs.push(junk_tx(self.chain.chain_id(), h, 100_000, params.min_gas_price, h));
        tracing::warn!(height = h, "BYZANTINE TEST MODE: relaying a proposal with a tampered body");
        self.net.broadcast(&ConsensusMsg::Proposal { proposal: proposal.clone(), block: Box::new(tampered) });
    }
}

/// A signed transfer from a throwaway account (it has no funds).
fn junk_tx(chain_id: &str, nonce: u64, gas_limit: u64, gas_price: Amount, height: u64) -> ledger::SignedTx {
    let key = SigningKey::from_bytes(&Hash::digest(b"agora/byzantine-test-sender").0);
    TxBody {
        chain_id: chain_id.to_owned(),
        sender: PublicKey::from_signing_key(&key),
        nonce,
        gas_limit,
        gas_price,
        payload: Payload::Transfer { to: Address([0xbb; 20]), amount: Amount::new(u128::from(height) + 1) },
    }
    .sign(&key)
}
