//! The one naming and tagging scheme every command shares (documented in README "Naming and tags").
//!
//! Every resource of environment `ENV` is named from the prefix `elb-watch-ENV` and carries the
//! tags `elb-watch:managed-by=elb-watch` and `elb-watch:env=ENV`. Names find resources cheaply;
//! tags prove ownership before anything is changed or deleted (an env `prod` must never touch
//! `prod-eu`, whose names share the prefix `elb-watch-prod-`).
//!
//! Alarms are named in parts separated by [`ALARM_SEPARATOR`] (`/`), which no env, load balancer
//! or target group name can contain: `elb-watch/ENV/LB/TG/HealthyHostCount` (ALB, NLB, GWLB),
//! `elb-watch/ENV/LB/HealthyHostCount` (Classic ELB), `elb-watch/ENV/notifier-errors`, …. So
//! env `prod` + target group `eu-web` and env `prod-eu` + target group `web` cannot collide, a
//! name depends only on what the alarm watches (never on discovery order), and an IAM resource
//! `alarm:elb-watch/prod/*` reaches env `prod`'s alarms and no other env's. Alarms named by
//! earlier versions (`elb-watch-ENV-TG-HealthyHostCount`, [`Names::legacy_alarm`]) are moved to
//! these names by `up`, keeping their state and Slack thread (`state::alarm_moves`).

/// Tag key naming the environment.
pub const TAG_ENV: &str = "elb-watch:env";
/// Tag key marking a resource as created by elb-watch.
pub const TAG_MANAGED_BY: &str = "elb-watch:managed-by";
/// Value of [`TAG_MANAGED_BY`].
pub const MANAGED_BY: &str = "elb-watch";
/// IAM path of the role and policy, so an operator can scope their own rights to it.
pub const IAM_PATH: &str = "/elb-watch/";
/// The managed policy every notifier role carries as its permissions boundary, one per account
/// (all envs share it): what any role elb-watch's operator can make may do at most.
pub const BOUNDARY_POLICY: &str = "elb-watch-notifier-boundary";
/// Longest environment name: keeps every derived name within AWS limits (IAM role 64 chars).
pub const MAX_ENV_LEN: usize = 20;
/// Separates the parts of an alarm name: no env, load balancer or target group name contains it
/// (env names: [`parse_env_name`]; ELB names: letters, digits and hyphens).
pub const ALARM_SEPARATOR: char = '/';
/// Last part of every load-balancer alarm's name.
pub const ALARM_METRIC: &str = "HealthyHostCount";
/// Suffix of the load-balancer alarms earlier versions named ([`Names::legacy_alarm`]).
pub const LEGACY_ALARM_SUFFIX: &str = "-HealthyHostCount";

/// ARN of elb-watch's own permissions boundary ([`BOUNDARY_POLICY`]) in one account.
pub fn boundary_arn(partition: &str, account_id: &str) -> String {
    format!("arn:{partition}:iam::{account_id}:policy{IAM_PATH}{BOUNDARY_POLICY}")
}

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

    /// Prefix of the env's alarm mute rules (`elb-watch mute`): `{prefix}-mute-WINDOW-K`. Env
    /// `prod-mute`'s rules share it, so ownership is read from the tags.
    pub fn mute_rule_prefix(&self) -> String {
        format!("{}-mute-", self.prefix())
    }

    /// EventBridge Scheduler group holding the env's window-end schedules (tagged; deleting it
    /// deletes them).
    pub fn schedule_group(&self) -> String {
        self.prefix()
    }

    /// The schedule that announces the end of window `window`.
    pub fn window_end_schedule(&self, window: &str) -> String {
        format!("{window}-end")
    }

    /// The role EventBridge Scheduler assumes to invoke the notifier at a window's end.
    pub fn scheduler_role(&self) -> String {
        format!("{}-scheduler", self.prefix())
    }

    /// Statement id of the permission that lets the topic invoke the function.
    pub fn invoke_permission_sid(&self) -> String {
        format!("{}-sns-invoke", self.prefix())
    }

    /// Prefix shared by every alarm of this env, and by no other env's.
    pub fn alarm_prefix(&self) -> String {
        format!("elb-watch{ALARM_SEPARATOR}{}{ALARM_SEPARATOR}", self.env)
    }

    /// Alarm for target group `tg` behind ALB, NLB or GWLB `lb`.
    pub fn target_group_alarm(&self, lb: &str, tg: &str) -> String {
        format!(
            "{}{lb}{ALARM_SEPARATOR}{tg}{ALARM_SEPARATOR}{ALARM_METRIC}",
            self.alarm_prefix()
        )
    }

    /// Alarm for Classic ELB `lb` (one part fewer than a target group's: the two never meet).
    pub fn classic_alarm(&self, lb: &str) -> String {
        format!("{}{lb}{ALARM_SEPARATOR}{ALARM_METRIC}", self.alarm_prefix())
    }

    /// Every load-balancer alarm of this env, as an IAM resource pattern (`*` spans parts).
    pub fn load_balancer_alarms_pattern(&self) -> String {
        format!("{}*{ALARM_SEPARATOR}{ALARM_METRIC}", self.alarm_prefix())
    }

    /// Alarm on the notifier's errors (the alerting path watched, issue 13).
    pub fn notifier_errors_alarm(&self) -> String {
        format!("{}notifier-errors", self.alarm_prefix())
    }

    /// Alarm on undelivered alerts waiting on the env's queue.
    pub fn undelivered_alarm(&self) -> String {
        format!("{}undelivered-alerts", self.alarm_prefix())
    }

    /// Alarm on the notifier's failures to hand an undeliverable alert to its queue.
    pub fn destination_failures_alarm(&self) -> String {
        format!("{}destination-failures", self.alarm_prefix())
    }

    /// The env's test alarm: no metric data, so it sits in OK until `elb-watch test` sets it
    /// to ALARM (the notifier knows the name: `Alarm::is_test` in `lambda/src/event/parse.rs`).
    pub fn test_alarm(&self) -> String {
        format!("{}test", self.alarm_prefix())
    }

    /// Whether `name` is one `up` gives this env's alarms: a load balancer's, one of those
    /// on the alerting path, or the test alarm.
    pub fn is_alarm_name(&self, name: &str) -> bool {
        (name.starts_with(&self.alarm_prefix())
            && name.ends_with(&format!("{ALARM_SEPARATOR}{ALARM_METRIC}")))
            || name == self.notifier_errors_alarm()
            || name == self.undelivered_alarm()
            || name == self.destination_failures_alarm()
            || name == self.test_alarm()
    }

    /// Prefix of the alarm names earlier versions gave (shared with every env whose name
    /// extends this one's: `elb-watch-prod-` is also `prod-eu`'s).
    pub fn legacy_alarm_prefix(&self) -> String {
        format!("{}-", self.prefix())
    }

    /// The name earlier versions gave the alarm of target group (or Classic ELB) `tg`, or,
    /// for the second target group of one name, of `LB-TG`.
    pub fn legacy_alarm(&self, tg: &str) -> String {
        format!("{}{tg}{LEGACY_ALARM_SUFFIX}", self.legacy_alarm_prefix())
    }

    /// The names earlier versions gave the alerting path's alarms, with today's name of each.
    pub fn legacy_watcher_alarms(&self) -> [(String, String); 3] {
        let p = self.prefix();
        [
            (format!("{p}-notifier-errors"), self.notifier_errors_alarm()),
            (format!("{p}-undelivered-alerts"), self.undelivered_alarm()),
            (
                format!("{p}-destination-failures"),
                self.destination_failures_alarm(),
            ),
        ]
    }

    /// Whether `name` is one an earlier version gave this env's alarms (by name alone: env
    /// `prod-eu`'s names match too, so ownership needs the tags or the topic).
    pub fn is_legacy_alarm_name(&self, name: &str) -> bool {
        (name.starts_with(&self.legacy_alarm_prefix()) && name.ends_with(LEGACY_ALARM_SUFFIX))
            || self
                .legacy_watcher_alarms()
                .iter()
                .any(|(old, _)| old == name)
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
        assert!(
            n.target_group_alarm(&"l".repeat(32), &"t".repeat(32)).len() <= 255,
            "alarm name limit"
        );
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
        assert_eq!(
            n.target_group_alarm("web-alb", "web-tg"),
            "elb-watch/prod/web-alb/web-tg/HealthyHostCount"
        );
        assert_eq!(
            n.classic_alarm("legacy"),
            "elb-watch/prod/legacy/HealthyHostCount"
        );
        assert_eq!(n.notifier_errors_alarm(), "elb-watch/prod/notifier-errors");
        // The sample events in tests/fixtures were produced by the earlier scheme.
        assert_eq!(
            n.legacy_alarm("web-tg"),
            "elb-watch-prod-web-tg-HealthyHostCount"
        );
    }

    #[test]
    fn alarm_names_of_two_envs_never_meet() {
        let (prod, eu) = (Names::new("prod"), Names::new("prod-eu"));
        // The collision the old scheme had: env prod + eu-web vs env prod-eu + web.
        assert_eq!(prod.legacy_alarm("eu-web"), eu.legacy_alarm("web"));
        assert_ne!(
            prod.target_group_alarm("alb", "eu-web"),
            eu.target_group_alarm("alb", "web")
        );
        for name in [
            eu.target_group_alarm("alb", "web"),
            eu.classic_alarm("web"),
            eu.notifier_errors_alarm(),
        ] {
            assert!(!prod.is_alarm_name(&name), "{name}");
            assert!(!name.starts_with(&prod.alarm_prefix()), "{name}");
        }
        assert!(prod.is_alarm_name(&prod.classic_alarm("web")));
        // A Classic ELB and a target group of the same name: one part apart.
        assert_ne!(
            prod.classic_alarm("web"),
            prod.target_group_alarm("web", "web")
        );
        assert!(prod.is_legacy_alarm_name("elb-watch-prod-web-HealthyHostCount"));
        assert!(prod.is_legacy_alarm_name("elb-watch-prod-notifier-errors"));
        assert!(!prod.is_legacy_alarm_name(&prod.target_group_alarm("a", "b")));
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
