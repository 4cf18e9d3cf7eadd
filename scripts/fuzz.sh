#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for SECS seconds each (default 60) with
# libFuzzer through cargo-fuzz, on the stable toolchain (no sanitizer), and
# prints each target's executions per second and coverage (`cov:`) at the end.
#
#   scripts/fuzz.sh [SECS] [TARGET ...]        (`make fuzz`)
#
# Installs cargo-fuzz when missing. A crash stops the run; its input is kept
# in fuzz/artifacts/<target>/ and `cargo fuzz run -s none <target> <file>`
# replays it.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

secs=${1:-60}
shift || true
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || mapfile -t targets < <(cargo fuzz list)

cargo fuzz build -s none
summary=()
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    log=$(mktemp)
    echo "fuzz: $target for ${secs}s"
    cargo fuzz run -s none "$target" "corpus/$target" -- -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1 || {
        tail -40 "$log" >&2
        echo "fuzz: $target failed; the input is in fuzz/artifacts/$target/" >&2
        exit 1
    }
    # The last status line: "#<runs> DONE cov: <n> ft: <n> corp: ... exec/s: <n> ..."
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    runs=$(sed -E 's/^#([0-9]+).*/\1/' <<<"$last")
    cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | cut -d' ' -f2)
    execs=$(grep -oE 'exec/s: [0-9]+' <<<"$last" | cut -d' ' -f2)
    summary+=("$(printf '| `%s` | %s | %s | %s |' "$target" "$runs" "$execs" "$cov")")
    rm -f "$log"
done
echo
echo "| target | runs in ${secs} s | exec/s | cov |"
echo "|---|---|---|---|"
printf '%s\n' "${summary[@]}"
