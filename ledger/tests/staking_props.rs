//! Property test of staking: random sequences of staking transactions and
//! transfers from six accounts, interleaved with blocks carrying random
//! `last_commit` signatures, double-sign evidence and time jumps. After every
//! block the staking invariants hold, the supply moves only by minted − burned,
//! no slash burns more than was slashable, and execution never errs.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use ledger::staking::{
    CommissionRates, GenesisValidatorSpec, MetadataUpdate, Misbehaviour, SetMember, StakingView, ValidatorMetadata,
    VoteInfo, genesis_state,
};
use ledger::state::read_account;
use ledger::{
    Address, Amount, BlockEnv, BlockExecutor, ChainParams, Height, MemStore, Payload, PublicKey, Rate, SigningKey,
    TxBody,
};
use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestCaseError};

const N: usize = 6;
const CHAIN: &str = "agora-props";
const M: u128 = 1_000_000;
const T0: u64 = 1_800_000_000_000;
const BALANCE: u128 = 50 * M;
/// Self-stakes of the genesis validators, operated by accounts 0, 1 and 2.
const GENESIS_STAKES: [u128; 3] = [20 * M, 15 * M, 10 * M];
const GAS_LIMIT: u64 = 300_000;
const UNBONDING_MS: u64 = 60_000;

fn acct_key(i: usize) -> SigningKey {
    SigningKey::from_bytes(&[1 + i as u8; 32])
}

fn cons_key(i: usize) -> PublicKey {
    PublicKey::from_signing_key(&SigningKey::from_bytes(&[100 + i as u8; 32]))
}

fn acct(i: usize) -> Address {
    PublicKey::from_signing_key(&acct_key(i)).address()
}

fn rate(ppm: u32) -> Rate {
    Rate::from_ppm(ppm).unwrap()
}

fn params() -> ChainParams {
    let mut p = ChainParams::default();
    let s = &mut p.staking;
    s.max_validators = 4;
    s.unbonding_time_ms = UNBONDING_MS;
    s.max_entries = 2;
    s.inflation_rate = rate(100_000);
    s.blocks_per_year = 1_000;
    s.community_tax = rate(20_000);
    s.signed_blocks_window = 10;
    s.min_signed_per_window = rate(500_000);
    s.downtime_jail_ms = 10_000;
    s.max_evidence_age_blocks = 20;
    s.commission_change_period_ms = 5_000;
    p
}

/// How much to undelegate or redelegate.
#[derive(Clone, Debug)]
enum Amt {
    Fixed(u128),
    /// The whole delegation (as of the last committed state).
    All,
    /// This many millionths of the delegation.
    Part(u32),
}

#[derive(Clone, Debug)]
enum Act {
    Create { who: usize, key: usize, stake: u128, commission: u8, min: u128, bad_meta: bool },
    Edit { who: usize, rate: Option<u32>, min: Option<u128>, moniker: Option<bool> },
    Delegate { who: usize, val: usize, amount: u128 },
    Undelegate { who: usize, val: usize, amount: Amt },
    Redelegate { who: usize, src: usize, dst: usize, amount: Amt },
    Withdraw { who: usize, val: Option<usize> },
    Unjail { who: usize },
    Transfer { who: usize, to: usize, amount: u128 },
}

#[derive(Clone, Debug)]
struct Plan {
    acts: Vec<Act>,
    /// Bit `i`: the validator with consensus key `i` signed the previous height.
    signed: u8,
    /// (consensus key, heights back) of a double sign.
    evidence: Option<(usize, u64)>,
    dt_ms: u64,
}

fn arb_amt() -> impl Strategy<Value = Amt> {
    prop_oneof![
        3 => (1u128..8 * M).prop_map(Amt::Fixed),
        1 => (1u128..1_000).prop_map(Amt::Fixed),
        2 => Just(Amt::All),
        2 => (1u32..=1_000_000).prop_map(Amt::Part),
    ]
}

/// A validator's operator: mostly a genesis one, sometimes any account.
fn arb_val() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 0..GENESIS_STAKES.len(), 1 => 0..N]
}

fn arb_act() -> impl Strategy<Value = Act> {
    let who = 0..N;
    prop_oneof![
        1 => (who.clone(), 0..N, prop_oneof![3 => 1u128..30 * M, 1 => Just(400 * M)], 0u8..3,
              prop_oneof![Just(M), Just(2 * M), Just(M / 2)], prop::bool::weighted(0.1))
            .prop_map(|(who, key, stake, commission, min, bad_meta)| Act::Create { who, key, stake, commission, min, bad_meta }),
        1 => (who.clone(), prop::option::of(prop_oneof![Just(100_000u32), Just(105_000), Just(112_000), Just(300_000)]),
              prop::option::of(prop_oneof![Just(M), Just(3 * M), Just(100 * M)]), prop::option::of(any::<bool>()))
            .prop_map(|(who, rate, min, moniker)| Act::Edit { who, rate, min, moniker }),
        4 => (who.clone(), arb_val(), prop_oneof![4 => 1u128..20 * M, 1 => 1u128..100, 1 => Just(200 * M)])
            .prop_map(|(who, val, amount)| Act::Delegate { who, val, amount }),
        3 => (who.clone(), arb_val(), arb_amt()).prop_map(|(who, val, amount)| Act::Undelegate { who, val, amount }),
        3 => (who.clone(), arb_val(), arb_val(), arb_amt()).prop_map(|(who, src, dst, amount)| Act::Redelegate { who, src, dst, amount }),
        2 => (who.clone(), prop::option::of(arb_val())).prop_map(|(who, val)| Act::Withdraw { who, val }),
        1 => who.clone().prop_map(|who| Act::Unjail { who }),
        1 => (who, 0..N, 1u128..5 * M).prop_map(|(who, to, amount)| Act::Transfer { who, to, amount }),
    ]
}

fn arb_plan() -> impl Strategy<Value = Plan> {
    (
        prop::collection::vec(arb_act(), 0..5),
        prop_oneof![5 => Just(u8::MAX), 3 => any::<u8>(), 1 => Just(0u8)],
        prop::option::weighted(0.03, (0..N, 0u64..8)),
        prop_oneof![12 => Just(1_000u64), 2 => Just(11_000), 1 => Just(UNBONDING_MS + 1_000)],
    )
        .prop_map(|(acts, signed, evidence, dt_ms)| Plan { acts, signed, evidence, dt_ms })
}

struct Chain {
    store: MemStore,
    params: ChainParams,
    height: u64,
    time_ms: u64,
    sets: Vec<(u64, Vec<SetMember>)>,
    genesis_supply: u128,
}

impl Chain {
    fn new() -> Chain {
        let params = params();
        let balances: Vec<_> = (0..N).map(|i| (acct(i), Amount::new(BALANCE))).collect();
        let specs: Vec<_> = GENESIS_STAKES
            .iter()
            .enumerate()
            .map(|(i, s)| GenesisValidatorSpec {
                operator: acct(i),
                consensus_key: cons_key(i),
                self_stake: Amount::new(*s),
                commission: CommissionRates::default(),
                min_self_delegation: Amount::new(M),
                metadata: ValidatorMetadata { moniker: format!("v{i}"), ..Default::default() },
            })
            .collect();
        let mut store = MemStore::new();
        let (diff, set) = genesis_state(&store, &params, CHAIN, T0, &balances, &specs).unwrap();
        store.commit(&diff);
        let genesis_supply = N as u128 * BALANCE + GENESIS_STAKES.iter().sum::<u128>();
        Chain { store, params, height: 0, time_ms: T0, sets: vec![(1, set)], genesis_supply }
    }

    fn view(&self) -> StakingView<MemStore> {
        StakingView::new(self.store.clone(), &self.params)
    }

    fn set_at(&self, h: u64) -> &[SetMember] {
        self.sets.iter().rev().find(|(from, _)| *from <= h).map_or(&[], |(_, s)| s.as_slice())
    }

    fn liquid(&self) -> u128 {
        (0..N).map(|i| read_account(&self.store, &acct(i)).unwrap().balance.get()).sum()
    }

    /// Per validator: the most a slash could take from it in the next block:
    /// its tokens, its unbonding entries' balances and the value at the
    /// destination of every delegation redelegated away from it.
    fn slashable(&self) -> BTreeMap<Address, u128> {
        let mut view = self.view();
        let mut out: BTreeMap<Address, u128> =
            view.validators().unwrap().iter().map(|v| (v.operator, v.tokens.get())).collect();
        for i in 0..N {
            let d = acct(i);
            for (op, entries) in view.unbondings_of(&d).unwrap() {
                *out.entry(op).or_default() += entries.iter().map(|e| e.balance.get()).sum::<u128>();
            }
            let dels = view.delegations_of(&d).unwrap();
            for (src, dst, _) in view.redelegations_of(&d).unwrap() {
                let value = dels.iter().find(|x| x.validator == dst).map_or(0, |x| x.amount.get());
                *out.entry(src).or_default() += value;
            }
        }
        out
    }

    fn resolve(&self, who: usize, val: usize, a: &Amt) -> Amount {
        let value = || {
            self.view()
                .delegations_of(&acct(who))
                .unwrap()
                .iter()
                .find(|d| d.validator == acct(val))
                .map_or(0, |d| d.amount.get())
        };
        let v = match a {
            Amt::Fixed(v) => *v,
            Amt::All => value(),
            Amt::Part(ppm) => value() * u128::from(*ppm) / 1_000_000,
        };
        Amount::new(v.max(1))
    }

    fn payload(&self, act: &Act) -> (usize, Payload) {
        let default_c = CommissionRates::default();
        match act {
            Act::Create { who, key, stake, commission, min, bad_meta } => {
                let commission = match commission {
                    0 => default_c,
                    1 => CommissionRates { rate: Rate::ZERO, max_rate: Rate::ONE, max_change_rate: rate(500_000) },
                    _ => CommissionRates { rate: rate(300_000), ..default_c },
                };
                let moniker = if *bad_meta { String::new() } else { format!("c{who}") };
                (
                    *who,
                    Payload::CreateValidator {
                        consensus_key: cons_key(*key),
                        self_stake: Amount::new(*stake),
                        commission,
                        min_self_delegation: Amount::new(*min),
                        metadata: ValidatorMetadata { moniker, country: "SG".into(), ..Default::default() },
                    },
                )
            }
            Act::Edit { who, rate: r, min, moniker } => (
                *who,
                Payload::EditValidator {
                    commission_rate: r.map(rate),
                    min_self_delegation: min.map(Amount::new),
                    metadata: MetadataUpdate {
                        moniker: moniker.map(|ok| if ok { "renamed".into() } else { " bad".into() }),
                        ..Default::default()
                    },
                },
            ),
            Act::Delegate { who, val, amount } => {
                (*who, Payload::Delegate { validator: acct(*val), amount: Amount::new(*amount) })
            }
            Act::Undelegate { who, val, amount } => {
                (*who, Payload::Undelegate { validator: acct(*val), amount: self.resolve(*who, *val, amount) })
            }
            Act::Redelegate { who, src, dst, amount } => (
                *who,
                Payload::Redelegate {
                    src_validator: acct(*src),
                    dst_validator: acct(*dst),
                    amount: self.resolve(*who, *src, amount),
                },
            ),
            Act::Withdraw { who, val } => (*who, Payload::WithdrawRewards { validator: val.map(acct) }),
            Act::Unjail { who } => (*who, Payload::Unjail {}),
            Act::Transfer { who, to, amount } => {
                (*who, Payload::Transfer { to: acct(*to), amount: Amount::new(*amount) })
            }
        }
    }

    fn step(&mut self, plan: &Plan) -> Result<(), TestCaseError> {
        let h = self.height + 1;
        let t = self.time_ms + plan.dt_ms;
        let mut env = BlockEnv::new(CHAIN, Height(h), t);
        if h > 1 {
            env.last_commit = self
                .set_at(h - 1)
                .iter()
                .map(|m| {
                    let i = (0..N).find(|i| cons_key(*i) == m.consensus_key).unwrap();
                    VoteInfo { validator: m.consensus_key, power: m.power, signed: plan.signed & (1 << i) != 0 }
                })
                .collect();
        }
        if let Some((key, back)) = plan.evidence
            && h > 1
        {
            let infraction = (h - 1).saturating_sub(back).max(1);
            // The node only passes evidence it verified against that height's set.
            if let Some(m) = self.set_at(infraction).iter().find(|m| m.consensus_key == cons_key(key)) {
                env.misbehaviour.push(Misbehaviour {
                    validator: m.consensus_key,
                    height: Height(infraction),
                    power: m.power,
                });
            }
        }
        let totals_before = self.view().supply().unwrap().totals;
        let slashable = self.slashable();

        let txs: Vec<_> = plan.acts.iter().map(|a| self.payload(a)).collect();
        let mut exec = BlockExecutor::new(&self.store, &self.params, env);
        for (who, payload) in txs {
            let sender = acct(who);
            let a = exec.account(&sender).unwrap();
            if a.balance.get() < u128::from(GAS_LIMIT) {
                continue; // could not pay the fee: a proposer would not include it
            }
            let tx = TxBody {
                chain_id: CHAIN.into(),
                sender: PublicKey::from_signing_key(&acct_key(who)),
                nonce: a.nonce,
                gas_limit: GAS_LIMIT,
                gas_price: Amount::new(1),
                payload,
            }
            .sign(&acct_key(who))
            .verify()
            .unwrap();
            if let Err(e) = exec.execute(&tx) {
                return Err(TestCaseError::fail(format!("execution at height {h} returned an error: {e}")));
            }
        }
        let out = match exec.finish() {
            Ok(out) => out,
            Err(e) => return Err(TestCaseError::fail(format!("finishing height {h} failed: {e}"))),
        };
        self.store.commit(&out.diff);
        self.height = h;
        self.time_ms = t;
        if let Some(s) = &out.validator_updates {
            self.sets.push((h + 2, s.clone()));
        }

        // The staking invariants.
        let mut view = self.view();
        let bad = view.check_invariants(Amount::new(self.liquid())).unwrap();
        prop_assert!(bad.is_empty(), "height {}: {:?}", h, bad);

        // The supply moves only by minted − burned.
        let totals = view.supply().unwrap().totals;
        let minted = totals.minted.get() - totals_before.minted.get();
        let burned = totals.burned.get() - totals_before.burned.get();
        prop_assert_eq!(totals.supply.get() + burned, totals_before.supply.get() + minted);
        prop_assert_eq!(totals.supply.get() + totals.burned.get(), self.genesis_supply + totals.minted.get());

        // Every burn is a reported slash, and no slash exceeds the slashable stake.
        let mut slashed = 0u128;
        for e in out.events.iter().filter(|e| e.kind == "slash") {
            let get = |k: &str| e.attributes.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone()).unwrap();
            let amount: u128 = get("amount").parse().unwrap();
            let op: Address = get("validator").parse().unwrap();
            let bound = slashable.get(&op).copied().unwrap_or(0);
            prop_assert!(amount <= bound, "height {}: slash of {} burned {} > slashable {}", h, op, amount, bound);
            slashed += amount;
        }
        prop_assert_eq!(slashed, burned, "burned tokens not reported by slash events");

        // A new set is what the state says, within limits, of eligible validators.
        if let Some(s) = &out.validator_updates {
            prop_assert_eq!(s, &view.active_set().unwrap());
            prop_assert!(!s.is_empty() && s.len() <= self.params.staking.max_validators as usize);
            prop_assert!(s.windows(2).all(|w| w[0].consensus_key < w[1].consensus_key));
            for m in s {
                let v = view.validator(&m.operator).unwrap().unwrap();
                prop_assert!(!v.jailed && !v.tombstoned);
                prop_assert_eq!(m.power, v.power(self.params.staking.power_reduction));
                prop_assert_eq!(m.consensus_key, v.consensus_key);
            }
        }
        Ok(())
    }
}

/// 64 cases from a fixed seed, so every run checks the same sequences;
/// `PROPTEST_CASES` and `PROPTEST_RNG_SEED` override either for a deeper search.
fn config() -> ProptestConfig {
    let env = ProptestConfig::default();
    let set = |name: &str| std::env::var_os(name).is_some();
    ProptestConfig {
        cases: if set("PROPTEST_CASES") { env.cases } else { 64 },
        rng_seed: if set("PROPTEST_RNG_SEED") { env.rng_seed } else { RngSeed::Fixed(0x5EED_A60A) },
        failure_persistence: None,
        ..env
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn staking_keeps_its_invariants(plans in prop::collection::vec(arb_plan(), 40)) {
        let mut chain = Chain::new();
        let bad = chain.view().check_invariants(Amount::new(chain.liquid())).unwrap();
        prop_assert!(bad.is_empty(), "genesis: {:?}", bad);
        for plan in &plans {
            chain.step(plan)?;
        }
    }
}
