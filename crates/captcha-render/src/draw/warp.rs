//! The warp every point goes through, and the segment splitting that lets strokes follow it.

use std::f32::consts::TAU;

use ab_glyph::{Point, point};
use rand::Rng;

use super::{Path, fast_sin, uniform};

/// Longest straight piece sent through the warp, in pixels: long strokes must bend with it.
const MAX_SEGMENT_PX: f32 = 8.0;

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
