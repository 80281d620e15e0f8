//! Reading JSON objects field by field.
//!
//! Derived `Deserialize` impls cost 1.5–8 KiB of wasm each (a map and a
//! sequence visitor per struct and per enum variant); this module reads any
//! object as `(key, raw JSON)` pairs with one visitor, and each field with
//! the shared parser of its type. Unknown fields, duplicates and missing
//! required fields are refused like `#[serde(deny_unknown_fields)]` would.

use std::fmt;

use agora_sdk::{ContractError, from_json};
use serde::de::{Deserialize, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A JSON object as its fields, in order.
#[derive(Debug)]
pub struct Obj(pub Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Obj {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Obj, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Obj;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Obj, A::Error> {
                let mut fields: Vec<(String, Box<RawValue>)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Box<RawValue>>()? {
                    if fields.iter().any(|(f, _)| *f == k) {
                        return Err(serde::de::Error::custom(format_args!("duplicate field `{k}`")));
                    }
                    fields.push((k, v));
                }
                Ok(Obj(fields))
            }
        }
        d.deserialize_map(V)
    }
}

impl Obj {
    pub fn parse(raw: &RawValue) -> Result<Obj, ContractError> {
        from_json(raw.get().as_bytes())
    }

    /// Refuses fields not in `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<&Obj, ContractError> {
        match self.0.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            Some((k, _)) => Err(format!("unknown field `{k}`").into()),
            None => Ok(self),
        }
    }

    /// The raw value of `key` (`None`: absent or `null`).
    pub fn raw(&self, key: &str) -> Option<&RawValue> {
        self.0.iter().find(|(k, v)| k == key && v.get() != "null").map(|(_, v)| &**v)
    }

    /// An optional field.
    pub fn opt<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, ContractError> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => serde_json::from_slice(v.get().as_bytes()).map(Some).map_err(|e| bad_field(key, &e)),
        }
    }

    /// A required field.
    pub fn req<T: DeserializeOwned>(&self, key: &str) -> Result<T, ContractError> {
        match self.opt(key)? {
            Some(v) => Ok(v),
            None => Err(missing(key)),
        }
    }

    /// A field with a default.
    pub fn or_default<T: DeserializeOwned + Default>(&self, key: &str) -> Result<T, ContractError> {
        Ok(self.opt(key)?.unwrap_or_default())
    }

    /// A message `{"<name>": {…}}`: its name and body.
    pub fn message(&self) -> Result<(&str, Obj), ContractError> {
        match &self.0[..] {
            [(name, body)] => Ok((name, Obj::parse(body)?)),
            _ => Err("a message is an object with exactly one field".into()),
        }
    }
}

#[inline(never)]
fn bad_field(key: &str, e: &serde_json::Error) -> ContractError {
    format!("field `{key}`: {e}").into()
}

#[inline(never)]
fn missing(key: &str) -> ContractError {
    format!("missing field `{key}`").into()
}

/// Reads a name among `all` (the JSON form of a unit enum variant).
pub fn pick<T: Copy>(raw: &str, all: &[T], name: impl Fn(T) -> &'static str) -> Result<T, ContractError> {
    all.iter().copied().find(|v| name(*v) == raw).ok_or_else(|| format!("unknown value `{raw}`").into())
}
