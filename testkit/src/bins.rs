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
    for (var, _) in std::env::vars_os() {
        if var.to_str().is_some_and(set_by_cargo_run) {
            build.env_remove(&var);
        }
    }
    if let Some(example) = exe.file_stem() {
        build.arg("--example").arg(example);
    }
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    ensure!(build.status()?.success(), "building {name} failed");
    Ok(profile_dir.join(name))
}

/// What `cargo run` sets for the program it runs
/// (<https://doc.rust-lang.org/cargo/reference/environment-variables.html#environment-variables-cargo-sets-for-crates>).
/// A build started with them differs from one started from a shell: build scripts such as
/// ring's say `rerun-if-env-changed=CARGO_PKG_NAME` (and `CARGO_MANIFEST_DIR`, …), and cargo
/// fingerprints their values from its own environment. So the demo's build of the binary
/// recompiled ring and all above it (rustls, reqwest, the SDK's HTTP client, …), and the tests'
/// next build compiled them back.
fn set_by_cargo_run(var: &str) -> bool {
    const EXACT: &[&str] = &[
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "OUT_DIR",
    ];
    EXACT.contains(&var) || var.starts_with("CARGO_PKG_")
}

#[cfg(test)]
mod tests {
    use super::set_by_cargo_run;

    #[test]
    fn what_cargo_run_sets_is_dropped_and_what_the_user_set_is_kept() {
        for var in [
            "CARGO_PKG_NAME",
            "CARGO_MANIFEST_DIR",
            "OUT_DIR",
            "CARGO_PKG_VERSION_MAJOR",
        ] {
            assert!(set_by_cargo_run(var), "{var}");
        }
        for var in [
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO",
            "PATH",
            "RUSTFLAGS",
        ] {
            assert!(!set_by_cargo_run(var), "{var}");
        }
    }
}
