#![allow(clippy::unwrap_used)]

use super::*;
use agora_sdk::testing::{MockHost, mock_addr};
use serde_json::{Value, json};

struct T {
    host: MockHost,
    me: Addr,
    dao: Addr,
    /// Issuers `i1`, `i2`.
    i1: Addr,
    i2: Addr,
    alice: Addr,
    bob: Addr,
}

fn setup() -> T {
    let host = MockHost::new();
    let (me, dao, i1, i2) = (mock_addr("identity"), mock_addr("dao"), mock_addr("issuer1"), mock_addr("issuer2"));
    host.set_block_height(10);
    host.instantiate_json(mock_contract(), me, dao, 0, &json!({"issuers": [i1, i2]})).unwrap();
    host.take_events();
    T { host, me, dao, i1, i2, alice: mock_addr("alice"), bob: mock_addr("bob") }
}

fn addrs(n: usize, tag: &str) -> Vec<Addr> {
    (0..n).map(|i| mock_addr(&format!("{tag}{i}"))).collect()
}

impl T {
    fn exec(&self, who: Addr, msg: Value) -> Result<Vec<u8>, String> {
        self.host.execute_json(self.me, who, 0, &msg)
    }
    fn attest(&self, issuer: Addr, address: Addr, identity: &str) -> Result<Vec<u8>, String> {
        self.exec(issuer, json!({"attest": {"address": address, "identity": identity}}))
    }
    fn revoke(&self, who: Addr, address: Addr) -> Result<Vec<u8>, String> {
        self.exec(who, json!({"revoke": {"address": address}}))
    }
    fn q(&self, msg: Value) -> Result<Value, String> {
        self.host.query_json(self.me, &msg)
    }
    fn identity(&self, address: Addr) -> Value {
        self.q(json!({"identity": {"address": address}})).unwrap()
    }
    fn identity_at(&self, address: Addr, height: u64) -> Value {
        self.q(json!({"identity_at": {"address": address, "height": height}})).unwrap()
    }
    fn address_of(&self, identity: &str) -> Value {
        self.q(json!({"address_of": {"identity": identity}})).unwrap()["address"].clone()
    }
    fn issuers(&self) -> Value {
        self.q(json!({"issuers": {}})).unwrap()["issuers"].clone()
    }
    fn owner(&self) -> Value {
        self.q(json!({"owner": {}})).unwrap()["owner"].clone()
    }
    fn history_len(&self, address: Addr) -> usize {
        let mut prefix = b"\x00\x07history\x00\x14".to_vec();
        prefix.extend_from_slice(address.as_bytes());
        self.host.storage(self.me).keys().filter(|k| k.starts_with(&prefix)).count()
    }
}

fn bound(identity: &str, issuer: Addr, since: u64) -> Value {
    json!({"identity": identity, "issuer": issuer, "since_height": since})
}

fn unbound() -> Value {
    json!({"identity": null, "issuer": null, "since_height": null})
}

#[test]
fn instantiate_sets_owner_and_issuers() {
    let t = setup();
    assert_eq!(t.owner(), json!(t.dao));
    assert_eq!(t.issuers(), json!([t.i1, t.i2]));
    assert_eq!(t.q(json!({"info": {}})).unwrap(), json!({"kind": "dao-identity", "version": "1"}));
    assert_eq!(t.q(json!({"list": {}})).unwrap(), json!({"identities": []}));
    assert_eq!(t.identity(t.alice), unbound());
    assert_eq!(t.identity_at(t.alice, 10), unbound());
    assert_eq!(t.address_of("x"), Value::Null);

    // No issuers, and exactly MAX_ISSUERS, are fine.
    let other = mock_addr("other");
    t.host.instantiate_json(mock_contract(), other, t.alice, 0, &json!({"issuers": []})).unwrap();
    assert_eq!(t.host.query_json::<_, Value>(other, &json!({"issuers": {}})).unwrap(), json!({"issuers": []}));
    assert_eq!(t.host.query_json::<_, Value>(other, &json!({"owner": {}})).unwrap(), json!({"owner": t.alice}));
    let max = addrs(MAX_ISSUERS, "i");
    t.host.instantiate_json(mock_contract(), mock_addr("other2"), t.dao, 0, &json!({"issuers": max})).unwrap();
}

#[test]
fn instantiate_bounds() {
    let t = setup();
    let too_many = addrs(MAX_ISSUERS + 1, "i");
    let bad = mock_addr("bad");
    for (msg, want) in [
        (json!({"issuers": too_many}), "at most 32 issuers, got 33".to_owned()),
        (json!({"issuers": [t.i1, t.i2, t.i1]}), format!("{} appears twice in issuers", t.i1)),
        (json!({}), "invalid message: missing field `issuers`".to_owned()),
        (json!({"issuers": [], "owner": t.alice}), "invalid message: unknown field `owner`".to_owned()),
        (json!({"issuers": ["agora1nope"]}), "invalid message: invalid address".to_owned()),
    ] {
        let err = t.host.instantiate_json(mock_contract(), bad, t.dao, 0, &msg).unwrap_err();
        assert!(err.starts_with(&want), "{msg}: {err}");
        assert!(t.host.storage(bad).is_empty());
    }
}

#[test]
fn attest_binds_both_ways_and_emits() {
    let t = setup();
    t.host.set_block_height(12);
    t.attest(t.i1, t.alice, "pop:alice-1").unwrap();
    assert_eq!(t.identity(t.alice), bound("pop:alice-1", t.i1, 12));
    assert_eq!(t.address_of("pop:alice-1"), json!(t.alice));
    let list =
        json!({"identities": [{"address": t.alice, "identity": "pop:alice-1", "issuer": t.i1, "since_height": 12}]});
    assert_eq!(t.q(json!({"list": {}})).unwrap(), list);
    let ev = t.host.take_events();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, "identity_attested");
    let attrs = [("address", t.alice.to_string()), ("identity", "pop:alice-1".into()), ("issuer", t.i1.to_string())];
    for (k, v) in attrs {
        assert_eq!(ev[0].attr(k), Some(v.as_str()), "{k}");
    }
    assert_eq!(ev[0].attr("height"), Some("12"));
}

#[test]
fn non_issuer_cannot_attest() {
    let t = setup();
    let mallory = mock_addr("mallory");
    for who in [mallory, t.dao, t.alice] {
        let err = t.attest(who, who, "me").unwrap_err();
        assert_eq!(err, format!("unauthorized: {who} is not an issuer"));
    }
    assert_eq!(t.identity(mallory), unbound());
    assert_eq!(t.address_of("me"), Value::Null);
    assert!(t.host.take_events().is_empty());
}

#[test]
fn identity_format_bounds() {
    let t = setup();
    let max = "a".repeat(MAX_IDENTITY_BYTES);
    let long = "a".repeat(MAX_IDENTITY_BYTES + 1);
    for (id, want) in [
        ("", "identity must be 1 to 64 bytes, got 0".to_owned()),
        (long.as_str(), "identity must be 1 to 64 bytes, got 65".to_owned()),
        ("a b", "identity may only contain A-Z a-z 0-9 . _ : -, found ' ' at byte 1".to_owned()),
        ("x/y", "identity may only contain A-Z a-z 0-9 . _ : -, found '/' at byte 1".to_owned()),
        ("caf\u{e9}", "identity may only contain A-Z a-z 0-9 . _ : -, found '\u{e9}' at byte 3".to_owned()),
        ("a@b", "identity may only contain A-Z a-z 0-9 . _ : -, found '@' at byte 1".to_owned()),
        ("\n", "identity may only contain A-Z a-z 0-9 . _ : -, found '\\n' at byte 0".to_owned()),
    ] {
        assert_eq!(t.attest(t.i1, t.alice, id).unwrap_err(), want, "{id:?}");
        assert_eq!(t.q(json!({"address_of": {"identity": id}})).unwrap_err(), want, "{id:?}");
    }
    assert_eq!(t.identity(t.alice), unbound());
    // The longest identity and every allowed character.
    t.attest(t.i1, t.alice, &max).unwrap();
    assert_eq!(t.address_of(&max), json!(t.alice));
    let all = "AZaz09._:-";
    t.attest(t.i1, t.bob, all).unwrap();
    assert_eq!(t.identity(t.bob)["identity"], json!(all));
    // Ids are compared byte for byte: case matters.
    t.attest(t.i1, mock_addr("carol"), "AZAZ09._:-").unwrap();
}

#[test]
fn double_binding_is_refused_both_ways() {
    let t = setup();
    t.attest(t.i1, t.alice, "id-a").unwrap();
    // The identity is taken (by any issuer, for any address, including the same pair).
    for (issuer, address) in [(t.i1, t.bob), (t.i2, t.bob), (t.i1, t.alice), (t.i2, t.alice)] {
        let err = t.attest(issuer, address, "id-a").unwrap_err();
        assert_eq!(err, format!("identity `id-a` is already bound to {}", t.alice));
    }
    // The address already has an identity.
    for issuer in [t.i1, t.i2] {
        let err = t.attest(issuer, t.alice, "id-b").unwrap_err();
        assert_eq!(err, format!("{} already has identity `id-a`: revoke it first", t.alice));
    }
    assert_eq!(t.address_of("id-b"), Value::Null);
    assert_eq!(t.identity(t.bob), unbound());
    assert_eq!(t.q(json!({"list": {}})).unwrap()["identities"].as_array().unwrap().len(), 1);
}

#[test]
fn revoke_permissions() {
    let t = setup();
    t.host.set_block_height(11);
    t.attest(t.i1, t.alice, "id-a").unwrap();
    t.host.take_events();
    let mallory = mock_addr("mallory");
    for who in [t.i2, mallory, t.alice] {
        let err = t.revoke(who, t.alice).unwrap_err();
        let want = format!(
            "unauthorized: only the issuer {} (while an issuer) or the owner {} may revoke {}, not {who}",
            t.i1, t.dao, t.alice
        );
        assert_eq!(err, want);
    }
    assert_eq!(t.identity(t.alice), bound("id-a", t.i1, 11));
    assert_eq!(t.revoke(t.i1, t.bob).unwrap_err(), format!("{} has no identity", t.bob));

    // The attesting issuer revokes; the identity is free again.
    t.host.set_block_height(12);
    t.revoke(t.i1, t.alice).unwrap();
    let ev = t.host.take_events();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, "identity_revoked");
    assert_eq!(ev[0].attr("address"), Some(t.alice.to_string().as_str()));
    assert_eq!(ev[0].attr("identity"), Some("id-a"));
    assert_eq!(ev[0].attr("by"), Some(t.i1.to_string().as_str()));
    assert_eq!(ev[0].attr("height"), Some("12"));
    assert_eq!(t.identity(t.alice), unbound());
    assert_eq!(t.address_of("id-a"), Value::Null);
    assert_eq!(t.revoke(t.i1, t.alice).unwrap_err(), format!("{} has no identity", t.alice));
    t.attest(t.i2, t.bob, "id-a").unwrap();
    assert_eq!(t.address_of("id-a"), json!(t.bob));

    // The owner revokes what another issuer attested.
    t.revoke(t.dao, t.bob).unwrap();
    assert_eq!(t.host.take_events()[1].attr("by"), Some(t.dao.to_string().as_str()));
    assert_eq!(t.q(json!({"list": {}})).unwrap(), json!({"identities": []}));
}

#[test]
fn removed_issuer_cannot_attest_and_its_attestations_stay() {
    let t = setup();
    t.attest(t.i1, t.alice, "id-a").unwrap();
    t.exec(t.dao, json!({"update_issuers": {"remove": [t.i1]}})).unwrap();
    assert_eq!(t.issuers(), json!([t.i2]));
    assert_eq!(t.attest(t.i1, t.bob, "id-b").unwrap_err(), format!("unauthorized: {} is not an issuer", t.i1));
    // Its attestation still counts ...
    assert_eq!(t.identity(t.alice), bound("id-a", t.i1, 10));
    assert_eq!(t.identity_at(t.alice, 10), bound("id-a", t.i1, 10));
    // ... it can no longer revoke it, another issuer neither; the owner can.
    assert!(t.revoke(t.i1, t.alice).unwrap_err().starts_with("unauthorized: only the issuer"));
    assert!(t.revoke(t.i2, t.alice).unwrap_err().starts_with("unauthorized: only the issuer"));
    // Re-added, it may again revoke what it attested.
    t.exec(t.dao, json!({"update_issuers": {"add": [t.i1]}})).unwrap();
    assert_eq!(t.issuers(), json!([t.i2, t.i1]));
    t.revoke(t.i1, t.alice).unwrap();
    t.attest(t.i2, t.alice, "id-a").unwrap();
    t.exec(t.dao, json!({"update_issuers": {"remove": [t.i2]}})).unwrap();
    t.revoke(t.dao, t.alice).unwrap();
    assert_eq!(t.identity(t.alice), unbound());
}

#[test]
fn update_issuers_bounds() {
    let t = setup();
    let (i3, mallory) = (mock_addr("issuer3"), mock_addr("mallory"));
    let upd =
        |who: Addr, add: Value, remove: Value| t.exec(who, json!({"update_issuers": {"add": add, "remove": remove}}));
    for who in [mallory, t.i1] {
        let err = upd(who, json!([i3]), json!([])).unwrap_err();
        assert_eq!(err, format!("unauthorized: only the owner {} may do this, not {who}", t.dao));
    }
    let many = addrs(MAX_ISSUERS + 1, "n");
    let thirty_one = &many[..MAX_ISSUERS - 1];
    for (add, remove, want) in [
        (json!([]), json!([]), "update_issuers needs `add` or `remove`".to_owned()),
        (json!(many), json!([]), "at most 32 issuers to add, got 33".to_owned()),
        (json!([]), json!(many), "at most 32 issuers to remove, got 33".to_owned()),
        (json!(thirty_one), json!([]), "at most 32 issuers, got 33".to_owned()),
        (json!([i3, i3]), json!([]), format!("{i3} appears twice in add")),
        (json!([]), json!([t.i1, t.i1]), format!("{} appears twice in remove", t.i1)),
        (json!([t.i1]), json!([t.i1]), format!("{} is both added and removed", t.i1)),
        (json!([]), json!([i3]), format!("{i3} is not an issuer")),
        (json!([t.i2]), json!([]), format!("{} is already an issuer", t.i2)),
    ] {
        assert_eq!(upd(t.dao, add.clone(), remove.clone()).unwrap_err(), want, "{add} {remove}");
        assert_eq!(t.issuers(), json!([t.i1, t.i2]));
    }
    let err = t.exec(t.dao, json!({"update_issuers": {"add": [], "drop": []}})).unwrap_err();
    assert!(err.starts_with("invalid message: unknown field `drop`"), "{err}");
    assert!(t.host.take_events().is_empty());

    // 30 more: exactly 32. Removing one makes room for another in the same message.
    t.exec(t.dao, json!({"update_issuers": {"add": &many[..MAX_ISSUERS - 2]}})).unwrap();
    assert_eq!(t.issuers().as_array().unwrap().len(), MAX_ISSUERS);
    let ev = t.host.take_events();
    assert_eq!(
        (ev[0].kind.as_str(), ev[0].attr("removed"), ev[0].attr("issuers")),
        ("issuers_updated", Some(""), Some("32"))
    );
    assert_eq!(ev[0].attr("added").unwrap().split(',').count(), MAX_ISSUERS - 2);
    assert_eq!(upd(t.dao, json!([i3]), json!([])).unwrap_err(), "at most 32 issuers, got 33");
    upd(t.dao, json!([i3]), json!([t.i1])).unwrap();
    let issuers = t.issuers();
    assert_eq!(issuers.as_array().unwrap().len(), MAX_ISSUERS);
    assert_eq!(issuers[0], json!(t.i2));
    assert_eq!(issuers[MAX_ISSUERS - 1], json!(i3));
    let ev = t.host.take_events();
    assert_eq!(ev[0].attr("added"), Some(i3.to_string().as_str()));
    assert_eq!(ev[0].attr("removed"), Some(t.i1.to_string().as_str()));
    // The new issuer attests at once.
    t.attest(i3, t.alice, "id-a").unwrap();
}

#[test]
fn identity_at_follows_attestations_and_revocations() {
    let t = setup();
    t.host.set_block_height(20);
    t.attest(t.i1, t.alice, "id-a").unwrap();
    t.host.set_block_height(30);
    t.revoke(t.i1, t.alice).unwrap();
    t.host.set_block_height(40);
    t.attest(t.i2, t.alice, "id-a2").unwrap();
    t.host.set_block_height(50);
    let first = bound("id-a", t.i1, 20);
    let second = bound("id-a2", t.i2, 40);
    for (h, want) in [
        (0, unbound()),
        (19, unbound()),
        (20, first.clone()),
        (25, first.clone()),
        (29, first.clone()),
        (30, unbound()),
        (39, unbound()),
        (40, second.clone()),
        (50, second.clone()),
    ] {
        assert_eq!(t.identity_at(t.alice, h), want, "height {h}");
    }
    assert_eq!(t.identity(t.alice), second);
    // Bob never had one.
    assert_eq!(t.identity_at(t.bob, 50), unbound());
    assert_eq!(t.history_len(t.alice), 3);
}

#[test]
fn identity_at_refuses_uncommitted_heights() {
    let t = setup();
    t.host.set_block_height(20);
    t.attest(t.i1, t.alice, "id-a").unwrap();
    // An RPC query may read the last committed block, not later.
    assert_eq!(t.identity_at(t.alice, 20), bound("id-a", t.i1, 20));
    for h in [21, u64::MAX] {
        let err = t.q(json!({"identity_at": {"address": t.alice, "height": h}})).unwrap_err();
        let want = format!(
            "height {h} is not a committed block yet (the last one is 20): identities are only read at past heights"
        );
        assert_eq!(err, want);
    }
    // Within a transaction (non-zero origin) the block being executed is not readable yet.
    t.host.set_self_address(t.me);
    t.host.set_origin(t.alice);
    t.host.set_query_mode(true);
    let err = query(QueryMsg::IdentityAt { address: t.alice, height: 20 }).unwrap_err();
    assert!(err.message().starts_with("height 20 is not a committed block yet (the last one is 19)"), "{err}");
    let before = query(QueryMsg::IdentityAt { address: t.alice, height: 19 }).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&before).unwrap(), unbound());
}

#[test]
fn same_block_changes_keep_the_end_of_block_state() {
    let t = setup();
    // Attested and revoked within block 20: never bound at any height.
    t.host.set_block_height(20);
    t.attest(t.i1, t.alice, "id-a").unwrap();
    t.revoke(t.dao, t.alice).unwrap();
    t.host.set_block_height(21);
    assert_eq!(t.identity_at(t.alice, 20), unbound());
    assert_eq!(t.history_len(t.alice), 1);

    // An identity moving from Alice to Bob in block 21: at 21 only Bob has it.
    t.attest(t.i1, t.alice, "id-x").unwrap();
    t.host.set_block_height(22);
    t.revoke(t.i1, t.alice).unwrap();
    t.attest(t.i2, t.bob, "id-x").unwrap();
    t.revoke(t.i2, t.bob).unwrap();
    t.attest(t.i2, t.bob, "id-x").unwrap();
    t.host.set_block_height(23);
    assert_eq!(t.identity_at(t.alice, 21), bound("id-x", t.i1, 21));
    assert_eq!(t.identity_at(t.bob, 21), unbound());
    assert_eq!(t.identity_at(t.alice, 22), unbound());
    assert_eq!(t.identity_at(t.bob, 22), bound("id-x", t.i2, 22));
    // One checkpoint per block whatever the number of changes in it.
    assert_eq!((t.history_len(t.alice), t.history_len(t.bob)), (3, 1));
}

#[test]
fn re_attest_after_revoke_keeps_both_in_history() {
    let t = setup();
    t.host.set_block_height(100);
    t.attest(t.i1, t.alice, "person-1").unwrap();
    t.host.set_block_height(200);
    t.revoke(t.i1, t.alice).unwrap();
    // The identity goes to Bob, and Alice gets another one later.
    t.host.set_block_height(300);
    t.attest(t.i2, t.bob, "person-1").unwrap();
    t.host.set_block_height(400);
    t.attest(t.i1, t.alice, "person-2").unwrap();
    t.host.set_block_height(500);
    assert_eq!(t.identity_at(t.alice, 150), bound("person-1", t.i1, 100));
    assert_eq!(t.identity_at(t.alice, 250), unbound());
    assert_eq!(t.identity_at(t.alice, 450), bound("person-2", t.i1, 400));
    assert_eq!(t.identity_at(t.bob, 150), unbound());
    assert_eq!(t.identity_at(t.bob, 350), bound("person-1", t.i2, 300));
    assert_eq!(t.address_of("person-1"), json!(t.bob));
    assert_eq!(t.address_of("person-2"), json!(t.alice));
}

#[test]
fn long_history_reads_the_right_checkpoint() {
    let t = setup();
    for i in 0..50u64 {
        t.host.set_block_height(100 + 2 * i);
        t.attest(t.i1, t.alice, &format!("id-{i}")).unwrap();
        t.host.set_block_height(101 + 2 * i);
        t.revoke(t.i1, t.alice).unwrap();
    }
    assert_eq!(t.history_len(t.alice), 100);
    for i in 0..50u64 {
        assert_eq!(t.identity_at(t.alice, 100 + 2 * i), bound(&format!("id-{i}"), t.i1, 100 + 2 * i));
        assert_eq!(t.identity_at(t.alice, 101 + 2 * i), unbound());
    }
    assert_eq!(t.identity_at(t.alice, 99), unbound());
}

#[test]
fn owner_handover() {
    let t = setup();
    let (new, i3) = (mock_addr("new-dao"), mock_addr("issuer3"));
    t.attest(t.i1, t.alice, "id-a").unwrap();
    t.host.take_events();
    for who in [t.i1, new] {
        let err = t.exec(who, json!({"update_owner": {"owner": new}})).unwrap_err();
        assert_eq!(err, format!("unauthorized: only the owner {} may do this, not {who}", t.dao));
    }
    t.exec(t.dao, json!({"update_owner": {"owner": new}})).unwrap();
    assert_eq!(t.owner(), json!(new));
    let ev = t.host.take_events();
    assert_eq!(ev[0].kind, "owner_updated");
    assert_eq!(ev[0].attr("old"), Some(t.dao.to_string().as_str()));
    assert_eq!(ev[0].attr("new"), Some(new.to_string().as_str()));
    // The old owner lost every power.
    let not_owner = format!("unauthorized: only the owner {new} may do this, not {}", t.dao);
    assert_eq!(t.exec(t.dao, json!({"update_issuers": {"add": [i3]}})).unwrap_err(), not_owner);
    assert_eq!(t.exec(t.dao, json!({"update_owner": {"owner": t.dao}})).unwrap_err(), not_owner);
    assert!(t.revoke(t.dao, t.alice).unwrap_err().starts_with("unauthorized: only the issuer"));
    // The new one has them.
    t.exec(new, json!({"update_issuers": {"add": [i3]}})).unwrap();
    t.revoke(new, t.alice).unwrap();
    assert_eq!(t.identity(t.alice), unbound());
}

#[test]
fn list_pages_and_limit_bound() {
    let t = setup();
    let mut people = addrs(7, "p");
    for (i, p) in people.iter().enumerate() {
        t.attest(if i % 2 == 0 { t.i1 } else { t.i2 }, *p, &format!("id-{i}")).unwrap();
    }
    people.sort_by_key(|a| *a.as_bytes());
    let page = |start_after: Option<Addr>, limit: Option<u32>| -> Vec<Value> {
        let v = t.q(json!({"list": {"start_after": start_after, "limit": limit}})).unwrap();
        v["identities"].as_array().unwrap().iter().map(|e| e["address"].clone()).collect()
    };
    let all: Vec<Value> = people.iter().map(|p| json!(p)).collect();
    assert_eq!(page(None, None), all);
    assert_eq!(page(None, Some(2)), all[..2]);
    assert_eq!(page(Some(people[1]), Some(3)), all[2..5]);
    assert_eq!(page(Some(people[6]), None), Vec::<Value>::new());
    assert_eq!(page(None, Some(0)), Vec::<Value>::new());
    assert_eq!(page(None, Some(MAX_LIMIT)), all);
    let err = t.q(json!({"list": {"limit": MAX_LIMIT + 1}})).unwrap_err();
    assert_eq!(err, "limit must be at most 100, got 101");
    // Entries carry the whole binding.
    let v = t.q(json!({"list": {"limit": 1}})).unwrap();
    let e = &v["identities"][0];
    assert_eq!(t.identity(people[0]), json!({"identity": e["identity"], "issuer": e["issuer"], "since_height": 10}));
    // Revoked ones leave the list.
    t.revoke(t.dao, people[0]).unwrap();
    assert_eq!(page(None, None), all[1..]);
}

#[test]
fn default_list_page_is_bounded() {
    let t = setup();
    for (i, p) in addrs(DEFAULT_LIMIT as usize + 5, "p").iter().enumerate() {
        t.attest(t.i1, *p, &format!("id-{i}")).unwrap();
    }
    let v = t.q(json!({"list": {}})).unwrap();
    assert_eq!(v["identities"].as_array().unwrap().len(), DEFAULT_LIMIT as usize);
}

#[test]
fn malformed_messages_are_refused() {
    let t = setup();
    for (msg, want) in [
        (json!({"attest": {"address": t.alice}}), "invalid message: missing field `identity`"),
        (
            json!({"attest": {"address": t.alice, "identity": "a", "issuer": t.i2}}),
            "invalid message: unknown field `issuer`",
        ),
        (json!({"attest": {"address": "agora1nope", "identity": "a"}}), "invalid message: invalid address"),
        (json!({"revoke": {}}), "invalid message: missing field `address`"),
        (json!({"update_owner": {}}), "invalid message: missing field `owner`"),
        (json!({"burn": {}}), "invalid message: unknown variant `burn`"),
    ] {
        let err = t.exec(t.i1, msg.clone()).unwrap_err();
        assert!(err.starts_with(want), "{msg}: {err}");
    }
    for (msg, want) in [
        (json!({"identity_at": {"address": t.alice}}), "invalid message: missing field `height`"),
        (json!({"identity_at": {"address": t.alice, "height": -1}}), "invalid message: invalid value"),
        (json!({"list": {"limit": 1, "offset": 2}}), "invalid message: unknown field `offset`"),
        (json!({"config": {}}), "invalid message: unknown variant `config`"),
    ] {
        let err = t.q(msg.clone()).unwrap_err();
        assert!(err.starts_with(want), "{msg}: {err}");
    }
    assert!(t.host.take_events().is_empty());
}
