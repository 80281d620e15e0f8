//! The validator's double-sign guard state on disk: `validator_state.bin`
//! beside the validator key, outside the chain database, so wiping `data/`
//! (to resync a node) can never make the validator forget what it signed.
//!
//! The file has two fixed slots. Each write goes to the slot the previous
//! write did not use, as `magic ‖ seq ‖ len ‖ state ‖ sha256(...)`, followed
//! by one `fdatasync`; a torn write can only damage the slot being written,
//! and loading picks the intact slot with the highest sequence number. One
//! sync per signature, no rename.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use sha2::{Digest, Sha256};

const MAGIC: &[u8; 4] = b"AGSS";
const SLOT: u64 = 4096;
const HEADER: usize = 4 + 8 + 4;
const MAX_STATE: usize = SLOT as usize - HEADER - 32;

/// The open state file.
#[derive(Debug)]
pub struct SignerStateFile {
    file: File,
    seq: u64,
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl SignerStateFile {
    /// Opens (creating if missing) the file; returns it with the latest
    /// intact state, if any was ever written.
    pub fn open(path: &Path) -> io::Result<(SignerStateFile, Option<Vec<u8>>)> {
        let existed = path.exists();
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        if !existed {
            file.set_len(2 * SLOT)?;
            file.sync_all()?;
            if let Some(dir) = path.parent() {
                File::open(dir)?.sync_all()?;
            }
        }
        let mut best: Option<(u64, Vec<u8>)> = None;
        let mut damaged = 0;
        for slot in 0..2u64 {
            let mut buf = vec![0u8; SLOT as usize];
            let n = read_full_at(&file, &mut buf, slot * SLOT)?;
            if n == 0 || buf[..4] == [0; 4] {
                continue; // never written
            }
            match decode_slot(&buf[..n]) {
                Some((seq, state)) => {
                    if best.as_ref().is_none_or(|(s, _)| seq > *s) {
                        best = Some((seq, state));
                    }
                }
                None => damaged += 1,
            }
        }
        if best.is_none() && damaged > 0 {
            // Both slots unreadable: signing with a blank guard could double-sign.
            return Err(invalid(format!(
                "{}: no intact signer state (both slots damaged); refusing to sign with an empty double-sign guard",
                path.display()
            )));
        }
        let seq = best.as_ref().map_or(0, |(s, _)| *s);
        Ok((SignerStateFile { file, seq }, best.map(|(_, s)| s)))
    }

    /// Durably records `state` (returns after `fdatasync`).
    pub fn write(&mut self, state: &[u8]) -> io::Result<()> {
        if state.len() > MAX_STATE {
            return Err(invalid(format!("signer state of {} bytes exceeds {MAX_STATE}", state.len())));
        }
        let seq = self.seq + 1;
        let mut buf = Vec::with_capacity(HEADER + state.len() + 32);
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&seq.to_le_bytes());
        buf.extend_from_slice(&(state.len() as u32).to_le_bytes());
        buf.extend_from_slice(state);
        let digest = Sha256::digest(&buf);
        buf.extend_from_slice(&digest);
        self.file.write_all_at(&buf, (seq % 2) * SLOT)?;
        self.file.sync_data()?;
        self.seq = seq;
        Ok(())
    }
}

fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], offset + n as u64)? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn decode_slot(buf: &[u8]) -> Option<(u64, Vec<u8>)> {
    if buf.len() < HEADER + 32 || &buf[..4] != MAGIC {
        return None;
    }
    let seq = u64::from_le_bytes(buf[4..12].try_into().ok()?);
    let len = u32::from_le_bytes(buf[12..16].try_into().ok()?) as usize;
    if len > MAX_STATE || buf.len() < HEADER + len + 32 {
        return None;
    }
    let body = &buf[..HEADER + len];
    let digest = Sha256::digest(body);
    if digest.as_slice() != &buf[HEADER + len..HEADER + len + 32] {
        return None;
    }
    Some((seq, buf[HEADER..HEADER + len].to_vec()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn latest_intact_write_wins_and_a_torn_slot_falls_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("validator_state.bin");
        let (mut f, state) = SignerStateFile::open(&path).unwrap();
        assert!(state.is_none());
        f.write(b"one").unwrap();
        f.write(b"two").unwrap();
        f.write(b"three").unwrap();
        drop(f);
        let (mut f, state) = SignerStateFile::open(&path).unwrap();
        assert_eq!(state.unwrap(), b"three");
        f.write(b"four").unwrap(); // seq 4 → slot 0
        drop(f);
        // Tear the newest slot: the previous state comes back, never garbage.
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all_at(&[0xff; 8], 20).unwrap();
        drop(file);
        let (_, state) = SignerStateFile::open(&path).unwrap();
        assert_eq!(state.unwrap(), b"three");
        // Both slots damaged: refuse rather than sign with an empty guard.
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all_at(&[0xff; 8], SLOT + 20).unwrap();
        drop(file);
        assert!(SignerStateFile::open(&path).is_err());
    }

    #[test]
    fn oversized_state_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (mut f, _) = SignerStateFile::open(&dir.path().join("s.bin")).unwrap();
        assert!(f.write(&vec![0u8; MAX_STATE + 1]).is_err());
        f.write(&vec![1u8; MAX_STATE]).unwrap();
    }
}
