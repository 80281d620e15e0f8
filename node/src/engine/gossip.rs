//! The host's verdicts on gossiped consensus messages: cheapest checks
//! first, a body kept only once it is the signed one, forward only what the
//! core newly stored (or, every 5 s at most, a byte-identical copy of it),
//! and `Reject` only for what every relay checks the same way.

use consensus::{Input, SignedMessage, ValidatorId, ValueId};
use ledger::{Hash, Height, PublicKey};
use libp2p::PeerId;
use libp2p::gossipsub::MessageAcceptance;
use tokio::time::Instant;

use super::{Engine, EngineError, Job, RELAY_AGAIN, now_ms, proposals};
use crate::p2p::ConsensusMsg;

impl Engine {
    /// Validates a gossiped consensus message by feeding it to the core.
    /// Checks run cheapest first, and a verdict of `Reject` is given only for
    /// what every relay checks the same way (decoding, the body against the
    /// signed header, signature, membership, the proposer of the round and
    /// the POL round), so an honest relay is never blamed for another
    /// validator's message. `tx_hashes`: those of a proposal's transactions
    /// when the caller knows them (a block assembled from a compact one,
    /// whose hashes were checked against its root), so they are not
    /// computed again; otherwise they are computed once, here.
    pub(super) fn on_consensus(
        &mut self,
        msg: ConsensusMsg,
        id: Hash,
        from: PeerId,
        tx_hashes: Option<Vec<Hash>>,
    ) -> Result<MessageAcceptance, EngineError> {
        if let ConsensusMsg::Vote(v) = &msg
            && let Some(verdict) = self.late_precommit(v)?
        {
            return Ok(verdict);
        }
        self.byzantine_relay(&msg);
        let (height, signed) = match &msg {
            ConsensusMsg::Proposal { proposal, .. } => {
                (proposal.proposal.height, SignedMessage::Proposal(proposal.clone()))
            }
            ConsensusMsg::Vote(v) => (v.vote.height, SignedMessage::Vote(v.clone())),
            // Filled in first (`on_compact`), then judged as a full proposal.
            ConsensusMsg::CompactProposal { .. } => return Ok(MessageAcceptance::Ignore),
        };
        let current = match self.core.state() {
            Some(s) => s.height,
            None => return Ok(MessageAcceptance::Ignore),
        };
        if height.0 > current.0 + 1 {
            // The sender claims to be this far: a hint that we are behind
            // (block sync requires it to deliver, or it is penalised). A
            // relay forwards messages one height past its own, so its tip is
            // two below the message.
            self.sync.on_tip(from, Height(height.0 - 2), now_ms());
            self.poll_sync();
            return Ok(MessageAcceptance::Ignore);
        }
        if height < current {
            return Ok(MessageAcceptance::Ignore);
        }
        if self.me.is_some_and(|me| me.0 == signed.signer().0) {
            return Ok(self.own_key_from_network(height, &signed));
        }
        if self.core.is_known(&signed) {
            return self.on_known(msg, id);
        }
        let mut slot = None;
        if let ConsensusMsg::Proposal { proposal, block } = &msg {
            let p = &proposal.proposal;
            let h = Height(height.0);
            if height.0 == current.0 + 1 && p.round.0 > self.core.config().max_future_rounds {
                // Outside the next height's window: the core would drop it.
                return Ok(MessageAcceptance::Ignore);
            }
            if proposals::check_header(p.value_id, h, block).is_err() {
                return Ok(MessageAcceptance::Reject);
            }
            // Verified before its body is kept: only the real proposer's
            // quota is ever touched.
            if self.verify(height, &signed).is_err() {
                return Ok(MessageAcceptance::Reject);
            }
            if height.0 == current.0 + 1 && !self.next_height_proposer_ok(p) {
                return Ok(MessageAcceptance::Reject);
            }
            let hashes = tx_hashes.unwrap_or_else(|| block.tx_hashes());
            if let Err(e) = block.check_body_roots_hashed(&hashes) {
                tracing::debug!(peer = %from, error = %e, "proposal with a body that is not the signed one");
                return Ok(MessageAcceptance::Reject);
            }
            let who = PublicKey(p.proposer.0);
            // Peers filling the compact copy we forward may ask us for these.
            self.chain.remember_proposal(block, &hashes);
            if self.proposals.insert(h, p.round.0, who, p.value_id, (**block).clone()) {
                slot = Some((h, p.round.0, who, p.value_id));
            }
            self.body_arrived(p.value_id);
        } else if height.0 == current.0 + 1 && self.verify(height, &signed).is_err() {
            // The core buffers next-height messages unverified: check them
            // here, so nothing unverified is forwarded.
            return Ok(MessageAcceptance::Reject);
        }
        let input = match msg {
            ConsensusMsg::Proposal { proposal, .. } | ConsensusMsg::CompactProposal { proposal, .. } => {
                Input::ProposalReceived(proposal)
            }
            ConsensusMsg::Vote(v) => Input::VoteReceived(v),
        };
        match self.step(input)? {
            // Forward only what the core newly stored: not votes outside its
            // round window (verified only to note their round), not a
            // proposer's proposals past the per-round bound.
            Ok(()) if self.core.is_known(&signed) => {
                self.relayed.insert(id, Instant::now());
                Ok(MessageAcceptance::Accept)
            }
            Ok(()) => {
                if let Some((h, r, who, v)) = slot {
                    self.proposals.remove(h, r, who, &v);
                }
                Ok(MessageAcceptance::Ignore)
            }
            Err(e) => {
                if let Some((h, r, who, v)) = slot {
                    self.proposals.remove(h, r, who, &v);
                }
                if e.is_benign() {
                    Ok(MessageAcceptance::Ignore)
                } else {
                    tracing::debug!(peer = %from, error = %e, "rejected consensus message");
                    Ok(MessageAcceptance::Reject)
                }
            }
        }
    }

    /// A message the core already holds. A byte-identical copy of one we
    /// forwarded is forwarded again at most every [`RELAY_AGAIN`]: the
    /// signers rebroadcast, and in a network where not everyone is directly
    /// connected the copy must cross more than one hop. Anything else is
    /// dropped without blame. A known proposal may also bring a body we
    /// were waiting for (its hash binds it to the signed header).
    fn on_known(&mut self, msg: ConsensusMsg, id: Hash) -> Result<MessageAcceptance, EngineError> {
        if let ConsensusMsg::Proposal { proposal, block } = &msg {
            let p = &proposal.proposal;
            let h = Height(p.height.0);
            // A copy with another body than the signed one: every relay
            // checks this the same way, so the sender is to blame.
            if proposals::check_body(p.value_id, h, block).is_err() {
                return Ok(MessageAcceptance::Reject);
            }
            if self.awaiting_body.contains_key(&p.value_id) {
                self.proposals.insert(h, p.round.0, PublicKey(p.proposer.0), p.value_id, (**block).clone());
                self.body_arrived(p.value_id);
            }
        }
        let again = match self.relayed.get_mut(&id) {
            Some(at) if at.elapsed() >= RELAY_AGAIN => {
                *at = Instant::now();
                true
            }
            _ => false,
        };
        // The core still sees it: an old-round copy is how a peer stuck in
        // that round shows up (see the core's catch-up).
        let input = match msg {
            ConsensusMsg::Proposal { proposal, .. } | ConsensusMsg::CompactProposal { proposal, .. } => {
                Input::ProposalReceived(proposal)
            }
            ConsensusMsg::Vote(v) => Input::VoteReceived(v),
        };
        let _ = self.step(input)?;
        Ok(if again { MessageAcceptance::Accept } else { MessageAcceptance::Ignore })
    }

    /// A body for `value_id` is now stored: validate it if the core asked.
    fn body_arrived(&mut self, value_id: ValueId) {
        if let Some((h, r)) = self.awaiting_body.remove(&value_id) {
            self.request_validation(h, r, value_id);
        }
    }

    /// A next-height proposal must come from that height's proposer of its
    /// round and name an earlier POL round (the checks the core makes when
    /// the height starts, made now so nothing it would refuse is forwarded).
    pub(super) fn next_height_proposer_ok(&self, p: &consensus::Proposal) -> bool {
        if p.pol_round.is_some_and(|pol| pol >= p.round) {
            return false;
        }
        match self.chain.proposer_selection_at(Height(p.height.0)) {
            Ok(sel) => sel.proposer(p.round) == p.proposer,
            // Not computable right now (the tip moved): no verdict on it.
            Err(_) => true,
        }
    }

    /// A message signed with our key came from the network. Ours are
    /// stored only as the signer releases them, so it is never fed to the
    /// core (which would refuse it too). A copy of one we sent is ignored; a
    /// validly signed one we did not send means that another process signs
    /// with our key: the operator hears of it once per height.
    fn own_key_from_network(&mut self, height: consensus::Height, signed: &SignedMessage) -> MessageAcceptance {
        if self.core.is_known(signed) || self.own_key_warned == Some(height) {
            return MessageAcceptance::Ignore;
        }
        if self.verify(height, signed).is_err() {
            return MessageAcceptance::Reject;
        }
        self.own_key_warned = Some(height);
        tracing::error!(
            height = height.0,
            round = signed.round().0,
            "a validly signed message in this validator's name that this node has no record of signing: another node may be running with the same key"
        );
        MessageAcceptance::Ignore
    }

    /// Checks a message's signature against its height's validator set.
    pub(super) fn verify(&self, height: consensus::Height, msg: &SignedMessage) -> Result<(), ()> {
        match msg {
            SignedMessage::Proposal(p) => {
                let key = self.verify_member(height, &p.proposal.proposer)?;
                p.verify(&self.chain_id, &key).map_err(|_| ())
            }
            SignedMessage::Vote(v) => {
                let key = self.verify_member(height, &v.vote.validator)?;
                v.verify(&self.chain_id, &key).map_err(|_| ())
            }
        }
    }

    pub(super) fn verify_member(
        &self,
        height: consensus::Height,
        id: &ValidatorId,
    ) -> Result<ed25519_dalek::VerifyingKey, ()> {
        let set = self.chain.validators_at(Height(height.0)).map_err(|_| ())?;
        if set.get(id).is_none() {
            return Err(());
        }
        consensus::signing::verifying_key(id).map_err(|_| ())
    }

    /// Sends the value's body to the executor, or waits for the body.
    pub(super) fn request_validation(&mut self, height: Height, round: u32, value_id: ValueId) {
        let block = match self.proposals.get(&value_id) {
            Some(b) => Some(Box::new(b.clone())),
            None => match self.chain.store().pending_block(&Hash(value_id.0)) {
                Ok(b) => b.map(Box::new),
                Err(e) => {
                    tracing::error!(error = %e, "reading a pending block");
                    None
                }
            },
        };
        if block.is_none() {
            // Never judged invalid for lack of a body: validated when one comes.
            // Bounded by the core: one request per proposed value.
            self.awaiting_body.insert(value_id, (height, round));
            return;
        }
        // A live proposal: its time is checked against our clock.
        let now = self.byzantine.now_ms(now_ms());
        self.validating.insert(value_id, (height, round));
        self.submit(Job::Validate { height, round, value_id, block, now_ms: Some(now) });
    }
}
