//! Parsing of command-line values: amounts, durations, block selectors, hashes,
//! addresses, gas settings, contract messages and storage keys, staking values
//! (rates, consensus keys, validator metadata fields), and the node URL (with
//! its WebSocket twin).

use std::time::Duration;

use ledger::staking::ValidatorMetadata;
use ledger::{Address, Amount, Hash, PublicKey, Rate};

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

/// [`parse_amount`], refusing zero (what staking transactions move).
pub fn parse_positive_amount(s: &str) -> Result<Amount> {
    let a = parse_amount(s)?;
    if a.is_zero() {
        return Err(WalletError::Amount("the amount must be greater than zero".into()));
    }
    Ok(a)
}

/// [`parse_positive_amount`] for clap.
pub fn positive_amount_arg(s: &str) -> std::result::Result<Amount, String> {
    parse_positive_amount(s).map_err(|e| e.to_string())
}

/// Parses a rate between 0 and 1: a decimal with at most 6 decimals (`0.05`),
/// or a percentage with at most 4 (`5%`, `12.5%`).
pub fn parse_rate(s: &str) -> Result<Rate> {
    let t = s.trim();
    let bad = || {
        WalletError::InvalidArgument(format!(
            "invalid rate `{t}`: give a number between 0 and 1 with at most 6 decimals (0.05) or a percentage (5%)"
        ))
    };
    let Some(pct) = t.strip_suffix('%') else {
        return t.parse::<Rate>().map_err(|_| bad());
    };
    let (whole, frac) = pct.trim_end().split_once('.').unwrap_or((pct.trim_end(), ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 4 || (pct.contains('.') && frac.is_empty()) {
        return Err(bad());
    }
    let w: u32 = whole.parse().map_err(|_| bad())?;
    let f: u32 = if frac.is_empty() { 0 } else { format!("{frac:0<4}").parse().map_err(|_| bad())? };
    w.checked_mul(10_000).and_then(|x| x.checked_add(f)).and_then(Rate::from_ppm).ok_or_else(bad)
}

/// [`parse_rate`] for clap.
pub fn rate_arg(s: &str) -> std::result::Result<Rate, String> {
    parse_rate(s).map_err(|e| e.to_string())
}

/// Parses a validator's consensus public key: 64 hex digits (optional `0x`),
/// as `agorad show-validator` prints it, that are a valid, non-weak ed25519
/// point (the chain refuses others).
pub fn parse_consensus_key(s: &str) -> Result<PublicKey> {
    let t = s.trim().to_ascii_lowercase();
    let pk = t.parse::<PublicKey>().map_err(|e| {
        WalletError::InvalidArgument(format!(
            "invalid consensus key `{}`: {e} (`agorad show-validator --home HOME` prints it)",
            s.trim()
        ))
    })?;
    match ed25519_dalek::VerifyingKey::from_bytes(&pk.0) {
        Ok(k) if !k.is_weak() => Ok(pk),
        _ => Err(WalletError::InvalidArgument(format!("consensus key {pk} is not a valid ed25519 public key"))),
    }
}

/// [`parse_consensus_key`] for clap.
pub fn consensus_key_arg(s: &str) -> std::result::Result<PublicKey, String> {
    parse_consensus_key(s).map_err(|e| e.to_string())
}

/// A validator metadata field of the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataField {
    Moniker,
    Website,
    Entity,
    Country,
    Hosting,
    ClientVersion,
    Details,
}

/// Checks one metadata field with the ledger's rules
/// (`ledger::staking::metadata::validate`); a country code is upper-cased
/// first (`de` → `DE`). Empty clears an optional field; the moniker is required.
pub fn parse_metadata_field(field: MetadataField, s: &str) -> Result<String> {
    let v = if field == MetadataField::Country { s.to_ascii_uppercase() } else { s.to_owned() };
    let mut m = ValidatorMetadata { moniker: "x".into(), ..ValidatorMetadata::default() };
    let slot = match field {
        MetadataField::Moniker => &mut m.moniker,
        MetadataField::Website => &mut m.website,
        MetadataField::Entity => &mut m.operator_entity,
        MetadataField::Country => &mut m.country,
        MetadataField::Hosting => &mut m.hosting,
        MetadataField::ClientVersion => &mut m.client_version,
        MetadataField::Details => &mut m.details,
    };
    slot.clone_from(&v);
    ledger::staking::metadata::validate(&m).map_err(WalletError::InvalidArgument)?;
    Ok(v)
}

macro_rules! metadata_args {
    ($($name:ident => $field:ident),* $(,)?) => {$(
        /// [`parse_metadata_field`] for clap.
        pub fn $name(s: &str) -> std::result::Result<String, String> {
            parse_metadata_field(MetadataField::$field, s).map_err(|e| e.to_string())
        }
    )*};
}

metadata_args! {
    moniker_arg => Moniker,
    website_arg => Website,
    entity_arg => Entity,
    country_arg => Country,
    hosting_arg => Hosting,
    client_version_arg => ClientVersion,
    details_arg => Details,
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

/// Parses an `agora1…` address (contracts are addressed like accounts).
pub fn parse_address(s: &str) -> Result<Address> {
    s.trim().parse::<Address>().map_err(|e| WalletError::InvalidArgument(format!("invalid address: {e}")))
}

/// [`parse_address`] for clap.
pub fn address_arg(s: &str) -> std::result::Result<Address, String> {
    parse_address(s).map_err(|e| e.to_string())
}

/// `--gas` of every transaction: `auto` (a dry run's estimate times
/// `--gas-adjustment`) or an explicit gas limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GasSetting {
    Auto,
    Limit(u64),
}

/// Parses `auto` or a whole, positive number of gas.
pub fn parse_gas(s: &str) -> Result<GasSetting> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("auto") {
        return Ok(GasSetting::Auto);
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WalletError::InvalidArgument(format!(
            "gas `{t}` is neither `auto` nor a whole number (e.g. --gas 500000)"
        )));
    }
    match t.parse::<u64>() {
        Ok(0) => Err(WalletError::InvalidArgument("a gas limit of 0 cannot pay for anything".into())),
        Ok(g) => Ok(GasSetting::Limit(g)),
        Err(_) => Err(WalletError::InvalidArgument(format!("gas `{t}` is too large"))),
    }
}

/// [`parse_gas`] for clap.
pub fn gas_arg(s: &str) -> std::result::Result<GasSetting, String> {
    parse_gas(s).map_err(|e| e.to_string())
}

/// `--gas-adjustment`: the factor `--gas auto` multiplies the dry run's gas
/// by, kept as the exact ratio `numerator / 10^decimals` of its decimal text
/// (no floating point: `1.3` is 13/10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GasAdjustment {
    numerator: u64,
    decimals: u32,
}

impl GasAdjustment {
    /// Most decimals accepted.
    pub const MAX_DECIMALS: u32 = 6;
    /// The largest factor accepted (a larger one only locks up balance).
    pub const MAX: u64 = 10;
    /// The default, 1.3.
    pub const DEFAULT: GasAdjustment = GasAdjustment { numerator: 13, decimals: 1 };

    /// `ceil(gas × factor)`, at most `max`.
    pub fn apply(self, gas: u64, max: u64) -> u64 {
        let den = 10u128.pow(self.decimals);
        let g = (u128::from(gas) * u128::from(self.numerator)).div_ceil(den);
        u64::try_from(g).unwrap_or(u64::MAX).min(max)
    }
}

impl std::fmt::Display for GasAdjustment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let den = 10u64.pow(self.decimals);
        let (whole, frac) = (self.numerator / den, self.numerator % den);
        if self.decimals == 0 {
            write!(f, "{whole}")
        } else {
            write!(f, "{whole}.{frac:0width$}", width = self.decimals as usize)
        }
    }
}

/// Parses a gas adjustment: a decimal between 1 and 10 with at most 6 decimals
/// (`1`, `1.3`, `1.25`).
pub fn parse_gas_adjustment(s: &str) -> Result<GasAdjustment> {
    let t = s.trim();
    let bad = |why: &str| {
        WalletError::InvalidArgument(format!(
            "invalid gas adjustment `{t}`: {why} (a decimal from 1 to {} with at most {} decimals, e.g. 1.3)",
            GasAdjustment::MAX,
            GasAdjustment::MAX_DECIMALS
        ))
    };
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || (t.contains('.') && frac.is_empty()) {
        return Err(bad("not a decimal number"));
    }
    if frac.len() > GasAdjustment::MAX_DECIMALS as usize {
        return Err(bad("too many decimals"));
    }
    // Trailing zeros say nothing: 1.30 is 13/10.
    let frac = frac.trim_end_matches('0');
    let decimals = frac.len() as u32;
    let whole: u64 = whole.parse().map_err(|_| bad("too large"))?;
    let frac_value: u64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| bad("not a decimal number"))? };
    let den = 10u64.pow(decimals);
    let numerator = whole.checked_mul(den).and_then(|w| w.checked_add(frac_value)).ok_or_else(|| bad("too large"))?;
    if numerator < den {
        return Err(bad("below 1, the transaction would run out of gas"));
    }
    if numerator > GasAdjustment::MAX * den {
        return Err(bad("too large"));
    }
    Ok(GasAdjustment { numerator, decimals })
}

/// [`parse_gas_adjustment`] for clap.
pub fn gas_adjustment_arg(s: &str) -> std::result::Result<GasAdjustment, String> {
    parse_gas_adjustment(s).map_err(|e| e.to_string())
}

/// Reads a contract message: a JSON document given inline, or `@FILE` for the
/// contents of FILE. The JSON is checked locally (an error names the position)
/// and sent compact: whitespace outside strings is removed, nothing else
/// changes (key order and number digits are kept as written).
pub fn parse_msg(arg: &str) -> Result<Vec<u8>> {
    let (text, source) = match arg.strip_prefix('@') {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| WalletError::io("cannot read the message file", path, e))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| WalletError::InvalidArgument(format!("message file {path} is not UTF-8 text")))?;
            (text, format!(" in {path}"))
        }
        None => (arg.to_owned(), String::new()),
    };
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
        let hint = if e.to_string().starts_with("key must be a string") && !text.contains('"') {
            " (did the shell remove the quotes? put the message in single quotes: '{\"key\":…}')"
        } else {
            ""
        };
        return Err(WalletError::InvalidArgument(format!("invalid JSON message{source}: {e}{hint}")));
    }
    Ok(minify_json(&text).into_bytes())
}

/// Removes the whitespace outside strings of a valid JSON text.
pub fn minify_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

/// A contract storage key (raw bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageKey(pub Vec<u8>);

/// A contract storage key: text (its UTF-8 bytes), or `0x…` for hex bytes.
pub fn parse_storage_key(s: &str) -> Result<StorageKey> {
    let key = match s.strip_prefix("0x") {
        Some(h) => hex::decode(h).map_err(|e| {
            WalletError::InvalidArgument(format!("invalid key `{s}`: after `0x` the key must be hex ({e})"))
        })?,
        None => s.as_bytes().to_vec(),
    };
    if key.is_empty() {
        return Err(WalletError::InvalidArgument("storage keys are at least one byte long".into()));
    }
    Ok(StorageKey(key))
}

/// [`parse_storage_key`] for clap.
pub fn storage_key_arg(s: &str) -> std::result::Result<StorageKey, String> {
    parse_storage_key(s).map_err(|e| e.to_string())
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
    fn staking_values() {
        assert_eq!(parse_positive_amount("5").unwrap(), Amount::new(5));
        assert!(parse_positive_amount("0").unwrap_err().to_string().contains("greater than zero"));
        assert!(parse_positive_amount("-1").unwrap_err().to_string().contains("negative"));

        assert_eq!(parse_rate("0.05").unwrap().ppm(), 50_000);
        assert_eq!(parse_rate("1").unwrap(), Rate::ONE);
        assert_eq!(parse_rate("0").unwrap(), Rate::ZERO);
        assert_eq!(parse_rate("5%").unwrap().ppm(), 50_000);
        assert_eq!(parse_rate("12.5 %").unwrap().ppm(), 125_000);
        assert_eq!(parse_rate("0.0001%").unwrap().ppm(), 1);
        assert_eq!(parse_rate("100%").unwrap(), Rate::ONE);
        for bad in ["1.1", "101%", "-0.1", "0.1234567", "0.00001%", "abc", "", "%", "1.%", "0.5.1", "1e-2"] {
            let e = parse_rate(bad).unwrap_err().to_string();
            assert!(e.starts_with("invalid rate"), "{bad}: {e}");
        }

        let pk = PublicKey::from_signing_key(&ledger::SigningKey::from_bytes(&[7; 32]));
        assert_eq!(parse_consensus_key(&pk.to_string()).unwrap(), pk);
        assert_eq!(parse_consensus_key(&format!("0x{}", pk.to_string().to_uppercase())).unwrap(), pk);
        let e = parse_consensus_key("abcd").unwrap_err().to_string();
        assert!(e.contains("invalid consensus key") && e.contains("show-validator"), "{e}");
        // The identity point is a weak key.
        let weak = format!("01{}", "00".repeat(31));
        assert!(parse_consensus_key(&weak).unwrap_err().to_string().contains("not a valid ed25519"));

        use MetadataField::*;
        assert_eq!(parse_metadata_field(Country, "de").unwrap(), "DE");
        assert_eq!(parse_metadata_field(Country, "").unwrap(), "");
        assert!(parse_metadata_field(Country, "Germany").unwrap_err().to_string().contains("ISO 3166"));
        assert!(parse_metadata_field(Country, "XX").is_err());
        assert!(parse_metadata_field(Moniker, "").unwrap_err().to_string().contains("moniker must not be empty"));
        assert!(parse_metadata_field(Moniker, &"m".repeat(65)).is_err());
        assert!(parse_metadata_field(Moniker, " padded").unwrap_err().to_string().contains("leading or trailing"));
        assert!(parse_metadata_field(Website, "example.com").unwrap_err().to_string().contains("https://"));
        assert_eq!(parse_metadata_field(Website, "https://v.example").unwrap(), "https://v.example");
        assert!(parse_metadata_field(Hosting, "AS4294967296").unwrap_err().to_string().contains("AS number"));
        assert_eq!(parse_metadata_field(Hosting, "AS24940").unwrap(), "AS24940");
        assert!(parse_metadata_field(Entity, &"e".repeat(65)).unwrap_err().to_string().contains("operator_entity"));
        assert!(parse_metadata_field(Details, &"d".repeat(281)).is_err());
        assert!(parse_metadata_field(Details, "a\u{7}b").unwrap_err().to_string().contains("control"));
        assert_eq!(parse_metadata_field(ClientVersion, "agorad/0.1.0").unwrap(), "agorad/0.1.0");
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
    fn gas_settings() {
        assert_eq!(parse_gas("auto").unwrap(), GasSetting::Auto);
        assert_eq!(parse_gas("AUTO").unwrap(), GasSetting::Auto);
        assert_eq!(parse_gas("250000").unwrap(), GasSetting::Limit(250_000));
        assert!(parse_gas("0").unwrap_err().to_string().contains("cannot pay"));
        assert!(parse_gas("1.5").unwrap_err().to_string().contains("neither `auto`"));
        assert!(parse_gas("-5").is_err());
        assert!(parse_gas("99999999999999999999999").unwrap_err().to_string().contains("too large"));
    }

    #[test]
    fn gas_adjustments_are_exact_ratios() {
        let a = parse_gas_adjustment("1.3").unwrap();
        assert_eq!((a, a.to_string()), (GasAdjustment::DEFAULT, "1.3".to_owned()));
        assert_eq!(parse_gas_adjustment("1.30").unwrap(), GasAdjustment::DEFAULT, "trailing zeros");
        assert_eq!(parse_gas_adjustment(" 2 ").unwrap().to_string(), "2");
        assert_eq!(parse_gas_adjustment("1.000001").unwrap().to_string(), "1.000001");
        assert_eq!(parse_gas_adjustment("10").unwrap().to_string(), "10");
        for bad in
            ["", "0.9", "0", "1.", ".5", "1,3", "-1.3", "1e3", "10.000001", "1.0000001", "abc", "99999999999999999999"]
        {
            assert!(parse_gas_adjustment(bad).is_err(), "{bad}");
        }
        // ceil(gas × factor), capped.
        assert_eq!(GasAdjustment::DEFAULT.apply(100_000, u64::MAX), 130_000);
        assert_eq!(GasAdjustment::DEFAULT.apply(17_181, u64::MAX), 22_336, "22335.3 rounds up");
        assert_eq!(GasAdjustment::DEFAULT.apply(0, u64::MAX), 0);
        assert_eq!(GasAdjustment::DEFAULT.apply(90_000_000, 100_000_000), 100_000_000);
        assert_eq!(parse_gas_adjustment("1").unwrap().apply(12_345, u64::MAX), 12_345);
        assert_eq!(parse_gas_adjustment("1.25").unwrap().apply(3, u64::MAX), 4, "3.75 rounds up");
        assert_eq!(parse_gas_adjustment("10").unwrap().apply(u64::MAX, u64::MAX), u64::MAX);
    }

    #[test]
    fn messages_are_checked_and_compacted() {
        assert_eq!(parse_msg(r#" { "increment" : { "by" : 2 } } "#).unwrap(), br#"{"increment":{"by":2}}"#);
        // Whitespace inside strings, escapes, key order and big numbers are kept.
        assert_eq!(
            parse_msg("{\"z\": \"a b\\\" c\", \"a\": 340282366920938463463374607431768211455}").unwrap(),
            "{\"z\":\"a b\\\" c\",\"a\":340282366920938463463374607431768211455}".as_bytes()
        );
        assert_eq!(parse_msg(r#""x\\""#).unwrap(), br#""x\\""#);
        let e = parse_msg(r#"{"a": }"#).unwrap_err().to_string();
        assert!(e.starts_with("invalid JSON message: expected value at line 1 column 7"), "{e}");
        let e = parse_msg("{increment:{}}").unwrap_err().to_string();
        assert!(e.contains("key must be a string at line 1 column 2") && e.contains("single quotes"), "{e}");
        assert!(parse_msg("{} extra").unwrap_err().to_string().contains("trailing characters"));

        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("msg.json");
        std::fs::write(&f, "{\n  \"reset\": {}\n}\n").unwrap();
        assert_eq!(parse_msg(&format!("@{}", f.display())).unwrap(), br#"{"reset":{}}"#);
        std::fs::write(&f, "{\n  \"reset\": \n").unwrap();
        let e = parse_msg(&format!("@{}", f.display())).unwrap_err().to_string();
        assert!(e.contains("msg.json: EOF while parsing") && e.contains("at line 3 column 0"), "{e}");
        let e = parse_msg(&format!("@{}", dir.path().join("nope.json").display())).unwrap_err().to_string();
        assert!(e.starts_with("cannot read the message file") && e.contains("nope.json"), "{e}");
    }

    #[test]
    fn storage_keys() {
        assert_eq!(parse_storage_key("count").unwrap().0, b"count");
        assert_eq!(parse_storage_key("0x00ff").unwrap().0, vec![0, 0xff]);
        assert!(parse_storage_key("0xzz").unwrap_err().to_string().contains("must be hex"));
        assert!(parse_storage_key("").is_err());
    }

    #[test]
    fn addresses() {
        let a = ledger::Address([7; 20]);
        assert_eq!(parse_address(&a.to_string()).unwrap(), a);
        assert!(parse_address("agora1xyz").unwrap_err().to_string().starts_with("invalid address: "));
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
