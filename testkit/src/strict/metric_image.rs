//! Rule 25 — GetMetricWidgetImage answers a PNG of the `MetricWidget` it was asked for.
//!
//! AWS: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricWidgetImage.html>
//! takes `MetricWidget`, "a JSON string that defines the bitmap graph", at most 100 metrics and
//! 100 KB, and `OutputFormat` ("Only PNG images are supported": `png`, or `image/png` for raw
//! HTTP callers); it answers `MetricWidgetImage`, the image (base64 in the JSON protocol, a
//! blob in CBOR: the CBOR bridge turns the JSON string into a byte string, translate.rs). The
//! JSON's syntax is <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Metric-Widget-Structure.html>:
//! `metrics` required, 1–100 entries, each an array — `[Namespace, MetricName, (DimensionName,
//! DimensionValue)…, {rendering options}?]` of strings but for the last, or `[{"expression":
//! …}]` —, `width`/`height` integers 1–2000, `start`/`end` strings, `annotations.horizontal`
//! entries with a numeric `value` (or a band of two), `view` one of `timeSeries`,
//! `singleValue`, `bar`, `pie`, `gauge`. The operation has no errors of its own; a widget that
//! breaks these rules is answered with CloudWatch's common `InvalidParameterValue` (a missing
//! `MetricWidget`, `MissingParameter`), and a throttled call with `Throttling`
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CommonErrors.html>).
//!
//! moto has no such operation (it answers 500). The call (JSON 1.0, what the CBOR bridge hands
//! the layer) is still sent to moto first, so moto's IAM enforcement decides who may make it (a
//! refusal comes back as `AccessDenied`, rule 10); the layer answers it then: a small real PNG
//! (1-bit, the widget's size scaled down by [`SCALE`], a red line across it). For tests,
//! [`StrictConfig::metric_image_delay`] makes it slow and
//! [`StrictConfig::metric_image_refusal`] answers an error code instead.
//!
//! [`StrictConfig::metric_image_delay`]: super::StrictConfig::metric_image_delay
//! [`StrictConfig::metric_image_refusal`]: super::StrictConfig::metric_image_refusal

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

use super::protocol::{self, Call, Protocol};
use super::{Shared, denied, forward};

/// The answer's image is the widget's size divided by this (a graph of 800 × 400 px becomes
/// 200 × 100): small answers, still a real PNG of the widget's shape.
pub const SCALE: u32 = 4;

/// The widget's size when it gives none (the reference's defaults).
pub const DEFAULT_WIDTH: u32 = 600;
pub const DEFAULT_HEIGHT: u32 = 400;

/// The payload limit of the reference ("Up to 100 KB uncompressed payload").
pub const MAX_WIDGET_BYTES: usize = 100 * 1024;

/// The eight bytes every PNG starts with.
pub const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

/// GetMetricWidgetImage over JSON: moto authorises, the layer answers.
pub(crate) async fn answer(
    shared: &Shared,
    call: &Call,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<Response> {
    if !shared.config.metric_image
        || !call.is("monitoring", "GetMetricWidgetImage")
        || !matches!(call.protocol, Protocol::Json { .. })
    {
        return None;
    }
    let up = match forward(shared, method, uri, headers, body.clone()).await {
        Ok(up) => up,
        Err(e) => return Some((StatusCode::BAD_GATEWAY, e).into_response()),
    };
    if let Some(refused) = denied::rewrite(call, &up) {
        return Some(refused);
    }
    if !shared.config.metric_image_delay.is_zero() {
        tokio::time::sleep(shared.config.metric_image_delay).await;
    }
    if let Some(code) = &shared.config.metric_image_refusal {
        shared.lock().count("metric-image", "refused");
        let status = if code == "AccessDenied" {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::BAD_REQUEST
        };
        let message = format!("GetMetricWidgetImage refused by the test's configuration ({code})");
        return Some(protocol::error(call, status, code, &message));
    }
    Some(match image(&call.json) {
        Ok(png) => {
            shared.lock().count("metric-image", &call.operation);
            let out = json!({
                "MetricWidgetImage": base64::engine::general_purpose::STANDARD.encode(png)
            });
            (
                StatusCode::OK,
                [("content-type", "application/x-amz-json-1.0")],
                out.to_string(),
            )
                .into_response()
        }
        Err((code, message)) => {
            shared.lock().count("metric-image", "invalid");
            protocol::error(call, StatusCode::BAD_REQUEST, code, &message)
        }
    })
}

/// The PNG for the call's input, or the error (code, message) CloudWatch would answer.
pub fn image(input: &Value) -> Result<Vec<u8>, (&'static str, String)> {
    let Some(text) = input["MetricWidget"].as_str() else {
        return Err((
            "MissingParameter",
            "The parameter MetricWidget is required.".into(),
        ));
    };
    if let Some(format) = input["OutputFormat"].as_str()
        && format != "png"
        && format != "image/png"
    {
        return Err((
            "InvalidParameterValue",
            format!(
                "The value {format} for parameter OutputFormat is invalid: only png is supported."
            ),
        ));
    }
    let (width, height) = validate(text).map_err(|m| ("InvalidParameterValue", m))?;
    Ok(png((width / SCALE).max(1), (height / SCALE).max(1)))
}

/// Checks `text` as the reference describes a MetricWidget; its width and height.
pub fn validate(text: &str) -> Result<(u32, u32), String> {
    if text.len() > MAX_WIDGET_BYTES {
        return Err(format!(
            "MetricWidget is {} bytes: at most {MAX_WIDGET_BYTES} are allowed.",
            text.len()
        ));
    }
    let widget: Value =
        serde_json::from_str(text).map_err(|e| format!("MetricWidget is not valid JSON: {e}"))?;
    let Some(w) = widget.as_object() else {
        return Err("MetricWidget must be a JSON object.".into());
    };
    let Some(metrics) = w.get("metrics").and_then(Value::as_array) else {
        return Err("The field metrics is required and must be an array.".into());
    };
    if metrics.is_empty() || metrics.len() > 100 {
        return Err(format!(
            "The field metrics must have 1 to 100 entries, not {}.",
            metrics.len()
        ));
    }
    for (i, m) in metrics.iter().enumerate() {
        metric(m).map_err(|why| format!("metrics[{i}]: {why}"))?;
    }
    let size = |key: &str, default: u32| match w.get(key) {
        None => Ok(default),
        Some(v) => v
            .as_u64()
            .filter(|n| (1..=2000).contains(n))
            .map(|n| n as u32)
            .ok_or_else(|| format!("The field {key} must be an integer from 1 to 2000.")),
    };
    let width = size("width", DEFAULT_WIDTH)?;
    let height = size("height", DEFAULT_HEIGHT)?;
    for key in ["start", "end", "title", "timezone"] {
        if w.get(key).is_some_and(|v| !v.is_string()) {
            return Err(format!("The field {key} must be a string."));
        }
    }
    if let Some(view) = w.get("view")
        && !["timeSeries", "singleValue", "bar", "pie", "gauge"]
            .iter()
            .any(|v| view == v)
    {
        return Err(format!("The field view has an invalid value {view}."));
    }
    if let Some(p) = w.get("period")
        && !p
            .as_u64()
            .is_some_and(|p| [1, 5, 10, 30].contains(&p) || (p > 0 && p % 60 == 0))
    {
        return Err(format!(
            "The field period must be 1, 5, 10, 30 or a multiple of 60, not {p}."
        ));
    }
    let annotations = w.get("annotations");
    for a in annotations
        .and_then(|a| a.get("horizontal"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let edges: Vec<&Value> = match a.as_array() {
            Some(band) if band.len() == 2 => band.iter().collect(),
            Some(_) => return Err("A horizontal band has two edges.".into()),
            None => vec![a],
        };
        if edges.iter().any(|e| !e["value"].is_number()) {
            return Err("A horizontal annotation needs a numeric value.".into());
        }
        if let Some(fill) = a.get("fill")
            && !["above", "below", "none"].iter().any(|f| fill == f)
        {
            return Err(format!("The annotation fill {fill} is invalid."));
        }
    }
    for a in annotations
        .and_then(|a| a.get("vertical"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let edges: Vec<&Value> = match a.as_array() {
            Some(band) if band.len() == 2 => band.iter().collect(),
            Some(_) => return Err("A vertical band has two edges.".into()),
            None => vec![a],
        };
        if edges.iter().any(|e| !e["value"].is_string()) {
            return Err("A vertical annotation needs a time as its value.".into());
        }
    }
    Ok((width, height))
}

/// One entry of `metrics`.
fn metric(m: &Value) -> Result<(), String> {
    let Some(parts) = m.as_array().filter(|p| !p.is_empty()) else {
        return Err("each metric is a non-empty array".into());
    };
    let (path, options) = match parts.last() {
        Some(Value::Object(o)) => (&parts[..parts.len() - 1], Some(o)),
        _ => (&parts[..], None),
    };
    if path.is_empty() {
        // A metric-math expression: its options carry it.
        return match options
            .and_then(|o| o.get("expression"))
            .and_then(Value::as_str)
        {
            Some(e) if !e.is_empty() => Ok(()),
            _ => Err("an entry of options only must carry an expression".into()),
        };
    }
    if path.iter().any(|p| !p.is_string()) {
        return Err("namespace, metric name and dimensions are strings".into());
    }
    // "..." repeats the previous entry's namespace / dimensions: not used by elb-watch; the
    // namespace and name are required, dimensions come in name/value pairs.
    if path.len() < 2 || path.len() % 2 != 0 {
        return Err("[Namespace, MetricName, (DimensionName, DimensionValue)...]".into());
    }
    if let Some(stat) = options.and_then(|o| o.get("stat"))
        && !stat.is_string()
    {
        return Err("stat is a string".into());
    }
    Ok(())
}

/// A 1-bit PNG of `width` × `height` (white, a red line across the middle, a grey frame).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let row_bytes = width.div_ceil(8) as usize;
    let mut raw = Vec::with_capacity((row_bytes + 1) * height as usize);
    for y in 0..height {
        raw.push(0); // filter: none
        let mut row = vec![0u8; row_bytes];
        for x in 0..width {
            let on = y == 0 || y == height - 1 || x == 0 || x == width - 1 || y == height / 2;
            if on {
                row[(x / 8) as usize] |= 0x80 >> (x % 8);
            }
        }
        raw.extend_from_slice(&row);
    }
    let mut out = PNG_SIGNATURE.to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[1, 3, 0, 0, 0]); // bit depth 1, palette, deflate, no filter, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"PLTE", &[0xff, 0xff, 0xff, 0xd6, 0x27, 0x28]);
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// zlib (RFC 1950) around deflate stored blocks (RFC 1951 §3.2.4): no compression needed.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![&[][..]]
    } else {
        data.chunks(65_535).collect()
    };
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i == blocks.len() - 1));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// CRC-32 (ISO 3309, what PNG chunks carry).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(widget: Value) -> Value {
        json!({"MetricWidget": widget.to_string(), "OutputFormat": "png"})
    }

    fn plain() -> Value {
        json!({
            "metrics": [["AWS/ApplicationELB", "HealthyHostCount", "TargetGroup", "targetgroup/t/1",
                         {"stat": "Minimum", "period": 60}]],
            "annotations": {"horizontal": [{"value": 1, "fill": "below", "label": "ALARM < 1"}],
                            "vertical": [[{"value": "2026-11-20T03:00:00Z"}, {"value": "2026-11-20T03:10:00Z"}]]},
            "start": "2026-11-20T02:17:42Z", "end": "2026-11-20T03:17:42Z",
            "width": 800, "height": 400, "period": 60, "view": "timeSeries"
        })
    }

    #[test]
    fn a_valid_widget_gets_a_real_png_of_its_shape() {
        let png = image(&input(plain())).unwrap();
        assert!(png.starts_with(&PNG_SIGNATURE));
        // IHDR: 200 × 100.
        assert_eq!(&png[16..20], &200u32.to_be_bytes());
        assert_eq!(&png[20..24], &100u32.to_be_bytes());
        assert_eq!(
            crc32(b"IEND"),
            0xae42_6082,
            "the CRC every IEND chunk carries"
        );
        assert_eq!(&png[png.len() - 4..], &0xae42_6082u32.to_be_bytes());
        let math = json!({"metrics": [[{"expression": "m1 + m2", "id": "e1"}],
                                      ["AWS/NetworkELB", "HealthyHostCount", {"id": "m1", "visible": false}]]});
        assert!(image(&input(math)).is_ok());
    }

    #[test]
    fn invalid_widgets_are_refused_as_cloudwatch_does() {
        let code = |v: Value| image(&v).unwrap_err().0;
        assert_eq!(code(json!({})), "MissingParameter");
        assert_eq!(code(json!({"MetricWidget": "{"})), "InvalidParameterValue");
        assert_eq!(code(input(json!({"metrics": []}))), "InvalidParameterValue");
        assert_eq!(
            code(input(json!({"title": "no metrics"}))),
            "InvalidParameterValue"
        );
        let mut w = plain();
        w["width"] = json!(2001);
        assert_eq!(code(input(w)), "InvalidParameterValue");
        let mut w = plain();
        w["metrics"] = json!([["AWS/ApplicationELB"]]);
        assert_eq!(code(input(w)), "InvalidParameterValue");
        let mut w = plain();
        w["metrics"] = json!([[{"id": "e1"}]]);
        assert_eq!(code(input(w)), "InvalidParameterValue");
        let mut w = plain();
        w["annotations"]["horizontal"][0]["value"] = json!("1");
        assert_eq!(code(input(w)), "InvalidParameterValue");
        let mut w = plain();
        w["period"] = json!(45);
        assert_eq!(code(input(w)), "InvalidParameterValue");
        let mut v = input(plain());
        v["OutputFormat"] = json!("jpeg");
        assert_eq!(code(v), "InvalidParameterValue");
        let big = json!({"metrics": [["A", "B"]], "title": "x".repeat(MAX_WIDGET_BYTES)});
        assert_eq!(code(input(big)), "InvalidParameterValue");
    }
}
