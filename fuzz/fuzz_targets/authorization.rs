//! The `Authorization` header: a key is read only from the bearer scheme,
//! never empty, and reading `Bearer <key>` gives the key back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passport_server::fuzzing::authorization;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(key) = authorization(s) {
        assert!(!key.is_empty());
        assert!(s.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("bearer ")));
        assert_eq!(authorization(&format!("Bearer {key}")), Some(key));
    }
});
