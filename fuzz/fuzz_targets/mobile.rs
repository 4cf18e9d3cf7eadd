//! The mobile number, on both formats' default rules: what parses is the
//! canonical form (ASCII digits, `+` first for E.164), and parses back to
//! itself; the mainland rule gives the same number with `+86` in front.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verify::{MobileFormat, MobileRule};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let cn = MobileRule::default();
    if let Ok(m) = cn.parse(s) {
        assert!(m.as_str().bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(cn.parse(m.as_str()).as_ref(), Ok(&m));
        assert_eq!(cn.parse(&format!("+86{}", m.as_str())).as_ref(), Ok(&m));
        assert!(!m.to_string().contains(m.as_str()));
    }
    let e164 = MobileRule::with_format(MobileFormat::E164, "").expect("the default E.164 rule");
    if let Ok(m) = e164.parse(s) {
        let digits = m.as_str().strip_prefix('+').expect("E.164 starts with +");
        assert!(digits.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(e164.parse(m.as_str()).as_ref(), Ok(&m));
        assert_eq!(e164.parse(&format!("00{digits}")).as_ref(), Ok(&m));
    }
});
