//! The alarm topic (with the inputs recorded in its tags), the optional e-mail subscription and
//! the topic → function subscription.

use crate::aws::retry;
use crate::aws::{AwsResultExt, Clients};
use crate::naming::Names;
use crate::state::desired::{Desired, is_setting_key};
use crate::state::email_filter;
use crate::state::observed::Observed;
use crate::state::plan::{Action, Plan};
use anyhow::{Context, Result};
use aws_sdk_sns::types::Tag;

fn tags(desired: &Desired) -> Vec<Tag> {
    Names::new(&desired.env)
        .tags()
        .into_iter()
        .chain(desired.settings.clone())
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .expect("key and value set")
        })
        .collect()
}

pub async fn ensure_topic(
    clients: &Clients,
    desired: &Desired,
    observed: &Observed,
    plan: &Plan,
) -> Result<String> {
    let sns = &clients.sns;
    let arn = match plan.topic.action {
        // Right after `down` deleted the topic, SNS may refuse its tags as stale for a while.
        Action::Create => retry::through_stale_tags(retry::stale_tag_budget(), || async {
            sns.create_topic()
                .name(&desired.topic_name)
                .set_tags(Some(tags(desired)))
                .send()
                .await
                .aws("SNS CreateTopic")
        })
        .await?
        .topic_arn
        .context("CreateTopic returned no ARN")?,
        Action::Update => {
            let stale: Vec<String> = observed
                .topic
                .iter()
                .flat_map(|t| t.tags.keys())
                .filter(|k| is_setting_key(k) && !desired.settings.contains_key(*k))
                .cloned()
                .collect();
            if !stale.is_empty() {
                retry::through_stale_tags(retry::stale_tag_budget(), || async {
                    sns.untag_resource()
                        .resource_arn(&desired.topic_arn)
                        .set_tag_keys(Some(stale.clone()))
                        .send()
                        .await
                        .aws("SNS UntagResource")
                })
                .await?;
            }
            retry::through_stale_tags(retry::stale_tag_budget(), || async {
                sns.tag_resource()
                    .resource_arn(&desired.topic_arn)
                    .set_tags(Some(tags(desired)))
                    .send()
                    .await
                    .aws("SNS TagResource")
            })
            .await?;
            desired.topic_arn.clone()
        }
        _ => desired.topic_arn.clone(),
    };
    match (plan.email.action, &desired.email) {
        (Action::Create, Some(addr)) => {
            sns.subscribe()
                .topic_arn(&arn)
                .protocol("email")
                .endpoint(addr)
                .attributes(email_filter::SCOPE_ATTRIBUTE, email_filter::SCOPE)
                .attributes(
                    email_filter::POLICY_ATTRIBUTE,
                    email_filter::policy(&crate::naming::Names::new(&desired.env).test_alarm())
                        .to_string(),
                )
                .send()
                .await
                .aws("SNS Subscribe (email)")?;
        }
        (Action::Update, Some(addr)) => {
            let subscription = observed
                .topic
                .iter()
                .flat_map(|t| &t.subscriptions)
                .find(|s| s.protocol == "email" && s.endpoint == *addr)
                .map(|s| s.arn.clone())
                .context("the e-mail subscription to update is gone")?;
            // Scope first: the policy is then judged against the message body.
            for (name, value) in [
                (
                    email_filter::SCOPE_ATTRIBUTE,
                    email_filter::SCOPE.to_string(),
                ),
                (
                    email_filter::POLICY_ATTRIBUTE,
                    email_filter::policy(&crate::naming::Names::new(&desired.env).test_alarm())
                        .to_string(),
                ),
            ] {
                sns.set_subscription_attributes()
                    .subscription_arn(&subscription)
                    .attribute_name(name)
                    .attribute_value(value)
                    .send()
                    .await
                    .aws("SNS SetSubscriptionAttributes (email filter)")?;
            }
        }
        _ => {}
    }
    for sub in &plan.unsubscribe {
        sns.unsubscribe()
            .subscription_arn(sub)
            .send()
            .await
            .aws("SNS Unsubscribe")?;
    }
    Ok(arn)
}

pub async fn ensure_subscription(
    clients: &Clients,
    plan: &Plan,
    topic_arn: &str,
    function_arn: &str,
) -> Result<()> {
    if plan.subscription.action == Action::Create {
        clients
            .sns
            .subscribe()
            .topic_arn(topic_arn)
            .protocol("lambda")
            .endpoint(function_arn)
            .send()
            .await
            .aws("SNS Subscribe (lambda)")?;
    }
    Ok(())
}
