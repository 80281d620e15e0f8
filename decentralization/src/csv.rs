//! Bounded parser for `entity,weight` CSV files (the EDI's published input format).

use crate::{Distribution, Error};

/// Most data rows accepted by [`parse_csv`].
pub const MAX_CSV_ROWS: usize = 1_000_000;
/// Longest entity name accepted by [`parse_csv`], in characters.
pub const MAX_NAME_CHARS: usize = 256;
/// Longest offending text quoted back in an error.
const MAX_ERROR_TEXT: usize = 64;

fn excerpt(text: &str) -> String {
    text.chars().take(MAX_ERROR_TEXT).collect()
}

/// Splits one line into fields with minimal RFC 4180 quoting: a field that starts with `"`
/// (after optional blanks) runs to the matching `"`, `""` inside it is a literal quote and it
/// may contain commas; unquoted fields are trimmed. Quoted fields cannot span lines.
fn split_fields(line: &str, line_number: usize) -> Result<Vec<String>, Error> {
    let malformed = |reason| Error::Malformed { line: line_number, reason };
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        let mut field = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next() {
                    None => return Err(malformed("unterminated quoted field")),
                    Some('"') if chars.next_if_eq(&'"').is_some() => field.push('"'),
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
            fields.push(field);
            match chars.next() {
                None => return Ok(fields),
                Some(',') => continue,
                Some(_) => return Err(malformed("text after a closing quote")),
            }
        }
        loop {
            match chars.next() {
                None => {
                    fields.push(field.trim().to_string());
                    return Ok(fields);
                }
                Some(',') => break,
                Some(c) => field.push(c),
            }
        }
        fields.push(field.trim().to_string());
    }
}

fn parse_weight(text: &str, line: usize) -> Result<u128, Error> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = text.strip_prefix('-')
        && digits(rest)
    {
        return Err(Error::NegativeWeight { line, value: excerpt(text) });
    }
    if !digits(text) {
        return Err(Error::InvalidWeight { line, value: excerpt(text) });
    }
    text.parse::<u128>().map_err(|_| Error::InvalidWeight { line, value: excerpt(text) })
}

/// Parses an `entity,weight` CSV text.
///
/// * Line 1 is a header (`Organizations,2026-08-06`, `entity,weight`, ...); its second
///   column (e.g. the date of the snapshot) is returned if present and non-empty.
/// * Every other non-blank line is `entity,weight`; the entity may be quoted (`"A, Inc."`,
///   `""` for a literal quote); `\r\n` and a leading byte-order mark are accepted.
/// * Weights are non-negative decimal integers fitting in `u128`; duplicate entities are
///   merged by summing (see [`Distribution::new`]).
/// * Bounds: at most [`MAX_CSV_ROWS`] data rows, names of 1..=[`MAX_NAME_CHARS`]
///   characters. Errors carry the 1-based line number (the header is line 1).
pub fn parse_csv(text: &str) -> Result<(Option<String>, Distribution), Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let header = match lines.next() {
        Some(h) if !h.trim().is_empty() => h,
        _ => return Err(Error::MissingHeader),
    };
    let header_label = split_fields(header, 1)?.get(1).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let mut rows: Vec<(String, u128)> = Vec::new();
    for (index, line) in lines.enumerate() {
        let line_number = index + 2;
        if line.trim().is_empty() {
            continue;
        }
        if rows.len() >= MAX_CSV_ROWS {
            return Err(Error::TooManyRows { max: MAX_CSV_ROWS });
        }
        let mut fields = split_fields(line, line_number)?;
        if fields.len() != 2 {
            return Err(Error::FieldCount { line: line_number, found: fields.len() });
        }
        let weight = parse_weight(&fields[1], line_number)?;
        let name = fields.swap_remove(0);
        let chars = name.chars().count();
        if chars == 0 {
            return Err(Error::EmptyName { line: line_number });
        }
        if chars > MAX_NAME_CHARS {
            return Err(Error::NameTooLong { line: line_number, chars, max: MAX_NAME_CHARS });
        }
        rows.push((name, weight));
    }
    Ok((header_label, Distribution::new(rows)?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn splits_quoted_fields() {
        assert_eq!(split_fields(r#""A, ""B"" Inc.", 5"#, 1).unwrap(), ["A, \"B\" Inc.", "5"]);
        assert_eq!(split_fields("a,", 1).unwrap(), ["a", ""]);
        assert_eq!(split_fields(" a , 7 ", 1).unwrap(), ["a", "7"]);
        assert_eq!(
            split_fields(r#""a"x,1"#, 3),
            Err(Error::Malformed { line: 3, reason: "text after a closing quote" })
        );
        assert!(split_fields(r#""a,1"#, 1).is_err());
    }
}
