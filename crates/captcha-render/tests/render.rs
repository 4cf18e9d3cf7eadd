//! Behaviour of the public API: sizes, formats, text, determinism, variety, clipping, errors.

use std::collections::HashSet;

use captcha_render::{
    Captcha, DEFAULT_ALPHABET, Format, Params, ParamsError, Picture, RenderError, Renderer,
};
use rand::{SeedableRng, rngs::StdRng};

fn renderer(params: Params) -> Renderer {
    Renderer::new(params).expect("params are valid")
}

fn seeded(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn decode(c: &Captcha, format: image::ImageFormat) -> image::RgbImage {
    image::load_from_memory_with_format(&c.bytes, format)
        .expect("the bytes decode")
        .to_rgb8()
}

#[test]
fn default_png_has_the_size_and_mime_and_decodes() {
    let r = renderer(Params::default());
    let c = r.generate(&mut rand::rng()).expect("generate");
    assert_eq!(c.mime, "image/png");
    let img = decode(&c, image::ImageFormat::Png);
    assert_eq!(img.dimensions(), (160, 60));
}

#[test]
fn png_pixels_match_the_drawn_picture() {
    // Odd widths leave half a byte at the end of each packed row; 2, 4 and 8-bit palettes.
    let inks = |n: usize| (0..n).map(|i| [i as u8 * 20, 0, 90]).collect::<Vec<_>>();
    for (width, ink) in [(160, inks(5)), (161, inks(5)), (97, inks(1)), (33, inks(8))] {
        let r = renderer(Params {
            width,
            ink,
            ..Params::default()
        });
        let picture = r.draw("K7TW", &mut seeded(3)).expect("draw");
        let bytes = r.encode(&picture).expect("encode");
        let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
            .expect("decode")
            .to_rgb8();
        assert_eq!(img.as_raw(), &picture.to_rgb(), "width {width}");
    }
}

#[test]
fn jpeg_has_the_size_and_mime_and_decodes() {
    let r = renderer(Params {
        format: Format::Jpeg { quality: 80 },
        width: 200,
        height: 70,
        ..Params::default()
    });
    let c = r.generate(&mut rand::rng()).expect("generate");
    assert_eq!(c.mime, "image/jpeg");
    assert_eq!(r.mime(), "image/jpeg");
    let img = decode(&c, image::ImageFormat::Jpeg);
    assert_eq!(img.dimensions(), (200, 70));
}

#[test]
fn text_has_the_length_and_uses_only_the_alphabet() {
    let r = renderer(Params::default());
    let mut rng = rand::rng();
    let mut seen = HashSet::new();
    for _ in 0..2_000 {
        let text = r.random_text(&mut rng);
        assert_eq!(text.len(), 4);
        assert!(text.chars().all(|c| DEFAULT_ALPHABET.contains(c)), "{text}");
        seen.extend(text.chars());
    }
    // 8,000 draws from 18 symbols: every symbol shows up unless the draw is broken.
    assert_eq!(seen.len(), DEFAULT_ALPHABET.len());

    let custom = renderer(Params {
        alphabet: "xyz#".into(),
        length: 12,
        ..Params::default()
    });
    let c = custom.generate(&mut rng).expect("generate");
    assert_eq!(c.text.len(), 12);
    assert!(c.text.chars().all(|ch| "xyz#".contains(ch)), "{}", c.text);
}

#[test]
fn a_seed_gives_identical_bytes() {
    for format in [Format::Png, Format::Jpeg { quality: 75 }] {
        let r = renderer(Params {
            format,
            ..Params::default()
        });
        let a = r.generate(&mut seeded(42)).expect("generate");
        let b = r.generate(&mut seeded(42)).expect("generate");
        assert_eq!(a.text, b.text);
        assert_eq!(a.bytes, b.bytes, "{format:?}");
        let other = r.generate(&mut seeded(43)).expect("generate");
        assert_ne!(a.bytes, other.bytes, "{format:?}");
    }
}

#[test]
fn the_same_text_is_drawn_differently_each_time() {
    let r = renderer(Params::default());
    let mut rng = seeded(9);
    let a = r.draw("K7TW", &mut rng).expect("draw");
    let b = r.draw("K7TW", &mut rng).expect("draw");
    assert_ne!(a.indices(), b.indices());
}

#[test]
fn ten_thousand_draws_give_distinct_images_and_texts_repeat_as_chance_predicts() {
    let r = renderer(Params::default());
    let mut rng = seeded(2024);
    let n = 10_000usize;
    let mut images = HashSet::with_capacity(n);
    let mut texts = HashSet::with_capacity(n);
    for _ in 0..n {
        // Pictures rather than encoded bytes: encoding is a fixed function of the picture, and
        // skipping it keeps this test quick in debug builds.
        let text = r.random_text(&mut rng);
        let picture = r.draw(&text, &mut rng).expect("draw");
        texts.insert(text);
        images.insert(picture.indices().to_vec());
    }
    assert_eq!(images.len(), n);
    // Birthday bound: with 18^4 answers, 10,000 draws collide about n^2 / (2 * 18^4) = 476
    // times (Poisson, sd about 22). Far fewer or far more means the text is not uniform.
    let space = 18f64.powi(4);
    let expected = (n * (n - 1)) as f64 / (2.0 * space);
    let repeats = (n - texts.len()) as f64;
    assert!(
        (repeats - expected).abs() < 5.0 * expected.sqrt(),
        "{repeats} repeats, {expected:.0} expected"
    );
}

/// No ink on the outermost pixels means no glyph was cut off by the canvas edge.
fn border_is_clear(p: &Picture) -> bool {
    let (w, h) = (p.width(), p.height());
    let bg = p.palette()[0];
    (0..w).all(|x| p.pixel(x, 0) == Some(bg) && p.pixel(x, h - 1) == Some(bg))
        && (0..h).all(|y| p.pixel(0, y) == Some(bg) && p.pixel(w - 1, y) == Some(bg))
}

#[test]
fn glyphs_stay_inside_the_canvas() {
    let cases = [
        (160, 60, 4),
        (120, 40, 6),
        (1000, 400, 12),
        (400, 60, 12),
        (60, 200, 4),
        (300, 100, 1),
    ];
    for (width, height, length) in cases {
        let r = renderer(Params {
            width,
            height,
            length,
            noise: 0,
            ..Params::default()
        });
        let mut rng = seeded(u64::from(width) * 7 + length as u64);
        for _ in 0..100 {
            let text = r.random_text(&mut rng);
            let p = r.draw(&text, &mut rng).expect("draw");
            assert!(
                border_is_clear(&p),
                "{width}x{height} {text}: ink on the edge"
            );
            let inked = p.indices().iter().filter(|&&i| i != 0).count();
            assert!(inked > 0, "{width}x{height} {text}: nothing drawn");
        }
    }
}

#[test]
fn bad_params_are_refused_by_name() {
    let cases: Vec<(Params, &str)> = vec![
        (
            Params {
                width: 0,
                ..Params::default()
            },
            "width",
        ),
        (
            Params {
                width: 1001,
                ..Params::default()
            },
            "width",
        ),
        (
            Params {
                height: 0,
                ..Params::default()
            },
            "height",
        ),
        (
            Params {
                height: 401,
                ..Params::default()
            },
            "height",
        ),
        (
            Params {
                length: 0,
                ..Params::default()
            },
            "length",
        ),
        (
            Params {
                length: 13,
                ..Params::default()
            },
            "length",
        ),
        (
            Params {
                alphabet: String::new(),
                ..Params::default()
            },
            "alphabet",
        ),
        (
            Params {
                alphabet: "AB C".into(),
                ..Params::default()
            },
            "alphabet",
        ),
        (
            Params {
                alphabet: "ABCA".into(),
                ..Params::default()
            },
            "alphabet",
        ),
        (
            Params {
                alphabet: "ABÉ".into(),
                ..Params::default()
            },
            "alphabet",
        ),
        (
            Params {
                alphabet: "AB\t".into(),
                ..Params::default()
            },
            "alphabet",
        ),
        (
            Params {
                format: Format::Jpeg { quality: 0 },
                ..Params::default()
            },
            "jpeg_quality",
        ),
        (
            Params {
                format: Format::Jpeg { quality: 101 },
                ..Params::default()
            },
            "jpeg_quality",
        ),
        (
            Params {
                ink: vec![],
                ..Params::default()
            },
            "ink",
        ),
        (
            Params {
                ink: vec![[0, 0, 0]; 9],
                ..Params::default()
            },
            "ink",
        ),
        (
            Params {
                ink: vec![[1, 2, 3]],
                background: [1, 2, 3],
                ..Params::default()
            },
            "ink",
        ),
        (
            // 3:1 against the background: too faint to read.
            Params {
                ink: vec![[28, 58, 150], [150, 150, 150]],
                ..Params::default()
            },
            "ink",
        ),
        (
            Params {
                alphabet: "W".into(),
                ..Params::default()
            },
            "alphabet",
        ),
        (
            Params {
                noise: 4,
                ..Params::default()
            },
            "noise",
        ),
    ];
    for (params, name) in cases {
        assert_eq!(
            params.validate(),
            Err(ParamsError::Invalid(name)),
            "{params:?}"
        );
        let err = Renderer::new(params.clone()).expect_err(name);
        assert_eq!(err, ParamsError::Invalid(name), "{params:?}");
        assert_eq!(err.field(), name);
    }
}

#[test]
fn a_font_must_parse_and_cover_the_alphabet() {
    assert_eq!(
        Renderer::with_font(Params::default(), b"not a font").expect_err("junk"),
        ParamsError::Invalid("font")
    );
    let digits = include_bytes!("fixtures/digits-only.ttf");
    assert_eq!(
        Renderer::with_font(Params::default(), digits).expect_err("letters missing"),
        ParamsError::Invalid("alphabet")
    );
    let r = Renderer::with_font(
        Params {
            alphabet: "0123456789".into(),
            ..Params::default()
        },
        digits,
    )
    .expect("digits are covered");
    assert!(r.generate(&mut rand::rng()).is_ok());
}

#[test]
fn draw_refuses_text_outside_the_alphabet() {
    let r = renderer(Params::default());
    let mut rng = rand::rng();
    for text in ["", "K7T0", "k7tw", "K7TWK7TWK7TWK", "K7TW\u{e9}"] {
        assert_eq!(
            r.draw(text, &mut rng).expect_err(text),
            ParamsError::Invalid("text")
        );
    }
    // Any length up to 12 is drawn, whatever `length` says.
    assert!(r.draw("K7TWK7TWK7TW", &mut rng).is_ok());
}

#[test]
fn extreme_but_valid_params_render_and_decode() {
    let many_inks = vec![
        [10, 10, 10],
        [200, 0, 0],
        [0, 120, 0],
        [0, 0, 200],
        [90, 90, 0],
        [0, 90, 90],
        [90, 0, 90],
        [60, 60, 60],
    ];
    let cases = [
        Params {
            width: 1,
            height: 1,
            ..Params::default()
        },
        Params {
            width: 1,
            height: 400,
            length: 12,
            ..Params::default()
        },
        Params {
            width: 1000,
            height: 1,
            length: 12,
            ..Params::default()
        },
        Params {
            width: 1000,
            height: 400,
            length: 12,
            noise: 3,
            ..Params::default()
        },
        Params {
            alphabet: "WX".into(),
            length: 1,
            ..Params::default()
        },
        Params {
            ink: many_inks,
            noise: 3,
            ..Params::default()
        },
        Params {
            ink: vec![[0, 0, 0]],
            noise: 1,
            ..Params::default()
        },
    ];
    for params in cases {
        let (w, h) = (params.width, params.height);
        let r = renderer(params);
        let c = r.generate(&mut rand::rng()).expect("generate");
        let img = decode(&c, image::ImageFormat::Png);
        assert_eq!(img.dimensions(), (w, h));
    }
}

#[test]
fn params_default_is_valid_and_documented_values() {
    let p = Params::default();
    assert_eq!(
        (p.width, p.height, p.length, p.format),
        (160, 60, 4, Format::Png)
    );
    let r = renderer(p.clone());
    assert_eq!(r.params(), &p);
}

#[test]
fn shared_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Renderer>();
    assert_send_sync::<Picture>();
    assert_send_sync::<Captcha>();
    assert_send_sync::<ParamsError>();
    assert_send_sync::<RenderError>();
}

#[test]
fn a_shared_renderer_works_across_threads() {
    let r = renderer(Params::default());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let r = r.clone();
            std::thread::spawn(move || r.generate(&mut rand::rng()).map(|c| c.text))
        })
        .collect();
    for h in handles {
        let text = h.join().expect("thread").expect("generate");
        assert_eq!(text.len(), 4);
    }
}

#[test]
fn noise_level_changes_the_picture_and_zero_draws_only_glyphs() {
    let quiet = renderer(Params {
        noise: 0,
        ..Params::default()
    });
    let noisy = renderer(Params {
        noise: 3,
        ..Params::default()
    });
    let a = quiet.draw("K7TW", &mut seeded(11)).expect("draw");
    let b = noisy.draw("K7TW", &mut seeded(11)).expect("draw");
    assert_ne!(a.indices(), b.indices());
    // Curves reach past the glyphs, so the noisy picture has ink in columns the quiet one
    // leaves blank.
    let inked_columns = |p: &Picture| {
        (0..p.width())
            .filter(|&x| (0..p.height()).any(|y| p.pixel(x, y) != Some(p.palette()[0])))
            .count()
    };
    assert!(inked_columns(&b) > inked_columns(&a));
}
