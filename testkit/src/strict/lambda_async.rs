//! Rule 9 — Lambda's invocation settings and invocations, which moto (5.2.x, server mode) does
//! not model (issue 13):
//!
//! - `GetAccountSettings` (moto has no route for it): answered here from the account's
//!   concurrency limit (1000 by default, [`StrictProxy::set_account_concurrency`] for a new
//!   account's 10) minus the reservations made through the layer
//!   (<https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html>).
//! - `PutFunctionConcurrency`: refused with `InvalidParameterValueException` when it would leave
//!   fewer than 100 unreserved executions, as AWS does ("Specified ReservedConcurrentExecutions
//!   for function decreases account's UnreservedConcurrentExecution below its minimum value of
//!   [100]."; <https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html>).
//!   moto checks this only under `MOTO_LAMBDA_CONCURRENCY_QUOTA`.
//! - `PutFunctionEventInvokeConfig` "overwrites" an existing config
//!   (<https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html>);
//!   moto appends it and keeps answering with the first. The layer deletes moto's config
//!   before forwarding the put.
//! - `Invoke`: moto cannot run Lambda code. With a [`FunctionRunner`] registered, the layer
//!   runs the function's real `bootstrap` under the local Runtime API ([`crate::runtime_api`]),
//!   with the function's environment as moto holds it:
//!   - `RequestResponse`: 200 with the function's response, or 200 with
//!     `X-Amz-Function-Error: Unhandled` and the error document
//!     (<https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html>);
//!   - `Event` (how SNS invokes): 202 at once, then Lambda's asynchronous handling
//!     (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html>):
//!     1 + `MaximumRetryAttempts` (default 2) attempts, the waits between them scaled down
//!     from AWS's 1 and 2 minutes to [`FunctionRunner::retry_wait`], and when every attempt
//!     failed, the invocation record sent to an SQS on-failure destination in moto, in the
//!     documented shape (`version`, `timestamp`, `requestContext` with `condition:
//!     RetriesExhausted` and `approximateInvokeCount`, `requestPayload`, `responseContext`,
//!     `responsePayload`; <https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html>).
//!   - what the function writes goes to its log group, as Lambda sends it (`ship_logs`).

use super::protocol::{self, Call};
use super::{Shared, StrictProxy, forward};
use crate::runtime_api::{FunctionProcess, Outcome, RuntimeApi};
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// AWS's default concurrency limit per account and region.
pub const DEFAULT_ACCOUNT_CONCURRENCY: i32 = 1000;
/// What Lambda keeps unreserved.
pub const MIN_UNRESERVED: i32 = 100;

/// How the layer runs functions for `Invoke`.
#[derive(Debug, Clone)]
pub struct FunctionRunner {
    /// The notifier binary (the debug `bootstrap` of the workspace).
    pub bootstrap: PathBuf,
    /// `AWS_ENDPOINT_URL` of the function (the emulator, for its KMS and ELB calls).
    pub endpoint: String,
    /// Extra environment over the function's own (e.g. shorter HTTP retries).
    pub extra_env: Vec<(String, String)>,
    /// Wait between asynchronous attempts (AWS: 1 then 2 minutes).
    pub retry_wait: Duration,
    /// Invocation timeout (AWS: the function's `Timeout`).
    pub timeout: Duration,
}

#[derive(Default)]
struct Account {
    limit: Option<i32>,
    reserved: BTreeMap<String, i32>,
    runner: Option<FunctionRunner>,
    warm: HashMap<String, Arc<Warm>>,
}

struct Warm {
    api: RuntimeApi,
    process: Mutex<FunctionProcess>,
    /// This environment's log stream (`YYYY/MM/DD/[$LATEST]<id>`) and how many bytes of the
    /// process's output were already sent to it.
    stream: String,
    shipped: tokio::sync::Mutex<usize>,
}

/// Per proxy (keyed by its upstream, one moto each).
static ACCOUNTS: LazyLock<Mutex<HashMap<String, Account>>> = LazyLock::new(Default::default);
/// Asynchronous invocations not yet finished, per proxy.
static IN_FLIGHT: LazyLock<Mutex<HashMap<String, Arc<AtomicUsize>>>> =
    LazyLock::new(Default::default);

fn with_account<T>(shared: &Shared, f: impl FnOnce(&mut Account) -> T) -> T {
    let mut all = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
    f(all.entry(shared.upstream.clone()).or_default())
}

fn in_flight(shared: &Shared) -> Arc<AtomicUsize> {
    let mut all = IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner());
    Arc::clone(all.entry(shared.upstream.clone()).or_default())
}

impl StrictProxy {
    /// The account's concurrency limit (AWS default 1000; new accounts 10).
    pub fn set_account_concurrency(&self, limit: i32) {
        with_account(&self.shared, |a| a.limit = Some(limit));
    }

    /// Run functions for `Invoke` with `runner` (without one, Invoke goes to moto).
    pub fn run_functions_with(&self, runner: FunctionRunner) {
        with_account(&self.shared, |a| {
            a.runner = Some(runner);
            a.warm.clear();
        });
    }

    /// Asynchronous invocations still being attempted.
    pub fn async_invocations_in_flight(&self) -> usize {
        in_flight(&self.shared).load(Ordering::SeqCst)
    }

    /// Wait until no asynchronous invocation is in flight (false on timeout).
    pub async fn wait_for_async_invocations(&self, timeout: Duration) -> bool {
        let until = std::time::Instant::now() + timeout;
        while self.async_invocations_in_flight() > 0 {
            if std::time::Instant::now() > until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        true
    }
}

/// The call's REST path segments after the API version (`["functions", name, sub…]`).
fn segments(uri: &Uri) -> Vec<String> {
    uri.path()
        .trim_start_matches('/')
        .split('/')
        .skip(1)
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// Answers or pre-processes the Lambda calls this rule models; `None` lets the request go on.
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    call: &Call,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<Response> {
    if call.service != "lambda" {
        return None;
    }
    let segs = segments(uri);
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["account-settings"]) => Some(account_settings(shared)),
        ("PUT", ["functions", name, "concurrency"]) => {
            let name = protocol::function_name(name);
            let wanted = call.json["ReservedConcurrentExecutions"].as_i64()? as i32;
            let (limit, others) = with_account(shared, |a| {
                let others: i32 = a
                    .reserved
                    .iter()
                    .filter(|(f, _)| **f != name)
                    .map(|(_, n)| n)
                    .sum();
                (a.limit.unwrap_or(DEFAULT_ACCOUNT_CONCURRENCY), others)
            });
            if limit - others - wanted < MIN_UNRESERVED {
                shared.lock().count("concurrency-minimum", &call.operation);
                return Some(protocol::error(
                    call,
                    StatusCode::BAD_REQUEST,
                    "InvalidParameterValueException",
                    "Specified ReservedConcurrentExecutions for function decreases account's \
                     UnreservedConcurrentExecution below its minimum value of [100].",
                ));
            }
            let up = forward(shared, method, uri, headers, body.clone())
                .await
                .ok()?;
            if up.ok() {
                with_account(shared, |a| a.reserved.insert(name, wanted));
            }
            Some(up.into_response())
        }
        ("DELETE", ["functions", name, "concurrency"]) | ("DELETE", ["functions", name]) => {
            let name = protocol::function_name(name);
            with_account(shared, |a| {
                a.reserved.remove(&name);
                a.warm.remove(&name);
            });
            None
        }
        ("PUT", ["functions", _, "event-invoke-config"]) => {
            // Overwrite, as AWS does: drop moto's config first (it would keep the first one).
            let mut del = shared
                .client
                .delete(format!("{}{}", shared.upstream, uri.path()));
            if let Some(auth) = headers.get("authorization") {
                del = del.header("authorization", auth);
            }
            let _ = del.send().await;
            shared
                .lock()
                .count("overwrite", "PutFunctionEventInvokeConfig");
            None
        }
        ("POST", ["functions", name, "invocations"]) => {
            let runner = with_account(shared, |a| a.runner.clone())?;
            let name = protocol::function_name(name);
            let kind = headers
                .get("x-amz-invocation-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("RequestResponse")
                .to_string();
            let payload: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let function = match function_config(shared, headers, &name).await {
                Ok(f) => f,
                Err(resp) => return Some(resp),
            };
            if kind == "Event" {
                shared.lock().count("async-invoke", "Invoke");
                spawn_async(shared, headers, runner, name, function, payload);
                return Some(
                    (
                        StatusCode::ACCEPTED,
                        [("x-amzn-requestid", "strict-async")],
                        "",
                    )
                        .into_response(),
                );
            }
            shared.lock().count("run-function", "Invoke");
            let outcome = run_once(shared, headers, &runner, &name, &function, payload).await;
            Some(sync_answer(outcome))
        }
        _ => None,
    }
}

/// Lambda's asynchronous handling of one event, in the background (counted in flight).
fn spawn_async(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    runner: FunctionRunner,
    name: String,
    function: FunctionInfo,
    payload: Value,
) {
    let counter = in_flight(shared);
    counter.fetch_add(1, Ordering::SeqCst);
    let shared = Arc::clone(shared);
    let headers = headers.clone();
    tokio::spawn(async move {
        run_async(&shared, &headers, &runner, &name, &function, payload).await;
        counter.fetch_sub(1, Ordering::SeqCst);
    });
}

/// Invoke `name` asynchronously (`InvocationType: Event`) as an AWS service does on the
/// caller's behalf (SNS for its Lambda subscribers): false when no runner is registered or the
/// function does not exist. `headers` carry the credential scope of the call behind it.
pub(crate) async fn invoke_event(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    name: &str,
    payload: Value,
) -> bool {
    let Some(runner) = with_account(shared, |a| a.runner.clone()) else {
        return false;
    };
    let headers = headers_for(headers, "lambda");
    let Ok(function) = function_config(shared, &headers, name).await else {
        return false;
    };
    spawn_async(
        shared,
        &headers,
        runner,
        name.to_string(),
        function,
        payload,
    );
    true
}

/// `headers`' Authorization with the credential scope's service replaced by `service` (moto
/// takes region and account from the scope; it does not check the signature here).
pub(crate) fn headers_for(headers: &HeaderMap, service: &str) -> HeaderMap {
    let mut out = HeaderMap::new();
    if let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let scope_service = auth
            .split("Credential=")
            .nth(1)
            .and_then(|c| c.split(',').next())
            .and_then(|c| c.split('/').nth(3))
            .unwrap_or("");
        let auth = if scope_service.is_empty() {
            auth.to_string()
        } else {
            auth.replace(&format!("/{scope_service}/"), &format!("/{service}/"))
        };
        if let Ok(v) = HeaderValue::from_str(&auth) {
            out.insert("authorization", v);
        }
    }
    out
}

fn account_settings(shared: &Shared) -> Response {
    let (limit, reserved) = with_account(shared, |a| {
        (
            a.limit.unwrap_or(DEFAULT_ACCOUNT_CONCURRENCY),
            a.reserved.values().sum::<i32>(),
        )
    });
    let body = json!({
        "AccountLimit": {
            "TotalCodeSize": 80_530_636_800_i64,
            "CodeSizeUnzipped": 262_144_000,
            "CodeSizeZipped": 52_428_800,
            "ConcurrentExecutions": limit,
            "UnreservedConcurrentExecutions": limit - reserved,
        },
        "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0},
    });
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// What the layer needs of a function: ARN, environment, async config.
#[derive(Clone)]
struct FunctionInfo {
    arn: String,
    env: Vec<(String, String)>,
    max_retries: i64,
    on_failure: Option<String>,
}

async fn moto_get(shared: &Shared, headers: &HeaderMap, path: &str) -> Option<(bool, Value)> {
    let mut req = shared.client.get(format!("{}{path}", shared.upstream));
    if let Some(auth) = headers.get("authorization") {
        req = req.header("authorization", auth);
    }
    let resp = req.send().await.ok()?;
    let ok = resp.status().is_success();
    // Not `Response::json`: testkit's reqwest has no `json` feature of its own.
    let body = resp.bytes().await.unwrap_or_default();
    Some((ok, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

async fn function_config(
    shared: &Shared,
    headers: &HeaderMap,
    name: &str,
) -> Result<FunctionInfo, Response> {
    let Some((true, cfg)) = moto_get(
        shared,
        headers,
        &format!("/2015-03-31/functions/{name}/configuration"),
    )
    .await
    else {
        let body = json!({"Type": "User", "message": format!("Function not found: {name}")});
        return Err((
            StatusCode::NOT_FOUND,
            [("x-amzn-errortype", "ResourceNotFoundException")],
            body.to_string(),
        )
            .into_response());
    };
    let env = cfg["Environment"]["Variables"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let async_cfg = moto_get(
        shared,
        headers,
        &format!("/2019-09-25/functions/{name}/event-invoke-config"),
    )
    .await
    .filter(|(ok, _)| *ok)
    .map(|(_, v)| v)
    .unwrap_or(Value::Null);
    Ok(FunctionInfo {
        arn: cfg["FunctionArn"].as_str().unwrap_or_default().to_string(),
        env,
        max_retries: async_cfg["MaximumRetryAttempts"].as_i64().unwrap_or(2),
        on_failure: async_cfg["DestinationConfig"]["OnFailure"]["Destination"]
            .as_str()
            .filter(|d| !d.is_empty())
            .map(String::from),
    })
}

/// The function's warm execution environment (one process: invocations run one at a time).
async fn warm(
    shared: &Shared,
    runner: &FunctionRunner,
    name: &str,
    function: &FunctionInfo,
) -> anyhow::Result<Arc<Warm>> {
    if let Some(w) = with_account(shared, |a| a.warm.get(name).cloned()) {
        return Ok(w);
    }
    let api = RuntimeApi::start().await?;
    let mut env = function.env.clone();
    env.extend([
        ("AWS_LAMBDA_FUNCTION_NAME".to_string(), name.to_string()),
        ("AWS_ENDPOINT_URL".to_string(), runner.endpoint.clone()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME".to_string(),
            format!("/aws/lambda/{name}"),
        ),
    ]);
    env.extend(runner.extra_env.iter().cloned());
    let process = FunctionProcess::spawn(&runner.bootstrap, &api, &env)?;
    let started = now_iso();
    let w = Arc::new(Warm {
        api,
        process: Mutex::new(process),
        stream: format!(
            "{}/[$LATEST]{:032x}",
            started[..10].replace('-', "/"),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
        ),
        shipped: tokio::sync::Mutex::new(0),
    });
    Ok(with_account(shared, |a| {
        Arc::clone(a.warm.entry(name.to_string()).or_insert(w))
    }))
}

async fn run_once(
    shared: &Shared,
    headers: &HeaderMap,
    runner: &FunctionRunner,
    name: &str,
    function: &FunctionInfo,
    payload: Value,
) -> Outcome {
    let w = match warm(shared, runner, name, function).await {
        Ok(w) => w,
        Err(e) => return Outcome::InitError(json!({"errorMessage": e.to_string()})),
    };
    let outcome = match w.api.invoke(payload, runner.timeout).await {
        Ok(inv) => inv.outcome,
        Err(e) => {
            // A timed-out or crashed environment is replaced, as Lambda does.
            with_account(shared, |a| a.warm.remove(name));
            Outcome::Error(json!({"errorType": "Sandbox.Timedout", "errorMessage": e.to_string()}))
        }
    };
    ship_logs(shared, headers, name, &w).await;
    outcome
}

/// What the function wrote to stdout and stderr goes to its log group, `/aws/lambda/NAME`, in
/// one log stream per execution environment named `YYYY/MM/DD/[$LATEST]<id>`, as Lambda sends
/// it (<https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html>). Lambda
/// writes with the function's execution role; elb-watch's role may create streams and put
/// events in its own group but not create the group, so a missing group loses the lines
/// (counted `function-logs:lost`), as on AWS. The lines are shipped after each invocation
/// (the structured log's own `timestamp` stays in each line), each line one event.
async fn ship_logs(shared: &Shared, headers: &HeaderMap, name: &str, w: &Warm) {
    // The log reader may still be copying the last lines: give it a moment.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut shipped = w.shipped.lock().await;
    let all = w.process.lock().map(|p| p.logs()).unwrap_or_default();
    let Some(new) = all.get(*shipped..).filter(|n| !n.is_empty()) else {
        return;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64;
    let events: Vec<Value> = new
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| json!({"timestamp": now, "message": l}))
        .collect();
    let group = format!("/aws/lambda/{name}");
    let logs = |target: &'static str, body: Value| {
        let target = format!("Logs_20140328.{target}");
        async move { super::moto_json_as(shared, headers, Some("logs"), &target, body).await }
    };
    if *shipped == 0 {
        // Created once per environment; an existing stream is fine.
        let _ = logs(
            "CreateLogStream",
            json!({"logGroupName": group, "logStreamName": w.stream}),
        )
        .await;
    }
    let sent = logs(
        "PutLogEvents",
        json!({"logGroupName": group, "logStreamName": w.stream, "logEvents": events}),
    )
    .await
    .is_some();
    *shipped = all.len();
    shared.lock().add(
        "function-logs",
        if sent { "shipped" } else { "lost" },
        events.len(),
    );
}

fn sync_answer(outcome: Outcome) -> Response {
    let (error, body) = match outcome {
        Outcome::Response(v) => (false, v),
        Outcome::Error(v) | Outcome::InitError(v) => (true, v),
    };
    let mut resp = (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response();
    resp.headers_mut().insert(
        "x-amz-executed-version",
        HeaderValue::from_static("$LATEST"),
    );
    if error {
        resp.headers_mut().insert(
            "x-amz-function-error",
            HeaderValue::from_static("Unhandled"),
        );
    }
    resp
}

fn now_iso() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64;
    chrono_like(ms)
}

/// `2026-11-20T03:15:42.118Z` from epoch milliseconds (civil-from-days, no extra crate).
pub fn chrono_like(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The on-failure invocation record, in the documented shape.
pub fn failure_record(
    request_id: &str,
    function_arn: &str,
    attempts: u32,
    payload: &Value,
    error: &Value,
) -> Value {
    json!({
        "version": "1.0",
        "timestamp": now_iso(),
        "requestContext": {
            "requestId": request_id,
            "functionArn": format!("{function_arn}:$LATEST"),
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": payload,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": error,
    })
}

async fn run_async(
    shared: &Shared,
    headers: &HeaderMap,
    runner: &FunctionRunner,
    name: &str,
    function: &FunctionInfo,
    payload: Value,
) {
    let attempts = 1 + function.max_retries.clamp(0, 2) as u32;
    let mut last = Value::Null;
    for attempt in 1..=attempts {
        match run_once(shared, headers, runner, name, function, payload.clone()).await {
            Outcome::Response(_) => return,
            Outcome::Error(v) | Outcome::InitError(v) => last = v,
        }
        if attempt < attempts {
            tokio::time::sleep(runner.retry_wait * attempt).await;
        }
    }
    shared.lock().count("retries-exhausted", "Invoke");
    let Some(dest) = &function.on_failure else {
        // No destination: Lambda discards the event.
        shared.lock().count("discarded", "Invoke");
        return;
    };
    let request_id = format!(
        "{:032x}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    );
    let record = failure_record(&request_id, &function.arn, attempts, &payload, &last);
    if send_to_queue(shared, headers, dest, &record).await {
        shared.lock().count("on-failure-record", "Invoke");
    } else {
        // Lambda's DestinationDeliveryFailures: the record is lost.
        shared
            .lock()
            .count("destination-delivery-failure", "Invoke");
    }
}

/// SendMessage to the SQS queue `arn` in moto (JSON protocol), as Lambda does with the
/// function's execution role.
async fn send_to_queue(shared: &Shared, headers: &HeaderMap, arn: &str, record: &Value) -> bool {
    let Some(queue_name) = arn
        .strip_prefix("arn:")
        .filter(|_| arn.split(':').nth(2) == Some("sqs"))
        .and_then(|_| arn.rsplit(':').next())
    else {
        return false;
    };
    let sqs = |target: &str, body: Value| {
        let target = format!("AmazonSQS.{target}");
        async move { super::moto_json_as(shared, headers, Some("sqs"), &target, body).await }
    };
    let Some(got) = sqs("GetQueueUrl", json!({"QueueName": queue_name})).await else {
        return false;
    };
    let Some(url) = got["QueueUrl"].as_str() else {
        return false;
    };
    sqs(
        "SendMessage",
        json!({"QueueUrl": url, "MessageBody": record.to_string()}),
    )
    .await
    .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso_8601_utc() {
        assert_eq!(chrono_like(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(chrono_like(1_795_000_000_123), "2026-11-18T11:06:40.123Z");
    }

    #[test]
    fn the_record_has_the_documented_shape() {
        let r = failure_record(
            "id",
            "arn:aws:lambda:us-east-1:1:function:f",
            3,
            &json!({"Records": []}),
            &json!({"errorMessage": "x"}),
        );
        assert_eq!(r["requestContext"]["condition"], "RetriesExhausted");
        assert_eq!(r["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(
            r["requestContext"]["functionArn"],
            "arn:aws:lambda:us-east-1:1:function:f:$LATEST"
        );
        assert_eq!(r["requestPayload"], json!({"Records": []}));
        assert_eq!(r["responseContext"]["functionError"], "Unhandled");
        assert_eq!(r["responsePayload"]["errorMessage"], "x");
        assert!(r["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}
