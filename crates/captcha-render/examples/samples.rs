//! Writes sample captchas named by their answer, and optionally a gallery grid.
//!
//! ```text
//! cargo run -p passport-captcha-render --example samples -- --count 24 --out DIR
//!     [--gallery docs/gallery.png] [--seed N] [--noise 0..=3] [--jpeg QUALITY]
//!     [--style crowded|classic]
//! ```

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

use captcha_render::{Format, Params, Renderer, Style};
use rand::{Rng, SeedableRng, rngs::StdRng};

struct Args {
    count: usize,
    out: Option<PathBuf>,
    gallery: Option<PathBuf>,
    seed: Option<u64>,
    noise: u8,
    jpeg: Option<u8>,
    style: Style,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        count: 24,
        out: None,
        gallery: None,
        seed: None,
        noise: Params::default().noise,
        jpeg: None,
        style: Style::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--count" => args.count = value()?.parse().map_err(|e| format!("--count: {e}"))?,
            "--out" => args.out = Some(value()?.into()),
            "--gallery" => args.gallery = Some(value()?.into()),
            "--seed" => args.seed = Some(value()?.parse().map_err(|e| format!("--seed: {e}"))?),
            "--noise" => args.noise = value()?.parse().map_err(|e| format!("--noise: {e}"))?,
            "--jpeg" => args.jpeg = Some(value()?.parse().map_err(|e| format!("--jpeg: {e}"))?),
            "--style" => {
                args.style = match value()?.as_str() {
                    "crowded" => Style::Crowded,
                    "classic" => Style::Classic,
                    other => return Err(format!("--style: unknown style {other}")),
                }
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.out.is_none() && args.gallery.is_none() {
        return Err("nothing to do: give --out DIR and/or --gallery FILE".into());
    }
    Ok(args)
}

fn run(args: &Args, rng: &mut dyn Rng) -> Result<(), String> {
    let format = match args.jpeg {
        Some(quality) => Format::Jpeg { quality },
        None => Format::Png,
    };
    let ext = if args.jpeg.is_some() { "jpg" } else { "png" };
    let renderer = Renderer::new(Params {
        noise: args.noise,
        format,
        style: args.style,
        ..Params::default()
    })
    .map_err(|e| e.to_string())?;

    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut used = HashSet::new();
        for _ in 0..args.count {
            let captcha = renderer.generate(rng).map_err(|e| e.to_string())?;
            // Texts repeat now and then (birthday bound); keep every sample.
            let mut name = format!("{}.{ext}", captcha.text);
            let mut n = 1;
            while !used.insert(name.clone()) {
                n += 1;
                name = format!("{}_{n}.{ext}", captcha.text);
            }
            let path = dir.join(&name);
            std::fs::write(&path, &captcha.bytes)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }

    if let Some(path) = &args.gallery {
        let (cols, rows, gap) = (4u32, 6u32, 8u32);
        let mut answers = Vec::new();
        let (w, h) = (renderer.params().width, renderer.params().height);
        let mut grid = image::RgbImage::from_pixel(
            cols * w + (cols + 1) * gap,
            rows * h + (rows + 1) * gap,
            image::Rgb([255, 255, 255]),
        );
        for i in 0..cols * rows {
            let text = renderer.random_text(rng);
            let picture = renderer.draw(&text, rng).map_err(|e| e.to_string())?;
            answers.push(text);
            let tile =
                image::RgbImage::from_raw(w, h, picture.to_rgb()).ok_or("picture size mismatch")?;
            let (x, y) = (gap + (i % cols) * (w + gap), gap + (i / cols) * (h + gap));
            image::imageops::replace(&mut grid, &tile, i64::from(x), i64::from(y));
        }
        grid.save(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        // The answers, row by row, for the page that shows the grid.
        for row in answers.chunks(cols as usize) {
            println!("| {} |", row.join(" | "));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("samples: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match args.seed {
        Some(seed) => run(&args, &mut StdRng::seed_from_u64(seed)),
        None => run(&args, &mut rand::rng()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("samples: {e}");
            ExitCode::FAILURE
        }
    }
}
