//! Structured JSON logs on stdout (CloudWatch Logs picks them up).
//!
//! The level comes from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else `info`. The spec is a
//! comma-separated list of `level` and `target=level` directives (tracing-subscriber's
//! `Targets`: no span or field filters, so no regex engine in the binary — issue 12's size
//! budget); targets not named get the bare level, else `info`. An unparsable spec means
//! `info`. HTTP client internals are pinned to `warn` whatever the spec says: at debug/trace
//! level they print request URIs, and the webhook URL is a secret.

use tracing_subscriber::filter::{LevelFilter, Targets};

/// Targets that could print the webhook URL at verbose levels.
const QUIET: &[&str] = &["reqwest", "hyper", "hyper_util", "h2", "rustls"];

fn is_quiet(target: &str) -> bool {
    QUIET.iter().any(|q| {
        target == *q
            || target
                .strip_prefix(q)
                .is_some_and(|rest| rest.starts_with("::"))
    })
}

pub fn filter(spec: Option<&str>) -> Targets {
    // Lambda's log levels include FATAL, which tracing calls ERROR.
    let spec = spec
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.to_ascii_lowercase().replace("fatal", "error"));
    let parsed: Option<Targets> = spec.as_deref().and_then(|s| s.parse().ok());
    let default = parsed
        .as_ref()
        .and_then(Targets::default_level)
        .unwrap_or(LevelFilter::INFO);
    let named: Vec<(String, LevelFilter)> = parsed
        .into_iter()
        .flatten()
        .filter(|(target, _)| !is_quiet(target))
        .collect();
    Targets::new()
        .with_default(default)
        .with_targets(named)
        .with_targets(QUIET.iter().map(|q| (*q, LevelFilter::WARN)))
}

pub fn init() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let spec = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| std::env::var("AWS_LAMBDA_LOG_LEVEL").ok());
    let json = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .with_ansi(false);
    tracing_subscriber::registry()
        .with(json)
        .with(filter(spec.as_deref()))
        .init();
}

#[cfg(test)]
mod tests {
    use super::filter;
    use tracing::Level;

    #[test]
    fn http_internals_stay_at_warn_whatever_the_spec() {
        for spec in [
            "trace",
            "debug",
            "hyper=trace,trace",
            "hyper::proto::h1=trace",
        ] {
            let f = filter(Some(spec));
            for target in [
                "hyper",
                "hyper::proto::h1",
                "reqwest::connect",
                "h2",
                "rustls",
            ] {
                assert!(!f.would_enable(target, &Level::DEBUG), "{spec}: {target}");
                assert!(f.would_enable(target, &Level::WARN), "{spec}: {target}");
            }
        }
    }

    #[test]
    fn levels_from_the_spec_or_info() {
        let f = filter(Some("debug"));
        assert!(f.would_enable("elb_watch_notifier::deliver", &Level::DEBUG));
        let f = filter(Some("warn,elb_watch_notifier=debug"));
        assert!(f.would_enable("elb_watch_notifier::deliver", &Level::DEBUG));
        assert!(!f.would_enable("aws_config", &Level::INFO));
        // AWS_LAMBDA_LOG_LEVEL's upper-case names, FATAL included.
        assert!(!filter(Some("FATAL")).would_enable("x", &Level::WARN));
        assert!(filter(Some("FATAL")).would_enable("x", &Level::ERROR));
        for info in [None, Some("no such level=?,"), Some("")] {
            let f = filter(info);
            assert!(f.would_enable("x", &Level::INFO), "{info:?}");
            assert!(!f.would_enable("x", &Level::DEBUG), "{info:?}");
        }
    }
}
