//! Logging setup. Nothing secret is ever passed to a log call: tokens,
//! codes, passwords and secrets have redacting `Debug` impls besides.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Colour only for a person at a terminal: a log file, a pipe, `docker
/// logs` or CI gets plain text (and `NO_COLOR`, https://no-color.org, turns
/// it off everywhere).
pub fn use_colour(log_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    log_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

pub fn init(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let colour = use_colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    // A second init (tests) is harmless.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_coloured_only_at_a_terminal_without_no_color() {
        assert!(use_colour(true, None));
        assert!(!use_colour(false, None));
        assert!(!use_colour(true, Some(std::ffi::OsStr::new("1"))));
        assert!(use_colour(true, Some(std::ffi::OsStr::new(""))));
    }
}
