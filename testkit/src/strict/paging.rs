//! Rule 5 — small pages wherever the API paginates (and rule 4's one resource per Tagging API
//! page).
//!
//! Every paginated AWS API may return fewer items than asked for, and the caller must follow
//! the token until it is absent; "MaxRecords/MaxItems/Limit/PageSize" is an upper bound only
//! (e.g. <https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAttachedRolePolicies.html>:
//! "IAM might return fewer than the MaxItems number of results even when there are more
//! results available. We recommend that you check IsTruncated after every call";
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html>,
//! <https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeys.html>,
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetGroups.html>,
//! <https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html>,
//! <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogGroups.html>,
//! <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html>
//! ("This operation can return empty results while there are more log events available through
//! the token"),
//! <https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html>).
//!
//! moto ignores the limit in several handlers (DescribeAlarms, ListFunctions, …) and answers
//! in one page where AWS would not. The proxy never changes the request (signatures stay
//! valid): it cuts moto's answer to `StrictConfig::page_size` items (or the caller's smaller
//! limit), keeps the rest under its own token (`strict-page-N`), answers requests carrying that
//! token from memory, and hands moto's own token back on the last page it serves.

use super::protocol::{self, Call, Protocol};
use super::{Inner, StrictConfig, Upstream};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;
use std::collections::HashMap;

/// How one paginated operation names its list and tokens.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The list member (XML element / JSON member).
    pub list: &'static str,
    /// The request's token parameter.
    pub req_token: &'static str,
    /// The response's token member.
    pub resp_token: &'static str,
    /// The request's page-size parameter.
    pub limit: &'static str,
    /// IAM `IsTruncated` / KMS `Truncated`.
    pub truncated: Option<&'static str>,
}

const fn s(
    list: &'static str,
    req_token: &'static str,
    resp_token: &'static str,
    limit: &'static str,
    truncated: Option<&'static str>,
) -> Spec {
    Spec {
        list,
        req_token,
        resp_token,
        limit,
        truncated,
    }
}

/// The paging of `call`'s operation. The Classic ELB API (version 2012-06-01) signs as
/// `elasticloadbalancing` like ELBv2 and shares its operation name DescribeLoadBalancers, but
/// lists `LoadBalancerDescriptions`
/// (<https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DescribeLoadBalancers.html>:
/// `Marker` / `NextMarker`, `PageSize` 1–400).
pub fn call_spec(call: &Call) -> Option<Spec> {
    if call.service == "elasticloadbalancing" && call.param("Version") == Some("2012-06-01") {
        return match call.operation.as_str() {
            "DescribeLoadBalancers" => Some(s(
                "LoadBalancerDescriptions",
                "Marker",
                "NextMarker",
                "PageSize",
                None,
            )),
            _ => None,
        };
    }
    spec(&call.service, &call.operation)
}

pub fn spec(service: &str, op: &str) -> Option<Spec> {
    let iam = |list| Some(s(list, "Marker", "Marker", "MaxItems", Some("IsTruncated")));
    let elb = |list| Some(s(list, "Marker", "NextMarker", "PageSize", None));
    let kms = |list| Some(s(list, "Marker", "NextMarker", "Limit", Some("Truncated")));
    match (service, op) {
        ("iam", "ListAttachedRolePolicies") => iam("AttachedPolicies"),
        ("iam", "ListRolePolicies") => iam("PolicyNames"),
        ("iam", "ListPolicyVersions") => iam("Versions"),
        ("iam", "ListRoles") => iam("Roles"),
        ("iam", "ListPolicies") => iam("Policies"),
        ("iam", "ListRoleTags") | ("iam", "ListPolicyTags") => iam("Tags"),
        ("iam", "ListInstanceProfilesForRole") => iam("InstanceProfiles"),
        ("sns", "ListSubscriptionsByTopic") | ("sns", "ListSubscriptions") => {
            Some(s("Subscriptions", "NextToken", "NextToken", "", None))
        }
        ("sns", "ListTopics") => Some(s("Topics", "NextToken", "NextToken", "", None)),
        ("elasticloadbalancing", "DescribeLoadBalancers") => elb("LoadBalancers"),
        ("elasticloadbalancing", "DescribeTargetGroups") => elb("TargetGroups"),
        ("elasticloadbalancing", "DescribeListeners") => elb("Listeners"),
        ("elasticloadbalancing", "DescribeRules") => elb("Rules"),
        ("monitoring", "DescribeAlarms") => Some(s(
            "MetricAlarms",
            "NextToken",
            "NextToken",
            "MaxRecords",
            None,
        )),
        ("kms", "ListKeys") => kms("Keys"),
        ("kms", "ListAliases") => kms("Aliases"),
        ("kms", "ListResourceTags") => kms("Tags"),
        ("logs", "DescribeLogGroups") => {
            Some(s("logGroups", "nextToken", "nextToken", "limit", None))
        }
        // moto answers `events`, `nextToken` (null on the last page), `searchedLogStreams`.
        ("logs", "FilterLogEvents") => Some(s("events", "nextToken", "nextToken", "limit", None)),
        ("tagging", "GetResources") => Some(s(
            "ResourceTagMappingList",
            "PaginationToken",
            "PaginationToken",
            "ResourcesPerPage",
            None,
        )),
        ("lambda", "ListFunctions") => {
            Some(s("Functions", "Marker", "NextMarker", "MaxItems", None))
        }
        _ => None,
    }
}

const PREFIX: &str = "strict-page-";

/// A page template and the items still to serve.
#[derive(Clone)]
enum Doc {
    Xml {
        prefix: String,
        items: Vec<String>,
        suffix: String,
        result_close: String,
    },
    Json {
        value: Value,
        items: Vec<Value>,
    },
}

impl Doc {
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn len(&self) -> usize {
        match self {
            Doc::Xml { items, .. } => items.len(),
            Doc::Json { items, .. } => items.len(),
        }
    }

    /// (first `n` items as a doc, the rest as a doc)
    fn split(self, n: usize) -> (Doc, Doc) {
        match self {
            Doc::Xml {
                prefix,
                mut items,
                suffix,
                result_close,
            } => {
                let rest = items.split_off(n.min(items.len()));
                (
                    Doc::Xml {
                        prefix: prefix.clone(),
                        items,
                        suffix: suffix.clone(),
                        result_close: result_close.clone(),
                    },
                    Doc::Xml {
                        prefix,
                        items: rest,
                        suffix,
                        result_close,
                    },
                )
            }
            Doc::Json { value, mut items } => {
                let rest = items.split_off(n.min(items.len()));
                (
                    Doc::Json {
                        value: value.clone(),
                        items,
                    },
                    Doc::Json { value, items: rest },
                )
            }
        }
    }

    fn render(self, spec: &Spec, token: Option<&str>) -> Bytes {
        match self {
            Doc::Xml {
                prefix,
                items,
                suffix,
                result_close,
            } => {
                let mut out = prefix;
                out.push_str(&items.concat());
                let mut tail = suffix;
                let mut extra = String::new();
                if let Some(t) = token {
                    extra.push_str(&format!(
                        "<{0}>{1}</{0}>",
                        spec.resp_token,
                        protocol::xml_escape(t)
                    ));
                }
                if let Some(tr) = spec.truncated {
                    extra.push_str(&format!("<{tr}>{}</{tr}>", token.is_some()));
                }
                match tail.find(&result_close) {
                    Some(i) => tail.insert_str(i, &extra),
                    None => tail.insert_str(0, &extra),
                }
                out.push_str(&tail);
                Bytes::from(out)
            }
            Doc::Json { mut value, items } => {
                if let Some(m) = value.as_object_mut() {
                    m.insert(spec.list.into(), Value::Array(items));
                    match token {
                        Some(t) => m.insert(spec.resp_token.into(), t.into()),
                        None => m.remove(spec.resp_token),
                    };
                    if let Some(tr) = spec.truncated {
                        m.insert(tr.into(), token.is_some().into());
                    }
                }
                Bytes::from(value.to_string())
            }
        }
    }
}

/// Remove every `<name>…</name>` and `<name/>` from `s`.
fn remove_element(s: &mut String, name: &str) {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    while let Some(i) = s.find(&open) {
        match s[i..].find(&close) {
            Some(j) => s.replace_range(i..i + j + close.len(), ""),
            None => break,
        }
    }
    *s = s.replace(&format!("<{name}/>"), "");
}

/// Split a query-protocol answer around the members of `<Response><Result><list>`.
fn parse_xml(text: &str, spec: &Spec, op: &str) -> Option<(Doc, Option<String>)> {
    use xmlparser::{ElementEnd, Token, Tokenizer};
    let mut depth = 0usize;
    let mut pending: Option<(String, usize)> = None;
    let mut list_open_end = None;
    let mut list_close_start = None;
    let mut in_list = false;
    let mut item_start: Option<usize> = None;
    let mut items = Vec::new();
    for tok in Tokenizer::from(text) {
        match tok.ok()? {
            Token::ElementStart { local, span, .. } => {
                if in_list && depth == 3 && item_start.is_none() {
                    item_start = Some(span.start());
                }
                pending = Some((local.as_str().to_string(), span.start()));
            }
            Token::ElementEnd { end, span } => match end {
                ElementEnd::Open => {
                    if depth == 2
                        && list_open_end.is_none()
                        && pending.as_ref().is_some_and(|(n, _)| n == spec.list)
                    {
                        list_open_end = Some(span.end());
                        in_list = true;
                    }
                    depth += 1;
                }
                ElementEnd::Empty => {
                    if in_list
                        && depth == 3
                        && let Some(st) = item_start.take()
                    {
                        items.push(text[st..span.end()].to_string());
                    }
                }
                ElementEnd::Close(_, local) => {
                    depth = depth.saturating_sub(1);
                    if in_list
                        && depth == 3
                        && let Some(st) = item_start.take()
                    {
                        items.push(text[st..span.end()].to_string());
                    }
                    if in_list && depth == 2 && local.as_str() == spec.list {
                        list_close_start = Some(span.start());
                        in_list = false;
                    }
                }
            },
            _ => {}
        }
    }
    let (open_end, close_start) = (list_open_end?, list_close_start?);
    let token = protocol::xml_text(text, spec.resp_token).filter(|t| !t.is_empty());
    let mut prefix = text[..open_end].to_string();
    let mut suffix = text[close_start..].to_string();
    for s in [&mut prefix, &mut suffix] {
        remove_element(s, spec.resp_token);
        if let Some(tr) = spec.truncated {
            remove_element(s, tr);
        }
    }
    Some((
        Doc::Xml {
            prefix,
            items,
            suffix,
            result_close: format!("</{op}Result>"),
        },
        token,
    ))
}

fn parse_json(body: &[u8], spec: &Spec) -> Option<(Doc, Option<String>)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let items = value.get(spec.list)?.as_array()?.clone();
    let token = value
        .get(spec.resp_token)
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    Some((Doc::Json { value, items }, token))
}

struct Entry {
    doc: Doc,
    upstream_token: Option<String>,
    status: StatusCode,
    headers: HeaderMap,
}

#[derive(Default)]
pub(crate) struct Stash {
    entries: HashMap<String, Entry>,
    next: u64,
}

fn page_size(c: &StrictConfig, call: &Call, spec: &Spec) -> usize {
    let ours = if call.is("tagging", "GetResources") {
        c.tagging_page_size
    } else {
        c.page_size
    };
    let theirs = if spec.limit.is_empty() {
        None
    } else {
        call.value(spec.limit)
            .or_else(|| call.json.get(spec.limit).map(|v| v.to_string()))
            .and_then(|v| v.parse::<usize>().ok())
    };
    match (ours, theirs) {
        (0, Some(t)) => t,
        (0, None) => usize::MAX,
        (o, Some(t)) => o.min(t).max(1),
        (o, None) => o,
    }
}

/// Cut `doc` to one page; keep the rest under a new token. Returns the body and the token.
fn cut(
    inner: &mut Inner,
    doc: Doc,
    n: usize,
    upstream_token: Option<String>,
    status: StatusCode,
    headers: &HeaderMap,
    spec: &Spec,
) -> Bytes {
    let (page, rest) = doc.split(n);
    let token = if !rest.is_empty() {
        inner.paging.next += 1;
        let id = format!("{PREFIX}{}", inner.paging.next);
        inner.paging.entries.insert(
            id.clone(),
            Entry {
                doc: rest,
                upstream_token,
                status,
                headers: headers.clone(),
            },
        );
        Some(id)
    } else {
        upstream_token
    };
    page.render(spec, token.as_deref())
}

/// Answer a request that carries one of the proxy's tokens.
pub(crate) fn from_stash(inner: &mut Inner, c: &StrictConfig, call: &Call) -> Option<Response> {
    let spec = call_spec(call)?;
    let token = call.value(spec.req_token)?;
    if !token.starts_with(PREFIX) {
        return None;
    }
    let Some(entry) = inner.paging.entries.get(&token) else {
        return Some(protocol::error(
            call,
            StatusCode::BAD_REQUEST,
            if matches!(call.protocol, Protocol::Query) {
                "InvalidNextToken"
            } else {
                "InvalidNextTokenException"
            },
            "The pagination token is invalid.",
        ));
    };
    let (doc, up_token, status, headers) = (
        entry.doc.clone(),
        entry.upstream_token.clone(),
        entry.status,
        entry.headers.clone(),
    );
    let n = page_size(c, call, &spec);
    let body = cut(inner, doc, n, up_token, status, &headers, &spec);
    inner.count("paged", &call.operation);
    let up = Upstream {
        status,
        headers,
        body,
    };
    Some(up.into_response())
}

/// Cut moto's answer to a small page.
pub(crate) fn rewrite(
    inner: &mut Inner,
    c: &StrictConfig,
    call: &Call,
    mut up: Upstream,
) -> Upstream {
    let Some(spec) = call_spec(call) else {
        return up;
    };
    let n = page_size(c, call, &spec);
    let parsed = match call.protocol {
        Protocol::Query => parse_xml(&up.text(), &spec, &call.operation),
        _ => parse_json(&up.body, &spec),
    };
    let Some((doc, token)) = parsed else {
        return up;
    };
    if doc.len() <= n {
        return up;
    }
    up.body = cut(inner, doc, n, token, up.status, &up.headers, &spec);
    inner.count("paged", &call.operation);
    up
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0"?><DescribeAlarmsResponse xmlns="http://x"><DescribeAlarmsResult><MetricAlarms><member><AlarmName>a</AlarmName><Dimensions><member><Name>n</Name></member></Dimensions></member><member><AlarmName>b</AlarmName></member><member><AlarmName>c</AlarmName></member></MetricAlarms><CompositeAlarms/></DescribeAlarmsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeAlarmsResponse>"#;

    #[test]
    fn xml_pages_keep_nested_members_whole() {
        let spec = spec("monitoring", "DescribeAlarms").unwrap();
        let (doc, token) = parse_xml(XML, &spec, "DescribeAlarms").unwrap();
        assert_eq!(token, None);
        assert_eq!(doc.len(), 3);
        let (page, rest) = doc.split(2);
        let text = String::from_utf8(page.render(&spec, Some("strict-page-1")).to_vec()).unwrap();
        assert!(text.contains("<AlarmName>a</AlarmName><Dimensions><member><Name>n</Name></member></Dimensions></member><member><AlarmName>b</AlarmName></member></MetricAlarms>"), "{text}");
        assert!(
            text.contains("<NextToken>strict-page-1</NextToken></DescribeAlarmsResult>"),
            "{text}"
        );
        assert!(!text.contains("<AlarmName>c"));
        let last = String::from_utf8(rest.render(&spec, None).to_vec()).unwrap();
        assert!(
            last.contains("<MetricAlarms><member><AlarmName>c</AlarmName></member></MetricAlarms>")
        );
        assert!(!last.contains("NextToken"));
    }

    #[test]
    fn filter_log_events_pages_keep_the_other_members() {
        let body = br#"{"events":[{"eventId":"1","message":"a"},{"eventId":"2","message":"b"},{"eventId":"3","message":"c"}],"nextToken":null,"searchedLogStreams":[{"logStreamName":"s","searchedCompletely":true}]}"#;
        let spec = spec("logs", "FilterLogEvents").unwrap();
        let (doc, token) = parse_json(body, &spec).unwrap();
        assert_eq!((doc.len(), token), (3, None));
        let (page, rest) = doc.split(2);
        let first: Value =
            serde_json::from_slice(&page.render(&spec, Some("strict-page-1"))).unwrap();
        assert_eq!(first["events"].as_array().unwrap().len(), 2);
        assert_eq!(first["nextToken"], "strict-page-1");
        assert_eq!(first["searchedLogStreams"][0]["logStreamName"], "s");
        let last: Value = serde_json::from_slice(&rest.render(&spec, None)).unwrap();
        assert_eq!(last["events"][0]["message"], "c");
        assert!(last.get("nextToken").is_none());
    }

    #[test]
    fn iam_pages_say_is_truncated() {
        let xml = "<ListRolePoliciesResponse><ListRolePoliciesResult><IsTruncated>false</IsTruncated><PolicyNames><member>a</member><member>b</member><member>c</member></PolicyNames></ListRolePoliciesResult></ListRolePoliciesResponse>";
        let spec = spec("iam", "ListRolePolicies").unwrap();
        let (doc, _) = parse_xml(xml, &spec, "ListRolePolicies").unwrap();
        let (page, _) = doc.split(2);
        let text = String::from_utf8(page.render(&spec, Some("t")).to_vec()).unwrap();
        assert!(
            text.contains(
                "<Marker>t</Marker><IsTruncated>true</IsTruncated></ListRolePoliciesResult>"
            ),
            "{text}"
        );
        assert_eq!(text.matches("IsTruncated>").count(), 2);
    }
}
