//! One SDK client per service, all sharing the run's configuration, call ledger and HTTP
//! connection pool; each service with its own bound on requests in flight ([`super::limit`]).

use super::CallLedger;
use super::limit::{self, LimitedHttpClient};
use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

#[derive(Clone, Debug)]
pub struct Clients {
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    /// The Classic ELB API.
    pub elb_classic: aws_sdk_elasticloadbalancing::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub kms: aws_sdk_kms::Client,
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub sts: aws_sdk_sts::Client,
    /// EventBridge Scheduler (the window-end schedules of `mute`).
    pub scheduler: aws_sdk_scheduler::Client,
    /// The Resource Groups Tagging API (`down`'s index of the env's alarms).
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    pub ledger: CallLedger,
    /// The region every client talks to.
    pub region: String,
}

/// A client of `$krate` whose requests go through its own [`LimitedHttpClient`].
macro_rules! client {
    ($krate:ident, $sdk:expr, $ledger:expr, $http:expr, $bound:expr) => {{
        let mut builder = $krate::config::Builder::from($sdk).interceptor($ledger.interceptor());
        if let Some(http) = $http {
            builder =
                builder.http_client(LimitedHttpClient::new(http.clone(), $bound).into_shared());
        }
        $krate::Client::from_conf(builder.build())
    }};
}

impl Clients {
    pub fn new(sdk: &SdkConfig) -> Self {
        let ledger = CallLedger::default();
        let http: Option<SharedHttpClient> = sdk
            .http_client()
            .or_else(|| Some(super::http::sdk_http_client()));
        let n = limit::max_in_flight();
        Self {
            elb: client!(aws_sdk_elasticloadbalancingv2, sdk, ledger, &http, n),
            elb_classic: client!(aws_sdk_elasticloadbalancing, sdk, ledger, &http, n),
            cloudwatch: client!(aws_sdk_cloudwatch, sdk, ledger, &http, n),
            sns: client!(aws_sdk_sns, sdk, ledger, &http, n),
            sqs: client!(aws_sdk_sqs, sdk, ledger, &http, n),
            kms: client!(aws_sdk_kms, sdk, ledger, &http, n),
            iam: client!(aws_sdk_iam, sdk, ledger, &http, n),
            lambda: client!(aws_sdk_lambda, sdk, ledger, &http, n),
            logs: client!(aws_sdk_cloudwatchlogs, sdk, ledger, &http, n),
            sts: client!(aws_sdk_sts, sdk, ledger, &http, n),
            scheduler: client!(aws_sdk_scheduler, sdk, ledger, &http, n),
            tagging: client!(aws_sdk_resourcegroupstagging, sdk, ledger, &http, n),
            region: sdk.region().map(|r| r.to_string()).unwrap_or_default(),
            ledger,
        }
    }
}
