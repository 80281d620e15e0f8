//! Creating a testnet on disk: the directory, each node's `agorad init`,
//! dev accounts through the wallet, the shared genesis and the patched configs.

use super::*;

pub(crate) fn check_binary(path: &Path) -> Result<()> {
    ensure!(path.is_file(), "{} does not exist (build it, or point the testnet at the right binary)", path.display());
    Ok(())
}

/// Makes sure `dir` can hold a new testnet; returns whether it was created.
pub(crate) fn prepare_dir(dir: &Path) -> Result<bool> {
    if Testnet::exists(dir) {
        bail!("{} already holds a testnet (open it instead; `testnet reset` deletes it)", dir.display());
    }
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
        if entries.next().is_some() {
            if dir.join(state::CREATING_MARKER).exists() {
                bail!(
                    "{} holds a half-created testnet (an earlier create was interrupted); delete it (`testnet reset`)",
                    dir.display()
                );
            }
            bail!("{} exists and is not empty; choose another directory for the testnet", dir.display());
        }
        return Ok(false);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(true)
}

pub(crate) fn clear_dir(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            let _ = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
        }
    }
}

/// Runs a command to completion; its stdout, trimmed, or an error with its stderr.
pub(crate) fn run_capture(cmd: &mut Command) -> Result<String> {
    let shown = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let out = cmd.stdin(Stdio::null()).process_group(0).output().with_context(|| format!("running `{shown}`"))?;
    if !out.status.success() {
        bail!("`{shown}` failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    String::from_utf8(out.stdout)
        .map(|s| s.trim().to_owned())
        .map_err(|_| anyhow!("`{shown}` printed something that is not UTF-8"))
}

/// `agorad init` a home, then read its validator key and peer id.
#[allow(clippy::too_many_arguments)]
pub(crate) fn init_node(
    agorad: &Path,
    home: &Path,
    chain_id: &str,
    moniker: &str,
    block_interval: Duration,
    rpc_port: u16,
    p2p_port: u16,
    metrics_port: u16,
) -> Result<(PublicKey, String)> {
    run_capture(
        Command::new(agorad)
            .arg("init")
            .arg("--home")
            .arg(home)
            .args(["--chain-id", chain_id, "--moniker", moniker])
            .args(["--block-interval", &setup::format_duration(block_interval)])
            .args(["--rpc-listen", &format!("127.0.0.1:{rpc_port}")])
            .args(["--p2p-listen", &format!("/ip4/127.0.0.1/tcp/{p2p_port}")])
            .args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}")]),
    )
    .map_err(|e| too_old(e, "--metrics-listen"))?;
    let key = run_capture(Command::new(agorad).arg("show-validator").arg("--home").arg(home))?;
    let key: PublicKey = key
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .parse()
        .map_err(|e| anyhow!("agorad show-validator printed `{key}`, not a public key: {e}"))?;
    let node_id = run_capture(Command::new(agorad).arg("show-node-id").arg("--home").arg(home))
        .map_err(|e| too_old(e, "show-node-id"))?;
    let node_id = node_id.lines().last().unwrap_or_default().trim().to_owned();
    ensure!(
        !node_id.is_empty() && !node_id.contains(char::is_whitespace),
        "agorad show-node-id printed `{node_id}`, not a peer id"
    );
    Ok((key, node_id))
}

/// Adds a hint to an error that shows `agorad` lacks `feature`.
pub(crate) fn too_old(e: anyhow::Error, feature: &str) -> anyhow::Error {
    // clap quotes the unknown argument or subcommand: `unexpected argument '--p2p-listen' found`.
    if format!("{e:#}").contains(&format!("'{feature}'")) {
        e.context(format!("this agorad has no `{feature}`: it predates multi-validator support (rebuild it)"))
    } else {
        e
    }
}

pub(crate) fn patch_config_file(home: &Path, peers: &[String]) -> Result<()> {
    let path = home.join("config.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let patched = setup::patch_config(&text, peers).with_context(|| format!("patching {}", path.display()))?;
    std::fs::write(&path, patched).with_context(|| format!("writing {}", path.display()))
}

/// Sets `consensus.client_tag` in a node's `config.toml`.
fn set_client_tag(home: &Path, tag: &str) -> Result<()> {
    let path = home.join("config.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut table: toml::Table = text.parse().with_context(|| format!("{} is not valid TOML", path.display()))?;
    let consensus = table.entry("consensus").or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let toml::Value::Table(consensus) = consensus else {
        anyhow::bail!("{}: `consensus` is not a table", path.display());
    };
    consensus.insert("client_tag".into(), toml::Value::String(tag.to_owned()));
    let body = toml::to_string(&table).context("writing config.toml")?;
    std::fs::write(&path, body).with_context(|| format!("writing {}", path.display()))
}

/// `agora keys new NAME` in the testnet keyring: (address, mnemonic).
pub(crate) fn new_dev_account(agora: &Path, keyring: &Path, name: &str) -> Result<DevAccount> {
    let out = run_capture(
        Command::new(agora)
            .arg("--keyring-dir")
            .arg(keyring)
            .args(["-o", "json", "keys", "new", name])
            .env("AGORA_PASSWORD", DEV_PASSWORD),
    )?;
    let v: Value = serde_json::from_str(&out).map_err(|e| anyhow!("agora keys new printed no JSON ({e}): {out}"))?;
    let address = v["address"]
        .as_str()
        .ok_or_else(|| anyhow!("agora keys new: no address in {v}"))?
        .parse()
        .map_err(|e| anyhow!("agora keys new: bad address: {e}"))?;
    let mnemonic = v["mnemonic"].as_str().ok_or_else(|| anyhow!("agora keys new: no mnemonic"))?.to_owned();
    Ok(DevAccount { name: name.to_owned(), address, mnemonic })
}

/// `agora keys recover NAME` in the testnet keyring, with `mnemonic`; checks
/// that the wallet derived `expected`.
pub(crate) fn import_operator_key(
    agora: &Path,
    keyring: &Path,
    name: &str,
    mnemonic: &str,
    expected: ledger::Address,
) -> Result<()> {
    let out = run_capture(
        Command::new(agora)
            .arg("--keyring-dir")
            .arg(keyring)
            .args(["-o", "json", "keys", "recover", name])
            .env("AGORA_PASSWORD", DEV_PASSWORD)
            .env("AGORA_MNEMONIC", mnemonic),
    )?;
    let v: Value =
        serde_json::from_str(&out).map_err(|e| anyhow!("agora keys recover printed no JSON ({e}): {out}"))?;
    let address: ledger::Address = v["address"]
        .as_str()
        .ok_or_else(|| anyhow!("agora keys recover: no address in {v}"))?
        .parse()
        .map_err(|e| anyhow!("agora keys recover: bad address: {e}"))?;
    ensure!(
        address == expected,
        "the wallet derived {address} for {name}, not the genesis operator {expected} (does it use another derivation path?)"
    );
    Ok(())
}

/// Everything `create` writes, in an existing empty directory.
pub(crate) fn build(dir: &Path, spec: &Spec, powers: &[u64]) -> Result<State> {
    let created = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let n = powers.len();
    let ports = setup::free_ports(3 * n)?;
    let keyring = dir.join("keys");
    let mut nodes = Vec::with_capacity(n);
    let mut validators = Vec::with_capacity(n);
    for (i, power) in powers.iter().enumerate() {
        let name = format!("node{i}");
        let (rpc_port, p2p_port, metrics_port) = (ports[3 * i], ports[3 * i + 1], ports[3 * i + 2]);
        let (key, node_id) = init_node(
            &spec.agorad,
            &dir.join(&name),
            &spec.chain_id,
            &name,
            spec.block_interval,
            rpc_port,
            p2p_port,
            metrics_port,
        )
        .with_context(|| format!("initialising {name}"))?;
        let operator = setup::address_of(&setup::operator_key(&spec.chain_id, i));
        let operator_key = match &spec.agora {
            Some(agora) => {
                let key_name = setup::operator_key_name(i);
                let mnemonic = setup::operator_mnemonic(&spec.chain_id, i);
                import_operator_key(agora, &keyring, &key_name, &mnemonic, operator)
                    .with_context(|| format!("adding {name}'s operator key {key_name} with {}", agora.display()))?;
                Some(key_name)
            }
            None => None,
        };
        validators.push(setup::ValidatorEntry { name: name.clone(), public_key: key, operator, power: *power });
        nodes.push(NodeState {
            name: name.clone(),
            kind: NodeKind::Validator,
            home: PathBuf::from(&name),
            rpc_port,
            p2p_port,
            metrics_port,
            node_id,
            validator_key: key.to_string(),
            power: *power,
            pid: None,
            operator: Some(operator),
            operator_key,
            byzantine_at: spec.byzantine.filter(|b| b.node == i).map(|b| b.height),
        });
    }

    let mut dev_accounts = Vec::new();
    if let Some(agora) = &spec.agora {
        for k in 0..spec.dev_accounts {
            dev_accounts.push(
                new_dev_account(agora, &keyring, &format!("dev{k}"))
                    .with_context(|| format!("creating dev account dev{k} with {}", agora.display()))?,
            );
        }
    }
    let mut accounts: Vec<(ledger::Address, u128)> =
        dev_accounts.iter().map(|d| (d.address, setup::DEV_ACCOUNT_BALANCE)).collect();
    for v in &validators {
        accounts.push((v.operator, setup::OPERATOR_BALANCE));
    }
    for k in setup::load_keys(&spec.chain_id, spec.load_accounts) {
        accounts.push((setup::address_of(&k), setup::LOAD_ACCOUNT_BALANCE));
    }
    // The ready DAO's deployer, and the DAO (not yet created) as the chain's governance.
    accounts.push((crate::dao::deployer(&spec.chain_id), crate::dao::DEPLOYER_BALANCE));
    let mut genesis =
        setup::build_genesis(&spec.chain_id, &created, spec.block_interval, &spec.staking, &validators, &accounts)?;
    genesis.params.governance = Some(crate::dao::dao_address(&spec.chain_id));
    let genesis_json = genesis.to_json_pretty();
    std::fs::write(dir.join("genesis.json"), &genesis_json).context("writing genesis.json")?;
    for node in &nodes {
        let home = dir.join(&node.home);
        std::fs::write(home.join("genesis.json"), &genesis_json)
            .with_context(|| format!("writing {}/genesis.json", home.display()))?;
        let peers: Vec<String> = nodes.iter().filter(|o| o.name != node.name).map(NodeState::multiaddr).collect();
        patch_config_file(&home, &peers)?;
        // A validator that declares a patched build names it in the headers it proposes.
        let declared = genesis.validators.iter().find(|v| v.metadata.moniker == node.name);
        if let Some(tag) = declared.and_then(|v| v.metadata.client_version.split_once('+')).map(|(_, t)| t) {
            set_client_tag(&home, tag)?;
        }
    }
    Ok(State {
        version: state::STATE_VERSION,
        chain_id: spec.chain_id.clone(),
        created,
        block_interval_ms: u64::try_from(spec.block_interval.as_millis()).unwrap_or(u64::MAX),
        agorad: spec.agorad.clone(),
        agora: spec.agora.clone(),
        load_accounts: spec.load_accounts,
        dev_accounts,
        nodes,
    })
}

/// Writes the example contracts (built by `contract-artifacts`) into
/// `DIR/contracts/NAME.wasm` and returns that directory. `testnet up` calls
/// it on every start, so the files match the binaries in use.
pub fn write_example_contracts(dir: &Path) -> Result<PathBuf> {
    let out = dir.join("contracts");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    for (name, wasm) in contract_artifacts::all() {
        let path = out.join(format!("{name}.wasm"));
        std::fs::write(&path, wasm).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(out)
}

#[cfg(test)]
mod contract_files {
    #[test]
    fn example_contracts_are_written_as_wasm_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = super::write_example_contracts(dir.path()).expect("write");
        for name in ["counter", "token", "escrow", "probe"] {
            let bytes = std::fs::read(out.join(format!("{name}.wasm"))).expect("file");
            assert!(bytes.starts_with(b"\0asm"), "{name}.wasm is not wasm");
        }
    }
}
