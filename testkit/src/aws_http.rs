//! The HTTP client for the SDK clients of tests, examples and benchmarks: rustls on ring, as
//! the CLI's and the notifier's. The SDK crates are built without a default client (no aws-lc),
//! so every `aws_config::defaults(…)` here is given this one.

use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

pub use aws_smithy_http_client::Builder;

/// hyper 1 + rustls on ring.
pub fn client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}
