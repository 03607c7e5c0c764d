//! `status`'s judgement of an environment: each resource present, missing, drifted, extra or
//! foreign, what is known of the webhook URL (never the URL), and a one-line verdict. Pure: it
//! reads a [`Plan`] from [`super::plan::drift`] and what was observed.

use super::desired::{Desired, ENV_HOOK, ENV_TOKEN};
use super::observed::{Observed, TaggedKey};
use super::plan::{Action, Change, Plan};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Exists and matches what `up` would make.
    Present,
    /// Does not exist.
    Missing,
    /// Exists but differs (details say how).
    Drifted,
    /// Exists but `up` would no longer make it (an alarm of a target group gone from the ALBs).
    Extra,
    /// Has this env's name but not its tags: elb-watch will not touch it.
    Foreign,
}

impl Presence {
    pub fn label(self) -> &'static str {
        match self {
            Presence::Present => "present",
            Presence::Missing => "missing",
            Presence::Drifted => "drifted",
            Presence::Extra => "extra",
            Presence::Foreign => "foreign",
        }
    }

    pub fn in_sync(self) -> bool {
        self == Presence::Present
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceStatus {
    pub kind: String,
    pub name: String,
    pub state: Presence,
    /// What differs, or notes; never a secret.
    pub details: Vec<String>,
}

/// What is known of the Slack secret (webhook URL, or app mode's bot token) without revealing
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookStatus {
    /// `webhook` or `app` (a bot token: one thread per incident).
    pub mode: &'static str,
    /// The function holds an encrypted secret.
    pub set: bool,
    /// It decrypts with the function's encryption context (None: no function to ask).
    pub decrypts: Option<bool>,
    /// Why not, if it does not.
    pub problem: Option<String>,
}

impl WebhookStatus {
    pub fn describe(&self) -> String {
        match (self.set, self.decrypts) {
            (_, None) => "unknown (no notifier function)".to_string(),
            (false, _) => "not set".to_string(),
            (true, Some(true)) => "set, encrypted; decrypts".to_string(),
            (true, Some(false)) => format!(
                "set, encrypted; does not decrypt ({})",
                self.problem.as_deref().unwrap_or("unknown reason")
            ),
        }
    }
}

pub fn webhook(observed: &Observed) -> WebhookStatus {
    match &observed.function {
        None => WebhookStatus {
            mode: "webhook",
            set: false,
            decrypts: None,
            problem: None,
        },
        Some(f) => {
            let app = f.env.contains_key(ENV_TOKEN);
            WebhookStatus {
                mode: if app { "app" } else { "webhook" },
                set: app || f.env.contains_key(ENV_HOOK),
                decrypts: Some(f.secret.is_some()),
                problem: f.secret_error.clone(),
            }
        }
    }
}

/// Whether anything of the env exists (keys pending deletion do not count: `down` leaves them).
pub fn env_exists(observed: &Observed, keys: &[TaggedKey]) -> bool {
    observed.key.is_some()
        || observed.alias_target.is_some()
        || observed.decrypt_policy.is_some()
        || observed.role.is_some()
        || observed.topic.is_some()
        || observed.log_group.is_some()
        || observed.function.is_some()
        || observed.queue.is_some()
        || !observed.alarms.is_empty()
        || keys.iter().any(|k| !k.pending_deletion)
}

const NOT_OURS: &str = "not tagged as elb-watch's for this env: elb-watch leaves it alone";

/// One row per resource. `settings_known`: the inputs `up` recorded were found (else desired
/// was built from placeholders, and input-dependent comparisons are skipped).
pub fn resources(
    desired: &Desired,
    observed: &Observed,
    plan: &Plan,
    keys: &[TaggedKey],
    settings_known: bool,
) -> Vec<ResourceStatus> {
    plan.changes()
        .into_iter()
        .map(|c| row(c, desired, observed, keys, settings_known))
        .collect()
}

fn row(
    c: &Change,
    desired: &Desired,
    observed: &Observed,
    keys: &[TaggedKey],
    settings_known: bool,
) -> ResourceStatus {
    let mut details = c.reasons.clone();
    let mut state = match c.action {
        Action::Create => Presence::Missing,
        Action::Update => Presence::Drifted,
        Action::Unchanged => Presence::Present,
        Action::Delete => Presence::Extra,
    };
    let foreign = match c.kind {
        "iam-role" => observed.role.as_ref().is_some_and(|r| !r.owned),
        "iam-policy" => observed.decrypt_policy.as_ref().is_some_and(|p| !p.owned),
        "kms-key" => observed.key.as_ref().is_some_and(|k| !k.owned),
        "sns-topic" => observed.topic.as_ref().is_some_and(|t| !t.owned),
        "lambda-function" => observed.function.as_ref().is_some_and(|f| !f.owned),
        "sqs-queue" => observed.queue.as_ref().is_some_and(|q| !q.owned),
        "alarm" => observed.foreign_alarms.contains(&c.name),
        _ => false,
    };
    match c.kind {
        "kms-key" if state == Presence::Missing => {
            if observed.alias_target.is_some() {
                details.push("the alias points at a key pending deletion".to_string());
            }
            for k in keys.iter().filter(|k| !k.pending_deletion) {
                details.push(format!(
                    "key {} is tagged for the env but has no alias (an interrupted `up`; the \
                     next `up` adopts it)",
                    k.key_id
                ));
            }
        }
        "kms-alias" if state == Presence::Drifted && observed.key.is_none() => {
            details = vec![format!(
                "points at key {}, which is pending deletion",
                observed.alias_target.as_deref().unwrap_or("?")
            )];
        }
        "alarm" if !settings_known && state == Presence::Extra => {
            state = Presence::Present;
            details = vec!["not compared: the settings `up` recorded are missing".to_string()];
        }
        "log-group" | "lambda-function" if !settings_known => {
            details.retain(|d| d != "retention" && d != "slack channel");
            if state == Presence::Drifted && details.is_empty() {
                state = Presence::Present;
            }
        }
        "sns-topic" if !settings_known && state != Presence::Missing => {
            details = vec![
                "the settings `up` records in its tags are missing or unreadable (an \
                 interrupted `up`?): run `up` again"
                    .to_string(),
            ];
            state = Presence::Drifted;
        }
        _ => {}
    }
    if foreign {
        state = Presence::Foreign;
        details = vec![NOT_OURS.to_string()];
    }
    // An alarm the plan knows only by name also deserves what it watches.
    if c.kind == "alarm"
        && let Some(spec) = desired.alarms.iter().find(|a| a.name == c.name)
        && state == Presence::Missing
    {
        details.push(spec.subject());
    }
    ResourceStatus {
        kind: c.kind.to_string(),
        name: c.name.clone(),
        state,
        details,
    }
}

/// The one-line verdict and whether everything is present and in sync.
pub fn verdict(
    env: &str,
    region: &str,
    exists: bool,
    rows: &[ResourceStatus],
    alarm_states: &[&str],
) -> (String, bool) {
    if !exists {
        return (
            format!(
                "env {env} does not exist in {region}: no elb-watch resources found for it \
                 (create it with `elb-watch --env {env} up --alb NAME`)"
            ),
            false,
        );
    }
    let bad: Vec<&ResourceStatus> = rows.iter().filter(|r| !r.state.in_sync()).collect();
    if bad.is_empty() {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for s in alarm_states {
            match counts.iter_mut().find(|(k, _)| k == s) {
                Some((_, n)) => *n += 1,
                None => counts.push((s.to_string(), 1)),
            }
        }
        let alarms = if counts.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
            format!("; alarms: {}", parts.join(", "))
        };
        return (
            format!(
                "env {env}: all {} resources present and in sync{alarms}",
                rows.len()
            ),
            true,
        );
    }
    let mut tally = Vec::new();
    for p in [
        Presence::Missing,
        Presence::Drifted,
        Presence::Extra,
        Presence::Foreign,
    ] {
        let n = bad.iter().filter(|r| r.state == p).count();
        if n > 0 {
            tally.push(format!("{n} {}", p.label()));
        }
    }
    let which: Vec<String> = bad
        .iter()
        .map(|r| {
            if r.details.is_empty() || r.state == Presence::Missing {
                format!("{} {} {}", r.kind, r.name, r.state.label())
            } else {
                format!(
                    "{} {} {} ({})",
                    r.kind,
                    r.name,
                    r.state.label(),
                    r.details.join(", ")
                )
            }
        })
        .collect();
    (
        format!(
            "env {env}: {} of {} resources: {}; run `elb-watch --env {env} up` to repair",
            tally.join(", "),
            rows.len(),
            which.join("; ")
        ),
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::TargetGroup;
    use crate::state::desired::desired;
    use crate::state::observed::{AlarmObs, FunctionObs, TopicObs};
    use crate::state::plan::drift;

    fn tg() -> TargetGroup {
        crate::state::fixtures::target_group("web-alb", "web-tg")
    }

    fn want() -> Desired {
        let (inputs, id) = (
            crate::state::fixtures::inputs(),
            crate::state::fixtures::identity(),
        );
        desired(&inputs, &id, &[tg()])
    }

    #[test]
    fn nothing_observed_is_all_missing_and_the_env_does_not_exist() {
        let d = want();
        let o = Observed::default();
        let plan = drift(&d, &o);
        let rows = resources(&d, &o, &plan, &[], true);
        assert!(
            rows.iter().all(|r| r.state == Presence::Missing),
            "{rows:?}"
        );
        assert!(!env_exists(&o, &[]));
        let (line, ok) = verdict("prod", "us-east-1", false, &rows, &[]);
        assert!(!ok);
        assert!(
            line.contains("env prod does not exist in us-east-1"),
            "{line}"
        );
        assert!(!webhook(&o).set);
    }

    #[test]
    fn drift_without_a_webhook_url_reports_instead_of_failing() {
        let d = want();
        let o = Observed {
            function: Some(FunctionObs {
                owned: false,
                ..Default::default()
            }),
            alarms: vec![AlarmObs {
                name: d.alarms[0].name.clone(),
                threshold: 5.0,
                ..Default::default()
            }],
            ..Default::default()
        };
        let plan = drift(&d, &o);
        let rows = resources(&d, &o, &plan, &[], true);
        let alarm = rows.iter().find(|r| r.kind == "alarm").unwrap();
        assert_eq!(alarm.state, Presence::Drifted);
        assert!(alarm.details.contains(&"threshold".to_string()));
        let f = rows.iter().find(|r| r.kind == "lambda-function").unwrap();
        assert_eq!(f.state, Presence::Foreign, "untagged function: {f:?}");
        let (line, ok) = verdict("prod", "r", true, &rows, &[]);
        assert!(!ok);
        assert!(
            line.contains("drifted") && line.contains("threshold"),
            "{line}"
        );
    }

    #[test]
    fn an_unaliased_tagged_key_is_named_and_a_foreign_topic_flagged() {
        let d = want();
        let o = Observed {
            topic: Some(TopicObs {
                owned: false,
                ..Default::default()
            }),
            ..Default::default()
        };
        let keys = [TaggedKey {
            key_id: "k-1".into(),
            arn: "arn:k-1".into(),
            state: "Enabled".into(),
            pending_deletion: false,
        }];
        let plan = drift(&d, &o);
        let rows = resources(&d, &o, &plan, &keys, true);
        let key = rows.iter().find(|r| r.kind == "kms-key").unwrap();
        assert!(key.details.iter().any(|d| d.contains("k-1")), "{key:?}");
        let topic = rows.iter().find(|r| r.kind == "sns-topic").unwrap();
        assert_eq!(topic.state, Presence::Foreign);
        assert!(env_exists(&o, &keys));
        let pending = [TaggedKey {
            pending_deletion: true,
            ..keys[0].clone()
        }];
        assert!(!env_exists(&Observed::default(), &pending));
    }

    #[test]
    fn in_sync_verdict_counts_alarm_states() {
        let rows = vec![ResourceStatus {
            kind: "alarm".into(),
            name: "a".into(),
            state: Presence::Present,
            details: vec![],
        }];
        let (line, ok) = verdict("prod", "r", true, &rows, &["OK", "ALARM", "OK"]);
        assert!(ok);
        assert_eq!(
            line,
            "env prod: all 1 resources present and in sync; alarms: 2 OK, 1 ALARM"
        );
    }

    #[test]
    fn webhook_status_never_carries_the_url() {
        let o = Observed {
            function: Some(FunctionObs {
                env: [(ENV_HOOK.to_string(), "Y2lwaGVy".to_string())].into(),
                secret: Some(crate::secret::SlackSecret::Webhook(
                    crate::secret::Secret::new("https://hooks.slack.com/services/SECRET"),
                )),
                ..Default::default()
            }),
            ..Default::default()
        };
        let w = webhook(&o);
        assert_eq!(w.describe(), "set, encrypted; decrypts");
        let json = serde_json::to_string(&w).unwrap();
        assert!(!json.contains("SECRET"), "{json}");
    }
}
