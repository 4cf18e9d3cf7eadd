//! The `[captcha]` config table (feature `serde`): keys, defaults, colours, refusals.
#![cfg(feature = "serde")]

use captcha_render::{DEFAULT_ALPHABET, Format, Params, ParamsError, Renderer, Style};

fn parse(json: &str) -> Result<Params, serde_json::Error> {
    serde_json::from_str(json)
}

#[test]
fn an_empty_table_is_the_defaults() {
    assert_eq!(parse("{}").expect("parses"), Params::default());
}

#[test]
fn every_key_of_the_shipped_config_reads() {
    // `config/default.toml`'s [captcha] table without `ttl_secs`, which the store owns.
    let p = parse(
        r##"{"width": 200, "height": 70, "length": 5, "alphabet": "", "format": "jpeg",
            "jpeg_quality": 75, "noise": 1, "background": "#fafaf5",
            "ink": ["#1c3a96", "#961e2a"], "style": "classic"}"##,
    )
    .expect("parses");
    assert_eq!(
        p,
        Params {
            width: 200,
            height: 70,
            length: 5,
            alphabet: DEFAULT_ALPHABET.into(),
            format: Format::Jpeg { quality: 75 },
            background: [250, 250, 245],
            ink: vec![[28, 58, 150], [150, 30, 42]],
            noise: 1,
            style: Style::Classic,
        }
    );
    assert!(Renderer::new(p).is_ok());
    assert_eq!(
        parse(r#"{"style": "crowded"}"#).expect("parses").style,
        Style::Crowded
    );
}

#[test]
fn ink_may_be_one_comma_separated_string_as_from_the_environment() {
    let p = parse(r##"{"ink": "#1c3a96, #961e2a"}"##).expect("parses");
    assert_eq!(p.ink, vec![[28, 58, 150], [150, 30, 42]]);
}

#[test]
fn unknown_keys_and_malformed_values_are_refused_naming_them() {
    for (json, names) in [
        (r#"{"widht": 100}"#, "widht"),
        (r#"{"style": "fancy"}"#, "fancy"),
        (r#"{"format": "gif"}"#, "gif"),
        (r##"{"background": "white"}"##, "white"),
        (r##"{"ink": ["#12345"]}"##, "#12345"),
        (r#"{"jpeg_quality": 0}"#, "jpeg_quality"),
    ] {
        let err = parse(json).expect_err(json).to_string();
        assert!(err.contains(names), "{json}: {err}");
    }
}

#[test]
fn out_of_range_values_parse_and_validate_names_the_key() {
    for (json, key) in [
        (r#"{"width": 5000}"#, "width"),
        (r#"{"height": 0}"#, "height"),
        (r#"{"length": 13}"#, "length"),
        (r#"{"alphabet": "AA"}"#, "alphabet"),
        (r#"{"noise": 4}"#, "noise"),
        (r##"{"background": "#202020"}"##, "ink"),
        (r##"{"ink": []}"##, "ink"),
    ] {
        let p = parse(json).expect(json);
        assert_eq!(p.validate(), Err(ParamsError::Invalid(key)), "{json}");
        assert_eq!(Renderer::new(p).expect_err(json).field(), key);
    }
}

#[test]
fn format_reads_on_its_own() {
    let png: Format = serde_json::from_str(r#""png""#).expect("png");
    assert_eq!(png, Format::Png);
    let jpeg: Format = serde_json::from_str(r#"{"jpeg": {"quality": 60}}"#).expect("jpeg");
    assert_eq!(jpeg, Format::Jpeg { quality: 60 });
}
