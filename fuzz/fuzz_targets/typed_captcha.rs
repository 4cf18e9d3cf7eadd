//! The typed captcha: what passes is trimmed printable ASCII, and passes
//! again unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verify::check_typed;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(typed) = check_typed(s) {
        assert!(!typed.is_empty());
        assert!(typed.bytes().all(|b| b.is_ascii_graphic()));
        assert_eq!(check_typed(typed), Ok(typed));
    }
});
