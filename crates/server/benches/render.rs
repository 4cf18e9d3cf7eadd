//! Whether a captcha should be rendered inline on an actix worker or handed
//! to the blocking pool: the same `generate` call both ways, on a
//! current-thread tokio runtime like each actix worker's.
//!
//! `cargo bench -p passport-server --bench render`

use std::hint::black_box;

use captcha_render::{Params, Renderer};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::{SeedableRng, rngs::StdRng};

fn render(c: &mut Criterion) {
    let renderer = Renderer::new(Params::default()).expect("default params are valid");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");

    let inline = renderer.clone();
    let mut rng = StdRng::seed_from_u64(7);
    c.bench_function("render_inline", |b| {
        b.to_async(&rt).iter(|| {
            let captcha = inline.generate(&mut rng).expect("render");
            async move { black_box(captcha) }
        })
    });

    let pooled = renderer.clone();
    c.bench_function("render_spawn_blocking", |b| {
        b.to_async(&rt).iter(|| {
            let renderer = pooled.clone();
            async move {
                let captcha = tokio::task::spawn_blocking(move || {
                    let mut rng = StdRng::from_rng(&mut rand::rng());
                    renderer.generate(&mut rng)
                })
                .await
                .expect("join")
                .expect("render");
                black_box(captcha)
            }
        })
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
