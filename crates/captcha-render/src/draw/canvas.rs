//! The coverage fill: the palette, closed paths and the indexed canvas they are filled into.

use std::sync::Arc;

use ab_glyph::{Point, point};

#[cfg(feature = "test-util")]
use super::GlyphMask;
use super::{LEVELS, chains};
use crate::raster::Coverage;

/// First palette index of the tints (one per ink) the crowded style fills glyph bodies with:
/// past every index an ink can have, so the coverage table knows them as level 0.
pub(crate) const TINT_BASE: usize = 1 + crate::MAX_INKS * LEVELS as usize;
/// Share of ink in a tint: light enough that the outline keeps its contrast against it, with
/// room to spare where stripes darken part of what surrounds the outline.
const TINT_MIX: f32 = 0.12;
/// Offset of each colour's stripe twin (dark ground, pale ink) in the crowded style's palette.
pub(crate) const INVERTED: u8 = (TINT_BASE + crate::MAX_INKS) as u8;

/// Builds the palette: background, then `LEVELS` coverage steps for each ink; with `tints`
/// (the crowded style), padding up to [`TINT_BASE`], one light tint of each ink, padding up to
/// [`INVERTED`], and then the same again in the stripes' colours: [`STRIPE_GROUND`] for the
/// background and each ink's pastel ([`pastel`]) for the ink.
pub(crate) fn palette(background: [u8; 3], inks: &[[u8; 3]], tints: bool) -> Arc<[[u8; 3]]> {
    let mut out = Vec::with_capacity(2 * usize::from(INVERTED));
    ramps(&mut out, background, inks.iter().copied(), tints);
    if tints {
        out.resize(usize::from(INVERTED), background);
        ramps(
            &mut out,
            STRIPE_GROUND,
            inks.iter().map(|&ink| pastel(ink)),
            true,
        );
    }
    out.into()
}

/// Appends `ground`, each ink's coverage steps over it and (with `tints`) each ink's tint.
fn ramps(
    out: &mut Vec<[u8; 3]>,
    ground: [u8; 3],
    inks: impl Iterator<Item = [u8; 3]> + Clone,
    tints: bool,
) {
    let base = out.len();
    out.push(ground);
    for ink in inks.clone() {
        for level in 1..=LEVELS {
            out.push(mix(ground, ink, f32::from(level) / f32::from(LEVELS)));
        }
    }
    if tints {
        out.resize(base + TINT_BASE, ground);
        out.extend(inks.map(|ink| mix(ground, ink, TINT_MIX)));
    }
}

/// `a` moved a share `t` of the way to `b`, per channel.
fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let channel =
        |c: usize| (f32::from(a[c]) + (f32::from(b[c]) - f32::from(a[c])) * t).round() as u8;
    [channel(0), channel(1), channel(2)]
}

/// The ground of the polarity stripes: dark, and saturated, so that a saturation channel shows
/// the stripes as strongly as a luminance one.
pub(crate) const STRIPE_GROUND: [u8; 3] = [18, 26, 70];

/// An ink's colour inside the stripes: its hue, light, and less saturated than the ground, so
/// that the letter flips polarity in luminance and in saturation alike. Any ink dark enough for
/// the background (4.5:1) gives a pastel with well over 4.5:1 against [`STRIPE_GROUND`].
pub(crate) fn pastel(ink: [u8; 3]) -> [u8; 3] {
    mix([255, 255, 255], ink, 0.2)
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
    /// For each pixel, a bit per answer glyph (by its number less one) that inked it at
    /// coverage of a half or more, so that what is drawn after them can be checked against
    /// them; empty until the first glyph.
    pub(crate) inked: Vec<u16>,
    /// For each pixel, a bit per answer glyph (by its number less one) whose outline fill
    /// reached it at all, however faintly: not part of what surrounds that glyph.
    pub(crate) touched: Vec<u16>,
    /// The number of the answer glyph being drawn (0: none, or not tracked), and how many have
    /// begun.
    glyph: u8,
    glyphs: u8,
    /// Whether `inked` and `touched` are kept (only a style that checks what it draws after
    /// the glyphs needs them).
    tracking: bool,
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
            inked: Vec::new(),
            touched: Vec::new(),
            glyph: 0,
            glyphs: 0,
            tracking: false,
            #[cfg(feature = "test-util")]
            masks: Vec::new(),
            #[cfg(feature = "test-util")]
            recording: None,
        }
    }

    /// Keeps, from here on, which answer glyphs ink each pixel (`inked`, `touched`).
    pub(crate) fn track_answer_ink(&mut self) {
        self.tracking = true;
    }

    pub(crate) fn put(&mut self, i: usize, ink: usize, level: u8) {
        put(&mut self.pixels, i, ink, level);
    }

    /// What is filled from here to [`Self::end_glyph`] is one answer glyph's ink.
    pub(crate) fn begin_glyph(&mut self) {
        self.glyphs = self.glyphs.saturating_add(1);
        if self.tracking {
            self.glyph = self.glyphs;
            self.inked.resize(self.pixels.len(), 0);
            self.touched.resize(self.pixels.len(), 0);
        }
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
        self.glyph = 0;
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

    /// Swaps each pixel that `dark_row(y, row)` marks in its row for the pixel's
    /// stripe twin (the palette must have the twins: see [`palette`]). Answer ink
    /// keeps counting as visible: it is still the glyph's own ink, in the other polarity.
    pub(crate) fn invert_where(&mut self, mut dark_row: impl FnMut(usize, &mut [bool])) {
        let mut row = vec![false; self.width];
        for y in 0..self.height {
            row.fill(false);
            dark_row(y, &mut row);
            let start = y * self.width;
            for (x, _) in row.iter().enumerate().filter(|(_, d)| **d) {
                self.pixels[start + x] += INVERTED;
                #[cfg(feature = "test-util")]
                for m in &mut self.masks {
                    if m.written[start + x] != 0 {
                        m.written[start + x] += INVERTED;
                    }
                }
            }
        }
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
        if self.glyph > 0 {
            let bit = 1u16 << ((self.glyph - 1) % 16);
            for y in 0..rh {
                let start = (oy + y) * self.width + ox;
                let touched = &mut self.touched[start..start + rw];
                let inked = &mut self.inked[start..start + rw];
                for ((t, k), &v) in touched.iter_mut().zip(inked).zip(coverage.row(y)) {
                    let v = v.abs();
                    if v > 0.0 {
                        *t |= bit;
                    }
                    if v >= 0.5 {
                        *k |= bit;
                    }
                }
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
