//! `elb-watch down`: remove everything of one environment — only what its tags prove is its own —
//! in dependency order; KMS keys are scheduled for deletion (7-day minimum). Idempotent.

use super::connect;
use super::up::identity;
use crate::cli::{DownArgs, GlobalOpts};
use crate::naming::Names;
use crate::progress::Progress;
use crate::report::DownReport;
use crate::teardown::{self, Teardown};
use crate::{exit, output};
use anyhow::{Context, Result, bail};
use std::io::{BufRead, IsTerminal, Write};
use std::time::Instant;

/// Why `down` will not run without `--yes` here.
pub fn refusal(env: &str) -> String {
    format!(
        "refusing to delete env {env} without confirmation: stdin is not a terminal, so pass \
         --yes to confirm (`elb-watch --env {env} down --yes`)"
    )
}

/// The confirmation prompt: what goes, what stays.
pub fn prompt(env: &str, region: &str, account: &str, plan: &Teardown) -> String {
    let mut text =
        format!("elb-watch down will delete env {env} in {region} (account {account}):\n");
    for (kind, name) in plan.items() {
        text.push_str(&format!("  - {kind} {name}\n"));
    }
    if !plan.keys.is_empty() {
        text.push_str(&format!(
            "  (KMS keys are scheduled for deletion after {} days, the minimum)\n",
            teardown::KEY_PENDING_WINDOW_DAYS
        ));
    }
    for s in &plan.skipped {
        text.push_str(&format!(
            "  left alone: {} {} ({})\n",
            s.kind, s.name, s.reason
        ));
    }
    text.push_str("Delete? [y/N] ");
    text
}

fn confirmed(text: &str) -> Result<bool> {
    let mut stderr = std::io::stderr();
    stderr.write_all(text.as_bytes())?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("reading the confirmation")?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

pub async fn run(global: &GlobalOpts, args: &DownArgs) -> Result<u8> {
    if !args.yes && !std::io::stdin().is_terminal() {
        bail!(refusal(&global.env));
    }
    let started = Instant::now();
    let clients = connect(global).await?;
    let progress = Progress::new(global.no_progress);
    let names = Names::new(&global.env);
    let identity = identity(&clients).await?;
    let found = teardown::collect::collect(&clients, &names, &identity).await?;
    let plan = teardown::plan(&names, &found);
    if let Some(why) = teardown::undelivered_refusal(&global.env, &plan, args.discard_undelivered) {
        bail!(why);
    }

    if !plan.is_empty() && !args.yes {
        let text = prompt(&global.env, &identity.region, &identity.account_id, &plan);
        if !confirmed(&text)? {
            bail!("not confirmed: nothing was deleted");
        }
    }
    let deleted = if plan.is_empty() {
        Vec::new()
    } else {
        progress.note(&format!(
            "env {}: deleting {} resource(s) in {} (account {})",
            global.env,
            plan.items().len(),
            identity.region,
            identity.account_id
        ));
        teardown::delete::execute(&clients, &plan, &progress).await?
    };
    let report = DownReport {
        env: global.env.clone(),
        region: identity.region.clone(),
        account_id: identity.account_id.clone(),
        nothing_to_do: plan.is_empty(),
        deleted,
        skipped: plan.skipped.clone(),
        key_pending_window_days: teardown::KEY_PENDING_WINDOW_DAYS,
        api_calls: clients.ledger.stats(),
        duration_ms: started.elapsed().as_millis(),
    };
    output::print(global.output, &report, output::down_table(&report))?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::teardown::Skipped;

    #[test]
    fn the_prompt_lists_what_goes_and_what_stays() {
        let plan = Teardown {
            function: Some("elb-watch-prod-notifier".into()),
            keys: vec!["k1".into()],
            skipped: vec![Skipped {
                kind: "alarm".into(),
                name: "a".into(),
                reason: "not tagged".into(),
            }],
            ..Default::default()
        };
        let p = prompt("prod", "us-east-1", "123", &plan);
        assert!(p.contains("env prod in us-east-1 (account 123)"), "{p}");
        assert!(p.contains("- lambda-function elb-watch-prod-notifier"));
        assert!(p.contains("- kms-key k1") && p.contains("after 7 days"));
        assert!(p.contains("left alone: alarm a (not tagged)"));
        assert!(p.ends_with("[y/N] "));
        assert!(refusal("prod").contains("--yes"));
    }
}
