//! Anti-aliased fill of closed polylines by signed-area accumulation.
//!
//! The same method as ab_glyph's rasteriser (each edge adds the area it sweeps to the cells it
//! crosses; a running sum along a row then gives each pixel's coverage), written for this
//! crate's one need, lines only, so the running sums can be interleaved across rows: a single
//! running sum is a chain of dependent additions and was the largest cost of drawing.

use ab_glyph::Point;

/// A coverage grid of `width` × `height` pixels.
pub(crate) struct Coverage {
    width: usize,
    height: usize,
    /// `width + 2` cells a row: an edge at the right border spills into the next cell.
    cells: Vec<f32>,
}

impl Coverage {
    pub(crate) fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            cells: vec![0.0; (width + 2) * height],
        }
    }

    fn stride(&self) -> usize {
        self.width + 2
    }

    /// Adds the edge `p0 -> p1`; parts outside the grid are clamped to its borders.
    pub(crate) fn line(&mut self, p0: Point, p1: Point) {
        if p0.y == p1.y
            || !(p0.x.is_finite() && p0.y.is_finite() && p1.x.is_finite() && p1.y.is_finite())
        {
            return;
        }
        let (dir, a, b) = if p0.y < p1.y {
            (1.0, p0, p1)
        } else {
            (-1.0, p1, p0)
        };
        let top = a.y.max(0.0);
        let bottom = b.y.min(self.height as f32);
        if top >= bottom {
            return;
        }
        let dxdy = (b.x - a.x) / (b.y - a.y);
        // Height swept per unit of width, signed: how a row's share is split between cells.
        let per_x = if dxdy == 0.0 { 0.0 } else { dir / dxdy.abs() };
        let w = self.width as f32;
        let stride = self.stride();
        let mut y = top;
        let mut row = top as usize;
        let mut xa = a.x + (y - a.y) * dxdy;
        while y < bottom && row < self.height {
            let next = ((row + 1) as f32).min(bottom);
            let xb = a.x + (next - a.y) * dxdy;
            let d = (next - y) * dir;
            let (lo, hi) = if xa <= xb { (xa, xb) } else { (xb, xa) };
            let (lo, hi) = (lo.clamp(0.0, w), hi.clamp(0.0, w));
            let base = row * stride;
            let first = lo as usize;
            let last = (hi as usize).min(self.width);
            if first == last || hi - lo < 1e-6 {
                // Within one cell, the common case for short edges.
                let m = (lo + hi) * 0.5 - first as f32;
                self.cells[base + first] += d * (1.0 - m);
                self.cells[base + first + 1] += d * m;
            } else {
                // The edge is straight, so each cell it crosses takes a share of `d` in
                // proportion to the width it crosses there. Clamping can shorten the run; the
                // share then follows the clamped width.
                let per = if hi - lo < (xb - xa).abs() {
                    d / (hi - lo)
                } else {
                    per_x
                };
                for c in first..=last {
                    let s = lo.max(c as f32);
                    let e = hi.min((c + 1) as f32);
                    if e <= s {
                        continue;
                    }
                    let dd = (e - s) * per;
                    let m = (s + e) * 0.5 - c as f32;
                    self.cells[base + c] += dd * (1.0 - m);
                    self.cells[base + c + 1] += dd * m;
                }
            }
            xa = xb;
            y = next;
            row += 1;
        }
    }

    /// Turns the accumulated edges into signed coverage, in place; read it with [`Self::row`].
    pub(crate) fn accumulate(&mut self) {
        let (w, stride) = (self.width, self.stride());
        // Four rows at a time: four independent running sums keep the adder busy.
        let mut rows = self.cells.chunks_exact_mut(stride * 4);
        for quad in &mut rows {
            let (r0, rest) = quad.split_at_mut(stride);
            let (r1, rest) = rest.split_at_mut(stride);
            let (r2, r3) = rest.split_at_mut(stride);
            let (mut a0, mut a1, mut a2, mut a3) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
            for x in 0..w {
                a0 += r0[x];
                a1 += r1[x];
                a2 += r2[x];
                a3 += r3[x];
                r0[x] = a0;
                r1[x] = a1;
                r2[x] = a2;
                r3[x] = a3;
            }
        }
        for row in rows.into_remainder().chunks_exact_mut(stride) {
            let mut acc = 0.0f32;
            for v in &mut row[..w] {
                acc += *v;
                *v = acc;
            }
        }
    }

    /// Row `y` after [`Self::accumulate`]: signed coverage, its magnitude (clamped to 1) the
    /// share of each pixel inside the path.
    pub(crate) fn row(&self, y: usize) -> &[f32] {
        let start = y * self.stride();
        &self.cells[start..start + self.width]
    }

    #[cfg(test)]
    fn finish(&mut self, threshold: f32, mut pixel: impl FnMut(usize, usize, f32)) {
        self.accumulate();
        for y in 0..self.height {
            for (x, &v) in self.row(y).iter().enumerate() {
                let coverage = v.abs().min(1.0);
                if coverage >= threshold {
                    pixel(x, y, coverage);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ab_glyph::point;
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    use super::Coverage;

    /// Same coverage as ab_glyph's rasteriser, polygon for polygon.
    #[test]
    fn matches_ab_glyph_rasterizer() {
        let mut rng = StdRng::seed_from_u64(5);
        for case in 0..300 {
            let (w, h) = (rng.random_range(1..60usize), rng.random_range(1..60usize));
            let n = rng.random_range(3..12);
            let mut pts: Vec<_> = (0..n)
                .map(|_| {
                    point(
                        rng.random::<f32>() * w as f32,
                        rng.random::<f32>() * h as f32,
                    )
                })
                .collect();
            pts.push(pts[0]);
            let mut ours = Coverage::new(w, h);
            let mut theirs = ab_glyph_rasterizer::Rasterizer::new(w, h);
            for pair in pts.windows(2) {
                ours.line(pair[0], pair[1]);
                theirs.draw_line(pair[0], pair[1]);
            }
            let mut expected = vec![0.0f32; w * h];
            theirs.for_each_pixel(|i, c| expected[i] = c.min(1.0));
            let mut got = vec![0.0f32; w * h];
            ours.finish(0.0, |x, y, c| got[y * w + x] = c);
            for (i, (a, b)) in got.iter().zip(&expected).enumerate() {
                assert!((a - b).abs() < 2e-3, "case {case}: pixel {i}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn a_unit_square_covers_exactly_its_pixel() {
        let mut c = Coverage::new(3, 3);
        let sq = [
            point(1.0, 1.0),
            point(2.0, 1.0),
            point(2.0, 2.0),
            point(1.0, 2.0),
        ];
        for i in 0..4 {
            c.line(sq[i], sq[(i + 1) % 4]);
        }
        let mut seen = Vec::new();
        c.finish(0.01, |x, y, cov| seen.push((x, y, (cov * 1000.0).round())));
        assert_eq!(seen, vec![(1, 1, 1000.0)]);
    }
}
