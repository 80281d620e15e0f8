//! The ready DAO `testnet up` deploys: the four DAO contracts uploaded by a
//! deterministic deployer account, and a DAO whose voting power is native
//! stake and which the genesis names as the chain's governance contract (its
//! address is known before it exists: `contract_address(code, creator, label)`).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ledger::{Address, Amount, Hash, Payload, PublicKey, SigningKey, TxBody, contract_address};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::rpc;

/// Label of the DAO's core contract.
pub const DAO_LABEL: &str = "agora-dao";
/// Genesis balance of the deployer (pays seven uploads of up to ~650M gas each).
pub const DEPLOYER_BALANCE: u128 = 100_000_000_000_000;
/// File in the testnet directory describing the deployed DAO.
pub const DAO_FILE: &str = "dao.json";

/// The deployer's key of chain `chain_id`: `sha256("agora-testnet-dao/" ‖ chain_id)`.
pub fn deployer_key(chain_id: &str) -> SigningKey {
    let mut h = Sha256::new();
    h.update(b"agora-testnet-dao/");
    h.update(chain_id.as_bytes());
    SigningKey::from_bytes(&h.finalize().into())
}

/// The deployer's address.
pub fn deployer(chain_id: &str) -> Address {
    PublicKey::from_signing_key(&deployer_key(chain_id)).address()
}

/// Code hashes of the DAO contracts, as embedded in this build.
pub fn code_hashes() -> DaoCodes {
    DaoCodes {
        dao_core: Hash::digest(contract_artifacts::DAO_CORE),
        dao_proposals: Hash::digest(contract_artifacts::DAO_PROPOSALS),
        dao_voting_stake: Hash::digest(contract_artifacts::DAO_VOTING_STAKE),
        dao_voting_token: Hash::digest(contract_artifacts::DAO_VOTING_TOKEN),
        dao_identity: Hash::digest(contract_artifacts::DAO_IDENTITY),
        dao_delegation: Hash::digest(contract_artifacts::DAO_DELEGATION),
        token: Hash::digest(contract_artifacts::TOKEN),
    }
}

/// The address the testnet's DAO gets (named in genesis as governance).
pub fn dao_address(chain_id: &str) -> Address {
    contract_address(&code_hashes().dao_core, &deployer(chain_id), DAO_LABEL)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaoCodes {
    pub dao_core: Hash,
    pub dao_proposals: Hash,
    pub dao_voting_stake: Hash,
    pub dao_voting_token: Hash,
    /// Identity registry for quadratic voting.
    pub dao_identity: Hash,
    /// Vote delegation.
    pub dao_delegation: Hash,
    /// The example fungible token (for token-voting DAOs).
    pub token: Hash,
}

/// What `DIR/dao.json` holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DaoDeployment {
    pub dao: Address,
    pub codes: DaoCodes,
    pub governs_chain: bool,
}

/// The proposal rules of the testnet's DAO: x/gov's quorum, threshold and
/// veto; voting 5–30 s, a 5 s timelock, deposit 1000 refunded if passed.
pub fn testnet_rules(vetoer: Option<Address>) -> Value {
    json!({
        "voting_delay_ms": 0,
        "min_voting_period_ms": 5_000,
        "max_voting_period_ms": 30_000,
        "quorum": "0.334",
        "threshold": "0.5",
        "veto_threshold": "0.334",
        "allow_early_close": false,
        "allow_revoting": false,
        "deposit": { "amount": "1000", "refund": "only_passed" },
        "timelock_ms": 5_000,
        "vetoer": vetoer.map(|a| a.to_string()),
        "execution_grace_ms": 600_000,
    })
}

pub(crate) async fn send(
    client: &jsonrpsee::http_client::HttpClient,
    chain_id: &str,
    key: &SigningKey,
    payload: Payload,
) -> Result<rpc::types::Committed> {
    use rpc::ChainApiClient;
    let sender = PublicKey::from_signing_key(key);
    let nonce = rpc::named("getAccount", client.get_account(sender.address(), None, None).await)?.nonce;
    let body = TxBody {
        chain_id: chain_id.to_owned(),
        sender,
        nonce,
        gas_limit: ledger::ChainParams::default().max_tx_gas,
        gas_price: Amount::new(1),
        payload,
    };
    let tx = hex::encode(body.sign(key).encode());
    let out = rpc::named("sendTxCommit", client.send_tx_commit(tx, Some(60_000)).await)?;
    if let ledger::TxStatus::Failed { reason } = &out.receipt.status {
        bail!("transaction failed: {reason}");
    }
    Ok(out)
}

/// Uploads the DAO contracts and creates the DAO (idempotent: what exists
/// is kept), then writes `DIR/dao.json`.
pub async fn deploy(url: &str, chain_id: &str, dir: &Path, vetoer: Option<Address>) -> Result<DaoDeployment> {
    let client = rpc::client(url, Duration::from_secs(90))?;
    let key = deployer_key(chain_id);
    let codes = code_hashes();
    let dao = dao_address(chain_id);
    use rpc::{ChainApiClient, ContractsApiClient};
    let exists = client.contract_info(dao).await.is_ok();
    if !exists {
        let uploads = [
            (codes.dao_core, contract_artifacts::DAO_CORE),
            (codes.dao_proposals, contract_artifacts::DAO_PROPOSALS),
            (codes.dao_voting_stake, contract_artifacts::DAO_VOTING_STAKE),
            (codes.dao_voting_token, contract_artifacts::DAO_VOTING_TOKEN),
            (codes.dao_identity, contract_artifacts::DAO_IDENTITY),
            (codes.dao_delegation, contract_artifacts::DAO_DELEGATION),
            (codes.token, contract_artifacts::TOKEN),
        ];
        for (hash, wasm) in uploads {
            if client.code_info(hash).await.is_ok() {
                continue;
            }
            send(&client, chain_id, &key, Payload::StoreCode { code: wasm.to_vec() })
                .await
                .with_context(|| format!("uploading code {hash}"))?;
        }
        let msg = json!({
            "name": "Agora DAO",
            "description": "Governs the testnet: treasury and chain parameters, voted with bonded stake",
            "voting": { "code_hash": codes.dao_voting_stake.to_string(), "label": "voting", "msg": {} },
            "proposals": [{ "code_hash": codes.dao_proposals.to_string(), "label": "proposals", "msg": testnet_rules(vetoer) }],
        });
        let payload = Payload::Instantiate {
            code_hash: codes.dao_core,
            label: DAO_LABEL.into(),
            msg: serde_json::to_vec(&msg)?,
            funds: Amount::ZERO,
        };
        send(&client, chain_id, &key, payload).await.context("creating the DAO")?;
    }
    let params = rpc::named("chainParams", client.chain_params().await)?;
    let governs_chain = params.params.governance == Some(dao);
    let d = DaoDeployment { dao, codes, governs_chain };
    std::fs::write(dir.join(DAO_FILE), serde_json::to_string_pretty(&d)?).context("writing dao.json")?;
    Ok(d)
}

/// Reads `DIR/dao.json`.
pub fn read(dir: &Path) -> Result<DaoDeployment> {
    let text = std::fs::read_to_string(dir.join(DAO_FILE)).context("reading dao.json (run `testnet up` first)")?;
    Ok(serde_json::from_str(&text)?)
}
