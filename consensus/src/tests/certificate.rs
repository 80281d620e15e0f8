//! Commit certificates and evidence verification.

use super::{Fixture, chain, val};
use crate::signing::sign_vote_unguarded;
use crate::*;

fn cert(fx: &Fixture, signers: &[usize], h: u64, r: u32, v: u8) -> CommitCertificate {
    let mut signatures: Vec<CommitSignature> = signers
        .iter()
        .map(|i| CommitSignature {
            validator: fx.id(*i),
            signature: fx.vote(*i, VoteType::Precommit, h, r, Some(v)).signature,
        })
        .collect();
    signatures.sort_by_key(|s| s.validator);
    CommitCertificate { height: Height(h), round: Round(r), value_id: val(v), signatures }
}

#[test]
fn valid_certificate_verifies() {
    let fx = Fixture::new(&[10, 20, 30, 40]);
    // 30 + 40 = 70 > 66.6
    let c = cert(&fx, &[2, 3], 5, 1, 9);
    assert_eq!(c.verify(&fx.set, &chain()), Ok(()));
    assert_eq!(c.verify_for_height(Height(5), &fx.set, &chain()), Ok(()));
    assert!(matches!(c.verify_for_height(Height(6), &fx.set, &chain()), Err(Error::CertificateHeight { .. })));
}

#[test]
fn insufficient_power_is_rejected() {
    let fx = Fixture::new(&[10, 20, 30, 40]);
    // 10 + 20 + 30 = 60: three of four validators, but not 2/3 of power.
    let c = cert(&fx, &[0, 1, 2], 5, 1, 9);
    assert_eq!(c.verify(&fx.set, &chain()), Err(Error::InsufficientVotingPower));
    let empty = cert(&fx, &[], 5, 1, 9);
    assert_eq!(empty.verify(&fx.set, &chain()), Err(Error::InsufficientVotingPower));
}

#[test]
fn duplicates_and_order_are_rejected() {
    let fx = Fixture::new(&[10, 20, 30, 40]);
    let mut c = cert(&fx, &[2, 3], 5, 1, 9);
    // Duplicate signer (would double count power).
    let dup = c.signatures[0];
    c.signatures.insert(1, dup);
    assert_eq!(c.verify(&fx.set, &chain()), Err(Error::CertificateNotCanonical));
    let mut c = cert(&fx, &[2, 3], 5, 1, 9);
    c.signatures.reverse();
    assert_eq!(c.verify(&fx.set, &chain()), Err(Error::CertificateNotCanonical));
}

#[test]
fn bad_signatures_and_strangers_are_rejected() {
    let fx = Fixture::new(&[10, 20, 30, 40]);
    let mut c = cert(&fx, &[1, 2, 3], 5, 1, 9);
    c.signatures[0].signature.0[3] ^= 1;
    assert!(matches!(c.verify(&fx.set, &chain()), Err(Error::InvalidSignature(_))));
    // Signatures over another value / round / chain do not count.
    let mut c = cert(&fx, &[2, 3], 5, 1, 9);
    c.value_id = val(8);
    assert!(c.verify(&fx.set, &chain()).is_err());
    let mut c = cert(&fx, &[2, 3], 5, 1, 9);
    c.round = Round(2);
    assert!(c.verify(&fx.set, &chain()).is_err());
    let c = cert(&fx, &[2, 3], 5, 1, 9);
    assert!(c.verify(&fx.set, &ChainId::new("elsewhere").unwrap()).is_err());
    // A validator of another set.
    let key = ed25519_dalek::SigningKey::from_bytes(&[77; 32]);
    let stranger = ValidatorId(key.verifying_key().to_bytes());
    let mut c = cert(&fx, &[2, 3], 5, 1, 9);
    let vote = Vote::precommit(Height(5), Round(1), Some(val(9)), stranger);
    c.signatures
        .push(CommitSignature { validator: stranger, signature: sign_vote_unguarded(&key, &chain(), vote).signature });
    c.signatures.sort_by_key(|s| s.validator);
    assert_eq!(c.verify(&fx.set, &chain()), Err(Error::UnknownValidator(stranger)));
}

#[test]
fn certificate_from_decision_roundtrips_through_borsh() {
    let fx = Fixture::new(&[1, 1, 1, 1]);
    let c = cert(&fx, &[0, 1, 3], 2, 0, 4);
    let bytes = borsh::to_vec(&c).unwrap();
    let back: CommitCertificate = borsh::from_slice(&bytes).unwrap();
    assert_eq!(back, c);
    assert_eq!(back.verify(&fx.set, &chain()), Ok(()));
}

#[test]
fn evidence_verification() {
    let fx = Fixture::new(&[1, 1, 1, 1]);
    let a = fx.vote(1, VoteType::Prevote, 3, 2, Some(1));
    let b = fx.vote(1, VoteType::Prevote, 3, 2, Some(2));
    let ok = Evidence::DuplicateVote { first: a.clone(), second: b.clone() };
    assert_eq!(ok.verify(&fx.set, &chain()), Ok(()));
    assert_eq!(ok.key(), EvidenceKey::Vote(fx.id(1), Height(3), Round(2), VoteType::Prevote));
    // Same value twice is not an equivocation.
    let same = Evidence::DuplicateVote { first: a.clone(), second: a.clone() };
    assert_eq!(same.verify(&fx.set, &chain()), Err(Error::InvalidEvidence));
    // Different slots are not an equivocation.
    let c = fx.vote(1, VoteType::Precommit, 3, 2, Some(2));
    let slots = Evidence::DuplicateVote { first: a.clone(), second: c };
    assert_eq!(slots.verify(&fx.set, &chain()), Err(Error::InvalidEvidence));
    // A forged half is rejected.
    let mut forged = b;
    forged.signature.0[9] ^= 1;
    let bad = Evidence::DuplicateVote { first: a, second: forged };
    assert!(matches!(bad.verify(&fx.set, &chain()), Err(Error::InvalidSignature(_))));
}
