//! The captcha id: as a query string of the captcha routes, and alone.
//! Whatever parses, parses back to itself from its display form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passport_server::fuzzing::code_id_query;
use verify::ImageCodeId;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = ImageCodeId::parse(s) {
        assert_eq!(id.as_str().len(), 36);
        assert_eq!(ImageCodeId::parse(&id.to_string()).as_ref(), Ok(&id));
        assert_eq!(id.as_str(), id.as_str().to_ascii_lowercase());
    }
    if let Ok(id) = code_id_query(s) {
        let again = code_id_query(&format!("code_id={id}")).expect("its own form parses");
        assert_eq!(again, id);
    }
});
