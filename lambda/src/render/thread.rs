//! What an incident thread's parent message says after it was posted (Slack app mode): that
//! the alarm fired again, or that it was resolved and after how long. Pure; the replies in the
//! thread are ordinary [`render`](crate::render::blocks) messages.
//!
//! Both are whole messages — `text` and `attachments` — meant for `chat.update`, which keeps
//! the `blocks` and `attachments` a call leaves out ("If you don't include this field, the
//! message's previous attachments will be retained. To remove previous attachments, include an
//! empty array for this field", and the same for `blocks`:
//! <https://docs.slack.dev/reference/methods/chat.update>). [`crate::slack::app`] therefore sends
//! both fields, so the red ALARM look cannot linger under a "resolved" text.

use serde_json::{Value, json};

use crate::enrich::outage::{self, Outage};
use crate::event::kind::{self, LbKind};
use crate::event::parse::Alarm;
use crate::render::blocks::{FALLBACK_MAX, HEADER_MAX, add_notice, context, field, footer, header};
use crate::render::escaping::{escape, truncate};

/// `03:07 UTC`, from the alarm's `StateChangeTime`.
fn clock(alarm: &Alarm) -> Option<String> {
    alarm
        .state_changed_at()
        .map(|t| t.format("%H:%M UTC").to_string())
}

/// The line an ALARM's parent gains when it fires again while its thread is open.
pub fn fired_again_line(alarm: &Alarm) -> String {
    match clock(alarm) {
        Some(at) => format!("Fired again at {at} — updates in the thread"),
        None => "Fired again — updates in the thread".to_owned(),
    }
}

/// The parent after a second ALARM: `rendered` (the new ALARM's [`render`](crate::render::blocks)
/// payload) with [`fired_again_line`] leading the text and as a context block under the
/// header.
pub fn fired_again(rendered: &Value, alarm: &Alarm) -> Value {
    let line = fired_again_line(alarm);
    let mut payload = rendered.clone();
    add_notice(
        &mut payload,
        &format!(":repeat: {line}"),
        format!(":repeat: *{line}*"),
        1,
    );
    payload
}

/// The parent once the incident is over: `✅ Resolved: <alarm> — down for 4 min 12 s, since
/// 03:01 UTC` (the outage when the history told it, else when it recovered), in green, with
/// what the alarm watches and the console links kept.
pub fn resolved(alarm: &Alarm, outage: &Outage) -> Value {
    let name = escape(&alarm.name);
    let how = match outage {
        Outage::Known(span) => Some(escape(&outage::summary(span))),
        Outage::NotApplicable | Outage::Unknown => {
            clock(alarm).map(|at| format!("recovered at {at}"))
        }
    };
    let title = format!(":white_check_mark: Resolved: {name}");
    let text = match &how {
        Some(how) => format!("{title} — {how}"),
        None => title.clone(),
    };
    let mut fields = Vec::new();
    if let Outage::Known(span) = outage {
        fields.push(field("Outage", escape(&outage::summary(span))));
    }
    if let Some(lb) = alarm.load_balancer_name() {
        let title = kind::kind_of(alarm).map_or("Load balancer", LbKind::label);
        fields.push(field(title, escape(lb)));
    }
    if let Some(tg) = alarm.target_group_name() {
        fields.push(field("Target group", escape(tg)));
    }
    if let Some(t) = &alarm.state_change_time {
        fields.push(field(
            "Resolved at",
            escape(&crate::render::blocks::format_time(t)),
        ));
    }
    let mut blocks = vec![header(truncate(&title, HEADER_MAX))];
    if !fields.is_empty() {
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    blocks.push(context(
        "The alert and its recovery are in the thread.".to_owned(),
    ));
    blocks.push(context(footer(alarm)));
    let text = truncate(&text, FALLBACK_MAX);
    json!({
        "text": text,
        "attachments": [{"color": "good", "fallback": text, "blocks": blocks}],
    })
}

/// The parent of an open incident whose channel is no longer the env's, once its next ALARM
/// opened the thread in the env's `channel` (an ID): grey, saying where the incident went, so
/// the old channel shows no red incident nobody will update.
pub fn moved(alarm: &Alarm, channel: &str) -> Value {
    let name = escape(&alarm.name);
    // `<#C0123>` is Slack's channel mention; the ID is ours, checked to be one by `up`.
    let to: String = channel
        .chars()
        .filter(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        .collect();
    let title = format!(":arrow_right: Moved: {name}");
    let text = truncate(
        &format!("{title} — this incident continues in <#{to}>"),
        FALLBACK_MAX,
    );
    let blocks = vec![
        header(truncate(&title, HEADER_MAX)),
        context(format!(
            "The alerts of this alarm now go to <#{to}> (`elb-watch up --slack-channel`); this \
             incident continues there."
        )),
        context(footer(alarm)),
    ];
    json!({
        "text": text,
        "attachments": [{"color": "#9e9e9e", "fallback": text, "blocks": blocks}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::targets::Targets;
    use crate::event::parse::{Notification, parse_notification, parse_time};
    use crate::test_support::*;

    fn fixture_alarm(name: &str) -> Alarm {
        let (subject, message) = fixture_message(name);
        match parse_notification(subject.as_deref(), &message) {
            Notification::Alarm(a) => *a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_moved_parent_says_where_the_incident_went() {
        let alarm = fixture_alarm("sns-alarm-healthyhostcount-alarm.json");
        let p = moved(&alarm, "C0NEW");
        assert_slack_limits(&p);
        assert!(
            p["text"]
                .as_str()
                .unwrap()
                .ends_with("— this incident continues in <#C0NEW>"),
            "{}",
            p["text"]
        );
        assert_ne!(p["attachments"][0]["color"], "danger");
        // Only an ID's characters reach the mention.
        assert!(moved(&alarm, "<!channel>").to_string().contains("<#>"));
    }

    #[test]
    fn resolved_states_the_outage_and_replaces_the_alarm_look() {
        let ok = fixture_alarm("sns-alarm-healthyhostcount-ok.json");
        let until = parse_time("2026-11-20T03:22:40.561+0000").unwrap();
        let span = crate::enrich::outage::Span {
            began_with_test: false,
            since: until - chrono::TimeDelta::seconds(252),
            until,
        };
        let p = resolved(&ok, &Outage::Known(span));
        assert_slack_limits(&p);
        assert_no_injection(&p);
        assert_eq!(
            p["text"],
            ":white_check_mark: Resolved: elb-watch-prod-web-tg-HealthyHostCount — down for 4 min \
             12 s, since 03:18 UTC"
        );
        assert_eq!(p["attachments"][0]["color"], "good");
        let all = all_texts(&p).join("\n");
        assert!(all.contains("*Outage*\ndown for 4 min 12 s"), "{all}");
        assert!(
            all.contains("View alarm in the CloudWatch console"),
            "{all}"
        );
        assert!(
            !all.contains("ALARM:") && !all.contains("rotating_light"),
            "{all}"
        );
    }

    #[test]
    fn resolved_without_a_known_outage_says_when() {
        let ok = fixture_alarm("sns-alarm-healthyhostcount-ok.json");
        let p = resolved(&ok, &Outage::Unknown);
        assert_slack_limits(&p);
        assert_eq!(
            p["text"],
            ":white_check_mark: Resolved: elb-watch-prod-web-tg-HealthyHostCount — recovered at \
             03:22 UTC"
        );
        assert!(!all_texts(&p).join("\n").contains("*Outage*"));
    }

    #[test]
    fn fired_again_leads_with_the_line_and_keeps_the_alarm() {
        let alarm = fixture_alarm("sns-alarm-healthyhostcount-alarm.json");
        let rendered = crate::render::blocks::render(
            &Notification::Alarm(Box::new(alarm.clone())),
            &Targets::NotApplicable.into(),
            None,
        );
        let p = fired_again(&rendered, &alarm);
        assert_slack_limits(&p);
        assert_no_injection(&p);
        let line = fired_again_line(&alarm);
        assert!(
            line.starts_with("Fired again at ") && line.ends_with(" UTC — updates in the thread")
        );
        assert!(
            p["text"]
                .as_str()
                .unwrap()
                .starts_with(&format!(":repeat: {line}. "))
        );
        let b = blocks(&p);
        assert_eq!(b[0], blocks(&rendered)[0], "the ALARM header stays first");
        assert_eq!(b[1]["elements"][0]["text"], format!(":repeat: *{line}*"));
        assert_eq!(b.len(), blocks(&rendered).len() + 1);
        assert_eq!(p["attachments"][0]["color"], "danger");
    }

    #[test]
    fn hostile_names_are_escaped_in_the_parent() {
        let msg = serde_json::json!({
            "AlarmName": "<!channel> & co", "NewStateValue": "OK", "OldStateValue": "ALARM",
            "AlarmArn": "arn:aws:cloudwatch:us-east-1:1:alarm:x",
        });
        let Notification::Alarm(a) = parse_notification(None, &msg.to_string()) else {
            unreachable!()
        };
        let p = resolved(&a, &Outage::Unknown);
        assert_slack_limits(&p);
        assert_no_injection(&p);
        assert_eq!(
            p["text"],
            ":white_check_mark: Resolved: &lt;!channel&gt; &amp; co"
        );
        let line = fired_again_line(&a);
        assert_eq!(line, "Fired again — updates in the thread");
    }
}
