//! CSV parsing: accepted forms and rejected inputs, with line numbers.

#![allow(clippy::unwrap_used)]

use decentralization::{Error, MAX_NAME_CHARS, parse_csv};

#[test]
fn parses_header_quotes_blank_lines_and_duplicates() {
    let text =
        "\u{feff}Organizations,2026-08-06\r\n\"Acme, Inc.\",5\r\n\r\nB,3\n\"Acme, Inc.\",2\n\"say \"\"hi\"\"\",0\n";
    let (date, d) = parse_csv(text).unwrap();
    assert_eq!(date.as_deref(), Some("2026-08-06"));
    let entities: Vec<(&str, u128)> = d.entities_sorted().iter().map(|e| (e.name.as_str(), e.weight)).collect();
    assert_eq!(entities, [("Acme, Inc.", 7), ("B", 3), ("say \"hi\"", 0)]);
    assert_eq!(d.entities(), 3);
    assert_eq!(d.nonzero_entities(), 2);
    let (label, d) = parse_csv("entity,weight\n").unwrap();
    assert_eq!(label.as_deref(), Some("weight"));
    assert!(d.is_empty());
    assert_eq!(parse_csv("entity\na,1").unwrap().0, None);
}

#[test]
fn rejects_negative_weights() {
    assert_eq!(parse_csv("entity,weight\na,1\nb,-3\n"), Err(Error::NegativeWeight { line: 3, value: "-3".into() }));
}

#[test]
fn rejects_non_numeric_weights() {
    for bad in ["x", "1.5", "", "1e3", "+4", "0x10", "340282366920938463463374607431768211456"] {
        let text = format!("entity,weight\n\na,{bad}\n");
        assert_eq!(parse_csv(&text), Err(Error::InvalidWeight { line: 3, value: bad.into() }), "{bad:?}");
    }
}

#[test]
fn rejects_too_long_names_and_accepts_the_limit() {
    let ok = format!("entity,weight\n{},1\n", "é".repeat(MAX_NAME_CHARS));
    assert!(parse_csv(&ok).is_ok());
    let long = format!("entity,weight\n{},1\n", "é".repeat(MAX_NAME_CHARS + 1));
    assert_eq!(parse_csv(&long), Err(Error::NameTooLong { line: 2, chars: MAX_NAME_CHARS + 1, max: MAX_NAME_CHARS }));
}

#[test]
fn rejects_malformed_rows() {
    assert_eq!(parse_csv(""), Err(Error::MissingHeader));
    assert_eq!(parse_csv("\na,1"), Err(Error::MissingHeader));
    assert_eq!(parse_csv("e,w\na,b,1\n"), Err(Error::FieldCount { line: 2, found: 3 }));
    assert_eq!(parse_csv("e,w\na\n"), Err(Error::FieldCount { line: 2, found: 1 }));
    assert_eq!(parse_csv("e,w\n,1\n"), Err(Error::EmptyName { line: 2 }));
    assert!(matches!(parse_csv("e,w\n\"a,1\n"), Err(Error::Malformed { line: 2, .. })));
    // Unquoted commas split the name: the error says so.
    assert_eq!(parse_csv("e,w\nAcme, Inc.,4\n"), Err(Error::FieldCount { line: 2, found: 3 }));
    assert_eq!(parse_csv(&format!("e,w\na,{}\nb,1\n", u128::MAX)), Err(Error::TotalOverflow));
}

#[test]
fn rejects_too_many_rows() {
    let mut text = String::from("entity,weight\n");
    for i in 0..=decentralization::MAX_CSV_ROWS {
        text.push_str(&format!("{i},1\n"));
    }
    assert_eq!(parse_csv(&text), Err(Error::TooManyRows { max: 1_000_000 }));
}
