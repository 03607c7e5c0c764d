//! The whole message for an event that is to be posted: the alert as [`blocks`] renders it,
//! then the marks its circumstances call for, each a notice leading the text and the
//! attachment — a test (`elb-watch test`), found in ALARM when `elb-watch up` completed the path,
//! muted during a maintenance window, replayed from the undelivered-alerts queue, or older than
//! the incident state it would have changed. Pure.

use std::collections::BTreeMap;

use crate::enrich::outage::Outage;
use serde_json::Value;

use crate::enrich::targets::Enrichment;
use crate::event::incident::Plan;
use crate::event::parse::{Alarm, AlarmState, Notification};
use crate::render::{blocks, late};
use crate::runtime::config;

/// An event re-sent by `elb-watch replay`, and when it first fired (formatted, if known:
/// [`runtime::replay::first_fired`](crate::runtime::replay::first_fired)).
pub struct Replayed {
    pub first_fired: Option<String>,
}

/// The payload to post for `notification`, given what enrichment found, the plan decided for
/// it, whether it is a replay and whether it is announced at the end of a maintenance window
/// (`window`, its name); `channel` is webhook mode's channel override.
pub fn message(
    notification: &Notification,
    found: &Enrichment,
    plan: &Plan,
    replay: Option<&Replayed>,
    window: Option<&str>,
    channel: Option<&str>,
) -> Value {
    let mut payload = blocks::render(notification, found, channel);
    if let Notification::Alarm(a) = notification
        && a.found_at_setup()
    {
        blocks::mark_found_at_setup(&mut payload);
    }
    // A test's recovery: the env's test alarm back to OK, or a target group's own alarm back
    // from the ALARM `elb-watch test --target-group` set (its history says so).
    let ends_a_test = matches!(&found.outage, Outage::Known(span) if span.began_with_test);
    if let Notification::Alarm(a) = notification
        && (a.is_test() || ends_a_test)
    {
        blocks::mark_test(&mut payload, a.new_state != AlarmState::Alarm);
    }
    if let Some(w) = window {
        late::mark_window_ended(&mut payload, w);
    }
    if let Some(r) = replay {
        late::mark_replayed(&mut payload, r.first_fired.as_deref());
    } else if let (Plan::Late(newer), Notification::Alarm(a)) = (plan, notification) {
        let at = a.state_change_time.as_deref().map(blocks::format_time);
        late::mark_superseded(
            &mut payload,
            a.new_state == AlarmState::Alarm,
            at.as_deref(),
            newer,
        );
    }
    payload
}

/// What the env adds to the messages that call for someone: the mentions of
/// `ELB_WATCH_MENTIONS` and the alarm's runbook ([`runbook`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Extras<'a> {
    pub mentions: &'a [String],
    pub runbook: Option<&'a str>,
}

/// Whether the message of an event notifies the env's mentions: an ALARM that is news — one
/// nobody has heard of yet, as CloudWatch sends it, found at set-up, or announced at the end of
/// the maintenance window that muted it. Never an OK, INSUFFICIENT_DATA or other state, a test
/// (`elb-watch test`, the env's test alarm), a replay (`elb-watch replay`: it may have recovered
/// since) or an event older than its incident's state ([`Plan::Late`]).
pub fn notifies(notification: &Notification, plan: &Plan, replayed: bool) -> bool {
    let Notification::Alarm(a) = notification else {
        return false;
    };
    a.new_state == AlarmState::Alarm && !a.is_test() && !replayed && !matches!(plan, Plan::Late(_))
}

/// Whether the message of an event shows the runbook: any ALARM but a test's.
pub fn shows_runbook(notification: &Notification) -> bool {
    matches!(notification, Notification::Alarm(a) if a.new_state == AlarmState::Alarm && !a.is_test())
}

/// The alarm's runbook: its `elb-watch:runbook` tag (from the notification, or read with the
/// thread tag in app mode: `tags`), else the env's default (`ELB_WATCH_RUNBOOK_URL`, already
/// checked). A tag that is not an https URL of at most 3000 characters is ignored; the second
/// value says why, for the log.
pub fn runbook(
    tags: Option<&BTreeMap<String, String>>,
    default: Option<&str>,
) -> (Option<String>, Option<String>) {
    let tag = tags.and_then(|t| t.get(config::RUNBOOK_TAG));
    match tag.map(|t| config::runbook_url(t)) {
        Some(Ok(url)) => (Some(url), None),
        Some(Err(why)) => (
            default.map(str::to_owned),
            Some(format!("{}: {why}", config::RUNBOOK_TAG)),
        ),
        None => (default.map(str::to_owned), None),
    }
}

/// Adds `extras` where they apply ([`notifies`], [`shows_runbook`]) to the payload of
/// [`message`]: last, so that the mentions lead the text, before any mark.
pub fn add_extras(
    payload: &mut Value,
    notification: &Notification,
    plan: &Plan,
    replayed: bool,
    extras: &Extras<'_>,
) {
    if let Some(url) = extras.runbook.filter(|_| shows_runbook(notification)) {
        blocks::add_runbook(payload, url);
    }
    if notifies(notification, plan, replayed) {
        blocks::add_mentions(payload, extras.mentions);
    }
}

/// The alarm of a notification, if it is one.
pub fn alarm_of(notification: &Notification) -> Option<&Alarm> {
    match notification {
        Notification::Alarm(a) => Some(a),
        Notification::Other { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::targets::Targets;
    use crate::event::incident::Superseded;
    use crate::event::parse::parse_notification;
    use serde_json::json;

    use crate::test_support::MINIMAL_ALARM as ALARM;

    fn text(payload: &Value) -> &str {
        payload["text"].as_str().unwrap()
    }

    #[test]
    fn each_circumstance_adds_its_mark() {
        let n = parse_notification(Some("ALARM"), ALARM);
        let found: Enrichment = Targets::NotApplicable.into();
        let plain = message(&n, &found, &Plan::Open, None, None, None);
        assert!(!text(&plain).contains("Delivered late"), "{}", text(&plain));

        let first = Replayed {
            first_fired: Some("2026-11-20 03:15:42 UTC".into()),
        };
        let replayed = message(&n, &found, &Plan::Standalone, Some(&first), None, None);
        assert!(
            text(&replayed).starts_with(
                ":hourglass: Delivered late — first fired at 2026-11-20 03:15:42 UTC."
            ),
            "{}",
            text(&replayed)
        );

        let muted = message(&n, &found, &Plan::Open, None, Some("deploy-42"), None);
        assert!(
            text(&muted).starts_with(
                ":mute: Muted during maintenance window `deploy-42`; still in ALARM when it \
                 ended. "
            ),
            "{}",
            text(&muted)
        );

        let newer = Superseded {
            alarm: false,
            at_ms: 1_795_144_632_118,
        };
        let superseded = message(&n, &found, &Plan::Late(newer), None, None, None);
        assert!(
            text(&superseded).starts_with(
                ":hourglass: Delivered late — fired at 2026-11-20 03:15:42 UTC; it has recovered"
            ),
            "{}",
            text(&superseded)
        );
    }

    /// A target group's own alarm back to OK after `elb-watch test --target-group` set it to
    /// ALARM: its history says a test began the outage, so the recovery is the test's.
    #[test]
    fn a_target_groups_recovery_from_a_test_is_the_tests() {
        let m = serde_json::json!({"AlarmName": "elb-watch/prod/web-alb/web-tg/HealthyHostCount",
            "OldStateValue": "ALARM", "NewStateValue": "OK",
            "StateChangeTime": "2026-11-20T03:15:42.118+0000",
            "NewStateReason": "Threshold Crossed: 1 datapoint [1.0] was not less than the threshold (1.0)."});
        let n = parse_notification(Some("OK"), &m.to_string());
        let span = |began_with_test| crate::enrich::outage::Span {
            since: chrono::DateTime::from_timestamp(1_795_144_500, 0).unwrap(),
            until: chrono::DateTime::from_timestamp(1_795_144_542, 0).unwrap(),
            began_with_test,
        };
        let after = |began| {
            let found = Enrichment {
                outage: Outage::Known(span(began)),
                ..Targets::NotApplicable.into()
            };
            message(&n, &found, &Plan::Open, None, None, None)
        };
        let tested = after(true);
        assert!(
            text(&tested).starts_with(":test_tube: TEST recovery — no action needed."),
            "{}",
            text(&tested)
        );
        let real = after(false);
        assert!(!text(&real).contains("TEST"), "{}", text(&real));
    }

    /// A test says so before anything else, in the fallback text and the first block: set by
    /// `elb-watch test` (its reason), or the env's test alarm back to OK; nothing else is one.
    #[test]
    fn a_test_and_its_recovery_are_marked_as_needing_no_action() {
        use crate::test_support::{assert_slack_limits, blocks as blocks_of};
        let found: Enrichment = Targets::NotApplicable.into();
        let render = |name: &str, old: &str, new: &str, reason: &str| {
            let m = serde_json::json!({"AlarmName": name, "OldStateValue": old,
                "NewStateValue": new, "StateChangeTime": "2026-11-20T03:15:42.118+0000",
                "NewStateReason": reason});
            let n = parse_notification(Some(new), &m.to_string());
            let p = message(&n, &found, &Plan::Open, None, None, None);
            assert_slack_limits(&p);
            p
        };
        let set = "elb-watch test 7f3a-01: a test alert; no action needed";
        let tested = render(
            "elb-watch/prod/web-alb/web-tg/HealthyHostCount",
            "OK",
            "ALARM",
            set,
        );
        assert!(
            text(&tested).starts_with(":test_tube: TEST — no action needed."),
            "{}",
            text(&tested)
        );
        let first = blocks_of(&tested)[0].to_string();
        assert!(first.contains("*TEST* — no action needed"), "{first}");

        let back = "Threshold Crossed: no datapoints were received for 3 periods";
        let recovered = render("elb-watch/prod/test", "ALARM", "OK", back);
        assert!(
            text(&recovered).starts_with(":test_tube: TEST recovery — no action needed."),
            "{}",
            text(&recovered)
        );
        let own = render("elb-watch/prod/test", "OK", "ALARM", set);
        assert!(text(&own).starts_with(":test_tube: TEST — no action needed."));

        for (name, reason) in [
            ("elb-watch/prod/web-alb/web-tg/HealthyHostCount", back),
            (
                "elb-watch/prod/web-alb/web-tg/HealthyHostCount",
                "not an elb-watch test 1: x",
            ),
            (
                "elb-watch/prod/web-alb/web-tg/HealthyHostCount",
                "elb-watch test : no id",
            ),
            ("elb-watch/prod/web-alb/test", back),
            ("elb-watch/prod/test/HealthyHostCount", back),
        ] {
            let p = render(name, "OK", "ALARM", reason);
            assert!(
                !text(&p).contains("TEST"),
                "{name} / {reason}: {}",
                text(&p)
            );
        }
    }

    const MENTIONS: [&str; 2] = ["<!here>", "<!subteam^S0123ABC>"];

    fn mentions() -> Vec<String> {
        MENTIONS.iter().map(|m| m.to_string()).collect()
    }

    /// The full message for `m` (a CloudWatch message), with the env's mentions and runbook.
    fn full(m: &serde_json::Value, plan: &Plan, replayed: bool, window: Option<&str>) -> Value {
        let n = parse_notification(Some("x"), &m.to_string());
        let found: Enrichment = Targets::NotApplicable.into();
        let first = Replayed { first_fired: None };
        let mut p = message(&n, &found, plan, replayed.then_some(&first), window, None);
        let mentions = mentions();
        let extras = Extras {
            mentions: &mentions,
            runbook: Some("https://wiki.example.com/rb"),
        };
        add_extras(&mut p, &n, plan, replayed, &extras);
        crate::test_support::assert_slack_limits(&p);
        p
    }

    fn hostile(old: &str, new: &str, name: &str) -> serde_json::Value {
        serde_json::json!({"AlarmName": name, "OldStateValue": old, "NewStateValue": new,
            "StateChangeTime": "2026-11-20T03:15:42.118+0000",
            "AlarmDescription": "<!channel> web is down",
            "NewStateReason": "<!here> & <@U999> <!subteam^S999>",
            "AlarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:x"})
    }

    /// Every raw mention in the texts Slack reads (text, fallback, blocks): `<!…>` and `<@…>`.
    fn raw_mentions(p: &Value) -> Vec<String> {
        let mut texts = crate::test_support::all_texts(p);
        texts.push(p["attachments"][0]["fallback"].as_str().unwrap().to_owned());
        let mut out = Vec::new();
        for t in texts {
            for (i, _) in t.match_indices('<') {
                let rest = &t[i..];
                if rest.starts_with("<!") || rest.starts_with("<@") {
                    out.push(rest[..=rest.find('>').unwrap()].to_owned());
                }
            }
        }
        out
    }

    /// Mentions lead an ALARM's text and first section, unescaped; the alarm's own `<!here>`
    /// stays escaped everywhere; nothing else in the message is raw.
    #[test]
    fn an_alarm_notifies_the_mentions_and_its_own_text_still_cannot() {
        const NAME: &str = "elb-watch/prod/web-alb/web-tg/HealthyHostCount";
        let lead = MENTIONS.join(" ") + " ";
        let p = full(&hostile("OK", "ALARM", NAME), &Plan::Open, false, None);
        assert!(text(&p).starts_with(&lead), "{}", text(&p));
        assert!(
            p["attachments"][0]["fallback"]
                .as_str()
                .unwrap()
                .starts_with(&lead)
        );
        let blocks = crate::test_support::blocks(&p);
        let first = blocks.iter().find(|b| b["type"] == "section").unwrap();
        assert_eq!(
            first["text"]["text"],
            format!("{lead}&lt;!channel&gt; web is down"),
            "the description section, led by the mentions"
        );
        // Exactly our mentions, in the three places: text, fallback, first section.
        let raw = raw_mentions(&p);
        assert_eq!(raw.len(), 6, "{raw:?}");
        assert!(
            raw.iter().all(|m| MENTIONS.contains(&m.as_str())),
            "{raw:?}"
        );
        assert!(text(&p).contains("&lt;!here&gt; &amp; &lt;@U999&gt; &lt;!subteam^S999&gt;"));
        // Without the leading mentions, no control sequence is left anywhere.
        let mut stripped = p.clone();
        stripped["text"] = json!(text(&p).strip_prefix(&lead).unwrap());
        let b = &mut stripped["attachments"][0]["blocks"];
        let i = b
            .as_array()
            .unwrap()
            .iter()
            .position(|b| b["type"] == "section")
            .unwrap();
        let t = b[i]["text"]["text"]
            .as_str()
            .unwrap()
            .strip_prefix(&lead)
            .unwrap()
            .to_owned();
        b[i]["text"]["text"] = json!(t);
        b.as_array_mut().unwrap().retain(|b| b["type"] != "actions");
        crate::test_support::assert_no_injection(&stripped);

        // Also an ALARM nobody heard: announced at a window's end, or found at set-up.
        let muted = full(
            &hostile("OK", "ALARM", NAME),
            &Plan::Open,
            false,
            Some("deploy-1"),
        );
        assert!(text(&muted).starts_with(&lead), "{}", text(&muted));
        let mut m = hostile("OK", "ALARM", NAME);
        m["ElbWatchAnnouncement"] = json!("found-in-alarm-at-setup");
        assert!(text(&full(&m, &Plan::Open, false, None)).starts_with(&lead));
        // A fields-only first section gets a section of the mentions before it.
        let mut bare = hostile("OK", "ALARM", NAME);
        bare.as_object_mut().unwrap().remove("AlarmDescription");
        let p = full(&bare, &Plan::Standalone, false, None);
        let blocks = crate::test_support::blocks(&p);
        let i = blocks.iter().position(|b| b["type"] == "section").unwrap();
        assert_eq!(blocks[i]["text"]["text"], MENTIONS.join(" "));
        assert!(blocks[i + 1]["fields"].is_array());
    }

    #[test]
    fn nothing_but_a_new_alarm_notifies_anyone() {
        const NAME: &str = "elb-watch/prod/web-alb/web-tg/HealthyHostCount";
        let newer = Superseded {
            alarm: false,
            at_ms: 1_795_144_632_118,
        };
        let mut test = hostile("OK", "ALARM", NAME);
        test["NewStateReason"] = json!("elb-watch test 7f3a-01: a test alert; no action needed");
        for (what, p) in [
            (
                "OK",
                full(&hostile("ALARM", "OK", NAME), &Plan::Close, false, None),
            ),
            (
                "INSUFFICIENT_DATA",
                full(
                    &hostile("OK", "INSUFFICIENT_DATA", NAME),
                    &Plan::Standalone,
                    false,
                    None,
                ),
            ),
            ("test", full(&test, &Plan::Open, false, None)),
            (
                "the env's test alarm",
                full(
                    &hostile("OK", "ALARM", "elb-watch/prod/test"),
                    &Plan::Standalone,
                    false,
                    None,
                ),
            ),
            (
                "superseded",
                full(
                    &hostile("OK", "ALARM", NAME),
                    &Plan::Late(newer),
                    false,
                    None,
                ),
            ),
            (
                "replayed",
                full(&hostile("OK", "ALARM", NAME), &Plan::Standalone, true, None),
            ),
        ] {
            assert_eq!(raw_mentions(&p), Vec::<String>::new(), "{what}: {p:#}");
        }
        let other = parse_notification(Some("s"), "<!here> hello");
        assert!(!notifies(&other, &Plan::Standalone, false));
    }

    fn actions(p: &Value) -> Vec<&Value> {
        crate::test_support::blocks(p)
            .iter()
            .filter(|b| b["type"] == "actions")
            .collect()
    }

    #[test]
    fn an_alarm_shows_its_runbook_a_recovery_or_a_test_does_not() {
        const NAME: &str = "elb-watch/prod/web-alb/web-tg/HealthyHostCount";
        let p = full(&hostile("OK", "ALARM", NAME), &Plan::Open, false, None);
        let a = actions(&p);
        assert_eq!(a.len(), 1, "{p:#}");
        assert_eq!(a[0]["elements"][0]["url"], "https://wiki.example.com/rb");
        assert_eq!(a[0]["elements"][0]["type"], "button");
        let blocks = crate::test_support::blocks(&p);
        assert_eq!(
            blocks.last().unwrap()["type"],
            "context",
            "the footer stays last"
        );
        // A late or replayed ALARM still shows it; no recovery, other state or test does.
        assert_eq!(
            actions(&full(
                &hostile("OK", "ALARM", NAME),
                &Plan::Standalone,
                true,
                None
            ))
            .len(),
            1
        );
        let mut test = hostile("OK", "ALARM", NAME);
        test["NewStateReason"] = json!("elb-watch test 7f3a-01: a test alert; no action needed");
        for p in [
            full(&hostile("ALARM", "OK", NAME), &Plan::Close, false, None),
            full(
                &hostile("OK", "INSUFFICIENT_DATA", NAME),
                &Plan::Standalone,
                false,
                None,
            ),
            full(&test, &Plan::Open, false, None),
        ] {
            assert!(actions(&p).is_empty(), "{p:#}");
        }
    }

    #[test]
    fn the_runbook_is_the_alarms_tag_else_the_envs_default_and_https_only() {
        let tags = |v: &str| BTreeMap::from([(config::RUNBOOK_TAG.to_owned(), v.to_owned())]);
        let default = Some("https://wiki.example.com/default");
        let own = tags("https://wiki.example.com/web-tg");
        assert_eq!(
            runbook(Some(&own), default),
            (Some("https://wiki.example.com/web-tg".to_owned()), None)
        );
        assert_eq!(runbook(None, default).0.as_deref(), default);
        assert_eq!(runbook(Some(&BTreeMap::new()), None), (None, None));
        for bad in [
            "http://wiki.example.com/web-tg",
            "javascript:alert(1)",
            "wiki.example.com",
        ] {
            let (url, why) = runbook(Some(&tags(bad)), default);
            assert_eq!(url.as_deref(), default, "{bad}");
            assert!(why.unwrap().starts_with(config::RUNBOOK_TAG), "{bad}");
            assert_eq!(runbook(Some(&tags(bad)), None).0, None, "{bad}");
        }
        let long = format!("https://wiki.example.com/{}", "a".repeat(3000));
        assert_eq!(runbook(Some(&tags(&long)), None).0, None);

        // The fixture of a notification carrying its tags (sns-alarm-with-tags.json).
        let (subject, message) = crate::test_support::fixture_message("sns-alarm-with-tags.json");
        let n = parse_notification(subject.as_deref(), &message);
        let alarm = alarm_of(&n).unwrap();
        assert_eq!(
            runbook(alarm.payload_tags(), default).0.as_deref(),
            Some("https://wiki.example.com/runbooks/web-tg")
        );
    }
}
