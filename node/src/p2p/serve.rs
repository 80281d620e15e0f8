//! Serving peers: block-sync requests (bounded per peer and in total) and
//! admission of gossiped transaction batches.

use libp2p::PeerId;
use libp2p::gossipsub::MessageAcceptance;
use libp2p::request_response::{self, ResponseChannel};

use super::wire::{MAX_SYNC_BLOCKS, MAX_TX_FETCH, SyncRequest, SyncResponse, TX_BATCH_MAX};
use super::{
    Internal, MAX_SERVED_PER_SECOND, MAX_SERVING, MAX_SERVING_PER_PEER, MAX_TX_REQUESTS_PER_SECOND, NetEvent, NetHost,
    Task, TxAdmission,
};

/// Admits a gossiped batch: any undecodable or badly signed transaction
/// rejects the batch (the sender is penalised); a batch with at least one
/// new transaction is forwarded; a batch of only known ones is dropped.
pub(super) fn admit_batch(host: &dyn NetHost, batch: &[Vec<u8>]) -> MessageAcceptance {
    if batch.is_empty() || batch.len() > TX_BATCH_MAX {
        return MessageAcceptance::Reject;
    }
    let verdicts = host.admit_txs(batch);
    if verdicts.contains(&TxAdmission::Invalid) {
        MessageAcceptance::Reject
    } else if verdicts.contains(&TxAdmission::Admitted) {
        MessageAcceptance::Accept
    } else {
        MessageAcceptance::Ignore
    }
}

impl Task {
    /// Answers a sync request: status at once; blocks off the swarm task,
    /// at most `MAX_SERVING_PER_PEER` at once and `MAX_SERVED_PER_SECOND`
    /// a second per peer, and `MAX_SERVING` in total (past that: "busy",
    /// without reading the store).
    pub(super) fn serve(&mut self, peer: PeerId, request: SyncRequest, channel: ResponseChannel<SyncResponse>) {
        let (from, max) = match request {
            SyncRequest::Status => {
                let response = SyncResponse::Status { genesis: self.genesis_hash, tip: self.host.tip_height() };
                let _ = self.swarm.behaviour_mut().sync.send_response(channel, response);
                return;
            }
            SyncRequest::Blocks { from, max } => (from, max.min(MAX_SYNC_BLOCKS)),
            SyncRequest::Txs { hashes } => {
                // Answered here from the mempool (a map lookup per hash, at
                // most MAX_TX_FETCH of them), within the same per-peer rate.
                let response = if hashes.len() > MAX_TX_FETCH {
                    SyncResponse::Error(format!("more than {MAX_TX_FETCH} hashes"))
                } else if !self.may_serve(peer, false) {
                    SyncResponse::Error(super::BUSY.into())
                } else {
                    let (txs, bytes) = self.host.txs_by_hash(&hashes, self.max_tx_response);
                    if let Some(w) = self.serve_window.get_mut(&peer) {
                        w.3 = w.3.saturating_add(bytes);
                    }
                    SyncResponse::Txs(txs)
                };
                let _ = self.swarm.behaviour_mut().sync.send_response(channel, response);
                return;
            }
        };
        if !self.may_serve(peer, true) {
            let _ = self.swarm.behaviour_mut().sync.send_response(channel, SyncResponse::Error(super::BUSY.into()));
            return;
        }
        *self.serving.entry(peer).or_default() += 1;
        let host = self.host.clone();
        let out = self.internal.0.clone();
        tokio::task::spawn_blocking(move || {
            let response = match host.certified_blocks(from, max) {
                Ok(blocks) => SyncResponse::Blocks(blocks),
                Err(e) => SyncResponse::Error(e),
            };
            let _ = out.blocking_send(Internal::Respond(peer, channel, response));
        });
    }

    /// Whether `peer` may be served now (then counted in its second's
    /// window). Block requests (`blocks`, served off the swarm task): at most
    /// `MAX_SERVED_PER_SECOND` a second per peer, `MAX_SERVING_PER_PEER` at
    /// once and `MAX_SERVING` in total. Transaction requests (answered on the
    /// swarm task from the mempool): at most `MAX_TX_REQUESTS_PER_SECOND`, and
    /// none once two blocks' worth of bytes went to the peer this second.
    fn may_serve(&mut self, peer: PeerId, blocks: bool) -> bool {
        let total: usize = self.serving.values().sum();
        let mine = self.serving.get(&peer).copied().unwrap_or(0);
        let now = tokio::time::Instant::now();
        let window = self.serve_window.entry(peer).or_insert((now, 0, 0, 0));
        if now.duration_since(window.0) >= std::time::Duration::from_secs(1) {
            *window = (now, 0, 0, 0);
        }
        if blocks {
            if window.1 >= MAX_SERVED_PER_SECOND || total >= MAX_SERVING || mine >= MAX_SERVING_PER_PEER {
                return false;
            }
            window.1 += 1;
        } else {
            if window.2 >= MAX_TX_REQUESTS_PER_SECOND || window.3 >= 2 * self.max_tx_response {
                return false;
            }
            window.2 += 1;
        }
        true
    }

    /// Sync requests from peers, and the answers to ours.
    pub(super) fn on_sync(&mut self, ev: request_response::Event<SyncRequest, SyncResponse>) {
        match ev {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request, channel, .. } => self.serve(peer, request, channel),
                request_response::Message::Response { request_id, response } => {
                    let was_blocks = self.pending_blocks.remove(&request_id).is_some();
                    let txs_tag = self.pending_txs.remove(&request_id);
                    // Any other answer to a transaction request is a failure.
                    if let Some(tag) = txs_tag
                        && !matches!(response, SyncResponse::Txs(_))
                    {
                        self.send_event(NetEvent::TxsFailed { peer, tag });
                        return;
                    }
                    match response {
                        SyncResponse::Txs(txs) => {
                            if let Some(tag) = txs_tag {
                                self.send_event(NetEvent::Txs { peer, tag, txs });
                            }
                            // Transactions we did not ask for: not looked at.
                        }
                        SyncResponse::Status { genesis, tip } => {
                            if genesis == self.genesis_hash {
                                self.send_event(NetEvent::PeerStatus { peer, tip });
                            } else {
                                self.penalise(peer, "on another chain (genesis differs)");
                            }
                        }
                        SyncResponse::Blocks(blocks) if was_blocks => {
                            self.send_event(NetEvent::Blocks { peer, blocks });
                        }
                        // Blocks we did not ask for: not looked at.
                        SyncResponse::Blocks(_) => {}
                        SyncResponse::Error(reason) => {
                            if was_blocks {
                                self.send_event(NetEvent::SyncFailed { peer, reason });
                            }
                        }
                    }
                }
            },
            request_response::Event::OutboundFailure { peer, request_id, error, .. }
                if self.pending_blocks.contains_key(&request_id) =>
            {
                self.pending_blocks.remove(&request_id);
                self.send_event(NetEvent::SyncFailed { peer, reason: error.to_string() });
            }
            request_response::Event::OutboundFailure { peer, request_id, .. }
                if self.pending_txs.contains_key(&request_id) =>
            {
                if let Some(tag) = self.pending_txs.remove(&request_id) {
                    self.send_event(NetEvent::TxsFailed { peer, tag });
                }
            }
            _ => {}
        }
    }
}
