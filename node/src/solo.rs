//! The single-validator engine: at each block interval it proposes a block,
//! signs its commit and commits it, through the same `Chain` seam
//! (build → validate → commit) the BFT engine drives.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use borsh::BorshSerialize;
use ledger::{Commit, CommitSig, Hash, Height, PublicKey, Signature, SigningKey};
use tokio::sync::watch;

use crate::chain::{Chain, ChainError};

/// Domain tag of a single-validator commit signature.
pub const COMMIT_SIGN_DOMAIN: &[u8] = b"agora/solo-commit/v1\0";

/// Bytes a validator signs to commit a block: domain, chain id, height, round, block hash.
pub fn commit_sign_bytes(chain_id: &str, height: Height, round: u32, block_hash: &Hash) -> Vec<u8> {
    let mut out = COMMIT_SIGN_DOMAIN.to_vec();
    (chain_id, height, round, block_hash).serialize(&mut out).expect("writing to a Vec cannot fail");
    out
}

/// Verifies a single-validator commit certificate for `block_hash`.
pub fn verify_solo_commit(chain_id: &str, commit: &Commit, validator: &PublicKey, block_hash: &Hash) -> bool {
    commit.block_hash == *block_hash
        && commit.signatures.len() == 1
        && commit.signatures[0].validator == *validator
        && validator.verify(
            &commit_sign_bytes(chain_id, commit.height, commit.round, &commit.block_hash),
            &commit.signatures[0].signature,
        )
}

/// Drives block production for a chain whose only validator is this node.
#[derive(Debug)]
pub struct SoloEngine {
    chain: Arc<Chain>,
    key: SigningKey,
    interval: Duration,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl SoloEngine {
    pub fn new(chain: Arc<Chain>, key: SigningKey, interval: Duration) -> SoloEngine {
        SoloEngine { chain, key, interval }
    }

    /// Produces one block every interval until `shutdown` flips. A block in
    /// progress is always finished (its batch is written whole) before returning.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), ChainError> {
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = shutdown.changed() => return Ok(()),
            }
            let chain = self.chain.clone();
            let key = self.key.clone();
            tokio::task::spawn_blocking(move || produce_one(&chain, &key))
                .await
                .map_err(|e| ChainError::InvalidBlock(format!("block production task failed: {e}")))??;
        }
    }
}

/// propose → (own block: already validated by construction) → sign → commit.
pub fn produce_one(chain: &Chain, key: &SigningKey) -> Result<Height, ChainError> {
    let me = PublicKey::from_signing_key(key);
    let last_commit = chain.store().seen_commit()?;
    let executed = chain.build_block(me, now_ms(), last_commit)?;
    let height = executed.block.header.height;
    let hash = executed.block.hash();
    let sig = Signature::sign(key, &commit_sign_bytes(chain.chain_id(), height, 0, &hash));
    let commit =
        Commit { height, round: 0, block_hash: hash, signatures: vec![CommitSig { validator: me, signature: sig }] };
    chain.commit(executed, &commit)?;
    Ok(height)
}
