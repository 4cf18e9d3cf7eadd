//! Parsing at the edge: junk becomes a typed error, never a panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use verify::{ClientIp, ImageCodeId, MobileFormat, MobileRule, ParseError, SmsCode};

/// The junk every parser must refuse.
fn junk() -> Vec<String> {
    vec![
        "１３８１２３４５６７８".to_owned(), // full-width digits
        "١٣٨١٢٣٤٥٦٧٨".to_owned(),            // Arabic-Indic digits
        "٣".to_owned(),
        "\r\n".to_owned(),
        "13812345678\r\n".to_owned(),
        "*".to_owned(),
        "1".repeat(1 << 20),
        "' OR 1=1 --".to_owned(),
        "ImageCode_*".to_owned(),
    ]
}

#[test]
fn image_code_id_normalises_a_uuid() {
    let id = ImageCodeId::parse("8E2B1C6A-3F1D-4E2B-9A7C-0D4E5F6A7B8C").unwrap();
    assert_eq!(id.as_str(), "8e2b1c6a-3f1d-4e2b-9a7c-0d4e5f6a7b8c");
    let simple = ImageCodeId::parse("8e2b1c6a3f1d4e2b9a7c0d4e5f6a7b8c").unwrap();
    assert_eq!(simple, id);
}

#[test]
fn image_code_id_refuses_junk() {
    assert_eq!(
        ImageCodeId::parse(""),
        Err(ParseError::Missing("image_code_id"))
    );
    let long = "{8e2b1c6a-3f1d-4e2b-9a7c-0d4e5f6a7b8c}";
    let urn = "urn:uuid:8e2b1c6a-3f1d-4e2b-9a7c-0d4e5f6a7b8c";
    for raw in junk()
        .iter()
        .map(String::as_str)
        .chain([long, urn, "not-a-uuid"])
    {
        assert_eq!(
            ImageCodeId::parse(raw),
            Err(ParseError::Malformed("image_code_id")),
            "{raw:.40?}"
        );
    }
}

#[test]
fn mobile_default_rule() {
    let rule = MobileRule::default();
    assert_eq!(rule.parse("13812345678").unwrap().as_str(), "13812345678");
    assert_eq!(
        rule.parse("+8613812345678").unwrap().as_str(),
        "13812345678"
    );
    assert_eq!(rule.parse("19912345678").unwrap().as_str(), "19912345678");
    assert_eq!(rule.parse(""), Err(ParseError::Missing("mobile")));
    for raw in [
        "12812345678",
        "1381234567",
        "138123456789",
        "+86",
        "+8612812345678",
    ] {
        assert_eq!(rule.parse(raw), Err(ParseError::InvalidMobile), "{raw}");
    }
    for raw in junk() {
        assert_eq!(
            rule.parse(&raw),
            Err(ParseError::InvalidMobile),
            "{raw:.40?}"
        );
    }
}

#[test]
fn mobile_rule_is_anchored_and_ascii() {
    // An unanchored pattern still has to match the whole number.
    let rule = MobileRule::new(r"1[3-9]\d{9}").unwrap();
    assert!(rule.parse("13812345678").is_ok());
    assert_eq!(rule.parse("0013812345678"), Err(ParseError::InvalidMobile));
    // A permissive pattern cannot let non-digits into a key.
    let any = MobileRule::new(".+").unwrap();
    assert!(any.parse("4915112345678").is_ok());
    // Spaces and hyphens are dropped, never kept in a key.
    assert_eq!(any.parse("12 34").unwrap().as_str(), "1234");
    assert_eq!(any.parse("12a34"), Err(ParseError::InvalidMobile));
    assert_eq!(any.parse("12\t34"), Err(ParseError::InvalidMobile));
    assert_eq!(any.parse("١٢٣"), Err(ParseError::InvalidMobile));
    // E.164 elsewhere: a leading `+` is kept when the pattern allows it.
    let e164 = MobileRule::new(r"\+\d{8,15}").unwrap();
    assert_eq!(
        e164.parse("+4915112345678").unwrap().as_str(),
        "+4915112345678"
    );
    assert_eq!(
        e164.parse("+49+15112345678"),
        Err(ParseError::InvalidMobile)
    );
}

#[test]
fn mobile_rule_refuses_bad_patterns() {
    assert_eq!(
        MobileRule::new("").unwrap_err(),
        ParseError::Missing("mobile_pattern")
    );
    assert_eq!(
        MobileRule::new("(").unwrap_err(),
        ParseError::Malformed("mobile_pattern")
    );
    assert_eq!(MobileRule::default().pattern(), MobileRule::DEFAULT_PATTERN);
}

#[test]
fn mobile_is_masked_in_logs() {
    let m = MobileRule::default().parse("13812345678").unwrap();
    assert_eq!(m.masked(), "138****5678");
    assert_eq!(m.to_string(), "138****5678");
    assert!(!format!("{m:?}").contains("13812345678"));
}

#[test]
fn sms_code_is_six_ascii_digits() {
    assert_eq!(SmsCode::parse("012345").unwrap().as_str(), "012345");
    assert_eq!(SmsCode::parse(""), Err(ParseError::Missing("sms_code")));
    for raw in junk().iter().map(String::as_str).chain([
        "12345",
        "1234567",
        "12345a",
        " 12345",
        "１２３４５６",
    ]) {
        assert_eq!(
            SmsCode::parse(raw),
            Err(ParseError::Malformed("sms_code")),
            "{raw:.40?}"
        );
    }
    assert!(!format!("{:?}", SmsCode::parse("654321").unwrap()).contains("654321"));
}

#[test]
fn client_ip_limit_key() {
    let v4 = ClientIp(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)));
    assert_eq!(v4.limit_key(), "203.0.113.7");
    let a = ClientIp(IpAddr::V6(Ipv6Addr::new(
        0x2001, 0xdb8, 0xa, 0xb, 1, 2, 3, 4,
    )));
    let b = ClientIp(IpAddr::V6(Ipv6Addr::new(
        0x2001, 0xdb8, 0xa, 0xb, 9, 9, 9, 9,
    )));
    let c = ClientIp(IpAddr::V6(Ipv6Addr::new(
        0x2001, 0xdb8, 0xa, 0xc, 1, 2, 3, 4,
    )));
    assert_eq!(a.limit_key(), "2001:db8:a:b::/64");
    assert_eq!(a.limit_key(), b.limit_key());
    assert_ne!(a.limit_key(), c.limit_key());
    let mapped = ClientIp(IpAddr::V6(Ipv4Addr::new(203, 0, 113, 7).to_ipv6_mapped()));
    assert_eq!(mapped.limit_key(), v4.limit_key());
}

#[test]
fn every_spelling_of_a_mainland_number_is_one_key() {
    let rule = MobileRule::default();
    for raw in [
        "13812345678",
        "+8613812345678",
        "008613812345678",
        "8613812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "0086-138-1234-5678",
    ] {
        assert_eq!(rule.parse(raw).unwrap().as_str(), "13812345678", "{raw}");
    }
    for raw in [
        "86",
        "+86",
        "0086",
        "00861381234567",
        "8612812345678",
        "-",
        "  ",
    ] {
        assert_eq!(rule.parse(raw), Err(ParseError::InvalidMobile), "{raw}");
    }
}

#[test]
fn e164_spellings_of_one_number_are_one_key() {
    let rule = MobileRule::with_format(MobileFormat::E164, "").unwrap();
    assert_eq!(rule.format(), MobileFormat::E164);
    assert_eq!(rule.pattern(), MobileRule::DEFAULT_E164_PATTERN);
    for raw in [
        "+447700900123",
        "447700900123",
        "00447700900123",
        "+44 7700 900123",
        "+44-7700-900-123",
        "0044 7700 900 123",
    ] {
        assert_eq!(rule.parse(raw).unwrap().as_str(), "+447700900123", "{raw}");
    }
    assert_eq!(
        rule.parse("+86 138 1234 5678").unwrap().as_str(),
        "+8613812345678"
    );
    for raw in [
        "+0447700900123",    // no country code starts with 0
        "+4477009001234567", // 16 digits: longer than E.164 allows
        "+44",               // too short for the default pattern
        "++447700900123",
        "+44 7700 900123x",
        "０４４７７００９００１２３",
    ] {
        assert_eq!(rule.parse(raw), Err(ParseError::InvalidMobile), "{raw}");
    }
}

#[test]
fn the_canonical_form_parses_to_itself() {
    let cn = MobileRule::default();
    let e164 = MobileRule::with_format(MobileFormat::E164, "").unwrap();
    for (rule, raw) in [
        (&cn, "0086 138-1234-5678"),
        (&cn, "+8613812345678"),
        (&e164, "00447700900123"),
        (&e164, "1 415 555 2671"),
    ] {
        let once = rule.parse(raw).unwrap();
        assert_eq!(rule.parse(once.as_str()).unwrap(), once, "{raw}");
    }
}

#[test]
fn the_mobile_table_names_the_format() {
    #[derive(serde::Deserialize)]
    struct Config {
        mobile: MobileRule,
    }
    let parse = |json: &str| serde_json::from_str::<Config>(json).map(|c| c.mobile);
    let rule = parse(r#"{"mobile": {"format": "e164"}}"#).unwrap();
    assert_eq!(
        rule.parse("0044 7700 900123").unwrap().as_str(),
        "+447700900123"
    );
    let rule = parse(r#"{"mobile": {"format": "cn", "pattern": ""}}"#).unwrap();
    assert_eq!(rule.pattern(), MobileRule::DEFAULT_PATTERN);
    assert_eq!(
        parse(r#"{"mobile": {}}"#).unwrap().format(),
        MobileFormat::Cn
    );
    assert!(parse(r#"{"mobile": {"format": "E164"}}"#).is_err());
    assert!(parse(r#"{"mobile": {"format": "e164", "pattern": "("}}"#).is_err());
}
