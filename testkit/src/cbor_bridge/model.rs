//! The shapes of CloudWatch's service model that the translation needs: which output members are
//! timestamps (CBOR tag 1), blobs (byte strings), doubles or integers — JSON numbers and strings
//! do not say.
//!
//! `cloudwatch-model.json` is generated from the CloudWatch model botocore ships (the same AWS
//! service model aws-sdk-cloudwatch is generated from) by `scripts/cloudwatch-model.py`; it keeps
//! only types and member targets.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

/// One shape, reduced to what serialization needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Structure(HashMap<String, String>),
    List(String),
    Map { value: String },
    Timestamp,
    Blob,
    Double,
    Integer,
    Boolean,
    String,
}

#[derive(Debug)]
pub struct Model {
    /// The awsJson target prefix, also the service name in RPC v2 paths.
    pub target_prefix: String,
    shapes: HashMap<String, Shape>,
    /// operation → output shape (absent: the operation has no output).
    outputs: HashMap<String, String>,
}

impl Model {
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let doc: Value = serde_json::from_str(text)?;
        let name = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let mut shapes = HashMap::new();
        for (shape_name, s) in doc["shapes"].as_object().into_iter().flatten() {
            let shape = match s["type"].as_str().unwrap_or("string") {
                "structure" => Shape::Structure(
                    s["members"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(m, target)| (m.clone(), name(target)))
                        .collect(),
                ),
                "list" => Shape::List(name(&s["member"])),
                "map" => Shape::Map {
                    value: name(&s["value"]),
                },
                "timestamp" => Shape::Timestamp,
                "blob" => Shape::Blob,
                "double" | "float" => Shape::Double,
                "integer" | "long" | "short" | "byte" => Shape::Integer,
                "boolean" => Shape::Boolean,
                _ => Shape::String,
            };
            shapes.insert(shape_name.clone(), shape);
        }
        let outputs = doc["operations"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(op, o)| Some((op.clone(), o["output"].as_str()?.to_string())))
            .collect();
        Ok(Self {
            target_prefix: name(&doc["targetPrefix"]),
            shapes,
            outputs,
        })
    }

    /// CloudWatch's model, parsed once.
    pub fn cloudwatch() -> &'static Model {
        static MODEL: OnceLock<Model> = OnceLock::new();
        MODEL.get_or_init(|| {
            Model::parse(include_str!("cloudwatch-model.json"))
                .expect("cloudwatch-model.json is valid")
        })
    }

    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }

    /// Output shape of an operation; `None` for an unknown operation or one without output.
    pub fn output(&self, operation: &str) -> Option<&str> {
        self.outputs.get(operation).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudwatch_model_knows_the_alarm_timestamps() {
        let m = Model::cloudwatch();
        assert_eq!(m.target_prefix, "GraniteServiceVersion20100801");
        assert_eq!(m.output("DescribeAlarms"), Some("DescribeAlarmsOutput"));
        assert_eq!(m.output("PutMetricAlarm"), None);
        let Some(Shape::Structure(alarm)) = m.shape("MetricAlarm") else {
            panic!("MetricAlarm is a structure")
        };
        assert_eq!(
            m.shape(&alarm["StateUpdatedTimestamp"]),
            Some(&Shape::Timestamp)
        );
        assert_eq!(m.shape(&alarm["Threshold"]), Some(&Shape::Double));
        assert_eq!(m.shape(&alarm["Period"]), Some(&Shape::Integer));
        assert_eq!(m.shape("MetricWidgetImage"), Some(&Shape::Blob));
    }
}
