//! The deployment package: a zip holding one executable, `bootstrap`, whose bytes depend only on
//! the binary (fixed timestamp, fixed mode), so its `CodeSha256` tells builds apart and a
//! rebuild of the same binary changes nothing on AWS. Also compiled into `build.rs` (`#[path]`).
//!
//! Lambda runs the `bootstrap` file at the root of the package and needs it executable:
//! <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html>

use std::io::{Cursor, Read, Write};

/// The name Lambda's OS-only runtimes execute.
pub const BOOTSTRAP: &str = "bootstrap";

/// Zips `binary` as an executable `bootstrap` (deflate, level 9).
pub fn zip_bootstrap(binary: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o755);
    zip.start_file(BOOTSTRAP, options)
        .expect("zip entry in memory");
    zip.write_all(binary).expect("zip write in memory");
    zip.finish().expect("zip in memory").into_inner()
}

/// The `bootstrap` inside a package, and its Unix mode.
pub fn unzip_bootstrap(package: &[u8]) -> Result<(Vec<u8>, Option<u32>), String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(package))
        .map_err(|e| format!("the package is not a zip: {e}"))?;
    let mut entry = archive
        .by_name(BOOTSTRAP)
        .map_err(|_| format!("the package has no `{BOOTSTRAP}` at its root"))?;
    let mode = entry.unix_mode();
    let mut binary = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
    entry
        .read_to_end(&mut binary)
        .map_err(|e| format!("cannot unzip `{BOOTSTRAP}`: {e}"))?;
    Ok((binary, mode))
}
