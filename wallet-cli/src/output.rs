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

    pub fn render(&self) -> String {
        let width = self.0.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0) + 1;
        self.0.iter().map(|(l, v)| format!("{:<width$} {v}\n", format!("{l}:"))).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_aligned() {
        let mut f = Fields::new();
        f.add("hash", "ab").add("gas used", 5).add_opt::<u8>("absent", None);
        assert_eq!(f.render(), "hash:     ab\ngas used: 5\n");
    }

    #[test]
    fn times() {
        assert_eq!(format_time_ms(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
