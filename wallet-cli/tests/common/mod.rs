//! Helpers shared by the command-line tests: run the built `agora` binary in
//! an isolated environment (temporary keyring, cheap KDF, password from the
//! environment), and a mock node speaking the JSON-RPC API of docs/rpc.md.
#![allow(dead_code, clippy::unwrap_used)]

pub mod mock_node;
pub mod mock_staking;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

pub const PASSWORD: &str = "test password";

/// A temporary home with its own keyring.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env { dir: tempfile::tempdir().unwrap() }
    }

    pub fn keyring(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    /// `agora ARGS…` with a clean environment: only what the test sets counts.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_agora"));
        c.args(args)
            .env("HOME", self.dir.path())
            .env("AGORA_KEYRING_DIR", self.keyring())
            .env("AGORA_KDF_TEST_COST", "low")
            .env("AGORA_PASSWORD", PASSWORD)
            .env_remove("AGORA_NODE")
            .env_remove("AGORA_CHAIN_ID")
            .env_remove("AGORA_MNEMONIC")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs and expects success; returns stdout parsed as JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert!(out.status.success(), "agora {args:?} failed: {}", stderr(&out));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("agora {args:?}: stdout is not one JSON document ({e}): {}", stdout(&out)))
    }

    /// Creates key `name` and returns `keys new -o json`'s document.
    pub fn new_key(&self, name: &str) -> serde_json::Value {
        self.json(&["keys", "new", name, "-o", "json"])
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A local port with nothing listening on it.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
