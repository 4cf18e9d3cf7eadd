# Passport's commands. `make test` runs exactly what CI runs (.ci/run calls it).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
SERVER_BIN := $(TARGET_DIR)/debug/passport-server

.PHONY: run test deps fmt-check clippy deny audit test-rust test-web test-contract fuzz bench bench-peer load samples gallery ocr screenshots up down

## The server with the page on the embedded defaults (memory store, log SMS
## sender): http://127.0.0.1:8080/
run:
	$(CARGO) run --release --locked -p passport-server --bin passport-server

## Everything CI runs: install what is missing, fmt, clippy, cargo-deny, Rust
## tests against a private redis-server, browser tests in headless Chromium,
## schemathesis against the served OpenAPI document. One debug build serves
## them all.
test: deps fmt-check clippy deny test-rust test-web test-contract

deps:
	scripts/install-test-deps.sh

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --locked --workspace --all-targets --all-features -- -D warnings

## The workspace's dependencies against deny.toml: licences, duplicate
## versions, sources (crates.io only). Installs cargo-deny when missing.
deny:
	CARGO="$(CARGO)" scripts/cargo-deny.sh check licenses bans sources

## RustSec advisories for the workspace's dependencies. Not in `make test`:
## cargo-deny fetches the advisory database from GitHub, which machines
## without GitHub access cannot reach; run it on one that can.
audit:
	CARGO="$(CARGO)" scripts/cargo-deny.sh check advisories

test-rust:
	$(CARGO) test --locked --workspace --all-features

test-web:
	test -x "$(SERVER_BIN)" || $(CARGO) build --locked -p passport-server --all-features
	PASSPORT_SERVER_BIN="$(SERVER_BIN)" node --test web/tests/*.test.mjs

## The OpenAPI document against the running server (schemathesis, private
## virtualenv, private redis-server): every check but positive_data_acceptance,
## at least 300 cases per operation that takes input.
test-contract:
	test -x "$(SERVER_BIN)" || $(CARGO) build --locked -p passport-server --all-features
	PASSPORT_SERVER_BIN="$(SERVER_BIN)" scripts/contract-check.sh 300

## Every fuzz target of fuzz/ for 60 s (cargo-fuzz, libFuzzer, stable
## toolchain, no sanitizer); prints exec/s and coverage. Not in `make test`.
fuzz:
	scripts/fuzz.sh 60

## Criterion benches (figures in docs/benchmarks.md).
bench:
	$(CARGO) bench --locked -p passport-captcha-render -p passport-captcha-audio -p passport-code-store -p passport-verify -p passport-server --all-features

## The peer baseline (the published `captcha` crate); a separate crate so the
## tests never build it.
bench-peer:
	cd bench/peer-captcha && CARGO_TARGET_DIR="$(TARGET_DIR)/peer" $(CARGO) bench

## The server under wrk (Redis and memory store).
load:
	scripts/load.sh

## 24 sample captchas named by their answer, in target/samples.
samples:
	$(CARGO) run --release --locked -p passport-captcha-render --example samples -- --count 24 --out $(TARGET_DIR)/samples

## How often off-the-shelf solvers read a captcha (ddddocr, tesseract) and a speech
## recogniser an audio challenge (pocketsphinx); private virtualenvs, not in `make test`.
ocr:
	scripts/ocr-check.sh
	scripts/asr-check.sh 200

## Screenshots of the page at desktop and phone width, into docs/screenshots/.
screenshots: deps
	test -x "$(SERVER_BIN)" || $(CARGO) build --locked -p passport-server --all-features
	PASSPORT_SERVER_BIN="$(SERVER_BIN)" node web/tests/screenshots.mjs

## The dev stack: Redis and the server in containers.
up:
	docker compose up --build -d

down:
	docker compose down
