//! One TLS stack for every HTTPS call the CLI makes: rustls on ring (as the notifier), so no C
//! library (aws-lc) is built, and the platform's certificate roots (a proxy's or a company's CA
//! in the system store is trusted, as the AWS CLI trusts it).

use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// The HTTP client of every AWS SDK client and of aws-config's credential providers (SSO, web
/// identity, instance and container roles): hyper 1 with rustls on ring.
pub fn sdk_http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Makes ring the process's rustls provider, for the HTTPS calls outside the SDK (Slack's Web
/// API from `status`, which calls this before it builds its client; the SDK's client names its
/// provider itself). Idempotent.
pub fn install_crypto_provider() {
    // Err only when a provider is already installed: that one is kept.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_becomes_the_process_provider_and_stays_so() {
        install_crypto_provider();
        install_crypto_provider();
        let provider = rustls::crypto::CryptoProvider::get_default().expect("installed");
        // ring's suites, as its own default provider lists them.
        let ring = rustls::crypto::ring::default_provider();
        assert_eq!(provider.cipher_suites.len(), ring.cipher_suites.len());
    }
}
