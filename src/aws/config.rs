//! Builds the SDK configuration the way the AWS CLI does: `--profile`/`AWS_PROFILE`,
//! `--region`/`AWS_REGION`/profile region, `--endpoint-url`/`AWS_ENDPOINT_URL`, and the whole
//! default credential chain (env, profile, SSO, web identity, ECS/EC2 roles).

use crate::cli::GlobalOpts;
use anyhow::{Result, bail};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::time::Duration;

/// Attempts per API call (the first plus retries). Throttling is expected when `up` puts
/// hundreds of alarms against a 3 TPS quota, so more than the SDK default of 3.
pub const MAX_ATTEMPTS: u32 = 8;

/// The SDK's ADAPTIVE retry mode: standard mode (exponential back-off with jitter on throttling
/// and transient errors, a retry quota) plus a client-side rate limiter that slows this
/// process's sending rate per service as soon as that service throttles, instead of letting
/// every caller retry blindly. Fits a CLI that talks to each service from one client per
/// service (see <https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>,
/// "Choosing between standard and adaptive retry modes"). Together with the bound on requests
/// in flight per service (`limit.rs`) this is what lets 200 alarms go through.
pub fn retry_config() -> RetryConfig {
    RetryConfig::adaptive()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(8))
}

pub async fn load(opts: &GlobalOpts) -> Result<SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .http_client(super::http::sdk_http_client());
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &opts.region {
        validate_region(region)?;
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &opts.endpoint_url {
        if url::Url::parse(url).is_err() {
            bail!("--endpoint-url '{url}' is not a URL (expected e.g. http://127.0.0.1:5000)");
        }
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    if config.region().is_none() {
        bail!(
            "no AWS region configured: pass --region (e.g. --region eu-west-1), set AWS_REGION, \
             or set a region in your profile"
        );
    }
    Ok(config)
}

/// Region codes look like `eu-west-1` or `us-gov-west-1`; catching a typo here beats a DNS error.
fn validate_region(region: &str) -> Result<()> {
    let parts: Vec<&str> = region.split('-').collect();
    let well_formed = parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if !well_formed {
        bail!("'{region}' is not an AWS region code (expected e.g. us-east-1, eu-west-1)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate_region;

    #[test]
    fn retries_are_adaptive() {
        let r = super::retry_config();
        assert_eq!(r.mode(), aws_config::retry::RetryMode::Adaptive);
        assert_eq!(r.max_attempts(), super::MAX_ATTEMPTS);
    }

    #[test]
    fn region_codes() {
        for ok in [
            "us-east-1",
            "ap-northeast-1",
            "us-gov-west-1",
            "eu-central-2",
        ] {
            assert!(validate_region(ok).is_ok(), "{ok}");
        }
        for bad in [
            "useast1",
            "us-east",
            "US-EAST-1",
            "eu-west-x",
            "eu west 1",
            "",
        ] {
            assert!(validate_region(bad).is_err(), "{bad}");
        }
    }
}
