//! Pure translation between Smithy RPC v2 CBOR bodies and AWS JSON 1.0 bodies.
//!
//! - Requests, CBOR → JSON, need no model: a CBOR value says what it is. Timestamps (tag 1,
//!   epoch seconds) become JSON epoch-seconds numbers, byte strings (blobs) base64 strings,
//!   non-finite floats the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (both specs:
//!   <https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html>,
//!   <https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html>).
//! - Responses, JSON → CBOR, need the output shape: a JSON number may be a timestamp (→ tag 1),
//!   a double or an integer, a JSON string may be a blob. Members the model does not know are
//!   carried over by their JSON type.
//! - Errors: the JSON `__type` (moto: `GraniteServiceVersion20100801#ResourceNotFound`) becomes
//!   the error's shape ID in the CBOR body's `__type`; the SDK keeps the part after `#`.

use super::model::{Model, Shape};
use anyhow::{Context, Result};
use base64::Engine;
use ciborium::Value as Cbor;
use serde_json::Value as Json;

/// CBOR tag 1: epoch-based date/time (RFC 8949 §3.4.2), what RPC v2 CBOR uses for timestamps.
const EPOCH_TAG: u64 = 1;

/// The Smithy namespace of CloudWatch's shapes (error shape IDs are `namespace#Name`).
pub const CLOUDWATCH_NAMESPACE: &str = "com.amazonaws.cloudwatch";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Decode a CBOR request body into the equivalent JSON document. An empty body is an empty input.
pub fn cbor_request_to_json(body: &[u8]) -> Result<Json> {
    if body.is_empty() {
        return Ok(Json::Object(Default::default()));
    }
    let value: Cbor = ciborium::from_reader(body).context("request body is not valid CBOR")?;
    Ok(cbor_to_json(value))
}

/// One CBOR value as JSON, by its own type.
pub fn cbor_to_json(value: Cbor) -> Json {
    match value {
        Cbor::Integer(i) => {
            let i = i128::from(i);
            if let Ok(v) = i64::try_from(i) {
                Json::from(v)
            } else if let Ok(v) = u64::try_from(i) {
                Json::from(v)
            } else {
                Json::from(i as f64)
            }
        }
        Cbor::Float(f) => float_to_json(f),
        Cbor::Bytes(b) => Json::String(b64().encode(b)),
        Cbor::Text(s) => Json::String(s),
        Cbor::Bool(b) => Json::Bool(b),
        Cbor::Null => Json::Null,
        // Tag 1 carries epoch seconds (integer or float): JSON 1.0 sends them as a number.
        // Other tags (none defined by the protocol) are unwrapped.
        Cbor::Tag(_, inner) => cbor_to_json(*inner),
        Cbor::Array(items) => Json::Array(items.into_iter().map(cbor_to_json).collect()),
        Cbor::Map(entries) => Json::Object(
            entries
                .into_iter()
                .map(|(k, v)| (map_key(k), cbor_to_json(v)))
                .collect(),
        ),
        // `undefined` and simple values have no JSON counterpart; the protocol does not use them.
        _ => Json::Null,
    }
}

fn map_key(key: Cbor) -> String {
    match key {
        Cbor::Text(s) => s,
        other => match cbor_to_json(other) {
            Json::String(s) => s,
            v => v.to_string(),
        },
    }
}

fn float_to_json(f: f64) -> Json {
    if f.is_nan() {
        Json::from("NaN")
    } else if f.is_infinite() {
        Json::from(if f > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        serde_json::Number::from_f64(f)
            .map(Json::Number)
            .unwrap_or(Json::Null)
    }
}

/// Encode a JSON answer as CBOR, typed by `shape` (an output or error structure) where the
/// model says more than JSON does.
pub fn json_to_cbor(model: &Model, shape: Option<&str>, value: &Json) -> Cbor {
    let Some(s) = shape.and_then(|s| model.shape(s)) else {
        return untyped(value);
    };
    match (s, value) {
        (_, Json::Null) => Cbor::Null,
        (Shape::Structure(members), Json::Object(obj)) => Cbor::Map(
            obj.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let target = members.get(k).map(String::as_str);
                    (Cbor::Text(k.clone()), json_to_cbor(model, target, v))
                })
                .collect(),
        ),
        (Shape::List(member), Json::Array(items)) => Cbor::Array(
            items
                .iter()
                .map(|v| json_to_cbor(model, Some(member), v))
                .collect(),
        ),
        (Shape::Map { value: target }, Json::Object(obj)) => Cbor::Map(
            obj.iter()
                .map(|(k, v)| (Cbor::Text(k.clone()), json_to_cbor(model, Some(target), v)))
                .collect(),
        ),
        (Shape::Timestamp, v) => match json_number(v) {
            Some(secs) => Cbor::Tag(EPOCH_TAG, Box::new(Cbor::Float(secs))),
            None => untyped(v),
        },
        (Shape::Double, v) => match json_number(v) {
            Some(f) => Cbor::Float(f),
            None => untyped(v),
        },
        (Shape::Integer, Json::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Cbor::Integer(i.into()),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e18 => {
                Cbor::Integer((f as i64).into())
            }
            _ => untyped(value),
        },
        (Shape::Blob, Json::String(s)) => match b64().decode(s) {
            Ok(bytes) => Cbor::Bytes(bytes),
            Err(_) => Cbor::Text(s.clone()),
        },
        (Shape::Boolean, Json::String(s)) if s == "true" || s == "false" => Cbor::Bool(s == "true"),
        (Shape::String, Json::Number(n)) => Cbor::Text(n.to_string()),
        (_, v) => untyped(v),
    }
}

/// A JSON number, or one of the strings JSON uses for non-finite doubles, or a numeric string.
fn json_number(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            other => other.parse().ok(),
        },
        _ => None,
    }
}

/// A JSON value as CBOR by its JSON type alone (members the model does not know).
fn untyped(value: &Json) -> Cbor {
    match value {
        Json::Null => Cbor::Null,
        Json::Bool(b) => Cbor::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Cbor::Integer(i.into()),
            (None, Some(u)) => Cbor::Integer(u.into()),
            _ => Cbor::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Cbor::Text(s.clone()),
        Json::Array(items) => Cbor::Array(items.iter().map(untyped).collect()),
        Json::Object(obj) => Cbor::Map(
            obj.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (Cbor::Text(k.clone()), untyped(v)))
                .collect(),
        ),
    }
}

/// The CBOR body of a successful answer of `operation`, from moto's JSON body.
pub fn json_response_to_cbor(model: &Model, operation: &str, body: &[u8]) -> Result<Vec<u8>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let json: Json = serde_json::from_slice(body).context("emulator answer is not JSON")?;
    encode(&json_to_cbor(model, model.output(operation), &json))
}

/// The CBOR body of an error answer, from moto's JSON error body (`__type`, `message`…).
/// moto answers some errors raised before the protocol is known (e.g. its signature check) in
/// the query protocol's XML: their `<Code>` and `<Message>` are kept. Anything else (e.g. an
/// HTML 500 page for an operation moto lacks) becomes an `InternalFailure` carrying
/// `fallback_message`.
pub fn json_error_to_cbor(model: &Model, body: &[u8], fallback_message: &str) -> Result<Vec<u8>> {
    let json: Json = match serde_json::from_slice(body) {
        Ok(j @ Json::Object(_)) => j,
        _ => {
            let text = String::from_utf8_lossy(body);
            return match xml_element(&text, "Code") {
                Some(code) => error_body(code, xml_element(&text, "Message").unwrap_or("")),
                None => error_body("InternalFailure", fallback_message),
            };
        }
    };
    let name = json["__type"]
        .as_str()
        .map(|t| t.rsplit('#').next().unwrap_or(t))
        .unwrap_or("InternalFailure")
        .to_string();
    let mut cbor = json_to_cbor(model, Some(&name), &json);
    if let Cbor::Map(entries) = &mut cbor {
        for (k, v) in entries.iter_mut() {
            if k.as_text() == Some("__type") {
                *v = Cbor::Text(format!("{CLOUDWATCH_NAMESPACE}#{name}"));
            }
        }
        if !entries.iter().any(|(k, _)| k.as_text() == Some("__type")) {
            entries.push((
                Cbor::Text("__type".into()),
                Cbor::Text(format!("{CLOUDWATCH_NAMESPACE}#{name}")),
            ));
        }
    }
    encode(&cbor)
}

/// The text of the first `<name>…</name>` in an XML error document.
fn xml_element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let len = xml[start..].find(&format!("</{name}>"))?;
    Some(xml[start..start + len].trim())
}

/// A CBOR error body `{__type: "com.amazonaws.cloudwatch#<code>", message}`.
pub fn error_body(code: &str, message: &str) -> Result<Vec<u8>> {
    encode(&Cbor::Map(vec![
        (
            Cbor::Text("__type".into()),
            Cbor::Text(format!("{CLOUDWATCH_NAMESPACE}#{code}")),
        ),
        (Cbor::Text("message".into()), Cbor::Text(message.into())),
    ]))
}

pub fn encode(value: &Cbor) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).context("CBOR encoding failed")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cbor(v: &Cbor) -> Vec<u8> {
        encode(v).unwrap()
    }

    fn text(s: &str) -> Cbor {
        Cbor::Text(s.into())
    }

    fn get<'a>(map: &'a Cbor, key: &str) -> &'a Cbor {
        map.as_map()
            .and_then(|m| m.iter().find(|(k, _)| k.as_text() == Some(key)))
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no {key} in {map:?}"))
    }

    #[test]
    fn request_cbor_becomes_json_with_nested_lists_maps_timestamps_and_blobs() {
        // A PutMetricAlarm-like input: nested list of structures, an integer, a double, a
        // tag-1 timestamp, a blob and a non-finite double.
        let body = cbor(&Cbor::Map(vec![
            (text("AlarmName"), text("a")),
            (text("EvaluationPeriods"), Cbor::Integer(3.into())),
            (text("Threshold"), Cbor::Float(0.5)),
            (
                text("Dimensions"),
                Cbor::Array(vec![Cbor::Map(vec![
                    (text("Name"), text("TargetGroup")),
                    (text("Value"), text("targetgroup/web/1")),
                ])]),
            ),
            (
                text("StartTime"),
                Cbor::Tag(1, Box::new(Cbor::Float(1_700_000_000.25))),
            ),
            (
                text("EndTime"),
                Cbor::Tag(1, Box::new(Cbor::Integer(1_700_000_600.into()))),
            ),
            (text("Blob"), Cbor::Bytes(b"\x00\xffhi".to_vec())),
            (text("Odd"), Cbor::Float(f64::NEG_INFINITY)),
            (text("Flag"), Cbor::Bool(true)),
        ]));
        let got = cbor_request_to_json(&body).unwrap();
        assert_eq!(
            got,
            json!({
                "AlarmName": "a", "EvaluationPeriods": 3, "Threshold": 0.5,
                "Dimensions": [{"Name": "TargetGroup", "Value": "targetgroup/web/1"}],
                "StartTime": 1_700_000_000.25, "EndTime": 1_700_000_600,
                "Blob": "AP9oaQ==", "Odd": "-Infinity", "Flag": true
            })
        );
        assert_eq!(cbor_request_to_json(b"").unwrap(), json!({}));
        assert!(cbor_request_to_json(b"\xff\x00").is_err());
    }

    #[test]
    fn indefinite_length_request_containers_decode() {
        // {_ "Names": [_ "a", "b"]} with indefinite-length map and array (RFC 8949 §3.2.2).
        let body = b"\xbf\x65Names\x9f\x61a\x61b\xff\xff";
        assert_eq!(
            cbor_request_to_json(body).unwrap(),
            json!({"Names": ["a", "b"]})
        );
    }

    #[test]
    fn response_json_becomes_typed_cbor() {
        let model = Model::cloudwatch();
        let moto = json!({
            "MetricAlarms": [{
                "AlarmName": "a", "StateUpdatedTimestamp": 1_795_616_349.662,
                "AlarmConfigurationUpdatedTimestamp": 1_700_000_000,
                "Threshold": 1, "Period": 60.0, "EvaluationPeriods": 1,
                "ActionsEnabled": true, "OKActions": ["arn:x"],
                "Dimensions": [{"Name": "TargetGroup", "Value": "tg"}],
                "Unmodelled": {"x": [1, 2.5]}, "Gone": null
            }],
            "CompositeAlarms": []
        });
        let out =
            json_response_to_cbor(model, "DescribeAlarms", moto.to_string().as_bytes()).unwrap();
        let v: Cbor = ciborium::from_reader(out.as_slice()).unwrap();
        let alarm = &get(&v, "MetricAlarms").as_array().unwrap()[0];
        assert_eq!(
            get(alarm, "StateUpdatedTimestamp"),
            &Cbor::Tag(1, Box::new(Cbor::Float(1_795_616_349.662)))
        );
        assert_eq!(
            get(alarm, "AlarmConfigurationUpdatedTimestamp"),
            &Cbor::Tag(1, Box::new(Cbor::Float(1_700_000_000.0)))
        );
        // Threshold is a double even when JSON wrote an integer; Period an integer even from 60.0.
        assert_eq!(get(alarm, "Threshold"), &Cbor::Float(1.0));
        assert_eq!(get(alarm, "Period"), &Cbor::Integer(60.into()));
        assert_eq!(get(alarm, "ActionsEnabled"), &Cbor::Bool(true));
        assert_eq!(get(alarm, "OKActions"), &Cbor::Array(vec![text("arn:x")]));
        assert_eq!(
            get(alarm, "Unmodelled"),
            &Cbor::Map(vec![(
                text("x"),
                Cbor::Array(vec![Cbor::Integer(1.into()), Cbor::Float(2.5)])
            )])
        );
        assert!(
            alarm
                .as_map()
                .unwrap()
                .iter()
                .all(|(k, _)| k.as_text() != Some("Gone"))
        );
    }

    #[test]
    fn blob_outputs_become_byte_strings() {
        let model = Model::cloudwatch();
        let body = json!({"MetricWidgetImage": "iVBORw0="}).to_string();
        let out = json_response_to_cbor(model, "GetMetricWidgetImage", body.as_bytes()).unwrap();
        let v: Cbor = ciborium::from_reader(out.as_slice()).unwrap();
        assert_eq!(
            get(&v, "MetricWidgetImage"),
            &Cbor::Bytes(vec![0x89, b'P', b'N', b'G', 0x0d])
        );
        // An operation without output answers with an empty body.
        assert!(
            json_response_to_cbor(model, "PutMetricAlarm", b"")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn errors_carry_the_shape_id_in_type() {
        let model = Model::cloudwatch();
        let moto = br#"{"__type": "GraniteServiceVersion20100801#ResourceNotFound", "message": "no alarm", "Message": "no alarm"}"#;
        let out = json_error_to_cbor(model, moto, "unused").unwrap();
        let v: Cbor = ciborium::from_reader(out.as_slice()).unwrap();
        assert_eq!(
            get(&v, "__type"),
            &text("com.amazonaws.cloudwatch#ResourceNotFound")
        );
        assert_eq!(get(&v, "message"), &text("no alarm"));

        let xml = b"<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>bad sig</Message></Error></ErrorResponse>";
        let out = json_error_to_cbor(model, xml, "unused").unwrap();
        let v: Cbor = ciborium::from_reader(out.as_slice()).unwrap();
        assert_eq!(
            get(&v, "__type"),
            &text("com.amazonaws.cloudwatch#SignatureDoesNotMatch")
        );
        assert_eq!(get(&v, "message"), &text("bad sig"));

        let html = b"<!doctype html><title>500 Internal Server Error</title>";
        let out = json_error_to_cbor(model, html, "moto failed").unwrap();
        let v: Cbor = ciborium::from_reader(out.as_slice()).unwrap();
        assert_eq!(
            get(&v, "__type"),
            &text("com.amazonaws.cloudwatch#InternalFailure")
        );
        assert_eq!(get(&v, "message"), &text("moto failed"));
    }
}
