//! The crate's single error type.

/// Everything that can go wrong building a distribution, a threshold, a cap or parsing CSV.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The sum of all weights does not fit in a `u128`.
    #[error("total weight overflows u128")]
    TotalOverflow,
    /// More entities than [`crate::MAX_ENTITIES`].
    #[error("too many entities: {count} (at most {max})")]
    TooManyEntities {
        /// Number of distinct entities given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A threshold, ratio or cap with a zero denominator.
    #[error("denominator must be positive")]
    ZeroDenominator,
    /// A rational in text form (`"num/den"`) that cannot be parsed.
    #[error("invalid ratio {0:?} (expected \"num/den\" with decimal integers, den > 0)")]
    InvalidRatio(String),
    /// CSV input without a header line.
    #[error("CSV input has no header line")]
    MissingHeader,
    /// CSV input with more than [`crate::MAX_CSV_ROWS`] data rows.
    #[error("CSV input has more than {max} rows")]
    TooManyRows {
        /// The limit.
        max: usize,
    },
    /// A CSV row whose weight is negative.
    #[error("line {line}: negative weight {value:?}")]
    NegativeWeight {
        /// 1-based line number (the header is line 1).
        line: usize,
        /// The offending text (truncated).
        value: String,
    },
    /// A CSV row whose weight is not a decimal integer fitting in `u128`.
    #[error("line {line}: weight {value:?} is not a non-negative integer fitting in u128")]
    InvalidWeight {
        /// 1-based line number.
        line: usize,
        /// The offending text (truncated).
        value: String,
    },
    /// A CSV row whose entity name is longer than [`crate::MAX_NAME_CHARS`].
    #[error("line {line}: entity name has {chars} characters (at most {max})")]
    NameTooLong {
        /// 1-based line number.
        line: usize,
        /// Length of the name in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// A CSV row with an empty entity name.
    #[error("line {line}: empty entity name")]
    EmptyName {
        /// 1-based line number.
        line: usize,
    },
    /// A CSV row that does not have exactly two fields.
    #[error("line {line}: expected 2 fields (entity,weight), found {found}")]
    FieldCount {
        /// 1-based line number.
        line: usize,
        /// Number of fields found.
        found: usize,
    },
    /// A CSV row with broken quoting.
    #[error("line {line}: {reason}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// JSON rendering failed (should not happen for the crate's own types).
    #[error("JSON serialization failed: {0}")]
    Json(String),
}
