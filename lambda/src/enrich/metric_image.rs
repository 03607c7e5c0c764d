//! The alarm's graph as a PNG: one CloudWatch `GetMetricWidgetImage` call with the
//! `MetricWidget` JSON [`graph`](crate::enrich::graph) built, bounded by [`IMAGE_TIMEOUT`].
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricWidgetImage.html>:
//! `OutputFormat` `png` (the SDK's only format: the answer's `MetricWidgetImage` holds the
//! image); the API allows 20 calls a second, so a storm of alarms may be throttled — then the
//! alert goes out without its graph.
//!
//! The role's `cloudwatch:GetMetricWidgetImage` has no resource type (`*`, src/policy.rs).

use std::time::Duration;

use aws_sdk_cloudwatch as cloudwatch;
use serde_json::Value;

use crate::enrich::targets::sdk_error_text;

/// The longest the graph may take: past it, the alert stays without one.
pub const IMAGE_TIMEOUT: Duration = Duration::from_secs(3);

/// The eight bytes every PNG starts with (<https://www.w3.org/TR/png/#5PNG-file-signature>).
pub const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

/// The PNG of `widget`, within `timeout`. The error is a line for the log (`AccessDenied: …`,
/// `Throttling: …`, `timed out after 3000 ms`, not a PNG).
pub async fn png(
    client: &cloudwatch::Client,
    widget: &Value,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    let call = client
        .get_metric_widget_image()
        .metric_widget(widget.to_string())
        .output_format("png")
        .send();
    let out = match tokio::time::timeout(timeout, call).await {
        Err(_) => return Err(format!("timed out after {} ms", timeout.as_millis())),
        Ok(Err(e)) => return Err(sdk_error_text(&e)),
        Ok(Ok(out)) => out,
    };
    let bytes = out
        .metric_widget_image()
        .map(|b| b.as_ref().to_vec())
        .unwrap_or_default();
    if !bytes.starts_with(&PNG_SIGNATURE) {
        return Err(format!("the answer is not a PNG ({} bytes)", bytes.len()));
    }
    Ok(bytes)
}
