//! Staking driven through whole blocks: genesis validators, transactions,
//! votes and evidence go in through `BlockExecutor`, every diff is committed
//! to a `MemStore`, and the outcome is checked against exact numbers.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use super::*;
use crate::block::{Event, Receipt, TxStatus};
use crate::contract::list_contract_storage;
use crate::crypto::{PublicKey, SigningKey};
use crate::exec::{BlockEnv, BlockExecutor, BlockOutcome};
use crate::params::ChainParams;
use crate::state::{Account, MemStore, read_account};
use crate::tx::{Payload, TxBody};
use crate::types::{Address, Amount, Height, Rate};

mod history;
mod index;
mod rewards;
mod slashing;

const CHAIN: &str = "agora-staking-test";
const T0: u64 = 1_700_000_000_000;
const M: u128 = 1_000_000;
/// Genesis self-stakes of validators 0..4 (power 40, 30, 20, 10).
const STAKES: [u128; 4] = [40 * M, 30 * M, 20 * M, 10 * M];
/// Liquid genesis balance of every operator and delegator.
const OP_BALANCE: u128 = 10 * M;
const DEL_BALANCE: u128 = 100 * M;
const UNBONDING_MS: u64 = 100_000;
const JAIL_MS: u64 = 60_000;

fn rate(ppm: u32) -> Rate {
    Rate::from_ppm(ppm).unwrap()
}

fn sk(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn pk(k: &SigningKey) -> PublicKey {
    PublicKey::from_signing_key(k)
}

fn addr(k: &SigningKey) -> Address {
    pk(k).address()
}

fn amt(v: u128) -> Amount {
    Amount::new(v)
}

fn params() -> ChainParams {
    let mut p = ChainParams::default();
    let s = &mut p.staking;
    s.max_validators = 10;
    s.unbonding_time_ms = UNBONDING_MS;
    s.max_entries = 3;
    s.inflation_rate = Rate::ZERO;
    s.community_tax = Rate::ZERO;
    s.signed_blocks_window = 10;
    s.min_signed_per_window = rate(500_000);
    s.downtime_jail_ms = JAIL_MS;
    s.commission_change_period_ms = 10_000;
    p
}

fn metadata(moniker: &str) -> ValidatorMetadata {
    ValidatorMetadata { moniker: moniker.into(), country: "DE".into(), ..Default::default() }
}

/// Which validators of the previous height signed it (`Off`: no `last_commit` at all).
#[derive(Clone, Debug)]
enum Votes {
    Off,
    All,
    Missing(Vec<PublicKey>),
}

#[derive(Clone, Debug)]
struct Spec {
    votes: Votes,
    evidence: Vec<Misbehaviour>,
    dt_ms: u64,
    /// The proposer's consensus key and client name.
    proposer: Option<(PublicKey, String)>,
}

impl Default for Spec {
    fn default() -> Self {
        Spec { votes: Votes::Off, evidence: Vec::new(), dt_ms: 1_000, proposer: None }
    }
}

/// A chain of 4 genesis validators, 4 funded delegators, driven block by block.
struct Net {
    store: MemStore,
    params: ChainParams,
    height: u64,
    time_ms: u64,
    /// (first height, validator set) in effect from that height on.
    sets: Vec<(u64, Vec<SetMember>)>,
    ops: Vec<SigningKey>,
    cons: Vec<SigningKey>,
    dels: Vec<SigningKey>,
    /// The `last_commit` of the last block run.
    last_votes: Vec<VoteInfo>,
}

impl Net {
    fn new(params: ChainParams) -> Net {
        let ops: Vec<_> = (0..4).map(|i| sk(10 + i)).collect();
        let cons: Vec<_> = (0..4).map(|i| sk(20 + i)).collect();
        let dels: Vec<_> = (0..4).map(|i| sk(40 + i)).collect();
        let mut balances: Vec<_> = ops.iter().map(|k| (addr(k), amt(OP_BALANCE))).collect();
        balances.extend(dels.iter().map(|k| (addr(k), amt(DEL_BALANCE))));
        let specs: Vec<_> = (0..4)
            .map(|i| GenesisValidatorSpec {
                operator: addr(&ops[i]),
                consensus_key: pk(&cons[i]),
                self_stake: amt(STAKES[i]),
                commission: CommissionRates::default(),
                min_self_delegation: amt(M),
                metadata: metadata(&format!("v{i}")),
            })
            .collect();
        let mut store = MemStore::new();
        let (diff, set) = genesis_state(&store, &params, CHAIN, T0, &balances, &specs).unwrap();
        store.commit(&diff);
        let net =
            Net { store, params, height: 0, time_ms: T0, sets: vec![(1, set)], ops, cons, dels, last_votes: vec![] };
        net.assert_invariants();
        net
    }

    fn op(&self, i: usize) -> Address {
        addr(&self.ops[i])
    }

    fn cons_pk(&self, i: usize) -> PublicKey {
        pk(&self.cons[i])
    }

    fn del(&self, i: usize) -> Address {
        addr(&self.dels[i])
    }

    fn set_at(&self, h: u64) -> Vec<SetMember> {
        self.sets.iter().rev().find(|(from, _)| *from <= h).map(|(_, s)| s.clone()).unwrap_or_default()
    }

    /// The validator set of the next block's consensus (the last one decided).
    fn current_set(&self) -> Vec<SetMember> {
        self.set_at(self.height + 1)
    }

    fn view(&self) -> StakingView<MemStore> {
        StakingView::new(self.store.clone(), &self.params)
    }

    fn val(&self, op: &Address) -> Validator {
        self.view().validator(op).unwrap().unwrap()
    }

    fn balance(&self, a: &Address) -> u128 {
        read_account(&self.store, a).unwrap().balance.get()
    }

    fn account(&self, a: &Address) -> Account {
        read_account(&self.store, a).unwrap()
    }

    fn totals(&self) -> Totals {
        self.view().supply().unwrap().totals
    }

    fn delegation(&self, d: &Address, op: &Address) -> Option<DelegationView> {
        self.view().delegations_of(d).unwrap().into_iter().find(|x| x.validator == *op)
    }

    fn unbondings(&self, d: &Address, op: &Address) -> Vec<UnbondingEntry> {
        self.view().unbondings_of(d).unwrap().into_iter().find(|(v, _)| v == op).map(|(_, e)| e).unwrap_or_default()
    }

    fn staking_kv(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        list_contract_storage(&self.store, &STAKING, None, usize::MAX).unwrap()
    }

    fn liquid(&self) -> Amount {
        let all = self.ops.iter().chain(&self.dels);
        amt(all.map(|k| self.balance(&addr(k))).sum())
    }

    fn assert_invariants(&self) {
        let bad = self.view().check_invariants(self.liquid()).unwrap();
        assert!(bad.is_empty(), "invariants broken at height {}: {bad:#?}", self.height);
    }

    fn last_commit(&self, h: u64, votes: &Votes) -> Vec<VoteInfo> {
        if h <= 1 {
            return Vec::new();
        }
        let signed = |m: &SetMember| match votes {
            Votes::Off => false,
            Votes::All => true,
            Votes::Missing(miss) => !miss.contains(&m.consensus_key),
        };
        match votes {
            Votes::Off => Vec::new(),
            _ => self
                .set_at(h - 1)
                .iter()
                .map(|m| VoteInfo { validator: m.consensus_key, power: m.power, signed: signed(m) })
                .collect(),
        }
    }

    /// Executes one block with `txs` (nonces from the block's own state),
    /// commits it and checks the invariants and the supply bookkeeping.
    fn run(&mut self, txs: &[(&SigningKey, Payload)], spec: Spec) -> BlockOutcome {
        let h = self.height + 1;
        let t = self.time_ms + spec.dt_ms;
        let mut env = BlockEnv::new(CHAIN, Height(h), t);
        env.last_commit = self.last_commit(h, &spec.votes);
        env.misbehaviour = spec.evidence;
        env.proposer = spec.proposer;
        self.last_votes = env.last_commit.clone();
        let totals_before = self.totals();
        let mut exec = BlockExecutor::new(&self.store, &self.params, env);
        for (k, payload) in txs {
            let nonce = exec.account(&addr(k)).unwrap().nonce;
            let tx = TxBody {
                chain_id: CHAIN.into(),
                sender: pk(k),
                nonce,
                gas_limit: 200_000,
                gas_price: Amount::new(1),
                payload: payload.clone(),
            }
            .sign(k)
            .verify()
            .unwrap();
            exec.execute(&tx).unwrap();
        }
        let out = exec.finish().unwrap();
        self.store.commit(&out.diff);
        self.height = h;
        self.time_ms = t;
        if let Some(s) = &out.validator_updates {
            self.sets.push((h + 2, s.clone()));
        }
        self.assert_invariants();
        let after = self.totals();
        assert_eq!(
            after.supply.get() + after.burned.get() - totals_before.burned.get(),
            totals_before.supply.get() + after.minted.get() - totals_before.minted.get(),
            "supply changes only by minted - burned"
        );
        out
    }

    fn block(&mut self, txs: &[(&SigningKey, Payload)]) -> BlockOutcome {
        self.run(txs, Spec::default())
    }

    /// Runs empty blocks (no votes) until the block time reaches `t`.
    fn advance_to(&mut self, t: u64) -> BlockOutcome {
        assert!(t > self.time_ms);
        self.run(&[], Spec { dt_ms: t - self.time_ms, ..Spec::default() })
    }

    /// One block whose transactions must all fail with the given reasons:
    /// each pays its fee and bumps its nonce, and the staking records and
    /// pools stay exactly as they were.
    fn expect_failures(&mut self, txs: &[(&SigningKey, Payload, &str)]) -> BlockOutcome {
        // Distribute the previous block's fees first, so the failing block's
        // begin-block hook has nothing to do.
        self.block(&[]);
        let kv = self.staking_kv();
        let senders: Vec<Address> = txs.iter().map(|(k, _, _)| addr(k)).collect();
        let accounts: BTreeMap<Address, Account> = senders.iter().map(|a| (*a, self.account(a))).collect();
        let pools: Vec<u128> = module_accounts().iter().map(|(_, a)| self.balance(a)).collect();
        assert_eq!(self.balance(&FEE_COLLECTOR), 0);
        let plain: Vec<(&SigningKey, Payload)> = txs.iter().map(|(k, p, _)| (*k, p.clone())).collect();
        let out = self.block(&plain);
        let mut fees: BTreeMap<Address, (u128, u64)> = BTreeMap::new();
        for (r, (_, _, want)) in out.receipts.iter().zip(txs) {
            let reason = failure(r).unwrap_or_else(|| panic!("expected failure `{want}`, got success"));
            assert!(reason.contains(want), "expected `{want}` in `{reason}`");
            assert!(r.fee.get() > 0);
            assert_eq!(r.events.len(), 1, "a failed tx only has its fee event");
            let e = fees.entry(r.sender).or_default();
            e.0 += r.fee.get();
            e.1 += 1;
        }
        assert_eq!(self.staking_kv(), kv, "failed staking txs changed staking records");
        for (a, before) in accounts {
            let (fee, n) = fees[&a];
            assert_eq!(self.account(&a), Account { balance: amt(before.balance.get() - fee), nonce: before.nonce + n });
        }
        let total_fees: u128 = out.receipts.iter().map(|r| r.fee.get()).sum();
        let after: Vec<u128> = module_accounts().iter().map(|(_, a)| self.balance(a)).collect();
        for (i, (name, _)) in module_accounts().iter().enumerate() {
            let want = if *name == "fee_collector" { total_fees } else { pools[i] };
            assert_eq!(after[i], want, "{name}");
        }
        assert!(out.validator_updates.is_none());
        out
    }
}

fn failure(r: &Receipt) -> Option<&str> {
    match &r.status {
        TxStatus::Success => None,
        TxStatus::Failed { reason } => Some(reason),
    }
}

fn assert_all_ok(out: &BlockOutcome) {
    for (i, r) in out.receipts.iter().enumerate() {
        assert!(failure(r).is_none(), "tx {i} failed: {:?}", r.status);
    }
}

fn events<'a>(evs: &'a [Event], kind: &str) -> Vec<&'a Event> {
    evs.iter().filter(|e| e.kind == kind).collect()
}

fn attr<'a>(e: &'a Event, key: &str) -> &'a str {
    e.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {key} in {e:?}"))
}

fn member(op: Address, cons: PublicKey, power: u64) -> SetMember {
    SetMember { operator: op, consensus_key: cons, power }
}

fn sorted(mut s: Vec<SetMember>) -> Vec<SetMember> {
    s.sort_by_key(|m| m.consensus_key);
    s
}

fn delegate(op: Address, amount: u128) -> Payload {
    Payload::Delegate { validator: op, amount: amt(amount) }
}

fn undelegate(op: Address, amount: u128) -> Payload {
    Payload::Undelegate { validator: op, amount: amt(amount) }
}

fn redelegate(src: Address, dst: Address, amount: u128) -> Payload {
    Payload::Redelegate { src_validator: src, dst_validator: dst, amount: amt(amount) }
}

fn create(cons: PublicKey, self_stake: u128, commission: CommissionRates, min: u128, m: ValidatorMetadata) -> Payload {
    Payload::CreateValidator {
        consensus_key: cons,
        self_stake: amt(self_stake),
        commission,
        min_self_delegation: amt(min),
        metadata: m,
    }
}

// ---- genesis ----------------------------------------------------------------

#[test]
fn genesis_bonds_self_stakes_and_sets_powers() {
    let net = Net::new(params());
    let want: Vec<_> = (0..4).map(|i| member(net.op(i), net.cons_pk(i), [40, 30, 20, 10][i])).collect();
    assert_eq!(net.current_set(), sorted(want));
    assert_eq!(net.view().active_set().unwrap(), net.current_set());
    let s = net.view().supply().unwrap();
    assert_eq!(s.bonded, amt(100 * M));
    assert_eq!(s.totals.supply, amt(100 * M + 4 * OP_BALANCE + 4 * DEL_BALANCE));
    for (i, stake) in STAKES.into_iter().enumerate() {
        let v = net.val(&net.op(i));
        assert_eq!((v.tokens, v.shares, v.status), (amt(stake), stake, ValidatorStatus::Bonded));
        assert_eq!(net.balance(&net.op(i)), OP_BALANCE);
        assert_eq!(net.view().signing_info(&net.op(i)).unwrap().unwrap().start_height, Height(0));
    }
}

// ---- create-validator -------------------------------------------------------

#[test]
fn create_validator_refusals_leave_staking_unchanged() {
    let mut net = Net::new(params());
    let n = net.dels[0].clone();
    let op0 = net.ops[0].clone();
    let fresh = pk(&sk(30));
    let c = CommissionRates::default();
    let identity = {
        let mut b = [0u8; 32];
        b[0] = 1;
        PublicKey(b)
    };
    net.expect_failures(&[
        (&n, create(fresh, 5 * M, c, M, metadata("")), "invalid metadata"),
        (&n, create(fresh, 5 * M, c, M, ValidatorMetadata { country: "Germany".into(), ..metadata("x") }), "ISO 3166"),
        (&n, create(fresh, 5 * M, CommissionRates { rate: rate(300_000), ..c }, M, metadata("x")), "is above max_rate"),
        (
            &n,
            create(fresh, 5 * M, CommissionRates { max_change_rate: rate(300_000), ..c }, M, metadata("x")),
            "max_change_rate",
        ),
        (&n, create(fresh, 5 * M, c, M - 1, metadata("x")), "below the chain's minimum"),
        (&n, create(fresh, 3 * M / 2, c, 2 * M, metadata("x")), "below the declared min_self_delegation"),
        (&n, create(net.cons_pk(0), 5 * M, c, M, metadata("x")), "already used by validator"),
        (&n, create(identity, 5 * M, c, M, metadata("x")), "not a valid ed25519 public key"),
        (&n, create(fresh, 1_000 * M, c, M, metadata("x")), "cannot bond the self-stake"),
        (&op0, create(fresh, 5 * M, c, M, metadata("x")), "already operates a validator"),
    ]);
    assert!(net.view().validator(&addr(&n)).unwrap().is_none());
}

#[test]
fn create_validator_bonds_and_joins_the_set() {
    let mut net = Net::new(params());
    let n = net.dels[0].clone();
    let cons = pk(&sk(30));
    let before = net.balance(&addr(&n));
    let out = net.block(&[(&n, create(cons, 25 * M, CommissionRates::default(), 2 * M, metadata("newcomer")))]);
    assert_all_ok(&out);
    let fee = out.receipts[0].fee.get();
    assert_eq!(net.balance(&addr(&n)), before - 25 * M - fee);
    let v = net.val(&addr(&n));
    assert_eq!((v.tokens, v.shares), (amt(25 * M), 25 * M));
    assert_eq!(v.status, ValidatorStatus::Bonded);
    assert_eq!(v.created_height, Height(1));
    assert_eq!(v.min_self_delegation, amt(2 * M));
    assert_eq!(v.metadata, metadata("newcomer"));
    assert_eq!(v.commission_changed_ms, net.time_ms);
    assert_eq!(net.view().supply().unwrap().bonded, amt(125 * M));
    let ev = &events(&out.receipts[0].events, "create_validator")[0];
    assert_eq!(attr(ev, "self_stake"), (25 * M).to_string());
    let mut want: Vec<_> = (0..4).map(|i| member(net.op(i), net.cons_pk(i), [40, 30, 20, 10][i])).collect();
    want.push(member(addr(&n), cons, 25));
    assert_eq!(out.validator_updates, Some(sorted(want)));
    assert_eq!(events(&out.events, "validator_joined_set").len(), 1);
    // The key is taken now, by anyone.
    let other = net.dels[1].clone();
    net.expect_failures(&[(&other, create(cons, 5 * M, CommissionRates::default(), M, metadata("x")), "already used")]);
}

// ---- delegation and the validator set ---------------------------------------

#[test]
fn delegation_changes_shares_tokens_and_the_ranking() {
    let mut p = params();
    p.staking.max_validators = 3;
    let mut net = Net::new(p);
    let (v0, v2, v3) = (net.op(0), net.op(2), net.op(3));
    // Genesis: the top 3; v3 is a candidate only.
    assert_eq!(net.current_set().len(), 3);
    assert_eq!(net.val(&v3).status, ValidatorStatus::Unbonded);

    let d = net.dels[0].clone();
    let out = net.block(&[(&d, delegate(v0, 500_000))]);
    assert_all_ok(&out);
    let fee = out.receipts[0].fee.get();
    let v = net.val(&v0);
    assert_eq!((v.tokens, v.shares), (amt(40_500_000), 40_500_000));
    assert_eq!(net.delegation(&addr(&d), &v0).unwrap().shares, 500_000);
    assert_eq!(net.balance(&addr(&d)), DEL_BALANCE - 500_000 - fee);
    assert_eq!(net.view().supply().unwrap().bonded, amt(100_500_000));
    // Power 40 either way: the set is unchanged.
    assert_eq!(out.validator_updates, None);
    let ev = &events(&out.receipts[0].events, "delegate")[0];
    assert_eq!(attr(ev, "shares"), "500000");

    // 15M more to v3 (10M → 25M) pushes v2 (20M) out.
    let out = net.block(&[(&d, delegate(v3, 15 * M))]);
    assert_all_ok(&out);
    let want = sorted(vec![
        member(v0, net.cons_pk(0), 40),
        member(net.op(1), net.cons_pk(1), 30),
        member(v3, net.cons_pk(3), 25),
    ]);
    assert_eq!(out.validator_updates, Some(want.clone()));
    assert_eq!(net.set_at(net.height + 2), want);
    assert_eq!(net.view().active_set().unwrap(), want);
    assert_eq!(net.val(&v3).status, ValidatorStatus::Bonded);
    let left_at = net.time_ms + UNBONDING_MS;
    assert_eq!(net.val(&v2).status, ValidatorStatus::Unbonding { completion_ms: left_at });
    assert_eq!(attr(events(&out.events, "validator_left_set")[0], "validator"), v2.to_string());
    assert_eq!(attr(events(&out.events, "validator_set_update")[0], "effective_height"), (net.height + 2).to_string());

    // v2 finishes unbonding exactly at its completion time.
    net.advance_to(left_at - 1);
    assert!(matches!(net.val(&v2).status, ValidatorStatus::Unbonding { .. }));
    net.advance_to(left_at);
    assert_eq!(net.val(&v2).status, ValidatorStatus::Unbonded);

    let d1 = net.dels[1].clone();
    net.expect_failures(&[
        (&d1, delegate(Address([7; 20]), M), "no validator with operator address"),
        (&d1, delegate(v0, 1_000 * M), "cannot delegate"),
    ]);
}

// ---- undelegation -----------------------------------------------------------

#[test]
fn undelegation_unbonds_at_once_and_pays_at_completion() {
    let mut net = Net::new(params());
    let v0 = net.op(0);
    let d = net.dels[0].clone();
    let da = addr(&d);
    assert_all_ok(&net.block(&[(&d, delegate(v0, 10 * M))]));
    let bal = net.balance(&da);

    let out = net.block(&[(&d, undelegate(v0, 4 * M))]);
    assert_all_ok(&out);
    let fee = out.receipts[0].fee.get();
    let completion = net.time_ms + UNBONDING_MS;
    assert_eq!(net.balance(&da), bal - fee, "nothing is paid before completion");
    let s = net.view().supply().unwrap();
    assert_eq!((s.bonded, s.unbonding), (amt(106 * M), amt(4 * M)));
    assert_eq!(net.val(&v0).tokens, amt(46 * M));
    assert_eq!(net.delegation(&da, &v0).unwrap().amount, amt(6 * M));
    assert_eq!(
        net.unbondings(&da, &v0),
        vec![UnbondingEntry {
            creation_height: Height(2),
            completion_ms: completion,
            initial: amt(4 * M),
            balance: amt(4 * M)
        }]
    );
    let ev = &events(&out.receipts[0].events, "undelegate")[0];
    assert_eq!((attr(ev, "amount"), attr(ev, "completion_time_ms")), ("4000000", completion.to_string().as_str()));
    // Power 50 → 46.
    let vu = out.validator_updates.unwrap();
    assert_eq!(vu.iter().find(|m| m.operator == v0).unwrap().power, 46);

    let bal = net.balance(&da);
    let out = net.advance_to(completion - 1);
    assert!(events(&out.events, "unbonding_complete").is_empty());
    assert_eq!(net.balance(&da), bal);
    assert_eq!(net.view().supply().unwrap().unbonding, amt(4 * M));

    let out = net.advance_to(completion);
    let ev = &events(&out.events, "unbonding_complete")[0];
    assert_eq!(attr(ev, "amount"), "4000000");
    assert_eq!(net.balance(&da), bal + 4 * M);
    assert_eq!(net.view().supply().unwrap().unbonding, Amount::ZERO);
    assert!(net.unbondings(&da, &v0).is_empty());
    assert!(net.view().unbondings_of(&da).unwrap().is_empty());
}

#[test]
fn undelegation_entries_are_capped_by_max_entries() {
    let mut net = Net::new(params());
    let v0 = net.op(0);
    let d = net.dels[0].clone();
    let da = addr(&d);
    assert_all_ok(&net.block(&[(&d, delegate(v0, 10 * M))]));
    let out = net.block(&[(&d, undelegate(v0, M)), (&d, undelegate(v0, M)), (&d, undelegate(v0, M))]);
    assert_all_ok(&out);
    let completion = net.time_ms + UNBONDING_MS;
    assert_eq!(net.unbondings(&da, &v0).len(), 3);
    net.expect_failures(&[
        (&d, undelegate(v0, M), "max_entries"),
        (&d, undelegate(v0, 8 * M), "only 7000000 is delegated"),
        (&d, undelegate(net.op(1), M), "has no delegation to"),
        (&d, undelegate(Address([7; 20]), M), "no validator with operator address"),
    ]);
    // Another delegator is not affected by d's entries.
    let d1 = net.dels[1].clone();
    assert_all_ok(&net.block(&[(&d1, delegate(v0, M))]));
    assert_all_ok(&net.block(&[(&d1, undelegate(v0, M))]));

    let bal = net.balance(&da);
    let out = net.advance_to(completion);
    assert_eq!(attr(events(&out.events, "unbonding_complete")[0], "amount"), "3000000");
    assert_eq!(net.balance(&da), bal + 3 * M);
    assert!(net.unbondings(&da, &v0).is_empty());
    assert_all_ok(&net.block(&[(&d, undelegate(v0, M))]));
    assert_eq!(net.unbondings(&da, &v0).len(), 1);
}

#[test]
fn operator_below_min_self_delegation_is_jailed() {
    let mut net = Net::new(params());
    let op3k = net.ops[3].clone();
    let v3 = net.op(3);
    let out = net.block(&[(&op3k, undelegate(v3, 9_500_000))]);
    assert_all_ok(&out);
    let v = net.val(&v3);
    assert!(v.jailed && !v.tombstoned);
    assert_eq!(v.jailed_until_ms, net.time_ms);
    assert_eq!(attr(events(&out.receipts[0].events, "jail")[0], "validator"), v3.to_string());
    let vu = out.validator_updates.unwrap();
    assert!(vu.iter().all(|m| m.operator != v3));
    assert_eq!(vu.len(), 3);
    net.expect_failures(&[(&op3k, Payload::Unjail {}, "below min_self_delegation")]);
    let out = net.block(&[(&op3k, delegate(v3, M)), (&op3k, Payload::Unjail {})]);
    assert_all_ok(&out);
    assert!(!net.val(&v3).jailed);
    let vu = out.validator_updates.unwrap();
    assert_eq!(vu.iter().find(|m| m.operator == v3).unwrap().power, 1);
}

// ---- redelegation -----------------------------------------------------------

#[test]
fn redelegation_moves_stake_at_once_and_refuses_hopping() {
    let mut net = Net::new(params());
    let (v0, v1, v2) = (net.op(0), net.op(1), net.op(2));
    let d = net.dels[0].clone();
    let da = addr(&d);
    assert_all_ok(&net.block(&[(&d, delegate(v0, 10 * M))]));
    let bonded = net.view().supply().unwrap().bonded;

    let out = net.block(&[(&d, redelegate(v0, v1, 4 * M))]);
    assert_all_ok(&out);
    let first_completion = net.time_ms + UNBONDING_MS;
    assert_eq!(net.val(&v0).tokens, amt(46 * M));
    assert_eq!(net.val(&v1).tokens, amt(34 * M));
    assert_eq!(net.delegation(&da, &v1).unwrap().shares, 4 * M);
    assert_eq!(net.delegation(&da, &v0).unwrap().amount, amt(6 * M));
    assert_eq!(net.view().supply().unwrap().bonded, bonded, "no tokens leave the bonded pool");
    assert_eq!(
        net.view().redelegations_of(&da).unwrap(),
        vec![(
            v0,
            v1,
            vec![RedelegationEntry {
                creation_height: Height(2),
                completion_ms: first_completion,
                initial: amt(4 * M),
                shares_dst: 4 * M
            }]
        )]
    );
    let vu = out.validator_updates.unwrap();
    assert_eq!(vu.iter().find(|m| m.operator == v0).unwrap().power, 46);
    assert_eq!(vu.iter().find(|m| m.operator == v1).unwrap().power, 34);

    assert_all_ok(&net.block(&[(&d, redelegate(v0, v1, M)), (&d, redelegate(v0, v1, M))]));
    let last_completion = net.time_ms + UNBONDING_MS;
    let d1 = net.dels[1].clone();
    net.expect_failures(&[
        (&d, redelegate(v1, v2, M), "no hopping"),
        (&d, redelegate(v0, v0, M), "same validator"),
        (&d, redelegate(v0, v1, M), "max_entries"),
        (&d, redelegate(v0, v2, 5 * M), "only 4000000 is delegated"),
        (&d1, redelegate(v0, v2, M), "has no delegation to"),
        (&d, redelegate(v0, Address([7; 20]), M), "no validator with operator address"),
    ]);
    // Once the first entry matured it no longer counts against max_entries, but
    // the later ones still block hopping from v1.
    net.advance_to(first_completion);
    assert_eq!(net.view().redelegations_of(&da).unwrap()[0].2.len(), 2);
    assert_all_ok(&net.block(&[(&d, redelegate(v0, v1, M))]));
    let last_completion = last_completion.max(net.time_ms + UNBONDING_MS);
    net.expect_failures(&[(&d, redelegate(v1, v2, M), "no hopping")]);
    net.advance_to(last_completion);
    assert!(net.view().redelegations_of(&da).unwrap().is_empty());
    let out = net.block(&[(&d, redelegate(v1, v2, M))]);
    assert_all_ok(&out);
    assert_eq!(net.delegation(&da, &v2).unwrap().amount, amt(M));
}

// ---- rewards ----------------------------------------------------------------

#[test]
fn withdraw_refusals() {
    let mut net = Net::new(params());
    let d = net.dels[0].clone();
    net.expect_failures(&[
        (&d, Payload::WithdrawRewards { validator: None }, "no delegations and no commission"),
        (&d, Payload::WithdrawRewards { validator: Some(net.op(0)) }, "has no delegation to"),
        (&d, Payload::WithdrawRewards { validator: Some(Address([7; 20])) }, "no validator with operator address"),
    ]);
}

// ---- editing ----------------------------------------------------------------

#[test]
fn edit_validator_rules() {
    let mut net = Net::new(params());
    let op0 = net.ops[0].clone();
    let d = net.dels[0].clone();
    let edit = |rate_ppm: Option<u32>, min: Option<u128>, m: MetadataUpdate| Payload::EditValidator {
        commission_rate: rate_ppm.map(rate),
        min_self_delegation: min.map(amt),
        metadata: m,
    };
    net.expect_failures(&[
        (&op0, edit(Some(105_000), None, MetadataUpdate::default()), "less than 10 s ago"),
        (&d, edit(Some(105_000), None, MetadataUpdate::default()), "does not operate a validator"),
        (&op0, edit(None, None, MetadataUpdate::default()), "nothing to change"),
    ]);
    net.advance_to(T0 + 10_000);
    net.expect_failures(&[
        (&op0, edit(Some(115_000), None, MetadataUpdate::default()), "may change by at most 0.01"),
        (&op0, edit(Some(250_000), None, MetadataUpdate::default()), "above this validator's max_rate 0.2"),
        (&op0, edit(None, Some(M - 1), MetadataUpdate::default()), "can only increase"),
        (&op0, edit(None, Some(40 * M + 1), MetadataUpdate::default()), "above the operator's own delegation"),
        (
            &op0,
            edit(None, None, MetadataUpdate { country: Some("XX".into()), ..Default::default() }),
            "invalid metadata",
        ),
    ]);
    let upd = MetadataUpdate {
        moniker: Some("renamed".into()),
        website: Some("https://v0.example".into()),
        ..Default::default()
    };
    let out = net.block(&[(&op0, edit(Some(110_000), Some(5 * M), upd))]);
    assert_all_ok(&out);
    let v = net.val(&net.op(0));
    assert_eq!(v.commission.rate, rate(110_000));
    assert_eq!(v.commission_changed_ms, net.time_ms);
    assert_eq!(v.min_self_delegation, amt(5 * M));
    assert_eq!(v.metadata.moniker, "renamed");
    assert_eq!(v.metadata.website, "https://v0.example");
    assert_eq!(v.metadata.country, "DE");
    assert_eq!(out.validator_updates, None);
    net.expect_failures(&[(&op0, edit(Some(120_000), None, MetadataUpdate::default()), "less than 10 s ago")]);
}

// ---- double signing -----------------------------------------------------------

/// Known issue, not fixed here: module pool accounts are ordinary accounts,
/// so anyone can send tokens into the bonded or unbonding pool (a native
/// transfer, or a contract through `Host::transfer`). The tokens are stuck
/// for ever and `check_invariants` would report `bonded pool != Σ validator
/// tokens` from then on: they are refused.
#[test]
fn transfers_into_pool_accounts_are_refused() {
    let mut net = Net::new(params());
    let d = net.dels[0].clone();
    let out = net.block(&[
        (&d, Payload::Transfer { to: *BONDED_POOL, amount: amt(1) }),
        (&d, Payload::Transfer { to: *UNBONDING_POOL, amount: amt(1) }),
    ]);
    for r in &out.receipts {
        assert!(failure(r).is_some(), "a transfer into a pool account succeeded");
    }
}
