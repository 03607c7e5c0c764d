//! Rule 18 — a new KMS key is not yet authorised by its tags.
//!
//! The operator policy reaches elb-watch's keys only through their tag
//! (`aws:ResourceTag/elb-watch:managed-by`), and KMS documents that "changes to tags and aliases
//! might take up to five minutes to affect KMS key authorization"
//! (<https://docs.aws.amazon.com/kms/latest/developerguide/abac.html>). moto authorises no
//! resource and no tag. For `StrictConfig::key_tag_lag` after a CreateKey through the layer,
//! every KMS call naming that key (by id, ARN, or an alias made through the layer) but
//! ListKeys / ListAliases is refused as a tag-authorised caller would be: 400
//! `AccessDeniedException` "User: … is not authorized to perform: kms:OP on resource: ARN
//! because no identity-based policy allows the kms:OP action". Off by default: an
//! administrator's unconditional permissions do not lag; tests/operator_policy.rs turns it on.

use super::protocol::{self, Call};
use super::{Inner, StrictConfig, Upstream};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Instant;

#[derive(Default)]
pub(crate) struct Keys {
    /// key id → (ARN, authorised by its tags from)
    young: HashMap<String, (String, Instant)>,
    /// alias name → key id
    aliases: HashMap<String, String>,
}

impl Keys {
    /// The young key `named` (key id, key ARN or alias name) refers to.
    fn young(&self, named: &str) -> Option<&str> {
        let id = named.rsplit('/').next().unwrap_or(named);
        let id = if named.contains("alias/") {
            let alias = &named[named.find("alias/").unwrap_or(0)..];
            self.aliases.get(alias).map(String::as_str)?
        } else {
            id
        };
        let (arn, until) = self.young.get(id)?;
        (Instant::now() < *until).then_some(arn.as_str())
    }
}

pub(crate) fn check(inner: &mut Inner, c: &StrictConfig, call: &Call) -> Option<Response> {
    if c.key_tag_lag.is_zero()
        || call.service != "kms"
        || matches!(
            call.operation.as_str(),
            "CreateKey" | "ListKeys" | "ListAliases"
        )
    {
        return None;
    }
    let named = call
        .json_str("KeyId")
        .or_else(|| call.json_str("TargetKeyId"))?;
    let arn = inner.key_tags.young(named)?.to_string();
    let op = call.operation.clone();
    inner.count("key-tags-not-yet-authorised", &op);
    Some(protocol::error(
        call,
        StatusCode::BAD_REQUEST,
        "AccessDeniedException",
        &format!(
            "User: arn:aws:iam::123456789012:user/operator is not authorized to perform: \
             kms:{op} on resource: {arn} because no identity-based policy allows the kms:{op} \
             action"
        ),
    ))
}

pub(crate) fn record(inner: &mut Inner, c: &StrictConfig, call: &Call, up: &Upstream) {
    if c.key_tag_lag.is_zero() || call.service != "kms" {
        return;
    }
    match call.operation.as_str() {
        "CreateKey" => {
            let body: Value = serde_json::from_str(&up.text()).unwrap_or(Value::Null);
            let meta = &body["KeyMetadata"];
            if let (Some(id), Some(arn)) = (meta["KeyId"].as_str(), meta["Arn"].as_str()) {
                inner.key_tags.young.insert(
                    id.to_string(),
                    (arn.to_string(), Instant::now() + c.key_tag_lag),
                );
            }
        }
        "CreateAlias" | "UpdateAlias" => {
            if let (Some(alias), Some(key)) =
                (call.json_str("AliasName"), call.json_str("TargetKeyId"))
            {
                let id = key.rsplit('/').next().unwrap_or(key).to_string();
                inner.key_tags.aliases.insert(alias.to_string(), id);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_key_is_found_by_id_arn_or_alias_while_young() {
        let mut keys = Keys::default();
        let arn = "arn:aws:kms:us-east-1:1:key/k1";
        keys.young.insert(
            "k1".into(),
            (arn.into(), Instant::now() + Duration::from_secs(60)),
        );
        keys.aliases
            .insert("alias/elb-watch-p-key".into(), "k1".into());
        assert_eq!(keys.young("k1"), Some(arn));
        assert_eq!(keys.young(arn), Some(arn));
        assert_eq!(keys.young("alias/elb-watch-p-key"), Some(arn));
        assert_eq!(
            keys.young("arn:aws:kms:us-east-1:1:alias/elb-watch-p-key"),
            Some(arn)
        );
        assert_eq!(keys.young("k2"), None);
        keys.young.insert("k1".into(), (arn.into(), Instant::now()));
        assert_eq!(keys.young("k1"), None, "authorised once the lag is over");
    }
}
