//! Rule 24 through the SDK and the CBOR bridge: PutMetricAlarm's `ActionConfiguration` is
//! validated, kept and described, and with `AlarmTagsPropagation` enabled the SNS message of
//! the alarm's actions carries its tags (moto alone ignores the parameter).

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::types::{
    ActionConfiguration, AlarmTagsPropagation, ComparisonOperator, StateValue, Statistic, Tag,
};
use elb_watch_testkit::emulator::{self, Emulator};
use elb_watch_testkit::strict::StrictConfig;
use serde_json::json;

async fn sdk(url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(elb_watch_testkit::aws_http::client())
        .region(Region::new(emulator::REGION))
        .endpoint_url(url)
        .credentials_provider(aws_sdk_cloudwatch::config::Credentials::new(
            emulator::ACCESS_KEY,
            emulator::SECRET_KEY,
            None,
            None,
            "strict-tests",
        ))
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build()
}

fn propagation(enabled: bool, included: &[&str], excluded: &[&str]) -> ActionConfiguration {
    let mut p = AlarmTagsPropagation::builder().enabled(enabled);
    for k in included {
        p = p.included_tag_keys(*k);
    }
    for k in excluded {
        p = p.excluded_tag_keys(*k);
    }
    ActionConfiguration::builder()
        .alarm_tags_propagation(p.build())
        .build()
}

fn put(
    cw: &aws_sdk_cloudwatch::Client,
    name: &str,
    topic: &str,
) -> aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder {
    cw.put_metric_alarm()
        .alarm_name(name)
        .namespace("elb-watch/test")
        .metric_name("Nobody")
        .statistic(Statistic::Minimum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::LessThanThreshold)
        .alarm_actions(topic)
        .ok_actions(topic)
}

async fn described(
    cw: &aws_sdk_cloudwatch::Client,
    name: &str,
) -> Option<aws_sdk_cloudwatch::types::ActionConfiguration> {
    cw.describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .unwrap()
        .metric_alarms()[0]
        .action_configuration()
        .cloned()
}

async fn topic(emu: &Emulator) -> String {
    let sns = aws_sdk_sns::Client::new(&sdk(&emu.endpoint_url()).await);
    sns.create_topic()
        .name("elb-watch-t-alarms")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn action_configuration_is_validated_kept_described_and_dropped_with_the_alarm() {
    let emu = Emulator::start_with(StrictConfig {
        rate_scale: 0.0,
        ..StrictConfig::default()
    })
    .expect("emulator starts");
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(&emu.endpoint_url()).await);
    let topic = topic(&emu).await;

    let both = put(&cw, "tp", &topic)
        .action_configuration(propagation(true, &["team"], &["secret"]))
        .send()
        .await
        .expect_err("Included and Excluded together are refused");
    assert_eq!(both.code(), Some("InvalidParameterCombination"));
    let long = "k".repeat(129);
    let too_long = put(&cw, "tp", &topic)
        .action_configuration(propagation(true, &[long.as_str()], &[]))
        .send()
        .await
        .expect_err("a 129-character key is refused");
    assert_eq!(too_long.code(), Some("ValidationError"));
    let no_enabled = put(&cw, "tp", &topic)
        .action_configuration(
            ActionConfiguration::builder()
                .alarm_tags_propagation(
                    AlarmTagsPropagation::builder()
                        .included_tag_keys("team")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect_err("Enabled is required");
    assert_eq!(no_enabled.code(), Some("MissingParameter"));
    // Nothing of the refused calls reached moto.
    assert!(
        cw.describe_alarms()
            .alarm_names("tp")
            .send()
            .await
            .unwrap()
            .metric_alarms()
            .is_empty()
    );

    let ac = propagation(true, &[], &["secret"]);
    put(&cw, "tp", &topic)
        .action_configuration(ac.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(described(&cw, "tp").await, Some(ac.clone()));
    // Through the layer's pages too (DescribeAlarms without names, pages of 2).
    put(&cw, "tp-2", &topic).send().await.unwrap();
    put(&cw, "tp-3", &topic).send().await.unwrap();
    let mut seen = Vec::new();
    let mut pages = cw.describe_alarms().into_paginator().send();
    while let Some(page) = pages.next().await {
        for a in page.unwrap().metric_alarms() {
            seen.push((
                a.alarm_name().unwrap().to_string(),
                a.action_configuration().cloned(),
            ));
        }
    }
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        seen,
        [
            ("tp".to_string(), Some(ac.clone())),
            ("tp-2".to_string(), None),
            ("tp-3".to_string(), None)
        ]
    );

    // An update without it overwrites it; deleting the alarm drops it.
    put(&cw, "tp", &topic).send().await.unwrap();
    assert_eq!(described(&cw, "tp").await, None);
    put(&cw, "tp", &topic)
        .action_configuration(ac.clone())
        .send()
        .await
        .unwrap();
    cw.delete_alarms().alarm_names("tp").send().await.unwrap();
    let proxy = emu.strict().unwrap();
    assert_eq!(proxy.action_configuration(emulator::REGION, "tp"), None);
    put(&cw, "tp", &topic).send().await.unwrap();
    assert_eq!(described(&cw, "tp").await, None);
    assert!(proxy.count("action-configuration") >= 5);

    // moto alone accepts both lists together and never returns the configuration.
    let lax = Emulator::start_with(StrictConfig::none()).expect("emulator starts");
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(&lax.endpoint_url()).await);
    let topic = self::topic(&lax).await;
    put(&cw, "tp", &topic)
        .action_configuration(propagation(true, &["team"], &["secret"]))
        .send()
        .await
        .expect("moto accepts it");
    put(&cw, "tp", &topic)
        .action_configuration(ac)
        .send()
        .await
        .unwrap();
    assert_eq!(described(&cw, "tp").await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sns_message_of_an_alarm_action_carries_the_alarms_propagated_tags() {
    let emu = Emulator::start_with(StrictConfig {
        set_state_actions: true,
        rate_scale: 0.0,
        ..StrictConfig::default()
    })
    .expect("emulator starts");
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(&emu.endpoint_url()).await);
    let topic = topic(&emu).await;
    put(&cw, "tagged", &topic)
        .action_configuration(propagation(true, &[], &["secret"]))
        .tags(tag("team", "web"))
        .tags(tag("secret", "s3cr3t"))
        .send()
        .await
        .unwrap();
    let arn = cw
        .describe_alarms()
        .alarm_names("tagged")
        .send()
        .await
        .unwrap()
        .metric_alarms()[0]
        .alarm_arn()
        .unwrap()
        .to_string();
    // A tag added later is propagated too; an `aws:` one (set on moto directly: the layer's
    // rule 1 refuses the prefix) never is.
    cw.tag_resource()
        .resource_arn(&arn)
        .tags(tag("elb-watch:env", "prod"))
        .send()
        .await
        .unwrap();
    let form: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("Action", "TagResource"),
            ("Version", "2010-08-01"),
            ("ResourceARN", arn.as_str()),
            ("Tags.member.1.Key", "aws:cloudformation:stack-name"),
            ("Tags.member.1.Value", "stack"),
        ])
        .finish();
    let tagged = reqwest::Client::new()
        .post(format!("{}/", emu.moto_url()))
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        // moto takes the account from the credential scope (it checks no signature here).
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={}/20261203/{}/monitoring/aws4_request, \
                 SignedHeaders=host, Signature=0",
                emulator::ACCESS_KEY,
                emulator::REGION
            ),
        )
        .body(form)
        .send()
        .await
        .unwrap();
    assert!(tagged.status().is_success(), "moto takes an aws: tag");
    let tags = cw
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 4, "{tags:?}");

    cw.set_alarm_state()
        .alarm_name("tagged")
        .state_value(StateValue::Alarm)
        .state_reason("test")
        .send()
        .await
        .unwrap();
    let proxy = emu.strict().unwrap();
    let sent = proxy.alarm_notifications();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].topic, topic);
    let m = &sent[0].message;
    assert_eq!(m["AlarmName"], "tagged");
    assert_eq!(m["NewStateValue"], "ALARM");
    assert_eq!(m["AlarmTagsStatus"], "SUCCESS");
    assert_eq!(
        m["AlarmTags"],
        json!([{"Key": "elb-watch:env", "Value": "prod"}, {"Key": "team", "Value": "web"}])
    );
    assert_eq!(proxy.stats()["alarm-tags-propagated:SUCCESS"], 1);
    // It went on to SNS delivery (no Lambda subscriber on this topic).
    assert_eq!(proxy.stats()["sns-delivery:no-subscriber"], 1);

    // Propagation switched off by an update: the next notification has no tags.
    put(&cw, "tagged", &topic)
        .action_configuration(propagation(false, &[], &[]))
        .send()
        .await
        .unwrap();
    cw.set_alarm_state()
        .alarm_name("tagged")
        .state_value(StateValue::Ok)
        .state_reason("test")
        .send()
        .await
        .unwrap();
    let sent = proxy.alarm_notifications();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1].message["NewStateValue"], "OK");
    assert!(sent[1].message.get("AlarmTags").is_none());
    assert!(sent[1].message.get("AlarmTagsStatus").is_none());

    // With rule 24 off (moto's behaviour), the message never carries tags.
    let lax = Emulator::start_with(StrictConfig {
        set_state_actions: true,
        action_configuration: false,
        rate_scale: 0.0,
        ..StrictConfig::default()
    })
    .expect("emulator starts");
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(&lax.endpoint_url()).await);
    let topic = self::topic(&lax).await;
    put(&cw, "tagged", &topic)
        .action_configuration(propagation(true, &[], &[]))
        .tags(tag("team", "web"))
        .send()
        .await
        .unwrap();
    cw.set_alarm_state()
        .alarm_name("tagged")
        .state_value(StateValue::Alarm)
        .state_reason("test")
        .send()
        .await
        .unwrap();
    let sent = lax.strict().unwrap().alarm_notifications();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].message.get("AlarmTags").is_none());
}
