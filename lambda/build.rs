//! Tells the packages that depend on this one where its source is.
//!
//! `elb-watch` embeds this crate's `bootstrap`, built for Lambda by its own build script with
//! `cargo zigbuild`. That build needs this crate's manifest and sources, which live in `lambda/`
//! of the repository but in the registry's source folder when `elb-watch` is installed with
//! `cargo install elb-watch`. Cargo passes what a package with a `links` key prints as
//! `cargo::metadata=KEY=VALUE` to the build scripts of the packages that depend on it, as
//! `DEP_<LINKS>_<KEY>`: here `DEP_ELB_WATCH_NOTIFIER_SOURCE_DIR`.
//! <https://doc.rust-lang.org/cargo/reference/build-scripts.html#the-links-manifest-key>

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo::metadata=source_dir={dir}");
    // Nothing else is read: do not run again for every source change.
    println!("cargo::rerun-if-changed=build.rs");
}
