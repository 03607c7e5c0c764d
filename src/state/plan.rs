//! The difference between what should be and what is: one [`Change`] per resource. Pure.
//! `up` applies it, `up --dry-run` prints it, `status` reports it as drift.

use super::alarm_moves::AlarmMove;
pub use super::change::{Action, Change};
use super::desired::{AlarmSpec, Desired, ENV_CHANNEL, ENV_SLACK_API, ENV_TOKEN};
use super::observed::{AlarmObs, Observed};
use crate::policy::same_document;
use crate::secret::{SlackSecret, is_stored_form, stored_form};
use anyhow::{Result, bail};
use serde::Serialize;

/// Why a webhook ciphertext made by an older elb-watch (URL with `https://`) is re-made.
pub const OLD_FORM: &str = "webhook URL (encrypted with https://; re-encrypted without it, as the console blueprint stores it)";

/// What must change in the notifier function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionChange {
    #[serde(flatten)]
    pub change: Change,
    pub code: bool,
    pub configuration: bool,
    /// The Slack secret's ciphertext must be (re)made: new function, new secret, new key, or
    /// a switch between webhook and app mode.
    pub encrypt_secret: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub role: Change,
    pub role_policy: Change,
    pub key: Change,
    pub alias: Change,
    pub decrypt_policy: Change,
    pub attachment: Change,
    /// elb-watch's own permissions boundary (account-wide); its name is empty, and it is left
    /// out of [`Plan::changes`], when the role's boundary is the organisation's.
    pub boundary: Change,
    pub topic: Change,
    pub email: Change,
    pub log_group: Change,
    pub function: FunctionChange,
    pub subscription: Change,
    pub permission: Change,
    /// The undelivered-alerts queue.
    pub queue: Change,
    /// The function's asynchronous invocation config (retries, event age, on-failure queue).
    pub async_invoke: Change,
    /// The function's reserved concurrency.
    pub concurrency: Change,
    pub alarms: Vec<Change>,
    /// Alarms named by an earlier version, moved to today's names keeping state and thread
    /// (`alarm_moves`); each is also in `alarms` as the creation of its new name.
    pub alarm_moves: Vec<AlarmMove>,
    /// Policies elb-watch attached to the role that it no longer wants there (detached by `up`;
    /// policies others attached are left alone).
    pub detach: Vec<String>,
    /// Inline role policies elb-watch did not write (removed by `up`).
    pub remove_inline: Vec<String>,
    /// Email subscriptions no longer asked for.
    pub unsubscribe: Vec<String>,
}

impl Plan {
    /// Every change, in the order they are applied.
    pub fn changes(&self) -> Vec<&Change> {
        let mut all = vec![
            &self.boundary,
            &self.role,
            &self.role_policy,
            &self.key,
            &self.alias,
            &self.decrypt_policy,
            &self.attachment,
            &self.topic,
            &self.email,
            &self.log_group,
            &self.queue,
            &self.function.change,
            &self.subscription,
            &self.permission,
            &self.async_invoke,
            &self.concurrency,
        ];
        all.extend(self.alarms.iter());
        all.retain(|c| {
            !(matches!(c.kind, "email-subscription" | BOUNDARY_KIND) && c.name.is_empty())
        });
        all
    }

    pub fn is_noop(&self) -> bool {
        self.changes().iter().all(|c| c.is_noop())
    }
}

/// The role-change reason that makes `up` put the role's permissions boundary.
pub const PERMISSIONS_BOUNDARY: &str = "permissions boundary";

/// Kind of the [`Plan::boundary`] change.
pub const BOUNDARY_KIND: &str = "iam-boundary-policy";

/// elb-watch's own boundary: made when missing, given a new version when its document differs
/// (both refused to the operator policy by design: see `docs/operator-policy.md`).
fn boundary_change(desired: &Desired, observed: &Observed) -> Change {
    let Some(want) = &desired.boundary_document else {
        return Change::new(BOUNDARY_KIND, "", Action::Unchanged);
    };
    let name = crate::naming::BOUNDARY_POLICY;
    match &observed.boundary {
        None => Change::new(BOUNDARY_KIND, name, Action::Create),
        Some(b) => Change::diff(
            BOUNDARY_KIND,
            name,
            true,
            match &b.document {
                Some(doc) if same_document(doc, want) => vec![],
                _ => vec!["document".into()],
            },
        ),
    }
}

/// The reason an alarm's change names when only its runbook tag differs (TagResource or
/// UntagResource: PutMetricAlarm ignores tags on an existing alarm).
pub const RUNBOOK_CHANGE: &str = "runbook";

/// How an alarm differs from its spec (empty: in sync). Evaluation settings say what they
/// were and what they become, so `status` shows an alarm of an older elb-watch for what it is.
pub fn alarm_drift(spec: &AlarmSpec, obs: &AlarmObs, topic_arn: &str) -> Vec<String> {
    let mut r = Vec::new();
    let mut check = |field: &str, ok: bool| {
        if !ok {
            r.push(field.to_string());
        }
    };
    let m = &spec.metric;
    check(
        "metric",
        obs.metric == m.name && obs.namespace == m.namespace,
    );
    check("dimensions", obs.dimensions == m.dimensions);
    check("zones", obs.zones == m.zones);
    // A count of healthy targets or a share of them (metric math over the whole group).
    check("threshold form", obs.percent == m.percent);
    check("threshold", (obs.threshold - spec.threshold).abs() < 1e-9);
    check("comparison", obs.comparison == m.comparison);
    check("statistic", obs.statistic == m.statistic);
    check("period", obs.period == spec.period_s);
    if (obs.datapoints_to_alarm, obs.evaluation_periods)
        != (spec.datapoints_to_alarm, spec.evaluation_periods)
    {
        r.push(format!(
            "datapoints to alarm ({} of {} → {} of {})",
            obs.datapoints_to_alarm,
            obs.evaluation_periods,
            spec.datapoints_to_alarm,
            spec.evaluation_periods
        ));
    }
    if obs.treat_missing != spec.treat_missing_data {
        r.push(format!(
            "missing-data treatment ({} → {})",
            obs.treat_missing, spec.treat_missing_data
        ));
    }
    let mut check = |field: &str, ok: bool| {
        if !ok {
            r.push(field.to_string());
        }
    };
    check("description", obs.description == spec.description);
    let mut wanted = spec.tags_in_notifications.clone();
    wanted.sort();
    check("tags in notifications", obs.tags_in_notifications == wanted);
    if let Some(have) = &obs.runbook {
        check(RUNBOOK_CHANGE, *have == spec.runbook);
    }
    check(
        "alarm actions",
        obs.actions_enabled && obs.alarm_actions == [topic_arn.to_string()],
    );
    check("OK actions", obs.ok_actions == [topic_arn.to_string()]);
    r
}

pub fn plan(desired: &Desired, observed: &Observed, secret: Option<&SlackSecret>) -> Result<Plan> {
    refuse_foreign(desired, observed)?;
    diff(desired, observed, secret, Strictness::NeedHook)
}

/// What `up` refuses to decide without the webhook URL, and `status` reports instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strictness {
    /// `up`: bail when the URL is needed but not given.
    NeedHook,
    /// `status`: no URL at hand; a missing or undecryptable one is a finding.
    ReportOnly,
}

/// The same diff as [`plan`] for `status`: no webhook URL is given, so the function's URL is
/// judged by whether it is set and decrypts (never by its value), and resources elb-watch does
/// not own are left for the caller to report rather than refused. Never fails.
pub fn drift(desired: &Desired, observed: &Observed) -> Plan {
    diff(desired, observed, None, Strictness::ReportOnly)
        .expect("a report-only diff has no failure path")
}

fn diff(
    desired: &Desired,
    observed: &Observed,
    secret: Option<&SlackSecret>,
    strictness: Strictness,
) -> Result<Plan> {
    // Role, its inline runtime policy, and what is attached to it.
    let role = match &observed.role {
        None => Change::new("iam-role", &desired.role_name, Action::Create),
        Some(r) => {
            let trust_ok = r
                .trust
                .as_ref()
                .is_some_and(|t| same_document(t, &desired.trust_policy));
            let mut reasons = Vec::new();
            if !trust_ok {
                reasons.push("trust policy".to_string());
            }
            if r.permissions_boundary.as_deref() != Some(desired.permissions_boundary.as_str()) {
                reasons.push(PERMISSIONS_BOUNDARY.to_string());
            }
            Change::diff("iam-role", &desired.role_name, true, reasons)
        }
    };
    let inline = observed
        .role
        .as_ref()
        .and_then(|r| r.inline.get(&desired.runtime_policy_name));
    let role_policy = Change::diff(
        "iam-role-policy",
        format!("{}/{}", desired.role_name, desired.runtime_policy_name),
        inline.is_some(),
        match inline {
            Some(doc) if !same_document(doc, &desired.runtime_policy) => vec!["document".into()],
            _ => vec![],
        },
    );
    let remove_inline: Vec<String> = observed
        .role
        .iter()
        .flat_map(|r| r.inline.keys())
        .filter(|n| **n != desired.runtime_policy_name)
        .cloned()
        .collect();
    // Only policies elb-watch attached (its own, under /elb-watch/ with the env's tags) are
    // detached; a policy someone else attached to the role (an organisation's) stays.
    let detach: Vec<String> = observed
        .role
        .iter()
        .flat_map(|r| r.attached_own.iter())
        .filter(|a| **a != desired.decrypt_policy_arn)
        .cloned()
        .collect();
    let role = with_reasons(
        role,
        remove_inline
            .iter()
            .map(|n| format!("remove inline policy {n}"))
            .chain(detach.iter().map(|a| format!("detach {a}")))
            .collect(),
    );

    // Key and alias. A key pending deletion counts as absent: a new one replaces it.
    let key = match &observed.key {
        None => Change::new("kms-key", &desired.key_alias, Action::Create),
        Some(k) => {
            let mut reasons = Vec::new();
            if !k.enabled {
                reasons.push("disabled".to_string());
            }
            if !k
                .policy
                .as_ref()
                .is_some_and(|p| same_document(p, &desired.key_policy))
            {
                reasons.push("key policy".to_string());
            }
            Change::diff("kms-key", &k.key_id, true, reasons)
        }
    };
    let new_key = key.action == Action::Create;
    let alias = match (&observed.alias_target, new_key) {
        (None, _) => Change::new("kms-alias", &desired.key_alias, Action::Create),
        (Some(_), true) => Change {
            reasons: vec!["point at the new key".into()],
            ..Change::new("kms-alias", &desired.key_alias, Action::Update)
        },
        (Some(_), false) => Change::new("kms-alias", &desired.key_alias, Action::Unchanged),
    };

    let decrypt_policy = match (&observed.decrypt_policy, &observed.key) {
        (None, _) => Change::new("iam-policy", &desired.decrypt_policy_name, Action::Create),
        (Some(_), None) => Change {
            reasons: vec!["scope to the new key".into()],
            ..Change::new("iam-policy", &desired.decrypt_policy_name, Action::Update)
        },
        (Some(p), Some(k)) => {
            let want = crate::policy::decrypt_only_policy(&k.arn, &desired.function.name);
            let ok = p.document.as_ref().is_some_and(|d| same_document(d, &want));
            Change::diff(
                "iam-policy",
                &desired.decrypt_policy_name,
                true,
                if ok { vec![] } else { vec!["document".into()] },
            )
        }
    };
    let attached = observed
        .role
        .as_ref()
        .is_some_and(|r| r.attached.contains(&desired.decrypt_policy_arn));
    let attachment = Change::diff(
        "iam-attachment",
        format!("{} → {}", desired.decrypt_policy_name, desired.role_name),
        attached,
        vec![],
    );

    // Topic (which records the inputs in its tags) and the optional e-mail subscription.
    let topic = match &observed.topic {
        None => Change::new("sns-topic", &desired.topic_name, Action::Create),
        Some(t) => {
            let recorded: Vec<(&String, &String)> = t
                .tags
                .iter()
                .filter(|(k, _)| super::desired::is_setting_key(k))
                .collect();
            let wanted: Vec<(&String, &String)> = desired.settings.iter().collect();
            Change::diff(
                "sns-topic",
                &desired.topic_name,
                true,
                if recorded == wanted {
                    vec![]
                } else {
                    vec!["recorded settings".into()]
                },
            )
        }
    };
    let subs = observed
        .topic
        .as_ref()
        .map(|t| t.subscriptions.clone())
        .unwrap_or_default();
    let email = match &desired.email {
        None => Change::new("email-subscription", "", Action::Unchanged),
        Some(addr) => {
            let found = subs
                .iter()
                .find(|s| s.protocol == "email" && s.endpoint == *addr);
            // A subscription still PendingConfirmation cannot be read or changed: it got its
            // filter when `up` subscribed it, or gets it on the first `up` after it is confirmed.
            let reasons = found
                .and_then(|s| s.filter.as_ref())
                .map(|(scope, policy)| {
                    super::email_filter::drift(
                        scope.as_deref(),
                        policy.as_deref(),
                        &crate::naming::Names::new(&desired.env).test_alarm(),
                    )
                })
                .unwrap_or_default();
            Change::diff("email-subscription", addr, found.is_some(), reasons)
        }
    };
    // Which e-mail subscriptions `up` manages: the topic records only THAT it subscribed one
    // (the address is personal data, kept out of tags), so every e-mail subscription of the
    // env's own topic is `up`'s; topics tagged by earlier versions name the address.
    let recorded = observed.topic.as_ref().map(|t| &t.tags);
    let legacy_email = recorded.and_then(|t| t.get(super::settings::LEGACY_KEY_EMAIL));
    let email_managed = recorded.is_some_and(|t| {
        t.get(super::settings::KEY_EMAIL_SUBSCRIBED)
            .is_some_and(|v| v == "true")
    });
    let unsubscribe: Vec<String> = subs
        .iter()
        .filter(|s| s.protocol == "email")
        .filter(|s| match legacy_email {
            Some(addr) => *addr == s.endpoint,
            None => email_managed,
        })
        .filter(|s| desired.email.as_ref() != Some(&s.endpoint))
        .filter(|s| s.arn.starts_with("arn:"))
        .map(|s| s.arn.clone())
        .collect();

    let log_group = Change::diff(
        "log-group",
        &desired.log_group,
        observed.log_group.is_some(),
        match &observed.log_group {
            Some(g) if g.retention_days != Some(desired.log_retention_days) => {
                vec!["retention".into()]
            }
            _ => vec![],
        },
    );

    let function = plan_function(desired, observed, secret, new_key, strictness)?;

    let function_arn = observed.function.as_ref().map(|f| f.arn.clone());
    let subscribed = match (&observed.topic, &function_arn) {
        (Some(_), Some(arn)) => subs
            .iter()
            .any(|s| s.protocol == "lambda" && s.endpoint == *arn),
        _ => false,
    };
    let subscription = Change::diff(
        "sns-subscription",
        format!("{} → {}", desired.topic_name, desired.function.name),
        subscribed,
        vec![],
    );
    let permission = match &observed.permission {
        None => Change::new("lambda-permission", &desired.permission_sid, Action::Create),
        Some(p) => {
            let ok = p.source_arn.as_deref() == Some(desired.topic_arn.as_str())
                && p.principal.as_deref() == Some("sns.amazonaws.com")
                && p.action.as_deref() == Some("lambda:InvokeFunction");
            Change::diff(
                "lambda-permission",
                &desired.permission_sid,
                true,
                if ok {
                    vec![]
                } else {
                    vec!["source topic or principal".into()]
                },
            )
        }
    };

    let (queue, async_invoke, concurrency) = super::queue_plan::plan_queue(desired, observed);

    let alarm_moves = super::alarm_moves::moves(
        &crate::naming::Names::new(&desired.env),
        &desired.alarms,
        &observed.alarms,
    );
    let mut alarms: Vec<Change> = desired
        .alarms
        .iter()
        .map(|spec| {
            if let Some(m) = alarm_moves.iter().find(|m| m.to == spec.name) {
                return Change {
                    reasons: vec![format!(
                        "moved from {}, keeping its state and Slack thread",
                        m.from
                    )],
                    ..Change::new("alarm", &spec.name, Action::Create)
                };
            }
            let obs = observed.alarms.iter().find(|a| a.name == spec.name);
            Change::diff(
                "alarm",
                &spec.name,
                obs.is_some(),
                obs.map(|o| alarm_drift(spec, o, &desired.topic_arn))
                    .unwrap_or_default(),
            )
        })
        .collect();
    alarms.extend(
        observed
            .alarms
            .iter()
            .filter(|a| !desired.alarms.iter().any(|s| s.name == a.name))
            .filter(|a| !alarm_moves.iter().any(|m| m.from == a.name))
            .map(|a| {
                let unwatchable = desired.warnings.iter().any(|w| {
                    a.dimension("TargetGroup")
                        .is_some_and(|d| w.is_about_dimension(d))
                });
                let reason = if unwatchable {
                    "health checks disabled on the target group: nothing to alarm on"
                } else {
                    "target group no longer behind the selected load balancers"
                };
                Change {
                    reasons: vec![reason.into()],
                    ..Change::new("alarm", &a.name, Action::Delete)
                }
            }),
    );

    Ok(Plan {
        role,
        role_policy,
        key,
        alias,
        decrypt_policy,
        attachment,
        boundary: boundary_change(desired, observed),
        topic,
        email,
        log_group,
        function,
        subscription,
        permission,
        queue,
        async_invoke,
        concurrency,
        alarms,
        alarm_moves,
        detach,
        remove_inline,
        unsubscribe,
    })
}

fn with_reasons(mut change: Change, extra: Vec<String>) -> Change {
    if !extra.is_empty() && change.action == Action::Unchanged {
        change.action = Action::Update;
    }
    if change.action == Action::Update {
        change.reasons.extend(extra);
    }
    change
}

fn plan_function(
    desired: &Desired,
    observed: &Observed,
    secret: Option<&SlackSecret>,
    new_key: bool,
    strictness: Strictness,
) -> Result<FunctionChange> {
    let spec = &desired.function;
    let report_only = strictness == Strictness::ReportOnly;
    let app = spec.slack_api.is_some();
    let Some(f) = &observed.function else {
        if secret.is_none() && !report_only {
            bail!(
                "a Slack {} is needed to create the notifier: {}",
                secret_name(app),
                how_to_give(app)
            );
        }
        return Ok(FunctionChange {
            change: Change::new("lambda-function", &spec.name, Action::Create),
            code: true,
            configuration: true,
            encrypt_secret: true,
        });
    };
    let mut reasons = Vec::new();
    let code_differs = f.code_sha256 != spec.code_sha256;
    if code_differs {
        reasons.push("code".to_string());
    }
    // The architecture changes only with the code (UpdateFunctionCode's `Architectures`):
    // https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html
    let arch_differs = f.architecture != spec.architecture;
    if arch_differs {
        reasons.push(format!(
            "architecture {} → {}",
            f.architecture, spec.architecture
        ));
    }
    let code = code_differs || arch_differs;
    let mut config = Vec::new();
    let plain = spec.plain_env();
    let has_app = f.env.contains_key(ENV_TOKEN);
    if has_app != app {
        config.push(format!(
            "Slack delivery ({} → {})",
            mode_name(has_app),
            mode_name(app)
        ));
    }
    for (field, ok) in [
        ("role", f.role == spec.role_arn),
        ("runtime", f.runtime == spec.runtime),
        ("handler", f.handler == spec.handler),
        ("memory", f.memory_mb == spec.memory_mb),
        ("timeout", f.timeout_s == spec.timeout_s),
        ("description", f.description == spec.description),
        (
            "slack channel",
            f.env.get(ENV_CHANNEL) == spec.channel.as_ref(),
        ),
        (
            "slack api url",
            f.env.get(ENV_SLACK_API) == spec.slack_api.as_ref(),
        ),
        (
            "environment",
            f.env
                .keys()
                .all(|k| k == spec.secret_var() || plain.contains_key(k)),
        ),
    ] {
        if !ok {
            config.push(field.to_string());
        }
    }
    let what = secret_name(app);
    let encrypt_secret = match (secret, &f.secret) {
        _ if new_key && report_only => {
            config.push(format!("{what} (encrypted with a key that is gone)"));
            true
        }
        (None, None) if report_only => {
            config.push(format!(
                "{what} ({})",
                f.secret_error.as_deref().unwrap_or("not set")
            ));
            true
        }
        _ if new_key => {
            if secret.is_none() {
                bail!(
                    "the environment's KMS key is gone or pending deletion, so the Slack {what} \
                     must be encrypted again: {}",
                    how_to_give(app)
                );
            }
            config.push(format!("{what} (new key)"));
            true
        }
        // A switch of mode (its reason is given above): the other secret is encrypted.
        (Some(given), _) if given.is_app() != has_app => true,
        (None, Some(held)) if held.is_app() != app => {
            if !report_only {
                bail!(
                    "the notifier posts {} but {} was asked for: {}",
                    mode_name(held.is_app()),
                    mode_name(app),
                    how_to_give(app)
                );
            }
            true
        }
        (Some(SlackSecret::Webhook(url)), Some(SlackSecret::Webhook(held))) => {
            // Compared in the form it is encrypted in (no `https://`, like the console
            // blueprint); a ciphertext an older elb-watch made with the scheme is re-encrypted
            // without it, so switching the function to the blueprint keeps working.
            let want = stored_form(url);
            if want == *held {
                false
            } else {
                config.push(if want == stored_form(held) {
                    OLD_FORM.to_string()
                } else {
                    "webhook URL".to_string()
                });
                true
            }
        }
        (Some(given), Some(held)) => {
            let differs = given != held;
            if differs {
                config.push(what.to_string());
            }
            differs
        }
        (Some(_), None) => {
            config.push(format!("{what} (was missing or undecryptable)"));
            true
        }
        (None, Some(SlackSecret::Webhook(held))) if !is_stored_form(held) => {
            config.push(OLD_FORM.to_string());
            true
        }
        (None, Some(_)) => false,
        (None, None) => bail!(
            "the notifier's Slack {what} is missing or cannot be decrypted ({}): give it again: {}",
            f.secret_error.as_deref().unwrap_or("not set"),
            how_to_give(app)
        ),
    };
    let configuration = !config.is_empty();
    reasons.extend(config);
    Ok(FunctionChange {
        change: Change::diff("lambda-function", &spec.name, true, reasons),
        code,
        configuration,
        encrypt_secret,
    })
}

fn mode_name(app: bool) -> &'static str {
    if app {
        "app (bot token, threads)"
    } else {
        "webhook"
    }
}

fn secret_name(app: bool) -> &'static str {
    if app { "bot token" } else { "webhook URL" }
}

fn how_to_give(app: bool) -> &'static str {
    if app {
        "pass --slack-token-file, or set ELB_WATCH_SLACK_TOKEN"
    } else {
        "pass --slack-url-file, set ELB_WATCH_SLACK_URL, or pass --slack-url"
    }
}

/// Resources with this env's names that elb-watch did not make (or another env owns) are never
/// taken over.
fn refuse_foreign(desired: &Desired, observed: &Observed) -> Result<()> {
    let mut foreign = Vec::new();
    if observed.role.as_ref().is_some_and(|r| !r.owned) {
        foreign.push(format!("IAM role {}", desired.role_name));
    }
    if observed.decrypt_policy.as_ref().is_some_and(|p| !p.owned) {
        foreign.push(format!("IAM policy {}", desired.decrypt_policy_name));
    }
    if observed.key.as_ref().is_some_and(|k| !k.owned) {
        foreign.push(format!("KMS key behind {}", desired.key_alias));
    }
    if observed.topic.as_ref().is_some_and(|t| !t.owned) {
        foreign.push(format!("SNS topic {}", desired.topic_name));
    }
    if observed.function.as_ref().is_some_and(|f| !f.owned) {
        foreign.push(format!("Lambda function {}", desired.function.name));
    }
    if observed.queue.as_ref().is_some_and(|q| !q.owned) {
        foreign.push(format!("SQS queue {}", desired.queue.name));
    }
    for name in &observed.foreign_alarms {
        if desired.alarms.iter().any(|a| a.name == *name) {
            foreign.push(format!("CloudWatch alarm {name}"));
        }
    }
    if !foreign.is_empty() {
        bail!(
            "{} already exist(s) but {} not tagged as elb-watch's for env '{}': rename or remove \
             it, or choose another --env",
            foreign.join(", "),
            if foreign.len() == 1 { "is" } else { "are" },
            desired.env
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::Arch;
    use crate::discovery::TargetGroup;
    use crate::secret::Secret;
    use crate::state::desired::{Inputs, desired};
    use crate::state::observed::{FunctionObs, KeyObs};

    const URL: &str = "https://hooks.slack.com/services/T0/B0/SECRET";

    fn inputs(arch: Arch) -> Inputs {
        Inputs {
            arch,
            ..crate::state::fixtures::inputs()
        }
    }

    use crate::state::fixtures::identity;

    fn want_arch(arch: Arch) -> Desired {
        desired(&inputs(arch), &identity(), &[])
    }

    fn want(groups: &[TargetGroup]) -> Desired {
        desired(&inputs(Arch::X86_64), &identity(), groups)
    }

    fn tg(name: &str, health_checks: bool) -> TargetGroup {
        TargetGroup {
            target_type: if health_checks { "instance" } else { "lambda" }.into(),
            health_check_enabled: health_checks,
            ..crate::state::fixtures::target_group("web-alb", name)
        }
    }

    /// The function exactly as `want_arch(arch)` describes it.
    fn deployed(d: &Desired, arch: &str) -> Observed {
        let f = &d.function;
        Observed {
            function: Some(FunctionObs {
                role: f.role_arn.clone(),
                runtime: f.runtime.clone(),
                handler: f.handler.clone(),
                memory_mb: f.memory_mb,
                timeout_s: f.timeout_s,
                code_sha256: f.code_sha256.clone(),
                architecture: arch.into(),
                description: f.description.clone(),
                owned: true,
                secret: Some(SlackSecret::Webhook(Secret::new(
                    "hooks.slack.com/services/T/B/X",
                ))),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The alarm as `up` makes it, observed.
    fn observed_alarm(d: &Desired, spec: &AlarmSpec) -> AlarmObs {
        AlarmObs {
            name: spec.name.clone(),
            namespace: spec.metric.namespace.clone(),
            metric: spec.metric.name.clone(),
            dimensions: spec.metric.dimensions.clone(),
            statistic: spec.metric.statistic.clone(),
            period: spec.period_s,
            evaluation_periods: spec.evaluation_periods,
            datapoints_to_alarm: spec.datapoints_to_alarm,
            threshold: spec.threshold,
            comparison: spec.metric.comparison.clone(),
            treat_missing: spec.treat_missing_data.clone(),
            description: spec.description.clone(),
            actions_enabled: true,
            alarm_actions: vec![d.topic_arn.clone()],
            ok_actions: vec![d.topic_arn.clone()],
            tags_in_notifications: {
                let mut keys = spec.tags_in_notifications.clone();
                keys.sort();
                keys
            },
            ..Default::default()
        }
    }

    #[test]
    fn a_percent_alarm_is_in_sync_with_its_spec_and_the_other_form_is_drift() {
        use crate::envfile::Threshold;
        use crate::naming::Names;
        use crate::state::alarms::target_group_alarm;
        use crate::state::zones::ZoneRule;
        let group = tg("web-tg", true);
        let d = want(std::slice::from_ref(&group));
        let names = Names::new(&d.env);
        let percent = target_group_alarm(&names, &group, Threshold::Percent(50), ZoneRule::Whole);
        let count = target_group_alarm(&names, &group, Threshold::Count(5), ZoneRule::Whole);
        let percent_obs = AlarmObs {
            percent: true,
            ..observed_alarm(&d, &percent)
        };
        assert_eq!(
            alarm_drift(&percent, &percent_obs, &d.topic_arn),
            Vec::<String>::new()
        );
        let count_obs = observed_alarm(&d, &count);
        assert!(alarm_drift(&count, &count_obs, &d.topic_arn).is_empty());
        // The same metric either way: the form, the figure and the words differ.
        assert_eq!(
            alarm_drift(&percent, &count_obs, &d.topic_arn),
            ["threshold form", "threshold", "description"]
        );
        assert_eq!(
            alarm_drift(&count, &percent_obs, &d.topic_arn),
            ["threshold form", "threshold", "description"]
        );
        // The form alone.
        let count_as_percent = AlarmObs {
            percent: false,
            ..percent_obs
        };
        assert_eq!(
            alarm_drift(&percent, &count_as_percent, &d.topic_arn),
            ["threshold form"]
        );
    }

    #[test]
    fn an_alarm_without_tags_in_its_notifications_must_be_updated() {
        let d = want(&[tg("web-tg", true)]);
        let before = AlarmObs {
            tags_in_notifications: Vec::new(),
            ..observed_alarm(&d, &d.alarms[0])
        };
        assert_eq!(
            alarm_drift(&d.alarms[0], &before, &d.topic_arn),
            ["tags in notifications"]
        );
    }

    #[test]
    fn an_alarm_with_the_old_missing_data_settings_must_be_updated() {
        let d = want(&[tg("web-tg", true)]);
        let current = observed_alarm(&d, &d.alarms[0]);
        assert!(alarm_drift(&d.alarms[0], &current, &d.topic_arn).is_empty());
        let old = AlarmObs {
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            treat_missing: "missing".into(),
            ..current
        };
        let o = Observed {
            alarms: vec![old],
            ..Default::default()
        };
        let p = drift(&d, &o);
        assert_eq!(p.alarms[0].action, Action::Update);
        assert_eq!(
            p.alarms[0].reasons,
            [
                "datapoints to alarm (1 of 1 → 2 of 3)",
                "missing-data treatment (missing → breaching)"
            ]
        );
    }

    #[test]
    fn existing_alarms_cut_off_from_the_notifier_are_announcement_candidates() {
        use crate::state::announce::{Silenced, candidates};
        let d = want(&[tg("web-tg", true), tg("api-tg", true)]);
        let mut alarms: Vec<AlarmObs> = d.alarms.iter().map(|a| observed_alarm(&d, a)).collect();
        alarms[1].actions_enabled = false;
        let o = Observed {
            alarms,
            ..Default::default()
        };
        // Nothing else exists: the path is incomplete, every kept alarm may have fired unheard.
        let mut p = drift(&d, &o);
        let all = candidates(&o, &p, &d.topic_arn);
        assert_eq!(all.len(), d.alarms.len(), "{all:?}");
        assert!(all.iter().all(|(_, why)| *why == Silenced::PathIncomplete));
        // The path whole: only the alarm whose own actions were off.
        for c in [
            &mut p.topic,
            &mut p.function.change,
            &mut p.permission,
            &mut p.subscription,
        ] {
            c.action = Action::Unchanged;
        }
        assert_eq!(
            candidates(&o, &p, &d.topic_arn),
            [(d.alarms[1].name.clone(), Silenced::ActionsOff)]
        );
        // An alarm the plan deletes is nobody's to announce.
        p.alarms[1].action = Action::Delete;
        assert!(candidates(&o, &p, &d.topic_arn).is_empty());
        // A new alarm (not observed) is armed with the path whole: never a candidate.
        let fresh = Observed::default();
        assert!(candidates(&fresh, &drift(&d, &fresh), &d.topic_arn).is_empty());
    }

    #[test]
    fn the_alarm_of_a_target_group_without_health_checks_is_deleted_saying_why() {
        let d = want(&[tg("web-tg", true), tg("fn-tg", false)]);
        assert_eq!(
            d.alarms
                .iter()
                .filter(|a| a.target_group().is_some())
                .count(),
            1
        );
        let mut fn_alarm = observed_alarm(&d, &d.alarms[0]);
        fn_alarm.name = "elb-watch-prod-fn-tg-HealthyHostCount".into();
        fn_alarm.dimensions[1].1 = "targetgroup/fn-tg/abc".into();
        let mut alarms: Vec<AlarmObs> = d.alarms.iter().map(|a| observed_alarm(&d, a)).collect();
        alarms.push(fn_alarm);
        let o = Observed {
            alarms,
            ..Default::default()
        };
        let p = drift(&d, &o);
        let gone = p
            .alarms
            .iter()
            .find(|c| c.action == Action::Delete)
            .unwrap();
        assert_eq!(gone.name, "elb-watch-prod-fn-tg-HealthyHostCount");
        assert!(
            gone.reasons[0].contains("health checks disabled"),
            "{gone:?}"
        );
    }

    #[test]
    fn an_alarm_under_its_old_name_is_moved_not_deleted_and_recreated() {
        let d = want(&[tg("web-tg", true)]);
        let names = crate::naming::Names::new("prod");
        let mut alarms: Vec<AlarmObs> = d.alarms.iter().map(|a| observed_alarm(&d, a)).collect();
        let new_name = alarms[0].name.clone();
        alarms[0].name = names.legacy_alarm("web-tg");
        let o = Observed {
            alarms,
            ..Default::default()
        };
        let p = drift(&d, &o);
        assert_eq!(
            p.alarm_moves,
            [super::AlarmMove {
                from: names.legacy_alarm("web-tg"),
                to: new_name.clone(),
            }]
        );
        assert!(
            !p.alarms.iter().any(|c| c.action == Action::Delete),
            "{:?}",
            p.alarms
        );
        let moved = p.alarms.iter().find(|c| c.name == new_name).unwrap();
        assert_eq!(moved.action, Action::Create);
        assert_eq!(
            moved.reasons,
            [
                "moved from elb-watch-prod-web-tg-HealthyHostCount, keeping its state and Slack thread"
            ]
        );
        // Not announced by the found-in-ALARM step: the move decides that.
        let candidates = crate::state::announce::candidates(&o, &p, &d.topic_arn);
        assert!(
            !candidates
                .iter()
                .any(|(n, _)| *n == new_name || n.starts_with("elb-watch-")),
            "{candidates:?}"
        );
    }

    fn with_hook(plaintext: &str) -> Observed {
        Observed {
            function: Some(FunctionObs {
                secret: Some(SlackSecret::Webhook(Secret::new(plaintext))),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_function_on_another_architecture_gets_its_code_updated() {
        let d = want_arch(Arch::Arm64);
        let same = plan_function(
            &d,
            &deployed(&d, "arm64"),
            None,
            false,
            Strictness::NeedHook,
        )
        .unwrap();
        assert!(!same.code && !same.configuration, "{same:?}");

        let moved = plan_function(
            &d,
            &deployed(&d, "x86_64"),
            None,
            false,
            Strictness::NeedHook,
        )
        .unwrap();
        assert!(
            moved.code,
            "the architecture changes through UpdateFunctionCode"
        );
        assert!(!moved.configuration, "{moved:?}");
        assert_eq!(moved.change.action, Action::Update);
        assert!(
            moved
                .change
                .reasons
                .contains(&"architecture x86_64 → arm64".to_string()),
            "{:?}",
            moved.change.reasons
        );
    }

    fn hook_change(o: &Observed, given: Option<&str>) -> FunctionChange {
        let d = want(&[]);
        let given = given.map(|g| SlackSecret::Webhook(Secret::new(g)));
        plan_function(&d, o, given.as_ref(), false, Strictness::NeedHook).unwrap()
    }

    #[test]
    fn the_webhook_is_compared_in_its_stored_form_without_https() {
        let stored = URL.strip_prefix("https://").unwrap();
        // Deployed as the blueprint stores it, same URL given: nothing to re-encrypt.
        let f = hook_change(&with_hook(stored), Some(URL));
        assert!(!f.encrypt_secret, "{f:?}");
        // Another URL: re-encrypted.
        let f = hook_change(
            &with_hook(stored),
            Some("https://hooks.slack.com/services/X"),
        );
        assert!(f.encrypt_secret);
        assert!(f.change.reasons.contains(&"webhook URL".to_string()));
        // An http URL (local sinks) keeps its scheme and compares equal to itself.
        let f = hook_change(
            &with_hook("http://127.0.0.1:9/h"),
            Some("http://127.0.0.1:9/h"),
        );
        assert!(!f.encrypt_secret);
    }

    #[test]
    fn an_old_form_ciphertext_with_https_is_re_encrypted_even_without_a_url_given() {
        for given in [Some(URL), None] {
            let f = hook_change(&with_hook(URL), given);
            assert!(f.encrypt_secret, "{given:?}: {f:?}");
            assert!(f.change.reasons.contains(&OLD_FORM.to_string()), "{f:?}");
        }
        // status reports it as drift too (with the key still there: not a "new key" case).
        let d = want(&[]);
        let observed = Observed {
            key: Some(KeyObs {
                enabled: true,
                owned: true,
                ..Default::default()
            }),
            ..with_hook(URL)
        };
        let p = drift(&d, &observed);
        assert!(p.function.change.reasons.contains(&OLD_FORM.to_string()));
    }
}
