//! What the notifier does with one Slack Web API answer (`chat.postMessage`, `chat.update`):
//! succeed, retry (after how long), or fail with a one-line hint telling the operator what to
//! fix. Pure: an HTTP status, the `Retry-After` header value and the body in; an [`Outcome`]
//! out. The HTTP calls that use it are [`webapi`](crate::slack::web_api)'s (Slack app mode).
//!
//! Slack's rules this follows:
//! - Errors are HTTP 200 with `{"ok": false, "error": "<code>"}`; callers "should always check
//!   the value of the `ok` params" (<https://docs.slack.dev/apis/web-api>, "Evaluating
//!   responses").
//! - Rate limiting is HTTP 429 with a `Retry-After` header "containing the number of seconds
//!   until you can retry", body `ratelimited`
//!   (<https://docs.slack.dev/apis/web-api/rate-limits>). Without the header we wait
//!   [`DEFAULT_RETRY_AFTER`]; a longer wait than [`MAX_RETRY_AFTER`] is capped (the function
//!   has 30 s in all; the caller still checks its deadline).
//! - `internal_error`, `fatal_error`, `service_unavailable`, `request_timeout` are "likely due
//!   to a transient issue on our end" (the common errors of every method page, e.g.
//!   <https://docs.slack.dev/reference/methods/chat.postMessage#errors>): retried, like 5xx.
//! - `channel_not_found`, `not_in_channel` ("the app must be a member": `/invite @app`, or the
//!   `chat:write.public` scope for a public channel), `is_archived`, `invalid_auth`,
//!   `token_revoked`, `not_authed`, `account_inactive`, `missing_scope` (the body's `needed`
//!   names the scope, e.g. `{"ok": false, "error": "missing_scope", "needed": "chat:write",
//!   "provided": "..."}`), `message_not_found` and `cant_update_message`
//!   (<https://docs.slack.dev/reference/methods/chat.update#errors>) cannot succeed by
//!   retrying: [`Outcome::Fail`].
//!
//! Nothing the answer carries is echoed unchecked: error codes and scopes are kept only when
//! they look like Slack's (`[a-z0-9_.:-]`, short) and never when they contain `xox` (the prefix
//! of every Slack token), so a hint or a logged error never carries a token.

use std::time::Duration;

use serde_json::Value;

/// Wait after a 429 / `ratelimited` without a usable `Retry-After`.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Longest wait honoured from `Retry-After` (longer values are capped to this).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// What to do after one Slack Web API answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `ok: true`: the message's `ts` and the channel ID it is in.
    Ok { ts: String, channel: String },
    /// Rate limited: retry after this long (already capped by [`MAX_RETRY_AFTER`]).
    RetryAfter(Duration),
    /// Transient (5xx, Slack's transient errors, an unreadable 2xx answer): retry with backoff.
    Retry,
    /// Retrying cannot help. `error` is Slack's code (sanitised); `operator_hint` one line
    /// saying what to fix.
    Fail {
        error: String,
        operator_hint: String,
    },
}

/// Errors Slack documents as transient.
const TRANSIENT: [&str; 4] = [
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
];

/// Decides the outcome of one answer: HTTP `status`, the `Retry-After` header value, the body.
pub fn classify(status: u16, retry_after: Option<&str>, body: &str) -> Outcome {
    let json: Option<Value> = serde_json::from_str(body).ok();
    let error = json
        .as_ref()
        .and_then(|j| j.get("error"))
        .and_then(Value::as_str);
    if status == 429 || matches!(error, Some("ratelimited" | "rate_limited")) {
        return Outcome::RetryAfter(retry_delay(retry_after));
    }
    if status >= 500 || status == 408 {
        return Outcome::Retry;
    }
    let Some(json) = json.as_ref() else {
        // Not JSON: a 2xx from something in the way (a proxy page) may pass; a 4xx will not.
        return if (200..300).contains(&status) {
            Outcome::Retry
        } else {
            fail(
                "invalid_response",
                format!(
                    "Slack answered HTTP {status} without a JSON body: check the Slack API URL"
                ),
            )
        };
    };
    if json.get("ok").and_then(Value::as_bool) == Some(true) && (200..300).contains(&status) {
        let field = |name| json.get(name).and_then(Value::as_str).map(str::to_owned);
        return match (field("ts"), field("channel")) {
            (Some(ts), Some(channel)) => Outcome::Ok { ts, channel },
            _ => fail(
                "invalid_response",
                "Slack answered ok without the message's ts and channel: check the Slack API URL"
                    .into(),
            ),
        };
    }
    let code = sanitize(error.unwrap_or("unknown_error"));
    if TRANSIENT.contains(&code.as_str()) {
        return Outcome::Retry;
    }
    let needed = json
        .get("needed")
        .and_then(Value::as_str)
        .map(sanitize_scopes)
        .filter(|s| !s.is_empty());
    let hint = hint(&code, needed.as_deref());
    fail(&code, hint)
}

fn fail(error: &str, operator_hint: String) -> Outcome {
    Outcome::Fail {
        error: error.to_owned(),
        operator_hint,
    }
}

/// The one-line hint for a permanent error `code`.
fn hint(code: &str, needed: Option<&str>) -> String {
    const REINSTALL: &str = "reinstall the Slack app to the workspace and run `elb-watch up` \
                             with its new Bot User OAuth Token (--slack-token-file)";
    match code {
        "channel_not_found" => "Slack channel not found: check --slack-channel (a channel ID \
                                like C0123ABCD, or #name), and invite the app if the channel is \
                                private"
            .into(),
        "not_in_channel" => "the Slack app is not in the channel: invite the app to the channel \
                             (/invite @app in that channel), or give it the chat:write.public \
                             scope for a public channel"
            .into(),
        "is_archived" => {
            "the Slack channel is archived: unarchive it or choose another --slack-channel".into()
        }
        "invalid_auth" => format!("the Slack token is not valid: {REINSTALL}"),
        "token_revoked" => {
            format!("the Slack token was revoked (app uninstalled or token rotated): {REINSTALL}")
        }
        "not_authed" => "no Slack token was sent: the function has no token configured; run \
                         `elb-watch up --slack-token-file`"
            .into(),
        "account_inactive" => format!(
            "the Slack token belongs to a deleted user or a deactivated app or workspace: \
             {REINSTALL}"
        ),
        "missing_scope" => match needed {
            Some(scope) => format!(
                "the Slack app lacks the scope {scope}: add it under OAuth & Permissions → Bot \
                 Token Scopes, then {REINSTALL}"
            ),
            None => format!(
                "the Slack app lacks a scope (Slack did not say which; elb-watch needs \
                 chat:write): add it under OAuth & Permissions, then {REINSTALL}"
            ),
        },
        "message_not_found" => "the Slack message to update no longer exists (deleted?): \
                                nothing to fix, a new message is needed"
            .into(),
        "cant_update_message" => "the Slack message to update was posted by another app or \
                                  token: run `elb-watch up` with the token of the app that \
                                  posted it, or let a new message be posted"
            .into(),
        other => {
            format!("Slack refused the call ({other}): see the method's errors on docs.slack.dev")
        }
    }
}

/// `Retry-After` in delta-seconds, defaulted and capped; never panics on odd values.
pub fn retry_delay(value: Option<&str>) -> Duration {
    let parsed = value.map(str::trim).and_then(|v| {
        v.parse::<u64>().map(Duration::from_secs).ok().or_else(|| {
            v.parse::<f64>()
                .ok()
                .filter(|s| *s >= 0.0)
                // Too large for a Duration: as long as possible, then capped.
                .map(|s| Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX))
        })
    });
    parsed.unwrap_or(DEFAULT_RETRY_AFTER).min(MAX_RETRY_AFTER)
}

/// Slack's codes and scopes are short lowercase words; anything else (or anything that could
/// be a token) is not repeated.
fn looks_like_code(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.:-".contains(&b))
        && !s.contains("xox")
}

fn sanitize(code: &str) -> String {
    if looks_like_code(code) {
        code.to_owned()
    } else {
        "unrecognised_error".into()
    }
}

/// `needed` may list several scopes, comma-separated.
fn sanitize_scopes(needed: &str) -> String {
    needed
        .split(',')
        .map(str::trim)
        .filter(|s| looks_like_code(s))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn err(code: &str) -> String {
        format!(r#"{{"ok":false,"error":"{code}"}}"#)
    }

    fn hint_of(outcome: Outcome) -> (String, String) {
        match outcome {
            Outcome::Fail {
                error,
                operator_hint,
            } => (error, operator_hint),
            other => panic!("expected Fail, got {other:?}"),
        }
    }

    #[test]
    fn ok_gives_ts_and_channel() {
        let body = r#"{"ok":true,"channel":"C0ALERTS","ts":"1700000000.000100","message":{}}"#;
        assert_eq!(
            classify(200, None, body),
            Outcome::Ok {
                ts: "1700000000.000100".into(),
                channel: "C0ALERTS".into()
            }
        );
        let (e, _) = hint_of(classify(200, None, r#"{"ok":true}"#));
        assert_eq!(e, "invalid_response");
    }

    #[test]
    fn http_429_waits_retry_after_defaulted_and_capped() {
        let body = err("ratelimited");
        assert_eq!(
            classify(429, Some("3"), &body),
            Outcome::RetryAfter(Duration::from_secs(3))
        );
        assert_eq!(
            classify(429, None, &body),
            Outcome::RetryAfter(DEFAULT_RETRY_AFTER)
        );
        assert_eq!(
            classify(429, Some("3600"), "not json"),
            Outcome::RetryAfter(MAX_RETRY_AFTER)
        );
        assert_eq!(
            classify(429, Some("Wed, 21 Oct 2015 07:28:00 GMT"), ""),
            Outcome::RetryAfter(DEFAULT_RETRY_AFTER)
        );
        assert_eq!(
            classify(429, Some("1e300"), ""),
            Outcome::RetryAfter(MAX_RETRY_AFTER)
        );
        // ratelimited in an HTTP 200 body.
        assert_eq!(
            classify(200, Some("2"), &body),
            Outcome::RetryAfter(Duration::from_secs(2))
        );
    }

    #[test]
    fn server_errors_and_transient_codes_retry() {
        for status in [500, 502, 503, 504, 408] {
            assert_eq!(classify(status, None, "<html>"), Outcome::Retry, "{status}");
        }
        for code in TRANSIENT {
            assert_eq!(classify(200, None, &err(code)), Outcome::Retry, "{code}");
        }
        assert_eq!(classify(200, None, "<html>proxy</html>"), Outcome::Retry);
        let (e, _) = hint_of(classify(403, None, "<html>denied</html>"));
        assert_eq!(e, "invalid_response");
    }

    #[test]
    fn channel_errors_say_what_to_fix() {
        let (e, h) = hint_of(classify(200, None, &err("channel_not_found")));
        assert_eq!(e, "channel_not_found");
        assert!(h.contains("--slack-channel"), "{h}");
        let (e, h) = hint_of(classify(200, None, &err("not_in_channel")));
        assert_eq!(e, "not_in_channel");
        assert!(h.contains("/invite @app"), "{h}");
        let (_, h) = hint_of(classify(200, None, &err("is_archived")));
        assert!(h.contains("archived"), "{h}");
    }

    #[test]
    fn token_errors_say_what_to_fix() {
        for (code, words) in [
            ("invalid_auth", "not valid"),
            ("token_revoked", "revoked"),
            ("not_authed", "no Slack token"),
            ("account_inactive", "deactivated"),
        ] {
            let (e, h) = hint_of(classify(200, None, &err(code)));
            assert_eq!(e, code);
            assert!(h.contains(words), "{code}: {h}");
            assert!(h.contains("elb-watch up"), "{code}: {h}");
            assert!(!h.contains('\n'), "{code}: one line");
        }
    }

    #[test]
    fn missing_scope_names_the_scope() {
        let body = r#"{"ok":false,"error":"missing_scope","needed":"chat:write","provided":"channels:read"}"#;
        let (e, h) = hint_of(classify(200, None, body));
        assert_eq!(e, "missing_scope");
        assert!(h.contains("lacks the scope chat:write"), "{h}");
        let (_, h) = hint_of(classify(200, None, &err("missing_scope")));
        assert!(h.contains("chat:write") && h.contains("did not say"), "{h}");
        // A `needed` that is not a scope is not repeated.
        let body = r#"{"ok":false,"error":"missing_scope","needed":"xoxb-1-2-abc"}"#;
        let (_, h) = hint_of(classify(200, None, body));
        assert!(!h.contains("xox"), "{h}");
    }

    #[test]
    fn update_errors_fail() {
        for code in ["message_not_found", "cant_update_message"] {
            let (e, h) = hint_of(classify(200, None, &err(code)));
            assert_eq!(e, code);
            assert!(h.contains("message"), "{h}");
        }
    }

    #[test]
    fn unknown_and_hostile_codes() {
        let (e, h) = hint_of(classify(200, None, &err("some_new_error")));
        assert_eq!(e, "some_new_error");
        assert!(h.contains("some_new_error"), "{h}");
        let (e, h) = hint_of(classify(200, None, &err("xoxb-123-456-secret")));
        assert_eq!(e, "unrecognised_error");
        assert!(!h.contains("xox"));
        let (e, _) = hint_of(classify(200, None, r#"{"ok":false}"#));
        assert_eq!(e, "unknown_error");
        let (e, _) = hint_of(classify(404, None, &err("unknown_method")));
        assert_eq!(e, "unknown_method");
    }

    /// Pieces of Slack-like answers, some carrying token-looking strings.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            prop::sample::select(vec![
                "xoxb-1111-2222-abcd",
                "xoxp-9",
                "XOXB-UP",
                "missing_scope",
                "chat:write",
                "ratelimited",
                "not_in_channel",
                "invalid_auth",
                "token_revoked",
            ])
            .prop_map(str::to_owned),
        ]
    }

    fn body() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            (any::<bool>(), piece(), piece(), piece(), piece()).prop_map(
                |(ok, error, needed, ts, channel)| {
                    serde_json::json!({
                        "ok": ok, "error": error, "needed": needed, "provided": "xoxb-x",
                        "ts": ts, "channel": channel,
                    })
                    .to_string()
                }
            ),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn never_panics_and_never_echoes_a_token(
            status in prop_oneof![Just(200u16), Just(429), Just(500), Just(404), 100u16..600],
            retry_after in proptest::option::of(piece()),
            body in body(),
        ) {
            match classify(status, retry_after.as_deref(), &body) {
                Outcome::Fail { error, operator_hint } => {
                    prop_assert!(!operator_hint.to_ascii_lowercase().contains("xox"), "{}", operator_hint);
                    prop_assert!(!error.to_ascii_lowercase().contains("xox"), "{}", error);
                    prop_assert!(!operator_hint.contains('\n'));
                }
                Outcome::RetryAfter(d) => prop_assert!(d <= MAX_RETRY_AFTER),
                Outcome::Ok { .. } | Outcome::Retry => {}
            }
        }
    }
}
