//! The keyring: one encrypted JSON keystore file per key.
//!
//! A keystore file `<keyring dir>/<name>.json` (mode 0600, directory 0700) holds
//! the key's name, address, public key and derivation path in plaintext (so
//! `keys list` / `keys show` / `balance NAME` need no password) and the BIP39
//! mnemonic encrypted:
//!
//! * key encryption key = Argon2id(password, salt) with the parameters stored in
//!   the file (default m = 64 MiB, t = 3, p = 1; 32-byte output, 16-byte random salt);
//! * cipher = XChaCha20-Poly1305 with a random 24-byte nonce;
//! * associated data = `"agora-keystore-v1\n" ‖ address ‖ "\n" ‖ public key hex ‖ "\n" ‖ path`,
//!   so changing the address, public key or path in the file makes decryption fail.
//!
//! After decryption the key is re-derived from the mnemonic and compared with the
//! stored public key. Any failure to decrypt is reported as
//! [`WalletError::WrongPassword`] ("wrong password or corrupted keystore").

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use bip39::Mnemonic;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ledger::{Address, PublicKey, SigningKey};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::derive::{self, DerivationPath};
use crate::error::{Result, WalletError};

/// Version of the keystore format written by this wallet.
pub const KEYSTORE_VERSION: u32 = 1;

/// Environment variable that lowers the KDF cost. For tests only: keys written
/// with it are far cheaper to brute-force.
pub const KDF_TEST_COST_ENV: &str = "AGORA_KDF_TEST_COST";

const AAD_TAG: &str = "agora-keystore-v1";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;

/// Argon2id cost parameters, stored in each keystore.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfCost {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfCost {
    /// The production cost: 64 MiB, 3 passes, 1 lane.
    pub const DEFAULT: KdfCost = KdfCost { m_cost_kib: 64 * 1024, t_cost: 3, p_cost: 1 };
    /// A very cheap cost, for tests only.
    pub const TEST_LOW: KdfCost = KdfCost { m_cost_kib: 1024, t_cost: 1, p_cost: 1 };

    /// The cost for new keystores: [`KdfCost::DEFAULT`], unless
    /// `AGORA_KDF_TEST_COST=low` is set (tests only; a warning is printed).
    pub fn for_new_keys() -> Result<KdfCost> {
        match std::env::var(KDF_TEST_COST_ENV) {
            Err(_) => Ok(KdfCost::DEFAULT),
            Ok(v) if v.is_empty() => Ok(KdfCost::DEFAULT),
            Ok(v) if v == "low" => {
                eprintln!("warning: {KDF_TEST_COST_ENV}=low: using a weak key derivation cost (for tests only)");
                Ok(KdfCost::TEST_LOW)
            }
            Ok(v) => Err(WalletError::InvalidArgument(format!(
                "{KDF_TEST_COST_ENV}=`{v}` is not supported (the only value is `low`, for tests)"
            ))),
        }
    }

    /// Refuses parameters that are invalid or absurdly expensive (a crafted file
    /// must not make the wallet allocate gigabytes).
    fn check(&self) -> std::result::Result<(), String> {
        if !(8..=4 * 1024 * 1024).contains(&self.m_cost_kib) {
            return Err(format!("argon2 memory cost {} KiB is out of range", self.m_cost_kib));
        }
        if !(1..=64).contains(&self.t_cost) || !(1..=64).contains(&self.p_cost) {
            return Err(format!("argon2 costs t={} p={} are out of range", self.t_cost, self.p_cost));
        }
        Ok(())
    }

    fn derive_key(&self, password: &str, salt: &[u8]) -> std::result::Result<Zeroizing<[u8; KEY_LEN]>, String> {
        self.check()?;
        let params = Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(KEY_LEN))
            .map_err(|e| format!("argon2 parameters: {e}"))?;
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(password.as_bytes(), salt, key.as_mut_slice())
            .map_err(|e| format!("argon2: {e}"))?;
        Ok(key)
    }
}

/// The `kdf` section of a keystore.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfSection {
    /// Always `argon2id`.
    pub algorithm: String,
    /// Argon2 version, always 19 (0x13).
    pub version: u32,
    #[serde(flatten)]
    pub cost: KdfCost,
    /// Hex salt.
    pub salt: String,
}

/// The `cipher` section of a keystore.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CipherSection {
    /// Always `xchacha20poly1305`.
    pub algorithm: String,
    /// Hex 24-byte nonce.
    pub nonce: String,
    /// Hex ciphertext (with the 16-byte tag) of the mnemonic's UTF-8 text.
    pub ciphertext: String,
}

/// One keystore file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keystore {
    pub version: u32,
    pub name: String,
    pub address: Address,
    pub public_key: PublicKey,
    pub derivation_path: String,
    pub kdf: KdfSection,
    pub cipher: CipherSection,
}

/// A decrypted key. The mnemonic text is wiped on drop (and so is the
/// signing key, by ed25519-dalek).
pub struct UnlockedKey {
    pub mnemonic: Zeroizing<String>,
    pub signing_key: SigningKey,
}

impl std::fmt::Debug for UnlockedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnlockedKey(<secret>)")
    }
}

fn aad(address: &Address, public_key: &PublicKey, path: &str) -> Vec<u8> {
    format!("{AAD_TAG}\n{address}\n{public_key}\n{path}").into_bytes()
}

impl Keystore {
    /// Encrypts `mnemonic` under `password`, deriving the key at Agora's default path.
    pub fn encrypt(name: &str, mnemonic: &Mnemonic, password: &str, cost: KdfCost) -> Result<Keystore> {
        validate_name(name)?;
        let path = DerivationPath::agora_default();
        let key = derive::signing_key_from_mnemonic(mnemonic, &path);
        let (public_key, address) = derive::identity(&key);
        let path = path.to_string();

        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let kek = cost.derive_key(password, &salt).map_err(WalletError::Derivation)?;
        let cipher = XChaCha20Poly1305::new(kek.as_slice().into());
        let text = Zeroizing::new(mnemonic.to_string());
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload { msg: text.as_bytes(), aad: &aad(&address, &public_key, &path) },
            )
            .map_err(|_| WalletError::Derivation("encryption failed".into()))?;

        Ok(Keystore {
            version: KEYSTORE_VERSION,
            name: name.to_owned(),
            address,
            public_key,
            derivation_path: path,
            kdf: KdfSection { algorithm: "argon2id".into(), version: 0x13, cost, salt: hex::encode(salt) },
            cipher: CipherSection {
                algorithm: "xchacha20poly1305".into(),
                nonce: hex::encode(nonce),
                ciphertext: hex::encode(ciphertext),
            },
        })
    }

    /// Decrypts the mnemonic and re-derives the signing key. Any mismatch (wrong
    /// password, edited file) yields [`WalletError::WrongPassword`].
    pub fn decrypt(&self, password: &str) -> Result<UnlockedKey> {
        let corrupted = || WalletError::WrongPassword;
        if self.kdf.algorithm != "argon2id" || self.kdf.version != 0x13 || self.cipher.algorithm != "xchacha20poly1305"
        {
            return Err(corrupted());
        }
        let salt = hex::decode(&self.kdf.salt).map_err(|_| corrupted())?;
        let nonce = hex::decode(&self.cipher.nonce).map_err(|_| corrupted())?;
        let ciphertext = hex::decode(&self.cipher.ciphertext).map_err(|_| corrupted())?;
        if salt.len() < 8 || nonce.len() != NONCE_LEN {
            return Err(corrupted());
        }
        let kek = self.kdf.cost.derive_key(password, &salt).map_err(|_| corrupted())?;
        let cipher = XChaCha20Poly1305::new(kek.as_slice().into());
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    XNonce::from_slice(&nonce),
                    Payload { msg: &ciphertext, aad: &aad(&self.address, &self.public_key, &self.derivation_path) },
                )
                .map_err(|_| corrupted())?,
        );
        let text = std::str::from_utf8(&plain).map_err(|_| corrupted())?;
        let mnemonic = derive::parse_mnemonic(text).map_err(|_| corrupted())?;
        let path: DerivationPath = self.derivation_path.parse().map_err(|_| corrupted())?;
        let signing_key = derive::signing_key_from_mnemonic(&mnemonic, &path);
        let (pk, addr) = derive::identity(&signing_key);
        if pk != self.public_key || addr != self.address {
            return Err(corrupted());
        }
        Ok(UnlockedKey { mnemonic: Zeroizing::new(mnemonic.to_string()), signing_key })
    }

    /// A keystore exported by `agora keys export` (read from `path`), to be
    /// imported as `name`: checked like a keyring file, then renamed (the name
    /// is not part of the encrypted data).
    pub fn from_export(path: &Path, bytes: &[u8], name: &str) -> Result<Keystore> {
        validate_name(name)?;
        let mut ks = parse_keystore(path, bytes, None)?;
        ks.name = name.to_owned();
        Ok(ks)
    }

    /// Checks the plaintext fields of a file read from `path`.
    fn check_plaintext(&self, path: &Path, expected_name: Option<&str>) -> Result<()> {
        let bad = |reason: String| WalletError::Keystore { path: path.to_owned(), reason };
        if self.version != KEYSTORE_VERSION {
            return Err(bad(format!("unsupported keystore version {}", self.version)));
        }
        validate_name(&self.name).map_err(|e| bad(e.to_string()))?;
        if let Some(n) = expected_name
            && n != self.name
        {
            return Err(bad(format!("the file is for key `{}`, not `{n}`", self.name)));
        }
        if self.public_key.address() != self.address {
            return Err(bad("address does not match the public key (file edited?)".into()));
        }
        Ok(())
    }
}

/// Checks a key name: 1 to 64 of `[A-Za-z0-9._-]`, starting with a letter or
/// digit (so a name is always a safe file name).
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok { Ok(()) } else { Err(WalletError::InvalidKeyName(name.to_owned())) }
}

/// A directory of keystore files.
#[derive(Clone, Debug)]
pub struct Keyring {
    dir: PathBuf,
}

impl Keyring {
    pub fn new(dir: impl Into<PathBuf>) -> Keyring {
        Keyring { dir: dir.into() }
    }

    /// `~/.agora/keys`.
    pub fn default_dir() -> Result<PathBuf> {
        match std::env::var_os("HOME") {
            Some(home) if !home.is_empty() => Ok(PathBuf::from(home).join(".agora").join("keys")),
            _ => Err(WalletError::InvalidArgument(
                "cannot find the home directory (HOME is not set); use --keyring-dir or AGORA_KEYRING_DIR".into(),
            )),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of key `name` (the name is validated).
    pub fn path_of(&self, name: &str) -> Result<PathBuf> {
        validate_name(name)?;
        Ok(self.dir.join(format!("{name}.json")))
    }

    /// Fails with [`WalletError::KeyExists`] if `name` is taken.
    pub fn ensure_free(&self, name: &str) -> Result<()> {
        let path = self.path_of(name)?;
        if fs::symlink_metadata(&path).is_ok() {
            return Err(WalletError::KeyExists { name: name.to_owned(), path });
        }
        Ok(())
    }

    /// Writes a new keystore, mode 0600, never replacing an existing file
    /// (the file appears atomically, complete, or not at all).
    pub fn save_new(&self, ks: &Keystore) -> Result<PathBuf> {
        let path = self.path_of(&ks.name)?;
        create_private_dir(&self.dir)?;
        let mut json = serde_json::to_vec_pretty(ks).map_err(|e| WalletError::Output(e.to_string()))?;
        json.push(b'\n');

        let mut suffix = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut suffix);
        let tmp = self.dir.join(format!(".{}.json.tmp-{}", ks.name, hex::encode(suffix)));
        let result = write_private_file(&tmp, &json).and_then(|()| match fs::hard_link(&tmp, &path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(WalletError::KeyExists { name: ks.name.clone(), path: path.clone() })
            }
            Err(e) => Err(WalletError::io("cannot write keystore", &path, e)),
        });
        let _ = fs::remove_file(&tmp);
        result?;
        Ok(path)
    }

    /// Reads key `name`.
    pub fn load(&self, name: &str) -> Result<Keystore> {
        let path = self.path_of(name)?;
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(WalletError::KeyNotFound { name: name.to_owned(), dir: self.dir.clone() });
            }
            Err(e) => return Err(WalletError::io("cannot read keystore", &path, e)),
        };
        parse_keystore(&path, &bytes, Some(name))
    }

    /// Removes key `name`'s file; returns its path.
    pub fn delete(&self, name: &str) -> Result<PathBuf> {
        let path = self.path_of(name)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(WalletError::KeyNotFound { name: name.to_owned(), dir: self.dir.clone() })
            }
            Err(e) => Err(WalletError::io("cannot delete keystore", &path, e)),
        }
    }

    /// Whether key `name` exists (false for invalid names).
    pub fn contains(&self, name: &str) -> bool {
        self.path_of(name).map(|p| p.is_file()).unwrap_or(false)
    }

    /// All keys, sorted by name, plus the files that could not be read (with why).
    pub fn list(&self) -> Result<(Vec<Keystore>, Vec<WalletError>)> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
            Err(e) => return Err(WalletError::io("cannot read keyring directory", &self.dir, e)),
        };
        let mut keys = Vec::new();
        let mut problems = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| WalletError::io("cannot read keyring directory", &self.dir, e))?;
            let path = entry.path();
            let file_name = entry.file_name();
            let Some(stem) = file_name.to_str().and_then(|n| n.strip_suffix(".json")) else { continue };
            if validate_name(stem).is_err() {
                continue; // temporary files (leading dot) and foreign files
            }
            match fs::read(&path) {
                Ok(bytes) => match parse_keystore(&path, &bytes, Some(stem)) {
                    Ok(ks) => keys.push(ks),
                    Err(e) => problems.push(e),
                },
                Err(e) => problems.push(WalletError::io("cannot read keystore", &path, e)),
            }
        }
        keys.sort_by(|a, b| a.name.cmp(&b.name));
        Ok((keys, problems))
    }
}

fn parse_keystore(path: &Path, bytes: &[u8], expected_name: Option<&str>) -> Result<Keystore> {
    let ks: Keystore = serde_json::from_slice(bytes)
        .map_err(|e| WalletError::Keystore { path: path.to_owned(), reason: format!("not a valid keystore: {e}") })?;
    ks.check_plaintext(path, expected_name)?;
    Ok(ks)
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| WalletError::io("cannot create keyring directory", dir, e))
}

fn write_private_file(path: &Path, data: &[u8]) -> Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let err = |e| WalletError::io("cannot write keystore", path, e);
    let mut f = opts.open(path).map_err(err)?;
    f.write_all(data).map_err(err)?;
    f.sync_all().map_err(err)?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn mnemonic() -> Mnemonic {
        derive::generate_mnemonic().unwrap()
    }

    #[test]
    fn encrypt_decrypt_round_trip() {
        let m = mnemonic();
        let ks = Keystore::encrypt("alice", &m, "correct horse", KdfCost::TEST_LOW).unwrap();
        assert_eq!(ks.derivation_path, derive::DEFAULT_PATH);
        assert_eq!(ks.kdf.cost, KdfCost::TEST_LOW);
        // The mnemonic is not stored in the clear.
        let json = serde_json::to_string(&ks).unwrap();
        assert!(!json.contains(&m.to_string()));

        let unlocked = ks.decrypt("correct horse").unwrap();
        assert_eq!(*unlocked.mnemonic, m.to_string());
        let (pk, addr) = derive::identity(&unlocked.signing_key);
        assert_eq!(pk, ks.public_key);
        assert_eq!(addr, ks.address);

        // Survives the JSON round trip.
        let back: Keystore = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ks);
        assert!(back.decrypt("correct horse").is_ok());
    }

    #[test]
    fn wrong_password_fails() {
        let ks = Keystore::encrypt("alice", &mnemonic(), "right", KdfCost::TEST_LOW).unwrap();
        let e = ks.decrypt("wrong").unwrap_err();
        assert!(matches!(e, WalletError::WrongPassword));
        assert_eq!(e.to_string(), "wrong password or corrupted keystore");
    }

    #[test]
    fn tampering_is_detected() {
        let ks = Keystore::encrypt("alice", &mnemonic(), "pw", KdfCost::TEST_LOW).unwrap();
        let other = Keystore::encrypt("bob", &mnemonic(), "pw", KdfCost::TEST_LOW).unwrap();

        // Flipped ciphertext bit.
        let mut t = ks.clone();
        let mut ct = hex::decode(&t.cipher.ciphertext).unwrap();
        ct[3] ^= 1;
        t.cipher.ciphertext = hex::encode(ct);
        assert!(matches!(t.decrypt("pw"), Err(WalletError::WrongPassword)));

        // Address and public key swapped for someone else's (associated data).
        let mut t = ks.clone();
        t.address = other.address;
        t.public_key = other.public_key;
        assert!(matches!(t.decrypt("pw"), Err(WalletError::WrongPassword)));

        // Address alone changed.
        let mut t = ks.clone();
        t.address = other.address;
        assert!(matches!(t.decrypt("pw"), Err(WalletError::WrongPassword)));

        // Nonce, salt, path and KDF cost changed.
        let mut t = ks.clone();
        t.cipher.nonce = hex::encode([7u8; NONCE_LEN]);
        assert!(t.decrypt("pw").is_err());
        let mut t = ks.clone();
        t.kdf.salt = hex::encode([7u8; SALT_LEN]);
        assert!(t.decrypt("pw").is_err());
        let mut t = ks.clone();
        t.derivation_path = "m/44'/7777'/0'/0'/1'".into();
        assert!(t.decrypt("pw").is_err());
        let mut t = ks.clone();
        t.kdf.cost.t_cost = 2;
        assert!(t.decrypt("pw").is_err());
        let mut t = ks.clone();
        t.kdf.cost.m_cost_kib = u32::MAX;
        assert!(t.decrypt("pw").is_err(), "absurd costs are refused, not attempted");

        // An edited file is refused on load too (address/public key mismatch).
        let dir = tempfile::tempdir().unwrap();
        let ring = Keyring::new(dir.path());
        let path = ring.save_new(&ks).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let edited = text.replace(&ks.address.to_string(), &other.address.to_string());
        fs::remove_file(&path).unwrap();
        fs::write(&path, edited).unwrap();
        let e = ring.load("alice").unwrap_err();
        assert!(e.to_string().contains("does not match"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let ring_dir = dir.path().join("nested").join("keys");
        let ring = Keyring::new(&ring_dir);
        let ks = Keystore::encrypt("alice", &mnemonic(), "pw", KdfCost::TEST_LOW).unwrap();
        let path = ring.save_new(&ks).unwrap();
        assert_eq!(path, ring_dir.join("alice.json"));
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(&ring_dir).unwrap().permissions().mode() & 0o777, 0o700);
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(&ring_dir).unwrap().count(), 1);
    }

    #[test]
    fn name_collision_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ring = Keyring::new(dir.path());
        let first = Keystore::encrypt("alice", &mnemonic(), "pw", KdfCost::TEST_LOW).unwrap();
        ring.save_new(&first).unwrap();
        assert!(matches!(ring.ensure_free("alice"), Err(WalletError::KeyExists { .. })));
        let second = Keystore::encrypt("alice", &mnemonic(), "pw", KdfCost::TEST_LOW).unwrap();
        let e = ring.save_new(&second).unwrap_err();
        assert!(matches!(e, WalletError::KeyExists { .. }), "{e}");
        // The first key is intact.
        assert_eq!(ring.load("alice").unwrap(), first);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn load_and_list() {
        let dir = tempfile::tempdir().unwrap();
        let ring = Keyring::new(dir.path());
        assert!(ring.list().unwrap().0.is_empty());
        for n in ["bob", "alice"] {
            let ks = Keystore::encrypt(n, &mnemonic(), "pw", KdfCost::TEST_LOW).unwrap();
            ring.save_new(&ks).unwrap();
        }
        fs::write(dir.path().join("junk.json"), "{}").unwrap();
        fs::write(dir.path().join("notes.txt"), "hello").unwrap();
        let (keys, problems) = ring.list().unwrap();
        assert_eq!(keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["alice", "bob"]);
        assert_eq!(problems.len(), 1, "junk.json is reported");
        assert!(matches!(ring.load("carol"), Err(WalletError::KeyNotFound { .. })));
        assert!(ring.contains("alice") && !ring.contains("carol") && !ring.contains("../x"));
    }

    #[test]
    fn export_import_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let ring = Keyring::new(dir.path());
        let ks = Keystore::encrypt("alice", &mnemonic(), "pw", KdfCost::TEST_LOW).unwrap();
        ring.save_new(&ks).unwrap();
        let exported = serde_json::to_vec(&ring.load("alice").unwrap()).unwrap();
        let path = Path::new("export.json");
        let imported = Keystore::from_export(path, &exported, "alice2").unwrap();
        assert_eq!((imported.name.as_str(), imported.address), ("alice2", ks.address));
        assert!(imported.decrypt("pw").is_ok(), "renaming keeps it decryptable");
        ring.save_new(&imported).unwrap();
        assert!(matches!(ring.save_new(&imported), Err(WalletError::KeyExists { .. })), "never overwritten");
        assert!(Keystore::from_export(path, &exported, "../x").is_err());
        assert!(Keystore::from_export(path, b"{}", "bob").is_err());
        let mut edited: serde_json::Value = serde_json::from_slice(&exported).unwrap();
        edited["address"] = serde_json::json!(Address([9; 20]));
        assert!(Keystore::from_export(path, &serde_json::to_vec(&edited).unwrap(), "bob").is_err());

        assert_eq!(ring.delete("alice").unwrap(), dir.path().join("alice.json"));
        assert!(matches!(ring.load("alice"), Err(WalletError::KeyNotFound { .. })));
        assert!(matches!(ring.delete("alice"), Err(WalletError::KeyNotFound { .. })));
        assert!(ring.delete("../alice2").is_err());
        assert!(ring.contains("alice2"));
    }

    #[test]
    fn names_are_validated() {
        for ok in ["alice", "a", "Key-1.backup_2", &"x".repeat(64)] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".hidden", "-x", "a/b", "../etc", "a b", "ключ", &"x".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
