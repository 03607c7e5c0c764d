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
//!
//! moto also cannot verify the SDK's (correct) signatures of bodiless requests such as Lambda's
//! GETs; the users' keys are given to the emulator (`trust_credentials`) so that the harness
//! re-signs in a form moto verifies (testkit `cbor_bridge/sign.rs`). Unknown keys are not
//! re-signed, so moto still refuses them.

mod common;

use common::{CANARY, aws::sdk, elb_watch, run, spec};
use elb_watch::commands::policy::OPERATOR_POLICY;
use elb_watch_testkit::{emulator::Emulator, strict::StrictConfig, topology};
use serde_json::{Value, json};

/// The policy as moto can enforce it (see the module doc), minus `without`: the `Allow`
/// statements' actions. Its two `Deny` statements forbid what elb-watch never calls
/// (`iam:DeleteRolePermissionsBoundary`; changing the boundary policy, which an administrator
/// creates: [`boundary_made_by_an_administrator`]); they, like every condition, are proven against
/// the document itself (src/commands/policy.rs).
fn as_moto_enforces(without: &[&str]) -> Value {
    let doc: Value = serde_json::from_str(OPERATOR_POLICY).unwrap();
    let mut actions = Vec::new();
    for st in doc["Statement"].as_array().unwrap() {
        if st["Effect"] != "Allow" {
            continue;
        }
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

/// The notifier boundary as the README has an administrator make it, once per account, before
/// an operator holding the policy runs `up` (the policy denies the operator creating it).
async fn boundary_made_by_an_administrator(emu: &Emulator) {
    let iam = aws_sdk_iam::Client::new(&sdk(emu).await);
    iam.create_policy()
        .policy_name(elb_watch::naming::BOUNDARY_POLICY)
        .path(elb_watch::naming::IAM_PATH)
        .policy_document(elb_watch::policy::notifier_boundary("aws").to_string())
        .send()
        .await
        .unwrap();
}

/// The permissions boundary of env `ops`'s notifier role, read as the administrator.
async fn role_boundary(iam: &aws_sdk_iam::Client) -> Option<String> {
    iam.get_role()
        .role_name("elb-watch-ops-notifier")
        .send()
        .await
        .unwrap()
        .role
        .unwrap()
        .permissions_boundary
        .and_then(|b| b.permissions_boundary_arn)
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
    emu.trust_credentials(key.access_key_id(), key.secret_access_key());
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
    // The operator reaches elb-watch's key by its tag, which KMS may take minutes to honour on
    // a new key (strict layer rule 18): `up` must wait it out, not fail.
    let emu = Emulator::start_with(StrictConfig {
        key_tag_lag: std::time::Duration::from_secs(2),
        ..StrictConfig::from_env()
    })
    .unwrap();
    topology::create(&emu, &spec()).unwrap();
    boundary_made_by_an_administrator(&emu).await;
    let key = operator(&emu, "operator", &as_moto_enforces(&[])).await;
    let nobody = operator(
        &emu,
        "nobody",
        // Not sts:GetCallerIdentity: AWS (and moto) allow it to everyone, even under a Deny.
        &as_moto_enforces(&["elasticloadbalancing:DescribeLoadBalancers"]),
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

    let steps: [&[&str]; 6] = [
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
        // Nobody runs the notifier here: `test` sets the alarm, reads the log group, finds
        // nothing and says so (exit 1), every call allowed.
        &["test", "--timeout", "2"],
        &["replay"],
        &["down", "--yes"],
    ];
    for (i, args) in steps.iter().enumerate() {
        let r = run(as_user(&emu, &key).args(ENV).args(*args));
        let want = if args[0] == "test" { 1 } else { 0 };
        assert_eq!(r.code, want, "{args:?} failed:\n{}\n{}", r.stderr, r.stdout);
        assert!(
            !r.stderr.contains("AccessDenied") && !r.stderr.contains("not authorized"),
            "{args:?}: {}",
            r.stderr
        );
        if i == 0 {
            let lagged = emu.strict().unwrap().stats();
            assert!(
                lagged
                    .keys()
                    .any(|k| k.starts_with("key-tags-not-yet-authorised:")),
                "rule 18 never refused the new key: {lagged:?}"
            );
            // Read as the administrator, whose made-up key only works without enforcement.
            emu.enforce_iam(false).unwrap();
            let iam = aws_sdk_iam::Client::new(&sdk(&emu).await);
            assert_eq!(
                role_boundary(&iam).await,
                Some(elb_watch::naming::boundary_arn("aws", "123456789012")),
                "the operator's role carries the boundary"
            );
            emu.enforce_iam(true).unwrap();
        }
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
    boundary_made_by_an_administrator(&emu).await;
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

/// `--permissions-boundary` is set, reported as drift when changed by hand, restored and
/// replaced by elb-watch's own without the option; `up` detaches only policies it attached; `down` still deletes the role.
#[tokio::test(flavor = "multi_thread")]
async fn boundary_and_attached_policies_of_others() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    let iam = aws_sdk_iam::Client::new(&sdk(&emu).await);
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]})
    .to_string();
    let make = |name: &'static str, path: &'static str, tags: Vec<(&'static str, &'static str)>| {
        let iam = iam.clone();
        let doc = doc.clone();
        async move {
            let tags = tags
                .into_iter()
                .map(|(k, v)| {
                    aws_sdk_iam::types::Tag::builder()
                        .key(k)
                        .value(v)
                        .build()
                        .unwrap()
                })
                .collect();
            iam.create_policy()
                .policy_name(name)
                .path(path)
                .policy_document(doc)
                .set_tags(Some(tags))
                .send()
                .await
                .unwrap()
                .policy
                .unwrap()
                .arn
                .unwrap()
        }
    };
    let boundary = make("OrgBoundary", "/", vec![]).await;
    let baseline = make("OrgBaseline", "/", vec![]).await;
    let stale_own = make(
        "elb-watch-ops-old",
        "/elb-watch/",
        vec![
            ("elb-watch:managed-by", "elb-watch"),
            ("elb-watch:env", "ops"),
        ],
    )
    .await;
    let role = "elb-watch-ops-notifier";
    let with_boundary = [
        "up",
        "--alb",
        "web-alb",
        "--permissions-boundary",
        &boundary,
    ];
    let cli = |args: &[&str]| {
        run(elb_watch(&emu)
            .env("ELB_WATCH_SLACK_URL", CANARY)
            .args(ENV)
            .args(args))
    };
    let got_boundary = || role_boundary(&iam);
    let attached = || async {
        let mut arns: Vec<String> = iam
            .list_attached_role_policies()
            .role_name(role)
            .send()
            .await
            .unwrap()
            .attached_policies
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| p.policy_arn)
            .collect();
        arns.sort();
        arns
    };

    let r = cli(&with_boundary);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(got_boundary().await.as_deref(), Some(boundary.as_str()));
    let s = cli(&["status"]);
    assert_eq!(s.code, 0, "{}", s.stdout);
    assert_eq!(
        s.json()["settings"]["permissions_boundary"],
        boundary.as_str()
    );

    // Someone removes the boundary by hand: drift; `up` puts it back.
    iam.delete_role_permissions_boundary()
        .role_name(role)
        .send()
        .await
        .unwrap();
    let s = cli(&["status"]);
    assert_eq!(s.code, 1, "{}", s.stdout);
    assert!(s.stdout.contains("permissions boundary"), "{}", s.stdout);
    assert_eq!(cli(&with_boundary).code, 0);
    assert_eq!(got_boundary().await.as_deref(), Some(boundary.as_str()));

    // An organisation's policy and a stale one of elb-watch's own are attached to the role.
    for arn in [&baseline, &stale_own] {
        iam.attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
    }
    let r = cli(&["up", "--alb", "web-alb"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        got_boundary().await,
        Some(elb_watch::naming::boundary_arn("aws", "123456789012")),
        "without the option the boundary is elb-watch's own"
    );
    let now = attached().await;
    assert!(
        now.contains(&baseline),
        "someone else's policy was detached: {now:?}"
    );
    assert!(
        !now.contains(&stale_own),
        "elb-watch's stale policy stayed: {now:?}"
    );
    assert_eq!(cli(&["up", "--alb", "web-alb"]).json()["in_sync"], true);

    // `down` must detach the organisation's policy to delete the role; the policy stays.
    let d = cli(&["down", "--yes"]);
    assert_eq!(d.code, 0, "{}", d.stderr);
    assert!(
        iam.get_role().role_name(role).send().await.is_err(),
        "role left"
    );
    iam.get_policy().policy_arn(&baseline).send().await.unwrap();
}

/// An env made before the boundary existed (its role without one, no boundary policy in the
/// account): the next `up` creates the boundary and sets it on the role, and changes nothing
/// else; the one after is a no-op.
#[tokio::test(flavor = "multi_thread")]
async fn an_env_made_before_the_boundary_converges() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    let iam = aws_sdk_iam::Client::new(&sdk(&emu).await);
    let cli = |args: &[&str]| {
        run(elb_watch(&emu)
            .env("ELB_WATCH_SLACK_URL", CANARY)
            .args(ENV)
            .args(args))
    };
    let first = cli(&["up", "--alb", "web-alb"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    // What an earlier version left: no boundary on the role, no boundary policy.
    iam.delete_role_permissions_boundary()
        .role_name("elb-watch-ops-notifier")
        .send()
        .await
        .unwrap();
    let boundary = elb_watch::naming::boundary_arn("aws", "123456789012");
    iam.delete_policy()
        .policy_arn(&boundary)
        .send()
        .await
        .unwrap();

    let plan = cli(&["up", "--alb", "web-alb", "--dry-run"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let mut changed: Vec<(String, String)> = plan.json()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "unchanged")
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_string(),
                c["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    changed.sort();
    assert_eq!(
        changed,
        [
            ("iam-boundary-policy".to_string(), "create".to_string()),
            ("iam-role".to_string(), "update".to_string())
        ],
        "{}",
        plan.stdout
    );

    let up = cli(&["up", "--alb", "web-alb"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert_eq!(
        up.json()["api_calls"]["mutating"],
        2,
        "CreatePolicy and PutRolePermissionsBoundary only: {}",
        up.stdout
    );
    assert_eq!(role_boundary(&iam).await, Some(boundary.clone()));
    let doc = iam
        .get_policy_version()
        .policy_arn(&boundary)
        .version_id("v1")
        .send()
        .await
        .unwrap()
        .policy_version
        .unwrap()
        .document
        .unwrap();
    let doc = elb_watch::policy::parse_document(&doc).expect("the boundary is JSON");
    assert!(elb_watch::policy::same_document(
        &doc,
        &elb_watch::policy::notifier_boundary("aws")
    ));
    let again = cli(&["up", "--alb", "web-alb"]);
    assert_eq!(again.json()["in_sync"], true, "{}", again.stdout);
    assert_eq!(again.json()["api_calls"]["mutating"], 0);
}

/// `elb-watch policy` prints the operator policy, `--boundary` the notifier boundary,
/// `--permissions-boundary ARN` the policy for an organisation's boundary; bad input is refused.
#[test]
fn the_policy_command_prints_each_document() {
    let cli = |args: &[&str]| {
        run(std::process::Command::new(env!("CARGO_BIN_EXE_elb-watch"))
            .args(["policy"])
            .args(args))
    };
    let own = cli(&[]);
    assert_eq!(own.code, 0, "{}", own.stderr);
    let own: Value = serde_json::from_str(&own.stdout).unwrap();
    assert_eq!(own, serde_json::from_str::<Value>(OPERATOR_POLICY).unwrap());

    let boundary = cli(&["--boundary"]);
    assert_eq!(boundary.code, 0, "{}", boundary.stderr);
    let boundary: Value = serde_json::from_str(&boundary.stdout).unwrap();
    assert_eq!(boundary, elb_watch::policy::notifier_boundary("aws"));

    let org = "arn:aws:iam::123456789012:policy/OrgBoundary";
    let theirs = cli(&["--permissions-boundary", org]);
    assert_eq!(theirs.code, 0, "{}", theirs.stderr);
    assert!(theirs.stdout.contains(org), "{}", theirs.stdout);
    assert!(
        !theirs.stdout.contains("elb-watch-notifier-boundary"),
        "{}",
        theirs.stdout
    );
    serde_json::from_str::<Value>(&theirs.stdout).expect("JSON");

    for bad in [
        &["--boundary", "--permissions-boundary", org][..],
        &["--permissions-boundary", "OrgBoundary"][..],
    ] {
        let r = cli(bad);
        assert_eq!(r.code, 2, "{bad:?}: {}", r.stdout);
        assert!(r.stdout.is_empty(), "{bad:?} printed {}", r.stdout);
    }
}
