#!/usr/bin/env bash
# How often an off-the-shelf speech recogniser reads our English audio captchas.
#
#   scripts/asr-check.sh [COUNT] [-- extra arguments for the audio_samples example, e.g. --clean]
#
# Renders COUNT (default 200) English challenges with the captcha-audio `audio_samples` example, then
# decodes each with pocketsphinx (the PyPI 5.x wheel and its en-us model, installed in a private
# virtualenv under the cargo target directory). The attacker is granted the vocabulary: a JSGF
# grammar of exactly six digit words. Two attacks are tried on every challenge, and it counts as
# read when either returns exactly its answer:
#   whole:    the whole file against the six-digit grammar;
#   segments: the six loudest separate stretches of sound (20 ms frame energy), each decoded
#             against a one-digit grammar.
# The audio is upsampled to 16 kHz with sox first (the model's rate). `--clean` turns the
# background off: the calibration showing what the recogniser does on clean speech.
# Needs python3 (with venv), sox and network access to PyPI on the first run.
# Set ASR_KEEP=1 to keep the samples.
set -euo pipefail

count=200
if [[ $# -gt 0 && $1 != "--" ]]; then count=$1; shift; fi
if [[ $# -gt 0 && $1 == "--" ]]; then shift; fi
extra=("$@")

command -v sox >/dev/null || { echo "asr-check: sox not found (apt install sox)" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
venv=$target/asr-venv
if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import pocketsphinx' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "pocketsphinx>=5,<6"
fi

dir=$(mktemp -d)
if [[ -n ${ASR_KEEP:-} ]]; then echo "asr-check: samples kept in $dir" >&2; else trap 'rm -rf "$dir"' EXIT; fi

cd "$root"
cargo run --quiet --release -p passport-captcha-audio --example audio_samples -- \
    --count "$count" --out "$dir" --lang en "${extra[@]}"

"$venv/bin/python" - "$dir" <<'PY'
import array, os, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
from pocketsphinx import Decoder

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
DIGIT = "<digit> = " + " | ".join(WORDS) + ";"
SIX = "#JSGF V1.0;\ngrammar six;\n" + DIGIT + "\npublic <answer> = <digit> <digit> <digit> <digit> <digit> <digit>;\n"
ONE = "#JSGF V1.0;\ngrammar one;\n" + DIGIT + "\npublic <answer> = <digit>;\n"
RATE = 16000
FRAME = RATE // 50  # 20 ms

src = sys.argv[1]
files = sorted(f for f in os.listdir(src) if f.endswith(".wav"))

def decoder(grammar):
    d = Decoder(samprate=RATE, dither=False, loglevel="FATAL")
    d.add_jsgf_string("g", grammar.encode())
    d.activate_search("g")
    return d

def decode(d, pcm):
    d.start_utt()
    d.process_raw(pcm, full_utt=True)
    d.end_utt()
    hyp = d.hyp()
    return "".join(str(WORDS.index(w)) for w in (hyp.hypstr.split() if hyp else []) if w in WORDS)

def segments(samples):
    """The six loudest runs of frames within 25 dB of the loudest frame, in time order."""
    energy = [sum(s * s for s in samples[i:i + FRAME]) / FRAME + 1e-9
              for i in range(0, len(samples) - FRAME + 1, FRAME)]
    floor = max(energy) * 10 ** (-25 / 10)
    runs, start, gap = [], None, 0
    for i, e in enumerate(energy + [0.0] * 7):
        if e >= floor:
            if start is None:
                start = i
            gap, end = 0, i
        elif start is not None:
            gap += 1
            if gap > 6:  # a pause of 120 ms or more ends a word
                runs.append((start, end + 1))
                start = None
    runs = sorted(sorted(runs, key=lambda r: -sum(energy[r[0]:r[1]]))[:6])
    return [(max(0, a * FRAME - 800), min(len(samples), b * FRAME + 800)) for a, b in runs]

def attack(name):
    pcm = subprocess.run(["sox", os.path.join(src, name), "-t", "raw", "-r", str(RATE),
                          "-e", "signed", "-b", "16", "-c", "1", "-"],
                         check=True, capture_output=True).stdout
    whole = decode(decoder(SIX), pcm)
    samples = array.array("h", pcm)
    one = decoder(ONE)
    pieces = "".join(decode(one, samples[a:b].tobytes()) for a, b in segments(samples))
    return name[:6], whole, pieces

with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
    results = list(pool.map(attack, files))
n = len(results)
whole = sum(a == w for a, w, _ in results)
pieces = sum(a == p for a, _, p in results)
either = sum(a in (w, p) for a, w, p in results)
digits = sum(x == y for a, w, _ in results for x, y in zip(a, w)) if n else 0
print(f"whole-file grammar: {whole} of {n} read exactly ({100 * whole / n:.1f}%); "
      f"{100 * digits / (6 * n):.1f}% of digits right in place")
print(f"segmented digits:   {pieces} of {n} read exactly ({100 * pieces / n:.1f}%)")
print(f"read by either:     {either} of {n} ({100 * either / n:.1f}%)")
PY
