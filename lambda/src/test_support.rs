//! Helpers shared by the unit tests.

use serde_json::Value;

pub use elb_watch_testkit::FIXTURES;

pub fn fixture_event(name: &str) -> Value {
    let path = elb_watch_testkit::fixture(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// (Subject, Message) of the fixture's first record.
pub fn fixture_message(name: &str) -> (Option<String>, String) {
    let event = fixture_event(name);
    let sns = &event["Records"][0]["Sns"];
    (
        sns["Subject"].as_str().map(str::to_owned),
        sns["Message"].as_str().unwrap().to_owned(),
    )
}

/// Blocks of the rendered payload (they live in the coloured attachment).
pub fn blocks(payload: &Value) -> &Vec<Value> {
    payload["attachments"][0]["blocks"]
        .as_array()
        .expect("blocks")
}

/// Every text a Slack client would interpret as mrkdwn or show: fallback, headers, sections,
/// fields, context elements.
pub fn all_texts(payload: &Value) -> Vec<String> {
    let mut out = vec![payload["text"].as_str().unwrap().to_owned()];
    for b in blocks(payload) {
        if let Some(t) = b["text"]["text"].as_str() {
            out.push(t.to_owned());
        }
        for f in b["fields"].as_array().into_iter().flatten() {
            out.push(f["text"].as_str().unwrap().to_owned());
        }
        // Context elements' texts (an actions block's buttons hold plain_text objects).
        for e in b["elements"].as_array().into_iter().flatten() {
            if let Some(t) = e["text"].as_str() {
                out.push(t.to_owned());
            }
        }
    }
    out
}

/// Slack's documented limits; panics with the offending block.
pub fn assert_slack_limits(payload: &Value) {
    let count = |s: &str| s.chars().count();
    assert!(count(payload["text"].as_str().unwrap()) <= 4000);
    let blocks = blocks(payload);
    assert!(!blocks.is_empty() && blocks.len() <= 50);
    for b in blocks {
        match b["type"].as_str().unwrap() {
            "header" => {
                assert_eq!(b["text"]["type"], "plain_text");
                assert!(count(b["text"]["text"].as_str().unwrap()) <= 150, "{b}");
            }
            "section" => {
                if let Some(t) = b["text"]["text"].as_str() {
                    assert!(count(t) <= 3000, "section {} chars", count(t));
                }
                if let Some(fields) = b["fields"].as_array() {
                    assert!(fields.len() <= 10);
                    for f in fields {
                        assert!(count(f["text"].as_str().unwrap()) <= 2000);
                    }
                }
                assert!(b["text"].is_object() || b["fields"].is_array(), "{b}");
            }
            "context" => {
                let elements = b["elements"].as_array().unwrap();
                assert!(!elements.is_empty() && elements.len() <= 10);
                for e in elements {
                    assert!(count(e["text"].as_str().unwrap()) <= 3000);
                }
            }
            "actions" => {
                // https://docs.slack.dev/reference/block-kit/blocks/actions-block: up to 25
                // elements; a button's text 75 characters, its url 3000, its action_id 255.
                let elements = b["elements"].as_array().unwrap();
                assert!(!elements.is_empty() && elements.len() <= 25, "{b}");
                for e in elements {
                    assert_eq!(e["type"], "button", "{b}");
                    assert_eq!(e["text"]["type"], "plain_text");
                    assert!(count(e["text"]["text"].as_str().unwrap()) <= 75, "{b}");
                    let url = e["url"].as_str().unwrap();
                    assert!(url.starts_with("https://") && count(url) <= 3000, "{b}");
                    assert!(count(e["action_id"].as_str().unwrap()) <= 255, "{b}");
                }
            }
            other => panic!("unexpected block type {other}"),
        }
    }
    // The payload must survive a JSON round trip unchanged.
    let text = serde_json::to_string(payload).unwrap();
    assert_eq!(&serde_json::from_str::<Value>(&text).unwrap(), payload);
}

/// No Slack control sequence survives: no raw '<' or '>' in texts except the console link we
/// generate ourselves, which must be the only link.
pub fn assert_no_injection(payload: &Value) {
    for t in all_texts(payload) {
        let stripped = strip_console_link(&t);
        assert!(
            !stripped.contains('<') && !stripped.contains('>'),
            "raw control character in {t:?}"
        );
        for (i, _) in stripped.match_indices('&') {
            let rest = &stripped[i..];
            assert!(
                rest.starts_with("&amp;") || rest.starts_with("&lt;") || rest.starts_with("&gt;"),
                "bare & in {t:?}"
            );
        }
    }
}

/// `t` without the console links the renderer makes (each checked to be a console URL with no
/// `|` or space).
fn strip_console_link(t: &str) -> String {
    const START: &str = "<https://";
    const LABELS: [&str; 4] = [
        "|View target group>",
        "|View load balancer>",
        "|View alarm in the CloudWatch console>",
        "|View alarms in the CloudWatch console>",
    ];
    let mut t = t.to_owned();
    for label in LABELS {
        let Some(e) = t.find(label) else { continue };
        let Some(s) = t[..e].rfind(START) else {
            continue;
        };
        let url = &t[s + 1..e];
        assert!(
            url.contains(".console.") || url.starts_with("https://console."),
            "unexpected link {url}"
        );
        assert!(!url.contains('|') && !url.contains(' '), "{url}");
        t = format!("{}{}", &t[..s], &t[e + label.len()..]);
    }
    t
}

/// A minimal CloudWatch alarm message: an ALARM at 2026-11-20T03:15:42.118Z.
pub const MINIMAL_ALARM: &str = r#"{"AlarmName":"elb-watch-prod-web-tg-HealthyHostCount",
    "NewStateValue":"ALARM","OldStateValue":"OK",
    "StateChangeTime":"2026-11-20T03:15:42.118+0000","NewStateReason":"r"}"#;
