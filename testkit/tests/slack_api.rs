//! The Slack Web API stand-in through a real HTTP client: each method's success shape, a
//! thread (parent, replies, the parent's update history), every documented error, HTTP 429 with
//! `Retry-After`, and calls without a token.

use std::time::Duration;

use elb_watch_testkit::slack_api::{
    Channel, DEFAULT_TOKEN, Fault, Scope, SlackApi, Token, Workspace,
};
use serde_json::{Value, json};

struct Reply {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

fn client() -> reqwest::Client {
    elb_watch_testkit::server::http_client_builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// POST a JSON body with a bearer token, as the notifier will.
async fn call(api: &SlackApi, method: &str, token: Option<&str>, args: Value) -> Reply {
    let mut req = client()
        .post(api.method_url(method))
        .header("content-type", "application/json; charset=utf-8")
        .body(args.to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    reply(req.send().await.unwrap()).await
}

async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = resp.json().await.unwrap();
    Reply {
        status,
        retry_after,
        body,
    }
}

async fn ok(api: &SlackApi, method: &str, args: Value) -> Value {
    let r = call(api, method, Some(DEFAULT_TOKEN), args).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["ok"], true, "{method}: {}", r.body);
    r.body
}

/// HTTP 200 `{"ok": false, "error": ...}`: the error code.
async fn err(api: &SlackApi, method: &str, token: Option<&str>, args: Value) -> (String, Value) {
    let r = call(api, method, token, args).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["ok"], false, "{}", r.body);
    assert_eq!(r.retry_after, None);
    (r.body["error"].as_str().unwrap().to_owned(), r.body)
}

async fn start() -> SlackApi {
    SlackApi::start(Workspace::default()).await.unwrap()
}

#[tokio::test]
async fn auth_test_shape() {
    let api = start().await;
    let body = ok(&api, "auth.test", json!({})).await;
    assert_eq!(body["url"], "https://elb-watch-test.slack.com/");
    assert_eq!(body["team"], "elb-watch test");
    assert_eq!(body["team_id"], "T0ELBWATCH");
    assert_eq!(body["user"], "elb-watch");
    assert!(body["user_id"].as_str().unwrap().starts_with('U'));
    assert!(body["bot_id"].as_str().unwrap().starts_with('B'));
}

#[tokio::test]
async fn conversations_info_shape() {
    let api = start().await;
    api.add_channel(Channel::new("C0QUIET", "quiet").member(false));
    let body = ok(&api, "conversations.info", json!({"channel": "C0ALERTS"})).await;
    let ch = &body["channel"];
    assert_eq!(ch["id"], "C0ALERTS");
    assert_eq!(ch["name"], "alerts");
    assert_eq!(ch["is_member"], true);
    assert_eq!(ch["is_channel"], true);
    assert_eq!(ch["is_private"], false);
    assert_eq!(ch["is_archived"], false);
    let body = ok(&api, "conversations.info", json!({"channel": "C0QUIET"})).await;
    assert_eq!(body["channel"]["is_member"], false);
    // The argument is a conversation ID, not a name.
    let (e, _) = err(
        &api,
        "conversations.info",
        Some(DEFAULT_TOKEN),
        json!({"channel": "#alerts"}),
    )
    .await;
    assert_eq!(e, "channel_not_found");
    // GET with the channel in the query string, as the method page shows.
    let r = client()
        .get(format!(
            "{}?channel=C0ALERTS",
            api.method_url("conversations.info")
        ))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(reply(r).await.body["channel"]["id"], "C0ALERTS");
}

#[tokio::test]
async fn post_message_shape_by_name_and_id() {
    let api = start().await;
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*ALARM*"}}]);
    let body = ok(
        &api,
        "chat.postMessage",
        json!({"channel": "#alerts", "text": "ALARM web-tg", "blocks": blocks}),
    )
    .await;
    assert_eq!(body["channel"], "C0ALERTS");
    assert_eq!(body["ts"], "1700000000.000100");
    let m = &body["message"];
    assert_eq!(m["type"], "message");
    assert_eq!(m["text"], "ALARM web-tg");
    assert_eq!(m["ts"], body["ts"]);
    assert_eq!(m["blocks"], blocks);
    assert!(m["bot_id"].as_str().unwrap().starts_with('B'));
    assert!(m.get("thread_ts").is_none());
    let body = ok(
        &api,
        "chat.postMessage",
        json!({"channel": "C0ALERTS", "text": "second"}),
    )
    .await;
    assert_eq!(body["ts"], "1700000000.000200");
    let texts: Vec<String> = api
        .parents("C0ALERTS")
        .iter()
        .map(|m| m.text().to_owned())
        .collect();
    assert_eq!(texts, ["ALARM web-tg", "second"]);
}

#[tokio::test]
async fn form_encoded_post_with_token_argument() {
    let api = start().await;
    let blocks = r#"[{"type":"divider"}]"#;
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", DEFAULT_TOKEN)
        .append_pair("channel", "alerts")
        .append_pair("text", "from a form")
        .append_pair("blocks", blocks)
        .finish();
    let r = client()
        .post(api.method_url("chat.postMessage"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let r = reply(r).await;
    assert_eq!(r.body["ok"], true, "{}", r.body);
    assert_eq!(r.body["message"]["blocks"], json!([{"type": "divider"}]));
    assert_eq!(api.messages("#alerts")[0].text(), "from a form");
}

#[tokio::test]
async fn json_without_charset_is_accepted_with_a_warning() {
    let api = start().await;
    let r = client()
        .post(api.method_url("auth.test"))
        .header("content-type", "application/json")
        .bearer_auth(DEFAULT_TOKEN)
        .body("{}")
        .send()
        .await
        .unwrap();
    let r = reply(r).await;
    assert_eq!(r.body["ok"], true);
    assert_eq!(r.body["warning"], "missing_charset");
}

#[tokio::test]
async fn thread_replies_and_update_history() {
    let api = start().await;
    let parent = ok(
        &api,
        "chat.postMessage",
        json!({"channel": "#alerts", "text": "ALARM web-tg", "blocks": [{"type": "divider"}]}),
    )
    .await;
    let ts = parent["ts"].as_str().unwrap().to_owned();
    let reply1 = ok(
        &api,
        "chat.postMessage",
        json!({"channel": "C0ALERTS", "thread_ts": ts, "text": "ALARM again"}),
    )
    .await;
    assert_eq!(reply1["message"]["thread_ts"], ts.as_str());
    assert_ne!(reply1["ts"], ts.as_str());
    // A reply's ts threads under the parent (Slack: use the parent's ts).
    let reply2 = ok(
        &api,
        "chat.postMessage",
        json!({"channel": "C0ALERTS", "thread_ts": reply1["ts"], "text": "OK, down 4 min"}),
    )
    .await;
    assert_eq!(reply2["message"]["thread_ts"], ts.as_str());
    let updated = ok(
        &api,
        "chat.update",
        json!({"channel": "C0ALERTS", "ts": ts, "text": "RESOLVED web-tg after 4 min"}),
    )
    .await;
    assert_eq!(updated["channel"], "C0ALERTS");
    assert_eq!(updated["ts"], ts.as_str());
    assert_eq!(updated["text"], "RESOLVED web-tg after 4 min");
    assert_eq!(updated["message"]["text"], "RESOLVED web-tg after 4 min");

    let thread = api.thread("#alerts", &ts).unwrap();
    assert_eq!(thread.parent.text(), "RESOLVED web-tg after 4 min");
    assert_eq!(thread.parent.edits(), 1);
    assert_eq!(
        thread.parent.versions[0].text.as_deref(),
        Some("ALARM web-tg")
    );
    // Blocks not sent with the update are retained.
    assert_eq!(
        thread.parent.current().blocks,
        Some(json!([{"type": "divider"}]))
    );
    let replies: Vec<&str> = thread.replies.iter().map(|m| m.text()).collect();
    assert_eq!(replies, ["ALARM again", "OK, down 4 min"]);
    // Only the parent is top level.
    assert_eq!(api.parents("C0ALERTS").len(), 1);
    assert_eq!(api.messages("C0ALERTS").len(), 3);
    assert!(api.orphans().is_empty());
}

#[tokio::test]
async fn thread_ts_naming_no_message_is_accepted_but_shown_nowhere() {
    let api = start().await;
    let body = ok(
        &api,
        "chat.postMessage",
        json!({"channel": "#alerts", "thread_ts": "1600000000.000100", "text": "lost"}),
    )
    .await;
    assert_eq!(body["message"]["thread_ts"], "1600000000.000100");
    assert!(api.messages("#alerts").is_empty());
    assert_eq!(api.orphans().len(), 1);
    let (e, _) = err(
        &api,
        "chat.postMessage",
        Some(DEFAULT_TOKEN),
        json!({"channel": "#alerts", "thread_ts": "0", "text": "x"}),
    )
    .await;
    assert_eq!(e, "invalid_thread_ts");
}

#[tokio::test]
async fn a_deleted_parent_cannot_be_updated_and_replies_to_it_are_lost() {
    let api = start().await;
    let parent = ok(
        &api,
        "chat.postMessage",
        json!({"channel": "C0ALERTS", "text": "ALARM web-tg"}),
    )
    .await;
    let ts = parent["ts"].as_str().unwrap().to_owned();
    ok(
        &api,
        "chat.postMessage",
        json!({"channel": "C0ALERTS", "thread_ts": ts, "text": "reply"}),
    )
    .await;
    assert!(!api.delete_message("C0ALERTS", "1600000000.000100"));
    assert!(!api.delete_message("#nowhere", &ts));
    assert!(api.delete_message("#alerts", &ts));
    assert!(!api.delete_message("C0ALERTS", &ts), "already gone");
    assert!(api.thread("C0ALERTS", &ts).is_none());
    assert!(api.parents("C0ALERTS").is_empty());
    let (e, _) = err(
        &api,
        "chat.update",
        Some(DEFAULT_TOKEN),
        json!({"channel": "C0ALERTS", "ts": ts, "text": "resolved"}),
    )
    .await;
    assert_eq!(e, "message_not_found");
    // A reply naming it is accepted and shown nowhere.
    ok(
        &api,
        "chat.postMessage",
        json!({"channel": "C0ALERTS", "thread_ts": ts, "text": "OK"}),
    )
    .await;
    assert_eq!(api.orphans().len(), 1);
    assert_eq!(api.orphans()[0].text(), "OK");
}

#[tokio::test]
async fn channel_errors() {
    let api = start().await;
    api.add_channel(Channel::new("C0QUIET", "quiet").member(false));
    api.add_channel(
        Channel::new("G0SECRET", "secret")
            .private(true)
            .member(false),
    );
    api.add_channel(Channel::new("C0OLD", "old").archived(true));
    let t = Some(DEFAULT_TOKEN);
    let post = |channel: &str| json!({"channel": channel, "text": "ALARM"});
    for channel in ["#nowhere", "C0NOWHERE", "#secret"] {
        let (e, _) = err(&api, "chat.postMessage", t, post(channel)).await;
        assert_eq!(e, "channel_not_found", "{channel}");
    }
    let (e, _) = err(&api, "chat.postMessage", t, post("#quiet")).await;
    assert_eq!(e, "not_in_channel");
    let (e, _) = err(&api, "chat.postMessage", t, post("#old")).await;
    assert_eq!(e, "is_archived");
    let (e, _) = err(&api, "chat.postMessage", t, json!({"channel": "#alerts"})).await;
    assert_eq!(e, "no_text");
    // chat:write.public lets the app post in a public channel it is not in.
    api.add_token(
        Token::bot("xoxb-public", "pub").with_scopes(&["chat:write", "chat:write.public"]),
    );
    let r = call(
        &api,
        "chat.postMessage",
        Some("xoxb-public"),
        post("#quiet"),
    )
    .await;
    assert_eq!(r.body["ok"], true, "{}", r.body);
    // Scriptable: a channel removed, membership changed.
    api.remove_channel("#alerts");
    let (e, _) = err(&api, "chat.postMessage", t, post("C0ALERTS")).await;
    assert_eq!(e, "channel_not_found");
    let (e, _) = err(
        &api,
        "conversations.info",
        t,
        json!({"channel": "C0ALERTS"}),
    )
    .await;
    assert_eq!(e, "channel_not_found");
    api.set_member("C0QUIET", true);
    ok(&api, "chat.postMessage", post("#quiet")).await;
    assert!(api.messages("#nowhere").is_empty());
    assert_eq!(api.messages("#quiet").len(), 2);
}

#[tokio::test]
async fn update_errors() {
    let api = start().await;
    api.add_token(Token::bot("xoxb-other-app", "other"));
    let posted = ok(
        &api,
        "chat.postMessage",
        json!({"channel": "#alerts", "text": "ALARM"}),
    )
    .await;
    let ts = posted["ts"].as_str().unwrap();
    let t = Some(DEFAULT_TOKEN);
    let (e, _) = err(
        &api,
        "chat.update",
        t,
        json!({"channel": "C0ALERTS", "ts": "1700000099.000100", "text": "x"}),
    )
    .await;
    assert_eq!(e, "message_not_found");
    let (e, _) = err(
        &api,
        "chat.update",
        Some("xoxb-other-app"),
        json!({"channel": "C0ALERTS", "ts": ts, "text": "x"}),
    )
    .await;
    assert_eq!(e, "cant_update_message");
    let (e, _) = err(
        &api,
        "chat.update",
        t,
        json!({"channel": "C0NOWHERE", "ts": ts, "text": "x"}),
    )
    .await;
    assert_eq!(e, "channel_not_found");
    let (e, _) = err(
        &api,
        "chat.update",
        t,
        json!({"channel": "C0ALERTS", "ts": ts}),
    )
    .await;
    assert_eq!(e, "no_text");
    // Nothing of this changed the message.
    assert_eq!(api.thread("C0ALERTS", ts).unwrap().parent.edits(), 0);
}

#[tokio::test]
async fn auth_errors() {
    let api = start().await;
    for method in [
        "auth.test",
        "conversations.info",
        "chat.postMessage",
        "chat.update",
    ] {
        let args = json!({"channel": "C0ALERTS", "text": "x", "ts": "1700000000.000100"});
        let (e, _) = err(&api, method, None, args.clone()).await;
        assert_eq!(e, "not_authed", "{method}");
        let (e, _) = err(&api, method, Some("xoxb-unknown"), args.clone()).await;
        assert_eq!(e, "invalid_auth", "{method}");
    }
    // A token in a JSON body does not count: JSON needs the Authorization header.
    let (e, _) = err(&api, "auth.test", None, json!({"token": DEFAULT_TOKEN})).await;
    assert_eq!(e, "not_authed");
    // Not a bearer scheme.
    let r = client()
        .post(api.method_url("auth.test"))
        .header("authorization", format!("Basic {DEFAULT_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply(r).await.body["error"], "not_authed");
    api.revoke_token(DEFAULT_TOKEN);
    let (e, _) = err(&api, "auth.test", Some(DEFAULT_TOKEN), json!({})).await;
    assert_eq!(e, "token_revoked");
    assert!(api.messages("#alerts").is_empty());
    assert_eq!(api.calls().len(), 11);
    assert_eq!(api.calls()[0].token, None);
    assert_eq!(api.calls()[1].token.as_deref(), Some("xoxb-unknown"));
}

#[tokio::test]
async fn missing_scope_names_the_scope() {
    let api = start().await;
    api.add_token(Token::bot("xoxb-readonly", "ro").with_scopes(&["channels:read"]));
    let (e, body) = err(
        &api,
        "chat.postMessage",
        Some("xoxb-readonly"),
        json!({"channel": "#alerts", "text": "x"}),
    )
    .await;
    assert_eq!(e, "missing_scope");
    assert_eq!(body["needed"], "chat:write");
    assert_eq!(body["provided"], "channels:read");
    api.add_token(Token::bot("xoxb-writeonly", "wo").with_scopes(&["chat:write"]));
    let (e, body) = err(
        &api,
        "conversations.info",
        Some("xoxb-writeonly"),
        json!({"channel": "C0ALERTS"}),
    )
    .await;
    assert_eq!(e, "missing_scope");
    assert_eq!(body["needed"], "channels:read");
}

#[tokio::test]
async fn rate_limited_429_with_retry_after_then_ok() {
    let api = start().await;
    api.queue(
        Scope::method("chat.postMessage"),
        2,
        Fault::RateLimited { retry_after_s: 1 },
    );
    let args = json!({"channel": "#alerts", "text": "ALARM"});
    for _ in 0..2 {
        let r = call(&api, "chat.postMessage", Some(DEFAULT_TOKEN), args.clone()).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.retry_after.as_deref(), Some("1"));
        assert_eq!(r.body, json!({"ok": false, "error": "ratelimited"}));
    }
    // Other methods are not affected by a method's queue.
    ok(&api, "auth.test", json!({})).await;
    ok(&api, "chat.postMessage", args).await;
    assert_eq!(api.calls_of("chat.postMessage"), 3);
    assert_eq!(api.messages("#alerts").len(), 1);
    assert_eq!(api.calls()[0].answer.status, 429);
}

#[tokio::test]
async fn scripted_error_faults() {
    let api = start().await;
    let args = json!({"channel": "#alerts", "text": "ALARM"});
    for code in [
        "channel_not_found",
        "not_in_channel",
        "invalid_auth",
        "ratelimited",
        "message_not_found",
        "cant_update_message",
    ] {
        api.queue(Scope::method("chat.postMessage"), 1, Fault::error(code));
        let (e, _) = err(&api, "chat.postMessage", Some(DEFAULT_TOKEN), args.clone()).await;
        assert_eq!(e, code);
    }
    api.queue(
        Scope::All,
        1,
        Fault::MissingScope {
            needed: "chat:write".into(),
        },
    );
    let (e, body) = err(&api, "chat.update", Some(DEFAULT_TOKEN), json!({})).await;
    assert_eq!(
        (e.as_str(), &body["needed"]),
        ("missing_scope", &json!("chat:write"))
    );
    // Every call answers token_revoked until cleared.
    api.always(Scope::All, Fault::error("token_revoked"));
    for method in ["auth.test", "chat.postMessage"] {
        let (e, _) = err(&api, method, Some(DEFAULT_TOKEN), args.clone()).await;
        assert_eq!(e, "token_revoked");
    }
    api.clear_faults();
    ok(&api, "chat.postMessage", args.clone()).await;
    // A server error.
    api.queue(Scope::method("chat.update"), 1, Fault::Status(503));
    let r = call(&api, "chat.update", Some(DEFAULT_TOKEN), json!({})).await;
    assert_eq!(r.status, 503);
    assert_eq!(api.messages("#alerts").len(), 1);
}

#[tokio::test]
async fn malformed_requests_and_unknown_methods() {
    let api = start().await;
    let r = client()
        .post(api.method_url("chat.postMessage"))
        .header("content-type", "application/json; charset=utf-8")
        .bearer_auth(DEFAULT_TOKEN)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(reply(r).await.body["error"], "invalid_json");
    let r = call(&api, "chat.delete", Some(DEFAULT_TOKEN), json!({})).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["error"], "unknown_method");
    assert!(api.wait_for_calls(2, Duration::from_secs(1)).await);
    assert!(!api.wait_for_calls(3, Duration::from_millis(50)).await);
}

#[tokio::test]
async fn a_file_upload_in_three_steps_lands_in_the_thread() {
    let api = start().await;
    let parent = ok(
        &api,
        "chat.postMessage",
        json!({"channel": "C0ALERTS", "text": "ALARM"}),
    )
    .await;
    let ts = parent["ts"].as_str().unwrap().to_owned();
    let png = [
        &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a][..],
        &[0u8; 24],
    ]
    .concat();
    let ticket = ok(
        &api,
        "files.getUploadURLExternal",
        json!({"filename": "graph.png", "length": png.len(), "alt_txt": "a graph"}),
    )
    .await;
    let url = ticket["upload_url"].as_str().unwrap();
    let id = ticket["file_id"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("http://{}/upload/v1/", api.addr())),
        "{url}"
    );
    // Form-encoded works too: the length as a string, the token as an argument.
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("token", DEFAULT_TOKEN),
            ("filename", "x.png"),
            ("length", "3"),
        ])
        .finish();
    let form = client()
        .post(api.method_url("files.getUploadURLExternal"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply(form).await.body["ok"], true);

    let sent = client().post(url).body(png.clone()).send().await.unwrap();
    assert_eq!(sent.status(), 200);
    assert_eq!(sent.text().await.unwrap(), format!("OK - {}", png.len()));
    let wrong = client().post(url).body("short").send().await.unwrap();
    assert_eq!(wrong.status(), 400);

    let done = ok(
        &api,
        "files.completeUploadExternal",
        json!({"files": [{"id": id, "title": "graph"}], "channel_id": "C0ALERTS", "thread_ts": ts}),
    )
    .await;
    assert_eq!(done["files"][0]["id"], id);
    assert_eq!(done["files"][0]["mimetype"], "image/png");
    let files = api.files_in_thread("#alerts", &ts);
    assert_eq!(files.len(), 1);
    assert!(files[0].is_png());
    assert_eq!(
        files[0].completion.as_ref().unwrap()["thread_ts"],
        ts.as_str()
    );
    assert_eq!(api.upload_posts().len(), 2);
    // The messages of the thread are untouched: the file is not a reply message.
    assert!(api.thread("C0ALERTS", &ts).unwrap().replies.is_empty());

    // Without files:write: missing_scope naming it; and a scripted refusal.
    api.add_token(Token::bot("xoxb-chat-only", "chat").with_scopes(&["chat:write"]));
    let (code, body) = err(
        &api,
        "files.getUploadURLExternal",
        Some("xoxb-chat-only"),
        json!({"filename": "g.png", "length": 1}),
    )
    .await;
    assert_eq!(
        (code.as_str(), body["needed"].as_str()),
        ("missing_scope", Some("files:write"))
    );
    api.queue(
        Scope::method("files.completeUploadExternal"),
        1,
        Fault::error("not_in_channel"),
    );
    let (code, _) = err(
        &api,
        "files.completeUploadExternal",
        Some(DEFAULT_TOKEN),
        json!({"files": [{"id": id}]}),
    )
    .await;
    assert_eq!(code, "not_in_channel");
}
