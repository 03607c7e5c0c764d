//! The command-line surface: every flag, its environment variable and its help text.
//! Parsing only; `commands/` does the work.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "elb-watch",
    version,
    about = "Give every AWS load balancer (ALB, NLB, GWLB, Classic ELB) a health alarm wired to \
Slack, in one command",
    long_about = "Give every AWS load balancer (ALB, NLB, GWLB, Classic ELB) a health alarm wired to \
Slack, in one command.\n\n\
`up` creates, per environment, a CloudWatch HealthyHostCount alarm for every target group of the \
selected load balancers (a Classic ELB's own instances), an SNS topic, a notifier Lambda posting to \
Slack (an incoming webhook, or a Slack app with one thread per incident; the secret encrypted with \
a customer-managed KMS key) and the least-privilege IAM role it runs as. `status` shows what exists \
and what drifted; `down` removes it all. An environments file (elb-watch.toml) can hold what the \
flags say.\n\n\
Credentials and region come from the usual AWS places (--profile, AWS_PROFILE, AWS_ACCESS_KEY_ID, \
~/.aws/config, SSO, instance roles).\n\n\
Exit codes: 0 success (status: all present and in sync), 1 drift or missing pieces (status; plan \
--detailed-exitcode: changes), 2 error.",
    after_help = "Run `elb-watch <COMMAND> --help` for the options of a command."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalOpts {
    /// AWS region to work in (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's region)
    #[arg(
        help_heading = "Global options",
        long,
        global = true,
        value_name = "REGION"
    )]
    pub region: Option<String>,

    /// Named profile from ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE)
    #[arg(
        help_heading = "Global options",
        long,
        global = true,
        value_name = "NAME"
    )]
    pub profile: Option<String>,

    /// Send every AWS API call to this URL instead of AWS's endpoints (e.g. a local emulator)
    #[arg(
        help_heading = "Global options",
        long,
        global = true,
        env = "AWS_ENDPOINT_URL",
        value_name = "URL"
    )]
    pub endpoint_url: Option<String>,

    /// Environment name: names and tags every resource, so several environments can share an
    /// account and region without touching each other (lower-case letters, digits, '-'; ≤ 20)
    #[arg(help_heading = "Global options", 
        long = "env",
        global = true,
        env = "ELB_WATCH_ENV",
        default_value = "default",
        value_name = "ENV",
        value_parser = crate::naming::parse_env_name
    )]
    pub env: String,

    /// Output format of the result on stdout; progress and errors go to stderr
    #[arg(help_heading = "Global options", 
        long,
        global = true,
        env = "ELB_WATCH_OUTPUT",
        value_enum,
        default_value_t = OutputFormat::Table
    )]
    pub output: OutputFormat,

    /// Plain progress lines instead of animated spinners (automatic when stderr is not a terminal)
    #[arg(help_heading = "Global options", long, global = true)]
    pub no_progress: bool,

    /// Log AWS SDK activity to stderr (never includes the webhook URL)
    #[arg(help_heading = "Global options", long, short, global = true)]
    pub verbose: bool,

    /// The environments file (default: ./elb-watch.toml when it exists): `[env.NAME]` tables
    /// holding what `up` takes; flags given win over it. `elb-watch schema` describes it
    #[arg(
        help_heading = "Global options",
        long,
        global = true,
        env = "ELB_WATCH_FILE",
        value_name = "PATH"
    )]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable tables
    Table,
    /// One JSON document, for scripts and CI
    Json,
    /// A Markdown summary (`plan`, `up`, `status`), fit to post as a pull-request comment
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or update the alarm → SNS → Lambda → Slack chain for the selected load balancers
    /// (any kind)
    #[command(after_help = "Examples:\n  \
        elb-watch --env prod up --lb web-alb --lb api-nlb --slack-url-file hook.txt --email oncall@example.com\n  \
        elb-watch --env prod up --tag team=web --slack-token-file token.txt --slack-channel C0123ABCD\n  \
        elb-watch --env prod up            # everything from ./elb-watch.toml's [env.prod]")]
    Up(Box<UpArgs>),
    /// Show what exists, what drifted, alarm states and target health (exit 1 on drift)
    Status(StatusArgs),
    /// Show what `up` would change, and change nothing (the same as `up --dry-run`)
    Plan(Box<PlanArgs>),
    /// Remove everything elb-watch created for the environment
    Down(DownArgs),
    /// Send a test alert through the real path (alarm → SNS → notifier → Slack) and wait for
    /// proof that Slack accepted it (exit 1, saying where it stopped, when it did not)
    Test(TestArgs),
    /// Open a maintenance window: mute the env's target-group alarms (all, or those of --lb)
    /// with CloudWatch alarm mute rules, now (--for), once (--at) or on a schedule (--cron);
    /// an alarm still in ALARM when the window ends is announced then
    Mute(MuteArgs),
    /// End the env's maintenance windows (all, or the one named) now: delete their mute rules
    /// and announce what is still in ALARM
    Unmute(UnmuteArgs),
    /// Re-send the alerts the notifier could not deliver (kept on the env's queue) through the
    /// deployed notifier, oldest first, marked as late; each is removed once delivered
    Replay(ReplayArgs),
    /// Print the IAM policy the identity running elb-watch needs (JSON, to stdout), or with
    /// --boundary the notifier roles' permissions boundary
    Policy(PolicyArgs),
    /// Print the JSON Schema of elb-watch.toml (for editors and CI linting)
    Schema,
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) to stdout, e.g.
    /// `elb-watch completions bash > /etc/bash_completion.d/elb-watch`
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout, e.g. `elb-watch man > elb-watch.1`
    Man,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args, Clone)]
pub struct PlanArgs {
    #[command(flatten)]
    pub up: UpArgs,

    /// Exit 0 when nothing would change, 1 when something would (2 stays an error), as
    /// `terraform plan -detailed-exitcode` lets a CI job tell the three apart
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("start").args(["at", "cron"]).multiple(false)))]
pub struct MuteArgs {
    /// How long each window lasts: 30m, 2h, 1h30m, 3d (1m to 15d). Without --at or --cron the
    /// window starts now
    #[arg(long = "for", value_name = "DURATION", value_parser = crate::state::mute::parse_duration)]
    pub duration: u32,

    /// Start once at this UTC time, to the minute: 2026-12-24T22:00Z
    #[arg(long, value_name = "TIME", value_parser = crate::state::mute::parse_at)]
    pub at: Option<i64>,

    /// Start at every match of this cron expression: CloudWatch's five fields, 'cron(0 2 * *
    /// SUN)' (EventBridge's six, 'cron(0 2 ? * SUN *)', are accepted); the minute and hour must
    /// be single numbers, and a window ending on a later day needs day-of-week names
    #[arg(long, value_name = "EXPR", value_parser = crate::state::mute::normalize_cron)]
    pub cron: Option<String>,

    /// Time zone of --cron (IANA name, e.g. Europe/Paris; default UTC)
    #[arg(long, value_name = "TZ", requires = "cron")]
    pub timezone: Option<String>,

    /// Mute only the target groups of this load balancer (repeatable; default: every load
    /// balancer the env watches). The alerting path's own alarms are never muted
    #[arg(long = "lb", visible_alias = "alb", value_name = "NAME")]
    pub lbs: Vec<String>,

    /// Why: kept in the rules' description and shown by `status`
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Name of the window (lower-case letters, digits, '-'; default: from its start, or a
    /// digest of the cron); `mute` again with the same name updates it
    #[arg(long, value_name = "NAME", value_parser = crate::state::mute::parse_window_name)]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct UnmuteArgs {
    /// The window to end (default: every window of the env)
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// The boundary `up --permissions-boundary` is given: the printed policy lets its holder
    /// make and change the notifier role only with that boundary (default: elb-watch's own,
    /// elb-watch-notifier-boundary under /elb-watch/)
    #[arg(long, value_name = "ARN", value_parser = parse_policy_arn, conflicts_with = "boundary")]
    pub permissions_boundary: Option<String>,

    /// Print elb-watch's own permissions boundary instead, for an administrator to create once
    /// per account (`aws iam create-policy --path /elb-watch/ --policy-name
    /// elb-watch-notifier-boundary --policy-document file://...`)
    #[arg(long)]
    pub boundary: bool,
}

#[derive(Debug, Args, Clone)]
#[command(group(
    // Not required: the environments file may hold the selection (`up` says when nothing is
    // selected at all).
    clap::ArgGroup::new("selection")
        .multiple(true)
        .args(["lbs", "all", "tags"])
))]
pub struct UpArgs {
    /// Load balancer to watch, of any kind: Application, Network, Gateway or Classic (repeat
    /// for several; --alb is the same option)
    #[arg(help_heading = "Selection", long = "lb", visible_alias = "alb", value_name = "NAME", value_parser = parse_alb_name)]
    pub lbs: Vec<String>,

    /// Watch every load balancer in the region, including those added later (each `up` and
    /// `status` looks again)
    #[arg(help_heading = "Selection", long)]
    pub all: bool,

    /// Watch the load balancers carrying this tag (repeatable: every key given must match, any
    /// of one key's values)
    #[arg(help_heading = "Selection", long = "tag", value_name = "KEY=VALUE", value_parser = crate::discovery::parse_tag_filter)]
    pub tags: Vec<(String, String)>,

    /// Slack incoming-webhook URL (https://hooks.slack.com/services/…). Prefer the environment
    /// variable or --slack-url-file so the secret does not sit on the command line
    #[arg(
        help_heading = "Slack",
        long,
        env = "ELB_WATCH_SLACK_URL",
        hide_env_values = true,
        value_name = "URL",
        conflicts_with = "slack_url_file"
    )]
    pub slack_url: Option<String>,

    /// Read the Slack webhook URL from a file, or from standard input with '-'
    #[arg(help_heading = "Slack", long, value_name = "PATH|-")]
    pub slack_url_file: Option<PathBuf>,

    /// Slack app mode: read the app's bot token (xoxb-…) from a file, or from standard input
    /// with '-' (or set ELB_WATCH_SLACK_TOKEN). Each incident becomes one thread: the ALARM,
    /// then the recovery as a reply, the ALARM message updated to say how long it lasted.
    /// Needs --slack-channel (the channel ID); replaces the webhook
    #[arg(help_heading = "Slack", long, value_name = "PATH|-", conflicts_with_all = ["slack_url", "slack_url_file"])]
    pub slack_token_file: Option<PathBuf>,

    /// Slack channel. App mode: required, the channel's ID (C0123ABCD: channel details → About,
    /// at the bottom). A Slack app's incoming webhook always posts where it was made and ignores
    /// it (`up` warns); only a legacy custom-integration webhook honours it (#ops)
    #[arg(help_heading = "Slack", long, value_name = "CHANNEL")]
    pub slack_channel: Option<String>,

    /// Slack Web API root for app mode (GovSlack: https://slack-gov.com/api/)
    #[arg(help_heading = "Slack", 
        long,
        env = "ELB_WATCH_SLACK_API_URL",
        value_name = "URL",
        default_value = crate::state::desired::DEFAULT_SLACK_API
    )]
    pub slack_api_url: String,

    /// Notify on ALARM (repeatable): @here, @channel, a user group <!subteam^S0123ABC> or a
    /// user <@U0123ABC>. Only ALARM messages mention: never a recovery, a test or
    /// INSUFFICIENT_DATA
    #[arg(help_heading = "Slack", long = "mention", value_name = "WHO", value_parser = crate::state::mentions::parse_mention)]
    pub mentions: Vec<String>,

    /// The env's runbook: an https URL, shown as a "Runbook" button on ALARM messages (an
    /// alarm tagged `elb-watch:runbook=URL` shows its own instead)
    #[arg(help_heading = "Slack", long, value_name = "URL", value_parser = crate::state::mentions::parse_runbook)]
    pub runbook: Option<String>,

    /// Alarm when fewer than N targets are healthy in the target group as a whole (Classic: the
    /// load balancer; NLB, GWLB and Classic zones summed). Default 1: alarm when none is
    #[arg(help_heading = "Alarms", long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub min_healthy: u32,

    /// Alarm when fewer than P % of the target group's targets are healthy (healthy ÷
    /// (healthy + unhealthy), metric math; no data still counts as an outage) instead of a count
    #[arg(help_heading = "Alarms", long, value_name = "P", conflicts_with = "min_healthy", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub min_healthy_percent: Option<u32>,

    /// Alarm when any Availability Zone of the load balancer has fewer than --min-healthy
    /// healthy targets (every kind), instead of the whole target group
    #[arg(help_heading = "Alarms", long)]
    pub per_zone: bool,

    /// Also subscribe this e-mail address to the alarm topic (AWS sends a confirmation mail): it
    /// gets every ALARM and every recovery, including those on the notifier itself when it
    /// cannot post to Slack (a new alarm's first OK is filtered out)
    #[arg(help_heading = "Alarms", long, value_name = "ADDR")]
    pub email: Option<String>,

    /// Days to keep the notifier's logs
    #[arg(
        help_heading = "Notifier",
        long,
        default_value_t = 30,
        value_name = "DAYS"
    )]
    pub log_retention_days: i32,

    /// ARN of a managed policy to set as the notifier role's permissions boundary instead of
    /// elb-watch's own (elb-watch-notifier-boundary, which `up` makes when it may); the
    /// operator policy must then be `elb-watch policy --permissions-boundary ARN`
    #[arg(help_heading = "Notifier", long, value_name = "ARN", value_parser = parse_policy_arn)]
    pub permissions_boundary: Option<String>,

    /// Instruction set of the notifier function: x86_64 (the embedded notifier) or arm64
    /// (Graviton, cheaper per ms; needs --notifier-bootstrap, as this build makes x86_64 only)
    #[arg(help_heading = "Notifier", 
        long,
        value_name = "ARCH",
        default_value = "x86_64",
        value_parser = crate::bundle::parse_arch
    )]
    pub arch: crate::bundle::Arch,

    /// Deploy this prebuilt notifier instead of the embedded one: a Linux `bootstrap` for
    /// --arch needing glibc <= 2.34 (or a zip holding it); checked before it is deployed
    #[arg(help_heading = "Notifier", long, value_name = "PATH")]
    pub notifier_bootstrap: Option<PathBuf>,

    /// Reserved concurrency of the notifier: at most N alerts are posted at once (Slack takes
    /// about one message per second per webhook); alerts beyond wait in Lambda's queue. Not
    /// reserved, with a warning, when the account cannot spare it (AWS keeps 100 unreserved)
    #[arg(help_heading = "Notifier", 
        long,
        default_value_t = crate::state::desired::DEFAULT_CONCURRENCY,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=1000)
    )]
    pub notifier_concurrency: u32,

    /// Print the plan (create / update / unchanged per resource) and change nothing
    #[arg(help_heading = "Plan", long)]
    pub dry_run: bool,

    /// Every environment of the environments file in turn (each in its own region and profile
    /// when the file says so): one summary line each, the worst exit code
    #[arg(help_heading = "Selection", long, conflicts_with_all = ["lbs", "all", "tags"])]
    pub all_envs: bool,

    /// Per-target-group thresholds from the environments file (`[[env.NAME.override]]`).
    #[arg(skip)]
    pub overrides: Vec<crate::envfile::Override>,

    /// The Slack secret's source from the environments file, used when no flag or
    /// environment variable gives one.
    #[arg(skip)]
    pub file_slack: Option<crate::envfile::FileSlack>,

    /// Accept an http:// or non-Slack webhook URL or Slack API root (for local test sinks only)
    #[arg(
        long,
        hide = true,
        env = "ELB_WATCH_ALLOW_ANY_WEBHOOK",
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub allow_any_webhook: bool,
}

/// An ALB name as AWS allows it: 1 to 32 alphanumerics or hyphens, no hyphen at either end
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html>).
pub fn parse_alb_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not a load balancer name: 1 to 32 letters, digits and inner '-'"
        ))
    }
}

/// An IAM managed-policy ARN (`arn:PARTITION:iam::ACCOUNT:policy/[PATH/]NAME`).
pub fn parse_policy_arn(s: &str) -> Result<String, String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && parts[5].starts_with("policy/")
        && parts[5].len() > "policy/".len()
        && s.len() <= 2048;
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not an IAM policy ARN (arn:aws:iam::ACCOUNT:policy/NAME)"
        ))
    }
}

impl UpArgs {
    /// What `up` is asked to watch.
    pub fn selection(&self) -> crate::discovery::Selection {
        crate::discovery::Selection {
            names: self.lbs.clone(),
            all: self.all,
            tags: self.tags.clone(),
        }
    }
}

#[derive(Debug, Args, Clone)]
pub struct StatusArgs {
    /// Also show these load balancers' target groups, whether or not the environment watches
    /// them (--alb is the same option)
    #[arg(long = "lb", visible_alias = "alb", value_name = "NAME")]
    pub lbs: Vec<String>,

    /// List every target group's targets and their health. By default only target groups whose
    /// alarm is not OK are read target by target; the others show CloudWatch's healthy count
    /// (HealthyHostCount, one GetMetricData call per 500 target groups)
    #[arg(long)]
    pub targets: bool,

    /// Every environment of the environments file in turn: one summary line each, the worst
    /// exit code
    #[arg(long, conflicts_with = "lbs")]
    pub all_envs: bool,

    /// The env's table of the environments file, when there is one: its thresholds judge the
    /// alarms.
    #[arg(skip)]
    pub file_env: Option<Box<crate::envfile::EnvConfig>>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Use this target group's own alarm instead of the env's test alarm (only while it is OK:
    /// a live incident and its thread are never touched)
    #[arg(long, value_name = "NAME")]
    pub target_group: Option<String>,

    /// Seconds to wait for the notifier's proof of delivery in its log group
    #[arg(long, default_value_t = 90, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=900))]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// List the queued alerts, oldest first, and change nothing (they stay queued)
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(long, short)]
    pub yes: bool,

    /// Delete the undelivered-alerts queue even though it still holds alerts (without this,
    /// `down` refuses and deletes nothing; `elb-watch replay` delivers them first)
    #[arg(long)]
    pub discard_undelivered: bool,
}
