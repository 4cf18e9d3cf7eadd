//! Glyph outlines, taken out of the font once when a renderer is built.

use ab_glyph::{Font, FontRef, OutlineCurve, Point};

/// One glyph as closed polylines in em units, y pointing down, centred on its bounding box.
///
/// Curves are flattened here, once, so drawing only transforms points: rotation and warp are
/// applied to the outline itself and never to pixels.
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    /// Every polyline's points, one after another.
    pub(crate) points: Vec<Point>,
    /// Where each polyline starts in `points`; each ends where the next starts.
    pub(crate) starts: Vec<usize>,
    /// Half the bounding box, in em.
    pub(crate) half_extent: Point,
}

/// Flattening tolerance in pixels at the largest size the renderer can draw.
const TOLERANCE_PX: f32 = 0.3;

/// Extracts `ch` from `font`; `None` when the font has no outline for it.
pub(crate) fn extract(font: &FontRef<'_>, ch: char, max_em_px: f32) -> Option<Shape> {
    let id = font.glyph_id(ch);
    if id.0 == 0 {
        return None;
    }
    let outline = font.outline(id)?;
    let upem = font.units_per_em()?;
    let to_em = |p: Point| Point {
        x: p.x / upem,
        y: -p.y / upem,
    };
    let mut points: Vec<Point> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    let px_per_unit = max_em_px / upem;
    for curve in &outline.curves {
        let (first, last) = match *curve {
            OutlineCurve::Line(a, b) => (a, b),
            OutlineCurve::Quad(a, _, c) => (a, c),
            OutlineCurve::Cubic(a, _, _, d) => (a, d),
        };
        let start = to_em(first);
        let continues = starts.last().is_some_and(|_| points.last() == Some(&start));
        if !continues {
            close_chain(&mut points, &starts);
            starts.push(points.len());
            points.push(start);
        }
        match *curve {
            OutlineCurve::Line(..) => points.push(to_em(last)),
            OutlineCurve::Quad(a, b, c) => {
                let n = segments(deviation(a, b, c) * px_per_unit);
                for i in 1..=n {
                    let t = i as f32 / n as f32;
                    points.push(to_em(quad_at(a, b, c, t)));
                }
            }
            OutlineCurve::Cubic(a, b, c, d) => {
                let dev = deviation(a, b, c).max(deviation(b, c, d));
                let n = segments(dev * px_per_unit);
                for i in 1..=n {
                    let t = i as f32 / n as f32;
                    points.push(to_em(cubic_at(a, b, c, d, t)));
                }
            }
        }
    }
    close_chain(&mut points, &starts);
    if points.is_empty() {
        return None;
    }
    let (mut min, mut max) = (points[0], points[0]);
    for p in &points {
        min.x = min.x.min(p.x);
        min.y = min.y.min(p.y);
        max.x = max.x.max(p.x);
        max.y = max.y.max(p.y);
    }
    let centre = Point {
        x: (min.x + max.x) / 2.0,
        y: (min.y + max.y) / 2.0,
    };
    for p in &mut points {
        p.x -= centre.x;
        p.y -= centre.y;
    }
    Some(Shape {
        points,
        starts,
        half_extent: Point {
            x: (max.x - min.x) / 2.0,
            y: (max.y - min.y) / 2.0,
        },
    })
}

/// The rasteriser fills by accumulated winding, so an unclosed chain would smear coverage
/// along its scanlines: close the last chain if the font left it open.
fn close_chain(points: &mut Vec<Point>, starts: &[usize]) {
    if let Some(&s) = starts.last()
        && let (Some(&first), Some(&last)) = (points.get(s), points.last())
        && first != last
    {
        points.push(first);
    }
}

fn segments(deviation_px: f32) -> usize {
    // A quadratic's error falls with the square of the segment count.
    ((deviation_px / TOLERANCE_PX).sqrt().ceil() as usize).clamp(1, 24)
}

/// How far the control point pulls the curve from its chord (a quarter of the second difference).
fn deviation(a: Point, b: Point, c: Point) -> f32 {
    let dx = a.x - 2.0 * b.x + c.x;
    let dy = a.y - 2.0 * b.y + c.y;
    (dx * dx + dy * dy).sqrt() / 4.0
}

fn quad_at(a: Point, b: Point, c: Point, t: f32) -> Point {
    let u = 1.0 - t;
    Point {
        x: u * u * a.x + 2.0 * u * t * b.x + t * t * c.x,
        y: u * u * a.y + 2.0 * u * t * b.y + t * t * c.y,
    }
}

fn cubic_at(a: Point, b: Point, c: Point, d: Point, t: f32) -> Point {
    let u = 1.0 - t;
    let (w0, w1, w2, w3) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
    Point {
        x: w0 * a.x + w1 * b.x + w2 * c.x + w3 * d.x,
        y: w0 * a.y + w1 * b.y + w2 * c.y + w3 * d.y,
    }
}
