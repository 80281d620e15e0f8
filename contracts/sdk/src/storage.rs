//! Contract storage: raw key/value access, ordered range iteration, and the
//! typed helpers [`Item`] and [`Map`].
//!
//! Storage is namespaced per contract by the chain. Keys are 1..=256 bytes,
//! values at most 128 KiB; larger ones trap.
//!
//! Key layout of the typed helpers:
//! * `Item::new("config")` stores its JSON value under the key `config`.
//! * `Map::new("balances")` stores entry `k` under
//!   `u16 BE len("balances") ‖ "balances" ‖ key bytes of k` (see [`MapKey`]),
//!   so a map's entries are contiguous and ordered by their key bytes.
//!
//! Do not give an `Item` and a `Map` names that could collide (an `Item` name
//! starting with a zero byte); in practice readable names never do.

use std::marker::PhantomData;
use std::ops::Bound;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Addr, ContractError, host};

/// The value stored under `key`, if any.
pub fn get(key: &[u8]) -> Option<Vec<u8>> {
    host::storage_get(key)
}

/// Writes `value` under `key` (traps in a query).
pub fn set(key: &[u8], value: &[u8]) {
    host::storage_set(key, value)
}

/// Deletes `key` (traps in a query).
pub fn remove(key: &[u8]) {
    host::storage_remove(key)
}

/// One `storage_next` call: the first entry with `key >= start` (`key > start`
/// if `exclusive_start`) and `key < end` (no upper bound if `end` is `None`).
pub fn next(start: &[u8], end: Option<&[u8]>, exclusive_start: bool) -> Option<(Vec<u8>, Vec<u8>)> {
    host::storage_next(start, end, exclusive_start)
}

/// Iterates over the raw entries with keys in `(start, end)`, in ascending key
/// order (the only order the host offers). It sees this call's own writes.
pub fn range(start: Bound<&[u8]>, end: Bound<&[u8]>) -> RawRange {
    let (start, exclusive) = match start {
        Bound::Included(k) => (k.to_vec(), false),
        Bound::Excluded(k) => (k.to_vec(), true),
        Bound::Unbounded => (Vec::new(), false),
    };
    let end = match end {
        Bound::Included(k) => Some(key_successor(k)),
        Bound::Excluded(k) => Some(k.to_vec()),
        Bound::Unbounded => None,
    };
    RawRange { next_start: start, exclusive, end, done: false }
}

/// All raw entries whose key starts with `prefix`, in key order.
pub fn prefix_range(prefix: &[u8]) -> RawRange {
    RawRange { next_start: prefix.to_vec(), exclusive: false, end: prefix_end(prefix), done: false }
}

/// The smallest key greater than `k`: `k ‖ 0x00`.
fn key_successor(k: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(k.len() + 1);
    v.extend_from_slice(k);
    v.push(0);
    v
}

/// The smallest key greater than every key starting with `prefix`, or `None`
/// if there is none (`prefix` is empty or all `0xff`).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Iterator over raw storage entries, see [`range`].
#[derive(Debug, Clone)]
pub struct RawRange {
    next_start: Vec<u8>,
    exclusive: bool,
    end: Option<Vec<u8>>,
    done: bool,
}

impl Iterator for RawRange {
    type Item = (Vec<u8>, Vec<u8>);

    fn next(&mut self) -> Option<(Vec<u8>, Vec<u8>)> {
        if self.done {
            return None;
        }
        match next(&self.next_start, self.end.as_deref(), self.exclusive) {
            Some((key, value)) => {
                self.next_start.clone_from(&key);
                self.exclusive = true;
                Some((key, value))
            }
            None => {
                self.done = true;
                None
            }
        }
    }
}

fn load_json<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ContractError> {
    serde_json::from_slice(bytes).map_err(|e| ContractError::new(format!("corrupt stored value in `{what}`: {e}")))
}

fn save_json<T: Serialize + ?Sized>(value: &T, what: &str) -> Result<Vec<u8>, ContractError> {
    serde_json::to_vec(value).map_err(|e| ContractError::new(format!("cannot serialise value for `{what}`: {e}")))
}

/// A single JSON value stored under a fixed key.
///
/// ```
/// # use agora_sdk::{Addr, Item};
/// const OWNER: Item<Addr> = Item::new("owner");
/// ```
#[derive(Debug)]
pub struct Item<T> {
    key: &'static str,
    _value: PhantomData<fn() -> T>,
}

impl<T> Item<T> {
    pub const fn new(key: &'static str) -> Item<T> {
        Item { key, _value: PhantomData }
    }

    /// The storage key.
    pub const fn key(&self) -> &'static str {
        self.key
    }
}

impl<T: Serialize + DeserializeOwned> Item<T> {
    /// The value; an error `<key> not found` if it was never saved.
    pub fn load(&self) -> Result<T, ContractError> {
        self.may_load()?.ok_or_else(|| ContractError::new(format!("{} not found", self.key)))
    }

    /// The value, if saved.
    pub fn may_load(&self) -> Result<Option<T>, ContractError> {
        get(self.key.as_bytes()).map(|b| load_json(&b, self.key)).transpose()
    }

    /// Whether a value is saved.
    pub fn exists(&self) -> bool {
        get(self.key.as_bytes()).is_some()
    }

    pub fn save(&self, value: &T) -> Result<(), ContractError> {
        set(self.key.as_bytes(), &save_json(value, self.key)?);
        Ok(())
    }

    pub fn remove(&self) {
        remove(self.key.as_bytes())
    }

    /// Loads (or `None`), applies `f`, saves and returns the new value.
    pub fn update(&self, f: impl FnOnce(Option<T>) -> Result<T, ContractError>) -> Result<T, ContractError> {
        let new = f(self.may_load()?)?;
        self.save(&new)?;
        Ok(new)
    }
}

/// A key type of a [`Map`]: its bytes in storage. Encodings preserve order:
/// iterating a map yields keys in the order of these bytes.
///
/// * [`Addr`]: the 20 raw bytes;
/// * unsigned integers: big-endian (numeric order);
/// * signed integers: big-endian with the sign bit flipped (numeric order);
/// * `String`, `Vec<u8>`, `[u8; N]`: the raw bytes;
/// * `(A, B)`: `u16 BE len(A) ‖ A ‖ B`, so all entries with the same `A` are
///   contiguous ([`Map::prefix`]); they are ordered by `A`'s length first, which
///   is plain byte order for fixed-size `A`.
pub trait MapKey: Sized {
    /// Appends the key bytes to `out`.
    fn write_key(&self, out: &mut Vec<u8>);
    /// Decodes the key bytes (the whole of `bytes`).
    fn read_key(bytes: &[u8]) -> Result<Self, ContractError>;
}

fn bad_key(what: &str, bytes: &[u8]) -> ContractError {
    ContractError::new(format!("corrupt storage key: expected {what}, got {} bytes", bytes.len()))
}

impl MapKey for Addr {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
    fn read_key(bytes: &[u8]) -> Result<Addr, ContractError> {
        <[u8; 20]>::try_from(bytes).map(Addr::new).map_err(|_| bad_key("an address", bytes))
    }
}

macro_rules! unsigned_key {
    ($($t:ty),*) => {$(
        impl MapKey for $t {
            fn write_key(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes());
            }
            fn read_key(bytes: &[u8]) -> Result<$t, ContractError> {
                bytes.try_into().map(<$t>::from_be_bytes).map_err(|_| bad_key(stringify!($t), bytes))
            }
        }
    )*};
}
unsigned_key!(u8, u16, u32, u64, u128);

macro_rules! signed_key {
    ($($t:ty => $u:ty),*) => {$(
        impl MapKey for $t {
            fn write_key(&self, out: &mut Vec<u8>) {
                let flipped = <$u>::from_be_bytes(self.to_be_bytes()) ^ (1 << (<$u>::BITS - 1));
                out.extend_from_slice(&flipped.to_be_bytes());
            }
            fn read_key(bytes: &[u8]) -> Result<$t, ContractError> {
                let u = bytes.try_into().map(<$u>::from_be_bytes).map_err(|_| bad_key(stringify!($t), bytes))?;
                Ok(<$t>::from_be_bytes((u ^ (1 << (<$u>::BITS - 1))).to_be_bytes()))
            }
        }
    )*};
}
signed_key!(i8 => u8, i16 => u16, i32 => u32, i64 => u64, i128 => u128);

impl MapKey for String {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
    fn read_key(bytes: &[u8]) -> Result<String, ContractError> {
        String::from_utf8(bytes.to_vec()).map_err(|_| ContractError::new("corrupt storage key: invalid UTF-8"))
    }
}

impl MapKey for Vec<u8> {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn read_key(bytes: &[u8]) -> Result<Vec<u8>, ContractError> {
        Ok(bytes.to_vec())
    }
}

impl<const N: usize> MapKey for [u8; N] {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn read_key(bytes: &[u8]) -> Result<[u8; N], ContractError> {
        bytes.try_into().map_err(|_| bad_key("a fixed-size byte array", bytes))
    }
}

/// Appends `u16 BE len ‖ bytes` of a key part.
fn write_prefixed<K: MapKey>(k: &K, out: &mut Vec<u8>) {
    let at = out.len();
    out.extend_from_slice(&[0, 0]);
    k.write_key(out);
    let len = u16::try_from(out.len() - at - 2).unwrap_or(u16::MAX);
    out[at..at + 2].copy_from_slice(&len.to_be_bytes());
}

impl<A: MapKey, B: MapKey> MapKey for (A, B) {
    fn write_key(&self, out: &mut Vec<u8>) {
        write_prefixed(&self.0, out);
        self.1.write_key(out);
    }
    fn read_key(bytes: &[u8]) -> Result<(A, B), ContractError> {
        let (len, rest) = bytes.split_first_chunk::<2>().ok_or_else(|| bad_key("a composite key", bytes))?;
        let len = usize::from(u16::from_be_bytes(*len));
        if len > rest.len() {
            return Err(bad_key("a composite key", bytes));
        }
        let (a, b) = rest.split_at(len);
        Ok((A::read_key(a)?, B::read_key(b)?))
    }
}

/// A typed map: keys `K` ([`MapKey`]), JSON values `V`, under a namespace.
///
/// ```
/// # use agora_sdk::{Addr, Map};
/// const BALANCES: Map<Addr, u128> = Map::new("balances");
/// const ALLOWANCES: Map<(Addr, Addr), u128> = Map::new("allowances");
/// ```
#[derive(Debug)]
pub struct Map<K, V> {
    namespace: &'static str,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Map<K, V> {
    pub const fn new(namespace: &'static str) -> Map<K, V> {
        Map { namespace, _types: PhantomData }
    }

    pub const fn namespace(&self) -> &'static str {
        self.namespace
    }

    /// `u16 BE len(namespace) ‖ namespace`: the prefix of every key of this map.
    fn prefix_bytes(&self) -> Vec<u8> {
        let ns = self.namespace.as_bytes();
        let mut p = Vec::with_capacity(2 + ns.len() + 32);
        p.extend_from_slice(&u16::try_from(ns.len()).unwrap_or(u16::MAX).to_be_bytes());
        p.extend_from_slice(ns);
        p
    }
}

impl<K: MapKey, V: Serialize + DeserializeOwned> Map<K, V> {
    /// The full storage key of entry `k`.
    pub fn storage_key(&self, k: &K) -> Vec<u8> {
        let mut key = self.prefix_bytes();
        k.write_key(&mut key);
        key
    }

    /// The value under `k`; an error `<namespace> entry not found` if absent.
    pub fn load(&self, k: &K) -> Result<V, ContractError> {
        self.may_load(k)?.ok_or_else(|| ContractError::new(format!("{} entry not found", self.namespace)))
    }

    pub fn may_load(&self, k: &K) -> Result<Option<V>, ContractError> {
        get(&self.storage_key(k)).map(|b| load_json(&b, self.namespace)).transpose()
    }

    pub fn has(&self, k: &K) -> bool {
        get(&self.storage_key(k)).is_some()
    }

    pub fn save(&self, k: &K, value: &V) -> Result<(), ContractError> {
        set(&self.storage_key(k), &save_json(value, self.namespace)?);
        Ok(())
    }

    pub fn remove(&self, k: &K) {
        remove(&self.storage_key(k))
    }

    /// Loads (or `None`), applies `f`, saves and returns the new value.
    pub fn update(&self, k: &K, f: impl FnOnce(Option<V>) -> Result<V, ContractError>) -> Result<V, ContractError> {
        let new = f(self.may_load(k)?)?;
        self.save(k, &new)?;
        Ok(new)
    }

    /// The entries with keys between `start` and `end`, in ascending key-byte
    /// order. Each item is `Result<(K, V)>` (a corrupt entry is an error).
    pub fn range(&self, start: Bound<&K>, end: Bound<&K>) -> MapRange<K, V> {
        MapRange::new(self.prefix_bytes(), start, end, self.namespace)
    }

    /// All entries in key order.
    pub fn iter(&self) -> MapRange<K, V> {
        self.range(Bound::Unbounded, Bound::Unbounded)
    }
}

impl<A: MapKey, B: MapKey, V: Serialize + DeserializeOwned> Map<(A, B), V> {
    /// The entries whose key starts with `a`, keyed by their second part.
    pub fn prefix(&self, a: &A) -> Prefix<B, V> {
        let mut prefix = self.prefix_bytes();
        write_prefixed(a, &mut prefix);
        Prefix { prefix, namespace: self.namespace, _types: PhantomData }
    }
}

/// The entries of a `Map<(A, B), V>` that share a first key part, see [`Map::prefix`].
#[derive(Debug)]
pub struct Prefix<B, V> {
    prefix: Vec<u8>,
    namespace: &'static str,
    _types: PhantomData<fn() -> (B, V)>,
}

impl<B: MapKey, V: DeserializeOwned> Prefix<B, V> {
    pub fn range(&self, start: Bound<&B>, end: Bound<&B>) -> MapRange<B, V> {
        MapRange::new(self.prefix.clone(), start, end, self.namespace)
    }

    pub fn iter(&self) -> MapRange<B, V> {
        self.range(Bound::Unbounded, Bound::Unbounded)
    }
}

/// Iterator over typed map entries, see [`Map::range`].
#[derive(Debug)]
pub struct MapRange<K, V> {
    raw: RawRange,
    prefix_len: usize,
    namespace: &'static str,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K: MapKey, V: DeserializeOwned> MapRange<K, V> {
    fn new(prefix: Vec<u8>, start: Bound<&K>, end: Bound<&K>, namespace: &'static str) -> MapRange<K, V> {
        let with_key = |k: &K| {
            let mut key = prefix.clone();
            k.write_key(&mut key);
            key
        };
        let (next_start, exclusive) = match start {
            Bound::Included(k) => (with_key(k), false),
            Bound::Excluded(k) => (with_key(k), true),
            Bound::Unbounded => (prefix.clone(), false),
        };
        let end = match end {
            Bound::Included(k) => Some(key_successor(&with_key(k))),
            Bound::Excluded(k) => Some(with_key(k)),
            Bound::Unbounded => prefix_end(&prefix),
        };
        MapRange {
            raw: RawRange { next_start, exclusive, end, done: false },
            prefix_len: prefix.len(),
            namespace,
            _types: PhantomData,
        }
    }
}

impl<K: MapKey, V: DeserializeOwned> Iterator for MapRange<K, V> {
    type Item = Result<(K, V), ContractError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (key, value) = self.raw.next()?;
        let Some(k) = key.get(self.prefix_len..) else {
            // Cannot happen: the range bounds keep keys inside the prefix.
            return Some(Err(ContractError::new("storage range returned a key outside the map")));
        };
        Some(K::read_key(k).and_then(|k| Ok((k, load_json(&value, self.namespace)?))))
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::testing::MockHost;

    #[test]
    fn key_encodings_preserve_order() {
        fn enc<K: MapKey>(k: K) -> Vec<u8> {
            let mut v = Vec::new();
            k.write_key(&mut v);
            v
        }
        let ints = [i64::MIN, -5, -1, 0, 1, 7, i64::MAX];
        for w in ints.windows(2) {
            assert!(enc(w[0]) < enc(w[1]), "{} < {}", w[0], w[1]);
        }
        for &i in &ints {
            assert_eq!(i64::read_key(&enc(i)), Ok(i));
        }
        assert!(enc(1u32) < enc(256u32));
        assert_eq!(<(u8, String)>::read_key(&enc((3u8, "ab".to_string()))), Ok((3, "ab".to_string())));
        assert!(u32::read_key(&[1, 2]).is_err());
        assert!(<(u8, u8)>::read_key(&[0, 9, 1]).is_err());
        assert_eq!(prefix_end(&[1, 0xff, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff]), None);
    }

    #[test]
    fn item_and_map_round_trip() {
        let _host = MockHost::new();
        const COUNT: Item<u64> = Item::new("count");
        assert!(COUNT.may_load().expect("load").is_none());
        assert_eq!(COUNT.load().unwrap_err().message(), "count not found");
        COUNT.save(&5).expect("save");
        assert_eq!(COUNT.update(|c| Ok(c.unwrap_or(0) + 1)).expect("update"), 6);
        assert_eq!(get(b"count").as_deref(), Some(&b"6"[..]));

        const M: Map<u32, String> = Map::new("m");
        for k in [30u32, 1, 256, 2] {
            M.save(&k, &format!("v{k}")).expect("save");
        }
        let keys: Vec<u32> = M.iter().map(|r| r.expect("entry").0).collect();
        assert_eq!(keys, vec![1, 2, 30, 256]);
        let some: Vec<u32> = M.range(Bound::Excluded(&1), Bound::Included(&30)).map(|r| r.expect("entry").0).collect();
        assert_eq!(some, vec![2, 30]);
        let some: Vec<u32> = M.range(Bound::Included(&2), Bound::Excluded(&30)).map(|r| r.expect("entry").0).collect();
        assert_eq!(some, vec![2]);
        M.remove(&2);
        assert!(!M.has(&2));
        assert_eq!(M.load(&2).unwrap_err().message(), "m entry not found");
        // u128 values beyond u64 round-trip (stored as JSON numbers).
        const BIG: Map<Addr, u128> = Map::new("big");
        BIG.save(&Addr::ZERO, &u128::MAX).unwrap();
        assert_eq!(BIG.load(&Addr::ZERO).unwrap(), u128::MAX);
        // Another map's and the item's keys are not seen.
        const N: Map<u32, String> = Map::new("m2");
        N.save(&0, &"x".to_string()).expect("save");
        assert_eq!(M.iter().count(), 3);
        assert_eq!(N.iter().count(), 1);
    }

    #[test]
    fn composite_keys_and_prefixes() {
        let _host = MockHost::new();
        const A: Map<(Addr, Addr), u128> = Map::new("allow");
        let (x, y, z) = (Addr::new([1; 20]), Addr::new([2; 20]), Addr::new([3; 20]));
        A.save(&(y, x), &1).expect("save");
        A.save(&(x, z), &2).expect("save");
        A.save(&(x, y), &3).expect("save");
        let under_x: Vec<(Addr, u128)> = A.prefix(&x).iter().map(|r| r.expect("entry")).collect();
        assert_eq!(under_x, vec![(y, 3), (z, 2)]);
        let all: Vec<((Addr, Addr), u128)> = A.iter().map(|r| r.expect("entry")).collect();
        assert_eq!(all, vec![((x, y), 3), ((x, z), 2), ((y, x), 1)]);
        let after: Vec<Addr> =
            A.prefix(&x).range(Bound::Excluded(&y), Bound::Unbounded).map(|r| r.expect("entry").0).collect();
        assert_eq!(after, vec![z]);
    }

    #[test]
    fn raw_range_sees_own_writes() {
        let _host = MockHost::new();
        set(b"a", b"1");
        set(b"b", b"2");
        set(b"c", b"3");
        let keys: Vec<Vec<u8>> = range(Bound::Unbounded, Bound::Unbounded).map(|(k, _)| k).collect();
        assert_eq!(keys, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        let keys: Vec<Vec<u8>> = range(Bound::Excluded(b"a"), Bound::Included(b"b")).map(|(k, _)| k).collect();
        assert_eq!(keys, vec![b"b".to_vec()]);
        let keys: Vec<Vec<u8>> = prefix_range(b"b").map(|(k, _)| k).collect();
        assert_eq!(keys, vec![b"b".to_vec()]);
        assert_eq!(next(b"c", Some(b"a"), true), None);
        assert_eq!(next(b"b", Some(b"b"), true), None);
    }
}
