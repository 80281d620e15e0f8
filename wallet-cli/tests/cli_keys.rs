//! Command-line tests that need no node: the keyring commands, argument errors
//! and an unreachable node.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Env, PASSWORD, closed_port, stderr, stdout};

#[test]
fn keys_new_list_show_recover_export() {
    let env = Env::new();

    // keys new -o json
    let alice = env.new_key("alice");
    assert_eq!(alice["name"], "alice");
    let address = alice["address"].as_str().unwrap().to_owned();
    assert!(address.starts_with("agora1"), "{address}");
    let pk = alice["public_key"].as_str().unwrap().to_owned();
    assert_eq!(pk.len(), 64);
    assert_eq!(alice["derivation_path"], "m/44'/7777'/0'/0'/0'");
    let mnemonic = alice["mnemonic"].as_str().unwrap().to_owned();
    assert_eq!(mnemonic.split(' ').count(), 24);
    let file = env.keyring().join("alice.json");
    assert_eq!(alice["keystore"].as_str().unwrap(), file.to_str().unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // The file holds the address and public key but not the mnemonic.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&address) && text.contains(&pk) && !text.contains(&mnemonic));
    assert!(text.contains("argon2id") && text.contains("xchacha20poly1305"));

    // keys new refuses to overwrite.
    let out = env.run(&["keys", "new", "alice"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text, "the key is untouched");

    // keys recover from the environment gives the same key.
    let out = env.cmd(&["keys", "recover", "bob", "-o", "json"]).env("AGORA_MNEMONIC", &mnemonic).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let bob: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(bob["address"], address.as_str());
    assert_eq!(bob["public_key"], pk.as_str());
    assert!(bob.get("mnemonic").is_none());

    // keys recover from a file (messy whitespace and capitals are fine).
    let mfile = env.dir.path().join("words.txt");
    std::fs::write(&mfile, format!("  {}\n", mnemonic.to_uppercase().replace(' ', "\n"))).unwrap();
    let carol = env.json(&["keys", "recover", "carol", "--mnemonic-file", mfile.to_str().unwrap(), "-o", "json"]);
    assert_eq!(carol["address"], address.as_str());

    // keys list -o json
    let list = env.json(&["keys", "list", "-o", "json"]);
    let names: Vec<_> = list.as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
    assert_eq!(list[0]["address"], address.as_str());
    assert_eq!(list[0]["public_key"], pk.as_str());
    // keys list (text)
    let out = env.run(&["keys", "list"]);
    assert!(out.status.success());
    assert!(stdout(&out).lines().any(|l| l.starts_with("alice") && l.ends_with(&address)), "{}", stdout(&out));

    // keys show, with no password available at all.
    let show = env.cmd(&["keys", "show", "alice", "-o", "json"]).env_remove("AGORA_PASSWORD").output().unwrap();
    assert!(show.status.success(), "{}", stderr(&show));
    let show: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(show["address"], address.as_str());
    assert_eq!(show["public_key"], pk.as_str());
    let out = env.run(&["keys", "show", "alice", "--address"]);
    assert_eq!(stdout(&out).trim(), address);
    let out = env.run(&["keys", "show", "alice"]);
    assert!(stdout(&out).contains(&pk) && stdout(&out).contains("m/44'/7777'/0'/0'/0'"));
    let out = env.run(&["keys", "show", "nobody"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no key named `nobody`"), "{}", stderr(&out));

    // keys export --mnemonic: the password from a file, a warning on stderr.
    let pfile = env.dir.path().join("pw");
    std::fs::write(&pfile, format!("{PASSWORD}\n")).unwrap();
    let out = env
        .cmd(&["keys", "export", "alice", "--mnemonic", "--password-file", pfile.to_str().unwrap()])
        .env_remove("AGORA_PASSWORD")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), mnemonic);
    assert!(stderr(&out).contains("WARNING"), "{}", stderr(&out));
    let exported = env.json(&["keys", "export", "bob", "--mnemonic", "-o", "json"]);
    assert_eq!(exported["mnemonic"], mnemonic.as_str());

    // Wrong password.
    let out = env.cmd(&["keys", "export", "alice", "--mnemonic"]).env("AGORA_PASSWORD", "nope").output().unwrap();
    assert!(!out.status.success());
    assert!(stdout(&out).is_empty(), "nothing secret is printed");
    assert!(stderr(&out).contains("wrong password or corrupted keystore"), "{}", stderr(&out));
}

#[test]
fn keys_export_import_delete() {
    let env = Env::new();
    let alice = env.new_key("alice");
    let mnemonic = alice["mnemonic"].as_str().unwrap().to_owned();
    let address = alice["address"].as_str().unwrap().to_owned();

    // Plain export: the encrypted keystore, no secret in the clear, no password asked.
    let out = env.cmd(&["keys", "export", "alice"]).env_remove("AGORA_PASSWORD").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains(&mnemonic), "the mnemonic is not in the export");
    let ks: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!((ks["address"].as_str(), ks["kdf"]["algorithm"].as_str()), (Some(address.as_str()), Some("argon2id")));
    let file = env.dir.path().join("alice-export.json");
    std::fs::write(&file, &text).unwrap();

    // Import it under another name (its password opens it); never over a key.
    let f = file.to_str().unwrap();
    let imported = env.json(&["keys", "import", "alice2", "--keystore", f, "-o", "json"]);
    assert_eq!((imported["name"].as_str(), imported["address"].as_str()), (Some("alice2"), Some(address.as_str())));
    let out = env.run(&["keys", "import", "alice", "--keystore", f]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    let out = env.cmd(&["keys", "import", "alice3", "--keystore", f]).env("AGORA_PASSWORD", "nope").output().unwrap();
    assert!(stderr(&out).contains("wrong password"), "{}", stderr(&out));
    assert!(!env.keyring().join("alice3.json").exists(), "a keystore that does not open is not imported");
    let junk = env.dir.path().join("junk.json");
    std::fs::write(&junk, "{\"version\": 1}").unwrap();
    let out = env.run(&["keys", "import", "junk", "--keystore", junk.to_str().unwrap()]);
    assert!(stderr(&out).contains("not a valid keystore"), "{}", stderr(&out));

    // Import a mnemonic from stdin.
    let import_stdin = |name: &str, input: &str| {
        let mut child = env
            .cmd(&["keys", "import", name, "-o", "json"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = import_stdin("from-stdin", &format!("{mnemonic}\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["address"], address.as_str());
    assert!(!stdout(&out).contains(&mnemonic), "the mnemonic is not echoed");
    let out = import_stdin("empty", "");
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(e["error"]["message"].as_str().unwrap().contains("nothing on stdin"), "{e}");
    let out = import_stdin("bad", "not a mnemonic at all");
    assert!(!out.status.success() && !env.keyring().join("bad.json").exists());

    // Delete: refused without confirmation (stdin is empty), done with --yes or `yes`.
    let out = env.run(&["keys", "delete", "alice2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not deleted"), "{}", stderr(&out));
    assert!(env.keyring().join("alice2.json").exists());
    let mut child = env
        .cmd(&["keys", "delete", "alice2"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"yes\n").unwrap();
    }
    assert!(child.wait_with_output().unwrap().status.success());
    assert!(!env.keyring().join("alice2.json").exists());
    let out = env.json(&["keys", "delete", "from-stdin", "--yes", "-o", "json"]);
    assert_eq!(out["deleted"], "from-stdin");
    let out = env.run(&["keys", "delete", "from-stdin", "--yes", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((err["error"]["code"].as_u64(), err["error"]["kind"].as_str()), (Some(1), Some("key_not_found")));
    assert!(env.keyring().join("alice.json").exists(), "other keys stay");
}

#[test]
fn keys_new_text_output_shows_address_and_mnemonic() {
    let env = Env::new();
    let out = env.run(&["keys", "new", "dave"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let address_line = text.lines().find(|l| l.starts_with("address:")).unwrap();
    assert!(address_line.contains("agora1"));
    let words = text.lines().skip_while(|l| !l.starts_with("mnemonic:")).nth(1).unwrap();
    assert_eq!(words.split(' ').count(), 24);
    assert!(stderr(&out).contains("keep it secret"));
}

#[test]
fn recover_rejects_a_bad_mnemonic() {
    let env = Env::new();
    let bad = ["abandon"; 24].join(" ");
    let out = env.cmd(&["keys", "recover", "x"]).env("AGORA_MNEMONIC", &bad).output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("invalid mnemonic: checksum mismatch"), "{}", stderr(&out));
    let out = env.cmd(&["keys", "recover", "x"]).env("AGORA_MNEMONIC", "abandon zzz about").output().unwrap();
    assert!(stderr(&out).contains("invalid mnemonic"), "{}", stderr(&out));
    assert!(!env.keyring().join("x.json").exists());
}

#[test]
fn passwords_are_required_and_checked() {
    let env = Env::new();
    // No password source and no terminal: a clear error, no key written.
    let out = env.cmd(&["keys", "new", "eve"]).env_remove("AGORA_PASSWORD").output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("AGORA_PASSWORD"), "{}", stderr(&out));
    assert!(!env.keyring().join("eve.json").exists());
    // Empty passwords are refused.
    let out = env.cmd(&["keys", "new", "eve"]).env("AGORA_PASSWORD", "").output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("must not be empty"), "{}", stderr(&out));
    // Invalid names are refused.
    let out = env.run(&["keys", "new", "../evil"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("invalid key name"), "{}", stderr(&out));
}

#[test]
fn amounts_are_validated() {
    let env = Env::new();
    for (amount, expected) in [
        ("-5", "negative"),
        ("1.5", "fraction"),
        ("340282366920938463463374607431768211456", "too large"),
        ("12abc", "digits only"),
    ] {
        let out = env.run(&["transfer", "--from", "a", "--to", "b", "--amount", amount]);
        assert_eq!(out.status.code(), Some(2), "usage error for {amount}");
        assert!(stderr(&out).contains(expected), "{amount}: {}", stderr(&out));
    }
    env.new_key("alice");
    let out = env.run(&["transfer", "--from", "alice", "--to", "alice", "--amount", "0"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("greater than zero"), "{}", stderr(&out));
}

#[test]
fn transfer_to_an_unreachable_node_fails_clearly() {
    let env = Env::new();
    let alice = env.new_key("alice");
    let url = format!("http://127.0.0.1:{}", closed_port());
    let out = env.run(&[
        "transfer",
        "--node",
        &url,
        "--from",
        "alice",
        "--to",
        alice["address"].as_str().unwrap(),
        "--amount",
        "10",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(&format!("cannot reach node at {url}")), "{err}");
    assert!(stdout(&out).is_empty());

    // Same for queries, with the node from the environment.
    let out = env.cmd(&["balance", "alice"]).env("AGORA_NODE", &url).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot reach node at"), "{}", stderr(&out));
}

#[test]
fn recipients_must_be_addresses_or_keys() {
    let env = Env::new();
    env.new_key("alice");
    let url = format!("http://127.0.0.1:{}", closed_port());
    let out = env.run(&["balance", "--node", &url, "nobody"]);
    assert!(stderr(&out).contains("neither an address"), "{}", stderr(&out));
    let out = env.run(&["balance", "--node", &url, "agora1qqqq"]);
    assert!(stderr(&out).contains("invalid address"), "{}", stderr(&out));
    let out = env.run(&["balance", "--node", "localhost:1", "alice"]);
    assert!(stderr(&out).contains("invalid node URL"), "{}", stderr(&out));
}

#[test]
fn a_server_that_is_not_a_node_is_reported() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    let env = Env::new();
    let out = env.run(&["status", "--node", &url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(&format!("the server at {url} answered HTTP 404")), "{}", stderr(&out));
}
