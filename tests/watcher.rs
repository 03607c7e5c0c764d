//! Watching the watcher (issue 13): `up` puts an alarm on the notifier's errors, one on
//! undelivered alerts in the env's queue and one on Lambda's failures to put an undeliverable
//! alert on that queue (`DestinationDeliveryFailures`, issue 21). All act on the env's topic, so its e-mail
//! subscribers hear about a broken alerting path while the notifier cannot post, and Slack
//! hears too once it can. They are drift-checked and converged like the target groups' alarms,
//! and `up` without `--email` warns that they would reach nobody.

mod common;

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
use common::{aws::sdk, elb_watch, run, up};
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::runtime_api::{Outcome, RuntimeApi};
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};
use elb_watch_testkit::topology;
use serde_json::{Value, json};
use std::time::Duration;

const ERRORS: &str = "elb-watch/wt/notifier-errors";
const UNDELIVERED: &str = "elb-watch/wt/undelivered-alerts";
const DESTINATION: &str = "elb-watch/wt/destination-failures";
const FUNCTION: &str = "elb-watch-wt-notifier";
const QUEUE: &str = "elb-watch-wt-undelivered";
const NO_EMAIL: &str = "alerting-path-without-email";

fn status(emu: &Emulator) -> common::Run {
    run(elb_watch(emu).args(["--env", "wt", "--output", "json", "status"]))
}

fn warning_kinds(report: &Value) -> Vec<String> {
    report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn describe(emu: &Emulator, name: &str) -> aws_sdk_cloudwatch::types::MetricAlarm {
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(emu).await);
    let got = cw.describe_alarms().alarm_names(name).send().await.unwrap();
    assert_eq!(got.metric_alarms().len(), 1, "no alarm {name}");
    got.metric_alarms()[0].clone()
}

fn dims(a: &aws_sdk_cloudwatch::types::MetricAlarm) -> Vec<(String, String)> {
    a.dimensions()
        .iter()
        .map(|d| {
            (
                d.name().unwrap().to_string(),
                d.value().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_alerting_path_has_three_alarms_that_reach_email_and_slack() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &common::spec()).unwrap();
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let r = run(elb_watch(&emu)
        .env("ELB_WATCH_SLACK_URL", sink.url())
        .env("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true")
        .args(["--env", "wt", "--output", "json", "up", "--alb", "web-alb"])
        .args(["--email", "oncall@example.com"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        !warning_kinds(&r.json()).contains(&NO_EMAIL.to_string()),
        "{}",
        r.stdout
    );

    let sns = aws_sdk_sns::Client::new(&sdk(&emu).await);
    let topics = sns.list_topics().send().await.unwrap();
    let topic = topics
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .find(|a| a.ends_with(":elb-watch-wt-alarms"))
        .unwrap()
        .to_string();
    let errors = describe(&emu, ERRORS).await;
    assert_eq!(
        (errors.namespace(), errors.metric_name()),
        (Some("AWS/Lambda"), Some("Errors"))
    );
    assert_eq!(
        dims(&errors),
        [("FunctionName".to_string(), FUNCTION.to_string())]
    );
    assert_eq!(errors.statistic(), Some(&Statistic::Sum));
    let queue = describe(&emu, UNDELIVERED).await;
    assert_eq!(
        (queue.namespace(), queue.metric_name()),
        (Some("AWS/SQS"), Some("ApproximateNumberOfMessagesVisible"))
    );
    assert_eq!(dims(&queue), [("QueueName".to_string(), QUEUE.to_string())]);
    let destination = describe(&emu, DESTINATION).await;
    assert_eq!(
        (destination.namespace(), destination.metric_name()),
        (Some("AWS/Lambda"), Some("DestinationDeliveryFailures"))
    );
    assert_eq!(
        dims(&destination),
        [("FunctionName".to_string(), FUNCTION.to_string())]
    );
    assert_eq!(destination.statistic(), Some(&Statistic::Sum));
    for a in [&errors, &queue, &destination] {
        assert_eq!(
            a.comparison_operator(),
            Some(&ComparisonOperator::GreaterThanOrEqualToThreshold)
        );
        assert_eq!(a.threshold(), Some(1.0));
        assert_eq!(a.treat_missing_data(), Some("notBreaching"));
        // ALARM and OK go to the topic, whose subscribers are the e-mail address and the
        // notifier.
        assert_eq!(a.alarm_actions(), [topic.as_str()]);
        assert_eq!(a.ok_actions(), [topic.as_str()]);
    }
    let subs = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    let protocols: Vec<(&str, &str)> = subs
        .subscriptions()
        .iter()
        .map(|s| (s.protocol().unwrap(), s.endpoint().unwrap()))
        .collect();
    assert!(
        protocols.contains(&("email", "oncall@example.com")),
        "{protocols:?}"
    );

    // status lists all three, in sync.
    let s = status(&emu);
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    let names: Vec<String> = s.json()["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    for n in [ERRORS, UNDELIVERED, DESTINATION] {
        assert!(names.contains(&n.to_string()), "{names:?}");
    }

    // When Slack works, the notifier posts the errors alarm with what to do.
    let api = RuntimeApi::start().await.unwrap();
    let process = common::notifier(&emu, &api, FUNCTION);
    let event = topology::alarm_event(
        &emu,
        ERRORS,
        "ALARM",
        "Threshold Crossed: 1 out of the last 5 datapoints [3.0 (25/11/26 03:01:00)] was \
         greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM \
         transition).",
    )
    .unwrap();
    let inv = api.invoke(event, Duration::from_secs(30)).await.unwrap();
    assert_eq!(
        inv.outcome,
        Outcome::Response(json!({"records": 1, "delivered": 1, "skipped": 0})),
        "{}",
        process.logs()
    );
    let text = sink.received()[0].to_string();
    for needle in [ERRORS, "is failing", "elb-watch --env wt replay"] {
        assert!(text.contains(needle), "no {needle} in {text}");
    }
    // An alarm on a function has no target group to report on.
    assert!(!text.contains("Targets"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn watcher_alarms_are_drift_and_up_converges_them_and_without_email_it_warns() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &common::spec()).unwrap();
    let r = up(&emu, "wt", common::CANARY, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let warning = r.json()["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["kind"] == NO_EMAIL)
        .cloned()
        .unwrap_or_else(|| panic!("no {NO_EMAIL} warning: {}", r.stdout));
    assert!(
        warning["message"].as_str().unwrap().contains("--email"),
        "{warning}"
    );

    // Someone deletes one and loosens the other.
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(&emu).await);
    cw.delete_alarms()
        .alarm_names(UNDELIVERED)
        .send()
        .await
        .unwrap();
    let errors = describe(&emu, ERRORS).await;
    cw.put_metric_alarm()
        .alarm_name(ERRORS)
        .namespace("AWS/Lambda")
        .metric_name("Errors")
        .dimensions(
            Dimension::builder()
                .name("FunctionName")
                .value(FUNCTION)
                .build(),
        )
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(5)
        .datapoints_to_alarm(1)
        .threshold(10.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .treat_missing_data("notBreaching")
        .set_alarm_actions(Some(errors.alarm_actions().to_vec()))
        .set_ok_actions(Some(errors.ok_actions().to_vec()))
        .send()
        .await
        .unwrap();

    let s = status(&emu);
    assert_eq!(s.code, 1, "{}\n{}", s.stdout, s.stderr);
    let v = s.json();
    let row = |name: &str| common::resource_row(&v, name);
    assert_eq!(row(UNDELIVERED)["state"], "missing", "{v:#}");
    assert!(
        row(UNDELIVERED)["details"]
            .to_string()
            .contains("on undelivered alerts in elb-watch-wt-undelivered"),
        "{v:#}"
    );
    assert_eq!(row(ERRORS)["state"], "drifted", "{v:#}");
    assert!(row(ERRORS)["details"].to_string().contains("threshold"));

    let again = up(&emu, "wt", common::CANARY, &[]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(describe(&emu, ERRORS).await.threshold(), Some(1.0));
    describe(&emu, UNDELIVERED).await;
    let s = status(&emu);
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    assert!(warning_kinds(&s.json()).contains(&NO_EMAIL.to_string()));

    // down removes them with the rest.
    let d = run(elb_watch(&emu).args(["--env", "wt", "--output", "json", "down", "--yes"]));
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    let left = cw
        .describe_alarms()
        .alarm_name_prefix("elb-watch/wt/")
        .send()
        .await
        .unwrap();
    assert!(left.metric_alarms().is_empty(), "{left:?}");
}
