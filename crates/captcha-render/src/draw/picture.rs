//! What drawing produces: the indexed picture and, for tests, each glyph's ink mask.

use std::sync::Arc;

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

/// Which pixels are one answer glyph's ink (feature `test-util`): what tests of readability
/// measure. Production drawing does not compute it.
#[cfg(feature = "test-util")]
#[derive(Debug, Clone, PartialEq)]
pub struct GlyphMask {
    pub(super) width: usize,
    pub(super) ink: usize,
    pub(super) coverage: Vec<f32>,
    pub(super) written: Vec<u8>,
    pub(super) visible: Vec<bool>,
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
