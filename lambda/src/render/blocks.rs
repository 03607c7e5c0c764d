//! Slack message rendering: a [`Notification`] becomes an incoming-webhook payload with a
//! top-level `text` (used for notifications and by clients that cannot show blocks) and a
//! colour-coded attachment holding the Block Kit blocks.
//!
//! Every piece of outside text goes through [`escape`](crate::render::escaping) and is cut to Slack's
//! documented limits, so the payload is always accepted and cannot ping or link anything the
//! alarm's author did not intend.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::enrich::outage::{self, Outage};
use crate::enrich::targets::{Enrichment, TargetReport, Targets, UnhealthyTarget, zone_of};
use crate::event::kind::{self, LbKind};
use crate::event::parse::{Alarm, AlarmState, Notification, parse_time};
use crate::render::escaping::{escape, escape_truncate, truncate};

/// Slack limits (Block Kit reference).
pub const HEADER_MAX: usize = 150;
pub const SECTION_MAX: usize = 3000;
pub const FIELD_MAX: usize = 2000;
pub const MAX_FIELDS: usize = 10;
pub const CONTEXT_MAX: usize = 3000;
pub const MAX_BLOCKS: usize = 50;
/// Slack truncates top-level `text` beyond 40,000 characters and recommends ~4,000.
pub const FALLBACK_MAX: usize = 4000;
/// How many unhealthy targets are listed before "and N more".
pub const MAX_LISTED_TARGETS: usize = 10;

/// Visual style of a state: attachment colour, emoji, words.
struct Style {
    color: &'static str,
    emoji: &'static str,
    label: &'static str,
}

fn style(state: &AlarmState) -> Style {
    match state {
        AlarmState::Alarm => Style {
            color: "danger",
            emoji: ":rotating_light:",
            label: "ALARM",
        },
        AlarmState::Ok => Style {
            color: "good",
            emoji: ":white_check_mark:",
            label: "OK (recovered)",
        },
        AlarmState::InsufficientData => Style {
            color: "#9E9E9E",
            emoji: ":grey_question:",
            label: "INSUFFICIENT_DATA",
        },
        AlarmState::Unknown(_) => Style {
            color: "warning",
            emoji: ":grey_exclamation:",
            label: "state change",
        },
    }
}

/// Renders one notification with what enrichment found out. `channel` is the optional
/// `slackChannel` override.
pub fn render(notification: &Notification, found: &Enrichment, channel: Option<&str>) -> Value {
    let (color, fallback, blocks) = match notification {
        Notification::Alarm(alarm) => render_alarm(alarm, found),
        Notification::Other { subject, text } => render_other(subject.as_deref(), text),
    };
    let mut blocks = blocks;
    blocks.truncate(MAX_BLOCKS);
    let mut payload = json!({
        "text": fallback,
        "attachments": [{
            "color": color,
            "fallback": fallback,
            "blocks": blocks,
        }],
    });
    if let Some(channel) = channel.filter(|c| !c.is_empty()) {
        payload["channel"] = json!(channel);
    }
    payload
}

pub(crate) fn header(text: String) -> Value {
    json!({"type": "header", "text": {"type": "plain_text", "text": text, "emoji": true}})
}

pub(crate) fn section(mrkdwn: String) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&mrkdwn, SECTION_MAX)}})
}

pub(crate) fn context(mrkdwn: String) -> Value {
    json!({"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(&mrkdwn, CONTEXT_MAX)}]})
}

/// Marks the message of an alarm `elb-watch up` found in ALARM when it completed the alerting
/// path (CloudWatch sends each state change once, so this is the first anyone hears of it).
pub fn mark_found_at_setup(payload: &mut Value) {
    add_notice(
        payload,
        ":mag: Found in ALARM at set-up",
        ":mag: *Found in ALARM when `elb-watch up` completed the alerting path* — CloudWatch \
         sends each state change once, so this outage began before anyone could be told"
            .to_owned(),
        0,
    );
}

/// Marks the message of a test (`elb-watch test`, or the env's test alarm returning to OK): no
/// one is to act on it, and it says so before anything else.
pub fn mark_test(payload: &mut Value, recovery: bool) {
    let (lead, what) = if recovery {
        (
            ":test_tube: TEST recovery — no action needed",
            "the tested alarm is back to its real state",
        )
    } else {
        (
            ":test_tube: TEST — no action needed",
            "sent by `elb-watch test` to prove that CloudWatch → SNS → Lambda → Slack works",
        )
    };
    add_notice(
        payload,
        lead,
        format!("{} — {what}", lead.replace("TEST", "*TEST*")),
        0,
    );
}

/// Puts a notice on a rendered payload: `lead` (e.g. ":hourglass: Delivered late …") leads the
/// fallback text and the first attachment's fallback, and `block` goes in as a context block
/// at position `at` of that attachment's blocks (or at their end, if fewer).
pub(crate) fn add_notice(payload: &mut Value, lead: &str, block: String, at: usize) {
    let lead = |old: &str| truncate(&format!("{lead}. {old}"), FALLBACK_MAX);
    if let Some(text) = payload.get("text").and_then(Value::as_str) {
        payload["text"] = json!(lead(text));
    }
    let Some(att) = payload
        .get_mut("attachments")
        .and_then(|a| a.get_mut(0))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    if let Some(fb) = att.get("fallback").and_then(Value::as_str) {
        let fb = lead(fb);
        att.insert("fallback".into(), json!(fb));
    }
    if let Some(blocks) = att.get_mut("blocks").and_then(Value::as_array_mut) {
        blocks.insert(at.min(blocks.len()), context(block));
        blocks.truncate(MAX_BLOCKS);
    }
}

/// `*Title*\nvalue` where `value` is already escaped.
pub(crate) fn field(title: &str, escaped_value: String) -> Value {
    json!({"type": "mrkdwn", "text": truncate(&format!("*{title}*\n{escaped_value}"), FIELD_MAX)})
}

/// `2026-11-20T03:15:42.118+0000` -> `2026-11-20 03:15:42 UTC`; unparsable input is returned
/// as is (it is escaped by the caller).
pub fn format_time(raw: &str) -> String {
    parse_time(raw)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| raw.to_owned())
}

/// `LessThanOrEqualToThreshold` -> `<=` (unescaped; callers escape).
pub fn comparison_symbol(op: &str) -> &str {
    match op {
        "GreaterThanOrEqualToThreshold" => ">=",
        "GreaterThanThreshold" => ">",
        "LessThanThreshold" => "<",
        "LessThanOrEqualToThreshold" => "<=",
        "LessThanLowerOrGreaterThanUpperThreshold" => "outside the band",
        "LessThanLowerThreshold" => "below the band",
        "GreaterThanUpperThreshold" => "above the band",
        other => other,
    }
}

/// A metric (for metric math: the returned expression's label) whose name ends so is a
/// percentage: elb-watch's percent alarms label their expression `healthy targets (%)`.
const PERCENT_SUFFIX: &str = "(%)";

/// `HealthyHostCount (MINIMUM, 60 s) <= 0`, unescaped; a percentage's threshold with its unit,
/// `healthy targets (%) (60 s) < 50 %`.
pub fn condition(alarm: &Alarm) -> Option<String> {
    let op = alarm.comparison.as_deref()?;
    let mut s = alarm.metric.clone().unwrap_or_else(|| "value".to_owned());
    match (&alarm.statistic, alarm.period_s) {
        (Some(stat), Some(p)) => s.push_str(&format!(" ({stat}, {p} s)")),
        (Some(stat), None) => s.push_str(&format!(" ({stat})")),
        (None, Some(p)) => s.push_str(&format!(" ({p} s)")),
        (None, None) => {}
    }
    s.push(' ');
    s.push_str(comparison_symbol(op));
    let percent = alarm
        .metric
        .as_deref()
        .is_some_and(|m| m.trim_end().ends_with(PERCENT_SUFFIX));
    if let Some(t) = alarm.threshold {
        s.push_str(&format!(" {t}"));
        if percent {
            s.push_str(" %");
        }
    }
    Some(s)
}

/// Characters left as is in the console URL's alarm name: RFC 3986 unreserved.
const FRAGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The alarm list in the CloudWatch console of the alarm's region (and partition).
pub fn console_alarms_url(alarm: &Alarm) -> Option<String> {
    let region = alarm.region()?;
    let host = match alarm.partition().unwrap_or("aws") {
        "aws-cn" => format!("{region}.console.amazonaws.cn"),
        "aws-us-gov" => "console.amazonaws-us-gov.com".to_owned(),
        _ => format!("{region}.console.aws.amazon.com"),
    };
    Some(format!(
        "https://{host}/cloudwatch/home?region={region}#alarmsV2:"
    ))
}

/// Link to the alarm in the CloudWatch console of its region (and partition).
pub fn console_url(alarm: &Alarm) -> Option<String> {
    let list = console_alarms_url(alarm)?;
    let name = utf8_percent_encode(&alarm.name, FRAGMENT);
    Some(format!("{list}alarm/{name}"))
}

/// After the console link in the footer.
const FOOTER_TAIL: &str = "  ·  elb-watch";

/// `<url|label>` to the alarm; to the region's alarm list when the alarm's link would not fit
/// in a context element (a 255-character name percent-encodes to up to 3,060 characters), as a
/// link cut by the length limit is broken markup. The URLs are built here from a validated
/// region and a percent-encoded name: they contain no '|', '<' or '>' that could break out.
fn console_link(alarm: &Alarm) -> Option<String> {
    let fits = |link: &String| link.chars().count() + FOOTER_TAIL.chars().count() <= CONTEXT_MAX;
    console_url(alarm)
        .map(|url| format!("<{url}|View alarm in the CloudWatch console>"))
        .filter(fits)
        .or_else(|| {
            console_alarms_url(alarm)
                .map(|url| format!("<{url}|View alarms in the CloudWatch console>"))
        })
}

/// The recovery's outage, as a field value and in the fallback text; `None` when unknown (the
/// message is then what it was before outages were stated).
pub fn outage_text(outage: &Outage) -> Option<String> {
    match outage {
        Outage::Known(span) => Some(escape(&outage::summary(span))),
        Outage::NotApplicable | Outage::Unknown => None,
    }
}

/// The footer: links to what the alarm watches and to the alarm, then "elb-watch".
pub fn footer(alarm: &Alarm) -> String {
    match console_link(alarm) {
        Some(link) => {
            // The target group (or Classic ELB) in the EC2 console first, when it fits too.
            let watched = kind::console_url(alarm)
                .zip(kind::kind_of(alarm))
                .map(|(url, k)| format!("<{url}|{}>  ·  ", kind::console_label(k)))
                .filter(|w| {
                    w.chars().count() + link.chars().count() + FOOTER_TAIL.chars().count()
                        <= CONTEXT_MAX
                })
                .unwrap_or_default();
            format!("{watched}{link}{FOOTER_TAIL}")
        }
        None => "elb-watch".to_owned(),
    }
}

fn render_alarm(alarm: &Alarm, found: &Enrichment) -> (&'static str, String, Vec<Value>) {
    let targets = &found.targets;
    let outage = outage_text(&found.outage);
    let st = style(&alarm.new_state);
    let state_word = match &alarm.new_state {
        AlarmState::Unknown(s) => s.as_str(),
        _ => st.label,
    };
    let lb = alarm.load_balancer_name();
    let tg = alarm.target_group_name();

    // Header: "<emoji> ALARM: <name>" cut to 150 characters.
    let prefix = format!("{} {}: ", st.emoji, escape(state_word));
    let header_text = truncate(&format!("{prefix}{}", escape(&alarm.name)), HEADER_MAX);

    let mut blocks = vec![header(header_text)];

    if let Some(desc) = &alarm.description {
        blocks.push(section(escape_truncate(desc, SECTION_MAX)));
    }

    let mut fields = Vec::new();
    let transition = match &alarm.old_state {
        Some(old) => format!(
            "{} → *{}*",
            escape(old.as_str()),
            escape(alarm.new_state.as_str())
        ),
        None => format!("*{}*", escape(alarm.new_state.as_str())),
    };
    fields.push(field("State", transition));
    if let Some(text) = &outage {
        fields.push(field("Outage", text.clone()));
    }
    if let Some(lb) = lb {
        let title = kind::kind_of(alarm).map_or("Load balancer", LbKind::label);
        fields.push(field(title, escape(lb)));
    }
    if let Some(tg) = tg {
        fields.push(field("Target group", escape(tg)));
    }
    if let Some(t) = &alarm.state_change_time {
        fields.push(field("Changed at", escape(&format_time(t))));
    }
    if let Some(c) = condition(alarm) {
        fields.push(field("Condition", escape(&c)));
    }
    let region = match (alarm.region(), &alarm.region_name) {
        (Some(code), Some(long)) => Some(format!("{code} ({long})")),
        (Some(code), None) => Some(code.to_owned()),
        (None, Some(long)) => Some(long.clone()),
        (None, None) => None,
    };
    if let Some(r) = region {
        fields.push(field("Region", escape(&r)));
    }
    if let Some(acct) = alarm.account() {
        fields.push(field("Account", escape(acct)));
    }
    fields.truncate(MAX_FIELDS);
    blocks.push(json!({"type": "section", "fields": fields}));

    if let Some(reason) = &alarm.reason {
        blocks.push(section(format!("*Reason*\n{}", escape(reason))));
    }

    match targets {
        Targets::NotApplicable => {}
        Targets::Unavailable => blocks.push(context(
            ":warning: Target health unavailable (the load balancer's health API did not answer)."
                .to_owned(),
        )),
        Targets::Report(report) => blocks.push(section(targets_text(report))),
    }

    blocks.push(context(footer(alarm)));

    let mut fallback = format!(
        "{} {}: {}",
        st.emoji,
        escape(state_word),
        escape(&alarm.name)
    );
    match (lb, tg) {
        (Some(lb), Some(tg)) => fallback.push_str(&format!(" — {} / {}", escape(lb), escape(tg))),
        (Some(x), None) | (None, Some(x)) => fallback.push_str(&format!(" — {}", escape(x))),
        (None, None) => {}
    }
    if let Some(text) = &outage {
        fallback.push_str(" — ");
        fallback.push_str(text);
    }
    if let Some(reason) = &alarm.reason {
        fallback.push_str(" — ");
        fallback.push_str(&escape(reason));
    }
    (st.color, truncate(&fallback, FALLBACK_MAX), blocks)
}

/// The "Unhealthy targets" section, escaped and capped at [`MAX_LISTED_TARGETS`]. When
/// DescribeTargetHealth named the zone of any of them, the targets are grouped by Availability
/// Zone, each zone led by its count and reasons, so that a zone-wide failure reads as one
/// (`*eu-west-1a*: 3 of 3 unhealthy (Target.Timeout) — the whole zone`); targets without a zone
/// (instance targets: [`zone_of`]) come last, under "zone unknown". Otherwise the list is as it
/// always was.
pub fn targets_text(report: &TargetReport) -> String {
    if report.unhealthy.is_empty() {
        return format!(
            "*Target health*: all {} registered target(s) report healthy now.",
            report.registered
        );
    }
    let mut s = format!(
        "*Unhealthy targets* ({} of {} registered)",
        report.unhealthy.len(),
        report.registered
    );
    let zones = by_zone(report);
    if zones.iter().all(|(zone, _)| zone.is_none()) {
        for t in report.unhealthy.iter().take(MAX_LISTED_TARGETS) {
            s.push_str(&target_line(t));
        }
    } else {
        let mut listed = 0;
        for (zone, targets) in &zones {
            s.push('\n');
            s.push_str(&zone_line(*zone, targets, report));
            for t in targets.iter().take(MAX_LISTED_TARGETS - listed) {
                s.push_str(&target_line(t));
                listed += 1;
            }
        }
    }
    let more = report.unhealthy.len().saturating_sub(MAX_LISTED_TARGETS);
    if more > 0 {
        s.push_str(&format!("\n…and {more} more"));
    }
    truncate(&s, SECTION_MAX)
}

/// The unhealthy targets by zone: the zones with the most first (then by name), the targets
/// without a zone last; each group in the order ELBv2 returned its targets.
fn by_zone(report: &TargetReport) -> Vec<(Option<&str>, Vec<&UnhealthyTarget>)> {
    let mut groups: Vec<(Option<&str>, Vec<&UnhealthyTarget>)> = Vec::new();
    for t in &report.unhealthy {
        let zone = zone_of(t.availability_zone.as_deref());
        match groups.iter_mut().find(|(z, _)| *z == zone) {
            Some((_, list)) => list.push(t),
            None => groups.push((zone, vec![t])),
        }
    }
    groups.sort_by(|(za, a), (zb, b)| {
        za.is_none()
            .cmp(&zb.is_none())
            .then(b.len().cmp(&a.len()))
            .then(za.cmp(zb))
    });
    groups
}

/// `*eu-west-1a*: 3 of 3 unhealthy (Target.Timeout) — the whole zone`; `*zone unknown*: 2
/// unhealthy (…)`. "of N" when the zone's registered count is known; up to three reasons.
fn zone_line(zone: Option<&str>, targets: &[&UnhealthyTarget], report: &TargetReport) -> String {
    let n = targets.len();
    let name = zone.map_or_else(|| "zone unknown".to_owned(), |z| escape_truncate(z, 40));
    let of = zone
        .and_then(|z| report.registered_by_zone.get(z))
        .filter(|registered| **registered >= n);
    let mut line = match of {
        Some(registered) => format!("*{name}*: {n} of {registered} unhealthy"),
        None => format!("*{name}*: {n} unhealthy"),
    };
    let mut reasons: Vec<&str> = Vec::new();
    for r in targets.iter().filter_map(|t| t.reason.as_deref()) {
        if !reasons.contains(&r) {
            reasons.push(r);
        }
    }
    if !reasons.is_empty() {
        let shown: Vec<String> = reasons
            .iter()
            .take(3)
            .map(|r| escape_truncate(r, 60))
            .collect();
        let etc = if reasons.len() > 3 { ", …" } else { "" };
        line.push_str(&format!(" ({}{etc})", shown.join(", ")));
    }
    if of == Some(&n) {
        line.push_str(" — the whole zone");
    }
    line
}

/// `\n• `id:port` state (reason) — description`, escaped and each part capped.
fn target_line(t: &UnhealthyTarget) -> String {
    let mut s = String::from("\n• `");
    s.push_str(&escape_truncate(&t.id, 120));
    if let Some(port) = t.port {
        s.push_str(&format!(":{port}"));
    }
    s.push_str("` ");
    s.push_str(&escape_truncate(&t.state, 40));
    if let Some(reason) = &t.reason {
        s.push_str(&format!(" ({})", escape_truncate(reason, 80)));
    }
    if let Some(desc) = &t.description {
        s.push_str(" — ");
        s.push_str(&escape_truncate(desc, 200));
    }
    s
}

/// The `action_id` of the runbook button (Slack requires one per interactive element, unique
/// in its block).
pub const RUNBOOK_ACTION_ID: &str = "elb-watch-runbook";
/// A button's text: at most 75 characters
/// (<https://docs.slack.dev/reference/block-kit/block-elements/button-element>).
pub const BUTTON_TEXT_MAX: usize = 75;

/// Puts `mentions` — each checked by [`crate::runtime::config::mention`] to be Slack's syntax
/// for `@here`, `@channel`, a user group or a user, and therefore *not* escaped — at the start
/// of the notification text (`text`, the attachment's `fallback`) and of the attachment's first
/// section, where Slack notifies them (mentions in `text` and in mrkdwn blocks notify:
/// <https://docs.slack.dev/messaging/formatting-message-text>, "Special mentions", "Mentioning
/// groups"). The alert's own text keeps its escaping: only these tokens are raw. A first section
/// of fields only gets a section of the mentions before it. Limits kept: the rest of each text
/// is cut to make room.
pub fn add_mentions(payload: &mut Value, mentions: &[String]) {
    if mentions.is_empty() {
        return;
    }
    let lead = mentions.join(" ");
    let room = |max: usize| max.saturating_sub(lead.chars().count() + 1);
    let led = |old: &str, max: usize| format!("{lead} {}", truncate(old, room(max)));
    if let Some(text) = payload.get("text").and_then(Value::as_str) {
        payload["text"] = json!(led(text, FALLBACK_MAX));
    }
    let Some(att) = payload
        .get_mut("attachments")
        .and_then(|a| a.get_mut(0))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    if let Some(fb) = att.get("fallback").and_then(Value::as_str) {
        let fb = led(fb, FALLBACK_MAX);
        att.insert("fallback".into(), json!(fb));
    }
    let Some(blocks) = att.get_mut("blocks").and_then(Value::as_array_mut) else {
        return;
    };
    let first = blocks.iter().position(|b| b["type"] == "section");
    match first {
        Some(i) if blocks[i]["text"]["text"].is_string() => {
            let old = blocks[i]["text"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            blocks[i]["text"]["text"] = json!(led(&old, SECTION_MAX));
        }
        Some(i) => blocks.insert(i, section(lead)),
        None => blocks.insert(blocks.len().min(1), section(lead)),
    }
    blocks.truncate(MAX_BLOCKS);
}

/// Adds the "Runbook" button (a Block Kit `actions` block with a link `button`) before the
/// footer of the attachment. `url` must come from [`crate::runtime::config::runbook_url`]
/// (https, at most 3000 characters: a button's `url` limit); a JSON string, it cannot break out
/// of the payload. Nothing is added when the blocks are already at Slack's limit.
pub fn add_runbook(payload: &mut Value, url: &str) {
    let Some(blocks) = payload
        .get_mut("attachments")
        .and_then(|a| a.get_mut(0))
        .and_then(|a| a.get_mut("blocks"))
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    if blocks.len() >= MAX_BLOCKS {
        return;
    }
    let button = json!({
        "type": "button",
        "text": {"type": "plain_text", "text": ":book: Runbook", "emoji": true},
        "url": url,
        "action_id": RUNBOOK_ACTION_ID,
    });
    let at = blocks.len().saturating_sub(1);
    blocks.insert(at, json!({"type": "actions", "elements": [button]}));
}

fn render_other(subject: Option<&str>, text: &str) -> (&'static str, String, Vec<Value>) {
    let title = "SNS message (not a CloudWatch alarm)";
    let mut blocks = vec![header(format!(":envelope: {title}"))];
    if let Some(subject) = subject {
        blocks.push(section(format!(
            "*Subject:* {}",
            escape_truncate(subject, 2900)
        )));
    }
    let body = if text.is_empty() {
        "(empty message)"
    } else {
        text
    };
    blocks.push(section(escape_truncate(body, SECTION_MAX)));
    let total = text.chars().count();
    if total > SECTION_MAX {
        blocks.push(context(format!(
            "Message truncated: {total} characters in total."
        )));
    }
    let mut fallback = format!(":envelope: {title}");
    if let Some(subject) = subject {
        fallback.push_str(": ");
        fallback.push_str(&escape(subject));
    }
    fallback.push_str(" — ");
    fallback.push_str(&escape(body));
    ("#439FE0", truncate(&fallback, FALLBACK_MAX), blocks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::targets::{UnhealthyTarget, report_from};
    use crate::event::parse::parse_notification;
    use crate::test_support::*;

    fn render_fixture(name: &str, targets: &Targets, channel: Option<&str>) -> Value {
        let (subject, message) = fixture_message(name);
        render(
            &parse_notification(subject.as_deref(), &message),
            &targets.clone().into(),
            channel,
        )
    }

    /// An NLB alarm as `elb-watch up` writes it for a load balancer in two zones: metric math
    /// summing the zones' `HealthyHostCount` (CloudWatch's notification shape, as in
    /// `sns-alarm-metric-math.json`).
    fn zone_math_alarm() -> Notification {
        let q = |i: usize, zone: &str| {
            json!({"Id": format!("z{i}"), "ReturnData": false, "MetricStat": {
                "Metric": {"Dimensions": [
                    {"value": "targetgroup/tcp-tg/6d0ecf831eec9f09", "name": "TargetGroup"},
                    {"value": "net/tcp-nlb/50dc6c495c0c9188", "name": "LoadBalancer"},
                    {"value": zone, "name": "AvailabilityZone"}],
                    "MetricName": "HealthyHostCount", "Namespace": "AWS/NetworkELB"},
                "Period": 60, "Stat": "Minimum"}})
        };
        let msg = json!({
            "AlarmName": "elb-watch-prod-tcp-tg-HealthyHostCount",
            "AlarmDescription": "elb-watch prod: NLB tcp-nlb target group tcp-tg has fewer than \
                2 healthy targets in the target group as a whole (its 2 zones summed)",
            "NewStateValue": "ALARM", "OldStateValue": "OK",
            "NewStateReason": "Threshold Crossed: 2 out of the last 3 datapoints [1.0, 1.0] were \
                less than the threshold (2.0)",
            "StateChangeTime": "2026-11-20T03:15:42.118+0000",
            "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:elb-watch-prod-tcp-tg-HealthyHostCount",
            "Trigger": {"Period": 60, "EvaluationPeriods": 3, "DatapointsToAlarm": 2,
                "ComparisonOperator": "LessThanThreshold", "Threshold": 2.0,
                "TreatMissingData": "breaching",
                "Metrics": [q(0, "us-east-1a"), q(1, "us-east-1b"),
                    {"Id": "healthy", "Expression": "SUM([FILL(z0, 0), FILL(z1, 0)])",
                     "Label": "HealthyHostCount, all zones summed", "ReturnData": true}]}
        });
        parse_notification(None, &msg.to_string())
    }

    /// A percent alarm as `elb-watch up` writes it: the healthy share of the target group's
    /// targets, metric math over `HealthyHostCount` and `UnHealthyHostCount`.
    fn percent_alarm() -> Notification {
        let q = |id: &str, metric: &str, stat: &str| {
            json!({"Id": id, "ReturnData": false, "MetricStat": {
                "Metric": {"Dimensions": [
                    {"value": "targetgroup/web-tg/6d0ecf831eec9f09", "name": "TargetGroup"},
                    {"value": "app/web-alb/50dc6c495c0c9188", "name": "LoadBalancer"}],
                    "MetricName": metric, "Namespace": "AWS/ApplicationELB"},
                "Period": 60, "Stat": stat}})
        };
        let msg = json!({
            "AlarmName": "elb-watch/prod/web-alb/web-tg/HealthyHostCount",
            "AlarmDescription": "elb-watch prod: ALB web-alb target group web-tg has fewer than \
                50 % of its targets healthy",
            "NewStateValue": "ALARM", "OldStateValue": "OK",
            "NewStateReason": "Threshold Crossed: 2 out of the last 3 datapoints [25.0, 25.0] \
                were less than the threshold (50.0)",
            "StateChangeTime": "2026-11-20T03:15:42.118+0000",
            "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:elb-watch/prod/web-alb/web-tg/HealthyHostCount",
            "Trigger": {"Period": 60, "EvaluationPeriods": 3, "DatapointsToAlarm": 2,
                "ComparisonOperator": "LessThanThreshold", "Threshold": 50.0,
                "TreatMissingData": "breaching",
                "Metrics": [q("h", "HealthyHostCount", "Minimum"),
                    q("u", "UnHealthyHostCount", "Maximum"),
                    {"Id": "healthy",
                     "Expression": "IF(h + FILL(u, 0) > 0, 100 * h / (h + FILL(u, 0)), 0)",
                     "Label": "healthy targets (%)", "ReturnData": true}]}
        });
        parse_notification(None, &msg.to_string())
    }

    #[test]
    fn a_percent_alarms_threshold_is_shown_as_a_percentage() {
        let n = percent_alarm();
        let Notification::Alarm(a) = &n else {
            panic!("not an alarm")
        };
        assert_eq!(
            condition(a).as_deref(),
            Some("healthy targets (%) (60 s) < 50 %")
        );
        let fields = field_texts(&render(&n, &Targets::NotApplicable.into(), None));
        assert!(
            fields.contains(&"*Condition*\nhealthy targets (%) (60 s) &lt; 50 %".to_owned()),
            "{fields:?}"
        );
    }

    #[test]
    fn a_zone_math_alarm_says_what_it_counts_and_which_target_group() {
        let n = zone_math_alarm();
        let Notification::Alarm(a) = &n else {
            panic!("not an alarm")
        };
        assert_eq!(
            crate::event::kind::kind_of(a),
            Some(crate::event::kind::LbKind::Network)
        );
        assert_eq!(
            a.target_group_arn().as_deref(),
            Some(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tcp-tg/6d0ecf831eec9f09"
            )
        );
        assert_eq!(
            condition(a).as_deref(),
            Some("HealthyHostCount, all zones summed (60 s) < 2")
        );
        let text = all_texts(&render(&n, &Targets::NotApplicable.into(), None)).join("\n");
        for needle in [
            "HealthyHostCount, all zones summed",
            "in the target group as a whole (its 2 zones summed)",
            "tcp-nlb",
            "tcp-tg",
        ] {
            assert!(text.contains(needle), "no {needle:?} in {text}");
        }
    }

    #[test]
    fn an_alarm_found_at_setup_says_so_in_the_text_and_the_message() {
        let (subject, message) = fixture_message("sns-alarm-healthyhostcount-alarm.json");
        let mut m: Value = serde_json::from_str(&message).unwrap();
        let plain = parse_notification(subject.as_deref(), &message);
        m["ElbWatchAnnouncement"] = json!("found-in-alarm-at-setup");
        let announced = parse_notification(subject.as_deref(), &m.to_string());
        let (Notification::Alarm(p), Notification::Alarm(a)) = (&plain, &announced) else {
            panic!("not alarms");
        };
        assert!(!p.found_at_setup());
        assert!(a.found_at_setup());
        let mut payload = render(&announced, &Targets::NotApplicable.into(), None);
        mark_found_at_setup(&mut payload);
        assert_slack_limits(&payload);
        assert!(
            payload["text"]
                .as_str()
                .unwrap()
                .starts_with(":mag: Found in ALARM")
        );
        assert!(
            blocks(&payload)[0]
                .to_string()
                .contains("completed the alerting path"),
            "{payload:#}"
        );
    }

    fn field_texts(payload: &Value) -> Vec<String> {
        blocks(payload)
            .iter()
            .flat_map(|b| b["fields"].as_array().cloned().unwrap_or_default())
            .map(|f| f["text"].as_str().unwrap().to_owned())
            .collect()
    }

    const CONSOLE: &str = "https://ap-northeast-1.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-1#alarmsV2:alarm/";

    #[test]
    fn every_fixture_renders_within_limits() {
        for name in FIXTURES {
            for targets in [Targets::NotApplicable, Targets::Unavailable] {
                let p = render_fixture(name, &targets, Some("#ops"));
                assert_slack_limits(&p);
                assert_no_injection(&p);
                assert_eq!(p["channel"], "#ops", "{name}");
            }
        }
    }

    #[test]
    fn alarm_fixture_field_by_field() {
        let p = render_fixture(
            "sns-alarm-healthyhostcount-alarm.json",
            &Targets::NotApplicable,
            None,
        );
        assert!(p.get("channel").is_none(), "no channel unless configured");
        assert_eq!(p["attachments"][0]["color"], "danger");
        assert_eq!(
            p["text"],
            ":rotating_light: ALARM: elb-watch-prod-web-tg-HealthyHostCount — web-alb / web-tg — \
             Threshold Crossed: 1 out of the last 1 datapoints [0.0 (20/11/26 03:14:00)] was less than or equal to \
             the threshold (0.0) (minimum 1 datapoint for OK -&gt; ALARM transition)."
        );
        assert_eq!(p["attachments"][0]["fallback"], p["text"]);
        let b = blocks(&p);
        assert_eq!(b[0]["type"], "header");
        assert_eq!(
            b[0]["text"]["text"],
            ":rotating_light: ALARM: elb-watch-prod-web-tg-HealthyHostCount"
        );
        assert_eq!(
            b[1]["text"]["text"],
            "web-alb has no healthy targets in web-tg"
        );
        assert_eq!(
            field_texts(&p),
            vec![
                "*State*\nOK → *ALARM*",
                "*Application Load Balancer*\nweb-alb",
                "*Target group*\nweb-tg",
                "*Changed at*\n2026-11-20 03:15:42 UTC",
                "*Condition*\nHealthyHostCount (MINIMUM, 60 s) &lt;= 0",
                "*Region*\nap-northeast-1 (Asia Pacific (Tokyo))",
                "*Account*\n123456789012",
            ]
        );
        assert!(
            b[3]["text"]["text"]
                .as_str()
                .unwrap()
                .starts_with("*Reason*\nThreshold Crossed")
        );
        assert!(
            b[3]["text"]["text"]
                .as_str()
                .unwrap()
                .contains("OK -&gt; ALARM")
        );
        let footer = b.last().unwrap();
        assert_eq!(footer["type"], "context");
        assert_eq!(
            footer["elements"][0]["text"],
            format!(
                "<https://ap-northeast-1.console.aws.amazon.com/ec2/home?region=ap-northeast-1\
                 #TargetGroup:targetGroupArn=arn%3Aaws%3Aelasticloadbalancing%3Aap%2Dnortheast%2D1\
                 %3A123456789012%3Atargetgroup%2Fweb%2Dtg%2F6d0ecf831eec9f09|View target group>  ·  \
                 <{CONSOLE}elb-watch-prod-web-tg-HealthyHostCount|View alarm in the CloudWatch \
                 console>  ·  elb-watch"
            )
        );
        assert_eq!(b.len(), 5);
    }

    #[test]
    fn ok_fixture_is_green_and_says_recovered() {
        let p = render_fixture(
            "sns-alarm-healthyhostcount-ok.json",
            &Targets::NotApplicable,
            None,
        );
        assert_eq!(p["attachments"][0]["color"], "good");
        let header = blocks(&p)[0]["text"]["text"].as_str().unwrap();
        assert_eq!(
            header,
            ":white_check_mark: OK (recovered): elb-watch-prod-web-tg-HealthyHostCount"
        );
        assert!(
            p["text"]
                .as_str()
                .unwrap()
                .starts_with(":white_check_mark: OK (recovered): ")
        );
        let fields = field_texts(&p);
        assert_eq!(fields[0], "*State*\nALARM → *OK*");
        assert_eq!(fields[3], "*Changed at*\n2026-11-20 03:22:40 UTC");
    }

    #[test]
    fn insufficient_data_fixture_is_grey_without_description() {
        let p = render_fixture(
            "sns-alarm-insufficient-data.json",
            &Targets::NotApplicable,
            None,
        );
        assert_eq!(p["attachments"][0]["color"], "#9E9E9E");
        let b = blocks(&p);
        assert_eq!(
            b[0]["text"]["text"],
            ":grey_question: INSUFFICIENT_DATA: elb-watch-prod-web-tg-HealthyHostCount"
        );
        // No description block: header is followed directly by the fields.
        assert!(b[1]["fields"].is_array());
        assert_eq!(
            b[2]["text"]["text"],
            "*Reason*\nInsufficient Data: 1 datapoint was unknown."
        );
    }

    #[test]
    fn metric_math_fixture_shows_lb_tg_and_expression_label() {
        let p = render_fixture("sns-alarm-metric-math.json", &Targets::NotApplicable, None);
        let fields = field_texts(&p);
        assert!(
            fields.contains(&"*Application Load Balancer*\nweb-alb".to_owned()),
            "{fields:?}"
        );
        assert!(fields.contains(&"*Target group*\nweb-tg".to_owned()));
        assert!(
            fields.contains(&"*Condition*\nhealthy ratio (60 s) &lt; 0.5".to_owned()),
            "{fields:?}"
        );
        assert!(p["text"].as_str().unwrap().contains("web-alb / web-tg"));
        let footer = blocks(&p).last().unwrap()["elements"][0]["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            footer.contains(&format!("{CONSOLE}web-alb-healthy-ratio|")),
            "{footer}"
        );
    }

    #[test]
    fn plain_text_fixture_is_marked_as_not_an_alarm() {
        let p = render_fixture("sns-plain-text-message.json", &Targets::NotApplicable, None);
        assert_eq!(
            p["text"],
            ":envelope: SNS message (not a CloudWatch alarm): test message — Hello from the SNS console: this is not a CloudWatch alarm."
        );
        let b = blocks(&p);
        assert_eq!(
            b[0]["text"]["text"],
            ":envelope: SNS message (not a CloudWatch alarm)"
        );
        assert_eq!(b[1]["text"]["text"], "*Subject:* test message");
        assert_eq!(
            b[2]["text"]["text"],
            "Hello from the SNS console: this is not a CloudWatch alarm."
        );
        assert_eq!(b.len(), 3);
    }

    fn hostile_alarm(description: &str, name: &str) -> Value {
        let msg = serde_json::json!({
            "AlarmName": name,
            "AlarmDescription": description,
            "NewStateValue": "ALARM",
            "OldStateValue": "OK",
            "NewStateReason": "<!here> reason & <https://evil.example|details>",
            "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:x",
            "StateChangeTime": "<!channel>",
            "Region": "<!everyone>",
            "Trigger": {
                "MetricName": "<@U123>",
                "ComparisonOperator": "<weird>",
                "Dimensions": [
                    {"name": "LoadBalancer", "value": "app/<!channel>/1"},
                    {"name": "TargetGroup", "value": "targetgroup/a&b/2"}
                ]
            }
        });
        render(
            &parse_notification(Some("<!channel>"), &msg.to_string()),
            &Targets::NotApplicable.into(),
            None,
        )
    }

    #[test]
    fn hostile_fields_are_escaped_everywhere() {
        let p = hostile_alarm(
            "ping <!channel> and click <https://evil.example|here> & win",
            "name<!subteam^S1>|<https://evil|x>",
        );
        assert_slack_limits(&p);
        assert_no_injection(&p);
        let b = blocks(&p);
        assert_eq!(
            b[1]["text"]["text"],
            "ping &lt;!channel&gt; and click &lt;https://evil.example|here&gt; &amp; win"
        );
        let fields = field_texts(&p);
        assert!(
            fields.contains(&"*Load balancer*\n&lt;!channel&gt;".to_owned()),
            "{fields:?}"
        );
        assert!(
            fields.contains(&"*Target group*\na&amp;b".to_owned()),
            "{fields:?}"
        );
        // The alarm name is percent-encoded inside our own link, so it cannot close it.
        let footer = b.last().unwrap()["elements"][0]["text"].as_str().unwrap();
        assert!(
            footer.contains(
                "alarm/name%3C%21subteam%5ES1%3E%7C%3Chttps%3A%2F%2Fevil%7Cx%3E|View alarm"
            ),
            "{footer}"
        );
    }

    #[test]
    fn hostile_plain_text_message_is_escaped() {
        let n = parse_notification(
            Some("<!channel> & co"),
            "<https://evil|click> me <!everyone>",
        );
        let p = render(&n, &Targets::NotApplicable.into(), None);
        assert_slack_limits(&p);
        assert_no_injection(&p);
        assert_eq!(
            blocks(&p)[2]["text"]["text"],
            "&lt;https://evil|click&gt; me &lt;!everyone&gt;"
        );
    }

    #[test]
    fn fifty_kilobyte_description_is_truncated() {
        let desc = "x<&>".repeat(50_000 / 4);
        let p = hostile_alarm(&desc, "a");
        assert_slack_limits(&p);
        assert_no_injection(&p);
        let d = blocks(&p)[1]["text"]["text"].as_str().unwrap();
        assert_eq!(d.chars().count(), SECTION_MAX.min(d.chars().count()));
        assert!(d.ends_with('…'));
        assert!(d.chars().count() > 2900, "uses the room it has");
    }

    #[test]
    fn long_japanese_texts_are_cut_on_char_boundaries() {
        let name = "本番環境ロードバランサー監視".repeat(20);
        let desc = "ターゲットが異常です。".repeat(1000);
        let msg = serde_json::json!({
            "AlarmName": name, "AlarmDescription": desc, "NewStateValue": "OK",
            "NewStateReason": "理由".repeat(3000),
            "AlarmArn": "arn:aws:cloudwatch:ap-northeast-1:1:alarm:x",
        });
        let p = render(
            &parse_notification(None, &msg.to_string()),
            &Targets::NotApplicable.into(),
            None,
        );
        assert_slack_limits(&p);
        let header = blocks(&p)[0]["text"]["text"].as_str().unwrap();
        assert_eq!(header.chars().count(), HEADER_MAX);
        assert!(header.ends_with('…') && header.contains("本番環境"));
        assert!(p["text"].as_str().unwrap().ends_with('…'));
        // Non-ASCII names are percent-encoded as UTF-8 in the console link.
        let footer = blocks(&p).last().unwrap()["elements"][0]["text"]
            .as_str()
            .unwrap();
        assert!(footer.contains("alarm/%E6%9C%AC%E7%95%AA"), "{footer}");
    }

    #[test]
    fn huge_plain_message_is_truncated_and_says_so() {
        let text = "a&b ".repeat(20_000);
        let p = render(
            &parse_notification(None, &text),
            &Targets::NotApplicable.into(),
            None,
        );
        assert_slack_limits(&p);
        assert_no_injection(&p);
        let b = blocks(&p);
        assert_eq!(b.len(), 3, "no subject block");
        assert_eq!(
            b[2]["elements"][0]["text"],
            "Message truncated: 80000 characters in total."
        );
    }

    #[test]
    fn invalid_json_and_wrong_shape_messages_render_as_text() {
        for msg in [
            "{\"AlarmName\": ",
            r#"{"AlarmName": ["x"], "NewStateValue": 1}"#,
            "",
        ] {
            let p = render(
                &parse_notification(None, msg),
                &Targets::NotApplicable.into(),
                None,
            );
            assert_slack_limits(&p);
            assert!(
                p["text"]
                    .as_str()
                    .unwrap()
                    .contains("not a CloudWatch alarm"),
                "{msg}"
            );
        }
    }

    #[test]
    fn unknown_state_is_rendered_not_dropped() {
        let msg = r#"{"AlarmName": "a", "NewStateValue": "<!channel>"}"#;
        let p = render(
            &parse_notification(None, msg),
            &Targets::NotApplicable.into(),
            None,
        );
        assert_slack_limits(&p);
        assert_no_injection(&p);
        assert_eq!(p["attachments"][0]["color"], "warning");
        assert_eq!(
            blocks(&p)[0]["text"]["text"],
            ":grey_exclamation: &lt;!channel&gt;: a"
        );
    }

    #[test]
    fn time_and_condition_formatting() {
        assert_eq!(
            format_time("2026-11-20T03:15:42.118+0000"),
            "2026-11-20 03:15:42 UTC"
        );
        assert_eq!(
            format_time("2026-11-20T12:15:42.118+0900"),
            "2026-11-20 03:15:42 UTC"
        );
        assert_eq!(
            format_time("2026-11-20T03:15:42Z"),
            "2026-11-20 03:15:42 UTC"
        );
        assert_eq!(format_time("yesterday"), "yesterday");
        assert_eq!(comparison_symbol("GreaterThanOrEqualToThreshold"), ">=");
        assert_eq!(
            comparison_symbol("LessThanLowerOrGreaterThanUpperThreshold"),
            "outside the band"
        );
    }

    #[test]
    fn console_url_per_partition() {
        let alarm = |arn: &str| {
            let msg = serde_json::json!({"AlarmName": "my alarm/1", "NewStateValue": "OK", "AlarmArn": arn});
            match parse_notification(None, &msg.to_string()) {
                Notification::Alarm(a) => *a,
                _ => unreachable!(),
            }
        };
        assert_eq!(
            console_url(&alarm("arn:aws:cloudwatch:eu-west-1:1:alarm:x")).unwrap(),
            "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/my%20alarm%2F1"
        );
        assert_eq!(
            console_url(&alarm("arn:aws-cn:cloudwatch:cn-north-1:1:alarm:x")).unwrap(),
            "https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1#alarmsV2:alarm/my%20alarm%2F1"
        );
        assert_eq!(console_url(&alarm("garbage")), None);
    }

    /// Found by the fuzzer: a long multi-byte name made the link longer than a context
    /// element, and truncation cut it into broken markup.
    #[test]
    fn a_name_too_long_to_link_links_the_alarm_list() {
        for name in ["🚨".repeat(255), "監".repeat(255), "a".repeat(255)] {
            let msg = serde_json::json!({"AlarmName": name, "NewStateValue": "ALARM",
                "AlarmArn": "arn:aws:cloudwatch:ap-northeast-1:1:alarm:x"});
            let p = render(
                &parse_notification(None, &msg.to_string()),
                &Targets::NotApplicable.into(),
                None,
            );
            assert_slack_limits(&p);
            assert_no_injection(&p);
            let footer = blocks(&p).last().unwrap()["elements"][0]["text"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(footer.ends_with(">  ·  elb-watch"), "{footer}");
            // 255 × 3-byte characters still fit (2,295 encoded characters); 4-byte ones do not.
            if !name.starts_with('🚨') {
                assert!(footer.contains("#alarmsV2:alarm/"), "{footer}");
            } else {
                assert!(
                    footer.starts_with(
                        "<https://ap-northeast-1.console.aws.amazon.com/cloudwatch/home?\
                         region=ap-northeast-1#alarmsV2:|View alarms in the CloudWatch console>"
                    ),
                    "{footer}"
                );
            }
        }
    }

    fn target(i: usize) -> UnhealthyTarget {
        UnhealthyTarget {
            id: format!("i-{i:04}"),
            port: Some(80),
            availability_zone: None,
            state: "unhealthy".into(),
            reason: Some("Target.FailedHealthChecks".into()),
            description: Some("Health checks failed with these codes: [502]".into()),
        }
    }

    #[test]
    fn enrichment_from_describe_target_health_output() {
        use aws_sdk_elasticloadbalancingv2::types::{
            TargetDescription, TargetHealth, TargetHealthDescription, TargetHealthReasonEnum as R,
            TargetHealthStateEnum as S,
        };
        let thd = |id: &str, port, state, reason: Option<R>, desc: Option<&str>| {
            TargetHealthDescription::builder()
                .target(TargetDescription::builder().id(id).port(port).build())
                .target_health(
                    TargetHealth::builder()
                        .state(state)
                        .set_reason(reason)
                        .set_description(desc.map(str::to_owned))
                        .build(),
                )
                .build()
        };
        let output = vec![
            thd("i-0healthy", 80, S::Healthy, None, None),
            thd(
                "i-0bad",
                8080,
                S::Unhealthy,
                Some(R::FailedHealthChecks),
                Some("Health checks failed with these codes: [502]"),
            ),
            thd(
                "10.0.1.7",
                80,
                S::Unhealthy,
                Some(R::Timeout),
                Some("Request timed out <!channel>"),
            ),
        ];
        let report = report_from(
            "arn:aws:elasticloadbalancing:ap-northeast-1:1:targetgroup/web-tg/1",
            &output,
        );
        let p = render_fixture(
            "sns-alarm-healthyhostcount-alarm.json",
            &Targets::Report(report),
            None,
        );
        assert_slack_limits(&p);
        assert_no_injection(&p);
        let section = blocks(&p)
            .iter()
            .find_map(|b| {
                b["text"]["text"]
                    .as_str()
                    .filter(|t| t.starts_with("*Unhealthy targets*"))
            })
            .expect("targets section")
            .to_owned();
        assert_eq!(
            section,
            "*Unhealthy targets* (2 of 3 registered)\n\
             • `i-0bad:8080` unhealthy (Target.FailedHealthChecks) — Health checks failed with these codes: [502]\n\
             • `10.0.1.7:80` unhealthy (Target.Timeout) — Request timed out &lt;!channel&gt;"
        );
    }

    #[test]
    fn target_list_is_capped_with_and_n_more() {
        let report = TargetReport {
            target_group_arn: "arn".into(),
            registered: 40,
            unhealthy: (0..25).map(target).collect(),
            ..TargetReport::default()
        };
        let text = targets_text(&report);
        assert!(text.starts_with("*Unhealthy targets* (25 of 40 registered)"));
        assert_eq!(text.matches("\n• ").count(), MAX_LISTED_TARGETS);
        assert!(text.contains("`i-0009:80`") && !text.contains("i-0010"));
        assert!(text.ends_with("\n…and 15 more"), "{text}");

        let healthy = TargetReport {
            target_group_arn: "arn".into(),
            registered: 2,
            unhealthy: vec![],
            ..TargetReport::default()
        };
        assert_eq!(
            targets_text(&healthy),
            "*Target health*: all 2 registered target(s) report healthy now."
        );

        // Huge descriptions still fit the section.
        let mut big = target(1);
        big.description = Some("<x>".repeat(5000));
        let report = TargetReport {
            target_group_arn: "a".into(),
            registered: 10,
            unhealthy: vec![big; 10],
            ..TargetReport::default()
        };
        assert!(targets_text(&report).chars().count() <= SECTION_MAX);
    }

    fn recovery(outage: Outage) -> Value {
        let (subject, message) = fixture_message("sns-alarm-healthyhostcount-ok.json");
        render(
            &parse_notification(subject.as_deref(), &message),
            &outage.into(),
            None,
        )
    }

    #[test]
    fn a_recovery_states_its_outage_in_a_field_and_the_notification_text() {
        // The fixture's OK: StateChangeTime 2026-11-20T03:22:40.561+0000.
        let until = parse_time("2026-11-20T03:22:40.561+0000").unwrap();
        let span = crate::enrich::outage::Span {
            began_with_test: false,
            since: until - chrono::TimeDelta::seconds(252),
            until,
        };
        let p = recovery(Outage::Known(span));
        assert_slack_limits(&p);
        assert_no_injection(&p);
        let fields = field_texts(&p);
        assert_eq!(fields[0], "*State*\nALARM → *OK*");
        assert_eq!(fields[1], "*Outage*\ndown for 4 min 12 s, since 03:18 UTC");
        assert_eq!(
            p["text"],
            ":white_check_mark: OK (recovered): elb-watch-prod-web-tg-HealthyHostCount — web-alb / web-tg — \
             down for 4 min 12 s, since 03:18 UTC — Threshold Crossed: 1 out of the last 1 datapoints \
             [1.0 (20/11/26 03:21:00)] was not less than or equal to the threshold (0.0) (minimum 1 \
             datapoint for ALARM -&gt; OK transition)."
        );
    }

    #[test]
    fn a_recovery_with_an_unknown_outage_is_todays_message() {
        let today = recovery(Outage::NotApplicable);
        assert_eq!(recovery(Outage::Unknown), today);
        assert!(!all_texts(&today).iter().any(|t| t.contains("down for")));
        assert!(
            !field_texts(&today)
                .iter()
                .any(|t| t.starts_with("*Outage*"))
        );
    }

    #[test]
    fn unavailable_enrichment_adds_a_note_only_on_alarm() {
        let p = render_fixture(
            "sns-alarm-healthyhostcount-alarm.json",
            &Targets::Unavailable,
            None,
        );
        let notes: Vec<_> = all_texts(&p)
            .into_iter()
            .filter(|t| t.contains("Target health unavailable"))
            .collect();
        assert_eq!(notes.len(), 1);
    }

    fn zoned(id: &str, zone: Option<&str>, reason: &str) -> UnhealthyTarget {
        UnhealthyTarget {
            id: id.into(),
            port: Some(80),
            availability_zone: zone.map(str::to_owned),
            state: "unhealthy".into(),
            reason: Some(reason.into()),
            description: None,
        }
    }

    /// A zone-wide failure reads as one line; a zone's count is "of" its registered targets
    /// when ELBv2 named their zones; targets without a zone come last.
    #[test]
    fn unhealthy_targets_are_grouped_by_zone_when_their_zones_are_known() {
        let report = TargetReport {
            target_group_arn: "arn".into(),
            registered: 7,
            unhealthy: vec![
                zoned("10.0.2.9", Some("eu-west-1b"), "Target.FailedHealthChecks"),
                zoned("10.0.1.7", Some("eu-west-1a"), "Target.Timeout"),
                zoned("10.0.1.8", Some("eu-west-1a"), "Target.Timeout"),
                zoned("i-0abc", None, "Target.FailedHealthChecks"),
                zoned("10.0.1.9", Some("eu-west-1a"), "Target.Timeout"),
            ],
            registered_by_zone: [("eu-west-1a", 3), ("eu-west-1b", 3)]
                .map(|(z, n)| (z.to_owned(), n))
                .into(),
        };
        assert_eq!(
            targets_text(&report),
            "*Unhealthy targets* (5 of 7 registered)\n\
             *eu-west-1a*: 3 of 3 unhealthy (Target.Timeout) — the whole zone\n\
             • `10.0.1.7:80` unhealthy (Target.Timeout)\n\
             • `10.0.1.8:80` unhealthy (Target.Timeout)\n\
             • `10.0.1.9:80` unhealthy (Target.Timeout)\n\
             *eu-west-1b*: 1 of 3 unhealthy (Target.FailedHealthChecks)\n\
             • `10.0.2.9:80` unhealthy (Target.FailedHealthChecks)\n\
             *zone unknown*: 1 unhealthy (Target.FailedHealthChecks)\n\
             • `i-0abc:80` unhealthy (Target.FailedHealthChecks)"
        );
        // No zone known (instance targets, Classic): the list as it always was.
        let flat = TargetReport {
            unhealthy: report
                .unhealthy
                .iter()
                .cloned()
                .map(|t| UnhealthyTarget {
                    availability_zone: None,
                    ..t
                })
                .collect(),
            ..report.clone()
        };
        let text = targets_text(&flat);
        assert!(!text.contains("zone"), "{text}");
        assert_eq!(text.matches("\n• ").count(), 5);

        // Many zones and targets: the list cap holds across zones, every zone is summed up,
        // hostile zone names are escaped, and the section fits.
        let many = TargetReport {
            target_group_arn: "arn".into(),
            registered: 60,
            unhealthy: (0..40)
                .map(|i| {
                    let mut t = zoned(
                        &format!("10.0.{i}.1"),
                        Some(&format!("z<!here>{}", i % 4)),
                        "R",
                    );
                    t.description = Some("<x>".repeat(300));
                    t
                })
                .collect(),
            ..TargetReport::default()
        };
        let text = targets_text(&many);
        assert!(text.chars().count() <= SECTION_MAX);
        assert!(
            !text.contains("<!here>") && text.contains("z&lt;!here&gt;0"),
            "{text}"
        );
        assert!(text.matches("\n• ").count() <= MAX_LISTED_TARGETS);
        let p = render_fixture(
            "sns-alarm-healthyhostcount-alarm.json",
            &Targets::Report(many),
            None,
        );
        assert_slack_limits(&p);
        assert_no_injection(&p);
    }

    #[test]
    fn mentions_and_the_runbook_keep_slacks_limits() {
        let mentions: Vec<String> = (0..10).map(|i| format!("<!subteam^S{i:019}>")).collect();
        let desc = "d<&>".repeat(2000);
        let mut p = hostile_alarm(&desc, &"n".repeat(255));
        add_mentions(&mut p, &mentions);
        add_runbook(&mut p, &format!("https://w.example/{}", "a".repeat(2980)));
        assert_slack_limits(&p);
        let lead = mentions.join(" ");
        assert!(p["text"].as_str().unwrap().starts_with(&lead));
        let first = &blocks(&p)[1]["text"]["text"];
        assert!(first.as_str().unwrap().starts_with(&lead), "{first}");
        assert_eq!(first.as_str().unwrap().chars().count(), SECTION_MAX);
        // No blocks: nothing to lead, nothing breaks; at the block limit no button is added.
        let mut bare = json!({"text": "t", "attachments": [{"fallback": "t", "blocks": []}]});
        add_mentions(&mut bare, &mentions);
        assert_eq!(bare["attachments"][0]["blocks"][0]["text"]["text"], lead);
        let mut full = json!({"text": "t", "attachments": [{"blocks": vec![context("c".into()); MAX_BLOCKS]}]});
        add_runbook(&mut full, "https://w.example/");
        assert_eq!(blocks(&full).len(), MAX_BLOCKS);
        assert!(blocks(&full).iter().all(|b| b["type"] == "context"));
    }
}
