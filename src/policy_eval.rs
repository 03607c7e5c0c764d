//! A small IAM policy evaluator for the tests of elb-watch's own documents: the operator policy
//! (`policy/operator-policy.json`), the notifier's role policies and its boundary. moto matches
//! actions only and evaluates no conditions (tests/operator_policy.rs), so what the conditions
//! forbid — a role without the boundary, someone else's KMS key, a policy that is not
//! elb-watch's — is proven here, against the documents as written.
//!
//! It follows IAM's evaluation logic for one identity policy
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>):
//! an explicit `Deny` wins, else an `Allow` whose action, resource and every condition match,
//! else the implicit deny. Conditions
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>,
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>):
//! operators AND, keys AND, a key's values OR; a missing key fails a positive operator and
//! passes a negated one (`…IfExists` passes when missing); `ForAllValues:` passes when every
//! request value matches (and when the key is missing), `ForAnyValue:` when one does. Policy
//! variables (`${aws:PrincipalAccount}`) are replaced from the request's context. Only what
//! elb-watch's documents use is supported; anything else panics, so a new construct cannot be
//! silently misjudged.

use serde_json::Value;
use std::collections::BTreeMap;

/// One request as IAM sees it: the action, the resource's ARN and the context keys.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub action: String,
    pub resource: String,
    pub context: BTreeMap<String, Vec<String>>,
}

impl Request {
    pub fn new(action: &str, resource: &str) -> Self {
        Request {
            action: action.to_string(),
            resource: resource.to_string(),
            context: BTreeMap::new(),
        }
    }

    /// Adds a context key with its values (a single-valued key has one).
    pub fn with(mut self, key: &str, values: &[&str]) -> Self {
        self.context.insert(
            key.to_string(),
            values.iter().map(|v| v.to_string()).collect(),
        );
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// The decision of the identity policy `doc` on `req`.
pub fn evaluate(doc: &Value, req: &Request) -> Decision {
    let statements = match &doc["Statement"] {
        Value::Array(v) => v.clone(),
        one @ Value::Object(_) => vec![one.clone()],
        other => panic!("Statement is {other}"),
    };
    let mut allowed = false;
    for st in &statements {
        for unsupported in ["NotAction", "NotResource", "NotPrincipal"] {
            assert!(st.get(unsupported).is_none(), "{unsupported} unsupported");
        }
        if !matches_statement(st, req) {
            continue;
        }
        match st["Effect"].as_str() {
            Some("Deny") => return Decision::ExplicitDeny,
            Some("Allow") => allowed = true,
            other => panic!("Effect {other:?}"),
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// Allowed by every one of `docs` (a role's policies intersected with its boundary: pass the
/// union of the role's policies as one document list and the boundary as another).
pub fn allowed(docs: &[&Value], req: &Request) -> bool {
    docs.iter().all(|d| evaluate(d, req) == Decision::Allow)
}

/// Allowed by one of `docs` and denied by none (several identity policies of one role).
pub fn allowed_by_any(docs: &[&Value], req: &Request) -> bool {
    let decisions: Vec<Decision> = docs.iter().map(|d| evaluate(d, req)).collect();
    !decisions.contains(&Decision::ExplicitDeny) && decisions.contains(&Decision::Allow)
}

/// Every action a document allows or denies, as written.
pub fn actions(doc: &Value) -> Vec<String> {
    doc["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|st| strings(&st["Action"]))
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().expect("a string").to_string())
            .collect(),
        Value::Null => vec![],
        other => panic!("expected a string or a list: {other}"),
    }
}

fn matches_statement(st: &Value, req: &Request) -> bool {
    let action_ok = strings(&st["Action"])
        .iter()
        .any(|a| glob(&a.to_ascii_lowercase(), &req.action.to_ascii_lowercase()));
    let resource_ok = strings(&st["Resource"])
        .iter()
        .any(|r| glob(&substitute(r, req), &req.resource));
    action_ok && resource_ok && conditions_hold(&st["Condition"], req)
}

/// `${key}` policy variables replaced by the request's (single) value of `key`.
fn substitute(text: &str, req: &Request) -> String {
    let mut out = text.to_string();
    while let Some(start) = out.find("${") {
        let end = out[start..].find('}').expect("closed variable") + start;
        let key = &out[start + 2..end];
        let value = req
            .context
            .get(key)
            .and_then(|v| v.first())
            .unwrap_or_else(|| panic!("policy variable {key} not in the request context"))
            .clone();
        out.replace_range(start..=end, &value);
    }
    out
}

fn conditions_hold(block: &Value, req: &Request) -> bool {
    let Some(ops) = block.as_object() else {
        assert!(block.is_null(), "Condition is {block}");
        return true;
    };
    ops.iter().all(|(op, keys)| {
        keys.as_object()
            .unwrap_or_else(|| panic!("{op}: {keys}"))
            .iter()
            .all(|(key, wanted)| {
                let wanted: Vec<String> =
                    strings(wanted).iter().map(|w| substitute(w, req)).collect();
                condition_holds(op, req.context.get(key), &wanted)
            })
    })
}

fn condition_holds(op: &str, got: Option<&Vec<String>>, wanted: &[String]) -> bool {
    let (set, op) = match op.split_once(':') {
        Some((set @ ("ForAllValues" | "ForAnyValue"), rest)) => (Some(set), rest),
        _ => (None, op),
    };
    let (op, if_exists) = match op.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (op, false),
    };
    let (negated, base) = match op {
        "StringEquals" | "ArnEquals" => (false, "equals"),
        "StringLike" | "ArnLike" => (false, "like"),
        "StringNotEquals" | "ArnNotEquals" => (true, "equals"),
        "StringNotLike" | "ArnNotLike" => (true, "like"),
        "Null" => {
            let missing = got.is_none_or(|v| v.is_empty());
            return wanted.iter().any(|w| (w == "true") == missing);
        }
        other => panic!("condition operator {other} unsupported"),
    };
    let one = |value: &str| {
        wanted.iter().any(|w| match base {
            "equals" => w == value,
            _ => glob(w, value),
        })
    };
    let values = match got {
        Some(v) if !v.is_empty() => v,
        _ => {
            return match set {
                Some("ForAllValues") => true,
                Some(_) => false,
                None => negated || if_exists,
            };
        }
    };
    let matched = match set {
        Some("ForAllValues") => values.iter().all(|v| one(v)),
        _ => values.iter().any(|v| one(v)),
    };
    matched != negated
}

/// IAM's wildcard match: `*` any run of characters (including `:` and `/`), `?` one.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(statements: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    #[test]
    fn deny_wins_and_nothing_is_allowed_by_default() {
        let d = doc(json!([
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::logs"}
        ]));
        assert_eq!(
            evaluate(&d, &Request::new("s3:GetObject", "arn:aws:s3:::x/y")),
            Decision::Allow
        );
        assert_eq!(
            evaluate(&d, &Request::new("S3:deletebucket", "arn:aws:s3:::logs")),
            Decision::ExplicitDeny,
            "actions are case-insensitive"
        );
        assert_eq!(
            evaluate(&d, &Request::new("sqs:SendMessage", "*")),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn conditions_follow_iam_semantics() {
        let d = doc(json!([{
            "Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:RequestTag/owner": "me"},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["owner", "env"]}
            }
        }]));
        let create = Request::new("kms:CreateKey", "*");
        assert!(!allowed(&[&d], &create), "missing key fails StringEquals");
        let tagged = create
            .clone()
            .with("aws:RequestTag/owner", &["me"])
            .with("aws:TagKeys", &["owner"]);
        assert!(allowed(&[&d], &tagged));
        let extra = tagged.clone().with("aws:TagKeys", &["owner", "team"]);
        assert!(
            !allowed(&[&d], &extra),
            "ForAllValues: every value must match"
        );
        let other = tagged.with("aws:RequestTag/owner", &["you"]);
        assert!(!allowed(&[&d], &other));

        let neg = doc(json!([{
            "Effect": "Allow", "Action": "a:B", "Resource": "*",
            "Condition": {"StringNotEquals": {"k": "x"}, "ForAnyValue:StringLike": {"m": ["p*"]}}
        }]));
        let req = Request::new("a:B", "*");
        assert!(
            !allowed(&[&neg], &req),
            "ForAnyValue fails on a missing key"
        );
        let req = req.with("m", &["q", "pz"]);
        assert!(allowed(&[&neg], &req), "negated passes on a missing key");
        assert!(!allowed(&[&neg], &req.with("k", &["x"])));
    }

    #[test]
    fn policy_variables_come_from_the_context() {
        let d = doc(json!([{
            "Effect": "Allow", "Action": "iam:CreateRole",
            "Resource": "arn:aws:iam::${aws:PrincipalAccount}:role/*",
            "Condition": {"StringEquals": {"iam:PermissionsBoundary":
                "arn:aws:iam::${aws:PrincipalAccount}:policy/b"}}
        }]));
        let req = |acct: &str, boundary: &str| {
            Request::new("iam:CreateRole", &format!("arn:aws:iam::{acct}:role/r"))
                .with("aws:PrincipalAccount", &["111"])
                .with("iam:PermissionsBoundary", &[boundary])
        };
        assert!(allowed(&[&d], &req("111", "arn:aws:iam::111:policy/b")));
        assert!(!allowed(&[&d], &req("222", "arn:aws:iam::111:policy/b")));
        assert!(!allowed(&[&d], &req("111", "arn:aws:iam::222:policy/b")));
    }

    #[test]
    fn globs_span_separators() {
        assert!(glob(
            "arn:aws:sns:*:*:elb-watch-*",
            "arn:aws:sns:r:1:elb-watch-p:uuid"
        ));
        assert!(glob("a?c", "abc"));
        assert!(!glob("elb-watch-*", "payments"));
    }
}
