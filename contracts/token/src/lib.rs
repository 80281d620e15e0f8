//! Example contract: a fungible token.
//!
//! The instantiator is the owner: the only address allowed to mint. All
//! amounts are `u128` as decimal strings, arithmetic is checked and zero
//! amounts are refused (except `approve`, where 0 revokes an allowance).
//! Balances live in a `Map<Addr, u128>`, so `all_balances` pages through them
//! in address-byte order with the host's `storage_next`.
//!
//! Messages: see [`InstantiateMsg`], [`ExecuteMsg`], [`QueryMsg`].

use std::ops::Bound;

use agora_sdk::{Addr, ContractError, Item, Map, Response, Uint128, bail, caller, emit, ensure, entry_points};
use serde::{Deserialize, Serialize};

/// Longest page of `all_balances`.
pub const MAX_LIMIT: u32 = 100;
/// Page size of `all_balances` when no `limit` is given.
pub const DEFAULT_LIMIT: u32 = 30;
/// Largest `decimals`.
pub const MAX_DECIMALS: u8 = 18;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub name: String,
    pub symbol: String,
    pub decimals: u8,
    pub total_supply: Uint128,
}

const TOKEN_INFO: Item<TokenInfo> = Item::new("token_info");
const OWNER: Item<Addr> = Item::new("owner");
const BALANCES: Map<Addr, u128> = Map::new("balances");
/// `(owner, spender) -> amount`.
const ALLOWANCES: Map<(Addr, Addr), u128> = Map::new("allowances");

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    pub name: String,
    pub symbol: String,
    pub decimals: u8,
    #[serde(default)]
    pub initial_balances: Vec<InitialBalance>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitialBalance {
    pub address: Addr,
    pub amount: Uint128,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    Transfer {
        recipient: Addr,
        amount: Uint128,
    },
    /// Sets (replaces) the caller's allowance for `spender`; 0 revokes it.
    Approve {
        spender: Addr,
        amount: Uint128,
    },
    TransferFrom {
        owner: Addr,
        recipient: Addr,
        amount: Uint128,
    },
    Mint {
        recipient: Addr,
        amount: Uint128,
    },
    Burn {
        amount: Uint128,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    Balance { address: Addr },
    Allowance { owner: Addr, spender: Addr },
    TokenInfo {},
    Owner {},
    AllBalances { start_after: Option<Addr>, limit: Option<u32> },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceResponse {
    pub balance: Uint128,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowanceResponse {
    pub allowance: Uint128,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerResponse {
    pub owner: Addr,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllBalancesResponse {
    pub balances: Vec<InitialBalance>,
}

fn balance_of(addr: &Addr) -> Result<u128, ContractError> {
    Ok(BALANCES.may_load(addr)?.unwrap_or(0))
}

fn set_balance(addr: &Addr, amount: u128) -> Result<(), ContractError> {
    if amount == 0 {
        BALANCES.remove(addr);
        Ok(())
    } else {
        BALANCES.save(addr, &amount)
    }
}

fn nonzero(amount: Uint128) -> Result<u128, ContractError> {
    ensure!(!amount.is_zero(), "amount must be greater than zero");
    Ok(amount.u128())
}

fn debit(addr: &Addr, amount: u128) -> Result<(), ContractError> {
    let have = balance_of(addr)?;
    let Some(left) = have.checked_sub(amount) else { bail!("insufficient balance: have {have}, need {amount}") };
    set_balance(addr, left)
}

fn credit(addr: &Addr, amount: u128) -> Result<(), ContractError> {
    let have = balance_of(addr)?;
    let new = have.checked_add(amount).ok_or_else(|| format!("balance overflow for {addr}"))?;
    set_balance(addr, new)
}

fn move_tokens(from: &Addr, to: &Addr, amount: u128) -> Result<(), ContractError> {
    debit(from, amount)?;
    credit(to, amount)
}

fn add_supply(info: &mut TokenInfo, amount: u128) -> Result<(), ContractError> {
    info.total_supply = info.total_supply.checked_add(amount).ok_or("total supply overflow")?;
    Ok(())
}

pub fn instantiate(msg: InstantiateMsg) -> Result<Response, ContractError> {
    let name_len = msg.name.chars().count();
    ensure!((1..=64).contains(&name_len), "name must be 1 to 64 characters, got {name_len}");
    let symbol_ok = (2..=12).contains(&msg.symbol.len()) && msg.symbol.bytes().all(|b| b.is_ascii_alphanumeric());
    ensure!(symbol_ok, "symbol must be 2 to 12 ASCII letters or digits, got `{}`", msg.symbol);
    ensure!(msg.decimals <= MAX_DECIMALS, "decimals must be at most {MAX_DECIMALS}, got {}", msg.decimals);

    let mut info =
        TokenInfo { name: msg.name, symbol: msg.symbol, decimals: msg.decimals, total_supply: Uint128::ZERO };
    for b in &msg.initial_balances {
        let amount = nonzero(b.amount)?;
        ensure!(!BALANCES.has(&b.address), "duplicate address in initial_balances: {}", b.address);
        add_supply(&mut info, amount)?;
        BALANCES.save(&b.address, &amount)?;
        emit("mint", &[("to", &b.address.to_string()), ("amount", &amount.to_string())]);
    }
    TOKEN_INFO.save(&info)?;
    OWNER.save(&caller())?;
    Ok(Response::new())
}

pub fn execute(msg: ExecuteMsg) -> Result<Response, ContractError> {
    let sender = caller();
    match msg {
        ExecuteMsg::Transfer { recipient, amount } => {
            let amount = nonzero(amount)?;
            move_tokens(&sender, &recipient, amount)?;
            emit(
                "transfer",
                &[("from", &sender.to_string()), ("to", &recipient.to_string()), ("amount", &amount.to_string())],
            );
        }
        ExecuteMsg::Approve { spender, amount } => {
            ensure!(spender != sender, "cannot set an allowance for yourself");
            if amount.is_zero() {
                ALLOWANCES.remove(&(sender, spender));
            } else {
                ALLOWANCES.save(&(sender, spender), &amount.u128())?;
            }
            emit(
                "approve",
                &[("owner", &sender.to_string()), ("spender", &spender.to_string()), ("amount", &amount.to_string())],
            );
        }
        ExecuteMsg::TransferFrom { owner, recipient, amount } => {
            let amount = nonzero(amount)?;
            let key = (owner, sender);
            let allowed = ALLOWANCES.may_load(&key)?.unwrap_or(0);
            let Some(left) = allowed.checked_sub(amount) else {
                bail!("allowance exceeded: {sender} may spend {allowed} of {owner}'s tokens, needs {amount}")
            };
            if left == 0 {
                ALLOWANCES.remove(&key);
            } else {
                ALLOWANCES.save(&key, &left)?;
            }
            move_tokens(&owner, &recipient, amount)?;
            emit(
                "transfer",
                &[
                    ("from", &owner.to_string()),
                    ("to", &recipient.to_string()),
                    ("amount", &amount.to_string()),
                    ("by", &sender.to_string()),
                ],
            );
        }
        ExecuteMsg::Mint { recipient, amount } => {
            ensure!(sender == OWNER.load()?, "only the owner can mint");
            let amount = nonzero(amount)?;
            let mut info = TOKEN_INFO.load()?;
            add_supply(&mut info, amount)?;
            credit(&recipient, amount)?;
            TOKEN_INFO.save(&info)?;
            emit("mint", &[("to", &recipient.to_string()), ("amount", &amount.to_string())]);
        }
        ExecuteMsg::Burn { amount } => {
            let amount = nonzero(amount)?;
            debit(&sender, amount)?;
            let mut info = TOKEN_INFO.load()?;
            // Cannot underflow: the supply is the sum of all balances.
            info.total_supply = info.total_supply.checked_sub(amount).ok_or("total supply underflow")?;
            TOKEN_INFO.save(&info)?;
            emit("burn", &[("from", &sender.to_string()), ("amount", &amount.to_string())]);
        }
    }
    Ok(Response::new())
}

pub fn query(msg: QueryMsg) -> Result<Vec<u8>, ContractError> {
    match msg {
        QueryMsg::Balance { address } => {
            agora_sdk::to_json_vec(&BalanceResponse { balance: Uint128(balance_of(&address)?) })
        }
        QueryMsg::Allowance { owner, spender } => {
            let allowance = ALLOWANCES.may_load(&(owner, spender))?.unwrap_or(0);
            agora_sdk::to_json_vec(&AllowanceResponse { allowance: Uint128(allowance) })
        }
        QueryMsg::TokenInfo {} => agora_sdk::to_json_vec(&TOKEN_INFO.load()?),
        QueryMsg::Owner {} => agora_sdk::to_json_vec(&OwnerResponse { owner: OWNER.load()? }),
        QueryMsg::AllBalances { start_after, limit } => {
            let limit = limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT) as usize;
            let start = start_after.as_ref().map_or(Bound::Unbounded, Bound::Excluded);
            let balances = BALANCES
                .range(start, Bound::Unbounded)
                .take(limit)
                .map(|r| r.map(|(address, amount)| InitialBalance { address, amount: Uint128(amount) }))
                .collect::<Result<Vec<_>, _>>()?;
            agora_sdk::to_json_vec(&AllBalancesResponse { balances })
        }
    }
}

entry_points!(instantiate, execute, query);

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use agora_sdk::testing::{MockHost, mock_addr};
    use serde_json::json;

    struct T {
        host: MockHost,
        me: Addr,
        owner: Addr,
        alice: Addr,
        bob: Addr,
    }

    fn setup() -> T {
        let host = MockHost::new();
        let (me, owner, alice, bob) = (mock_addr("token"), mock_addr("owner"), mock_addr("alice"), mock_addr("bob"));
        host.instantiate_json(
            mock_contract(),
            me,
            owner,
            0,
            &json!({
                "name": "Agora Test Token",
                "symbol": "ATT",
                "decimals": 6,
                "initial_balances": [
                    {"address": alice, "amount": "1000"},
                    {"address": bob, "amount": "1"},
                ],
            }),
        )
        .unwrap();
        T { host, me, owner, alice, bob }
    }

    impl T {
        fn balance(&self, a: Addr) -> u128 {
            let r: BalanceResponse = self.host.query_json(self.me, &json!({"balance": {"address": a}})).unwrap();
            r.balance.u128()
        }
        fn allowance(&self, owner: Addr, spender: Addr) -> u128 {
            let r: AllowanceResponse =
                self.host.query_json(self.me, &json!({"allowance": {"owner": owner, "spender": spender}})).unwrap();
            r.allowance.u128()
        }
        fn exec(&self, sender: Addr, msg: serde_json::Value) -> Result<Vec<u8>, String> {
            self.host.execute_json(self.me, sender, 0, &msg)
        }
        fn supply(&self) -> u128 {
            let info: TokenInfo = self.host.query_json(self.me, &json!({"token_info": {}})).unwrap();
            info.total_supply.u128()
        }
    }

    #[test]
    fn instantiate_sets_balances_owner_and_info() {
        let t = setup();
        assert_eq!((t.balance(t.alice), t.balance(t.bob), t.balance(t.owner)), (1000, 1, 0));
        let info = t.host.query(t.me, br#"{"token_info":{}}"#).unwrap();
        assert_eq!(
            String::from_utf8(info).unwrap(),
            r#"{"name":"Agora Test Token","symbol":"ATT","decimals":6,"total_supply":"1001"}"#
        );
        let owner: OwnerResponse = t.host.query_json(t.me, &json!({"owner": {}})).unwrap();
        assert_eq!(owner.owner, t.owner);
        let raw = t.host.query_json::<_, serde_json::Value>(t.me, &json!({"balance": {"address": t.alice}})).unwrap();
        assert_eq!(raw, json!({"balance": "1000"}));
        let mints: Vec<_> = t.host.events().into_iter().filter(|e| e.kind == "mint").collect();
        assert_eq!(mints.len(), 2);
    }

    #[test]
    fn instantiate_validation() {
        let host = MockHost::new();
        let me = mock_addr("token");
        let base = json!({"name": "N", "symbol": "SYM", "decimals": 6, "initial_balances": []});
        let mut cases = Vec::new();
        let mut m = base.clone();
        m["symbol"] = json!("S");
        cases.push((m, "symbol must be 2 to 12"));
        let mut m = base.clone();
        m["decimals"] = json!(19);
        cases.push((m, "decimals must be at most 18"));
        let mut m = base.clone();
        m["initial_balances"] = json!([{"address": mock_addr("a"), "amount": "0"}]);
        cases.push((m, "amount must be greater than zero"));
        let mut m = base.clone();
        m["initial_balances"] =
            json!([{"address": mock_addr("a"), "amount": "1"}, {"address": mock_addr("a"), "amount": "2"}]);
        cases.push((m, "duplicate address in initial_balances"));
        let mut m = base.clone();
        m["initial_balances"] = json!([
            {"address": mock_addr("a"), "amount": u128::MAX.to_string()},
            {"address": mock_addr("b"), "amount": "1"}
        ]);
        cases.push((m, "total supply overflow"));
        let mut m = base.clone();
        m["initial_balances"] = json!([{"address": "agora1notanaddress", "amount": "1"}]);
        cases.push((m, "invalid message: invalid address"));
        for (msg, want) in cases {
            let err = host.instantiate_json(mock_contract(), me, mock_addr("o"), 0, &msg).unwrap_err();
            assert!(err.contains(want), "{msg}: {err}");
            assert!(host.storage(me).is_empty());
        }
    }

    #[test]
    fn transfer() {
        let t = setup();
        t.host.take_events();
        t.exec(t.alice, json!({"transfer": {"recipient": t.bob, "amount": "400"}})).unwrap();
        assert_eq!((t.balance(t.alice), t.balance(t.bob)), (600, 401));
        let ev = t.host.take_events();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].kind, "transfer");
        assert_eq!(
            ev[0].attributes,
            vec![
                ("from".to_string(), t.alice.to_string()),
                ("to".to_string(), t.bob.to_string()),
                ("amount".to_string(), "400".to_string()),
            ]
        );
        let err = t.exec(t.alice, json!({"transfer": {"recipient": t.bob, "amount": "601"}})).unwrap_err();
        assert_eq!(err, "insufficient balance: have 600, need 601");
        let err = t.exec(t.alice, json!({"transfer": {"recipient": t.bob, "amount": "0"}})).unwrap_err();
        assert_eq!(err, "amount must be greater than zero");
        let err = t.exec(t.alice, json!({"transfer": {"recipient": t.bob, "amount": "-1"}})).unwrap_err();
        assert!(err.contains("not a whole non-negative number"), "{err}");
        // Whole balance out: the entry is removed.
        t.exec(t.bob, json!({"transfer": {"recipient": t.alice, "amount": "401"}})).unwrap();
        assert_eq!(t.balance(t.bob), 0);
        assert!(!t.host.storage(t.me).keys().any(|k| k.ends_with(t.bob.as_bytes())));
        // Self-transfer is a no-op.
        t.exec(t.alice, json!({"transfer": {"recipient": t.alice, "amount": "5"}})).unwrap();
        assert_eq!(t.balance(t.alice), 1001);
        assert_eq!(t.supply(), 1001);
    }

    #[test]
    fn approve_and_transfer_from() {
        let t = setup();
        let carol = mock_addr("carol");
        let err = t.exec(t.bob, json!({"transfer_from": {"owner": t.alice, "recipient": carol, "amount": "1"}}));
        assert!(err.unwrap_err().starts_with("allowance exceeded"));
        t.exec(t.alice, json!({"approve": {"spender": t.bob, "amount": "300"}})).unwrap();
        assert_eq!(t.allowance(t.alice, t.bob), 300);
        assert_eq!(t.allowance(t.bob, t.alice), 0);
        t.exec(t.bob, json!({"transfer_from": {"owner": t.alice, "recipient": carol, "amount": "100"}})).unwrap();
        assert_eq!((t.balance(t.alice), t.balance(carol), t.allowance(t.alice, t.bob)), (900, 100, 200));
        let err = t
            .exec(t.bob, json!({"transfer_from": {"owner": t.alice, "recipient": carol, "amount": "201"}}))
            .unwrap_err();
        assert_eq!(err, format!("allowance exceeded: {} may spend 200 of {}'s tokens, needs 201", t.bob, t.alice));
        // Approve replaces; the owner's balance still limits.
        t.exec(t.alice, json!({"approve": {"spender": t.bob, "amount": "5000"}})).unwrap();
        let err = t
            .exec(t.bob, json!({"transfer_from": {"owner": t.alice, "recipient": carol, "amount": "901"}}))
            .unwrap_err();
        assert_eq!(err, "insufficient balance: have 900, need 901");
        assert_eq!(t.allowance(t.alice, t.bob), 5000, "failed call reverted the allowance change");
        // Approve 0 revokes.
        t.exec(t.alice, json!({"approve": {"spender": t.bob, "amount": "0"}})).unwrap();
        assert_eq!(t.allowance(t.alice, t.bob), 0);
        let err = t.exec(t.alice, json!({"approve": {"spender": t.alice, "amount": "1"}})).unwrap_err();
        assert_eq!(err, "cannot set an allowance for yourself");
        assert!(t.host.events().iter().any(|e| e.kind == "approve" && e.attr("amount") == Some("5000")));
    }

    #[test]
    fn mint_and_burn() {
        let t = setup();
        let err = t.exec(t.alice, json!({"mint": {"recipient": t.alice, "amount": "1"}})).unwrap_err();
        assert_eq!(err, "only the owner can mint");
        t.exec(t.owner, json!({"mint": {"recipient": t.bob, "amount": "99"}})).unwrap();
        assert_eq!((t.balance(t.bob), t.supply()), (100, 1100));
        let err = t.exec(t.owner, json!({"mint": {"recipient": t.bob, "amount": u128::MAX.to_string()}})).unwrap_err();
        assert_eq!(err, "total supply overflow");
        t.exec(t.bob, json!({"burn": {"amount": "60"}})).unwrap();
        assert_eq!((t.balance(t.bob), t.supply()), (40, 1040));
        let err = t.exec(t.bob, json!({"burn": {"amount": "41"}})).unwrap_err();
        assert_eq!(err, "insufficient balance: have 40, need 41");
        let kinds: Vec<String> = t.host.events().into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["mint", "mint", "mint", "burn"]);
    }

    #[test]
    fn all_balances_pages_in_address_order() {
        let t = setup();
        let mut holders: Vec<Addr> = (0..150).map(|i| mock_addr(&format!("holder{i}"))).collect();
        for h in &holders {
            t.exec(t.owner, json!({"mint": {"recipient": h, "amount": "7"}})).unwrap();
        }
        holders.push(t.alice);
        holders.push(t.bob);
        holders.sort();

        let page = |start_after: Option<Addr>, limit: Option<u32>| -> Vec<Addr> {
            let r: AllBalancesResponse = t
                .host
                .query_json(t.me, &json!({"all_balances": {"start_after": start_after, "limit": limit}}))
                .unwrap();
            r.balances.into_iter().map(|b| b.address).collect()
        };
        assert_eq!(page(None, None), holders[..30]);
        assert_eq!(page(None, Some(1000)), holders[..100], "limit is capped at 100");
        assert_eq!(page(Some(holders[99]), Some(100)), holders[100..]);
        assert_eq!(page(Some(holders[151]), None), Vec::<Addr>::new());
        assert_eq!(page(None, Some(0)), Vec::<Addr>::new());
        // Walk all pages.
        let mut seen = Vec::new();
        let mut start = None;
        loop {
            let p = page(start, Some(7));
            let Some(last) = p.last().copied() else { break };
            seen.extend(p);
            start = Some(last);
        }
        assert_eq!(seen, holders);
        let raw = t.host.query(t.me, br#"{"all_balances":{"limit":1}}"#).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(v["balances"][0]["address"], json!(holders[0].to_string()));
        assert!(v["balances"][0]["amount"].is_string());
    }

    #[test]
    fn unknown_messages() {
        let t = setup();
        let err = t.exec(t.alice, json!({"steal": {}})).unwrap_err();
        assert!(
            err.starts_with(
                "invalid message: unknown variant `steal`, expected one of `transfer`, `approve`, `transfer_from`, `mint`, `burn`"
            ),
            "{err}"
        );
        let err = t.host.query(t.me, br#"{"balance":{}}"#).unwrap_err();
        assert!(err.contains("missing field `address`"), "{err}");
    }
}
