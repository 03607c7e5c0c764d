//! The Slack secrets — the incoming-webhook URL, or a Slack app's bot token — held in memory
//! only, never printed, logged or serialized.

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

/// How the notifier reaches Slack, with the secret that mode needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackSecret {
    /// An incoming-webhook URL: one message per alert.
    Webhook(Secret),
    /// A Slack app's bot token (`xoxb-…`): one thread per incident, through the Web API.
    BotToken(Secret),
}

impl SlackSecret {
    /// What the secret is, for plans and errors (never its value).
    pub fn what(&self) -> &'static str {
        match self {
            SlackSecret::Webhook(_) => "webhook URL",
            SlackSecret::BotToken(_) => "bot token",
        }
    }

    /// Whether this is the app mode's token.
    pub fn is_app(&self) -> bool {
        matches!(self, SlackSecret::BotToken(_))
    }

    /// The plaintext that is encrypted: the webhook in its [`stored_form`], the token as is.
    pub fn stored(&self) -> Secret {
        match self {
            SlackSecret::Webhook(url) => stored_form(url),
            SlackSecret::BotToken(token) => token.clone(),
        }
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
    read_secret(path, "Slack webhook URL")
}

/// Read the bot token from `--slack-token-file` (a path, or `-` for stdin).
pub fn read_token_from(path: &Path) -> Result<Secret> {
    read_secret(path, "Slack bot token")
}

fn read_secret(path: &Path, what: &str) -> Result<Secret> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .with_context(|| format!("reading the {what} from stdin"))?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the {what} from {}", path.display()))?;
    }
    let value = text.trim();
    if value.is_empty() {
        bail!("{} holds no {what}", path.display());
    }
    Ok(Secret::new(value))
}

/// Check a bot token without ever echoing it: Slack bot tokens start with `xoxb-`
/// (<https://docs.slack.dev/authentication/tokens#bot>). A user token (`xoxp-`) would post as
/// a person and an app-level token (`xapp-`) cannot post at all, so both are refused by name.
pub fn validate_token(token: &Secret) -> Result<()> {
    let t = token.expose();
    if t.starts_with("xoxb-") && t.len() > 10 && t.bytes().all(|b| b.is_ascii_graphic()) {
        return Ok(());
    }
    let kind = if t.starts_with("xoxp-") {
        "a user token (xoxp-)"
    } else if t.starts_with("xapp-") {
        "an app-level token (xapp-)"
    } else if t.starts_with("https://") {
        "a URL (a webhook URL goes in --slack-url-file)"
    } else {
        "not a bot token"
    };
    bail!(
        "the Slack token given is {kind}: elb-watch needs the app's Bot User OAuth Token          (xoxb-…, under OAuth & Permissions), with the chat:write scope"
    )
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
    fn tokens_are_validated_without_echoing_them() {
        assert!(validate_token(&Secret::new("xoxb-1-2-SECRETVALUE")).is_ok());
        for (bad, says) in [
            ("xoxp-1-2-SECRETVALUE", "user token"),
            ("xapp-1-SECRETVALUE", "app-level"),
            ("https://hooks.slack.com/services/SECRETVALUE", "URL"),
            ("SECRETVALUE", "not a bot token"),
            ("xoxb-1 2 SECRETVALUE", "not a bot token"),
        ] {
            let err = validate_token(&Secret::new(bad)).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
            assert!(!err.contains("SECRETVALUE"), "{err}");
        }
    }

    #[test]
    fn a_token_is_stored_as_is_a_webhook_without_https() {
        let t = SlackSecret::BotToken(Secret::new("xoxb-1-2-x"));
        assert_eq!(t.stored().expose(), "xoxb-1-2-x");
        assert!(t.is_app());
        let w = SlackSecret::Webhook(Secret::new(URL));
        assert_eq!(
            w.stored().expose(),
            "hooks.slack.com/services/T000/B000/XXXXSECRET"
        );
        assert_eq!(format!("{t:?}"), "BotToken(Secret(***))");
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
