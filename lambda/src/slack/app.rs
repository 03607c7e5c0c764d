//! Slack app mode: one notification delivered through the Web API, one thread per incident.
//! Runs the [`incident`] plan with [`webapi`] (Slack) and [`thread_store`] (the alarm's tag);
//! the decisions are [`incident`]'s, the messages [`render`](crate::render::blocks)'s and
//! [`render_thread`]'s. A problem with the tag costs the thread (logged as a warning), never
//! the alert; a Slack refusal fails the delivery ([`DeliveryError`], with Slack's error code
//! and the operator's fix).

use std::time::Duration;

use aws_sdk_cloudwatch as cloudwatch;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::enrich::outage::Outage;
use crate::event::parse::Notification;
use crate::render;
use crate::slack::incident::{self, Plan};
use crate::slack::thread_store::{self, Thread};
use crate::slack::web_api::{self, WebApi};
use crate::slack::webhook::{DeliveryError, RetryPolicy};

/// Where the alarm's thread tag is read and written.
pub struct TagStore {
    pub client: cloudwatch::Client,
    pub alarm_arn: String,
    /// Bound of each tag call.
    pub timeout: Duration,
}

/// One notification to deliver.
pub struct Incident<'a> {
    pub notification: &'a Notification,
    /// Its [`render`](crate::render::blocks::render) payload (marked late for a replay).
    pub rendered: &'a Value,
    /// For a recovery's parent: how long it was down, when known.
    pub outage: &'a Outage,
}

/// What was done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// The plan that was carried out (after a lost thread, the fallback's).
    pub plan: &'static str,
    /// HTTP attempts, all calls together.
    pub attempts: u32,
    /// The message posted: its channel and ts, and the thread it is in.
    pub channel: String,
    pub ts: String,
    pub thread_ts: Option<String>,
}

pub fn plan_name(plan: &Plan) -> &'static str {
    match plan {
        Plan::Standalone => "standalone",
        Plan::Open => "open-thread",
        Plan::FiredAgain(_) => "fired-again",
        Plan::Resolve(_) => "resolve-thread",
        Plan::StandaloneAndForget => "standalone-lost-thread",
    }
}

/// `chat.postMessage` arguments: the rendered payload, in `channel`, in a thread when
/// `thread_ts` is given (<https://docs.slack.dev/reference/methods/chat.postMessage>).
pub fn post_args(payload: &Value, channel: &str, thread_ts: Option<&str>) -> Value {
    let mut args = payload.clone();
    args["channel"] = json!(channel);
    if let Some(ts) = thread_ts {
        args["thread_ts"] = json!(ts);
    }
    args
}

/// `chat.update` arguments replacing the message `thread` with `payload`. Blocks and
/// attachments left out would be kept (<https://docs.slack.dev/reference/methods/chat.update>),
/// so a field the new payload lacks is sent empty; `parse` is set to `none`, what
/// chat.postMessage used, as chat.update would otherwise default to `client`.
pub fn update_args(payload: &Value, thread: &Thread) -> Value {
    let mut args = payload.clone();
    args["channel"] = json!(thread.channel);
    args["ts"] = json!(thread.ts);
    for field in ["blocks", "attachments"] {
        if args.get(field).is_none_or(Value::is_null) {
            args[field] = json!([]);
        }
    }
    args["parse"] = json!("none");
    args
}

/// Delivers one notification in `channel` (the configured channel ID, for new messages).
pub async fn deliver(
    api: &WebApi,
    channel: &str,
    incident: Incident<'_>,
    tags: Option<&TagStore>,
    policy: &RetryPolicy,
    deadline: Instant,
) -> Result<Delivered, DeliveryError> {
    let name = match incident.notification {
        Notification::Alarm(a) => a.name.as_str(),
        Notification::Other { .. } => "",
    };
    let tags = tags.filter(|_| incident::is_threaded(incident.notification));
    let stored = match tags {
        Some(store) => stored_thread(store, name).await,
        None => None,
    };
    let mut plan = incident::plan(incident.notification, stored);
    let mut attempts = 0;
    let run = Run {
        api,
        channel,
        incident: &incident,
        tags,
        policy,
        deadline,
        name,
    };
    loop {
        match run.step(&plan, &mut attempts).await {
            Ok((channel, ts, thread_ts)) => {
                return Ok(Delivered {
                    plan: plan_name(&plan),
                    attempts,
                    channel,
                    ts,
                    thread_ts,
                });
            }
            Err(Next::Fail(mut e)) => {
                e.attempts += attempts;
                return Err(e);
            }
            Err(Next::Lost(e)) => {
                let fallback = incident::on_lost_thread(&plan);
                tracing::warn!(
                    alarm = name,
                    slack_error = e.slack_error.as_deref().unwrap_or(""),
                    fallback = plan_name(&fallback),
                    "the incident's Slack thread is lost (message deleted, channel gone, or \
                     posted by another app); posting a new message"
                );
                attempts += e.attempts;
                plan = fallback;
            }
        }
    }
}

/// The thread stored on the alarm; `None` (with a warning) when the tag cannot be read or
/// makes no sense.
async fn stored_thread(store: &TagStore, name: &str) -> Option<Thread> {
    match thread_store::read(&store.client, &store.alarm_arn, store.timeout).await {
        Ok(None) => None,
        Ok(Some(value)) => match thread_store::parse(&value) {
            Ok(thread) => Some(thread),
            Err(why) => {
                tracing::warn!(alarm = name, problem = %why, "ignoring the alarm's thread tag");
                None
            }
        },
        Err(e) => {
            tracing::warn!(
                alarm = name,
                error = %e,
                "could not read the alarm's Slack thread tag; posting without a thread"
            );
            None
        }
    }
}

enum Next {
    /// The parent's update says the thread is gone: run the fallback plan.
    Lost(DeliveryError),
    Fail(DeliveryError),
}

struct Run<'a> {
    api: &'a WebApi,
    channel: &'a str,
    incident: &'a Incident<'a>,
    tags: Option<&'a TagStore>,
    policy: &'a RetryPolicy,
    deadline: Instant,
    name: &'a str,
}

type Posted = (String, String, Option<String>);

impl Run<'_> {
    async fn call(
        &self,
        method: &str,
        args: &Value,
        attempts: &mut u32,
    ) -> Result<web_api::Posted, DeliveryError> {
        let posted = self
            .api
            .call(method, args, self.policy, self.deadline)
            .await?;
        *attempts += posted.attempts;
        Ok(posted)
    }

    /// Posts the rendered notification, in `thread` when given.
    async fn post(&self, thread: Option<&Thread>, attempts: &mut u32) -> Result<Posted, Next> {
        let channel = thread.map_or(self.channel, |t| t.channel.as_str());
        let args = post_args(
            self.incident.rendered,
            channel,
            thread.map(|t| t.ts.as_str()),
        );
        let posted = self
            .call("chat.postMessage", &args, attempts)
            .await
            .map_err(Next::Fail)?;
        Ok((posted.channel, posted.ts, thread.map(|t| t.ts.clone())))
    }

    /// Replaces the parent of `thread`; a lost thread is [`Next::Lost`].
    async fn update(
        &self,
        thread: &Thread,
        payload: &Value,
        attempts: &mut u32,
    ) -> Result<(), Next> {
        match self
            .call("chat.update", &update_args(payload, thread), attempts)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if web_api::thread_is_lost(&e) => Err(Next::Lost(e)),
            Err(e) => Err(Next::Fail(e)),
        }
    }

    async fn step(&self, plan: &Plan, attempts: &mut u32) -> Result<Posted, Next> {
        let Notification::Alarm(alarm) = self.incident.notification else {
            return self.post(None, attempts).await;
        };
        match plan {
            Plan::Standalone => self.post(None, attempts).await,
            Plan::StandaloneAndForget => {
                let posted = self.post(None, attempts).await?;
                self.forget().await;
                Ok(posted)
            }
            Plan::Open => {
                let posted = self.post(None, attempts).await?;
                self.remember(&Thread {
                    channel: posted.0.clone(),
                    ts: posted.1.clone(),
                })
                .await;
                Ok(posted)
            }
            Plan::FiredAgain(thread) => {
                let parent = render::thread::fired_again(self.incident.rendered, alarm);
                self.update(thread, &parent, attempts).await?;
                self.post(Some(thread), attempts).await
            }
            Plan::Resolve(thread) => {
                let parent = render::thread::resolved(alarm, self.incident.outage);
                self.update(thread, &parent, attempts).await?;
                let posted = self.post(Some(thread), attempts).await?;
                self.forget().await;
                Ok(posted)
            }
        }
    }

    async fn remember(&self, thread: &Thread) {
        let Some(store) = self.tags else { return };
        match thread_store::write(&store.client, &store.alarm_arn, thread, store.timeout).await {
            Ok(()) => tracing::info!(
                alarm = self.name,
                thread = %thread.to_tag_value(),
                "incident thread remembered on the alarm"
            ),
            Err(e) => tracing::warn!(
                alarm = self.name,
                error = %e,
                "could not tag the alarm with its Slack thread; the alert was delivered, its \
                 updates will be new messages"
            ),
        }
    }

    async fn forget(&self) {
        let Some(store) = self.tags else { return };
        if let Err(e) = thread_store::clear(&store.client, &store.alarm_arn, store.timeout).await {
            tracing::warn!(
                alarm = self.name,
                error = %e,
                "could not remove the alarm's Slack thread tag; the next ALARM will try that \
                 thread first"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread() -> Thread {
        Thread {
            channel: "C0ALERTS".into(),
            ts: "1700000000.000100".into(),
        }
    }

    #[test]
    fn post_args_add_channel_and_thread() {
        let payload = json!({"text": "t", "attachments": [{"color": "danger"}], "channel": "#old"});
        let args = post_args(&payload, "C0ALERTS", None);
        assert_eq!(args["channel"], "C0ALERTS");
        assert!(args.get("thread_ts").is_none());
        let args = post_args(&payload, "C0ALERTS", Some("1700000000.000100"));
        assert_eq!(args["thread_ts"], "1700000000.000100");
        assert_eq!(args["attachments"], payload["attachments"]);
    }

    #[test]
    fn update_args_replace_every_field() {
        let payload = json!({"text": "resolved", "attachments": [{"color": "good"}]});
        let args = update_args(&payload, &thread());
        assert_eq!(args["channel"], "C0ALERTS");
        assert_eq!(args["ts"], "1700000000.000100");
        assert_eq!(args["attachments"], json!([{"color": "good"}]));
        // The old top-level blocks (if any) must not linger.
        assert_eq!(args["blocks"], json!([]));
        assert_eq!(args["parse"], "none");
        let args = update_args(&json!({"text": "x"}), &thread());
        assert_eq!(args["attachments"], json!([]));
    }

    #[test]
    fn plan_names_are_distinct() {
        let names: std::collections::HashSet<_> = [
            Plan::Standalone,
            Plan::Open,
            Plan::FiredAgain(thread()),
            Plan::Resolve(thread()),
            Plan::StandaloneAndForget,
        ]
        .iter()
        .map(plan_name)
        .collect();
        assert_eq!(names.len(), 5);
    }
}
