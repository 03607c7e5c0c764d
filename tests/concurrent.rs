//! Two CI jobs running `up` on one env at once (issue 21, part 6) converge: both succeed, the
//! env ends whole, and no second KMS key is left behind (billed $1/month and never used).

mod common;

use common::{CANARY, aws::sdk, elb_watch, spec};
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::topology;
use std::process::Stdio;

#[tokio::test(flavor = "multi_thread")]
async fn two_ups_at_once_on_one_env_converge_with_one_key() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    let start = || {
        elb_watch(&emu)
            .env("ELB_WATCH_SLACK_URL", CANARY)
            .args([
                "--env", "twin", "--output", "json", "up", "--alb", "web-alb",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(), start());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    for (name, out) in [("first", &a), ("second", &b)] {
        assert!(
            out.status.success(),
            "{name}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // One key of the env is enabled (the alias's); any other made by the loser is scheduled
    // for deletion.
    let kms = aws_sdk_kms::Client::new(&sdk(&emu).await);
    let mut enabled = Vec::new();
    let mut scheduled = Vec::new();
    for k in kms.list_keys().send().await.unwrap().keys() {
        let id = k.key_id().unwrap();
        let meta = kms.describe_key().key_id(id).send().await.unwrap();
        let meta = meta.key_metadata().unwrap();
        let tags = kms.list_resource_tags().key_id(id).send().await.unwrap();
        let ours = tags
            .tags()
            .iter()
            .any(|t| t.tag_key() == "elb-watch:env" && t.tag_value() == "twin");
        match meta.key_state() {
            Some(aws_sdk_kms::types::KeyState::Enabled) if ours => enabled.push(id.to_string()),
            Some(aws_sdk_kms::types::KeyState::PendingDeletion) if ours => {
                scheduled.push(id.to_string())
            }
            _ => {}
        }
    }
    assert_eq!(enabled.len(), 1, "enabled keys of the env: {enabled:?}");
    // Both observed an env without a key and made one; the alias went to one of them.
    assert!(scheduled.len() <= 1, "{scheduled:?}");
    eprintln!("keys: enabled {enabled:?}, scheduled for deletion {scheduled:?}");

    // A third `up` finds nothing to do; status is in sync.
    let third = common::up(&emu, "twin", CANARY, &[]);
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert_eq!(third.json()["in_sync"], true, "{}", third.stdout);
    let s = common::run(elb_watch(&emu).args(["--env", "twin", "--output", "json", "status"]));
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
}
