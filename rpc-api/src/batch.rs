//! Typed JSON-RPC batches. The generated `…Client` traits make one call per
//! request; load generators and scanners send many small calls at once, so
//! these put a method's typed parameters into a jsonrpsee batch under the
//! method's name, and the answers decode into the same result types
//! (`client.batch_request::<AccountInfo>(b)`).

use jsonrpsee::core::params::{ArrayParams, BatchRequestBuilder};
use ledger::Address;

use crate::types::BlockId;

fn params2(a: impl serde::Serialize, b: Option<impl serde::Serialize>) -> Result<ArrayParams, serde_json::Error> {
    let mut p = ArrayParams::new();
    p.insert(a)?;
    if let Some(b) = b {
        p.insert(b)?;
    }
    Ok(p)
}

/// `agora_getAccount(address)` (result [`crate::types::AccountInfo`]).
pub fn get_account(b: &mut BatchRequestBuilder<'_>, address: &Address) -> Result<(), serde_json::Error> {
    b.insert("agora_getAccount", params2(address, None::<()>)?)
}

/// `agora_sendTx(tx_hex)` (result [`crate::types::Submitted`]).
pub fn send_tx(b: &mut BatchRequestBuilder<'_>, tx_hex: &str) -> Result<(), serde_json::Error> {
    b.insert("agora_sendTx", params2(tx_hex, None::<()>)?)
}

/// `agora_getBlock(block, full_txs)` (result [`crate::types::BlockInfo`]).
pub fn get_block(b: &mut BatchRequestBuilder<'_>, block: BlockId, full_txs: bool) -> Result<(), serde_json::Error> {
    b.insert("agora_getBlock", params2(block, Some(full_txs))?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The names used here are the traits' (the OpenRPC document is generated from them).
    #[test]
    fn batch_methods_are_api_methods() {
        let names = crate::openrpc::method_names();
        for m in ["agora_getAccount", "agora_sendTx", "agora_getBlock"] {
            assert!(names.iter().any(|n| n == m), "{m}");
        }
        let mut b = BatchRequestBuilder::new();
        get_block(&mut b, BlockId::Height(3), false).unwrap();
        send_tx(&mut b, "00").unwrap();
        get_account(&mut b, &Address([1; 20])).unwrap();
        let built = b.build().unwrap();
        assert_eq!(built.len(), 3);
        assert_eq!(built[0].1.as_ref().unwrap().get(), "[3,false]");
    }
}
