#![doc = include_str!("../README.md")]

/// Image encoding of a captcha.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PNG (`image/png`), the default.
    Png,
    /// JPEG (`image/jpeg`) at the given quality (1..=100).
    Jpeg {
        /// Encoder quality, 1..=100.
        quality: u8,
    },
}

/// Rendering parameters; checked by [`Renderer::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Image width in pixels (1..=1000).
    pub width: u32,
    /// Image height in pixels (1..=400).
    pub height: u32,
    /// Characters per captcha (1..=12).
    pub length: usize,
    /// Characters the text is drawn from.
    pub alphabet: String,
    /// Output encoding.
    pub format: Format,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            width: 160,
            height: 60,
            length: 4,
            alphabet: "34679ACEFHKMNPRTWXY".to_owned(),
            format: Format::Png,
        }
    }
}

/// Why parameters or a font were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParamsError {
    /// A parameter is out of range.
    #[error("invalid captcha parameter `{0}`")]
    Invalid(&'static str),
}

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
#[derive(Debug, Clone)]
pub struct Renderer {
    params: Params,
}

impl Renderer {
    /// Checks `params` and loads the compiled-in font.
    pub fn new(params: Params) -> Result<Self, ParamsError> {
        Ok(Self { params })
    }

    /// The parameters this renderer was built with.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Random text and its image, in one step.
    pub fn generate<R: rand::Rng + ?Sized>(&self, _rng: &mut R) -> Result<Captcha, RenderError> {
        unimplemented!()
    }
}
