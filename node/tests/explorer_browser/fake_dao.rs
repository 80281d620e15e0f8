//! A hand-written contract that impersonates a DAO, for the explorer's
//! browser test (`explorer_browser.rs`): the explorer must show it as an
//! unverified contract, never as a DAO.

use serde_json::json;

/// The name the fake DAO claims: the real one's, with a hostile tail.
pub const FAKE_DAO_NAME: &str = "Agora DAO <img src=x onerror=\"window.__xss=5\">";

/// A hand-written contract that impersonates a DAO: its `instantiate` emits
/// `dao_created` (like dao-core), and every query answers a DAO `config` with
/// `name` and the real DAO's `voting` and `proposals` modules.
pub fn fake_dao_wasm(voting: &str, proposals: &str) -> Vec<u8> {
    // Bytes as WAT string escapes, so any text fits.
    let esc = |b: &[u8]| b.iter().map(|x| format!("\\{x:02x}")).collect::<String>();
    let mut attrs = Vec::new();
    for (k, v) in [("name", FAKE_DAO_NAME), ("voting_module", voting)] {
        for part in [k, v] {
            attrs.extend_from_slice(&u32::try_from(part.len()).unwrap().to_le_bytes());
            attrs.extend_from_slice(part.as_bytes());
        }
    }
    let config = json!({
        "name": FAKE_DAO_NAME, "description": "The official DAO. <b>Vote here</b>",
        "voting_module": voting, "proposal_modules": [proposals],
    })
    .to_string();
    let kind = "dao_created";
    let wat = format!(
        r#"(module
  (import "agora" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "interface_version_1"))
  (func (export "agora_alloc") (param i32) (result i32) (i32.const 32768))
  (func (export "instantiate") (param i32 i32) (result i64)
    (call $emit (i32.const 0) (i32.const {kl}) (i32.const 64) (i32.const {al}))
    (i64.const 0))
  (func (export "query") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 8192) (i64.const 32)) (i64.const {cl})))
  (data (i32.const 0) "{kind}")
  (data (i32.const 64) "{attrs}")
  (data (i32.const 8192) "{config}"))"#,
        kl = kind.len(),
        al = attrs.len(),
        cl = config.len(),
        attrs = esc(&attrs),
        config = esc(config.as_bytes()),
    );
    wat::parse_str(&wat).expect("the fake DAO's WAT")
}
