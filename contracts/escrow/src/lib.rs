//! Example contract: a native-token escrow.
//!
//! The instantiator (the `source`) attaches the escrowed funds. The `arbiter`
//! can `approve` before expiry, sending the contract's whole native balance to
//! the `recipient`; `refund` sends it back to the source — by the arbiter at
//! any time, by anyone once expired. Expired means `block_height >=
//! expires_at_height`; without `expires_at_height` the escrow never expires.
//!
//! Messages: see [`InstantiateMsg`], [`ExecuteMsg`], [`QueryMsg`].

use agora_sdk::{
    Addr, ContractError, Item, Json, Response, Uint128, bail, balance, block_height, caller, emit, ensure,
    entry_points, funds, self_address, transfer,
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub source: Addr,
    pub arbiter: Addr,
    pub recipient: Addr,
    pub expires_at_height: Option<u64>,
}

impl Config {
    fn is_expired(&self, height: u64) -> bool {
        self.expires_at_height.is_some_and(|h| height >= h)
    }
}

const CONFIG: Item<Config> = Item::new("config");

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    pub arbiter: Addr,
    pub recipient: Addr,
    #[serde(default)]
    pub expires_at_height: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    Approve {},
    Refund {},
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    Config {},
    Balance {},
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceResponse {
    pub balance: Uint128,
}

/// Result data of `approve` and `refund`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutResponse {
    pub to: Addr,
    pub amount: Uint128,
}

pub fn instantiate(msg: InstantiateMsg) -> Result<Response, ContractError> {
    let amount = funds();
    ensure!(amount > 0, "an escrow needs funds: attach the amount to escrow");
    let height = block_height();
    if let Some(h) = msg.expires_at_height {
        ensure!(h > height, "expires_at_height {h} is not in the future (current height {height})");
    }
    let config = Config {
        source: caller(),
        arbiter: msg.arbiter,
        recipient: msg.recipient,
        expires_at_height: msg.expires_at_height,
    };
    CONFIG.save(&config)?;
    emit(
        "escrow",
        &[
            ("action", "create"),
            ("source", &config.source.to_string()),
            ("arbiter", &config.arbiter.to_string()),
            ("recipient", &config.recipient.to_string()),
            ("amount", &amount.to_string()),
        ],
    );
    Ok(Response::new())
}

/// Sends the whole native balance of the contract to `to`.
fn pay_out(action: &str, to: Addr) -> Result<Response, ContractError> {
    let amount = balance(&self_address());
    ensure!(amount > 0, "the escrow is empty");
    transfer(&to, amount)?;
    emit("escrow", &[("action", action), ("to", &to.to_string()), ("amount", &amount.to_string())]);
    Response::new().with_json(&PayoutResponse { to, amount: Uint128(amount) })
}

pub fn execute(msg: ExecuteMsg) -> Result<Response, ContractError> {
    let config = CONFIG.load()?;
    let sender = caller();
    let height = block_height();
    match msg {
        ExecuteMsg::Approve {} => {
            ensure!(sender == config.arbiter, "only the arbiter can approve");
            if let Some(h) = config.expires_at_height {
                ensure!(
                    height < h,
                    "the escrow expired at height {h} (current height {height}); it can only be refunded"
                );
            }
            pay_out("approve", config.recipient)
        }
        ExecuteMsg::Refund {} => {
            if sender != config.arbiter && !config.is_expired(height) {
                match config.expires_at_height {
                    Some(h) => {
                        bail!("only the arbiter can refund before expiry at height {h} (current height {height})")
                    }
                    None => bail!("only the arbiter can refund (the escrow has no expiry)"),
                }
            }
            pay_out("refund", config.source)
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum QueryResponse {
    Config(Config),
    Balance(BalanceResponse),
}

pub fn query(msg: QueryMsg) -> Result<Json<QueryResponse>, ContractError> {
    Ok(Json(match msg {
        QueryMsg::Config {} => QueryResponse::Config(CONFIG.load()?),
        QueryMsg::Balance {} => QueryResponse::Balance(BalanceResponse { balance: Uint128(balance(&self_address())) }),
    }))
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
        source: Addr,
        arbiter: Addr,
        recipient: Addr,
    }

    fn setup(expires: Option<u64>) -> T {
        let host = MockHost::new();
        let (me, source, arbiter, recipient) =
            (mock_addr("escrow"), mock_addr("source"), mock_addr("arbiter"), mock_addr("recipient"));
        host.set_balance(source, 1_000);
        host.set_block_height(10);
        host.instantiate_json(
            mock_contract(),
            me,
            source,
            600,
            &json!({"arbiter": arbiter, "recipient": recipient, "expires_at_height": expires}),
        )
        .unwrap();
        T { host, me, source, arbiter, recipient }
    }

    fn exec(t: &T, sender: Addr, msg: &str) -> Result<Vec<u8>, String> {
        t.host.execute(t.me, sender, 0, msg.as_bytes())
    }

    #[test]
    fn instantiate_requires_funds_and_future_expiry() {
        let host = MockHost::new();
        let (me, src) = (mock_addr("escrow"), mock_addr("source"));
        host.set_balance(src, 10);
        host.set_block_height(10);
        let msg = json!({"arbiter": mock_addr("a"), "recipient": mock_addr("r")});
        let err = host.instantiate_json(mock_contract(), me, src, 0, &msg).unwrap_err();
        assert_eq!(err, "an escrow needs funds: attach the amount to escrow");
        let msg = json!({"arbiter": mock_addr("a"), "recipient": mock_addr("r"), "expires_at_height": 10});
        let err = host.instantiate_json(mock_contract(), me, src, 5, &msg).unwrap_err();
        assert_eq!(err, "expires_at_height 10 is not in the future (current height 10)");
        assert_eq!((host.balance(src), host.balance(me)), (10, 0), "failed instantiate refunded");
    }

    #[test]
    fn approve_pays_the_recipient() {
        let t = setup(Some(20));
        let cfg: Config = t.host.query_json(t.me, &json!({"config": {}})).unwrap();
        assert_eq!(
            cfg,
            Config { source: t.source, arbiter: t.arbiter, recipient: t.recipient, expires_at_height: Some(20) }
        );
        let bal: BalanceResponse = t.host.query_json(t.me, &json!({"balance": {}})).unwrap();
        assert_eq!(bal.balance, Uint128(600));

        assert_eq!(exec(&t, t.source, r#"{"approve":{}}"#).unwrap_err(), "only the arbiter can approve");
        let out = exec(&t, t.arbiter, r#"{"approve":{}}"#).unwrap();
        let payout: PayoutResponse = serde_json::from_slice(&out).unwrap();
        assert_eq!(payout, PayoutResponse { to: t.recipient, amount: Uint128(600) });
        assert_eq!((t.host.balance(t.recipient), t.host.balance(t.me), t.host.balance(t.source)), (600, 0, 400));
        assert_eq!(exec(&t, t.arbiter, r#"{"approve":{}}"#).unwrap_err(), "the escrow is empty");
        let ev = t.host.events();
        assert_eq!(ev.last().unwrap().attr("action"), Some("approve"));
    }

    #[test]
    fn refund_rules() {
        let t = setup(Some(20));
        let err = exec(&t, t.source, r#"{"refund":{}}"#).unwrap_err();
        assert_eq!(err, "only the arbiter can refund before expiry at height 20 (current height 10)");
        t.host.set_block_height(20);
        let err = exec(&t, t.arbiter, r#"{"approve":{}}"#).unwrap_err();
        assert!(err.starts_with("the escrow expired at height 20"), "{err}");
        // Anyone can trigger the refund once expired; it goes to the source.
        exec(&t, mock_addr("anyone"), r#"{"refund":{}}"#).unwrap();
        assert_eq!((t.host.balance(t.source), t.host.balance(t.me)), (1_000, 0));

        let t = setup(None);
        let err = exec(&t, t.recipient, r#"{"refund":{}}"#).unwrap_err();
        assert_eq!(err, "only the arbiter can refund (the escrow has no expiry)");
        t.host.set_block_height(u64::MAX);
        exec(&t, t.arbiter, r#"{"refund":{}}"#).unwrap();
        assert_eq!(t.host.balance(t.source), 1_000);
    }

    #[test]
    fn extra_funds_sent_later_are_paid_out_too() {
        let t = setup(None);
        t.host.set_balance(t.arbiter, 50);
        t.host.execute(t.me, t.arbiter, 50, br#"{"approve":{}}"#).unwrap();
        assert_eq!(t.host.balance(t.recipient), 650);
    }
}
