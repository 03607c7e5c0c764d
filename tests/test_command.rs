//! `elb-watch test` (issue 23, part 1): a real alert through the real path. Through the strict
//! layer with `SetAlarmState` running the alarm's actions (rule 17), SNS delivering to the
//! topic's Lambda subscribers (rule 15), the real notifier under the local Runtime API (rule 9,
//! which also sends its output to its log group) and the local Slack sink:
//!
//! - delivered: exit 0, three hops, the message marked TEST in Slack, e-mail pending shown;
//! - Slack refuses: exit 1, Slack's answer and what to do;
//! - the topic's subscription removed: exit 1 naming it;
//! - the notifier never invoked (nobody runs it): exit 1 saying so;
//! - `--target-group` of an alarm not OK is refused before anything is set.

mod common;

use common::{aws::sdk, elb_watch, run, run_notifier};
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::slack_sink::{Behaviour, Reply, SlackSink};
use elb_watch_testkit::strict::StrictConfig;
use elb_watch_testkit::topology;

const ENV: &str = "tst";

async fn env_up(behaviour: Behaviour, notifier: bool) -> (Emulator, SlackSink) {
    env_up_with(behaviour, notifier, None).await
}

/// `next_evaluation`: CloudWatch's evaluation after SetAlarmState (strict rule 23).
async fn env_up_with(
    behaviour: Behaviour,
    notifier: bool,
    next_evaluation: Option<std::time::Duration>,
) -> (Emulator, SlackSink) {
    let emu = Emulator::start_with(StrictConfig {
        set_state_actions: true,
        next_evaluation,
        ..StrictConfig::from_env()
    })
    .unwrap();
    topology::create(&emu, &common::spec()).unwrap();
    let sink = SlackSink::start(behaviour).await.unwrap();
    let r = run(elb_watch(&emu)
        .env("ELB_WATCH_SLACK_URL", sink.url())
        .env("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true")
        .args(["--env", ENV, "--output", "json", "up", "--alb", "web-alb"])
        .args(["--email", "oncall@example.com"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    if notifier {
        run_notifier(&emu);
    }
    (emu, sink)
}

fn test(emu: &Emulator, extra: &[&str]) -> common::Run {
    run(elb_watch(emu)
        .args(["--env", ENV, "--output", "json", "--no-progress", "test"])
        .args(extra))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_alert_reaches_slack_marked_as_a_test_with_each_hop_timed() {
    // CloudWatch returns a SetAlarmState'd alarm to its actual state "often within seconds":
    // here 8 s after, long enough for the immediate second `test` below to find it in ALARM.
    let (emu, sink) = env_up_with(
        Behaviour::AlwaysOk,
        true,
        Some(std::time::Duration::from_secs(8)),
    )
    .await;
    let r = test(&emu, &["--timeout", "30"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let j = r.json();
    assert_eq!(j["delivered"], true);
    assert_eq!(j["reached"], "delivered");
    assert_eq!(j["alarm"], format!("elb-watch/{ENV}/test"));
    let hops: Vec<&str> = j["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["hop"].as_str().unwrap())
        .collect();
    assert_eq!(
        hops,
        ["alarm state set", "notifier invoked", "Slack answered"]
    );
    // On AWS the address has not confirmed yet; moto confirms e-mail subscriptions at once.
    assert!(
        j["email"] == "pending-confirmation" || j["email"] == "confirmed",
        "{j:#}"
    );
    let posted = sink.received();
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let text = posted[0]["text"].as_str().unwrap();
    assert!(
        text.starts_with(":test_tube: TEST — no action needed."),
        "{text}"
    );
    assert!(text.contains(&format!("elb-watch/{ENV}/test")), "{text}");

    // At once again: the test alarm is still in ALARM, so a change to ALARM would notify no
    // one; `test` says so instead of waiting for nothing.
    let again = test(&emu, &["--timeout", "3"]);
    assert_eq!(again.code, 2, "{}", again.stdout);
    assert!(again.stderr.contains("still in ALARM"), "{}", again.stderr);

    // Back to OK at CloudWatch's next evaluation (no data, not breaching): the notifier posts
    // it as the test's recovery, and the alarm is ready for the next test.
    assert!(
        sink.wait_for_messages(2, std::time::Duration::from_secs(30))
            .await,
        "no recovery: {:#?}",
        sink.received()
    );
    let table =
        run(elb_watch(&emu).args(["--env", ENV, "--no-progress", "test", "--timeout", "30"]));
    assert_eq!(table.code, 0, "{}\n{}", table.stdout, table.stderr);
    println!("{}", table.stdout);
    for needle in [
        "alarm state set",
        "notifier invoked",
        "Slack answered",
        "delivered:",
    ] {
        assert!(table.stdout.contains(needle), "{needle}: {}", table.stdout);
    }
    // The recovery and the second test were posted too, each marked (the second test's own
    // recovery may follow 8 s after it).
    let posted = sink.received();
    assert!(matches!(posted.len(), 3 | 4), "{posted:#?}");
    assert!(
        posted[1]["text"]
            .as_str()
            .unwrap()
            .starts_with(":test_tube: TEST recovery")
    );
    assert!(
        posted[2]["text"]
            .as_str()
            .unwrap()
            .starts_with(":test_tube: TEST — no action")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_refusing_the_test_is_exit_1_with_its_answer() {
    let (emu, _sink) = env_up(Behaviour::Always(Reply::Status(404)), true).await;
    let r = test(&emu, &["--timeout", "30"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let j = r.json();
    assert_eq!(j["reached"], "notifier-failed", "{j:#}");
    let error = j["error"].as_str().unwrap();
    assert!(error.contains("no_service"), "{error}");
    assert!(j["fix"].as_str().is_some_and(|f| !f.is_empty()), "{j:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_subscription_or_no_invocation_is_exit_1_saying_which() {
    let (emu, sink) = env_up(Behaviour::AlwaysOk, false).await;
    // Subscribed, but nobody runs the function: nothing reaches its log group.
    let silent = test(&emu, &["--timeout", "3"]);
    assert_eq!(silent.code, 1, "{}\n{}", silent.stdout, silent.stderr);
    let j = silent.json();
    assert_eq!(j["reached"], "not-invoked");
    assert!(
        j["fix"].as_str().unwrap().contains("was not invoked"),
        "{j:#}"
    );

    let cfg = sdk(&emu).await;
    let sns = aws_sdk_sns::Client::new(&cfg);
    let topic = common::aws::topic_arn(ENV);
    common::aws::unsubscribe_lambda(&sns, &topic).await;
    // The alarm must be OK for `test` to change it to ALARM again: CloudWatch's next
    // evaluation would bring it back; here the test sets it.
    aws_sdk_cloudwatch::Client::new(&cfg)
        .set_alarm_state()
        .alarm_name(format!("elb-watch/{ENV}/test"))
        .state_value(aws_sdk_cloudwatch::types::StateValue::Ok)
        .state_reason("back to its real state")
        .send()
        .await
        .unwrap();
    let gone = test(&emu, &["--timeout", "3"]);
    assert_eq!(gone.code, 1, "{}\n{}", gone.stdout, gone.stderr);
    let j = gone.json();
    assert_eq!(j["reached"], "not-invoked");
    assert!(
        j["fix"].as_str().unwrap().contains("no subscription"),
        "{j:#}"
    );
    assert!(sink.received().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_groups_alarm_not_ok_is_refused_and_left_alone() {
    let (emu, sink) = env_up(Behaviour::AlwaysOk, true).await;
    // A new alarm starts in INSUFFICIENT_DATA (strict layer): not OK.
    let r = test(&emu, &["--target-group", "web-tg", "--timeout", "3"]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("only while it is OK"), "{}", r.stderr);
    let unknown = test(&emu, &["--target-group", "nope-tg", "--timeout", "3"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("watches no target group"),
        "{}",
        unknown.stderr
    );
    assert!(
        sink.received().is_empty(),
        "nothing was set, nothing posted"
    );
}

/// `--target-group`: that group's own alarm, while OK, goes to ALARM as a test and back at
/// CloudWatch's next evaluation (its target is healthy); both messages are marked — the
/// recovery because the alarm's history shows a test began the outage.
#[tokio::test(flavor = "multi_thread")]
async fn a_target_groups_own_test_and_its_recovery_are_both_marked() {
    let (emu, sink) = env_up_with(
        Behaviour::AlwaysOk,
        true,
        Some(std::time::Duration::from_secs(3)),
    )
    .await;
    let alarm = common::tg_alarm(ENV, "web-alb", "web-tg");
    // Its first evaluation (a healthy target): OK, as on AWS a minute after `up`.
    topology::set_alarm_states(
        &emu,
        std::slice::from_ref(&alarm),
        "OK",
        "Threshold Crossed",
    )
    .unwrap();
    let r = test(&emu, &["--target-group", "web-tg", "--timeout", "30"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.json()["alarm"], alarm.as_str());
    assert!(
        sink.wait_for_messages(2, std::time::Duration::from_secs(30))
            .await,
        "no recovery: {:#?}",
        sink.received()
    );
    let posted = sink.received();
    let text = |i: usize| posted[i]["text"].as_str().unwrap().to_string();
    assert!(
        text(0).starts_with(":test_tube: TEST — no action needed."),
        "{}",
        text(0)
    );
    assert!(text(0).contains(&alarm), "{}", text(0));
    assert!(
        text(1).starts_with(":test_tube: TEST recovery"),
        "{}",
        text(1)
    );
    assert!(text(1).contains(&alarm), "{}", text(1));
}
