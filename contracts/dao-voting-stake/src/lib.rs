//! DAO voting module: voting power is **bonded native stake**.
//!
//! An address's power at height `h` is what it had bonded to validators (the
//! sum of its delegations) at the end of block `h`, read from the chain with
//! [`agora_sdk::bonded_stake_at`]; the total is
//! [`agora_sdk::total_bonded_at`]. Nothing is stored but the DAO, so there is
//! nothing to stake here and no `execute` entry point (the chain refuses
//! execute calls to this module with "no execute entry point").
//!
//! Power is only read at past heights (snapshots): a proposal module asks for
//! the block before the proposal was created, so stake bonded in the creation
//! block or later — flash-loaned or not — counts nothing. A height whose end
//! state is not committed yet is refused (see [`check_height`]); a height
//! older than the chain's stake history window (`contracts.stake_history_blocks`)
//! fails with the chain's error.
//!
//! Messages:
//! * instantiate `{}` — by the DAO core; `caller()` is stored as the DAO.
//! * query [`dao_types::VotingQuery`]: `voting_power_at_height {address, height}`
//!   and `total_power_at_height {height}` → [`PowerResponse`] `{"power":"…","height":n}`,
//!   `dao {}` → [`DaoResponse`], `info {}` → [`InfoResponse`]
//!   `{"kind":"dao-voting-stake","version":"1"}`.

use agora_sdk::{Addr, ContractError, Item, Response, Uint128, bonded_stake_at, caller, entry_points, total_bonded_at};
use dao_types::{DaoResponse, InfoResponse, PowerResponse, VotingQuery};
use serde::{Deserialize, Serialize};

/// The module kind reported by `info`.
pub const KIND: &str = "dao-voting-stake";
/// The module version reported by `info`.
pub const VERSION: &str = "1";

const DAO: Item<Addr> = Item::new("dao");

/// `{}`: the module has no settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {}

pub use dao_types::check_past_height as check_height;

pub fn instantiate(_msg: InstantiateMsg) -> Result<Response, ContractError> {
    DAO.save(&caller())?;
    Ok(Response::new())
}

pub fn query(msg: VotingQuery) -> Result<Vec<u8>, ContractError> {
    match msg {
        VotingQuery::VotingPowerAtHeight { address, height } => {
            check_height(height)?;
            let power = bonded_stake_at(&address, height).map_err(ContractError::new)?;
            agora_sdk::to_json_vec(&PowerResponse { power: Uint128(power), height })
        }
        VotingQuery::VotingPowersAtHeights { address, heights } => {
            dao_types::powers_at(&heights, |h| bonded_stake_at(&address, h).map_err(ContractError::new))
        }
        VotingQuery::TotalPowerAtHeight { height } => {
            check_height(height)?;
            let power = total_bonded_at(height).map_err(ContractError::new)?;
            agora_sdk::to_json_vec(&PowerResponse { power: Uint128(power), height })
        }
        VotingQuery::Dao {} => agora_sdk::to_json_vec(&DaoResponse { dao: DAO.load()? }),
        VotingQuery::Info {} => {
            agora_sdk::to_json_vec(&InfoResponse { kind: KIND.to_owned(), version: VERSION.to_owned() })
        }
    }
}

entry_points!(instantiate: instantiate, query: query, migrate: dao_types::migrate);

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use agora_sdk::query_contract;
    use agora_sdk::testing::{MockContract, MockHost, mock_addr};
    use serde_json::json;

    struct T {
        host: MockHost,
        me: Addr,
        dao: Addr,
        alice: Addr,
        /// A contract whose `execute` forwards its message as a query to the
        /// module and returns the answer: the module queried in a transaction.
        prober: Addr,
    }

    fn setup() -> T {
        let host = MockHost::new();
        let (me, dao, alice, prober) = (mock_addr("voting"), mock_addr("dao"), mock_addr("alice"), mock_addr("prober"));
        host.instantiate(mock_contract(), me, dao, 0, b"{}").unwrap();
        host.register(prober, MockContract::new().execute(move |msg| query_contract(&me, msg)));
        T { host, me, dao, alice, prober }
    }

    impl T {
        fn query(&self, msg: serde_json::Value) -> Result<serde_json::Value, String> {
            self.host.query_json(self.me, &msg)
        }
        /// The same query made by a contract during a transaction.
        fn query_in_tx(&self, msg: serde_json::Value) -> Result<serde_json::Value, String> {
            let data = self.host.execute_json(self.prober, self.alice, 0, &msg)?;
            Ok(serde_json::from_slice(&data).unwrap())
        }
        fn power(&self, who: Addr, height: u64) -> Result<serde_json::Value, String> {
            self.query(json!({"voting_power_at_height": {"address": who, "height": height}}))
        }
        fn total(&self, height: u64) -> Result<serde_json::Value, String> {
            self.query(json!({"total_power_at_height": {"height": height}}))
        }
    }

    #[test]
    fn instantiate_stores_the_dao_and_refuses_settings() {
        let t = setup();
        assert_eq!(t.query(json!({"dao": {}})).unwrap(), json!({"dao": t.dao.to_string()}));
        assert_eq!(t.query(json!({"info": {}})).unwrap(), json!({"kind": "dao-voting-stake", "version": "1"}));
        let other = mock_addr("other");
        let err = t.host.instantiate(mock_contract(), other, t.dao, 0, br#"{"token":"x"}"#).unwrap_err();
        assert!(err.starts_with("invalid message: unknown field `token`"), "{err}");
        assert!(t.host.storage(other).is_empty());
        let err = t.host.instantiate(mock_contract(), other, t.dao, 0, b"null").unwrap_err();
        assert!(err.starts_with("invalid message:"), "{err}");
    }

    #[test]
    fn power_is_the_bonded_stake_at_the_snapshot_height() {
        let t = setup();
        let bob = mock_addr("bob");
        t.host.set_bonded_stake(t.alice, 3, 100);
        t.host.set_bonded_stake(t.alice, 6, 250);
        t.host.set_bonded_stake(bob, 5, 40);
        t.host.set_total_bonded(3, 100);
        t.host.set_total_bonded(5, 140);
        t.host.set_total_bonded(6, 290);
        t.host.set_block_height(10);
        let powers: Vec<String> =
            (0..=7).map(|h| t.power(t.alice, h).unwrap()["power"].as_str().unwrap().to_owned()).collect();
        assert_eq!(powers, ["0", "0", "0", "100", "100", "100", "250", "250"]);
        assert_eq!(t.power(bob, 4).unwrap(), json!({"power": "0", "height": 4}));
        assert_eq!(t.power(bob, 5).unwrap(), json!({"power": "40", "height": 5}));
        let totals: Vec<String> = (2..=6).map(|h| t.total(h).unwrap()["power"].as_str().unwrap().to_owned()).collect();
        assert_eq!(totals, ["0", "100", "100", "140", "290"]);
        assert_eq!(t.power(mock_addr("nobody"), 9).unwrap(), json!({"power": "0", "height": 9}));
    }

    #[test]
    fn stake_bonded_after_the_snapshot_is_not_counted() {
        let t = setup();
        // A proposal created at block 8 reads height 7; the attacker bonds in block 8.
        t.host.set_bonded_stake(t.alice, 2, 10);
        t.host.set_bonded_stake(t.alice, 8, 1_000_000);
        t.host.set_total_bonded(2, 10);
        t.host.set_total_bonded(8, 1_000_010);
        t.host.set_block_height(8);
        let ask = json!({"voting_power_at_height": {"address": t.alice, "height": 7}});
        assert_eq!(t.query_in_tx(ask.clone()).unwrap(), json!({"power": "10", "height": 7}));
        assert_eq!(t.query_in_tx(json!({"total_power_at_height": {"height": 7}})).unwrap()["power"], "10");
        t.host.set_block_height(20);
        assert_eq!(t.query_in_tx(ask).unwrap(), json!({"power": "10", "height": 7}));
        assert_eq!(t.power(t.alice, 8).unwrap()["power"], "1000000");
    }

    #[test]
    fn heights_not_committed_yet_are_refused() {
        let t = setup();
        t.host.set_bonded_stake(t.alice, 1, 5);
        t.host.set_total_bonded(1, 5);
        t.host.set_block_height(10);
        // In a transaction, block 10 is being executed: 9 is the last readable block.
        let at = |h: u64| json!({"voting_power_at_height": {"address": t.alice, "height": h}});
        assert_eq!(t.query_in_tx(at(9)).unwrap(), json!({"power": "5", "height": 9}));
        for h in [10, 11, u64::MAX] {
            let err = t.query_in_tx(at(h)).unwrap_err();
            assert_eq!(
                err,
                format!(
                    "height {h} is not a committed block yet (the last one is 9): voting power is only read at past heights"
                )
            );
            let err = t.query_in_tx(json!({"total_power_at_height": {"height": h}})).unwrap_err();
            assert!(err.starts_with(&format!("height {h} is not a committed block yet (the last one is 9)")), "{err}");
        }
        // In an RPC query, block 10 is the last committed block.
        assert_eq!(t.power(t.alice, 10).unwrap(), json!({"power": "5", "height": 10}));
        assert_eq!(t.total(10).unwrap(), json!({"power": "5", "height": 10}));
        let err = t.power(t.alice, 11).unwrap_err();
        assert!(err.starts_with("height 11 is not a committed block yet (the last one is 10)"), "{err}");
        assert!(t.total(11).unwrap_err().starts_with("height 11 is not a committed block yet"));
    }

    #[test]
    fn heights_outside_the_chain_history_window_fail_with_the_chain_error() {
        let t = setup();
        t.host.set_bonded_stake(t.alice, 1, 5);
        t.host.set_total_bonded(1, 5);
        t.host.set_stake_history_blocks(100);
        t.host.set_block_height(1000);
        assert_eq!(t.power(t.alice, 900).unwrap(), json!({"power": "5", "height": 900}));
        assert_eq!(t.total(900).unwrap(), json!({"power": "5", "height": 900}));
        let err = t.power(t.alice, 899).unwrap_err();
        assert_eq!(err, "height 899 is older than the chain's 100-block stake history");
        assert_eq!(t.total(0).unwrap_err(), "height 0 is older than the chain's 100-block stake history");
        let err = t.query_in_tx(json!({"voting_power_at_height": {"address": t.alice, "height": 5}})).unwrap_err();
        assert_eq!(err, "height 5 is older than the chain's 100-block stake history");
    }

    #[test]
    fn powers_at_several_heights_in_one_call() {
        let t = setup();
        t.host.set_bonded_stake(t.alice, 1, 5);
        t.host.set_bonded_stake(t.alice, 950, 7);
        t.host.set_stake_history_blocks(100);
        t.host.set_block_height(1000);
        let q = |heights: serde_json::Value| {
            t.query_in_tx(json!({"voting_powers_at_heights": {"address": t.alice, "heights": heights}}))
        };
        // Beyond the stake history: null, not an error (a report's look-back).
        assert_eq!(q(json!([999, 950, 949, 5])).unwrap(), json!({"powers": ["7", "7", "5", null]}));
        assert!(q(json!([])).unwrap_err().contains("1 to 4 heights"));
        assert!(q(json!([1, 2, 3, 4, 5])).unwrap_err().contains("1 to 4 heights"));
        assert!(q(json!([1000])).unwrap_err().contains("not a committed block"));
    }

    #[test]
    fn hostile_queries_and_no_execute() {
        let t = setup();
        t.host.set_bonded_stake(t.alice, 1, u128::MAX);
        t.host.set_total_bonded(1, u128::MAX);
        t.host.set_block_height(3);
        let max = u128::MAX.to_string();
        assert_eq!(t.power(t.alice, 2).unwrap(), json!({"power": max, "height": 2}));
        for (msg, want) in [
            (json!({"voting_power_at_height": {"address": t.alice}}), "missing field `height`"),
            (json!({"voting_power_at_height": {"address": "agora1xyz", "height": 1}}), "invalid address"),
            (json!({"total_power_at_height": {"height": -1}}), "invalid value"),
            (json!({"total_power_at_height": {"height": 1, "extra": 1}}), "unknown field `extra`"),
            (json!({"staked": {}}), "unknown variant `staked`"),
        ] {
            let err = t.query(msg.clone()).unwrap_err();
            assert!(err.starts_with("invalid message:") && err.contains(want), "{msg}: {err}");
        }
        let err = t.host.execute(t.me, t.alice, 0, b"{}").unwrap_err();
        assert_eq!(err, format!("contract {} has no `execute` entry point", t.me));
        // Every `VotingQuery` is understood.
        for q in [
            VotingQuery::VotingPowerAtHeight { address: t.alice, height: 1 },
            VotingQuery::TotalPowerAtHeight { height: 1 },
            VotingQuery::Dao {},
            VotingQuery::Info {},
        ] {
            t.host.query_json::<_, serde_json::Value>(t.me, &q).unwrap();
        }
    }
}
