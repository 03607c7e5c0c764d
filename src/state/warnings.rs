//! What `up` and `status` warn about but do not change: target groups a HealthyHostCount alarm
//! cannot watch. Pure; rendered by `output/`.

use crate::discovery::TargetGroup;
use serde::Serialize;

/// Kind of a [`Warning`].
pub const HEALTH_CHECKS_DISABLED: &str = "health-checks-disabled";
/// Kind of the warning for an env whose topic has no e-mail subscriber.
pub const NO_EMAIL: &str = "alerting-path-without-email";
/// Kind of the warning for an `elb-watch:runbook` tag that is not an https URL.
pub const RUNBOOK_TAG_INVALID: &str = "runbook-tag-invalid";
/// Kind of the warning for `--slack-channel` with an incoming webhook.
pub const WEBHOOK_CHANNEL: &str = "webhook-channel-fixed";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// e.g. `health-checks-disabled`.
    pub kind: &'static str,
    pub load_balancer: String,
    pub target_group: String,
    pub target_group_arn: String,
    /// One line for people: what is wrong, what elb-watch does about it, what to do.
    pub message: String,
}

impl Warning {
    /// Whether this warning is about the target group an alarm's `TargetGroup` dimension
    /// (`targetgroup/NAME/ID`) names.
    pub fn is_about_dimension(&self, tg_dimension: &str) -> bool {
        self.target_group_arn
            .strip_suffix(tg_dimension)
            .is_some_and(|head| head.ends_with(':'))
    }
}

/// A target group whose health checks are disabled has no healthy targets to count: its
/// targets are `unavailable` (`Target.HealthCheckDisabled`,
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html>),
/// so a HealthyHostCount alarm on it would say nothing true — with missing data treated as
/// breaching it would page forever. elb-watch makes no alarm for it and says so instead.
/// Lambda target groups have health checks off by default
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html>).
pub fn is_watchable(tg: &TargetGroup) -> bool {
    tg.health_check_enabled
}

/// The alarms on the alerting path (notifier errors, undelivered alerts) fire exactly when the
/// notifier cannot post to Slack: without an e-mail subscriber on the topic, they reach nobody
/// until it can again.
pub fn no_email_for_the_alerting_path(env: &str) -> Warning {
    Warning {
        kind: NO_EMAIL,
        load_balancer: String::new(),
        target_group: String::new(),
        target_group_arn: String::new(),
        message: format!(
            "env {env} has no e-mail subscriber: while the notifier cannot post to Slack, the \
             alarms on its errors and on undelivered alerts reach nobody. Add one with \
             `elb-watch --env {env} up ... --email ADDRESS`"
        ),
    }
}

/// A Slack app's incoming webhook posts to the channel chosen when the webhook was made; the
/// payload's `channel` is ignored (<https://api.slack.com/messaging/webhooks>: "You cannot
/// override the default channel (chosen by the user who installed your app), username, or icon
/// when you're using incoming webhooks to post messages"). Only the retired custom-integration
/// webhooks honour it, and the URL does not tell the two apart: elb-watch keeps sending it and
/// says what it can and cannot do.
pub fn webhook_channel_fixed(env: &str, channel: &str) -> Warning {
    Warning {
        kind: WEBHOOK_CHANNEL,
        load_balancer: String::new(),
        target_group: String::new(),
        target_group_arn: String::new(),
        message: format!(
            "env {env} posts through an incoming webhook: a Slack app's webhook always posts to \
             the channel it was made for and ignores --slack-channel {channel} (only a legacy \
             custom-integration webhook honours it). To choose the channel, make the webhook \
             for it, or use app mode: `elb-watch --env {env} up ... --slack-token-file FILE \
             --slack-channel CHANNEL_ID`"
        ),
    }
}

pub fn target_group_warnings(groups: &[TargetGroup]) -> Vec<Warning> {
    let mut out = health_check_warnings(groups);
    out.extend(runbook_tag_warnings(groups));
    out
}

/// A runbook tag a button cannot hold (not https, or too long) is left off the alarm, and said.
fn runbook_tag_warnings(groups: &[TargetGroup]) -> Vec<Warning> {
    groups
        .iter()
        .filter(|tg| is_watchable(tg))
        .filter_map(|tg| {
            let tag = tg.runbook.as_deref()?;
            let why = crate::state::mentions::parse_runbook(tag).err()?;
            Some(Warning {
                kind: RUNBOOK_TAG_INVALID,
                load_balancer: tg.load_balancer.clone(),
                target_group: tg.name.clone(),
                target_group_arn: tg.arn.clone(),
                message: format!(
                    "target group {} behind {}: its {} tag is not used ({why}); its ALARM \
                     messages show the env's --runbook, if any. Tag it (or its load balancer) \
                     with an https URL and run up again",
                    tg.name,
                    tg.load_balancer,
                    crate::state::alarms::RUNBOOK_TAG
                ),
            })
        })
        .collect()
}

fn health_check_warnings(groups: &[TargetGroup]) -> Vec<Warning> {
    groups
        .iter()
        .filter(|tg| !is_watchable(tg))
        .map(|tg| {
            let kind = if tg.target_type == "lambda" {
                " (a Lambda target group: health checks are off unless enabled)"
            } else {
                ""
            };
            Warning {
                kind: HEALTH_CHECKS_DISABLED,
                load_balancer: tg.load_balancer.clone(),
                target_group: tg.name.clone(),
                target_group_arn: tg.arn.clone(),
                message: format!(
                    "target group {} behind {} has health checks disabled{kind}: it has no \
                     healthy-target count to alarm on, so it is NOT watched. Enable them \
                     (aws elbv2 modify-target-group --target-group-arn {} \
                     --health-check-enabled) and run up again",
                    tg.name, tg.load_balancer, tg.arn
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tg(name: &str, target_type: &str, enabled: bool) -> TargetGroup {
        TargetGroup {
            target_type: target_type.into(),
            health_check_enabled: enabled,
            ..crate::state::fixtures::target_group("web-alb", name)
        }
    }

    #[test]
    fn a_webhooks_channel_warning_says_it_is_ignored_and_what_to_use() {
        let w = webhook_channel_fixed("prod", "#ops");
        assert_eq!(w.kind, WEBHOOK_CHANNEL);
        for needle in [
            "ignores --slack-channel #ops",
            "--slack-token-file",
            "legacy",
        ] {
            assert!(w.message.contains(needle), "no {needle}: {}", w.message);
        }
    }

    #[test]
    fn only_target_groups_without_health_checks_are_warned_about() {
        let w = target_group_warnings(&[
            tg("web-tg", "instance", true),
            tg("fn-tg", "lambda", false),
            tg("checked-fn-tg", "lambda", true),
        ]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].kind, HEALTH_CHECKS_DISABLED);
        assert_eq!(w[0].target_group, "fn-tg");
        assert!(w[0].message.contains("NOT watched"), "{}", w[0].message);
        assert!(w[0].message.contains("Lambda target group"));
        assert!(w[0].is_about_dimension("targetgroup/fn-tg/abc"));
        assert!(!w[0].is_about_dimension("targetgroup/web-tg/abc"));
        assert!(!w[0].is_about_dimension("g/fn-tg/abc"));
    }

    #[test]
    fn a_runbook_tag_that_is_not_https_is_warned_about_and_left_off_the_alarm() {
        let mut plain = tg("web-tg", "instance", true);
        plain.runbook = Some("http://wiki.example.com/web".into());
        let mut good = tg("api-tg", "instance", true);
        good.runbook = Some("https://wiki.example.com/api".into());
        let w = target_group_warnings(&[plain.clone(), good.clone()]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].kind, RUNBOOK_TAG_INVALID);
        assert_eq!(w[0].target_group, "web-tg");
        assert!(w[0].message.contains("https"), "{}", w[0].message);
        assert_eq!(crate::state::alarms::valid_runbook(&plain), None);
        assert_eq!(
            crate::state::alarms::valid_runbook(&good),
            Some("https://wiki.example.com/api")
        );
    }
}
