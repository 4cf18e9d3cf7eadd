#!/usr/bin/env bash
# How often off-the-shelf solvers read our captchas: ddddocr (both shipped models, with and
# without the alphabet restriction) and tesseract, on each image as served and after each
# clean-up (grayscale, 2x upscale, 3x3 median, Otsu threshold, their chain, two colour
# separations, and seven more: see scripts/ocr-check.py). A captcha counts as broken when any reader reads any variant exactly.
#
#   scripts/ocr-check.sh [COUNT] [-- extra arguments for the samples example, e.g. --style classic]
#
# COUNT defaults to 1000, at the defaults of config/default.toml (the renderer's defaults).
# Installs ddddocr and Pillow into a private virtualenv under the cargo target directory.
# Needs python3 (with venv) and tesseract (Debian: tesseract-ocr). OCR_KEEP=1 keeps the samples;
# OCR_NO_TESSERACT=1 skips tesseract (quicker while tuning); OCR_SHOW=1 lists the broken files.
set -euo pipefail

count=1000
if [[ $# -gt 0 && $1 != "--" ]]; then count=$1; shift; fi
if [[ $# -gt 0 && $1 == "--" ]]; then shift; fi
extra=("$@")

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
venv=$target/ocr-venv

command -v tesseract >/dev/null || { echo "ocr-check: tesseract not found (apt install tesseract-ocr)" >&2; exit 2; }
if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import ddddocr, PIL' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet ddddocr pillow
fi

dir=$(mktemp -d)
if [[ -n ${OCR_KEEP:-} ]]; then echo "ocr-check: samples kept in $dir" >&2; else trap 'rm -rf "$dir"' EXIT; fi

cd "$root"
cargo run --quiet --release -p passport-captcha-render --example samples -- \
    --count "$count" --out "$dir" ${extra[@]+"${extra[@]}"}

export OMP_THREAD_LIMIT=1 OMP_NUM_THREADS=1
"$venv/bin/python" scripts/ocr-check.py "$dir"
