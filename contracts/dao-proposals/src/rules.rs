//! Voting rules beyond one token, one vote, and the pure arithmetic behind
//! them: vote weights (token, quadratic, conviction), the treasury outflow
//! cap, and the concentration report of a proposal's yes votes.
//!
//! Everything here is exact integer arithmetic: no floats, no rounding but
//! the documented floors.

use agora_sdk::{ContractError, Uint128, ensure};
use dao_types::{FRACTION_ONE, Fraction};
use serde::{Deserialize, Deserializer, Serialize};

use crate::json::{Obj, pick};

/// Highest conviction: a lock of 2^(6−1) = 32 periods for 6× weight
/// (Polkadot OpenGov's scale).
pub const MAX_CONVICTION: u8 = 6;
/// Longest conviction period: 21 days, so the longest lock (32 periods after
/// a voting span of at most 30 days, 702 days) stays within the 2 years the
/// token voting module accepts — a conviction-6 vote can always lock.
pub const MAX_CONVICTION_PERIOD_MS: u64 = 21 * 24 * 3600 * 1000;
/// Longest look-back of the concentration report's "acquired shortly before
/// the snapshot" (it must stay within the chain's stake history).
pub const MAX_ACQUISITION_WINDOW_BLOCKS: u64 = 1_000_000;
/// Ballots the concentration report reads at most (a query's bound).
pub const MAX_REPORT_VOTERS: usize = 2_000;

/// How a ballot's power becomes weight.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VotingRule {
    /// Weight = power (one token, one vote).
    #[default]
    Token,
    /// Weight = ⌊√power⌋ of the power committed, for voters holding an
    /// identity of the configured registry at the snapshot; delegations do
    /// not apply (each identity votes its own power).
    Quadratic,
    /// Weight = power × conviction (1..=6, the committed power locked for
    /// 2^(conviction−1) periods after voting ends), or ⌊power / 10⌋ with
    /// conviction 0 (no lock). Power delegated to a voter is not locked and
    /// counts ⌊/10⌋.
    Conviction,
}

impl VotingRule {
    pub fn as_str(self) -> &'static str {
        match self {
            VotingRule::Token => "token",
            VotingRule::Quadratic => "quadratic",
            VotingRule::Conviction => "conviction",
        }
    }
}

impl<'de> Deserialize<'de> for VotingRule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<VotingRule, D::Error> {
        let s = String::deserialize(d)?;
        pick(&s, &[VotingRule::Token, VotingRule::Quadratic, VotingRule::Conviction], VotingRule::as_str)
            .map_err(|e| serde::de::Error::custom(e.message()))
    }
}

/// ⌊√n⌋, exactly (Newton's method on integers).
pub fn isqrt(n: u128) -> u128 {
    if n < 2 {
        return n;
    }
    // Start above the root: 2^⌈bits/2⌉.
    let mut x = 1u128 << (128 - n.leading_zeros()).div_ceil(2);
    loop {
        let y = (x + n / x) / 2;
        if y >= x {
            return x;
        }
        x = y;
    }
}

/// The weight of a ballot: `own` power committed by the voter, `delegated`
/// power of delegators who did not vote themselves.
pub fn weight(rule: VotingRule, own: u128, delegated: u128, conviction: u8) -> u128 {
    match rule {
        VotingRule::Token => own.saturating_add(delegated),
        VotingRule::Quadratic => isqrt(own),
        VotingRule::Conviction => {
            let mine = match conviction {
                0 => own / 10,
                k => own.saturating_mul(u128::from(k)),
            };
            mine.saturating_add(delegated / 10)
        }
    }
}

/// How long a conviction-`k` vote locks its power after voting ends:
/// 2^(k−1) periods (`k` = 0: no lock).
pub fn lock_ms(conviction: u8, period_ms: u64) -> u64 {
    match conviction {
        0 => 0,
        k => period_ms.saturating_mul(1u64 << (k - 1)),
    }
}

/// A per-period cap on what the DAO's treasury pays out through this module.
/// A proposal paying out more than `amount` by itself needs `threshold`
/// instead of the module's threshold to pass; and no proposal executes if the
/// period's outflow would exceed `amount`, unless its yes votes reached
/// `threshold`. Periods are fixed windows of block time (`⌊t / period_ms⌋`).
/// Outflow = native tokens sent (`transfer` amounts and `funds` of `execute`
/// and `instantiate`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutflowCap {
    pub amount: Uint128,
    pub period_ms: u64,
    pub threshold: Fraction,
}

impl OutflowCap {
    pub(crate) fn read(o: &Obj) -> Result<OutflowCap, ContractError> {
        o.only(&["amount", "period_ms", "threshold"])?;
        let c = OutflowCap { amount: o.req("amount")?, period_ms: o.req("period_ms")?, threshold: o.req("threshold")? };
        ensure!(c.period_ms > 0, "outflow_cap.period_ms must be positive");
        ensure!(c.threshold > Fraction::ZERO, "outflow_cap.threshold must be positive");
        Ok(c)
    }

    /// The period `now` falls in.
    pub fn period(&self, now: u64) -> u64 {
        now / self.period_ms
    }
}

impl<'de> Deserialize<'de> for OutflowCap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<OutflowCap, D::Error> {
        OutflowCap::read(&Obj::deserialize(d)?).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

/// Native tokens a proposal's messages pay out of the treasury.
pub fn outflow(msgs: &[Box<serde_json::value::RawValue>]) -> Result<u128, ContractError> {
    let mut total = 0u128;
    for m in msgs {
        let o = Obj::parse(m)?;
        let (name, body) = o.message()?;
        let paid: Uint128 = match name {
            "transfer" => body.req("amount")?,
            "execute" | "instantiate" => body.or_default("funds")?,
            _ => Uint128(0),
        };
        total = total.checked_add(paid.u128()).ok_or("outflow overflows")?;
    }
    Ok(total)
}

/// The concentration of a proposal's yes power (raw power, before weights).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Concentration {
    /// Yes voters read (at most [`MAX_REPORT_VOTERS`]).
    pub voters: u64,
    /// Whether more yes ballots exist than were read.
    pub truncated: bool,
    pub yes_power: Uint128,
    /// Fewest yes voters holding more than half of the yes power (0: none voted).
    pub nakamoto: u64,
    /// Gini coefficient of the yes voters' power (0: equal, → 1: one holds all),
    /// floored to millionths.
    pub gini: Fraction,
    /// Yes power acquired within the acquisition window before the snapshot.
    pub recent_power: Uint128,
    /// `recent_power / yes_power`, floored to millionths.
    pub recent_share: Fraction,
}

/// ⌊a × 10⁶ / b⌋ as a fraction (`b` = 0: 0; `a` > `b`: 1). Exact while
/// `a × 10⁶` fits 128 bits (2¹⁰⁸ ≈ 3 × 10³² units), else within 10⁻⁶.
pub fn ratio(a: u128, b: u128) -> Fraction {
    if b == 0 {
        return Fraction::ZERO;
    }
    let ppm = mul_div(a.min(b), u128::from(FRACTION_ONE), b);
    Fraction::from_millionths(ppm as u64).unwrap_or(Fraction::ONE)
}

/// ⌊a × m / b⌋ for `a` ≤ `b`, without overflow (long division on halves).
fn mul_div(a: u128, m: u128, b: u128) -> u128 {
    match a.checked_mul(m) {
        Some(p) => p / b,
        // a ≤ b, so the result ≤ m: divide b down until the product fits.
        None => {
            let shift = 128 - m.leading_zeros();
            let (a, b) = (a >> shift, (b >> shift).max(1));
            a.saturating_mul(m) / b
        }
    }
}

/// The report from the yes voters' `(power, recent)` pairs.
pub fn concentration(mut yes: Vec<(u128, u128)>, truncated: bool) -> Concentration {
    yes.sort_unstable_by_key(|&(p, _)| std::cmp::Reverse(p));
    let total: u128 = yes.iter().fold(0u128, |s, (p, _)| s.saturating_add(*p));
    let recent: u128 = yes.iter().fold(0u128, |s, (p, r)| s.saturating_add((*r).min(*p)));
    // Nakamoto: the largest holders first, until more than half.
    let (mut acc, mut nakamoto) = (0u128, 0u64);
    for (p, _) in &yes {
        if total > 0 && acc.saturating_mul(2) > total {
            break;
        }
        acc = acc.saturating_add(*p);
        nakamoto += 1;
    }
    if total == 0 {
        nakamoto = 0;
    }
    // Gini = Σᵢ (2i − n − 1)·xᵢ / (n · Σx), xᵢ ascending, i from 1.
    let n = yes.len() as u128;
    let (mut plus, mut minus) = (0u128, 0u128);
    for (i, (p, _)) in yes.iter().rev().enumerate() {
        let c = 2 * (i as u128 + 1);
        if c > n {
            plus = plus.saturating_add((c - n - 1).saturating_mul(*p));
        } else {
            minus = minus.saturating_add((n + 1 - c).saturating_mul(*p));
        }
    }
    let gini = ratio(plus.saturating_sub(minus), n.saturating_mul(total));
    Concentration {
        voters: yes.len() as u64,
        truncated,
        yes_power: Uint128(total),
        nakamoto,
        gini,
        recent_power: Uint128(recent),
        recent_share: ratio(recent, total),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn isqrt_is_exact() {
        for n in 0..10_000u128 {
            let r = isqrt(n);
            assert!(r * r <= n && (r + 1) * (r + 1) > n, "{n}");
        }
        for n in [u128::MAX, u128::MAX - 1, 1 << 126, (1 << 64) - 1, 1 << 64] {
            let r = isqrt(n);
            assert!(r.checked_mul(r).unwrap() <= n);
            assert!((r + 1).checked_mul(r + 1).is_none_or(|s| s > n), "{n}");
        }
    }

    #[test]
    fn weights_follow_the_rules() {
        assert_eq!(weight(VotingRule::Token, 900, 100, 6), 1000);
        assert_eq!(weight(VotingRule::Quadratic, 900, 100, 0), 30);
        assert_eq!(weight(VotingRule::Quadratic, 99, 0, 0), 9); // floor
        assert_eq!(weight(VotingRule::Conviction, 99, 0, 0), 9); // 0.1×, floor
        assert_eq!(weight(VotingRule::Conviction, 100, 55, 1), 105); // delegated at 0.1×
        assert_eq!(weight(VotingRule::Conviction, 100, 0, 6), 600);
        assert_eq!(weight(VotingRule::Conviction, u128::MAX, u128::MAX, 6), u128::MAX);
        assert_eq!((lock_ms(0, 7), lock_ms(1, 7), lock_ms(6, 7)), (0, 7, 224));
    }

    #[test]
    fn concentration_is_exact() {
        // One voter: Nakamoto 1, Gini 0.
        let c = concentration(vec![(10, 0)], false);
        assert_eq!((c.nakamoto, c.gini, c.recent_share), (1, Fraction::ZERO, Fraction::ZERO));
        // Equal voters: Gini 0, Nakamoto = more than half of 4 → 3.
        let c = concentration(vec![(5, 0); 4], false);
        assert_eq!((c.nakamoto, c.gini.millionths()), (3, 0));
        // 90/10: Nakamoto 1; Gini = (|90−10|·2)/(2·2·100) = 0.4.
        let c = concentration(vec![(10, 10), (90, 0)], false);
        assert_eq!((c.nakamoto, c.gini.to_string().as_str()), (1, "0.4"));
        assert_eq!(c.recent_share.to_string(), "0.1");
        // Brute force Gini on small sets.
        let sets: [&[u128]; 4] = [&[1, 2, 3], &[0, 0, 7], &[4, 4, 1, 9, 2], &[100, 1]];
        for set in sets {
            let n = set.len() as u128;
            let sum: u128 = set.iter().sum();
            let abs: u128 = set.iter().flat_map(|a| set.iter().map(move |b| a.abs_diff(*b))).sum();
            let want = abs * 1_000_000 / (2 * n * sum);
            let got = concentration(set.iter().map(|p| (*p, 0)).collect(), false);
            assert_eq!(u128::from(got.gini.millionths()), want, "{set:?}");
        }
        let c = concentration(vec![], false);
        assert_eq!((c.nakamoto, c.voters, c.gini), (0, 0, Fraction::ZERO));
        // Exact while power × 10⁶ fits 128 bits; no overflow at the top (then
        // within one millionth).
        let c = concentration(vec![(1 << 100, 1 << 101), (1 << 100, 0)], false);
        assert_eq!((c.nakamoto, c.recent_share.to_string().as_str()), (2, "0.5"));
        let c = concentration(vec![(u128::MAX / 2, u128::MAX), (u128::MAX / 2, 0)], false);
        assert_eq!(c.nakamoto, 2);
        assert!((499_999..=500_000).contains(&c.recent_share.millionths()));
    }
}
