//! The consensus engine: the loop that feeds the pure `consensus` core its
//! inputs (timers, the application's answers, its own signatures) and carries
//! out its effects against the `Chain` seam (build → validate → commit), the
//! guarded signer and the WAL.
//!
//! Peers are not connected yet (the networking issue adds libp2p gossip), so
//! `Broadcast` effects have no recipients: a chain whose validators are all
//! this node decides on its own, through the same code path a multi-validator
//! network will use.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use consensus::{
    ChainId, CommitCertificate, Config as CoreConfig, Consensus, Effect, Input, ProposerSelection, Signer, SignerState,
    StartHeight, Timeout, Validator, ValidatorId, ValidatorSet, ValueId, VotingPower, WalEntry,
};
use ledger::{Commit, CommitSig, Hash, Height, PublicKey, Signature, SigningKey};
use tokio::sync::{mpsc, watch};

use crate::chain::{Chain, ChainError, Executed};

/// Engine failures: storage, chain or a core error that is a bug, not input.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error("consensus: {0}")]
    Consensus(String),
    #[error("persisted consensus state is corrupt: {0}")]
    Corrupt(String),
}

impl From<crate::store::StoreError> for EngineError {
    fn from(e: crate::store::StoreError) -> Self {
        EngineError::Chain(ChainError::Store(e))
    }
}

/// The consensus view of the genesis validators.
pub fn validator_set(validators: &[(PublicKey, u64)]) -> Result<ValidatorSet, EngineError> {
    ValidatorSet::new(
        validators.iter().map(|(pk, p)| Validator { public_key: ValidatorId(pk.0), power: VotingPower(*p) }).collect(),
    )
    .map_err(|e| EngineError::Consensus(format!("genesis validator set: {e}")))
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

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

enum Event {
    Timeout(Timeout),
    NextHeight,
}

/// Drives one validator's consensus.
pub struct Engine {
    chain: Arc<Chain>,
    core: Consensus,
    signer: Signer,
    me: PublicKey,
    validators: ValidatorSet,
    selection: ProposerSelection,
    /// Blocks built or validated at the current height, by hash.
    blocks: BTreeMap<ValueId, Executed>,
    wal_seq: u64,
    /// Delay between a decision and the next height (the block interval).
    interval: Duration,
    events_tx: mpsc::UnboundedSender<Event>,
    events: mpsc::UnboundedReceiver<Event>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("me", &self.me).field("validators", &self.validators.len()).finish()
    }
}

impl Engine {
    pub fn new(
        chain: Arc<Chain>,
        key: SigningKey,
        validators: ValidatorSet,
        interval: Duration,
    ) -> Result<Engine, EngineError> {
        let chain_id = ChainId::new(chain.chain_id()).map_err(|e| EngineError::Consensus(e.to_string()))?;
        let me = PublicKey::from_signing_key(&key);
        let signer_state = match chain.store().signer_state()? {
            Some(b) => {
                borsh::from_slice::<SignerState>(&b).map_err(|e| EngineError::Corrupt(format!("signer: {e}")))?
            }
            None => SignerState::default(),
        };
        let mut config = CoreConfig::new(chain_id.clone(), Some(ValidatorId(me.0)));
        // Propose/prevote/precommit timeouts scale with the block interval so a
        // local chain with a short interval also recovers from a lost round fast.
        let base = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX).max(100);
        config.timeouts.propose_base_ms = 3 * base;
        config.timeouts.propose_delta_ms = base / 2;
        config.timeouts.prevote_base_ms = base;
        config.timeouts.prevote_delta_ms = base / 2;
        config.timeouts.precommit_base_ms = base;
        config.timeouts.precommit_delta_ms = base / 2;
        let core = Consensus::new(config).map_err(|e| EngineError::Consensus(e.to_string()))?;
        let selection = ProposerSelection::genesis(&validators);
        let (events_tx, events) = mpsc::unbounded_channel();
        Ok(Engine {
            chain,
            core,
            signer: Signer::new(key, chain_id, signer_state),
            me,
            validators,
            selection,
            blocks: BTreeMap::new(),
            wal_seq: 0,
            interval,
            events_tx,
            events,
        })
    }

    /// Runs until `shutdown` flips; a block being committed is finished first.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<(), EngineError> {
        // Proposer priorities follow every height from genesis.
        for _ in 0..self.chain.tip().height.0 {
            self.selection = self.selection.next_height(&self.validators);
        }
        self.start_height().await?;
        loop {
            let ev = tokio::select! {
                ev = self.events.recv() => ev,
                _ = shutdown.changed() => return Ok(()),
            };
            match ev {
                Some(Event::Timeout(t)) => self.step(Input::TimeoutElapsed(t)).await?,
                Some(Event::NextHeight) => self.start_height().await?,
                None => return Ok(()),
            }
        }
    }

    /// Starts (or, after a restart, resumes from its WAL) the height after the tip.
    async fn start_height(&mut self) -> Result<(), EngineError> {
        let height = self.chain.tip().height.next();
        let store = self.chain.store();
        let mut wal = Vec::new();
        for raw in store.wal(height)? {
            wal.push(borsh::from_slice::<WalEntry>(&raw).map_err(|e| EngineError::Corrupt(format!("wal: {e}")))?);
        }
        let stored = wal.len();
        let wal = self.signer.state().recover_wal(consensus::Height(height.0), wal);
        for e in &wal[stored..] {
            store.wal_append(
                height,
                stored as u64,
                &borsh::to_vec(e).map_err(|e| EngineError::Corrupt(e.to_string()))?,
            )?;
        }
        self.wal_seq = wal.len() as u64;
        if !wal.is_empty() {
            tracing::info!(%height, entries = wal.len(), "resuming height from the consensus WAL");
        }
        self.blocks.clear();
        let start = StartHeight {
            height: consensus::Height(height.0),
            validators: self.validators.clone(),
            proposer_selection: self.selection.clone(),
            wal,
        };
        self.step(Input::StartHeight(Box::new(start))).await
    }

    /// Feeds one input and carries out the effects, including the inputs
    /// those effects produce, until the core is quiet.
    async fn step(&mut self, input: Input) -> Result<(), EngineError> {
        let mut inputs = VecDeque::from([input]);
        while let Some(input) = inputs.pop_front() {
            let effects = match self.core.handle(input) {
                Ok(e) => e,
                Err(e) if e.is_benign() => {
                    tracing::debug!(error = %e, "consensus ignored an input");
                    continue;
                }
                Err(e) => return Err(EngineError::Consensus(e.to_string())),
            };
            for effect in effects {
                if let Some(next) = self.effect(effect).await? {
                    inputs.push_back(next);
                }
            }
        }
        Ok(())
    }

    async fn effect(&mut self, effect: Effect) -> Result<Option<Input>, EngineError> {
        match effect {
            Effect::Broadcast(_) => Ok(None), // no peers yet: see the module docs
            Effect::ScheduleTimeout { timeout, duration_ms } => {
                let tx = self.events_tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(duration_ms)).await;
                    let _ = tx.send(Event::Timeout(timeout));
                });
                Ok(None)
            }
            Effect::RequestValue { height, round } => {
                let chain = self.chain.clone();
                let me = self.me;
                let last_commit = chain.store().seen_commit().map_err(ChainError::from)?;
                let executed = tokio::task::spawn_blocking(move || chain.build_block(me, now_ms(), last_commit))
                    .await
                    .map_err(|e| EngineError::Consensus(format!("block building task: {e}")))??;
                // The block must survive a crash once we may have signed it.
                self.chain.store().put_pending_block(&executed.block)?;
                let value_id = ValueId(executed.block.hash().0);
                self.blocks.insert(value_id, executed);
                Ok(Some(Input::ValueBuilt { height, round, value_id }))
            }
            Effect::ValidateValue { height, value_id, .. } => {
                let valid = self.validate(value_id).await?;
                Ok(Some(Input::ValueValidated { height, value_id, valid }))
            }
            Effect::SignProposal(p) => match self.signer.sign_proposal(&p) {
                Ok(pending) => {
                    self.persist_signer(pending.state())?;
                    Ok(Some(Input::ProposalSigned(pending.release())))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "signer refused a proposal");
                    Ok(Some(Input::SignRefused { height: p.height, round: p.round, step: consensus::Step::Propose }))
                }
            },
            Effect::SignVote(v) => match self.signer.sign_vote(&v) {
                Ok(pending) => {
                    self.persist_signer(pending.state())?;
                    Ok(Some(Input::VoteSigned(pending.release())))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "signer refused a vote");
                    Ok(Some(Input::SignRefused { height: v.height, round: v.round, step: v.step() }))
                }
            },
            Effect::WalAppend(entry) => {
                let bytes = borsh::to_vec(&entry).map_err(|e| EngineError::Corrupt(e.to_string()))?;
                self.chain.store().wal_append(Height(entry.height().0), self.wal_seq, &bytes)?;
                self.wal_seq += 1;
                Ok(None)
            }
            Effect::Decide { height, value_id, certificate } => {
                self.decide(height, value_id, &certificate).await?;
                Ok(None)
            }
            Effect::Evidence(ev) => {
                tracing::warn!(evidence = ?ev, "validator equivocation detected");
                Ok(None)
            }
        }
    }

    fn persist_signer(&self, state: &SignerState) -> Result<(), EngineError> {
        let bytes = borsh::to_vec(state).map_err(|e| EngineError::Corrupt(e.to_string()))?;
        self.chain.store().put_signer_state(&bytes)?;
        Ok(())
    }

    /// Is the block behind `value_id` valid? Our own blocks are valid by
    /// construction; others (from the WAL after a restart) are re-executed.
    async fn validate(&mut self, value_id: ValueId) -> Result<bool, EngineError> {
        if self.blocks.contains_key(&value_id) {
            return Ok(true);
        }
        let Some(block) = self.chain.store().pending_block(&Hash(value_id.0))? else {
            tracing::warn!(value = %Hash(value_id.0), "asked to validate a block this node does not have");
            return Ok(false);
        };
        let chain = self.chain.clone();
        match tokio::task::spawn_blocking(move || chain.validate_block(block))
            .await
            .map_err(|e| EngineError::Consensus(format!("validation task: {e}")))?
        {
            Ok(executed) => {
                self.blocks.insert(value_id, executed);
                Ok(true)
            }
            Err(ChainError::InvalidBlock(reason)) => {
                tracing::warn!(%reason, "invalid block");
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn decide(
        &mut self,
        height: consensus::Height,
        value_id: ValueId,
        certificate: &CommitCertificate,
    ) -> Result<(), EngineError> {
        if !self.validate(value_id).await? {
            return Err(EngineError::Consensus(format!(
                "decided block {} is not available or invalid",
                Hash(value_id.0)
            )));
        }
        let executed =
            self.blocks.remove(&value_id).ok_or_else(|| EngineError::Consensus("decided block vanished".into()))?;
        let commit = to_ledger_commit(certificate);
        let chain = self.chain.clone();
        tokio::task::spawn_blocking(move || chain.commit(executed, &commit))
            .await
            .map_err(|e| EngineError::Consensus(format!("commit task: {e}")))??;
        self.chain.store().clear_height(Height(height.0))?;
        self.selection = self.selection.next_height(&self.validators);
        let tx = self.events_tx.clone();
        let wait = self.interval;
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let _ = tx.send(Event::NextHeight);
        });
        Ok(())
    }
}
