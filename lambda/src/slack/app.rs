//! Slack app mode: one notification delivered through the Web API, one thread per incident.
//! Carries out the [`incident`] plan with [`web_api`] (Slack) and [`thread_store`] (the
//! alarm's tag); the decisions are [`incident`]'s, the messages [`render`](crate::render)'s.
//!
//! A problem with the thread is never a problem with the alert: when Slack refuses the
//! parent's update or the reply in its thread — any refusal (`message_not_found`,
//! `edit_window_closed`, `is_archived`, `msg_too_long`, `cant_update_message`, …,
//! <https://docs.slack.dev/reference/methods/chat.update#errors>) — the alert is posted on its
//! own in the env's channel ([`incident::on_refused_thread`]), with a warning saying why. A
//! problem with the tag costs the thread (a warning), never the alert. Only a refusal of the
//! alert's own post in the env's channel fails the delivery ([`DeliveryError`], with Slack's
//! error code and the operator's fix).
//!
//! The parent is updated *before* the reply is posted: Slack accepts a reply whose `thread_ts`
//! names no message and shows it nowhere (slackapi/python-slack-sdk#840), whereas `chat.update`
//! of a missing message fails (`message_not_found`). So the update proves the thread exists.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudwatch as cloudwatch;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::enrich::outage::Outage;
use crate::event::incident::{self, Plan, Stored, Thread};
use crate::event::parse::Notification;
use crate::render;
use crate::slack::http::{DeliveryError, RetryPolicy};
use crate::slack::thread_store;
use crate::slack::web_api::{self, WebApi};

/// Where the alarm's incident tag is read and written.
pub struct TagStore {
    pub client: cloudwatch::Client,
    pub alarm_arn: String,
    /// Bound of each tag call.
    pub timeout: Duration,
}

/// One notification to deliver.
pub struct Incident<'a> {
    pub notification: &'a Notification,
    /// Its rendered payload (marked late or found at set-up where it applies).
    pub rendered: &'a Value,
    /// For a recovery's parent: how long it was down, when known.
    pub outage: &'a Outage,
    /// The event's `StateChangeTime` (epoch ms), remembered with the incident's state.
    pub at_ms: Option<i64>,
}

/// What was done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// The plan that was carried out (after a refused thread, the fallback's).
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
        Plan::Late(_) => "late",
        Plan::Open => "open-thread",
        Plan::OpenMoved(_) => "open-thread-moved",
        Plan::FiredAgain(_) => "fired-again",
        Plan::Resolve(_) => "resolve-thread",
        Plan::ResolveElsewhere(_) => "resolve-moved-thread",
        Plan::Close => "standalone-close",
    }
}

/// `chat.postMessage` arguments: the rendered payload, in `channel`, in a thread when
/// `thread_ts` is given, broadcast to the channel too when `broadcast`
/// (<https://docs.slack.dev/reference/methods/chat.postMessage>, `reply_broadcast`: "Used in
/// conjunction with thread_ts and indicates whether reply should be made visible to everyone
/// in the channel or conversation").
pub fn post_args(
    payload: &Value,
    channel: &str,
    thread_ts: Option<&str>,
    broadcast: bool,
) -> Value {
    let mut args = payload.clone();
    args["channel"] = json!(channel);
    if let Some(ts) = thread_ts {
        args["thread_ts"] = json!(ts);
        if broadcast {
            args["reply_broadcast"] = json!(true);
        }
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

/// The incident state stored on the alarm; `None` (with a warning) when the tag cannot be
/// read or makes no sense.
pub async fn stored_state(store: &TagStore, name: &str) -> Option<Stored> {
    read_state(store, name).await.0
}

/// The incident state stored on the alarm (as [`stored_state`]) and every tag of the alarm,
/// from one ListTagsForResource (`None` when it failed, with a warning).
pub async fn read_state(
    store: &TagStore,
    name: &str,
) -> (Option<Stored>, Option<BTreeMap<String, String>>) {
    match thread_store::read_tags(&store.client, &store.alarm_arn, store.timeout).await {
        Ok(tags) => (
            tags.get(thread_store::TAG_KEY)
                .and_then(|value| stored_from(value, name)),
            Some(tags),
        ),
        Err(e) => {
            tracing::warn!(
                alarm = name,
                error = %e,
                "could not read the alarm's Slack thread tag; posting without a thread"
            );
            (None, None)
        }
    }
}

/// A thread tag's value as an incident state; `None` (with a warning) when it makes no sense.
pub fn stored_from(value: &str, name: &str) -> Option<Stored> {
    match thread_store::parse(value) {
        Ok(stored) => Some(stored),
        Err(why) => {
            tracing::warn!(alarm = name, problem = %why, "ignoring the alarm's thread tag");
            None
        }
    }
}

/// Carries out `plan` for one notification; new messages go to `channel` (the env's channel
/// ID).
pub async fn deliver(
    api: &WebApi,
    channel: &str,
    incident: Incident<'_>,
    mut plan: Plan,
    tags: Option<&TagStore>,
    policy: &RetryPolicy,
    deadline: Instant,
) -> Result<Delivered, DeliveryError> {
    let name = match incident.notification {
        Notification::Alarm(a) => a.name.as_str(),
        Notification::Other { .. } => "",
    };
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
            Err(Next::Refused { call, error }) => {
                let fallback = incident::on_refused_thread(&plan);
                tracing::warn!(
                    alarm = name,
                    refused = call,
                    slack_error = error.slack_error.as_deref().unwrap_or(""),
                    fallback = plan_name(&fallback),
                    "Slack refused the incident's thread (message deleted or too old to edit, \
                     channel archived or gone, message too long, not ours); posting the alert \
                     on its own in the env's channel"
                );
                attempts += error.attempts;
                plan = fallback;
            }
        }
    }
}

enum Next {
    /// Slack refused the thread (`call`: the parent's update or the reply): run the fallback.
    Refused {
        call: &'static str,
        error: DeliveryError,
    },
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

    /// Posts the rendered notification on its own in the env's channel.
    async fn post(&self, attempts: &mut u32) -> Result<Posted, Next> {
        let args = post_args(self.incident.rendered, self.channel, None, false);
        let posted = self
            .call("chat.postMessage", &args, attempts)
            .await
            .map_err(Next::Fail)?;
        Ok((posted.channel, posted.ts, None))
    }

    /// Posts the rendered notification in `thread`; a refusal is the thread's.
    async fn reply(
        &self,
        thread: &Thread,
        broadcast: bool,
        attempts: &mut u32,
    ) -> Result<Posted, Next> {
        let args = post_args(
            self.incident.rendered,
            &thread.channel,
            Some(&thread.ts),
            broadcast,
        );
        match self.call("chat.postMessage", &args, attempts).await {
            Ok(posted) => Ok((posted.channel, posted.ts, Some(thread.ts.clone()))),
            Err(error) if web_api::is_refusal(&error) => Err(Next::Refused {
                call: "reply",
                error,
            }),
            Err(e) => Err(Next::Fail(e)),
        }
    }

    /// Replaces the parent of `thread`; a refusal is the thread's.
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
            Err(error) if web_api::is_refusal(&error) => Err(Next::Refused {
                call: "update",
                error,
            }),
            Err(e) => Err(Next::Fail(e)),
        }
    }

    async fn step(&self, plan: &Plan, attempts: &mut u32) -> Result<Posted, Next> {
        let Notification::Alarm(alarm) = self.incident.notification else {
            return self.post(attempts).await;
        };
        let at_ms = self.incident.at_ms;
        match plan {
            Plan::Standalone | Plan::Late(_) => self.post(attempts).await,
            Plan::Close => {
                let posted = self.post(attempts).await?;
                self.closed().await;
                Ok(posted)
            }
            Plan::Open | Plan::OpenMoved(_) => {
                let posted = self.post(attempts).await?;
                let thread = Thread {
                    channel: posted.0.clone(),
                    ts: posted.1.clone(),
                };
                self.remember(&Stored::Open {
                    thread,
                    since_ms: at_ms,
                })
                .await;
                if let Plan::OpenMoved(old) = plan {
                    let parent = render::thread::moved(alarm, self.channel);
                    self.best_effort_update(old, &parent, attempts).await;
                }
                Ok(posted)
            }
            Plan::FiredAgain(thread) => {
                let parent = render::thread::fired_again(self.incident.rendered, alarm);
                self.update(thread, &parent, attempts).await?;
                let posted = self.reply(thread, true, attempts).await?;
                if at_ms.is_some() {
                    self.remember(&Stored::Open {
                        thread: thread.clone(),
                        since_ms: at_ms,
                    })
                    .await;
                }
                Ok(posted)
            }
            Plan::Resolve(thread) => {
                let parent = render::thread::resolved(alarm, self.incident.outage);
                self.update(thread, &parent, attempts).await?;
                let posted = self.reply(thread, false, attempts).await?;
                self.closed().await;
                Ok(posted)
            }
            Plan::ResolveElsewhere(thread) => {
                let parent = render::thread::resolved(alarm, self.incident.outage);
                self.best_effort_update(thread, &parent, attempts).await;
                let posted = self.post(attempts).await?;
                self.closed().await;
                Ok(posted)
            }
        }
    }

    /// Replaces the parent of a thread in a channel that is no longer the env's; a failure
    /// (the old channel archived or gone) is only logged.
    async fn best_effort_update(&self, thread: &Thread, payload: &Value, attempts: &mut u32) {
        if let Err(Next::Refused { error, .. } | Next::Fail(error)) =
            self.update(thread, payload, attempts).await
        {
            *attempts += error.attempts;
            tracing::warn!(
                alarm = self.name,
                slack_error = error.slack_error.as_deref().unwrap_or(""),
                error = %error.message,
                old_channel = %thread.channel,
                "could not update the incident's parent in its old channel"
            );
        }
    }

    async fn remember(&self, stored: &Stored) {
        let Some(store) = self.tags else { return };
        let value = thread_store::to_tag_value(stored);
        match thread_store::write(&store.client, &store.alarm_arn, stored, store.timeout).await {
            Ok(()) => tracing::info!(
                alarm = self.name,
                thread = %value,
                "incident state remembered on the alarm"
            ),
            Err(e) => tracing::warn!(
                alarm = self.name,
                error = %e,
                "could not tag the alarm with its Slack thread; the alert was delivered, its \
                 updates will be new messages"
            ),
        }
    }

    /// Remembers the incident closed at the event's time (without a time: forgets it).
    async fn closed(&self) {
        if let Some(at_ms) = self.incident.at_ms {
            return self.remember(&Stored::Closed { at_ms }).await;
        }
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
    use crate::event::incident::Superseded;

    fn thread() -> Thread {
        Thread {
            channel: "C0ALERTS".into(),
            ts: "1700000000.000100".into(),
        }
    }

    #[test]
    fn post_args_add_channel_thread_and_broadcast() {
        let payload = json!({"text": "t", "attachments": [{"color": "danger"}], "channel": "#old"});
        let args = post_args(&payload, "C0ALERTS", None, true);
        assert_eq!(args["channel"], "C0ALERTS");
        assert!(args.get("thread_ts").is_none());
        assert!(
            args.get("reply_broadcast").is_none(),
            "only a reply is broadcast"
        );
        let args = post_args(&payload, "C0ALERTS", Some("1700000000.000100"), false);
        assert_eq!(args["thread_ts"], "1700000000.000100");
        assert!(args.get("reply_broadcast").is_none());
        assert_eq!(args["attachments"], payload["attachments"]);
        let args = post_args(&payload, "C0ALERTS", Some("1700000000.000100"), true);
        assert_eq!(args["reply_broadcast"], true);
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
            Plan::Late(Superseded {
                alarm: true,
                at_ms: 1,
            }),
            Plan::Open,
            Plan::OpenMoved(thread()),
            Plan::FiredAgain(thread()),
            Plan::Resolve(thread()),
            Plan::ResolveElsewhere(thread()),
            Plan::Close,
        ]
        .iter()
        .map(plan_name)
        .collect();
        assert_eq!(names.len(), 8);
    }
}
