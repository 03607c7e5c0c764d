//! Builds the notifier Lambda (`lambda/`, binary `bootstrap`) in release mode and packs it into a
//! deterministic zip that `src/bundle.rs` embeds, so users deploy it with no Rust toolchain.
//!
//! Set `ELB_WATCH_NOTIFIER_BOOTSTRAP=/path/to/bootstrap` to embed a binary built elsewhere
//! (e.g. cross-compiled for an older glibc) instead of building one here.

use std::env;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    for watched in [
        "lambda/src",
        "lambda/Cargo.toml",
        "Cargo.lock",
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={watched}");
    }
    println!("cargo:rerun-if-env-changed=ELB_WATCH_NOTIFIER_BOOTSTRAP");

    let bootstrap = match env::var_os("ELB_WATCH_NOTIFIER_BOOTSTRAP") {
        Some(prebuilt) => PathBuf::from(prebuilt),
        None => build_notifier(&manifest_dir, &out_dir),
    };
    let zip_path = out_dir.join("notifier.zip");
    write_zip(&bootstrap, &zip_path);
    println!(
        "cargo:rustc-env=ELB_WATCH_NOTIFIER_BOOTSTRAP_PATH={}",
        bootstrap.display()
    );
}

/// `<target>/notifier`: beside the outer build's profiles, so `cargo clean` removes it and the
/// nested build never waits on the outer build's lock.
fn nested_target_dir(out_dir: &Path) -> PathBuf {
    // OUT_DIR = <target>/[<triple>/]<profile>/build/<pkg>-<hash>/out; cargo tags <target>.
    let mut dir = out_dir.to_path_buf();
    while !dir.join("CACHEDIR.TAG").exists() && dir.pop() {}
    dir.join("notifier")
}

fn build_notifier(manifest_dir: &Path, out_dir: &Path) -> PathBuf {
    let target_dir = nested_target_dir(out_dir);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(manifest_dir)
        .args(["build", "--profile", "notifier", "-p", "elb-watch-notifier"])
        .args(["--bin", "bootstrap", "--target-dir"])
        .arg(&target_dir);
    // Nothing of the outer invocation (clippy's wrapper, its rustflags) may leak into the
    // binary we ship.
    for var in [
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .expect("could not run cargo to build the notifier");
    assert!(
        status.success(),
        "building the notifier Lambda (lambda/) failed"
    );
    target_dir.join("notifier").join("bootstrap")
}

/// A zip whose bytes depend only on the binary: fixed timestamp, fixed mode, one entry.
fn write_zip(bootstrap: &Path, zip_path: &Path) {
    let binary = std::fs::read(bootstrap)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", bootstrap.display()));
    let mut zip = zip::ZipWriter::new(File::create(zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options).unwrap();
    zip.write_all(&binary).unwrap();
    zip.finish().unwrap();
}
