//! Exact integer helpers for reward and slashing arithmetic: 256-bit
//! intermediates so `a × b / c` never overflows when the result fits.

use ethnum::U256;

/// `floor(a × b / c)`; `c` must be positive. Saturates at `u128::MAX` (only
/// reachable when the true result does not fit, which callers rule out).
pub fn mul_div_floor(a: u128, b: u128, c: u128) -> u128 {
    assert!(c > 0, "mul_div by zero");
    let r = U256::from(a) * U256::from(b) / U256::from(c);
    u128::try_from(r).unwrap_or(u128::MAX)
}

/// `ceil(a × b / c)`; `c` must be positive.
pub fn mul_div_ceil(a: u128, b: u128, c: u128) -> u128 {
    assert!(c > 0, "mul_div by zero");
    let p = U256::from(a) * U256::from(b);
    let c = U256::from(c);
    let q = p / c;
    let r = if p % c == U256::ZERO { q } else { q + U256::ONE };
    u128::try_from(r).unwrap_or(u128::MAX)
}

/// Reward-per-share accumulators are scaled by this (1e18), so a validator
/// with 10^30 shares still accrues a reward of one unit.
pub const ACC_SCALE: u128 = 1_000_000_000_000_000_000;

/// An accumulator value (`Σ reward × ACC_SCALE / shares`), 256 bits wide,
/// borsh-encoded as 32 little-endian bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Acc(pub U256);

impl borsh::BorshSerialize for Acc {
    fn serialize<W: std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        w.write_all(&self.0.to_le_bytes())
    }
}

impl borsh::BorshDeserialize for Acc {
    fn deserialize_reader<R: std::io::Read>(r: &mut R) -> std::io::Result<Self> {
        let mut b = [0u8; 32];
        r.read_exact(&mut b)?;
        Ok(Acc(U256::from_le_bytes(b)))
    }
}

impl Acc {
    /// `self + floor(reward × ACC_SCALE / shares)`.
    pub fn add_reward(self, reward: u128, shares: u128) -> Acc {
        if shares == 0 {
            return self;
        }
        Acc(self.0 + U256::from(reward) * U256::from(ACC_SCALE) / U256::from(shares))
    }

    /// `floor(shares × (self − since) / ACC_SCALE)`: what `shares` earned.
    pub fn earned(self, since: Acc, shares: u128) -> u128 {
        let d = self.0.saturating_sub(since.0);
        u128::try_from(U256::from(shares) * d / U256::from(ACC_SCALE)).unwrap_or(u128::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_div_is_exact_past_u128() {
        assert_eq!(mul_div_floor(u128::MAX, 3, 3), u128::MAX);
        assert_eq!(mul_div_floor(10, 1, 3), 3);
        assert_eq!(mul_div_ceil(10, 1, 3), 4);
        assert_eq!(mul_div_ceil(9, 1, 3), 3);
    }

    #[test]
    fn accumulator_never_pays_more_than_it_got() {
        let acc = Acc::default().add_reward(1_000, 3);
        assert_eq!(acc.earned(Acc::default(), 1) * 3, 999);
        assert_eq!(acc.earned(Acc::default(), 3), 999);
    }
}
