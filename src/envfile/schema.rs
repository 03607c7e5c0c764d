//! The JSON Schema of `elb-watch.toml`, for editors (e.g. taplo, the Even Better TOML
//! extension), made from the same key table the file is checked against.

use serde_json::{Map, Value, json};

use super::keys::{self, Key, Kind};
use crate::naming::MAX_ENV_LEN;

/// The JSON Schema (draft 2020-12) of the whole file: `env` is an object of env tables keyed by
/// env name; an env table and an override take only their keys (`additionalProperties:
/// false`), each with its type, bounds and description. What it cannot say, the checks of
/// [`super::parse`] still do (a load balancer name's form, a mention's, a runbook's, …).
pub fn json_schema() -> Value {
    let env = table(
        "One environment: `elb-watch up`'s settings, its flags' names in snake_case.",
        keys::ENV_KEYS,
        exclusive(&[keys::MIN_HEALTHY, keys::MIN_HEALTHY_PERCENT])
            .into_iter()
            .chain(exclusive(&keys::SLACK_SOURCES))
            .collect(),
    );
    let mut overrides = table(
        "The threshold of the target groups matched by `target_group` and/or `load_balancer` \
         (both, when both are set).",
        keys::OVERRIDE_KEYS,
        Vec::new(),
    );
    overrides["anyOf"] = json!([
        { "required": ["target_group"] },
        { "required": ["load_balancer"] },
    ]);
    overrides["oneOf"] = json!([
        { "required": [keys::MIN_HEALTHY] },
        { "required": [keys::MIN_HEALTHY_PERCENT] },
    ]);
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": super::DEFAULT_FILE,
        "description": "elb-watch's environments, checked in beside the code they watch: one \
                        [env.NAME] table per environment, with what `elb-watch up` takes. \
                        Secrets never go in it: name their environment variable (*_env) or \
                        file (*_file).",
        "type": "object",
        "additionalProperties": false,
        "required": [keys::ENV],
        "properties": {
            (keys::ENV): {
                "description": "The environments, by name (a valid --env: lower-case letters, \
                                digits and inner '-').",
                "type": "object",
                "minProperties": 1,
                "propertyNames": { "pattern": env_name_pattern() },
                "additionalProperties": { "$ref": "#/$defs/env" },
            },
        },
        "$defs": {
            "env": env,
            (keys::OVERRIDE): overrides,
        },
    })
}

/// What [`crate::naming::parse_env_name`] accepts: 1 to [`MAX_ENV_LEN`] lower-case letters,
/// digits and '-', not at either end.
fn env_name_pattern() -> String {
    format!("^[a-z0-9]([a-z0-9-]{{0,{}}}[a-z0-9])?$", MAX_ENV_LEN - 2)
}

/// An object schema taking exactly `keys`, with `all_of` constraints.
fn table(description: &str, keys: &[Key], all_of: Vec<Value>) -> Value {
    let properties: Map<String, Value> = keys
        .iter()
        .map(|k| (k.name.to_string(), property(k)))
        .collect();
    let mut schema = json!({
        "description": description,
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
    });
    if !all_of.is_empty() {
        schema["allOf"] = Value::Array(all_of);
    }
    schema
}

/// "Not two of these": one `not required [a, b]` per pair.
fn exclusive(group: &[&str]) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, a) in group.iter().enumerate() {
        for b in &group[i + 1..] {
            out.push(json!({ "not": { "required": [a, b] } }));
        }
    }
    out
}

fn property(key: &Key) -> Value {
    let mut schema = match key.kind {
        Kind::Str(_) | Kind::Glob => json!({ "type": "string", "minLength": 1 }),
        Kind::EnvVar => json!({ "type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$" }),
        Kind::SecretPath => json!({ "type": "string", "minLength": 1, "not": { "const": "-" } }),
        Kind::Bool => json!({ "type": "boolean" }),
        Kind::Int { min, max } => json!({ "type": "integer", "minimum": min, "maximum": max }),
        Kind::IntOneOf(values) => json!({ "type": "integer", "enum": values }),
        Kind::OneOf(values) => json!({ "type": "string", "enum": values }),
        Kind::List(_) => json!({ "type": "array", "items": { "type": "string", "minLength": 1 } }),
        Kind::StrMap => json!({
            "type": "object",
            "propertyNames": { "minLength": 1 },
            "additionalProperties": { "type": "string" },
        }),
        Kind::Overrides => json!({ "type": "array", "items": { "$ref": "#/$defs/override" } }),
    };
    schema["description"] = Value::String(match key.flag {
        Some(flag) => format!("{} (`elb-watch up --{flag}`)", key.description),
        None => key.description.to_string(),
    });
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn names(schema: &Value) -> BTreeSet<String> {
        schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .cloned()
            .collect()
    }

    fn key_names(keys: &[Key]) -> BTreeSet<String> {
        keys.iter().map(|k| k.name.to_string()).collect()
    }

    #[test]
    fn schema_is_json_and_names_every_key() {
        let schema = json_schema();
        // Valid JSON: it prints and reads back the same.
        let text = serde_json::to_string_pretty(&schema).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, schema);

        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["required"], json!(["env"]));
        let env = &schema["properties"]["env"];
        assert_eq!(
            env["additionalProperties"],
            json!({ "$ref": "#/$defs/env" })
        );
        assert_eq!(
            env["propertyNames"]["pattern"],
            "^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$"
        );

        let env = &schema["$defs"]["env"];
        assert_eq!(env["type"], "object");
        assert_eq!(env["additionalProperties"], false);
        assert_eq!(names(env), key_names(keys::ENV_KEYS));
        let o = &schema["$defs"]["override"];
        assert_eq!(o["additionalProperties"], false);
        assert_eq!(names(o), key_names(keys::OVERRIDE_KEYS));
        assert_eq!(
            env["properties"]["override"]["items"],
            json!({ "$ref": "#/$defs/override" })
        );

        // Descriptions come from the key table, with the flag when there is one.
        for (schema, keys) in [(env, keys::ENV_KEYS), (o, keys::OVERRIDE_KEYS)] {
            for k in keys {
                let expected = match k.flag {
                    Some(flag) => format!("{} (`elb-watch up --{flag}`)", k.description),
                    None => k.description.to_string(),
                };
                assert_eq!(schema["properties"][k.name]["description"], expected);
            }
        }
        assert_eq!(
            env["properties"]["lbs"]["description"],
            "Load balancers to watch, by name, of any kind (Application, Network, Gateway, \
             Classic); combines with `tags` and `all` as the flags do. (`elb-watch up --lb`)"
        );
    }

    #[test]
    fn schema_types_and_bounds() {
        let schema = json_schema();
        let env = &schema["$defs"]["env"]["properties"];
        assert_eq!(
            env["min_healthy"],
            json!({
                "type": "integer", "minimum": 1, "maximum": u32::MAX,
                "description": env["min_healthy"]["description"],
            })
        );
        assert_eq!(env["min_healthy_percent"]["minimum"], 1);
        assert_eq!(env["min_healthy_percent"]["maximum"], 100);
        assert_eq!(env["notifier_concurrency"]["maximum"], 1000);
        assert_eq!(env["arch"]["enum"], json!(["x86_64", "arm64"]));
        assert_eq!(env["log_retention_days"]["enum"][5], 30);
        assert_eq!(
            env["lbs"]["items"],
            json!({ "type": "string", "minLength": 1 })
        );
        assert_eq!(
            env["tags"]["additionalProperties"],
            json!({ "type": "string" })
        );
        assert_eq!(env["all"]["type"], "boolean");
        assert_eq!(env["slack_url_env"]["pattern"], "^[A-Za-z_][A-Za-z0-9_]*$");
        assert!(env.get("slack_url").is_none());

        let all_of = schema["$defs"]["env"]["allOf"].as_array().unwrap();
        // min_healthy × percent, and the 6 pairs of the 4 Slack sources.
        assert_eq!(all_of.len(), 1 + 6);
        assert_eq!(
            all_of[0],
            json!({ "not": { "required": ["min_healthy", "min_healthy_percent"] } })
        );
        assert!(
            all_of
                .contains(&json!({ "not": { "required": ["slack_url_file", "slack_token_env"] } }))
        );

        let o = &schema["$defs"]["override"];
        assert_eq!(
            o["anyOf"],
            json!([{ "required": ["target_group"] }, { "required": ["load_balancer"] }])
        );
        assert_eq!(
            o["oneOf"],
            json!([{ "required": ["min_healthy"] }, { "required": ["min_healthy_percent"] }])
        );
    }
}
