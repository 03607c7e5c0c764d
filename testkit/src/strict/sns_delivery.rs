//! Rule 15 — SNS delivers a topic's messages to its Lambda subscribers, as AWS does and moto
//! (server mode, no Docker) cannot: moto accepts `Publish`, logs "error running docker" and
//! runs nothing.
//!
//! - What reaches a function: <https://docs.aws.amazon.com/sns/latest/dg/sns-lambda-as-subscriber.html>
//!   — SNS invokes the subscribed function **asynchronously** with an event of one record
//!   (`EventSource: aws:sns`, `EventSubscriptionArn`, `Sns: {Type: Notification, MessageId,
//!   TopicArn, Subject, Message, Timestamp, …}`; the shape of `../shared/fixtures/`).
//! - Only if the function's resource-based policy lets `sns.amazonaws.com` invoke it from that
//!   topic (<https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html>: "add permissions to
//!   your function's resource-based policy … SourceArn"); without it Lambda refuses SNS, which
//!   retries and then drops the message. A topic with no Lambda subscription delivers nothing
//!   to Lambda: the message is gone (SNS does not keep messages,
//!   <https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html>).
//!
//! Applies to `Publish` through the layer (forwarded to moto first, for its MessageId and its
//! other subscribers) and to alarm actions (rule 14, `evaluation.rs`). The function runs under
//! rule 9's runner (`lambda_async.rs`); with no runner registered, nothing runs and the layer
//! counts `sns-delivery:no-runner`. Subscription filter policies are not evaluated for Lambda
//! subscribers (elb-watch sets none on its function's subscription).

use super::Shared;
use super::lambda_async::{self, chrono_like, headers_for};
use super::protocol::{self, Call};
use axum::http::HeaderMap;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// What one delivery did (also counted in the layer's stats under `sns-delivery:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// A subscribed function was invoked (asynchronously).
    Invoked,
    /// The topic has no Lambda subscriber.
    NoSubscriber,
    /// A subscriber's resource policy does not let SNS invoke it from this topic.
    NotPermitted,
    /// No runner registered (or the function is gone): nothing ran.
    NotRun,
}

impl Delivery {
    fn stat(self) -> &'static str {
        match self {
            Delivery::Invoked => "invoked",
            Delivery::NoSubscriber => "no-subscriber",
            Delivery::NotPermitted => "not-permitted",
            Delivery::NotRun => "no-runner",
        }
    }
}

/// A query call to moto with `form`, signed with `headers`' credential scope for `service`.
async fn moto_query(
    shared: &Shared,
    headers: &HeaderMap,
    service: &str,
    form: &[(&str, &str)],
) -> Option<String> {
    let headers = headers_for(headers, service);
    super::alarms::moto_query(shared, &headers, form).await
}

/// The `<member>…</member>` blocks of an XML list (flat: members hold no members).
pub(crate) fn xml_members(doc: &str) -> Vec<&str> {
    doc.split("<member>")
        .skip(1)
        .filter_map(|m| m.split("</member>").next())
        .collect()
}

/// (subscription ARN, function name) of the topic's Lambda subscribers, every page.
async fn lambda_subscribers(
    shared: &Shared,
    headers: &HeaderMap,
    topic: &str,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut form = vec![
            ("Action", "ListSubscriptionsByTopic"),
            ("Version", "2010-03-31"),
            ("TopicArn", topic),
        ];
        if let Some(t) = &token {
            form.push(("NextToken", t));
        }
        let Some(doc) = moto_query(shared, headers, "sns", &form).await else {
            return out;
        };
        for m in xml_members(&doc) {
            if protocol::xml_text(m, "Protocol").as_deref() == Some("lambda")
                && let (Some(arn), Some(endpoint)) = (
                    protocol::xml_text(m, "SubscriptionArn"),
                    protocol::xml_text(m, "Endpoint"),
                )
            {
                out.push((arn, protocol::function_name(&endpoint)));
            }
        }
        token = protocol::xml_text(&doc, "NextToken").filter(|t| !t.is_empty());
        if token.is_none() {
            return out;
        }
    }
}

/// Whether the function's resource policy lets SNS invoke it from `topic`.
async fn sns_may_invoke(shared: &Shared, headers: &HeaderMap, function: &str, topic: &str) -> bool {
    let headers = headers_for(headers, "lambda");
    let mut req = shared.client.get(format!(
        "{}/2015-03-31/functions/{function}/policy",
        shared.upstream
    ));
    if let Some(auth) = headers.get("authorization") {
        req = req.header("authorization", auth);
    }
    let Ok(resp) = req.send().await else {
        return false;
    };
    if !resp.status().is_success() {
        return false;
    }
    let body: Value =
        serde_json::from_slice(&resp.bytes().await.unwrap_or_default()).unwrap_or(Value::Null);
    let policy: Value = body["Policy"]
        .as_str()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or(Value::Null);
    permits_sns(&policy, topic)
}

/// A statement allowing `lambda:InvokeFunction` to `sns.amazonaws.com`, with no source
/// condition or one naming `topic`.
pub(crate) fn permits_sns(policy: &Value, topic: &str) -> bool {
    let statements = match &policy["Statement"] {
        Value::Array(a) => a.clone(),
        s @ Value::Object(_) => vec![s.clone()],
        _ => Vec::new(),
    };
    statements.iter().any(|s| {
        let principal = &s["Principal"];
        let to_sns = principal["Service"] == "sns.amazonaws.com"
            || principal["Service"]
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v == "sns.amazonaws.com"));
        let action = s["Action"] == "lambda:InvokeFunction" || s["Action"] == "lambda:*";
        let source = s["Condition"]
            .as_object()
            .into_iter()
            .flat_map(|c| c.values())
            .filter_map(|c| c.get("AWS:SourceArn").or_else(|| c.get("aws:SourceArn")))
            .collect::<Vec<_>>();
        s["Effect"] == "Allow" && to_sns && action && source.iter().all(|v| *v == topic)
    })
}

/// The Lambda event SNS sends for one message.
pub fn lambda_event(topic: &str, subscription: &str, subject: &str, message: &str) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let id = format!("{:032x}", now.as_nanos());
    let message_id = format!(
        "{}-{}-{}-{}-{}",
        &id[0..8],
        &id[8..12],
        &id[12..16],
        &id[16..20],
        &id[20..32]
    );
    let region = topic.split(':').nth(3).unwrap_or("us-east-1");
    json!({"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription,
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic,
            "Subject": subject,
            "Message": message,
            "Timestamp": chrono_like(now.as_millis() as i64),
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertUrl": format!("https://sns.{region}.amazonaws.com/SimpleNotificationService-strict.pem"),
            "UnsubscribeUrl": format!("https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription}"),
            "MessageAttributes": {},
        }
    }]})
}

/// Deliver one message of `topic` to each of its Lambda subscribers that SNS may invoke.
pub(crate) async fn deliver(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    topic: &str,
    subject: &str,
    message: &str,
) -> Vec<Delivery> {
    let subscribers = lambda_subscribers(shared, headers, topic).await;
    let mut outcomes = Vec::new();
    if subscribers.is_empty() {
        outcomes.push(Delivery::NoSubscriber);
    }
    for (subscription, function) in subscribers {
        let outcome = if !sns_may_invoke(shared, headers, &function, topic).await {
            Delivery::NotPermitted
        } else if lambda_async::invoke_event(
            shared,
            headers,
            &function,
            lambda_event(topic, &subscription, subject, message),
        )
        .await
        {
            Delivery::Invoked
        } else {
            Delivery::NotRun
        };
        outcomes.push(outcome);
    }
    let mut inner = shared.lock();
    for o in &outcomes {
        inner.count("sns-delivery", o.stat());
    }
    outcomes
}

/// After moto accepted a `Publish`: deliver it to the topic's Lambda subscribers.
pub(crate) async fn after_publish(
    shared: &Arc<Shared>,
    call: &Call,
    headers: &HeaderMap,
    ok: bool,
) {
    if !ok || !shared.config.sns_delivery || !call.is("sns", "Publish") {
        return;
    }
    let (Some(topic), Some(message)) = (call.value("TopicArn"), call.value("Message")) else {
        return;
    };
    let subject = call.value("Subject").unwrap_or_default();
    deliver(shared, headers, &topic, &subject, &message).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:elb-watch-t-alarms";

    #[test]
    fn only_a_statement_for_sns_from_this_topic_permits() {
        let from = |topic: &str| {
            json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:…:function:f",
                "Condition": {"ArnLike": {"AWS:SourceArn": topic}}}]})
        };
        assert!(permits_sns(&from(TOPIC), TOPIC));
        assert!(!permits_sns(
            &from("arn:aws:sns:us-east-1:123456789012:other"),
            TOPIC
        ));
        assert!(!permits_sns(&Value::Null, TOPIC));
        let other_principal = json!({"Statement": {"Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"}, "Action": "lambda:InvokeFunction"}});
        assert!(!permits_sns(&other_principal, TOPIC));
    }

    #[test]
    fn the_event_has_the_shape_sns_sends() {
        let e = lambda_event(TOPIC, &format!("{TOPIC}:sub"), "ALARM: x", "{\"a\":1}");
        let r = &e["Records"][0];
        assert_eq!(r["EventSource"], "aws:sns");
        assert_eq!(r["Sns"]["Type"], "Notification");
        assert_eq!(r["Sns"]["Message"], "{\"a\":1}");
        assert_eq!(r["Sns"]["TopicArn"], TOPIC);
        assert_eq!(r["Sns"]["MessageId"].as_str().unwrap().len(), 36);
    }

    #[test]
    fn members_are_split() {
        let doc = "<Subscriptions><member><Protocol>lambda</Protocol></member>\
                   <member><Protocol>email</Protocol></member></Subscriptions>";
        let m = xml_members(doc);
        assert_eq!(m.len(), 2);
        assert_eq!(
            protocol::xml_text(m[1], "Protocol").as_deref(),
            Some("email")
        );
    }
}
