//! Property-based fuzzing (proptest) of the pure path an invocation takes: payload bytes ->
//! [`parse_event`] -> [`parse_notification`] -> [`render`]. For any input: no panic, and the
//! payload is valid JSON within Slack's limits (section text <= 3000, header <= 150, fallback
//! text <= 4000, <= 50 blocks, <= 10 fields of <= 2000) with no raw `<`, `>` or bare `&` left
//! from the input (`test_support::assert_slack_limits` / `assert_no_injection`).
//!
//! Each property runs `PROPTEST_CASES` cases (default [`DEFAULT_CASES`]) and prints how many
//! it ran (`cargo test -p elb-watch-notifier fuzz -- --nocapture`).

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

use crate::enrich::outage::{Outage, Span};
use crate::enrich::targets::{Enrichment, TargetReport, Targets, UnhealthyTarget};
use crate::event::parse::{Notification, parse_event, parse_notification};
use crate::render::blocks::render;
use crate::test_support::{assert_no_injection, assert_slack_limits};

/// Cases per property unless `PROPTEST_CASES` says otherwise.
pub const DEFAULT_CASES: u32 = 2000;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// Runs `test` on `cases()` inputs of `strategy`; a panic or failed assertion fails the test
/// with the shrunk input.
fn check<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value))
where
    S::Value: std::fmt::Debug,
{
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let runs = std::cell::Cell::new(0u32);
    let result = runner.run(&strategy, |input| {
        runs.set(runs.get() + 1);
        test(input);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    eprintln!("{name}: {} cases passed", runs.get());
}

/// Every check a rendered payload must pass.
fn assert_valid(payload: &Value) {
    assert_slack_limits(payload);
    assert_no_injection(payload);
    let fallback = payload["attachments"][0]["fallback"].as_str().unwrap();
    assert!(fallback.chars().count() <= crate::render::blocks::FALLBACK_MAX);
}

/// Pieces that exercise escaping, entity-safe truncation, multi-byte characters and Slack's
/// control sequences.
const TOKENS: &[&str] = &[
    "<",
    ">",
    "&",
    "|",
    "!",
    "@",
    "#",
    ";",
    "*",
    "_",
    "`",
    "~",
    ":",
    "/",
    "-",
    " ",
    "\n",
    "\"",
    "\\",
    "a",
    "m",
    "p",
    "l",
    "g",
    "t",
    "&amp;",
    "&lt;",
    "&gt",
    "<!channel>",
    "<!here|x>",
    "<https://evil.example|click>",
    "<@U123>",
    "日本",
    "\u{1F6A8}",
    "\u{0}",
    "\u{202E}",
    "\u{FEFF}",
    "\u{7F}",
    "é",
    "arn:aws:",
    "targetgroup/",
    "app/",
];

fn hostile(max_tokens: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..max_tokens).prop_map(|t| t.concat())
}

/// Short arbitrary Unicode, hostile text, or hostile text long enough to hit every limit.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        4 => hostile(40),
        1 => hostile(1800),
    ]
}

/// Any JSON document, with hostile strings and keys.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..8)
                .prop_map(|m: BTreeMap<String, Value>| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A string, sometimes a value of the wrong type, sometimes absent.
fn field() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        6 => text().prop_map(|s| Some(Value::String(s))),
        1 => json_value().prop_map(Some),
        1 => Just(None),
    ]
}

fn one_of(known: &'static [&'static str]) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => prop::sample::select(known).prop_map(|s| Some(json!(s))),
        2 => field(),
    ]
}

fn dimensions() -> impl Strategy<Value = Value> {
    let name = prop_oneof![
        prop::sample::select(&["LoadBalancer", "TargetGroup", "AvailabilityZone"][..])
            .prop_map(str::to_owned),
        text(),
    ];
    let value = prop_oneof![
        text(),
        (text(), text()).prop_map(|(a, b)| format!("app/{a}/{b}")),
        (text(), text()).prop_map(|(a, b)| format!("targetgroup/{a}/{b}")),
    ];
    prop::collection::vec((name, value), 0..6).prop_map(|dims| {
        Value::Array(
            dims.into_iter()
                .map(|(name, value)| json!({"name": name, "value": value}))
                .collect(),
        )
    })
}

fn arn() -> impl Strategy<Value = Option<Value>> {
    let part = || prop_oneof![text(), Just("us-east-1".to_owned()), Just("aws".to_owned())];
    prop_oneof![
        2 => (part(), part(), part(), text())
            .prop_map(|(p, r, a, name)| Some(json!(format!("arn:{p}:cloudwatch:{r}:{a}:alarm:{name}")))),
        1 => field(),
    ]
}

fn set(obj: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        obj.insert(key.to_owned(), v);
    }
}

/// A CloudWatch alarm message with arbitrary content in every field the parser reads.
fn alarm_message() -> impl Strategy<Value = Value> {
    let states = &["ALARM", "OK", "INSUFFICIENT_DATA"][..];
    // A string (else the message is not an alarm), known or not.
    let new_state = prop_oneof![
        3 => prop::sample::select(states).prop_map(str::to_owned),
        1 => text(),
    ];
    let ops = &[
        "GreaterThanOrEqualToThreshold",
        "LessThanThreshold",
        "LessThanOrEqualToThreshold",
        "LessThanLowerOrGreaterThanUpperThreshold",
    ][..];
    let metric = (
        field(),
        field(),
        field(),
        field(),
        dimensions(),
        any::<bool>(),
    )
        .prop_map(|(id, label, expression, name, dims, returns)| {
            let mut m = Map::new();
            set(&mut m, "Id", id);
            set(&mut m, "Label", label);
            set(&mut m, "Expression", expression);
            m.insert("ReturnData".into(), json!(returns));
            m.insert(
                "MetricStat".into(),
                json!({"Metric": {"MetricName": name, "Namespace": "AWS/ApplicationELB",
                                  "Dimensions": dims}, "Period": 60, "Stat": "Minimum"}),
            );
            Value::Object(m)
        });
    let trigger = (
        (field(), field(), field(), field()),
        (one_of(ops), any::<f64>(), any::<u64>(), dimensions()),
        prop::option::of(prop::collection::vec(metric, 0..4)),
    )
        .prop_map(
            |((metric, namespace, stat, ext), (op, threshold, period, dims), metrics)| {
                let mut t = Map::new();
                set(&mut t, "MetricName", metric);
                set(&mut t, "Namespace", namespace);
                set(&mut t, "Statistic", stat);
                set(&mut t, "ExtendedStatistic", ext);
                set(&mut t, "ComparisonOperator", op);
                t.insert("Threshold".into(), json!(threshold));
                t.insert("Period".into(), json!(period));
                t.insert("Dimensions".into(), dims);
                set(&mut t, "Metrics", metrics.map(Value::Array));
                Value::Object(t)
            },
        );
    (
        (text(), new_state, one_of(states), field()),
        (field(), field(), field(), field()),
        (arn(), field()),
        prop::option::of(trigger),
    )
        .prop_map(
            |(
                (name, new, old, description),
                (reason, time, region, account),
                (arn, extra),
                trigger,
            )| {
                let mut a = Map::new();
                // Without a name the message is not an alarm; keep it one.
                a.insert("AlarmName".into(), json!(format!("n{name}")));
                a.insert("NewStateValue".into(), json!(new));
                set(&mut a, "OldStateValue", old);
                set(&mut a, "AlarmDescription", description);
                set(&mut a, "NewStateReason", reason);
                set(&mut a, "StateChangeTime", time);
                set(&mut a, "Region", region);
                set(&mut a, "AWSAccountId", account);
                set(&mut a, "AlarmArn", arn);
                set(&mut a, "Unexpected", extra);
                set(&mut a, "Trigger", trigger);
                Value::Object(a)
            },
        )
}

fn targets() -> impl Strategy<Value = Targets> {
    let target = (
        text(),
        any::<Option<i32>>(),
        text(),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
    )
        .prop_map(
            |(id, port, state, reason, description, zone)| UnhealthyTarget {
                id,
                port,
                availability_zone: zone,
                state,
                reason,
                description,
            },
        );
    prop_oneof![
        Just(Targets::NotApplicable),
        Just(Targets::Unavailable),
        (
            text(),
            any::<u16>(),
            prop::collection::vec(target, 0..25),
            prop::collection::btree_map(text(), any::<u16>(), 0..8),
        )
            .prop_map(|(arn, registered, unhealthy, zones)| {
                Targets::Report(TargetReport {
                    target_group_arn: arn,
                    registered: registered as usize,
                    unhealthy,
                    registered_by_zone: zones.into_iter().map(|(z, n)| (z, n as usize)).collect(),
                })
            }),
    ]
}

/// Renders every record of an invocation payload, as the handler does.
fn render_payload(payload: &Value, targets: &Targets) {
    let Ok(event) = parse_event(payload) else {
        return;
    };
    for record in &event.records {
        let n = parse_notification(
            record.subject.as_deref(),
            record.message.as_deref().unwrap_or(""),
        );
        assert_valid(&render(&n, &targets.clone().into(), Some("#ops")));
    }
}

#[test]
fn arbitrary_bytes_as_payload_and_as_message() {
    let bytes = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..600),
        // Mostly valid JSON with a few bytes flipped.
        (
            json_value(),
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4)
        )
            .prop_map(|(v, flips)| {
                let mut b = json!({"Records": [{"Sns": {"Message": v.to_string()}}]})
                    .to_string()
                    .into_bytes();
                for (at, byte) in flips {
                    let i = at.index(b.len());
                    b[i] = byte;
                }
                b
            }),
    ];
    check("bytes", bytes, |bytes| {
        if let Ok(payload) = serde_json::from_slice::<Value>(&bytes) {
            render_payload(&payload, &Targets::NotApplicable);
        }
        let message = String::from_utf8_lossy(&bytes);
        let n = parse_notification(None, &message);
        assert_valid(&render(&n, &Targets::Unavailable.into(), None));
    });
}

#[test]
fn arbitrary_json_as_message_subject_and_record() {
    let input = (json_value(), prop::option::of(text()), json_value());
    check("json", input, |(message, subject, sns)| {
        let payload = json!({"Records": [
            {"Sns": {"Message": message.to_string(), "Subject": subject}},
            {"Sns": sns},
            {"Sns": {"Message": message}},
        ]});
        render_payload(&payload, &Targets::NotApplicable);
        // The whole payload arbitrary: rejected or rendered, never a panic.
        render_payload(&json!({"Records": [message]}), &Targets::NotApplicable);
    });
}

#[test]
fn arbitrary_strings_in_every_alarm_field() {
    check(
        "alarm",
        (
            alarm_message(),
            prop::option::of(text()),
            targets(),
            0i64..40 * 86_400,
        ),
        |(alarm, subject, targets, down_s)| {
            let n = parse_notification(subject.as_deref(), &alarm.to_string());
            assert!(matches!(n, Notification::Alarm(_)), "{alarm}");
            let until = chrono::DateTime::from_timestamp(1_795_143_660, 0).unwrap();
            let outage = Outage::Known(Span {
                began_with_test: false,
                since: until - chrono::TimeDelta::seconds(down_s),
                until,
            });
            assert_valid(&render(&n, &Enrichment { targets, outage }, None));
        },
    );
}

/// The checks above can fail: a payload with a raw control sequence, or over a limit, is
/// caught. (Guards against an assertion helper that silently accepts everything.)
#[test]
fn the_checks_reject_bad_payloads() {
    let ok = render(
        &parse_notification(None, "hello"),
        &Targets::NotApplicable.into(),
        None,
    );
    assert_valid(&ok);
    let mut injected = ok.clone();
    injected["text"] = json!("<!channel> ping");
    assert!(std::panic::catch_unwind(|| assert_valid(&injected)).is_err());
    let mut long = ok.clone();
    long["attachments"][0]["blocks"][1]["text"]["text"] = json!("x".repeat(3001));
    assert!(std::panic::catch_unwind(|| assert_valid(&long)).is_err());
    let mut header = ok;
    header["attachments"][0]["blocks"][0]["text"]["text"] = json!("h".repeat(151));
    assert!(std::panic::catch_unwind(|| assert_valid(&header)).is_err());
    // And the strategies do reach the limits.
    let mut runner = TestRunner::deterministic();
    let long_seen = (0..200).any(|_| {
        text()
            .new_tree(&mut runner)
            .unwrap()
            .current()
            .chars()
            .count()
            > crate::render::blocks::SECTION_MAX
    });
    assert!(long_seen, "no generated text is longer than a section");
}
