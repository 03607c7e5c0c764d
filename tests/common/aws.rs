//! SDK clients pointed at an emulator, for reading back what `elb-watch` made.

use aws_config::{BehaviorVersion, Region};
use elb_watch_testkit::emulator::{self, Emulator};

pub async fn sdk(emu: &Emulator) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
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
