//! E-mail gets what a person needs (issue 21, part 5): the e-mail subscription carries a
//! message-body filter policy so a new alarm's INSUFFICIENT_DATA → OK is not mailed, while every
//! ALARM and every change out of ALARM is. moto evaluates SNS filter policies (message body
//! and `$or` included) for the subscribers it delivers to itself; e-mail it does not deliver,
//! so the test copies the e-mail subscription's filter, as `up` set it and SNS reads it back,
//! onto an SQS subscription of the same topic and publishes CloudWatch's own messages
//! (`tests/fixtures/`) to see which arrive. A filter removed by hand is drift; `up` puts it
//! back.

mod common;

use common::{elb_watch, run};
use elb_watch_testkit::emulator::{ACCOUNT_ID, Emulator, REGION};
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};
use elb_watch_testkit::topology;
use serde_json::Value;
use std::collections::HashMap;

const ENV: &str = "mail";

fn fixture(name: &str) -> Value {
    let path = elb_watch_testkit::fixture(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let event: Value = serde_json::from_str(&text).unwrap();
    serde_json::from_str(event["Records"][0]["Sns"]["Message"].as_str().unwrap()).unwrap()
}

fn up(emu: &Emulator, sink: &SlackSink) -> common::Run {
    let r = run(elb_watch(emu)
        .env("ELB_WATCH_SLACK_URL", sink.url())
        .env("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true")
        .args(["--env", ENV, "--output", "json", "up", "--alb", "web-alb"])
        .args(["--email", "oncall@example.com"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    r
}

#[tokio::test(flavor = "multi_thread")]
async fn email_gets_alarms_and_recoveries_but_not_a_new_alarms_first_ok() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &topology::seed_spec()).unwrap();
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    up(&emu, &sink);

    let sdk = common::aws::sdk(&emu).await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic = common::aws::topic_arn(ENV);
    let email_subscription = || async {
        common::aws::subscription_arns(&sns, &topic, "email")
            .await
            .into_iter()
            .next()
            .expect("an e-mail subscription")
    };
    let attributes = |arn: String| {
        let sns = sns.clone();
        async move {
            sns.get_subscription_attributes()
                .subscription_arn(arn)
                .send()
                .await
                .unwrap()
                .attributes()
                .cloned()
                .unwrap_or_default()
        }
    };
    let attrs: HashMap<String, String> = attributes(email_subscription().await).await;
    assert_eq!(
        attrs.get("FilterPolicyScope").map(String::as_str),
        Some("MessageBody")
    );
    let policy = attrs.get("FilterPolicy").cloned().expect("a filter policy");

    // The same filter on a queue: which of CloudWatch's messages SNS lets through.
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = sqs
        .create_queue()
        .queue_name("mail-probe")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let queue_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:mail-probe");
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .attributes("FilterPolicyScope", "MessageBody")
        .attributes("FilterPolicy", &policy)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap();
    let alarm = fixture("sns-alarm-healthyhostcount-alarm.json");
    let recovery = fixture("sns-alarm-healthyhostcount-ok.json");
    let to_insufficient = fixture("sns-alarm-insufficient-data.json");
    let mut first_ok = recovery.clone();
    first_ok["OldStateValue"] = "INSUFFICIENT_DATA".into();
    first_ok["NewStateReason"] = "Threshold Crossed: first evaluation".into();
    // `elb-watch test`'s ALARM (its reason), and the test alarm's return to OK: for Slack only.
    let test_alarm = elb_watch::naming::Names::new(ENV).test_alarm();
    let mut tested = alarm.clone();
    tested["NewStateReason"] = "elb-watch test 19a0c: a test alert sent by elb-watch test".into();
    let mut test_recovered = recovery.clone();
    test_recovered["AlarmName"] = test_alarm.clone().into();
    let cases = [
        ("ALARM", &alarm, true),
        ("recovery", &recovery, true),
        ("OK -> INSUFFICIENT_DATA", &to_insufficient, false),
        ("a new alarm's first OK", &first_ok, false),
        ("a test", &tested, false),
        ("the test alarm back to OK", &test_recovered, false),
    ];
    for (what, message, _) in &cases {
        sns.publish()
            .topic_arn(&topic)
            .subject(*what)
            .message(message.to_string())
            .send()
            .await
            .unwrap();
    }
    let got = sqs
        .receive_message()
        .queue_url(&queue)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let arrived: Vec<Value> = got
        .messages()
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap()).unwrap())
        .collect();
    for (what, message, mailed) in &cases {
        assert_eq!(
            arrived.contains(message),
            *mailed,
            "{what}: mailed should be {mailed}; arrived: {arrived:#?}"
        );
        assert_eq!(
            elb_watch::state::email_filter::mailed(message, &test_alarm),
            *mailed,
            "{what}: the documented rule disagrees with SNS"
        );
    }

    // Someone clears the filter: drift, and `up` restores it.
    sns.set_subscription_attributes()
        .subscription_arn(email_subscription().await)
        .attribute_name("FilterPolicy")
        .attribute_value("{}")
        .send()
        .await
        .unwrap();
    let status = run(elb_watch(&emu).args(["--env", ENV, "--output", "json", "status"]));
    assert_eq!(status.code, 1, "{}", status.stdout);
    assert!(status.stdout.contains("filter policy"), "{}", status.stdout);
    let fixed = up(&emu, &sink);
    let change = fixed.json()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "email-subscription")
        .cloned()
        .unwrap();
    assert_eq!(change["action"], "update", "{change:#}");
    let attrs = attributes(email_subscription().await).await;
    let restored: Value = serde_json::from_str(&attrs["FilterPolicy"]).unwrap();
    assert_eq!(
        restored,
        elb_watch::state::email_filter::policy(&test_alarm)
    );
    let again = up(&emu, &sink);
    assert_eq!(again.json()["in_sync"], true, "{}", again.stdout);
}
