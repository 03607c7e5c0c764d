//! An HTTP proxy that lets the current `aws-sdk-cloudwatch` talk to moto.
//!
//! CloudWatch serves three protocols — AWS Query, AWS JSON 1.0 and Smithy RPC v2 CBOR
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-protocols-faq.html>)
//! — and the Rust SDK (≥ 1.100) speaks RPC v2 CBOR, which moto cannot parse; moto does speak
//! JSON 1.0 (its request parser picks the protocol from `Content-Type:
//! application/x-amz-json-1.0` and the operation from `X-Amz-Target`). The bridge translates:
//!
//! - requests `POST /service/GraniteServiceVersion20100801/operation/<Op>` with
//!   `smithy-protocol: rpc-v2-cbor` and a CBOR body
//!   (<https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html>) become
//!   `POST /` with `X-Amz-Target: GraniteServiceVersion20100801.<Op>`,
//!   `Content-Type: application/x-amz-json-1.0` and the JSON body
//!   (<https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html>);
//! - answers, success and errors, go back as CBOR with `smithy-protocol: rpc-v2-cbor` and
//!   `Content-Type: application/cbor`; `x-amzn-query-error` (CloudWatch is
//!   `@awsQueryCompatible`: the SDK takes the error code from it,
//!   <https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#aws-protocols-awsquerycompatible-trait>)
//!   and `x-amzn-requestid` pass through;
//! - every other request (other services, CloudWatch over JSON or Query, moto's own API) is
//!   forwarded unchanged, `Host` included, so signatures stay valid.
//!
//! SigV4: the translated request is a different request, so its original signature cannot match.
//! The bridge re-signs it when it knows the secret of the caller's access key (the emulator's
//! `testing` key, and any added with [`CborBridge::add_credentials`]) — moto checks signatures
//! only with its IAM enforcement on (`INITIAL_NO_AUTH_ACTION_COUNT`); otherwise it forwards the
//! original `Authorization`, which moto reads only for the account, region and service.

pub mod model;
mod sign;
pub mod translate;

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use model::Model;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// `smithy-protocol` header value of RPC v2 CBOR requests and responses.
pub const RPC_V2_CBOR: &str = "rpc-v2-cbor";

/// What the bridge did, for tests and benchmark figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeStats {
    /// CBOR requests translated, per operation.
    pub translated: BTreeMap<String, usize>,
    /// Of those, answered with an error (any non-2xx), per operation.
    pub errors: BTreeMap<String, usize>,
    /// Requests forwarded unchanged.
    pub passed_through: usize,
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    /// access key id → secret access key, to re-sign translated requests.
    secrets: Mutex<HashMap<String, String>>,
    /// Re-sign forwarded (untranslated) requests too: see [`sign`].
    resign_forwarded: AtomicBool,
    stats: Mutex<BridgeStats>,
}

/// The bridge, on 127.0.0.1 (a free port), served by its own thread and tokio runtime so that
/// synchronous callers ([`crate::emulator::Emulator`]) can own it. Stops when dropped.
pub struct CborBridge {
    url: String,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CborBridge {
    /// Start a bridge in front of `upstream` (e.g. `http://127.0.0.1:5000`).
    pub fn start(upstream: &str) -> Result<Self> {
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            client: crate::server::http_client_builder()
                .build()
                .expect("an HTTP client for loopback"),
            secrets: Mutex::new(HashMap::from([(
                crate::emulator::ACCESS_KEY.to_string(),
                crate::emulator::SECRET_KEY.to_string(),
            )])),
            resign_forwarded: AtomicBool::new(false),
            stats: Mutex::default(),
        });
        // Lambda's CreateFunction carries a ~10 MB zip: lift axum's 2 MB default body limit.
        let app = Router::new()
            .fallback(handle)
            .layer(axum::extract::DefaultBodyLimit::max(64 << 20))
            .with_state(Arc::clone(&shared));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("cbor-bridge".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => return drop(addr_tx.send(Err(anyhow::Error::from(e)))),
                };
                rt.block_on(async move {
                    match crate::server::LocalServer::start(app).await {
                        Ok(server) => {
                            let _ = addr_tx.send(Ok(server.addr()));
                            let _ = stop.await;
                        }
                        Err(e) => drop(addr_tx.send(Err(e))),
                    }
                });
            })?;
        let addr = addr_rx
            .recv()
            .context("CBOR bridge thread ended before listening")??;
        Ok(Self {
            url: format!("http://{addr}"),
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Let the bridge re-sign translated requests made with this access key (needed only when
    /// moto checks signatures, i.e. with its IAM enforcement on).
    pub fn add_credentials(&self, access_key_id: &str, secret_access_key: &str) {
        self.shared
            .secrets
            .lock()
            .expect("poisoned")
            .insert(access_key_id.to_string(), secret_access_key.to_string());
    }

    /// Also re-sign the requests forwarded untranslated (made with a key given to
    /// [`Self::add_credentials`]) in the form moto can verify — needed with moto's IAM
    /// enforcement on: see [`sign`].
    pub fn resign_forwarded(&self, on: bool) {
        self.shared.resign_forwarded.store(on, Ordering::Relaxed);
    }

    pub fn stats(&self) -> BridgeStats {
        self.shared.stats.lock().expect("poisoned").clone()
    }
}

impl Drop for CborBridge {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `Some(operation)` for an RPC v2 CBOR request to CloudWatch.
pub fn cbor_operation<'a>(method: &Method, path: &'a str, headers: &HeaderMap) -> Option<&'a str> {
    if method != Method::POST
        || headers.get("smithy-protocol").and_then(|v| v.to_str().ok()) != Some(RPC_V2_CBOR)
    {
        return None;
    }
    let rest = path.strip_prefix("/service/")?;
    let (service, op) = rest.split_once("/operation/")?;
    (service == Model::cloudwatch().target_prefix && !op.is_empty() && !op.contains('/'))
        .then_some(op)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match cbor_operation(&method, uri.path(), &headers) {
        Some(op) => {
            let op = op.to_string();
            let resp = translate_call(&shared, &op, &headers, &body).await;
            let mut stats = shared.stats.lock().expect("poisoned");
            *stats.translated.entry(op.clone()).or_default() += 1;
            if !resp.status().is_success() {
                *stats.errors.entry(op).or_default() += 1;
            }
            resp
        }
        None => {
            shared.stats.lock().expect("poisoned").passed_through += 1;
            forward(&shared, method, &uri, &headers, body).await
        }
    }
}

/// Headers of the CBOR request that are not carried to the JSON one: the protocol's own, the
/// body's (it changes), and the signature's (replaced or copied deliberately).
const NOT_CARRIED: [&str; 11] = [
    "content-length",
    "content-type",
    "content-encoding",
    "accept",
    "smithy-protocol",
    "transfer-encoding",
    "authorization",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-security-token",
    "host",
];

async fn translate_call(shared: &Shared, op: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    let model = Model::cloudwatch();
    let json = match decompress(headers, body).and_then(|b| translate::cbor_request_to_json(&b)) {
        Ok(json) => json,
        Err(e) => {
            return cbor_error(
                StatusCode::BAD_REQUEST,
                "SerializationException",
                &format!("{e:#}"),
            );
        }
    };
    let json_body = json.to_string().into_bytes();
    let target = format!("{}.{op}", model.target_prefix);
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();

    let mut req = shared
        .client
        .post(format!("{}/", shared.upstream))
        .header("host", &host)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", &target);
    for (k, v) in headers {
        if !NOT_CARRIED.contains(&k.as_str()) {
            req = req.header(k, v);
        }
    }
    let request = sign::ToSign {
        method: "POST",
        url: format!("http://{host}/"),
        headers: vec![
            ("host", host.as_str()),
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", target.as_str()),
        ],
        body: &json_body,
    };
    let signature =
        new_signature(shared, headers, request).unwrap_or_else(|| original_signature(headers));
    for (k, v) in signature {
        req = req.header(k, v);
    }

    let answer = match req.body(json_body).send().await {
        Ok(a) => a,
        Err(e) => {
            return cbor_error(
                StatusCode::BAD_GATEWAY,
                "InternalFailure",
                &format!("CBOR bridge: upstream unreachable: {e}"),
            );
        }
    };
    let status = answer.status();
    let upstream_headers = answer.headers().clone();
    let bytes = answer.bytes().await.unwrap_or_default();
    let encoded = if status.is_success() {
        translate::json_response_to_cbor(model, op, &bytes)
    } else {
        let note = format!(
            "the emulator answered {op} with HTTP {status} and no JSON error (is {op} \
             implemented by moto?)"
        );
        translate::json_error_to_cbor(model, &bytes, &note)
    };
    let mut resp = match encoded {
        Ok(cbor) => cbor_response(status, cbor),
        Err(e) => cbor_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            &format!("CBOR bridge: cannot translate the answer to {op}: {e:#}"),
        ),
    };
    for name in ["x-amzn-requestid", "x-amzn-query-error", "date"] {
        if let Some(v) = upstream_headers.get(name) {
            resp.headers_mut().insert(name, v.clone());
        }
    }
    resp
}

/// Signature headers for a request the bridge sends on: new ones (see [`sign`]) when the
/// caller's secret is known, else `None` (the caller's own headers go on unchanged).
fn new_signature(
    shared: &Shared,
    headers: &HeaderMap,
    request: sign::ToSign<'_>,
) -> Option<Vec<(String, String)>> {
    let (akid, region, service) = sign::caller(headers)?;
    let secret = shared
        .secrets
        .lock()
        .expect("poisoned")
        .get(&akid)
        .cloned()?;
    let token = headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok());
    sign::sign(&akid, &secret, token, &region, &service, request).ok()
}

/// The caller's own signature headers, unchanged.
fn original_signature(headers: &HeaderMap) -> Vec<(String, String)> {
    sign::SIGNATURE_HEADERS
        .into_iter()
        .filter_map(|n| Some((n.to_string(), headers.get(n)?.to_str().ok()?.to_string())))
        .collect()
}

/// The request body, gunzipped when the SDK compressed it (CloudWatch's `@requestCompression`
/// operations, e.g. PutMetricData, send `Content-Encoding: gzip` above a size threshold).
fn decompress(headers: &HeaderMap, body: &[u8]) -> Result<Vec<u8>> {
    let gzip = headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().eq_ignore_ascii_case("gzip")));
    if !gzip {
        return Ok(body.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .context("request body is not valid gzip")?;
    Ok(out)
}

fn cbor_response(status: StatusCode, body: Vec<u8>) -> Response {
    let empty = body.is_empty();
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert("smithy-protocol", HeaderValue::from_static(RPC_V2_CBOR));
    h.remove("content-type");
    if !empty {
        h.insert("content-type", HeaderValue::from_static("application/cbor"));
    }
    resp
}

/// An RPC v2 CBOR error answer made by the bridge itself.
pub fn cbor_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = translate::error_body(code, message).unwrap_or_default();
    cbor_response(status, body)
}

/// Forward a request unchanged (method, path, headers including `Host`, body) and its answer.
async fn forward(
    shared: &Shared,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let signature = if shared.resign_forwarded.load(Ordering::Relaxed) {
        let header = |n: &'static str| Some((n, headers.get(n)?.to_str().ok()?));
        let host = header("host").map_or("localhost", |(_, h)| h);
        let request = sign::ToSign {
            method: method.as_str(),
            url: format!("http://{host}{path}"),
            headers: [
                header("host"),
                header("content-type"),
                header("x-amz-target"),
            ]
            .into_iter()
            .flatten()
            .collect(),
            body: &body,
        };
        new_signature(shared, headers, request)
    } else {
        None
    };
    let mut req = shared
        .client
        .request(method.clone(), format!("{}{path}", shared.upstream));
    for (k, v) in headers {
        let replaced = signature.is_some() && sign::SIGNATURE_HEADERS.contains(&k.as_str());
        if k != "content-length" && k != "transfer-encoding" && !replaced {
            req = req.header(k, v);
        }
    }
    for (k, v) in signature.into_iter().flatten() {
        req = req.header(k, v);
    }
    let req = req.body(body);
    match req.send().await {
        Ok(answer) => {
            let status = answer.status();
            let headers = answer.headers().clone();
            let bytes = answer.bytes().await.unwrap_or_default();
            let mut out = (status, bytes).into_response();
            out.headers_mut().remove("content-type");
            for (k, v) in headers.iter() {
                if k != "content-length" && k != "transfer-encoding" {
                    out.headers_mut().append(k, v.clone());
                }
            }
            out
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cloudwatch_rpc_v2_cbor_requests_are_translated() {
        let mut cbor = HeaderMap::new();
        cbor.insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
        let path = "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm";
        assert_eq!(
            cbor_operation(&Method::POST, path, &cbor),
            Some("PutMetricAlarm")
        );
        assert_eq!(cbor_operation(&Method::GET, path, &cbor), None);
        assert_eq!(cbor_operation(&Method::POST, path, &HeaderMap::new()), None);
        assert_eq!(
            cbor_operation(&Method::POST, "/service/Other/operation/X", &cbor),
            None
        );
        assert_eq!(cbor_operation(&Method::POST, "/", &cbor), None);
    }
}
