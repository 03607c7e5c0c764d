//! The cargo profile the notifier is built with, `notifier`: small and fast to cold-start
//! (figures in docs/figures-notifier.md). Also compiled into `build.rs` (`#[path]`), which hands
//! it to the nested `cargo zigbuild` as `--config profile.notifier.*` flags: cargo reads profiles
//! only from the root manifest of a build, and under `cargo install elb-watch` the notifier's
//! package is its own root, with no `[profile.notifier]` of its own. The workspace's
//! `Cargo.toml` keeps the same table for people who build the notifier by hand (another
//! architecture, a baseline); a test keeps the two equal.

/// The profile's name.
pub const NAME: &str = "notifier";

/// `(key, TOML value)` of `[profile.notifier]`. Size-optimised: its work is I/O bound (two HTTP
/// calls per alert), and fewer pages to map and relocate start it faster. "z" since issue 24
/// kept the bundle under 3 MiB zipped. Panics still unwind: lambda_runtime turns a handler panic
/// into an invocation error instead of a crashed runtime.
pub const SETTINGS: &[(&str, &str)] = &[
    ("inherits", "\"release\""),
    ("opt-level", "\"z\""),
    ("strip", "true"),
    ("lto", "\"fat\""),
    ("codegen-units", "1"),
];

/// The `--config` arguments that define the profile for a cargo command.
pub fn config_args() -> Vec<String> {
    SETTINGS
        .iter()
        .flat_map(|(key, value)| {
            [
                "--config".to_string(),
                format!("profile.{NAME}.{key}={value}"),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_manifest_defines_the_same_profile() {
        let manifest = include_str!("../../Cargo.toml");
        let root = toml::de::DeTable::parse(manifest).expect("Cargo.toml parses");
        let profile = root.get_ref()["profile"].get_ref().as_table().unwrap()[NAME]
            .get_ref()
            .as_table()
            .expect("[profile.notifier] in Cargo.toml");
        let in_manifest: std::collections::BTreeSet<(String, String)> = profile
            .iter()
            .map(|(key, value)| (key.get_ref().to_string(), as_toml(value.get_ref())))
            .collect();
        let here: std::collections::BTreeSet<(String, String)> = SETTINGS
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        assert_eq!(
            in_manifest, here,
            "Cargo.toml's [profile.notifier] and SETTINGS differ"
        );
    }

    /// A scalar as it is written in TOML.
    fn as_toml(value: &toml::de::DeValue) -> String {
        use toml::de::DeValue;
        match value {
            DeValue::String(s) => format!("\"{s}\""),
            DeValue::Integer(i) => i.to_string(),
            DeValue::Boolean(b) => b.to_string(),
            other => panic!("[profile.notifier] holds {other:?}: only strings, integers, booleans"),
        }
    }

    #[test]
    fn each_setting_is_one_config_flag() {
        let args = config_args();
        assert_eq!(args.len(), 2 * SETTINGS.len());
        assert_eq!(args[0], "--config");
        assert_eq!(args[1], "profile.notifier.inherits=\"release\"");
        assert_eq!(args[9], "profile.notifier.codegen-units=1");
    }
}
