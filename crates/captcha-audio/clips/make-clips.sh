#!/usr/bin/env bash
# Makes the vendored digit clips: one per digit 0-9 for English (en) and Mandarin (cmn).
#
#   crates/captcha-audio/clips/make-clips.sh
#
# Needs espeak-ng and sox (Debian: apt install espeak-ng sox). Each clip is spoken by espeak-ng's
# own formant synthesiser (never an MBROLA voice), trimmed of leading and trailing silence,
# peak-normalised to -1 dBFS, resampled to 8 kHz mono and stored as raw 8-bit G.711 mu-law
# (`<lang>/<digit>.ul`), which the crate decodes itself. Dither is off (`-D`), so a rerun with
# the same espeak-ng gives the same bytes. Output differs between espeak-ng versions, so the
# version used is written to `espeak-ng-version.txt` and `SHA256SUMS` records the bytes; commit
# all three together. Provenance and licence: README.md beside this script.
set -euo pipefail

cd "$(dirname "$0")"
command -v espeak-ng >/dev/null || { echo "make-clips: espeak-ng not found" >&2; exit 2; }
command -v sox >/dev/null || { echo "make-clips: sox not found" >&2; exit 2; }

# Words per digit 0..9. Mandarin is written in tone-numbered pinyin for the cmn-latn-pinyin
# voice: the cmn voice of espeak-ng 1.51 as packaged by Debian reads the Hanzi digits with
# English words ("ling", "two"), which is wrong.
en_words=(zero one two three four five six seven eight nine)
cmn_words=(ling2 yi1 er4 san1 si4 wu3 liu4 qi1 ba1 jiu3)

# A little slower than the default 175 words a minute: each digit stands alone.
speed=150
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

render() { # lang voice words...
    local lang=$1 voice=$2
    shift 2
    mkdir -p "$lang"
    local d=0
    for word in "$@"; do
        espeak-ng -v "$voice" -s "$speed" -w "$tmp/clip.wav" "$word"
        # Trim both ends (reverse, trim the start, reverse back), normalise, then resample (sox's
        # `rate` low-passes first, so nothing aliases), with 5 ms fades against clicks.
        # Two passes, since `fade` needs a known length and `silence` leaves it unknown.
        sox -D "$tmp/clip.wav" "$tmp/trimmed.wav" \
            silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse
        sox -D "$tmp/trimmed.wav" -t raw -e u-law -b 8 -c 1 "$lang/$d.ul" \
            gain -n -1 rate 8000 fade h 0.005 -0 0.005
        d=$((d + 1))
    done
}

render en en-us "${en_words[@]}"
render cmn cmn-latn-pinyin "${cmn_words[@]}"

{ espeak-ng --version | sed "s/  *Data at.*//"; dpkg-query -W -f="Debian package espeak-ng \${Version}\n" espeak-ng 2>/dev/null || true; } > espeak-ng-version.txt
sha256sum en/*.ul cmn/*.ul > SHA256SUMS
echo "make-clips: $(cat en/*.ul cmn/*.ul | wc -c) bytes in 20 clips; $(cat espeak-ng-version.txt)"
