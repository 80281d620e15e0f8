//! What travels between nodes: the consensus and block-sync messages (borsh)
//! and the length-prefixed framing of the sync protocol, with its limits.

use std::io;
use std::time::Duration;

use borsh::{BorshDeserialize, BorshSerialize};
use consensus::{SignedProposal, SignedVote};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ledger::{Block, CertifiedBlock, Hash, Height};
use libp2p::StreamProtocol;
use libp2p::request_response;

/// A consensus message as it travels on the consensus topic. A proposal
/// carries its block (honest nodes send it compact, transactions by hash),
/// so every validator can execute it before voting.
#[derive(Clone, Debug, BorshSerialize, BorshDeserialize)]
pub enum ConsensusMsg {
    Proposal {
        proposal: SignedProposal,
        block: Box<Block>,
    },
    Vote(SignedVote),
    /// A proposal whose block names its transactions by hash (how honest
    /// nodes send proposals; see [`ledger::CompactBlock`]). A receiver
    /// fills it from its mempool and asks the sender for the rest
    /// ([`SyncRequest::Txs`]).
    CompactProposal {
        proposal: SignedProposal,
        block: Box<ledger::CompactBlock>,
    },
}

/// Block-sync requests.
#[derive(Clone, Debug, BorshSerialize, BorshDeserialize)]
pub enum SyncRequest {
    /// What is your latest committed height?
    Status,
    /// Decided blocks `from..` (at most `max`), each with its certificate.
    Blocks { from: Height, max: u32 },
    /// The transactions with these hashes (at most [`MAX_TX_FETCH`]) the
    /// peer holds: those of a compact proposal the asker lacks.
    Txs { hashes: Vec<Hash> },
}

/// Block-sync responses.
#[derive(Clone, Debug, BorshSerialize, BorshDeserialize)]
pub enum SyncResponse {
    Status {
        genesis: Hash,
        tip: Height,
    },
    Blocks(Vec<CertifiedBlock>),
    Error(String),
    /// The asked-for transactions this peer holds, in the order asked
    /// (those it lacks are left out).
    Txs(Vec<ledger::SignedTx>),
}

/// Most transaction hashes one request may name.
pub const MAX_TX_FETCH: usize = 8192;
/// Largest sync request accepted: a transaction request at its bound (block
/// requests are tiny).
pub(super) const MAX_SYNC_REQUEST: usize = 64 + 32 * MAX_TX_FETCH;
/// Most blocks a peer may ask for in one request.
pub const MAX_SYNC_BLOCKS: u32 = 64;
/// Transactions per gossiped batch, and how long a partial batch waits.
pub(super) const TX_BATCH_MAX: usize = 512;
pub(super) const TX_BATCH_BYTES: usize = 512 * 1024;
pub(super) const TX_BATCH_DELAY: Duration = Duration::from_millis(5);

/// Bytes in front of every gossip message's payload: a random nonce.
pub const GOSSIP_NONCE_LEN: usize = 8;

/// A gossip message as published: a fresh random nonce, then `payload`.
/// Gossip is anonymous (no author, sequence number or libp2p signature; see
/// `super::start`), so the nonce is what makes two publications of one
/// payload two messages: a node's rebroadcast of its own vote must not be
/// dropped as a copy of the first publication.
pub fn gossip_frame(payload: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(GOSSIP_NONCE_LEN + payload.len());
    data.extend_from_slice(&rand::random::<[u8; GOSSIP_NONCE_LEN]>());
    data.extend_from_slice(payload);
    data
}

/// The payload of a received gossip message, without its nonce (`None`: too
/// short to have one, an invalid message).
pub fn gossip_payload(data: &[u8]) -> Option<&[u8]> {
    data.get(GOSSIP_NONCE_LEN..)
}

/// Length-prefixed borsh over a libp2p stream, with explicit size limits.
#[derive(Clone, Debug)]
pub struct SyncCodec {
    pub(super) max_response: usize,
}

impl SyncCodec {
    /// A codec that refuses responses larger than `max_response` bytes.
    pub fn new(max_response: usize) -> SyncCodec {
        SyncCodec { max_response }
    }
}

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, max: usize) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("frame of {len} bytes exceeds {max}")));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    Ok(buf)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(bytes).await?;
    io.close().await
}

fn decode<T: BorshDeserialize>(bytes: &[u8]) -> io::Result<T> {
    borsh::from_slice(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

fn encode<T: BorshSerialize>(v: &T) -> io::Result<Vec<u8>> {
    borsh::to_vec(v).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

impl request_response::Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = SyncRequest;
    type Response = SyncResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        decode(&read_frame(io, MAX_SYNC_REQUEST).await?)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        decode(&read_frame(io, self.max_response).await?)
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, req: SyncRequest) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &encode(&req)?).await
    }

    async fn write_response<T>(&mut self, _: &StreamProtocol, io: &mut T, res: SyncResponse) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &encode(&res)?).await
    }
}
