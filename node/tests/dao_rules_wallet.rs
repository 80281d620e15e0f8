//! DAO voting rules beyond one token, one vote (ADR 0011) as users drive
//! them: the real `agora` wallet against a real 4-validator testnet, every
//! step an `agora` command. A conviction-voting DAO over a token, with
//! delegation, a guardian and a late-quorum extension: a delegate votes with
//! the delegated share at 0.1×, the delegator overrides it; a whale's 3×
//! conviction locks its tokens (unstaking refused), a holder locks ahead; the
//! guardian cancels a proposal that nobody else may. A quadratic DAO with an
//! identity registry: weights are integer square roots, holders without an
//! identity at the snapshot are refused, and `dao show` reports how
//! concentrated the yes power is.
//!
//! `cargo test --release -p node --test dao_rules_wallet -- --nocapture`
//! prints the wallet's text output of the key commands (addresses replaced
//! by the actors' names).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Wallet, agora_bin};
use serde_json::{Value, json};
use testnet::{Spec, Testnet};

const CHAIN: &str = "dao-rules";
/// Voting lasts this long (ms of block time).
const VOTING_MS: u64 = 12_000;
const CONVICTION_PERIOD_MS: u64 = 60_000;
const LATE_QUORUM_MS: u64 = 3_000;

/// The wallet, and names for the addresses it prints.
struct Agora {
    w: Wallet,
    names: Vec<(String, String)>,
}

impl Agora {
    fn name(&mut self, addr: &str, name: &str) {
        self.names.push((addr.to_owned(), format!("<{name}>")));
    }

    /// Names a DAO's voting and proposal modules `<label>-voting` and
    /// `<label>-proposals`; returns `dao info`.
    fn name_modules(&mut self, dao: &str, label: &str) -> Value {
        let info = self.json(&["dao", "info", dao]);
        self.name(info["config"]["voting_module"].as_str().unwrap(), &format!("{label}-voting"));
        self.name(info["config"]["proposal_modules"][0].as_str().unwrap(), &format!("{label}-proposals"));
        info
    }

    fn addr(&self, name: &str) -> String {
        let tag = format!("<{name}>");
        self.names.iter().find(|(_, n)| *n == tag).map(|(a, _)| a.clone()).expect(name)
    }

    /// `s` with every known address replaced by its name.
    fn readable(&self, s: &str) -> String {
        self.names.iter().fold(s.to_owned(), |s, (a, n)| s.replace(a.as_str(), n))
    }

    /// `agora ARGS -o json`, which must succeed.
    fn json(&self, args: &[&str]) -> Value {
        self.w.json(args)
    }

    /// A transaction that must commit successfully.
    fn ok(&self, args: &[&str]) -> Value {
        let r = self.w.json(args);
        assert_eq!(r["receipt"]["status"], "success", "agora {args:?}: {r}");
        r
    }

    /// `agora ARGS` in text, which must succeed (exit 0: every transaction committed successfully).
    fn quiet(&self, args: &[&str]) -> String {
        let out = self.w.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "agora {args:?} failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
        stdout
    }

    fn print(&self, args: &[&str], out: &str) {
        println!("\n$ agora {}\n{}", self.readable(&args.join(" ")), self.readable(out.trim_end()));
    }

    /// `agora ARGS` in text, printed; it must succeed.
    fn text(&self, args: &[&str]) -> String {
        let out = self.quiet(args);
        self.print(args, &out);
        out
    }

    /// `agora ARGS` in text, printing only the lines starting with one of `keep`.
    fn excerpt(&self, args: &[&str], keep: &[&str]) {
        let out = self.quiet(args);
        let lines: Vec<&str> = out.lines().filter(|l| keep.iter().any(|k| l.starts_with(k))).collect();
        self.print(args, &format!("{}\n(…)", lines.join("\n")));
    }

    /// `agora ARGS` must fail with `want` in its output; prints the refusal.
    fn refused(&self, args: &[&str], want: &str) {
        let out = self.w.run(args);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
        assert!(!out.status.success(), "agora {args:?} should fail: {text}");
        assert!(text.contains(want), "agora {args:?}: expected `{want}` in: {text}");
        println!("\n$ agora {}\n{}", self.readable(&args.join(" ")), self.readable(text.trim_end()));
    }

    /// Polls `agora dao show` until proposal `id` has `status` (≤ `within`).
    fn wait_status(&self, dao: &str, id: u64, status: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let p = self.json(&["dao", "show", dao, &id.to_string()]);
            if p["status"] == status {
                return p;
            }
            assert!(Instant::now() < deadline, "proposal {id} never became {status}: {p}");
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// The ballot of `voter` (a name) in `agora dao show DAO ID --votes -o json`.
    fn ballot(&self, shown: &Value, voter: &str) -> Value {
        let a = self.addr(voter);
        let votes = shown["votes"].as_array().unwrap_or_else(|| panic!("no votes in {shown}"));
        votes
            .iter()
            .find(|v| v["voter"] == a.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("no vote of {voter}: {shown}"))
    }
}

/// The value of `label:` in the wallet's text output.
fn field(text: &str, label: &str) -> String {
    let line =
        text.lines().find(|l| l.starts_with(&format!("{label}:"))).unwrap_or_else(|| panic!("no {label}: {text}"));
    line.split_whitespace().last().unwrap().to_owned()
}

/// `(power, delegated, weight, conviction)` of a ballot.
fn counted(b: &Value) -> (&str, &str, &str, u64) {
    (
        b["power"].as_str().unwrap_or("?"),
        b["delegated"].as_str().unwrap_or("?"),
        b["weight"].as_str().unwrap_or("?"),
        b["conviction"].as_u64().unwrap_or(99),
    )
}

fn rules() -> Value {
    json!({
        "voting_delay_ms": 0, "min_voting_period_ms": 1_000, "max_voting_period_ms": VOTING_MS,
        "quorum": "0.334", "threshold": "0.5", "veto_threshold": "0.334",
        "allow_early_close": false, "allow_revoting": false,
        "deposit": { "amount": "1000", "refund": "only_passed" },
        "timelock_ms": 1_000, "vetoer": null, "execution_grace_ms": 60_000,
    })
}

#[test]
fn dao_voting_rules_through_the_wallet() {
    let started = Instant::now();
    assert!(agora_bin().exists(), "{} is missing: build it with `cargo build -p wallet-cli`", agora_bin().display());
    let dir = tempfile::tempdir().unwrap();
    let mut spec = Spec::new(dir.path().join("net"), env!("CARGO_BIN_EXE_agorad"));
    spec.agora = Some(agora_bin());
    spec.dev_accounts = 1;
    spec.load_accounts = 0;
    spec.chain_id = CHAIN.into();
    spec.block_interval = Duration::from_millis(200);
    let mut net = Testnet::create(&spec).unwrap().owned();
    net.set_stop_timeout(Duration::from_secs(5));
    net.start_all().unwrap();
    net.wait_for_height(0, 2, Duration::from_secs(60)).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let deployed = rt.block_on(testnet::dao::deploy(&net.rpc_url(0), CHAIN, net.dir(), None)).unwrap();
    let codes = deployed.codes.clone();
    let mut a = Agora { w: Wallet { keyring: net.keyring_dir(), node: net.rpc_url(0) }, names: Vec::new() };
    a.name(&net.dev_accounts()[0].address.to_string(), "dev0");
    for (hash, name) in [
        (codes.dao_core, "dao-core"),
        (codes.dao_proposals, "dao-proposals"),
        (codes.dao_voting_token, "dao-voting-token"),
        (codes.dao_delegation, "dao-delegation"),
        (codes.dao_identity, "dao-identity"),
    ] {
        a.name(&hash.to_string(), &format!("{name} code"));
    }

    // --- The actors: new keys, funded by dev0. -----------------------------
    for name in ["wanda", "sam", "sue", "dan", "ivy", "gina"] {
        let k = a.json(&["keys", "new", name]);
        let addr = k["address"].as_str().unwrap().to_owned();
        a.ok(&["transfer", "--from", "dev0", "--to", &addr, "--amount", "1000000000000"]);
        a.name(&addr, name);
    }
    let (sam, dan, gina) = (a.addr("sam"), a.addr("dan"), a.addr("gina"));
    // Tokens for both DAOs: 10 000 / 400 / 100 to stake in each, dan 100 + 2 500.
    let balances: Vec<Value> = [("wanda", 20_000), ("sam", 800), ("sue", 200), ("dan", 2_600)]
        .iter()
        .map(|(n, v)| json!({ "address": a.addr(n), "amount": v.to_string() }))
        .collect();
    let init = json!({ "name": "Vote", "symbol": "VOTE", "decimals": 0, "initial_balances": balances });
    let t = a.ok(&[
        "contract",
        "instantiate",
        &codes.token.to_string(),
        &init.to_string(),
        "--label",
        "vote",
        "--from",
        "dev0",
    ]);
    let token = t["contract_address"].as_str().unwrap().to_owned();
    a.name(&token, "VOTE");

    // --- 1. A conviction DAO with delegation, a guardian, late quorum. -----
    let (core, props, vtoken) =
        (codes.dao_core.to_string(), codes.dao_proposals.to_string(), codes.dao_voting_token.to_string());
    let create = [
        "dao",
        "create",
        "--from",
        "dev0",
        "--name",
        "Club",
        "--label",
        "club",
        "--core-code",
        &core,
        "--proposals-code",
        &props,
        "--voting-code",
        &vtoken,
        "--token",
        &token,
        "--rule",
        "conviction",
        "--conviction-period",
        &CONVICTION_PERIOD_MS.to_string(),
        "--delegation-code",
        &codes.dao_delegation.to_string(),
        "--guardian",
        "gina",
        "--late-quorum-extension",
        &LATE_QUORUM_MS.to_string(),
        "--config",
        &rules().to_string(),
    ];
    let created = a.quiet(&create);
    // (Text output: a failed step would have exited non-zero.)
    let (club, delegation) = (field(&created, "dao"), field(&created, "delegation"));
    a.name(&club, "club");
    a.name(&delegation, "club-delegation");
    let info = a.name_modules(&club, "club");
    a.print(&create, &created);
    a.text(&["dao", "info", &club]);
    let cfg = &info["proposal_rules"];
    assert_eq!(cfg["voting_rule"], "conviction", "{info}");
    assert_eq!(cfg["conviction_period_ms"], CONVICTION_PERIOD_MS, "{info}");
    assert_eq!(cfg["late_quorum_extension_ms"], LATE_QUORUM_MS, "{info}");
    assert_eq!((cfg["guardian"].as_str(), cfg["delegation"].as_str()), (Some(&*gina), Some(&*delegation)), "{info}");
    for (who, amount) in [("wanda", "10000"), ("sam", "400"), ("sue", "100"), ("dan", "100")] {
        a.ok(&["dao", "stake-tokens", &club, amount, "--from", who]);
    }

    // --- 2. Delegation: half of sam's power to dan. -------------------------
    a.ok(&["dao", "delegate", &club, "--to", "dan", "--share", "50%", "--from", "sam"]);
    a.text(&["dao", "delegations", &club, "--address", "dan"]);
    let d = a.json(&["dao", "delegations", &club, "--address", "dan"]);
    assert_eq!((d["own_power"].as_str(), d["delegated_power"].as_str()), (Some("100"), Some("200")), "{d}");
    assert_eq!(d["delegators"], json!([{ "delegator": sam, "bps": 5000, "power": "200" }]), "{d}");
    a.text(&["dao", "delegations", &club, "--address", "sam"]);
    let d = a.json(&["dao", "delegations", &club, "--address", "sam"]);
    assert_eq!(d["delegations"], json!([{ "delegate": dan, "bps": 5000 }]), "{d}");
    assert_eq!(d["own_power"], "200", "sam keeps half: {d}");
    std::thread::sleep(Duration::from_millis(600));

    let pay = format!("{gina}:1");
    a.ok(&["dao", "propose", &club, "--title", "pay gina", "--transfer", &pay, "--from", "wanda"]);
    a.ok(&["dao", "propose", &club, "--title", "to be cancelled", "--transfer", &pay, "--from", "wanda"]);
    // dan, with conviction 1: own 100 × 1 + delegated 200 × 0.1.
    a.ok(&["dao", "vote", &club, "1", "yes", "--conviction", "1", "--from", "dan"]);
    let tally = ["turnout", "yes weight", "no weight", "vote:"];
    a.excerpt(&["dao", "show", &club, "1", "--votes"], &tally);
    let shown = a.json(&["dao", "show", &club, "1", "--votes"]);
    assert_eq!(counted(&a.ballot(&shown, "dan")), ("300", "200", "120", 1), "{shown}");
    assert_eq!(shown["tally"]["yes"], "120", "{shown}");
    // sam votes itself: its whole 400 (conviction 0: weight 40), dan's share goes.
    let r = a.ok(&["dao", "vote", &club, "1", "no", "--from", "sam"]);
    assert!(r.to_string().contains("vote_overridden"), "the override is an event: {r}");
    a.excerpt(&["dao", "show", &club, "1", "--votes"], &tally);
    let shown = a.json(&["dao", "show", &club, "1", "--votes"]);
    assert_eq!(counted(&a.ballot(&shown, "dan")), ("100", "0", "100", 1), "dan's delegated drops: {shown}");
    assert_eq!(counted(&a.ballot(&shown, "sam")), ("400", "0", "40", 0), "{shown}");
    assert_eq!((shown["tally"]["yes"].as_str(), shown["tally"]["no"].as_str()), (Some("100"), Some("40")));
    assert_eq!(shown["turnout"], "500", "{shown}");

    // --- 3. Conviction: wanda 3× (locked 4 periods after the latest end). ---
    a.ok(&["dao", "vote", &club, "1", "yes", "--conviction", "3", "--from", "wanda"]);
    a.text(&["dao", "show", &club, "1", "--votes"]);
    let shown = a.json(&["dao", "show", &club, "1", "--votes"]);
    assert_eq!(counted(&a.ballot(&shown, "wanda")), ("10000", "0", "30000", 3), "{shown}");
    assert_eq!((shown["tally"]["yes"].as_str(), shown["tally"]["no"].as_str()), (Some("30100"), Some("40")));
    assert_eq!((shown["turnout"].as_str(), shown["total_power"].as_str()), (Some("10500"), Some("10600")));
    assert_eq!(shown["quorum_reached"], true, "{shown}");
    let start = shown["voting_start_ms"].as_u64().unwrap();
    a.text(&["dao", "lock", &club, "--address", "wanda"]);
    let l = a.json(&["dao", "lock", &club, "--address", "wanda"]);
    let until = start + VOTING_MS + LATE_QUORUM_MS + 4 * CONVICTION_PERIOD_MS;
    assert_eq!(l["locks"]["locks"], json!([{ "amount": "10000", "until_ms": until }]), "{l}");
    assert_eq!(l["locks"]["locked"], "10000", "{l}");
    a.refused(&["dao", "unstake-tokens", &club, "1", "--from", "wanda"], "locked");
    // sue locks half of her stake ahead, for one period.
    let r = a.ok(&["dao", "lock", &club, "--amount", "50", "--conviction", "1", "--from", "sue"]);
    let sue_until = r["until_ms"].as_u64().unwrap();
    a.text(&["dao", "lock", &club, "--address", "sue"]);
    let l = a.json(&["dao", "lock", &club, "--address", "sue"]);
    assert_eq!(l["locks"]["locks"], json!([{ "amount": "50", "until_ms": sue_until }]), "{l}");
    assert!(sue_until >= l["now_ms"].as_u64().unwrap() + CONVICTION_PERIOD_MS - 5_000, "one period ahead: {l}");
    a.refused(&["dao", "unstake-tokens", &club, "60", "--from", "sue"], "locked");
    a.ok(&["dao", "unstake-tokens", &club, "50", "--from", "sue"]);

    // --- 5. Guardian: only gina may cancel the open proposal 2. ------------
    a.refused(&["dao", "cancel", &club, "2", "--from", "sam"], "only the proposer or the guardian");
    a.refused(&["dao", "cancel", &club, "2", "--from", "wanda"], "only a pending proposal");
    a.ok(&["dao", "cancel", &club, "2", "--from", "gina"]);
    let text = a.text(&["dao", "show", &club, "2"]);
    assert!(text.contains(&format!("{gina} (guardian)")), "{text}");
    let p = a.json(&["dao", "show", &club, "2"]);
    assert_eq!((p["status"].as_str(), p["cancelled_by"].as_str()), (Some("cancelled"), Some(&*gina)), "{p}");
    a.refused(&["dao", "vote", &club, "2", "yes", "--from", "sue"], "not open");

    let p = a.wait_status(&club, 1, "passed", Duration::from_secs(45));
    assert_eq!(p["tally"]["yes"], "30100", "{p}");
    let list = a.json(&["dao", "list", &club]);
    let statuses: Vec<&str> =
        list["proposals"].as_array().unwrap().iter().map(|p| p["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["passed", "cancelled"], "{list}");

    // --- Late quorum: first reached < 3 s before the end, voting goes on 3 s.
    a.ok(&["dao", "propose", &club, "--title", "late", "--transfer", &pay, "--from", "wanda"]);
    let end = a.json(&["dao", "show", &club, "3"])["voting_end_ms"].as_u64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while a.json(&["dao", "show", &club, "3"])["time_left_ms"].as_u64().unwrap_or(0) > 2_900 {
        assert!(Instant::now() < deadline, "proposal 3 never neared its end");
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = a.ok(&["dao", "vote", &club, "3", "yes", "--from", "wanda"]);
    assert!(r.to_string().contains("voting_extended"), "{r}");
    let p = a.json(&["dao", "show", &club, "3"]);
    let at = p["quorum_at_ms"].as_u64().unwrap();
    assert!(at < end && at + LATE_QUORUM_MS > end, "quorum late: at {at}, end {end}: {p}");
    assert_eq!(p["voting_end_ms"].as_u64(), Some(at + LATE_QUORUM_MS), "{p}");
    println!(
        "\nproposal 3: quorum at {at}, {} ms before the end {end}: voting now ends at {}",
        end - at,
        at + LATE_QUORUM_MS
    );
    a.wait_status(&club, 3, "passed", Duration::from_secs(30));

    // --- 4. Quadratic: one identity, one ⌊√power⌋. -------------------------
    let create = [
        "dao",
        "create",
        "--from",
        "dev0",
        "--name",
        "People",
        "--label",
        "people",
        "--core-code",
        &core,
        "--proposals-code",
        &props,
        "--voting-code",
        &vtoken,
        "--token",
        &token,
        "--rule",
        "quadratic",
        "--identity-code",
        &codes.dao_identity.to_string(),
        "--issuer",
        "ivy",
        "--config",
        &rules().to_string(),
    ];
    let created = a.quiet(&create);
    let (people, registry) = (field(&created, "dao"), field(&created, "identity registry"));
    a.name(&people, "people");
    a.name(&registry, "people-identity");
    let info = a.name_modules(&people, "people");
    a.print(&create, &created);
    let cfg = &info["proposal_rules"];
    assert_eq!((cfg["voting_rule"].as_str(), cfg["identity_registry"].as_str()), (Some("quadratic"), Some(&*registry)));
    for (who, amount) in [("wanda", "10000"), ("sam", "400"), ("sue", "100"), ("dan", "2500")] {
        a.ok(&["dao", "stake-tokens", &people, amount, "--from", who]);
    }
    a.refused(
        &["dao", "register-identity", &people, "--address", "dan", "--identity", "person-dan", "--from", "sam"],
        "is not an issuer",
    );
    for who in ["wanda", "sam", "sue"] {
        let id = format!("person-{who}");
        a.ok(&["dao", "register-identity", &people, "--address", who, "--identity", &id, "--from", "ivy"]);
    }
    a.text(&["dao", "identity", &people]);
    let ids = a.json(&["dao", "identity", &people]);
    assert_eq!(ids["owner"], people.as_str(), "the DAO owns its registry: {ids}");
    assert_eq!(ids["issuers"], json!([a.addr("ivy")]), "{ids}");
    assert_eq!(ids["identities"].as_array().map(Vec::len), Some(3), "{ids}");
    std::thread::sleep(Duration::from_millis(600));

    a.ok(&["dao", "propose", &people, "--title", "fund the commons", "--transfer", &pay, "--from", "wanda"]);
    // dan gets an identity only after the snapshot: still refused.
    a.ok(&["dao", "register-identity", &people, "--address", "dan", "--identity", "person-dan", "--from", "ivy"]);
    a.refused(&["dao", "vote", &people, "1", "yes", "--from", "dan"], "no identity at the snapshot");
    a.refused(
        &["dao", "vote", &people, "1", "yes", "--conviction", "2", "--from", "sam"],
        "conviction applies only under the conviction rule",
    );
    a.ok(&["dao", "vote", &people, "1", "yes", "--from", "wanda"]);
    a.ok(&["dao", "vote", &people, "1", "yes", "--from", "sam"]);
    a.ok(&["dao", "vote", &people, "1", "no", "--from", "sue"]);
    let text = a.text(&["dao", "show", &people, "1", "--votes"]);
    for want in ["voting rule:", "quadratic", "nakamoto:", "gini:", "yes weight:"] {
        assert!(text.contains(want), "`{want}` missing in {text}");
    }
    let shown = a.json(&["dao", "show", &people, "1", "--votes"]);
    assert_eq!(counted(&a.ballot(&shown, "wanda")), ("10000", "0", "100", 0), "√10000: {shown}");
    assert_eq!(counted(&a.ballot(&shown, "sam")), ("400", "0", "20", 0), "√400: {shown}");
    assert_eq!(counted(&a.ballot(&shown, "sue")), ("100", "0", "10", 0), "√100: {shown}");
    assert_eq!((shown["tally"]["yes"].as_str(), shown["tally"]["no"].as_str()), (Some("120"), Some("10")));
    assert_eq!((shown["turnout"].as_str(), shown["total_power"].as_str()), (Some("10500"), Some("13000")));
    let c = &shown["concentration"];
    assert_eq!((c["voters"].as_u64(), c["yes_power"].as_str()), (Some(2), Some("10400")), "{c}");
    // One whale holds more than half of the yes power; Gini of (10000, 400)
    // = 9600 / (2 × 10400) = 0.461538…
    assert_eq!((c["nakamoto"].as_u64(), c["gini"].as_str()), (Some(1), Some("0.461538")), "{c}");

    net.stop_all().unwrap();
    println!("\ndao_voting_rules_through_the_wallet: {:.1} s", started.elapsed().as_secs_f64());
}
