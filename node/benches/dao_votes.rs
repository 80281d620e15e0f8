//! DAO votes committed per second on the 4-validator network (run:
//! `cargo bench -p node --bench dao_votes`): real `agorad` processes, the
//! testnet's stake-voting DAO, `DAO_VOTERS` (default 1000) accounts that
//! each bonded stake before the proposal, then all vote at once over
//! JSON-RPC (spread over the four nodes). Reports the votes counted per
//! second (first vote sent → last vote in the tally) and the gas of a vote.
//!
//! Environment: `DAO_VOTERS` (1000), `DAO_INTERVAL_MS` (block interval, 100),
//! `DAO_RULE`: `token` (default: the testnet's DAO, one stake one vote),
//! `quadratic` (a stake-voting DAO with an identity registry: every voter is
//! attested first, by a probe contract acting as the issuer in batches of 100),
//! `conviction` (a token-voting DAO: voters receive tokens, approve and stake
//! them, then vote with conviction 1, which locks their tokens), `delegation`
//! (the stake DAO with a delegation contract: half the voters delegate half
//! their power to the other half before the proposal). Votes are counted by
//! turnout (power that voted).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonrpsee::http_client::HttpClient;
use ledger::{Address, Amount, Payload, PublicKey, SigningKey, TxBody};
use serde_json::{Value, json};
use testnet::{Spec, Testnet};

const STAKE: u128 = 1_000_000;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn signed(chain: &str, k: &SigningKey, nonce: u64, gas_limit: u64, payload: Payload) -> String {
    let body = TxBody {
        chain_id: chain.into(),
        sender: PublicKey::from_signing_key(k),
        nonce,
        gas_limit,
        gas_price: Amount::new(1),
        payload,
    };
    hex::encode(body.sign(k).encode())
}

/// Sends every tx (at most 64 in flight), round-robin over the nodes.
async fn send_all(clients: &[HttpClient], txs: Vec<String>) -> usize {
    let clients = Arc::new(clients.to_vec());
    let mut rejected = 0;
    for (chunk_i, chunk) in txs.chunks(64).enumerate() {
        let mut tasks = Vec::new();
        for (i, tx) in chunk.iter().enumerate() {
            let c = clients[(chunk_i * 64 + i) % clients.len()].clone();
            let tx = tx.clone();
            tasks.push(tokio::spawn(async move { testnet::rpc::call(&c, "agora_sendTx", vec![json!(tx)]).await }));
        }
        for t in tasks {
            if !matches!(t.await, Ok(Ok(_))) {
                rejected += 1;
            }
        }
    }
    rejected
}

/// Sends one transaction from `k` (its next nonce) and waits for its commit.
async fn commit(c: &HttpClient, k: &SigningKey, payload: Payload) -> Value {
    let from = PublicKey::from_signing_key(k).address();
    let a = testnet::rpc::call(c, "agora_getAccount", vec![json!(from.to_string())]).await.expect("account");
    let nonce = a["nonce"].as_u64().unwrap_or(0);
    let tx = signed("dao-bench", k, nonce, 650_000_000, payload);
    let r = testnet::rpc::call(c, "agora_sendTxCommit", vec![json!(tx), json!(60_000)]).await.expect("commit");
    assert_eq!(r["receipt"]["status"], "success", "{r}");
    r
}

fn exec(contract: Address, msg: Value, funds: u128) -> Payload {
    Payload::Execute { contract, msg: serde_json::to_vec(&msg).expect("json"), funds: Amount::new(funds) }
}

/// Instantiates `code` as the deployer; returns the new address.
async fn create(c: &HttpClient, k: &SigningKey, code: ledger::Hash, label: &str, msg: Value) -> Address {
    let payload = Payload::Instantiate {
        code_hash: code,
        label: label.into(),
        msg: serde_json::to_vec(&msg).expect("json"),
        funds: Amount::ZERO,
    };
    commit(c, k, payload).await;
    ledger::contract_address(&code, &PublicKey::from_signing_key(k).address(), label)
}

/// Waits until every account in `keys` has sent `nonce` transactions.
async fn wait_nonce(c: &HttpClient, keys: &[SigningKey], nonce: u64) {
    let last = PublicKey::from_signing_key(keys.last().expect("voters")).address();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let a = testnet::rpc::call(c, "agora_getAccount", vec![json!(last.to_string())]).await.expect("account");
        if a["nonce"].as_u64() >= Some(nonce) {
            return;
        }
        assert!(Instant::now() < deadline, "transactions of nonce {nonce} not committed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn query(c: &HttpClient, contract: Address, msg: Value) -> Value {
    let r = testnet::rpc::call(c, "agora_contractQuery", vec![json!(contract.to_string()), msg]).await.expect("query");
    r["data"].clone()
}

fn main() {
    let voters = env_or("DAO_VOTERS", 1000) as usize;
    let interval = env_or("DAO_INTERVAL_MS", 100);
    let rule = std::env::var("DAO_RULE").unwrap_or_else(|_| "token".into());
    let dir = tempfile::tempdir().expect("tempdir");
    let mut spec = Spec::new(dir.path().join("net"), env!("CARGO_BIN_EXE_agorad"));
    spec.dev_accounts = 0;
    spec.load_accounts = voters;
    spec.chain_id = "dao-bench".into();
    spec.block_interval = Duration::from_millis(interval);
    let mut net = Testnet::create(&spec).expect("create").owned();
    net.set_stop_timeout(Duration::from_secs(5));
    net.start_all().expect("start");
    net.wait_for_height_all(2, Duration::from_secs(60)).expect("first blocks");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let deployment = testnet::dao::deploy(&net.rpc_url(0), "dao-bench", net.dir(), None).await.expect("deploy");
        let clients: Vec<HttpClient> =
            (0..4).map(|i| testnet::rpc::client(&net.rpc_url(i), Duration::from_secs(30)).expect("client")).collect();
        let c0 = &clients[0];
        let keys = net.load_keys();
        let op: Address = net.operator(0).expect("operator");
        let deployer = testnet::dao::deployer_key("dao-bench");
        let codes = deployment.codes;
        let rules = |extra: Value| {
            let mut r = testnet::dao::testnet_rules(None);
            r["min_voting_period_ms"] = json!(0);
            for (k, v) in extra.as_object().expect("object") {
                r[k] = v.clone();
            }
            r
        };
        let dao_msg = |voting: ledger::Hash, voting_msg: Value, rules: Value| {
            json!({"name": "bench", "voting": {"code_hash": voting.to_string(), "label": "voting", "msg": voting_msg},
                "proposals": [{"code_hash": codes.dao_proposals.to_string(), "label": "proposals", "msg": rules}]})
        };
        let mut helper_contract = None;
        let dao = match rule.as_str() {
            "token" => deployment.dao,
            "quadratic" => {
                // A probe contract is the issuer: it attests 100 voters per transaction.
                commit(c0, &deployer, Payload::StoreCode { code: contract_artifacts::PROBE.to_vec() }).await;
                let probe_code = ledger::Hash::digest(contract_artifacts::PROBE);
                let issuer = create(c0, &deployer, probe_code, "issuer", json!({})).await;
                let reg = create(c0, &deployer, codes.dao_identity, "ids", json!({"issuers": [issuer.to_string()]})).await;
                for chunk in keys.chunks(100) {
                    let calls: Vec<Value> = chunk
                        .iter()
                        .map(|k| {
                            let a = PublicKey::from_signing_key(k).address().to_string();
                            let m = json!({"attest": {"address": a, "identity": format!("p-{a}")}});
                            json!([reg.to_string(), m.to_string()])
                        })
                        .collect();
                    commit(c0, &deployer, exec(issuer, json!({"calls": {"calls": calls}}), 0)).await;
                }
                let r = rules(json!({"voting_rule": "quadratic", "identity_registry": reg.to_string()}));
                create(c0, &deployer, codes.dao_core, "quadratic", dao_msg(codes.dao_voting_stake, json!({}), r)).await
            }
            "delegation" => {
                let deleg = ledger::contract_address(
                    &codes.dao_delegation,
                    &PublicKey::from_signing_key(&deployer).address(),
                    "delegation",
                );
                let r = rules(json!({"delegation": deleg.to_string()}));
                let dao =
                    create(c0, &deployer, codes.dao_core, "delegated", dao_msg(codes.dao_voting_stake, json!({}), r)).await;
                create(c0, &deployer, codes.dao_delegation, "delegation", json!({"dao": dao.to_string()})).await;
                helper_contract = Some(deleg);
                dao
            }
            "conviction" => {
                let balances: Vec<Value> = keys
                    .iter()
                    .map(|k| json!({"address": PublicKey::from_signing_key(k).address().to_string(), "amount": STAKE.to_string()}))
                    .collect();
                let token = create(
                    c0,
                    &deployer,
                    codes.token,
                    "vote-token",
                    json!({"name": "Vote", "symbol": "VOTE", "decimals": 0, "initial_balances": balances}),
                )
                .await;
                let r = rules(json!({"voting_rule": "conviction", "conviction_period_ms": 60_000}));
                let msg = dao_msg(codes.dao_voting_token, json!({"token": token.to_string()}), r);
                let dao = create(c0, &deployer, codes.dao_core, "conviction", msg).await;
                helper_contract = Some(token);
                dao
            }
            other => panic!("DAO_RULE={other}: token, quadratic, conviction or delegation"),
        };
        let props: Address = query(c0, dao, json!({"proposal_modules": {}})).await["proposal_modules"][0]
            .as_str()
            .expect("module")
            .parse()
            .expect("address");
        let voting: Address =
            query(c0, dao, json!({"voting_module": {}})).await["address"].as_str().expect("voting").parse().expect("addr");
        // Every voter gets power (bonded stake, or staked tokens), then waits for it.
        let mut nonce = 0;
        if rule == "conviction" {
            let token = helper_contract.expect("token");
            let approve = json!({"approve": {"spender": voting.to_string(), "amount": STAKE.to_string()}});
            let stake = json!({"stake": {"amount": STAKE.to_string()}});
            for m in [approve, stake] {
                let txs = keys.iter().map(|k| signed("dao-bench", k, nonce, 3_000_000, exec(if m.get("approve").is_some() { token } else { voting }, m.clone(), 0))).collect();
                assert_eq!(send_all(&clients, txs).await, 0, "refused");
                nonce += 1;
                wait_nonce(c0, &keys, nonce).await;
            }
        } else {
            let delegations = keys
                .iter()
                .map(|k| signed("dao-bench", k, 0, 200_000, Payload::Delegate { validator: op, amount: Amount::new(STAKE) }))
                .collect();
            assert_eq!(send_all(&clients, delegations).await, 0, "delegations refused");
            nonce = 1;
            wait_nonce(c0, &keys, nonce).await;
        }
        if rule == "delegation" {
            // The first half delegates half its power to the matching voter of the second half.
            let deleg = helper_contract.expect("delegation");
            let half = keys.len() / 2;
            let txs = (0..half)
                .map(|i| {
                    let to = PublicKey::from_signing_key(&keys[half + i]).address().to_string();
                    signed("dao-bench", &keys[i], nonce, 3_000_000, exec(deleg, json!({"delegate": {"delegate": to, "bps": 5000}}), 0))
                })
                .collect();
            assert_eq!(send_all(&clients, txs).await, 0, "delegations refused");
            let a = PublicKey::from_signing_key(&keys[half - 1]).address();
            let deadline = Instant::now() + Duration::from_secs(120);
            while testnet::rpc::call(c0, "agora_getAccount", vec![json!(a.to_string())]).await.expect("account")["nonce"].as_u64() < Some(nonce + 1) {
                assert!(Instant::now() < deadline, "delegations not committed");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            // Everyone's nonce moves in step: the second half sends a cheap self-transfer.
            let txs = keys[half..]
                .iter()
                .map(|k| signed("dao-bench", k, nonce, 200_000, Payload::Transfer { to: PublicKey::from_signing_key(k).address(), amount: Amount::new(1) }))
                .collect();
            assert_eq!(send_all(&clients, txs).await, 0, "refused");
            nonce += 1;
            wait_nonce(c0, &keys, nonce).await;
        }
        tokio::time::sleep(Duration::from_millis(3 * interval)).await;
        // Voter 0 proposes, everyone votes.
        let propose =
            json!({"propose": {"title": "bench", "msgs": [{"transfer": {"to": op.to_string(), "amount": "1"}}]}});
        let tx = signed("dao-bench", &keys[0], nonce, 30_000_000, exec(props, propose, 1000));
        let r = testnet::rpc::call(c0, "agora_sendTxCommit", vec![json!(tx), json!(30_000)]).await.expect("propose");
        assert_eq!(r["receipt"]["status"], "success", "{r}");
        let id = 1;
        let mut vote = json!({"vote": {"proposal_id": id, "option": "yes"}});
        if rule == "conviction" {
            vote["vote"]["conviction"] = json!(1);
        }
        let vote = serde_json::to_vec(&vote).expect("json");
        let votes: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let n = if i == 0 { nonce + 1 } else { nonce };
                let payload = Payload::Execute { contract: props, msg: vote.clone(), funds: Amount::ZERO };
                signed("dao-bench", k, n, 20_000_000, payload)
            })
            .collect();
        let t0 = Instant::now();
        let rejected = send_all(&clients, votes).await;
        let sent = t0.elapsed();
        let want = (voters as u128 * STAKE).to_string();
        let mut counted = String::new();
        while t0.elapsed() < Duration::from_secs(25) {
            let p = query(c0, props, json!({"proposal": {"proposal_id": id}})).await;
            counted = p["turnout"].as_str().unwrap_or("0").to_owned();
            if counted == want {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let elapsed = t0.elapsed().as_secs_f64();
        let n = counted.parse::<u128>().unwrap_or(0) / STAKE;
        let h = net.height(0).expect("height");
        let block = testnet::rpc::call(c0, "agora_getBlock", vec![json!(h)]).await.unwrap_or_default();
        println!(
            "dao votes ({rule}): {n} of {voters} votes counted in {elapsed:.2} s = {:.0} votes/s committed on 4 validators \
             (sending took {:.2} s, {rejected} refused at admission; block interval {interval} ms; tip block {} txs)",
            n as f64 / elapsed,
            sent.as_secs_f64(),
            block["txs"].as_array().map_or(0, Vec::len)
        );
    });
    net.stop_all().expect("stop");
}
