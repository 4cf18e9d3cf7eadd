//! The JSON bodies of `POST /passport/sms_code` and its verify route, as
//! the handlers parse them: what is accepted, sent again in its parsed form,
//! is accepted as the same values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passport_server::fuzzing::{check_body, sms_code_body};
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    if let Ok((mobile, typed, id)) = sms_code_body(data) {
        let again = json!({"mobile": mobile.as_str(), "image_code": typed, "image_code_id": id.as_str()});
        let parsed = sms_code_body(again.to_string().as_bytes()).expect("its own form parses");
        assert_eq!(parsed, (mobile, typed, id));
    }
    if let Ok((mobile, code)) = check_body(data) {
        let again = json!({"mobile": mobile.as_str(), "sms_code": code.as_str()});
        let (m, c) = check_body(again.to_string().as_bytes()).expect("its own form parses");
        assert_eq!((m.as_str(), c.as_str()), (mobile.as_str(), code.as_str()));
    }
});
