//! Structured JSON logs on stdout (CloudWatch Logs picks them up).
//!
//! The level comes from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else `info`. HTTP client
//! internals are pinned to `warn` whatever the filter says: at debug/trace level they print
//! request URIs, and the webhook URL is a secret.

use tracing_subscriber::EnvFilter;

/// Targets that could print the webhook URL at verbose levels.
const QUIET: &[&str] = &[
    "reqwest=warn",
    "hyper=warn",
    "hyper_util=warn",
    "h2=warn",
    "rustls=warn",
];

pub fn filter(spec: Option<&str>) -> EnvFilter {
    let mut filter =
        EnvFilter::try_new(spec.unwrap_or("info")).unwrap_or_else(|_| EnvFilter::new("info"));
    for directive in QUIET {
        filter = filter.add_directive(directive.parse().expect("static directive"));
    }
    filter
}

pub fn init() {
    let spec = std::env::var("RUST_LOG").ok().or_else(|| {
        std::env::var("AWS_LAMBDA_LOG_LEVEL")
            .ok()
            .map(|l| l.to_lowercase())
    });
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter(spec.as_deref()))
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .with_ansi(false)
        .init();
}
