//! End to end against the AWS emulator (moto): KMS-encrypted webhook (the blueprint's
//! `kmsEncryptedHookUrl`) and DescribeTargetHealth enrichment of a real target group.
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

async fn emulator() -> Emulator {
    tokio::task::spawn_blocking(Emulator::start)
        .await
        .unwrap()
        .expect("moto_server is needed: run scripts/emulator.sh setup")
}

async fn kms_client(emu: &Emulator) -> kms::Client {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(emu.endpoint_url())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(kms::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    kms::Client::new(&conf)
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
