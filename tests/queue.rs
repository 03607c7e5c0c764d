//! Issue 13, against the emulator: the undelivered-alerts queue, the notifier's asynchronous
//! invocation config and reserved concurrency made by `up` (idempotently, also for an env made
//! before them), undelivered alerts in `status`, and `down` refusing to drop them.

mod common;

use common::{CANARY, aws::sdk, elb_watch, run, spec, up};
use elb_watch_testkit::strict::StrictConfig;
use elb_watch_testkit::{emulator::Emulator, topology};
use serde_json::{Value, json};
use std::time::Duration;

const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:elb-watch-q-undelivered";

fn action(report: &Value, kind: &str) -> String {
    report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} change: {report}"))["action"]
        .as_str()
        .unwrap()
        .to_string()
}

fn status(emu: &Emulator, env: &str) -> (i32, Value) {
    let r = run(elb_watch(emu).args(["--env", env, "--output", "json", "status"]));
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    (r.code, r.json())
}

/// The function's reserved concurrency, as Lambda reports it.
async fn reserved(lambda: &aws_sdk_lambda::Client, function: &str) -> Option<i32> {
    lambda
        .get_function_concurrency()
        .function_name(function)
        .send()
        .await
        .unwrap()
        .reserved_concurrent_executions()
}

async fn queue_url(sqs: &aws_sdk_sqs::Client, name: &str) -> String {
    sqs.get_queue_url()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn up_keeps_undelivered_alerts_status_counts_them_and_down_refuses_to_drop_them() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    let cfg = sdk(&emu).await;
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let lambda = aws_sdk_lambda::Client::new(&cfg);

    let first = up(&emu, "q", CANARY, &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let report = first.json();
    for kind in ["sqs-queue", "lambda-async-config", "lambda-concurrency"] {
        assert_eq!(action(&report, kind), "create", "{kind}");
    }

    // The queue: SSE with SQS-managed keys, 14 days, the env's tags.
    let url = queue_url(&sqs, "elb-watch-q-undelivered").await;
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let attrs = attrs.attributes().unwrap();
    let attr = |k: aws_sdk_sqs::types::QueueAttributeName| attrs.get(&k).cloned();
    use aws_sdk_sqs::types::QueueAttributeName as A;
    assert_eq!(attr(A::SqsManagedSseEnabled).as_deref(), Some("true"));
    assert_eq!(attr(A::MessageRetentionPeriod).as_deref(), Some("1209600"));
    assert_eq!(attr(A::QueueArn).as_deref(), Some(QUEUE_ARN));
    let tags = sqs.list_queue_tags().queue_url(&url).send().await.unwrap();
    assert_eq!(
        tags.tags()
            .unwrap()
            .get("elb-watch:env")
            .map(String::as_str),
        Some("q")
    );

    // The function: two retries, an hour, failures to the queue; two reserved executions.
    let config = lambda
        .get_function_event_invoke_config()
        .function_name("elb-watch-q-notifier")
        .send()
        .await
        .unwrap();
    assert_eq!(config.maximum_retry_attempts(), Some(2));
    assert_eq!(config.maximum_event_age_in_seconds(), Some(3600));
    assert_eq!(
        config
            .destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|d| d.destination()),
        Some(QUEUE_ARN)
    );
    assert_eq!(reserved(&lambda, "elb-watch-q-notifier").await, Some(2));

    // Idempotent.
    let second = up(&emu, "q", CANARY, &[]);
    assert_eq!(second.json()["in_sync"], true, "{}", second.stdout);
    assert_eq!(
        second.json()["api_calls"]["mutating"],
        0,
        "{}",
        second.stdout
    );
    let (code, s) = status(&emu, "q");
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["undelivered"]["count"], 0);

    // Drift: the config edited by hand is put back by the next `up`.
    lambda
        .put_function_event_invoke_config()
        .function_name("elb-watch-q-notifier")
        .maximum_retry_attempts(0)
        .send()
        .await
        .unwrap();
    let (code, s) = status(&emu, "q");
    assert_eq!(code, 1, "{s}");
    let row = s["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "lambda-async-config")
        .unwrap()
        .clone();
    assert_eq!(row["state"], "drifted", "{row}");
    let fixed = up(&emu, "q", CANARY, &[]);
    assert_eq!(action(&fixed.json(), "lambda-async-config"), "update");
    assert_eq!(status(&emu, "q").0, 0);

    // An alert Lambda gave up on: status counts it and exits 1 (table and JSON).
    sqs.send_message()
        .queue_url(&url)
        .message_body(json!({"version": "1.0", "requestPayload": {"Records": []}}).to_string())
        .send()
        .await
        .unwrap();
    let (code, s) = status(&emu, "q");
    assert_eq!(code, 1, "{s}");
    assert_eq!(s["in_sync"], false);
    assert_eq!(s["undelivered"]["count"], 1);
    assert!(
        s["undelivered"]["oldest_age_s"].as_u64().unwrap() < 120,
        "{s}"
    );
    let table = run(elb_watch(&emu).args(["--env", "q", "status"]));
    assert_eq!(table.code, 1);
    assert!(
        table.stdout.contains("1 alert(s) not delivered to Slack"),
        "{}",
        table.stdout
    );

    // `down` refuses while the queue holds it, and deletes nothing.
    let refused = run(elb_watch(&emu).args(["--env", "q", "down", "--yes"]));
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("1 undelivered alert(s)")
            && refused.stderr.contains("--discard-undelivered"),
        "{}",
        refused.stderr
    );
    lambda
        .get_function()
        .function_name("elb-watch-q-notifier")
        .send()
        .await
        .expect("nothing was deleted");

    let down = run(elb_watch(&emu).args([
        "--env",
        "q",
        "--output",
        "json",
        "down",
        "--yes",
        "--discard-undelivered",
    ]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    let deleted = down.json()["deleted"].clone();
    assert!(
        deleted
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["kind"] == "sqs-queue" && d["result"] == "deleted"),
        "{deleted}"
    );
    // Gone once SQS's deletion has run (rule 16 answers for it meanwhile, as AWS may).
    assert!(
        common::aws::queue_gone(&sqs, "elb-watch-q-undelivered").await,
        "the queue is gone"
    );
}

/// `up` right after `down`: for up to 60 s SQS still answers for the deleted queue (strict layer
/// rule 16). Adopting it would leave the notifier's on-failure destination naming a queue that
/// then vanishes: every undelivered alert lost. `up` proves the queue alive with CreateQueue
/// (`QueueDeletedRecently` while it is being deleted), waits, and makes it anew.
#[tokio::test(flavor = "multi_thread")]
async fn up_right_after_down_never_adopts_the_queue_being_deleted() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk(&emu).await);
    let r = up(&emu, "q", CANARY, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let down = run(elb_watch(&emu).args(["--env", "q", "--output", "json", "down", "--yes"]));
    assert_eq!(down.code, 0, "{}", down.stderr);

    let again = up(&emu, "q", CANARY, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let stats = emu.strict().unwrap().stats();
    assert!(
        stats.contains_key("queue-deleting-answered:GetQueueUrl"),
        "the deleted queue answered up's observe: {stats:?}"
    );
    // Once SQS's deletion is over, the queue the notifier sends to exists.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let url = queue_url(&sqs, "elb-watch-q-undelivered").await;
    assert!(url.ends_with("/elb-watch-q-undelivered"), "{url}");
    let (code, v) = status(&emu, "q");
    assert_eq!(code, 0, "{v:#}");
    // The plan, made from SQS's answers, saw the queue; up says it made it anew.
    let warned: Vec<Value> = again.json()["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "queue-was-being-deleted")
        .cloned()
        .collect();
    assert_eq!(warned.len(), 1, "{}", again.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_env_made_before_gets_the_queue_and_a_small_account_gets_a_warning() {
    // SQS refuses a deleted queue's name for 60 s (strict rule 12): long enough here that the
    // `up` below, re-creating the queue this test deletes, must wait it out. The deletion itself
    // is taken as over (AWS: "up to 60 seconds"; rule 16 off): the queue answers no more.
    let emu = Emulator::start_with(StrictConfig {
        queue_name_reuse: Duration::from_secs(15),
        deleting_queue_answers: false,
        ..StrictConfig::from_env()
    })
    .unwrap();
    topology::create(&emu, &spec()).unwrap();
    let cfg = sdk(&emu).await;
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    assert_eq!(up(&emu, "old", CANARY, &[]).code, 0);
    // What an env made by the previous release has: no queue, no config, no reservation.
    let url = queue_url(&sqs, "elb-watch-old-undelivered").await;
    sqs.delete_queue().queue_url(&url).send().await.unwrap();
    lambda
        .delete_function_event_invoke_config()
        .function_name("elb-watch-old-notifier")
        .send()
        .await
        .unwrap();
    lambda
        .delete_function_concurrency()
        .function_name("elb-watch-old-notifier")
        .send()
        .await
        .unwrap();

    // A new account: concurrency limit 10, so nothing can be reserved (100 stay unreserved).
    emu.strict().unwrap().set_account_concurrency(10);
    let r = up(&emu, "old", CANARY, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    assert_eq!(action(&report, "sqs-queue"), "create");
    assert_eq!(action(&report, "lambda-async-config"), "create");
    let warning = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["kind"] == "concurrency-not-reserved")
        .unwrap_or_else(|| panic!("no warning: {report}"))
        .clone();
    assert!(
        warning["message"]
            .as_str()
            .unwrap()
            .contains("10 unreserved"),
        "{warning}"
    );
    assert_eq!(reserved(&lambda, "elb-watch-old-notifier").await, None);
    let refused = emu.strict().unwrap().stats();
    assert!(
        refused.contains_key("queue-deleted-recently:CreateQueue"),
        "up never met SQS's name-reuse wait: {refused:?}"
    );
    // status: the same warning, not drift (exit 0), for as long as the account cannot spare it.
    let (code, s) = status(&emu, "old");
    assert_eq!(code, 0, "{s:#}");
    assert!(
        s["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["kind"] == "concurrency-not-reserved"),
        "{s:#}"
    );

    // Quota raised: the next `up` reserves, the one after changes nothing.
    emu.strict().unwrap().set_account_concurrency(1000);
    let r = up(&emu, "old", CANARY, &["--notifier-concurrency", "3"]);
    assert_eq!(
        action(&r.json(), "lambda-concurrency"),
        "create",
        "{}",
        r.stdout
    );
    let again = up(&emu, "old", CANARY, &["--notifier-concurrency", "3"]);
    assert_eq!(again.json()["api_calls"]["mutating"], 0, "{}", again.stdout);
    assert_eq!(reserved(&lambda, "elb-watch-old-notifier").await, Some(3));
    // status knows the recorded --notifier-concurrency: in sync.
    assert_eq!(status(&emu, "old").0, 0);
}
