//! The notifier Lambda's deployment package.
//!
//! `build.rs` builds `lambda/` for Lambda's Linux x86-64 (glibc ≤ 2.34, through cargo-zigbuild
//! and zig), checks it ([`check`]) and embeds its deterministic zip ([`pack`]), so a user deploys
//! it with no Rust toolchain. `up --notifier-bootstrap PATH` deploys a prebuilt `bootstrap`
//! instead (needed for `--arch arm64`: this repository's build makes x86-64 only). Whichever it
//! is, `up` checks it again before deploying: a binary Lambda cannot run is refused.

pub mod check;
pub mod pack;
pub mod profile;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use base64::Engine;
use sha2::{Digest, Sha256};

pub use check::Arch;

/// The embedded deployment package: a zip holding one executable, `bootstrap`.
pub static NOTIFIER_ZIP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/notifier.zip"));

/// The architecture of the embedded `bootstrap` (build.rs builds and checks it for this).
pub const EMBEDDED_ARCH: Arch = Arch::X86_64;

/// The embedded package's `CodeSha256` as Lambda reports it (base64 of the SHA-256 of the zip).
pub fn code_sha256() -> String {
    sha256_b64(NOTIFIER_ZIP)
}

fn sha256_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// `--arch` values.
pub fn parse_arch(value: &str) -> Result<Arch, String> {
    Arch::from_lambda_name(value).ok_or_else(|| {
        format!(
            "'{value}' is not a Lambda architecture: use {}",
            Arch::ALL.map(Arch::lambda_name).join(" or ")
        )
    })
}

/// Where a package came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Embedded,
    File(PathBuf),
}

/// The package `up` deploys, and the architecture it is declared with.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub arch: Arch,
    pub source: Source,
    zip: Cow<'static, [u8]>,
}

impl Bundle {
    /// The package for `arch`: the `bootstrap` at `prebuilt` if given (a binary, or a zip holding
    /// one), else the embedded one, which is x86-64 only.
    pub fn select(arch: Arch, prebuilt: Option<&Path>) -> Result<Bundle> {
        match prebuilt {
            Some(path) => Bundle::from_file(arch, path),
            None if arch == EMBEDDED_ARCH => Ok(Bundle {
                arch,
                source: Source::Embedded,
                zip: Cow::Borrowed(NOTIFIER_ZIP),
            }),
            None => Err(anyhow!(
                "--arch {arch} needs a prebuilt notifier: the embedded one is {EMBEDDED_ARCH} \
                 (this build cannot make {arch}); pass --notifier-bootstrap PATH with a Linux \
                 {} bootstrap built for glibc <= 2.34, e.g. `cargo zigbuild -p elb-watch-notifier \
                 --profile notifier --target {}.2.34` on a machine with that Rust target",
                arch,
                arch.rust_target()
            )),
        }
    }

    fn from_file(arch: Arch, path: &Path) -> Result<Bundle> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("reading the notifier bootstrap {}", path.display()))?;
        let zip = if bytes.starts_with(b"PK\x03\x04") {
            bytes
        } else {
            pack::zip_bootstrap(&bytes)
        };
        let bundle = Bundle {
            arch,
            source: Source::File(path.to_path_buf()),
            zip: Cow::Owned(zip),
        };
        // A file the user names is checked at once, before any AWS call.
        bundle.check()?;
        Ok(bundle)
    }

    pub fn zip(&self) -> &[u8] {
        &self.zip
    }

    pub fn code_sha256(&self) -> String {
        sha256_b64(&self.zip)
    }

    fn describe(&self) -> String {
        match &self.source {
            Source::Embedded => "the embedded notifier".to_string(),
            Source::File(p) => format!("the notifier bootstrap {}", p.display()),
        }
    }

    /// Refuses a package Lambda could not run when declared `self.arch` on provided.al2023.
    pub fn check(&self) -> Result<check::Verdict> {
        let refuse = |why: String| {
            anyhow!(
                "refusing to deploy {} as a {} function: {why}",
                self.describe(),
                self.arch
            )
        };
        let (binary, mode) = pack::unzip_bootstrap(&self.zip).map_err(refuse)?;
        if let Some(mode) = mode
            && mode & 0o111 == 0
        {
            return Err(refuse(format!(
                "`{}` is not executable in the zip",
                pack::BOOTSTRAP
            )));
        }
        check::check(&binary, self.arch).map_err(|p| refuse(p.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_bundle_is_a_zip_with_an_executable_bootstrap() {
        let zip = NOTIFIER_ZIP;
        assert_eq!(&zip[..4], b"PK\x03\x04", "local file header");
        let (binary, mode) = pack::unzip_bootstrap(zip).unwrap();
        assert_eq!(mode.map(|m| m & 0o777), Some(0o755));
        assert!(binary.starts_with(b"\x7fELF"));
        assert_eq!(code_sha256().len(), 44);
    }

    #[test]
    fn packing_is_deterministic() {
        let a = pack::zip_bootstrap(b"\x7fELF not really");
        assert_eq!(a, pack::zip_bootstrap(b"\x7fELF not really"));
        assert_ne!(a, pack::zip_bootstrap(b"\x7fELF other"));
        assert_eq!(
            pack::unzip_bootstrap(&a).unwrap().0,
            b"\x7fELF not really".to_vec()
        );
    }

    #[test]
    fn arm64_without_a_prebuilt_bootstrap_is_refused_with_what_to_do() {
        let err = Bundle::select(Arch::Arm64, None).unwrap_err().to_string();
        assert!(err.contains("--notifier-bootstrap"), "{err}");
        assert!(err.contains("aarch64-unknown-linux-gnu"), "{err}");
        assert!(Bundle::select(Arch::X86_64, None).is_ok());
    }
}
