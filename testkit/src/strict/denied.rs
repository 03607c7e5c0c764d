//! Authorisation refusals: an authorisation refusal comes back in the service's own protocol.
//!
//! With its IAM enforcement on, moto answers every refused request with the same XML body
//! (`<Code>AccessDenied</Code>`, `moto/core/exceptions.py` `AccessDeniedError`), which the SDKs
//! of JSON and REST-JSON services (KMS, Lambda, Logs, the Tagging API, CloudWatch over JSON)
//! cannot parse — nor can the query services' SDKs, since moto wraps the error in an `<Errors>`
//! element that AWS's `<ErrorResponse><Error>` has not: the caller sees "UnknownError: no
//! message". AWS answers the JSON services with
//! their JSON error shape, `AccessDeniedException`, and a message naming the IAM action
//! ("User: arn:… is not authorized to perform: kms:ListResourceTags on resource: …"):
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html>.
//! moto also names actions by signing name (`monitoring:`, `tagging:`) where IAM says
//! `cloudwatch:` and `tag:`; the message gets IAM's names. Query services answer `AccessDenied`
//! (IAM, ELB), SNS `AuthorizationError`
//! (HTTP 403, e.g. <https://docs.aws.amazon.com/sns/latest/api/API_ListTagsForResource.html>).

use axum::http::StatusCode;
use axum::response::Response;

use super::Upstream;
use super::protocol::{self, Call, Protocol};

/// IAM's action prefix for a signing name moto uses in its messages.
const IAM_PREFIX: [(&str, &str); 2] = [("monitoring:", "cloudwatch:"), ("tagging:", "tag:")];

/// The message with IAM's action names.
pub(crate) fn iam_names(message: &str) -> String {
    IAM_PREFIX
        .iter()
        .fold(message.to_string(), |m, (moto, iam)| {
            m.replace(&format!("perform: {moto}"), &format!("perform: {iam}"))
        })
}

/// `Some(answer)` when `up` is moto's XML refusal of a JSON or REST-JSON call.
pub(crate) fn rewrite(call: &Call, up: &Upstream) -> Option<Response> {
    if up.status != StatusCode::FORBIDDEN
        || !matches!(
            call.protocol,
            Protocol::Json { .. } | Protocol::RestJson | Protocol::Query
        )
    {
        return None;
    }
    let text = up.text();
    if protocol::xml_text(&text, "Code").as_deref() != Some("AccessDenied") {
        return None;
    }
    let message = iam_names(&protocol::xml_text(&text, "Message").unwrap_or_default());
    // CloudWatch is query-compatible: `error` adds the `AccessDenied;Sender` header.
    let code = match (&call.protocol, call.service.as_str()) {
        (Protocol::Query, "sns") => "AuthorizationError",
        (Protocol::Query, _) | (_, "monitoring") => "AccessDenied",
        _ => "AccessDeniedException",
    };
    Some(protocol::error(call, StatusCode::FORBIDDEN, code, &message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, Uri};

    fn kms_call() -> Call {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            "application/x-amz-json-1.1".parse().unwrap(),
        );
        headers.insert(
            "x-amz-target",
            "TrentService.ListResourceTags".parse().unwrap(),
        );
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIA/20261125/us-east-1/kms/aws4_request, \
             SignedHeaders=host, Signature=x"
                .parse()
                .unwrap(),
        );
        protocol::parse(
            &Method::POST,
            &Uri::from_static("/"),
            &headers,
            &Bytes::from_static(b"{\"KeyId\":\"k\"}"),
        )
    }

    fn moto_refusal(action: &str) -> Upstream {
        Upstream {
            status: StatusCode::FORBIDDEN,
            headers: HeaderMap::new(),
            body: Bytes::from(format!(
                "<?xml version=\"1.0\"?><ErrorResponse><Errors><Error><Code>AccessDenied</Code>\
                 <Message>User: arn:aws:iam::123456789012:user/ops is not authorized to \
                 perform: {action}</Message></Error></Errors></ErrorResponse>"
            )),
        }
    }

    #[tokio::test]
    async fn a_refused_json_call_gets_access_denied_exception_naming_the_action() {
        let resp = rewrite(&kms_call(), &moto_refusal("kms:ListResourceTags")).unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["__type"], "AccessDeniedException");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .ends_with("not authorized to perform: kms:ListResourceTags"),
            "{v}"
        );
    }

    #[test]
    fn other_answers_are_left_alone_and_moto_names_become_iam_names() {
        let mut ok = moto_refusal("kms:ListKeys");
        ok.status = StatusCode::OK;
        assert!(rewrite(&kms_call(), &ok).is_none());
        assert_eq!(
            iam_names("User: u is not authorized to perform: monitoring:DescribeAlarms"),
            "User: u is not authorized to perform: cloudwatch:DescribeAlarms"
        );
        assert_eq!(
            iam_names("not authorized to perform: tagging:GetResources"),
            "not authorized to perform: tag:GetResources"
        );
    }
}
