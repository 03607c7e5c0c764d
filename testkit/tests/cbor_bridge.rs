//! The current aws-sdk-cloudwatch (Smithy RPC v2 CBOR) against moto (AWS JSON 1.0) through the
//! CBOR bridge that `Emulator::start()` puts in front of it: requests, answers with timestamps,
//! doubles, nested lists, errors with their codes, and re-signing under moto's IAM enforcement.

use aws_config::{BehaviorVersion, Region};
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::config::Credentials;
use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, MetricDatum, StandardUnit, StateValue, Statistic, Tag,
};
use elb_watch_testkit::cbor_bridge::CborBridge;
use elb_watch_testkit::emulator::{self, Emulator};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

async fn client(endpoint: &str, key: &str, secret: &str) -> Client {
    let cfg = aws_config::defaults(BehaviorVersion::latest())
        .http_client(elb_watch_testkit::aws_http::client())
        .region(Region::new(emulator::REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(key, secret, None, None, "cbor-test"))
        .load()
        .await;
    Client::new(&cfg)
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn dim(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_round_trips_alarms_metrics_and_tags_through_the_bridge() {
    let emu = Emulator::start().unwrap();
    let cw = client(
        &emu.endpoint_url(),
        emulator::ACCESS_KEY,
        emulator::SECRET_KEY,
    )
    .await;
    let before = now_secs();

    cw.put_metric_alarm()
        .alarm_name("web-tg-HealthyHostCount")
        .alarm_description("é ✓ <b>")
        .namespace("AWS/ApplicationELB")
        .metric_name("HealthyHostCount")
        .dimensions(dim("TargetGroup", "targetgroup/web-tg/abc"))
        .dimensions(dim("LoadBalancer", "app/web-alb/def"))
        .statistic(Statistic::Minimum)
        .period(60)
        .evaluation_periods(3)
        .datapoints_to_alarm(2)
        .threshold(0.5)
        .comparison_operator(ComparisonOperator::LessThanThreshold)
        .treat_missing_data("breaching")
        .alarm_actions("arn:aws:sns:us-east-1:123456789012:t")
        .ok_actions("arn:aws:sns:us-east-1:123456789012:t")
        .tags(Tag::builder().key("elb-watch:env").value("prod").build())
        .send()
        .await
        .expect("PutMetricAlarm through the bridge");

    let out = cw
        .describe_alarms()
        .alarm_name_prefix("web-tg")
        .send()
        .await
        .unwrap();
    assert_eq!(out.metric_alarms().len(), 1, "{out:?}");
    let a = &out.metric_alarms()[0];
    assert_eq!(a.alarm_name(), Some("web-tg-HealthyHostCount"));
    assert_eq!(a.alarm_description(), Some("é ✓ <b>"));
    assert_eq!(a.threshold(), Some(0.5));
    assert_eq!(
        (a.period(), a.evaluation_periods(), a.datapoints_to_alarm()),
        (Some(60), Some(3), Some(2))
    );
    assert_eq!(a.statistic(), Some(&Statistic::Minimum));
    assert_eq!(
        a.comparison_operator(),
        Some(&ComparisonOperator::LessThanThreshold)
    );
    assert_eq!(a.treat_missing_data(), Some("breaching"));
    assert_eq!(a.ok_actions(), ["arn:aws:sns:us-east-1:123456789012:t"]);
    let dims: Vec<_> = a
        .dimensions()
        .iter()
        .map(|d| (d.name().unwrap(), d.value().unwrap()))
        .collect();
    assert_eq!(
        dims,
        [
            ("TargetGroup", "targetgroup/web-tg/abc"),
            ("LoadBalancer", "app/web-alb/def")
        ]
    );
    // Timestamps came back as CBOR tag 1 and mean "just now".
    let updated = a
        .state_updated_timestamp()
        .expect("a timestamp")
        .as_secs_f64();
    assert!(
        (before - 5.0..now_secs() + 5.0).contains(&updated),
        "StateUpdatedTimestamp {updated} is not now ({before})"
    );

    let tags = cw
        .list_tags_for_resource()
        .resource_arn(a.alarm_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].value(), Some("prod"));

    cw.set_alarm_state()
        .alarm_name("web-tg-HealthyHostCount")
        .state_value(StateValue::Alarm)
        .state_reason("0 healthy")
        .send()
        .await
        .unwrap();
    let state = cw
        .describe_alarms()
        .alarm_names("web-tg-HealthyHostCount")
        .send()
        .await
        .unwrap();
    assert_eq!(
        state.metric_alarms()[0].state_value(),
        Some(&StateValue::Alarm)
    );

    // Request timestamps (tag 1 → JSON epoch seconds) and timestamps inside a list of answers.
    let at = DateTime::from_secs(now_secs() as i64 - 120);
    cw.put_metric_data()
        .namespace("Test")
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .timestamp(at)
                .value(42.25)
                .unit(StandardUnit::Milliseconds)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let stats = cw
        .get_metric_statistics()
        .namespace("Test")
        .metric_name("Latency")
        .start_time(DateTime::from_secs(at.secs() - 600))
        .end_time(DateTime::from_secs(at.secs() + 600))
        .period(60)
        .statistics(Statistic::Maximum)
        .send()
        .await
        .unwrap();
    let points = stats.datapoints();
    assert_eq!(points.len(), 1, "{stats:?}");
    assert_eq!(points[0].maximum(), Some(42.25));
    let ts = points[0].timestamp().expect("datapoint timestamp").secs();
    assert!((ts - at.secs()).abs() < 60, "{ts} vs {}", at.secs());

    let bridge = emu.cbor_bridge().expect("the emulator runs a bridge");
    let s = bridge.stats();
    for (op, n) in [
        ("PutMetricAlarm", 1),
        ("DescribeAlarms", 2),
        ("ListTagsForResource", 1),
        ("SetAlarmState", 1),
        ("PutMetricData", 1),
        ("GetMetricStatistics", 1),
    ] {
        assert_eq!(s.translated.get(op), Some(&n), "{op}: {s:?}");
    }
    assert!(s.errors.is_empty(), "{s:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_reach_the_sdk_with_their_codes() {
    let emu = Emulator::start().unwrap();
    let cw = client(
        &emu.endpoint_url(),
        emulator::ACCESS_KEY,
        emulator::SECRET_KEY,
    )
    .await;

    let err = cw
        .set_alarm_state()
        .alarm_name("no-such-alarm")
        .state_value(StateValue::Alarm)
        .state_reason("x")
        .send()
        .await
        .expect_err("no such alarm");
    let e = err.into_service_error();
    assert!(e.is_resource_not_found(), "{e:?}");
    assert_eq!(e.code(), Some("ResourceNotFound"));

    let err = cw
        .tag_resource()
        .resource_arn("arn:aws:cloudwatch:us-east-1:123456789012:alarm:no-such-alarm")
        .tags(Tag::builder().key("k").value("v").build())
        .send()
        .await
        .expect_err("no such alarm");
    let e = err.into_service_error();
    assert!(e.is_resource_not_found_exception(), "{e:?}");

    let s = emu.cbor_bridge().unwrap().stats();
    assert_eq!(s.errors.get("SetAlarmState"), Some(&1), "{s:?}");
    assert_eq!(s.errors.get("TagResource"), Some(&1), "{s:?}");
}

/// moto with its IAM enforcement on checks every signature: the bridge must re-sign the JSON
/// request it makes, with the caller's secret.
#[tokio::test(flavor = "multi_thread")]
async fn translated_requests_are_re_signed_for_moto_iam_enforcement() {
    // Three unauthenticated calls to make a user; everything after is authenticated.
    let moto = Moto::start(&[("INITIAL_NO_AUTH_ACTION_COUNT", "3")]).await;
    let iam_cfg = aws_config::defaults(BehaviorVersion::latest())
        .http_client(elb_watch_testkit::aws_http::client())
        .region(Region::new(emulator::REGION))
        .endpoint_url(&moto.url)
        .credentials_provider(Credentials::new(
            emulator::ACCESS_KEY,
            emulator::SECRET_KEY,
            None,
            None,
            "setup",
        ))
        .load()
        .await;
    let iam = aws_sdk_iam::Client::new(&iam_cfg);
    iam.create_user().user_name("op").send().await.unwrap();
    iam.put_user_policy()
        .user_name("op")
        .policy_name("cw")
        .policy_document(
            // moto names CloudWatch actions by the signing name (`monitoring:DescribeAlarms`),
            // not `cloudwatch:`: allow everything, this test is about signatures.
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("op")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let (id, secret) = (key.access_key_id(), key.secret_access_key());

    let bridge = CborBridge::start(&moto.url).unwrap();
    let cw = client(bridge.url(), id, secret).await;
    // Unknown secret: the original (CBOR) signature is forwarded and moto rejects it.
    let err = cw
        .describe_alarms()
        .send()
        .await
        .expect_err("signature of the CBOR request cannot match the JSON one");
    assert_eq!(
        err.into_service_error().code(),
        Some("SignatureDoesNotMatch")
    );
    bridge.add_credentials(id, secret);
    cw.describe_alarms()
        .send()
        .await
        .expect("re-signed by the bridge");
}

/// A moto server with extra environment, for the enforcement test (stopped on drop).
struct Moto {
    child: std::process::Child,
    url: String,
}

impl Moto {
    async fn start(env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = emulator::moto_command()
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server (scripts/emulator.sh setup)");
        let url = format!("http://127.0.0.1:{port}");
        let http = elb_watch_testkit::server::http_client_builder()
            .build()
            .unwrap();
        for _ in 0..400 {
            if let Ok(r) = http.get(format!("{url}/moto-api/data.json")).send().await
                && r.status().is_success()
            {
                return Self { child, url };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("moto did not start on {url}");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
