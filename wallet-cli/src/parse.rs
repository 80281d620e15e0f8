//! Parsing of command-line values: amounts, durations, block selectors, hashes,
//! and the node URL (with its WebSocket twin).

use std::time::Duration;

use ledger::{Amount, Hash};

use crate::error::{Result, WalletError};

/// Parses an amount in base units: a plain non-negative integer that fits a u128.
/// Negative numbers, decimals, exponents and overflow get their own message.
pub fn parse_amount(s: &str) -> Result<Amount> {
    let t = s.trim();
    let err = |m: String| Err(WalletError::Amount(m));
    if t.is_empty() {
        return err("empty; give a whole number of base units, e.g. 1000".into());
    }
    if t.starts_with('-') {
        return err(format!("`{t}` is negative; amounts are whole non-negative numbers of base units"));
    }
    if t.contains(['.', ',']) {
        return err(format!("`{t}` has a fraction; amounts are whole numbers of base units (no decimals)"));
    }
    let digits = t.strip_prefix('+').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return err(format!("`{t}` is not a whole number of base units (digits only)"));
    }
    digits
        .parse::<Amount>()
        .map_err(|_| WalletError::Amount(format!("`{t}` is too large: the maximum is {}", u128::MAX)))
}

/// [`parse_amount`] for clap.
pub fn amount_arg(s: &str) -> std::result::Result<Amount, String> {
    parse_amount(s).map_err(|e| e.to_string())
}

/// Parses a duration: `30s`, `500ms`, `2m`, `1m30s`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| WalletError::InvalidArgument(format!("duration `{t}` is too large")));
    }
    humantime::parse_duration(t)
        .map_err(|e| WalletError::InvalidArgument(format!("invalid duration `{t}` ({e}); use e.g. 30s, 500ms or 2m")))
}

/// [`parse_duration`] for clap.
pub fn duration_arg(s: &str) -> std::result::Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

/// Parses a transaction or block hash (64 hex digits, optional `0x`).
pub fn parse_hash(s: &str) -> Result<Hash> {
    s.trim()
        .to_ascii_lowercase()
        .parse::<Hash>()
        .map_err(|e| WalletError::InvalidArgument(format!("invalid hash `{s}`: {e}")))
}

/// [`parse_hash`] for clap.
pub fn hash_arg(s: &str) -> std::result::Result<Hash, String> {
    parse_hash(s).map_err(|e| e.to_string())
}

/// Which block `agora block` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockSelector {
    Latest,
    Height(u64),
    Hash(Hash),
}

impl BlockSelector {
    /// The `block` parameter of `agora_getBlock`.
    pub fn to_param(&self) -> serde_json::Value {
        match self {
            BlockSelector::Latest => serde_json::Value::from("latest"),
            BlockSelector::Height(h) => serde_json::Value::from(*h),
            BlockSelector::Hash(h) => serde_json::Value::from(h.to_string()),
        }
    }
}

impl std::fmt::Display for BlockSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlockSelector::Latest => f.write_str("latest block"),
            BlockSelector::Height(h) => write!(f, "block at height {h}"),
            BlockSelector::Hash(h) => write!(f, "block {h}"),
        }
    }
}

/// Parses `latest`, a height, or a 64-hex-digit block hash.
pub fn parse_block_selector(s: &str) -> Result<BlockSelector> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("latest") {
        return Ok(BlockSelector::Latest);
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) && t.len() < 64 {
        return t
            .parse()
            .map(BlockSelector::Height)
            .map_err(|_| WalletError::InvalidArgument(format!("height `{t}` is too large")));
    }
    parse_hash(t).map(BlockSelector::Hash).map_err(|_| {
        WalletError::InvalidArgument(format!("`{t}` is not a block height, a block hash (64 hex digits) or `latest`"))
    })
}

/// [`parse_block_selector`] for clap.
pub fn block_arg(s: &str) -> std::result::Result<BlockSelector, String> {
    parse_block_selector(s).map_err(|e| e.to_string())
}

/// The node's HTTP URL and the WebSocket URL of the same endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeUrl {
    pub http: String,
    pub ws: String,
}

/// Accepts `http(s)://…` (or `ws(s)://…`) and derives the other scheme.
pub fn parse_node_url(s: &str) -> Result<NodeUrl> {
    let t = s.trim().trim_end_matches('/');
    let (http_scheme, ws_scheme, rest) = if let Some(r) = t.strip_prefix("http://") {
        ("http", "ws", r)
    } else if let Some(r) = t.strip_prefix("https://") {
        ("https", "wss", r)
    } else if let Some(r) = t.strip_prefix("ws://") {
        ("http", "ws", r)
    } else if let Some(r) = t.strip_prefix("wss://") {
        ("https", "wss", r)
    } else {
        return Err(WalletError::InvalidArgument(format!(
            "invalid node URL `{s}`: it must start with http:// or https:// (e.g. http://127.0.0.1:26657)"
        )));
    };
    if rest.is_empty() {
        return Err(WalletError::InvalidArgument(format!("invalid node URL `{s}`: no host")));
    }
    Ok(NodeUrl { http: format!("{http_scheme}://{rest}"), ws: format!("{ws_scheme}://{rest}") })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("0").unwrap(), Amount::ZERO);
        assert_eq!(parse_amount("1000").unwrap(), Amount::new(1000));
        assert_eq!(parse_amount(" 42 ").unwrap(), Amount::new(42));
        assert_eq!(parse_amount(&u128::MAX.to_string()).unwrap(), Amount::new(u128::MAX));

        let msg = |s: &str| parse_amount(s).unwrap_err().to_string();
        assert!(msg("-5").contains("negative"), "{}", msg("-5"));
        assert!(msg("-0").contains("negative"));
        assert!(msg("1.5").contains("fraction"), "{}", msg("1.5"));
        assert!(msg("1,000").contains("fraction"));
        assert!(msg("340282366920938463463374607431768211456").contains("too large"));
        assert!(msg("99999999999999999999999999999999999999999999").contains("too large"));
        assert!(msg("1e6").contains("digits only"));
        assert!(msg("abc").contains("digits only"));
        assert!(msg("0x10").contains("digits only"));
        assert!(msg("").contains("empty"));
        assert!(msg("+").contains("digits only"));
        assert!(msg("1.5").starts_with("invalid amount: "));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("45").unwrap(), Duration::from_secs(45));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn block_selectors() {
        assert_eq!(parse_block_selector("latest").unwrap(), BlockSelector::Latest);
        assert_eq!(parse_block_selector("12").unwrap(), BlockSelector::Height(12));
        let h = "ab".repeat(32);
        assert_eq!(parse_block_selector(&h).unwrap(), BlockSelector::Hash(h.parse().unwrap()));
        assert_eq!(parse_block_selector(&"12".repeat(32)).unwrap().to_param(), serde_json::json!("12".repeat(32)));
        assert_eq!(BlockSelector::Height(7).to_param(), serde_json::json!(7));
        assert!(parse_block_selector("abc").is_err());
        assert!(parse_block_selector("-1").is_err());
    }

    #[test]
    fn node_urls() {
        let u = parse_node_url("http://127.0.0.1:26657").unwrap();
        assert_eq!(u.ws, "ws://127.0.0.1:26657");
        let u = parse_node_url("https://node.example/rpc/").unwrap();
        assert_eq!((u.http.as_str(), u.ws.as_str()), ("https://node.example/rpc", "wss://node.example/rpc"));
        assert_eq!(parse_node_url("ws://h:1").unwrap().http, "http://h:1");
        assert!(parse_node_url("127.0.0.1:26657").is_err());
        assert!(parse_node_url("http://").is_err());
    }
}
