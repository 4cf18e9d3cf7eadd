//! The built binary: configuration errors stop it with one line naming the
//! key; a good configuration serves, answers `healthcheck`, and stops on SIGTERM.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_passport-server");

/// The binary, run from an empty directory, with no PASSPORT variables but `vars`.
fn passport(vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("PASSPORT") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(std::env::temp_dir());
    cmd.envs(vars.iter().copied());
    cmd.stdin(Stdio::null());
    cmd
}

#[test]
fn a_bad_value_exits_non_zero_naming_the_key() {
    for (var, value, key) in [
        ("PASSPORT__CAPTCHA__WIDTH", "5000", "captcha.width"),
        ("PASSPORT__SERVER__PORT", "http", "server.port"),
        ("PASSPORT__STORE__BACKEND", "mongodb", "store.backend"),
        ("PASSPORT__SMS__SENDER", "carrier-pigeon", "sms.sender"),
        (
            "PASSPORT__LIMITS__SMS_PER_IP_PER_HOUR",
            "-1",
            "limits.sms_per_ip_per_hour",
        ),
        (
            "PASSPORT__SERVER__METRICS_ADDR",
            "everywhere",
            "server.metrics_addr",
        ),
        ("PASSPORT__CAPTCHA__WIDHT", "100", "widht"),
    ] {
        let out = passport(&[(var, value)]).output().unwrap();
        assert!(!out.status.success(), "{var}={value} started");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("config error: "), "{stderr}");
        assert!(stderr.contains(key), "{var}={value}: {stderr}");
    }
}

#[test]
fn secrets_are_not_printed() {
    let out = passport(&[
        ("PASSPORT__VERIFY_API__KEY", "hunter2 secret"),
        ("PASSPORT__STORE__BACKEND", "redis"),
        ("PASSPORT__STORE__REDIS__URL", "http://user:pa55word@host"),
    ])
    .output()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("store.redis.url") || stderr.contains("verify_api.key"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("hunter2") && !stderr.contains("pa55word"),
        "{stderr}"
    );
}

#[test]
fn serves_from_any_directory_answers_healthcheck_and_stops_on_sigterm() {
    let port = passport_testkit::free_port().to_string();
    let vars = [
        ("PASSPORT__SERVER__PORT", port.as_str()),
        ("PASSPORT__SERVER__METRICS_ADDR", ""),
        ("PASSPORT__LOG__JSON", "true"),
    ];
    // Nothing is listening yet.
    assert!(
        !passport(&vars)
            .arg("healthcheck")
            .status()
            .unwrap()
            .success()
    );

    let mut server = passport(&vars)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let up = passport(&vars)
            .arg("healthcheck")
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success();
        if up {
            break;
        }
        assert!(Instant::now() < deadline, "no healthy server within 20 s");
        assert!(server.try_wait().unwrap().is_none(), "the server exited");
        // Polling for readiness, each turn re-checks.
        std::thread::sleep(Duration::from_millis(20));
    }

    // One SMS request, to see what the log says about it.
    let body = r#"{"mobile":"13800138000","image_code":"ABCD","image_code_id":"0b7d3c5e-8f7a-4c1e-9d2b-3a4f5e6d7c8b"}"#;
    let mut stream = TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
    write!(
        stream,
        "POST /passport/sms_code?secret=q HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");

    // Bodies of every shape the JSON extractor refuses: a JSON string holding
    // JSON (double-encoded), a truncated object, bytes that are not UTF-8.
    // None of their content may reach the log.
    let secret_body = r#"{"mobile":"13900139001","image_code":"WXYZ","sms_code":"654321"}"#;
    let double = serde_json::to_string(secret_body).unwrap();
    let truncated = &secret_body[..secret_body.len() - 3];
    let mut not_utf8 = secret_body.as_bytes().to_vec();
    not_utf8.insert(12, 0xff);
    for bad in [double.as_bytes(), truncated.as_bytes(), &not_utf8] {
        let mut stream = TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
        write!(
            stream,
            "POST /passport/sms_code HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            bad.len()
        )
        .unwrap();
        stream.write_all(bad).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(answer.contains("\"errno\":\"4103\""), "{answer}");
    }

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = server.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "SIGTERM ends it cleanly: {:?}",
        out.status
    );

    let log = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let request = lines
        .iter()
        .find(|l| l["path"] == "/passport/sms_code")
        .unwrap_or_else(|| panic!("no request line in\n{log}"));
    assert_eq!(request["method"], "POST");
    assert_eq!(request["status"], 400);
    assert_eq!(request["errno"], "4002");
    assert!(request["latency_us"].is_u64());
    assert!(log.contains("138****8000"), "masked mobile logged:\n{log}");
    assert!(
        !log.contains("13800138000"),
        "whole mobile in the log:\n{log}"
    );
    assert!(!log.contains("secret=q"), "query in the log:\n{log}");
    assert!(!log.contains("ABCD"), "typed captcha in the log:\n{log}");
    for secret in ["13900139001", "0013900", "WXYZ", "654321"] {
        assert!(
            !log.contains(secret),
            "{secret} from a bad body in the log:\n{log}"
        );
    }
}

#[test]
fn config_dir_and_env_file_layer_under_the_environment() {
    let dir = std::env::temp_dir().join(format!("passport-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("default.toml"), "[captcha]\nwidth = 2000\n").unwrap();
    let out = passport(&[]).arg("--config").arg(&dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("captcha.width"),
        "{stderr}"
    );
    // The environment file, then the variables, override it; healthcheck
    // only loads the configuration, so it fails on "connection refused".
    std::fs::write(dir.join("prod.toml"), "[captcha]\nwidth = 300\n").unwrap();
    let port = passport_testkit::free_port().to_string();
    let out = passport(&[("PASSPORT_ENV", "prod"), ("PASSPORT__SERVER__PORT", &port)])
        .arg("--config")
        .arg(&dir)
        .arg("healthcheck")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("config error"), "{stderr}");
    let out = passport(&[("PASSPORT_CONFIG_DIR", dir.to_str().unwrap())])
        .arg("healthcheck")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("captcha.width"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn test_numbers_are_announced_at_warn_on_start_up() {
    // The port is taken, so the server stops right after building its
    // state: what it logged up to then is all there is to read.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = passport(&[
        ("PASSPORT__SERVER__PORT", port.as_str()),
        ("PASSPORT__SERVER__METRICS_ADDR", ""),
        ("PASSPORT__SMS__TEST_NUMBERS", "13800000000:246810"),
    ])
    .output()
    .unwrap();
    assert!(!out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    let line = log
        .lines()
        .find(|l| l.contains("sms.test_numbers"))
        .unwrap_or_else(|| panic!("no start-up warning: {log}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("138****0000"), "{line}");
    assert!(
        !log.contains("246810") && !log.contains("13800000000"),
        "{log}"
    );
}
