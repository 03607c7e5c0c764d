//! The notifier Lambda, built from `lambda/` by `build.rs` and embedded in this binary, so a user
//! deploys it with no Rust toolchain.

use base64::Engine;
use sha2::{Digest, Sha256};

/// The deployment package: a zip holding one executable, `bootstrap`.
pub static NOTIFIER_ZIP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/notifier.zip"));

/// The package's `CodeSha256` as Lambda reports it (base64 of the SHA-256 of the zip), so `up`
/// can tell whether the deployed code is this build's.
pub fn code_sha256() -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(NOTIFIER_ZIP))
}

#[cfg(test)]
mod tests {
    #[test]
    fn bundle_is_a_zip_with_an_executable_bootstrap() {
        let zip = super::NOTIFIER_ZIP;
        assert_eq!(&zip[..4], b"PK\x03\x04", "local file header");
        // The first entry's name follows the 30-byte local header.
        let name_len = u16::from_le_bytes([zip[26], zip[27]]) as usize;
        assert_eq!(&zip[30..30 + name_len], b"bootstrap");
        assert_eq!(super::code_sha256().len(), 44);
    }
}
