//! The one table of keys `elb-watch.toml` accepts: what [`validate`](super::validate) checks a
//! file against and what [`json_schema`](super::json_schema) describes, so the two cannot
//! disagree.

/// A check of a string's content beyond "non-empty", returning the value to keep (the flags'
/// own value parsers, so a file accepts exactly what the flag does) or the reason it is refused.
pub(crate) type Check = fn(&str) -> Result<String, String>;

/// What a key's value must be.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// A non-empty string, passed through the check when there is one.
    Str(Option<Check>),
    /// The name of an environment variable (`[A-Za-z_][A-Za-z0-9_]*`): where a secret comes
    /// from, never the secret.
    EnvVar,
    /// A path to a file holding a secret (relative: to the directory of the file naming it).
    SecretPath,
    /// `true` or `false`.
    Bool,
    /// An integer in `min..=max`.
    Int { min: i64, max: i64 },
    /// An integer, one of these.
    IntOneOf(&'static [i64]),
    /// A string, one of these.
    OneOf(&'static [&'static str]),
    /// A list of non-empty strings, each passed through the check when there is one.
    List(Option<Check>),
    /// A table of string values under non-empty keys.
    StrMap,
    /// The array of `[[env.NAME.override]]` tables.
    Overrides,
    /// A glob (`*` any run of characters, `?` one), non-empty.
    Glob,
}

/// One key of an `[env.NAME]` or `[[env.NAME.override]]` table.
pub(crate) struct Key {
    pub name: &'static str,
    pub kind: Kind,
    /// The flag of `elb-watch up` (or global flag) that sets the same thing, without `--`.
    pub flag: Option<&'static str>,
    /// Other spellings people reach for (flag names that differ from the key, plurals): an
    /// unknown key equal to one of them is pointed at this key.
    pub aliases: &'static [&'static str],
    pub description: &'static str,
}

/// The Slack secret's four sources, of which an env sets at most one.
pub(crate) const SLACK_SOURCES: [&str; 4] = [
    "slack_url_env",
    "slack_url_file",
    "slack_token_env",
    "slack_token_file",
];

/// The exclusive pair of thresholds.
pub(crate) const MIN_HEALTHY: &str = "min_healthy";
pub(crate) const MIN_HEALTHY_PERCENT: &str = "min_healthy_percent";
/// The key of the override array.
pub(crate) const OVERRIDE: &str = "override";
/// The only top-level key.
pub(crate) const ENV: &str = "env";

/// The values CloudWatch Logs accepts as a retention (`PutRetentionPolicy`'s `retentionInDays`,
/// as the AWS SDK this build uses documents them).
pub(crate) const LOG_RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// `arch` values: Lambda's names of [`crate::bundle::Arch::ALL`] (a test checks they agree).
pub(crate) const ARCHES: &[&str] = &["x86_64", "arm64"];

const U32_MAX: i64 = u32::MAX as i64;

/// Keys of an `[env.NAME]` table, in the order the schema and the docs list them.
pub(crate) const ENV_KEYS: &[Key] = &[
    Key {
        name: "region",
        kind: Kind::Str(None),
        flag: Some("region"),
        aliases: &[],
        description: "AWS region of the env (default: AWS_REGION, AWS_DEFAULT_REGION or the \
                      profile's region).",
    },
    Key {
        name: "profile",
        kind: Kind::Str(None),
        flag: Some("profile"),
        aliases: &[],
        description: "Named profile from ~/.aws/config and ~/.aws/credentials.",
    },
    Key {
        name: "endpoint_url",
        kind: Kind::Str(Some(super::validate::check_http_url)),
        flag: Some("endpoint-url"),
        aliases: &["endpoint"],
        description: "Send every AWS API call to this http(s) URL instead of AWS's endpoints \
                      (e.g. a local emulator).",
    },
    Key {
        name: "lbs",
        kind: Kind::List(Some(crate::cli::parse_alb_name)),
        flag: Some("lb"),
        aliases: &["lb", "alb", "albs", "load_balancers"],
        description: "Load balancers to watch, by name, of any kind (Application, Network, \
                      Gateway, Classic); combines with `tags` and `all` as the flags do.",
    },
    Key {
        name: "all",
        kind: Kind::Bool,
        flag: Some("all"),
        aliases: &[],
        description: "Watch every load balancer in the region, including those added later.",
    },
    Key {
        name: "tags",
        kind: Kind::StrMap,
        flag: Some("tag"),
        aliases: &["tag"],
        description: "Watch the load balancers carrying all of these tags (key = value; the \
                      value may be empty).",
    },
    Key {
        name: "slack_url_env",
        kind: Kind::EnvVar,
        flag: None,
        aliases: &["slack_webhook_env"],
        description: "Name of the environment variable holding the Slack incoming-webhook URL \
                      (the variable's name, never the URL).",
    },
    Key {
        name: "slack_url_file",
        kind: Kind::SecretPath,
        flag: Some("slack-url-file"),
        aliases: &["slack_webhook_file"],
        description: "Path of a file holding the Slack incoming-webhook URL (relative to the \
                      directory of elb-watch.toml); keep that file out of the repository.",
    },
    Key {
        name: "slack_token_env",
        kind: Kind::EnvVar,
        flag: None,
        aliases: &[],
        description: "Slack app mode: name of the environment variable holding the app's bot \
                      token (xoxb-…); needs `slack_channel`.",
    },
    Key {
        name: "slack_token_file",
        kind: Kind::SecretPath,
        flag: Some("slack-token-file"),
        aliases: &[],
        description: "Slack app mode: path of a file holding the app's bot token (xoxb-…), \
                      relative to the directory of elb-watch.toml; needs `slack_channel`.",
    },
    Key {
        name: "slack_channel",
        kind: Kind::Str(None),
        flag: Some("slack-channel"),
        aliases: &[],
        description: "Slack channel to post to: app mode's channel ID (C0123ABCD), or a legacy \
                      custom-integration webhook's #channel.",
    },
    Key {
        name: "slack_api_url",
        kind: Kind::Str(Some(super::validate::check_http_url)),
        flag: Some("slack-api-url"),
        aliases: &[],
        description: "Slack Web API root for app mode (GovSlack: https://slack-gov.com/api/).",
    },
    Key {
        name: "mentions",
        kind: Kind::List(Some(crate::state::mentions::parse_mention)),
        flag: Some("mention"),
        aliases: &["mention"],
        description: "Notify these on ALARM: @here, @channel, a user group <!subteam^S0123ABC> \
                      or a user <@U0123ABC>.",
    },
    Key {
        name: "runbook",
        kind: Kind::Str(Some(crate::state::mentions::parse_runbook)),
        flag: Some("runbook"),
        aliases: &[],
        description: "The env's runbook: an https URL, shown as a \"Runbook\" button on ALARM \
                      messages.",
    },
    Key {
        name: MIN_HEALTHY,
        kind: Kind::Int {
            min: 1,
            max: U32_MAX,
        },
        flag: Some("min-healthy"),
        aliases: &[],
        description: "Alarm when fewer than this many targets are healthy (default 1); exclusive \
                      with `min_healthy_percent`.",
    },
    Key {
        name: MIN_HEALTHY_PERCENT,
        kind: Kind::Int { min: 1, max: 100 },
        flag: Some("min-healthy-percent"),
        aliases: &["min_healthy_pct", "min_percent", "percent"],
        description: "Alarm when fewer than this percentage of the targets are healthy; \
                      exclusive with `min_healthy`.",
    },
    Key {
        name: "per_zone",
        kind: Kind::Bool,
        flag: Some("per-zone"),
        aliases: &[],
        description: "Alarm when any Availability Zone has too few healthy targets, instead of \
                      the target group as a whole.",
    },
    Key {
        name: "email",
        kind: Kind::Str(Some(super::validate::check_email)),
        flag: Some("email"),
        aliases: &[],
        description: "Also subscribe this e-mail address to the alarm topic.",
    },
    Key {
        name: "log_retention_days",
        kind: Kind::IntOneOf(LOG_RETENTION_DAYS),
        flag: Some("log-retention-days"),
        aliases: &[],
        description: "Days to keep the notifier's logs (a retention CloudWatch Logs accepts; \
                      default 30).",
    },
    Key {
        name: "permissions_boundary",
        kind: Kind::Str(Some(crate::cli::parse_policy_arn)),
        flag: Some("permissions-boundary"),
        aliases: &[],
        description: "ARN of a managed policy to set as the notifier role's permissions \
                      boundary instead of elb-watch's own.",
    },
    Key {
        name: "arch",
        kind: Kind::OneOf(ARCHES),
        flag: Some("arch"),
        aliases: &[],
        description: "Instruction set of the notifier function (default x86_64; arm64 needs \
                      --notifier-bootstrap).",
    },
    Key {
        name: "notifier_concurrency",
        kind: Kind::Int { min: 1, max: 1000 },
        flag: Some("notifier-concurrency"),
        aliases: &[],
        description: "Reserved concurrency of the notifier: at most this many alerts are posted \
                      at once.",
    },
    Key {
        name: "allow_any_webhook",
        kind: Kind::Bool,
        flag: Some("allow-any-webhook"),
        aliases: &[],
        description: "Accept an http:// or non-Slack webhook URL or Slack API root (local test \
                      sinks only).",
    },
    Key {
        name: OVERRIDE,
        kind: Kind::Overrides,
        flag: None,
        aliases: &["overrides"],
        description: "Thresholds for some target groups or load balancers \
                      ([[env.NAME.override]]); the last one that matches wins.",
    },
];

/// Keys of an `[[env.NAME.override]]` table.
pub(crate) const OVERRIDE_KEYS: &[Key] = &[
    Key {
        name: "target_group",
        kind: Kind::Glob,
        flag: None,
        aliases: &["tg", "target_groups"],
        description: "Target groups this override applies to: a glob (`*` any run of \
                      characters, `?` one character, case-sensitive).",
    },
    Key {
        name: "load_balancer",
        kind: Kind::Glob,
        flag: None,
        aliases: &["lb", "alb", "load_balancers"],
        description: "Load balancers whose target groups this override applies to: a glob \
                      (`*` any run of characters, `?` one character, case-sensitive).",
    },
    Key {
        name: MIN_HEALTHY,
        kind: Kind::Int {
            min: 1,
            max: U32_MAX,
        },
        flag: None,
        aliases: &[],
        description: "Alarm when fewer than this many targets are healthy; exclusive with \
                      `min_healthy_percent`.",
    },
    Key {
        name: MIN_HEALTHY_PERCENT,
        kind: Kind::Int { min: 1, max: 100 },
        flag: None,
        aliases: &["min_healthy_pct", "min_percent", "percent"],
        description: "Alarm when fewer than this percentage of the targets are healthy; \
                      exclusive with `min_healthy`.",
    },
];

/// Keys refused in an env table because their value would be a secret, with the keys to use.
pub(crate) const LITERAL_SECRETS: &[(&str, &str, &str)] = &[
    ("slack_url", "slack_url_env", "slack_url_file"),
    ("slack_token", "slack_token_env", "slack_token_file"),
];

/// Flags of `elb-watch up` that are deliberately not file settings, with why.
pub(crate) const FLAG_ONLY: &[(&str, &str)] = &[
    (
        "dry_run",
        "`dry_run` is not a setting: pass --dry-run to `elb-watch up`",
    ),
    (
        "notifier_bootstrap",
        "`notifier_bootstrap` is not a setting (a local build, not something to check in): \
         pass --notifier-bootstrap PATH to `elb-watch up`",
    ),
];

/// The key called `name` in `keys`.
pub(crate) fn find<'k>(keys: &'k [Key], name: &str) -> Option<&'k Key> {
    keys.iter().find(|k| k.name == name)
}
