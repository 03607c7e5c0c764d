//! Slack app mode as `status` sees it: does the notifier's bot token work (`auth.test`), and
//! can it post to its channel (`conversations.info`)? Two reads of Slack's Web API with the
//! decrypted token (never printed), and a pure reading of their answers.
//!
//! - `auth.test` needs no scope and answers `ok: false` with `invalid_auth`, `token_revoked`,
//!   `account_inactive`, … for a token that cannot post
//!   (<https://docs.slack.dev/reference/methods/auth.test>).
//! - `conversations.info` needs `channels:read` (`groups:read` for a private channel), which
//!   the notifier itself does not: without it the channel is reported as not checked, which is
//!   not a problem. It answers `channel_not_found` for a channel that does not exist or a
//!   private one the app is not in, and `is_member` for a public one
//!   (<https://docs.slack.dev/reference/methods/conversations.info>): a public channel the app
//!   is not in refuses chat.postMessage with `not_in_channel` (unless the app has
//!   `chat:write.public`).
//!
//! Errors are answered as HTTP 200 with `ok: false` (<https://docs.slack.dev/apis/web-api>,
//! "Evaluating responses").

use crate::secret::Secret;
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

/// What `status` knows of app mode's token and channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlackAppStatus {
    /// The Slack workspace (team) the token belongs to, if `auth.test` said.
    pub team: Option<String>,
    /// The bot user the token posts as.
    pub bot: Option<String>,
    /// The channel ID the notifier posts to.
    pub channel: Option<String>,
    /// The channel's name, if `conversations.info` could be read.
    pub channel_name: Option<String>,
    /// `true`: the token works and the channel takes its posts; `false`: see `problem`.
    pub ok: bool,
    /// What to fix (never the token).
    pub problem: Option<String>,
    /// Remarks that are not problems (e.g. the channel could not be checked).
    pub notes: Vec<String>,
}

impl SlackAppStatus {
    pub fn describe(&self) -> String {
        let who = match (&self.bot, &self.team) {
            (Some(b), Some(t)) => format!("bot {b} in {t}"),
            _ => "bot token".to_string(),
        };
        let channel = match (&self.channel_name, &self.channel) {
            (Some(n), Some(id)) => format!("#{n} ({id})"),
            (None, Some(id)) => id.clone(),
            _ => "no channel".to_string(),
        };
        match &self.problem {
            None => format!("{who} posts to {channel}"),
            Some(p) => format!("{who}, {channel}: {p}"),
        }
    }
}

/// What to do about an error code `auth.test` or `conversations.info` answered.
fn fix(code: &str) -> String {
    const REINSTALL: &str = "reinstall the Slack app and run `elb-watch up` with its new Bot \
                             User OAuth Token (--slack-token-file)";
    match code {
        "invalid_auth" | "not_authed" => format!("the bot token is not valid: {REINSTALL}"),
        "token_revoked" | "token_expired" => {
            format!("the bot token was revoked or expired: {REINSTALL}")
        }
        "account_inactive" => format!("the app or workspace was deactivated: {REINSTALL}"),
        "channel_not_found" => "the channel does not exist, or is private and the app is not in \
                                it: check --slack-channel (a channel ID) and invite the app \
                                (/invite @app)"
            .to_string(),
        other => format!("Slack answered {other}"),
    }
}

/// Only Slack-shaped codes are repeated (never anything that could carry a token).
fn code_of(answer: &Value) -> String {
    let code = answer["error"].as_str().unwrap_or("unknown_error");
    let slack_shaped = (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !code.contains("xox");
    if slack_shaped {
        code.to_string()
    } else {
        "unrecognised_error".to_string()
    }
}

/// Reads the two answers (`None`: the call could not be made, with why). Pure.
pub fn assess(
    channel: Option<&str>,
    auth: Result<Value, String>,
    info: Option<Result<Value, String>>,
) -> SlackAppStatus {
    let mut s = SlackAppStatus {
        team: None,
        bot: None,
        channel: channel.map(String::from),
        channel_name: None,
        ok: false,
        problem: None,
        notes: Vec::new(),
    };
    let auth = match auth {
        Err(why) => {
            s.problem = Some(format!("Slack could not be reached: {why}"));
            return s;
        }
        Ok(a) => a,
    };
    if auth["ok"].as_bool() != Some(true) {
        s.problem = Some(fix(&code_of(&auth)));
        return s;
    }
    s.team = auth["team"].as_str().map(String::from);
    s.bot = auth["user"].as_str().map(String::from);
    if let Some(scopes) = auth[SCOPES_FIELD].as_str()
        && !scopes.split(',').any(|x| x.trim() == GRAPH_SCOPE)
    {
        // Not a problem: the alert is posted, only without its graph.
        s.notes.push(format!(
            "the app lacks {GRAPH_SCOPE}: alerts are posted without the alarm's graph in their \
             thread (add the scope to the app and reinstall it)"
        ));
    }
    if channel.is_none() {
        s.problem = Some("no channel is configured: run `elb-watch up --slack-channel`".into());
        return s;
    }
    match info {
        None => {}
        Some(Err(why)) => s.notes.push(format!(
            "channel not checked: Slack could not be reached ({why})"
        )),
        Some(Ok(info)) if info["ok"].as_bool() == Some(true) => {
            let c = &info["channel"];
            s.channel_name = c["name"].as_str().map(String::from);
            if c["is_archived"].as_bool() == Some(true) {
                s.problem = Some(
                    "the channel is archived: unarchive it or choose another --slack-channel"
                        .into(),
                );
                return s;
            }
            if c["is_member"].as_bool() == Some(false) {
                s.problem = Some(
                    "the app is not in the channel: invite it (/invite @app in the channel), or \
                     give it the chat:write.public scope"
                        .into(),
                );
                return s;
            }
        }
        Some(Ok(info)) if code_of(&info) == "missing_scope" => s.notes.push(
            "channel not checked: the app lacks channels:read (groups:read for a private \
             channel), which only this check needs"
                .into(),
        ),
        Some(Ok(info)) => {
            s.problem = Some(fix(&code_of(&info)));
            return s;
        }
    }
    s.ok = true;
    s
}

/// One Web API call: POST JSON with the token as a Bearer header
/// (<https://docs.slack.dev/apis/web-api>, "Basics"). The error never holds the token or URL.
async fn call(
    http: &reqwest::Client,
    api_root: &str,
    token: &Secret,
    method: &str,
    args: Value,
) -> Result<Value, String> {
    let url = format!("{}/{method}", api_root.trim_end_matches('/'));
    let answer = http
        .post(url)
        .bearer_auth(token.expose())
        .json(&args)
        .send()
        .await
        .map_err(|e| describe(&e.without_url()))?;
    let status = answer.status();
    if status.as_u16() == 429 {
        return Err("rate limited (HTTP 429); try again shortly".into());
    }
    // The token's scopes, which Slack lists on every Web API answer ("Checking scopes":
    // <https://docs.slack.dev/authentication/tokens#scopes>, header `x-oauth-scopes`).
    let scopes = answer
        .headers()
        .get("x-oauth-scopes")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut body = answer
        .json::<Value>()
        .await
        .map_err(|_| format!("HTTP {status} without a JSON answer: check the Slack API URL"))?;
    if let (Some(scopes), Some(obj)) = (scopes, body.as_object_mut()) {
        obj.insert(SCOPES_FIELD.into(), Value::String(scopes));
    }
    Ok(body)
}

/// Where [`call`] keeps the answer's `x-oauth-scopes` header in the JSON it returns.
const SCOPES_FIELD: &str = "x-oauth-scopes";

/// The scope the alarm's graph needs in the thread (`files.getUploadURLExternal`,
/// `files.completeUploadExternal`: <https://docs.slack.dev/reference/methods/files.getUploadURLExternal>).
pub const GRAPH_SCOPE: &str = "files:write";

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        "request failed".into()
    }
}

/// `auth.test`, then `conversations.info` of `channel`, as the notifier's token.
pub async fn check(api_root: &str, token: &Secret, channel: Option<&str>) -> SlackAppStatus {
    crate::aws::http::install_crypto_provider();
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("elb-watch/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(h) => h,
        Err(e) => return assess(channel, Err(describe(&e)), None),
    };
    let auth = call(&http, api_root, token, "auth.test", json!({})).await;
    let info = match (&auth, channel) {
        (Ok(a), Some(c)) if a["ok"].as_bool() == Some(true) => Some(
            call(
                &http,
                api_root,
                token,
                "conversations.info",
                json!({ "channel": c }),
            )
            .await,
        ),
        _ => None,
    };
    assess(channel, auth, info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth_ok() -> Result<Value, String> {
        Ok(json!({"ok": true, "team": "Acme", "user": "elb-watch", "team_id": "T1"}))
    }

    fn channel(is_member: bool) -> Option<Result<Value, String>> {
        Some(Ok(json!({"ok": true, "channel": {
            "id": "C0ALERTS", "name": "alerts", "is_member": is_member, "is_archived": false
        }})))
    }

    #[test]
    fn a_working_token_and_a_channel_the_app_is_in() {
        let s = assess(Some("C0ALERTS"), auth_ok(), channel(true));
        assert!(s.ok, "{s:?}");
        assert_eq!(
            s.describe(),
            "bot elb-watch in Acme posts to #alerts (C0ALERTS)"
        );
    }

    #[test]
    fn token_errors_say_to_reinstall_and_never_echo_odd_codes() {
        for (code, says) in [
            ("invalid_auth", "not valid"),
            ("token_revoked", "revoked"),
            ("account_inactive", "deactivated"),
        ] {
            let s = assess(
                Some("C0ALERTS"),
                Ok(json!({"ok": false, "error": code})),
                None,
            );
            assert!(!s.ok);
            let p = s.problem.unwrap();
            assert!(p.contains(says) && p.contains("--slack-token-file"), "{p}");
        }
        let s = assess(
            Some("C1"),
            Ok(json!({"ok": false, "error": "xoxb-123-secret"})),
            None,
        );
        assert!(!s.problem.unwrap().contains("xox"));
    }

    #[test]
    fn a_token_without_files_write_is_noted_not_a_problem() {
        let auth = |scopes: &str| {
            Ok(json!({"ok": true, "team": "Acme", "user": "elb-watch", SCOPES_FIELD: scopes}))
        };
        let s = assess(
            Some("C0ALERTS"),
            auth("chat:write,channels:read"),
            channel(true),
        );
        assert!(s.ok, "{s:?}");
        assert!(s.notes.iter().any(|n| n.contains("files:write")), "{s:?}");
        let with = assess(
            Some("C0ALERTS"),
            auth("chat:write, files:write"),
            channel(true),
        );
        assert!(with.notes.is_empty(), "{with:?}");
        // Scopes unknown (no header): nothing said.
        assert!(
            assess(Some("C0ALERTS"), auth_ok(), channel(true))
                .notes
                .is_empty()
        );
    }

    #[test]
    fn channel_problems_are_problems_a_missing_scope_is_not() {
        let s = assess(Some("C0ALERTS"), auth_ok(), channel(false));
        assert!(!s.ok);
        assert!(s.problem.unwrap().contains("/invite"));
        let s = assess(
            Some("C0GONE"),
            auth_ok(),
            Some(Ok(json!({"ok": false, "error": "channel_not_found"}))),
        );
        assert!(!s.ok);
        assert!(s.problem.unwrap().contains("--slack-channel"));
        let s = assess(
            Some("C0ALERTS"),
            auth_ok(),
            Some(Ok(
                json!({"ok": false, "error": "missing_scope", "needed": "channels:read"}),
            )),
        );
        assert!(s.ok, "{s:?}");
        assert!(s.notes[0].contains("channels:read"));
    }

    #[test]
    fn unreachable_slack_is_a_problem() {
        let s = assess(Some("C1"), Err("connection failed".into()), None);
        assert!(!s.ok);
        assert!(s.problem.unwrap().contains("could not be reached"));
    }
}
