//! What a renderer is built from, and the one check every way in goes through.

use crate::{DEFAULT_ALPHABET, DEFAULT_BACKGROUND, DEFAULT_INK};

/// Largest accepted width in pixels.
pub const MAX_WIDTH: u32 = 1000;
/// Largest accepted height in pixels.
pub const MAX_HEIGHT: u32 = 400;
/// Longest accepted text.
pub const MAX_LENGTH: usize = 12;
/// Most ink colours accepted.
pub const MAX_INKS: usize = 8;
/// Highest noise level.
pub const MAX_NOISE: u8 = 3;
/// Least WCAG contrast ratio between every ink and the background: the answer must stay
/// readable whatever colours a deployment picks.
pub const MIN_INK_CONTRAST: f32 = 4.5;

/// Image encoding of a captcha.
///
/// With the `serde` feature it reads as `"png"` or `{ jpeg = { quality = 80 } }`; inside
/// [`Params`] the config keys are the flat `format = "png" | "jpeg"` and `jpeg_quality`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "lowercase", deny_unknown_fields)
)]
pub enum Format {
    /// PNG (`image/png`), the default.
    Png,
    /// JPEG (`image/jpeg`) at the given quality (1..=100).
    Jpeg {
        /// Encoder quality, 1..=100.
        quality: u8,
    },
}

impl Format {
    /// The MIME type of images in this format.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Jpeg { .. } => "image/jpeg",
        }
    }
}

/// How the glyphs are drawn. Config values: `"crowded"` (default) and `"classic"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum Style {
    /// The default: glyphs crowded into each other so no blank column or colour edge separates
    /// them, drawn among clutter made of the same strokes; built against off-the-shelf CNN
    /// solvers (figures in `docs/benchmarks.md`).
    #[default]
    Crowded,
    /// The first look: solid glyphs that touch without overlapping, two noise curves, dots.
    /// Off-the-shelf CNN solvers read most of these.
    Classic,
}

/// Rendering parameters; checked by [`Params::validate`], which [`Renderer::new`] calls.
///
/// With the `serde` feature this is the `[captcha]` config table (`deny_unknown_fields`,
/// missing keys take their defaults): `width`, `height`, `length`, `alphabet` (empty: the
/// default), `format` (`"png"` / `"jpeg"`), `jpeg_quality`, `noise`, `background`
/// (`"#rrggbb"`), `ink` (a list of `"#rrggbb"`, or one comma-separated string) and `style`.
///
/// [`Renderer::new`]: crate::Renderer::new
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "crate::config::ParamsConfig"))]
pub struct Params {
    /// Image width in pixels (1..=1000).
    pub width: u32,
    /// Image height in pixels (1..=400).
    pub height: u32,
    /// Characters per captcha (1..=12).
    pub length: usize,
    /// Characters the text is drawn from: 2 or more printable ASCII, no spaces, no repeats.
    pub alphabet: String,
    /// Output encoding.
    pub format: Format,
    /// Background colour (RGB).
    pub background: [u8; 3],
    /// Ink colours (RGB), 1..=8, each at least 4.5:1 in contrast with the background; each
    /// glyph, noise curve and dot takes one at random.
    pub ink: Vec<[u8; 3]>,
    /// Noise, 0..=3: how much clutter is drawn across the text (default 2).
    pub noise: u8,
    /// How the glyphs are drawn.
    pub style: Style,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            width: 160,
            height: 60,
            length: 4,
            alphabet: DEFAULT_ALPHABET.to_owned(),
            format: Format::Png,
            background: DEFAULT_BACKGROUND,
            ink: DEFAULT_INK.to_vec(),
            noise: 2,
            style: Style::default(),
        }
    }
}

/// Why parameters or a font were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParamsError {
    /// A parameter is out of range; names it by its config key (`width`, `height`, `length`,
    /// `alphabet`, `jpeg_quality`, `noise`, `ink`; `format`, `background` and `style` fail only
    /// when parsed), or `font`
    /// for [`Renderer::with_font`](crate::Renderer::with_font) and `text` for
    /// [`Renderer::draw`](crate::Renderer::draw).
    #[error("invalid captcha parameter `{0}`")]
    Invalid(&'static str),
}

impl ParamsError {
    /// The config key (or `font`, `text`) at fault.
    pub fn field(&self) -> &'static str {
        match self {
            ParamsError::Invalid(field) => field,
        }
    }
}

impl Params {
    /// Checks every field, naming the first bad one by its config key.
    ///
    /// Whether the font covers the alphabet is checked when a renderer is built.
    pub fn validate(&self) -> Result<(), ParamsError> {
        let invalid = ParamsError::Invalid;
        if self.width == 0 || self.width > MAX_WIDTH {
            return Err(invalid("width"));
        }
        if self.height == 0 || self.height > MAX_HEIGHT {
            return Err(invalid("height"));
        }
        if self.length == 0 || self.length > MAX_LENGTH {
            return Err(invalid("length"));
        }
        let bytes = self.alphabet.as_bytes();
        // One character would make every answer the same.
        if bytes.len() < 2 || !bytes.iter().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("alphabet"));
        }
        let mut seen = [false; 128];
        for &b in bytes {
            if std::mem::replace(&mut seen[usize::from(b)], true) {
                return Err(invalid("alphabet"));
            }
        }
        if let Format::Jpeg { quality } = self.format
            && !(1..=100).contains(&quality)
        {
            return Err(invalid("jpeg_quality"));
        }
        if self.noise > MAX_NOISE {
            return Err(invalid("noise"));
        }
        if self.ink.is_empty()
            || self.ink.len() > MAX_INKS
            || self
                .ink
                .iter()
                .any(|&ink| contrast(ink, self.background) < MIN_INK_CONTRAST)
        {
            return Err(invalid("ink"));
        }
        Ok(())
    }
}

/// Relative luminance of an sRGB colour (WCAG 2).
pub fn luminance(c: [u8; 3]) -> f32 {
    let lin = |v: u8| {
        let s = f32::from(v) / 255.0;
        if s <= 0.039_28 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
}

/// WCAG contrast ratio of two colours, 1..=21.
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f32 {
    contrast_of_luminances(luminance(a), luminance(b))
}

/// WCAG contrast ratio of two relative luminances, 1..=21.
pub(crate) fn contrast_of_luminances(la: f32, lb: f32) -> f32 {
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}
