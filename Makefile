# The commands. `make test` runs exactly what CI runs.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run test lint fmt-check clippy test-rust

run:
	$(CARGO) run --release -p passport-server --bin passport-server

test: fmt-check clippy test-rust

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

test-rust:
	$(CARGO) test --workspace --all-features
