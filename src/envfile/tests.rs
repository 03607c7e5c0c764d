//! The file format as documented, and every error form with its line and key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;

const EXAMPLE: &str = r##"[env.prod]
region = "eu-west-1"
lbs = ["web-alb", "api-alb"]          # or: tags = { team = "web" }   or: all = true
slack_url_env = "SLACK_WEBHOOK_URL"   # the secret's source, never the secret: *_env names an
                                      # environment variable, *_file a path (slack_url_file,
                                      # slack_token_env, slack_token_file)
slack_channel = "#ops"
min_healthy = 1
email = "oncall@example.com"

[[env.prod.override]]                 # matched by target_group and/or load_balancer (globs)
target_group = "api-*"
min_healthy = 5

[[env.prod.override]]
load_balancer = "batch-alb"
min_healthy_percent = 50
"##;

fn path() -> &'static Path {
    Path::new(DEFAULT_FILE)
}

fn ok(text: &str) -> EnvFile {
    match parse(path(), text) {
        Ok(file) => file,
        Err(e) => panic!("expected {text:?} to parse, got:\n{e}"),
    }
}

/// The problems of a file that must not parse, as (line, key, message).
fn problems(text: &str) -> Vec<(usize, Option<String>, String)> {
    match parse(path(), text) {
        Ok(file) => panic!("expected {text:?} to fail, got {file:?}"),
        Err(e) => {
            assert_eq!(e.path, path());
            e.problems
                .into_iter()
                .map(|p| (p.line, p.key, p.message))
                .collect()
        }
    }
}

/// The one problem of a file, rendered as the user sees it.
fn one_error(text: &str) -> String {
    let err = parse(path(), text).expect_err("must fail");
    assert_eq!(err.problems.len(), 1, "{err}");
    err.to_string()
}

fn key(k: &str) -> Option<String> {
    Some(k.to_string())
}

#[test]
fn envfile_example_parses_to_what_it_says() {
    let file = ok(EXAMPLE);
    assert_eq!(file.path, PathBuf::from("elb-watch.toml"));
    assert_eq!(file.envs.keys().collect::<Vec<_>>(), ["prod"]);
    let prod = file.env("prod").unwrap();
    let expected = EnvConfig {
        name: "prod".into(),
        line: 1,
        region: Some("eu-west-1".into()),
        lbs: vec!["web-alb".into(), "api-alb".into()],
        slack_url: Some(SecretSource::Env("SLACK_WEBHOOK_URL".into())),
        slack_channel: Some("#ops".into()),
        min_healthy: Some(1),
        email: Some("oncall@example.com".into()),
        overrides: vec![
            Override {
                target_group: Some("api-*".into()),
                load_balancer: None,
                threshold: Threshold::Count(5),
                line: 11,
            },
            Override {
                target_group: None,
                load_balancer: Some("batch-alb".into()),
                threshold: Threshold::Percent(50),
                line: 15,
            },
        ],
        ..EnvConfig::default()
    };
    assert_eq!(*prod, expected);
    assert_eq!(
        prod.slack_url(),
        Some(&SecretSource::Env("SLACK_WEBHOOK_URL".into()))
    );
    assert_eq!(prod.slack_token(), None);
}

#[test]
fn envfile_every_key_reaches_its_field() {
    let text = r#"
[env.staging]
region = "us-east-1"
profile = "stg"
endpoint_url = "http://127.0.0.1:4566"
all = true
tags = { team = "web", "cost-centre" = "" }
slack_token_file = "secrets/slack-token"
slack_channel = "C0123ABCD"
slack_api_url = "https://slack-gov.com/api/"
mentions = ["@here", "<!subteam^S0123ABC>"]
runbook = "https://wiki.example.com/runbooks/web"
min_healthy_percent = 75
per_zone = true
log_retention_days = 14
permissions_boundary = "arn:aws:iam::123456789012:policy/boundary"
arch = "arm64"
notifier_concurrency = 5
allow_any_webhook = false
override = [{ load_balancer = "web-*", target_group = "*-canary", min_healthy = 1 }]

[env.dev]
slack_url_file = "/run/secrets/slack"
lbs = []
"#;
    let file = parse(Path::new("deploy/elb-watch.toml"), text).unwrap();
    let stg = file.env("staging").unwrap();
    let expected = EnvConfig {
        name: "staging".into(),
        line: 2,
        region: Some("us-east-1".into()),
        profile: Some("stg".into()),
        endpoint_url: Some("http://127.0.0.1:4566".into()),
        lbs: vec![],
        all: Some(true),
        tags: BTreeMap::from([
            ("team".to_string(), "web".to_string()),
            ("cost-centre".to_string(), String::new()),
        ]),
        slack_url: None,
        // Relative to the file's directory.
        slack_token: Some(SecretSource::File(PathBuf::from(
            "deploy/secrets/slack-token",
        ))),
        slack_channel: Some("C0123ABCD".into()),
        slack_api_url: Some("https://slack-gov.com/api/".into()),
        // As `--mention` writes them.
        mentions: vec!["<!here>".into(), "<!subteam^S0123ABC>".into()],
        runbook: Some("https://wiki.example.com/runbooks/web".into()),
        min_healthy: None,
        min_healthy_percent: Some(75),
        per_zone: Some(true),
        email: None,
        log_retention_days: Some(14),
        permissions_boundary: Some("arn:aws:iam::123456789012:policy/boundary".into()),
        arch: Some(crate::bundle::Arch::Arm64),
        notifier_concurrency: Some(5),
        allow_any_webhook: Some(false),
        overrides: vec![Override {
            target_group: Some("*-canary".into()),
            load_balancer: Some("web-*".into()),
            threshold: Threshold::Count(1),
            line: 20,
        }],
    };
    assert_eq!(*stg, expected);
    let dev = file.env("dev").unwrap();
    assert_eq!(
        dev.slack_url(),
        Some(&SecretSource::File(PathBuf::from("/run/secrets/slack")))
    );
    assert_eq!(dev.line, 22);
    assert!(dev.lbs.is_empty());
}

#[test]
fn envfile_unknown_key_suggests_the_nearest() {
    let text = EXAMPLE.replace("slack_channel = ", "slak_channel = ");
    assert_eq!(
        one_error(&text),
        "elb-watch.toml:7: unknown key `slak_channel` in [env.prod] (did you mean `slack_channel`?)"
    );
    assert_eq!(problems(&text)[0].1, key("env.prod.slak_channel"));
    // A flag's own name points at its key.
    assert_eq!(
        one_error("[env.prod]\nmention = [\"@here\"]\n"),
        "elb-watch.toml:2: unknown key `mention` in [env.prod] (did you mean `mentions`?)"
    );
    assert_eq!(
        one_error("[env.prod]\nlb = [\"web\"]\n"),
        "elb-watch.toml:2: unknown key `lb` in [env.prod] (did you mean `lbs`?)"
    );
    // In an override, among the override's keys.
    assert_eq!(
        one_error("[env.prod]\n[[env.prod.override]]\ntarget_grup = \"a\"\nmin_healthy = 2\n"),
        "elb-watch.toml:3: unknown key `target_grup` in [[env.prod.override]] (did you mean \
         `target_group`?)"
    );
    // A key not meant for a missing one does not hide that it is missing.
    assert_eq!(
        problems("[env.prod]\n[[env.prod.override]]\ncolour = \"a\"\nmin_healthy = 2\n")
            .into_iter()
            .map(|p| (p.0, p.2))
            .collect::<Vec<_>>(),
        [
            (
                2,
                "[[env.prod.override]] must say what it applies to: set `target_group` and/or \
                 `load_balancer` (globs)"
                    .to_string()
            ),
            (
                3,
                "unknown key `colour` in [[env.prod.override]]".to_string()
            ),
        ]
    );
}

#[test]
fn envfile_unknown_key_without_a_near_one() {
    assert_eq!(
        problems("[env.prod]\nregion = \"eu-west-1\"\ncolour = \"red\"\n"),
        [(
            3,
            key("env.prod.colour"),
            "unknown key `colour` in [env.prod]".to_string()
        )]
    );
    assert_eq!(
        one_error("rgion = 1\n[env.prod]\n"),
        "elb-watch.toml:1: unknown key `rgion` at the top level (the file holds [env.NAME] tables)"
    );
    assert_eq!(
        one_error("[envs.prod]\n"),
        "elb-watch.toml:1: unknown key `envs` at the top level (did you mean `env`?)"
    );
    assert_eq!(
        one_error("region = \"eu-west-1\"\n[env.prod]\n"),
        "elb-watch.toml:1: `region` is outside any environment: put it in an [env.NAME] table"
    );
    assert_eq!(
        one_error("[env.prod]\ndry_run = true\n"),
        "elb-watch.toml:2: `dry_run` is not a setting: pass --dry-run to `elb-watch up`"
    );
}

#[test]
fn envfile_wrong_types() {
    let text = "[env.prod]\nregion = \"eu-west-1\"\n\n\n\n\n\n\nmin_healthy = \"5\"\n";
    assert_eq!(
        problems(text),
        [(
            9,
            key("env.prod.min_healthy"),
            "`min_healthy` must be an integer ≥ 1, found a string".to_string()
        )]
    );
    assert_eq!(
        one_error(text),
        "elb-watch.toml:9: `min_healthy` must be an integer ≥ 1, found a string"
    );
    assert_eq!(
        one_error("[env.prod]\nall = \"yes\"\n"),
        "elb-watch.toml:2: `all` must be true or false, found a string"
    );
    assert_eq!(
        one_error("[env.prod]\nmin_healthy = 2.5\n"),
        "elb-watch.toml:2: `min_healthy` must be an integer ≥ 1, found a float"
    );
    assert_eq!(
        one_error("[env.prod]\nlbs = \"web-alb\"\n"),
        "elb-watch.toml:2: `lbs` must be a list of non-empty strings, found a string"
    );
    // An element names its own line.
    assert_eq!(
        one_error("[env.prod]\nlbs = [\n  \"web-alb\",\n  3,\n]\n"),
        "elb-watch.toml:4: `lbs` must be a list of non-empty strings, found an integer (item 2)"
    );
    assert_eq!(
        one_error("[env.prod]\nlbs = [\"\"]\n"),
        "elb-watch.toml:2: `lbs` must be a list of non-empty strings, found an empty string (item 1)"
    );
    assert_eq!(
        one_error("[env.prod]\nlbs = [\"web_alb\"]\n"),
        "elb-watch.toml:2: `lbs`: 'web_alb' is not a load balancer name: 1 to 32 letters, digits \
         and inner '-'"
    );
    assert_eq!(
        one_error("[env.prod]\n[env.prod.tags]\nteam = 1\n"),
        "elb-watch.toml:3: `tags` must be a table of strings (e.g. { team = \"web\" }), found an \
         integer for `team`"
    );
    assert_eq!(
        one_error("[env.prod]\narch = \"aarch64\"\n"),
        "elb-watch.toml:2: `arch` must be one of \"x86_64\", \"arm64\", found \"aarch64\""
    );
    assert_eq!(
        one_error("[env.prod]\nnotifier_concurrency = 1001\n"),
        "elb-watch.toml:2: `notifier_concurrency` must be an integer from 1 to 1000, found 1001"
    );
    assert_eq!(
        one_error("[env.prod]\nlog_retention_days = 10\n"),
        "elb-watch.toml:2: `log_retention_days` must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, \
         150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, found 10"
    );
    assert_eq!(
        one_error("[env.prod]\nregion = \"\"\n"),
        "elb-watch.toml:2: `region` must be a non-empty string, found an empty string"
    );
    assert_eq!(
        one_error("[env.prod]\n[env.prod.override]\ntarget_group = \"a\"\nmin_healthy = 2\n"),
        "elb-watch.toml:2: `override` must be an array of tables ([[env.prod.override]]), found \
         a table"
    );
    assert_eq!(
        one_error("[env]\nprod = 1\n"),
        "elb-watch.toml:2: `env.prod` must be a table ([env.prod]), found an integer"
    );
}

#[test]
fn envfile_min_healthy_zero_and_percent_101() {
    assert_eq!(
        problems("[env.prod]\nmin_healthy = 0\n"),
        [(
            2,
            key("env.prod.min_healthy"),
            "`min_healthy` must be an integer ≥ 1, found 0".to_string()
        )]
    );
    assert_eq!(
        problems("[env.prod]\n\nmin_healthy_percent = 101\n"),
        [(
            3,
            key("env.prod.min_healthy_percent"),
            "`min_healthy_percent` must be an integer from 1 to 100, found 101".to_string()
        )]
    );
    assert_eq!(
        problems("[env.prod]\n[[env.prod.override]]\ntarget_group = \"*\"\nmin_healthy = -1\n"),
        [(
            4,
            key("env.prod.override.0.min_healthy"),
            "`min_healthy` must be an integer ≥ 1, found -1".to_string()
        )]
    );
    // Beyond u32 is out of range too, not wrapped.
    assert_eq!(
        one_error("[env.prod]\nmin_healthy = 4294967296\n"),
        "elb-watch.toml:2: `min_healthy` must be an integer ≥ 1, found 4294967296"
    );
    assert_eq!(
        ok("[env.prod]\nmin_healthy = 0x10\n").envs["prod"].min_healthy,
        Some(16)
    );
}

#[test]
fn envfile_min_healthy_and_percent_are_exclusive() {
    assert_eq!(
        problems("[env.prod]\nmin_healthy = 2\nmin_healthy_percent = 50\n"),
        [(
            3,
            key("env.prod.min_healthy_percent"),
            "`min_healthy_percent` and `min_healthy` (line 2) cannot both be set in [env.prod]: \
             keep one"
                .to_string()
        )]
    );
    assert_eq!(
        problems(
            "[env.prod]\n\n[[env.prod.override]]\nmin_healthy_percent = 50\nload_balancer = \"a\"\n\
             min_healthy = 2\n"
        ),
        [(
            6,
            key("env.prod.override.0.min_healthy"),
            "`min_healthy` and `min_healthy_percent` (line 4) cannot both be set in \
             [[env.prod.override]]: keep one"
                .to_string()
        )]
    );
    // An override must set one.
    assert_eq!(
        problems("[env.prod]\nmin_healthy = 2\n[[env.prod.override]]\ntarget_group = \"a\"\n"),
        [(
            3,
            key("env.prod.override.0"),
            "[[env.prod.override]] must set `min_healthy` or `min_healthy_percent`".to_string()
        )]
    );
}

#[test]
fn envfile_override_needs_a_glob() {
    let text = EXAMPLE.replace("load_balancer = \"batch-alb\"\n", "");
    assert_eq!(
        problems(&text),
        [(
            15,
            key("env.prod.override.1"),
            "[[env.prod.override]] must say what it applies to: set `target_group` and/or \
             `load_balancer` (globs)"
                .to_string()
        )]
    );
    assert_eq!(
        one_error(
            "[env.prod]\n[[env.prod.override]]\ntarget_group = \"a\"\nper_zone = true\nmin_healthy = 1\n"
        ),
        "elb-watch.toml:4: `per_zone` cannot be set in [[env.prod.override]]: an override sets \
         only `target_group`, `load_balancer` and `min_healthy` or `min_healthy_percent` (put \
         `per_zone` in [env.prod])"
    );
}

#[test]
fn envfile_literal_secrets_are_refused() {
    let secret = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";
    let text = format!("[env.prod]\nregion = \"eu-west-1\"\nslack_url = \"{secret}\"\n");
    let err = parse(path(), &text).unwrap_err();
    assert_eq!(
        err.to_string(),
        "elb-watch.toml:3: `slack_url` would put the secret in the repository: say where it \
         comes from instead, with `slack_url_env` (an environment variable's name) or \
         `slack_url_file` (a file's path); if this was committed, rotate the secret"
    );
    assert_eq!(err.problems[0].key, key("env.prod.slack_url"));
    let err = one_error("[env.prod]\nslack_token = \"xoxb-1-SECRET\"\n");
    assert!(
        err.starts_with("elb-watch.toml:2: `slack_token` would put the secret in the repository")
            && err.contains("`slack_token_env`")
            && err.contains("`slack_token_file`")
            && !err.contains("SECRET"),
        "{err}"
    );
    // The secret pasted where its source's name goes is refused without being shown.
    let err = one_error(&format!("[env.prod]\nslack_url_env = \"{secret}\"\n"));
    assert_eq!(
        err,
        "elb-watch.toml:2: `slack_url_env` must be the name of an environment variable holding \
         the secret (e.g. \"SLACK_WEBHOOK_URL\"), not the secret itself; if this was committed, \
         rotate the secret"
    );
    let err = one_error(&format!("[env.prod]\nslack_url_file = \"{secret}\"\n"));
    assert_eq!(
        err,
        "elb-watch.toml:2: `slack_url_file` must be the path of a file holding the secret, not \
         the secret itself; if this was committed, rotate the secret"
    );
    // At the top level too.
    assert!(
        one_error(&format!("slack_url = \"{secret}\"\n[env.prod]\n"))
            .starts_with("elb-watch.toml:1: `slack_url` would put the secret in the repository")
    );
}

#[test]
fn envfile_at_most_one_slack_source() {
    let text = "[env.prod]\nslack_url_env = \"A\"\nslack_channel = \"#ops\"\nslack_token_file = \"t\"\n\
                slack_url_file = \"u\"\n";
    assert_eq!(
        problems(text),
        [
            (
                4,
                key("env.prod.slack_token_file"),
                "`slack_token_file` and `slack_url_env` (line 2) cannot both be set in [env.prod]: \
                 give one Slack source (slack_url_env, slack_url_file, slack_token_env or \
                 slack_token_file)"
                    .to_string()
            ),
            (
                5,
                key("env.prod.slack_url_file"),
                "`slack_url_file` and `slack_url_env` (line 2) cannot both be set in [env.prod]: \
                 give one Slack source (slack_url_env, slack_url_file, slack_token_env or \
                 slack_token_file)"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn envfile_bad_env_names() {
    assert_eq!(
        problems("[env.prod]\n\n[env.Prod_EU]\nregion = \"eu-west-1\"\n"),
        [(
            3,
            key("env.Prod_EU"),
            "[env.Prod_EU]: 'Prod_EU' is not a valid environment name: use 1 to 20 lower-case \
             letters, digits and inner '-' (e.g. prod, staging, eu-prod)"
                .to_string()
        )]
    );
    assert_eq!(
        one_error("[env.\"\"]\n"),
        "elb-watch.toml:1: [env.\"\"]: '' is not a valid environment name: use 1 to 20 \
         lower-case letters, digits and inner '-' (e.g. prod, staging, eu-prod)"
    );
    assert_eq!(problems("[env.-prod]\n")[0].1, key("env.-prod"));
    // The table's keys are still checked.
    assert_eq!(
        problems("[env.\"my env\"]\nregon = \"x\"\n")
            .into_iter()
            .map(|p| (p.0, p.2))
            .collect::<Vec<_>>(),
        [
            (
                1,
                "[env.\"my env\"]: 'my env' is not a valid environment name: use 1 to 20 \
                 lower-case letters, digits and inner '-' (e.g. prod, staging, eu-prod)"
                    .to_string()
            ),
            (
                2,
                "unknown key `regon` in [env.\"my env\"] (did you mean `region`?)".to_string()
            ),
        ]
    );
}

#[test]
fn envfile_toml_syntax_errors() {
    assert_eq!(
        problems("[env.prod]\nregion = \"eu-west-1\"\nmin_healthy = \n"),
        [(
            3,
            None,
            "invalid TOML: string values must be quoted, expected literal string".to_string()
        )]
    );
    assert_eq!(
        one_error("[env.prod]\nregion = \"a\"\n\nregion = \"b\"\n"),
        "elb-watch.toml:4: invalid TOML: duplicate key `region`"
    );
    assert_eq!(
        one_error("[env.prod\nregion = \"a\"\n"),
        "elb-watch.toml:1: invalid TOML: unclosed table, expected `]`"
    );
}

#[test]
fn envfile_empty_file_and_problem_order() {
    assert_eq!(
        one_error(""),
        "elb-watch.toml:1: no environment: add an [env.NAME] table (e.g. [env.prod])"
    );
    // Every problem, in line order (the table is read in key order).
    let err = parse(
        path(),
        "[env.prod]\nzone = 1\nall = 1\n[env.dev]\nmin_healthy = 0\n",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "elb-watch.toml:2: unknown key `zone` in [env.prod]\n\
         elb-watch.toml:3: `all` must be true or false, found an integer\n\
         elb-watch.toml:5: `min_healthy` must be an integer ≥ 1, found 0"
    );
}

#[test]
fn envfile_env_lookup_lists_the_envs() {
    let file = ok("[env.prod]\n[env.dev]\n");
    assert_eq!(file.env("dev").unwrap().name, "dev");
    assert_eq!(
        file.env("staging").unwrap_err().to_string(),
        "elb-watch.toml has no [env.staging]: its environments are dev, prod"
    );
    let empty = EnvFile {
        path: PathBuf::from("x.toml"),
        envs: BTreeMap::new(),
    };
    assert_eq!(
        empty.env("prod").unwrap_err().to_string(),
        "x.toml has no [env.prod]: it defines no environment"
    );
}

#[test]
fn envfile_threshold_for_last_override_wins() {
    let file = ok(r#"
[env.prod]
min_healthy = 2

[[env.prod.override]]
target_group = "api-*"
min_healthy = 5

[[env.prod.override]]
target_group = "api-canary"
min_healthy_percent = 10

[[env.prod.override]]
load_balancer = "batch-alb"
min_healthy_percent = 50

[[env.prod.override]]
load_balancer = "web-*"
target_group = "*-blue"
min_healthy = 9
"#);
    let prod = &file.envs["prod"];
    assert_eq!(
        prod.threshold_for("web-alb", "api-main"),
        Threshold::Count(5)
    );
    // Both api-* and api-canary match: the later one wins.
    assert_eq!(
        prod.threshold_for("web-alb", "api-canary"),
        Threshold::Percent(10)
    );
    assert_eq!(
        prod.threshold_for("batch-alb", "jobs"),
        Threshold::Percent(50)
    );
    // batch-alb (3rd) is later than api-* (1st).
    assert_eq!(
        prod.threshold_for("batch-alb", "api-jobs"),
        Threshold::Percent(50)
    );
    // Both globs must match.
    assert_eq!(
        prod.threshold_for("web-alb", "shop-blue"),
        Threshold::Count(9)
    );
    assert_eq!(
        prod.threshold_for("other-alb", "shop-blue"),
        Threshold::Count(2)
    );
    assert_eq!(
        prod.threshold_for("web-alb", "shop-green"),
        Threshold::Count(2)
    );
    // No match: the env's own.
    assert_eq!(prod.threshold_for("other", "other"), Threshold::Count(2));
    // Classic: no target group.
    assert_eq!(prod.threshold_for("batch-alb", ""), Threshold::Percent(50));

    let reversed = ok(r#"
[env.prod]
[[env.prod.override]]
target_group = "api-canary"
min_healthy_percent = 10
[[env.prod.override]]
target_group = "api-*"
min_healthy = 5
"#);
    assert_eq!(
        reversed.envs["prod"].threshold_for("web-alb", "api-canary"),
        Threshold::Count(5)
    );
}

#[test]
fn envfile_default_thresholds() {
    assert_eq!(
        ok("[env.a]\n").envs["a"].threshold_for("lb", "tg"),
        Threshold::Count(1)
    );
    assert_eq!(
        ok("[env.a]\nmin_healthy = 3\n").envs["a"].threshold_for("lb", "tg"),
        Threshold::Count(3)
    );
    assert_eq!(
        ok("[env.a]\nmin_healthy_percent = 40\n").envs["a"].threshold_for("lb", "tg"),
        Threshold::Percent(40)
    );
}

#[test]
fn envfile_secret_sources_read_without_showing_values() {
    let dir = std::env::temp_dir().join(format!("elb-watch-envfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("slack");
    std::fs::write(&file, "  https://hooks.slack.com/services/T/B/SECRET\n").unwrap();
    let got = SecretSource::File(file.clone()).read().unwrap();
    assert_eq!(got.expose(), "https://hooks.slack.com/services/T/B/SECRET");
    assert_eq!(format!("{got:?}"), "Secret(***)");

    std::fs::write(&file, "\n").unwrap();
    assert_eq!(
        SecretSource::File(file.clone())
            .read()
            .unwrap_err()
            .to_string(),
        format!("{} is empty", file.display())
    );
    let missing = dir.join("missing");
    assert_eq!(
        SecretSource::File(missing.clone())
            .read()
            .unwrap_err()
            .to_string(),
        format!("cannot read {}", missing.display())
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // A variable no test sets (tests never set the environment: they run in parallel).
    let name = "ELB_WATCH_ENVFILE_TEST_UNSET_VARIABLE";
    assert_eq!(
        SecretSource::Env(name.into())
            .read()
            .unwrap_err()
            .to_string(),
        format!("the environment variable {name} is not set")
    );
    assert_eq!(
        SecretSource::Env("SLACK_WEBHOOK_URL".into()).to_string(),
        "environment variable SLACK_WEBHOOK_URL"
    );
}

#[test]
fn envfile_load_reads_the_file() {
    let dir = std::env::temp_dir().join(format!("elb-watch-envfile-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(DEFAULT_FILE);
    std::fs::write(
        &path,
        "[env.prod]\nslack_url_file = \"hook\"\nmin_healthy = 0\n",
    )
    .unwrap();
    assert_eq!(
        load(&path).unwrap_err().to_string(),
        format!(
            "{}:3: `min_healthy` must be an integer ≥ 1, found 0",
            path.display()
        )
    );
    std::fs::write(&path, "[env.prod]\nslack_url_file = \"hook\"\n").unwrap();
    let file = load(&path).unwrap();
    assert_eq!(
        file.envs["prod"].slack_url(),
        Some(&SecretSource::File(dir.join("hook")))
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        load(&dir.join(DEFAULT_FILE))
            .unwrap_err()
            .to_string()
            .starts_with("cannot read ")
    );
}

#[test]
fn envfile_arches_are_the_bundles() {
    let names: Vec<&str> = crate::bundle::Arch::ALL
        .map(crate::bundle::Arch::lambda_name)
        .to_vec();
    assert_eq!(keys::ARCHES, names.as_slice());
}

/// Every flag of `elb-watch up` (and the global flags `up` uses) is a key of the file or is
/// named as not one, and every key's flag exists: the file cannot silently fall behind `up`.
#[test]
fn envfile_keys_follow_the_flags_of_up() {
    use clap::CommandFactory;
    let cli = crate::cli::Cli::command();
    let up = cli.find_subcommand("up").expect("an `up` subcommand");
    let mut flags: Vec<String> = up
        .get_arguments()
        .chain(cli.get_arguments())
        .filter_map(|a| a.get_long().map(str::to_string))
        .filter(|f| {
            !["env", "output", "no-progress", "verbose", "help", "version"].contains(&f.as_str())
        })
        .collect();
    flags.sort();
    flags.dedup();
    let key_flags: Vec<&str> = keys::ENV_KEYS.iter().filter_map(|k| k.flag).collect();
    // Flags that are not keys: the literal secret (refused), and those FLAG_ONLY names.
    let not_keys = [
        "slack-url",
        "dry-run",
        "notifier-bootstrap",
        "all-envs",
        "file",
    ];
    for flag in &flags {
        assert!(
            key_flags.contains(&flag.as_str()) || not_keys.contains(&flag.as_str()),
            "--{flag} of `up` is not a key of elb-watch.toml (add it to keys::ENV_KEYS or say why not)"
        );
    }
    for flag in key_flags {
        assert!(
            flags.iter().any(|f| f == flag),
            "key flag --{flag} is not a flag of `up`"
        );
    }
    for (name, _) in keys::FLAG_ONLY {
        assert!(flags.contains(&name.replace('_', "-")), "{name}");
    }
}
