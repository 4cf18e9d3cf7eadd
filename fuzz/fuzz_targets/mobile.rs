//! The mobile number, on the default rule: what parses is ASCII digits, and
//! parses back to itself; `+86` in front changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verify::MobileRule;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let rule = MobileRule::default();
    if let Ok(m) = rule.parse(s) {
        assert!(m.as_str().bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(rule.parse(m.as_str()).as_ref(), Ok(&m));
        assert_eq!(rule.parse(&format!("+86{}", m.as_str())).as_ref(), Ok(&m));
        assert!(!m.to_string().contains(m.as_str()));
    }
});
