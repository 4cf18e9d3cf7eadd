#!/usr/bin/env bash
# How often off-the-shelf OCR reads our captchas.
#
#   scripts/ocr-check.sh [COUNT] [-- extra arguments for the samples example, e.g. --noise 1]
#
# Renders COUNT (default 500) captchas with the `samples` example, then gives each one to
# tesseract after the usual clean-up (grayscale, 3x upscale, Otsu threshold, 3x3 median filter)
# in three single-line/word page modes with the alphabet as whitelist. A captcha counts as read
# when any mode returns exactly its answer (case-insensitive), so the figure is the rate of the
# best of the three attempts. Set OCR_KEEP=1 to keep the samples.
# Needs tesseract (Debian: tesseract-ocr) and python3; installs Pillow with pip if it is missing.
set -euo pipefail

count=500
if [[ $# -gt 0 && $1 != "--" ]]; then count=$1; shift; fi
if [[ $# -gt 0 && $1 == "--" ]]; then shift; fi
extra=("$@")

command -v tesseract >/dev/null || { echo "ocr-check: tesseract not found (apt install tesseract-ocr)" >&2; exit 2; }
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install --quiet pillow

root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
if [[ -n ${OCR_KEEP:-} ]]; then echo "ocr-check: samples kept in $dir" >&2; else trap 'rm -rf "$dir"' EXIT; fi

cd "$root"
cargo run --quiet --release -p passport-captcha-render --example samples -- \
    --count "$count" --out "$dir" "${extra[@]}"

export OMP_THREAD_LIMIT=1
python3 - "$dir" <<'PY'
import os, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
from PIL import Image, ImageFilter

ALPHABET = os.environ.get("OCR_ALPHABET", "3679ACEFHKMNPRTWXY")
MODES = ["7", "8", "13"]
src = sys.argv[1]
files = sorted(f for f in os.listdir(src) if f.endswith((".png", ".jpg")))

def otsu(gray):
    hist = gray.histogram()
    total = sum(hist)
    sum_all = sum(i * h for i, h in enumerate(hist))
    best, best_t, w0, sum0 = -1.0, 128, 0, 0.0
    for t in range(256):
        w0 += hist[t]
        if w0 == 0 or w0 == total:
            continue
        sum0 += t * hist[t]
        m0, m1 = sum0 / w0, (sum_all - sum0) / (total - w0)
        between = w0 * (total - w0) * (m0 - m1) ** 2
        if between > best:
            best, best_t = between, t
    return best_t

def prepare(path, out):
    gray = Image.open(path).convert("L")
    gray = gray.resize((gray.width * 3, gray.height * 3), Image.BICUBIC)
    t = otsu(gray)
    bw = gray.point(lambda v: 255 if v > t else 0)
    bw = bw.filter(ImageFilter.MedianFilter(3))
    bw.save(out)

def read(name):
    answer = name.split(".")[0].split("_")[0].upper()
    pre = os.path.join(src, "pre-" + os.path.splitext(name)[0] + ".png")
    prepare(os.path.join(src, name), pre)
    got = {}
    for psm in MODES:
        r = subprocess.run(
            ["tesseract", pre, "stdout", "--psm", psm,
             "-c", "tessedit_char_whitelist=" + ALPHABET + ALPHABET.lower()],
            capture_output=True, text=True)
        got[psm] = "".join(r.stdout.split()).upper()
    return answer, got

with ThreadPoolExecutor(max_workers=2) as pool:
    results = list(pool.map(read, files))

per_mode = {m: 0 for m in MODES}
any_read = 0
chars_right = 0
total_chars = 0
for answer, got in results:
    hit = False
    for m in MODES:
        if got[m] == answer:
            per_mode[m] += 1
            hit = True
    any_read += hit
    if hit:
        print(f"  read: {answer} ({', '.join(f'psm {m}: {got[m]}' for m in MODES)})")
    best = max(sum(a == b for a, b in zip(answer, got[m])) for m in MODES)
    chars_right += best
    total_chars += len(answer)
n = len(results)
print(f"samples: {n}")
for m in MODES:
    print(f"  psm {m:>2}: {per_mode[m]} read")
print(f"read (any mode): {any_read} of {n} = {100.0 * any_read / max(n, 1):.2f}%")
print(f"characters right in place (best mode): {100.0 * chars_right / max(total_chars, 1):.1f}%")
PY
