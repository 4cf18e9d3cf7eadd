//! The first look: solid glyphs that touch, one curve cutting through them, others on top,
//! sparse dots.

use std::f32::consts::{PI, TAU};

use ab_glyph::point;
use rand::{Rng, RngExt};

use crate::draw::{
    Canvas, LEVELS, Layout, MAX_OFFSET_EM, Paint, Path, Pose, Posed, Setup, Warp, fast_sin,
    fill_in_strips, pose, uniform,
};
use crate::shape::Shape;

/// Distance between samples along a noise curve, in pixels.
const CURVE_STEP_PX: f32 = 5.0;
/// Glyph rotation limit either way (about 30 degrees).
const MAX_ROTATION: f32 = PI / 6.0;

/// Draws `shapes` in the classic style onto `canvas`.
pub(crate) fn draw<R: Rng + ?Sized>(
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
