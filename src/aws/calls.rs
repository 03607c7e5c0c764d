//! Counts every AWS API operation a run makes, split into reads and mutations, through an SDK
//! interceptor. `up` reports it (a no-op `up` must make zero mutating calls) and the benchmarks
//! print it.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Shared, cheap to clone; one per run.
#[derive(Debug, Clone, Default)]
pub struct CallLedger {
    calls: Arc<Mutex<Vec<String>>>,
}

/// What a run called, by `Service.Operation`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct CallStats {
    pub total: usize,
    pub mutating: usize,
    pub read: usize,
    pub by_operation: BTreeMap<String, usize>,
}

/// Reads are the operations AWS names Describe*, Get*, List*, and KMS Decrypt (which `up` uses
/// to compare the deployed webhook URL); everything else changes state.
pub fn is_read_only(operation: &str) -> bool {
    operation == "Decrypt"
        || ["Describe", "Get", "List"]
            .iter()
            .any(|p| operation.starts_with(p))
}

impl CallLedger {
    pub fn record(&self, service: &str, operation: &str) {
        self.calls
            .lock()
            .expect("call ledger poisoned")
            .push(format!("{service}.{operation}"));
    }

    pub fn stats(&self) -> CallStats {
        let calls = self.calls.lock().expect("call ledger poisoned");
        let mut stats = CallStats::default();
        for call in calls.iter() {
            let op = call.rsplit('.').next().unwrap_or(call);
            if is_read_only(op) {
                stats.read += 1;
            } else {
                stats.mutating += 1;
            }
            *stats.by_operation.entry(call.clone()).or_default() += 1;
        }
        stats.total = calls.len();
        stats
    }

    pub fn interceptor(&self) -> LedgerInterceptor {
        LedgerInterceptor(self.clone())
    }
}

#[derive(Debug)]
pub struct LedgerInterceptor(CallLedger);

impl Intercept for LedgerInterceptor {
    fn name(&self) -> &'static str {
        "elb-watch call ledger"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            self.0.record(meta.service(), meta.name());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_and_counts() {
        let ledger = CallLedger::default();
        ledger.record("KMS", "DescribeKey");
        ledger.record("KMS", "CreateKey");
        ledger.record("CloudWatch", "PutMetricAlarm");
        ledger.record("CloudWatch", "ListTagsForResource");
        ledger.record("KMS", "DescribeKey");
        let s = ledger.stats();
        assert_eq!((s.total, s.read, s.mutating), (5, 3, 2));
        assert_eq!(s.by_operation["KMS.DescribeKey"], 2);
    }
}
