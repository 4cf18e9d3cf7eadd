//! Glyph layout: each glyph posed (rotation, scale, offset), then set on a line by its ink
//! profile and sized to the canvas.

use ab_glyph::{Point, point};
use rand::{Rng, RngExt};

use super::{Path, Setup, Warp, chains, floor, push_segment, uniform};
use crate::shape::Shape;

/// Height of the tallest glyph of the alphabet as a share of the canvas height, before
/// per-glyph scaling; the rest is room for rotation, offsets and the warp.
const TARGET_GLYPH_HEIGHT: f32 = 0.6;

/// One glyph after rotation, scaling and vertical offset, in em, before placement.
pub(crate) struct Posed<'a> {
    shape: &'a Shape,
    cos: f32,
    sin: f32,
    scale: f32,
    /// Vertical offset of the glyph's centre from the line's, in em.
    dy: f32,
    /// Bounding box around the centre (without `dy`).
    min: Point,
    max: Point,
    /// Leftmost and rightmost ink in each horizontal band (with `dy`), relative to the centre.
    left: [f32; BANDS],
    right: [f32; BANDS],
    pub(crate) ink: usize,
}

/// Horizontal bands of the ink profiles, covering -1..1 em around the line's centre.
const BANDS: usize = 32;
const BAND_EM: f32 = 2.0 / BANDS as f32;
/// Vertical offset limit either way, in em.
pub(crate) const MAX_OFFSET_EM: f32 = 0.07;

impl<'a> Posed<'a> {
    fn new(shape: &'a Shape, angle: f32, scale: f32, dy: f32, ink: usize) -> Self {
        let mut g = Posed {
            shape,
            cos: angle.cos(),
            sin: angle.sin(),
            scale,
            dy,
            min: point(f32::MAX, f32::MAX),
            max: point(f32::MIN, f32::MIN),
            left: [f32::MAX; BANDS],
            right: [f32::MIN; BANDS],
            ink,
        };
        for (start, end) in chains(&shape.starts, shape.points.len()) {
            let chain = &shape.points[start..end];
            for pair in chain.windows(2) {
                let (a, b) = (g.local(pair[0]), g.local(pair[1]));
                // Sample long edges often enough that no band between their ends is skipped.
                let steps = (((b.y - a.y).abs() / BAND_EM).ceil() as usize).clamp(1, 64);
                for k in 0..=steps {
                    let t = k as f32 / steps as f32;
                    g.add(point(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t));
                }
            }
        }
        g
    }

    fn add(&mut self, q: Point) {
        self.min = point(self.min.x.min(q.x), self.min.y.min(q.y));
        self.max = point(self.max.x.max(q.x), self.max.y.max(q.y));
        let band = floor((q.y + self.dy + 1.0) / BAND_EM);
        if (0.0..BANDS as f32).contains(&band) {
            let b = band as usize;
            self.left[b] = self.left[b].min(q.x);
            self.right[b] = self.right[b].max(q.x);
        }
    }

    /// Distance between the centres of `self` and `next` at which their ink just touches.
    fn gap_to(&self, next: &Posed<'_>) -> f32 {
        let mut gap = f32::MIN;
        for b in 0..BANDS {
            if self.right[b] > f32::MIN && next.left[b] < f32::MAX {
                gap = gap.max(self.right[b] - next.left[b]);
            }
        }
        if gap == f32::MIN {
            // No shared band (a tiny glyph next to a tall offset one): put the boxes side by side.
            gap = self.max.x - next.min.x;
        }
        gap
    }

    pub(crate) fn local(&self, p: Point) -> Point {
        point(
            (p.x * self.cos - p.y * self.sin) * self.scale,
            (p.x * self.sin + p.y * self.cos) * self.scale,
        )
    }
}

/// Rotation, scale and vertical offset of one glyph.
pub(crate) struct Pose {
    pub(crate) angle: f32,
    pub(crate) scale: f32,
    /// In em.
    pub(crate) dy: f32,
}

/// Poses every glyph with `pick`, giving neighbours different inks: they read more easily for
/// people, and a thresholding OCR sees no difference.
pub(crate) fn pose<'a, R: Rng + ?Sized>(
    shapes: &[&'a Shape],
    inks: usize,
    rng: &mut R,
    mut pick: impl FnMut(&mut R) -> Pose,
) -> Vec<Posed<'a>> {
    let mut posed: Vec<Posed<'a>> = Vec::with_capacity(shapes.len());
    for shape in shapes {
        let p = pick(rng);
        let mut ink = rng.random_range(0..inks);
        if let Some(prev) = posed.last()
            && inks > 1
            && ink == prev.ink
        {
            ink = (ink + 1 + rng.random_range(0..inks - 1)) % inks;
        }
        posed.push(Posed::new(shape, p.angle, p.scale, p.dy, ink));
    }
    posed
}

/// Where the glyphs of one captcha go, in canvas pixels.
pub(crate) struct Layout {
    pub(crate) em_px: f32,
    pub(crate) left: f32,
    pub(crate) top: f32,
    run_left: f32,
    run_top: f32,
    pub(crate) run_px: f32,
    pub(crate) mid_y: f32,
    /// Margins the warp needs.
    pub(crate) mx: f32,
    pub(crate) my: f32,
    /// Centre of each glyph along the line, in em.
    centres: Vec<f32>,
}

impl Layout {
    /// Sets the glyphs along a line (`pad_em` of room kept round every outline), each `advance(rng, touching)` em after the previous, where
    /// `touching` is the advance at which their ink just touches; then sizes the line to the
    /// canvas and puts it at a random place inside the warp's margins.
    pub(crate) fn new<R: Rng + ?Sized>(
        posed: &[Posed<'_>],
        setup: &Setup<'_>,
        warp: &Warp,
        rng: &mut R,
        pad_em: f32,
        mut advance: impl FnMut(&mut R, f32) -> f32,
    ) -> Self {
        let (w, h) = (setup.width as f32, setup.height as f32);
        let mut centres = Vec::with_capacity(posed.len());
        let mut cursor = 0.0f32;
        for (i, g) in posed.iter().enumerate() {
            if i > 0 {
                cursor += advance(rng, posed[i - 1].gap_to(g));
            }
            centres.push(cursor);
        }
        let span = |f: &dyn Fn(&Posed<'_>, f32) -> (f32, f32)| {
            posed
                .iter()
                .zip(&centres)
                .map(|(g, &c)| f(g, c))
                .fold((f32::MAX, f32::MIN), |(lo, hi), (a, b)| {
                    (lo.min(a), hi.max(b))
                })
        };
        let (run_left, run_right) = span(&|g, c| (c + g.min.x, c + g.max.x));
        let (run_top, run_bottom) = span(&|g, _| (g.dy + g.min.y, g.dy + g.max.y));
        let target = TARGET_GLYPH_HEIGHT * h / setup.tallest_em.max(f32::EPSILON);
        // Strokes reach past the outline by `pad_em`; the em is at most `target` pixels.
        let pad = pad_em * target;
        let (mx, my) = (warp.reach_x() + 1.0 + pad, warp.reach_y() + 1.0 + pad);
        let (avail_w, avail_h) = ((w - 2.0 * mx).max(0.0), (h - 2.0 * my).max(0.0));
        let run_em = (run_right - run_left).max(f32::EPSILON);
        let run_h_em = (run_bottom - run_top).max(f32::EPSILON);
        let em_px = target
            .min(avail_w / run_em)
            .min(avail_h / run_h_em)
            .max(0.0);
        let run_px = run_em * em_px;
        let left = mx + uniform(rng, 0.0, (avail_w - run_px).max(0.0));
        let top = my + uniform(rng, 0.0, (avail_h - run_h_em * em_px).max(0.0));
        let mean_dy = posed.iter().map(|g| g.dy).sum::<f32>() / posed.len().max(1) as f32;
        Layout {
            em_px,
            left,
            top,
            run_left,
            run_top,
            run_px,
            mid_y: top + (mean_dy - run_top) * em_px,
            mx,
            my,
            centres,
        }
    }

    /// Glyph `i`'s outline in canvas pixels, bent by `warp`, into `path`.
    pub(crate) fn outline(&self, g: &Posed<'_>, i: usize, warp: &Warp, path: &mut Path) {
        let origin = point(
            self.left + (self.centres[i] - self.run_left) * self.em_px,
            self.top + (g.dy - self.run_top) * self.em_px,
        );
        path.clear();
        let place = |p: Point| {
            let q = g.local(p);
            point(origin.x + q.x * self.em_px, origin.y + q.y * self.em_px)
        };
        for (start, end) in chains(&g.shape.starts, g.shape.points.len()) {
            let chain = &g.shape.points[start..end];
            let Some(&first) = chain.first() else {
                continue;
            };
            path.starts.push(path.points.len());
            let mut prev = place(first);
            path.points.push(warp.apply(prev));
            for &p in &chain[1..] {
                let next = place(p);
                push_segment(path, warp, prev, next);
                prev = next;
            }
        }
    }
}
