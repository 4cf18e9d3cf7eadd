//! The SMS code: exactly six ASCII digits, parsed back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verify::SmsCode;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(code) = SmsCode::parse(s) {
        assert_eq!(code.as_str().len(), 6);
        assert!(code.as_str().bytes().all(|b| b.is_ascii_digit()));
        assert!(SmsCode::parse(code.as_str()).is_ok_and(|c| c == code));
    }
});
