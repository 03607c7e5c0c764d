//! Lambda entry point (`bootstrap` for the provided.al2023 runtime).

use std::sync::Arc;

use elb_watch_notifier::runtime::handler::Notifier;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    elb_watch_notifier::runtime::logging::init();
    let notifier = Arc::new(Notifier::from_env().await);
    // Decrypt during init (cheaper cold invocations); on failure every invocation retries
    // and reports the problem.
    if let Err(e) = notifier.prepare().await {
        tracing::error!(error = %e, "Slack configuration is not usable; invocations will fail until it is fixed");
    }
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let notifier = Arc::clone(&notifier);
        async move {
            let deadline = event.context.deadline();
            notifier.handle(event.payload, deadline).await
        }
    }))
    .await
}
