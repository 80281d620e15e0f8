//! Key files of a node: the validator's consensus key and the node's network
//! identity key. Stored as JSON with hex secrets, readable only by the owner.

use std::path::Path;

use ledger::{PublicKey, SigningKey};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: String,
    public_key: PublicKey,
    secret_key: String,
}

/// Key file problems.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
}

fn err(path: &Path, reason: impl ToString) -> KeyError {
    KeyError::File { path: path.display().to_string(), reason: reason.to_string() }
}

/// Generates a key with the OS RNG and writes it (mode 0600). Refuses to overwrite.
pub fn generate(path: &Path) -> Result<SigningKey, KeyError> {
    if path.exists() {
        return Err(err(path, "already exists; refusing to overwrite a key"));
    }
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let file = KeyFile {
        kind: "ed25519".into(),
        public_key: PublicKey::from_signing_key(&key),
        secret_key: hex::encode(key.to_bytes()),
    };
    let text = serde_json::to_string_pretty(&file).map_err(|e| err(path, e))?;
    write_private(path, text.as_bytes()).map_err(|e| err(path, e))?;
    Ok(key)
}

fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    o.mode(0o600);
    o.open(path)?.write_all(data)
}

/// Loads a key file and checks that its public key matches its secret.
pub fn load(path: &Path) -> Result<SigningKey, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|e| err(path, e))?;
    let file: KeyFile = serde_json::from_str(&text).map_err(|e| err(path, e))?;
    let bytes = hex::decode(&file.secret_key).map_err(|e| err(path, format!("secret_key: {e}")))?;
    let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| err(path, "secret_key must be 32 bytes"))?;
    let key = SigningKey::from_bytes(&arr);
    if PublicKey::from_signing_key(&key) != file.public_key {
        return Err(err(path, "public_key does not match secret_key"));
    }
    Ok(key)
}
