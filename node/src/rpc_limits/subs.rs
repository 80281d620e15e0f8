//! The node-wide subscription cap (`rpc.max_subscriptions_total`), on top of
//! jsonrpsee's per-connection one.
//!
//! Every subscription method of the module is wrapped: a subscribe call takes
//! one of `total` slots or is refused with error 1018
//! (`TOO_MANY_SUBSCRIPTIONS`). The slot must be held exactly as long as the
//! subscription lives, which only jsonrpsee knows (unsubscribe, connection
//! closed, or the subscription ending by itself, like a transaction status
//! once committed). jsonrpsee holds a semaphore permit for that lifetime (the
//! per-connection bound); the wrapper hands it a permit of a one-permit
//! semaphore of its own instead, and a small task waiting on that semaphore
//! releases the node-wide slot and the connection's permit together when
//! jsonrpsee lets go of it. No work per notification.

use std::sync::Arc;

use jsonrpsee::RpcModule;
use jsonrpsee::core::RegisterMethodError;
use jsonrpsee::core::server::{MethodCallback, MethodResponse, SubscriptionMethod, SubscriptionState};
use jsonrpsee::types::ErrorObject;
use tokio::sync::Semaphore;

/// The refusal once `total` subscriptions are open.
pub fn too_many_subscriptions(total: u32) -> ErrorObject<'static> {
    ErrorObject::owned(
        rpc_api::codes::TOO_MANY_SUBSCRIPTIONS,
        format!("this node holds its maximum of {total} subscriptions; retry later"),
        None::<()>,
    )
}

/// Caps the subscriptions of all `module`'s subscription methods together at
/// `total`. Returns the slots (their available permits are the free places).
pub fn cap_subscriptions(module: &mut RpcModule<()>, total: u32) -> Result<Arc<Semaphore>, RegisterMethodError> {
    let slots = Arc::new(Semaphore::new(total as usize));
    let names: Vec<&'static str> =
        module.method_names().filter(|n| matches!(module.method(n), Some(MethodCallback::Subscription(_)))).collect();
    for name in names {
        let Some(MethodCallback::Subscription(inner)) = module.remove_method(name) else { continue };
        let slots_for = slots.clone();
        let wrapped: SubscriptionMethod<'static> = Arc::new(move |id, params, sink, state: SubscriptionState, ext| {
            let Ok(slot) = slots_for.clone().try_acquire_owned() else {
                let r = MethodResponse::error(id, too_many_subscriptions(total)).with_extensions(ext);
                return Box::pin(std::future::ready(r));
            };
            let lifetime = Arc::new(Semaphore::new(1));
            let Ok(held_by_jsonrpsee) = lifetime.clone().try_acquire_owned() else {
                // A fresh one-permit semaphore always has its permit.
                let r = MethodResponse::error(id, too_many_subscriptions(total)).with_extensions(ext);
                return Box::pin(std::future::ready(r));
            };
            let SubscriptionState { conn_id, id_provider, subscription_permit } = state;
            tokio::spawn(async move {
                // Resolves once jsonrpsee dropped the permit: the subscription
                // is over (or was never accepted).
                let _ = lifetime.acquire().await;
                drop((slot, subscription_permit));
            });
            inner(
                id,
                params,
                sink,
                SubscriptionState { conn_id, id_provider, subscription_permit: held_by_jsonrpsee },
                ext,
            )
        });
        module.verify_and_insert(name, MethodCallback::Subscription(wrapped))?;
    }
    Ok(slots)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use ledger::{Hash, Height};
    use rpc_api::types::{BlockNotice, NewBlock};

    /// docs/rpc.md sizes a block subscription's queue at up to 300 bytes a
    /// notification: the largest one a block can produce fits.
    #[test]
    fn a_block_notification_is_at_most_300_bytes() {
        let n = BlockNotice::Block(NewBlock {
            height: Height(u64::MAX),
            hash: Hash([0xff; 32]),
            state_root: Hash([0xff; 32]),
            time_ms: u64::MAX,
            num_txs: u64::MAX,
            gas_used: u64::MAX,
        });
        let queued = serde_json::to_string(&n).unwrap().len();
        assert!(queued <= 300, "{queued} bytes");
    }
}
