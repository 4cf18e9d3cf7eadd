#![doc = include_str!("../README.md")]

use std::fmt;
use std::sync::Arc;

use ab_glyph::FontRef;
use rand::{Rng, RngExt};

mod classic;
#[cfg(feature = "serde")]
mod config;
mod crowded;
mod draw;
mod encode;
mod params;
mod raster;
mod shape;
mod stripes;

#[cfg(feature = "test-util")]
pub use draw::GlyphMask;
pub use draw::Picture;
pub use params::{
    Format, MAX_HEIGHT, MAX_INKS, MAX_LENGTH, MAX_NOISE, MAX_WIDTH, MIN_INK_CONTRAST, Params,
    ParamsError, Style, contrast, luminance,
};
use shape::Shape;

/// The compiled-in font: DejaVu Sans Bold reduced to printable ASCII (licence in `fonts/`).
pub const DEFAULT_FONT: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold-ascii.ttf");

/// The default alphabet: 18 characters with no look-alikes, one class each after case folding.
pub const DEFAULT_ALPHABET: &str = "3679ACEFHKMNPRTWXY";

/// The default ink colours: dark, distinct hues that all contrast with a light background.
pub const DEFAULT_INK: [[u8; 3]; 5] = [
    [28, 58, 150],
    [150, 30, 42],
    [22, 108, 58],
    [98, 40, 140],
    [132, 72, 8],
];

/// The default background colour.
pub const DEFAULT_BACKGROUND: [u8; 3] = [250, 250, 245];

/// Why rendering failed (encoding errors only; drawing cannot fail).
#[derive(Debug, thiserror::Error)]
#[error("captcha encoding failed: {0}")]
pub struct RenderError(String);

/// A rendered captcha.
#[derive(Debug, Clone)]
pub struct Captcha {
    /// The answer.
    pub text: String,
    /// The encoded image.
    pub bytes: Vec<u8>,
    /// The exact MIME type of `bytes` (`image/png` or `image/jpeg`).
    pub mime: &'static str,
}

/// Draws captchas; built once, `Send + Sync`, cheap to share.
///
/// Cloning copies one [`Arc`]: the font is parsed and its glyphs flattened once, in
/// [`Renderer::new`] or [`Renderer::with_font`].
#[derive(Clone)]
pub struct Renderer {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    alphabet: Vec<u8>,
    /// Glyph of each ASCII byte of the alphabet, indexed by the byte.
    shapes: Vec<Option<Shape>>,
    /// The same glyphs in alphabet order, for clutter made of their strokes.
    glyphs: Vec<Shape>,
    palette: Arc<[[u8; 3]]>,
    tallest_em: f32,
}

impl fmt::Debug for Renderer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Renderer")
            .field("params", &self.inner.params)
            .finish_non_exhaustive()
    }
}

impl Renderer {
    /// Checks `params` ([`Params::validate`]) and loads the compiled-in font.
    pub fn new(params: Params) -> Result<Self, ParamsError> {
        Self::with_font(params, DEFAULT_FONT)
    }

    /// Checks `params` and loads `font` (TrueType or OpenType bytes), which must have a glyph
    /// for every character of the alphabet.
    ///
    /// The outlines are copied out, so the bytes need not outlive the call.
    pub fn with_font(params: Params, font: &[u8]) -> Result<Self, ParamsError> {
        params.validate()?;
        let font = FontRef::try_from_slice(font).map_err(|_| ParamsError::Invalid("font"))?;
        // The drawn em stays under the canvas height (the tallest glyph fills 60% of it, scaled
        // by at most 1.1); flatten curves for that size.
        let max_em_px = params.height as f32;
        let alphabet = params.alphabet.as_bytes().to_vec();
        let mut shapes: Vec<Option<Shape>> = vec![None; 128];
        let mut tallest_em = 0.0f32;
        let mut glyphs = Vec::with_capacity(alphabet.len());
        for &b in &alphabet {
            let shape = shape::extract(&font, char::from(b), max_em_px)
                .ok_or(ParamsError::Invalid("alphabet"))?;
            tallest_em = tallest_em.max(shape.half_extent.y * 2.0);
            glyphs.push(shape.clone());
            shapes[usize::from(b)] = Some(shape);
        }
        let palette = draw::palette(
            params.background,
            &params.ink,
            params.style == Style::Crowded,
        );
        Ok(Self {
            inner: Arc::new(Inner {
                params,
                alphabet,
                shapes,
                glyphs,
                palette,
                tallest_em,
            }),
        })
    }

    /// The parameters this renderer was built with.
    pub fn params(&self) -> &Params {
        &self.inner.params
    }

    /// The MIME type of the images this renderer encodes.
    pub fn mime(&self) -> &'static str {
        self.inner.params.format.mime()
    }

    /// A random answer: `length` characters drawn uniformly and independently from the
    /// alphabet. Only as unpredictable as `rng`: pass a CSPRNG such as `rand::rng()`.
    pub fn random_text<R: Rng + ?Sized>(&self, rng: &mut R) -> String {
        let alphabet = &self.inner.alphabet;
        (0..self.inner.params.length)
            .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
            .collect()
    }

    /// Draws `text` (1..=12 characters of the alphabet) with distortions taken from `rng`.
    ///
    /// A pure function of (`text`, params, `rng`): the same seed gives the same picture.
    pub fn draw<R: Rng + ?Sized>(&self, text: &str, rng: &mut R) -> Result<Picture, ParamsError> {
        let inner = &*self.inner;
        if text.is_empty() || text.len() > MAX_LENGTH {
            return Err(ParamsError::Invalid("text"));
        }
        let shapes = text
            .bytes()
            .map(|b| inner.shapes.get(usize::from(b)).and_then(Option::as_ref))
            .collect::<Option<Vec<&Shape>>>()
            .ok_or(ParamsError::Invalid("text"))?;
        let setup = draw::Setup {
            width: inner.params.width,
            height: inner.params.height,
            inks: inner.params.ink.len(),
            noise: inner.params.noise,
            palette: &inner.palette,
            tallest_em: inner.tallest_em,
            style: inner.params.style,
            alphabet: &inner.glyphs,
        };
        Ok(draw::draw(&setup, &shapes, rng))
    }

    /// Encodes `picture` in this renderer's format.
    pub fn encode(&self, picture: &Picture) -> Result<Vec<u8>, RenderError> {
        match self.inner.params.format {
            Format::Png => encode::png(picture),
            Format::Jpeg { quality } => encode::jpeg(picture, quality),
        }
    }

    /// Random text and its image, in one step.
    pub fn generate<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Result<Captcha, RenderError> {
        let text = self.random_text(rng);
        let picture = self
            .draw(&text, rng)
            .map_err(|e| RenderError(format!("draw: {e}")))?;
        let bytes = self.encode(&picture)?;
        Ok(Captcha {
            text,
            bytes,
            mime: self.mime(),
        })
    }
}
