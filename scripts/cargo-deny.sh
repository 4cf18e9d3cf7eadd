#!/usr/bin/env bash
# Runs `cargo deny` with the arguments given (deny.toml at the repository
# root), installing the pinned cargo-deny from crates.io first when it is
# missing or another version. cargo-deny has no optional features to turn
# off; a cold install compiles about 200 crates (a few minutes on two cores).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO="${CARGO:-cargo}"
VERSION=0.20.2

if [ "$("$CARGO" deny --version 2>/dev/null)" != "cargo-deny $VERSION" ]; then
  echo "cargo-deny.sh: installing cargo-deny $VERSION (cargo install --locked)"
  "$CARGO" install --locked "cargo-deny@$VERSION"
fi
exec "$CARGO" deny "$@"
