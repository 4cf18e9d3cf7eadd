//! The challenge as a listener (and a WAV reader) gets it: format, size, length, order of the
//! digits, masking level and determinism.

use std::io::Cursor;

use captcha_audio::{
    DIGITS, DigitsError, Lang, LangError, MIN_BABBLE_DB, Params, ParamsError, SAMPLE_RATE, Speaker,
    Speech,
};
use rand::{SeedableRng, rngs::StdRng};

const MAX_WAV_BYTES: usize = 160 * 1024;

fn speaker() -> Speaker {
    Speaker::new(Params::default()).expect("default params are valid")
}

fn clean() -> Speaker {
    Speaker::new(Params {
        background: false,
        ..Params::default()
    })
    .expect("clean params are valid")
}

/// The vendored clip of `digit`, read from the crate's files and decoded here (G.711 mu-law),
/// independently of the crate's own decoder.
fn clip(lang: Lang, digit: u8) -> Vec<f32> {
    let dir = match lang {
        Lang::Zh => "cmn",
        Lang::En => "en",
    };
    let path = format!("{}/clips/{dir}/{digit}.ul", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    raw.iter()
        .map(|&byte| {
            let u = !byte;
            let exponent = u32::from((u >> 4) & 7);
            let mantissa = i32::from(u & 15);
            let magnitude = ((2 * mantissa + 33) << (exponent + 2)) - 132;
            let value = if u & 0x80 != 0 { -magnitude } else { magnitude };
            value as f32 / 32768.0
        })
        .collect()
}

/// Normalised correlation between `samples[at..]` and the first `len` samples of `reference`
/// read `factor` times faster, resampled here by linear interpolation.
fn correlation(samples: &[i16], at: usize, reference: &[f32], factor: f32, len: usize) -> f32 {
    let n = (((reference.len() - 1) as f32 / factor) as usize + 1).min(len);
    let (mut dot, mut ss, mut rr) = (0f64, 0f64, 0f64);
    for j in 0..n {
        let Some(&s) = samples.get(at + j) else { break };
        let t = j as f32 * factor;
        let i = (t as usize).min(reference.len() - 1);
        let frac = t - i as f32;
        let a = reference[i];
        let b = *reference.get(i + 1).unwrap_or(&a);
        let r = f64::from(a + (b - a) * frac);
        let s = f64::from(s);
        dot += s * r;
        ss += s * s;
        rr += r * r;
    }
    (dot / (ss * rr).sqrt().max(1e-12)) as f32
}

/// Best normalised correlation between `samples[at..]` and `reference` read at a speed factor
/// from 0.88 to 1.12 (the crate varies speed within 0.9..1.1). A wrong factor drifts the two
/// apart along the clip, so the factor is found on the first 150 ms, then refined on the whole.
fn match_at(samples: &[i16], at: usize, reference: &[f32]) -> f32 {
    let (coarse, _) = (0..=240)
        .map(|step| 0.88 + step as f32 * 0.001)
        .map(|f| (f, correlation(samples, at, reference, f, 1200)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("factors");
    (-10..=10)
        .map(|step| {
            correlation(
                samples,
                at,
                reference,
                coarse + step as f32 * 0.0001,
                usize::MAX,
            )
        })
        .fold(f32::MIN, f32::max)
}

/// The digit whose clip best matches the speech at `at`, and that correlation.
fn recognise(samples: &[i16], at: usize, lang: Lang) -> (u8, f32) {
    (0..10u8)
        .map(|d| (d, match_at(samples, at, &clip(lang, d))))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("ten digits")
}

fn digits_of(s: &str) -> Vec<u8> {
    s.bytes().map(|b| b - b'0').collect()
}

#[test]
fn wav_parses_with_the_right_format_length_and_size() {
    let speaker = speaker();
    let mut rng = StdRng::seed_from_u64(1);
    for lang in Lang::ALL {
        for _ in 0..40 {
            let digits = Speaker::random_digits(&mut rng);
            let speech = speaker
                .speak(&digits, lang, &mut rng)
                .expect("valid digits");
            let wav = speech.to_wav();
            assert!(wav.len() <= MAX_WAV_BYTES, "{lang}: {} bytes", wav.len());
            let reader = hound::WavReader::new(Cursor::new(&wav)).expect("a valid WAV file");
            let spec = reader.spec();
            assert_eq!(spec.channels, 1);
            assert_eq!(spec.sample_rate, SAMPLE_RATE);
            assert_eq!(spec.sample_rate, 8000);
            assert_eq!(spec.bits_per_sample, 16);
            assert_eq!(spec.sample_format, hound::SampleFormat::Int);
            let samples: Vec<i16> = reader
                .into_samples::<i16>()
                .collect::<Result<_, _>>()
                .expect("samples decode");
            assert_eq!(samples, speech.samples());
            let secs = samples.len() as f32 / 8000.0;
            assert!((4.0..=10.0).contains(&secs), "{lang}: {secs} s");
            assert_eq!(secs, speech.duration_secs());
        }
    }
}

#[test]
fn seeded_challenges_are_identical_and_seeds_differ() {
    let speaker = speaker();
    for lang in Lang::ALL {
        let a = speaker.challenge("305718", lang, &mut StdRng::seed_from_u64(9));
        let b = speaker.challenge("305718", lang, &mut StdRng::seed_from_u64(9));
        let c = speaker.challenge("305718", lang, &mut StdRng::seed_from_u64(10));
        let d = speaker.challenge("305719", lang, &mut StdRng::seed_from_u64(9));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        let g1 = speaker.generate(lang, &mut StdRng::seed_from_u64(3));
        let g2 = speaker.generate(lang, &mut StdRng::seed_from_u64(3));
        assert_eq!((g1.digits, g1.wav), (g2.digits, g2.wav));
    }
    let zh = speaker.challenge("305718", Lang::Zh, &mut StdRng::seed_from_u64(9));
    let en = speaker.challenge("305718", Lang::En, &mut StdRng::seed_from_u64(9));
    assert_ne!(zh, en);
}

#[test]
fn the_answer_is_spoken_in_order_over_the_background() {
    let speaker = speaker();
    let mut rng = StdRng::seed_from_u64(5);
    for lang in Lang::ALL {
        for digits in ["305718", "999000", &Speaker::random_digits(&mut rng)] {
            let speech = speaker.speak(digits, lang, &mut rng).expect("valid digits");
            let onsets = speech.onsets();
            let answer = digits_of(digits);
            for i in 1..DIGITS {
                // Each digit starts after the previous one has been spoken (at its fastest)
                // and the shortest gap (0.35 s) has passed.
                let spoken = clip(lang, answer[i - 1]).len() as f32 / 1.1;
                assert!(
                    (onsets[i] - onsets[i - 1]) as f32 >= spoken + 0.35 * 8000.0 - 2.0,
                    "{lang} {digits}: onsets {onsets:?}"
                );
            }
            for (i, &at) in onsets.iter().enumerate() {
                let (heard, score) = recognise(speech.samples(), at, lang);
                assert_eq!(heard, answer[i], "{lang} {digits}: digit {i} ({score})");
                // 6 dB of babble caps the correlation at 1/sqrt(1.25) = 0.89.
                assert!(score > 0.6, "{lang} {digits}: digit {i} matches at {score}");
            }
        }
    }
}

#[test]
fn every_digit_in_every_language_is_spoken() {
    let clean = clean();
    let mut rng = StdRng::seed_from_u64(11);
    for lang in Lang::ALL {
        for d in 0..10u8 {
            let digits = char::from(b'0' + d).to_string().repeat(DIGITS);
            let speech = clean.speak(&digits, lang, &mut rng).expect("valid digits");
            let reference = clip(lang, d);
            assert!(
                (1600..8000).contains(&reference.len()),
                "{lang} {d}: {} samples",
                reference.len()
            );
            for &at in speech.onsets() {
                let score = match_at(speech.samples(), at, &reference);
                assert!(score > 0.98, "{lang} {d} at {at}: {score}");
            }
        }
    }
}

/// Speech-to-background ratio in dB where the answer is spoken, from the same seed rendered with
/// and without the background: the clean rendering, fitted to the noisy one by least squares,
/// is the speech; what is left is the background.
fn measured_ratio(params: Params, lang: Lang, seed: u64) -> f64 {
    let noisy = Speaker::new(params).expect("valid params");
    let clean = Speaker::new(Params {
        background: false,
        ..params
    })
    .expect("valid params");
    let digits = "305718";
    let n: Speech = noisy
        .speak(digits, lang, &mut StdRng::seed_from_u64(seed))
        .expect("valid");
    let c = clean
        .speak(digits, lang, &mut StdRng::seed_from_u64(seed))
        .expect("valid");
    assert_eq!(
        n.onsets(),
        c.onsets(),
        "same timing with and without background"
    );
    let mut ranges = Vec::new();
    for (&at, d) in c.onsets().iter().zip(digits_of(digits)) {
        ranges.push(at..at + (clip(lang, d).len() as f32 / 1.1) as usize);
    }
    let (mut nc, mut cc) = (0f64, 0f64);
    for r in &ranges {
        for i in r.clone() {
            let (x, y) = (f64::from(c.samples()[i]), f64::from(n.samples()[i]));
            nc += x * y;
            cc += x * x;
        }
    }
    let scale = nc / cc;
    let (mut speech, mut rest) = (0f64, 0f64);
    for r in &ranges {
        for i in r.clone() {
            let s = scale * f64::from(c.samples()[i]);
            speech += s * s;
            rest += (f64::from(n.samples()[i]) - s).powi(2);
        }
    }
    10.0 * (speech / rest).log10()
}

#[test]
fn the_background_sits_at_the_configured_level() {
    for lang in Lang::ALL {
        for babble_db in [MIN_BABBLE_DB, 12.0] {
            for seed in 0..4 {
                let params = Params {
                    babble_db,
                    ..Params::default()
                };
                let got = measured_ratio(params, lang, seed);
                // The hiss (20 dB down) takes about 0.1 dB off the babble ratio.
                assert!(
                    (got - f64::from(babble_db)).abs() < 1.5,
                    "{lang} babble {babble_db} dB, seed {seed}: measured {got:.2} dB"
                );
            }
        }
    }
}

#[test]
fn loudness_is_normalised_without_clipping() {
    let speaker = speaker();
    let mut rng = StdRng::seed_from_u64(21);
    for lang in Lang::ALL {
        let mut levels = Vec::new();
        for _ in 0..20 {
            let digits = Speaker::random_digits(&mut rng);
            let speech = speaker.speak(&digits, lang, &mut rng).expect("valid");
            let s = speech.samples();
            let peak = s.iter().map(|v| v.unsigned_abs()).max().expect("not empty");
            assert!(peak < 32767, "{lang}: clipped");
            let rms =
                (s.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / s.len() as f64).sqrt();
            levels.push(20.0 * (rms / 32768.0).log10());
        }
        let (lo, hi) = levels
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &l| (lo.min(l), hi.max(l)));
        assert!(hi - lo < 6.0, "{lang}: levels {lo:.1}..{hi:.1} dBFS");
        assert!(
            lo > -35.0 && hi < -10.0,
            "{lang}: levels {lo:.1}..{hi:.1} dBFS"
        );
    }
}

#[test]
fn random_digits_are_six_uniform_digits() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut counts = [0u32; 10];
    for _ in 0..2000 {
        let digits = Speaker::random_digits(&mut rng);
        assert_eq!(digits.len(), DIGITS);
        for b in digits.bytes() {
            assert!(b.is_ascii_digit(), "{digits}");
            counts[usize::from(b - b'0')] += 1;
        }
    }
    // 12,000 draws: 1,200 expected per digit, standard deviation about 33.
    for (d, &n) in counts.iter().enumerate() {
        assert!((1050..1350).contains(&n), "digit {d}: {n}");
    }
}

#[test]
fn bad_answers_are_refused() {
    let speaker = speaker();
    let mut rng = StdRng::seed_from_u64(0);
    for bad in [
        "",
        "12345",
        "1234567",
        "12a456",
        "12 456",
        "١٢٣٤٥٦",
        "１２３４５６",
    ] {
        assert_eq!(
            speaker.challenge(bad, Lang::En, &mut rng),
            Err(DigitsError),
            "{bad:?}"
        );
    }
    assert!(speaker.challenge("000000", Lang::En, &mut rng).is_ok());
}

#[test]
fn languages_parse_exactly() {
    assert_eq!(Lang::parse("zh"), Ok(Lang::Zh));
    assert_eq!(Lang::parse("en"), Ok(Lang::En));
    assert_eq!("en".parse::<Lang>(), Ok(Lang::En));
    for lang in Lang::ALL {
        assert_eq!(Lang::parse(lang.code()), Ok(lang));
        assert_eq!(lang.to_string(), lang.code());
    }
    for bad in ["", "EN", "zh-CN", "cmn", " en", "fr"] {
        assert_eq!(Lang::parse(bad), Err(LangError), "{bad:?}");
    }
}

#[test]
fn bad_params_name_the_field() {
    let bad = |p: Params| Speaker::new(p).expect_err("refused");
    let base = Params::default();
    for babble_db in [5.9, 30.5, f32::NAN, f32::INFINITY] {
        assert_eq!(
            bad(Params { babble_db, ..base }),
            ParamsError::Invalid("babble_db")
        );
    }
    for hiss_db in [9.0, 61.0, f32::NAN] {
        assert_eq!(
            bad(Params { hiss_db, ..base }),
            ParamsError::Invalid("hiss_db")
        );
    }
    assert!(
        Speaker::new(Params {
            babble_db: 30.0,
            hiss_db: 60.0,
            ..base
        })
        .is_ok()
    );
    assert_eq!(
        ParamsError::Invalid("hiss_db").to_string(),
        "invalid audio captcha parameter `hiss_db`"
    );
}

#[cfg(feature = "serde")]
#[test]
fn params_and_lang_deserialise() {
    let p: Params = serde_json::from_str(r#"{"babble_db": 9.5}"#).expect("valid");
    assert_eq!(
        p,
        Params {
            babble_db: 9.5,
            ..Params::default()
        }
    );
    assert!(serde_json::from_str::<Params>(r#"{"babel_db": 9.5}"#).is_err());
    assert_eq!(
        serde_json::from_str::<Lang>(r#""zh""#).expect("valid"),
        Lang::Zh
    );
    assert!(serde_json::from_str::<Lang>(r#""fr""#).is_err());
}
