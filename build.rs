//! Builds the notifier Lambda (`lambda/`, binary `bootstrap`) for Lambda — Linux x86-64 with no
//! glibc symbol newer than 2.34 (provided.al2023) — whatever machine this runs on, checks the
//! result, and packs it into the deterministic zip that `src/bundle/` embeds, so users deploy it
//! with no Rust toolchain.
//!
//! The build goes through `cargo zigbuild --target x86_64-unknown-linux-gnu.2.34`: zig links
//! against glibc 2.34's symbol versions on any host (Linux of any glibc or CPU, macOS). Both
//! come from PyPI (`scripts/toolchain.sh` installs them into `.tools/`). Looked for, in order:
//! `ELB_WATCH_CARGO_ZIGBUILD` (path to cargo-zigbuild), `<repo>/.tools/bin/cargo-zigbuild`,
//! `cargo-zigbuild` on PATH.
//!
//! `ELB_WATCH_NOTIFIER_BOOTSTRAP=/path/to/bootstrap` embeds a binary built elsewhere instead;
//! it is checked the same way.
//!
//! The notifier's source is wherever its package is: `lambda/` in this repository, the
//! registry's copy under `cargo install elb-watch`. elb-watch depends on it, and its build script
//! passes the folder as `DEP_ELB_WATCH_NOTIFIER_SOURCE_DIR` (see lambda/build.rs). The profile
//! comes with the command (`src/bundle/profile.rs`), since outside this workspace the notifier's
//! package is its own root.
//!
//! The nested build has one target directory, `<target>/notifier`, whatever the outer profile,
//! and none of the outer build's per-profile environment reaches it: a `cargo build` and a
//! `cargo build --release` share its artifacts instead of compiling the notifier twice.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "src/bundle/check.rs"]
#[allow(dead_code)]
mod check;
#[path = "src/bundle/pack.rs"]
#[allow(dead_code)]
mod pack;
#[path = "src/bundle/profile.rs"]
mod profile;

/// What Lambda's provided.al2023 runs: see src/bundle/check.rs.
const ARCH: check::Arch = check::Arch::X86_64;
const ZIG_TARGET: &str = "x86_64-unknown-linux-gnu.2.34";
/// The notifier's source folder, from its build script (`links = "elb-watch-notifier"`).
const NOTIFIER_SOURCE_DIR: &str = "DEP_ELB_WATCH_NOTIFIER_SOURCE_DIR";

const HOW_TO: &str = "run scripts/toolchain.sh (installs zig and cargo-zigbuild from PyPI into \
                      .tools/), or `pip install ziglang cargo-zigbuild`, or set \
                      ELB_WATCH_NOTIFIER_BOOTSTRAP to a prebuilt Linux x86-64 bootstrap";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let notifier_dir = match env::var_os(NOTIFIER_SOURCE_DIR) {
        Some(dir) => PathBuf::from(dir),
        None => fail(&format!(
            "{NOTIFIER_SOURCE_DIR} is not set: elb-watch must depend on elb-watch-notifier, whose \
             build script names its source folder"
        )),
    };
    let notifier_lock = [
        notifier_dir.join("Cargo.lock"),
        manifest_dir.join("Cargo.lock"),
    ]
    .into_iter()
    .find(|lock| lock.is_file());
    let watched = [notifier_dir.join("src"), notifier_dir.join("Cargo.toml")];
    for path in watched.iter().chain(&notifier_lock) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rerun-if-changed=Cargo.toml");
    for var in ["ELB_WATCH_NOTIFIER_BOOTSTRAP", "ELB_WATCH_CARGO_ZIGBUILD"] {
        println!("cargo:rerun-if-env-changed={var}");
    }

    let bootstrap = match env::var_os("ELB_WATCH_NOTIFIER_BOOTSTRAP") {
        Some(prebuilt) => PathBuf::from(prebuilt),
        None => match build_notifier(&manifest_dir, &notifier_dir, &out_dir) {
            Ok(path) => path,
            Err(message) => fail(&message),
        },
    };
    let binary = std::fs::read(&bootstrap)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", bootstrap.display())));
    if let Err(problem) = check::check(&binary, ARCH) {
        fail(&format!(
            "the notifier {} cannot run on Lambda ({ARCH}, provided.al2023): {problem}",
            bootstrap.display()
        ));
    }
    std::fs::write(out_dir.join("notifier.zip"), pack::zip_bootstrap(&binary))
        .expect("writing notifier.zip");
    println!(
        "cargo:rustc-env=ELB_WATCH_NOTIFIER_BOOTSTRAP_PATH={}",
        bootstrap.display()
    );
}

/// Fails the build with one line saying what is wrong and what to do.
fn fail(message: &str) -> ! {
    println!("cargo::error={message}");
    std::process::exit(0);
}

/// `<target>/notifier`: beside the outer build's profiles, so `cargo clean` removes it and the
/// nested build never waits on the outer build's lock.
fn nested_target_dir(out_dir: &Path) -> PathBuf {
    // OUT_DIR = <target>/[<triple>/]<profile>/build/<pkg>-<hash>/out; cargo tags <target>.
    let mut dir = out_dir.to_path_buf();
    while !dir.join("CACHEDIR.TAG").exists() && dir.pop() {}
    dir.join("notifier")
}

fn find_zigbuild(manifest_dir: &Path) -> Option<PathBuf> {
    if let Some(explicit) = env::var_os("ELB_WATCH_CARGO_ZIGBUILD") {
        return Some(PathBuf::from(explicit));
    }
    let local = manifest_dir.join(".tools/bin/cargo-zigbuild");
    if local.is_file() {
        return Some(local);
    }
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join("cargo-zigbuild"))
        .find(|candidate| candidate.is_file())
}

/// Environment the outer cargo sets for this build script (per profile, per package) that must
/// not reach the nested build: it would make the nested build's fingerprints differ between
/// a debug and a release outer build, or leak clippy's wrapper into the binary we ship.
fn outer_only(var: &str) -> bool {
    const EXACT: &[&str] = &[
        "OUT_DIR",
        "PROFILE",
        "OPT_LEVEL",
        "DEBUG",
        "TARGET",
        "HOST",
        "NUM_JOBS",
        "RUSTC",
        "RUSTDOC",
        "RUSTC_LINKER",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_CRATE_NAME",
        "CARGO_PROFILE",
    ];
    const PREFIXES: &[&str] = &["CARGO_CFG_", "CARGO_FEATURE_", "CARGO_PKG_", "DEP_"];
    EXACT.contains(&var) || PREFIXES.iter().any(|p| var.starts_with(p))
}

fn build_notifier(
    manifest_dir: &Path,
    notifier_dir: &Path,
    out_dir: &Path,
) -> Result<PathBuf, String> {
    let zigbuild = find_zigbuild(manifest_dir).ok_or_else(|| {
        format!(
            "building the notifier Lambda for Linux x86-64 needs cargo-zigbuild and zig: {HOW_TO}"
        )
    })?;
    let target_dir = nested_target_dir(out_dir);
    let mut cmd = Command::new(&zigbuild);
    cmd.current_dir(notifier_dir)
        .arg("zigbuild")
        .arg("--manifest-path")
        .arg(notifier_dir.join("Cargo.toml"))
        .args(profile::config_args())
        .args(["--profile", profile::NAME])
        .args(["--bin", "bootstrap", "--locked", "--target", ZIG_TARGET])
        .arg("--target-dir")
        .arg(&target_dir);
    for (var, _) in env::vars_os() {
        if let Some(name) = var.to_str()
            && outer_only(name)
        {
            cmd.env_remove(&var);
        }
    }
    // The same cargo as the outer build; and the directory of cargo-zigbuild first on PATH, so
    // it finds zig (`python3 -m ziglang`) installed beside it.
    if let Some(cargo) = env::var_os("CARGO") {
        cmd.env("CARGO", cargo);
    }
    if let Some(dir) = zigbuild.parent() {
        let mut paths = vec![dir.to_path_buf()];
        if let Some(path) = env::var_os("PATH") {
            paths.extend(env::split_paths(&path));
        }
        if let Ok(joined) = env::join_paths(paths) {
            cmd.env("PATH", joined);
        }
    }
    let status = cmd
        .status()
        .map_err(|e| format!("could not run {} ({e}): {HOW_TO}", zigbuild.display()))?;
    if !status.success() {
        return Err(format!(
            "building the notifier Lambda ({}) with {} failed (its output is above); if zig is \
             missing: {HOW_TO}",
            notifier_dir.display(),
            zigbuild.display()
        ));
    }
    let target_triple = ZIG_TARGET.trim_end_matches(".2.34");
    Ok(target_dir
        .join(target_triple)
        .join(profile::NAME)
        .join("bootstrap"))
}
