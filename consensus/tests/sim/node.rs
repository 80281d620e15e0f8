//! A simulated node: a real `Consensus` core, the reference `Signer`, and
//! exactly the state a real node persists (guard state, WAL of its own
//! signed messages for the current height, committed blocks). Everything
//! else is lost on a crash.

use std::collections::{BTreeMap, BTreeSet};

use consensus::{
    BrokenRule, ChainId, CommitCertificate, Config, Consensus, EvidenceKey, Height, Round, Signer, SignerState,
    TimeoutConfig, ValidatorId, ValueId, WalEntry,
};
use ed25519_dalek::SigningKey;

#[derive(Debug)]
pub struct SimNode {
    pub key: SigningKey,
    pub id: ValidatorId,
    pub byzantine: bool,
    /// `None` while crashed.
    pub core: Option<Consensus>,
    pub signer: Signer,
    /// Bumped on every crash; timers and app answers of an older
    /// incarnation are discarded.
    pub incarnation: u32,
    // ---- persisted ---------------------------------------------------
    pub guard: SignerState,
    pub wal: Vec<WalEntry>,
    pub store: BTreeMap<Height, (ValueId, CommitCertificate)>,
    // ---- per incarnation, for the checker --------------------------------
    pub evidence_keys: BTreeSet<EvidenceKey>,
    pub seen_votes: BTreeMap<EvidenceKey, Option<ValueId>>,
    pub last_sync: BTreeMap<(usize, Height), u64>,
    /// Our precommit of the deciding round, asked for by the decided core
    /// and not yet sent (checked when the next height starts).
    pub owed_precommit: Option<(Height, Round)>,
}

impl SimNode {
    pub fn new(key: SigningKey, byzantine: bool, chain: &ChainId) -> SimNode {
        let id = ValidatorId(key.verifying_key().to_bytes());
        let signer = Signer::new(key.clone(), chain.clone(), SignerState::default());
        SimNode {
            key,
            id,
            byzantine,
            core: None,
            signer,
            incarnation: 0,
            guard: SignerState::default(),
            wal: Vec::new(),
            store: BTreeMap::new(),
            evidence_keys: BTreeSet::new(),
            seen_votes: BTreeMap::new(),
            last_sync: BTreeMap::new(),
            owed_precommit: None,
        }
    }

    /// A fresh core and signer from the persisted state (boot or restart).
    pub fn boot(&mut self, chain: &ChainId, timeouts: TimeoutConfig, broken_lock: bool) {
        let mut config = Config::new(chain.clone(), Some(self.id));
        config.timeouts = timeouts;
        let mut core = match Consensus::new(config) {
            Ok(c) => c,
            Err(e) => panic!("default config rejected: {e}"),
        };
        // Byzantine nodes never care about locks; honest ones only with
        // the test-only broken rule.
        if broken_lock || self.byzantine {
            core.set_broken_rule(Some(BrokenRule::IgnoreLock));
        }
        self.core = Some(core);
        self.signer = Signer::new(self.key.clone(), chain.clone(), self.guard.clone());
        self.evidence_keys.clear();
        self.seen_votes.clear();
        self.owed_precommit = None;
    }

    pub fn crash(&mut self) {
        self.core = None;
        self.incarnation += 1;
    }

    /// The height to (re)start at: one past the last committed block.
    pub fn next_height(&self) -> Height {
        Height(self.store.keys().next_back().map_or(1, |h| h.0 + 1))
    }

    /// WAL entries for `h` (the WAL is per height).
    pub fn wal_for(&self, h: Height) -> Vec<WalEntry> {
        self.wal.iter().filter(|m| m.height() == h).cloned().collect()
    }

    pub fn wal_append(&mut self, m: WalEntry) {
        if self.wal.first().is_some_and(|f| f.height() != m.height()) {
            self.wal.clear();
        }
        self.wal.push(m);
    }
}
