//! The published `captcha` crate next to passport-captcha-render, same run, same machine:
//! four characters at 160x60 to PNG bytes.

use std::hint::black_box;

use captcha::Captcha;
use captcha::filters::{Dots, Noise, Wave};
use captcha_render::{Params, Renderer};
use criterion::{Criterion, criterion_group, criterion_main};

/// The `captcha` crate's own documented pipeline, sized to our default.
fn peer_png() -> (String, Vec<u8>) {
    Captcha::new()
        .add_chars(4)
        .apply_filter(Noise::new(0.4))
        .apply_filter(Wave::new(2.0, 20.0).horizontal())
        .apply_filter(Wave::new(2.0, 20.0).vertical())
        .view(160, 60)
        .apply_filter(Dots::new(15))
        .as_tuple()
        .expect("captcha renders")
}

fn compare(c: &mut Criterion) {
    let renderer = Renderer::new(Params::default()).expect("default params are valid");
    let mut rng = rand::rng();

    let mut group = c.benchmark_group("text_to_png_160x60");
    group.bench_function("passport-captcha-render", |b| {
        b.iter(|| black_box(renderer.generate(&mut rng).expect("generate")))
    });
    group.bench_function("captcha-1.0", |b| b.iter(|| black_box(peer_png())));
    group.finish();

    // Sizes are not timings, but they belong in the same table: median of 1,000 images.
    let mut ours: Vec<usize> = (0..1000)
        .map(|_| renderer.generate(&mut rng).expect("generate").bytes.len())
        .collect();
    let mut theirs: Vec<usize> = (0..1000).map(|_| peer_png().1.len()).collect();
    ours.sort_unstable();
    theirs.sort_unstable();
    println!(
        "median PNG bytes over 1000 images: passport-captcha-render {}, captcha-1.0 {}",
        ours[500], theirs[500]
    );
}

criterion_group!(benches, compare);
criterion_main!(benches);
