//! The strict-AWS layer, rule by rule, with raw SDK calls: each test shows the layer refuses,
//! delays or pages exactly as the AWS page it models documents, and would fail if the rule
//! were removed (moto alone accepts / answers differently — several tests check that too,
//! against an emulator with the layer's rules off).

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::error::ProvideErrorMetadata;
use elb_watch_testkit::emulator::{self, Emulator};
use elb_watch_testkit::strict::StrictConfig;
use std::time::{Duration, Instant};

/// SDK configuration for `url`, without retries: the tests see every refusal.
async fn sdk(url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(elb_watch_testkit::aws_http::client())
        .region(Region::new(emulator::REGION))
        .endpoint_url(url)
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
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

fn start(config: StrictConfig) -> Emulator {
    Emulator::start_with(config).expect("emulator starts")
}

/// Error code of a failed SDK call (panics on success).
fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(r: Result<T, E>) -> String {
    let e = r.expect_err("the call must be refused");
    e.code().unwrap_or("<none>").to_string()
}

fn message<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<T, E>,
) -> String {
    let e = r.expect_err("the call must be refused");
    e.message().unwrap_or("").to_string()
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// An empty zip archive (end-of-central-directory record only): enough for moto's CreateFunction.
fn empty_zip() -> Vec<u8> {
    let mut z = vec![0x50, 0x4b, 0x05, 0x06];
    z.extend([0u8; 18]);
    z
}

fn iam_tag(k: &str, v: &str) -> aws_sdk_iam::types::Tag {
    aws_sdk_iam::types::Tag::builder()
        .key(k)
        .value(v)
        .build()
        .unwrap()
}

// ---------------------------------------------------------------- rule 1: tags

#[tokio::test(flavor = "multi_thread")]
async fn invalid_tags_are_refused_with_each_services_error() {
    let emu = start(StrictConfig::default());
    let conf = sdk(&emu.endpoint_url()).await;
    let iam = aws_sdk_iam::Client::new(&conf);
    let kms = aws_sdk_kms::Client::new(&conf);
    let sns = aws_sdk_sns::Client::new(&conf);
    let cw = aws_sdk_cloudwatch::Client::new(&conf);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);

    // `#` is outside [\p{L}\p{Z}\p{N}_.:/=+\-@].
    let r = iam
        .create_role()
        .role_name("r1")
        .assume_role_policy_document(TRUST)
        .tags(iam_tag("elb-watch:slack-channel", "#ops"))
        .send()
        .await;
    assert_eq!(code(r), "InvalidInput");
    // The same role with valid tags is created: the refusal was the tag.
    iam.create_role()
        .role_name("r1")
        .assume_role_policy_document(TRUST)
        .tags(iam_tag("elb-watch:slack-channel", "ops"))
        .send()
        .await
        .expect("valid tags pass");
    let r = iam
        .tag_role()
        .role_name("r1")
        .tags(iam_tag("aws:reserved", "x"))
        .send()
        .await;
    assert_eq!(code(r), "InvalidInput");

    let r = kms
        .create_key()
        .tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key("k")
                .tag_value("v".repeat(257))
                .build()
                .unwrap(),
        )
        .send()
        .await;
    assert_eq!(code(r), "TagException");

    let mut req = sns.create_topic().name("t1");
    for i in 0..51 {
        req = req.tags(
            aws_sdk_sns::types::Tag::builder()
                .key(format!("k{i}"))
                .value("v")
                .build()
                .unwrap(),
        );
    }
    assert_eq!(code(req.send().await), "TagLimitExceeded");

    let r = cw
        .put_metric_alarm()
        .alarm_name("a1")
        .namespace("AWS/ApplicationELB")
        .metric_name("HealthyHostCount")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Minimum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::LessThanThreshold)
        .tags(
            aws_sdk_cloudwatch::types::Tag::builder()
                .key("albs")
                .value("a,b")
                .build(),
        )
        .send()
        .await;
    assert_eq!(code(r), "InvalidParameterValue");

    let r = logs
        .create_log_group()
        .log_group_name("/g1")
        .tags("k".repeat(129), "v")
        .send()
        .await;
    assert_eq!(code(r), "InvalidParameterException");

    assert!(emu.strict().unwrap().count("refused-tags") >= 6);

    // moto alone accepts every one of them.
    let lax = start(StrictConfig::none());
    let conf = sdk(&lax.endpoint_url()).await;
    aws_sdk_iam::Client::new(&conf)
        .create_role()
        .role_name("r1")
        .assume_role_policy_document(TRUST)
        .tags(iam_tag("elb-watch:slack-channel", "#ops"))
        .send()
        .await
        .expect("moto takes any tag");
    aws_sdk_cloudwatchlogs::Client::new(&conf)
        .create_log_group()
        .log_group_name("/g1")
        .tags("k".repeat(129), "v")
        .send()
        .await
        .expect("moto takes any tag");
}

// ------------------------------------------------ rules 2, 3, 7: Lambda and IAM propagation

async fn create_role(iam: &aws_sdk_iam::Client, name: &str) -> String {
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .expect("role")
        .role
        .unwrap()
        .arn
}

fn create_function(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    role: &str,
) -> aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder {
    lambda
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .role(role)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(empty_zip()))
                .build(),
        )
        .tags("team", "ops")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_function_is_pending_then_updating_and_refuses_a_second_update() {
    // Longer windows than the defaults: the shared test machine can be slow. The windows
    // start when moto has answered, so waiting a whole window from now always ends them.
    let config = StrictConfig {
        role_propagation: Duration::ZERO,
        lambda_pending: Duration::from_secs(6),
        lambda_update: Duration::from_secs(6),
        ..StrictConfig::default()
    };
    let (pending, update) = (config.lambda_pending, config.lambda_update);
    let emu = start(config);
    let conf = sdk(&emu.endpoint_url()).await;
    let iam = aws_sdk_iam::Client::new(&conf);
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let role = create_role(&iam, "fn-role").await;

    let created = Instant::now();
    let out = create_function(&lambda, "f", &role)
        .send()
        .await
        .expect("created");
    assert_eq!(out.state, Some(aws_sdk_lambda::types::State::Pending));
    let got = lambda
        .get_function()
        .function_name("f")
        .send()
        .await
        .unwrap();
    let c = got.configuration.unwrap();
    assert_eq!(c.state, Some(aws_sdk_lambda::types::State::Pending));
    assert_eq!(
        c.state_reason_code,
        Some(aws_sdk_lambda::types::StateReasonCode::Creating)
    );
    // Rule 7: no Tags in GetFunction; ListTags has them.
    assert_eq!(got.tags, None, "GetFunction must not show tags");
    let arn = c.function_arn.unwrap();
    let tags = lambda.list_tags().resource(&arn).send().await.unwrap();
    assert_eq!(
        tags.tags.unwrap().get("team").map(String::as_str),
        Some("ops")
    );

    // Rule 2: an update while Pending is refused.
    let r = lambda
        .update_function_configuration()
        .function_name("f")
        .timeout(30)
        .send()
        .await;
    let e = r.expect_err("refused while Pending");
    assert_eq!(e.code(), Some("ResourceConflictException"));
    assert!(
        e.message().unwrap_or("").contains("Pending"),
        "{:?}",
        e.message()
    );
    assert!(
        created.elapsed() < pending,
        "the test was too slow to see Pending"
    );

    tokio::time::sleep(pending + Duration::from_millis(500)).await;
    let c = lambda
        .get_function_configuration()
        .function_name("f")
        .send()
        .await
        .unwrap();
    assert_eq!(c.state, Some(aws_sdk_lambda::types::State::Active));

    let updated = Instant::now();
    let out = lambda
        .update_function_configuration()
        .function_name("f")
        .timeout(30)
        .send()
        .await
        .expect("an Active function takes an update");
    assert_eq!(
        out.last_update_status,
        Some(aws_sdk_lambda::types::LastUpdateStatus::InProgress)
    );
    let c = lambda
        .get_function_configuration()
        .function_name("f")
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.last_update_status,
        Some(aws_sdk_lambda::types::LastUpdateStatus::InProgress)
    );
    let r = lambda
        .update_function_code()
        .function_name("f")
        .zip_file(aws_sdk_lambda::primitives::Blob::new(empty_zip()))
        .send()
        .await;
    let e = r.expect_err("a second update is refused");
    assert_eq!(e.code(), Some("ResourceConflictException"));
    assert_eq!(
        e.message(),
        Some(
            format!(
                "The operation cannot be performed at this time. An update is in progress for \
                 resource: {arn}"
            )
            .as_str()
        )
    );
    assert!(
        updated.elapsed() < update,
        "the test was too slow to see InProgress"
    );

    tokio::time::sleep(update + Duration::from_millis(500)).await;
    let c = lambda
        .get_function_configuration()
        .function_name("f")
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.last_update_status,
        Some(aws_sdk_lambda::types::LastUpdateStatus::Successful)
    );
    lambda
        .update_function_code()
        .function_name("f")
        .zip_file(aws_sdk_lambda::primitives::Blob::new(empty_zip()))
        .send()
        .await
        .expect("accepted once the update is done");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_role_is_not_usable_by_lambda_or_kms_for_a_few_seconds() {
    let config = StrictConfig {
        role_propagation: Duration::from_secs(8),
        ..StrictConfig::default()
    };
    let window = config.role_propagation;
    let emu = start(config);
    let conf = sdk(&emu.endpoint_url()).await;
    let iam = aws_sdk_iam::Client::new(&conf);
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let kms = aws_sdk_kms::Client::new(&conf);

    let created = Instant::now();
    let role = create_role(&iam, "young").await;
    let r = create_function(&lambda, "g", &role).send().await;
    assert_eq!(
        message(r),
        "The role defined for the function cannot be assumed by Lambda."
    );
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "root", "Effect": "Allow",
             "Principal": {"AWS": format!("arn:aws:iam::{}:root", emulator::ACCOUNT_ID)},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "role", "Effect": "Allow", "Principal": {"AWS": [role.clone()]},
             "Action": "kms:Decrypt", "Resource": "*"}
        ]
    })
    .to_string();
    let r = kms.create_key().policy(&policy).send().await;
    let e = r.expect_err("refused");
    assert_eq!(e.code(), Some("MalformedPolicyDocumentException"));
    assert_eq!(
        e.message(),
        Some("Policy contains a statement with one or more invalid principals.")
    );
    // PutKeyPolicy on an existing key, too.
    let key = kms
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let r = kms
        .put_key_policy()
        .key_id(&key)
        .policy_name("default")
        .policy(&policy)
        .send()
        .await;
    assert_eq!(code(r), "MalformedPolicyDocumentException");
    assert!(created.elapsed() < window, "the test was too slow");

    tokio::time::sleep(window + Duration::from_millis(500)).await;
    create_function(&lambda, "g", &role)
        .send()
        .await
        .expect("the role is visible now");
    kms.create_key()
        .policy(&policy)
        .send()
        .await
        .expect("the principal is valid now");
}

// ----------------------------------------------------------- rules 4 and 5: pages, Tagging API

#[tokio::test(flavor = "multi_thread")]
async fn lists_come_in_small_pages_and_every_item_is_reachable() {
    let emu = start(StrictConfig {
        rate_scale: 0.0,
        ..StrictConfig::default()
    });
    let conf = sdk(&emu.endpoint_url()).await;
    let cw = aws_sdk_cloudwatch::Client::new(&conf);
    let iam = aws_sdk_iam::Client::new(&conf);
    let kms = aws_sdk_kms::Client::new(&conf);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);

    for i in 0..5 {
        cw.put_metric_alarm()
            .alarm_name(format!("a{i}"))
            .namespace("N")
            .metric_name("M")
            .statistic(aws_sdk_cloudwatch::types::Statistic::Minimum)
            .period(60)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::LessThanThreshold)
            .send()
            .await
            .unwrap();
        logs.create_log_group()
            .log_group_name(format!("/g/{i}"))
            .send()
            .await
            .unwrap();
        kms.create_key().send().await.unwrap();
    }
    create_role(&iam, "paged").await;
    for i in 0..5 {
        iam.put_role_policy()
            .role_name("paged")
            .policy_name(format!("p{i}"))
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#)
            .send()
            .await
            .unwrap();
    }

    // One page is small even when the caller asks for 100.
    let page = cw.describe_alarms().max_records(100).send().await.unwrap();
    assert_eq!(page.metric_alarms().len(), 2);
    assert!(page.next_token.is_some());
    let page = iam
        .list_role_policies()
        .role_name("paged")
        .send()
        .await
        .unwrap();
    assert_eq!(page.policy_names.len(), 2);
    assert!(page.is_truncated);
    let page = kms.list_keys().send().await.unwrap();
    assert_eq!(page.keys().len(), 2);
    assert!(page.truncated);
    let page = logs.describe_log_groups().send().await.unwrap();
    assert_eq!(page.log_groups().len(), 2);

    // Following the tokens reaches every item exactly once.
    let mut names: Vec<String> = Vec::new();
    let mut token = None;
    loop {
        let p = cw
            .describe_alarms()
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        names.extend(
            p.metric_alarms()
                .iter()
                .filter_map(|a| a.alarm_name.clone()),
        );
        token = p.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(names, ["a0", "a1", "a2", "a3", "a4"]);
    let all: Vec<String> = iam
        .list_role_policies()
        .role_name("paged")
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    let keys = kms
        .list_keys()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(keys.len(), 5);
    let groups = logs
        .describe_log_groups()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(groups.len(), 5);
    assert!(emu.strict().unwrap().count("paged") >= 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tagging_api_lags_and_serves_one_resource_per_page() {
    let config = StrictConfig {
        rate_scale: 0.0,
        tagging_lag: Duration::from_secs(6),
        ..StrictConfig::default()
    };
    let lag = config.tagging_lag;
    let emu = start(config);
    let conf = sdk(&emu.endpoint_url()).await;
    let sns = aws_sdk_sns::Client::new(&conf);
    let tagging = aws_sdk_resourcegroupstagging::Client::new(&conf);
    let tag = |v: &str| {
        aws_sdk_sns::types::Tag::builder()
            .key("elb-watch:env")
            .value(v)
            .build()
            .unwrap()
    };
    let started = Instant::now();
    for i in 0..3 {
        sns.create_topic()
            .name(format!("t{i}"))
            .tags(tag("lag"))
            .send()
            .await
            .unwrap();
    }
    let filter = aws_sdk_resourcegroupstagging::types::TagFilter::builder()
        .key("elb-watch:env")
        .values("lag")
        .build();
    let fresh = tagging
        .get_resources()
        .tag_filters(filter.clone())
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() < lag, "the test was too slow");
    assert!(
        fresh.resource_tag_mapping_list().is_empty(),
        "new resources are not indexed yet: {fresh:?}"
    );

    tokio::time::sleep(lag + Duration::from_millis(500)).await;
    let first = tagging
        .get_resources()
        .tag_filters(filter.clone())
        .resources_per_page(50)
        .send()
        .await
        .unwrap();
    assert_eq!(first.resource_tag_mapping_list().len(), 1);
    assert!(first.pagination_token().is_some_and(|t| !t.is_empty()));
    let mut pages = 0;
    let mut arns = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let p = tagging
            .get_resources()
            .tag_filters(filter.clone())
            .set_pagination_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        arns.extend(
            p.resource_tag_mapping_list()
                .iter()
                .filter_map(|m| m.resource_arn.clone()),
        );
        token = p.pagination_token.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    assert_eq!((pages, arns.len()), (3, 3), "{arns:?}");
}

// ------------------------------------------------------------------ rule 6: throttling

#[tokio::test(flavor = "multi_thread")]
async fn bursts_beyond_the_default_quotas_are_throttled_with_each_services_error() {
    let emu = start(StrictConfig::default());
    let conf = sdk(&emu.endpoint_url()).await;
    let cw = aws_sdk_cloudwatch::Client::new(&conf);
    let kms = aws_sdk_kms::Client::new(&conf);
    let lambda = aws_sdk_lambda::Client::new(&conf);

    // PutMetricAlarm: 3 TPS. Ten at once: 3 pass (plus what refills meanwhile).
    let mut set = tokio::task::JoinSet::new();
    for i in 0..10 {
        let cw = cw.clone();
        set.spawn(async move {
            cw.put_metric_alarm()
                .alarm_name(format!("burst-{i}"))
                .namespace("N")
                .metric_name("M")
                .statistic(aws_sdk_cloudwatch::types::Statistic::Minimum)
                .period(60)
                .evaluation_periods(1)
                .threshold(1.0)
                .comparison_operator(
                    aws_sdk_cloudwatch::types::ComparisonOperator::LessThanThreshold,
                )
                .send()
                .await
                .err()
                .and_then(|e| e.code().map(str::to_string))
        });
    }
    let codes = set.join_all().await;
    let throttled = codes
        .iter()
        .filter(|c| c.as_deref() == Some("Throttling"))
        .count();
    assert!(throttled >= 5, "{codes:?}");

    // KMS CreateKey: 5 rps → ThrottlingException.
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let kms = kms.clone();
        set.spawn(async move {
            kms.create_key()
                .send()
                .await
                .err()
                .and_then(|e| e.code().map(str::to_string))
        });
    }
    let kms_codes = set.join_all().await;
    assert!(
        kms_codes
            .iter()
            .any(|c| c.as_deref() == Some("ThrottlingException")),
        "{kms_codes:?}"
    );

    // Lambda control plane: 15 rps shared → 429 TooManyRequestsException.
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let lambda = lambda.clone();
        set.spawn(async move {
            lambda
                .list_functions()
                .send()
                .await
                .err()
                .and_then(|e| e.code().map(str::to_string))
        });
    }
    let lambda_codes = set.join_all().await;
    assert!(
        lambda_codes
            .iter()
            .any(|c| c.as_deref() == Some("TooManyRequestsException")),
        "{lambda_codes:?}"
    );
    assert!(emu.strict().unwrap().count("throttled") >= throttled);

    // The SDK's standard retries absorb a small burst: 6 alarms with retries on all succeed.
    let retrying = aws_sdk_cloudwatch::Client::from_conf(
        aws_sdk_cloudwatch::config::Builder::from(&conf)
            .retry_config(RetryConfig::standard().with_max_attempts(10))
            .build(),
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    for i in 0..6 {
        retrying
            .put_metric_alarm()
            .alarm_name(format!("retried-{i}"))
            .namespace("N")
            .metric_name("M")
            .statistic(aws_sdk_cloudwatch::types::Statistic::Minimum)
            .period(60)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::LessThanThreshold)
            .send()
            .await
            .expect("retried until it passes");
    }
}

// ------------------------------------------------------- rule 8: INSUFFICIENT_DATA at birth

async fn put_alarm(cw: &aws_sdk_cloudwatch::Client, name: &str, threshold: f64) {
    cw.put_metric_alarm()
        .alarm_name(name)
        .namespace("AWS/ApplicationELB")
        .metric_name("HealthyHostCount")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Minimum)
        .period(60)
        .evaluation_periods(1)
        .threshold(threshold)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::LessThanThreshold)
        .send()
        .await
        .unwrap();
}

async fn state(cw: &aws_sdk_cloudwatch::Client, name: &str) -> (String, String) {
    let out = cw.describe_alarms().alarm_names(name).send().await.unwrap();
    let a = &out.metric_alarms()[0];
    (
        a.state_value.as_ref().unwrap().as_str().to_string(),
        a.state_reason.clone().unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_alarm_starts_in_insufficient_data_and_an_update_keeps_its_state() {
    let emu = start(StrictConfig::default());
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(&emu.endpoint_url()).await);
    put_alarm(&cw, "born", 1.0).await;
    assert_eq!(
        state(&cw, "born").await,
        (
            "INSUFFICIENT_DATA".to_string(),
            "Unchecked: Initial alarm creation".to_string()
        )
    );
    cw.set_alarm_state()
        .alarm_name("born")
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("Threshold Crossed")
        .send()
        .await
        .unwrap();
    put_alarm(&cw, "born", 2.0).await;
    assert_eq!(state(&cw, "born").await.0, "ALARM");

    // moto alone starts it in OK.
    let lax = start(StrictConfig::none());
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(&lax.endpoint_url()).await);
    put_alarm(&cw, "born", 1.0).await;
    assert_eq!(state(&cw, "born").await.0, "OK");
}

/// Rule 5 for the Classic ELB API: DescribeLoadBalancers comes in small pages too (moto answers
/// every load balancer at once), so a reader that ignores `NextMarker` sees only the first.
#[tokio::test(flavor = "multi_thread")]
async fn classic_load_balancers_come_in_small_pages() {
    let emu = start(StrictConfig {
        rate_scale: 0.0,
        ..StrictConfig::default()
    });
    let classic: Vec<serde_json::Value> = (0..5)
        .map(|i| serde_json::json!({"name": format!("classic-{i}"), "instances": [0]}))
        .collect();
    elb_watch_testkit::topology::create(
        &emu,
        &serde_json::json!({"instances": 1, "target_groups": [], "load_balancers": [],
                            "classic_load_balancers": classic}),
    )
    .unwrap();
    let elb = aws_sdk_elasticloadbalancing::Client::new(&sdk(&emu.endpoint_url()).await);
    let first = elb.describe_load_balancers().send().await.unwrap();
    assert_eq!(first.load_balancer_descriptions().len(), 2);
    assert!(first.next_marker().is_some());
    let mut names: Vec<String> = Vec::new();
    let mut pages = elb.describe_load_balancers().into_paginator().send();
    while let Some(page) = pages.next().await {
        names.extend(
            page.unwrap()
                .load_balancer_descriptions()
                .iter()
                .filter_map(|d| d.load_balancer_name().map(String::from)),
        );
    }
    names.sort();
    assert_eq!(
        names,
        (0..5).map(|i| format!("classic-{i}")).collect::<Vec<_>>()
    );
}

/// Rule 13: an alarm deleted and made again under its name comes back without the old alarm's
/// tags (Slack app mode's open thread must not survive `down`); moto alone keeps them.
#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_alarms_tags_go_with_it() {
    async fn reborn_tags(emu: &Emulator) -> Vec<String> {
        let cw = aws_sdk_cloudwatch::Client::new(&sdk(&emu.endpoint_url()).await);
        put_alarm(&cw, "tagged", 1.0).await;
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
        cw.tag_resource()
            .resource_arn(&arn)
            .tags(
                aws_sdk_cloudwatch::types::Tag::builder()
                    .key("elb-watch:slack-thread")
                    .value("C0ALERTS/1700000000.000100")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        cw.delete_alarms()
            .alarm_names("tagged")
            .send()
            .await
            .unwrap();
        put_alarm(&cw, "tagged", 1.0).await;
        let tags = cw
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap();
        tags.tags()
            .iter()
            .filter_map(|t| t.key().map(String::from))
            .collect()
    }
    let emu = start(StrictConfig::default());
    assert!(reborn_tags(&emu).await.is_empty());
    assert_eq!(emu.strict().unwrap().count("alarm-tags-deleted"), 1);
    let lax = start(StrictConfig::none());
    assert_eq!(reborn_tags(&lax).await, ["elb-watch:slack-thread"]);
}

/// Rule 26: PutMetricAlarm on an existing alarm ignores its `Tags` (TagResource and
/// UntagResource change them); moto alone applies them.
#[tokio::test(flavor = "multi_thread")]
async fn a_put_on_an_existing_alarm_leaves_its_tags_alone() {
    use aws_sdk_cloudwatch::types::Tag;
    async fn tags_after_a_second_put(emu: &Emulator) -> Vec<(String, String)> {
        let cw = aws_sdk_cloudwatch::Client::new(&sdk(&emu.endpoint_url()).await);
        let put = |value: &'static str, extra: bool| {
            let mut p = cw
                .put_metric_alarm()
                .alarm_name("kept")
                .namespace("AWS/ApplicationELB")
                .metric_name("HealthyHostCount")
                .statistic(aws_sdk_cloudwatch::types::Statistic::Minimum)
                .period(60)
                .evaluation_periods(1)
                .threshold(1.0)
                .comparison_operator(
                    aws_sdk_cloudwatch::types::ComparisonOperator::LessThanThreshold,
                )
                .tags(Tag::builder().key("team").value(value).build());
            if extra {
                p = p.tags(
                    Tag::builder()
                        .key("elb-watch:runbook")
                        .value("https://x/y")
                        .build(),
                );
            }
            p.send()
        };
        put("web", false).await.unwrap();
        put("api", true).await.unwrap();
        let arn = cw
            .describe_alarms()
            .alarm_names("kept")
            .send()
            .await
            .unwrap()
            .metric_alarms()[0]
            .alarm_arn()
            .unwrap()
            .to_string();
        let mut tags: Vec<(String, String)> = cw
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap()
            .tags()
            .iter()
            .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
            .collect();
        tags.sort();
        tags
    }
    let emu = start(StrictConfig::default());
    assert_eq!(
        tags_after_a_second_put(&emu).await,
        [("team".to_string(), "web".to_string())]
    );
    assert_eq!(emu.strict().unwrap().count("alarm-tags-kept"), 1);
    let lax = start(StrictConfig::none());
    assert_eq!(
        tags_after_a_second_put(&lax).await,
        [
            ("elb-watch:runbook".to_string(), "https://x/y".to_string()),
            ("team".to_string(), "api".to_string())
        ]
    );
}

/// Rule 11: every state change is in DescribeAlarmHistory, newest first, whether made through
/// the layer (SetAlarmState) or reported by the stand-in for CloudWatch's evaluation; moto
/// alone cannot answer at all.
#[tokio::test(flavor = "multi_thread")]
async fn alarm_state_changes_are_in_the_alarm_history() {
    use aws_sdk_cloudwatch::types::{HistoryItemType, ScanBy, StateValue};
    use elb_watch_testkit::strict::history::StateChange;
    let emu = start(StrictConfig::default());
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(&emu.endpoint_url()).await);
    put_alarm(&cw, "hist", 1.0).await;
    for (value, reason) in [(StateValue::Alarm, "down"), (StateValue::Ok, "up")] {
        cw.set_alarm_state()
            .alarm_name("hist")
            .state_value(value)
            .state_reason(reason)
            .send()
            .await
            .unwrap();
    }
    // A change made on moto directly, as topology::alarm_event does, then reported.
    emu.strict().unwrap().record_state_change(StateChange {
        region: emulator::REGION.to_string(),
        alarm: "hist".into(),
        old_state: "OK".into(),
        old_reason: String::new(),
        new_state: "ALARM".into(),
        new_reason: "down again".into(),
        at_ms: 4_102_444_800_000, // 2100-01-01: the newest
    });
    let history = |end: Option<i64>| {
        let mut req = cw
            .describe_alarm_history()
            .alarm_name("hist")
            .history_item_type(HistoryItemType::StateUpdate)
            .scan_by(ScanBy::TimestampDescending);
        if let Some(end) = end {
            req = req.end_date(aws_sdk_cloudwatch::primitives::DateTime::from_secs(end));
        }
        req.send()
    };
    let out = history(None).await.unwrap();
    let summaries: Vec<&str> = out
        .alarm_history_items()
        .iter()
        .map(|i| i.history_summary().unwrap())
        .collect();
    assert_eq!(
        summaries,
        [
            "Alarm updated from OK to ALARM",
            "Alarm updated from ALARM to OK",
            "Alarm updated from INSUFFICIENT_DATA to ALARM",
        ]
    );
    let newest = &out.alarm_history_items()[0];
    assert_eq!(newest.timestamp().unwrap().secs(), 4_102_444_800);
    let data: serde_json::Value =
        serde_json::from_str(out.alarm_history_items()[2].history_data().unwrap()).unwrap();
    assert_eq!(data["oldState"]["stateValue"], "INSUFFICIENT_DATA");
    assert_eq!(data["newState"]["stateReason"], "down");
    // EndDate leaves the later change out.
    let before_2100 = history(Some(4_102_444_799)).await.unwrap();
    assert_eq!(before_2100.alarm_history_items().len(), 2);
    assert!(emu.strict().unwrap().count("alarm-history") >= 4);

    // moto alone has no DescribeAlarmHistory.
    let lax = start(StrictConfig::none());
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(&lax.endpoint_url()).await);
    put_alarm(&cw, "hist", 1.0).await;
    assert!(
        cw.describe_alarm_history()
            .alarm_name("hist")
            .send()
            .await
            .is_err()
    );
}

// ------------------------------------------------------------------------ wiring

#[tokio::test(flavor = "multi_thread")]
async fn the_emulator_is_behind_the_layer_by_default_and_moto_is_reachable_directly() {
    let emu = Emulator::start_with(StrictConfig::default()).unwrap();
    assert_ne!(emu.endpoint_url(), emu.moto_url());
    assert!(
        emu.aws_env()
            .iter()
            .any(|(k, v)| k == "AWS_ENDPOINT_URL" && *v == emu.endpoint_url())
    );
    emu.start_recording().unwrap();
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(&emu.endpoint_url()).await);
    put_alarm(&cw, "rec", 1.0).await;
    let calls = emu.stop_recording().unwrap();
    // The layer records what the caller sent, not its own DescribeAlarms/SetAlarmState.
    let actions: Vec<&str> = calls.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(actions, ["PutMetricAlarm"]);

    // Switched off, only the CBOR bridge stands between the caller and moto.
    let off = Emulator::start_with(StrictConfig::off()).unwrap();
    assert!(off.strict().is_none());
    assert_eq!(off.endpoint_url(), off.cbor_bridge().unwrap().url());
    assert_ne!(emu.endpoint_url(), emu.strict().unwrap().endpoint_url());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_queues_name_is_refused_for_a_while_and_queue_tags_are_checked() {
    let reuse = Duration::from_secs(2);
    let emu = start(StrictConfig {
        queue_name_reuse: reuse,
        tags: true,
        ..StrictConfig::none()
    });
    let sqs = aws_sdk_sqs::Client::new(&sdk(&emu.endpoint_url()).await);
    let url = sqs
        .create_queue()
        .queue_name("q-reuse")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    sqs.delete_queue().queue_url(&url).send().await.unwrap();
    let deleted = Instant::now();
    let again = sqs.create_queue().queue_name("q-reuse").send().await;
    let e = again.expect_err("a just-deleted name must be refused");
    assert!(
        e.as_service_error()
            .is_some_and(|s| s.is_queue_deleted_recently()),
        "{e:?}"
    );
    assert_eq!(
        e.code(),
        Some("AWS.SimpleQueueService.QueueDeletedRecently")
    );
    // Another name is not affected; the same name is accepted once the wait is over.
    sqs.create_queue()
        .queue_name("q-other")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(reuse.saturating_sub(deleted.elapsed()) + Duration::from_millis(100)).await;
    sqs.create_queue()
        .queue_name("q-reuse")
        .send()
        .await
        .unwrap();

    // Tags: CreateQueue's `tags` and TagQueue's `Tags` against the documented pattern.
    let bad = sqs
        .create_queue()
        .queue_name("q-tags")
        .tags("elb-watch:slack-channel", "#ops")
        .send()
        .await;
    assert_eq!(code(bad), "InvalidParameterValue");
    let bad = sqs
        .tag_queue()
        .queue_url(&url)
        .tags("aws:reserved", "x")
        .send()
        .await;
    assert_eq!(code(bad), "InvalidParameterValue");

    // moto alone re-creates at once: the rule is what refuses.
    let plain = start(StrictConfig::off());
    let sqs = aws_sdk_sqs::Client::new(&sdk(&plain.endpoint_url()).await);
    let url = sqs
        .create_queue()
        .queue_name("q-reuse")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    sqs.delete_queue().queue_url(&url).send().await.unwrap();
    sqs.create_queue()
        .queue_name("q-reuse")
        .send()
        .await
        .unwrap();
}
