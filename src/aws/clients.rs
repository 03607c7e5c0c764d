//! One SDK client per service, all sharing the run's configuration and call ledger.

use super::CallLedger;
use aws_config::SdkConfig;

#[derive(Clone, Debug)]
pub struct Clients {
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sns: aws_sdk_sns::Client,
    pub kms: aws_sdk_kms::Client,
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub sts: aws_sdk_sts::Client,
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    pub ledger: CallLedger,
    /// The region every client talks to.
    pub region: String,
}

macro_rules! client {
    ($krate:ident, $sdk:expr, $ledger:expr) => {
        $krate::Client::from_conf(
            $krate::config::Builder::from($sdk)
                .interceptor($ledger.interceptor())
                .build(),
        )
    };
}

impl Clients {
    pub fn new(sdk: &SdkConfig) -> Self {
        let ledger = CallLedger::default();
        Self {
            elb: client!(aws_sdk_elasticloadbalancingv2, sdk, ledger),
            cloudwatch: client!(aws_sdk_cloudwatch, sdk, ledger),
            sns: client!(aws_sdk_sns, sdk, ledger),
            kms: client!(aws_sdk_kms, sdk, ledger),
            iam: client!(aws_sdk_iam, sdk, ledger),
            lambda: client!(aws_sdk_lambda, sdk, ledger),
            logs: client!(aws_sdk_cloudwatchlogs, sdk, ledger),
            sts: client!(aws_sdk_sts, sdk, ledger),
            tagging: client!(aws_sdk_resourcegroupstagging, sdk, ledger),
            region: sdk.region().map(|r| r.to_string()).unwrap_or_default(),
            ledger,
        }
    }
}
