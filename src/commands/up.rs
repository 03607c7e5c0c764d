//! `elb-watch up`: discover, read what exists, plan, apply (or print the plan with --dry-run).

use super::connect;
use crate::aws::{AwsResultExt, Clients};
use crate::bundle::{self, Bundle};
use crate::cli::{GlobalOpts, UpArgs};
use crate::envfile::FileSlack;
use crate::naming::Names;
use crate::output;
use crate::progress::Progress;
use crate::report::UpReport;
use crate::secret::{self, Secret, SlackSecret};
use crate::state::alarm_tag_index;
use crate::state::cost::alarm_cost;
use crate::state::desired::{Identity, Inputs, desired};
use crate::state::observed::observe;
use crate::state::plan::{Action, plan};
use crate::state::queue_plan::waive_concurrency;
use crate::state::settings;
use crate::{apply, discovery, exit};
use anyhow::{Result, bail};
use std::time::Instant;

/// Where app mode's token comes from when --slack-token-file is not given.
pub const ENV_TOKEN: &str = "ELB_WATCH_SLACK_TOKEN";

/// The Slack secret given, validated: the webhook URL from --slack-url-file, --slack-url or
/// ELB_WATCH_SLACK_URL, or app mode's bot token from --slack-token-file or
/// ELB_WATCH_SLACK_TOKEN. Both kinds at once is refused: which mode is meant would be a guess.
fn slack_secret(args: &UpArgs) -> Result<Option<SlackSecret>> {
    let hook = match (&args.slack_url_file, &args.slack_url) {
        (Some(path), _) => Some(secret::read_from(path)?),
        (None, Some(url)) => Some(Secret::new(url.trim())),
        (None, None) => None,
    };
    let token = match &args.slack_token_file {
        Some(path) => Some(secret::read_token_from(path)?),
        None => std::env::var(ENV_TOKEN)
            .ok()
            .map(|t| Secret::new(t.trim()))
            .filter(|t| !t.expose().is_empty()),
    };
    // The environments file's source, when no flag or variable gave one.
    let (hook, token) = match (hook, token, &args.file_slack) {
        (None, None, Some(FileSlack::Webhook(source))) => (Some(source.read()?), None),
        (None, None, Some(FileSlack::BotToken(source))) => (None, Some(source.read()?)),
        (hook, token, _) => (hook, token),
    };
    match (hook, token) {
        (Some(_), Some(_)) => bail!(
            "both a Slack webhook URL and a Slack bot token are given: pass one (a webhook \
             posts one message per alert; the bot token, one thread per incident). Unset \
             ELB_WATCH_SLACK_URL or {ENV_TOKEN}"
        ),
        (Some(h), None) => {
            secret::validate_webhook(&h, args.allow_any_webhook)?;
            Ok(Some(SlackSecret::Webhook(h)))
        }
        (None, Some(t)) => {
            secret::validate_token(&t)?;
            Ok(Some(SlackSecret::BotToken(t)))
        }
        (None, None) => Ok(None),
    }
}

/// A Slack channel ID (`C0123ABCD`; `G…` for older private channels): what chat.update and
/// conversations.info need (<https://docs.slack.dev/reference/methods/chat.update>, `channel`:
/// "Channel containing the message to be updated. For direct messages, ensure that this value is
/// a DM ID"), and unlike a name it survives a rename. Slack documents no length, so none is
/// assumed beyond "a letter and more".
pub fn is_channel_id(s: &str) -> bool {
    (2..=32).contains(&s.len())
        && (s.starts_with('C') || s.starts_with('G'))
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// App mode's channel and API root, checked.
fn validate_app(args: &UpArgs) -> Result<()> {
    match args.slack_channel.as_deref() {
        None => bail!(
            "Slack app mode needs --slack-channel: the ID of the channel to post to (C0123ABCD; \
             in Slack, open the channel's details, it is at the bottom of About), and the app \
             invited to it (/invite @your-app)"
        ),
        Some(c) if !is_channel_id(c) => bail!(
            "--slack-channel '{c}' is not a channel ID: in app mode give the ID (C0123ABCD; in \
             Slack, open the channel's details, it is at the bottom of About). Names change, \
             IDs do not, and chat.update needs the ID"
        ),
        Some(_) => {}
    }
    let api = url::Url::parse(&args.slack_api_url)
        .map_err(|_| anyhow::anyhow!("--slack-api-url is not a URL"))?;
    let local = args.allow_any_webhook && api.scheme() == "http";
    if (api.scheme() != "https" && !local) || api.host_str().is_none() {
        bail!("--slack-api-url must be an https URL (https://slack.com/api/)");
    }
    Ok(())
}

fn validate(args: &UpArgs) -> Result<()> {
    if let Some(email) = &args.email
        && !(email.contains('@') && !email.starts_with('@') && !email.ends_with('@'))
    {
        bail!("--email '{email}' is not an e-mail address");
    }
    const RETENTION: [i32; 22] = [
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
        2922, 3288, 3653,
    ];
    if !RETENTION.contains(&args.log_retention_days) {
        bail!(
            "--log-retention-days {} is not one CloudWatch Logs accepts: use one of {:?}",
            args.log_retention_days,
            RETENTION
        );
    }
    Ok(())
}

pub async fn identity(clients: &Clients) -> Result<Identity> {
    let me = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .aws("STS GetCallerIdentity")?;
    Ok(Identity::from_caller(
        me.account().unwrap_or_default(),
        me.arn().unwrap_or_default(),
        &clients.region,
    ))
}

/// Plans the env and, unless `--dry-run`, applies the plan; what it found and did.
pub async fn report(global: &GlobalOpts, args: &UpArgs) -> Result<UpReport> {
    let started = Instant::now();
    validate(args)?;
    let given = slack_secret(args)?;
    if given.as_ref().is_some_and(SlackSecret::is_app) {
        validate_app(args)?;
    }
    let bundle = Bundle::select(args.arch, args.notifier_bootstrap.as_deref())?;
    let clients = connect(global).await?;
    let progress = Progress::new(global.no_progress);
    let names = Names::new(&global.env);

    let selection = args.selection();
    let (identity, found) = tokio::try_join!(
        identity(&clients),
        discovery::discover(&clients, &selection)
    )?;
    progress.note(&format!(
        "env {}: {} load balancer(s), {} target group(s) ({}) in {} (account {})",
        global.env,
        found.load_balancers.len(),
        found.target_groups.len(),
        selection.describe(),
        identity.region,
        identity.account_id
    ));
    let mut have = observe(&clients, &names, &identity).await?;
    // The mode is the secret's given, else the one the notifier already has.
    let held = have.function.as_ref().and_then(|f| f.secret.as_ref());
    let app = given.as_ref().or(held).is_some_and(SlackSecret::is_app);
    if app && given.is_none() {
        validate_app(args)?;
    }
    let inputs = Inputs {
        env: global.env.clone(),
        selection,
        channel: args.slack_channel.clone(),
        min_healthy: args.min_healthy,
        zone_rule: if args.per_zone {
            crate::state::zones::ZoneRule::PerZone
        } else {
            crate::state::zones::ZoneRule::Whole
        },
        email: args.email.clone(),
        log_retention_days: args.log_retention_days,
        permissions_boundary: args.permissions_boundary.clone(),
        code_sha256: bundle.code_sha256(),
        arch: bundle.arch,
        prebuilt_code: bundle.source != bundle::Source::Embedded,
        notifier_concurrency: args.notifier_concurrency,
        slack_app: app.then(|| args.slack_api_url.clone()),
        mentions: args.mentions.clone(),
        runbook: args.runbook.clone(),
        min_healthy_percent: args.min_healthy_percent,
        overrides: args.overrides.clone(),
    };
    let want = desired(&inputs, &identity, &found.target_groups);
    settings::check_fits(&want.settings, names.tags().len())?;
    alarm_tag_index::read_runbooks(&clients, &names, &mut have.alarms, &want.alarms).await?;
    let mut plan = plan(&want, &have, given.as_ref())?;
    let mut warnings = want.warnings.clone();
    if plan.concurrency.action != Action::Unchanged {
        let unreserved = apply::queue::unreserved_concurrency(&clients).await?;
        warnings.extend(waive_concurrency(
            &mut plan.concurrency,
            &want,
            &have,
            unreserved,
        ));
    }
    // Before any code reaches Lambda (and for --dry-run, before saying it would): a bootstrap
    // Lambda cannot run would fail every invocation, losing every alert, while `up` succeeded.
    if plan.function.code {
        bundle.check()?;
    }

    // Without a secret given, a ciphertext that must be re-made only to change its form (see
    // `plan::OLD_FORM`) is re-made from the secret the function holds, decrypted in memory.
    let secret = given.or_else(|| held.cloned());
    let applying = Instant::now();
    let mut announced = Vec::new();
    if !args.dry_run && !plan.is_noop() {
        let applied = apply::apply(
            &clients,
            &want,
            &have,
            &plan,
            secret.as_ref(),
            &bundle,
            &progress,
        )
        .await?;
        warnings.extend(applied.warnings);
        announced = applied.announced;
    }
    let apply_ms = applying.elapsed().as_millis();
    // Metrics per alarm name, looked up once per planned alarm (1,000s with `--all`).
    let wanted_metrics: std::collections::HashMap<&str, usize> = want
        .alarms
        .iter()
        .map(|a| (a.name.as_str(), a.metric.metric_count()))
        .collect();
    let existing_metrics: std::collections::HashMap<&str, usize> = have
        .alarms
        .iter()
        .map(|a| (a.name.as_str(), a.metric_count()))
        .collect();
    let report = UpReport {
        env: global.env.clone(),
        region: identity.region.clone(),
        account_id: identity.account_id.clone(),
        dry_run: args.dry_run,
        in_sync: plan.is_noop(),
        changes: plan.changes().into_iter().cloned().collect(),
        target_groups: found.target_groups,
        cost: alarm_cost(
            &plan.alarms,
            |name| wanted_metrics.get(name).copied().unwrap_or(1),
            |name| existing_metrics.get(name).copied().unwrap_or(1),
        ),
        alert_times: want.alert_times.clone(),
        alarm_lines: crate::report::up::alarm_lines(&want.alarms, &want.alert_times),
        warnings,
        announced,
        api_calls: clients.ledger.stats(),
        duration_ms: started.elapsed().as_millis(),
        apply_ms,
        steps: progress.timings(),
    };
    Ok(report)
}

pub async fn run(global: &GlobalOpts, args: &UpArgs) -> Result<u8> {
    let report = report(global, args).await?;
    output::print_up(global.output, &report)?;
    Ok(exit::OK)
}
