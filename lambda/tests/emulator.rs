//! End to end against the AWS emulator (moto): KMS-encrypted webhook (the blueprint's
//! `kmsEncryptedHookUrl`), DescribeTargetHealth enrichment of a real target group, and the
//! outage a recovery states, from the alarm's history (DescribeAlarmHistory: strict rule 11).
//!
//! Needs `moto_server` (`scripts/emulator.sh setup`, or `ELB_WATCH_MOTO_SERVER`): these tests
//! fail, rather than skip, when it is missing.

mod common;

use aws_sdk_kms as kms;
use base64::Engine;
use common::*;
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::runtime_api::FUNCTION_NAME;
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};
use elb_watch_testkit::topology;
use serde_json::json;
use std::collections::HashMap;

async fn kms_client(emu: &Emulator) -> kms::Client {
    kms::Client::new(&sdk(emu).await)
}

/// Encrypts `plaintext` under a new key, with or without the blueprint's encryption context.
async fn encrypt(emu: &Emulator, plaintext: &str, with_context: bool) -> String {
    let kms = kms_client(emu).await;
    let key = kms.create_key().send().await.unwrap();
    let key_id = key.key_metadata().unwrap().key_id().to_owned();
    let context = with_context
        .then(|| HashMap::from([("LambdaFunctionName".to_owned(), FUNCTION_NAME.to_owned())]));
    let out = kms
        .encrypt()
        .key_id(key_id)
        .plaintext(kms::primitives::Blob::new(plaintext.as_bytes()))
        .set_encryption_context(context)
        .send()
        .await
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(out.ciphertext_blob().unwrap().as_ref())
}

fn function_env(emu: &Emulator, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut vars = emu.aws_env();
    vars.extend(env(extra));
    vars
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d_kms_ciphertext_with_function_name_context_is_decrypted_and_used() {
    let emu = emulator().await;
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let ciphertext = encrypt(&emu, &sink.url(), true).await;
    let (api, function) = start(function_env(
        &emu,
        &[
            ("kmsEncryptedHookUrl", &ciphertext),
            ("ELB_WATCH_ENRICH", "off"),
        ],
    ))
    .await;
    for _ in 0..2 {
        let inv = api
            .invoke(fixture("sns-alarm-healthyhostcount-ok.json"), TIMEOUT)
            .await
            .unwrap();
        assert!(
            inv.outcome.is_response(),
            "{:?}\n{}",
            inv.outcome,
            function.logs()
        );
    }
    assert_eq!(sink.received().len(), 2);
    assert_no_secret(&function.logs(), &[&sink.url(), &ciphertext, "/services/"]);

    // The emulator enforces the context: without it this ciphertext does not decrypt, so the
    // delivery above went through the blueprint's context, not the fallback.
    let blob = base64::engine::general_purpose::STANDARD
        .decode(&ciphertext)
        .unwrap();
    let without = kms_client(&emu)
        .await
        .decrypt()
        .ciphertext_blob(kms::primitives::Blob::new(blob))
        .send()
        .await;
    assert!(without.is_err(), "moto ignored the encryption context");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d_kms_ciphertext_without_context_is_refused_not_decrypted() {
    // A ciphertext made with a plain `aws kms encrypt` (no encryption context) would decrypt
    // without one; the notifier must not try: the key and role policies only allow decrypting
    // under LambdaFunctionName, which keeps the ciphertext bound to this function.
    let emu = emulator().await;
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let ciphertext = encrypt(&emu, &sink.url(), false).await;
    let (api, function) = start(function_env(
        &emu,
        &[
            ("kmsEncryptedHookUrl", &ciphertext),
            ("ELB_WATCH_ENRICH", "off"),
        ],
    ))
    .await;
    let inv = api
        .invoke(fixture("sns-plain-text-message.json"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        inv.outcome.error_type(),
        Some("ElbWatch.ConfigError"),
        "{:?}\n{}",
        inv.outcome,
        function.logs()
    );
    let msg = inv.outcome.error_message().unwrap();
    assert!(
        msg.contains("encryption context LambdaFunctionName=elb-watch-notifier"),
        "{msg}"
    );
    assert_eq!(sink.requests(), 0, "decrypted without a context");
    assert_no_secret(&function.logs(), &[&sink.url(), &ciphertext]);

    // The same plaintext decrypts without a context (the fallback the notifier no longer has).
    let blob = base64::engine::general_purpose::STANDARD
        .decode(&ciphertext)
        .unwrap();
    let plain = kms_client(&emu)
        .await
        .decrypt()
        .ciphertext_blob(kms::primitives::Blob::new(blob))
        .send()
        .await;
    assert!(plain.is_ok(), "the ciphertext itself is fine: {plain:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d_garbage_ciphertext_is_a_clear_error_on_each_invocation() {
    let emu = emulator().await;
    let garbage = base64::engine::general_purpose::STANDARD
        .encode(b"definitely not a KMS ciphertext blob at all");
    let (api, mut function) = start(function_env(&emu, &[("kmsEncryptedHookUrl", &garbage)])).await;
    for _ in 0..3 {
        let inv = api
            .invoke(fixture("sns-alarm-healthyhostcount-alarm.json"), TIMEOUT)
            .await
            .unwrap();
        assert_eq!(
            inv.outcome.error_type(),
            Some("ElbWatch.ConfigError"),
            "{:?}",
            inv.outcome
        );
        let msg = inv.outcome.error_message().unwrap();
        assert!(
            msg.contains("could not decrypt kmsEncryptedHookUrl with KMS"),
            "{msg}"
        );
        assert!(
            msg.contains("under encryption context LambdaFunctionName="),
            "{msg}"
        );
        assert!(!msg.contains(&garbage));
    }
    assert!(function.is_running(), "the process keeps serving");
    assert_no_secret(&function.logs(), &[&garbage]);

    // Not even base64.
    let (api, _f) = start(function_env(&emu, &[("kmsEncryptedHookUrl", "%%%")])).await;
    let inv = api
        .invoke(fixture("sns-plain-text-message.json"), TIMEOUT)
        .await
        .unwrap();
    assert!(
        inv.outcome
            .error_message()
            .unwrap()
            .contains("not valid base64")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_alarm_is_enriched_with_unhealthy_targets_from_describe_target_health() {
    let emu = emulator().await;
    // The topology helpers are blocking (they run scripts/topology.py).
    let (topo, instance) = tokio::task::block_in_place(|| {
        let topo = topology::create(&emu, &topology::seed_spec()).unwrap();
        let instance = topo.instances[0].clone();
        topology::set_instance_running(&emu, &instance, false).unwrap();
        (topo, instance)
    });
    let tg_arn = &topo.target_groups["web-tg"];
    // arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/<id>
    let tg_dimension = tg_arn.splitn(6, ':').nth(5).unwrap().to_owned();
    let alarm = json!({
        "AlarmName": "web-tg-HealthyHostCount",
        "AlarmDescription": null,
        "AWSAccountId": "123456789012",
        "NewStateValue": "ALARM",
        "OldStateValue": "OK",
        "NewStateReason": "Threshold Crossed",
        "StateChangeTime": "2026-11-20T03:15:42.118+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-tg-HealthyHostCount",
        "Trigger": {
            "MetricName": "HealthyHostCount", "Namespace": "AWS/ApplicationELB",
            "Statistic": "MINIMUM", "Period": 60, "ComparisonOperator": "LessThanOrEqualToThreshold",
            "Threshold": 0.0,
            "Dimensions": [
                {"name": "TargetGroup", "value": tg_dimension},
                {"name": "LoadBalancer", "value": "app/web-alb/50dc6c495c0c9188"}
            ]
        }
    });

    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let (api, function) = start(function_env(&emu, &[("SLACK_WEBHOOK_URL", &sink.url())])).await;
    let inv = api
        .invoke(sns_event(&[alarm.to_string()]), TIMEOUT)
        .await
        .unwrap();
    assert!(
        inv.outcome.is_response(),
        "{:?}\n{}",
        inv.outcome,
        function.logs()
    );
    let text = all_text(&sink.received()[0]);
    assert!(
        text.contains("*Unhealthy targets* (1 of 1 registered)"),
        "{text}\n{}",
        function.logs()
    );
    assert!(text.contains(&format!("`{instance}:80`")), "{text}");
    assert!(!text.contains("Target health unavailable"));

    // A target group the emulator does not know: the alert is still sent, with a note.
    let missing = alarm
        .to_string()
        .replace(&tg_dimension, "targetgroup/gone-tg/0123456789abcdef");
    let inv = api.invoke(sns_event(&[missing]), TIMEOUT).await.unwrap();
    assert!(inv.outcome.is_response(), "{:?}", inv.outcome);
    assert!(all_text(&sink.received()[1]).contains("Target health unavailable"));
    assert!(
        function.logs().contains("TargetGroupNotFound"),
        "{}",
        function.logs()
    );
}

// ------------------------------------------------------------------ a recovery's outage

const WATCHED: &str = "elb-watch-e2e-web-tg-HealthyHostCount";

/// These tests are about what a recovery says, not about time: a history read on a loaded
/// 2-core machine (notifier → CBOR bridge → strict layer → moto) may take longer than the
/// 1 s the fault tests allow.
const PATIENT_ENRICHMENT: (&str, &str) = ("ELB_WATCH_ENRICH_TIMEOUT_MS", "8000");

/// The alarm `up` makes for web-tg, made through the strict layer (so it starts in
/// INSUFFICIENT_DATA, as on AWS).
async fn put_watched_alarm(emu: &Emulator) {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
    let dim = |n: &str, v: &str| Dimension::builder().name(n).value(v).build();
    aws_sdk_cloudwatch::Client::new(&sdk(emu).await)
        .put_metric_alarm()
        .alarm_name(WATCHED)
        .namespace("AWS/ApplicationELB")
        .metric_name("HealthyHostCount")
        .dimensions(dim("TargetGroup", "targetgroup/web-tg/6d0ecf831eec9f09"))
        .dimensions(dim("LoadBalancer", "app/web-alb/50dc6c495c0c9188"))
        .statistic(Statistic::Minimum)
        .period(60)
        .evaluation_periods(3)
        .datapoints_to_alarm(2)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::LessThanThreshold)
        .treat_missing_data("breaching")
        .send()
        .await
        .unwrap();
}

/// CloudWatch's stand-in changes the alarm's state (SetAlarmState, recorded in its history):
/// the SNS event of that change.
fn change_state(emu: &Emulator, state: &str, reason: &str) -> serde_json::Value {
    tokio::task::block_in_place(|| topology::alarm_event(emu, WATCHED, state, reason).unwrap())
}

fn state_change_time(event: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    let message: serde_json::Value =
        serde_json::from_str(event["Records"][0]["Sns"]["Message"].as_str().unwrap()).unwrap();
    chrono::DateTime::parse_from_str(
        message["StateChangeTime"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.f%z",
    )
    .unwrap()
    .with_timezone(&chrono::Utc)
}

/// ALARM, `down` later OK: the two events.
async fn outage(
    emu: &Emulator,
    down: std::time::Duration,
) -> (serde_json::Value, serde_json::Value) {
    let alarm = change_state(
        emu,
        "ALARM",
        "Threshold Crossed: no datapoints were received",
    );
    tokio::time::sleep(down).await;
    let ok = change_state(
        emu,
        "OK",
        "Threshold Crossed: 1 datapoint [1.0] was not less than 1.0",
    );
    (alarm, ok)
}

/// What the recovery must say: "down for N s, since HH:MM UTC", from the two messages' times.
fn expected_outage(alarm: &serde_json::Value, ok: &serde_json::Value) -> String {
    let (since, until) = (state_change_time(alarm), state_change_time(ok));
    let secs = (until - since).num_seconds();
    assert!((1..60).contains(&secs), "{since} → {until}");
    format!("down for {secs} s, since {}", since.format("%H:%M UTC"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f_a_recovery_states_how_long_the_alarm_was_in_alarm() {
    let emu = emulator().await;
    put_watched_alarm(&emu).await;
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let (api, function) = start(function_env(
        &emu,
        &[("SLACK_WEBHOOK_URL", &sink.url()), PATIENT_ENRICHMENT],
    ))
    .await;

    // Two outages: the second recovery states the second outage, not the time since the first
    // ALARM (the history holds both, newest first).
    for (round, down_ms) in [(0, 1200), (1, 2300)] {
        let (alarm, ok) = outage(&emu, std::time::Duration::from_millis(down_ms)).await;
        for event in [alarm.clone(), ok.clone()] {
            let inv = api.invoke(event, TIMEOUT).await.unwrap();
            assert_eq!(
                inv.outcome,
                elb_watch_testkit::runtime_api::Outcome::Response(
                    json!({"records": 1, "delivered": 1, "skipped": 0})
                ),
                "{}",
                function.logs()
            );
        }
        let received = sink.received();
        assert_eq!(received.len(), 2 * (round + 1));
        let (fired, recovered) = (&received[2 * round], &received[2 * round + 1]);
        let expected = expected_outage(&alarm, &ok);
        let text = all_text(recovered);
        assert!(
            text.contains(&format!("*Outage*\n{expected}")),
            "no {expected:?} in:\n{text}\n{}",
            function.logs()
        );
        assert!(
            recovered["text"].as_str().unwrap().contains(&expected),
            "the notification text: {}",
            recovered["text"]
        );
        assert!(text.contains("OK (recovered)"), "{text}");
        // The ALARM itself states no outage.
        assert!(!all_text(fired).contains("down for"), "{}", all_text(fired));
    }
    assert!(
        function
            .logs()
            .contains("outage found in the alarm history"),
        "{}",
        function.logs()
    );
    let history_reads = emu
        .strict()
        .unwrap()
        .stats()
        .get("alarm-history:DescribeAlarmHistory")
        .copied();
    assert_eq!(history_reads, Some(2), "one history read per recovery");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f_a_refused_or_slow_history_read_still_posts_the_ordinary_recovery() {
    let emu = emulator().await;
    put_watched_alarm(&emu).await;
    let (alarm, ok) = outage(&emu, std::time::Duration::from_millis(1100)).await;
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let hook = sink.url();

    // The ordinary recovery: what the notifier posts with enrichment off.
    let (api, _f) = start(function_env(
        &emu,
        &[("SLACK_WEBHOOK_URL", &hook), ("ELB_WATCH_ENRICH", "off")],
    ))
    .await;
    assert!(
        api.invoke(ok.clone(), TIMEOUT)
            .await
            .unwrap()
            .outcome
            .is_response()
    );
    let ordinary = sink.received()[0].clone();
    assert!(!all_text(&ordinary).contains("down for"));

    // With the history readable, the same event states the outage (so the cases below differ
    // from it only by the failed read).
    let (api, _f) = start(function_env(
        &emu,
        &[("SLACK_WEBHOOK_URL", &hook), PATIENT_ENRICHMENT],
    ))
    .await;
    assert!(
        api.invoke(ok.clone(), TIMEOUT)
            .await
            .unwrap()
            .outcome
            .is_response()
    );
    assert!(all_text(&sink.received()[1]).contains(&expected_outage(&alarm, &ok)));

    // A CloudWatch that never answers: the read gives up after the enrichment timeout (1 s in
    // these tests) and the recovery goes out as ever.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let (api, function) = start(function_env(
        &emu,
        &[
            ("SLACK_WEBHOOK_URL", &hook),
            ("AWS_ENDPOINT_URL_CLOUDWATCH", &silent_url),
        ],
    ))
    .await;
    let inv = api.invoke(ok.clone(), TIMEOUT).await.unwrap();
    assert_eq!(
        inv.outcome,
        elb_watch_testkit::runtime_api::Outcome::Response(
            json!({"records": 1, "delivered": 1, "skipped": 0})
        ),
        "{}",
        function.logs()
    );
    assert_eq!(sink.received()[2], ordinary, "{}", function.logs());
    assert!(
        function.logs().contains("timed out after 1000 ms"),
        "{}",
        function.logs()
    );
    assert!(
        inv.duration < std::time::Duration::from_secs(5),
        "{:?}",
        inv.duration
    );

    // A role without cloudwatch:DescribeAlarmHistory (IAM enforced): refused, and the recovery
    // goes out as ever.
    let iam = aws_sdk_iam::Client::new(&sdk(&emu).await);
    iam.create_user()
        .user_name("no-history")
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("no-history")
        .policy_name("notifier-without-history")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Action": "elasticloadbalancing:DescribeTargetHealth", "Resource": "*"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("no-history")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    emu.trust_credentials(key.access_key_id(), key.secret_access_key());
    emu.enforce_iam(true).unwrap();
    let (api, function) = start(function_env(
        &emu,
        &[
            ("SLACK_WEBHOOK_URL", &hook),
            ("AWS_ACCESS_KEY_ID", key.access_key_id()),
            ("AWS_SECRET_ACCESS_KEY", key.secret_access_key()),
        ],
    ))
    .await;
    let inv = api.invoke(ok, TIMEOUT).await.unwrap();
    assert!(
        inv.outcome.is_response(),
        "{:?}\n{}",
        inv.outcome,
        function.logs()
    );
    assert_eq!(sink.received()[3], ordinary, "{}", function.logs());
    let logs = function.logs();
    assert!(
        logs.contains("AccessDenied") && logs.contains("cloudwatch:DescribeAlarmHistory"),
        "{logs}"
    );
    assert_eq!(sink.received().len(), 4);
}
