//! Layout, warp and rasterisation: text in, indexed pixels out.
//!
//! Everything is drawn as vector paths (glyph outlines, stroked noise curves) whose points are
//! rotated, scaled, placed and then pushed through one smooth warp before a single coverage
//! rasteriser fills them. Warping the points instead of resampling the image costs a few hundred
//! `sin` calls per captcha instead of one per pixel, and needs no interpolation.

use std::f32::consts::{PI, TAU};
use std::sync::Arc;

use ab_glyph::{Point, point};
use rand::{Rng, RngExt};

use crate::raster::Coverage;
use crate::shape::Shape;

/// Coverage steps per ink colour in the palette; three keep edges smooth at 2 bits of detail.
pub(crate) const LEVELS: u8 = 3;
/// Longest straight piece sent through the warp, in pixels: long strokes must bend with it.
const MAX_SEGMENT_PX: f32 = 8.0;
/// Distance between samples along a noise curve, in pixels.
const CURVE_STEP_PX: f32 = 5.0;
/// Glyph rotation limit either way (about 30 degrees).
const MAX_ROTATION: f32 = PI / 6.0;
/// Height of the tallest glyph of the alphabet as a share of the canvas height, before
/// per-glyph scaling; the rest is room for rotation, offsets and the warp.
const TARGET_GLYPH_HEIGHT: f32 = 0.6;

/// A drawn captcha before encoding: one palette index per pixel.
///
/// Produced by [`Renderer::draw`](crate::Renderer::draw); turned into bytes by
/// [`Renderer::encode`](crate::Renderer::encode).
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) palette: Arc<[[u8; 3]]>,
    pub(crate) pixels: Vec<u8>,
    /// Pixel bounds of each glyph after the warp: `[x0, y0, x1, y1]`, for tests.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) glyph_bounds: Vec<[f32; 4]>,
}

impl Picture {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The colours the indices refer to; index 0 is the background.
    pub fn palette(&self) -> &[[u8; 3]] {
        &self.palette
    }

    /// Palette indices, row by row, one byte per pixel.
    pub fn indices(&self) -> &[u8] {
        &self.pixels
    }

    /// The colour of pixel (`x`, `y`); `None` outside the picture.
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = y as usize * self.width as usize + x as usize;
        Some(self.palette[usize::from(self.pixels[i])])
    }

    /// The picture as 8-bit RGB, row by row.
    pub fn to_rgb(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.pixels.len() * 3);
        for &i in &self.pixels {
            out.extend_from_slice(&self.palette[usize::from(i)]);
        }
        out
    }
}

/// Everything `draw` needs that does not change between captchas.
pub(crate) struct Setup<'a> {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) inks: usize,
    pub(crate) noise: u8,
    pub(crate) palette: &'a Arc<[[u8; 3]]>,
    /// Height of the tallest glyph in the alphabet, in em.
    pub(crate) tallest_em: f32,
}

/// Builds the palette: background, then `LEVELS` coverage steps for each ink.
pub(crate) fn palette(background: [u8; 3], inks: &[[u8; 3]]) -> Arc<[[u8; 3]]> {
    let mut out = vec![background];
    for ink in inks {
        for level in 1..=LEVELS {
            let t = f32::from(level) / f32::from(LEVELS);
            let mix = |c: usize| {
                (f32::from(background[c]) + (f32::from(ink[c]) - f32::from(background[c])) * t)
                    .round() as u8
            };
            out.push([mix(0), mix(1), mix(2)]);
        }
    }
    out.into()
}

/// A uniform draw from `lo..hi`; never panics, even when the range is empty.
fn uniform<R: Rng + ?Sized>(rng: &mut R, lo: f32, hi: f32) -> f32 {
    lo + (hi - lo) * rng.random::<f32>()
}

/// `sin` to within about 0.001: a parabola through the half-wave, refined once. Hundreds of
/// calls per captcha, where the libm call's full precision buys nothing visible.
fn fast_sin(x: f32) -> f32 {
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

/// A smooth displacement field: sideways sway that depends on height, and a wave of the
/// baseline along the width.
struct Warp {
    ax: f32,
    fx: f32,
    px: f32,
    ay: f32,
    fy: f32,
    py: f32,
}

impl Warp {
    fn apply(&self, p: Point) -> Point {
        point(
            p.x + self.ax * fast_sin(self.fx * p.y + self.px),
            p.y + self.ay * fast_sin(self.fy * p.x + self.py),
        )
    }
}

/// Closed polylines in canvas pixels, ready to fill.
#[derive(Default)]
struct Path {
    points: Vec<Point>,
    starts: Vec<usize>,
}

impl Path {
    fn clear(&mut self) {
        self.points.clear();
        self.starts.clear();
    }

    fn bounds(&self) -> Option<[f32; 4]> {
        let first = *self.points.first()?;
        let mut b = [first.x, first.y, first.x, first.y];
        for p in &self.points {
            b[0] = b[0].min(p.x);
            b[1] = b[1].min(p.y);
            b[2] = b[2].max(p.x);
            b[3] = b[3].max(p.y);
        }
        Some(b)
    }
}

/// Indexed canvas with a "stronger coverage wins" rule so that a faint anti-aliased edge never
/// paints over the solid body of a glyph drawn before it.
struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

/// The coverage level (0 for background) of each palette index.
const LEVEL_OF: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 1;
    while i < 256 {
        table[i] = (i as u8 - 1) % LEVELS + 1;
        i += 1;
    }
    table
};

/// Sets pixel `i` to `ink` at coverage `level` (1..=LEVELS) unless it already holds more.
fn put(pixels: &mut [u8], i: usize, ink: usize, level: u8) {
    let new = 1 + ink * usize::from(LEVELS) + usize::from(level - 1);
    if level >= LEVEL_OF[usize::from(pixels[i])] {
        pixels[i] = new as u8;
    }
}

impl Canvas {
    fn put(&mut self, i: usize, ink: usize, level: u8) {
        put(&mut self.pixels, i, ink, level);
    }

    fn fill(&mut self, path: &Path, ink: usize, paint: Paint) {
        let Some(b) = path.bounds() else { return };
        let (w, h) = (self.width as f32, self.height as f32);
        let x0 = b[0].clamp(0.0, w).floor();
        let y0 = b[1].clamp(0.0, h).floor();
        let x1 = b[2].clamp(0.0, w).ceil();
        let y1 = b[3].clamp(0.0, h).ceil();
        // Stay inside the canvas so the pixel loop needs no bounds checks.
        let rw = ((x1 - x0) as usize + 1).min(self.width - x0 as usize);
        let rh = ((y1 - y0) as usize + 1).min(self.height - y0 as usize);
        if rw == 0 || rh == 0 {
            return;
        }
        let mut coverage = Coverage::new(rw, rh);
        let local = |p: Point| point(p.x.clamp(0.0, w) - x0, p.y.clamp(0.0, h) - y0);
        for (start, end) in chains(&path.starts, path.points.len()) {
            let chain = &path.points[start..end];
            for pair in chain.windows(2) {
                coverage.line(local(pair[0]), local(pair[1]));
            }
        }
        coverage.accumulate();
        let (ox, oy) = (x0 as usize, y0 as usize);
        let first = 1 + ink as u8 * LEVELS - 1;
        // Branch-free per pixel: the edges of glyphs are where an `if` mispredicts, and every
        // row has several.
        for y in 0..rh {
            let start = (oy + y) * self.width + ox;
            let row = &mut self.pixels[start..start + rw];
            for (px, &v) in row.iter_mut().zip(coverage.row(y)) {
                let level = (v.abs().min(1.0) * f32::from(LEVELS) + 0.5) as u8;
                let old = *px;
                let new = first.wrapping_add(level);
                *px = match paint {
                    Paint::Ink => {
                        let take = (level > 0) & (level >= LEVEL_OF[usize::from(old)]);
                        if take { new } else { old }
                    }
                    Paint::Cut => {
                        let cut = (old != 0) & (level > 1);
                        let ink_bg = (old == 0) & (level > 0);
                        if cut {
                            0
                        } else if ink_bg {
                            new
                        } else {
                            old
                        }
                    }
                };
            }
        }
    }
}

/// How a path meets the ink already on the canvas.
#[derive(Clone, Copy)]
enum Paint {
    /// Covers it.
    Ink,
    /// Cuts a background-coloured channel through it and inks only the background: a reader
    /// bridges the gap without effort, while a thresholding OCR sees broken strokes and stray
    /// bars.
    Cut,
}

/// One glyph after rotation, scaling and vertical offset, in em, before placement.
struct Posed<'a> {
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
    ink: usize,
}

/// Horizontal bands of the ink profiles, covering -1..1 em around the line's centre.
const BANDS: usize = 32;
const BAND_EM: f32 = 2.0 / BANDS as f32;
/// Vertical offset limit either way, in em.
const MAX_OFFSET_EM: f32 = 0.07;

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

    fn local(&self, p: Point) -> Point {
        point(
            (p.x * self.cos - p.y * self.sin) * self.scale,
            (p.x * self.sin + p.y * self.cos) * self.scale,
        )
    }
}

/// The `(start, end)` ranges of the polylines whose starts are `starts`.
fn chains(starts: &[usize], len: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    starts
        .iter()
        .enumerate()
        .map(move |(i, &s)| (s, starts.get(i + 1).copied().unwrap_or(len)))
}

/// Appends `from -> to` to `path` in pieces short enough to follow the warp.
fn push_segment(path: &mut Path, warp: &Warp, from: Point, to: Point) {
    let len = ((to.x - from.x).powi(2) + (to.y - from.y).powi(2)).sqrt();
    let n = ((len / MAX_SEGMENT_PX).ceil() as usize).clamp(1, 64);
    for i in 1..=n {
        let t = i as f32 / n as f32;
        let p = point(from.x + (to.x - from.x) * t, from.y + (to.y - from.y) * t);
        path.points.push(warp.apply(p));
    }
}

/// Draws `shapes` (the glyphs of the text, in order) onto a fresh canvas.
pub(crate) fn draw<R: Rng + ?Sized>(setup: &Setup<'_>, shapes: &[&Shape], rng: &mut R) -> Picture {
    let (w, h) = (setup.width as f32, setup.height as f32);
    let mut canvas = Canvas {
        width: setup.width as usize,
        height: setup.height as usize,
        pixels: vec![0; setup.width as usize * setup.height as usize],
    };

    // The warp's reach sets the margins, so nothing it moves can leave the canvas.
    let base = h.min(w / 2.5);
    let ay = (base * uniform(rng, 0.05, 0.07)).min(h / 8.0);
    let ax = (base * uniform(rng, 0.02, 0.035)).min(w / 8.0);
    let warp = Warp {
        ax,
        fx: TAU / (h * uniform(rng, 0.9, 1.6)),
        px: uniform(rng, 0.0, TAU),
        ay,
        fy: TAU / (w * uniform(rng, 0.5, 0.9)),
        py: uniform(rng, 0.0, TAU),
    };
    let (mx, my) = (ax + 1.0, ay + 1.0);
    let (avail_w, avail_h) = ((w - 2.0 * mx).max(0.0), (h - 2.0 * my).max(0.0));

    let mut posed: Vec<Posed<'_>> = Vec::with_capacity(shapes.len());
    for shape in shapes {
        // Triangular: most glyphs lean a little, a few lean hard; uniform spread made too many
        // neighbours lean hard at once for people to read at a glance.
        let angle = MAX_ROTATION * (rng.random::<f32>() + rng.random::<f32>() - 1.0);
        let scale = uniform(rng, 0.85, 1.1);
        let dy = uniform(rng, -MAX_OFFSET_EM, MAX_OFFSET_EM);
        let mut ink = rng.random_range(0..setup.inks);
        // Neighbours in different colours read more easily for people; thresholding OCR
        // sees no difference.
        if let Some(prev) = posed.last()
            && setup.inks > 1
            && ink == prev.ink
        {
            ink = (ink + 1 + rng.random_range(0..setup.inks - 1)) % setup.inks;
        }
        posed.push(Posed::new(shape, angle, scale, dy, ink));
    }

    // Horizontal layout in em: each glyph sits against the previous one by their facing ink
    // profiles, then sinks into it by a small random depth, so glyphs always touch (no blank
    // column to cut at) but never cover each other's strokes.
    let mut centres = Vec::with_capacity(posed.len());
    let mut cursor = 0.0f32;
    for (i, g) in posed.iter().enumerate() {
        if i > 0 {
            let prev = &posed[i - 1];
            let touching = prev.gap_to(g);
            cursor += (touching - uniform(rng, 0.0, 0.045)).max(touching * 0.5);
        }
        centres.push(cursor);
    }
    let run_left = posed
        .iter()
        .zip(&centres)
        .map(|(g, c)| c + g.min.x)
        .fold(f32::MAX, f32::min);
    let run_right = posed
        .iter()
        .zip(&centres)
        .map(|(g, c)| c + g.max.x)
        .fold(f32::MIN, f32::max);
    let run_top = posed
        .iter()
        .map(|g| g.dy + g.min.y)
        .fold(f32::MAX, f32::min);
    let run_bottom = posed
        .iter()
        .map(|g| g.dy + g.max.y)
        .fold(f32::MIN, f32::max);
    let run_em = (run_right - run_left).max(f32::EPSILON);
    let run_h_em = (run_bottom - run_top).max(f32::EPSILON);
    let target = TARGET_GLYPH_HEIGHT * h / setup.tallest_em.max(f32::EPSILON);
    let em_px = target
        .min(avail_w / run_em)
        .min(avail_h / run_h_em)
        .max(0.0);
    let run_px = run_em * em_px;
    let left = mx + uniform(rng, 0.0, (avail_w - run_px).max(0.0));
    let top = my + uniform(rng, 0.0, (avail_h - run_h_em * em_px).max(0.0));
    let mean_dy = posed.iter().map(|g| g.dy).sum::<f32>() / posed.len().max(1) as f32;
    let mid_y = top + (mean_dy - run_top) * em_px;

    let mut path = Path::default();
    let mut glyph_bounds = Vec::with_capacity(posed.len());
    for (g, &centre) in posed.iter().zip(&centres) {
        let origin = point(
            left + (centre - run_left) * em_px,
            top + (g.dy - run_top) * em_px,
        );
        path.clear();
        let place = |p: Point| {
            let q = g.local(p);
            point(origin.x + q.x * em_px, origin.y + q.y * em_px)
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
                push_segment(&mut path, &warp, prev, next);
                prev = next;
            }
        }
        glyph_bounds.push(path.bounds().unwrap_or_default());
        canvas.fill(&path, g.ink, Paint::Ink);
    }

    let curves = match setup.noise {
        0 => 0,
        n => usize::from(n),
    };
    let mut rise_sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
    for k in 0..curves {
        // The first curve cuts through the glyphs, the others lie on top; more than one cut
        // per glyph starts to cost people more than it costs OCR.
        let paint = if k == 0 { Paint::Cut } else { Paint::Ink };
        let frame = CurveFrame {
            left: (left - w * 0.08).max(mx),
            right: (left + run_px + w * 0.08).min(w - mx),
            mid_y,
            top: my,
            bottom: h - my,
            thickness: (em_px * uniform(rng, 0.05, 0.07)).max(1.0),
            // Oblique, and the two curves crossing each other: a level line would run along
            // the crossbars of E, F, H and A and change what they read as.
            rise: rise_sign * uniform(rng, 0.35, 0.7),
        };
        rise_sign = -rise_sign;
        let ink = curve_ink(&posed, setup.inks, k, rng);
        stroke_curve(&mut canvas, &mut path, &warp, rng, frame, ink, paint);
    }

    let dots = match setup.noise {
        0 => 0,
        n => (w * h) as usize * usize::from(n) / 900,
    };
    for _ in 0..dots {
        let x = rng.random_range(0..canvas.width);
        let y = rng.random_range(0..canvas.height);
        let ink = rng.random_range(0..setup.inks);
        canvas.put(y * canvas.width + x, ink, LEVELS);
    }

    Picture {
        width: setup.width,
        height: setup.height,
        palette: Arc::clone(setup.palette),
        pixels: canvas.pixels,
        glyph_bounds,
    }
}

/// An ink for the `k`th curve, preferring colours no glyph wears so people can tell the curve
/// from the strokes by hue; to a thresholding OCR every ink is the same black.
fn curve_ink<R: Rng + ?Sized>(posed: &[Posed<'_>], inks: usize, k: usize, rng: &mut R) -> usize {
    let mut free = [true; 8];
    for g in posed {
        if let Some(f) = free.get_mut(g.ink) {
            *f = false;
        }
    }
    let unused: Vec<usize> = (0..inks).filter(|&i| free.get(i) == Some(&true)).collect();
    match unused.len() {
        0 => rng.random_range(0..inks),
        n => unused[(k + rng.random_range(0..n)) % n],
    }
}

/// Where a noise curve may run.
struct CurveFrame {
    left: f32,
    right: f32,
    mid_y: f32,
    top: f32,
    bottom: f32,
    thickness: f32,
    /// Climb over the whole span, as a share of the height; negative falls.
    rise: f32,
}

/// A wavy line across the text, about as thick as a thin glyph stroke and tapered at both ends,
/// so thresholding keeps it and segmentation cannot tell it from a stroke.
fn stroke_curve<R: Rng + ?Sized>(
    canvas: &mut Canvas,
    path: &mut Path,
    warp: &Warp,
    rng: &mut R,
    frame: CurveFrame,
    ink: usize,
    paint: Paint,
) {
    let span = frame.right - frame.left;
    if span <= 2.0 {
        return;
    }
    let height = frame.bottom - frame.top;
    let amplitude = height * uniform(rng, 0.04, 0.1);
    let freq = TAU / (span * uniform(rng, 0.7, 1.4));
    let phase = uniform(rng, 0.0, TAU);
    let slope = frame.rise * height / span;
    let centre = frame.mid_y + uniform(rng, -0.06, 0.06) * height;
    let half = frame.thickness / 2.0;
    let lo = frame.top + half;
    let hi = (frame.bottom - half).max(lo);
    // Height and gradient of the centre line at `x`; flat where it is held inside the frame.
    let line_at = |x: f32| {
        let t = x - frame.left;
        let arg = freq * t + phase;
        let y = centre + amplitude * fast_sin(arg) + slope * (t - span / 2.0);
        if (lo..=hi).contains(&y) {
            (y, amplitude * freq * fast_sin(arg + PI / 2.0) + slope)
        } else {
            (y.clamp(lo, hi), 0.0)
        }
    };

    let n = ((span / CURVE_STEP_PX).ceil() as usize).clamp(4, 400);
    let taper = 3.0f32.min(n as f32 / 2.0);
    path.clear();
    path.starts.push(0);
    let mut back = Vec::with_capacity(n + 1);
    for i in 0..=n {
        let x = frame.left + span * i as f32 / n as f32;
        let (y, dy) = line_at(x);
        let norm = (1.0 + dy * dy).sqrt();
        let ends = (i.min(n - i) as f32 / taper).min(1.0);
        let r = half * (0.35 + 0.65 * ends);
        let (nx, ny) = (-dy / norm * r, 1.0 / norm * r);
        path.points.push(warp.apply(point(x + nx, y + ny)));
        back.push(warp.apply(point(x - nx, y - ny)));
    }
    path.points.extend(back.into_iter().rev());
    fill_in_strips(canvas, path, ink, paint);
}

/// Width of the column strips a long path is filled in, in pixels.
const STRIP_PX: f32 = 32.0;

/// Fills a long thin closed polygon strip by strip.
///
/// The rasteriser sums coverage across every pixel of a path's bounding box, and an oblique
/// curve's box is mostly empty; cut into columns at whole pixels, the boxes shrink to the
/// curve's own neighbourhood and no pixel is split between two strips, so no seam shows.
fn fill_in_strips(canvas: &mut Canvas, polygon: &Path, ink: usize, paint: Paint) {
    let Some([x0, _, x1, _]) = polygon.bounds() else {
        return;
    };
    let mut piece = Path::default();
    let mut half = Vec::with_capacity(polygon.points.len());
    let mut lo = x0.floor();
    while lo < x1 {
        let hi = lo + STRIP_PX;
        clip(&polygon.points, |p| p.x >= lo, lo, &mut half);
        piece.clear();
        clip(&half, |p| p.x <= hi, hi, &mut piece.points);
        if let Some(&first) = piece.points.first() {
            piece.points.push(first);
            piece.starts.push(0);
            canvas.fill(&piece, ink, paint);
        }
        lo = hi;
    }
}

/// One Sutherland-Hodgman step: the part of closed polygon `src` on the `keep` side of the
/// vertical line at `x`. Where the polygon leaves and re-enters, the result runs along the line
/// and back, which fills nothing.
fn clip(src: &[Point], keep: impl Fn(Point) -> bool, x: f32, out: &mut Vec<Point>) {
    out.clear();
    let Some(&last) = src.last() else { return };
    let cross = |a: Point, b: Point| {
        let t = (x - a.x) / (b.x - a.x);
        point(x, a.y + (b.y - a.y) * t)
    };
    let mut prev = last;
    for &cur in src {
        match (keep(prev), keep(cur)) {
            (true, true) => out.push(cur),
            (false, true) => {
                out.push(cross(prev, cur));
                out.push(cur);
            }
            (true, false) => out.push(cross(prev, cur)),
            (false, false) => {}
        }
        prev = cur;
    }
}

#[cfg(test)]
mod tests {
    use rand::{SeedableRng, rngs::StdRng};

    use crate::{Params, Renderer};

    /// Each glyph's own outline, after the warp, lies inside the canvas and covers some area,
    /// so every character of the answer is there to be read.
    #[test]
    fn fast_sin_is_close_to_sin() {
        for i in -2000..2000 {
            let x = i as f32 * 0.01;
            assert!((super::fast_sin(x) - x.sin()).abs() < 2e-3, "{x}");
        }
    }

    #[test]
    fn every_glyph_lands_inside_the_canvas_with_area() {
        for (width, height, length) in [(160, 60, 4), (100, 30, 8), (1000, 400, 12), (40, 40, 2)] {
            let r = Renderer::new(Params {
                width,
                height,
                length,
                ..Params::default()
            })
            .expect("valid");
            let mut rng = StdRng::seed_from_u64(u64::from(width + height));
            for _ in 0..200 {
                let text = r.random_text(&mut rng);
                let p = r.draw(&text, &mut rng).expect("draw");
                assert_eq!(p.glyph_bounds.len(), length);
                for [x0, y0, x1, y1] in p.glyph_bounds {
                    assert!(x0 >= 0.0 && y0 >= 0.0, "{text}: {x0},{y0}");
                    assert!(
                        x1 <= width as f32 && y1 <= height as f32,
                        "{text}: {x1},{y1}"
                    );
                    let min_side = height as f32 * 0.15;
                    assert!(
                        x1 - x0 > min_side / 3.0 && y1 - y0 > min_side,
                        "{text}: tiny glyph"
                    );
                }
            }
        }
    }
}
