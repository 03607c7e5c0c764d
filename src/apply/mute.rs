//! Maintenance windows on AWS: CloudWatch alarm mute rules, and the EventBridge Scheduler
//! schedule (with its role and group) that invokes the notifier at each window's end.
//!
//! Why Scheduler: CloudWatch runs an alarm's actions on a change of state only, so an alarm that
//! went to ALARM while muted stays silent after the window unless something looks again at the
//! end. A one-time (or, for `--cron`, recurring) schedule at the window's end is exact to the
//! minute, costs nothing between windows, needs no polling function, and invokes the notifier
//! asynchronously (<https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html>),
//! so a failed announcement is retried by Lambda and kept on the env's undelivered queue like
//! any other alert.

use crate::aws::{AwsResultExt, Clients};
use crate::naming::{IAM_PATH, Names};
use crate::state::mute::MutePlan;
use anyhow::{Context, Result};
use aws_sdk_cloudwatch::types::{MuteTargets, Rule, Schedule, Tag};
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, ScheduleState, Target,
};

/// Name of the window-end role's inline policy.
pub const SCHEDULER_POLICY: &str = "invoke-notifier";

/// PutAlarmMuteRule for each rule of the plan (creates or updates), tagged as the env's.
pub async fn put_rules(clients: &Clients, names: &Names, plan: &MutePlan) -> Result<()> {
    let schedule = Schedule::builder()
        .expression(&plan.expression)
        .duration(&plan.duration)
        .set_timezone(plan.timezone.clone())
        .build();
    let rule = Rule::builder().schedule(schedule).build();
    let mut tags: Vec<Tag> = names
        .tags()
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    tags.push(Tag::builder().key(WINDOW_TAG).value(&plan.window).build());
    for spec in &plan.rules {
        let targets = MuteTargets::builder()
            .set_alarm_names(Some(spec.alarms.clone()))
            .build();
        clients
            .cloudwatch
            .put_alarm_mute_rule()
            .name(&spec.name)
            .description(&plan.description)
            .rule(rule.clone())
            .mute_targets(targets)
            .set_tags(Some(tags.clone()))
            .send()
            .await
            .aws("CloudWatch PutAlarmMuteRule")?;
    }
    Ok(())
}

/// Tag naming the window a mute rule belongs to.
pub const WINDOW_TAG: &str = "elb-watch:window";

/// DeleteAlarmMuteRule; a rule already gone is fine.
pub async fn delete_rule(clients: &Clients, name: &str) -> Result<()> {
    match clients
        .cloudwatch
        .delete_alarm_mute_rule()
        .alarm_mute_rule_name(name)
        .send()
        .await
    {
        Err(e)
            if crate::aws::errors::code(&e).is_some_and(|c| c.starts_with("ResourceNotFound")) =>
        {
            Ok(())
        }
        other => other.map(drop).aws("CloudWatch DeleteAlarmMuteRule"),
    }
}

/// The window-end role (trusting Scheduler, allowed to invoke the notifier only, under the
/// notifier role's permissions boundary) and the env's schedule group; both tagged. Returns the
/// role's ARN.
pub async fn ensure_scheduler(
    clients: &Clients,
    names: &Names,
    account_id: &str,
    function_arn: &str,
) -> Result<String> {
    let iam = &clients.iam;
    let role = names.scheduler_role();
    let existing = iam.get_role().role_name(&role).send().await;
    let arn = match existing {
        Ok(out) => out.role().map(|r| r.arn().to_string()).unwrap_or_default(),
        Err(e) if crate::aws::errors::code(&e) == Some("NoSuchEntity") => {
            // The operator policy lets its holder make roles only under the boundary the
            // notifier's role has: read it from there.
            let notifier = iam
                .get_role()
                .role_name(names.role())
                .send()
                .await
                .aws("IAM GetRole")
                .with_context(|| {
                    format!(
                        "env {} has no notifier role {}: run `elb-watch --env {} up` first",
                        names.env,
                        names.role(),
                        names.env
                    )
                })?;
            let boundary = notifier
                .role()
                .and_then(|r| r.permissions_boundary())
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_string);
            let tags = names
                .tags()
                .into_iter()
                .map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build())
                .collect::<Result<Vec<_>, _>>()?;
            let made = iam
                .create_role()
                .role_name(&role)
                .path(IAM_PATH)
                .assume_role_policy_document(
                    crate::policy::scheduler_trust_policy(account_id).to_string(),
                )
                .description(format!(
                    "elb-watch {}: lets EventBridge Scheduler invoke the notifier when a \
                     maintenance window ends",
                    names.env
                ))
                .set_permissions_boundary(boundary)
                .set_tags(Some(tags))
                .send()
                .await;
            match made {
                Ok(out) => out.role().map(|r| r.arn().to_string()).unwrap_or_default(),
                Err(e) if crate::aws::errors::code(&e) == Some("EntityAlreadyExists") => iam
                    .get_role()
                    .role_name(&role)
                    .send()
                    .await
                    .aws("IAM GetRole")?
                    .role()
                    .map(|r| r.arn().to_string())
                    .unwrap_or_default(),
                Err(e) => return Err(e).aws("IAM CreateRole"),
            }
        }
        Err(e) => return Err(e).aws("IAM GetRole"),
    };
    iam.put_role_policy()
        .role_name(&role)
        .policy_name(SCHEDULER_POLICY)
        .policy_document(crate::policy::scheduler_invoke_policy(function_arn).to_string())
        .send()
        .await
        .aws("IAM PutRolePolicy")?;
    ensure_group(clients, names).await?;
    Ok(arn)
}

async fn ensure_group(clients: &Clients, names: &Names) -> Result<()> {
    let group = names.schedule_group();
    match clients
        .scheduler
        .get_schedule_group()
        .name(&group)
        .send()
        .await
    {
        Ok(_) => return Ok(()),
        Err(e) if crate::aws::errors::code(&e) == Some("ResourceNotFoundException") => {}
        Err(e) => return Err(e).aws("Scheduler GetScheduleGroup"),
    }
    let tags = names
        .tags()
        .into_iter()
        .map(|(k, v)| {
            aws_sdk_scheduler::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    match clients
        .scheduler
        .create_schedule_group()
        .name(&group)
        .set_tags(Some(tags))
        .send()
        .await
    {
        Err(e) if crate::aws::errors::code(&e) == Some("ConflictException") => Ok(()),
        other => other.map(drop).aws("Scheduler CreateScheduleGroup"),
    }
}

/// The window-end schedule: created, or updated when the window already has one.
pub async fn put_end_schedule(
    clients: &Clients,
    names: &Names,
    plan: &MutePlan,
    role_arn: &str,
    function_arn: &str,
) -> Result<()> {
    let rules: Vec<String> = plan.rules.iter().map(|r| r.name.clone()).collect();
    let input = crate::state::mute::window_ended_input(
        &plan.window,
        &rules,
        &[],
        u64::from(plan.minutes) * 60,
    );
    let target = Target::builder()
        .arn(function_arn)
        .role_arn(role_arn)
        .input(input)
        .build()?;
    let window = FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()?;
    let name = names.window_end_schedule(&plan.window);
    let group = names.schedule_group();
    let end = &plan.end_schedule;
    let after = if end.one_time {
        ActionAfterCompletion::Delete
    } else {
        ActionAfterCompletion::None
    };
    let description = format!("elb-watch {}: end of window {}", names.env, plan.window);
    let created = clients
        .scheduler
        .create_schedule()
        .name(&name)
        .group_name(&group)
        .schedule_expression(&end.expression)
        .schedule_expression_timezone(&end.timezone)
        .flexible_time_window(window.clone())
        .target(target.clone())
        .action_after_completion(after.clone())
        .state(ScheduleState::Enabled)
        .description(&description)
        .send()
        .await;
    match created {
        Err(e) if crate::aws::errors::code(&e) == Some("ConflictException") => clients
            .scheduler
            .update_schedule()
            .name(&name)
            .group_name(&group)
            .schedule_expression(&end.expression)
            .schedule_expression_timezone(&end.timezone)
            .flexible_time_window(window)
            .target(target)
            .action_after_completion(after)
            .state(ScheduleState::Enabled)
            .description(description)
            .send()
            .await
            .map(drop)
            .aws("Scheduler UpdateSchedule"),
        other => other.map(drop).aws("Scheduler CreateSchedule"),
    }
}

/// Deletes a window's end schedule; one already gone (a one-time schedule deletes itself once
/// it ran) is fine.
pub async fn delete_end_schedule(clients: &Clients, names: &Names, window: &str) -> Result<()> {
    match clients
        .scheduler
        .delete_schedule()
        .name(names.window_end_schedule(window))
        .group_name(names.schedule_group())
        .send()
        .await
    {
        Err(e) if crate::aws::errors::code(&e) == Some("ResourceNotFoundException") => Ok(()),
        other => other.map(drop).aws("Scheduler DeleteSchedule"),
    }
}

/// Invokes the notifier now (asynchronously) with a window's end: `unmute` ends it early.
pub async fn announce_now(clients: &Clients, function: &str, input: String) -> Result<()> {
    clients
        .lambda
        .invoke()
        .function_name(function)
        .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
        .payload(aws_smithy_types::Blob::new(input))
        .send()
        .await
        .map(drop)
        .aws("Lambda InvokeFunction")
}
