//! `elb-watch.toml`: the environments of a repository, checked in beside its code.
//!
//! ```toml
//! [env.prod]
//! region = "eu-west-1"
//! lbs = ["web-alb", "api-alb"]          # or: tags = { team = "web" }   or: all = true
//! slack_url_env = "SLACK_WEBHOOK_URL"   # where the secret comes from, never the secret
//! slack_channel = "#ops"
//! min_healthy = 1
//!
//! [[env.prod.override]]                 # matched by target_group and/or load_balancer (globs)
//! target_group = "api-*"
//! min_healthy = 5
//! ```
//!
//! An `[env.NAME]` table takes what `elb-watch up` takes, its flags' names in snake_case, plus
//! `region`, `profile` and `endpoint_url` (the one table of keys, their types and their
//! descriptions is `keys.rs`; [`json_schema`] describes that same table for editors). A literal
//! secret (`slack_url`, `slack_token`) is refused: a `*_env` key names the environment
//! variable holding it, a `*_file` key the file. Each value is checked as its flag's value
//! parser checks it (`lbs` as `--lb`, `mentions` as `--mention`, …).
//!
//! Pure: [`parse`] reads text and nothing here calls AWS; only [`load`] reads the file and
//! [`SecretSource::read`] the secret. Errors: see [`FileError`] (all problems, in line order).

mod glob;
mod keys;
mod schema;
mod suggest;
mod validate;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub use glob::glob_match;
pub use schema::json_schema;

use crate::bundle::Arch;
use crate::secret::Secret;

/// The file `elb-watch` looks for in the current directory.
pub const DEFAULT_FILE: &str = "elb-watch.toml";

/// A parsed, valid `elb-watch.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFile {
    /// The file, as it was named (messages start with it).
    pub path: PathBuf,
    /// Its environments, by name (`[env.NAME]`).
    pub envs: BTreeMap<String, EnvConfig>,
}

/// One `[env.NAME]` table. A key left out is `None` (or empty), so flags and defaults can fill
/// it in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvConfig {
    /// The env's name: its table's key, a valid `--env`.
    pub name: String,
    /// Line of its `[env.NAME]` header (1-based), for messages about it.
    pub line: usize,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    /// `--lb`, each a valid load balancer name.
    pub lbs: Vec<String>,
    pub all: Option<bool>,
    /// `--tag KEY=VALUE`, one value per key.
    pub tags: BTreeMap<String, String>,
    slack_url: Option<SecretSource>,
    slack_token: Option<SecretSource>,
    pub slack_channel: Option<String>,
    pub slack_api_url: Option<String>,
    /// `--mention`, each as its value parser leaves it.
    pub mentions: Vec<String>,
    pub runbook: Option<String>,
    /// ≥ 1; never set together with `min_healthy_percent`.
    pub min_healthy: Option<u32>,
    /// 1..=100; never set together with `min_healthy`.
    pub min_healthy_percent: Option<u32>,
    pub per_zone: Option<bool>,
    pub email: Option<String>,
    /// One of the retentions CloudWatch Logs accepts.
    pub log_retention_days: Option<i32>,
    pub permissions_boundary: Option<String>,
    pub arch: Option<Arch>,
    /// 1..=1000, as `--notifier-concurrency`.
    pub notifier_concurrency: Option<u32>,
    pub allow_any_webhook: Option<bool>,
    /// `[[env.NAME.override]]`, in file order.
    pub overrides: Vec<Override>,
}

/// An alarm threshold: how many healthy targets are too few.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threshold {
    /// Alarm below this many healthy targets (≥ 1).
    Count(u32),
    /// Alarm below this percentage of the targets healthy (1..=100).
    Percent(u32),
}

/// One `[[env.NAME.override]]`: the threshold of the target groups it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// Glob on the target group's name.
    pub target_group: Option<String>,
    /// Glob on the load balancer's name.
    pub load_balancer: Option<String>,
    pub threshold: Threshold,
    /// Line of its `[[env.NAME.override]]` header (1-based).
    pub line: usize,
}

/// Where a Slack secret comes from; the file holds only this, never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable's name (`*_env`).
    Env(String),
    /// A file's path (`*_file`), already resolved against the directory of `elb-watch.toml`.
    File(PathBuf),
}

/// The env's Slack secret as the file names it: a webhook URL's source or a bot token's (the
/// file allows one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSlack {
    Webhook(SecretSource),
    BotToken(SecretSource),
}

/// Everything wrong with a file: all its problems, in line order. A TOML syntax error is
/// reported alone (the first one; nothing is checked until the file parses); past that, every
/// problem of every table is collected, not just the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub path: PathBuf,
    /// Never empty.
    pub problems: Vec<Problem>,
}

/// One problem of a file, at one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based.
    pub line: usize,
    /// Dotted path of the key it is about (`env.prod.min_healthy`,
    /// `env.prod.override.1.target_group` for the second override), `None` for a TOML syntax
    /// error.
    pub key: Option<String>,
    /// What is wrong, without the file and line (those are in [`Problem::render`]).
    pub message: String,
}

impl Problem {
    /// `PATH:LINE: MESSAGE`.
    pub fn render(&self, path: &Path) -> String {
        format!("{}:{}: {}", path.display(), self.line, self.message)
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.problems.iter().map(|p| p.render(&self.path)).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for FileError {}

/// Parse and check the text of an env file; `path` is used in messages and to resolve the
/// relative paths of `*_file` keys. Pure: reads nothing.
pub fn parse(path: &Path, text: &str) -> Result<EnvFile, FileError> {
    let base = path.parent().unwrap_or(Path::new(""));
    let envs = validate::check(text, base).map_err(|problems| FileError {
        path: path.to_path_buf(),
        problems,
    })?;
    Ok(EnvFile {
        path: path.to_path_buf(),
        envs,
    })
}

/// Read and [`parse`] the env file at `path`.
pub fn load(path: &Path) -> Result<EnvFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(parse(path, &text)?)
}

impl EnvFile {
    /// The env called `name`, or an error naming the envs the file has.
    pub fn env(&self, name: &str) -> Result<&EnvConfig> {
        if let Some(env) = self.envs.get(name) {
            return Ok(env);
        }
        if self.envs.is_empty() {
            bail!(
                "{} has no [env.{name}]: it defines no environment",
                self.path.display()
            );
        }
        let names: Vec<&str> = self.envs.keys().map(String::as_str).collect();
        bail!(
            "{} has no [env.{name}]: its environments are {}",
            self.path.display(),
            names.join(", ")
        )
    }
}

impl EnvConfig {
    /// Where the Slack webhook URL comes from (`slack_url_env` / `slack_url_file`).
    pub fn slack_url(&self) -> Option<&SecretSource> {
        self.slack_url.as_ref()
    }

    /// The Slack secret's source, webhook or bot token.
    pub fn slack(&self) -> Option<FileSlack> {
        match (&self.slack_url, &self.slack_token) {
            (Some(u), _) => Some(FileSlack::Webhook(u.clone())),
            (None, Some(t)) => Some(FileSlack::BotToken(t.clone())),
            (None, None) => None,
        }
    }

    /// Where the Slack app's bot token comes from (`slack_token_env` / `slack_token_file`).
    pub fn slack_token(&self) -> Option<&SecretSource> {
        self.slack_token.as_ref()
    }

    /// The env's own threshold: `min_healthy_percent` if set, else `min_healthy`, else
    /// `Count(1)` (the flag's default).
    pub fn default_threshold(&self) -> Threshold {
        match (self.min_healthy_percent, self.min_healthy) {
            (Some(percent), _) => Threshold::Percent(percent),
            (None, Some(count)) => Threshold::Count(count),
            (None, None) => Threshold::Count(1),
        }
    }

    /// The threshold of target group `target_group` of load balancer `load_balancer`: that of
    /// the LAST override in the file matching it, else [`EnvConfig::default_threshold`]. An
    /// override matches when every glob it sets matches ([`glob_match`]): one setting both
    /// `target_group` and `load_balancer` matches only a target group both match. A Classic
    /// load balancer has no target group: pass `""` (then only the overrides that set just
    /// `load_balancer`, or whose `target_group` glob matches the empty string, like `*`, apply).
    pub fn threshold_for(&self, load_balancer: &str, target_group: &str) -> Threshold {
        self.overrides
            .iter()
            .rev()
            .find(|o| o.matches(load_balancer, target_group))
            .map_or_else(|| self.default_threshold(), |o| o.threshold)
    }
}

impl Override {
    /// Whether this override applies to `target_group` of `load_balancer`.
    pub fn matches(&self, load_balancer: &str, target_group: &str) -> bool {
        let ok =
            |glob: &Option<String>, name: &str| glob.as_deref().is_none_or(|g| glob_match(g, name));
        ok(&self.load_balancer, load_balancer) && ok(&self.target_group, target_group)
    }
}

impl SecretSource {
    /// The secret: the variable's value or the file's content, trimmed; an error, which names
    /// the variable or the file but never shows a value, when it is unset, unreadable or empty.
    pub fn read(&self) -> Result<Secret> {
        let value = match self {
            SecretSource::Env(name) => match std::env::var(name) {
                Ok(value) => value,
                Err(std::env::VarError::NotPresent) => {
                    bail!("the environment variable {name} is not set")
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    bail!("the environment variable {name} is not valid UTF-8")
                }
            },
            SecretSource::File(path) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        };
        let value = value.trim();
        if value.is_empty() {
            match self {
                SecretSource::Env(name) => bail!("the environment variable {name} is empty"),
                SecretSource::File(path) => bail!("{} is empty", path.display()),
            }
        }
        Ok(Secret::new(value))
    }
}

impl fmt::Display for SecretSource {
    /// `environment variable NAME` / `file PATH`, for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "environment variable {name}"),
            SecretSource::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

impl fmt::Display for Threshold {
    /// `< 5 healthy`, `< 50 % healthy`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::Count(n) => write!(f, "< {n} healthy"),
            Threshold::Percent(p) => write!(f, "< {p} % healthy"),
        }
    }
}

impl fmt::Display for Override {
    /// `target_group=api-* load_balancer=web-alb: < 5 healthy`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut matched = Vec::new();
        if let Some(tg) = &self.target_group {
            matched.push(format!("target_group={tg}"));
        }
        if let Some(lb) = &self.load_balancer {
            matched.push(format!("load_balancer={lb}"));
        }
        write!(f, "{}: {}", matched.join(" "), self.threshold)
    }
}
