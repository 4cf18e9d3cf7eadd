//! Polarity stripes: narrow bands across the whole picture where every colour is swapped for
//! its stripe twin (a dark saturated ground, pale inks), so each letter turns from dark-on-light to light-on-dark and
//! back every few pixels along its strokes.
//!
//! A person sees one letter in one hue whatever the polarity; a CNN solver sees strokes whose
//! edges flip sign every few pixels, a texture no captcha it was trained on has, and a
//! threshold (global or local), a median, an opening or a closing turns the stripes into bars
//! across the letters instead of removing them (figures in `docs/benchmarks.md`).
//!
//! Stripes take contrast from a letter where they cross it, so each captcha's striping is
//! checked before it is kept: for every answer glyph, the median luminance of its ink against
//! the median of the other pixels within two pixels of it must stay at 4.5:1 or more (WCAG AA
//! for text). A few random stripings are tried; a glyph that the best of them still fails keeps
//! a box round itself clear of stripes.

use rand::Rng;

use crate::draw::{Canvas, INVERTED, fast_sin, uniform};
use crate::params::{contrast_of_luminances, luminance};

/// Period of the stripes across their direction, in em: about three stroke widths.
const PERIOD_EM: f32 = 0.16;
/// Share of each period that is inverted.
const DUTY: f32 = 0.3;
/// Steepest stripe slope either way (horizontal shift per row, in pixels): from near-vertical
/// stripes to a 40-degree lean.
const MAX_SLOPE: f32 = 0.8;
/// Sway of the stripes, in em, and the range of its wavelength, in em.
const SWAY_EM: f32 = 0.06;
const SWAY_WAVELENGTH_EM: (f32, f32) = (0.6, 1.2);
/// Least contrast a glyph keeps against its surroundings: WCAG AA for text, and a little more.
const MIN_CONTRAST: f32 = 4.6;
/// Width of the surroundings checked round each glyph, in pixels.
const RING_PX: usize = 2;
/// Random stripings tried per captcha before the best is kept.
const TRIES: usize = 12;
/// Clear margin round a glyph that no striping suits, in pixels.
const CLEAR_PAD_PX: usize = 3;

/// One striping of a canvas.
pub(crate) struct Stripes {
    period: f32,
    slope: f32,
    phase: f32,
    sway: f32,
    sway_freq: f32,
    sway_phase: f32,
    /// Boxes (`x0`, `y0`, `x1`, `y1`, inclusive pixels) left clear of stripes.
    clear: Vec<[usize; 4]>,
}

/// The pixels of one answer glyph and of its surroundings, as canvas indices.
struct GlyphPixels {
    ink: Vec<usize>,
    ring: Vec<usize>,
    bounds: [usize; 4],
}

impl Stripes {
    fn random<R: Rng + ?Sized>(rng: &mut R, em_px: f32) -> Self {
        let period = (PERIOD_EM * em_px).max(4.0);
        Stripes {
            period,
            slope: uniform(rng, -MAX_SLOPE, MAX_SLOPE),
            phase: uniform(rng, 0.0, period),
            sway: SWAY_EM * em_px,
            sway_freq: std::f32::consts::TAU
                / (em_px * uniform(rng, SWAY_WAVELENGTH_EM.0, SWAY_WAVELENGTH_EM.1)).max(1.0),
            sway_phase: uniform(rng, 0.0, std::f32::consts::TAU),
            clear: Vec::new(),
        }
    }

    /// Where row `y`'s stripes start, as a position within the period at `x = 0`.
    fn row_offset(&self, y: usize) -> f32 {
        let y = y as f32 + 0.5;
        0.5 + self.slope * y
            + self.sway * fast_sin(self.sway_freq * y + self.sway_phase)
            + self.phase
    }

    /// Marks the inverted pixels of row `y` in `row`.
    pub(crate) fn mark_row(&self, y: usize, row: &mut [bool]) {
        let dark = DUTY * self.period;
        let mut u = self.row_offset(y).rem_euclid(self.period);
        for d in row.iter_mut() {
            *d = u < dark;
            u += 1.0;
            if u >= self.period {
                u -= self.period;
            }
        }
        for b in &self.clear {
            if (b[1]..=b[3]).contains(&y) {
                let end = (b[2] + 1).min(row.len());
                row[b[0].min(end)..end].fill(false);
            }
        }
    }

    /// Whether pixel `i` of a `width`-wide canvas is inverted, given each row's offset.
    fn dark(&self, offsets: &[f32], width: usize, i: usize) -> bool {
        let (x, y) = (i % width, i / width);
        (x as f32 + offsets[y]).rem_euclid(self.period) < DUTY * self.period
            && !self
                .clear
                .iter()
                .any(|b| x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3])
    }

    /// The contrast each glyph would keep under this striping, from counts of the palette
    /// indices its ink and its ring would show (`by_lum`: the indices in order of luminance).
    fn contrasts(
        &self,
        canvas: &Canvas,
        lum: &[f32],
        by_lum: &[usize],
        glyphs: &[GlyphPixels],
        out: &mut Vec<f32>,
    ) {
        let offsets: Vec<f32> = (0..canvas.height).map(|y| self.row_offset(y)).collect();
        let shown = |i: usize| {
            let p = usize::from(canvas.pixels[i]);
            if self.dark(&offsets, canvas.width, i) {
                p + usize::from(INVERTED)
            } else {
                p
            }
        };
        let median = |pixels: &[usize]| {
            let mut count = [0u32; 256];
            for &i in pixels {
                count[shown(i)] += 1;
            }
            median_of_counts(&count, pixels.len(), lum, by_lum)
        };
        out.clear();
        for g in glyphs {
            out.push(contrast_of_luminances(median(&g.ink), median(&g.ring)));
        }
    }

    /// Of a few random stripings of `canvas`, the first that leaves every answer glyph its
    /// contrast, or else the best of them with a box kept clear round each glyph it fails.
    pub(crate) fn choose<R: Rng + ?Sized>(
        rng: &mut R,
        canvas: &Canvas,
        palette: &[[u8; 3]],
        em_px: f32,
    ) -> Self {
        let lum: Vec<f32> = palette.iter().map(|&c| luminance(c)).collect();
        let mut by_lum: Vec<usize> = (0..lum.len()).collect();
        by_lum.sort_by(|&a, &b| lum[a].total_cmp(&lum[b]));
        let glyphs = glyph_pixels(canvas);
        let mut contrasts = Vec::with_capacity(glyphs.len());
        let mut best = Stripes::random(rng, em_px);
        best.contrasts(canvas, &lum, &by_lum, &glyphs, &mut contrasts);
        let mut best_worst = contrasts.iter().copied().fold(f32::MAX, f32::min);
        for _ in 1..TRIES {
            if best_worst >= MIN_CONTRAST {
                return best;
            }
            let s = Stripes::random(rng, em_px);
            s.contrasts(canvas, &lum, &by_lum, &glyphs, &mut contrasts);
            let worst = contrasts.iter().copied().fold(f32::MAX, f32::min);
            if worst > best_worst {
                (best, best_worst) = (s, worst);
            }
        }
        if best_worst < MIN_CONTRAST {
            best.contrasts(canvas, &lum, &by_lum, &glyphs, &mut contrasts);
            let (w, h) = (canvas.width, canvas.height);
            for (g, &c) in glyphs.iter().zip(&contrasts) {
                if c < MIN_CONTRAST {
                    let [x0, y0, x1, y1] = g.bounds;
                    best.clear.push([
                        x0.saturating_sub(CLEAR_PAD_PX),
                        y0.saturating_sub(CLEAR_PAD_PX),
                        (x1 + CLEAR_PAD_PX).min(w - 1),
                        (y1 + CLEAR_PAD_PX).min(h - 1),
                    ]);
                }
            }
        }
        best
    }
}

/// The median luminance of `n` pixels counted by palette index in `count` (the upper one of an
/// even count; 0 when there are none), walking the indices in order of luminance.
fn median_of_counts(count: &[u32; 256], n: usize, lum: &[f32], by_lum: &[usize]) -> f32 {
    let mid = n / 2;
    let mut seen = 0usize;
    for &i in by_lum {
        seen += count[i] as usize;
        if seen > mid {
            return lum[i];
        }
    }
    0.0
}

/// Each answer glyph's ink (what it inked at coverage of a half or more) and the pixels within
/// `RING_PX` of it that no answer glyph inked so and that its own outline does not reach.
fn glyph_pixels(canvas: &Canvas) -> Vec<GlyphPixels> {
    let (w, h) = (canvas.width, canvas.height);
    let count = 16
        - canvas
            .inked
            .iter()
            .fold(0u16, |a, &b| a | b)
            .leading_zeros() as usize;
    let mut out: Vec<GlyphPixels> = (0..count)
        .map(|_| GlyphPixels {
            ink: Vec::new(),
            ring: Vec::new(),
            bounds: [w, h, 0, 0],
        })
        .collect();
    for (i, &bits) in canvas.inked.iter().enumerate() {
        let (x, y) = (i % w, i / w);
        for (n, g) in out.iter_mut().enumerate() {
            if bits & (1 << n) != 0 {
                g.ink.push(i);
                g.bounds = [
                    g.bounds[0].min(x),
                    g.bounds[1].min(y),
                    g.bounds[2].max(x),
                    g.bounds[3].max(y),
                ];
            }
        }
    }
    let mut seen = vec![false; w * h];
    for (n, g) in out.iter_mut().enumerate() {
        let bit = 1u16 << n;
        for &i in &g.ink {
            let (x, y) = (i % w, i / w);
            for ny in y.saturating_sub(RING_PX)..=(y + RING_PX).min(h - 1) {
                for nx in x.saturating_sub(RING_PX)..=(x + RING_PX).min(w - 1) {
                    let j = ny * w + nx;
                    if canvas.inked[j] == 0 && canvas.touched[j] & bit == 0 && !seen[j] {
                        seen[j] = true;
                        g.ring.push(j);
                    }
                }
            }
        }
        for &j in &g.ring {
            seen[j] = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    /// The rows marked for inversion agree with the per-pixel test, and about a quarter of
    /// the canvas is inverted.
    #[test]
    fn marked_rows_match_the_pixel_test_and_the_duty() {
        let mut rng = StdRng::seed_from_u64(3);
        let (w, h) = (160usize, 60usize);
        for _ in 0..50 {
            let s = Stripes::random(&mut rng, 50.0);
            let offsets: Vec<f32> = (0..h).map(|y| s.row_offset(y)).collect();
            let mut row = vec![false; w];
            let mut dark = 0usize;
            for y in 0..h {
                s.mark_row(y, &mut row);
                for (x, &d) in row.iter().enumerate() {
                    let u = (x as f32 + offsets[y]).rem_euclid(s.period);
                    // Away from a band's edge, where the running sum may round differently.
                    let edge = u.min((u - DUTY * s.period).abs()).min(s.period - u);
                    if edge > 1e-3 {
                        assert_eq!(d, s.dark(&offsets, w, y * w + x), "{x},{y}");
                    }
                    dark += usize::from(d);
                }
            }
            let share = dark as f32 / (w * h) as f32;
            assert!((share - DUTY).abs() < 0.05, "{share}");
        }
    }

    /// A box left clear is not inverted anywhere, by rows or by pixels.
    #[test]
    fn a_clear_box_stays_clear() {
        let mut rng = StdRng::seed_from_u64(4);
        let mut s = Stripes::random(&mut rng, 50.0);
        s.clear.push([10, 10, 40, 30]);
        let offsets: Vec<f32> = (0..60).map(|y| s.row_offset(y)).collect();
        let mut row = vec![false; 160];
        let mut outside = 0;
        for y in 0..60 {
            s.mark_row(y, &mut row);
            for (x, &d) in row.iter().enumerate() {
                let inside = (10..=40).contains(&x) && (10..=30).contains(&y);
                assert!(
                    !(inside && (d || s.dark(&offsets, 160, y * 160 + x))),
                    "{x},{y}"
                );
                outside += usize::from(d && !inside);
            }
        }
        assert!(outside > 0, "no stripes at all");
    }
}

#[cfg(test)]
mod palette_tests {
    use crate::draw::{STRIPE_GROUND, pastel};
    use crate::{DEFAULT_BACKGROUND, DEFAULT_INK, contrast, luminance};

    /// HSV saturation, 0..=1.
    fn saturation(c: [u8; 3]) -> f32 {
        let (max, min) = (c.iter().max().copied(), c.iter().min().copied());
        let (max, min) = (f32::from(max.unwrap_or(0)), f32::from(min.unwrap_or(0)));
        if max == 0.0 { 0.0 } else { (max - min) / max }
    }

    /// Inside a stripe every default ink, as its pastel, stands out from the stripes' ground
    /// (WCAG AA for text), keeps its hue, and flips polarity in luminance and in saturation
    /// alike against what it is outside the stripes.
    #[test]
    fn the_stripe_colours_flip_polarity_and_keep_contrast_and_hue() {
        assert!(luminance(STRIPE_GROUND) < luminance(DEFAULT_BACKGROUND));
        for ink in DEFAULT_INK {
            let light = pastel(ink);
            assert!(
                contrast(light, STRIPE_GROUND) >= 4.5,
                "{ink:?} -> {light:?}"
            );
            assert!(luminance(light) > luminance(STRIPE_GROUND));
            assert!(luminance(ink) < luminance(DEFAULT_BACKGROUND));
            assert!(saturation(light) < saturation(STRIPE_GROUND), "{light:?}");
            assert!(saturation(ink) > saturation(DEFAULT_BACKGROUND), "{ink:?}");
            let order = |c: [u8; 3]| {
                let mut i = [0usize, 1, 2];
                i.sort_by_key(|&k| c[k]);
                i
            };
            assert_eq!(
                order(light),
                order(ink),
                "hue changed: {ink:?} -> {light:?}"
            );
        }
    }
}
