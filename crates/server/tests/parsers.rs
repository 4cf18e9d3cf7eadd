//! Property tests of the server's parsers of outside input, through the same
//! entry points as the fuzz targets (`fuzz/`): the query of the captcha
//! routes, the JSON bodies, `X-Forwarded-For`, `Authorization` and the
//! configuration loader. No input panics; what is accepted parses back to
//! itself; junk is refused.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use passport_server::fuzzing::{
    Refused, authorization, check_body, code_id_query, config, forwarded_for, sms_code_body,
};
use proptest::prelude::*;
use serde_json::json;

fn uuid() -> impl Strategy<Value = String> {
    any::<[u8; 16]>().prop_map(|b| {
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    })
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        any::<[u8; 16]>().prop_map(|b| IpAddr::V6(Ipv6Addr::from(b))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn no_input_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256), s in any::<String>()) {
        let _ = sms_code_body(&bytes);
        let _ = check_body(&bytes);
        let _ = code_id_query(&s);
        let _ = authorization(&s);
        let _ = forwarded_for(&["10.0.0.0/8", "::1"], IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), &[&bytes, s.as_bytes()]);
    }

    #[test]
    fn the_code_id_query_takes_a_uuid_among_other_parameters(id in uuid(), t in "[0-9]{1,13}") {
        let parsed = code_id_query(&format!("t={t}&code_id={}", id.to_uppercase())).unwrap();
        prop_assert_eq!(parsed.as_str(), id.as_str());
        prop_assert_eq!(code_id_query(&format!("code_id={parsed}")).unwrap(), parsed);
        let twice = format!("code_id={id}&code_id={id}");
        let longer = format!("code_id={id}0");
        let without = format!("t={t}");
        prop_assert!(code_id_query(&twice).is_err());
        prop_assert!(code_id_query(&longer).is_err());
        prop_assert!(code_id_query(&without).is_err());
    }

    #[test]
    fn a_well_formed_sms_code_body_parses_back_to_itself(
        id in uuid(),
        number in "1[3-9][0-9]{9}",
        plus in any::<bool>(),
        typed in "[3679ACEFHKMNPRTWXY]{4}",
        extra in any::<String>(),
    ) {
        let mobile = if plus { format!("+86{number}") } else { number.clone() };
        let body = json!({"mobile": mobile, "image_code": format!(" {typed} "), "image_code_id": id.to_uppercase(), "other": extra});
        let (m, t, i) = sms_code_body(body.to_string().as_bytes()).unwrap();
        prop_assert_eq!(m.as_str(), number.as_str());
        prop_assert_eq!(t.as_str(), typed.as_str());
        prop_assert_eq!(i.as_str(), id.as_str());
        // The parsed values, sent again, parse to the same.
        let again = json!({"mobile": m.as_str(), "image_code": t, "image_code_id": i.as_str()});
        prop_assert_eq!(sms_code_body(again.to_string().as_bytes()).unwrap(), (m, t, i));
    }

    #[test]
    fn a_body_missing_a_field_or_of_the_wrong_shape_is_refused(
        id in uuid(),
        number in "1[3-9][0-9]{9}",
        drop in 0usize..3,
        wrong in prop_oneof![Just(json!(null)), Just(json!(1)), Just(json!([])), Just(json!({})), Just(json!(" "))],
    ) {
        let mut fields = vec![("mobile", json!(number)), ("image_code", json!("ABCD")), ("image_code_id", json!(id))];
        let mut missing = serde_json::Map::new();
        let mut mistyped = serde_json::Map::new();
        for (i, (k, v)) in fields.drain(..).enumerate() {
            if i != drop {
                missing.insert(k.to_owned(), v.clone());
            }
            mistyped.insert(k.to_owned(), if i == drop { wrong.clone() } else { v });
        }
        for body in [missing, mistyped] {
            let refused = sms_code_body(serde_json::Value::Object(body).to_string().as_bytes());
            prop_assert!(matches!(refused, Err(Refused::Field(_))), "{refused:?}");
        }
        // Positional (array) and scalar bodies are not objects.
        let array = json!([number, "ABCD", id]);
        prop_assert_eq!(sms_code_body(array.to_string().as_bytes()), Err(Refused::NotAnObject));
        // A JSON string holding the object (double-encoded) is refused too.
        let inner = json!({"mobile": number, "image_code": "ABCD", "image_code_id": id}).to_string();
        prop_assert_eq!(sms_code_body(json!(inner).to_string().as_bytes()), Err(Refused::NotAnObject));
    }

    #[test]
    fn a_check_body_takes_six_digits(number in "1[3-9][0-9]{9}", code in "[0-9]{6}", bad in "[0-9]{0,5}|[0-9]{7}|[0-9]{3}[a-z ][0-9]{2}") {
        let (m, c) = check_body(json!({"mobile": number, "sms_code": code}).to_string().as_bytes()).unwrap();
        prop_assert_eq!((m.as_str(), c.as_str()), (number.as_str(), code.as_str()));
        let wrong = json!({"mobile": number, "sms_code": bad}).to_string();
        let number_typed = json!({"mobile": number, "sms_code": code.parse::<u32>().unwrap()}).to_string();
        prop_assert!(check_body(wrong.as_bytes()).is_err());
        prop_assert!(check_body(number_typed.as_bytes()).is_err());
    }

    #[test]
    fn forwarded_for_believes_only_trusted_hops(client in ip(), spoofed in ip(), hops in 0usize..4) {
        // The proxies are 10.0.0.0/8; the client sent a spoofed entry first.
        let proxies: Vec<String> = (0..hops).map(|i| format!("10.0.0.{}", i + 2)).collect();
        let mut chain = vec![spoofed.to_string(), client.to_string()];
        chain.extend(proxies.iter().cloned());
        let value = chain.join(", ");
        let peer = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let counted = forwarded_for(&["10.0.0.0/8"], peer, &[value.as_bytes()]);
        let client_is_trusted = matches!(client, IpAddr::V4(v4) if v4.octets()[0] == 10);
        if !client_is_trusted {
            prop_assert_eq!(normal(counted), normal(client));
        }
        // An untrusted peer's header is never believed.
        let outside = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
        prop_assert_eq!(forwarded_for(&["10.0.0.0/8"], outside, &[value.as_bytes()]), outside);
        // Split over several header lines, the chain means the same.
        let lines: Vec<&[u8]> = chain.iter().map(|s| s.as_bytes()).collect();
        prop_assert_eq!(forwarded_for(&["10.0.0.0/8"], peer, &lines), counted);
    }

    #[test]
    fn a_bearer_key_is_read_whatever_the_schemes_case(key in "[A-Za-z0-9._~+/-]{16,64}", upper in any::<bool>()) {
        let scheme = if upper { "BEARER" } else { "Bearer" };
        let bearer = format!("{scheme} {key}");
        let basic = format!("Basic {key}");
        let empty = format!("{scheme}  ");
        prop_assert_eq!(authorization(&bearer), Some(key.as_str()));
        prop_assert_eq!(authorization(&basic), None);
        prop_assert_eq!(authorization(&key), None);
        prop_assert_eq!(authorization(&empty), None);
    }

    #[test]
    fn the_config_loader_refuses_junk_with_a_key_named(key in "[A-Z_]{1,12}", value in any::<String>()) {
        let env = HashMap::from([(format!("PASSPORT__SERVER__{key}"), value.clone())]);
        match config("", &env) {
            Ok(_) => {}
            Err(e) => prop_assert!(!e.key.is_empty()),
        }
        // The same value for a known numeric key, from a file or from the
        // environment, loads to the same settings or is refused by both.
        let from_env = config("", &HashMap::from([("PASSPORT__SERVER__BODY_TIMEOUT_MS".to_owned(), value.clone())]));
        let as_toml = toml_string(&value);
        let from_file = config(&format!("[server]\nbody_timeout_ms = {as_toml}\n"), &HashMap::new());
        if let (Ok(a), Ok(b)) = (&from_env, &from_file) {
            prop_assert_eq!(a.server.body_timeout_ms, b.server.body_timeout_ms);
        }
    }

    #[test]
    fn a_port_loads_alike_from_a_file_and_the_environment(port in any::<u16>()) {
        let from_env = config("", &HashMap::from([("PASSPORT__SERVER__PORT".to_owned(), port.to_string())])).unwrap();
        let from_file = config(&format!("[server]\nport = {port}\n"), &HashMap::new()).unwrap();
        prop_assert_eq!(from_env.server.port, port);
        prop_assert_eq!(from_file.server.port, port);
    }
}

/// An IPv4-mapped IPv6 address counts as its IPv4 address.
fn normal(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// `value` as a TOML basic string.
fn toml_string(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[test]
fn junk_config_is_refused_naming_its_key() {
    for (toml, key) in [
        ("[server]\nport = \"x\"\n", "server.port"),
        ("[server]\nbody_timeout_ms = 0\n", "server.body_timeout_ms"),
        ("[server\n", ""),
    ] {
        let e = config(toml, &HashMap::new()).unwrap_err();
        assert!(e.key.contains(key), "{toml:?}: {e}");
    }
    assert!(config("", &HashMap::new()).is_ok());
}
