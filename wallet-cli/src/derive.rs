//! Key derivation: BIP39 mnemonic → seed → SLIP-0010 ed25519 key.
//!
//! * The mnemonic is a 24-word English BIP39 phrase (256 bits of entropy) and
//!   the BIP39 seed is computed with an **empty passphrase**.
//! * The account key is derived from the seed with SLIP-0010 for ed25519 on the
//!   path [`DEFAULT_PATH`] = `m/44'/7777'/0'/0'/0'` (purpose 44', coin type
//!   7777' for Agora, account 0', change 0', index 0'). SLIP-0010 defines only
//!   hardened derivation for ed25519, so every level is hardened.
//!
//! SLIP-0010 for ed25519, as implemented here:
//! master: `I = HMAC-SHA512(key = "ed25519 seed", data = seed)`, secret = `I[..32]`,
//! chain code = `I[32..]`; hardened child `i`:
//! `I = HMAC-SHA512(key = chain code, data = 0x00 ‖ secret ‖ ser32(i))`, with the
//! same split. The ed25519 signing key is the 32-byte secret (used as an
//! ed25519 seed, as RFC 8032 defines private keys).

use std::fmt;
use std::str::FromStr;

use bip39::{Language, Mnemonic};
use hmac::{Hmac, Mac};
use ledger::{Address, PublicKey, SigningKey};
use sha2::Sha512;
use zeroize::Zeroizing;

use crate::error::{Result, WalletError};

/// Agora's derivation path (SLIP-0010, ed25519, all levels hardened).
pub const DEFAULT_PATH: &str = "m/44'/7777'/0'/0'/0'";

/// Number of words of a newly generated mnemonic.
pub const MNEMONIC_WORDS: usize = 24;

const HARDENED: u32 = 0x8000_0000;
const ED25519_CURVE_KEY: &[u8] = b"ed25519 seed";

type HmacSha512 = Hmac<Sha512>;

/// A SLIP-0010 ed25519 derivation path: a list of hardened indexes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerivationPath(Vec<u32>);

impl DerivationPath {
    /// The path [`DEFAULT_PATH`].
    pub fn agora_default() -> DerivationPath {
        DerivationPath(vec![44 | HARDENED, 7777 | HARDENED, HARDENED, HARDENED, HARDENED])
    }

    /// The indexes, each with the hardened bit set.
    pub fn indexes(&self) -> &[u32] {
        &self.0
    }
}

impl FromStr for DerivationPath {
    type Err = WalletError;

    /// Parses `m/44'/7777'/0'` (the hardened marker may be `'`, `h` or `H`).
    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: &str| WalletError::Derivation(format!("invalid path `{s}`: {why}"));
        let mut parts = s.trim().split('/');
        if parts.next() != Some("m") {
            return Err(bad("it must start with `m`"));
        }
        let mut out = Vec::new();
        for part in parts {
            let digits = part
                .strip_suffix('\'')
                .or_else(|| part.strip_suffix('h'))
                .or_else(|| part.strip_suffix('H'))
                .ok_or_else(|| bad("ed25519 (SLIP-0010) supports hardened levels only, e.g. `0'`"))?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(&format!("`{part}` is not an index")));
            }
            let index: u32 = digits.parse().map_err(|_| bad(&format!("`{part}` is too large")))?;
            if index >= HARDENED {
                return Err(bad(&format!("`{part}` is too large (indexes are below 2^31)")));
            }
            out.push(index | HARDENED);
        }
        Ok(DerivationPath(out))
    }
}

impl fmt::Display for DerivationPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("m")?;
        for i in &self.0 {
            write!(f, "/{}'", i & !HARDENED)?;
        }
        Ok(())
    }
}

/// A SLIP-0010 extended private key (secret and chain code), wiped on drop.
pub struct ExtendedKey {
    secret: Zeroizing<[u8; 32]>,
    chain_code: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for ExtendedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExtendedKey(<secret>)")
    }
}

fn hmac_sha512(key: &[u8], parts: &[&[u8]]) -> ExtendedKey {
    let mut mac = <HmacSha512 as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    for p in parts {
        mac.update(p);
    }
    let out = Zeroizing::new(<[u8; 64]>::from(mac.finalize().into_bytes()));
    let mut secret = Zeroizing::new([0u8; 32]);
    let mut chain_code = Zeroizing::new([0u8; 32]);
    secret.copy_from_slice(&out[..32]);
    chain_code.copy_from_slice(&out[32..]);
    ExtendedKey { secret, chain_code }
}

impl ExtendedKey {
    /// The master key of a seed.
    pub fn master(seed: &[u8]) -> ExtendedKey {
        hmac_sha512(ED25519_CURVE_KEY, &[seed])
    }

    /// The hardened child `index` (the hardened bit is added if missing).
    pub fn child(&self, index: u32) -> ExtendedKey {
        let index = index | HARDENED;
        hmac_sha512(self.chain_code.as_slice(), &[&[0u8], self.secret.as_slice(), &index.to_be_bytes()])
    }

    /// Derives the key at `path` from a seed.
    pub fn derive(seed: &[u8], path: &DerivationPath) -> ExtendedKey {
        let mut key = ExtendedKey::master(seed);
        for &i in path.indexes() {
            key = key.child(i);
        }
        key
    }

    /// The 32-byte ed25519 secret key.
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    pub fn chain_code(&self) -> &[u8; 32] {
        &self.chain_code
    }

    /// The ed25519 signing key.
    pub fn signing_key(&self) -> SigningKey {
        SigningKey::from_bytes(&self.secret)
    }
}

/// Generates a new 24-word English mnemonic from the operating system's RNG.
pub fn generate_mnemonic() -> Result<Mnemonic> {
    use rand::RngCore;
    let mut entropy = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(entropy.as_mut_slice());
    Mnemonic::from_entropy_in(Language::English, entropy.as_slice()).map_err(|e| WalletError::Mnemonic(e.to_string()))
}

/// Parses an English mnemonic typed or pasted by a person: case and extra
/// whitespace are ignored; unknown words and bad checksums are reported clearly.
pub fn parse_mnemonic(text: &str) -> Result<Mnemonic> {
    let normalized = Zeroizing::new(text.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join(" "));
    if normalized.is_empty() {
        return Err(WalletError::Mnemonic("it is empty".into()));
    }
    Mnemonic::parse_in_normalized(Language::English, &normalized).map_err(|e| {
        WalletError::Mnemonic(match e {
            bip39::Error::BadWordCount(n) => {
                format!("it has {n} words; a BIP39 mnemonic has 12, 15, 18, 21 or 24 words")
            }
            bip39::Error::UnknownWord(i) => {
                let word = normalized.split(' ').nth(i).unwrap_or("?");
                format!("word {} (`{word}`) is not in the BIP39 English word list", i + 1)
            }
            bip39::Error::InvalidChecksum => "checksum mismatch: a word is wrong or the words are out of order".into(),
            other => other.to_string(),
        })
    })
}

/// The BIP39 seed of a mnemonic (empty passphrase).
pub fn mnemonic_seed(mnemonic: &Mnemonic) -> Zeroizing<[u8; 64]> {
    Zeroizing::new(mnemonic.to_seed_normalized(""))
}

/// The signing key of a mnemonic at `path`.
pub fn signing_key_from_mnemonic(mnemonic: &Mnemonic, path: &DerivationPath) -> SigningKey {
    let seed = mnemonic_seed(mnemonic);
    ExtendedKey::derive(seed.as_slice(), path).signing_key()
}

/// Public key and address of a signing key.
pub fn identity(key: &SigningKey) -> (PublicKey, Address) {
    let pk = PublicKey::from_signing_key(key);
    (pk, pk.address())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    struct Vector {
        path: &'static str,
        chain_code: &'static str,
        private: &'static str,
        public: &'static str,
    }

    fn check(seed_hex: &str, vectors: &[Vector]) {
        let seed = hex::decode(seed_hex).unwrap();
        for v in vectors {
            let path: DerivationPath = v.path.parse().unwrap();
            let key = ExtendedKey::derive(&seed, &path);
            assert_eq!(hex::encode(key.chain_code()), v.chain_code, "chain code at {}", v.path);
            assert_eq!(hex::encode(key.secret()), v.private, "private key at {}", v.path);
            // SLIP-0010 prints ed25519 public keys with a 0x00 prefix.
            let pk = format!("00{}", hex::encode(key.signing_key().verifying_key().to_bytes()));
            assert_eq!(pk, v.public, "public key at {}", v.path);
        }
    }

    /// SLIP-0010 "Test vector 1 for ed25519".
    #[test]
    fn slip10_ed25519_vector_1() {
        check(
            "000102030405060708090a0b0c0d0e0f",
            &[
                Vector {
                    path: "m",
                    chain_code: "90046a93de5380a72b5e45010748567d5ea02bbf6522f979e05c0d8d8ca9fffb",
                    private: "2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7",
                    public: "00a4b2856bfec510abab89753fac1ac0e1112364e7d250545963f135f2a33188ed",
                },
                Vector {
                    path: "m/0'",
                    chain_code: "8b59aa11380b624e81507a27fedda59fea6d0b779a778918a2fd3590e16e9c69",
                    private: "68e0fe46dfb67e368c75379acec591dad19df3cde26e63b93a8e704f1dade7a3",
                    public: "008c8a13df77a28f3445213a0f432fde644acaa215fc72dcdf300d5efaa85d350c",
                },
                Vector {
                    path: "m/0'/1'",
                    chain_code: "a320425f77d1b5c2505a6b1b27382b37368ee640e3557c315416801243552f14",
                    private: "b1d0bad404bf35da785a64ca1ac54b2617211d2777696fbffaf208f746ae84f2",
                    public: "001932a5270f335bed617d5b935c80aedb1a35bd9fc1e31acafd5372c30f5c1187",
                },
                Vector {
                    path: "m/0'/1'/2'",
                    chain_code: "2e69929e00b5ab250f49c3fb1c12f252de4fed2c1db88387094a0f8c4c9ccd6c",
                    private: "92a5b23c0b8a99e37d07df3fb9966917f5d06e02ddbd909c7e184371463e9fc9",
                    public: "00ae98736566d30ed0e9d2f4486a64bc95740d89c7db33f52121f8ea8f76ff0fc1",
                },
                Vector {
                    path: "m/0'/1'/2'/2'",
                    chain_code: "8f6d87f93d750e0efccda017d662a1b31a266e4a6f5993b15f5c1f07f74dd5cc",
                    private: "30d1dc7e5fc04c31219ab25a27ae00b50f6fd66622f6e9c913253d6511d1e662",
                    public: "008abae2d66361c879b900d204ad2cc4984fa2aa344dd7ddc46007329ac76c429c",
                },
                Vector {
                    path: "m/0'/1'/2'/2'/1000000000'",
                    chain_code: "68789923a0cac2cd5a29172a475fe9e0fb14cd6adb5ad98a3fa70333e7afa230",
                    private: "8f94d394a8e8fd6b1bc2f3f49f5c47e385281d5c17e65324b0f62483e37e8793",
                    public: "003c24da049451555d51a7014a37337aa4e12d41e485abccfa46b47dfb2af54b7a",
                },
            ],
        );
    }

    /// SLIP-0010 "Test vector 2 for ed25519".
    #[test]
    fn slip10_ed25519_vector_2() {
        check(
            "fffcf9f6f3f0edeae7e4e1dedbd8d5d2cfccc9c6c3c0bdbab7b4b1aeaba8a5a29f9c999693908d8a8784817e7b7875726f6c696663605d5a5754514e4b484542",
            &[
                Vector {
                    path: "m",
                    chain_code: "ef70a74db9c3a5af931b5fe73ed8e1a53464133654fd55e7a66f8570b8e33c3b",
                    private: "171cb88b1b3c1db25add599712e36245d75bc65a1a5c9e18d76f9f2b1eab4012",
                    public: "008fe9693f8fa62a4305a140b9764c5ee01e455963744fe18204b4fb948249308a",
                },
                Vector {
                    path: "m/0'",
                    chain_code: "0b78a3226f915c082bf118f83618a618ab6dec793752624cbeb622acb562862d",
                    private: "1559eb2bbec5790b0c65d8693e4d0875b1747f4970ae8b650486ed7470845635",
                    public: "0086fab68dcb57aa196c77c5f264f215a112c22a912c10d123b0d03c3c28ef1037",
                },
                Vector {
                    path: "m/0'/2147483647'",
                    chain_code: "138f0b2551bcafeca6ff2aa88ba8ed0ed8de070841f0c4ef0165df8181eaad7f",
                    private: "ea4f5bfe8694d8bb74b7b59404632fd5968b774ed545e810de9c32a4fb4192f4",
                    public: "005ba3b9ac6e90e83effcd25ac4e58a1365a9e35a3d3ae5eb07b9e4d90bcf7506d",
                },
                Vector {
                    path: "m/0'/2147483647'/1'",
                    chain_code: "73bd9fff1cfbde33a1b846c27085f711c0fe2d66fd32e139d3ebc28e5a4a6b90",
                    private: "3757c7577170179c7868353ada796c839135b3d30554bbb74a4b1e4a5a58505c",
                    public: "002e66aa57069c86cc18249aecf5cb5a9cebbfd6fadeab056254763874a9352b45",
                },
                Vector {
                    path: "m/0'/2147483647'/1'/2147483646'",
                    chain_code: "0902fe8a29f9140480a00ef244bd183e8a13288e4412d8389d140aac1794825a",
                    private: "5837736c89570de861ebc173b1086da4f505d4adb387c6a1b1342d5e4ac9ec72",
                    public: "00e33c0f7d81d843c572275f287498e8d408654fdf0d1e065b84e2e6f157aab09b",
                },
                Vector {
                    path: "m/0'/2147483647'/1'/2147483646'/2'",
                    chain_code: "5d70af781f3a37b829f0d060924d5e960bdc02e85423494afc0b1a41bbe196d4",
                    private: "551d333177df541ad876a60ea71f00447931c0a9da16f227c11ea080d7391b8d",
                    public: "0047150c75db263559a70d5778bf36abbab30fb061ad69f69ece61a72b0cfa4fc0",
                },
            ],
        );
    }

    #[test]
    fn path_parsing() {
        assert_eq!(DEFAULT_PATH.parse::<DerivationPath>().unwrap(), DerivationPath::agora_default());
        assert_eq!(DerivationPath::agora_default().to_string(), DEFAULT_PATH);
        assert_eq!("m/1h/2H".parse::<DerivationPath>().unwrap().to_string(), "m/1'/2'");
        assert!("m/0".parse::<DerivationPath>().is_err(), "non-hardened levels are refused");
        assert!("44'/0'".parse::<DerivationPath>().is_err());
        assert!("m/2147483648'".parse::<DerivationPath>().is_err());
        assert!("m/x'".parse::<DerivationPath>().is_err());
    }

    /// BIP39 reference vector (Trezor's vectors.json, empty passphrase for the seed).
    #[test]
    fn bip39_seed_vector() {
        let m = parse_mnemonic(
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
        )
        .unwrap();
        assert_eq!(
            hex::encode(mnemonic_seed(&m).as_slice()),
            "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4"
        );
    }

    #[test]
    fn mnemonic_round_trip() {
        let m = generate_mnemonic().unwrap();
        assert_eq!(m.word_count(), MNEMONIC_WORDS);
        let text = m.to_string();
        // Extra spaces, new lines and capitals are tolerated.
        let messy = format!("  {}\n", text.to_uppercase().replace(' ', "   "));
        let back = parse_mnemonic(&messy).unwrap();
        assert_eq!(back, m);
        let path = DerivationPath::agora_default();
        assert_eq!(signing_key_from_mnemonic(&m, &path).to_bytes(), signing_key_from_mnemonic(&back, &path).to_bytes());
        assert_ne!(generate_mnemonic().unwrap(), m, "two new mnemonics differ");
    }

    #[test]
    fn mnemonic_errors_are_clear() {
        let bad_checksum = ["abandon"; 24].join(" ");
        let e = parse_mnemonic(&bad_checksum).unwrap_err().to_string();
        assert!(e.contains("checksum"), "{e}");
        let unknown = format!("{} bitcoinz", ["abandon"; 23].join(" "));
        let e = parse_mnemonic(&unknown).unwrap_err().to_string();
        assert!(e.contains("word 24") && e.contains("bitcoinz"), "{e}");
        let e = parse_mnemonic("abandon about").unwrap_err().to_string();
        assert!(e.contains("2 words"), "{e}");
        assert!(parse_mnemonic("   ").is_err());
    }

    /// Pins Agora's derivation (path m/44'/7777'/0'/0'/0') for a fixed mnemonic, so
    /// a change that would move everybody's address is caught.
    #[test]
    fn agora_path_is_stable() {
        let words = format!("{} art", ["abandon"; 23].join(" "));
        let m = parse_mnemonic(&words).unwrap();
        let key = signing_key_from_mnemonic(&m, &DerivationPath::agora_default());
        let (pk, addr) = identity(&key);
        // Same key as deriving level by level.
        let seed = mnemonic_seed(&m);
        let manual = ExtendedKey::master(seed.as_slice()).child(44).child(7777).child(0).child(0).child(0);
        assert_eq!(manual.signing_key().to_bytes(), key.to_bytes());
        assert_eq!(addr, pk.address());
        assert!(addr.to_string().starts_with("agora1"));
        // Cross-checked with an independent implementation (Python: hashlib PBKDF2 +
        // HMAC-SHA512 and the `cryptography` package's ed25519).
        assert_eq!(hex::encode(key.to_bytes()), "fbfea6415ae864ea115851f0bb26862faa8572c644cad50c543e2e905a36f501");
        assert_eq!(pk.to_string(), "0c91955146a34901a03ae738778f3ea13cb9d272643622f4d8343ac463cac33a");
    }
}
