//! What an incoming AWS request is — service, operation, parameters — for every protocol the
//! code under test speaks, and each service's own error shape.
//!
//! - AWS Query (IAM, SNS, ELBv2, STS, CloudWatch on the pinned SDK): form body, `Action=`; errors
//!   are `<ErrorResponse><Error><Type/><Code/><Message/></Error>…` XML.
//!   <https://smithy.io/2.0/aws/protocols/aws-query-protocol.html>
//! - AWS JSON 1.0 / 1.1 (KMS, CloudWatch Logs, Resource Groups Tagging API, CloudWatch's
//!   `GraniteServiceVersion20100801`): `X-Amz-Target: Prefix.Operation`; errors are
//!   `{"__type": code, "message": …}`. CloudWatch is `@awsQueryCompatible`: its JSON errors also
//!   carry `x-amzn-query-error: Code;Sender`, from which the SDK takes the query error code.
//!   <https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html>,
//!   <https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#aws-protocols-awsquerycompatible-trait>
//! - REST-JSON (Lambda, EventBridge Scheduler): operation from method + path; errors are the
//!   HTTP status, `x-amzn-errortype: Code` and `{"Type": "User", "message": …}`.
//!   <https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html>

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    Query,
    /// JSON 1.0 or 1.1; the request's content type is echoed on errors.
    Json {
        content_type: String,
    },
    RestJson,
    /// Smithy RPC v2 CBOR (CloudWatch ≥ 1.100 without a bridge in front): passed through.
    Cbor,
    /// Not an AWS API call (moto-api, health checks…): passed through untouched.
    Other,
}

/// One parsed AWS API request.
#[derive(Debug, Clone)]
pub struct Call {
    /// Signing name: `iam`, `sns`, `elasticloadbalancing`, `monitoring`, `kms`, `logs`,
    /// `tagging`, `lambda`, `sts`, …
    pub service: String,
    /// `CreateRole`, `DescribeAlarms`, `GetFunction`, …
    pub operation: String,
    pub protocol: Protocol,
    /// Query: the form parameters. REST: the URL query parameters.
    pub params: Vec<(String, String)>,
    /// JSON / REST: the body (`Null` when empty or not JSON).
    pub json: Value,
    /// REST (Lambda): the function name from the path (name, not ARN, without qualifier), or
    /// the ARN of a tags call.
    pub resource: Option<String>,
    /// Region from the credential scope (`us-east-1` when absent).
    pub region: String,
}

impl Call {
    /// A query / URL-query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A top-level JSON body member, as a string.
    pub fn json_str(&self, name: &str) -> Option<&str> {
        self.json.get(name).and_then(Value::as_str)
    }

    /// A parameter whatever the protocol: the query parameter or the JSON member.
    pub fn value(&self, name: &str) -> Option<String> {
        self.param(name)
            .map(str::to_string)
            .or_else(|| self.json_str(name).map(str::to_string))
    }

    pub fn is(&self, service: &str, operation: &str) -> bool {
        self.service == service && self.operation == operation
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The service's signing name from a target prefix, when the Authorization header is missing.
fn service_of_target(prefix: &str) -> &'static str {
    match prefix {
        "TrentService" => "kms",
        "Logs_20140328" => "logs",
        "ResourceGroupsTaggingAPI_20170126" => "tagging",
        "GraniteServiceVersion20100801" => "monitoring",
        _ => "unknown",
    }
}

pub fn parse(method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Call {
    let auth = header(headers, "authorization");
    let scope: Vec<&str> = auth
        .split("Credential=")
        .nth(1)
        .map(|c| c.split(',').next().unwrap_or("").split('/').collect())
        .unwrap_or_default();
    let region = scope.get(2).copied().unwrap_or("us-east-1").to_string();
    let mut service = scope.get(3).copied().unwrap_or("").to_string();
    let path = uri.path();
    let mut call = Call {
        service: service.clone(),
        operation: String::new(),
        protocol: Protocol::Other,
        params: Vec::new(),
        json: Value::Null,
        resource: None,
        region,
    };
    if path.starts_with("/moto-api") {
        return call;
    }
    let target = header(headers, "x-amz-target");
    if let Some((prefix, op)) = target.rsplit_once('.') {
        if service.is_empty() {
            service = service_of_target(prefix).to_string();
        }
        call.service = service;
        call.operation = op.to_string();
        call.protocol = Protocol::Json {
            content_type: match header(headers, "content-type") {
                "" => "application/x-amz-json-1.1".to_string(),
                ct => ct.to_string(),
            },
        };
        call.json = serde_json::from_slice(body).unwrap_or(Value::Null);
        return call;
    }
    if let Some(rest) = path.strip_prefix("/service/")
        && let Some((_, op)) = rest.split_once("/operation/")
    {
        if call.service.is_empty() {
            call.service = "monitoring".into();
        }
        call.operation = op.to_string();
        call.protocol = Protocol::Cbor;
        return call;
    }
    let content_type = header(headers, "content-type");
    if method == Method::POST && content_type.starts_with("application/x-www-form-urlencoded") {
        call.params = form_urlencoded::parse(body).into_owned().collect();
        if let Some(action) = call.param("Action") {
            call.operation = action.to_string();
            call.protocol = Protocol::Query;
        }
        return call;
    }
    if service == "scheduler"
        || path.starts_with("/schedules")
        || path.starts_with("/schedule-groups")
    {
        call.service = "scheduler".into();
        call.protocol = Protocol::RestJson;
        call.params = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
        call.json = serde_json::from_slice(body).unwrap_or(Value::Null);
        let (op, resource) = scheduler_operation(method, path);
        call.operation = op;
        call.resource = resource;
        return call;
    }
    if service == "lambda" || path.starts_with("/2015-03-31/") || path.starts_with("/2017-03-31/") {
        call.service = "lambda".into();
        call.protocol = Protocol::RestJson;
        call.params = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
        call.json = serde_json::from_slice(body).unwrap_or(Value::Null);
        let (op, resource) = lambda_operation(method, path);
        call.operation = op;
        call.resource = resource;
    }
    call
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// A function name from a path segment: `name`, `name:qualifier`, a full or partial ARN.
pub fn function_name(id: &str) -> String {
    let id = id.trim();
    let rest = match id.find("function:") {
        Some(i) => &id[i + "function:".len()..],
        None => id,
    };
    rest.split(':').next().unwrap_or(rest).to_string()
}

/// Lambda REST operations used here, from method and path
/// (<https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html>).
fn lambda_operation(method: &Method, path: &str) -> (String, Option<String>) {
    let segs: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = method.as_str();
    let op = |s: &str| s.to_string();
    match segs.as_slice() {
        [_, "functions"] | [_, "functions", ""] => (
            op(if m == "POST" {
                "CreateFunction"
            } else {
                "ListFunctions"
            }),
            None,
        ),
        [_, "functions", name] => {
            let o = match m {
                "GET" => "GetFunction",
                "DELETE" => "DeleteFunction",
                _ => "Function",
            };
            (op(o), Some(function_name(name)))
        }
        [_, "functions", name, sub, ..] => {
            let o = match (m, *sub) {
                ("GET", "configuration") => "GetFunctionConfiguration",
                ("PUT", "configuration") => "UpdateFunctionConfiguration",
                ("PUT", "code") => "UpdateFunctionCode",
                ("POST", "policy") => "AddPermission",
                ("GET", "policy") => "GetPolicy",
                ("DELETE", "policy") => "RemovePermission",
                ("POST", "invocations") => "Invoke",
                ("POST", "versions") => "PublishVersion",
                ("GET", "versions") => "ListVersionsByFunction",
                ("PUT", "concurrency") => "PutFunctionConcurrency",
                _ => "FunctionSubresource",
            };
            (op(o), Some(function_name(name)))
        }
        [_, "tags", arn] => {
            let o = match m {
                "POST" => "TagResource",
                "DELETE" => "UntagResource",
                _ => "ListTags",
            };
            (op(o), Some(arn.to_string()))
        }
        _ => (format!("{m} {path}"), None),
    }
}

/// EventBridge Scheduler REST operations (schedules and groups), from method and path; the
/// resource is the schedule's or group's name
/// (<https://docs.aws.amazon.com/scheduler/latest/APIReference/API_Operations.html>).
fn scheduler_operation(method: &Method, path: &str) -> (String, Option<String>) {
    let segs: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = method.as_str();
    let (o, resource) = match (m, segs.as_slice()) {
        ("GET", ["schedules"] | ["schedules", ""]) => ("ListSchedules", None),
        ("POST", ["schedules", name]) => ("CreateSchedule", Some(*name)),
        ("PUT", ["schedules", name]) => ("UpdateSchedule", Some(*name)),
        ("GET", ["schedules", name]) => ("GetSchedule", Some(*name)),
        ("DELETE", ["schedules", name]) => ("DeleteSchedule", Some(*name)),
        ("GET", ["schedule-groups"] | ["schedule-groups", ""]) => ("ListScheduleGroups", None),
        ("POST", ["schedule-groups", name]) => ("CreateScheduleGroup", Some(*name)),
        ("GET", ["schedule-groups", name]) => ("GetScheduleGroup", Some(*name)),
        ("DELETE", ["schedule-groups", name]) => ("DeleteScheduleGroup", Some(*name)),
        _ => return (format!("{m} {path}"), None),
    };
    (o.to_string(), resource.map(str::to_string))
}

/// The service's own error response for `call`. `code` is the query error code for query and
/// query-compatible services (`InvalidParameterValue`, `Throttling`) and the error shape name
/// for JSON and REST services (`TagException`, `ResourceConflictException`).
pub fn error(call: &Call, status: StatusCode, code: &str, message: &str) -> Response {
    match &call.protocol {
        Protocol::Json { content_type } => {
            let mut type_name = code.to_string();
            let mut extra = None;
            if call.service == "monitoring" || call.service == "sqs" {
                // awsQueryCompatible: the shape name in __type, the query code in a header.
                if !code.ends_with("Exception") && !code.ends_with("Fault") && code != "Throttling"
                {
                    type_name = format!("{code}Exception");
                }
                extra = Some(format!("{code};Sender"));
            }
            let body = serde_json::json!({"__type": type_name, "message": message}).to_string();
            let mut resp =
                (status, [("content-type", content_type.as_str())], body).into_response();
            if let Some(q) = extra
                && let Ok(v) = q.parse()
            {
                resp.headers_mut().insert("x-amzn-query-error", v);
            }
            resp
        }
        Protocol::RestJson => {
            let body = serde_json::json!({"Type": "User", "message": message}).to_string();
            (
                status,
                [
                    ("content-type", "application/json"),
                    ("x-amzn-errortype", code),
                ],
                body,
            )
                .into_response()
        }
        _ => {
            let body = format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message>\
                 </Error><RequestId>strict-layer</RequestId></ErrorResponse>",
                xml_escape(code),
                xml_escape(message)
            );
            (status, [("content-type", "text/xml")], body).into_response()
        }
    }
}

pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The text of the first `<name>…</name>` in an XML document.
pub fn xml_text(doc: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = doc.find(&open)? + open.len();
    let end = doc[start..].find(&close)? + start;
    Some(xml_unescape(&doc[start..end]))
}

/// A CloudWatch call over JSON 1.0 (as the CBOR bridge hands it to the layer), for unit tests.
#[cfg(test)]
pub(crate) fn cloudwatch_json_call(operation: &str, input: serde_json::Value) -> Call {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-amz-target",
        format!("GraniteServiceVersion20100801.{operation}")
            .parse()
            .unwrap(),
    );
    headers.insert(
        "content-type",
        "application/x-amz-json-1.0".parse().unwrap(),
    );
    parse(
        &Method::POST,
        &"/".parse().unwrap(),
        &headers,
        &Bytes::from(input.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=testing/20261125/eu-west-1/SVC/aws4_request, \
                        SignedHeaders=host, Signature=x";

    #[test]
    fn parses_every_protocol() {
        let q = parse(
            &Method::POST,
            &"/".parse().unwrap(),
            &headers(&[
                ("authorization", &AUTH.replace("SVC", "iam")),
                (
                    "content-type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                ),
            ]),
            &Bytes::from("Action=CreateRole&RoleName=r&Tags.member.1.Key=a%3Ab"),
        );
        assert_eq!(
            (q.service.as_str(), q.operation.as_str()),
            ("iam", "CreateRole")
        );
        assert_eq!(q.protocol, Protocol::Query);
        assert_eq!(q.region, "eu-west-1");
        assert_eq!(q.param("Tags.member.1.Key"), Some("a:b"));

        let j = parse(
            &Method::POST,
            &"/".parse().unwrap(),
            &headers(&[
                (
                    "x-amz-target",
                    "GraniteServiceVersion20100801.PutMetricAlarm",
                ),
                ("content-type", "application/x-amz-json-1.0"),
            ]),
            &Bytes::from(r#"{"AlarmName":"a"}"#),
        );
        assert_eq!(
            (j.service.as_str(), j.operation.as_str()),
            ("monitoring", "PutMetricAlarm")
        );
        assert_eq!(j.json_str("AlarmName"), Some("a"));

        let r = parse(
            &Method::PUT,
            &"/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/configuration"
                .parse()
                .unwrap(),
            &headers(&[("authorization", &AUTH.replace("SVC", "lambda"))]),
            &Bytes::from("{}"),
        );
        assert_eq!(r.operation, "UpdateFunctionConfiguration");
        assert_eq!(r.resource.as_deref(), Some("f"));
        let l = parse(
            &Method::GET,
            &"/2015-03-31/functions/?MaxItems=50".parse().unwrap(),
            &headers(&[("authorization", &AUTH.replace("SVC", "lambda"))]),
            &Bytes::new(),
        );
        assert_eq!(l.operation, "ListFunctions");
        assert_eq!(l.param("MaxItems"), Some("50"));
    }

    #[test]
    fn parses_scheduler_calls() {
        let auth = AUTH.replace("SVC", "scheduler");
        let c = parse(
            &Method::POST,
            &"/schedules/elb-watch-prod-mute-1".parse().unwrap(),
            &headers(&[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ]),
            &Bytes::from(
                r#"{"GroupName":"elb-watch-prod","ScheduleExpression":"at(2026-12-03T18:05:00)"}"#,
            ),
        );
        assert_eq!(
            (c.service.as_str(), c.operation.as_str()),
            ("scheduler", "CreateSchedule")
        );
        assert_eq!(c.protocol, Protocol::RestJson);
        assert_eq!(c.resource.as_deref(), Some("elb-watch-prod-mute-1"));
        assert_eq!(c.json_str("GroupName"), Some("elb-watch-prod"));
        let d = parse(
            &Method::DELETE,
            &"/schedules/a%20b?groupName=elb-watch-prod".parse().unwrap(),
            &headers(&[("authorization", &auth)]),
            &Bytes::new(),
        );
        assert_eq!(d.operation, "DeleteSchedule");
        assert_eq!(d.resource.as_deref(), Some("a b"));
        assert_eq!(d.param("groupName"), Some("elb-watch-prod"));
        let u = parse(
            &Method::PUT,
            &"/schedules/x".parse().unwrap(),
            &headers(&[("authorization", &auth)]),
            &Bytes::from("{}"),
        );
        assert_eq!(u.operation, "UpdateSchedule");
    }
}
