//! The configuration loader: a TOML file, then `PASSPORT__` variables (the
//! input after a NUL byte, one `KEY=value` per line). It loads or refuses
//! naming a key; what loads, loads again the same from its own values.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use passport_server::fuzzing::config;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let (toml, env_text) = s.split_once('\0').unwrap_or((s, ""));
    let env: HashMap<String, String> = env_text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (format!("PASSPORT__{k}"), v.to_owned()))
        .collect();
    match config(toml, &env) {
        Ok(settings) => {
            let again = format!(
                "[server]\nport = {}\nbody_timeout_ms = {}\n",
                settings.server.port, settings.server.body_timeout_ms
            );
            let reloaded = config(&again, &HashMap::new()).expect("its own values load");
            assert_eq!(reloaded.server.port, settings.server.port);
            assert_eq!(reloaded.server.body_timeout_ms, settings.server.body_timeout_ms);
        }
        Err(e) => assert!(!e.key.is_empty(), "an error names its key: {e}"),
    }
});
