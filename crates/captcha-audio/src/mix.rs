//! Lays the answer's clips out in time and mixes in the background.
//!
//! All randomness for the answer's own speech is drawn first and in a fixed amount, the
//! background's after it, so a challenge with the background turned off speaks exactly the same
//! digits at the same places (the tests measure the speech-to-background ratio that way).

use rand::{Rng, RngExt};

use crate::clips::Set;
use crate::{DIGITS, Params, SAMPLE_RATE};

const RATE: f32 = SAMPLE_RATE as f32;
/// Shortest and longest challenge, in samples (4 s and 10 s).
const MIN_LEN: usize = 4 * SAMPLE_RATE as usize;
const MAX_LEN: usize = 10 * SAMPLE_RATE as usize;
/// Speed-and-pitch factor of the answer's digits: a clip read this much faster (linear
/// resampling) is that much shorter and higher.
const SPEECH_FACTOR: (f32, f32) = (0.9, 1.1);
/// Per-digit gain of the answer, so the digits are not all equally loud.
const SPEECH_GAIN: (f32, f32) = (0.8, 1.0);
/// Silence before the first digit, between digits and after the last, in seconds. The gaps are
/// long enough that a listener hears six separate words over the babble.
const LEAD: (f32, f32) = (0.3, 0.6);
const GAP: (f32, f32) = (0.35, 0.75);
const TAIL: (f32, f32) = (0.3, 0.6);
/// Babble: this many overlapping streams of random digits, each a little slower or faster and
/// so lower or higher than the answer's voice, with short pauses.
const BABBLE_VOICES: usize = 3;
const BABBLE_FACTOR: (f32, f32) = (0.8, 1.25);
const BABBLE_GAIN: (f32, f32) = (0.5, 1.0);
const BABBLE_PAUSE: (f32, f32) = (0.0, 0.2);
/// The answer's level in the output: RMS over its spoken samples at -20 dBFS leaves headroom
/// for the background; peaks are then kept under full scale.
const SPEECH_RMS: f32 = 0.1;
const PEAK: f32 = 0.98;

/// A mixed challenge before encoding.
pub(crate) struct Mixed {
    pub(crate) samples: Vec<i16>,
    pub(crate) onsets: [usize; DIGITS],
}

fn uniform<R: Rng + ?Sized>(rng: &mut R, (lo, hi): (f32, f32)) -> f32 {
    rng.random_range(lo..hi)
}

fn seconds(s: f32) -> usize {
    (s * RATE) as usize
}

/// Reading position step for `factor`, in 16.16 fixed point: integer stepping keeps the inner
/// loop free of float-to-integer conversions, the bulk of its cost otherwise.
fn step(factor: f32) -> u32 {
    (factor * 65536.0) as u32
}

/// Length of `len` samples read `factor` times faster: the last output sample still has a
/// next input sample to interpolate towards.
fn resampled_len(len: usize, factor: f32) -> usize {
    if len < 2 {
        return len;
    }
    (((len as u64 - 1) << 16) - 1) as usize / step(factor) as usize + 1
}

/// Adds `clip`, read `factor` times faster (linear interpolation) and scaled by `gain`, into
/// `out` from `at` on, cut at the end of `out`. Linear interpolation is crude (a little
/// aliasing when reading faster), which is harmless for speech at this rate and cheap.
fn add_resampled(out: &mut [f32], at: usize, clip: &[f32], factor: f32, gain: f32) {
    if clip.len() < 2 || at >= out.len() {
        return;
    }
    let n = resampled_len(clip.len(), factor).min(out.len() - at);
    let step = step(factor) as usize;
    for (j, o) in out[at..at + n].iter_mut().enumerate() {
        let pos = j * step;
        let i = pos >> 16;
        let frac = (pos & 0xffff) as f32 * (1.0 / 65536.0);
        let (a, b) = (clip[i], clip[i + 1]);
        *o += gain * (a + (b - a) * frac);
    }
}

/// A small xorshift generator for the broadband noise: tens of thousands of samples per
/// challenge would cost most of the time budget through a CSPRNG, and noise needs no secrecy
/// (the answer comes from the caller's RNG). Seeded from that RNG, so output stays a pure
/// function of it.
struct Hiss(u64);

impl Hiss {
    /// Uniform in [-1, 1): variance 1/3.
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) as f32 / (1u64 << 23) as f32) - 1.0
    }
}

pub(crate) fn mix<R: Rng + ?Sized>(
    clips: &Set,
    digits: &[u8; DIGITS],
    params: &Params,
    rng: &mut R,
) -> Mixed {
    // The answer's timing, drawn in a fixed order and amount.
    let mut lead = seconds(uniform(rng, LEAD));
    let mut tail = seconds(uniform(rng, TAIL));
    let mut words = [(0usize, 0f32, 0f32); DIGITS]; // (length, factor, gain)
    let mut gaps = [0usize; DIGITS - 1];
    for (i, w) in words.iter_mut().enumerate() {
        let factor = uniform(rng, SPEECH_FACTOR);
        let gain = uniform(rng, SPEECH_GAIN);
        *w = (
            resampled_len(clips[usize::from(digits[i])].len(), factor),
            factor,
            gain,
        );
        if let Some(g) = gaps.get_mut(i) {
            *g = seconds(uniform(rng, GAP));
        }
    }
    let spoken: usize = words.iter().map(|w| w.0).sum();
    let quiet = lead + tail + gaps.iter().sum::<usize>();
    if spoken + quiet < MIN_LEN {
        // Short clips (Mandarin digits are brief): pad the ends, not the gaps, so the rhythm of
        // the digits stays the same.
        let extra = MIN_LEN - spoken - quiet;
        lead += extra / 2;
        tail += extra - extra / 2;
    } else if spoken + quiet > MAX_LEN {
        // Only reachable with slower clips than the vendored ones: shrink every pause alike.
        let keep = MAX_LEN.saturating_sub(spoken) as f32 / quiet as f32;
        lead = (lead as f32 * keep) as usize;
        tail = (tail as f32 * keep) as usize;
        for g in &mut gaps {
            *g = (*g as f32 * keep) as usize;
        }
    }
    let total = lead + spoken + tail + gaps.iter().sum::<usize>();

    let mut speech = vec![0f32; total];
    let mut onsets = [0usize; DIGITS];
    let mut at = lead;
    for (i, &(len, factor, gain)) in words.iter().enumerate() {
        onsets[i] = at;
        add_resampled(
            &mut speech,
            at,
            &clips[usize::from(digits[i])],
            factor,
            gain,
        );
        at += len + gaps.get(i).copied().unwrap_or(0);
    }

    // Level of the answer over the samples where it is spoken: what a listener attends to.
    let (mut energy, mut active) = (0f64, 0usize);
    for (&start, &(len, ..)) in onsets.iter().zip(&words) {
        energy += speech[start..start + len]
            .iter()
            .map(|&s| f64::from(s * s))
            .sum::<f64>();
        active += len;
    }
    let speech_power = (energy / active.max(1) as f64).max(1e-12);

    let mut out = speech;
    if params.background {
        let mut babble = vec![0f32; total];
        for _ in 0..BABBLE_VOICES {
            // Digits drawn uniformly, whatever the answer: babble made only of the other digits
            // would tell an attacker which digits the answer lacks.
            let mut at = seconds(uniform(rng, (0.0, 0.4)));
            while at < total {
                let clip = &clips[rng.random_range(0..10usize)];
                let factor = uniform(rng, BABBLE_FACTOR);
                let gain = uniform(rng, BABBLE_GAIN);
                add_resampled(&mut babble, at, clip, factor, gain);
                at += resampled_len(clip.len(), factor) + seconds(uniform(rng, BABBLE_PAUSE));
            }
        }
        // Scale the babble to the configured speech-to-babble ratio, measured where the answer
        // is spoken (the babble is steady, so elsewhere it is about as loud).
        let babble_energy: f64 = onsets
            .iter()
            .zip(&words)
            .map(|(&start, &(len, ..))| {
                babble[start..start + len]
                    .iter()
                    .map(|&s| f64::from(s * s))
                    .sum::<f64>()
            })
            .sum();
        let babble_power = (babble_energy / active.max(1) as f64).max(1e-12);
        let babble_gain =
            (speech_power / babble_power / 10f64.powf(f64::from(params.babble_db) / 10.0)).sqrt()
                as f32;
        // Uniform noise has variance 1/3.
        let hiss_gain =
            (3.0 * speech_power / 10f64.powf(f64::from(params.hiss_db) / 10.0)).sqrt() as f32;
        let mut hiss = Hiss(rng.next_u64() | 1);
        for (o, b) in out.iter_mut().zip(&babble) {
            *o += babble_gain * b + hiss_gain * hiss.next();
        }
    }

    // Loudness: the answer at a fixed level, unless that would clip.
    let peak = out.iter().fold(0f32, |m, s| m.max(s.abs())).max(1e-9);
    let gain = (SPEECH_RMS / speech_power.sqrt() as f32).min(PEAK / peak);
    // Round half away from zero by hand: `f32::round` is a library call on baseline x86_64
    // (no SSE4.1), which made this loop a third of the whole challenge; the cast truncates
    // and saturates in one instruction.
    let scale = gain * 32767.0;
    let samples = out
        .iter()
        .map(|s| {
            let v = s * scale;
            (v + 0.5f32.copysign(v)) as i16
        })
        .collect();
    Mixed { samples, onsets }
}
