//! Transactions: the signed body, its canonical bytes, and the verified form
//! that the mempool and block execution share (each signature is checked once).

use std::sync::Arc;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::crypto::{PublicKey, Signature, SigningKey};
use crate::error::InvalidTx;
use crate::staking::{CommissionRates, MetadataUpdate, ValidatorMetadata};
use crate::types::{Address, Amount, Hash, Rate};

/// Domain tag prepended to a transaction body before signing, so a signature
/// over a transaction can never be mistaken for a signature over anything else.
pub const TX_SIGN_DOMAIN: &[u8] = b"agora/tx/v1\0";

/// What a transaction does.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Payload {
    /// Move `amount` of the native token from the sender to `to`.
    Transfer { to: Address, amount: Amount },
    /// Upload WebAssembly contract code; the receipt's `data` is its SHA-256
    /// code hash, under which it can be instantiated any number of times.
    StoreCode {
        #[serde(with = "crate::types::hex_bytes")]
        code: Vec<u8>,
    },
    /// Create a contract from stored code: runs its `instantiate` entry point
    /// with `msg`, after moving `funds` from the sender to the new contract.
    /// The receipt's `data` is the contract address (see `contract_address`).
    Instantiate {
        code_hash: Hash,
        label: String,
        #[serde(with = "crate::types::hex_bytes")]
        msg: Vec<u8>,
        funds: Amount,
    },
    /// Call a contract's `execute` entry point with `msg`, after moving
    /// `funds` from the sender to the contract. The receipt's `data` is what
    /// the contract returned.
    Execute {
        contract: Address,
        #[serde(with = "crate::types::hex_bytes")]
        msg: Vec<u8>,
        funds: Amount,
    },
    /// Create a validator operated by the sender, bonding `self_stake` of its
    /// tokens; it joins the active set (at H+2) if its stake ranks in the top
    /// `max_validators`.
    CreateValidator {
        consensus_key: PublicKey,
        self_stake: Amount,
        commission: CommissionRates,
        min_self_delegation: Amount,
        metadata: ValidatorMetadata,
    },
    /// Change the sender's validator: commission rate (within its max rate
    /// and max change rate, once per period), minimum self-delegation (only
    /// up), metadata fields.
    EditValidator {
        #[serde(default)]
        commission_rate: Option<Rate>,
        #[serde(default)]
        min_self_delegation: Option<Amount>,
        #[serde(default)]
        metadata: MetadataUpdate,
    },
    /// Bond `amount` of the sender's tokens to a validator.
    Delegate { validator: Address, amount: Amount },
    /// Start unbonding `amount` from a validator: it stops earning at once
    /// and returns after the unbonding period.
    Undelegate { validator: Address, amount: Amount },
    /// Move `amount` of bonded stake to another validator at once (it stays
    /// slashable at the source for the unbonding period).
    Redelegate { src_validator: Address, dst_validator: Address, amount: Amount },
    /// Withdraw delegation rewards from one validator or (`None`) from all,
    /// and an operator's commission.
    WithdrawRewards {
        #[serde(default)]
        validator: Option<Address>,
    },
    /// Return the sender's jailed validator to candidacy after its jail time.
    Unjail {},
    /// [`Payload::Instantiate`] naming the contract's admin: the account
    /// allowed to migrate it ([`Payload::Migrate`]) and to change or clear
    /// the admin ([`Payload::UpdateAdmin`]). `Instantiate` is this with
    /// `admin: None`. (A separate variant, so that every existing
    /// transaction keeps its bytes and hash.)
    InstantiateWithAdmin {
        code_hash: Hash,
        label: String,
        #[serde(with = "crate::types::hex_bytes")]
        msg: Vec<u8>,
        funds: Amount,
        #[serde(default)]
        admin: Option<Address>,
    },
    /// Switch a contract to other stored code and run the new code's
    /// `migrate` entry point with `msg`; the contract keeps its address,
    /// storage and balance. Only the contract's admin may; if `migrate`
    /// fails (or the code has none) nothing changes and the receipt fails.
    Migrate {
        contract: Address,
        code_hash: Hash,
        #[serde(with = "crate::types::hex_bytes")]
        msg: Vec<u8>,
    },
    /// Set (or, with `None`, clear for good) a contract's admin. Only the
    /// current admin may.
    UpdateAdmin {
        contract: Address,
        #[serde(default)]
        admin: Option<Address>,
    },
}

/// The signed part of a transaction. Its borsh bytes (with [`TX_SIGN_DOMAIN`])
/// are what the sender signs; they include the chain id, so a transaction can
/// not be replayed on another chain, and the nonce, so it cannot be replayed here.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxBody {
    pub chain_id: String,
    pub sender: PublicKey,
    pub nonce: u64,
    pub gas_limit: u64,
    pub gas_price: Amount,
    pub payload: Payload,
}

impl TxBody {
    pub fn sign_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TX_SIGN_DOMAIN.len() + 128);
        out.extend_from_slice(TX_SIGN_DOMAIN);
        BorshSerialize::serialize(self, &mut out).expect("writing to a Vec cannot fail");
        out
    }

    pub fn sender_address(&self) -> Address {
        self.sender.address()
    }

    /// gas_limit × gas_price, the most this transaction can cost in fees.
    pub fn max_fee(&self) -> Option<Amount> {
        self.gas_price.checked_mul(u128::from(self.gas_limit))
    }

    pub fn sign(self, key: &SigningKey) -> SignedTx {
        let signature = Signature::sign(key, &self.sign_bytes());
        SignedTx { body: self, signature }
    }
}

/// A transaction with its signature: the unit that is gossiped and put in blocks.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedTx {
    pub body: TxBody,
    pub signature: Signature,
}

impl SignedTx {
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("writing to a Vec cannot fail")
    }

    /// The transaction hash: SHA-256 of its canonical bytes.
    pub fn hash(&self) -> Hash {
        Hash::digest(&self.encode())
    }

    /// Decodes canonical bytes; trailing bytes are an error.
    pub fn decode(bytes: &[u8]) -> Result<SignedTx, InvalidTx> {
        borsh::from_slice(bytes).map_err(|e| InvalidTx::Malformed(e.to_string()))
    }

    /// Checks the signature (once) and returns the verified form.
    pub fn verify(self) -> Result<VerifiedTx, InvalidTx> {
        let bytes = self.encode();
        Self::verify_with_bytes(self, &bytes)
    }

    fn verify_with_bytes(tx: SignedTx, bytes: &[u8]) -> Result<VerifiedTx, InvalidTx> {
        if !tx.body.sender.verify(&tx.body.sign_bytes(), &tx.signature) {
            return Err(InvalidTx::BadSignature);
        }
        Ok(Self::checked(tx, bytes))
    }

    fn checked(tx: SignedTx, bytes: &[u8]) -> VerifiedTx {
        VerifiedTx(Arc::new(VerifiedInner {
            hash: Hash::digest(bytes),
            sender: tx.body.sender_address(),
            encoded_len: bytes.len(),
            tx,
        }))
    }

    /// [`SignedTx::verify`] for many transactions, checked in batches
    /// ([`crate::sigbatch`]): the same verdict for each, in order.
    pub fn verify_all(txs: Vec<SignedTx>) -> Vec<Result<VerifiedTx, InvalidTx>> {
        let ok = crate::sigbatch::verdicts(&txs.iter().map(|t| (&t.body, &t.signature)).collect::<Vec<_>>());
        txs.into_iter()
            .zip(ok)
            .map(|(tx, ok)| {
                if !ok {
                    return Err(InvalidTx::BadSignature);
                }
                let bytes = tx.encode();
                Ok(Self::checked(tx, &bytes))
            })
            .collect()
    }
}

/// A transaction whose signature has been checked, with its hash, sender
/// address and encoded size computed once. Cheap to clone (shared).
///
/// Only [`SignedTx::verify`] and [`VerifiedTx::from_bytes`] create one, so
/// holding a `VerifiedTx` proves the signature was checked.
#[derive(Clone, Debug)]
pub struct VerifiedTx(Arc<VerifiedInner>);

#[derive(Debug)]
struct VerifiedInner {
    tx: SignedTx,
    hash: Hash,
    sender: Address,
    encoded_len: usize,
}

/// A transaction decoded from raw bytes (size limit and strict decoding
/// checked, hash computed) whose signature has not been checked yet: lets a
/// node drop duplicates and already-committed transactions before paying for
/// a signature verification.
#[derive(Clone, Debug)]
pub struct UncheckedTx {
    tx: SignedTx,
    hash: Hash,
    sender: Address,
    encoded_len: usize,
}

impl UncheckedTx {
    /// Checks the size limit first, so oversized input is refused before any
    /// work is done on it, then decodes strictly.
    pub fn from_bytes(bytes: &[u8], max_tx_bytes: usize) -> Result<UncheckedTx, InvalidTx> {
        if bytes.len() > max_tx_bytes {
            return Err(InvalidTx::TooLarge { size: bytes.len(), limit: max_tx_bytes });
        }
        let tx = SignedTx::decode(bytes)?;
        let sender = tx.body.sender_address();
        Ok(UncheckedTx { tx, hash: Hash::digest(bytes), sender, encoded_len: bytes.len() })
    }

    pub fn hash(&self) -> Hash {
        self.hash
    }

    /// The body as sent, **not authenticated**: only fit for checks that
    /// refuse (a nonce the state or a mempool already rules out), never for
    /// anything that admits or trusts it.
    pub fn unverified_body(&self) -> &TxBody {
        &self.tx.body
    }

    /// The address of the body's claimed sender (see [`Self::unverified_body`]).
    pub fn unverified_sender(&self) -> Address {
        self.sender
    }

    pub fn encoded_len(&self) -> usize {
        self.encoded_len
    }

    /// Checks the signature and returns the verified form.
    pub fn verify(self) -> Result<VerifiedTx, InvalidTx> {
        if !self.tx.body.sender.verify(&self.tx.body.sign_bytes(), &self.tx.signature) {
            return Err(InvalidTx::BadSignature);
        }
        Ok(self.checked())
    }

    fn checked(self) -> VerifiedTx {
        let UncheckedTx { tx, hash, sender, encoded_len } = self;
        VerifiedTx(Arc::new(VerifiedInner { hash, sender, encoded_len, tx }))
    }

    /// [`UncheckedTx::verify`] for many transactions, checked in batches
    /// ([`crate::sigbatch`]): the same verdict for each, in order.
    pub fn verify_all(txs: Vec<UncheckedTx>) -> Vec<Result<VerifiedTx, InvalidTx>> {
        let ok = crate::sigbatch::verdicts(&txs.iter().map(|t| (&t.tx.body, &t.tx.signature)).collect::<Vec<_>>());
        txs.into_iter()
            .zip(ok)
            .map(|(tx, ok)| if ok { Ok(tx.checked()) } else { Err(InvalidTx::BadSignature) })
            .collect()
    }
}

impl VerifiedTx {
    /// Decodes and verifies raw transaction bytes, checking the size limit first
    /// so oversized input is refused before any work is done on it.
    pub fn from_bytes(bytes: &[u8], max_tx_bytes: usize) -> Result<VerifiedTx, InvalidTx> {
        UncheckedTx::from_bytes(bytes, max_tx_bytes)?.verify()
    }

    pub fn tx(&self) -> &SignedTx {
        &self.0.tx
    }
    pub fn body(&self) -> &TxBody {
        &self.0.tx.body
    }
    pub fn hash(&self) -> Hash {
        self.0.hash
    }
    pub fn sender(&self) -> Address {
        self.0.sender
    }
    pub fn encoded_len(&self) -> usize {
        self.0.encoded_len
    }
}
