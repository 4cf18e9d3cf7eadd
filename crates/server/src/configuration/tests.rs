//! The loader: layers, keys named in errors, secrets kept out of them.
use std::collections::HashMap;

use captcha_render::Params;
use verify::Policy;

use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    Settings::load_from(None, &env(pairs), false)
}

#[test]
fn defaults_parse_and_validate() {
    let s = Settings::defaults();
    assert_eq!(s.server.port, 8080);
    assert_eq!(s.store.backend, Backend::Memory);
    assert_eq!(s.limits, Policy::default());
    assert_eq!(s.captcha, Params::default());
    assert_eq!(s.server.metrics_addr, "127.0.0.1:9898");
    assert!(s.verify_api.key.is_empty());
    // Connection caps on by default; the total derived from the descriptor limit.
    assert_eq!(s.server.max_connections_per_ip, 64);
    assert_eq!(s.server.max_connections, 0);
    assert!(s.max_connections() >= crate::connections::MIN_DERIVED_TOTAL);
    let s = load(&[("PASSPORT__SERVER__MAX_CONNECTIONS", "500")]).unwrap();
    assert_eq!(s.max_connections(), 500);
}

#[test]
fn the_mobile_format_comes_from_the_environment() {
    let s = load(&[("PASSPORT__MOBILE__FORMAT", "e164")]).unwrap();
    assert_eq!(s.mobile.format(), verify::MobileFormat::E164);
    assert_eq!(s.mobile.pattern(), verify::MobileRule::DEFAULT_E164_PATTERN);
    assert_eq!(
        s.mobile.parse("0044 7700 900123").unwrap().as_str(),
        "+447700900123"
    );
    let s = Settings::defaults();
    assert_eq!(s.mobile.format(), verify::MobileFormat::Cn);
    assert_eq!(s.mobile.pattern(), verify::MobileRule::DEFAULT_PATTERN);
    let e = load(&[("PASSPORT__MOBILE__FORMAT", "uk")]).unwrap_err();
    assert!(e.to_string().contains("mobile"), "{e}");
}

#[test]
fn test_numbers_come_from_the_environment_and_are_checked() {
    assert!(Settings::defaults().test_numbers().unwrap().is_empty());
    let s = load(&[(
        "PASSPORT__SMS__TEST_NUMBERS",
        "13800000000:246810, +8613900000000:135790",
    )])
    .unwrap();
    let numbers = s.test_numbers().unwrap();
    assert_eq!(numbers.len(), 2);
    let reviewer = s.mobile.parse("13900000000").unwrap();
    assert_eq!(numbers.get(&reviewer).unwrap().as_str(), "135790");
    for (value, why) in [
        ("13800000000:2468", "six digits"),
        ("12345:246810", "mobile rule"),
        ("13800000000:246810,+8613800000000:135790", "twice"),
    ] {
        let e = load(&[("PASSPORT__SMS__TEST_NUMBERS", value)]).unwrap_err();
        assert_eq!(e.key, "sms.test_numbers", "{value}: {e}");
        assert!(e.reason.contains(why), "{value}: {e}");
        assert!(!e.to_string().contains("2468"), "{e}");
    }
}

#[test]
fn a_gateway_table_can_come_from_the_environment() {
    let s = load(&[
        ("PASSPORT__SMS__SENDER", "tencent"),
        ("PASSPORT__SMS__TENCENT__SECRET_ID", "AKIDtest"),
        ("PASSPORT__SMS__TENCENT__SECRET_KEY", "0123"),
        ("PASSPORT__SMS__TENCENT__SDK_APP_ID", "1400006666"),
        ("PASSPORT__SMS__TENCENT__SIGN_NAME", "Passport"),
        ("PASSPORT__SMS__TENCENT__TEMPLATE_ID", "1110"),
        ("PASSPORT__SMS__TENCENT__REGION", "ap-guangzhou"),
    ])
    .unwrap();
    let t = s.sms.tencent.as_ref().expect("[sms.tencent]");
    assert_eq!(t.sdk_app_id, "1400006666");
    assert_eq!(t.endpoint, "https://sms.tencentcloudapi.com");
    let e = load(&[("PASSPORT__SMS__SENDER", "tencent")]).unwrap_err();
    assert_eq!(e.key, "sms.tencent", "{e}");
}

#[test]
fn environment_overrides_nested_keys() {
    let s = load(&[
        ("PASSPORT__SERVER__PORT", "9000"),
        ("PASSPORT__STORE__BACKEND", "redis"),
        ("PASSPORT__STORE__REDIS__URL", "redis://127.0.0.1:7000"),
        ("PASSPORT__LIMITS__SMS_PER_IP_PER_HOUR", "0"),
        ("PASSPORT__COMPAT__ERRORS_AS_200", "true"),
        ("PASSPORT__SERVER__TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
        ("PASSPORT__SERVER__METRICS_ADDR", ""),
        ("PASSPORT__VERIFY_API__KEY", "0000111122223333"),
        ("PASSPORT_ENV", ""),
    ])
    .unwrap();
    assert_eq!(s.server.port, 9000);
    assert_eq!(s.store.backend, Backend::Redis);
    assert_eq!(s.store.redis.url, "redis://127.0.0.1:7000");
    assert_eq!(s.limits.sms_per_ip_per_hour, 0);
    assert!(s.compat.errors_as_200);
    assert_eq!(s.server.trusted_proxies, ["10.0.0.0/8", "127.0.0.1"]);
    assert_eq!(s.server.metrics_addr, "");
    // Digit-only secrets keep their leading zeros.
    assert_eq!(s.verify_api.key.expose(), "0000111122223333");
}

#[test]
fn bad_values_name_their_key() {
    let cases: &[(&str, &str, &str)] = &[
        ("PASSPORT__CAPTCHA__WIDTH", "5000", "captcha.width"),
        ("PASSPORT__CAPTCHA__WIDTH", "wide", "captcha.width"),
        ("PASSPORT__SERVER__PORT", "70000", "server.port"),
        ("PASSPORT__STORE__BACKEND", "mongo", "store.backend"),
        ("PASSPORT__SMS__SENDER", "pigeon", "sms.sender"),
        ("PASSPORT__LIMITS__MAX_ATTEMPTS", "0", "limits.max_attempts"),
        ("PASSPORT__LIMITS__SMS_TTL_SECS", "0", "limits.sms_ttl_secs"),
        ("PASSPORT__MOBILE__PATTERN", "(", "mobile"),
        ("PASSPORT__CAPTCHA__STYLE", "fancy", "captcha.style"),
        (
            "PASSPORT__STORE__REDIS__POOL_SIZE",
            "0",
            "store.redis.pool_size",
        ),
        (
            "PASSPORT__STORE__MEMORY__MAX_IP_COUNTERS",
            "0",
            "store.memory.max_ip_counters",
        ),
        (
            "PASSPORT__STORE__REDIS__MODE",
            "cluster",
            "store.redis.nodes",
        ),
        (
            "PASSPORT__SERVER__TRUSTED_PROXIES",
            "10.0.0.0/99",
            "server.trusted_proxies",
        ),
        (
            "PASSPORT__CORS__ALLOWED_ORIGINS",
            "*",
            "cors.allowed_origins",
        ),
        (
            "PASSPORT__SERVER__METRICS_ADDR",
            "nowhere",
            "server.metrics_addr",
        ),
        (
            "PASSPORT__MESSAGES__DEFAULT_LANG",
            "fr",
            "messages.default_lang",
        ),
        (
            "PASSPORT__COMPAT__ERRORS_AS_200",
            "maybe",
            "compat.errors_as_200",
        ),
        (
            "PASSPORT__SERVER__MAX_CONNECTIONS_PER_IP",
            "0",
            "server.max_connections_per_ip",
        ),
        (
            "PASSPORT__SERVER__MAX_CONNECTIONS",
            "2000000",
            "server.max_connections",
        ),
        (
            "PASSPORT__SERVER__KEEP_ALIVE_SECS",
            "301",
            "server.keep_alive_secs",
        ),
        (
            "PASSPORT__SERVER__HEAD_TIMEOUT_MS",
            "0",
            "server.head_timeout_ms",
        ),
        ("PASSPORT__LOG__LEVEL", "loud!", "log.level"),
        ("PASSPORT__LOG__LEVEL", "info,x=", "log.level"),
        ("PASSPORT__CAPTCHA__ALPHABET", "AA", "captcha.alphabet"),
        ("PASSPORT__SMS__SENDER", "webhook", "sms.webhook.url"),
    ];
    for (var, value, key) in cases {
        let err = load(&[(var, value)]).expect_err(var);
        assert!(
            err.to_string().contains(key),
            "{var}={value}: {err} does not name {key}"
        );
        assert!(!err.to_string().contains('\n'));
    }
}

#[test]
fn unknown_keys_are_refused() {
    let err = load(&[("PASSPORT__CAPTCHA__WIDHT", "100")]).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("captcha") && text.contains("widht"), "{text}");
}

#[test]
fn secrets_never_appear_in_errors() {
    let err = load(&[
        ("PASSPORT__VERIFY_API__KEY", "short-secret"),
        ("PASSPORT__SERVER__PORT", "80"),
    ])
    .unwrap_err();
    assert!(err.to_string().starts_with("verify_api.key:"));
    assert!(!err.to_string().contains("short-secret"));
    let s = load(&[("PASSPORT__VERIFY_API__KEY", "a-long-enough-secret")]).unwrap();
    assert!(!format!("{s:?}").contains("a-long-enough-secret"));
}

#[test]
fn secret_files_are_read_and_exclusive() {
    let dir = std::env::temp_dir().join(format!("passport-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("key");
    std::fs::write(&file, "from-a-file-0123456789\n").unwrap();
    let path = file.to_str().unwrap();
    let s = load(&[("PASSPORT__VERIFY_API__KEY_FILE", path)]).unwrap();
    assert_eq!(s.verify_api.key.expose(), "from-a-file-0123456789");
    let err = load(&[
        ("PASSPORT__VERIFY_API__KEY_FILE", path),
        ("PASSPORT__VERIFY_API__KEY", "another-key-0123456789"),
    ])
    .unwrap_err();
    assert_eq!(err.key, "verify_api.key_file");
    let err = load(&[("PASSPORT__VERIFY_API__KEY_FILE", "/nonexistent/key")]).unwrap_err();
    assert_eq!(err.key, "verify_api.key_file");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn files_layer_under_the_environment() {
    let dir = std::env::temp_dir().join(format!("passport-cfg-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("default.toml"),
        "[server]\nport = 7001\nworkers = 3\n",
    )
    .unwrap();
    std::fs::write(dir.join("staging.toml"), "[server]\nport = 7002\n").unwrap();
    let s = Settings::load_from(Some(&dir), &env(&[("PASSPORT_ENV", "staging")]), false).unwrap();
    assert_eq!((s.server.port, s.server.workers), (7002, 3));
    let s = Settings::load_from(
        Some(&dir),
        &env(&[
            ("PASSPORT_ENV", "staging"),
            ("PASSPORT__SERVER__PORT", "7003"),
        ]),
        false,
    )
    .unwrap();
    assert_eq!(s.server.port, 7003);
    std::fs::write(dir.join("default.toml"), "[server]\nport = = 1\n").unwrap();
    let err = Settings::load_from(Some(&dir), &HashMap::new(), false).unwrap_err();
    assert!(err.reason.contains("TOML"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
    let err = Settings::load_from(Some(&dir), &HashMap::new(), false).unwrap_err();
    assert_eq!(err.key, "--config");
}
