//! The default style: hollow glyphs crowded into each other among clutter of the same strokes.
//!
//! Off-the-shelf CNN solvers read text by its filled strokes and the gaps between characters
//! (Bursztein et al., CCS 2011: segmentation is the hard part, and crowding defeats it). Here
//! each glyph is drawn as its outline only, so neighbours can overlap deeply without hiding
//! each other's ink: a person follows each closed outline (each in its own colour), while a
//! model sees a band of crossing lines with no column that belongs to one character. The
//! clutter is made of pieces of the same outlines, stroked the same way and in the same inks,
//! so no filter on width, colour or darkness removes it without removing the text. Last,
//! narrow stripes across the whole picture swap light and dark (`crate::stripes`), so every
//! stroke changes polarity every few pixels while keeping its hue.

use std::f32::consts::PI;

use ab_glyph::{Point, point};
use rand::{Rng, RngExt};

use crate::draw::{
    Canvas, Layout, Paint, Path, Pose, Setup, Warp, chains, pose, push_segment, uniform,
};
use crate::shape::Shape;
use crate::stripes::Stripes;

/// Glyph rotation limit either way (25 degrees): overlap already makes reading work; less lean
/// keeps it quick.
const MAX_ROTATION: f32 = PI * 25.0 / 180.0;
/// Stroke half-width as a share of the em.
const HALF_STROKE_EM: f32 = 0.026;
/// How deep each glyph sinks into the previous one past touching, in em.
const SINK_EM: (f32, f32) = (0.10, 0.17);
/// Half-width of the tint halo around each outline, in stroke half-widths.
const HALO: f32 = 1.7;
/// Clutter fragments per noise level.
const FRAGMENTS_PER_LEVEL: usize = 2;
/// Size of a distractor glyph against an answer glyph.
const DISTRACTOR_SCALE: (f32, f32) = (0.45, 0.55);

/// Draws `shapes` in the crowded style onto `canvas`.
pub(crate) fn draw<R: Rng + ?Sized>(
    canvas: &mut Canvas,
    setup: &Setup<'_>,
    shapes: &[&Shape],
    rng: &mut R,
) {
    let (w, h) = (setup.width as f32, setup.height as f32);
    let warp = Warp::random(rng, w, h, 1.0, 0.035);
    let posed = pose(shapes, setup.inks, rng, |rng| Pose {
        angle: MAX_ROTATION * (rng.random::<f32>() + rng.random::<f32>() - 1.0),
        scale: uniform(rng, 0.9, 1.1),
        dy: uniform(rng, -0.09, 0.09),
    });
    let pad_em = HALF_STROKE_EM * HALO.max(1.0) * 1.1;
    let layout = Layout::new(&posed, setup, &warp, rng, pad_em, |rng, touching| {
        (touching - uniform(rng, SINK_EM.0, SINK_EM.1)).max(touching * 0.4)
    });
    let half = (layout.em_px * HALF_STROKE_EM).max(0.6);
    let mut outline = Path::default();
    let mut stroke = Path::default();

    // Clutter first, so every glyph's outline lies on top of it and stays whole.
    for _ in 0..usize::from(setup.noise) * FRAGMENTS_PER_LEVEL {
        fragment(setup, &layout, &warp, rng, &mut outline);
        stroke.clear();
        stroke_polylines(&outline, false, half, &mut stroke);
        let ink = rng.random_range(0..setup.inks);
        canvas.fill(&stroke, ink, Paint::Ink);
    }

    // Bodies: a light tint of each glyph's ink fills its outline, over the clutter, so a
    // person sees one shape per letter; thresholding drops the tint with the background.
    // A halo of the same tint, a stroke wider than the outline, keeps clutter from touching
    // the outline itself: each letter's edge stays clear against what surrounds it.
    for (i, g) in posed.iter().enumerate() {
        layout.outline(g, i, &warp, &mut outline);
        canvas.fill(&outline, g.ink, Paint::Tint);
        stroke.clear();
        stroke_polylines(&outline, true, half * HALO, &mut stroke);
        canvas.fill(&stroke, g.ink, Paint::Tint);
    }

    // Distractors: small solid glyphs beside the word. A person reads the large outlined
    // letters and passes over them; a sequence model reads every letter-shaped thing.
    for k in 0..usize::from(setup.noise) * 2 {
        distractor(setup, &layout, &warp, rng, k, &mut outline);
        let ink = rng.random_range(0..setup.inks);
        canvas.fill(&outline, ink, Paint::Ink);
    }

    // The stripes' guard reads what the answer glyphs inked.
    canvas.track_answer_ink();
    for (i, g) in posed.iter().enumerate() {
        layout.outline(g, i, &warp, &mut outline);
        stroke.clear();
        stroke_polylines(&outline, true, half, &mut stroke);
        canvas.begin_glyph();
        canvas.fill(&stroke, g.ink, Paint::Ink);
        canvas.end_glyph(g.ink);
    }

    // Noise 0 draws the glyphs alone.
    if setup.noise > 0 {
        let stripes = Stripes::choose(rng, canvas, setup.palette, layout.em_px);
        canvas.invert_where(|y, row| stripes.mark_row(y, row));
    }
}

/// The `k`th distractor: a random glyph of the alphabet, small, filled, in the free space left
/// (even `k`) or right (odd `k`) of the word; none where there is no room.
fn distractor<R: Rng + ?Sized>(
    setup: &Setup<'_>,
    layout: &Layout,
    warp: &Warp,
    rng: &mut R,
    k: usize,
    out: &mut Path,
) {
    out.clear();
    let Some(shape) = setup
        .alphabet
        .get(rng.random_range(0..setup.alphabet.len().max(1)))
    else {
        return;
    };
    let (w, h) = (setup.width as f32, setup.height as f32);
    let scale = layout.em_px * uniform(rng, DISTRACTOR_SCALE.0, DISTRACTOR_SCALE.1);
    let (hx, hy) = (shape.half_extent.x * scale, shape.half_extent.y * scale);
    let (lo, hi) = if k.is_multiple_of(2) {
        (layout.mx + hx, layout.left - hx * 0.3)
    } else {
        (layout.left + layout.run_px + hx * 0.3, w - layout.mx - hx)
    };
    // Only where there is room: under the word, a solid glyph would darken what surrounds
    // an answer glyph and cost it its contrast.
    if hi <= lo {
        return;
    }
    let x = uniform(rng, lo, hi);
    let (top, bottom) = (layout.my + hy, (h - layout.my - hy).max(layout.my + hy));
    let y = uniform(rng, top, bottom);
    let angle = uniform(rng, -0.5, 0.5);
    let (cos, sin) = (angle.cos(), angle.sin());
    let place = |p: Point| {
        point(
            x + (p.x * cos - p.y * sin) * scale,
            y + (p.x * sin + p.y * cos) * scale,
        )
    };
    for (start, end) in chains(&shape.starts, shape.points.len()) {
        out.starts.push(out.points.len());
        out.points.extend(
            shape.points[start..end]
                .iter()
                .map(|&p| warp.apply(place(p))),
        );
    }
}

/// A random piece of a random glyph's outline, posed like a glyph somewhere over the text
/// band, into `out` as one open polyline.
fn fragment<R: Rng + ?Sized>(
    setup: &Setup<'_>,
    layout: &Layout,
    warp: &Warp,
    rng: &mut R,
    out: &mut Path,
) {
    out.clear();
    let Some(shape) = setup
        .alphabet
        .get(rng.random_range(0..setup.alphabet.len().max(1)))
    else {
        return;
    };
    let ranges: Vec<(usize, usize)> = chains(&shape.starts, shape.points.len()).collect();
    let (start, end) = ranges[rng.random_range(0..ranges.len())];
    let n = end - start;
    if n < 3 {
        return;
    }
    let len = ((n as f32 * uniform(rng, 0.3, 0.6)) as usize).max(2);
    let first = start + rng.random_range(0..n);
    let angle = uniform(rng, -PI, PI);
    let (cos, sin) = (angle.cos(), angle.sin());
    let scale = layout.em_px * uniform(rng, 0.8, 1.1);
    let (w, h) = (setup.width as f32, setup.height as f32);
    let centre = point(
        uniform(rng, layout.mx, w - layout.mx),
        layout.mid_y + uniform(rng, -0.25, 0.25) * h,
    );
    let place = |p: Point| {
        point(
            centre.x + (p.x * cos - p.y * sin) * scale,
            centre.y + (p.x * sin + p.y * cos) * scale,
        )
    };
    out.starts.push(0);
    let mut prev = place(shape.points[first]);
    out.points.push(warp.apply(prev));
    for k in 1..len {
        // Walk round the closed chain (its last point repeats its first).
        let idx = start + (first - start + k) % (n - 1);
        let next = place(shape.points[idx]);
        push_segment(out, warp, prev, next);
        prev = next;
    }
    // Keep the fragment on the canvas: the fill clamps to it, but a stroke dragged along the
    // border would read as a frame.
    for p in &mut out.points {
        p.x = p.x.min(w - 1.0).max(1.0);
        p.y = p.y.min(h - 1.0).max(1.0);
    }
}

/// Strokes every polyline of `src` with `half` on each side, into `out` as one quad per
/// segment, all wound the same way so overlaps add up instead of cancelling.
///
/// Each quad runs a little past both ends of its segment, which fills the outer side of the
/// joints without computing joins.
fn stroke_polylines(src: &Path, closed: bool, half: f32, out: &mut Path) {
    for (start, end) in chains(&src.starts, src.points.len()) {
        let chain = &src.points[start..end];
        let pairs = chain.windows(2).map(|p| (p[0], p[1]));
        let closing = (closed && chain.len() > 2)
            .then(|| (chain[chain.len() - 1], chain[0]))
            .filter(|(a, b)| a != b);
        for (a, b) in pairs.chain(closing) {
            let (dx, dy) = (b.x - a.x, b.y - a.y);
            let len = (dx * dx + dy * dy).sqrt();
            if len < 1e-3 {
                continue;
            }
            let (ux, uy) = (dx / len, dy / len);
            let (nx, ny) = (-uy * half, ux * half);
            let (ex, ey) = (ux * half * 0.7, uy * half * 0.7);
            out.starts.push(out.points.len());
            out.points.extend([
                point(a.x - ex + nx, a.y - ey + ny),
                point(b.x + ex + nx, b.y + ey + ny),
                point(b.x + ex - nx, b.y + ey - ny),
                point(a.x - ex - nx, a.y - ey - ny),
                point(a.x - ex + nx, a.y - ey + ny),
            ]);
        }
    }
}
