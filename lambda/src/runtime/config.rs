//! Configuration from the environment, read once per cold start.
//!
//! Environment variables (the first two are the blueprint's names, so this function is a
//! drop-in replacement for `cloudwatch-alarm-to-slack-python`):
//!
//! | variable | meaning |
//! |---|---|
//! | `kmsEncryptedHookUrl` | base64 KMS ciphertext of the webhook URL, without `https://` as the blueprint stores it (`https://` / `http://` kept when present); encryption context `{"LambdaFunctionName": <function>}` required |
//! | `slackChannel` | webhook mode: optional channel override (`#ops`); app mode: the channel ID to post in (`C0ALERTS`), required |
//! | `SLACK_WEBHOOK_URL` | plain webhook URL, used when `kmsEncryptedHookUrl` is unset (tests, emulator) |
//! | `kmsEncryptedSlackToken` | Slack app mode: base64 KMS ciphertext of the bot token (`xoxb-…`), same encryption context as `kmsEncryptedHookUrl` |
//! | `SLACK_BOT_TOKEN` | Slack app mode: plain bot token, used when `kmsEncryptedSlackToken` is unset (tests, emulator) |
//! | `SLACK_API_URL` | Slack app mode: the Web API root (default `https://slack.com/api/`; a method's URL is the root + its name, with or without a trailing `/` on the root) |
//! | `ELB_WATCH_HTTP_TIMEOUT_MS` | per-attempt HTTP timeout (default 5000) |
//! | `ELB_WATCH_BACKOFF_BASE_MS` | first retry delay (default 250) |
//! | `ELB_WATCH_BACKOFF_MAX_MS` | cap of the retry delay (default 8000) |
//! | `ELB_WATCH_MAX_ATTEMPTS` | attempts per message, within the invocation deadline (default 8) |
//! | `ELB_WATCH_ENRICH` | `0`/`false`/`off` disables enrichment: DescribeTargetHealth (ALARM) and DescribeAlarmHistory (the outage a recovery ends) |
//! | `ELB_WATCH_ENRICH_TIMEOUT_MS` | bound on each enrichment call (default 2000; at most a third of the time left) |
//! | `ELB_WATCH_MENTIONS` | who an ALARM notifies (`up --mention`): space-separated Slack mentions in Slack's syntax, `<!here>`, `<!channel>`, `<!subteam^S0123ABC>` (a user group), `<@U0123ABC>` / `<@W0123ABC>` (a user); an invalid token is ignored with a warning ([`mentions_from`]) |
//! | `ELB_WATCH_RUNBOOK_URL` | the env's runbook (`up --runbook`), for alarms without an `elb-watch:runbook` tag: an https URL of at most 3000 characters (a Block Kit button's `url`); anything else is ignored with a warning ([`runbook_url`]) |
//!
//! **Mode.** When a token source is set (`kmsEncryptedSlackToken` or `SLACK_BOT_TOKEN`) the
//! notifier runs in Slack app mode (Web API, one thread per incident: [`crate::slack::app`]) and the
//! webhook variables are ignored; otherwise it posts to the incoming webhook as the blueprint
//! did. [`mode`] decides; the choice (never a value) is logged at init.
//!
//! The webhook URL and the bot token are secrets: they are never logged, never put in an error
//! message, and their `Debug` forms are redacted (neither has a `Display`).

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use aws_sdk_kms as kms;
use base64::Engine;
use reqwest::Url;

use crate::slack::http::RetryPolicy;

pub const ENV_KMS_HOOK: &str = "kmsEncryptedHookUrl";
pub const ENV_CHANNEL: &str = "slackChannel";
pub const ENV_PLAIN_HOOK: &str = "SLACK_WEBHOOK_URL";
pub const ENV_HTTP_TIMEOUT_MS: &str = "ELB_WATCH_HTTP_TIMEOUT_MS";
pub const ENV_BACKOFF_BASE_MS: &str = "ELB_WATCH_BACKOFF_BASE_MS";
pub const ENV_BACKOFF_MAX_MS: &str = "ELB_WATCH_BACKOFF_MAX_MS";
pub const ENV_MAX_ATTEMPTS: &str = "ELB_WATCH_MAX_ATTEMPTS";
pub const ENV_ENRICH: &str = "ELB_WATCH_ENRICH";
pub const ENV_ENRICH_TIMEOUT_MS: &str = "ELB_WATCH_ENRICH_TIMEOUT_MS";
pub const ENV_KMS_TOKEN: &str = "kmsEncryptedSlackToken";
pub const ENV_PLAIN_TOKEN: &str = "SLACK_BOT_TOKEN";
pub const ENV_API_URL: &str = "SLACK_API_URL";
pub const ENV_MENTIONS: &str = "ELB_WATCH_MENTIONS";
pub const ENV_RUNBOOK_URL: &str = "ELB_WATCH_RUNBOOK_URL";
/// The alarm tag naming its runbook (`up` copies it from the target group's or the load
/// balancer's own tag of that key).
pub const RUNBOOK_TAG: &str = "elb-watch:runbook";
/// Longest runbook URL: a Block Kit button's `url` ("Maximum length for this field is 3000
/// characters", <https://docs.slack.dev/reference/block-kit/block-elements/button-element>).
pub const RUNBOOK_URL_MAX: usize = 3000;
/// At most this many mentions are kept (the rest are ignored with a warning): the mentions lead
/// the text and the first section, whose room is the alert's.
pub const MAX_MENTIONS: usize = 10;
/// Slack's Web API root (<https://docs.slack.dev/apis/web-api>: methods are
/// `https://slack.com/api/METHOD`).
pub const DEFAULT_API_URL: &str = "https://slack.com/api/";
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

/// Where a secret (the webhook URL, the bot token) comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Base64 KMS ciphertext (`kmsEncryptedHookUrl`, `kmsEncryptedSlackToken`).
    Kms(String),
    /// Plain value (`SLACK_WEBHOOK_URL`, `SLACK_BOT_TOKEN`).
    Plain(String),
    Missing,
}

/// Where the webhook URL comes from.
pub type HookSource = SecretSource;

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SecretSource::Kms(_) => "Kms(<redacted>)",
            SecretSource::Plain(_) => "Plain(<redacted>)",
            SecretSource::Missing => "Missing",
        })
    }
}

/// A Slack bot token (`xoxb-…`). Deliberately has no `Display` and a redacted `Debug`; the
/// only way to the value is [`BotToken::bearer`], for the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct BotToken(String);

impl BotToken {
    /// The trimmed value; an error when it is empty or has inner spaces. The error never
    /// contains the value.
    pub fn new(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("the Slack bot token is empty".to_owned());
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(
                "the Slack bot token contains spaces or control characters (value not \
                        shown)"
                    .to_owned(),
            );
        }
        Ok(Self(value.to_owned()))
    }

    /// `Bearer <token>`, the `Authorization` header value
    /// (<https://docs.slack.dev/apis/web-api>, "Authentication").
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BotToken(<redacted>)")
    }
}

/// How the notifier reaches Slack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Incoming webhook, as the blueprint did.
    Webhook(HookSource),
    /// Slack app (Web API, one thread per incident).
    App {
        token: SecretSource,
        /// `SLACK_API_URL` as set (checked by [`api_root`]).
        api_url: Option<String>,
    },
}

impl Mode {
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Webhook(_) => "webhook",
            Mode::App { .. } => "slack-app",
        }
    }
}

/// A token source set → app mode (the webhook variables are ignored); else webhook mode.
pub fn mode(var: impl Fn(&str) -> Option<String>) -> Mode {
    match secret_source(&var, ENV_KMS_TOKEN, ENV_PLAIN_TOKEN) {
        SecretSource::Missing => Mode::Webhook(hook_source(var)),
        token => Mode::App {
            token,
            api_url: non_empty(&var, ENV_API_URL),
        },
    }
}

fn non_empty(var: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    var(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The KMS variable wins over the plain one when both are set.
fn secret_source(var: &impl Fn(&str) -> Option<String>, kms: &str, plain: &str) -> SecretSource {
    match (non_empty(var, kms), non_empty(var, plain)) {
        (Some(ct), _) => SecretSource::Kms(ct),
        (None, Some(v)) => SecretSource::Plain(v),
        (None, None) => SecretSource::Missing,
    }
}

/// The Web API root from `SLACK_API_URL` (default [`DEFAULT_API_URL`]), always ending in `/` so
/// that joining a method name appends it (`…/api/` + `chat.postMessage`).
pub fn api_root(value: Option<&str>) -> Result<Url, String> {
    let raw = value.map(str::trim).filter(|v| !v.is_empty());
    let mut text = raw.unwrap_or(DEFAULT_API_URL).to_owned();
    if !text.ends_with('/') {
        text.push('/');
    }
    let url = Url::parse(&text).map_err(|e| format!("{ENV_API_URL} is not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{ENV_API_URL} must be an http(s) URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{ENV_API_URL} must not have a query or fragment"));
    }
    Ok(url)
}

/// The URL of one Web API method under `root` (from [`api_root`]).
pub fn method_url(root: &Url, method: &str) -> Url {
    root.join(method)
        .expect("a method name joins onto an http(s) base URL")
}

/// Everything but the secret.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub channel: Option<String>,
    pub retry: RetryPolicy,
    pub enrich: bool,
    pub enrich_timeout: Duration,
    pub function_name: Option<String>,
    /// `ELB_WATCH_MENTIONS`, each checked by [`mention`]: added to ALARM messages only.
    pub mentions: Vec<String>,
    /// `ELB_WATCH_RUNBOOK_URL`, checked by [`runbook_url`]: the runbook of alarms without an
    /// `elb-watch:runbook` tag.
    pub runbook_url: Option<String>,
}

/// A Slack mention in Slack's syntax (<https://docs.slack.dev/messaging/formatting-message-text>,
/// "Special mentions" and "Mentioning groups"): `<!here>`, `<!channel>`, `<!subteam^S…>` (a
/// user group) or `<@U…>` / `<@W…>` (a user), an ID being 2 to 20 uppercase letters and digits.
/// `@here` and `@channel` (what people type) are written as Slack wants them. Anything else —
/// `<!everyone>`, a link, a channel — is refused: these tokens go into the message unescaped.
pub fn mention(token: &str) -> Option<String> {
    let id = |rest: &str, first: &[char]| {
        (2..=20).contains(&rest.len())
            && rest.starts_with(first)
            && rest
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    };
    match token {
        "<!here>" | "@here" => return Some("<!here>".to_owned()),
        "<!channel>" | "@channel" => return Some("<!channel>".to_owned()),
        _ => {}
    }
    let inner = token.strip_prefix('<')?.strip_suffix('>')?;
    let ok = match (inner.strip_prefix("!subteam^"), inner.strip_prefix('@')) {
        (Some(group), _) => id(group, &['S']),
        (_, Some(user)) => id(user, &['U', 'W']),
        _ => false,
    };
    ok.then(|| token.to_owned())
}

/// `ELB_WATCH_MENTIONS`' value: the valid mentions in order, duplicates dropped, at most
/// [`MAX_MENTIONS`]; a warning for each token left out (shortened: it is the operator's text).
pub fn mentions_from(value: &str, warnings: &mut Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for token in value.split_whitespace() {
        match mention(token) {
            Some(m) if out.contains(&m) => {}
            Some(_) if out.len() == MAX_MENTIONS => warnings.push(format!(
                "{ENV_MENTIONS}: more than {MAX_MENTIONS} mentions; ignoring {:?}",
                shown(token)
            )),
            Some(m) => out.push(m),
            None => warnings.push(format!(
                "{ENV_MENTIONS}: {:?} is not a Slack mention (<!here>, <!channel>, \
                 <!subteam^S0123ABC>, <@U0123ABC>); ignoring it",
                shown(token)
            )),
        }
    }
    out
}

fn shown(token: &str) -> String {
    token.chars().take(40).collect()
}

/// A runbook URL, from `ELB_WATCH_RUNBOOK_URL` or an alarm's `elb-watch:runbook` tag: https
/// with a host, at most [`RUNBOOK_URL_MAX`] characters, and no character that could break out
/// of a Block Kit string or Slack markup (it only ever goes into a button's `url`). The error
/// says why, fit for a log line.
pub fn runbook_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    let url = Url::parse(value).map_err(|e| format!("not a URL ({e})"))?;
    if url.scheme() != "https" {
        return Err(format!("not https (scheme {:?})", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("no host".to_owned());
    }
    let text = url.as_str().to_owned();
    if text.chars().count() > RUNBOOK_URL_MAX {
        return Err(format!(
            "{} characters, more than a Slack button's {RUNBOOK_URL_MAX}",
            text.chars().count()
        ));
    }
    Ok(text)
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
        mentions: var(ENV_MENTIONS)
            .map(|v| mentions_from(&v, &mut warnings))
            .unwrap_or_default(),
        runbook_url: non_empty(&var, ENV_RUNBOOK_URL).and_then(|v| match runbook_url(&v) {
            Ok(url) => Some(url),
            Err(why) => {
                warnings.push(format!("{ENV_RUNBOOK_URL}: {why}; no default runbook"));
                None
            }
        }),
    };
    (settings, warnings)
}

/// `kmsEncryptedHookUrl` wins over `SLACK_WEBHOOK_URL` when both are set (production config
/// must not be overridden by a leftover test variable silently; the choice is logged).
pub fn hook_source(var: impl Fn(&str) -> Option<String>) -> HookSource {
    secret_source(&var, ENV_KMS_HOOK, ENV_PLAIN_HOOK)
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

/// Decrypts a KMS-encrypted variable (`variable`: `kmsEncryptedHookUrl`, the blueprint's, or
/// `kmsEncryptedSlackToken`) with the blueprint's encryption context
/// `{"LambdaFunctionName": <function name>}` — and only with it. A ciphertext made without that
/// context (a plain `aws kms encrypt`) is refused rather than decrypted without one: the key
/// policy and the role's decrypt-only policy allow `kms:Decrypt` only under that context, so
/// the ciphertext stays bound to this function. Errors mention KMS error codes only, never key
/// material.
pub async fn decrypt_secret(
    client: &kms::Client,
    variable: &str,
    ciphertext_b64: &str,
    function_name: Option<&str>,
) -> Result<String, String> {
    let blob = base64::engine::general_purpose::STANDARD
        .decode(ciphertext_b64.trim())
        .map_err(|_| format!("{variable} is not valid base64"))?;
    let Some(name) = function_name else {
        return Err(format!(
            "{ENV_FUNCTION_NAME} is not set, so {variable} cannot be decrypted with its \
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
                .map_err(|_| format!("decrypted {variable} is not UTF-8"))
        }
        Err(e) => {
            let what = match e.as_service_error() {
                Some(se) => se.meta().code().unwrap_or("KMS service error").to_owned(),
                None => crate::enrich::targets::error_chain(&e),
            };
            Err(format!(
                "could not decrypt {variable} with KMS under encryption context \
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

    #[test]
    fn a_token_source_means_app_mode_and_the_webhook_is_ignored() {
        assert_eq!(
            mode(env(&[(ENV_PLAIN_HOOK, "http://x/y")])),
            Mode::Webhook(HookSource::Plain("http://x/y".into()))
        );
        assert_eq!(mode(env(&[])), Mode::Webhook(HookSource::Missing));
        let app = mode(env(&[
            (ENV_PLAIN_HOOK, "http://x/y"),
            (ENV_PLAIN_TOKEN, " xoxb-1 "),
            (ENV_API_URL, "http://127.0.0.1:9/api"),
        ]));
        assert_eq!(
            app,
            Mode::App {
                token: SecretSource::Plain("xoxb-1".into()),
                api_url: Some("http://127.0.0.1:9/api".into())
            }
        );
        assert_eq!(app.name(), "slack-app");
        // The KMS variable wins over the plain one; an empty one does not count.
        assert_eq!(
            mode(env(&[(ENV_PLAIN_TOKEN, "xoxb-1"), (ENV_KMS_TOKEN, "AQID")])),
            Mode::App {
                token: SecretSource::Kms("AQID".into()),
                api_url: None
            }
        );
        assert_eq!(
            mode(env(&[(ENV_PLAIN_TOKEN, "  "), (ENV_PLAIN_HOOK, "h")])).name(),
            "webhook"
        );
        // Nothing of the token in the mode's Debug form.
        let dbg = format!("{app:?}");
        assert!(!dbg.contains("xoxb"), "{dbg}");
    }

    #[test]
    fn api_root_with_or_without_trailing_slash() {
        let method = |root: Option<&str>| method_url(&api_root(root).unwrap(), "chat.update");
        assert_eq!(method(None).as_str(), "https://slack.com/api/chat.update");
        assert_eq!(
            method(Some("http://127.0.0.1:8080/api/")).as_str(),
            "http://127.0.0.1:8080/api/chat.update"
        );
        assert_eq!(
            method(Some("http://127.0.0.1:8080/api")).as_str(),
            "http://127.0.0.1:8080/api/chat.update"
        );
        assert_eq!(
            method(Some("  ")).as_str(),
            "https://slack.com/api/chat.update"
        );
        assert!(api_root(Some("ftp://slack.com/api")).is_err());
        assert!(api_root(Some("not a url")).is_err());
        assert!(api_root(Some("https://slack.com/api?x=1")).is_err());
    }

    #[test]
    fn mentions_are_checked_one_by_one_and_bad_ones_ignored_with_a_warning() {
        let (s, warnings) = settings_from(env(&[(
            ENV_MENTIONS,
            " <!here>  <!subteam^S0123ABC> <@U0123ABC> @channel <!everyone> <@u01> \
             <https://evil|x> <!subteam^S1>> <@W0ABC> <!here>",
        )]));
        assert_eq!(
            s.mentions,
            [
                "<!here>",
                "<!subteam^S0123ABC>",
                "<@U0123ABC>",
                "<!channel>",
                "<@W0ABC>"
            ]
        );
        assert_eq!(warnings.len(), 4, "{warnings:?}");
        assert!(warnings.iter().all(|w| w.starts_with(ENV_MENTIONS)));
        for bad in [
            "<!here",
            "<!subteam^s0123>",
            "<!subteam^U0123>",
            "<@S0123>",
            "<@U>",
            "<#C0123>",
            "<@U0123|name>",
            "here",
        ] {
            assert_eq!(mention(bad), None, "{bad}");
        }
        let many = (0..12).map(|i| format!("<@U00{i:02}>")).collect::<Vec<_>>();
        let mut w = Vec::new();
        assert_eq!(mentions_from(&many.join(" "), &mut w).len(), MAX_MENTIONS);
        assert_eq!(w.len(), 2);
        assert!(settings_from(env(&[])).0.mentions.is_empty());
    }

    #[test]
    fn the_default_runbook_is_an_https_url_or_nothing() {
        let (s, warnings) =
            settings_from(env(&[(ENV_RUNBOOK_URL, " https://wiki.example.com/rb ")]));
        assert_eq!(
            s.runbook_url.as_deref(),
            Some("https://wiki.example.com/rb")
        );
        assert!(warnings.is_empty());
        for bad in [
            "http://wiki.example.com/rb",
            "javascript:alert(1)",
            "wiki.example.com/rb",
            "https://",
        ] {
            let (s, warnings) = settings_from(env(&[(ENV_RUNBOOK_URL, bad)]));
            assert_eq!(s.runbook_url, None, "{bad}");
            assert_eq!(warnings.len(), 1, "{bad}: {warnings:?}");
        }
        let long = format!("https://example.com/{}", "a".repeat(3000));
        assert!(runbook_url(&long).is_err());
        let fits = format!("https://example.com/{}", "a".repeat(3000 - 20));
        assert_eq!(runbook_url(&fits).unwrap().chars().count(), 3000);
    }

    #[test]
    fn bot_token_is_redacted_and_checked() {
        let t = BotToken::new(" xoxb-123-456-SECRET\n").unwrap();
        assert_eq!(t.bearer(), "Bearer xoxb-123-456-SECRET");
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("SECRET") && !dbg.contains("xoxb"), "{dbg}");
        assert!(BotToken::new("  ").is_err());
        let err = BotToken::new("xoxb-1 SECRET").unwrap_err();
        assert!(!err.contains("SECRET"), "{err}");
    }
}
