//! Which kind of load balancer an alarm is about — from its namespace — and what the message
//! calls it and links to. Pure.
//!
//! `HealthyHostCount` is published in `AWS/ApplicationELB`, `AWS/NetworkELB` and
//! `AWS/GatewayELB` by `LoadBalancer` (`app/…`, `net/…`, `gwy/…`) and `TargetGroup`, and in
//! `AWS/ELB` by `LoadBalancerName` for a Classic Load Balancer
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-cloudwatch-metrics.html>).

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::event::parse::Alarm;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LbKind {
    Application,
    Network,
    Gateway,
    Classic,
}

impl LbKind {
    pub fn from_namespace(namespace: &str) -> Option<Self> {
        match namespace {
            "AWS/ApplicationELB" => Some(LbKind::Application),
            "AWS/NetworkELB" => Some(LbKind::Network),
            "AWS/GatewayELB" => Some(LbKind::Gateway),
            "AWS/ELB" => Some(LbKind::Classic),
            _ => None,
        }
    }

    /// The console's name for it.
    pub fn label(self) -> &'static str {
        match self {
            LbKind::Application => "Application Load Balancer",
            LbKind::Network => "Network Load Balancer",
            LbKind::Gateway => "Gateway Load Balancer",
            LbKind::Classic => "Classic Load Balancer",
        }
    }
}

/// The kind of the alarm's load balancer, when it is one of elb-watch's metrics.
pub fn kind_of(alarm: &Alarm) -> Option<LbKind> {
    LbKind::from_namespace(alarm.namespace.as_deref()?)
}

/// The EC2 console's host for the alarm's region and partition.
fn ec2_console(alarm: &Alarm) -> Option<String> {
    let region = alarm.region()?;
    let host = match alarm.partition().unwrap_or("aws") {
        "aws-cn" => format!("{region}.console.amazonaws.cn"),
        "aws-us-gov" => "console.amazonaws-us-gov.com".to_owned(),
        _ => format!("{region}.console.aws.amazon.com"),
    };
    Some(format!("https://{host}/ec2/home?region={region}"))
}

/// A link to what the alarm watches in the EC2 console: the target group's page (ALB, NLB,
/// GWLB), or the load balancer list filtered to the Classic Load Balancer. Every piece taken
/// from the message is percent-encoded, so the URL holds no `|`, `<` or `>`.
pub fn console_url(alarm: &Alarm) -> Option<String> {
    let base = ec2_console(alarm)?;
    match kind_of(alarm)? {
        LbKind::Classic => {
            let name = alarm.load_balancer_name()?;
            Some(format!(
                "{base}#LoadBalancers:search={}",
                utf8_percent_encode(name, NON_ALPHANUMERIC)
            ))
        }
        _ => {
            let arn = alarm.target_group_arn()?;
            Some(format!(
                "{base}#TargetGroup:targetGroupArn={}",
                utf8_percent_encode(&arn, NON_ALPHANUMERIC)
            ))
        }
    }
}

/// What the link is to, for its label.
pub fn console_label(kind: LbKind) -> &'static str {
    match kind {
        LbKind::Classic => "View load balancer",
        _ => "View target group",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(namespace: &str, dims: &[(&str, &str)]) -> Alarm {
        let dims: Vec<serde_json::Value> = dims
            .iter()
            .map(|(n, v)| serde_json::json!({"name": n, "value": v}))
            .collect();
        crate::event::parse::parse_alarm(&serde_json::json!({
            "AlarmName": "a",
            "AlarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a",
            "NewStateValue": "ALARM",
            "Trigger": {"Namespace": namespace, "Dimensions": dims}
        }))
        .unwrap()
    }

    #[test]
    fn each_namespace_is_its_kind_with_its_link() {
        let nlb = alarm(
            "AWS/NetworkELB",
            &[
                ("LoadBalancer", "net/tcp-nlb/50dc6c495c0c9188"),
                ("TargetGroup", "targetgroup/tcp-tg/6d0ecf831eec9f09"),
            ],
        );
        assert_eq!(kind_of(&nlb), Some(LbKind::Network));
        assert_eq!(kind_of(&nlb).unwrap().label(), "Network Load Balancer");
        assert_eq!(
            console_url(&nlb).unwrap(),
            "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#TargetGroup:\
             targetGroupArn=arn%3Aaws%3Aelasticloadbalancing%3Aeu%2Dwest%2D1%3A123456789012%3A\
             targetgroup%2Ftcp%2Dtg%2F6d0ecf831eec9f09"
        );
        let classic = alarm("AWS/ELB", &[("LoadBalancerName", "legacy-web")]);
        assert_eq!(kind_of(&classic), Some(LbKind::Classic));
        assert_eq!(
            console_url(&classic).unwrap(),
            "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#LoadBalancers:\
             search=legacy%2Dweb"
        );
        assert_eq!(kind_of(&alarm("AWS/Lambda", &[])), None);
        assert_eq!(console_url(&alarm("AWS/Lambda", &[])), None);
        assert_eq!(
            kind_of(&alarm("AWS/GatewayELB", &[])).map(LbKind::label),
            Some("Gateway Load Balancer")
        );
    }
}
