//! The one naming and tagging scheme every command shares (documented in README "Naming and tags").
//!
//! Every resource of environment `ENV` is named from the prefix `elb-watch-ENV` and carries the
//! tags `elb-watch:managed-by=elb-watch` and `elb-watch:env=ENV`. Names find resources cheaply;
//! tags prove ownership before anything is changed or deleted (an env `prod` must never touch
//! `prod-eu`, whose names share the prefix `elb-watch-prod-`).

/// Tag key naming the environment.
pub const TAG_ENV: &str = "elb-watch:env";
/// Tag key marking a resource as created by elb-watch.
pub const TAG_MANAGED_BY: &str = "elb-watch:managed-by";
/// Value of [`TAG_MANAGED_BY`].
pub const MANAGED_BY: &str = "elb-watch";
/// IAM path of the role and policy, so an operator can scope their own rights to it.
pub const IAM_PATH: &str = "/elb-watch/";
/// Longest environment name: keeps every derived name within AWS limits (IAM role 64 chars).
pub const MAX_ENV_LEN: usize = 20;
/// Suffix of every alarm name.
pub const ALARM_SUFFIX: &str = "-HealthyHostCount";

/// clap value parser for `--env`.
pub fn parse_env_name(s: &str) -> Result<String, String> {
    let ok_chars = s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if s.is_empty() || s.len() > MAX_ENV_LEN || !ok_chars || s.starts_with('-') || s.ends_with('-')
    {
        return Err(format!(
            "'{s}' is not a valid environment name: use 1 to {MAX_ENV_LEN} lower-case letters, \
             digits and inner '-' (e.g. prod, staging, eu-prod)"
        ));
    }
    Ok(s.to_string())
}

/// Names of everything one environment owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub env: String,
}

impl Names {
    pub fn new(env: &str) -> Self {
        Self {
            env: env.to_string(),
        }
    }

    pub fn prefix(&self) -> String {
        format!("elb-watch-{}", self.env)
    }

    pub fn kms_alias(&self) -> String {
        format!("alias/{}", self.prefix())
    }

    pub fn decrypt_policy(&self) -> String {
        format!("{}-kms-decrypt", self.prefix())
    }

    pub fn role(&self) -> String {
        format!("{}-notifier", self.prefix())
    }

    pub fn topic(&self) -> String {
        format!("{}-alarms", self.prefix())
    }

    pub fn function(&self) -> String {
        format!("{}-notifier", self.prefix())
    }

    pub fn log_group(&self) -> String {
        format!("/aws/lambda/{}", self.function())
    }

    /// The SQS queue holding alerts the notifier could not deliver (its on-failure destination).
    pub fn queue(&self) -> String {
        format!("{}-undelivered", self.prefix())
    }

    /// Statement id of the permission that lets the topic invoke the function.
    pub fn invoke_permission_sid(&self) -> String {
        format!("{}-sns-invoke", self.prefix())
    }

    /// Prefix shared by every alarm of this env (and, alas, of envs whose name extends it).
    pub fn alarm_prefix(&self) -> String {
        format!("{}-", self.prefix())
    }

    /// Alarm for one target group. `tg_name` is unique per account and region.
    pub fn alarm(&self, tg_name: &str) -> String {
        format!("{}{tg_name}{ALARM_SUFFIX}", self.alarm_prefix())
    }

    /// Alarm on the notifier's errors (the alerting path watched, issue 13).
    pub fn notifier_errors_alarm(&self) -> String {
        format!("{}-notifier-errors", self.prefix())
    }

    /// Alarm on undelivered alerts waiting on the env's queue.
    pub fn undelivered_alarm(&self) -> String {
        format!("{}-undelivered-alerts", self.prefix())
    }

    /// Alarm on the notifier's failures to hand an undeliverable alert to its queue.
    pub fn destination_failures_alarm(&self) -> String {
        format!("{}-destination-failures", self.prefix())
    }

    /// Whether `name` is one `up` gives this env's alarms: a target group's (by its suffix) or
    /// one of those on the alerting path.
    pub fn is_alarm_name(&self, name: &str) -> bool {
        (name.starts_with(&self.alarm_prefix()) && name.ends_with(ALARM_SUFFIX))
            || name == self.notifier_errors_alarm()
            || name == self.undelivered_alarm()
            || name == self.destination_failures_alarm()
    }

    /// The tags every resource gets, as (key, value) pairs.
    pub fn tags(&self) -> Vec<(String, String)> {
        vec![
            (TAG_MANAGED_BY.to_string(), MANAGED_BY.to_string()),
            (TAG_ENV.to_string(), self.env.clone()),
        ]
    }

    /// Whether a resource's tags say it belongs to this environment.
    pub fn owns<'a>(&self, tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
        let mut managed = false;
        let mut env = false;
        for (k, v) in tags {
            managed |= k == TAG_MANAGED_BY && v == MANAGED_BY;
            env |= k == TAG_ENV && v == self.env;
        }
        managed && env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_are_validated() {
        assert_eq!(parse_env_name("prod").unwrap(), "prod");
        assert_eq!(parse_env_name("eu-prod-2").unwrap(), "eu-prod-2");
        for bad in [
            "",
            "Prod",
            "prod_1",
            "-prod",
            "prod-",
            "a".repeat(21).as_str(),
            "p d",
        ] {
            let err = parse_env_name(bad).unwrap_err();
            assert!(err.contains("not a valid environment name"), "{bad}: {err}");
        }
    }

    #[test]
    fn names_fit_aws_limits_for_the_longest_env() {
        let n = Names::new(&"e".repeat(MAX_ENV_LEN));
        assert!(n.role().len() <= 64, "IAM role name limit");
        assert!(n.decrypt_policy().len() <= 128, "IAM policy name limit");
        assert!(n.function().len() <= 64, "Lambda function name limit");
        assert!(n.topic().len() <= 256);
        // Target group names are at most 32 characters.
        assert!(n.alarm(&"t".repeat(32)).len() <= 255);
        assert!(n.invoke_permission_sid().len() <= 100);
        assert!(n.queue().len() <= 80, "SQS queue name limit");
    }

    #[test]
    fn names_follow_the_documented_scheme() {
        let n = Names::new("prod");
        assert_eq!(n.kms_alias(), "alias/elb-watch-prod");
        assert_eq!(n.topic(), "elb-watch-prod-alarms");
        assert_eq!(n.function(), "elb-watch-prod-notifier");
        assert_eq!(n.log_group(), "/aws/lambda/elb-watch-prod-notifier");
        assert_eq!(n.queue(), "elb-watch-prod-undelivered");
        // The sample events in tests/fixtures were produced by this scheme.
        assert_eq!(n.alarm("web-tg"), "elb-watch-prod-web-tg-HealthyHostCount");
    }

    #[test]
    fn ownership_needs_both_tags_with_the_exact_env() {
        let prod = Names::new("prod");
        let tags = Names::new("prod-eu").tags();
        let as_refs = |t: &[(String, String)]| {
            t.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>()
        };
        let eu = as_refs(&tags);
        assert!(!prod.owns(eu.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        let own = as_refs(&prod.tags());
        assert!(prod.owns(own.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        assert!(!prod.owns([(TAG_ENV, "prod")]), "managed-by tag missing");
    }
}
