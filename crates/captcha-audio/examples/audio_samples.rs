//! Writes sample audio captchas named by their answer (`<digits>.wav`).
//!
//! ```text
//! cargo run -p passport-captcha-audio --example audio_samples -- --count 24 --out DIR
//!     [--lang en|zh] [--seed N] [--clean] [--babble-db DB] [--hiss-db DB]
//! ```
//!
//! `--clean` turns the background off (calibration of a recogniser only).

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

use captcha_audio::{Lang, Params, Speaker};
use rand::{Rng, SeedableRng, rngs::StdRng};

struct Args {
    count: usize,
    out: PathBuf,
    lang: Lang,
    seed: Option<u64>,
    params: Params,
}

fn parse() -> Result<Args, String> {
    let mut count = 24;
    let mut out = None;
    let mut lang = Lang::En;
    let mut seed = None;
    let mut params = Params::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--count" => count = value()?.parse().map_err(|e| format!("--count: {e}"))?,
            "--out" => out = Some(PathBuf::from(value()?)),
            "--lang" => lang = Lang::parse(&value()?).map_err(|e| format!("--lang: {e}"))?,
            "--seed" => seed = Some(value()?.parse().map_err(|e| format!("--seed: {e}"))?),
            "--clean" => params.background = false,
            "--babble-db" => {
                params.babble_db = value()?.parse().map_err(|e| format!("--babble-db: {e}"))?
            }
            "--hiss-db" => {
                params.hiss_db = value()?.parse().map_err(|e| format!("--hiss-db: {e}"))?
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let out = out.ok_or("nothing to do: give --out DIR")?;
    Ok(Args {
        count,
        out,
        lang,
        seed,
        params,
    })
}

fn run(args: &Args, rng: &mut dyn Rng) -> Result<(), String> {
    let speaker = Speaker::new(args.params).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let mut used = HashSet::new();
    for _ in 0..args.count {
        let challenge = speaker.generate(args.lang, rng);
        // Answers repeat now and then (birthday bound); keep every sample.
        let mut name = format!("{}.wav", challenge.digits);
        let mut n = 1;
        while !used.insert(name.clone()) {
            n += 1;
            name = format!("{}_{n}.wav", challenge.digits);
        }
        let path = args.out.join(&name);
        std::fs::write(&path, &challenge.wav).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let result = parse().and_then(|args| match args.seed {
        Some(seed) => run(&args, &mut StdRng::seed_from_u64(seed)),
        None => run(&args, &mut rand::rng()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("samples: {e}");
            ExitCode::FAILURE
        }
    }
}
