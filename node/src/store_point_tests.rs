//! The point families (`POINT_CFS`): hash memtables keep every read right
//! through overwrites, deletes, flushes and reopening, and no code iterates
//! them (an iterator over a hash memtable sees one bucket only).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use super::*;

/// A deterministic stream of 32-byte keys (xorshift).
fn keys(seed: u64, n: usize) -> Vec<[u8; 32]> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            let mut k = [0u8; 32];
            for c in k.chunks_mut(8) {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                c.copy_from_slice(&s.to_le_bytes());
            }
            k
        })
        .collect()
}

fn check(store: &Store, cf: &str, model: &BTreeMap<[u8; 32], Option<Vec<u8>>>) {
    for (k, v) in model {
        assert_eq!(&store.db.get_cf(store.cf(cf), k).unwrap(), v, "{cf} key {k:02x?}");
    }
}

/// Writes, overwrites and deletes in batches, with flushes between some of
/// them (so a key's versions are split between table files and the
/// memtable), then reopens: every read returns the newest value, or none
/// after a delete, in both point families.
#[test]
fn point_families_read_the_newest_value_through_flushes_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let ks = keys(0x9e37_79b9_7f4a_7c15, 3000);
    let mut models: BTreeMap<&str, BTreeMap<[u8; 32], Option<Vec<u8>>>> = BTreeMap::new();
    {
        let store = Store::open(&path, false).unwrap();
        for round in 0u32..6 {
            let mut b = WriteBatch::default();
            for (i, k) in ks.iter().enumerate() {
                let i = u32::try_from(i).unwrap();
                for cf in POINT_CFS {
                    let model = models.entry(cf).or_default();
                    // Each round touches a different two thirds of the keys;
                    // one key in seven written is deleted instead.
                    if (i + round) % 3 == 0 {
                        continue;
                    }
                    if (i * 7 + round) % 7 == 0 {
                        b.delete_cf(store.cf(cf), k);
                        model.insert(*k, None);
                    } else {
                        let v = [round.to_le_bytes(), i.to_le_bytes()].concat();
                        b.put_cf(store.cf(cf), k, &v);
                        model.insert(*k, Some(v));
                    }
                }
            }
            store.db.write(b).unwrap();
            if round % 2 == 1 {
                for cf in POINT_CFS {
                    store.db.flush_cf(store.cf(cf)).unwrap();
                }
            }
            for cf in POINT_CFS {
                check(&store, cf, &models[cf]);
            }
            // Keys never written are absent.
            for k in keys(round.into(), 50) {
                assert_eq!(store.db.get_cf(store.cf(CF_LATEST), k).unwrap(), None);
            }
        }
    }
    let store = Store::open(&path, false).unwrap();
    for cf in POINT_CFS {
        check(&store, cf, &models[cf]);
    }
}

/// No line of the node's source creates an iterator over a point family,
/// by its name or by a variable bound to its handle.
#[test]
fn point_families_are_never_iterated() {
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut all = Vec::new();
    files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut all);
    let names = ["CF_TX_INDEX", "CF_LATEST", "POINT_CFS"];
    let mut offending = Vec::new();
    for f in &all {
        let text = std::fs::read_to_string(f).unwrap();
        // Variables bound to a point family's handle: `let x = self.cf(CF_LATEST);`.
        let mut bound: Vec<String> = names.iter().map(|s| (*s).to_string()).collect();
        for line in text.lines() {
            let t = line.trim();
            if let Some(rest) = t.strip_prefix("let ")
                && names.iter().any(|n| t.contains(n))
                && let Some((name, _)) = rest.split_once('=')
            {
                bound.push(name.trim().trim_start_matches("mut ").to_string());
            }
        }
        for (i, line) in text.lines().enumerate() {
            let words: Vec<&str> = line.split(|c: char| !(c.is_alphanumeric() || c == '_')).collect();
            if line.contains("iterator") && bound.iter().any(|b| words.contains(&b.as_str())) {
                offending.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(offending.is_empty(), "iterators over a point family: {offending:#?}");
    assert!(all.len() > 20, "the source was found");
}

/// RocksDB was built to checksum with the CRC32 instruction
/// (`.cargo/config.toml`): its log says so when a database opens. Without
/// it every write-ahead-log record is checksummed in software on the commit
/// path.
#[test]
#[cfg(target_arch = "x86_64")]
fn rocksdb_checksums_with_the_crc32_instruction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let _store = Store::open(&path, false).unwrap();
    let log = std::fs::read_to_string(path.join("LOG")).unwrap();
    let line = log.lines().find(|l| l.contains("Fast CRC32 supported")).expect("RocksDB logs its CRC32 choice");
    assert!(line.contains("Supported on x86") && !line.contains("Not supported"), "{line}");
}
