//! A strict parser of the Prometheus / OpenMetrics text exposition format
//! (what a node serves at `/metrics`), and a small blocking HTTP GET to fetch
//! it. Strict: every sample belongs to a family declared by `# TYPE` before
//! it, with a suffix that family's type allows; no series twice; histogram
//! buckets cumulative and ending in `+Inf` equal to `_count`; counters not
//! negative; nothing after `# EOF`. A scrape that passes is one Prometheus
//! reads without surprises.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail, ensure};

/// Largest exposition read (a node's is a few tens of KiB).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// A metric family's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Info,
    Unknown,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "counter" => Kind::Counter,
            "gauge" => Kind::Gauge,
            "histogram" => Kind::Histogram,
            "summary" => Kind::Summary,
            "info" => Kind::Info,
            "unknown" | "untyped" => Kind::Unknown,
            _ => return None,
        })
    }

    /// Sample name suffixes this type allows after the family name.
    fn suffixes(self) -> &'static [&'static str] {
        match self {
            Kind::Counter => &["_total", "_created", ""],
            Kind::Gauge | Kind::Unknown => &[""],
            Kind::Histogram => &["_bucket", "_count", "_sum", "_created"],
            Kind::Summary => &["_count", "_sum", "_created", ""],
            Kind::Info => &["_info"],
        }
    }
}

/// One sample line.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, k: &str) -> Option<&str> {
        self.labels.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
}

/// A metric family: its declaration and samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Family {
    pub name: String,
    pub kind: Kind,
    pub help: Option<String>,
    pub samples: Vec<Sample>,
}

/// A parsed exposition.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Exposition {
    pub families: Vec<Family>,
}

fn is_name(s: &str, colon: bool) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else { return false };
    (first.is_ascii_alphabetic() || first == '_' || (colon && first == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

fn parse_value(s: &str) -> Result<f64> {
    match s {
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => {
            ensure!(
                !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')),
                "`{s}` is not a number"
            );
            s.parse::<f64>().map_err(|_| anyhow!("`{s}` is not a number"))
        }
    }
}

/// Parses `{a="x",b="y"}` at the start of `s`; returns the labels and the rest.
fn parse_labels(s: &str) -> Result<(Vec<(String, String)>, &str)> {
    let mut rest = s.strip_prefix('{').ok_or_else(|| anyhow!("expected `{{`"))?;
    let mut labels: Vec<(String, String)> = Vec::new();
    loop {
        if let Some(r) = rest.strip_prefix('}') {
            return Ok((labels, r));
        }
        let eq = rest.find('=').ok_or_else(|| anyhow!("label without `=`"))?;
        let name = &rest[..eq];
        ensure!(is_name(name, false), "`{name}` is not a label name");
        ensure!(!labels.iter().any(|(n, _)| n == name), "label `{name}` given twice");
        rest = rest[eq + 1..].strip_prefix('"').ok_or_else(|| anyhow!("label `{name}`: value not quoted"))?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                None => bail!("label `{name}`: unterminated value"),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    _ => bail!("label `{name}`: bad escape"),
                },
                Some((_, '\n')) => bail!("label `{name}`: newline in value"),
                Some((_, c)) => value.push(c),
            }
        };
        labels.push((name.to_owned(), value));
        rest = &rest[end + 1..];
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else {
            ensure!(rest.starts_with('}'), "expected `,` or `}}` after label `{name}`");
        }
    }
}

/// Parses and checks an exposition.
pub fn parse(text: &str) -> Result<Exposition> {
    let mut families: Vec<Family> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut series: BTreeSet<(String, Labels)> = BTreeSet::new();
    let mut eof = false;
    for (n, line) in text.lines().enumerate() {
        let at = || format!("line {}: `{line}`", n + 1);
        ensure!(!eof, "{}: text after `# EOF`", at());
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.strip_prefix(' ').ok_or_else(|| anyhow!("{}: comment without a space", at()))?;
            if comment == "EOF" {
                eof = true;
                continue;
            }
            let mut parts = comment.splitn(3, ' ');
            let (keyword, name, arg) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next());
            ensure!(is_name(name, true), "{}: `{name}` is not a metric name", at());
            match keyword {
                "TYPE" => {
                    let kind = arg.and_then(Kind::parse).ok_or_else(|| anyhow!("{}: unknown type", at()))?;
                    match index.get(name) {
                        Some(&i) => {
                            ensure!(families[i].samples.is_empty(), "{}: TYPE after the family's samples", at());
                            ensure!(families[i].kind == Kind::Unknown, "{}: family typed twice", at());
                            families[i].kind = kind;
                        }
                        None => {
                            index.insert(name.to_owned(), families.len());
                            families.push(Family { name: name.to_owned(), kind, help: None, samples: Vec::new() });
                        }
                    }
                }
                "HELP" => {
                    let help = arg.unwrap_or("").to_owned();
                    match index.get(name) {
                        Some(&i) => {
                            ensure!(families[i].help.is_none(), "{}: HELP given twice", at());
                            families[i].help = Some(help);
                        }
                        None => {
                            index.insert(name.to_owned(), families.len());
                            families.push(Family {
                                name: name.to_owned(),
                                kind: Kind::Unknown,
                                help: Some(help),
                                samples: Vec::new(),
                            });
                        }
                    }
                }
                "UNIT" => {}
                other => bail!("{}: unknown comment `{other}`", at()),
            }
            continue;
        }
        // name[{labels}] value [timestamp]
        let name_end = line.find(['{', ' ']).ok_or_else(|| anyhow!("{}: no value", at()))?;
        let name = &line[..name_end];
        ensure!(is_name(name, true), "{}: `{name}` is not a metric name", at());
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..]).with_context(at)?
        } else {
            (Vec::new(), &line[name_end..])
        };
        let rest = rest.strip_prefix(' ').ok_or_else(|| anyhow!("{}: expected a space before the value", at()))?;
        let mut fields = rest.split(' ');
        let value = parse_value(fields.next().unwrap_or("")).with_context(at)?;
        if let Some(ts) = fields.next() {
            parse_value(ts).with_context(at)?;
        }
        ensure!(fields.next().is_none(), "{}: extra fields", at());
        // The family: the longest declared name this sample extends with an allowed suffix.
        let fam = families
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                name.strip_prefix(f.name.as_str()).is_some_and(|suffix| f.kind.suffixes().contains(&suffix))
            })
            .max_by_key(|(_, f)| f.name.len())
            .map(|(i, _)| i)
            .ok_or_else(|| anyhow!("{}: sample of no declared family (or a suffix its type does not allow)", at()))?;
        let kind = families[fam].kind;
        if kind == Kind::Counter {
            ensure!(value >= 0.0 || value.is_nan(), "{}: negative counter", at());
        }
        if kind == Kind::Histogram && name.ends_with("_bucket") {
            ensure!(labels.iter().any(|(k, _)| k == "le"), "{}: bucket without `le`", at());
        }
        let mut key_labels = labels.clone();
        key_labels.sort();
        ensure!(series.insert((name.to_owned(), key_labels)), "{}: series given twice", at());
        families[fam].samples.push(Sample { name: name.to_owned(), labels, value });
    }
    let exp = Exposition { families };
    for f in &exp.families {
        if f.kind == Kind::Histogram {
            check_histogram(f)?;
        }
    }
    Ok(exp)
}

type Labels = Vec<(String, String)>;

/// Buckets cumulative, `+Inf` last and equal to `_count`, per label set.
fn check_histogram(f: &Family) -> Result<()> {
    let strip = |s: &Sample| -> Labels {
        let mut l: Vec<_> = s.labels.iter().filter(|(k, _)| k != "le").cloned().collect();
        l.sort();
        l
    };
    let mut buckets: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
    let mut counts: BTreeMap<Labels, f64> = BTreeMap::new();
    for s in &f.samples {
        if s.name.ends_with("_bucket") {
            let le = parse_value(s.label("le").unwrap_or("")).with_context(|| format!("{}: bad `le`", f.name))?;
            buckets.entry(strip(s)).or_default().push((le, s.value));
        } else if s.name.ends_with("_count") {
            counts.insert(strip(s), s.value);
        }
    }
    for (labels, b) in &buckets {
        let mut prev = (f64::NEG_INFINITY, 0.0);
        for &(le, v) in b {
            ensure!(le > prev.0, "{} {labels:?}: buckets not in increasing `le` order", f.name);
            ensure!(v >= prev.1, "{} {labels:?}: buckets not cumulative", f.name);
            prev = (le, v);
        }
        ensure!(prev.0 == f64::INFINITY, "{} {labels:?}: no +Inf bucket", f.name);
        let count = counts.get(labels).ok_or_else(|| anyhow!("{} {labels:?}: no _count", f.name))?;
        ensure!(*count == prev.1, "{} {labels:?}: +Inf bucket {} is not _count {count}", f.name, prev.1);
    }
    Ok(())
}

impl Exposition {
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    /// The value of the series `name` whose labels include `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.families
            .iter()
            .flat_map(|f| &f.samples)
            .find_map(|s| (s.name == name && labels.iter().all(|(k, v)| s.label(k) == Some(*v))).then_some(s.value))
    }

    /// The sum of every series named `name`.
    pub fn sum(&self, name: &str) -> f64 {
        self.families.iter().flat_map(|f| &f.samples).filter(|s| s.name == name).map(|s| s.value).sum()
    }

    /// An estimate of quantile `q` of histogram `name` (the upper bound of
    /// the bucket it falls in), over series whose labels include `labels`.
    pub fn histogram_quantile(&self, name: &str, labels: &[(&str, &str)], q: f64) -> Option<f64> {
        let f = self.family(name)?;
        let bucket = format!("{name}_bucket");
        let mut b: Vec<(f64, f64)> = f
            .samples
            .iter()
            .filter(|s| s.name == bucket && labels.iter().all(|(k, v)| s.label(k) == Some(*v)))
            .filter_map(|s| Some((parse_value(s.label("le")?).ok()?, s.value)))
            .collect();
        b.sort_by(|x, y| x.0.total_cmp(&y.0));
        let total = b.last()?.1;
        if total <= 0.0 {
            return None;
        }
        b.iter().find(|(_, c)| *c >= q * total).map(|(le, _)| *le)
    }
}

/// Asks for the OpenMetrics text (what Prometheus asks for).
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0";
/// Asks for the classic Prometheus text format (what curl and promtool get).
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4";

/// `GET url` (plain `http://host:port/path`) in the classic text format, the
/// body if the status is 200.
pub fn fetch(url: &str, timeout: Duration) -> Result<String> {
    fetch_as(url, PROMETHEUS_TEXT, timeout)
}

/// `GET url` with `Accept: accept`, the body if the status is 200.
pub fn fetch_as(url: &str, accept: &str, timeout: Duration) -> Result<String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| anyhow!("`{url}` is not an http:// URL"))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = host
        .to_socket_addrs()
        .with_context(|| format!("resolving {host}"))?
        .next()
        .ok_or_else(|| anyhow!("{host}: no address"))?;
    let mut s = TcpStream::connect_timeout(&addr, timeout).with_context(|| format!("connecting to {host}"))?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n")?;
    let mut raw = Vec::new();
    s.take(MAX_BODY as u64 + 64 * 1024).read_to_end(&mut raw).with_context(|| format!("reading from {host}"))?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| anyhow!("{url}: no HTTP header"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| anyhow!("{url}: header is not UTF-8"))?;
    let body = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    let code = status.split(' ').nth(1).unwrap_or("");
    let chunked = lines.any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("transfer-encoding") && v.trim().eq_ignore_ascii_case("chunked")
        })
    });
    let body = if chunked { dechunk(body)? } else { body.to_vec() };
    ensure!(body.len() <= MAX_BODY, "{url}: body larger than {MAX_BODY} bytes");
    let text = String::from_utf8(body).map_err(|_| anyhow!("{url}: body is not UTF-8"))?;
    ensure!(code == "200", "{url}: {status}: {}", text.trim());
    Ok(text)
}

fn dechunk(mut b: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").ok_or_else(|| anyhow!("bad chunked body"))?;
        let size_text = std::str::from_utf8(&b[..eol]).map_err(|_| anyhow!("bad chunk size"))?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| anyhow!("bad chunk size `{size_text}`"))?;
        b = &b[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        ensure!(b.len() >= size + 2 && out.len() + size <= MAX_BODY, "truncated chunked body");
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

/// Fetches and parses a node's metrics.
pub fn scrape(url: &str, timeout: Duration) -> Result<Exposition> {
    let text = fetch(url, timeout)?;
    parse(&text).with_context(|| format!("{url}: invalid exposition"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const GOOD: &str = "# HELP agora_consensus_height Height\n\
# TYPE agora_consensus_height gauge\n\
agora_consensus_height 42\n\
# HELP agora_rpc_requests Calls.\n\
# TYPE agora_rpc_requests counter\n\
agora_rpc_requests_total{method=\"agora_status\"} 3\n\
agora_rpc_requests_total{method=\"unknown\"} 1\n\
# TYPE agora_interval_seconds histogram\n\
agora_interval_seconds_sum 2.5\n\
agora_interval_seconds_count 3\n\
agora_interval_seconds_bucket{le=\"0.5\"} 0\n\
agora_interval_seconds_bucket{le=\"1.0\"} 2\n\
agora_interval_seconds_bucket{le=\"+Inf\"} 3\n\
# TYPE agora_x gauge\n\
agora_x{a=\"q\\\"uote\\\\ \\n\"} NaN\n\
# EOF\n";

    #[test]
    fn parses_a_good_exposition() {
        let e = parse(GOOD).unwrap();
        assert_eq!(e.value("agora_consensus_height", &[]), Some(42.0));
        assert_eq!(e.value("agora_rpc_requests_total", &[("method", "unknown")]), Some(1.0));
        assert_eq!(e.sum("agora_rpc_requests_total"), 4.0);
        assert_eq!(e.family("agora_rpc_requests").unwrap().kind, Kind::Counter);
        assert_eq!(e.histogram_quantile("agora_interval_seconds", &[], 0.5), Some(1.0));
        assert_eq!(e.histogram_quantile("agora_interval_seconds", &[], 1.0), Some(f64::INFINITY));
        let x = &e.family("agora_x").unwrap().samples[0];
        assert_eq!(x.label("a"), Some("q\"uote\\ \n"));
        assert!(x.value.is_nan());
    }

    #[test]
    fn rejects_what_prometheus_would_not_read() {
        let bad = [
            ("agora_a 1\n", "no declared family"),
            ("# TYPE a gauge\na 1\na 2\n", "twice"),
            ("# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n", "twice"),
            ("# TYPE a gauge\na{x=1} 1\n", "not quoted"),
            ("# TYPE a gauge\na{x=\"1} 1\n", "unterminated"),
            ("# TYPE a gauge\na{1x=\"1\"} 1\n", "label name"),
            ("# TYPE a gauge\na one\n", "number"),
            ("# TYPE a gauge\na 1 2 3\n", "extra"),
            ("# TYPE a counter\na_total -1\n", "negative"),
            ("# TYPE a gauge\na_total 1\n", "suffix"),
            ("# TYPE a wat\n", "unknown type"),
            ("# TYPE a gauge\n# TYPE a counter\n", "twice"),
            ("# TYPE a gauge\n# EOF\na 1\n", "after"),
            ("#TYPE a gauge\n", "space"),
            ("# FOO a\n", "unknown comment"),
            ("# TYPE 1a gauge\n", "metric name"),
            ("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", "cumulative"),
            ("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n", "+Inf"),
            ("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 1\n", "_count"),
            ("# TYPE h histogram\nh_bucket 1\n", "le"),
        ];
        for (text, why) in bad {
            let e = parse(text).expect_err(text);
            assert!(format!("{e:#}").contains(why), "{text}: {e:#} (expected `{why}`)");
        }
    }

    #[test]
    fn dechunks() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n").unwrap(), b"abcde");
        assert!(dechunk(b"5\r\nab").is_err());
        assert!(dechunk(b"zz\r\n").is_err());
    }
}
