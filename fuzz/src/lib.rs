//! Fuzz targets: every decoder of outside input, contract upload followed by
//! instantiation, and JSON-RPC parameters. Each target takes arbitrary bytes
//! and must neither panic nor hang; where it decodes something it also
//! checks the encoding is canonical (decode → encode gives the same bytes).
//!
//! * Short runs (part of `scripts/test.sh`): `tests/short_run.rs` feeds each
//!   target seed inputs and seeded random mutations of them.
//! * Long coverage-guided runs: `bash scripts/fuzz.sh TARGET SECONDS`
//!   (libFuzzer through `fuzz/libfuzzer`, see its README).

use std::sync::{Arc, OnceLock};

use borsh::BorshDeserialize;
use ledger::{Block, ChainParams, SignedTx, UncheckedTx};
use node::p2p::{ConsensusMsg, SyncCodec, SyncRequest, SyncResponse};

pub mod mutate;

/// Names of the targets, as `scripts/fuzz.sh` and the libFuzzer crate know them.
pub const TARGETS: &[&str] = &["tx", "block", "consensus_msg", "tx_batch", "sync_msg", "upload", "rpc"];

/// Runs target `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "tx" => tx(data),
        "block" => block(data),
        "consensus_msg" => consensus_msg(data),
        "tx_batch" => tx_batch(data),
        "sync_msg" => sync_msg(data),
        "upload" => upload(data),
        "rpc" => rpc(data),
        other => panic!("unknown fuzz target `{other}`"),
    }
}

/// Decodes `T` strictly; if that works, re-encoding must give the same bytes.
fn canonical<T: BorshDeserialize + borsh::BorshSerialize>(data: &[u8]) -> Option<T> {
    let v = borsh::from_slice::<T>(data).ok()?;
    assert_eq!(borsh::to_vec(&v).expect("encode"), data, "non-canonical encoding accepted");
    Some(v)
}

/// A transaction as the mempool receives it: size bound, strict decode,
/// signature check, stateless checks.
pub fn tx(data: &[u8]) {
    let params = ChainParams::default();
    let Ok(unchecked) = UncheckedTx::from_bytes(data, params.max_tx_bytes as usize) else { return };
    let _ = unchecked.hash();
    if let Ok(tx) = unchecked.verify() {
        let _ = ledger::exec::check_stateless(tx.body(), tx.encoded_len(), "fuzz", &params);
        assert_eq!(tx.tx().encode(), data);
    }
    let _ = canonical::<SignedTx>(data);
}

/// A block as block sync or a proposal delivers it.
pub fn block(data: &[u8]) {
    if let Some(b) = canonical::<Block>(data) {
        let _ = b.hash();
        let _ = b.check_body_roots();
        for t in &b.txs {
            let _ = SignedTx::verify(t.clone());
        }
    }
}

/// A gossiped consensus message: decode, then the signature checks the
/// engine applies (against the message's own claimed key).
pub fn consensus_msg(data: &[u8]) {
    let Some(msg) = canonical::<ConsensusMsg>(data) else { return };
    let chain = consensus::ChainId::new("fuzz").expect("chain id");
    match msg {
        ConsensusMsg::Proposal { proposal, block } => {
            if let Ok(k) = consensus::signing::verifying_key(&proposal.proposal.proposer) {
                let _ = proposal.verify(&chain, &k);
            }
            let _ = block.check_body_roots();
        }
        ConsensusMsg::CompactProposal { proposal, block } => {
            if let Ok(k) = consensus::signing::verifying_key(&proposal.proposal.proposer) {
                let _ = proposal.verify(&chain, &k);
            }
            let _ = block.hash();
            if block.check_roots().is_ok() {
                // Filled with nothing: refused unless the block is empty.
                let _ = block.assemble(Vec::new());
            }
        }
        ConsensusMsg::Vote(v) => {
            if let Ok(k) = consensus::signing::verifying_key(&v.vote.validator) {
                let _ = v.verify(&chain, &k);
            }
        }
    }
}

/// A gossiped transaction batch: decode, then each transaction as [`tx`].
pub fn tx_batch(data: &[u8]) {
    if let Some(batch) = canonical::<Vec<Vec<u8>>>(data) {
        for t in batch.iter().take(64) {
            tx(t);
        }
    }
}

/// Block-sync frames as the request-response codec reads them.
pub fn sync_msg(data: &[u8]) {
    use libp2p::request_response::Codec;
    let _ = canonical::<SyncRequest>(data);
    let _ = canonical::<SyncResponse>(data);
    let proto = libp2p::StreamProtocol::new("/agora/sync/1");
    let mut codec = SyncCodec::new(1 << 20);
    futures::executor::block_on(async {
        let _ = codec.read_request(&proto, &mut futures::io::Cursor::new(data)).await;
        let _ = codec.read_response(&proto, &mut futures::io::Cursor::new(data)).await;
    });
}

fn vm() -> &'static vm::Vm {
    static VM: OnceLock<vm::Vm> = OnceLock::new();
    VM.get_or_init(|| vm::Vm::new(&ChainParams::default(), vm::VmConfig::default()).expect("vm"))
}

/// Contract upload followed by instantiation: whatever the upload accepts
/// must instantiate (and run `instantiate` to a receipt) on the real VM.
pub fn upload(data: &[u8]) {
    use ledger::contract::ContractVm;
    let params = ChainParams::default();
    match vm().check_code(data, &params) {
        Ok(()) => {
            let outcome = instantiate(data, &params);
            assert!(
                !matches!(outcome, Err(ledger::ExecError::Unexecutable(_) | ledger::ExecError::Fault(_))),
                "accepted code could not be instantiated: {outcome:?}"
            );
        }
        Err(ledger::contract::CallError::Failed(_)) => {}
        Err(e) => panic!("upload check was not a verdict: {e:?}"),
    }
}

fn instantiate(code: &[u8], params: &ChainParams) -> Result<ledger::Receipt, ledger::ExecError> {
    use ledger::{Amount, BlockEnv, BlockExecutor, Hash, Height, MemStore, Payload, PublicKey, SigningKey, TxBody};
    let key = SigningKey::from_bytes(&[7; 32]);
    let me = PublicKey::from_signing_key(&key);
    let mut store = MemStore::new();
    let diff = ledger::state::genesis_diff(&store, &[(me.address(), Amount::new(1 << 100))]).expect("genesis");
    store.commit(&diff);
    let tx = |nonce, payload| {
        TxBody {
            chain_id: "fuzz".into(),
            sender: me,
            nonce,
            gas_limit: 700_000_000,
            gas_price: Amount::new(1),
            payload,
        }
        .sign(&key)
        .verify()
        .expect("signed")
    };
    let mut exec = BlockExecutor::with_vm(&store, params, BlockEnv::new("fuzz", Height(1), 1), vm());
    let r = exec.execute(&tx(0, Payload::StoreCode { code: code.to_vec() }))?.clone();
    assert_eq!(r.status, ledger::TxStatus::Success, "upload passed check_code but failed: {r:?}");
    let code_hash = Hash::digest(code);
    let payload = Payload::Instantiate { code_hash, label: "f".into(), msg: b"{}".to_vec(), funds: Amount::ZERO };
    exec.execute(&tx(1, payload)).cloned()
}

struct Rpc {
    rt: tokio::runtime::Runtime,
    module: jsonrpsee::RpcModule<()>,
    _dir: tempfile::TempDir,
}

fn rpc_server() -> &'static Rpc {
    static RPC: OnceLock<Rpc> = OnceLock::new();
    RPC.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let (user, val) = (ledger::SigningKey::from_bytes(&[1; 32]), ledger::SigningKey::from_bytes(&[2; 32]));
        let chain = Arc::new(node::testing::chain_on(dir.path(), "fuzz", &user, &val));
        let ctx = node::rpc::RpcContext {
            admission: node::admission::Admission::start(chain.clone()),
            max_batch: 100,
            chain,
            validator: None,
            moniker: "fuzz".into(),
            block_interval: std::time::Duration::from_millis(100),
            max_commit_wait: std::time::Duration::from_millis(1),
            net: None,
            consensus: None,
            query_slots: Arc::new(tokio::sync::Semaphore::new(node::rpc::MAX_CONCURRENT_QUERIES)),
        };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let module = node::rpc_server::api(Arc::new(ctx), &Default::default()).expect("rpc module");
        Rpc { rt, module, _dir: dir }
    })
}

/// Methods the RPC target calls; the first input byte picks one.
pub const RPC_METHODS: &[&str] = &[
    "agora_chainParams",
    "agora_codeInfo",
    "agora_contractInfo",
    "agora_contractQuery",
    "agora_contractStorage",
    "agora_delegations",
    "agora_estimateGas",
    "agora_blockReceipts",
    "agora_contractsByCode",
    "agora_genesis",
    "agora_getAccount",
    "agora_getBlock",
    "agora_getCode",
    "agora_getEvents",
    "agora_getTx",
    "agora_headers",
    "agora_health",
    "agora_sendTx",
    "agora_searchEvents",
    "agora_sendTxCommit",
    "agora_stakingParams",
    "agora_status",
    "agora_supply",
    "agora_txsByAddress",
    "agora_validator",
    "agora_validatorDelegations",
    "agora_validatorSet",
    "agora_validators",
];

/// A JSON-RPC request: the first byte picks a method, the rest is its
/// parameters (JSON if it parses, else a string), sent through the node's
/// real RPC module against a real chain.
pub fn rpc(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else { return };
    let method = RPC_METHODS[pick as usize % RPC_METHODS.len()];
    let text = String::from_utf8_lossy(rest);
    let params = serde_json::from_str::<serde_json::Value>(&text).unwrap_or(serde_json::Value::String(text.into()));
    let request = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
    let server = rpc_server();
    let (response, _) = server.rt.block_on(server.module.raw_json_request(&request, 1)).expect("a response");
    let v: serde_json::Value = serde_json::from_str(response.get()).expect("responses are JSON");
    assert!(v.get("result").is_some() || v.get("error").is_some(), "{v}");
}
