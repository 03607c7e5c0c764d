//! SDK clients pointed at an emulator, for reading back what `elb-watch` made.

use aws_config::{BehaviorVersion, Region};
use elb_watch_testkit::emulator::{self, Emulator};

pub async fn sdk(emu: &Emulator) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        // The tests' own reads meet the strict layer's quotas too (a Tagging API page per
        // resource, at its rate): they wait, as elb-watch does, instead of failing the test.
        .retry_config(
            aws_config::retry::RetryConfig::adaptive()
                .with_max_attempts(10)
                .with_max_backoff(std::time::Duration::from_secs(4)),
        )
        .http_client(elb_watch_testkit::aws_http::client())
        .region(Region::new(emulator::REGION))
        .endpoint_url(emu.endpoint_url())
        .credentials_provider(aws_sdk_kms::config::Credentials::new(
            emulator::ACCESS_KEY,
            emulator::SECRET_KEY,
            None,
            None,
            "tests",
        ))
        .load()
        .await
}

/// The ARN of env `env`'s alarm topic in the emulator.
pub fn topic_arn(env: &str) -> String {
    format!(
        "arn:aws:sns:{}:{}:elb-watch-{env}-alarms",
        emulator::REGION,
        emulator::ACCOUNT_ID
    )
}

/// The ARNs of `topic`'s subscriptions of `protocol` (`lambda`, `email`, …), one page.
pub async fn subscription_arns(
    sns: &aws_sdk_sns::Client,
    topic: &str,
    protocol: &str,
) -> Vec<String> {
    sns.list_subscriptions_by_topic()
        .topic_arn(topic)
        .send()
        .await
        .unwrap()
        .subscriptions()
        .iter()
        .filter(|s| s.protocol() == Some(protocol))
        .filter_map(|s| s.subscription_arn().map(str::to_string))
        .collect()
}

/// Someone removes `topic`'s Lambda subscriptions by hand: the notifier is invoked no more.
pub async fn unsubscribe_lambda(sns: &aws_sdk_sns::Client, topic: &str) {
    for arn in subscription_arns(sns, topic, "lambda").await {
        sns.unsubscribe()
            .subscription_arn(arn)
            .send()
            .await
            .unwrap();
    }
}

/// Whether the queue `name` is gone (GetQueueUrl refuses it) within 10 s: SQS answers for a
/// deleted queue while its deletion runs (up to 60 s on AWS; strict layer rule 16).
pub async fn queue_gone(sqs: &aws_sdk_sqs::Client, name: &str) -> bool {
    for _ in 0..100 {
        if sqs.get_queue_url().queue_name(name).send().await.is_err() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}
