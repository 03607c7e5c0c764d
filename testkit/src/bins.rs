//! Locating the workspace's binaries from an example program.

use anyhow::{Context, Result, ensure};
use std::path::PathBuf;

/// The package binary `name` beside the running example (cargo puts examples in
/// `<profile>/examples/`), built first: `cargo run --example` does not build the package's
/// binaries. Uses the same profile as the example, and names the example too, so the build
/// unifies features exactly as `cargo run --example` did and reuses its artifacts.
pub fn package_binary(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(|p| p.parent())
        .with_context(|| format!("unexpected example location {}", exe.display()))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = std::process::Command::new(cargo);
    build
        .current_dir(crate::repo_root())
        .args(["build", "--quiet", "--bin", name]);
    if let Some(example) = exe.file_stem() {
        build.arg("--example").arg(example);
    }
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    ensure!(build.status()?.success(), "building {name} failed");
    Ok(profile_dir.join(name))
}
