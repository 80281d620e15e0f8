//! Validation of validator metadata. The decentralization index groups
//! validators by these fields, so they must be well-formed: a country is an
//! assigned ISO 3166-1 alpha-2 code, not free text.

use super::types::ValidatorMetadata;

/// ISO 3166-1 alpha-2 codes (officially assigned), concatenated.
const COUNTRIES: &str = "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

/// Is `code` an assigned ISO 3166-1 alpha-2 code (upper case)?
pub fn is_country_code(code: &str) -> bool {
    code.len() == 2
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && COUNTRIES.as_bytes().chunks(2).any(|c| c == code.as_bytes())
}

fn text(field: &str, v: &str, max: usize, required: bool) -> Result<(), String> {
    if required && v.trim().is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    if v.chars().count() > max {
        return Err(format!("{field} is longer than {max} characters"));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("{field} contains control characters"));
    }
    if v != v.trim() {
        return Err(format!("{field} has leading or trailing spaces"));
    }
    Ok(())
}

/// Checks every field; the error names the first bad one.
pub fn validate(m: &ValidatorMetadata) -> Result<(), String> {
    text("moniker", &m.moniker, 64, true)?;
    text("website", &m.website, 140, false)?;
    if m.website.contains(' ') {
        return Err("website must not contain spaces".into());
    }
    let scheme_ok = m.website.starts_with("https://") || m.website.starts_with("http://");
    if !m.website.is_empty() && !scheme_ok {
        return Err(format!("website `{}` must start with https:// or http://", m.website));
    }
    text("operator_entity", &m.operator_entity, 64, false)?;
    if !m.country.is_empty() && !is_country_code(&m.country) {
        return Err(format!(
            "country `{}` is not an ISO 3166-1 alpha-2 code (two capital letters, e.g. DE, US, SG)",
            m.country
        ));
    }
    text("hosting", &m.hosting, 64, false)?;
    if let Some(asn) = m.hosting.strip_prefix("AS")
        && !asn.is_empty()
        && asn.bytes().all(|b| b.is_ascii_digit())
        && asn.parse::<u32>().is_err()
    {
        return Err(format!("hosting `{}`: AS number out of range", m.hosting));
    }
    text("client_version", &m.client_version, 64, false)?;
    text("details", &m.details, 280, false)?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn m() -> ValidatorMetadata {
        ValidatorMetadata { moniker: "alpha".into(), ..Default::default() }
    }

    #[test]
    fn countries_are_checked_against_iso_3166() {
        assert!(is_country_code("DE") && is_country_code("US") && is_country_code("ZW"));
        assert!(!is_country_code("de") && !is_country_code("XX") && !is_country_code("DEU"));
        assert_eq!(COUNTRIES.len() % 2, 0);
        let bad = ValidatorMetadata { country: "Germany".into(), ..m() };
        assert!(validate(&bad).unwrap_err().contains("ISO 3166"));
    }

    #[test]
    fn each_field_is_validated() {
        assert!(validate(&m()).is_ok());
        assert!(validate(&ValidatorMetadata { moniker: String::new(), ..m() }).is_err());
        assert!(validate(&ValidatorMetadata { moniker: "x".repeat(65), ..m() }).is_err());
        assert!(validate(&ValidatorMetadata { website: "ftp://x".into(), ..m() }).is_err());
        assert!(validate(&ValidatorMetadata { website: "https://a.example".into(), ..m() }).is_ok());
        assert!(validate(&ValidatorMetadata { hosting: "AS99999999999".into(), ..m() }).is_err());
        assert!(validate(&ValidatorMetadata { hosting: "AS24940".into(), ..m() }).is_ok());
        assert!(validate(&ValidatorMetadata { details: "a\u{7}b".into(), ..m() }).is_err());
    }
}
