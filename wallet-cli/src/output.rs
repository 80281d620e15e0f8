//! Output: human text by default, or exactly one JSON document on stdout with
//! `-o json`. Progress (the spinner) and warnings go to stderr only.

use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;

use crate::error::{Result, WalletError};

/// The `-o/--output` format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON document on stdout.
    Json,
}

/// Prints one JSON document (pretty, with a final new line) on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| WalletError::Output(e.to_string()))?;
    print_text(&format!("{text}\n"))
}

/// Prints text on stdout; a closed pipe is an error, not a panic.
pub fn print_text(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| WalletError::Output(e.to_string()))
}

/// Aligned `label: value` lines.
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn new() -> Fields {
        Fields::default()
    }

    pub fn add(&mut self, label: &str, value: impl ToString) -> &mut Fields {
        self.0.push((label.to_owned(), value.to_string()));
        self
    }

    pub fn add_opt<T: ToString>(&mut self, label: &str, value: Option<T>) -> &mut Fields {
        if let Some(v) = value {
            self.add(label, v);
        }
        self
    }

    /// Adds a multi-line value: the first line after the label, the others
    /// aligned under it.
    pub fn add_lines(&mut self, label: &str, text: &str) -> &mut Fields {
        for (i, line) in text.lines().enumerate() {
            self.add(if i == 0 { label } else { "" }, line);
        }
        if text.is_empty() {
            self.add(label, "");
        }
        self
    }

    /// The lines; a line with an empty label continues the one above it.
    pub fn render(&self) -> String {
        let width = self.0.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0) + 1;
        self.0
            .iter()
            .map(|(l, v)| {
                let label = if l.is_empty() { String::new() } else { format!("{l}:") };
                format!("{label:<width$} {v}").trim_end().to_owned() + "\n"
            })
            .collect()
    }

    pub fn print(&self) -> Result<()> {
        print_text(&self.render())
    }
}

/// A block time (milliseconds since the Unix epoch) as RFC 3339 UTC.
pub fn format_time_ms(ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// Shows a JSON value compactly: strings without quotes.
pub fn show_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Shows bytes stored or sent by a contract on one line: JSON as compact JSON,
/// other printable UTF-8 as text, anything else as `0x…` hex.
pub fn show_bytes(b: &[u8]) -> String {
    if b.is_empty() {
        return "(empty)".into();
    }
    match std::str::from_utf8(b) {
        Ok(t) if serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok() => crate::parse::minify_json(t),
        Ok(t) if !t.chars().any(char::is_control) => t.to_owned(),
        _ => format!("0x{}", hex::encode(b)),
    }
}

/// Shows a contract's result data: pretty JSON if it is JSON, else `0x…` hex;
/// `(none)` when empty.
pub fn show_data(b: &[u8]) -> String {
    if b.is_empty() {
        return "(none)".into();
    }
    match serde_json::from_slice::<serde_json::Value>(b) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_else(|_| format!("0x{}", hex::encode(b))),
        Err(_) => format!("0x{}", hex::encode(b)),
    }
}

/// A contract's result data for `-o json`: the JSON value if it is JSON, else null.
pub fn data_json(b: &[u8]) -> serde_json::Value {
    if b.is_empty() {
        return serde_json::Value::Null;
    }
    serde_json::from_slice(b).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_aligned() {
        let mut f = Fields::new();
        f.add("hash", "ab").add("gas used", 5).add_opt::<u8>("absent", None);
        assert_eq!(f.render(), "hash:     ab\ngas used: 5\n");
        f.add_lines("data", "{\n  \"a\": 1\n}").add("", "more");
        assert_eq!(
            f.render(),
            "hash:     ab\ngas used: 5\ndata:     {\n            \"a\": 1\n          }\n          more\n"
        );
    }

    #[test]
    fn contract_bytes() {
        assert_eq!(show_bytes(b"6"), "6");
        assert_eq!(show_bytes(b"{ \"a\" : [1, 2] }"), "{\"a\":[1,2]}");
        assert_eq!(show_bytes(b"my counter"), "my counter");
        assert_eq!(show_bytes(&[0, 1, 0xff]), "0x0001ff");
        assert_eq!(show_bytes(b"a\nb"), "0x610a62");
        assert_eq!(show_bytes(b""), "(empty)");
        assert_eq!(show_data(br#"{"count":6}"#), "{\n  \"count\": 6\n}");
        assert_eq!(show_data(b"ok"), "0x6f6b");
        assert_eq!(show_data(b""), "(none)");
        assert_eq!(data_json(br#"{"count":6}"#), serde_json::json!({"count": 6}));
        assert_eq!(data_json(&[0xde, 0xad]), serde_json::Value::Null);
    }

    #[test]
    fn times() {
        assert_eq!(format_time_ms(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
