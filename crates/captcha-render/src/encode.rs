//! PNG and JPEG encoding of a [`Picture`].

use crate::{Picture, RenderError};

/// An indexed PNG at the smallest bit depth the palette allows, compressed with `fdeflate`.
///
/// A captcha has a handful of colours, so a palette image is a third of the raw size of RGB
/// before compression even starts, and the fast deflate mode is then both quick and small.
/// At 8 bits (the crowded style's palette of 66 colours) the palette is written in order of
/// use and rows are `Up`-filtered: `fdeflate`'s fast mode codes small byte values shortest,
/// and the polarity stripes repeat from one row to the next (figures in `docs/benchmarks.md`).
pub(crate) fn png(picture: &Picture) -> Result<Vec<u8>, RenderError> {
    let colours = picture.palette.len();
    let depth: u8 = match colours {
        0..=2 => 1,
        3..=4 => 2,
        5..=16 => 4,
        _ => 8,
    };
    let mut packed = pack(picture, depth);
    let mut palette = Vec::with_capacity(colours * 3);
    if depth == 8 {
        for &i in &by_use(&mut packed, colours) {
            palette.extend_from_slice(&picture.palette[i]);
        }
    } else {
        for c in picture.palette.iter() {
            palette.extend_from_slice(c);
        }
    }
    let mut out = Vec::with_capacity(packed.len() / 2 + 128);
    let mut encoder = png::Encoder::new(&mut out, picture.width, picture.height);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(match depth {
        1 => png::BitDepth::One,
        2 => png::BitDepth::Two,
        4 => png::BitDepth::Four,
        _ => png::BitDepth::Eight,
    });
    encoder.set_palette(palette);
    encoder.set_compression(png::Compression::Fast);
    // Filters predict smooth gradients, which palette indices lack; only the stripes of an
    // 8-bit picture, which `Up` turns into zeros, pay for one.
    encoder.set_filter(if depth == 8 {
        png::Filter::Up
    } else {
        png::Filter::NoFilter
    });
    let mut writer = encoder.write_header().map_err(png_error)?;
    writer.write_image_data(&packed).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    Ok(out)
}

fn png_error(e: png::EncodingError) -> RenderError {
    RenderError(format!("png: {e}"))
}

/// Renumbers the palette indices in `pixels` by how often each is used, most used first, and
/// returns the old index of each new one.
fn by_use(pixels: &mut [u8], colours: usize) -> Vec<usize> {
    let mut count = [0u32; 256];
    for &p in pixels.iter() {
        count[usize::from(p)] += 1;
    }
    let mut order: Vec<usize> = (0..colours).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(count[i]));
    let mut new_index = [0u8; 256];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new as u8;
    }
    for p in pixels.iter_mut() {
        *p = new_index[usize::from(*p)];
    }
    order
}

/// Packs one-byte indices into rows of `depth`-bit pixels, most significant bits first.
fn pack(picture: &Picture, depth: u8) -> Vec<u8> {
    if depth == 8 {
        return picture.pixels.clone();
    }
    let width = picture.width as usize;
    let per_byte = usize::from(8 / depth);
    let row_bytes = width.div_ceil(per_byte);
    let mut out = vec![0u8; row_bytes * picture.height as usize];
    if depth == 4 {
        // The default palette's depth, worth a loop the compiler can see through.
        for (src, dst) in picture
            .pixels
            .chunks_exact(width)
            .zip(out.chunks_exact_mut(row_bytes))
        {
            let pairs = src.chunks_exact(2);
            let odd = pairs.remainder().first().copied();
            for (pair, byte) in pairs.zip(dst.iter_mut()) {
                *byte = (pair[0] << 4) | pair[1];
            }
            if let (Some(p), Some(byte)) = (odd, dst.last_mut()) {
                *byte = p << 4;
            }
        }
        return out;
    }
    for (src, dst) in picture
        .pixels
        .chunks_exact(width)
        .zip(out.chunks_exact_mut(row_bytes))
    {
        for (group, byte) in src.chunks(per_byte).zip(dst.iter_mut()) {
            let mut b = 0u8;
            for (k, &px) in group.iter().enumerate() {
                b |= px << (8 - depth * (k as u8 + 1));
            }
            *byte = b;
        }
    }
    out
}

/// Baseline JPEG through `jpeg-encoder`, several times faster than `image`'s encoder.
pub(crate) fn jpeg(picture: &Picture, quality: u8) -> Result<Vec<u8>, RenderError> {
    let rgb = picture.to_rgb();
    let mut out = Vec::with_capacity(rgb.len() / 4);
    let encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    // Sizes are checked against 1000x400 when the renderer is built, so they fit in u16.
    let (w, h) = (
        u16::try_from(picture.width).map_err(|_| RenderError("jpeg: width".into()))?,
        u16::try_from(picture.height).map_err(|_| RenderError("jpeg: height".into()))?,
    );
    encoder
        .encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| RenderError(format!("jpeg: {e}")))?;
    Ok(out)
}
