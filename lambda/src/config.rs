//! Configuration from the environment, read once per cold start.
//!
//! Environment variables (the first two are the blueprint's names, so this function is a
//! drop-in replacement for `cloudwatch-alarm-to-slack-python`):
//!
//! | variable | meaning |
//! |---|---|
//! | `kmsEncryptedHookUrl` | base64 KMS ciphertext of the webhook URL, without `https://` as the blueprint stores it (`https://` / `http://` kept when present); encryption context `{"LambdaFunctionName": <function>}` required |
//! | `slackChannel` | optional channel override (`#ops`) |
//! | `SLACK_WEBHOOK_URL` | plain webhook URL, used when `kmsEncryptedHookUrl` is unset (tests, emulator) |
//! | `ELB_WATCH_HTTP_TIMEOUT_MS` | per-attempt HTTP timeout (default 5000) |
//! | `ELB_WATCH_BACKOFF_BASE_MS` | first retry delay (default 250) |
//! | `ELB_WATCH_BACKOFF_MAX_MS` | cap of the retry delay (default 8000) |
//! | `ELB_WATCH_MAX_ATTEMPTS` | attempts per message, within the invocation deadline (default 8) |
//! | `ELB_WATCH_ENRICH` | `0`/`false`/`off` disables enrichment: DescribeTargetHealth (ALARM) and DescribeAlarmHistory (the outage a recovery ends) |
//! | `ELB_WATCH_ENRICH_TIMEOUT_MS` | bound on each enrichment call (default 2000; at most a third of the time left) |
//!
//! The webhook URL is a secret: it is never logged, never put in an error message, and its
//! `Debug` form is redacted.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use aws_sdk_kms as kms;
use base64::Engine;
use reqwest::Url;

use crate::deliver::RetryPolicy;

pub const ENV_KMS_HOOK: &str = "kmsEncryptedHookUrl";
pub const ENV_CHANNEL: &str = "slackChannel";
pub const ENV_PLAIN_HOOK: &str = "SLACK_WEBHOOK_URL";
pub const ENV_HTTP_TIMEOUT_MS: &str = "ELB_WATCH_HTTP_TIMEOUT_MS";
pub const ENV_BACKOFF_BASE_MS: &str = "ELB_WATCH_BACKOFF_BASE_MS";
pub const ENV_BACKOFF_MAX_MS: &str = "ELB_WATCH_BACKOFF_MAX_MS";
pub const ENV_MAX_ATTEMPTS: &str = "ELB_WATCH_MAX_ATTEMPTS";
pub const ENV_ENRICH: &str = "ELB_WATCH_ENRICH";
pub const ENV_ENRICH_TIMEOUT_MS: &str = "ELB_WATCH_ENRICH_TIMEOUT_MS";
/// Set by Lambda; used as the KMS encryption context, as the blueprint does.
pub const ENV_FUNCTION_NAME: &str = "AWS_LAMBDA_FUNCTION_NAME";

/// The Slack incoming-webhook URL. Deliberately has no `Display` and a redacted `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook(Url);

impl Webhook {
    pub fn url(&self) -> &Url {
        &self.0
    }
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Webhook(<redacted>)")
    }
}

/// Where the webhook URL comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum HookSource {
    /// Base64 KMS ciphertext (`kmsEncryptedHookUrl`).
    Kms(String),
    /// Plain URL (`SLACK_WEBHOOK_URL`).
    Plain(String),
    Missing,
}

impl fmt::Debug for HookSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HookSource::Kms(_) => "Kms(<redacted>)",
            HookSource::Plain(_) => "Plain(<redacted>)",
            HookSource::Missing => "Missing",
        })
    }
}

/// Everything but the secret.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub channel: Option<String>,
    pub retry: RetryPolicy,
    pub enrich: bool,
    pub enrich_timeout: Duration,
    pub function_name: Option<String>,
}

/// Reads settings through `var` (the process environment in production, a map in tests).
/// Unparsable numbers fall back to the default, with the problem reported in the second value
/// (logged by the caller).
pub fn settings_from(var: impl Fn(&str) -> Option<String>) -> (Settings, Vec<String>) {
    let mut warnings = Vec::new();
    let mut ms = |name: &str, default: u64| -> Duration {
        match var(name).map(|v| v.trim().parse::<u64>()) {
            None => Duration::from_millis(default),
            Some(Ok(v)) => Duration::from_millis(v),
            Some(Err(_)) => {
                warnings.push(format!(
                    "{name} is not a number of milliseconds; using {default}"
                ));
                Duration::from_millis(default)
            }
        }
    };
    let timeout = ms(ENV_HTTP_TIMEOUT_MS, 5000);
    let base = ms(ENV_BACKOFF_BASE_MS, 250);
    let max = ms(ENV_BACKOFF_MAX_MS, 8000);
    let enrich_timeout = ms(ENV_ENRICH_TIMEOUT_MS, 2000);
    let max_attempts = match var(ENV_MAX_ATTEMPTS).map(|v| v.trim().parse::<u32>()) {
        None => 8,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => {
            warnings.push(format!(
                "{ENV_MAX_ATTEMPTS} must be a positive integer; using 8"
            ));
            8
        }
    };
    let enrich = !matches!(
        var(ENV_ENRICH)
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref(),
        Some("0" | "false" | "off" | "no")
    );
    let settings = Settings {
        channel: var(ENV_CHANNEL)
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty()),
        retry: RetryPolicy {
            timeout,
            base,
            max: max.max(base),
            max_attempts,
        },
        enrich,
        enrich_timeout,
        function_name: var(ENV_FUNCTION_NAME).filter(|n| !n.is_empty()),
    };
    (settings, warnings)
}

/// `kmsEncryptedHookUrl` wins over `SLACK_WEBHOOK_URL` when both are set (production config
/// must not be overridden by a leftover test variable silently; the choice is logged).
pub fn hook_source(var: impl Fn(&str) -> Option<String>) -> HookSource {
    let non_empty = |name| {
        var(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    match (non_empty(ENV_KMS_HOOK), non_empty(ENV_PLAIN_HOOK)) {
        (Some(ct), _) => HookSource::Kms(ct),
        (None, Some(url)) => HookSource::Plain(url),
        (None, None) => HookSource::Missing,
    }
}

/// Turns a configured/decrypted value into the webhook URL. The blueprint stores the URL
/// without its scheme and prepends `https://`; a value that already has `https://` or
/// `http://` (local sinks in tests) is kept as is. The error never contains the value.
pub fn normalize_url(value: &str) -> Result<Webhook, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("webhook URL is empty".to_owned());
    }
    let lower = value.get(..8).unwrap_or(value).to_ascii_lowercase();
    let candidate = if lower.starts_with("https://") || lower.starts_with("http://") {
        value.to_owned()
    } else if value.contains("://") {
        return Err("webhook URL has an unsupported scheme (value not shown)".to_owned());
    } else {
        format!("https://{value}")
    };
    let url = Url::parse(&candidate)
        .map_err(|e| format!("webhook URL is not a valid URL ({e}; value not shown)"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err("webhook URL has no host (value not shown)".to_owned());
    }
    Ok(Webhook(url))
}

/// Decrypts the blueprint's `kmsEncryptedHookUrl` with the blueprint's encryption context
/// `{"LambdaFunctionName": <function name>}` — and only with it. A ciphertext made without that
/// context (a plain `aws kms encrypt`) is refused rather than decrypted without one: the key
/// policy and the role's decrypt-only policy allow `kms:Decrypt` only under that context, so
/// the ciphertext stays bound to this function. Errors mention KMS error codes only, never key
/// material.
pub async fn decrypt_hook(
    client: &kms::Client,
    ciphertext_b64: &str,
    function_name: Option<&str>,
) -> Result<String, String> {
    let blob = base64::engine::general_purpose::STANDARD
        .decode(ciphertext_b64.trim())
        .map_err(|_| format!("{ENV_KMS_HOOK} is not valid base64"))?;
    let Some(name) = function_name else {
        return Err(format!(
            "{ENV_FUNCTION_NAME} is not set, so {ENV_KMS_HOOK} cannot be decrypted with its \
             encryption context LambdaFunctionName"
        ));
    };
    let result = client
        .decrypt()
        .ciphertext_blob(kms::primitives::Blob::new(blob))
        .set_encryption_context(Some(encryption_context(name)))
        .send()
        .await;
    match result {
        Ok(out) => {
            let plaintext = out
                .plaintext()
                .ok_or_else(|| "KMS returned no plaintext".to_owned())?;
            String::from_utf8(plaintext.as_ref().to_vec())
                .map_err(|_| "decrypted webhook URL is not UTF-8".to_owned())
        }
        Err(e) => {
            let what = match e.as_service_error() {
                Some(se) => se.meta().code().unwrap_or("KMS service error").to_owned(),
                None => crate::enrich::error_chain(&e),
            };
            Err(format!(
                "could not decrypt {ENV_KMS_HOOK} with KMS under encryption context \
                 LambdaFunctionName={name} ({what}); encrypt it with that context, as the \
                 Lambda console and elb-watch do"
            ))
        }
    }
}

/// The encryption context the Lambda console (and elb-watch) bind the ciphertext with.
pub fn encryption_context(function_name: &str) -> HashMap<String, String> {
    HashMap::from([("LambdaFunctionName".to_owned(), function_name.to_owned())])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults() {
        let (s, warnings) = settings_from(env(&[]));
        assert!(warnings.is_empty());
        assert_eq!(s.channel, None);
        assert_eq!(s.retry.timeout, Duration::from_millis(5000));
        assert_eq!(s.retry.base, Duration::from_millis(250));
        assert_eq!(s.retry.max, Duration::from_millis(8000));
        assert_eq!(s.retry.max_attempts, 8);
        assert!(s.enrich);
        assert_eq!(s.enrich_timeout, Duration::from_millis(2000));
    }

    #[test]
    fn overrides_and_bad_values() {
        let (s, warnings) = settings_from(env(&[
            (ENV_CHANNEL, " #ops "),
            (ENV_HTTP_TIMEOUT_MS, "300"),
            (ENV_BACKOFF_BASE_MS, "10"),
            (ENV_BACKOFF_MAX_MS, "abc"),
            (ENV_MAX_ATTEMPTS, "0"),
            (ENV_ENRICH, "off"),
            (ENV_FUNCTION_NAME, "fn"),
        ]));
        assert_eq!(s.channel.as_deref(), Some("#ops"));
        assert_eq!(s.retry.timeout, Duration::from_millis(300));
        assert_eq!(s.retry.base, Duration::from_millis(10));
        assert_eq!(s.retry.max, Duration::from_millis(8000));
        assert_eq!(s.retry.max_attempts, 8);
        assert!(!s.enrich);
        assert_eq!(s.function_name.as_deref(), Some("fn"));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }

    #[test]
    fn hook_source_precedence() {
        assert_eq!(hook_source(env(&[])), HookSource::Missing);
        assert_eq!(
            hook_source(env(&[(ENV_PLAIN_HOOK, "  ")])),
            HookSource::Missing
        );
        assert_eq!(
            hook_source(env(&[(ENV_PLAIN_HOOK, "http://x/y")])),
            HookSource::Plain("http://x/y".into())
        );
        assert_eq!(
            hook_source(env(&[
                (ENV_PLAIN_HOOK, "http://x/y"),
                (ENV_KMS_HOOK, "AQID")
            ])),
            HookSource::Kms("AQID".into())
        );
        assert_eq!(
            format!("{:?}", HookSource::Plain("https://secret".into())),
            "Plain(<redacted>)"
        );
    }

    #[test]
    fn url_normalization() {
        let u = normalize_url("hooks.slack.com/services/T0/B0/XYZ").unwrap();
        assert_eq!(
            u.url().as_str(),
            "https://hooks.slack.com/services/T0/B0/XYZ"
        );
        let u = normalize_url("https://hooks.slack.com/services/T0/B0/XYZ\n").unwrap();
        assert_eq!(
            u.url().as_str(),
            "https://hooks.slack.com/services/T0/B0/XYZ"
        );
        let u = normalize_url("http://127.0.0.1:8080/services/a").unwrap();
        assert_eq!(u.url().as_str(), "http://127.0.0.1:8080/services/a");
        let u = normalize_url("HTTPS://hooks.slack.com/services/x").unwrap();
        assert_eq!(u.url().scheme(), "https");
        assert!(normalize_url("").is_err());
        assert!(normalize_url("ftp://hooks.slack.com/x").is_err());
        assert!(normalize_url("https://").is_err());
        let err = normalize_url("https://exa mple.com/secret-token").unwrap_err();
        assert!(!err.contains("secret-token"), "{err}");
    }

    #[test]
    fn webhook_debug_is_redacted() {
        let u = normalize_url("https://hooks.slack.com/services/T0/B0/SECRET").unwrap();
        let dbg = format!("{u:?}");
        assert!(!dbg.contains("SECRET") && !dbg.contains("hooks"), "{dbg}");
    }
}
