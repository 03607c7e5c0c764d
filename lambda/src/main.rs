use lambda_runtime::{Error, LambdaEvent, service_fn};
use aws_lambda_events::event::sns::SnsEvent;

async fn handler(_event: LambdaEvent<SnsEvent>) -> Result<(), Error> {
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}
