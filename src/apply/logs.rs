//! The notifier's log group, made ahead of the function so it has a retention period.

use crate::aws::errors::already_exists;
use crate::aws::{AwsResultExt, Clients};
use crate::naming::Names;
use crate::state::desired::Desired;
use crate::state::plan::{Action, Plan};
use anyhow::Result;

pub async fn ensure_log_group(clients: &Clients, desired: &Desired, plan: &Plan) -> Result<()> {
    let logs = &clients.logs;
    if plan.log_group.action == Action::Create {
        let made = logs
            .create_log_group()
            .log_group_name(&desired.log_group)
            .set_tags(Some(Names::new(&desired.env).tags().into_iter().collect()))
            .send()
            .await
            .aws("Logs CreateLogGroup");
        match made {
            Err(e) if already_exists(&e, &["ResourceAlreadyExistsException"]) => {}
            other => other.map(drop)?,
        }
    }
    if plan.log_group.action != Action::Unchanged {
        logs.put_retention_policy()
            .log_group_name(&desired.log_group)
            .retention_in_days(desired.log_retention_days)
            .send()
            .await
            .aws("Logs PutRetentionPolicy")?;
    }
    Ok(())
}
