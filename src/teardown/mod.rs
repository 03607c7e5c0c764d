//! `down`: removing everything of one environment, and nothing else.
//!
//! [`collect`] reads what exists and proves ownership by tags; [`plan`] (pure) decides what to
//! delete and what to leave; [`delete`] carries it out in dependency order:
//!
//! ```text
//! subscriptions ─┐
//! alarms ────────┴──► topic
//! permission ──► function ──► log group, SQS queue (refused while it holds alerts)
//!                         └─► role (detach, inline, delete) ──► decrypt policy (versions, delete)
//! alias ──► KMS keys (scheduled for deletion, 7-day minimum)
//! ```
//! Every deletion treats "already gone" as done, so `down` can be re-run after any failure.

pub mod collect;
pub mod delete;

use crate::naming::Names;
use crate::state::observed::{Observed, TaggedKey};
use serde::Serialize;
use std::collections::BTreeMap;

/// Days KMS waits before deleting a scheduled key (the minimum it allows).
pub const KEY_PENDING_WINDOW_DAYS: i32 = 7;

/// What `collect` read: the observed env plus the ownership proofs `down` needs beyond it.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub observed: Observed,
    /// Every key tagged for the env (any state).
    pub keys: Vec<TaggedKey>,
    /// The log group carries the env's tags.
    pub log_group_owned: bool,
    /// The key the alias points at carries the env's tags.
    pub alias_target_owned: bool,
    /// Alarm name → its tags prove it is the env's.
    pub alarm_tags_owned: BTreeMap<String, bool>,
    /// The env's mute rules (its tags prove it).
    pub mute_rules: Vec<String>,
    /// The window-end schedule group, if it exists: whether its tags prove it the env's.
    pub schedule_group: Option<bool>,
    /// The window-end role, if it exists: whether its tags prove it the env's.
    pub scheduler_role: Option<bool>,
}

/// Something with the env's name that `down` leaves alone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub kind: String,
    pub name: String,
    pub reason: String,
}

/// What `down` will delete. Names and ARNs only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Teardown {
    pub topic_arn: Option<String>,
    /// Subscription ARNs to remove (Lambda, e-mail, any).
    pub subscriptions: Vec<String>,
    /// Subscriptions still pending confirmation (no ARN yet): they go with the topic.
    pub pending_subscriptions: usize,
    pub alarms: Vec<String>,
    pub function: Option<String>,
    /// Statement id of the topic's invoke permission on the function.
    pub permission: Option<String>,
    pub log_group: Option<String>,
    /// The undelivered-alerts queue: its name and URL.
    pub queue: Option<(String, String)>,
    /// Alerts the queue still holds (`down` refuses unless told to discard them).
    pub undelivered: u64,
    pub role: Option<String>,
    pub policy_arn: Option<String>,
    pub alias: Option<String>,
    /// Key ids to schedule for deletion (none already pending).
    pub keys: Vec<String>,
    /// Maintenance windows: mute rules, the window-end schedule group (its schedules go with
    /// it) and the role Scheduler invokes the notifier as.
    pub mute_rules: Vec<String>,
    pub schedule_group: Option<String>,
    pub scheduler_role: Option<String>,
    pub skipped: Vec<Skipped>,
}

impl Teardown {
    pub fn is_empty(&self) -> bool {
        self.items().is_empty()
    }

    /// (kind, name) of everything to delete, in order, for the confirmation prompt.
    pub fn items(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = Vec::new();
        out.extend(
            self.subscriptions
                .iter()
                .map(|s| ("sns-subscription", s.clone())),
        );
        out.extend(
            self.permission
                .iter()
                .map(|p| ("lambda-permission", p.clone())),
        );
        out.extend(self.function.iter().map(|f| ("lambda-function", f.clone())));
        out.extend(self.log_group.iter().map(|g| ("log-group", g.clone())));
        out.extend(self.queue.iter().map(|(n, _)| ("sqs-queue", n.clone())));
        out.extend(
            self.schedule_group
                .iter()
                .map(|g| ("schedule-group", g.clone())),
        );
        out.extend(self.mute_rules.iter().map(|r| ("mute-rule", r.clone())));
        out.extend(self.alarms.iter().map(|a| ("alarm", a.clone())));
        out.extend(self.topic_arn.iter().map(|t| ("sns-topic", t.clone())));
        out.extend(self.role.iter().map(|r| ("iam-role", r.clone())));
        out.extend(self.scheduler_role.iter().map(|r| ("iam-role", r.clone())));
        out.extend(self.policy_arn.iter().map(|p| ("iam-policy", p.clone())));
        out.extend(self.alias.iter().map(|a| ("kms-alias", a.clone())));
        out.extend(self.keys.iter().map(|k| ("kms-key", k.clone())));
        out
    }
}

/// Why `down` refuses to run: the env's queue still holds undelivered alerts and deleting it
/// would lose them (SQS deletes a queue with its messages:
/// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteQueue.html>).
pub fn undelivered_refusal(env: &str, t: &Teardown, discard: bool) -> Option<String> {
    let (name, _) = t.queue.as_ref()?;
    if discard || t.undelivered == 0 {
        return None;
    }
    Some(format!(
        "refusing to delete env {env}: its queue {name} still holds {} undelivered alert(s). \
         Deliver them with `elb-watch --env {env} replay`, or delete them with the env: \
         `elb-watch --env {env} down --discard-undelivered`. Nothing was deleted",
        t.undelivered
    ))
}

fn skip(kind: &str, name: &str, env: &str) -> Skipped {
    Skipped {
        kind: kind.to_string(),
        name: name.to_string(),
        reason: format!("not tagged as elb-watch's for env {env}: left alone"),
    }
}

/// Decide what to delete: only what the env's tags prove is its own (a subscription or a
/// permission belongs to its topic or function).
pub fn plan(names: &Names, found: &Found) -> Teardown {
    let o = &found.observed;
    let env = &names.env;
    let mut t = Teardown::default();

    if let Some(topic) = &o.topic {
        if topic.owned {
            t.topic_arn = Some(topic.arn.clone());
            for s in &topic.subscriptions {
                if s.arn.starts_with("arn:") {
                    t.subscriptions.push(s.arn.clone());
                } else {
                    t.pending_subscriptions += 1;
                }
            }
        } else {
            t.skipped.push(skip("sns-topic", &names.topic(), env));
        }
    }
    if let Some(f) = &o.function {
        if f.owned {
            t.function = Some(names.function());
            if o.permission.is_some() {
                t.permission = Some(names.invoke_permission_sid());
            }
        } else {
            t.skipped
                .push(skip("lambda-function", &names.function(), env));
        }
    }
    if o.log_group.is_some() {
        if found.log_group_owned {
            t.log_group = Some(names.log_group());
        } else {
            t.skipped.push(skip("log-group", &names.log_group(), env));
        }
    }
    for a in &o.alarms {
        if found
            .alarm_tags_owned
            .get(&a.name)
            .copied()
            .unwrap_or(false)
        {
            t.alarms.push(a.name.clone());
        } else {
            t.skipped.push(skip("alarm", &a.name, env));
        }
    }
    if let Some(q) = &o.queue {
        if q.owned {
            t.queue = Some((names.queue(), q.url.clone()));
            t.undelivered = q.messages;
        } else {
            t.skipped.push(skip("sqs-queue", &names.queue(), env));
        }
    }
    if let Some(r) = &o.role {
        if r.owned {
            t.role = Some(names.role());
        } else {
            t.skipped.push(skip("iam-role", &names.role(), env));
        }
    }
    if let Some(p) = &o.decrypt_policy {
        if p.owned {
            t.policy_arn = Some(p.arn.clone());
        } else {
            t.skipped
                .push(skip("iam-policy", &names.decrypt_policy(), env));
        }
    }
    // The alias goes when the key behind it is the env's (enabled, or already pending deletion).
    let alias_ours = match &o.key {
        Some(k) => k.owned,
        None => o.alias_target.is_some() && found.alias_target_owned,
    };
    if o.alias_target.is_some() {
        if alias_ours {
            t.alias = Some(names.kms_alias());
        } else {
            t.skipped.push(skip("kms-alias", &names.kms_alias(), env));
        }
    }
    if let Some(k) = &o.key {
        if k.owned {
            t.keys.push(k.key_id.clone());
        } else {
            t.skipped.push(skip("kms-key", &k.key_id, env));
        }
    }
    for k in found.keys.iter().filter(|k| !k.pending_deletion) {
        if !t.keys.contains(&k.key_id) {
            t.keys.push(k.key_id.clone());
        }
    }
    t.mute_rules = found.mute_rules.clone();
    match found.schedule_group {
        Some(true) => t.schedule_group = Some(names.schedule_group()),
        Some(false) => t
            .skipped
            .push(skip("schedule-group", &names.schedule_group(), env)),
        None => {}
    }
    match found.scheduler_role {
        Some(true) => t.scheduler_role = Some(names.scheduler_role()),
        Some(false) => t
            .skipped
            .push(skip("iam-role", &names.scheduler_role(), env)),
        None => {}
    }
    t
}

/// One thing `down` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deleted {
    pub kind: String,
    pub name: String,
    /// `deleted`, `deletion_scheduled` (KMS keys) or `already_gone`.
    pub result: &'static str,
    pub note: Option<String>,
}

impl Deleted {
    pub fn new(kind: &str, name: &str, done: bool) -> Self {
        Deleted {
            kind: kind.to_string(),
            name: name.to_string(),
            result: if done { "deleted" } else { "already_gone" },
            note: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::observed::{
        AlarmObs, FunctionObs, KeyObs, LogGroupObs, PermissionObs, PolicyObs, QueueObs, RoleObs,
        SubscriptionObs, TopicObs,
    };

    fn key(id: &str, pending: bool) -> TaggedKey {
        TaggedKey {
            key_id: id.into(),
            arn: format!("arn:aws:kms:r:1:key/{id}"),
            state: if pending {
                "PendingDeletion"
            } else {
                "Enabled"
            }
            .into(),
            pending_deletion: pending,
        }
    }

    fn whole_env() -> Found {
        let names = Names::new("prod");
        Found {
            observed: Observed {
                key: Some(KeyObs {
                    key_id: "k1".into(),
                    owned: true,
                    ..Default::default()
                }),
                alias_target: Some("k1".into()),
                decrypt_policy: Some(PolicyObs {
                    arn: "arn:policy".into(),
                    owned: true,
                    ..Default::default()
                }),
                boundary: None,
                role: Some(RoleObs {
                    owned: true,
                    ..Default::default()
                }),
                topic: Some(TopicObs {
                    arn: "arn:topic".into(),
                    owned: true,
                    subscriptions: vec![
                        SubscriptionObs {
                            arn: "arn:sub-lambda".into(),
                            protocol: "lambda".into(),
                            endpoint: "f".into(),
                            filter: None,
                        },
                        SubscriptionObs {
                            arn: "PendingConfirmation".into(),
                            protocol: "email".into(),
                            endpoint: "a@b".into(),
                            filter: None,
                        },
                    ],
                    ..Default::default()
                }),
                log_group: Some(LogGroupObs::default()),
                function: Some(FunctionObs {
                    owned: true,
                    ..Default::default()
                }),
                permission: Some(PermissionObs::default()),
                queue: Some(QueueObs {
                    url: "https://sqs/q".into(),
                    owned: true,
                    messages: 3,
                    ..Default::default()
                }),
                async_invoke: None,
                concurrency: None,
                alarms: vec![
                    AlarmObs {
                        name: names.target_group_alarm("web-alb", "web-tg"),
                        ..Default::default()
                    },
                    AlarmObs {
                        name: names.target_group_alarm("web-alb", "hand-made"),
                        ..Default::default()
                    },
                ],
                foreign_alarms: vec!["elb-watch/prod-eu/web-alb/web-tg/HealthyHostCount".into()],
            },
            keys: vec![key("k1", false), key("k0", true), key("k2", false)],
            log_group_owned: true,
            alias_target_owned: true,
            alarm_tags_owned: [
                (names.target_group_alarm("web-alb", "web-tg"), true),
                (names.target_group_alarm("web-alb", "hand-made"), false),
            ]
            .into(),
            mute_rules: vec![format!("{}deploy-1", names.mute_rule_prefix())],
            schedule_group: Some(true),
            scheduler_role: Some(true),
        }
    }

    #[test]
    fn everything_owned_is_deleted_and_only_that() {
        let names = Names::new("prod");
        let t = plan(&names, &whole_env());
        assert_eq!(t.subscriptions, ["arn:sub-lambda"]);
        assert_eq!(t.pending_subscriptions, 1);
        assert_eq!(t.alarms, [names.target_group_alarm("web-alb", "web-tg")]);
        assert_eq!(
            t.skipped,
            [skip(
                "alarm",
                &names.target_group_alarm("web-alb", "hand-made"),
                "prod"
            )],
            "an alarm without the env's tags is left, and prod-eu's are never considered"
        );
        assert_eq!(t.keys, ["k1", "k2"], "pending keys are not scheduled again");
        assert_eq!(t.alias.as_deref(), Some("alias/elb-watch-prod"));
        assert_eq!(t.function.as_deref(), Some("elb-watch-prod-notifier"));
        assert_eq!(t.permission.as_deref(), Some("elb-watch-prod-sns-invoke"));
        assert_eq!(
            t.log_group.as_deref(),
            Some("/aws/lambda/elb-watch-prod-notifier")
        );
        assert_eq!(t.role.as_deref(), Some("elb-watch-prod-notifier"));
        assert_eq!(t.policy_arn.as_deref(), Some("arn:policy"));
        assert_eq!(t.mute_rules, ["elb-watch-prod-mute-deploy-1"]);
        assert_eq!(t.schedule_group.as_deref(), Some("elb-watch-prod"));
        assert_eq!(
            t.scheduler_role.as_deref(),
            Some("elb-watch-prod-scheduler")
        );
        assert_eq!(t.items().len(), 15);
    }

    #[test]
    fn a_queue_holding_alerts_stops_down_unless_told_to_discard() {
        let names = Names::new("prod");
        let mut f = whole_env();
        let t = plan(&names, &f);
        assert_eq!(
            t.queue,
            Some(("elb-watch-prod-undelivered".into(), "https://sqs/q".into()))
        );
        let why = undelivered_refusal("prod", &t, false).expect("refused");
        assert!(why.contains("3 undelivered alert(s)"), "{why}");
        assert!(why.contains("replay") && why.contains("--discard-undelivered"));
        assert_eq!(undelivered_refusal("prod", &t, true), None);
        f.observed.queue.as_mut().unwrap().messages = 0;
        assert_eq!(undelivered_refusal("prod", &plan(&names, &f), false), None);
        // Someone else's queue with our name is left alone, and does not stop `down`.
        f.observed.queue.as_mut().unwrap().owned = false;
        f.observed.queue.as_mut().unwrap().messages = 9;
        let t = plan(&names, &f);
        assert_eq!(t.queue, None);
        assert_eq!(undelivered_refusal("prod", &t, false), None);
        assert!(t.skipped.iter().any(|s| s.kind == "sqs-queue"));
    }

    #[test]
    fn untagged_resources_with_the_env_names_are_left_alone() {
        let names = Names::new("prod");
        let mut f = whole_env();
        f.observed.topic.as_mut().unwrap().owned = false;
        f.observed.function.as_mut().unwrap().owned = false;
        f.observed.role.as_mut().unwrap().owned = false;
        f.observed.key.as_mut().unwrap().owned = false;
        f.log_group_owned = false;
        f.schedule_group = Some(false);
        f.scheduler_role = Some(false);
        f.keys.retain(|k| k.key_id != "k1");
        let t = plan(&names, &f);
        assert_eq!(t.topic_arn, None);
        assert!(
            t.subscriptions.is_empty(),
            "a foreign topic's subscriptions"
        );
        assert_eq!((t.function.clone(), t.permission.clone()), (None, None));
        assert_eq!(
            (t.role.clone(), t.log_group.clone(), t.alias.clone()),
            (None, None, None)
        );
        assert_eq!(t.keys, ["k2"], "only keys whose tags say prod");
        let kinds: Vec<&str> = t.skipped.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "sns-topic",
                "lambda-function",
                "log-group",
                "alarm",
                "iam-role",
                "kms-alias",
                "kms-key",
                "schedule-group",
                "iam-role"
            ]
        );
    }

    #[test]
    fn nothing_found_is_nothing_to_do_and_an_alias_on_a_pending_key_goes() {
        let names = Names::new("prod");
        let t = plan(&names, &Found::default());
        assert!(t.is_empty());
        let f = Found {
            observed: Observed {
                alias_target: Some("k0".into()),
                ..Default::default()
            },
            keys: vec![key("k0", true)],
            alias_target_owned: true,
            ..Default::default()
        };
        let t = plan(&names, &f);
        assert_eq!(t.alias.as_deref(), Some("alias/elb-watch-prod"));
        assert!(t.keys.is_empty());
    }
}
