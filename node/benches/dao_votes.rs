//! DAO votes committed per second on the 4-validator network (run:
//! `cargo bench -p node --bench dao_votes`): real `agorad` processes, the
//! testnet's stake-voting DAO, `DAO_VOTERS` (default 1000) accounts that
//! each bonded stake before the proposal, then all vote at once over
//! JSON-RPC (spread over the four nodes). Reports the votes counted per
//! second (first vote sent → last vote in the tally) and the gas of a vote.
//!
//! Environment: `DAO_VOTERS` (1000), `DAO_INTERVAL_MS` (block interval, 100).

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

async fn query(c: &HttpClient, contract: Address, msg: Value) -> Value {
    let r = testnet::rpc::call(c, "agora_contractQuery", vec![json!(contract.to_string()), msg]).await.expect("query");
    r["data"].clone()
}

fn main() {
    let voters = env_or("DAO_VOTERS", 1000) as usize;
    let interval = env_or("DAO_INTERVAL_MS", 100);
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
        let dao = testnet::dao::deploy(&net.rpc_url(0), "dao-bench", net.dir(), None).await.expect("deploy").dao;
        let clients: Vec<HttpClient> =
            (0..4).map(|i| testnet::rpc::client(&net.rpc_url(i), Duration::from_secs(30)).expect("client")).collect();
        let c0 = &clients[0];
        let props: Address = query(c0, dao, json!({"proposal_modules": {}})).await["proposal_modules"][0]
            .as_str()
            .expect("module")
            .parse()
            .expect("address");
        let keys = net.load_keys();
        let op: Address = net.operator(0).expect("operator");
        // Every voter bonds stake (nonce 0), then waits for it to be committed.
        let delegations = keys
            .iter()
            .map(|k| {
                signed("dao-bench", k, 0, 200_000, Payload::Delegate { validator: op, amount: Amount::new(STAKE) })
            })
            .collect();
        let rejected = send_all(&clients, delegations).await;
        assert_eq!(rejected, 0, "delegations refused");
        let last = PublicKey::from_signing_key(keys.last().expect("voters")).address();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let a = testnet::rpc::call(c0, "agora_getAccount", vec![json!(last.to_string())]).await.expect("account");
            if a["nonce"].as_u64() == Some(1) {
                break;
            }
            assert!(Instant::now() < deadline, "delegations not committed");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_millis(3 * interval)).await;
        // Voter 0 proposes (nonce 1), everyone votes.
        let propose =
            json!({"propose": {"title": "bench", "msgs": [{"transfer": {"to": op.to_string(), "amount": "1"}}]}});
        let tx = signed(
            "dao-bench",
            &keys[0],
            1,
            20_000_000,
            Payload::Execute {
                contract: props,
                msg: serde_json::to_vec(&propose).expect("json"),
                funds: Amount::new(1000),
            },
        );
        let r = testnet::rpc::call(c0, "agora_sendTxCommit", vec![json!(tx), json!(30_000)]).await.expect("propose");
        assert_eq!(r["receipt"]["status"], "success", "{r}");
        let id = 1;
        let vote = serde_json::to_vec(&json!({"vote": {"proposal_id": id, "option": "yes"}})).expect("json");
        let votes: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let nonce = if i == 0 { 2 } else { 1 };
                let payload = Payload::Execute { contract: props, msg: vote.clone(), funds: Amount::ZERO };
                signed("dao-bench", k, nonce, 3_000_000, payload)
            })
            .collect();
        let t0 = Instant::now();
        let rejected = send_all(&clients, votes).await;
        let sent = t0.elapsed();
        let want = (voters as u128 * STAKE).to_string();
        let mut counted = String::new();
        while t0.elapsed() < Duration::from_secs(25) {
            let p = query(c0, props, json!({"proposal": {"proposal_id": id}})).await;
            counted = p["tally"]["yes"].as_str().unwrap_or("0").to_owned();
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
            "dao votes: {n} of {voters} votes counted in {elapsed:.2} s = {:.0} votes/s committed on 4 validators \
             (sending took {:.2} s, {rejected} refused at admission; block interval {interval} ms; tip block {} txs)",
            n as f64 / elapsed,
            sent.as_secs_f64(),
            block["txs"].as_array().map_or(0, Vec::len)
        );
    });
    net.stop_all().expect("stop");
}
