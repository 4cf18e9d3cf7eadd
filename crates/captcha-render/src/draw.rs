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

use crate::Style;
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
    /// Answer ink of each glyph, in text order (feature `test-util`).
    #[cfg(feature = "test-util")]
    pub(crate) glyph_masks: Vec<GlyphMask>,
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

    /// Which pixels are answer ink, one mask per character of the text (feature `test-util`).
    #[cfg(feature = "test-util")]
    pub fn glyph_masks(&self) -> &[GlyphMask] {
        &self.glyph_masks
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
    pub(crate) style: Style,
    /// Glyph outlines of the whole alphabet, for clutter made of the same strokes.
    pub(crate) alphabet: &'a [Shape],
}

/// First palette index of the tints (one per ink) the crowded style fills glyph bodies with:
/// past every index an ink can have, so the coverage table knows them as level 0.
pub(crate) const TINT_BASE: usize = 1 + crate::MAX_INKS * LEVELS as usize;
/// Share of ink in a tint: light enough that the outline keeps its contrast against it.
const TINT_MIX: f32 = 0.16;

/// Builds the palette: background, then `LEVELS` coverage steps for each ink; with `tints`,
/// padding up to [`TINT_BASE`] and then one light tint of each ink.
pub(crate) fn palette(background: [u8; 3], inks: &[[u8; 3]], tints: bool) -> Arc<[[u8; 3]]> {
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
    if tints {
        out.resize(TINT_BASE, background);
        for ink in inks {
            let mix = |c: usize| {
                (f32::from(background[c])
                    + (f32::from(ink[c]) - f32::from(background[c])) * TINT_MIX)
                    .round() as u8
            };
            out.push([mix(0), mix(1), mix(2)]);
        }
    }
    out.into()
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

/// A smooth displacement field: sideways sway that depends on height, a wave of the baseline
/// along the width, and (when elastic) a second, shorter wave on each axis that depends on
/// both coordinates, so strokes bend differently at every place of the image.
pub(crate) struct Warp {
    ax: f32,
    fx: f32,
    px: f32,
    ay: f32,
    fy: f32,
    py: f32,
    /// Amplitude, frequency and phase of the elastic terms (amplitude 0: none).
    e: f32,
    ef: f32,
    epx: f32,
    epy: f32,
}

impl Warp {
    /// A warp for a `w` × `h` canvas; `strength` scales the smooth waves, `elastic` the
    /// short ones (both as shares of the smaller side's base).
    pub(crate) fn random<R: Rng + ?Sized>(
        rng: &mut R,
        w: f32,
        h: f32,
        strength: f32,
        elastic: f32,
    ) -> Self {
        let base = h.min(w / 2.5);
        let ay = (base * strength * uniform(rng, 0.05, 0.07)).min(h / 8.0);
        let ax = (base * strength * uniform(rng, 0.02, 0.035)).min(w / 8.0);
        let mut warp = Warp {
            ax,
            fx: TAU / (h * uniform(rng, 0.9, 1.6)),
            px: uniform(rng, 0.0, TAU),
            ay,
            fy: TAU / (w * uniform(rng, 0.5, 0.9)),
            py: uniform(rng, 0.0, TAU),
            e: 0.0,
            ef: 0.0,
            epx: 0.0,
            epy: 0.0,
        };
        if elastic > 0.0 {
            warp.e = (base * elastic * uniform(rng, 0.8, 1.2)).min(h / 10.0);
            warp.ef = TAU / (base * uniform(rng, 0.45, 0.7));
            warp.epx = uniform(rng, 0.0, TAU);
            warp.epy = uniform(rng, 0.0, TAU);
        }
        warp
    }

    /// Farthest horizontal move.
    pub(crate) fn reach_x(&self) -> f32 {
        self.ax + self.e
    }

    /// Farthest vertical move.
    pub(crate) fn reach_y(&self) -> f32 {
        self.ay + self.e
    }

    pub(crate) fn apply(&self, p: Point) -> Point {
        let mut q = point(
            p.x + self.ax * fast_sin(self.fx * p.y + self.px),
            p.y + self.ay * fast_sin(self.fy * p.x + self.py),
        );
        if self.e > 0.0 {
            let (u, v) = (self.ef * (p.x + 0.6 * p.y), self.ef * (p.y - 0.6 * p.x));
            q.x += self.e * fast_sin(v + self.epx);
            q.y += self.e * fast_sin(u + self.epy);
        }
        q
    }
}

/// Closed polylines in canvas pixels, ready to fill.
#[derive(Default)]
pub(crate) struct Path {
    pub(crate) points: Vec<Point>,
    pub(crate) starts: Vec<usize>,
}

impl Path {
    pub(crate) fn clear(&mut self) {
        self.points.clear();
        self.starts.clear();
    }

    pub(crate) fn bounds(&self) -> Option<[f32; 4]> {
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
pub(crate) struct Canvas {
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) pixels: Vec<u8>,
    /// Answer ink of each glyph drawn so far, and the one being drawn.
    #[cfg(feature = "test-util")]
    masks: Vec<GlyphMask>,
    #[cfg(feature = "test-util")]
    recording: Option<GlyphMask>,
}

/// The coverage level (0 for background) of each palette index.
const LEVEL_OF: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 1;
    while i < TINT_BASE {
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
    pub(crate) fn new(width: usize, height: usize) -> Self {
        Canvas {
            width,
            height,
            pixels: vec![0; width * height],
            #[cfg(feature = "test-util")]
            masks: Vec::new(),
            #[cfg(feature = "test-util")]
            recording: None,
        }
    }

    pub(crate) fn put(&mut self, i: usize, ink: usize, level: u8) {
        put(&mut self.pixels, i, ink, level);
    }

    /// What is filled from here to [`Self::end_glyph`] is one answer glyph's ink.
    pub(crate) fn begin_glyph(&mut self) {
        #[cfg(feature = "test-util")]
        {
            self.recording = Some(GlyphMask {
                width: self.width,
                ink: 0,
                coverage: vec![0.0; self.pixels.len()],
                written: vec![0; self.pixels.len()],
                visible: Vec::new(),
            });
        }
    }

    pub(crate) fn end_glyph(&mut self, _ink: usize) {
        #[cfg(feature = "test-util")]
        if let Some(mut m) = self.recording.take() {
            m.ink = _ink;
            self.masks.push(m);
        }
    }

    /// The masks, each told which of its pixels still show what the glyph drew.
    #[cfg(feature = "test-util")]
    pub(crate) fn finish_masks(&mut self) -> Vec<GlyphMask> {
        let mut masks = std::mem::take(&mut self.masks);
        for m in &mut masks {
            m.visible = m
                .written
                .iter()
                .zip(&self.pixels)
                .map(|(&w, &p)| w != 0 && w == p)
                .collect();
        }
        masks
    }

    pub(crate) fn fill(&mut self, path: &Path, ink: usize, paint: Paint) {
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
                    Paint::Tint => {
                        let tint = (TINT_BASE + ink) as u8;
                        if level >= 2 { tint } else { old }
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
        #[cfg(feature = "test-util")]
        if let Some(m) = self.recording.as_mut() {
            for y in 0..rh {
                for (x, &v) in coverage.row(y).iter().enumerate() {
                    let i = (oy + y) * self.width + ox + x;
                    let c = v.abs().min(1.0);
                    if c > m.coverage[i] {
                        m.coverage[i] = c;
                        m.written[i] = self.pixels[i];
                    }
                }
            }
        }
    }
}

/// Which pixels are one answer glyph's ink (feature `test-util`): what tests of readability
/// measure. Production drawing does not compute it.
#[cfg(feature = "test-util")]
#[derive(Debug, Clone, PartialEq)]
pub struct GlyphMask {
    width: usize,
    ink: usize,
    coverage: Vec<f32>,
    written: Vec<u8>,
    visible: Vec<bool>,
}

#[cfg(feature = "test-util")]
impl GlyphMask {
    /// How much of pixel (`x`, `y`) the glyph's ink covers, 0..=1 (0 outside the picture).
    pub fn coverage(&self, x: u32, y: u32) -> f32 {
        let (x, y) = (x as usize, y as usize);
        if x >= self.width {
            return 0.0;
        }
        self.coverage
            .get(y * self.width + x)
            .copied()
            .unwrap_or(0.0)
    }

    /// Whether pixel (`x`, `y`) still shows the glyph's ink as the glyph drew it (nothing drawn
    /// later covered it).
    pub fn visible(&self, x: u32, y: u32) -> bool {
        let (x, y) = (x as usize, y as usize);
        x < self.width && self.visible.get(y * self.width + x) == Some(&true)
    }

    /// Index of the glyph's ink in `Params::ink`.
    pub fn ink(&self) -> usize {
        self.ink
    }
}

/// How a path meets the ink already on the canvas.
#[derive(Clone, Copy)]
pub(crate) enum Paint {
    /// Covers it.
    Ink,
    /// Lays the ink's light tint over whatever is there (clutter under a glyph's body is
    /// hidden, so the body reads as one shape); ink drawn later covers it.
    Tint,
    /// Cuts a background-coloured channel through it and inks only the background: a reader
    /// bridges the gap without effort, while a thresholding OCR sees broken strokes and stray
    /// bars.
    Cut,
}

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

/// The `(start, end)` ranges of the polylines whose starts are `starts`.
pub(crate) fn chains(starts: &[usize], len: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    starts
        .iter()
        .enumerate()
        .map(move |(i, &s)| (s, starts.get(i + 1).copied().unwrap_or(len)))
}

/// Appends `from -> to` to `path` in pieces short enough to follow the warp.
pub(crate) fn push_segment(path: &mut Path, warp: &Warp, from: Point, to: Point) {
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
    let mut canvas = Canvas::new(setup.width as usize, setup.height as usize);
    match setup.style {
        Style::Classic => classic(&mut canvas, setup, shapes, rng),
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

/// The first look: solid glyphs that touch, one curve cutting through them, others on top,
/// sparse dots.
fn classic<R: Rng + ?Sized>(
    canvas: &mut Canvas,
    setup: &Setup<'_>,
    shapes: &[&Shape],
    rng: &mut R,
) {
    let (w, h) = (setup.width as f32, setup.height as f32);
    let warp = Warp::random(rng, w, h, 1.0, 0.0);
    // Triangular: most glyphs lean a little, a few lean hard; uniform spread made too many
    // neighbours lean hard at once for people to read at a glance.
    let posed = pose(shapes, setup.inks, rng, |rng| Pose {
        angle: MAX_ROTATION * (rng.random::<f32>() + rng.random::<f32>() - 1.0),
        scale: uniform(rng, 0.85, 1.1),
        dy: uniform(rng, -MAX_OFFSET_EM, MAX_OFFSET_EM),
    });
    // Each glyph sits against the previous one by their facing ink profiles, then sinks into
    // it by a small random depth, so glyphs always touch (no blank column to cut at) but never
    // cover each other's strokes.
    let layout = Layout::new(&posed, setup, &warp, rng, 0.0, |rng, touching| {
        (touching - uniform(rng, 0.0, 0.045)).max(touching * 0.5)
    });
    let mut path = Path::default();
    for (i, g) in posed.iter().enumerate() {
        layout.outline(g, i, &warp, &mut path);
        canvas.begin_glyph();
        canvas.fill(&path, g.ink, Paint::Ink);
        canvas.end_glyph(g.ink);
    }

    let mut rise_sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
    for k in 0..usize::from(setup.noise) {
        // The first curve cuts through the glyphs, the others lie on top; more than one cut
        // per glyph starts to cost people more than it costs OCR.
        let paint = if k == 0 { Paint::Cut } else { Paint::Ink };
        let frame = CurveFrame {
            left: (layout.left - w * 0.08).max(layout.mx),
            right: (layout.left + layout.run_px + w * 0.08).min(w - layout.mx),
            mid_y: layout.mid_y,
            top: layout.my,
            bottom: h - layout.my,
            thickness: (layout.em_px * uniform(rng, 0.05, 0.07)).max(1.0),
            // Oblique, and the two curves crossing each other: a level line would run along
            // the crossbars of E, F, H and A and change what they read as.
            rise: rise_sign * uniform(rng, 0.35, 0.7),
        };
        rise_sign = -rise_sign;
        let ink = curve_ink(&posed, setup.inks, k, rng);
        stroke_curve(canvas, &mut path, &warp, rng, frame, ink, paint);
    }

    let dots = (w * h) as usize * usize::from(setup.noise) / 900;
    for _ in 0..dots {
        let x = rng.random_range(0..canvas.width);
        let y = rng.random_range(0..canvas.height);
        let ink = rng.random_range(0..setup.inks);
        canvas.put(y * canvas.width + x, ink, LEVELS);
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
pub(crate) fn fill_in_strips(canvas: &mut Canvas, polygon: &Path, ink: usize, paint: Paint) {
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
