//! The environments file (`elb-watch.toml`) meets the flags: which file, which env, and what
//! each flag left unsaid takes from the file. A flag given on the command line (or through its
//! environment variable) always wins; a default does not.

use crate::cli::{GlobalOpts, UpArgs};
use crate::envfile::{self, EnvConfig, EnvFile};
use anyhow::{Result, bail};
use clap::ArgMatches;
use clap::parser::ValueSource;
use std::collections::BTreeSet;
use std::path::Path;

/// The arguments given on the command line or through their environment variable (defaults
/// left out), by clap id: the field's name.
#[derive(Debug, Clone, Default)]
pub struct Given(BTreeSet<String>);

impl Given {
    /// From the top level's matches and the subcommand's.
    pub fn from_matches(matches: &ArgMatches) -> Self {
        let mut ids = BTreeSet::new();
        let mut collect = |m: &ArgMatches| {
            for id in m.ids() {
                if matches!(
                    m.value_source(id.as_str()),
                    Some(ValueSource::CommandLine | ValueSource::EnvVariable)
                ) {
                    ids.insert(id.as_str().to_string());
                }
            }
        };
        collect(matches);
        if let Some((_, sub)) = matches.subcommand() {
            collect(sub);
        }
        Given(ids)
    }

    /// For tests: exactly these ids.
    pub fn of(ids: &[&str]) -> Self {
        Given(ids.iter().map(|s| s.to_string()).collect())
    }

    pub fn has(&self, id: &str) -> bool {
        self.0.contains(id)
    }

    fn any(&self, ids: &[&str]) -> bool {
        ids.iter().any(|id| self.has(id))
    }
}

/// The environments file in use: `--file` (or `ELB_WATCH_FILE`), which must exist, else
/// `./elb-watch.toml` when there is one.
pub fn locate(global: &GlobalOpts) -> Result<Option<EnvFile>> {
    match &global.file {
        Some(path) => Ok(Some(envfile::load(path)?)),
        None => {
            let default = Path::new(envfile::DEFAULT_FILE);
            if default.is_file() {
                Ok(Some(envfile::load(default)?))
            } else {
                Ok(None)
            }
        }
    }
}

/// The env's table of the file, if it has one. A file named with `--file` must hold the env;
/// a `./elb-watch.toml` found by itself need not (the env is then all flags).
pub fn env_of<'a>(file: &'a EnvFile, global: &GlobalOpts) -> Result<Option<&'a EnvConfig>> {
    match file.envs.get(&global.env) {
        Some(env) => Ok(Some(env)),
        None if global.file.is_some() => file.env(&global.env).map(Some),
        None => Ok(None),
    }
}

/// The global options the file sets for the env: region, profile, endpoint.
pub fn merge_global(global: &mut GlobalOpts, env: &EnvConfig, given: &Given) {
    if !given.has("region") && env.region.is_some() {
        global.region = env.region.clone();
    }
    if !given.has("profile") && env.profile.is_some() {
        global.profile = env.profile.clone();
    }
    if !given.has("endpoint_url") && env.endpoint_url.is_some() {
        global.endpoint_url = env.endpoint_url.clone();
    }
}

/// `up`'s arguments, each one not given taken from the env's table. The selection is taken
/// whole (a `--lb` given replaces the file's `lbs`, `tags` and `all` together), as is the
/// Slack secret (a flag or variable giving one replaces the file's source).
pub fn merge_up(args: &mut UpArgs, env: &EnvConfig, given: &Given) -> Result<()> {
    if !given.any(&["lbs", "all", "tags"]) {
        args.lbs = env.lbs.clone();
        args.all = env.all.unwrap_or(false);
        args.tags = env
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
    }
    let secret_given = given.any(&["slack_url", "slack_url_file", "slack_token_file"])
        || std::env::var_os(crate::commands::up::ENV_TOKEN).is_some_and(|v| !v.is_empty());
    if !secret_given {
        args.file_slack = env.slack();
    }
    let take = |id: &str, set: &mut dyn FnMut()| {
        if !given.has(id) {
            set();
        }
    };
    if let Some(c) = &env.slack_channel {
        take("slack_channel", &mut || {
            args.slack_channel = Some(c.clone())
        });
    }
    if let Some(u) = &env.slack_api_url {
        take("slack_api_url", &mut || args.slack_api_url = u.clone());
    }
    if !env.mentions.is_empty() {
        take("mentions", &mut || args.mentions = env.mentions.clone());
    }
    if let Some(r) = &env.runbook {
        take("runbook", &mut || args.runbook = Some(r.clone()));
    }
    if !given.any(&["min_healthy", "min_healthy_percent"]) {
        if let Some(n) = env.min_healthy {
            args.min_healthy = n;
        }
        args.min_healthy_percent = env.min_healthy_percent;
    }
    if let Some(z) = env.per_zone {
        take("per_zone", &mut || args.per_zone = z);
    }
    if let Some(e) = &env.email {
        take("email", &mut || args.email = Some(e.clone()));
    }
    if let Some(d) = env.log_retention_days {
        take("log_retention_days", &mut || args.log_retention_days = d);
    }
    if let Some(b) = &env.permissions_boundary {
        take("permissions_boundary", &mut || {
            args.permissions_boundary = Some(b.clone())
        });
    }
    if let Some(a) = env.arch {
        take("arch", &mut || args.arch = a);
    }
    if let Some(n) = env.notifier_concurrency {
        take("notifier_concurrency", &mut || {
            args.notifier_concurrency = n
        });
    }
    if let Some(a) = env.allow_any_webhook {
        take("allow_any_webhook", &mut || args.allow_any_webhook = a);
    }
    args.overrides = env.overrides.clone();
    if args.lbs.is_empty() && !args.all && args.tags.is_empty() {
        bail!(
            "env {}: nothing selected — give --lb NAME, --tag KEY=VALUE or --all, or set lbs, \
             tags or all in [env.{}] of the environments file",
            env.name,
            env.name
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::{CommandFactory, FromArgMatches};

    const FILE: &str = r##"
[env.prod]
region = "eu-west-1"
profile = "prod-admin"
lbs = ["web-alb", "api-alb"]
slack_url_env = "PROD_SLACK_URL"
slack_channel = "#ops"
min_healthy = 2
email = "oncall@example.com"
log_retention_days = 90

[[env.prod.override]]
target_group = "api-*"
min_healthy = 5
"##;

    fn parsed(argv: &[&str]) -> (Cli, Given) {
        let matches = Cli::command().try_get_matches_from(argv).unwrap();
        let cli = Cli::from_arg_matches(&matches).unwrap();
        (cli, Given::from_matches(&matches))
    }

    fn merged(argv: &[&str]) -> (GlobalOpts, UpArgs) {
        let file = envfile::parse(Path::new("elb-watch.toml"), FILE).unwrap();
        let (mut cli, given) = parsed(argv);
        let env = file.envs["prod"].clone();
        merge_global(&mut cli.global, &env, &given);
        let Command::Up(mut args) = cli.command else {
            panic!("not up")
        };
        merge_up(&mut args, &env, &given).unwrap();
        (cli.global, *args)
    }

    #[test]
    fn the_file_fills_what_no_flag_gives() {
        let (global, args) = merged(&["elb-watch", "--env", "prod", "up"]);
        assert_eq!(global.region.as_deref(), Some("eu-west-1"));
        assert_eq!(global.profile.as_deref(), Some("prod-admin"));
        assert_eq!(args.lbs, ["web-alb", "api-alb"]);
        assert_eq!(args.slack_channel.as_deref(), Some("#ops"));
        assert_eq!(args.min_healthy, 2);
        assert_eq!(args.email.as_deref(), Some("oncall@example.com"));
        assert_eq!(args.log_retention_days, 90);
        assert_eq!(args.overrides.len(), 1);
        assert_eq!(
            args.file_slack,
            Some(envfile::FileSlack::Webhook(envfile::SecretSource::Env(
                "PROD_SLACK_URL".into()
            )))
        );
    }

    #[test]
    fn flags_given_win_over_the_file_and_defaults_do_not() {
        let (global, args) = merged(&[
            "elb-watch",
            "--env",
            "prod",
            "--region",
            "us-west-2",
            "up",
            "--lb",
            "batch-alb",
            "--min-healthy",
            "3",
            "--log-retention-days",
            "30",
            "--slack-url-file",
            "/run/secrets/hook",
        ]);
        assert_eq!(global.region.as_deref(), Some("us-west-2"));
        assert_eq!(global.profile.as_deref(), Some("prod-admin"));
        assert_eq!(args.lbs, ["batch-alb"]);
        assert_eq!(args.min_healthy, 3);
        // 30 is the flag's default, yet given: it wins.
        assert_eq!(args.log_retention_days, 30);
        assert_eq!(args.file_slack, None);
        // Not given: from the file.
        assert_eq!(args.slack_channel.as_deref(), Some("#ops"));
    }

    #[test]
    fn a_percentage_flag_replaces_the_files_count() {
        let (_, args) = merged(&[
            "elb-watch",
            "--env",
            "prod",
            "up",
            "--min-healthy-percent",
            "40",
        ]);
        assert_eq!(args.min_healthy_percent, Some(40));
        assert_eq!(
            args.min_healthy, 1,
            "the flag's default, the file's 2 not taken"
        );
    }

    #[test]
    fn the_example_file_the_demo_uses_parses() {
        let text = include_str!("../../examples/elb-watch.toml");
        let file = envfile::parse(Path::new("examples/elb-watch.toml"), text).unwrap();
        let demo = &file.envs["demo"];
        assert_eq!(demo.lbs, ["web-alb"]);
        assert_eq!(demo.slack_channel.as_deref(), Some("#demo-alerts"));
        assert_eq!(file.envs["prod"].overrides.len(), 2);
    }

    #[test]
    fn a_named_file_must_hold_the_env_and_a_found_one_need_not() {
        let file = envfile::parse(Path::new("elb-watch.toml"), FILE).unwrap();
        let (mut cli, _) = parsed(&["elb-watch", "--env", "dev", "status"]);
        assert!(env_of(&file, &cli.global).unwrap().is_none());
        cli.global.file = Some("elb-watch.toml".into());
        let err = env_of(&file, &cli.global).unwrap_err().to_string();
        assert!(err.contains("prod"), "{err}");
    }
}
