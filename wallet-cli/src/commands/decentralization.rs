//! `agora decentralization`: the chain's decentralization index (the node's
//! `agora_decentralization`, `agora_decentralizationHistory` and
//! `agora_decentralizationDistribution`, see `node/src/rpc_index.rs`), the
//! same metrics for a local `entity,weight` CSV file (offline, with the
//! `decentralization` crate), and the check `agora stake delegate` makes
//! before signing (`agora_delegationCheck`).
//!
//! Text output is a table per epoch; `-o json` prints the node's answer
//! unchanged (one document; `--history --all` joins the pages into one).

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use decentralization::{Ratio, Report, Threshold};
use ledger::{Address, Rate};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::cli::{DecentralizationArgs, MAX_HISTORY_LIMIT};
use crate::commands::{CALL_TIMEOUT, Ctx};
use crate::error::{Result, WalletError};
use crate::output::{
    Fields, Table, format_percent, format_time_ms, format_time_relative, now_ms, print_json, print_text,
};

/// Largest CSV file `--csv` reads.
pub const MAX_CSV_BYTES: u64 = 64 * 1024 * 1024;
/// Most epochs `--history --all` fetches.
pub const MAX_HISTORY_EPOCHS: usize = 10_000;
/// Epochs per page of `--history` without `--limit`.
const DEFAULT_HISTORY_LIMIT: u64 = 20;
/// How long `agora stake delegate` waits for `agora_delegationCheck`.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// JSON-RPC "method not found": a node without the index.
const METHOD_NOT_FOUND: i32 = -32601;

/// The footnote of clustered subsystems.
pub const CLUSTER_NOTE: &str =
    "* clustered by declared operator: declared data, so this is an upper bound; compare `validators`";
/// The footnote of subsystems whose record lists only the largest entities.
const PARTIAL_NOTE: &str = "+ the record lists only the largest entities: Nakamoto and HHI cover every entity, the other metrics the listed ones";
/// The subsystems `--history` shows the ≥ 1/3 coefficient of.
const HISTORY_SUBSYSTEMS: [&str; 5] = ["validators", "operators", "countries", "hosting", "clients"];

pub async fn run(ctx: &Ctx, a: &DecentralizationArgs) -> Result<()> {
    if let Some(path) = &a.csv {
        return csv(ctx, path);
    }
    if a.history {
        return history(ctx, a).await;
    }
    let (call, render): (_, fn(&Value) -> String) = match &a.distribution {
        Some(s) => (Call::Distribution { subsystem: s, epoch: a.epoch, height: a.height }, render_distribution),
        None => (Call::Index { epoch: a.epoch, height: a.height }, |v| render_index(v, now_ms())),
    };
    let method = call.method();
    let raw = call_raw(ctx, call, CALL_TIMEOUT).await?;
    if ctx.json() {
        return print_raw(raw.get());
    }
    print_text(&render(&parse(method, &raw)?))
}

// ---- RPC ----------------------------------------------------------------

/// One call of the decentralization API (typed, through the wallet's client).
enum Call<'a> {
    Index { epoch: Option<u64>, height: Option<u64> },
    Distribution { subsystem: &'a str, epoch: Option<u64>, height: Option<u64> },
    History { from: Option<u64>, limit: u64 },
    Check(&'a Address),
}

impl Call<'_> {
    fn method(&self) -> &'static str {
        match self {
            Call::Index { .. } => "decentralization",
            Call::Distribution { .. } => "decentralizationDistribution",
            Call::History { .. } => "decentralizationHistory",
            Call::Check(_) => "delegationCheck",
        }
    }
}

/// Makes `call` on `--node`; node errors keep their code and message (1012
/// "no epoch has ended yet", …). The result is JSON text, so that `-o json`
/// shows its numbers as the node computed them.
async fn call_raw(ctx: &Ctx, call: Call<'_>, timeout: Duration) -> Result<Box<RawValue>> {
    let c = ctx.client(timeout)?;
    let method = call.method();
    let raw = match call {
        Call::Index { epoch, height } => c.decentralization(epoch, height).await.map(|r| r.raw),
        Call::Distribution { subsystem, epoch, height } => {
            c.decentralization_distribution(subsystem, epoch, height).await.map(|r| r.raw)
        }
        Call::History { from, limit } => c.decentralization_history(from, Some(limit)).await.map(|r| r.raw),
        Call::Check(v) => c.delegation_check(v).await.map(|r| r.raw),
    };
    match raw {
        Err(WalletError::Rpc { code: METHOD_NOT_FOUND, message, data, .. }) => Err(WalletError::Rpc {
            context: "the node does not serve the decentralization index (an older version?)",
            code: METHOD_NOT_FOUND,
            message,
            data,
        }),
        Err(e) => Err(e),
        Ok(v) => {
            serde_json::value::to_raw_value(&v).map_err(|e| WalletError::BadResponse { method, reason: e.to_string() })
        }
    }
}

async fn call(ctx: &Ctx, call: Call<'_>, timeout: Duration) -> Result<Value> {
    let method = call.method();
    parse(method, &call_raw(ctx, call, timeout).await?)
}

fn parse(method: &'static str, raw: &RawValue) -> Result<Value> {
    serde_json::from_str(raw.get()).map_err(|e| WalletError::BadResponse { method, reason: e.to_string() })
}

/// Prints JSON text as `print_json` would, keeping every token as written.
fn print_raw(raw: &str) -> Result<()> {
    print_text(&format!("{}\n", pretty(raw)))
}

/// Re-indents JSON text like `serde_json::to_string_pretty` (two spaces,
/// `"key": value`, `{}` and `[]` when empty) without parsing its numbers.
pub fn pretty(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() * 2);
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.next_if(|c| c.is_whitespace()).is_some() {}
                if let Some(close) = chars.next_if(|c| matches!(c, '}' | ']')) {
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

// ---- cells --------------------------------------------------------------

fn show(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A `{"exact": "n/d", "value": f64}` ratio as a float (from `exact` if `value` is absent).
fn ratio_f64(v: &Value) -> Option<f64> {
    v.get("value")
        .and_then(Value::as_f64)
        .or_else(|| v.get("exact").and_then(Value::as_str).and_then(|s| Ratio::parse(s).ok()).map(|r| r.to_f64()))
}

fn fixed(v: Option<f64>, decimals: usize) -> String {
    v.filter(|x| x.is_finite()).map_or_else(|| "-".into(), |x| format!("{x:.decimals$}"))
}

fn percent(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map_or_else(|| "-".into(), |x| format!("{:.2}%", x * 100.0))
}

/// `≥ 1/3` for a comparison (`">="` or `">"`) and a fraction.
fn symbol(comparison: &str, fraction: &str) -> String {
    format!("{} {fraction}", if comparison == ">=" { "≥" } else { ">" })
}

/// Column header of a Nakamoto coefficient: `N≥1/3`.
fn column(t: &Threshold) -> String {
    format!("N{}", symbol(t.cmp.symbol(), &t.fraction()).replace(' ', ""))
}

/// What reaching a threshold means, by its name.
fn meaning(name: &str) -> &'static str {
    match name {
        "bft_halt" => "BFT halt: enough to halt the chain",
        "safety" => "safety: enough to break BFT safety",
        "majority_edi" => "EDI: the Edinburgh Decentralisation Index's Nakamoto coefficient",
        "majority" => "majority: a strict majority",
        "control" => "control: a quorum alone",
        _ => "",
    }
}

/// Short label of a threshold in the headline: `BFT halt`, `EDI`, ….
fn short(name: &str) -> &str {
    match name {
        "bft_halt" => "BFT halt",
        "majority_edi" => "EDI",
        other => other,
    }
}

/// The Nakamoto coefficient named `name` in a report's `nakamoto` list.
fn nakamoto(metrics: &Value, name: &str) -> String {
    metrics["nakamoto"]
        .as_array()
        .and_then(|l| l.iter().find(|n| n["name"] == name))
        .map_or_else(|| "-".into(), |n| show(&n["value"]))
}

fn metrics_table() -> Table {
    let mut h: Vec<String> = vec!["SUBSYSTEM".into(), ">ENTITIES".into()];
    h.extend(Threshold::STANDARD.iter().map(|t| format!(">{}", column(t))));
    h.extend([">HHI", ">GINI", ">ENTROPY", ">NORM.ENT", ">LARGEST"].map(String::from));
    Table::new(&h.iter().map(String::as_str).collect::<Vec<_>>())
}

/// One row of the metrics table: a `decentralization::Report` as JSON.
fn metrics_row(label: String, entities: &Value, m: &Value) -> Vec<String> {
    let mut row = vec![label, show(entities)];
    row.extend(Threshold::STANDARD.iter().map(|t| nakamoto(m, t.name)));
    row.push(fixed(ratio_f64(&m["hhi"]), 0));
    row.push(fixed(ratio_f64(&m["gini"]), 3));
    row.push(fixed(m["shannon_entropy_bits"].as_f64(), 2));
    row.push(fixed(m["normalised_entropy"].as_f64(), 3));
    row.push(percent(ratio_f64(&m["largest_share"])));
    row
}

/// The rules of the Nakamoto columns and the other columns, under a table.
fn rules() -> String {
    let mut out = String::from("N: Nakamoto coefficient, the smallest number of entities whose combined weight is\n");
    for t in Threshold::STANDARD {
        out.push_str(&format!(
            "  {:<6} {:<13} {} {} of the total ({})\n",
            column(&t),
            t.name,
            t.cmp.words(),
            t.fraction(),
            meaning(t.name)
        ));
    }
    out.push_str(
        "HHI: Herfindahl–Hirschman index (0–10000); GINI: Gini coefficient; ENTROPY: Shannon entropy (bits);\n\
         NORM.ENT: entropy / log2(entities); LARGEST: largest share\n",
    );
    out
}

// ---- the index of one epoch --------------------------------------------

/// One headline line: the minimum over the subsystems at one threshold.
fn headline_line(h: &Value) -> String {
    let name = h["threshold"].as_str().unwrap_or("?");
    let sym = symbol(h["comparison"].as_str().unwrap_or(">="), h["fraction"].as_str().unwrap_or("?"));
    let by: Vec<String> = h["subsystems"].as_array().map(|l| l.iter().map(show).collect()).unwrap_or_default();
    let by = if by.is_empty() { String::new() } else { format!(", set by {}", by.join(", ")) };
    format!("minimum Nakamoto coefficient over subsystems ({sym}, {}): {}{by}\n", short(name), show(&h["value"]))
}

/// `epoch 12: heights 1101–1200 (100 blocks), ended … (3 min ago)`.
fn epoch_line(v: &Value, now: u64) -> String {
    let ended = v["end_time_ms"].as_u64().map_or_else(|| "-".into(), |ms| format_time_relative(ms, now));
    let blocks = v["blocks"].as_u64().map(|b| format!(" ({b} blocks)")).unwrap_or_default();
    format!(
        "epoch {}: heights {}–{}{blocks}, ended {ended}\n",
        show(&v["epoch"]),
        show(&v["start_height"]),
        show(&v["end_height"])
    )
}

/// The text of `agora decentralization` (`v`: the node's `agora_decentralization`).
pub fn render_index(v: &Value, now: u64) -> String {
    let mut out = epoch_line(v, now);
    let headline = v["headline"].as_array().cloned().unwrap_or_default();
    // The ≥ 1/3 line first: it is the headline.
    let (first, rest): (Vec<&Value>, Vec<&Value>) = headline.iter().partition(|h| h["threshold"] == "bft_halt");
    for h in first.into_iter().chain(rest) {
        out.push_str(&headline_line(h));
    }
    out.push('\n');
    let mut table = metrics_table();
    let (mut clustered, mut partial) = (false, false);
    for s in v["subsystems"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let mut label = show(&s["name"]);
        if s["clustered"].as_bool() == Some(true) {
            clustered = true;
            label.push('*');
        }
        if s["listed_entities"].as_u64().is_some_and(|l| s["entities"].as_u64().is_some_and(|n| l < n)) {
            partial = true;
            label.push('+');
        }
        table.row(metrics_row(label, &s["entities"], &s["metrics"]));
    }
    out.push_str(&table.render());
    out.push('\n');
    out.push_str(&rules());
    if clustered {
        out.push_str(CLUSTER_NOTE);
        out.push('\n');
    }
    if partial {
        out.push_str(PARTIAL_NOTE);
        out.push('\n');
    }
    out
}

// ---- distribution -------------------------------------------------------

/// The text of `--distribution` (`v`: the node's `agora_decentralizationDistribution`).
pub fn render_distribution(v: &Value) -> String {
    let clustered = v["clustered"].as_bool() == Some(true);
    let mut out = format!(
        "epoch {} (end height {}), {}{}: {}\n",
        show(&v["epoch"]),
        show(&v["end_height"]),
        show(&v["subsystem"]),
        if clustered { "*" } else { "" },
        v["description"].as_str().unwrap_or("")
    );
    let total = v["total"].as_str().and_then(|t| t.parse::<u128>().ok());
    let entities = v["entities"].as_array().map(Vec::as_slice).unwrap_or_default();
    let rest = v["rest_entities"].as_u64().unwrap_or(0);
    out.push_str(&format!("total weight {} over {} entities\n\n", show(&v["total"]), entities.len() as u64 + rest));
    let mut t = Table::new(&["ENTITY", ">WEIGHT", ">SHARE"]);
    for e in entities {
        t.row(vec![show(&e["entity"]), show(&e["weight"]), percent(e["share"].as_f64())]);
    }
    out.push_str(&t.render());
    if rest > 0 {
        let rest_weight = v["rest_weight"].as_str().and_then(|w| w.parse::<u128>().ok());
        let share = match (rest_weight, total) {
            (Some(w), Some(t)) if t > 0 => percent(Some(w as f64 / t as f64)),
            _ => "-".into(),
        };
        out.push_str(&format!("… and {rest} more entities with weight {} ({share})\n", show(&v["rest_weight"])));
    }
    if clustered {
        out.push('\n');
        out.push_str(CLUSTER_NOTE);
        out.push('\n');
    }
    out
}

// ---- history ------------------------------------------------------------

/// A page of `agora_decentralizationHistory`, its epochs kept as the node's text.
#[derive(serde::Deserialize, serde::Serialize)]
struct Page {
    #[serde(default)]
    epochs: Vec<Box<RawValue>>,
    #[serde(default)]
    latest: Value,
    #[serde(default)]
    next: Value,
}

async fn history(ctx: &Ctx, a: &DecentralizationArgs) -> Result<()> {
    const METHOD: &str = "decentralizationHistory";
    let limit = a.limit.unwrap_or(if a.all { MAX_HISTORY_LIMIT } else { DEFAULT_HISTORY_LIMIT });
    let params = |from: Option<u64>, limit: u64| Call::History { from, limit };
    let page = |raw: &RawValue| {
        serde_json::from_str::<Page>(raw.get())
            .map_err(|e| WalletError::BadResponse { method: METHOD, reason: e.to_string() })
    };
    let first = call_raw(ctx, params(a.from.or(a.all.then_some(1)), limit), CALL_TIMEOUT).await?;
    let text = if a.all {
        let mut doc = page(&first)?;
        while let Some(n) = doc.next.as_u64() {
            let room = MAX_HISTORY_EPOCHS.saturating_sub(doc.epochs.len()) as u64;
            if room == 0 {
                break;
            }
            let p = page(&call_raw(ctx, params(Some(n), limit.min(room)), CALL_TIMEOUT).await?)?;
            let stalled = p.epochs.is_empty() || p.next.as_u64().is_some_and(|m| m <= n);
            doc.epochs.extend(p.epochs);
            (doc.latest, doc.next) = (p.latest, p.next);
            if stalled {
                break;
            }
        }
        doc.epochs.truncate(MAX_HISTORY_EPOCHS);
        serde_json::to_string(&doc).map_err(|e| WalletError::Output(e.to_string()))?
    } else {
        first.get().to_owned()
    };
    if ctx.json() {
        return print_raw(&text);
    }
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| WalletError::BadResponse { method: METHOD, reason: e.to_string() })?;
    print_text(&render_history(&doc))?;
    if let Some(n) = doc["next"].as_u64() {
        eprintln!("(more epochs: --from {n}, or --all)");
    }
    Ok(())
}

/// The text of `--history` (`v`: `{epochs: [summary], latest, next}`).
pub fn render_history(v: &Value) -> String {
    let epochs = v["epochs"].as_array().map(Vec::as_slice).unwrap_or_default();
    if epochs.is_empty() {
        return "(no epoch has ended yet)\n".into();
    }
    let mut headers =
        vec![">EPOCH".to_owned(), ">END HEIGHT".into(), "END TIME".into(), ">MIN N≥1/3".into(), "SET BY".into()];
    headers.extend(HISTORY_SUBSYSTEMS.iter().map(|s| {
        let star = if *s == "operators" { "*" } else { "" };
        format!(">{}{star}", s.to_uppercase())
    }));
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = Table::new(&headers);
    for e in epochs {
        let h = e["headline"].as_array().and_then(|l| l.iter().find(|h| h["threshold"] == "bft_halt"));
        let (min, by) = match h {
            Some(h) => (
                show(&h["value"]),
                h["subsystems"]
                    .as_array()
                    .map(|l| l.iter().map(show).collect::<Vec<_>>().join(","))
                    .unwrap_or_default(),
            ),
            None => ("-".into(), String::new()),
        };
        let mut row = vec![
            show(&e["epoch"]),
            show(&e["end_height"]),
            e["end_time_ms"].as_u64().map_or_else(|| "-".into(), format_time_ms),
            min,
            by,
        ];
        row.extend(HISTORY_SUBSYSTEMS.iter().map(|s| show(&e["subsystems"][*s]["nakamoto"]["bft_halt"])));
        t.row(row);
    }
    let mut out = t.render();
    out.push_str("\nN≥1/3: the smallest number of entities whose combined weight is at least 1/3 of the total (enough to halt the chain)\n");
    out.push_str(CLUSTER_NOTE);
    out.push('\n');
    out
}

// ---- offline CSV --------------------------------------------------------

/// Reads `--csv`: a file, or stdin for `-`; at most [`MAX_CSV_BYTES`].
fn read_csv_input(path: &Path) -> Result<String> {
    let too_big =
        || WalletError::InvalidArgument(format!("{} is larger than {} MiB", path.display(), MAX_CSV_BYTES >> 20));
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(MAX_CSV_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| WalletError::io("cannot read the CSV from stdin", "-", e))?;
    } else {
        let meta = std::fs::metadata(path).map_err(|e| WalletError::io("cannot read the CSV file", path, e))?;
        if meta.len() > MAX_CSV_BYTES {
            return Err(too_big());
        }
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_CSV_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| WalletError::io("cannot read the CSV file", path, e))?;
    }
    if bytes.len() as u64 > MAX_CSV_BYTES {
        return Err(too_big());
    }
    String::from_utf8(bytes)
        .map_err(|e| WalletError::InvalidArgument(format!("{}: not UTF-8 text: {e}", path.display())))
}

/// The report of a CSV text as JSON: the `decentralization::Report` plus `date`
/// (the header's second column) and `entities`.
pub fn csv_report(text: &str, name: &str) -> Result<Value> {
    let (date, d) =
        decentralization::parse_csv(text).map_err(|e| WalletError::InvalidArgument(format!("{name}: {e}")))?;
    let report = Report::of(&d).ok_or_else(|| {
        WalletError::InvalidArgument(format!("{name}: no entity has a positive weight: the metrics are undefined"))
    })?;
    let mut v = serde_json::to_value(&report).map_err(|e| WalletError::Output(e.to_string()))?;
    v["date"] = json!(date);
    v["entities"] = json!(report.entities);
    Ok(v)
}

fn csv(ctx: &Ctx, path: &Path) -> Result<()> {
    let name = if path == Path::new("-") { "stdin".to_owned() } else { path.display().to_string() };
    let v = csv_report(&read_csv_input(path)?, &name)?;
    if ctx.json() { print_json(&v) } else { print_text(&render_report(&name, &v)) }
}

/// The text of `--csv`: the metrics table for one distribution, then every
/// other metric of the report.
pub fn render_report(name: &str, v: &Value) -> String {
    let mut out = format!("{name}{}\n\n", v["date"].as_str().map(|d| format!(" ({d})")).unwrap_or_default());
    let mut t = metrics_table();
    t.row(metrics_row(name.to_owned(), &v["entities"], v));
    out.push_str(&t.render());
    out.push('\n');
    out.push_str(&rules());
    out.push('\n');
    let mut f = Fields::new();
    f.add("entities", format!("{} ({} with a positive weight)", show(&v["entities"]), show(&v["nonzero_entities"])))
        .add("total weight", show(&v["total"]));
    for n in v["nakamoto"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let name = n["name"].as_str().unwrap_or("?");
        let sym = symbol(n["comparison"].as_str().unwrap_or(">="), n["threshold"].as_str().unwrap_or("?"));
        let edi = if name == "majority_edi" { " (the EDI's rule)" } else { "" };
        f.add(&format!("Nakamoto {sym} ({name})"), format!("{}{edi}", show(&n["value"])));
    }
    let (hhi, gini, largest) = (&v["hhi"], &v["gini"], &v["largest_share"]);
    f.add("HHI", format!("{} (exact {})", fixed(ratio_f64(hhi), 2), show(&hhi["exact"])))
        .add("Gini", format!("{} (exact {})", fixed(ratio_f64(gini), 4), show(&gini["exact"])))
        .add("largest share", format!("{} (exact {})", percent(ratio_f64(largest)), show(&largest["exact"])));
    for c in v["concentration"].as_array().map(Vec::as_slice).unwrap_or_default() {
        f.add(&format!("CR_{}", show(&c["k"])), percent(ratio_f64(&c["share"])));
    }
    f.add("Shannon entropy", format!("{} bits", fixed(v["shannon_entropy_bits"].as_f64(), 4)))
        .add("normalised entropy", fixed(v["normalised_entropy"].as_f64(), 4))
        .add("min-entropy", format!("{} bits", fixed(v["min_entropy_bits"].as_f64(), 4)));
    for r in v["renyi_entropy_bits"].as_array().map(Vec::as_slice).unwrap_or_default() {
        f.add(&format!("Rényi entropy α={}", show(&r["alpha"])), format!("{} bits", fixed(r["bits"].as_f64(), 4)));
    }
    f.add("Theil index", format!("{} nats", fixed(v["theil"].as_f64(), 4)));
    out.push_str(&f.render());
    out
}

// ---- the delegation check -----------------------------------------------

/// `agora_delegationCheck` for `validator`; `None` when the node does not
/// know the method (an older node) or the call fails: the check never blocks
/// a delegation (set `AGORA_DEBUG` to see why it was skipped).
pub async fn delegation_check(ctx: &Ctx, validator: &Address) -> Option<Value> {
    match call(ctx, Call::Check(validator), CHECK_TIMEOUT).await {
        Ok(v) => Some(v),
        Err(e) => {
            if std::env::var_os("AGORA_DEBUG").is_some() {
                eprintln!("debug: decentralization check skipped: {}", crate::output::escape_control(&e.to_string()));
            }
            None
        }
    }
}

/// Whether a check's answer asks for a warning.
pub fn is_warning(check: &Value) -> bool {
    check["warn"].as_bool() == Some(true)
}

fn count(v: &Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}

/// The warning `agora stake delegate` prints on stderr, if the check says so.
pub fn delegation_warning(c: &Value) -> Option<String> {
    if !is_warning(c) {
        return None;
    }
    let who = match c["moniker"].as_str().filter(|m| !m.is_empty()) {
        Some(m) => format!("{m} ({})", show(&c["validator"])),
        None => show(&c["validator"]),
    };
    let th = &c["threshold"];
    let words = if th["comparison"] == ">" { "more than" } else { "at least" };
    let hold = format!("{words} {} of the voting power", th["fraction"].as_str().unwrap_or("1/3"));
    let group = |n: usize, what: &str, subject: &str| {
        if n <= 1 {
            format!("{subject} alone holds {hold}")
        } else {
            format!("{subject} is among the {n} {what} that together hold {hold}")
        }
    };
    let mut clauses = Vec::new();
    if c["in_halting_validators"].as_bool() == Some(true) {
        clauses.push(group(count(&c["halting_validators"]), "validators", &who));
    }
    if c["in_halting_operators"].as_bool() == Some(true) {
        let op = format!("its operator `{}`", c["operator"].as_str().unwrap_or("?"));
        let clause = group(count(&c["halting_operators"]), "operators", &op);
        clauses.push(if clauses.is_empty() { format!("{who}: {clause}") } else { clause });
    }
    if clauses.is_empty() {
        clauses.push(format!("{who} is among the validators that together hold {hold}"));
    }
    let mut out = format!(
        "warning: {}: enough to halt the chain. Delegating to it concentrates power further.",
        clauses.join(", and ")
    );
    let alternatives: Vec<String> = c["alternatives"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|a| {
            let commission = a["commission"]
                .as_str()
                .and_then(|r| r.parse::<Rate>().ok())
                .map_or_else(|| show(&a["commission"]), format_percent);
            let name = a["moniker"].as_str().filter(|m| !m.is_empty()).map(|m| format!("{m} ")).unwrap_or_default();
            let note = if a["operator_holds_one_third"].as_bool() == Some(true) {
                format!("; its operator `{}` also holds 1/3", a["operator"].as_str().unwrap_or("?"))
            } else {
                String::new()
            };
            format!("{name}{} (power {}, commission {commission}{note})", show(&a["validator"]), show(&a["power"]))
        })
        .collect();
    if alternatives.is_empty() {
        out.push_str(" No validator outside these groups is in the set.");
    } else {
        out.push_str(&format!(" Smaller validators: {}.", alternatives.join(", ")));
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn csv_metrics() {
        let v = csv_report("entity,2026-08-06\na,40\nb,30\nc,20\nd,10\n", "x.csv").unwrap();
        assert_eq!((v["date"].as_str(), v["entities"].as_u64()), (Some("2026-08-06"), Some(4)));
        assert_eq!(nakamoto(&v, "bft_halt"), "1");
        assert_eq!(nakamoto(&v, "majority_edi"), "2");
        assert_eq!(v["hhi"]["exact"], "3000/1");
        assert_eq!(v["gini"]["exact"], "1/4");
        let text = render_report("x.csv", &v);
        assert!(text.starts_with("x.csv (2026-08-06)\n"), "{text}");
        assert!(text.contains("3000") && text.contains("0.250") && text.contains("40.00%"), "{text}");
        assert!(text.contains("Nakamoto ≥ 1/2 (majority_edi): 2 (the EDI's rule)"), "{text}");
        let e = csv_report("entity,weight\na,1\nb,-2\n", "x.csv").unwrap_err().to_string();
        assert!(e.contains("x.csv: line 3: negative weight"), "{e}");
        let e = csv_report("entity,weight\na,0\n", "x.csv").unwrap_err().to_string();
        assert!(e.contains("no entity has a positive weight"), "{e}");
    }

    #[test]
    fn pretty_keeps_the_node_text() {
        let v = json!({"a": [1, {"b": "x,{y}:\\\"z\"", "c": []}, {}], "d": {"e": null, "f": 0.9232196723355076}});
        assert_eq!(pretty(&v.to_string()), serde_json::to_string_pretty(&v).unwrap());
        assert_eq!(
            pretty(r#"{ "n" : 0.92321967233550765 , "e": [ ] }"#),
            "{\n  \"n\": 0.92321967233550765,\n  \"e\": []\n}"
        );
    }

    #[test]
    fn warnings() {
        let base = json!({
            "validator": "agora1aaa", "moniker": "alpha", "operator": "Big Co", "power": 50, "total_power": "100",
            "threshold": {"name": "bft_halt", "fraction": "1/3", "comparison": ">=", "rule": "…"},
            "halting_validators": ["agora1aaa", "agora1bbb"], "halting_operators": ["Big Co"],
            "in_halting_validators": true, "in_halting_operators": true, "warn": true,
            "alternatives": [{"validator": "agora1ccc", "moniker": "gamma", "operator": "agora1ccc",
                              "power": "5", "commission": "0.05"}],
        });
        let w = delegation_warning(&base).unwrap();
        assert_eq!(
            w,
            "warning: alpha (agora1aaa) is among the 2 validators that together hold at least 1/3 of the voting power, \
             and its operator `Big Co` alone holds at least 1/3 of the voting power: enough to halt the chain. \
             Delegating to it concentrates power further. Smaller validators: gamma agora1ccc (power 5, commission 5%)."
        );
        let mut ops = base.clone();
        ops["in_halting_validators"] = json!(false);
        ops["halting_operators"] = json!(["Big Co", "Other"]);
        ops["alternatives"] = json!([]);
        let w = delegation_warning(&ops).unwrap();
        assert!(w.starts_with("warning: alpha (agora1aaa): its operator `Big Co` is among the 2 operators"), "{w}");
        assert!(!w.contains("Smaller"), "{w}");
        let mut no = base;
        no["warn"] = json!(false);
        assert_eq!(delegation_warning(&no), None);
    }
}
