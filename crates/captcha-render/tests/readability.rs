//! A person reads the default style: checked on the answer ink the renderer reports
//! (feature `test-util`): contrast against what surrounds it, size, and how much stays visible.
#![cfg(feature = "test-util")]

use captcha_render::{Params, Picture, Renderer, contrast};
use rand::{SeedableRng, rngs::StdRng};

/// WCAG AA for text.
const MIN_CONTRAST: f32 = 4.5;
const MIN_HEIGHT_SHARE: f32 = 0.4;
const MIN_VISIBLE: f32 = 0.7;
/// Width of the ring outside a glyph's ink that its contrast is measured against.
const RING_PX: i64 = 2;

fn median(mut v: Vec<f32>) -> f32 {
    v.sort_by(f32::total_cmp);
    v[v.len() / 2]
}

/// For glyph `g`: (contrast of its ink's median colour against its ring's, height share,
/// visible share of its ink).
fn measure(p: &Picture, g: usize) -> (f32, f32, f32) {
    let (w, h) = (p.width(), p.height());
    let masks = p.glyph_masks();
    let mask = &masks[g];
    let answer = |x: u32, y: u32| masks.iter().any(|m| m.coverage(x, y) >= 0.5);
    let lum = |x: u32, y: u32| captcha_render::luminance(p.pixel(x, y).expect("inside"));
    let (mut ink, mut ring) = (Vec::new(), Vec::new());
    let (mut top, mut bottom, mut visible) = (u32::MAX, 0, 0usize);
    for y in 0..h {
        for x in 0..w {
            if mask.coverage(x, y) >= 0.5 {
                ink.push(lum(x, y));
                top = top.min(y);
                bottom = bottom.max(y);
                visible += usize::from(mask.visible(x, y));
                continue;
            }
            if answer(x, y) || mask.coverage(x, y) > 0.0 {
                continue;
            }
            let near = (-RING_PX..=RING_PX).any(|dy| {
                (-RING_PX..=RING_PX).any(|dx| {
                    let (nx, ny) = (i64::from(x) + dx, i64::from(y) + dy);
                    nx >= 0 && ny >= 0 && mask.coverage(nx as u32, ny as u32) >= 0.5
                })
            });
            if near {
                ring.push(lum(x, y));
            }
        }
    }
    assert!(!ink.is_empty() && !ring.is_empty(), "glyph {g} has no ink");
    let (li, lr) = (median(ink.clone()), median(ring));
    let ratio = (li.max(lr) + 0.05) / (li.min(lr) + 0.05);
    let height = (bottom - top + 1) as f32 / h as f32;
    (ratio, height, visible as f32 / ink.len() as f32)
}

#[test]
fn a_thousand_default_captchas_keep_every_answer_glyph_readable() {
    let r = Renderer::new(Params::default()).expect("defaults are valid");
    let mut rng = StdRng::seed_from_u64(2026);
    let (mut worst_contrast, mut worst_height, mut worst_visible) = (f32::MAX, f32::MAX, f32::MAX);
    let mut failures: Vec<String> = Vec::new();
    for _ in 0..1000 {
        let text = r.random_text(&mut rng);
        let p = r.draw(&text, &mut rng).expect("draw");
        assert_eq!(p.glyph_masks().len(), text.len());
        for g in 0..text.len() {
            let (c, height, visible) = measure(&p, g);
            for (ok, what) in [
                (c >= MIN_CONTRAST, "contrast"),
                (height >= MIN_HEIGHT_SHARE, "height"),
                (visible >= MIN_VISIBLE, "visible ink"),
            ] {
                if !ok {
                    failures.push(format!(
                        "{text} glyph {g}: {what} ({c:.2}:1, height {height:.2}, visible {visible:.2})"
                    ));
                }
            }
            worst_contrast = worst_contrast.min(c);
            worst_height = worst_height.min(height);
            worst_visible = worst_visible.min(visible);
        }
    }
    println!(
        "worst of 4,000 glyphs: contrast {worst_contrast:.2}:1, height {:.0}%, visible {:.0}%",
        worst_height * 100.0,
        worst_visible * 100.0
    );
    assert!(
        failures.is_empty(),
        "{} of 4,000 glyphs fail: {:#?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
}

#[test]
fn every_default_ink_stands_out_from_the_background() {
    let p = Params::default();
    for ink in &p.ink {
        assert!(contrast(*ink, p.background) >= MIN_CONTRAST, "{ink:?}");
    }
}
