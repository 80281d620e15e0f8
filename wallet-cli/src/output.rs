//! Output: human text by default, or exactly one JSON document on stdout with
//! `-o json`. Progress (the spinner) and warnings go to stderr only.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::error::{Result, WalletError};

/// The `-o/--output` format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON document on stdout.
    Json,
}

impl OutputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Text => "text",
            OutputFormat::Json => "json",
        }
    }
}

/// Whether `c` must not reach a terminal as is: C0 controls (escape,
/// carriage return, backspace, new line, tab…), DEL, C1 controls (U+0080 to
/// U+009F: some terminals read U+009B as CSI), and the bidirectional
/// overrides, embeddings and isolates (U+202A–U+202E, U+2066–U+2069) and
/// marks (U+200E, U+200F, U+061C) that make text display in another order
/// than it reads.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Makes text from the chain (event attributes, contract labels, DAO texts,
/// validator metadata, the node's error messages, …) safe to show on a
/// terminal: every [`is_unsafe_char`] is replaced by a visible escape (`\n`,
/// `\r`, `\t`, `\u{1b}`, `\u{202e}`), so a hostile contract can neither
/// move the cursor, rewrite or fake a line, colour the output, nor reorder
/// what is shown. Everything else is kept, other Unicode included. This is
/// the one function every text output path uses: [`Fields`] and [`Table`]
/// escape each value, [`print_text`] and [`eprint_text`] escape all but the
/// line breaks of the text they print, errors are escaped by
/// `commands::report`, and [`print_json`] escapes what serde leaves raw.
pub fn escape_control(s: &str) -> std::borrow::Cow<'_, str> {
    escape_unsafe(s, false)
}

/// [`escape_control`], keeping new lines (`keep_newlines`) for text whose
/// lines the wallet laid out itself.
fn escape_unsafe(s: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| is_unsafe_char(c) && !(keep_newlines && c == '\n');
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            c if !bad(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A JSON document with the characters serde leaves raw (DEL, C1 controls,
/// bidirectional controls: [`is_unsafe_char`]) written as `\uXXXX` escapes:
/// the same JSON value, safe on a terminal. (Outside strings JSON text holds
/// only ASCII punctuation, digits, letters and white space, so every such
/// character is inside a string, where `\uXXXX` means the same character.)
pub fn escape_json_text(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| is_unsafe_char(c) && !matches!(c, '\n' | ' ');
    if !text.chars().any(bad) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if bad(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Prints one JSON document (pretty, with a final new line) on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| WalletError::Output(e.to_string()))?;
    write_stdout(&format!("{}\n", escape_json_text(&text)))
}

/// Prints text on stdout, every [`is_unsafe_char`] but the new lines escaped
/// ([`escape_control`]); a closed pipe is an error, not a panic.
pub fn print_text(text: &str) -> Result<()> {
    write_stdout(&escape_unsafe(text, true))
}

/// Prints a message on stderr (with a final new line), escaped like [`print_text`].
pub fn eprint_text(text: &str) {
    eprintln!("{}", escape_unsafe(text, true));
}

fn write_stdout(text: &str) -> Result<()> {
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

    /// Adds a line; the value is escaped ([`escape_control`]): a value from
    /// the chain cannot break the line or fake another one.
    pub fn add(&mut self, label: &str, value: impl ToString) -> &mut Fields {
        self.0.push((label.to_owned(), escape_control(&value.to_string()).into_owned()));
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

/// Columns of text under a header line; numbers are right-aligned.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Columns named by `headers`; a header starting with `>` (removed) is right-aligned.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.trim_start_matches('>').to_owned()).collect(),
            right: headers.iter().map(|h| h.starts_with('>')).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; each cell is escaped ([`escape_control`]).
    pub fn row(&mut self, cells: Vec<String>) -> &mut Table {
        self.rows.push(cells.iter().map(|c| escape_control(c).into_owned()).collect());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The header and the rows, columns separated by two spaces, without
    /// trailing spaces.
    pub fn render(&self) -> String {
        let n = self.headers.len();
        let mut width: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().take(n).enumerate() {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let parts: Vec<String> = (0..n)
                .map(|i| {
                    let c = cells.get(i).map(String::as_str).unwrap_or("");
                    let w = width[i];
                    if self.right[i] { format!("{c:>w$}") } else { format!("{c:<w$}") }
                })
                .collect();
            parts.join("  ").trim_end().to_owned() + "\n"
        };
        let mut out = line(&self.headers);
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }

    pub fn print(&self) -> Result<()> {
        print_text(&self.render())
    }
}

/// A rate as a percentage: `10%`, `12.5%`, `0.0001%`.
pub fn format_percent(r: ledger::Rate) -> String {
    let ppm = r.ppm();
    let (whole, frac) = (ppm / 10_000, ppm % 10_000);
    if frac == 0 {
        return format!("{whole}%");
    }
    format!("{whole}.{}%", format!("{frac:04}").trim_end_matches('0'))
}

/// `part` as a share of `total`, as a percentage with two decimals (rounded
/// down): `33.33%`; `-` when the total is zero.
pub fn format_share(part: u64, total: u64) -> String {
    if total == 0 {
        return "-".into();
    }
    let bp = u128::from(part) * 10_000 / u128::from(total);
    format!("{}.{:02}%", bp / 100, bp % 100)
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// How far `at_ms` is from `now_ms`, in whole minutes (rounded up when in
/// the future): `in 5 min`, `in 30240 min (~21 days)`, `now`, `3 min ago`,
/// `4320 min ago (~3 days)`.
pub fn format_relative(at_ms: u64, now_ms: u64) -> String {
    const MIN: u64 = 60_000;
    if at_ms > now_ms {
        let min = (at_ms - now_ms).div_ceil(MIN);
        let days = (at_ms - now_ms) / (24 * 60 * MIN);
        if days >= 2 { format!("in {min} min (~{days} days)") } else { format!("in {min} min") }
    } else {
        let days = (now_ms - at_ms) / (24 * 60 * MIN);
        match (now_ms - at_ms) / MIN {
            0 => "now".into(),
            min if days >= 2 => format!("{min} min ago (~{days} days)"),
            min => format!("{min} min ago"),
        }
    }
}

/// A time as RFC 3339 with how far it is from now: `2025-01-01T00:00:00.000Z (in 5 min)`.
pub fn format_time_relative(at_ms: u64, now_ms: u64) -> String {
    format!("{} ({})", format_time_ms(at_ms), format_relative(at_ms, now_ms))
}

/// Shortens `s` to at most `max` characters, ending with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
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
#[allow(clippy::unwrap_used)]
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
    fn control_and_bidi_characters_are_escaped() {
        let hostile = "a\u{1b}[2K\rb\nc\td\u{7}\u{7f}\u{85}\u{9b}31m\u{202e}e\u{2066}\u{200f}f";
        assert_eq!(escape_control(hostile), r"a\u{1b}[2K\rb\nc\td\u{7}\u{7f}\u{85}\u{9b}31m\u{202e}e\u{2066}\u{200f}f");
        assert!(matches!(escape_control("plain ünïcödé 😀 agora1…"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(escape_control(&escape_control(hostile)), escape_control(hostile), "idempotent");
        assert_eq!(
            escape_unsafe("a\nb\r\n", true),
            r"a
b\r
"
        );
        // Fields and tables escape each value: no line can be faked.
        let mut f = Fields::new();
        f.add("label", "x\r\nto: agora1evil");
        assert_eq!(f.render(), "label: x\\r\\nto: agora1evil\n");
        let mut t = Table::new(&["A", "B"]);
        t.row(vec!["\u{1b}[31mred".into(), "b".into()]);
        assert_eq!(t.render(), "A              B\n\\u{1b}[31mred  b\n");
        // JSON: serde escapes C0; DEL, C1 and bidi become \uXXXX; the value is the same.
        let v = serde_json::json!({ "s": hostile });
        let text = serde_json::to_string_pretty(&v).unwrap();
        let safe = escape_json_text(&text);
        assert!(!safe.chars().any(|c| is_unsafe_char(c) && c != '\n'), "{safe}");
        assert!(safe.contains(r"\u009b") && safe.contains(r"\u202e") && safe.contains(r"\u007f"), "{safe}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap(), v);
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
        let now = 1_700_000_000_000;
        assert_eq!(format_relative(now + 60_000, now), "in 1 min");
        assert_eq!(format_relative(now + 60_001, now), "in 2 min", "rounded up");
        assert_eq!(format_relative(now + 1, now), "in 1 min");
        assert_eq!(format_relative(now + 25 * 60_000, now), "in 25 min");
        assert_eq!(format_relative(now + 21 * 24 * 3_600_000, now), "in 30240 min (~21 days)");
        assert_eq!(format_relative(now, now), "now");
        assert_eq!(format_relative(now - 59_999, now), "now");
        assert_eq!(format_relative(now - 180_000, now), "3 min ago");
        assert_eq!(format_relative(now - 3 * 86_400_000, now), "4320 min ago (~3 days)");
        assert_eq!(
            format_time_relative(1_700_000_000_123 + 600_000, 1_700_000_000_123),
            "2023-11-14T22:23:20.123Z (in 10 min)"
        );
        assert!(now_ms() > now);
    }

    #[test]
    fn percentages() {
        let r = |ppm| ledger::Rate::from_ppm(ppm).unwrap_or(ledger::Rate::ZERO);
        assert_eq!(format_percent(r(100_000)), "10%");
        assert_eq!(format_percent(r(125_000)), "12.5%");
        assert_eq!(format_percent(r(1)), "0.0001%");
        assert_eq!(format_percent(r(1_000_000)), "100%");
        assert_eq!(format_percent(r(0)), "0%");
        assert_eq!(format_share(1, 3), "33.33%");
        assert_eq!(format_share(2, 3), "66.66%");
        assert_eq!(format_share(3, 3), "100.00%");
        assert_eq!(format_share(0, 3), "0.00%");
        assert_eq!(format_share(5, 0), "-");
        assert_eq!(format_share(u64::MAX, u64::MAX), "100.00%");
    }

    #[test]
    fn tables_are_aligned() {
        let mut t = Table::new(&["NAME", ">POWER", "STATUS"]);
        assert!(t.is_empty());
        t.row(vec!["alpha".into(), "3".into(), "bonded".into()]).row(vec!["b".into(), "1200".into(), String::new()]);
        assert_eq!(t.render(), "NAME   POWER  STATUS\nalpha      3  bonded\nb       1200\n");
        assert_eq!(truncate("validator-with-a-long-name", 10), "validator…");
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("ünïcödé", 7), "ünïcödé");
    }
}
