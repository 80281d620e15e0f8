//! The history index: which transactions touched an address, events by kind
//! and by contract, contracts by code. Built at commit, in the block's own
//! `WriteBatch` (see [`Store::commit_block`]), so the index and the blocks can
//! never disagree after a crash: a block is stored with its index rows, or
//! neither is.
//!
//! Keys are big-endian so RocksDB's byte order is height order. The index
//! is written on the commit path, where a commit pays for each key it
//! writes more than for its bytes, so it has one row per (address, block)
//! and one per (event kind or contract, block), whatever the number of
//! transactions; and an event is never copied into it: its entry holds the
//! byte offset of the transaction's receipt in the block's stored receipts,
//! where a query reads it.
//!
//! | column family | key | value |
//! |---|---|---|
//! | `idx_address` | address (20) ‖ height (8) | per transaction, in order: tx index (4) ‖ roles (1) ‖ success (1) ‖ payload type (1) ‖ tx hash (32) |
//! | `idx_events` | `k` ‖ len (1) ‖ kind ‖ height | per event, in order: tx index (4) ‖ event index (4) ‖ receipt offset (4) |
//! | `idx_events` | `c` ‖ contract (20) ‖ height | as above |
//! | `idx_code` | code hash (32) ‖ contract (20) | height (8) of instantiation or migration |
//!
//! A query by role reads the address's rows and keeps the entries with
//! that role, within a budget of entries read (then it returns a cursor).
//! Block-level events (rewards, slashes…) have tx index [`BLOCK_EVENT_TX`],
//! come last in a block, and are read from the block's stored events (their
//! transaction hash is zero).
//!
//! `meta` records `index_from` (the first indexed height) and
//! `index_format` ([`INDEX_FORMAT`]). At open, a database whose index was
//! written in another format, or not at all (written before the index
//! existed, or with `[index] enabled = false`), has its index rows dropped
//! and indexes from the next height: the RPC answers requests below
//! `index_from` with 1017 rather than misreading rows of another layout.
//! With the index off, `index_from` is removed and nothing is written.

use std::collections::BTreeMap;

use borsh::{BorshDeserialize, BorshSerialize};
use ledger::{Address, Block, BlockOutcome, Event, Hash, Height, Payload, Receipt};
use rocksdb::{DBPinnableSlice, Direction, IteratorMode, ReadOptions, WriteBatch};

use super::{Store, StoreError, decode, enc};

pub(super) const CF_IDX_ADDRESS: &str = "idx_address";
pub(super) const CF_IDX_EVENTS: &str = "idx_events";
pub(super) const CF_IDX_CODE: &str = "idx_code";
const META_INDEX_FROM: &[u8] = b"index_from";
const META_INDEX_FORMAT: &[u8] = b"index_format";
const META_GENESIS_DOC: &[u8] = b"genesis_doc";

/// The layout of the index rows (see the table above). Format 1 (no
/// record) stored full events and full address values in every row.
pub const INDEX_FORMAT: u8 = 2;

/// Role bits of an [`AddressEntry`].
pub const ROLE_SENDER: u8 = 1;
/// The recipient of a transfer.
pub const ROLE_RECIPIENT: u8 = 2;
/// The contract a transaction executed, instantiated, migrated or re-administered.
pub const ROLE_CONTRACT_CALLED: u8 = 4;
/// A contract that emitted events in the transaction (nested calls included).
pub const ROLE_CONTRACT_EVENTS: u8 = 8;

/// The tx index of block-level events in `idx_events`.
pub const BLOCK_EVENT_TX: u32 = u32::MAX;

/// Longest event kind that is indexed by kind (the VM allows far less).
const MAX_INDEXED_KIND: usize = 255;

/// Bytes of a transaction's entry in an `idx_address` row.
const ADDRESS_ENTRY_LEN: usize = 39;
/// Bytes of an event's entry in an `idx_events` row.
const EVENT_ENTRY_LEN: usize = 12;

/// Which of an address's transactions to read: all, or those where it had a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RoleKey {
    Any = 0,
    Sent = 1,
    Received = 2,
    /// Called the contract, or the contract emitted events.
    Contract = 3,
}

/// One transaction of an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressEntry {
    /// `ROLE_*` bits: every role the address had in the transaction.
    pub roles: u8,
    pub tx_hash: Hash,
    pub success: bool,
    /// The payload type (`transfer`, `execute`, …).
    pub payload: &'static str,
}

/// A row of an address's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressTx {
    pub height: Height,
    pub index: u32,
    pub entry: AddressEntry,
}

/// A row of the event index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedEvent {
    pub height: Height,
    /// The transaction's index in its block, [`BLOCK_EVENT_TX`] for block events.
    pub tx_index: u32,
    /// The event's index in its receipt (or in the block's own events).
    pub event_index: u32,
    pub tx_hash: Hash,
    pub event: Event,
}

/// What to scan in `idx_events`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventTopic {
    Kind(String),
    Contract(Address),
}

/// A position in a scan: the last row returned, or where a bounded scan stopped.
pub type EventPos = (u64, u32, u32);

/// Payload type names, by their code in `idx_address` values.
const PAYLOAD_TYPES: [&str; 14] = [
    "transfer",
    "store_code",
    "instantiate",
    "execute",
    "create_validator",
    "edit_validator",
    "delegate",
    "undelegate",
    "redelegate",
    "withdraw_rewards",
    "unjail",
    "instantiate_with_admin",
    "migrate",
    "update_admin",
];

fn payload_code(p: &Payload) -> u8 {
    match p {
        Payload::Transfer { .. } => 0,
        Payload::StoreCode { .. } => 1,
        Payload::Instantiate { .. } => 2,
        Payload::Execute { .. } => 3,
        Payload::CreateValidator { .. } => 4,
        Payload::EditValidator { .. } => 5,
        Payload::Delegate { .. } => 6,
        Payload::Undelegate { .. } => 7,
        Payload::Redelegate { .. } => 8,
        Payload::WithdrawRewards { .. } => 9,
        Payload::Unjail {} => 10,
        Payload::InstantiateWithAdmin { .. } => 11,
        Payload::Migrate { .. } => 12,
        Payload::UpdateAdmin { .. } => 13,
    }
}

/// The `type` name of a payload, as in its JSON form.
pub fn payload_type(p: &Payload) -> &'static str {
    PAYLOAD_TYPES[usize::from(payload_code(p))]
}

/// Encodes a block's receipts exactly as borsh encodes `Vec<Receipt>`, and
/// returns the byte offset of each receipt in it (the event rows point there).
pub(super) fn encode_receipts(receipts: &[Receipt]) -> (Vec<u8>, Vec<u32>) {
    let mut out = Vec::with_capacity(64 + receipts.len() * 256);
    let n = u32::try_from(receipts.len()).expect("block tx count fits u32");
    out.extend_from_slice(&n.to_le_bytes());
    let mut offsets = Vec::with_capacity(receipts.len());
    for r in receipts {
        // Past 4 GiB the offset saturates and a query reports a corrupt row;
        // blocks are bounded far below that.
        offsets.push(u32::try_from(out.len()).unwrap_or(u32::MAX));
        r.serialize(&mut out).expect("writing to a Vec cannot fail");
    }
    (out, offsets)
}

fn address_key(addr: &Address, height: u64) -> [u8; 28] {
    let mut k = [0u8; 28];
    k[..20].copy_from_slice(&addr.0);
    k[20..].copy_from_slice(&height.to_be_bytes());
    k
}

fn address_entry(tx: u32, roles: u8, success: bool, payload: u8, tx_hash: &Hash) -> [u8; ADDRESS_ENTRY_LEN] {
    let mut v = [0u8; ADDRESS_ENTRY_LEN];
    v[..4].copy_from_slice(&tx.to_be_bytes());
    v[4] = roles;
    v[5] = u8::from(success);
    v[6] = payload;
    v[7..].copy_from_slice(&tx_hash.0);
    v
}

fn decode_address_entry(v: &[u8]) -> Result<(u32, AddressEntry), StoreError> {
    let corrupt = |reason: &str| StoreError::Corrupt { table: CF_IDX_ADDRESS, reason: reason.into() };
    if v.len() != ADDRESS_ENTRY_LEN {
        return Err(corrupt("entry length"));
    }
    let payload = PAYLOAD_TYPES.get(usize::from(v[6])).ok_or_else(|| corrupt("payload type"))?;
    let success = match v[5] {
        0 => false,
        1 => true,
        _ => return Err(corrupt("success flag")),
    };
    let mut h = [0u8; 32];
    h.copy_from_slice(&v[7..]);
    Ok((be_u32(v), AddressEntry { roles: v[4], tx_hash: Hash(h), success, payload }))
}

fn topic_prefix(t: &EventTopic) -> Option<Vec<u8>> {
    match t {
        EventTopic::Kind(k) => kind_prefix(k),
        EventTopic::Contract(a) => Some(contract_prefix(a).to_vec()),
    }
}

fn kind_prefix(k: &str) -> Option<Vec<u8>> {
    if k.is_empty() || k.len() > MAX_INDEXED_KIND {
        return None;
    }
    let mut p = Vec::with_capacity(2 + k.len() + 16);
    p.push(b'k');
    p.push(u8::try_from(k.len()).ok()?);
    p.extend_from_slice(k.as_bytes());
    Some(p)
}

fn contract_prefix(a: &Address) -> [u8; 21] {
    let mut p = [0u8; 21];
    p[0] = b'c';
    p[1..].copy_from_slice(&a.0);
    p
}

fn event_key(prefix: &[u8], height: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 8);
    k.extend_from_slice(prefix);
    k.extend_from_slice(&height.to_be_bytes());
    k
}

fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

fn be_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_be_bytes(a)
}

/// The contract an event belongs to: its `_contract` attribute (contract
/// events), else its `contract_address` (instantiate, migrate, update_admin).
fn event_contract(e: &Event) -> Option<Address> {
    let find = |name: &str| e.attributes.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.parse().ok());
    find("_contract").or_else(|| find("contract_address"))
}

fn attr<'a>(e: &'a Event, name: &str) -> Option<&'a str> {
    e.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Reads indexed events back from the blocks' stored receipts and events,
/// keeping the last block's bytes (rows come in height order).
struct EventReader<'a> {
    store: &'a Store,
    receipts: Option<(u64, DBPinnableSlice<'a>)>,
    block_events: Option<(u64, Vec<Event>)>,
}

impl<'a> EventReader<'a> {
    fn read(&mut self, (h, t, e): EventPos, off: u32) -> Result<IndexedEvent, StoreError> {
        let corrupt = |reason: &str| StoreError::Corrupt { table: CF_IDX_EVENTS, reason: reason.into() };
        let ei = usize::try_from(e).map_err(|_| corrupt("event index"))?;
        let (tx_hash, event) = if t == BLOCK_EVENT_TX {
            if self.block_events.as_ref().is_none_or(|(bh, _)| *bh != h) {
                self.block_events = Some((h, self.store.block_events(Height(h))?));
            }
            let events = self.block_events.as_ref().map(|(_, v)| v.as_slice()).unwrap_or_default();
            (Hash::ZERO, events.get(ei).cloned().ok_or_else(|| corrupt("block event missing"))?)
        } else {
            let off = usize::try_from(off).map_err(|_| corrupt("offset"))?;
            if self.receipts.as_ref().is_none_or(|(bh, _)| *bh != h) {
                let cf = self.store.cf(super::CF_RECEIPTS);
                let b = self.store.db.get_pinned_cf(cf, h.to_be_bytes())?.ok_or_else(|| corrupt("receipts missing"))?;
                self.receipts = Some((h, b));
            }
            let blob: &[u8] = self.receipts.as_ref().map(|(_, b)| b.as_ref()).unwrap_or_default();
            let mut rest = blob.get(off..).ok_or_else(|| corrupt("offset past the receipts"))?;
            let r = Receipt::deserialize(&mut rest).map_err(|e| corrupt(&e.to_string()))?;
            let tx_hash = r.tx_hash;
            (tx_hash, r.events.into_iter().nth(ei).ok_or_else(|| corrupt("event missing"))?)
        };
        Ok(IndexedEvent { height: Height(h), tx_index: t, event_index: e, tx_hash, event })
    }
}

impl Store {
    /// Whether this store writes and serves the history index.
    pub fn index_enabled(&self) -> bool {
        self.index
    }

    /// The first height the history index covers (1 on databases created
    /// with it). `None` before genesis is written and when the index is off.
    pub fn index_from(&self) -> Result<Option<Height>, StoreError> {
        match self.db.get_cf(self.cf(super::CF_META), META_INDEX_FROM)? {
            Some(b) => Ok(Some(decode(super::CF_META, &b)?)),
            None => Ok(None),
        }
    }

    fn index_format(&self) -> Result<Option<u8>, StoreError> {
        match self.db.get_cf(self.cf(super::CF_META), META_INDEX_FORMAT)? {
            Some(b) if b.len() == 1 => Ok(Some(b[0])),
            Some(_) => Err(StoreError::Corrupt { table: super::CF_META, reason: "index_format".into() }),
            None => Ok(None),
        }
    }

    /// At open: with the index on, keeps an index of this format as it is;
    /// else (none yet, another format, or left by a node with the index off)
    /// drops the index rows and indexes from the next height. With the index
    /// off, drops the rows and the records (nothing is indexed).
    pub(super) fn init_index(&self) -> Result<(), StoreError> {
        let from = self.index_from()?;
        let format = self.index_format()?;
        if self.index && from.is_some() && format == Some(INDEX_FORMAT) {
            return Ok(());
        }
        if !self.index && from.is_none() && format.is_none() {
            return Ok(());
        }
        let mut b = WriteBatch::default();
        // Every key of the three column families sorts below 512 bytes of 0xff
        // (the longest is 2 + 255 + 16 bytes).
        let end = [0xffu8; 512];
        for cf in [CF_IDX_ADDRESS, CF_IDX_EVENTS, CF_IDX_CODE] {
            b.delete_range_cf(self.cf(cf), [].as_slice(), end.as_slice());
        }
        let meta = self.cf(super::CF_META);
        if self.index {
            let next = self.height()?.map_or(Height(1), |h| h.next());
            if from.is_some() {
                tracing::warn!(
                    format = ?format, index_from = next.0,
                    "the history index on disk has another format: it is dropped and indexes from the next height \
                     (resync from genesis for the full history)"
                );
            }
            b.put_cf(meta, META_INDEX_FROM, enc(&next));
            b.put_cf(meta, META_INDEX_FORMAT, [INDEX_FORMAT]);
        } else {
            b.delete_cf(meta, META_INDEX_FROM);
            b.delete_cf(meta, META_INDEX_FORMAT);
        }
        self.write(b)
    }

    /// The genesis document this database was created from (JSON), kept
    /// for `agora_genesis`.
    pub fn genesis_doc(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get_cf(self.cf(super::CF_META), META_GENESIS_DOC)?)
    }

    pub fn put_genesis_doc(&self, json: &[u8]) -> Result<(), StoreError> {
        let mut b = WriteBatch::default();
        b.put_cf(self.cf(super::CF_META), META_GENESIS_DOC, json);
        self.write(b)
    }

    /// Adds the index rows of `block` to its commit batch; `offsets` are
    /// where each receipt starts in the stored receipts ([`encode_receipts`]).
    /// One row per (address, block) and per (event kind or contract, block),
    /// whatever the number of transactions: the number of keys written, not
    /// their bytes, is what a commit pays for.
    pub(super) fn put_index(&self, b: &mut WriteBatch, block: &Block, outcome: &BlockOutcome, offsets: &[u32]) {
        let (addr_cf, ev_cf, code_cf) = (self.cf(CF_IDX_ADDRESS), self.cf(CF_IDX_EVENTS), self.cf(CF_IDX_CODE));
        let h = block.header.height.0;
        let hk = h.to_be_bytes();
        // Topic prefix -> its positions in this block, in position order.
        let mut topics: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut addresses: BTreeMap<Address, Vec<u8>> = BTreeMap::new();
        let mut put_event = |b: &mut WriteBatch, tx: u32, i: u32, off: u32, e: &Event| {
            let mut pos = [0u8; EVENT_ENTRY_LEN];
            pos[..4].copy_from_slice(&tx.to_be_bytes());
            pos[4..8].copy_from_slice(&i.to_be_bytes());
            pos[8..].copy_from_slice(&off.to_be_bytes());
            if let Some(p) = kind_prefix(&e.kind) {
                topics.entry(p).or_default().extend_from_slice(&pos);
            }
            if let Some(c) = event_contract(e) {
                topics.entry(contract_prefix(&c).to_vec()).or_default().extend_from_slice(&pos);
            }
            // Contracts by code: instantiation adds a row, migration moves it.
            if e.kind != "instantiate" && e.kind != "migrate" {
                return;
            }
            let code = |name: &str| attr(e, name).and_then(|s| s.parse::<Hash>().ok());
            let contract = attr(e, "contract_address").and_then(|s| s.parse::<Address>().ok());
            match (e.kind.as_str(), contract, code("code_hash")) {
                ("instantiate", Some(c), Some(ch)) => {
                    b.put_cf(code_cf, [ch.0.as_slice(), &c.0].concat(), hk);
                }
                ("migrate", Some(c), Some(ch)) => {
                    if let Some(old) = code("old_code_hash") {
                        b.delete_cf(code_cf, [old.0.as_slice(), &c.0].concat());
                    }
                    b.put_cf(code_cf, [ch.0.as_slice(), &c.0].concat(), hk);
                }
                _ => {}
            }
        };
        for (ti, ((tx, r), off)) in block.txs.iter().zip(&outcome.receipts).zip(offsets).enumerate() {
            let ti = u32::try_from(ti).expect("block tx count fits u32");
            for (ei, e) in r.events.iter().enumerate() {
                put_event(b, ti, u32::try_from(ei).unwrap_or(u32::MAX), *off, e);
            }
            // Every address the transaction touched, with its roles (a small
            // list: a transaction names a handful of addresses).
            let mut roles: Vec<(Address, u8)> = Vec::with_capacity(4);
            let mut add = |a: Address, bit: u8| match roles.iter_mut().find(|(x, _)| *x == a) {
                Some((_, r)) => *r |= bit,
                None => roles.push((a, bit)),
            };
            add(r.sender, ROLE_SENDER);
            match &tx.body.payload {
                Payload::Transfer { to, .. } => add(*to, ROLE_RECIPIENT),
                Payload::Execute { contract, .. }
                | Payload::Migrate { contract, .. }
                | Payload::UpdateAdmin { contract, .. } => add(*contract, ROLE_CONTRACT_CALLED),
                Payload::Instantiate { .. } | Payload::InstantiateWithAdmin { .. } => {
                    if let Ok(a) = <[u8; 20]>::try_from(r.data.as_slice()) {
                        add(Address(a), ROLE_CONTRACT_CALLED);
                    }
                }
                _ => {}
            }
            for e in &r.events {
                if let Some((_, v)) = e.attributes.iter().find(|(k, _)| k == "_contract")
                    && let Ok(c) = v.parse::<Address>()
                {
                    add(c, ROLE_CONTRACT_EVENTS);
                }
            }
            let payload = payload_code(&tx.body.payload);
            let success = matches!(r.status, ledger::TxStatus::Success);
            for (a, bits) in roles {
                addresses
                    .entry(a)
                    .or_default()
                    .extend_from_slice(&address_entry(ti, bits, success, payload, &r.tx_hash));
            }
        }
        // Block events last: their tx index is the highest.
        for (i, e) in outcome.events.iter().enumerate() {
            put_event(b, BLOCK_EVENT_TX, u32::try_from(i).unwrap_or(u32::MAX), 0, e);
        }
        for (mut key, value) in topics {
            key.extend_from_slice(&hk);
            b.put_cf(ev_cf, key, value);
        }
        for (a, value) in addresses {
            b.put_cf(addr_cf, address_key(&a, h), value);
        }
    }

    /// Up to `limit` transactions of `addr` with role `role`, in heights
    /// `from..=to`, strictly after (ascending) or before (descending) `after`
    /// (height, tx index). Reads the address's rows of those heights only.
    pub fn address_txs(
        &self,
        addr: &Address,
        role: RoleKey,
        range: (u64, u64),
        after: Option<(u64, u32)>,
        descending: bool,
        limit: usize,
    ) -> Result<Vec<AddressTx>, StoreError> {
        Ok(self.address_page(addr, role, range, after, descending, limit, usize::MAX)?.0)
    }

    /// [`Store::address_txs`], reading at most `budget` entries (a role
    /// filter can skip many): when it stops on the budget with entries
    /// left, also returns the position to continue after.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    pub fn address_page(
        &self,
        addr: &Address,
        role: RoleKey,
        (from, to): (u64, u64),
        after: Option<(u64, u32)>,
        descending: bool,
        limit: usize,
        budget: usize,
    ) -> Result<(Vec<AddressTx>, Option<(u64, u32)>), StoreError> {
        let mut out = Vec::new();
        if from > to || limit == 0 {
            return Ok((out, None));
        }
        let budget = budget.max(1);
        let cf = self.cf(CF_IDX_ADDRESS);
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(address_key(addr, from).to_vec());
        // The upper bound is exclusive: one past the key of `to`.
        let mut end = address_key(addr, to).to_vec();
        end.push(0);
        ro.set_iterate_upper_bound(end);
        let it = match (descending, after) {
            (false, None) => self.db.iterator_cf_opt(cf, ro, IteratorMode::Start),
            (true, None) => self.db.iterator_cf_opt(cf, ro, IteratorMode::End),
            (d, Some((h, _))) => {
                let k = address_key(addr, h);
                let dir = if d { Direction::Reverse } else { Direction::Forward };
                self.db.iterator_cf_opt(cf, ro, IteratorMode::From(&k, dir))
            }
        };
        let wanted = match role {
            RoleKey::Any => u8::MAX,
            RoleKey::Sent => ROLE_SENDER,
            RoleKey::Received => ROLE_RECIPIENT,
            RoleKey::Contract => ROLE_CONTRACT_CALLED | ROLE_CONTRACT_EVENTS,
        };
        let (mut read, mut last) = (0usize, None);
        for item in it {
            let (k, v) = item?;
            if k.len() != 28 || v.len() % ADDRESS_ENTRY_LEN != 0 {
                return Err(StoreError::Corrupt { table: CF_IDX_ADDRESS, reason: "key or value length".into() });
            }
            let h = be_u64(&k[20..28]);
            let entries = v.chunks_exact(ADDRESS_ENTRY_LEN);
            let entries: Box<dyn Iterator<Item = &[u8]>> =
                if descending { Box::new(entries.rev()) } else { Box::new(entries) };
            for e in entries {
                let (i, entry) = decode_address_entry(e)?;
                let pos = (h, i);
                if after.is_some_and(|a| if descending { pos >= a } else { pos <= a }) {
                    continue;
                }
                if read >= budget {
                    return Ok((out, last));
                }
                read += 1;
                last = Some(pos);
                if entry.roles & wanted == 0 {
                    continue;
                }
                out.push(AddressTx { height: Height(h), index: i, entry });
                if out.len() >= limit {
                    return Ok((out, None));
                }
            }
        }
        Ok((out, None))
    }

    /// Events of `topic` in heights `from..=to` after position `after`, in
    /// order, until `limit` match `keep` or `budget` entries were read.
    /// Returns the matches and, when the scan stopped early on the budget,
    /// the position to continue after.
    #[allow(clippy::type_complexity)]
    pub fn indexed_events(
        &self,
        topic: &EventTopic,
        (from, to): (u64, u64),
        after: Option<EventPos>,
        limit: usize,
        budget: usize,
        keep: impl Fn(&IndexedEvent) -> bool,
    ) -> Result<(Vec<IndexedEvent>, Option<EventPos>), StoreError> {
        let mut out = Vec::new();
        let budget = budget.max(1);
        let Some(prefix) = topic_prefix(topic) else { return Ok((out, None)) };
        if from > to || limit == 0 {
            return Ok((out, None));
        }
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(event_key(&prefix, from));
        let mut end = event_key(&prefix, to);
        end.push(0);
        ro.set_iterate_upper_bound(end);
        let start = after.map(|a| event_key(&prefix, a.0));
        let mode = match &start {
            Some(k) => IteratorMode::From(k, Direction::Forward),
            None => IteratorMode::Start,
        };
        let n = prefix.len();
        let (mut read, mut last) = (0usize, None);
        let mut reader = EventReader { store: self, receipts: None, block_events: None };
        for item in self.db.iterator_cf_opt(self.cf(CF_IDX_EVENTS), ro, mode) {
            let (k, v) = item?;
            if k.len() != n + 8 || v.len() % EVENT_ENTRY_LEN != 0 {
                return Err(StoreError::Corrupt { table: CF_IDX_EVENTS, reason: "key or value length".into() });
            }
            let h = be_u64(&k[n..]);
            for entry in v.chunks_exact(EVENT_ENTRY_LEN) {
                let pos = (h, be_u32(entry), be_u32(&entry[4..]));
                if after.is_some_and(|a| pos <= a) {
                    continue;
                }
                if read >= budget {
                    // Stopped on the budget with rows left: continue after the last row read.
                    return Ok((out, last));
                }
                read += 1;
                last = Some(pos);
                let e = reader.read(pos, be_u32(&entry[8..]))?;
                if keep(&e) {
                    out.push(e);
                    if out.len() >= limit {
                        return Ok((out, None));
                    }
                }
            }
        }
        Ok((out, None))
    }

    /// Contracts running code `code_hash` (instantiated with it or migrated
    /// to it), in address order after `after`, with the height they got it.
    pub fn contracts_by_code(
        &self,
        code_hash: &Hash,
        after: Option<&Address>,
        limit: usize,
    ) -> Result<Vec<(Address, Height)>, StoreError> {
        let mut out = Vec::new();
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(code_hash.0.to_vec());
        let mut end = code_hash.0.to_vec();
        end.extend_from_slice(&[0xff; 21]);
        ro.set_iterate_upper_bound(end);
        let start = after.map(|a| [code_hash.0.as_slice(), &a.0].concat());
        let mode = match &start {
            Some(k) => IteratorMode::From(k, Direction::Forward),
            None => IteratorMode::Start,
        };
        for item in self.db.iterator_cf_opt(self.cf(CF_IDX_CODE), ro, mode) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item?;
            if k.len() != 52 || v.len() != 8 {
                return Err(StoreError::Corrupt { table: CF_IDX_CODE, reason: "key or value length".into() });
            }
            let mut a = [0u8; 20];
            a.copy_from_slice(&k[32..]);
            if after.is_some_and(|x| x.0 == a) {
                continue;
            }
            out.push((Address(a), Height(be_u64(&v))));
        }
        Ok(out)
    }

    /// Flushes every column family's memtable to disk (benches measure sizes).
    pub fn flush(&self) -> Result<(), StoreError> {
        for name in super::ALL_CFS {
            self.db.flush_cf(self.cf(name))?;
        }
        Ok(())
    }

    /// Bytes on disk of the index's column families (SST files, estimated by
    /// RocksDB; memtables included).
    pub fn index_disk_bytes(&self) -> Result<u64, StoreError> {
        let mut total = 0u64;
        for cf in [CF_IDX_ADDRESS, CF_IDX_EVENTS, CF_IDX_CODE] {
            for p in ["rocksdb.total-sst-files-size", "rocksdb.cur-size-all-mem-tables"] {
                total = total.saturating_add(self.db.property_int_value_cf(self.cf(cf), p)?.unwrap_or(0));
            }
        }
        Ok(total)
    }
}

#[cfg(test)]
#[path = "store_index_tests.rs"]
mod tests;
