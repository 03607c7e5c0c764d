//! The workspace the Slack Web API stand-in serves: tokens, channels and every message posted
//! (parents, thread replies, and each message's edit history), and the methods over it (the
//! two of a file upload are [`files`](super::files)'s).
//!
//! Response and error shapes follow Slack's method pages:
//! - `auth.test`: <https://docs.slack.dev/reference/methods/auth.test>
//!   (`{ok, url, team, user, team_id, user_id}` plus `bot_id` for a bot token);
//! - `conversations.info`: <https://docs.slack.dev/reference/methods/conversations.info>
//!   (`{ok, channel: {id, name, is_channel, is_private, is_archived, is_member, ...}}`; the
//!   argument is a conversation *ID*; scopes `channels:read` / `groups:read`);
//! - `chat.postMessage`: <https://docs.slack.dev/reference/methods/chat.postMessage>
//!   (`{ok, channel, ts, message}`; `channel` may be an ID or a name; `thread_ts` makes a reply —
//!   "avoid using a reply's ts value; use its parent's value instead"; scope `chat:write`, and
//!   `chat:write.public` to post in a public channel the app is not in; errors
//!   `channel_not_found`, `not_in_channel`, `is_archived`, `no_text`, `invalid_thread_ts`,
//!   `msg_too_long`; `reply_broadcast` with `thread_ts` makes the reply "visible to everyone in
//!   the channel", kept as [`Message::broadcast`]);
//! - `chat.update`: <https://docs.slack.dev/reference/methods/chat.update>
//!   (`{ok, channel, ts, text, message}`; blocks / attachments not sent are retained; errors
//!   `message_not_found`, `cant_update_message` — "Authenticated user does not have permission
//!   to update this message", `channel_not_found`, `is_archived` — "Channel has been archived",
//!   `edit_window_closed` — "The message cannot be edited due to the team message edit
//!   settings" ([`Workspace::edit_window`]), `msg_too_long` — "Message text is too long",
//!   `no_text`);
//! - common errors (every method): `not_authed` (no token), `invalid_auth`, `token_revoked`,
//!   `missing_scope` with `needed` and `provided` in the body.
//!
//! A well-formed `thread_ts` naming no message is accepted by Slack (`ok: true`) but the reply
//! shows nowhere (observed in slackapi/python-slack-sdk#840): kept here as an *orphan* reply,
//! so a test can see that an alert sent that way was effectively lost.

use serde_json::{Map, Value, json};

use super::request::str_arg;

/// A token the workspace knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub token: String,
    /// Who the token acts as (the bot user for a bot token).
    pub user_id: String,
    pub user: String,
    /// `Some` for a bot token (`xoxb-`).
    pub bot_id: Option<String>,
    pub scopes: Vec<String>,
    /// `token_revoked` on every call.
    pub revoked: bool,
}

impl Token {
    /// A bot token with what elb-watch's app needs: `chat:write`, `channels:read`,
    /// `groups:read`, and `files:write` for the alarm's graph.
    pub fn bot(token: &str, bot_name: &str) -> Self {
        let n = bot_name
            .to_ascii_uppercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "");
        Self {
            token: token.to_owned(),
            user_id: format!("U0{n}"),
            user: bot_name.to_owned(),
            bot_id: Some(format!("B0{n}")),
            scopes: ["chat:write", "channels:read", "groups:read", "files:write"]
                .map(String::from)
                .to_vec(),
            revoked: false,
        }
    }

    /// The same token with exactly these scopes.
    pub fn with_scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// A channel: `#name` ↔ `id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub id: String,
    /// Without `#`.
    pub name: String,
    /// Whether the app (every known token) is in the channel.
    pub is_member: bool,
    pub is_private: bool,
    pub is_archived: bool,
}

impl Channel {
    /// A public channel the app is a member of.
    pub fn new(id: &str, name: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: name.trim_start_matches('#').to_owned(),
            is_member: true,
            is_private: false,
            is_archived: false,
        }
    }

    pub fn member(mut self, is_member: bool) -> Self {
        self.is_member = is_member;
        self
    }

    pub fn private(mut self, is_private: bool) -> Self {
        self.is_private = is_private;
        self
    }

    pub fn archived(mut self, is_archived: bool) -> Self {
        self.is_archived = is_archived;
        self
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "is_channel": !self.is_private,
            "is_group": self.is_private,
            "is_im": false,
            "is_mpim": false,
            "is_private": self.is_private,
            "created": 1_654_868_334,
            "is_archived": self.is_archived,
            "is_general": false,
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": false,
            "is_org_shared": false,
            "is_ext_shared": false,
            "is_member": self.is_member,
        })
    }
}

/// What a message says; one per version.
#[derive(Clone, Debug, PartialEq)]
pub struct Content {
    pub text: Option<String>,
    pub blocks: Option<Value>,
    pub attachments: Option<Value>,
}

impl Content {
    /// Text beyond [`TEXT_MAX`] characters.
    fn too_long(&self) -> bool {
        self.text
            .as_deref()
            .is_some_and(|t| t.chars().count() > TEXT_MAX)
    }
}

/// A message as stored: its versions in order (the first as posted, the last as shown now).
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub channel: String,
    pub ts: String,
    /// The parent's `ts` for a thread reply.
    pub thread_ts: Option<String>,
    pub user: String,
    pub bot_id: Option<String>,
    pub versions: Vec<Content>,
    /// `false` for a reply to a `thread_ts` naming no message (shown nowhere).
    pub visible: bool,
    /// A reply posted with `reply_broadcast`: also shown in the channel.
    pub broadcast: bool,
    /// When it was posted (for the workspace's edit window).
    pub posted_at: std::time::Instant,
}

impl Message {
    /// The message as shown now.
    pub fn current(&self) -> &Content {
        self.versions.last().expect("a message has a first version")
    }

    /// The current text ("" when it has none).
    pub fn text(&self) -> &str {
        self.current().text.as_deref().unwrap_or("")
    }

    /// How many times it was updated.
    pub fn edits(&self) -> usize {
        self.versions.len() - 1
    }

    /// The message object Slack returns (`message` in `chat.postMessage` / `chat.update`).
    pub fn to_json(&self, team_id: &str) -> Value {
        let c = self.current();
        let mut m = Map::new();
        m.insert("type".into(), json!("message"));
        m.insert("text".into(), json!(c.text.clone().unwrap_or_default()));
        m.insert("user".into(), json!(self.user));
        if let Some(b) = &self.bot_id {
            m.insert("bot_id".into(), json!(b));
        }
        m.insert("ts".into(), json!(self.ts));
        m.insert("team".into(), json!(team_id));
        if let Some(b) = &c.blocks {
            m.insert("blocks".into(), b.clone());
        }
        if let Some(a) = &c.attachments {
            m.insert("attachments".into(), a.clone());
        }
        if let Some(t) = &self.thread_ts {
            m.insert("thread_ts".into(), json!(t));
            m.insert("parent_user_id".into(), json!(self.user));
        }
        if self.edits() > 0 {
            m.insert("edited".into(), json!({"user": self.user, "ts": self.ts}));
        }
        Value::Object(m)
    }
}

/// A thread: the parent message and its replies in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Thread {
    pub parent: Message,
    pub replies: Vec<Message>,
}

/// One answer: HTTP status, optional `Retry-After` (seconds), JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub retry_after_s: Option<u64>,
    pub body: Value,
}

impl Answer {
    pub fn ok(body: Value) -> Self {
        Self {
            status: 200,
            retry_after_s: None,
            body,
        }
    }

    /// HTTP 200 `{"ok": false, "error": <error>}`: how Slack reports a failed call.
    pub fn error(error: &str) -> Self {
        Self::ok(json!({"ok": false, "error": error}))
    }
}

/// The methods the stand-in serves.
pub const METHODS: [&str; 6] = [
    "auth.test",
    "conversations.info",
    "chat.postMessage",
    "chat.update",
    "files.getUploadURLExternal",
    "files.completeUploadExternal",
];

/// Tokens, channels and messages.
#[derive(Clone, Debug)]
pub struct Workspace {
    pub team: String,
    pub team_id: String,
    /// `https://<domain>.slack.com/`, what `auth.test` answers as `url`.
    pub url: String,
    pub tokens: Vec<Token>,
    pub channels: Vec<Channel>,
    /// Every message in posting order (parents, replies, orphans).
    pub messages: Vec<Message>,
    /// The workspace's message-edit setting: a message older than this cannot be updated
    /// (`edit_window_closed`); `None`, Slack's default, allows edits at any time
    /// (<https://slack.com/help/articles/115004868646>, "Manage permissions for message
    /// editing and deletion": owners and admins choose "any time, never, or up to a certain
    /// timeframe").
    pub edit_window: Option<std::time::Duration>,
    posted: u64,
    /// Files uploaded (files.rs), from their ticket on.
    pub files: Vec<super::files::File>,
    pub(super) uploaded: u64,
    /// Where upload URLs point: `<upload_root><file_id>` (the stand-in's own address).
    pub upload_root: String,
}

/// Longest message `text` Slack takes: chat.postMessage "truncates text containing more than
/// 40,000 characters" and chat.update answers `msg_too_long`
/// (<https://docs.slack.dev/reference/methods/chat.postMessage#truncating>); here both refuse,
/// which is what a client must survive.
pub const TEXT_MAX: usize = 40_000;

/// The bot token of [`Workspace::default`].
pub const DEFAULT_TOKEN: &str = "xoxb-1111111111-2222222222-elbwatchtesttoken";

impl Default for Workspace {
    /// Team "elb-watch test" with one bot token ([`DEFAULT_TOKEN`], bot `elb-watch`) and one
    /// public channel the bot is in: `#alerts` = `C0ALERTS`.
    fn default() -> Self {
        Self::empty()
            .with_token(Token::bot(DEFAULT_TOKEN, "elb-watch"))
            .with_channel(Channel::new("C0ALERTS", "alerts"))
    }
}

impl Workspace {
    /// No tokens, no channels.
    pub fn empty() -> Self {
        Self {
            team: "elb-watch test".into(),
            team_id: "T0ELBWATCH".into(),
            url: "https://elb-watch-test.slack.com/".into(),
            tokens: Vec::new(),
            channels: Vec::new(),
            messages: Vec::new(),
            edit_window: None,
            posted: 0,
            files: Vec::new(),
            uploaded: 0,
            upload_root: "http://127.0.0.1/upload/v1/".into(),
        }
    }

    pub fn with_token(mut self, token: Token) -> Self {
        self.tokens.retain(|t| t.token != token.token);
        self.tokens.push(token);
        self
    }

    pub fn with_channel(mut self, channel: Channel) -> Self {
        self.channels.retain(|c| c.id != channel.id);
        self.channels.push(channel);
        self
    }

    /// A channel by ID, or by name with or without `#`.
    pub fn channel(&self, id_or_name: &str) -> Option<&Channel> {
        let name = id_or_name.trim_start_matches('#');
        self.channels
            .iter()
            .find(|c| c.id == id_or_name)
            .or_else(|| self.channels.iter().find(|c| c.name == name))
    }

    fn channel_by_id(&self, id: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.id == id)
    }

    /// Visible messages of a channel (ID or name), replies included, in posting order.
    pub fn messages_in(&self, channel: &str) -> Vec<Message> {
        let Some(id) = self.channel(channel).map(|c| c.id.clone()) else {
            return Vec::new();
        };
        self.messages
            .iter()
            .filter(|m| m.channel == id && m.visible)
            .cloned()
            .collect()
    }

    /// The thread of the top-level message `ts` in `channel` (ID or name).
    pub fn thread(&self, channel: &str, ts: &str) -> Option<Thread> {
        let id = self.channel(channel)?.id.clone();
        let parent = self
            .messages
            .iter()
            .find(|m| m.channel == id && m.ts == ts && m.thread_ts.is_none())?
            .clone();
        let replies = self
            .messages
            .iter()
            .filter(|m| m.channel == id && m.visible && m.thread_ts.as_deref() == Some(ts))
            .cloned()
            .collect();
        Some(Thread { parent, replies })
    }

    /// Deletes the message `ts` of `channel` (ID or name), as a user deleting it in Slack
    /// would: it is gone for `chat.update` (`message_not_found`) and a reply naming it as
    /// `thread_ts` shows nowhere (an orphan). Its replies stay. `false` when there is no such
    /// visible message.
    pub fn delete_message(&mut self, channel: &str, ts: &str) -> bool {
        let Some(id) = self.channel(channel).map(|c| c.id.clone()) else {
            return false;
        };
        let before = self.messages.len();
        self.messages
            .retain(|m| !(m.channel == id && m.ts == ts && m.visible));
        self.messages.len() < before
    }

    /// Serves one call of `method` (one of [`METHODS`]) with the caller's token and arguments.
    pub fn call(&mut self, method: &str, token: Option<&str>, args: &Map<String, Value>) -> Answer {
        // Common errors: https://docs.slack.dev/reference/methods/chat.postMessage#errors
        let Some(token) = token else {
            return Answer::error("not_authed");
        };
        let Some(tok) = self.tokens.iter().find(|t| t.token == token).cloned() else {
            return Answer::error("invalid_auth");
        };
        if tok.revoked {
            return Answer::error("token_revoked");
        }
        match method {
            "auth.test" => self.auth_test(&tok),
            "conversations.info" => self.conversations_info(&tok, args),
            "chat.postMessage" => self.post_message(&tok, args),
            "chat.update" => self.update(&tok, args),
            "files.getUploadURLExternal" => {
                let root = self.upload_root.clone();
                self.get_upload_url(&tok, args, &root)
            }
            "files.completeUploadExternal" => self.complete_upload(&tok, args),
            _ => Answer::error("unknown_method"),
        }
    }

    fn auth_test(&self, tok: &Token) -> Answer {
        let mut body = json!({
            "ok": true,
            "url": self.url,
            "team": self.team,
            "user": tok.user,
            "team_id": self.team_id,
            "user_id": tok.user_id,
        });
        if let Some(b) = &tok.bot_id {
            body["bot_id"] = json!(b);
        }
        Answer::ok(body)
    }

    fn conversations_info(&self, tok: &Token, args: &Map<String, Value>) -> Answer {
        let Some(ch) = str_arg(args, "channel").and_then(|c| self.channel_by_id(c)) else {
            return Answer::error("channel_not_found");
        };
        let needed = if ch.is_private {
            "groups:read"
        } else {
            "channels:read"
        };
        if !tok.has(needed) {
            return missing_scope(tok, needed);
        }
        // A private channel the app is not in does not exist for it.
        if ch.is_private && !ch.is_member {
            return Answer::error("channel_not_found");
        }
        Answer::ok(json!({"ok": true, "channel": ch.to_json()}))
    }

    fn post_message(&mut self, tok: &Token, args: &Map<String, Value>) -> Answer {
        if !tok.has("chat:write") {
            return missing_scope(tok, "chat:write");
        }
        let Some(ch) = str_arg(args, "channel")
            .and_then(|c| self.channel(c))
            .cloned()
        else {
            return Answer::error("channel_not_found");
        };
        if ch.is_private && !ch.is_member {
            return Answer::error("channel_not_found");
        }
        if ch.is_archived {
            return Answer::error("is_archived");
        }
        if !ch.is_member && !tok.has("chat:write.public") {
            return Answer::error("not_in_channel");
        }
        let Some(content) = content(args, None) else {
            return Answer::error("no_text");
        };
        if content.too_long() {
            return Answer::error("msg_too_long");
        }
        let (thread_ts, visible) = match str_arg(args, "thread_ts") {
            None => (None, true),
            Some(t) if !is_ts(t) => return Answer::error("invalid_thread_ts"),
            Some(t) => match self
                .messages
                .iter()
                .find(|m| m.channel == ch.id && m.ts == t)
            {
                // A reply's ts threads under its parent.
                Some(m) => (
                    Some(m.thread_ts.clone().unwrap_or_else(|| m.ts.clone())),
                    true,
                ),
                None => (Some(t.to_owned()), false),
            },
        };
        self.posted += 1;
        let broadcast = thread_ts.is_some() && args.get("reply_broadcast") == Some(&json!(true));
        let message = Message {
            channel: ch.id.clone(),
            ts: ts_of(self.posted),
            thread_ts,
            user: tok.user_id.clone(),
            bot_id: tok.bot_id.clone(),
            versions: vec![content],
            visible,
            broadcast,
            posted_at: std::time::Instant::now(),
        };
        let body = json!({
            "ok": true,
            "channel": ch.id,
            "ts": message.ts,
            "message": message.to_json(&self.team_id),
        });
        self.messages.push(message);
        Answer::ok(body)
    }

    fn update(&mut self, tok: &Token, args: &Map<String, Value>) -> Answer {
        if !tok.has("chat:write") {
            return missing_scope(tok, "chat:write");
        }
        let Some(ch) = str_arg(args, "channel")
            .and_then(|c| self.channel_by_id(c))
            .cloned()
        else {
            return Answer::error("channel_not_found");
        };
        let ts = str_arg(args, "ts").unwrap_or("");
        let Some(i) = self
            .messages
            .iter()
            .position(|m| m.channel == ch.id && m.ts == ts && m.visible)
        else {
            return Answer::error("message_not_found");
        };
        if self.messages[i].user != tok.user_id {
            return Answer::error("cant_update_message");
        }
        if ch.is_archived {
            return Answer::error("is_archived");
        }
        if self
            .edit_window
            .is_some_and(|w| self.messages[i].posted_at.elapsed() > w)
        {
            return Answer::error("edit_window_closed");
        }
        let Some(content) = content(args, Some(self.messages[i].current())) else {
            return Answer::error("no_text");
        };
        if content.too_long() {
            return Answer::error("msg_too_long");
        }
        let m = &mut self.messages[i];
        m.versions.push(content);
        let text = m.text().to_owned();
        Answer::ok(json!({
            "ok": true,
            "channel": ch.id,
            "ts": m.ts,
            "text": text,
            "message": m.to_json(&self.team_id),
        }))
    }
}

/// `missing_scope` as Slack sends it: the scope `needed` and the token's scopes (`provided`).
fn missing_scope(tok: &Token, needed: &str) -> Answer {
    Answer::ok(json!({
        "ok": false,
        "error": "missing_scope",
        "needed": needed,
        "provided": tok.scopes.join(","),
    }))
}

/// The message content of a post or an update; `None` when it has no text, blocks or
/// attachments (`no_text`). An update keeps the blocks / attachments it does not send.
fn content(args: &Map<String, Value>, previous: Option<&Content>) -> Option<Content> {
    let text = str_arg(args, "text").map(str::to_owned);
    let blocks = args.get("blocks").filter(|v| !v.is_null()).cloned();
    let attachments = args.get("attachments").filter(|v| !v.is_null()).cloned();
    if text.is_none() && blocks.is_none() && attachments.is_none() {
        return None;
    }
    Some(Content {
        text: text.or_else(|| previous.and_then(|p| p.text.clone())),
        blocks: blocks.or_else(|| previous.and_then(|p| p.blocks.clone())),
        attachments: attachments.or_else(|| previous.and_then(|p| p.attachments.clone())),
    })
}

/// The `ts` of the n-th message (n ≥ 1): "1700000000.000100", "1700000000.000200"...
/// unique and increasing, shaped like Slack's.
fn ts_of(n: u64) -> String {
    let micros = n * 100;
    format!(
        "{}.{:06}",
        1_700_000_000 + micros / 1_000_000,
        micros % 1_000_000
    )
}

/// Shaped like a Slack `ts`: digits, a dot, digits.
fn is_ts(s: &str) -> bool {
    s.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty() && !b.is_empty() && (a.chars().chain(b.chars())).all(|c| c.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_shape() {
        assert_eq!(ts_of(1), "1700000000.000100");
        assert_eq!(ts_of(10_000), "1700000001.000000");
        assert!(is_ts(&ts_of(3)));
        assert!(!is_ts("0") && !is_ts("1.") && !is_ts("a.1"));
    }

    #[test]
    fn update_keeps_blocks_it_does_not_send() {
        let prev = Content {
            text: Some("a".into()),
            blocks: Some(json!([1])),
            attachments: None,
        };
        let mut args = Map::new();
        args.insert("text".into(), json!("b"));
        let c = content(&args, Some(&prev)).unwrap();
        assert_eq!(c.text.as_deref(), Some("b"));
        assert_eq!(c.blocks, Some(json!([1])));
        assert_eq!(content(&Map::new(), Some(&prev)), None);
    }

    fn args(pairs: &[(&str, Value)]) -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn updates_are_refused_as_slack_documents() {
        let mut ws = Workspace::default();
        let post = |ws: &mut Workspace, extra: &[(&str, Value)]| {
            let mut a = args(&[("channel", json!("C0ALERTS")), ("text", json!("x"))]);
            a.extend(args(extra));
            ws.call("chat.postMessage", Some(DEFAULT_TOKEN), &a)
        };
        let ts = post(&mut ws, &[]).body["ts"].as_str().unwrap().to_owned();
        let update = |ws: &mut Workspace, text: String| {
            let a = args(&[
                ("channel", json!("C0ALERTS")),
                ("ts", json!(ts)),
                ("text", json!(text)),
            ]);
            ws.call("chat.update", Some(DEFAULT_TOKEN), &a).body["error"].clone()
        };
        assert_eq!(update(&mut ws, "y".repeat(TEXT_MAX + 1)), "msg_too_long");
        assert_eq!(update(&mut ws, "y".repeat(TEXT_MAX)), Value::Null);
        ws.edit_window = Some(std::time::Duration::ZERO);
        assert_eq!(update(&mut ws, "z".into()), "edit_window_closed");
        ws.edit_window = None;
        ws.channels[0].is_archived = true;
        assert_eq!(update(&mut ws, "z".into()), "is_archived");
        assert_eq!(post(&mut ws, &[]).body["error"], "is_archived");
        ws.channels[0].is_archived = false;
        // reply_broadcast counts on a reply only.
        let r = post(
            &mut ws,
            &[("thread_ts", json!(ts)), ("reply_broadcast", json!(true))],
        );
        assert_eq!(r.body["ok"], true);
        let top = post(&mut ws, &[("reply_broadcast", json!(true))]);
        assert_eq!(top.body["ok"], true);
        let n = ws.messages.len();
        assert!(ws.messages[n - 2].broadcast);
        assert!(!ws.messages[n - 1].broadcast);
    }
}
