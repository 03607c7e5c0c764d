//! The front door (issue 27): help that names every kind and groups `up`'s options, shell
//! completions and a man page generated from the same clap definition, each checked to parse
//! and to name every subcommand.

use std::process::Command;

fn elb_watch(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_elb-watch"))
        .args(args)
        .env_remove("ELB_WATCH_FILE")
        .output()
        .expect("elb-watch runs");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Every subcommand of the clap definition.
fn subcommands() -> Vec<String> {
    use clap::CommandFactory;
    elb_watch::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|n| n != "help")
        .collect()
}

#[test]
fn help_names_every_kind_and_groups_ups_options_with_examples() {
    let (code, top) = elb_watch(&["--help"]);
    assert_eq!(code, 0);
    for kind in ["ALB", "NLB", "GWLB", "Classic ELB"] {
        assert!(top.contains(kind), "--help does not name {kind}:\n{top}");
    }
    assert!(
        !top.contains("Give an AWS Application Load Balancer"),
        "{top}"
    );
    let (code, up) = elb_watch(&["up", "--help"]);
    assert_eq!(code, 0);
    let headings = [
        "Selection:",
        "Slack:",
        "Alarms:",
        "Notifier:",
        "Global options:",
        "Examples:",
    ];
    let mut at = 0;
    for h in headings {
        let i = up[at..]
            .find(h)
            .map(|i| i + at)
            .unwrap_or_else(|| panic!("up --help lacks (or misorders) {h}:\n{up}"));
        at = i;
    }
    // A flag sits under its heading.
    let slack = up.find("Slack:").unwrap();
    let alarms = up.find("Alarms:").unwrap();
    let channel = up.find("--slack-channel").unwrap();
    assert!(slack < channel && channel < alarms, "{up}");
}

#[test]
fn the_bash_completion_parses_and_every_script_names_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, script) = elb_watch(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        for sub in subcommands() {
            assert!(script.contains(&sub), "{shell} completion lacks {sub}");
        }
        if shell == "bash" {
            let path = std::env::temp_dir().join(format!("elb-watch-{}.bash", std::process::id()));
            std::fs::write(&path, &script).unwrap();
            let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
            assert!(
                check.status.success(),
                "bash -n: {}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
    }
    let (_, zsh) = elb_watch(&["completions", "zsh"]);
    assert!(
        zsh.starts_with("#compdef elb-watch"),
        "{}",
        &zsh[..40.min(zsh.len())]
    );
}

#[test]
fn the_man_page_is_roff_naming_every_subcommand() {
    let (code, page) = elb_watch(&["man"]);
    assert_eq!(code, 0);
    assert!(
        page.contains(".TH elb-watch"),
        "{}",
        &page[..200.min(page.len())]
    );
    assert!(
        page.contains(".SH NAME") && page.contains(".SH SYNOPSIS"),
        "{page}"
    );
    for sub in subcommands() {
        assert!(page.contains(&sub), "the man page lacks {sub}");
    }
    // Every roff request line is a known macro (a stray line starting with '.' or '\'' would
    // be read as one).
    for line in page.lines().filter(|l| l.starts_with('.')) {
        let mac = line.split_whitespace().next().unwrap();
        assert!(
            [
                ".TH", ".SH", ".TP", ".PP", ".IP", ".RS", ".RE", ".br", ".B", ".I", ".ie", ".el",
                ".nh", ".ad", ".SS", ".LP", ".P", ".sp", ".nf", ".fi", ".in", ".\\\""
            ]
            .contains(&mac),
            "unexpected roff request {line:?}"
        );
    }
}

/// Every long flag of every command (and the global ones).
fn our_flags() -> std::collections::BTreeSet<String> {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, out: &mut std::collections::BTreeSet<String>) {
        for a in cmd.get_arguments() {
            if let Some(l) = a.get_long() {
                out.insert(l.to_string());
            }
            for alias in a.get_visible_aliases().into_iter().flatten() {
                out.insert(alias.to_string());
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(&elb_watch::cli::Cli::command(), &mut out);
    out.insert("help".into());
    out
}

/// Flags the README gives to other tools, with the tool.
const OTHER_TOOLS: &[(&str, &str)] = &[
    ("workspace", "cargo"),
    ("all-targets", "cargo"),
    ("path", "cargo install / aws iam create-policy"),
    ("locked", "cargo install"),
    ("release", "cargo build"),
    ("example", "cargo run"),
    ("profile", "cargo zigbuild (also elb-watch's own)"),
    ("target", "cargo zigbuild"),
    ("manifest-path", "cargo zigbuild (build.rs's nested build)"),
    ("config", "cargo zigbuild (the notifier profile)"),
    ("albs", "the kinds_bench example"),
    ("policy-name", "aws iam create-policy"),
    ("policy-document", "aws iam create-policy"),
    ("tags", "aws iam create-policy"),
    ("target-group-arn", "aws elbv2 modify-target-group"),
    ("unhealthy-threshold-count", "aws elbv2 modify-target-group"),
    ("body-file", "gh pr comment"),
    ("bin", "cargo build"),
    ("no-run", "cargo nextest run"),
    ("test", "cargo test"),
    ("timings", "cargo build"),
    ("nocapture", "the test harness"),
    ("cold", "the notifier_bench example"),
    ("warm", "the notifier_bench and graph_bench examples"),
    ("storm", "the notifier_bench example"),
    ("baseline", "the graph_bench example"),
    ("concurrency", "the notifier_bench example"),
    ("events", "the notifier_faults example"),
    ("seed", "the notifier_faults example"),
];

/// The README and docs/*.md, one text.
fn readme_and_docs() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    for doc in docs {
        text.push('\n');
        text.push_str(&std::fs::read_to_string(doc).unwrap());
    }
    text
}

/// The README (and the docs it links) cannot name a flag elb-watch does not have: each
/// `--flag` shown is one of elb-watch's, or listed above with the tool it belongs to.
#[test]
fn every_flag_the_readme_names_exists() {
    let readme = readme_and_docs();
    let ours = our_flags();
    let mut unknown = std::collections::BTreeSet::new();
    for (i, _) in readme.match_indices("--") {
        let rest = &readme[i + 2..];
        let flag: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        let before = readme[..i].chars().last();
        // `--flag` only: not `---`, not a `--` separator, not inside a word.
        if flag.is_empty()
            || !flag.starts_with(|c: char| c.is_ascii_lowercase())
            || before.is_some_and(|c| c.is_alphanumeric() || c == '-')
        {
            continue;
        }
        let flag = flag.trim_end_matches('-').to_string();
        if !ours.contains(&flag) && !OTHER_TOOLS.iter().any(|(f, _)| *f == flag) {
            unknown.insert(flag);
        }
    }
    assert!(
        unknown.is_empty(),
        "the README or docs name flags elb-watch lacks: {unknown:?}"
    );
    // And the list above holds nothing the README no longer needs.
    for (flag, tool) in OTHER_TOOLS {
        assert!(
            readme.contains(&format!("--{flag}")),
            "--{flag} ({tool}) is no longer in the README or docs"
        );
    }
}
