//! Bench only; see `benches/peer.rs`. Run with
//! `CARGO_TARGET_DIR=target/peer cargo bench --manifest-path bench/peer-captcha/Cargo.toml`.
