//! Property tests of every parser of outside input in this crate: the
//! captcha id, the mobile number, the SMS code and the typed captcha. The
//! invariants: no input panics; parsing what a parse produced gives the same
//! value (parsing normalises case, hyphens and `+86`); junk is refused.

use proptest::prelude::*;
use verify::{ImageCodeId, MobileRule, ParseError, SmsCode, check_typed};

/// A UUID's 16 bytes, in hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hyphenate(h: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_input_parses_or_is_refused_without_panic(s in any::<String>(), b in proptest::collection::vec(any::<u8>(), 0..64)) {
        let rule = MobileRule::default();
        let lossy = String::from_utf8_lossy(&b);
        for input in [s.as_str(), &lossy] {
            let _ = ImageCodeId::parse(input);
            let _ = rule.parse(input);
            let _ = SmsCode::parse(input);
            let _ = check_typed(input);
        }
    }

    #[test]
    fn every_spelling_of_one_uuid_is_one_id(bytes in any::<[u8; 16]>(), upper in any::<bool>(), hyphens in any::<bool>()) {
        let h = hex(&bytes);
        let canonical = hyphenate(&h);
        let mut raw = if hyphens { canonical.clone() } else { h.clone() };
        if upper {
            raw = raw.to_uppercase();
        }
        let id = ImageCodeId::parse(&raw).unwrap();
        prop_assert_eq!(id.as_str(), canonical.as_str());
        prop_assert_eq!(ImageCodeId::parse(&id.to_string()).unwrap(), id);
    }

    #[test]
    fn a_uuid_with_anything_changed_is_refused(bytes in any::<[u8; 16]>(), at in 0usize..36, junk in "[^0-9a-fA-F-]") {
        let canonical = hyphenate(&hex(&bytes));
        let mut chars: Vec<char> = canonical.chars().collect();
        chars[at] = junk.chars().next().unwrap();
        let broken: String = chars.into_iter().collect();
        prop_assert!(ImageCodeId::parse(&broken).is_err());
        // So is any other length, and the braced and URN forms.
        prop_assert!(ImageCodeId::parse(&canonical[..at]).is_err());
        let braced = format!("{{{canonical}}}");
        let urn = format!("urn:uuid:{canonical}");
        prop_assert!(ImageCodeId::parse(&braced).is_err());
        prop_assert!(ImageCodeId::parse(&urn).is_err());
    }

    #[test]
    fn a_mobile_parses_to_one_key_with_or_without_plus_86(number in "1[3-9][0-9]{9}") {
        let rule = MobileRule::default();
        let plain = rule.parse(&number).unwrap();
        prop_assert_eq!(plain.as_str(), number.as_str());
        prop_assert_eq!(&rule.parse(&format!("+86{number}")).unwrap(), &plain);
        prop_assert_eq!(&rule.parse(plain.as_str()).unwrap(), &plain);
        // The masked form never holds the whole number.
        prop_assert!(!plain.to_string().contains(&number));
    }

    #[test]
    fn a_mobile_that_is_not_the_rules_is_refused(
        number in "1[3-9][0-9]{9}",
        at in 0usize..11,
        junk in "[^0-9]",
        short in "1[3-9][0-9]{0,8}",
        long in "1[3-9][0-9]{10,18}",
        first in "[02-9][0-9]{10}",
    ) {
        let rule = MobileRule::default();
        let mut chars: Vec<char> = number.chars().collect();
        chars[at] = junk.chars().next().unwrap();
        let broken: String = chars.into_iter().collect();
        prop_assert!(rule.parse(&broken).is_err());
        prop_assert_eq!(rule.parse(&short), Err(ParseError::InvalidMobile));
        prop_assert_eq!(rule.parse(&long), Err(ParseError::InvalidMobile));
        prop_assert_eq!(rule.parse(&first), Err(ParseError::InvalidMobile));
        // Full-width digits look the same to a person and are still refused.
        let wide: String = number.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap()).collect();
        prop_assert!(rule.parse(&wide).is_err());
    }

    #[test]
    fn an_sms_code_is_six_ascii_digits(code in "[0-9]{6}", other in "[0-9]{0,5}|[0-9]{7,12}|[0-9]{0,5}[^0-9][0-9]{0,5}") {
        let parsed = SmsCode::parse(&code).unwrap();
        prop_assert_eq!(parsed.as_str(), code.as_str());
        prop_assert!(SmsCode::parse(parsed.as_str()).unwrap() == parsed);
        prop_assert!(SmsCode::parse(&other).is_err());
        // Its Debug form hides it.
        let debug = format!("{parsed:?}");
        prop_assert!(!debug.contains(&code));
    }

    #[test]
    fn typed_captcha_is_trimmed_printable_ascii(s in any::<String>()) {
        match check_typed(&s) {
            Ok(typed) => {
                prop_assert!(!typed.is_empty());
                prop_assert!(typed.bytes().all(|b| b.is_ascii_graphic()));
                prop_assert_eq!(typed, s.trim());
                prop_assert_eq!(check_typed(typed), Ok(typed));
            }
            Err(ParseError::Missing(_)) => prop_assert!(s.trim().is_empty()),
            Err(_) => prop_assert!(
                s.len() > 256 || s.trim().len() > 32 || !s.trim().bytes().all(|b| b.is_ascii_graphic())
            ),
        }
    }

    #[test]
    fn typed_captcha_answers_pass(answer in "[3679ACEFHKMNPRTWXY]{4,6}", pad in "[ \t]{0,3}") {
        let raw = format!("{pad}{answer}{pad}");
        prop_assert_eq!(check_typed(&raw), Ok(answer.as_str()));
    }
}
