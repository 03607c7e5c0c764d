//! What `cargo install elb-watch` gets from the registry (issue 27): the files of the two
//! published packages, as `cargo package --list` names them (no build: scripts/release-check.sh
//! builds them from their packages, which costs a second full build).
//!
//! - elb-watch-notifier carries what elb-watch's build script builds `bootstrap` from: its
//!   manifest, its lock file (the nested build is `--locked`), its build script (which names its
//!   source folder to elb-watch's) and every source file.
//! - elb-watch carries its build script, every source file, and every file the product's code
//!   embeds with `include_str!` / `include_bytes!` (the operator policy, ...); the notifier's
//!   source comes with its own package, not a copy in this one.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `cargo package --list` of `package`: paths relative to its package root.
fn packaged(package: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(ROOT)
        .args([
            "package",
            "--list",
            "--allow-dirty",
            "--locked",
            "-p",
            package,
        ])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo package --list -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Every `.rs` file under `dir`, relative to `base`.
fn rust_files(base: &Path, dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(rust_files(base, &path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path.strip_prefix(base).unwrap().display().to_string());
        }
    }
    found
}

/// The files `file` embeds with a literal `include_str!` / `include_bytes!` path before its
/// first `#[cfg(test)]` (the tests' own fixtures are not the product's), relative to `base`.
fn embedded_by(base: &Path, file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let product = text.split("#[cfg(test)]").next().unwrap();
    let mut found = Vec::new();
    for macro_call in ["include_str!(\"", "include_bytes!(\""] {
        for (at, _) in product.match_indices(macro_call) {
            let rest = &product[at + macro_call.len()..];
            let relative = &rest[..rest.find('"').unwrap()];
            let resolved: PathBuf = file.parent().unwrap().join(relative);
            let resolved = resolved.canonicalize().unwrap_or_else(|e| {
                panic!("{} embeds {relative}: {e}", file.display());
            });
            let base = base.canonicalize().unwrap();
            found.push(resolved.strip_prefix(&base).unwrap().display().to_string());
        }
    }
    found
}

#[test]
fn the_notifiers_package_holds_what_its_bootstrap_is_built_from() {
    let files = packaged("elb-watch-notifier");
    let lambda = Path::new(ROOT).join("lambda");
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        "README.md",
        "LICENSE-MIT",
    ] {
        assert!(files.contains(needed), "{needed} not packaged: {files:?}");
    }
    let sources = rust_files(&lambda, &lambda.join("src"));
    assert!(sources.len() > 20, "{sources:?}");
    for source in &sources {
        assert!(files.contains(source), "{source} not packaged");
    }
    assert!(
        !files.iter().any(|f| f.starts_with("tests/")),
        "the tests need testkit, which is not published: {files:?}"
    );
}

#[test]
fn the_clis_package_holds_its_sources_and_what_they_embed_and_no_copy_of_the_notifier() {
    let files = packaged("elb-watch");
    let root = Path::new(ROOT);
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        "README.md",
        "LICENSE-APACHE",
    ] {
        assert!(files.contains(needed), "{needed} not packaged: {files:?}");
    }
    let sources = rust_files(root, &root.join("src"));
    let mut embedded = Vec::new();
    for source in &sources {
        assert!(files.contains(source), "{source} not packaged");
        embedded.extend(embedded_by(root, &root.join(source)));
    }
    assert!(
        embedded.contains(&"policy/operator-policy.json".to_string()),
        "{embedded:?}"
    );
    for file in &embedded {
        assert!(
            files.contains(file),
            "{file} is embedded by the product's code but not packaged: add it to `include` in Cargo.toml"
        );
    }
    for foreign in ["lambda/", "testkit/", "tests/", "scripts/"] {
        assert!(
            !files.iter().any(|f| f.starts_with(foreign)),
            "{foreign} in the CLI's package: {files:?}"
        );
    }
}
