//! Example contract: a counter with an owner.
//!
//! * instantiate `{"count": <i64>}` — the caller becomes the owner;
//! * execute `{"increment":{}}`, `{"add":{"value":<i64>}}` (checked: overflow
//!   is an error), `{"reset":{"count":<i64>}}` (owner only); each returns
//!   `{"count": n}` and emits event `counter` {`action`, `count`};
//! * query `{"get_count":{}}` → `{"count": n}`, `{"owner":{}}` → `{"owner": "agora1…"}`.

use agora_sdk::{Addr, ContractError, Item, Json, Response, caller, emit, ensure, entry_points};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub count: i64,
    pub owner: Addr,
}

const STATE: Item<State> = Item::new("state");

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    pub count: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    Increment {},
    Add { value: i64 },
    Reset { count: i64 },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    GetCount {},
    Owner {},
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountResponse {
    pub count: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerResponse {
    pub owner: Addr,
}

pub fn instantiate(msg: InstantiateMsg) -> Result<Response, ContractError> {
    let state = State { count: msg.count, owner: caller() };
    STATE.save(&state)?;
    emit("counter", &[("action", "instantiate"), ("count", &state.count.to_string())]);
    Response::new().with_json(&CountResponse { count: state.count })
}

pub fn execute(msg: ExecuteMsg) -> Result<Response, ContractError> {
    let mut state = STATE.load()?;
    let action = match msg {
        ExecuteMsg::Increment {} => {
            state.count = state.count.checked_add(1).ok_or("count overflow: cannot increment past i64::MAX")?;
            "increment"
        }
        ExecuteMsg::Add { value } => {
            state.count = state
                .count
                .checked_add(value)
                .ok_or_else(|| format!("count overflow: {} + {value} is out of the i64 range", state.count))?;
            "add"
        }
        ExecuteMsg::Reset { count } => {
            ensure!(caller() == state.owner, "only the owner can reset the counter");
            state.count = count;
            "reset"
        }
    };
    STATE.save(&state)?;
    emit("counter", &[("action", action), ("count", &state.count.to_string())]);
    Response::new().with_json(&CountResponse { count: state.count })
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum QueryResponse {
    Count(CountResponse),
    Owner(OwnerResponse),
}

pub fn query(msg: QueryMsg) -> Result<Json<QueryResponse>, ContractError> {
    let state = STATE.load()?;
    Ok(Json(match msg {
        QueryMsg::GetCount {} => QueryResponse::Count(CountResponse { count: state.count }),
        QueryMsg::Owner {} => QueryResponse::Owner(OwnerResponse { owner: state.owner }),
    }))
}

entry_points!(instantiate, execute, query);

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use agora_sdk::testing::{MockHost, mock_addr};
    use serde_json::json;

    fn setup(count: i64) -> (MockHost, Addr, Addr) {
        let host = MockHost::new();
        let (me, owner) = (mock_addr("counter"), mock_addr("owner"));
        host.instantiate_json(mock_contract(), me, owner, 0, &json!({ "count": count })).unwrap();
        (host, me, owner)
    }

    fn count(host: &MockHost, me: Addr) -> i64 {
        host.query_json::<_, CountResponse>(me, &json!({"get_count": {}})).unwrap().count
    }

    #[test]
    fn increments_adds_and_resets() {
        let (host, me, owner) = setup(5);
        let alice = mock_addr("alice");
        assert_eq!(host.execute(me, alice, 0, br#"{"increment":{}}"#).unwrap(), br#"{"count":6}"#);
        host.execute_json(me, alice, 0, &json!({"add": {"value": -10}})).unwrap();
        assert_eq!(count(&host, me), -4);
        let err = host.execute_json(me, alice, 0, &json!({"reset": {"count": 0}})).unwrap_err();
        assert_eq!(err, "only the owner can reset the counter");
        host.execute_json(me, owner, 0, &json!({"reset": {"count": 100}})).unwrap();
        assert_eq!(count(&host, me), 100);
        let owner_resp: OwnerResponse = host.query_json(me, &json!({"owner": {}})).unwrap();
        assert_eq!(owner_resp.owner, owner);

        let events = host.events();
        assert_eq!(events.len(), 4, "{events:?}");
        assert!(events.iter().all(|e| e.kind == "counter" && e.contract == me));
        assert_eq!(events[3].attr("count"), Some("100"));
        assert_eq!(events[3].attr("action"), Some("reset"));
    }

    #[test]
    fn overflow_is_an_error_and_reverts() {
        let (host, me, _) = setup(i64::MAX - 1);
        host.execute(me, mock_addr("a"), 0, br#"{"increment":{}}"#).unwrap();
        let err = host.execute(me, mock_addr("a"), 0, br#"{"increment":{}}"#).unwrap_err();
        assert!(err.contains("count overflow"), "{err}");
        let err = host.execute_json(me, mock_addr("a"), 0, &json!({"add": {"value": 1}})).unwrap_err();
        assert_eq!(err, format!("count overflow: {} + 1 is out of the i64 range", i64::MAX));
        assert_eq!(count(&host, me), i64::MAX);
        let (host, me, _) = setup(i64::MIN);
        assert!(host.execute_json(me, mock_addr("a"), 0, &json!({"add": {"value": -1}})).is_err());
    }

    #[test]
    fn bad_messages_are_refused_with_clear_errors() {
        let (host, me, _) = setup(0);
        let err = host.execute(me, mock_addr("a"), 0, br#"{"foo":{}}"#).unwrap_err();
        assert!(
            err.starts_with("invalid message: unknown variant `foo`, expected one of `increment`, `add`, `reset`"),
            "{err}"
        );
        let err = host.execute(me, mock_addr("a"), 0, b"not json").unwrap_err();
        assert!(err.starts_with("invalid message: "), "{err}");
        let err = host.execute(me, mock_addr("a"), 0, br#"{"add":{"value":"x"}}"#).unwrap_err();
        assert!(err.starts_with("invalid message: invalid type"), "{err}");
        let err = host.execute(me, mock_addr("a"), 0, br#"{"add":{"value":1,"extra":2}}"#).unwrap_err();
        assert!(err.contains("unknown field `extra`"), "{err}");
        assert_eq!(count(&host, me), 0);
    }

    #[test]
    fn direct_handler_calls() {
        let host = MockHost::new();
        host.set_caller(mock_addr("boss"));
        instantiate(InstantiateMsg { count: 1 }).unwrap();
        execute(ExecuteMsg::Add { value: 2 }).unwrap();
        host.set_caller(mock_addr("someone"));
        assert!(execute(ExecuteMsg::Reset { count: 0 }).is_err());
        host.set_query_mode(true);
        let Json(QueryResponse::Count(c)) = query(QueryMsg::GetCount {}).unwrap() else { panic!("wrong answer") };
        assert_eq!(c.count, 3);
    }
}
