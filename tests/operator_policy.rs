//! The operator policy (`policy/operator-policy.json`, printed by `elb-watch policy`) is enough:
//! `up`, a no-op `up`, `status` and `down` succeed with credentials holding exactly that policy,
//! with the emulator's IAM authorisation switched on. And a missing permission gives one clear
//! line naming the action — never a resource wrongly judged foreign.
//!
//! What moto (5.x) can check, and how the harness adapts the policy to it (never the product):
//! moto authorises the ACTION of each request, named by the request's signing name
//! (`monitoring:` for CloudWatch, `tagging:` for the Resource Groups Tagging API, where IAM says
//! `cloudwatch:` and `tag:`), and matches `Resource` only for IAM calls on an existing role —
//! for every other call it asks about resource `*`, which a scoped ARN pattern never matches.
//! So the user gets the policy's exact action list, renamed to moto's prefixes, on `*`, without
//! conditions (moto evaluates conditions against the request's own parameters; `iam:PassRole`'s
//! is never asked). The resource patterns are checked apart, by a unit test against the ARNs
//! elb-watch names (src/commands/policy.rs).

mod common;

use common::{CANARY, aws::sdk, elb_watch, run, spec};
use elb_watch::commands::policy::OPERATOR_POLICY;
use elb_watch_testkit::{emulator::Emulator, topology};
use serde_json::{Value, json};

/// The policy as moto can enforce it (see the module doc), minus `without`.
fn as_moto_enforces(without: &[&str]) -> Value {
    let doc: Value = serde_json::from_str(OPERATOR_POLICY).unwrap();
    let mut actions = Vec::new();
    for st in doc["Statement"].as_array().unwrap() {
        let listed = match &st["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(v) => v.iter().map(|a| a.as_str().unwrap().to_string()).collect(),
            other => panic!("unexpected Action {other}"),
        };
        actions.extend(
            listed
                .into_iter()
                .filter(|a| !without.contains(&a.as_str())),
        );
    }
    let moto_name = |a: &String| {
        if let Some(op) = a.strip_prefix("cloudwatch:") {
            format!("monitoring:{op}")
        } else if let Some(op) = a.strip_prefix("tag:") {
            format!("tagging:{op}")
        } else {
            a.clone()
        }
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": actions.iter().map(moto_name).collect::<Vec<_>>(),
            "Resource": "*"
        }]
    })
}

/// An IAM user holding `policy` (inline), with an access key: (key id, secret).
async fn operator(emu: &Emulator, name: &str, policy: &Value) -> (String, String) {
    let iam = aws_sdk_iam::Client::new(&sdk(emu).await);
    iam.create_user().user_name(name).send().await.unwrap();
    iam.put_user_policy()
        .user_name(name)
        .policy_name("elb-watch-operator")
        .policy_document(policy.to_string())
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    )
}

fn as_user(emu: &Emulator, key: &(String, String)) -> std::process::Command {
    let mut cmd = elb_watch(emu);
    cmd.env("AWS_ACCESS_KEY_ID", &key.0)
        .env("AWS_SECRET_ACCESS_KEY", &key.1)
        .env("ELB_WATCH_SLACK_URL", CANARY);
    cmd
}

const ENV: [&str; 4] = ["--env", "ops", "--output", "json"];

#[tokio::test(flavor = "multi_thread")]
async fn up_noop_up_status_and_down_need_nothing_beyond_the_policy() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    let key = operator(&emu, "operator", &as_moto_enforces(&[])).await;
    let nobody = operator(
        &emu,
        "nobody",
        &as_moto_enforces(&["sts:GetCallerIdentity"]),
    )
    .await;
    emu.enforce_iam(true).unwrap();

    // The enforcement is real: the admin's made-up key is refused, so is a user lacking rights.
    let refused = run(elb_watch(&emu).args(ENV).args(["status"]));
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    let denied = run(as_user(&emu, &(nobody.0.clone(), nobody.1.clone()))
        .args(ENV)
        .args(["up", "--alb", "web-alb", "--email", "ops@example.com"]));
    assert_eq!(denied.code, 2, "{}", denied.stderr);

    let steps: [&[&str]; 4] = [
        &[
            "up",
            "--alb",
            "web-alb",
            "--slack-channel",
            "#ops",
            "--email",
            "ops@example.com",
        ],
        &[
            "up",
            "--alb",
            "web-alb",
            "--slack-channel",
            "#ops",
            "--email",
            "ops@example.com",
        ],
        &["status"],
        &["down", "--yes"],
    ];
    for (i, args) in steps.iter().enumerate() {
        let r = run(as_user(&emu, &key).args(ENV).args(*args));
        assert_eq!(r.code, 0, "{args:?} failed:\n{}\n{}", r.stderr, r.stdout);
        assert!(
            !r.stderr.contains("AccessDenied") && !r.stderr.contains("not authorized"),
            "{args:?}: {}",
            r.stderr
        );
        if i == 1 {
            assert_eq!(
                r.json()["in_sync"],
                true,
                "second up is a no-op: {}",
                r.stdout
            );
            assert_eq!(r.json()["api_calls"]["mutating"], 0);
        }
        if i == 2 {
            let s = &r.json()["settings"];
            assert_eq!(s["slack_channel"], "#ops");
            assert_eq!(
                s["email"], "ops@example.com",
                "learnt from the subscription"
            );
        }
    }
    let again = run(as_user(&emu, &key).args(ENV).args(["down", "--yes"]));
    assert_eq!(again.code, 0, "{}", again.stderr);
}

/// Take one permission away from a working operator: the next run fails with one line naming
/// the action, and does not call anything "not elb-watch's".
#[tokio::test(flavor = "multi_thread")]
async fn a_missing_permission_is_named_and_nothing_is_judged_foreign() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    let full = operator(&emu, "operator", &as_moto_enforces(&[])).await;
    // Ownership reads: without them a resource could be taken for someone else's.
    let cases = [
        ("kms:ListResourceTags", "kms-tags"),
        ("sns:ListTagsForResource", "sns-tags"),
        ("iam:ListAttachedRolePolicies", "iam-attached"),
    ];
    let mut users = Vec::new();
    for (action, user) in cases {
        users.push((
            action,
            operator(&emu, user, &as_moto_enforces(&[action])).await,
        ));
    }
    emu.enforce_iam(true).unwrap();
    let up = |key: &(String, String)| {
        run(as_user(&emu, key)
            .args(ENV)
            .args(["up", "--alb", "web-alb"]))
    };
    let first = up(&full);
    assert_eq!(first.code, 0, "{}", first.stderr);

    for (action, key) in &users {
        for args in [&["up", "--alb", "web-alb"][..], &["status"][..]] {
            let r = run(as_user(&emu, key).args(ENV).args(args));
            assert_eq!(r.code, 2, "{action} {args:?}: {}\n{}", r.stderr, r.stdout);
            let lines: Vec<&str> = r
                .stderr
                .lines()
                .filter(|l| l.starts_with("error"))
                .collect();
            assert_eq!(lines.len(), 1, "{action}: one error line:\n{}", r.stderr);
            assert!(
                lines[0].contains(action),
                "{action} not named: {}",
                lines[0]
            );
            assert!(
                lines[0].contains("Operator permissions"),
                "{action}: no pointer to the policy: {}",
                lines[0]
            );
            assert!(!r.stderr.contains("not tagged"), "{action}: {}", r.stderr);
            assert!(!r.stdout.contains("foreign"), "{action}: {}", r.stdout);
        }
    }
}
