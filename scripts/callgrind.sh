#!/usr/bin/env bash
# Instructions per captcha + SMS code through the rules, counted by callgrind
# (repeatable where wall time is not): the `one_flow` example run with 1 and
# with 1+N flows; the difference divided by N is the cost of one flow, start-up
# excluded.
#
#   scripts/callgrind.sh [N]      (default 100)
set -euo pipefail
n=${1:-100}
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "callgrind: valgrind not found (apt install valgrind)" >&2; exit 2; }
target=${CARGO_TARGET_DIR:-target}
cargo build --quiet --release --locked -p passport-verify --example one_flow
bin=$target/release/examples/one_flow
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() {
  if ! valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1" "$bin" "$1" >/dev/null 2>"$out/log.$1"; then
    cat "$out/log.$1" >&2
    exit 1
  fi
  sed -n 's/^summary: //p' "$out/cg.$1"
}
one=$(count 1)
many=$(count $((n + 1)))
echo "instructions per image_code + sms_code: $(( (many - one) / n )) (over $n flows; start-up with one flow: $one)"
