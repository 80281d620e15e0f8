//! The bodies (blocks) that came with proposals, until the core decides what
//! happens to them.
//!
//! - A body enters only after the proposal's signature was verified against
//!   its height's validator set and the body was checked against the signed
//!   header (hash = value id, body roots = header roots): a tampered copy of
//!   a real proposal is refused as a message and can never stand in for the
//!   real body, so it can never get the real value judged invalid.
//! - Bodies are kept by (height, round, proposer), at most
//!   [`MAX_BODIES_PER_SIGNER`] per proposer: a validator that floods
//!   proposals only ever evicts its own older bodies, never another's.
//! - The core's decisions evict: a new height drops every older height.

use std::collections::{BTreeMap, BTreeSet};

use consensus::ValueId;
use ledger::{Block, Height, PublicKey};

/// Bodies kept per proposer (over the current and the next height). A
/// correct proposer needs one per round in which it proposes.
pub const MAX_BODIES_PER_SIGNER: usize = 6;

/// Why a body was not stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyRejected {
    /// The block's header is not the one the proposal signed.
    WrongHeader,
    /// The block's transactions, last commit or evidence do not match the
    /// header's roots (a tampered copy).
    BodyMismatch(String),
}

/// The proposal store. Pure: no I/O. Bodies are kept by value, with the
/// (height, round, proposer) slots that refer to them: a body goes only when
/// no slot refers to it any more, so a byzantine proposer that re-signs an
/// honest value and then floods cannot evict the honest proposer's body.
#[derive(Debug, Default)]
pub struct ProposalStore {
    bodies: BTreeMap<ValueId, (Block, BTreeSet<Slot>)>,
    slots: BTreeSet<Slot>,
}

/// (height, round, proposer, value): where a proposal put a body.
type Slot = (Height, u32, PublicKey, ValueId);

/// Checks a proposal's block header against the value it signed (cheap: one
/// hash of the header): the header hash is the value id and the height is
/// the proposal's.
pub fn check_header(value_id: ValueId, height: Height, block: &Block) -> Result<(), BodyRejected> {
    if block.hash().0 != value_id.0 || block.header.height != height {
        return Err(BodyRejected::WrongHeader);
    }
    Ok(())
}

/// Checks a proposal's block against the value it signed: the header (see
/// [`check_header`]) and the body reproducing the header's roots.
pub fn check_body(value_id: ValueId, height: Height, block: &Block) -> Result<(), BodyRejected> {
    check_header(value_id, height, block)?;
    block.check_body_roots().map_err(BodyRejected::BodyMismatch)
}

impl ProposalStore {
    /// Stores a checked body of a verified proposal. Returns whether the
    /// slot is new. Past the proposer's quota its lowest (height, round)
    /// slot goes (and the body with it if nothing else refers to it).
    pub fn insert(&mut self, height: Height, round: u32, proposer: PublicKey, value_id: ValueId, block: Block) -> bool {
        let slot = (height, round, proposer, value_id);
        if !self.slots.insert(slot) {
            return false;
        }
        self.bodies.entry(value_id).or_insert_with(|| (block, BTreeSet::new())).1.insert(slot);
        while self.count_of(&proposer) > MAX_BODIES_PER_SIGNER {
            let Some(oldest) = self.slots.iter().find(|(_, _, p, _)| *p == proposer).copied() else { break };
            self.drop_slot(oldest);
        }
        true
    }

    fn drop_slot(&mut self, slot: Slot) {
        if !self.slots.remove(&slot) {
            return;
        }
        let value = slot.3;
        if let Some((_, refs)) = self.bodies.get_mut(&value) {
            refs.remove(&slot);
            if refs.is_empty() {
                self.bodies.remove(&value);
            }
        }
    }

    /// Slots kept for `proposer`.
    pub fn count_of(&self, proposer: &PublicKey) -> usize {
        self.slots.iter().filter(|(_, _, p, _)| p == proposer).count()
    }

    /// Bodies kept.
    pub fn len(&self) -> usize {
        self.bodies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bodies.is_empty()
    }

    /// The body of `value_id`, if kept.
    pub fn get(&self, value_id: &ValueId) -> Option<&Block> {
        self.bodies.get(value_id).map(|(b, _)| b)
    }

    /// Forgets one slot (its proposal was refused by the core).
    pub fn remove(&mut self, height: Height, round: u32, proposer: PublicKey, value_id: &ValueId) {
        self.drop_slot((height, round, proposer, *value_id));
    }

    /// The core started `height`: older heights' slots go.
    pub fn start_height(&mut self, height: Height) {
        let old: Vec<Slot> = self.slots.iter().filter(|(h, _, _, _)| *h < height).copied().collect();
        for slot in old {
            self.drop_slot(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use ledger::{Hash, Header, SigningKey};

    use super::*;

    fn block(height: u64, time_ms: u64) -> Block {
        let header = Header {
            version: ledger::block::HEADER_VERSION,
            chain_id: "t".into(),
            height: Height(height),
            time_ms,
            parent_hash: Hash::ZERO,
            tx_root: ledger::merkle::merkle_root(std::iter::empty()),
            state_root: Hash::ZERO,
            receipts_root: Hash::ZERO,
            proposer: PublicKey([1; 32]),
            client: "agorad/test".into(),
            validator_set_hash: Hash::ZERO,
            last_commit_hash: Hash::ZERO,
            evidence_hash: Hash::ZERO,
        };
        Block { header, txs: vec![], last_commit: None, evidence: vec![] }
    }

    fn id(b: &Block) -> ValueId {
        ValueId(b.hash().0)
    }

    #[test]
    fn a_tampered_body_is_refused_and_the_real_one_still_enters() {
        let real = block(5, 1);
        let mut tampered = real.clone();
        let key = SigningKey::from_bytes(&[7; 32]);
        let tx = ledger::TxBody {
            chain_id: "t".into(),
            sender: PublicKey::from_signing_key(&key),
            nonce: 0,
            gas_limit: 1,
            gas_price: ledger::Amount::new(1),
            payload: ledger::Payload::Transfer { to: ledger::Address([2; 20]), amount: ledger::Amount::new(1) },
        }
        .sign(&key);
        tampered.txs.push(tx);
        // Same header, so same value id: only the body roots tell them apart.
        assert_eq!(id(&real), id(&tampered));
        assert!(matches!(check_body(id(&real), Height(5), &tampered), Err(BodyRejected::BodyMismatch(_))));
        assert_eq!(check_body(id(&real), Height(6), &real), Err(BodyRejected::WrongHeader));
        assert_eq!(check_body(id(&block(5, 2)), Height(5), &real), Err(BodyRejected::WrongHeader));
        assert_eq!(check_body(id(&real), Height(5), &real), Ok(()));
    }

    #[test]
    fn a_flooding_proposer_evicts_only_its_own_bodies() {
        let mut store = ProposalStore::default();
        let (honest, flooder) = (PublicKey([1; 32]), PublicKey([2; 32]));
        let good = block(5, 1);
        assert!(store.insert(Height(5), 0, honest, id(&good), good.clone()));
        assert!(!store.insert(Height(5), 0, honest, id(&good), good.clone()), "a duplicate is not new");
        for i in 0..1000u64 {
            let b = block(5, 100 + i);
            store.insert(Height(5), (i % 11) as u32, flooder, id(&b), b);
            assert!(store.count_of(&flooder) <= MAX_BODIES_PER_SIGNER);
        }
        assert_eq!(store.get(&id(&good)), Some(&good));
        assert_eq!(store.len(), 1 + MAX_BODIES_PER_SIGNER);
    }

    #[test]
    fn a_proposer_that_re_signs_an_honest_value_and_floods_cannot_evict_its_body() {
        let mut store = ProposalStore::default();
        let (honest, byz) = (PublicKey([1; 32]), PublicKey([2; 32]));
        let v = block(6, 1);
        // The byzantine copy of the honest value arrives first.
        assert!(store.insert(Height(6), 3, byz, id(&v), v.clone()));
        assert!(store.insert(Height(6), 0, honest, id(&v), v.clone()), "the honest slot is recorded too");
        for i in 0..50u64 {
            let b = block(6, 100 + i);
            store.insert(Height(6), 4 + (i % 7) as u32, byz, id(&b), b);
        }
        assert_eq!(store.get(&id(&v)), Some(&v));
        assert!(store.count_of(&byz) <= MAX_BODIES_PER_SIGNER);
    }

    #[test]
    fn a_new_height_evicts_older_heights() {
        let mut store = ProposalStore::default();
        let p = PublicKey([1; 32]);
        let (a, b) = (block(5, 1), block(6, 1));
        store.insert(Height(5), 0, p, id(&a), a.clone());
        store.insert(Height(6), 0, p, id(&b), b.clone());
        store.start_height(Height(6));
        assert!(store.get(&id(&a)).is_none());
        assert_eq!(store.get(&id(&b)), Some(&b));
        store.remove(Height(6), 0, p, &id(&b));
        assert!(store.is_empty());
    }
}
