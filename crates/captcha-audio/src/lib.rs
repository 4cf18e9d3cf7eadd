#![doc = include_str!("../README.md")]

use std::fmt;
use std::str::FromStr;

use rand::{Rng, RngExt};

mod clips;
mod mix;
mod wav;

/// Digits in every answer.
pub const DIGITS: usize = 6;

/// Sample rate of every challenge, in hertz (telephone band: all a spoken digit needs).
pub const SAMPLE_RATE: u32 = 8000;

/// The MIME type of a challenge's bytes.
pub const MIME: &str = "audio/wav";

/// Lowest accepted [`Params::babble_db`]: below it the babble starts to compete with the
/// answer for a listener's attention.
pub const MIN_BABBLE_DB: f32 = 6.0;

/// The language the digits are spoken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Lang {
    /// Mandarin Chinese (`zh`; espeak-ng's `cmn-latn-pinyin` voice).
    Zh,
    /// English (`en`; espeak-ng's `en-us` voice).
    En,
}

impl Lang {
    /// Both languages.
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];

    /// Parses the query-string code: exactly `zh` or `en`.
    pub fn parse(s: &str) -> Result<Self, LangError> {
        match s {
            "zh" => Ok(Lang::Zh),
            "en" => Ok(Lang::En),
            _ => Err(LangError),
        }
    }

    /// The code [`Lang::parse`] accepts: `zh` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

impl FromStr for Lang {
    type Err = LangError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lang::parse(s)
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A language code other than `zh` or `en`. The text given is not kept: it is untrusted input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown captcha language (expected `zh` or `en`)")]
pub struct LangError;

/// An answer that is not exactly [`DIGITS`] ASCII digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("audio captcha answer must be exactly 6 ASCII digits")]
pub struct DigitsError;

/// Why parameters were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    /// A parameter is out of range; names it (`babble_db` or `hiss_db`).
    #[error("invalid audio captcha parameter `{0}`")]
    Invalid(&'static str),
}

/// How the answer is masked; checked by [`Speaker::new`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Params {
    /// Babble and broadband noise behind the answer (default on). Off leaves the answer's
    /// digits, their timing, speed and pitch exactly as with it on: clean speech, for
    /// calibrating a recogniser and for tests, never for serving.
    pub background: bool,
    /// Speech-to-babble ratio in dB, measured over the samples where the answer is spoken
    /// (6.0..=30.0, default 6.0): how much louder the answer is than the babble.
    pub babble_db: f32,
    /// Speech-to-broadband-noise ratio in dB, measured the same way (10.0..=60.0, default 20.0).
    pub hiss_db: f32,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            background: true,
            babble_db: 6.0,
            hiss_db: 20.0,
        }
    }
}

impl Params {
    fn check(&self) -> Result<(), ParamsError> {
        // `contains` is false for NaN, so a NaN is refused too.
        if !(MIN_BABBLE_DB..=30.0).contains(&self.babble_db) {
            return Err(ParamsError::Invalid("babble_db"));
        }
        if !(10.0..=60.0).contains(&self.hiss_db) {
            return Err(ParamsError::Invalid("hiss_db"));
        }
        Ok(())
    }
}

/// A mixed challenge: 16-bit samples at [`SAMPLE_RATE`], not yet encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Speech {
    samples: Vec<i16>,
    onsets: [usize; DIGITS],
}

impl Speech {
    /// The mono samples.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// Length in seconds.
    pub fn duration_secs(&self) -> f32 {
        self.samples.len() as f32 / SAMPLE_RATE as f32
    }

    /// The WAV file: RIFF header, 16-bit integer PCM, mono, [`SAMPLE_RATE`].
    pub fn to_wav(&self) -> Vec<u8> {
        wav::encode(&self.samples, SAMPLE_RATE)
    }

    /// The sample index where each of the answer's digits starts, in answer order.
    #[cfg(feature = "test-util")]
    pub fn onsets(&self) -> &[usize; DIGITS] {
        &self.onsets
    }
}

/// An answer and its spoken challenge.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// The answer: [`DIGITS`] ASCII digits.
    pub digits: String,
    /// The WAV bytes ([`MIME`]).
    pub wav: Vec<u8>,
}

/// Speaks audio captchas; `Copy`, `Send + Sync`: build once and share.
#[derive(Debug, Clone, Copy)]
pub struct Speaker {
    params: Params,
}

impl Default for Speaker {
    /// A speaker with the default [`Params`] (which always pass the check).
    fn default() -> Self {
        Self {
            params: Params::default(),
        }
    }
}

impl Speaker {
    /// Checks `params`; the compiled-in clips are decoded on first use in the process.
    pub fn new(params: Params) -> Result<Self, ParamsError> {
        params.check()?;
        Ok(Self { params })
    }

    /// The parameters this speaker was built with.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// A random answer: [`DIGITS`] digits drawn uniformly and independently, leading zeros
    /// kept. Only as unpredictable as `rng`: pass a CSPRNG such as `rand::rng()`.
    pub fn random_digits<R: Rng + ?Sized>(rng: &mut R) -> String {
        (0..DIGITS)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect()
    }

    /// Speaks `digits` (exactly [`DIGITS`] ASCII digits) in `lang`, with gaps, speed, pitch
    /// and background taken from `rng`.
    ///
    /// A pure function of (`digits`, `lang`, params, `rng`): the same seed gives the same
    /// samples.
    pub fn speak<R: Rng + ?Sized>(
        &self,
        digits: &str,
        lang: Lang,
        rng: &mut R,
    ) -> Result<Speech, DigitsError> {
        let bytes: [u8; DIGITS] = digits.as_bytes().try_into().map_err(|_| DigitsError)?;
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(DigitsError);
        }
        let values = bytes.map(|b| b - b'0');
        let mixed = mix::mix(clips::get(lang), &values, &self.params, rng);
        Ok(Speech {
            samples: mixed.samples,
            onsets: mixed.onsets,
        })
    }

    /// Speaks `digits` in `lang` and encodes the WAV file: [`Speaker::speak`] then
    /// [`Speech::to_wav`].
    pub fn challenge<R: Rng + ?Sized>(
        &self,
        digits: &str,
        lang: Lang,
        rng: &mut R,
    ) -> Result<Vec<u8>, DigitsError> {
        Ok(self.speak(digits, lang, rng)?.to_wav())
    }

    /// A random answer and its WAV file, in one step.
    pub fn generate<R: Rng + ?Sized>(&self, lang: Lang, rng: &mut R) -> Challenge {
        let digits = Self::random_digits(rng);
        let wav = self
            .challenge(&digits, lang, rng)
            .expect("random_digits makes valid answers");
        Challenge { digits, wav }
    }
}
