//! Exact rationals ([`Ratio`]) and exact thresholds ([`Threshold`]).

use std::fmt;

use ethnum::U256;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// Greatest common divisor (binary-free Euclid on `U256`).
pub(crate) fn gcd(mut a: U256, mut b: U256) -> U256 {
    while b != U256::ZERO {
        let r = a % b;
        a = b;
        b = r;
    }
    a
}

/// A non-negative rational `num/den` in lowest terms with `den > 0`.
///
/// Displayed as `"num/den"`; serialized as `{"exact": "num/den", "value": <f64>}` (the
/// `value` is informative only and ignored when deserializing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ratio {
    num: U256,
    den: U256,
}

impl Ratio {
    /// Zero (`0/1`).
    pub const ZERO: Ratio = Ratio { num: U256::ZERO, den: U256::ONE };
    /// One (`1/1`).
    pub const ONE: Ratio = Ratio { num: U256::ONE, den: U256::ONE };

    /// `num/den` reduced to lowest terms; [`Error::ZeroDenominator`] if `den == 0`.
    pub fn new(num: U256, den: U256) -> Result<Self, Error> {
        if den == U256::ZERO {
            return Err(Error::ZeroDenominator);
        }
        Ok(Self::reduced(num, den))
    }

    /// Reduces; the caller guarantees `den > 0`.
    pub(crate) fn reduced(num: U256, den: U256) -> Self {
        let g = gcd(num, den);
        // den > 0 so g > 0.
        if g <= U256::ONE { Self { num, den } } else { Self { num: num / g, den: den / g } }
    }

    /// An integer as a ratio.
    pub fn from_integer(n: u128) -> Self {
        Self { num: U256::from(n), den: U256::ONE }
    }

    /// Numerator (lowest terms).
    pub fn num(&self) -> U256 {
        self.num
    }

    /// Denominator (lowest terms, > 0).
    pub fn den(&self) -> U256 {
        self.den
    }

    /// True for `0/1`.
    pub fn is_zero(&self) -> bool {
        self.num == U256::ZERO
    }

    /// Nearest-ish `f64` (relative error a few ulps): integer part plus fractional part,
    /// each converted separately so large quotients keep their precision.
    pub fn to_f64(&self) -> f64 {
        let q = self.num / self.den;
        let r = self.num % self.den;
        q.as_f64() + r.as_f64() / self.den.as_f64()
    }

    /// Parses `"num/den"` (or a bare integer `"num"`).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidRatio(text.chars().take(200).collect());
        let parse_int = |s: &str| {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            U256::from_str_radix(s, 10).map_err(|_| bad())
        };
        let (n, d) = match text.split_once('/') {
            Some((n, d)) => (parse_int(n.trim())?, parse_int(d.trim())?),
            None => (parse_int(text.trim())?, U256::ONE),
        };
        Self::new(n, d).map_err(|_| bad())
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

#[derive(Serialize, Deserialize)]
struct RatioRepr {
    exact: String,
    #[serde(default)]
    value: Option<f64>,
}

impl Serialize for Ratio {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RatioRepr { exact: self.to_string(), value: Some(self.to_f64()) }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Ratio {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = RatioRepr::deserialize(deserializer)?;
        Ratio::parse(&repr.exact).map_err(serde::de::Error::custom)
    }
}

/// How a cumulative share is compared with a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// Share `≥` threshold (`S·den ≥ num·T`).
    AtLeast,
    /// Share `>` threshold (`S·den > num·T`).
    MoreThan,
}

impl Comparison {
    /// `">="` or `">"`.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::AtLeast => ">=",
            Comparison::MoreThan => ">",
        }
    }

    /// `"at least"` or `"more than"`.
    pub fn words(self) -> &'static str {
        match self {
            Comparison::AtLeast => "at least",
            Comparison::MoreThan => "more than",
        }
    }
}

/// A share threshold `num/den` with an explicit comparison, compared exactly by
/// cross-multiplication in `U256`: a set with weight `S` out of total `T` meets it when
/// `S·den ≥ num·T` ([`Comparison::AtLeast`]) or `S·den > num·T` ([`Comparison::MoreThan`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Threshold {
    /// Numerator of the share.
    pub num: u64,
    /// Denominator of the share (> 0).
    pub den: u64,
    /// `≥` or `>`.
    pub cmp: Comparison,
    /// Stable machine name (`"bft_halt"`, `"safety"`, ..., `"tau"` for custom ones).
    pub name: &'static str,
}

impl Threshold {
    /// `≥ 1/3`: the smallest set that can halt a BFT chain (deny it a 2/3 quorum).
    pub const BFT_HALT: Threshold = Threshold { num: 1, den: 3, cmp: Comparison::AtLeast, name: "bft_halt" };
    /// `> 1/3`: the smallest set that can break BFT safety (equivocate undetected quorums).
    pub const SAFETY: Threshold = Threshold { num: 1, den: 3, cmp: Comparison::MoreThan, name: "safety" };
    /// `≥ 1/2`: the Nakamoto coefficient as the EDI computes and publishes it.
    pub const EDI_MAJORITY: Threshold = Threshold { num: 1, den: 2, cmp: Comparison::AtLeast, name: "majority_edi" };
    /// `> 1/2`: a strict majority (Balaji & Leland's Nakamoto coefficient).
    pub const MAJORITY: Threshold = Threshold { num: 1, den: 2, cmp: Comparison::MoreThan, name: "majority" };
    /// `> 2/3`: the smallest set that controls a BFT chain alone (a quorum by itself).
    pub const CONTROL: Threshold = Threshold { num: 2, den: 3, cmp: Comparison::MoreThan, name: "control" };
    /// The five thresholds every [`crate::Report`] lists, in this order.
    pub const STANDARD: [Threshold; 5] =
        [Self::BFT_HALT, Self::SAFETY, Self::EDI_MAJORITY, Self::MAJORITY, Self::CONTROL];

    /// A τ threshold "share ≥ num/den" (name `"tau"`); [`Error::ZeroDenominator`] if
    /// `den == 0`.
    pub fn at_least(num: u64, den: u64) -> Result<Self, Error> {
        Self::custom(num, den, Comparison::AtLeast)
    }

    /// A τ threshold "share > num/den" (name `"tau"`); [`Error::ZeroDenominator`] if
    /// `den == 0`.
    pub fn more_than(num: u64, den: u64) -> Result<Self, Error> {
        Self::custom(num, den, Comparison::MoreThan)
    }

    fn custom(num: u64, den: u64, cmp: Comparison) -> Result<Self, Error> {
        if den == 0 {
            return Err(Error::ZeroDenominator);
        }
        Ok(Self { num, den, cmp, name: "tau" })
    }

    /// Whether weight `part` out of `total` meets the threshold (exact). A zero
    /// denominator (only constructible through the public fields) is never met.
    pub fn is_met(&self, part: u128, total: u128) -> bool {
        if self.den == 0 {
            return false;
        }
        // part < 2^128, den < 2^64: both products < 2^192, no overflow.
        let lhs = U256::from(part) * U256::from(self.den);
        let rhs = U256::from(self.num) * U256::from(total);
        match self.cmp {
            Comparison::AtLeast => lhs >= rhs,
            Comparison::MoreThan => lhs > rhs,
        }
    }

    /// Whether any subset of a positive total can meet it (`num/den ≤ 1` for `≥`,
    /// `num/den < 1` for `>`).
    pub fn is_reachable(&self) -> bool {
        self.is_met(1, 1)
    }

    /// `"num/den"` as written (not reduced).
    pub fn fraction(&self) -> String {
        format!("{}/{}", self.num, self.den)
    }

    /// Human sentence, e.g. "smallest number of entities whose combined weight is at
    /// least 1/3 of the total".
    pub fn rule(&self) -> String {
        format!(
            "smallest number of entities whose combined weight is {} {} of the total",
            self.cmp.words(),
            self.fraction()
        )
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.cmp.symbol(), self.fraction())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ratio_reduces_displays_and_round_trips() {
        let r = Ratio::new(U256::from(30u32), U256::from(100u32)).unwrap();
        assert_eq!(r.to_string(), "3/10");
        assert!((r.to_f64() - 0.3).abs() < 1e-15);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"{"exact":"3/10","value":0.3}"#);
        let back: Ratio = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert_eq!(Ratio::new(U256::ONE, U256::ZERO), Err(Error::ZeroDenominator));
        assert!(Ratio::parse("1/0").is_err());
        assert!(Ratio::parse("-1/2").is_err());
        assert_eq!(Ratio::parse("4").unwrap(), Ratio::from_integer(4));
    }

    #[test]
    fn ratio_to_f64_of_huge_values() {
        let r = Ratio::new(U256::MAX, U256::MAX - U256::ONE).unwrap();
        assert!((r.to_f64() - 1.0).abs() < 1e-15);
        let r = Ratio::new(U256::ONE, U256::MAX).unwrap();
        assert!(r.to_f64() > 0.0 && r.to_f64() < 1e-76);
    }

    #[test]
    fn thresholds_are_exact() {
        assert!(Threshold::BFT_HALT.is_met(1, 3));
        assert!(!Threshold::SAFETY.is_met(1, 3));
        assert!(Threshold::SAFETY.is_met(u128::MAX / 3 + 1, u128::MAX));
        assert!(Threshold::EDI_MAJORITY.is_met(u128::MAX / 2 + 1, u128::MAX));
        assert!(!Threshold::EDI_MAJORITY.is_met(u128::MAX / 2, u128::MAX));
        assert!(Threshold::at_least(1, 1).unwrap().is_reachable());
        assert!(!Threshold::more_than(1, 1).unwrap().is_reachable());
        assert_eq!(Threshold::at_least(1, 0), Err(Error::ZeroDenominator));
        assert_eq!(
            Threshold::CONTROL.rule(),
            "smallest number of entities whose combined weight is more than 2/3 of the total"
        );
        assert_eq!(Threshold::BFT_HALT.to_string(), ">= 1/3");
    }
}
