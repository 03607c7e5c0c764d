//! The Slack webhook URL: held in memory only, never printed, logged or serialized.

use anyhow::{Context, Result, bail};
use std::io::Read;
use std::path::Path;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The plain value, for the one place that needs it (KMS Encrypt, comparing).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The form the webhook URL is encrypted in: without `https://`, as the Lambda console's
/// `cloudwatch-alarm-to-slack-python` blueprint stores it (it decrypts and prepends
/// `https://`), so a function can be switched between the blueprint and elb-watch's notifier
/// either way. An `http://` URL (local test sinks, `--allow-any-webhook`) keeps its scheme:
/// a scheme-less value always means https.
pub fn stored_form(url: &Secret) -> Secret {
    let value = url.expose().trim();
    match value.get(..8) {
        Some(scheme) if scheme.eq_ignore_ascii_case("https://") => Secret::new(&value[8..]),
        _ => Secret::new(value),
    }
}

/// Whether a decrypted ciphertext is in the form [`stored_form`] makes (old elb-watch releases
/// encrypted the URL with its `https://`).
pub fn is_stored_form(plaintext: &Secret) -> bool {
    stored_form(plaintext) == *plaintext
}

/// Read the URL from `--slack-url-file` (a path, or `-` for stdin).
pub fn read_from(path: &Path) -> Result<Secret> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the Slack webhook URL from stdin")?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the Slack webhook URL from {}", path.display()))?;
    }
    let url = text.trim();
    if url.is_empty() {
        bail!("{} holds no Slack webhook URL", path.display());
    }
    Ok(Secret::new(url))
}

/// Check a webhook URL without ever echoing it: an https URL on hooks.slack.com under
/// /services/ (or anything with a host when `allow_any` is set, for local test sinks).
pub fn validate_webhook(url: &Secret, allow_any: bool) -> Result<()> {
    let parsed = url::Url::parse(url.expose()).map_err(|_| {
        anyhow::anyhow!(
            "the Slack webhook URL is not a URL (expected https://hooks.slack.com/services/…)"
        )
    })?;
    if allow_any {
        if parsed.host_str().is_none() || !matches!(parsed.scheme(), "http" | "https") {
            bail!("the webhook URL must be an http(s) URL with a host");
        }
        return Ok(());
    }
    if parsed.scheme() != "https" {
        bail!("the Slack webhook URL must use https (expected https://hooks.slack.com/services/…)");
    }
    let host_ok = matches!(
        parsed.host_str(),
        Some("hooks.slack.com") | Some("hooks.slack-gov.com")
    );
    let path_ok =
        parsed.path().starts_with("/services/") && parsed.path().len() > "/services/".len();
    if !host_ok || !path_ok {
        bail!(
            "the Slack webhook URL must look like https://hooks.slack.com/services/T…/B…/… \
             (create one under your Slack app's \"Incoming Webhooks\")"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new(URL);
        assert_eq!(format!("{s:?}"), "Secret(***)");
    }

    #[test]
    fn webhook_urls_are_validated_without_echoing_them() {
        assert!(validate_webhook(&Secret::new(URL), false).is_ok());
        for bad in [
            "http://hooks.slack.com/services/T/B/X",
            "https://example.com/services/T/B/X-SECRET",
            "https://hooks.slack.com/other/SECRET",
            "not a url SECRET",
        ] {
            let err = validate_webhook(&Secret::new(bad), false)
                .unwrap_err()
                .to_string();
            assert!(
                !err.contains("SECRET") && !err.contains("example.com"),
                "{err}"
            );
        }
        assert!(validate_webhook(&Secret::new("http://127.0.0.1:9/hook"), true).is_ok());
        assert!(validate_webhook(&Secret::new("file:///etc/passwd"), true).is_err());
    }

    #[test]
    fn stored_form_drops_https_like_the_blueprint_and_keeps_http() {
        assert_eq!(
            stored_form(&Secret::new(URL)).expose(),
            "hooks.slack.com/services/T000/B000/XXXXSECRET"
        );
        assert_eq!(
            stored_form(&Secret::new("HTTPS://hooks.slack.com/services/x")).expose(),
            "hooks.slack.com/services/x"
        );
        assert_eq!(
            stored_form(&Secret::new("http://127.0.0.1:9/hook")).expose(),
            "http://127.0.0.1:9/hook"
        );
        let stored = stored_form(&Secret::new(URL));
        assert_eq!(stored_form(&stored), stored, "idempotent");
        assert!(is_stored_form(&stored));
        assert!(!is_stored_form(&Secret::new(URL)));
        assert!(is_stored_form(&Secret::new("http://127.0.0.1:9/hook")));
    }
}
