//! File uploads of the Slack Web API stand-in, Slack's current flow (`files.upload` is retired:
//! <https://docs.slack.dev/changelog/2024-04-a-better-way-to-upload-files-is-here-to-stay>):
//!
//! 1. `files.getUploadURLExternal` (<https://docs.slack.dev/reference/methods/files.getUploadURLExternal>):
//!    `filename` and `length` (bytes, an integer) required, `alt_txt` optional ("Description of
//!    image for screen-reader", at most 1,000 characters: `alt_txt_too_large`); scope
//!    `files:write`; answers `{ok, upload_url, file_id}`. A `length` of 0 is `missing_argument`
//!    ("Typically only occurs when the length provided is 0"); a missing or non-integer one, or
//!    no `filename`, `invalid_arguments`.
//! 2. The bytes POSTed to `upload_url` — here `http://<stand-in>/upload/v1/<file_id>` —, raw or
//!    as a multipart form; HTTP 200 `OK - <length>`. The stand-in keeps them
//!    ([`File::bytes`]); a URL naming no ticket answers 404, bytes of another length than
//!    declared 400 (Slack's own answer to that is not documented; refusing it here catches a
//!    client that declares one length and sends another).
//! 3. `files.completeUploadExternal` (<https://docs.slack.dev/reference/methods/files.completeUploadExternal>):
//!    `files` (array of `{id, title}`) required, `channel_id` and `thread_ts` optional ("Provide
//!    another message's ts value to upload this file as a reply. Never use a reply's ts value;
//!    use its parent instead"); scope `files:write`; "This method can only be called once";
//!    answers `{ok, files: [{id, title, …}]}`. Errors from its page: `invalid_arguments`
//!    (`files` missing or not an array of objects with an `id`, `thread_ts` without a
//!    `channel_id`), `file_not_found` ("Could not find the file from the upload ticket": an
//!    unknown id, bytes never uploaded, or completed already), `channel_not_found`,
//!    `not_in_channel` ("User/bot membership is required for the specified channel"),
//!    `invalid_channel` (an archived channel, "channel specified is invalid").
//!
//! A file shared with `channel_id` and `thread_ts` is in that thread: [`File::shares`] says
//! where, as Slack shows it under the thread (the thread's replies, [`Thread`](super::Thread),
//! keep the messages only).

use serde_json::{Map, Value, json};

use super::request::str_arg;
use super::workspace::{Answer, Token, Workspace};

/// Where a file was shared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    pub channel: String,
    /// The thread's parent `ts` (a reply's `ts` given is resolved to its parent's).
    pub thread_ts: Option<String>,
    /// `false` when `thread_ts` named no message: accepted, shown nowhere (as replies are).
    pub visible: bool,
}

/// A file, from its ticket (`files.getUploadURLExternal`) on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub id: String,
    pub filename: String,
    /// The length declared for the upload.
    pub length: usize,
    pub alt_txt: Option<String>,
    /// Given at completion.
    pub title: Option<String>,
    /// The bytes POSTed to the upload URL.
    pub bytes: Option<Vec<u8>>,
    /// `files.completeUploadExternal` was called for it.
    pub completed: bool,
    pub shares: Vec<Share>,
    /// The user the uploading token acts as.
    pub user: String,
    /// The `files.completeUploadExternal` arguments it was completed with.
    pub completion: Option<Map<String, Value>>,
}

/// The PNG signature, for [`File::is_png`].
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

impl File {
    /// Whether the uploaded bytes start with the PNG signature.
    pub fn is_png(&self) -> bool {
        self.bytes
            .as_deref()
            .is_some_and(|b| b.starts_with(&PNG_SIGNATURE))
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "title": self.title.clone().unwrap_or_else(|| self.filename.clone()),
            "name": self.filename,
            "size": self.bytes.as_ref().map_or(self.length, Vec::len),
            "mimetype": if self.is_png() { "image/png" } else { "application/octet-stream" },
            "filetype": if self.is_png() { "png" } else { "binary" },
            "user": self.user,
            "alt_txt": self.alt_txt,
            "is_external": false,
        })
    }
}

/// Longest `alt_txt` taken.
pub const ALT_TXT_MAX: usize = 1000;

fn missing_files_write(tok: &Token) -> Option<Answer> {
    (!tok.scopes.iter().any(|s| s == "files:write")).then(|| {
        Answer::ok(json!({
            "ok": false,
            "error": "missing_scope",
            "needed": "files:write",
            "provided": tok.scopes.join(","),
        }))
    })
}

/// A JSON integer, or a string of digits (form bodies).
fn integer(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl Workspace {
    /// `files.getUploadURLExternal`; `upload_url` is `<upload_root><file_id>`.
    pub(super) fn get_upload_url(
        &mut self,
        tok: &Token,
        args: &Map<String, Value>,
        upload_root: &str,
    ) -> Answer {
        if let Some(refused) = missing_files_write(tok) {
            return refused;
        }
        let (Some(filename), Some(length)) =
            (str_arg(args, "filename"), integer(args.get("length")))
        else {
            return Answer::error("invalid_arguments");
        };
        if length == 0 {
            return Answer::error("missing_argument");
        }
        let alt_txt = str_arg(args, "alt_txt").map(str::to_owned);
        if alt_txt
            .as_deref()
            .is_some_and(|a| a.chars().count() > ALT_TXT_MAX)
        {
            return Answer::error("alt_txt_too_large");
        }
        self.uploaded += 1;
        let id = format!("F0{:09}", self.uploaded);
        self.files.push(File {
            id: id.clone(),
            filename: filename.to_owned(),
            length: length as usize,
            alt_txt,
            title: None,
            bytes: None,
            completed: false,
            shares: Vec::new(),
            user: tok.user_id.clone(),
            completion: None,
        });
        Answer::ok(json!({"ok": true, "upload_url": format!("{upload_root}{id}"), "file_id": id}))
    }

    /// The bytes POSTed to a file's upload URL: the HTTP status and body to answer.
    pub fn receive_upload(&mut self, file_id: &str, bytes: &[u8]) -> (u16, String) {
        let Some(file) = self
            .files
            .iter_mut()
            .find(|f| f.id == file_id && !f.completed)
        else {
            return (404, "upload ticket not found".into());
        };
        if bytes.len() != file.length {
            return (
                400,
                format!(
                    "{} bytes received, {} declared to files.getUploadURLExternal",
                    bytes.len(),
                    file.length
                ),
            );
        }
        file.bytes = Some(bytes.to_vec());
        (200, format!("OK - {}", bytes.len()))
    }

    /// `files.completeUploadExternal`.
    pub(super) fn complete_upload(&mut self, tok: &Token, args: &Map<String, Value>) -> Answer {
        if let Some(refused) = missing_files_write(tok) {
            return refused;
        }
        // A form body carries `files` as a JSON string.
        let files = match args.get("files") {
            Some(Value::String(s)) => serde_json::from_str::<Value>(s).ok(),
            other => other.cloned(),
        };
        let Some(wanted) = files
            .as_ref()
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .and_then(|a| {
                a.iter()
                    .map(|f| {
                        let id = f.get("id")?.as_str()?.to_owned();
                        let title = f.get("title").and_then(Value::as_str).map(str::to_owned);
                        Some((id, title))
                    })
                    .collect::<Option<Vec<_>>>()
            })
        else {
            return Answer::error("invalid_arguments");
        };
        let channel = str_arg(args, "channel_id");
        let thread_ts = str_arg(args, "thread_ts");
        if thread_ts.is_some() && channel.is_none() {
            return Answer::error("invalid_arguments");
        }
        let share = match channel {
            None => None,
            Some(c) => {
                let Some(ch) = self.channels.iter().find(|ch| ch.id == c).cloned() else {
                    return Answer::error("channel_not_found");
                };
                if ch.is_private && !ch.is_member {
                    return Answer::error("channel_not_found");
                }
                if ch.is_archived {
                    return Answer::error("invalid_channel");
                }
                if !ch.is_member {
                    return Answer::error("not_in_channel");
                }
                let (thread_ts, visible) = match thread_ts {
                    None => (None, true),
                    Some(t) => match self
                        .messages
                        .iter()
                        .find(|m| m.channel == ch.id && m.ts == t)
                    {
                        Some(m) => (
                            Some(m.thread_ts.clone().unwrap_or_else(|| m.ts.clone())),
                            m.visible,
                        ),
                        None => (Some(t.to_owned()), false),
                    },
                };
                Some(Share {
                    channel: ch.id,
                    thread_ts,
                    visible,
                })
            }
        };
        let ready = |id: &str| {
            self.files
                .iter()
                .any(|f| f.id == id && f.bytes.is_some() && !f.completed)
        };
        if wanted.iter().any(|(id, _)| !ready(id)) {
            return Answer::error("file_not_found");
        }
        let mut out = Vec::with_capacity(wanted.len());
        for (id, title) in wanted {
            let file = self
                .files
                .iter_mut()
                .find(|f| f.id == id)
                .expect("checked above");
            file.completed = true;
            file.title = title;
            file.completion = Some(args.clone());
            file.shares.extend(share.clone());
            out.push(file.to_json());
        }
        Answer::ok(json!({"ok": true, "files": out}))
    }

    /// The files shared in `channel` (ID) in the thread of `thread_ts`, in upload order.
    pub fn files_in_thread(&self, channel: &str, thread_ts: &str) -> Vec<File> {
        self.files
            .iter()
            .filter(|f| {
                f.shares.iter().any(|s| {
                    s.visible && s.channel == channel && s.thread_ts.as_deref() == Some(thread_ts)
                })
            })
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slack_api::workspace::DEFAULT_TOKEN;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_three_steps_put_a_png_in_a_thread() {
        let mut ws = Workspace::default();
        let parent = ws.call(
            "chat.postMessage",
            Some(DEFAULT_TOKEN),
            &args(json!({"channel": "C0ALERTS", "text": "ALARM"})),
        );
        let ts = parent.body["ts"].as_str().unwrap().to_owned();
        let png = [&PNG_SIGNATURE[..], b"rest"].concat();
        let ticket = ws.call(
            "files.getUploadURLExternal",
            Some(DEFAULT_TOKEN),
            &args(json!({"filename": "g.png", "length": png.len(), "alt_txt": "a graph"})),
        );
        assert_eq!(ticket.body["ok"], true, "{:?}", ticket.body);
        let id = ticket.body["file_id"].as_str().unwrap().to_owned();
        assert!(ticket.body["upload_url"].as_str().unwrap().ends_with(&id));
        assert_eq!(ws.receive_upload(&id, b"short").0, 400);
        assert_eq!(ws.receive_upload("F0NOPE", &png).0, 404);
        assert_eq!(ws.receive_upload(&id, &png).0, 200);
        let complete = |ws: &mut Workspace, extra: Value| {
            let mut a =
                args(json!({"files": [{"id": id, "title": "graph"}], "channel_id": "C0ALERTS"}));
            a.extend(args(extra));
            ws.call("files.completeUploadExternal", Some(DEFAULT_TOKEN), &a)
        };
        assert_eq!(complete(&mut ws, json!({"thread_ts": ts})).body["ok"], true);
        let files = ws.files_in_thread("C0ALERTS", &ts);
        assert_eq!(files.len(), 1);
        assert!(files[0].is_png());
        assert_eq!(files[0].alt_txt.as_deref(), Some("a graph"));
        assert_eq!(files[0].title.as_deref(), Some("graph"));
        // Only once.
        assert_eq!(complete(&mut ws, json!({})).body["error"], "file_not_found");
    }

    #[test]
    fn refusals_are_the_documented_ones() {
        let mut ws = Workspace::default();
        let call = |ws: &mut Workspace, method: &str, a: Value| {
            ws.call(method, Some(DEFAULT_TOKEN), &args(a)).body["error"].clone()
        };
        let get = "files.getUploadURLExternal";
        let done = "files.completeUploadExternal";
        assert_eq!(
            call(&mut ws, get, json!({"filename": "g.png"})),
            "invalid_arguments"
        );
        assert_eq!(
            call(&mut ws, get, json!({"filename": "g.png", "length": 0})),
            "missing_argument"
        );
        assert_eq!(
            call(
                &mut ws,
                get,
                json!({"filename": "g", "length": 3, "alt_txt": "x".repeat(1001)})
            ),
            "alt_txt_too_large"
        );
        assert_eq!(
            call(&mut ws, done, json!({"files": "nope"})),
            "invalid_arguments"
        );
        assert_eq!(
            call(
                &mut ws,
                done,
                json!({"files": [{"id": "F1"}], "thread_ts": "1.2"})
            ),
            "invalid_arguments"
        );
        assert_eq!(
            call(&mut ws, done, json!({"files": [{"id": "F1"}]})),
            "file_not_found"
        );
        let ticket = ws.call(
            get,
            Some(DEFAULT_TOKEN),
            &args(json!({"filename": "g", "length": 1})),
        );
        let id = ticket.body["file_id"].as_str().unwrap().to_owned();
        assert_eq!(
            call(&mut ws, done, json!({"files": [{"id": id}]})),
            "file_not_found",
            "no bytes uploaded"
        );
        ws.receive_upload(&id, b"x");
        let f = json!([{"id": id}]);
        assert_eq!(
            call(&mut ws, done, json!({"files": f, "channel_id": "C0GONE"})),
            "channel_not_found"
        );
        ws.channels[0].is_member = false;
        assert_eq!(
            call(&mut ws, done, json!({"files": f, "channel_id": "C0ALERTS"})),
            "not_in_channel"
        );
        ws.channels[0].is_member = true;
        ws.channels[0].is_archived = true;
        assert_eq!(
            call(&mut ws, done, json!({"files": f, "channel_id": "C0ALERTS"})),
            "invalid_channel"
        );
        // Without files:write.
        let tok = Token::bot("xoxb-nofiles", "nofiles").with_scopes(&["chat:write"]);
        ws = ws.with_token(tok);
        let a = ws.call(
            get,
            Some("xoxb-nofiles"),
            &args(json!({"filename": "g", "length": 1})),
        );
        assert_eq!(a.body["error"], "missing_scope");
        assert_eq!(a.body["needed"], "files:write");
        assert_eq!(
            ws.call(done, Some("xoxb-nofiles"), &args(json!({"files": f})))
                .body["error"],
            "missing_scope"
        );
    }
}
