//! The command line: `passport-server [--config DIR] [healthcheck]`.

use std::ffi::OsString;
use std::path::PathBuf;

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Serve (the default).
    Serve,
    /// Ask a running server's `/healthz`; exit 0 or 1.
    Healthcheck,
}

/// Parsed arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// What to do.
    pub command: Command,
    /// `--config DIR`.
    pub config_dir: Option<PathBuf>,
}

/// Usage, for `--help` and mistakes.
pub const USAGE: &str = "usage: passport-server [--config DIR] [healthcheck]";

impl Args {
    /// Parses the arguments after the program name.
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Self, String> {
        let mut parsed = Args {
            command: Command::Serve,
            config_dir: None,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.to_str() {
                Some("--config") => {
                    let dir = args.next().ok_or("--config needs a directory")?;
                    parsed.config_dir = Some(PathBuf::from(dir));
                }
                Some(s) if s.starts_with("--config=") => {
                    parsed.config_dir = Some(PathBuf::from(&s["--config=".len()..]));
                }
                Some("healthcheck") => parsed.command = Command::Healthcheck,
                Some("-h" | "--help") => return Err(USAGE.to_owned()),
                _ => return Err(format!("unexpected argument {arg:?}\n{USAGE}")),
            }
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        Args::parse(args.iter().map(OsString::from))
    }

    #[test]
    fn parses_config_and_healthcheck() {
        assert_eq!(parse(&[]).unwrap().command, Command::Serve);
        let a = parse(&["--config", "/etc/passport", "healthcheck"]).unwrap();
        assert_eq!(a.command, Command::Healthcheck);
        assert_eq!(a.config_dir, Some(PathBuf::from("/etc/passport")));
        assert_eq!(
            parse(&["--config=conf"]).unwrap().config_dir,
            Some(PathBuf::from("conf"))
        );
        assert!(parse(&["--config"]).is_err());
        assert!(parse(&["serve-everything"]).is_err());
    }
}
