//! An HTTP proxy in front of the emulator that answers the first N requests of chosen AWS
//! operations with the service's own throttling error, then forwards. It proves that throttling
//! is retried by the SDK's retry configuration: the proxy sees N+1 requests for an operation
//! the CLI issued once.

use crate::cbor_bridge::{RPC_V2_CBOR, cbor_error};
use crate::emulator::{Emulator, RecordedCall, parse_recorded};
use anyhow::Result;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Counters {
    /// operation → throttled responses still to give
    budget: BTreeMap<String, usize>,
    /// operation → requests seen
    seen: BTreeMap<String, usize>,
    /// operation → throttled responses given
    throttled: BTreeMap<String, usize>,
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    counters: Mutex<Counters>,
}

pub struct ThrottleProxy {
    shared: Arc<Shared>,
    server: crate::server::LocalServer,
}

impl ThrottleProxy {
    /// Throttle the first `times` requests of each operation in `operations` (names as the
    /// emulator recording reports them: `CreateKey`, `PutMetricAlarm`, `POST /2015-03-31/functions`).
    pub async fn start(emu: &Emulator, operations: &[&str], times: usize) -> Result<Self> {
        let counters = Counters {
            budget: operations.iter().map(|o| (o.to_string(), times)).collect(),
            ..Counters::default()
        };
        let shared = Arc::new(Shared {
            upstream: emu.endpoint_url(),
            client: crate::server::http_client_builder()
                .build()
                .expect("an HTTP client for loopback"),
            counters: Mutex::new(counters),
        });
        // CreateFunction carries the ~10 MB zip: lift axum's 2 MB default body limit.
        let app = Router::new()
            .fallback(handle)
            .layer(axum::extract::DefaultBodyLimit::max(64 << 20))
            .with_state(Arc::clone(&shared));
        let server = crate::server::LocalServer::start(app).await?;
        Ok(Self { shared, server })
    }

    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// Requests seen per operation.
    pub fn seen(&self) -> BTreeMap<String, usize> {
        self.shared.counters.lock().expect("poisoned").seen.clone()
    }

    /// Throttling errors given per operation.
    pub fn throttled(&self) -> BTreeMap<String, usize> {
        self.shared
            .counters
            .lock()
            .expect("poisoned")
            .throttled
            .clone()
    }
}

fn classify(method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> RecordedCall {
    let headers_json: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.into())))
        .collect();
    let entry = serde_json::json!({
        "headers": headers_json,
        "method": method.as_str(),
        "url": format!("http://proxy{uri}"),
        "body": base64::engine::general_purpose::STANDARD.encode(body),
        "body_encoded": true,
    });
    parse_recorded(&entry).unwrap_or(RecordedCall {
        service: "unknown".into(),
        action: "unknown".into(),
        method: method.to_string(),
    })
}

/// The service's throttling error, in its protocol: RPC v2 CBOR (CloudWatch), JSON
/// (X-Amz-Target), REST (Lambda), query.
fn throttling_error(headers: &HeaderMap, call: &RecordedCall) -> Response {
    if headers.get("smithy-protocol").and_then(|v| v.to_str().ok()) == Some(RPC_V2_CBOR) {
        // CloudWatch is @awsQueryCompatible: the query error code rides in x-amzn-query-error.
        let mut resp = cbor_error(
            StatusCode::BAD_REQUEST,
            "ThrottlingException",
            "Rate exceeded",
        );
        resp.headers_mut().insert(
            "x-amzn-query-error",
            axum::http::HeaderValue::from_static("Throttling;Sender"),
        );
        return resp;
    }
    if headers.contains_key("x-amz-target") {
        let body = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/x-amz-json-1.1")],
            body,
        )
            .into_response();
    }
    if call.action.contains(' ') {
        let body = r#"{"Type":"User","message":"Rate exceeded"}"#;
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [
                ("content-type", "application/json"),
                ("x-amzn-errortype", "TooManyRequestsException"),
            ],
            body,
        )
            .into_response();
    }
    let body = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
                <Message>Rate exceeded</Message></Error><RequestId>throttle-proxy</RequestId>\
                </ErrorResponse>";
    (
        StatusCode::BAD_REQUEST,
        [("content-type", "text/xml")],
        body,
    )
        .into_response()
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = classify(&method, &uri, &headers, &body);
    let throttle = {
        let mut c = shared.counters.lock().expect("poisoned");
        *c.seen.entry(call.action.clone()).or_default() += 1;
        match c.budget.get_mut(&call.action) {
            Some(left) if *left > 0 => {
                *left -= 1;
                *c.throttled.entry(call.action.clone()).or_default() += 1;
                true
            }
            _ => false,
        }
    };
    if throttle {
        return throttling_error(&headers, &call);
    }
    let mut req = shared
        .client
        .request(method, format!("{}{uri}", shared.upstream))
        .body(body);
    for (k, v) in headers.iter() {
        if k != "host" && k != "content-length" {
            req = req.header(k, v);
        }
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status();
            let headers = resp.headers().clone();
            let bytes = resp.bytes().await.unwrap_or_default();
            let mut out = (status, bytes).into_response();
            for (k, v) in headers.iter() {
                if k != "content-length" && k != "transfer-encoding" {
                    out.headers_mut().insert(k, v.clone());
                }
            }
            out
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}
