//! Speed of each step at the default 160x60: drawing, each encoder, and text to PNG bytes.
//!
//! `cargo bench -p passport-captcha-render --bench render`

use std::hint::black_box;

use captcha_render::{Format, Params, Renderer};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::{SeedableRng, rngs::StdRng};

fn render(c: &mut Criterion) {
    let png = Renderer::new(Params::default()).expect("default params are valid");
    let jpeg = Renderer::new(Params {
        format: Format::Jpeg { quality: 80 },
        ..Params::default()
    })
    .expect("jpeg params are valid");
    let mut rng = StdRng::seed_from_u64(7);
    let picture = png.draw("K7TW", &mut rng).expect("text is in the alphabet");

    c.bench_function("draw", |b| {
        b.iter(|| png.draw(black_box("K7TW"), &mut rng).expect("draw"))
    });
    // The trade-off table: drawing cost by noise level (2 is the default, measured above).
    for noise in [0, 1, 3] {
        let r = Renderer::new(Params {
            noise,
            ..Params::default()
        })
        .expect("noise levels 0..=3 are valid");
        c.bench_function(&format!("draw_noise{noise}"), |b| {
            b.iter(|| r.draw(black_box("K7TW"), &mut rng).expect("draw"))
        });
    }
    c.bench_function("encode_png", |b| {
        b.iter(|| png.encode(black_box(&picture)).expect("png"))
    });
    c.bench_function("encode_jpeg_q80", |b| {
        b.iter(|| jpeg.encode(black_box(&picture)).expect("jpeg"))
    });
    c.bench_function("generate_png", |b| {
        b.iter(|| png.generate(&mut rng).expect("generate"))
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
