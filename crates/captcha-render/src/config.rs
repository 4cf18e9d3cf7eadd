//! The `[captcha]` config table (feature `serde`): flat keys as in `config/default.toml`,
//! colours as `"#rrggbb"` strings.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::{DEFAULT_ALPHABET, Format, Params, Style};

/// The table as written; turned into [`Params`] by `TryFrom`, which only fails where a value
/// would otherwise be lost (`jpeg_quality` when the format is PNG). Everything else is left
/// to [`Params::validate`], so the caller learns the bad key in one place.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ParamsConfig {
    width: u32,
    height: u32,
    length: usize,
    alphabet: String,
    format: FormatName,
    jpeg_quality: u8,
    noise: u8,
    #[serde(deserialize_with = "colour")]
    background: [u8; 3],
    #[serde(deserialize_with = "colours")]
    ink: Vec<[u8; 3]>,
    style: Style,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum FormatName {
    Png,
    Jpeg,
}

/// The quality used when `format = "jpeg"` and no `jpeg_quality` is given.
const DEFAULT_JPEG_QUALITY: u8 = 80;

impl Default for ParamsConfig {
    fn default() -> Self {
        let p = Params::default();
        Self {
            width: p.width,
            height: p.height,
            length: p.length,
            alphabet: p.alphabet,
            format: FormatName::Png,
            jpeg_quality: DEFAULT_JPEG_QUALITY,
            noise: p.noise,
            background: p.background,
            ink: p.ink,
            style: p.style,
        }
    }
}

impl TryFrom<ParamsConfig> for Params {
    type Error = String;

    fn try_from(c: ParamsConfig) -> Result<Self, Self::Error> {
        if !(1..=100).contains(&c.jpeg_quality) {
            return Err("invalid captcha parameter `jpeg_quality`: must be 1..=100".into());
        }
        Ok(Params {
            width: c.width,
            height: c.height,
            length: c.length,
            // The config file's way of saying "the built-in one".
            alphabet: if c.alphabet.is_empty() {
                DEFAULT_ALPHABET.to_owned()
            } else {
                c.alphabet
            },
            format: match c.format {
                FormatName::Png => Format::Png,
                FormatName::Jpeg => Format::Jpeg {
                    quality: c.jpeg_quality,
                },
            },
            background: c.background,
            ink: c.ink,
            noise: c.noise,
            style: c.style,
        })
    }
}

/// `#rrggbb` (either case of hex digits).
pub(crate) fn parse_colour(s: &str) -> Option<[u8; 3]> {
    let hex = s
        .strip_prefix('#')
        .filter(|h| h.len() == 6 && h.is_ascii())?;
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

fn bad_colour<E: de::Error>(s: &str) -> E {
    E::custom(format_args!("{s:?} is not a colour like \"#fafaf5\""))
}

fn colour<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 3], D::Error> {
    let s = String::deserialize(d)?;
    parse_colour(&s).ok_or_else(|| bad_colour(&s))
}

/// A list of colours, or one comma-separated string of them: environment variables can only
/// hold the latter.
fn colours<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 3]>, D::Error> {
    struct Colours;
    impl<'de> Visitor<'de> for Colours {
        type Value = Vec<[u8; 3]>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of \"#rrggbb\" colours")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| parse_colour(s).ok_or_else(|| bad_colour(s)))
                .collect()
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(s) = seq.next_element::<String>()? {
                out.push(parse_colour(&s).ok_or_else(|| bad_colour(&s))?);
            }
            Ok(out)
        }
    }
    d.deserialize_any(Colours)
}

#[cfg(test)]
mod tests {
    use super::parse_colour;

    #[test]
    fn colours_parse_as_hex_triples() {
        assert_eq!(parse_colour("#fafaf5"), Some([250, 250, 245]));
        assert_eq!(parse_colour("#1C3A96"), Some([28, 58, 150]));
        for bad in ["fafaf5", "#fafaf", "#fafaf5a", "#gggggg", "#fafaé"] {
            assert_eq!(parse_colour(bad), None, "{bad}");
        }
    }
}
