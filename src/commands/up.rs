//! `elb-watch up`: discover, read what exists, plan, apply (or print the plan with --dry-run).

use super::connect;
use crate::aws::{AwsResultExt, Clients};
use crate::bundle::{self, Bundle};
use crate::cli::{GlobalOpts, UpArgs};
use crate::naming::Names;
use crate::output;
use crate::progress::Progress;
use crate::report::UpReport;
use crate::secret::{self, Secret};
use crate::state::cost::alarm_cost;
use crate::state::desired::{Identity, Inputs, desired};
use crate::state::observed::observe;
use crate::state::plan::{Action, plan};
use crate::state::queue_plan::waive_concurrency;
use crate::state::settings;
use crate::{apply, discovery, exit};
use anyhow::{Result, bail};
use std::time::Instant;

/// The webhook URL from --slack-url-file, --slack-url or ELB_WATCH_SLACK_URL, validated.
fn webhook(args: &UpArgs) -> Result<Option<Secret>> {
    let hook = match (&args.slack_url_file, &args.slack_url) {
        (Some(path), _) => Some(secret::read_from(path)?),
        (None, Some(url)) => Some(Secret::new(url.trim())),
        (None, None) => None,
    };
    if let Some(h) = &hook {
        secret::validate_webhook(h, args.allow_any_webhook)?;
    }
    Ok(hook)
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

pub async fn run(global: &GlobalOpts, args: &UpArgs) -> Result<u8> {
    let started = Instant::now();
    validate(args)?;
    let hook = webhook(args)?;
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
    let inputs = Inputs {
        env: global.env.clone(),
        selection,
        channel: args.slack_channel.clone(),
        min_healthy: args.min_healthy,
        email: args.email.clone(),
        log_retention_days: args.log_retention_days,
        permissions_boundary: args.permissions_boundary.clone(),
        code_sha256: bundle.code_sha256(),
        arch: bundle.arch,
        prebuilt_code: bundle.source != bundle::Source::Embedded,
        notifier_concurrency: args.notifier_concurrency,
    };
    let want = desired(&inputs, &identity, &found.target_groups);
    settings::check_fits(&want.settings, names.tags().len())?;
    let have = observe(&clients, &names, &identity).await?;
    let mut plan = plan(&want, &have, hook.as_ref())?;
    let mut warnings = want.warnings.clone();
    if plan.concurrency.action != Action::Unchanged {
        let unreserved = apply::queue::unreserved_concurrency(&clients).await?;
        warnings.extend(waive_concurrency(&mut plan, &want, &have, unreserved));
    }
    // Before any code reaches Lambda (and for --dry-run, before saying it would): a bootstrap
    // Lambda cannot run would fail every invocation, losing every alert, while `up` succeeded.
    if plan.function.code {
        bundle.check()?;
    }

    // Without a URL given, a ciphertext that must be re-made only to change its form (see
    // `plan::OLD_FORM`) is re-made from the URL the function holds, decrypted in memory.
    let hook = hook.or_else(|| have.function.as_ref().and_then(|f| f.hook.clone()));
    let applying = Instant::now();
    if !args.dry_run && !plan.is_noop() {
        let more = apply::apply(
            &clients,
            &want,
            &have,
            &plan,
            hook.as_ref(),
            &bundle,
            &progress,
        )
        .await?;
        warnings.extend(more);
    }
    let apply_ms = applying.elapsed().as_millis();
    let report = UpReport {
        env: global.env.clone(),
        region: identity.region.clone(),
        account_id: identity.account_id.clone(),
        dry_run: args.dry_run,
        in_sync: plan.is_noop(),
        changes: plan.changes().into_iter().cloned().collect(),
        target_groups: found.target_groups,
        cost: alarm_cost(&plan.alarms),
        alert_times: want.alert_times.clone(),
        warnings,
        api_calls: clients.ledger.stats(),
        duration_ms: started.elapsed().as_millis(),
        apply_ms,
        steps: progress.timings(),
    };
    output::print(global.output, &report, output::up_table(&report))?;
    Ok(exit::OK)
}
