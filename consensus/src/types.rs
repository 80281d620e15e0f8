//! Basic vocabulary shared by every layer: heights, rounds, value ids,
//! validator ids, voting power, vote types, steps, signatures and the chain
//! id. These are plain newtypes so that a round can never be passed where a
//! height is expected; "nil" rounds (the paper's −1) are `Option<Round>`.

use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};

use crate::error::Error;

/// Block height. Heights start at 1 in Agora but the core does not care.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub struct Height(pub u64);

impl Height {
    /// The following height, `None` on overflow (a chain will never get there,
    /// but the core refuses to wrap rather than assume it).
    pub fn next(self) -> Option<Height> {
        self.0.checked_add(1).map(Height)
    }
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Round within a height. The paper's `−1` ("no round") is `Option<Round>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub struct Round(pub u32);

impl Round {
    /// Round 0, the first round of every height.
    pub const ZERO: Round = Round(0);

    /// The following round, `None` on overflow.
    pub fn next(self) -> Option<Round> {
        self.0.checked_add(1).map(Round)
    }
}

impl fmt::Display for Round {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Identifier of a proposed value: the node's block hash. The core never
/// sees block contents, only this id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub struct ValueId(pub [u8; 32]);

impl fmt::Debug for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ValueId({})", short_hex(&self.0))
    }
}

impl fmt::Display for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&short_hex(&self.0))
    }
}

/// A validator's identity: its ed25519 public key (32 bytes). It doubles as
/// its address; ordering by these bytes is the canonical validator order and
/// the proposer tie-break (lowest id wins).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub struct ValidatorId(pub [u8; 32]);

impl fmt::Debug for ValidatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ValidatorId({})", short_hex(&self.0))
    }
}

impl fmt::Display for ValidatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&short_hex(&self.0))
    }
}

/// Voting power of one validator. Thresholds are always computed on power,
/// never on validator counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub struct VotingPower(pub u64);

/// The two kinds of votes of Algorithm 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub enum VoteType {
    /// ⟨PREVOTE, h, r, id(v) | nil⟩
    Prevote,
    /// ⟨PRECOMMIT, h, r, id(v) | nil⟩
    Precommit,
}

/// `step_p` of Algorithm 1. The derived order (propose < prevote <
/// precommit) is the order the paper's `step_p ≥ prevote` relies on, and the
/// order the double-sign guard uses within a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub enum Step {
    /// Waiting for (or making) the round's proposal.
    Propose,
    /// Prevoted in this round.
    Prevote,
    /// Precommitted in this round.
    Precommit,
}

impl From<VoteType> for Step {
    fn from(t: VoteType) -> Step {
        match t {
            VoteType::Prevote => Step::Prevote,
            VoteType::Precommit => Step::Precommit,
        }
    }
}

/// An ed25519 signature (R ‖ s), kept as raw bytes so that messages stay
/// plain data; it is parsed only when verified.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", short_hex(&self.0))
    }
}

/// Maximum length of a chain id, in bytes.
pub const MAX_CHAIN_ID_LEN: usize = 64;

/// The chain id. It is part of every sign-bytes so a signature for one chain
/// can never be replayed on another.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize)]
pub struct ChainId(String);

impl ChainId {
    /// A chain id: 1..=64 printable ASCII characters (no spaces), so it
    /// renders unambiguously in logs and sign-bytes.
    pub fn new(id: impl Into<String>) -> Result<ChainId, Error> {
        let id = id.into();
        let ok = !id.is_empty() && id.len() <= MAX_CHAIN_ID_LEN && id.bytes().all(|b| b.is_ascii_graphic());
        if ok { Ok(ChainId(id)) } else { Err(Error::InvalidChainId) }
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// First 8 hex digits of a byte string, for logs and `Debug`.
pub(crate) fn short_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(8);
    for b in bytes.iter().take(4) {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}
