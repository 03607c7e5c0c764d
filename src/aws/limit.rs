//! Bounded fan-out: at most [`MAX_IN_FLIGHT`] requests in flight per service, whatever the code
//! above does (`try_join_all` over 200 alarms, every target group's health at once, …).
//!
//! The bound sits in the HTTP layer each service's client sends through, so it holds for every
//! operation and every attempt, while the SDK's retry back-off between attempts holds no slot.
//! AWS meters control-plane APIs per account and region with token buckets (e.g. CloudWatch
//! `PutMetricAlarm` at 3 TPS,
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html>; the
//! ELB `Describe*` bucket,
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/throttling.html>): a
//! burst of hundreds of calls only earns throttling errors and burns the SDK's retry quota.
//! A handful in flight, with the SDK's adaptive retry mode (see `config.rs`) pacing them, keeps
//! the pipeline full without storming the service.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Requests one service's client may have in flight at once (default; overridable with
/// `ELB_WATCH_MAX_IN_FLIGHT` for measurements).
pub const MAX_IN_FLIGHT: usize = 4;

/// The bound in force: `ELB_WATCH_MAX_IN_FLIGHT` if set to a positive number, else
/// [`MAX_IN_FLIGHT`].
pub fn max_in_flight() -> usize {
    std::env::var("ELB_WATCH_MAX_IN_FLIGHT")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|n: &usize| *n > 0)
        .unwrap_or(MAX_IN_FLIGHT)
}

/// An HTTP client that lets at most `permits` requests through at once.
#[derive(Debug, Clone)]
pub struct LimitedHttpClient {
    inner: SharedHttpClient,
    permits: Arc<Semaphore>,
}

impl LimitedHttpClient {
    pub fn new(inner: SharedHttpClient, permits: usize) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(permits)),
        }
    }

    pub fn into_shared(self) -> SharedHttpClient {
        SharedHttpClient::new(self)
    }
}

impl HttpClient for LimitedHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            permits: self.permits.clone(),
        })
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner
            .validate_base_client_config(runtime_components, cfg)
    }

    fn validate_final_config(
        &self,
        runtime_components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    permits: Arc<Semaphore>,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let permits = self.permits.clone();
        HttpConnectorFuture::new(async move {
            // The semaphore is never closed.
            let _permit = permits.acquire_owned().await.expect("semaphore open");
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_types::body::SdkBody;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Answers 200 after a pause, recording the most requests it ever had at once.
    #[derive(Debug, Default)]
    struct Slow {
        now: AtomicUsize,
        peak: AtomicUsize,
    }

    #[derive(Debug, Clone)]
    struct SlowClient(Arc<Slow>);

    impl HttpConnector for SlowClient {
        fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
            let s = self.0.clone();
            HttpConnectorFuture::new(async move {
                let n = s.now.fetch_add(1, Ordering::SeqCst) + 1;
                s.peak.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                s.now.fetch_sub(1, Ordering::SeqCst);
                Ok(HttpResponse::new(
                    200u16.try_into().unwrap(),
                    SdkBody::empty(),
                ))
            })
        }
    }

    #[tokio::test]
    async fn never_more_than_the_bound_in_flight() {
        let slow = Arc::new(Slow::default());
        let conn = LimitedConnector {
            inner: SharedHttpConnector::new(SlowClient(slow.clone())),
            permits: Arc::new(Semaphore::new(4)),
        };
        let calls = (0..40).map(|_| conn.call(HttpRequest::new(SdkBody::empty())));
        let answers = futures::future::join_all(calls).await;
        assert!(answers.iter().all(|a| a.is_ok()));
        assert_eq!(
            slow.peak.load(Ordering::SeqCst),
            4,
            "40 calls, at most 4 at once"
        );

        let unlimited = SlowClient(Arc::new(Slow::default()));
        futures::future::join_all(
            (0..40).map(|_| unlimited.call(HttpRequest::new(SdkBody::empty()))),
        )
        .await;
        assert!(
            unlimited.0.peak.load(Ordering::SeqCst) > 4,
            "the same calls without the bound overlap more (the test can fail)"
        );
    }
}
