//! `docs/architecture.md` draws the store calls of one request: every store
//! method it names must be one the traits really have, so the drawing cannot
//! drift from the code again.

const ARCHITECTURE: &str = include_str!("../../../docs/architecture.md");
const TRAITS: [&str; 2] = [
    include_str!("../src/lib.rs"),
    include_str!("../src/sms_code.rs"),
];

/// The store methods the traits declare.
fn methods() -> Vec<String> {
    TRAITS
        .iter()
        .flat_map(|src| src.lines())
        .filter_map(|line| line.trim().strip_prefix("async fn "))
        .filter_map(|rest| rest.split('(').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_store_call_in_the_diagram_exists() {
    let methods = methods();
    assert!(methods.len() >= 8, "{methods:?}");
    let calls: Vec<&str> = ARCHITECTURE
        .lines()
        .filter_map(|line| line.trim().strip_prefix("V->>K: "))
        .filter_map(|call| call.split_whitespace().next())
        .collect();
    assert!(calls.len() >= 3, "the diagram names its store calls");
    for call in calls {
        assert!(
            methods.iter().any(|m| m == call),
            "docs/architecture.md calls `{call}`, which no store trait has ({methods:?})"
        );
    }
    // The give-back named on the sender's line, too.
    for named in ["revoke_code", "decr"] {
        assert!(methods.iter().any(|m| m == named), "{named}");
    }
}
