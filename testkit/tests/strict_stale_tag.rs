//! The strict layer's SNS `StaleTag` rule (testkit/src/strict/stale_tag.rs): CreateTopic with
//! tags right after DeleteTopic of the same name is refused with `StaleTag` and the documented
//! message, for the window only; moto alone accepts it at once.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sns::error::ProvideErrorMetadata;
use elb_watch_testkit::emulator::{self, Emulator};
use elb_watch_testkit::strict::{StrictConfig, stale_tag};

async fn sdk(url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(elb_watch_testkit::aws_http::client())
        .region(Region::new(emulator::REGION))
        .endpoint_url(url)
        .credentials_provider(aws_sdk_sns::config::Credentials::new(
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

async fn create(sns: &aws_sdk_sns::Client) -> Result<String, String> {
    sns.create_topic()
        .name("stale")
        .tags(
            aws_sdk_sns::types::Tag::builder()
                .key("k")
                .value("v")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .map(|o| o.topic_arn().unwrap().to_string())
        .map_err(|e| format!("{}: {}", e.code().unwrap_or(""), e.message().unwrap_or("")))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_topic_recreated_with_tags_right_after_deletion_is_refused_as_stale() {
    let emu = Emulator::start_with(StrictConfig::none()).unwrap();
    let sns = aws_sdk_sns::Client::new(&sdk(&emu.endpoint_url()).await);
    let arn = create(&sns).await.unwrap();
    sns.delete_topic().topic_arn(&arn).send().await.unwrap();
    let refused = create(&sns).await.unwrap_err();
    assert_eq!(refused, format!("StaleTag: {}", stale_tag::MESSAGE));
    tokio::time::sleep(stale_tag::window()).await;
    assert_eq!(create(&sns).await.unwrap(), arn, "accepted once SNS forgot");

    // moto alone re-creates at once: the rule is the layer's.
    let plain = Emulator::start_with(StrictConfig::off()).unwrap();
    let sns = aws_sdk_sns::Client::new(&sdk(&plain.endpoint_url()).await);
    let arn = create(&sns).await.unwrap();
    sns.delete_topic().topic_arn(&arn).send().await.unwrap();
    assert!(create(&sns).await.is_ok());
}
