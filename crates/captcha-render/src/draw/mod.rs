//! Layout, warp and rasterisation: text in, indexed pixels out.
//!
//! Everything is drawn as vector paths (glyph outlines, stroked noise curves) whose points are
//! rotated, scaled, placed and then pushed through one smooth warp before a single coverage
//! rasteriser fills them. Warping the points instead of resampling the image costs a few hundred
//! `sin` calls per captcha instead of one per pixel, and needs no interpolation.
//!
//! The parts: `layout` poses the glyphs and sets them on a line, `warp` bends every point,
//! `canvas` fills paths into palette indices, and `picture` is what comes out. The two styles
//! that use them are `crate::classic` and `crate::crowded`.

mod canvas;
mod layout;
mod picture;
mod warp;

use std::f32::consts::{PI, TAU};
use std::sync::Arc;

use rand::{Rng, RngExt};

use crate::Style;
use crate::shape::Shape;

pub(crate) use canvas::{Canvas, INVERTED, Paint, Path, fill_in_strips, palette};
#[cfg(test)]
pub(crate) use canvas::{STRIPE_GROUND, pastel};
pub(crate) use layout::{Layout, MAX_OFFSET_EM, Pose, Posed, pose};
#[cfg(feature = "test-util")]
pub use picture::GlyphMask;
pub use picture::Picture;
pub(crate) use warp::{Warp, push_segment};

/// Coverage steps per ink colour in the palette; three keep edges smooth at 2 bits of detail.
pub(crate) const LEVELS: u8 = 3;

/// Everything `draw` needs that does not change between captchas.
pub(crate) struct Setup<'a> {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) inks: usize,
    pub(crate) noise: u8,
    pub(crate) palette: &'a Arc<[[u8; 3]]>,
    /// Height of the tallest glyph in the alphabet, in em.
    pub(crate) tallest_em: f32,
    pub(crate) style: Style,
    /// Glyph outlines of the whole alphabet, for clutter made of the same strokes.
    pub(crate) alphabet: &'a [Shape],
}

/// A uniform draw from `lo..hi`; never panics, even when the range is empty.
pub(crate) fn uniform<R: Rng + ?Sized>(rng: &mut R, lo: f32, hi: f32) -> f32 {
    lo + (hi - lo) * rng.random::<f32>()
}

/// `sin` to within about 0.001: a parabola through the half-wave, refined once. Hundreds of
/// calls per captcha, where the libm call's full precision buys nothing visible.
pub(crate) fn fast_sin(x: f32) -> f32 {
    let x = x - TAU * floor(x / TAU + 0.5);
    let y = (4.0 / PI) * x - (4.0 / (PI * PI)) * x * x.abs();
    0.225 * (y * y.abs() - y) + y
}

/// `f32::floor` without the libm call the baseline x86-64 target makes of it; exact for the
/// small magnitudes drawing uses.
fn floor(x: f32) -> f32 {
    let t = x as i32 as f32;
    if t > x { t - 1.0 } else { t }
}

/// The `(start, end)` ranges of the polylines whose starts are `starts`.
pub(crate) fn chains(starts: &[usize], len: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    starts
        .iter()
        .enumerate()
        .map(move |(i, &s)| (s, starts.get(i + 1).copied().unwrap_or(len)))
}

/// Draws `shapes` (the glyphs of the text, in order) onto a fresh canvas.
pub(crate) fn draw<R: Rng + ?Sized>(setup: &Setup<'_>, shapes: &[&Shape], rng: &mut R) -> Picture {
    let mut canvas = Canvas::new(setup.width as usize, setup.height as usize);
    match setup.style {
        Style::Classic => crate::classic::draw(&mut canvas, setup, shapes, rng),
        Style::Crowded => crate::crowded::draw(&mut canvas, setup, shapes, rng),
    }
    Picture {
        width: setup.width,
        height: setup.height,
        palette: Arc::clone(setup.palette),
        #[cfg(feature = "test-util")]
        glyph_masks: canvas.finish_masks(),
        pixels: canvas.pixels,
    }
}

#[cfg(test)]
mod tests {

    /// Each glyph's own outline, after the warp, lies inside the canvas and covers some area,
    /// so every character of the answer is there to be read.
    #[test]
    fn fast_sin_is_close_to_sin() {
        for i in -2000..2000 {
            let x = i as f32 * 0.01;
            assert!((super::fast_sin(x) - x.sin()).abs() < 2e-3, "{x}");
        }
    }

    /// Each glyph's ink lies inside the canvas and covers some area, in both styles, so every
    /// character of the answer is there to be read.
    #[cfg(feature = "test-util")]
    #[test]
    fn every_glyph_lands_inside_the_canvas_with_area() {
        use crate::{Params, Renderer, Style};
        use rand::{SeedableRng, rngs::StdRng};
        for style in [Style::Crowded, Style::Classic] {
            for (width, height, length) in
                [(160, 60, 4), (100, 30, 8), (1000, 400, 12), (40, 40, 2)]
            {
                let r = Renderer::new(Params {
                    width,
                    height,
                    length,
                    style,
                    ..Params::default()
                })
                .expect("valid");
                let mut rng = StdRng::seed_from_u64(u64::from(width + height));
                for _ in 0..100 {
                    let text = r.random_text(&mut rng);
                    let p = r.draw(&text, &mut rng).expect("draw");
                    assert_eq!(p.glyph_masks().len(), length);
                    for m in p.glyph_masks() {
                        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
                        for y in 0..height {
                            for x in 0..width {
                                if m.coverage(x, y) >= 0.5 {
                                    (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
                                }
                            }
                        }
                        let min_side = height as f32 * 0.15;
                        assert!(
                            x1 >= x0
                                && (x1 - x0 + 1) as f32 > min_side / 3.0
                                && (y1 - y0 + 1) as f32 > min_side,
                            "{style:?} {text}: tiny glyph"
                        );
                    }
                }
            }
        }
    }
}
