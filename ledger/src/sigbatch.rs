//! Transaction signatures checked in batches: one batch equation for many
//! signatures, and a check of each only when the batch fails, with the same
//! verdicts as checking them one by one (`sigverify`'s single and batch forms
//! accept exactly the same signatures, ADR 0013).

use crate::crypto::{PublicKey, Signature};
use crate::tx::TxBody;

/// Most signatures in one batch equation; longer lists are cut into batches
/// of this size (past it the per-signature saving is small and a bad
/// signature costs more to find).
pub const MAX_SIG_BATCH: usize = 1024;

/// For each (body, signature), whether the signature verifies under the
/// chain's rule, in order: exactly `PublicKey::verify(&body.sign_bytes(), sig)`
/// for each.
pub(crate) fn verdicts(txs: &[(&TxBody, &Signature)]) -> Vec<bool> {
    let mut out = Vec::with_capacity(txs.len());
    for chunk in txs.chunks(MAX_SIG_BATCH) {
        let msgs: Vec<Vec<u8>> = chunk.iter().map(|(b, _)| b.sign_bytes()).collect();
        let keys: Vec<Option<sigverify::Key>> = chunk.iter().map(|(b, _)| PublicKey::parsed(&b.sender)).collect();
        // A key the rule refuses verifies nothing; the others go in the batch.
        let items: Vec<sigverify::Item<'_>> = chunk
            .iter()
            .zip(&msgs)
            .zip(&keys)
            .filter_map(|(((_, sig), msg), key)| key.as_ref().map(|key| sigverify::Item { key, msg, sig: &sig.0 }))
            .collect();
        let mut checked = sigverify::verify_each(&items).into_iter();
        out.extend(keys.iter().map(|k| k.is_some() && checked.next().is_some_and(|v| v.is_ok())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SigningKey;
    use crate::tx::{Payload, SignedTx, UncheckedTx};
    use crate::types::{Address, Amount};

    fn tx(i: u64) -> SignedTx {
        let key = SigningKey::from_bytes(&[(i % 7) as u8 + 1; 32]);
        TxBody {
            chain_id: "sigbatch".into(),
            sender: PublicKey::from_signing_key(&key),
            nonce: i,
            gas_limit: 10_000,
            gas_price: Amount::new(1),
            payload: Payload::Transfer { to: Address([3; 20]), amount: Amount::new(i as u128 + 1) },
        }
        .sign(&key)
    }

    /// More than one batch (the bound), bad signatures on both sides of the
    /// batch boundary, a small-order key and an off-curve key: every verdict
    /// is the one-by-one verdict.
    #[test]
    fn batches_agree_with_one_by_one_across_the_bound() {
        let n = MAX_SIG_BATCH + 6;
        let mut txs: Vec<SignedTx> = (0..n as u64).map(tx).collect();
        txs[3].signature.0[40] ^= 1;
        txs[MAX_SIG_BATCH - 1].body.nonce += 1;
        txs[MAX_SIG_BATCH].signature = txs[0].signature;
        // The identity point (small order) and a y that is not on the curve.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        txs[10].body.sender = PublicKey(identity);
        txs[MAX_SIG_BATCH + 2].body.sender = PublicKey([2; 32]);
        assert!(sigverify::Key::from_bytes(&[2; 32]).is_err(), "an off-curve key");
        let one_by_one: Vec<bool> =
            txs.iter().map(|t| t.body.sender.verify(&t.body.sign_bytes(), &t.signature)).collect();
        let bad: Vec<usize> = one_by_one.iter().enumerate().filter(|(_, ok)| !**ok).map(|(i, _)| i).collect();
        assert_eq!(bad, [3, 10, MAX_SIG_BATCH - 1, MAX_SIG_BATCH, MAX_SIG_BATCH + 2]);
        assert_eq!(verdicts(&txs.iter().map(|t| (&t.body, &t.signature)).collect::<Vec<_>>()), one_by_one);

        let all = SignedTx::verify_all(txs.clone());
        let unchecked: Vec<UncheckedTx> =
            txs.iter().map(|t| UncheckedTx::from_bytes(&t.encode(), 1 << 20).expect("decodes")).collect();
        let all_unchecked = UncheckedTx::verify_all(unchecked);
        for (i, t) in txs.into_iter().enumerate() {
            let single = t.clone().verify();
            assert_eq!(all[i].is_ok(), single.is_ok(), "tx {i}");
            assert_eq!(all_unchecked[i].is_ok(), single.is_ok(), "tx {i}");
            if let (Ok(a), Ok(b), Ok(s)) = (&all[i], &all_unchecked[i], &single) {
                assert_eq!((a.hash(), a.sender(), a.encoded_len()), (s.hash(), s.sender(), s.encoded_len()));
                assert_eq!((b.hash(), b.sender(), b.encoded_len()), (s.hash(), s.sender(), s.encoded_len()));
            }
        }
        assert!(SignedTx::verify_all(Vec::new()).is_empty());
    }
}
