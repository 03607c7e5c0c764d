//! SigV4 signatures the bridge makes for moto, which checks them only with its IAM enforcement
//! on (`Emulator::enforce_iam`).
//!
//! Two cases need a new signature:
//! - a translated CloudWatch request (CBOR → JSON) is a different request, so the caller's
//!   signature cannot match it;
//! - moto 5.x cannot verify correct signatures of bodiless requests (Lambda's `GET`s, `DELETE`s):
//!   with no body and no query it takes the request's *headers* as its parameters
//!   (`moto/core/responses.py`, `setup_class`: `querystring.update(headers)`) and hashes those
//!   as the payload (`moto/iam/access_control.py`, `_create_aws_request`: `data=self._body or
//!   self._data`), unless the request signs an `X-Amz-Content-SHA256` header, which botocore's
//!   verifier then takes as the payload hash. AWS accepts the SDK's signature as it is.
//!
//! So, with re-signing switched on, a request made with an access key whose secret the bridge
//! was given is signed again with that key, for the same region and service, with
//! `X-Amz-Content-SHA256` among the signed headers. A key the bridge does not know keeps its
//! original `Authorization`, so moto still refuses unknown keys and wrong secrets.
//! Signature Version 4: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html>

use anyhow::Result;
use axum::http::HeaderMap;

/// The headers a new signature replaces.
pub(super) const SIGNATURE_HEADERS: [&str; 4] = [
    "authorization",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-security-token",
];

/// Who signed the request: (access key id, region, service) from `Authorization`'s
/// `Credential=AKID/20261125/us-east-1/monitoring/aws4_request`.
pub(super) fn caller(headers: &HeaderMap) -> Option<(String, String, String)> {
    let scope = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .split("Credential=")
        .nth(1)?
        .split([',', ' '])
        .next()?;
    let parts: Vec<&str> = scope.split('/').collect();
    let [akid, _, region, service, _] = parts[..] else {
        return None;
    };
    Some((akid.into(), region.into(), service.into()))
}

/// A request to sign: `url` is `http://<host><path>[?query]`; `headers` are the ones to sign
/// besides those SigV4 adds (`x-amz-date`, `x-amz-content-sha256`, the security token).
pub(super) struct ToSign<'a> {
    pub method: &'a str,
    pub url: String,
    pub headers: Vec<(&'a str, &'a str)>,
    pub body: &'a [u8],
}

/// New `Authorization`, `X-Amz-Date`, `X-Amz-Content-SHA256` (and security token) headers.
pub(super) fn sign(
    akid: &str,
    secret: &str,
    token: Option<&str>,
    region: &str,
    service: &str,
    request: ToSign<'_>,
) -> Result<Vec<(String, String)>> {
    use aws_sigv4::http_request::{
        PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
    };
    let identity = aws_credential_types::Credentials::new(
        akid,
        secret,
        token.map(str::to_string),
        None,
        "cbor-bridge",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(std::time::SystemTime::now())
        .settings(settings)
        .build()?
        .into();
    let signable = SignableRequest::new(
        request.method,
        request.url,
        request.headers.into_iter(),
        SignableBody::Bytes(request.body),
    )?;
    let (instructions, _) = sign(signable, &params)?.into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_caller_comes_from_the_credential_scope() {
        let mut h = HeaderMap::new();
        assert_eq!(caller(&h), None);
        h.insert(
            "authorization",
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKIAX/20261125/eu-west-1/lambda/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=abc",
            ),
        );
        assert_eq!(
            caller(&h),
            Some(("AKIAX".into(), "eu-west-1".into(), "lambda".into()))
        );
    }

    #[test]
    fn a_new_signature_signs_the_payload_hash_header() {
        let headers = sign(
            "AKIAX",
            "secret",
            None,
            "us-east-1",
            "lambda",
            ToSign {
                method: "GET",
                url: "http://127.0.0.1:1/2015-03-31/functions/f".into(),
                headers: vec![("host", "127.0.0.1:1")],
                body: b"",
            },
        )
        .unwrap();
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.as_str())
        };
        // SHA-256 of the empty payload.
        assert_eq!(
            get("x-amz-content-sha256"),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        let auth = get("authorization").unwrap();
        assert!(auth.contains("Credential=AKIAX/"), "{auth}");
        assert!(auth.contains("x-amz-content-sha256"), "{auth}");
    }
}
