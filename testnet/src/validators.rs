//! Validators as staking sees them: operator accounts, and byzantine
//! (double-signing) starts.

use super::*;
use ledger::Address;

impl Testnet {
    /// Node `i`'s operator account (`None` for full nodes).
    pub fn operator(&self, i: usize) -> Option<Address> {
        self.node(i).operator
    }

    /// Node `i`'s operator key ([`operator_key`]`(chain_id, i)`), if node `i`
    /// is a validator with that operator. Signs its unjail and edit transactions.
    pub fn operator_key(&self, i: usize) -> Option<SigningKey> {
        let op = self.node(i).operator?;
        let key = operator_key(&self.state.chain_id, i);
        (setup::address_of(&key) == op).then_some(key)
    }

    /// The height node `i` double-signs at, if it is (to be) started byzantine.
    pub fn byzantine_at(&self, i: usize) -> Option<u64> {
        self.node(i).byzantine_at
    }

    /// Records how node `i` starts from now on: byzantine, double-signing at
    /// `height` (`agorad start --byzantine-double-sign-at HEIGHT`), or honest
    /// (`None`). Does not touch a running process: see
    /// [`restart_byzantine`](Self::restart_byzantine) and [`restart`](Self::restart).
    pub fn set_byzantine(&mut self, i: usize, height: Option<u64>) -> Result<()> {
        self.check_index(i)?;
        self.refresh()?;
        if let Some(h) = height {
            ensure!(
                self.node(i).kind == NodeKind::Validator,
                "{} is a full node: only a validator signs votes",
                self.name(i)
            );
            ensure!(h >= 1, "the double-sign height must be at least 1");
        }
        if self.node(i).byzantine_at == height {
            return Ok(());
        }
        let n = self.state.nodes.get_mut(i).ok_or_else(|| anyhow!("node {i} vanished from the state file"))?;
        n.byzantine_at = height;
        self.state.save(&self.dir)
    }

    /// Stops validator `i` and starts it byzantine: at `height` it signs and
    /// broadcasts two conflicting prevotes. It stays byzantine across
    /// [`start`](Self::start)s until a plain [`restart`](Self::restart).
    pub fn restart_byzantine(&mut self, i: usize, height: u64) -> Result<()> {
        self.check_index(i)?;
        ensure!(
            self.node(i).kind == NodeKind::Validator,
            "{} is a full node: only a validator can double-sign",
            self.name(i)
        );
        ensure!(height >= 1, "the double-sign height must be at least 1");
        self.stop(i)?;
        self.set_byzantine(i, Some(height))?;
        self.start(i)
    }

    /// The chain's height: the highest `latest_height` any running node reports.
    pub fn chain_height(&self) -> Result<u64> {
        (0..self.nodes())
            .filter(|&i| self.is_running(i))
            .filter_map(|i| self.height(i).ok())
            .max()
            .ok_or_else(|| anyhow!("no running node answers agora_status"))
    }
}
