//! Time to make one audio challenge: mixing alone, and digits to WAV bytes, in each language.
//!
//! `cargo bench -p passport-captcha-audio --bench challenge`

use std::hint::black_box;

use captcha_audio::{Lang, Params, Speaker};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::{SeedableRng, rngs::StdRng};

fn challenge(c: &mut Criterion) {
    let speaker = Speaker::new(Params::default()).expect("default params are valid");
    let mut rng = StdRng::seed_from_u64(7);
    // Decode the clips outside the measurement: that happens once per process.
    let _ = speaker.generate(Lang::En, &mut rng);

    for lang in Lang::ALL {
        c.bench_function(&format!("speak_{lang}"), |b| {
            b.iter(|| {
                speaker
                    .speak(black_box("305718"), lang, &mut rng)
                    .expect("speak")
            })
        });
        c.bench_function(&format!("generate_wav_{lang}"), |b| {
            b.iter(|| speaker.generate(black_box(lang), &mut rng))
        });
    }
}

criterion_group!(benches, challenge);
criterion_main!(benches);
