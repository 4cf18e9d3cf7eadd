//! The compiled-in digit clips and their decoding.

use std::sync::OnceLock;

use crate::Lang;

/// Raw 8 kHz G.711 mu-law, one clip per digit, made by `clips/make-clips.sh`.
const EN: [&[u8]; 10] = [
    include_bytes!("../clips/en/0.ul"),
    include_bytes!("../clips/en/1.ul"),
    include_bytes!("../clips/en/2.ul"),
    include_bytes!("../clips/en/3.ul"),
    include_bytes!("../clips/en/4.ul"),
    include_bytes!("../clips/en/5.ul"),
    include_bytes!("../clips/en/6.ul"),
    include_bytes!("../clips/en/7.ul"),
    include_bytes!("../clips/en/8.ul"),
    include_bytes!("../clips/en/9.ul"),
];

const CMN: [&[u8]; 10] = [
    include_bytes!("../clips/cmn/0.ul"),
    include_bytes!("../clips/cmn/1.ul"),
    include_bytes!("../clips/cmn/2.ul"),
    include_bytes!("../clips/cmn/3.ul"),
    include_bytes!("../clips/cmn/4.ul"),
    include_bytes!("../clips/cmn/5.ul"),
    include_bytes!("../clips/cmn/6.ul"),
    include_bytes!("../clips/cmn/7.ul"),
    include_bytes!("../clips/cmn/8.ul"),
    include_bytes!("../clips/cmn/9.ul"),
];

/// Decoded clips, samples in [-1, 1], indexed by digit.
pub(crate) type Set = [Vec<f32>; 10];

/// Decoded once per process (60 KB of mu-law, well under a millisecond) and shared.
static DECODED: OnceLock<[Set; 2]> = OnceLock::new();

pub(crate) fn get(lang: Lang) -> &'static Set {
    let sets = DECODED.get_or_init(|| [decode_set(&CMN), decode_set(&EN)]);
    match lang {
        Lang::Zh => &sets[0],
        Lang::En => &sets[1],
    }
}

fn decode_set(raw: &[&[u8]; 10]) -> Set {
    std::array::from_fn(|d| {
        raw[d]
            .iter()
            .map(|&u| f32::from(mu_law(u)) / 32768.0)
            .collect()
    })
}

/// G.711 mu-law to linear 16-bit (ITU-T G.711; range ±32124).
fn mu_law(u: u8) -> i16 {
    let u = !u;
    let exponent = (u >> 4) & 0x07;
    let mantissa = i16::from(u & 0x0f);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if u & 0x80 != 0 { -magnitude } else { magnitude }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mu_law_known_values() {
        // 0xff and 0x7f are the two zeros; 0x80 and 0x00 the extremes (G.711 table).
        assert_eq!(mu_law(0xff), 0);
        assert_eq!(mu_law(0x7f), 0);
        assert_eq!(mu_law(0x80), 32124);
        assert_eq!(mu_law(0x00), -32124);
        // Monotone within each sign half.
        for u in 0x80u8..0xff {
            assert!(mu_law(u) > mu_law(u + 1));
        }
    }
}
