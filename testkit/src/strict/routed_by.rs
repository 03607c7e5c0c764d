//! Rule 19 — a target group's `LoadBalancerArns` say who routes to it now.
//!
//! DescribeTargetGroups answers each group's `LoadBalancerArns`: "the Amazon Resource Name (ARN)
//! of the load balancer that routes traffic to this target group"
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroup.html>),
//! through a listener's default actions or any rule, plain or weighted forwards. moto appends an
//! ARN when a listener or rule is created with a forward and never takes one away: ModifyRule,
//! ModifyListener, DeleteRule and DeleteListener leave stale ARNs (and ModifyRule adds none),
//! so a group no longer routed to still looks routed. After moto answers DescribeTargetGroups,
//! the layer recomputes every group's `LoadBalancerArns` from moto's listeners and rules
//! (DescribeLoadBalancers, DescribeListeners, DescribeRules, every page) and rewrites them,
//! counted `routed-by:rewritten`. When a read fails (e.g. under IAM enforcement the internal
//! reads are refused) the answer is left as moto gave it, counted `routed-by:unread`.

use super::Upstream;
use super::{Shared, lambda_async::headers_for, protocol::Call};
use axum::body::Bytes;
use axum::http::HeaderMap;
use std::collections::{BTreeMap, BTreeSet};

const VERSION: &str = "2015-12-01";

pub(crate) fn between<'a>(doc: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    doc.split(open)
        .skip(1)
        .filter_map(|p| p.split(close).next())
        .collect()
}

/// Every page of one ELBv2 describe call, as XML documents.
pub(crate) async fn pages(
    shared: &Shared,
    headers: &HeaderMap,
    action: &str,
    filter: Option<(&str, &str)>,
) -> Option<Vec<String>> {
    let headers = headers_for(headers, "elasticloadbalancing");
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut form = vec![("Action", action), ("Version", VERSION)];
        if let Some(f) = filter {
            form.push(f);
        }
        if let Some(m) = marker.as_deref() {
            form.push(("Marker", m));
        }
        let doc = super::alarms::moto_query(shared, &headers, &form).await?;
        marker = super::protocol::xml_text(&doc, "NextMarker").filter(|m| !m.is_empty());
        out.push(doc);
        if marker.is_none() {
            return Some(out);
        }
    }
}

/// target group ARN → the load balancers whose listeners or rules forward to it, from moto.
async fn routing(
    shared: &Shared,
    headers: &HeaderMap,
) -> Option<BTreeMap<String, BTreeSet<String>>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let lbs: Vec<String> = pages(shared, headers, "DescribeLoadBalancers", None)
        .await?
        .iter()
        .flat_map(|d| between(d, "<LoadBalancerArn>", "</LoadBalancerArn>"))
        .map(str::to_string)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for lb in lbs {
        let listeners = pages(
            shared,
            headers,
            "DescribeListeners",
            Some(("LoadBalancerArn", &lb)),
        )
        .await?;
        let mut forwarded: Vec<String> = Vec::new();
        let mut listener_arns = BTreeSet::new();
        for doc in &listeners {
            forwarded.extend(
                between(doc, "<TargetGroupArn>", "</TargetGroupArn>")
                    .iter()
                    .map(|s| s.to_string()),
            );
            listener_arns.extend(
                between(doc, "<ListenerArn>", "</ListenerArn>")
                    .iter()
                    .map(|s| s.to_string()),
            );
        }
        for listener in listener_arns {
            for doc in pages(
                shared,
                headers,
                "DescribeRules",
                Some(("ListenerArn", &listener)),
            )
            .await?
            {
                forwarded.extend(
                    between(&doc, "<TargetGroupArn>", "</TargetGroupArn>")
                        .iter()
                        .map(|s| s.to_string()),
                );
            }
        }
        for tg in forwarded {
            out.entry(tg).or_default().insert(lb.clone());
        }
    }
    Some(out)
}

/// The top-level `<member>` blocks of `section` (byte ranges, tags included), skipping the
/// members nested inside them.
fn top_level_members(section: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut i) = (0usize, 0usize, 0usize);
    while i < section.len() {
        let rest = &section[i..];
        if rest.starts_with("<member>") {
            if depth == 0 {
                start = i;
            }
            depth += 1;
            i += "<member>".len();
        } else if rest.starts_with("</member>") {
            depth = depth.saturating_sub(1);
            i += "</member>".len();
            if depth == 0 {
                out.push((start, i));
            }
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    out
}

/// `doc` with each target group's `LoadBalancerArns` replaced from `routing`.
pub(crate) fn rewrite_doc(doc: &str, routing: &BTreeMap<String, BTreeSet<String>>) -> String {
    let Some(open) = doc.find("<TargetGroups>") else {
        return doc.to_string();
    };
    let body_start = open + "<TargetGroups>".len();
    let Some(close) = doc[body_start..]
        .find("</TargetGroups>")
        .map(|c| c + body_start)
    else {
        return doc.to_string();
    };
    let section = &doc[body_start..close];
    let mut rebuilt = String::new();
    let mut last = 0;
    for (s, e) in top_level_members(section) {
        rebuilt.push_str(&section[last..s]);
        let member = &section[s..e];
        let inner = &member["<member>".len()..member.len() - "</member>".len()];
        // The group's own ARN: the TargetGroupArn outside its LoadBalancerArns.
        let without_lbs = strip_lb_arns(inner);
        let arn = between(&without_lbs, "<TargetGroupArn>", "</TargetGroupArn>")
            .first()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let lbs: String = routing
            .get(&arn)
            .into_iter()
            .flatten()
            .map(|lb| format!("<member>{lb}</member>"))
            .collect();
        rebuilt.push_str(&format!(
            "<member><LoadBalancerArns>{lbs}</LoadBalancerArns>{without_lbs}</member>"
        ));
        last = e;
    }
    rebuilt.push_str(&section[last..]);
    format!("{}{rebuilt}{}", &doc[..body_start], &doc[close..])
}

/// A member's body without its `LoadBalancerArns` element (any of its forms).
fn strip_lb_arns(inner: &str) -> String {
    if let Some(s) = inner.find("<LoadBalancerArns>")
        && let Some(e) = inner[s..].find("</LoadBalancerArns>")
    {
        let e = s + e + "</LoadBalancerArns>".len();
        return format!("{}{}", &inner[..s], &inner[e..]);
    }
    inner.replace("<LoadBalancerArns/>", "")
}

pub(crate) async fn rewrite(
    shared: &Shared,
    call: &Call,
    headers: &HeaderMap,
    mut up: Upstream,
) -> Upstream {
    if !shared.config.routed_by
        || !up.ok()
        || !call.is("elasticloadbalancing", "DescribeTargetGroups")
    {
        return up;
    }
    let Some(routing) = routing(shared, headers).await else {
        shared.lock().count("routed-by", "unread");
        return up;
    };
    // The answer's Content-Length is not passed on (`Upstream::into_response`).
    up.body = Bytes::from(rewrite_doc(&up.text(), &routing));
    shared.lock().count("routed-by", "rewritten");
    up
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_arns_are_replaced_and_missing_ones_added() {
        let doc = "<R><TargetGroups>\
            <member><LoadBalancerArns><member>lb-old</member></LoadBalancerArns><TargetGroupArn>tg-a</TargetGroupArn><Port>80</Port></member>\
            <member><TargetGroupArn>tg-b</TargetGroupArn></member>\
            <member><LoadBalancerArns/><TargetGroupArn>tg-c</TargetGroupArn></member>\
            </TargetGroups><NextMarker>m</NextMarker></R>";
        let routing: BTreeMap<String, BTreeSet<String>> = [
            (
                "tg-b".to_string(),
                ["lb-1".to_string(), "lb-2".to_string()].into(),
            ),
            ("tg-c".to_string(), ["lb-1".to_string()].into()),
        ]
        .into();
        let out = rewrite_doc(doc, &routing);
        assert!(out.contains("<member><LoadBalancerArns></LoadBalancerArns><TargetGroupArn>tg-a</TargetGroupArn><Port>80</Port></member>"), "{out}");
        assert!(out.contains("<member><LoadBalancerArns><member>lb-1</member><member>lb-2</member></LoadBalancerArns><TargetGroupArn>tg-b</TargetGroupArn></member>"), "{out}");
        assert!(out.contains("<LoadBalancerArns><member>lb-1</member></LoadBalancerArns><TargetGroupArn>tg-c</TargetGroupArn>"), "{out}");
        assert!(
            out.ends_with("</TargetGroups><NextMarker>m</NextMarker></R>"),
            "{out}"
        );
        assert!(!out.contains("lb-old"));
    }
}
