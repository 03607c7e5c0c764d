//! Checking a parsed file against [`keys`](super::keys), with the line of every problem.
//!
//! The file is parsed into `toml`'s spanned tables ([`DeTable`]), not deserialized with serde,
//! so every message can name the line and the key, suggest the key meant, and say what the
//! value should have been. Every problem is collected (see [`super::FileError`]).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use super::keys::{self, Key, Kind};
use super::suggest::suggest;
use super::{EnvConfig, Override, Problem, SecretSource, Threshold};

/// A checked value, before it is put in its field.
enum Val {
    Str(String),
    Path(PathBuf),
    Bool(bool),
    Int(i64),
    List(Vec<String>),
    Map(BTreeMap<String, String>),
    Overrides(Vec<Override>),
}

/// Check the text of an env file: its envs, or every problem it has in line order.
pub(super) fn check(text: &str, base: &Path) -> Result<BTreeMap<String, EnvConfig>, Vec<Problem>> {
    let mut checker = Checker::new(text, base);
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(err) => return Err(vec![checker.syntax(&err)]),
    };
    let envs = checker.root(root.get_ref());
    let mut problems = checker.problems;
    if problems.is_empty() {
        Ok(envs)
    } else {
        problems.sort_by_key(|p| p.line);
        problems.dedup();
        Err(problems)
    }
}

/// `[env.prod]` / `[[env.prod.override]]`, quoting the name as TOML needs.
fn env_label(name: &str) -> String {
    format!("[env.{}]", toml_key(name))
}

fn override_label(name: &str) -> String {
    format!("[[env.{}.override]]", toml_key(name))
}

fn toml_key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        name.to_string()
    } else {
        format!("{name:?}")
    }
}

/// "a string", "an integer", … for "found …".
fn a_type(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// What a value of `kind` must be, after "must be"; `env` names the env for the override key.
fn expected(kind: Kind, env: &str) -> String {
    match kind {
        Kind::Str(_) | Kind::Glob => "a non-empty string".into(),
        Kind::EnvVar => "the name of an environment variable".into(),
        Kind::SecretPath => "the path of a file".into(),
        Kind::Bool => "true or false".into(),
        Kind::Int { min, max } if max >= i64::from(i32::MAX) => format!("an integer ≥ {min}"),
        Kind::Int { min, max } => format!("an integer from {min} to {max}"),
        Kind::IntOneOf(values) => {
            let values: Vec<String> = values.iter().map(i64::to_string).collect();
            format!("one of {}", values.join(", "))
        }
        Kind::OneOf(values) => {
            let values: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
            format!("one of {}", values.join(", "))
        }
        Kind::List(_) => "a list of non-empty strings".into(),
        Kind::StrMap => "a table of strings (e.g. { team = \"web\" })".into(),
        Kind::Overrides => format!("an array of tables ({})", override_label(env)),
    }
}

/// An environment variable's name as shells take it.
fn is_env_var_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether a value given for a name or a path looks like a Slack secret itself.
fn looks_like_secret(s: &str) -> bool {
    let s = s.trim();
    s.contains("://") || s.starts_with("xox") || s.contains("hooks.slack")
}

/// `endpoint_url`, `slack_api_url`: an http(s) URL with a host.
pub(super) fn check_http_url(s: &str) -> Result<String, String> {
    let url = url::Url::parse(s).map_err(|e| format!("'{s}' is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{s}' is not an http(s) URL with a host"));
    }
    Ok(s.to_string())
}

/// `email`: something@somewhere, no spaces.
pub(super) fn check_email(s: &str) -> Result<String, String> {
    match s.split_once('@') {
        Some((user, domain))
            if !user.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !s.chars().any(char::is_whitespace) =>
        {
            Ok(s.to_string())
        }
        _ => Err(format!("'{s}' is not an e-mail address")),
    }
}

struct Checker<'t> {
    text: &'t str,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    /// Directory relative `*_file` paths are taken from.
    base: &'t Path,
    problems: Vec<Problem>,
}

impl<'t> Checker<'t> {
    fn new(text: &'t str, base: &'t Path) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Checker {
            text,
            line_starts,
            base,
            problems: Vec::new(),
        }
    }

    /// 1-based line of a span's start.
    fn line(&self, span: Range<usize>) -> usize {
        self.line_starts
            .partition_point(|&start| start <= span.start)
    }

    fn problem(&mut self, span: Range<usize>, key: impl Into<String>, message: String) {
        let line = self.line(span);
        self.problems.push(Problem {
            line,
            key: Some(key.into()),
            message,
        });
    }

    fn syntax(&self, err: &toml::de::Error) -> Problem {
        let span = err.span().unwrap_or(0..0);
        let mut message = err.message().trim().replace('\n', "; ");
        if message == "duplicate key"
            && let Some(key) = self.text.get(span.clone()).filter(|k| !k.is_empty())
        {
            message = format!("duplicate key `{key}`");
        }
        Problem {
            line: self.line(span),
            key: None,
            message: format!("invalid TOML: {message}"),
        }
    }

    fn root(&mut self, root: &DeTable<'_>) -> BTreeMap<String, EnvConfig> {
        let mut envs = BTreeMap::new();
        let mut any_env = false;
        for (key, value) in root {
            let name: &str = key.get_ref();
            if name == keys::ENV {
                let DeValue::Table(table) = value.get_ref() else {
                    let found = a_type(value.get_ref());
                    self.problem(
                        key.span(),
                        name,
                        format!(
                            "`env` must be a table of environments ([env.NAME]), found {found}"
                        ),
                    );
                    continue;
                };
                for (env_name, env_value) in table {
                    any_env = true;
                    if let Some(env) = self.env(env_name, env_value) {
                        envs.insert(env.name.clone(), env);
                    }
                }
            } else if keys::LITERAL_SECRETS.iter().any(|s| s.0 == name) {
                self.refuse_secret(key, name);
            } else if keys::find(keys::ENV_KEYS, name).is_some() {
                self.problem(
                    key.span(),
                    name,
                    format!("`{name}` is outside any environment: put it in an [env.NAME] table"),
                );
            } else {
                let hint = match suggest(name, [(keys::ENV, &[][..])]) {
                    Some(s) => format!(" (did you mean `{s}`?)"),
                    None => " (the file holds [env.NAME] tables)".into(),
                };
                self.problem(
                    key.span(),
                    name,
                    format!("unknown key `{name}` at the top level{hint}"),
                );
            }
        }
        if !any_env && self.problems.is_empty() {
            self.problems.push(Problem {
                line: 1,
                key: None,
                message: "no environment: add an [env.NAME] table (e.g. [env.prod])".into(),
            });
        }
        envs
    }

    /// A literal secret key (`slack_url`, `slack_token`) is refused wherever it is; true if
    /// `name` is one.
    fn refuse_secret(&mut self, key: &Spanned<DeString<'_>>, path: &str) -> bool {
        let name: &str = key.get_ref();
        let Some((_, from_env, from_file)) = keys::LITERAL_SECRETS.iter().find(|s| s.0 == name)
        else {
            return false;
        };
        self.problem(
            key.span(),
            path,
            format!(
                "`{name}` would put the secret in the repository: say where it comes from \
                 instead, with `{from_env}` (an environment variable's name) or `{from_file}` \
                 (a file's path); if this was committed, rotate the secret"
            ),
        );
        true
    }

    fn env(
        &mut self,
        name: &Spanned<DeString<'_>>,
        value: &Spanned<DeValue<'_>>,
    ) -> Option<EnvConfig> {
        let env_name: &str = name.get_ref();
        let path = format!("env.{env_name}");
        let label = env_label(env_name);
        let name_ok = match crate::naming::parse_env_name(env_name) {
            Ok(_) => true,
            Err(msg) => {
                self.problem(name.span(), &path, format!("{label}: {msg}"));
                false
            }
        };
        let DeValue::Table(table) = value.get_ref() else {
            let found = a_type(value.get_ref());
            self.problem(
                name.span(),
                &path,
                format!("`{path}` must be a table ({label}), found {found}"),
            );
            return None;
        };
        let mut env = EnvConfig {
            name: env_name.to_string(),
            line: self.line(value.span()),
            ..EnvConfig::default()
        };
        // Keys present (valid or not), with their line, for the exclusive ones.
        let mut present: Vec<(&'static str, usize)> = Vec::new();
        for (key, value) in table {
            let key_name: &str = key.get_ref();
            let key_path = format!("{path}.{key_name}");
            if self.refuse_secret(key, &key_path) {
                continue;
            }
            let Some(spec) = keys::find(keys::ENV_KEYS, key_name) else {
                let message = match keys::FLAG_ONLY.iter().find(|f| f.0 == key_name) {
                    Some((_, why)) => why.to_string(),
                    None => unknown(key_name, &label, keys::ENV_KEYS).0,
                };
                self.problem(key.span(), key_path, message);
                continue;
            };
            present.push((spec.name, self.line(key.span())));
            if let Some(val) = self.value(spec, key, value, &key_path, env_name) {
                assign(&mut env, spec.name, val);
            }
        }
        self.exclusive(
            &present,
            &[keys::MIN_HEALTHY, keys::MIN_HEALTHY_PERCENT],
            &path,
            &label,
            "keep one",
        );
        self.exclusive(
            &present,
            &keys::SLACK_SOURCES,
            &path,
            &label,
            "give one Slack source (slack_url_env, slack_url_file, slack_token_env or \
             slack_token_file)",
        );
        name_ok.then_some(env)
    }

    /// A problem on each key of `group` present after the first one (in line order).
    fn exclusive(
        &mut self,
        present: &[(&'static str, usize)],
        group: &[&str],
        path: &str,
        label: &str,
        fix: &str,
    ) {
        let mut set: Vec<(&str, usize)> = present
            .iter()
            .filter(|(name, _)| group.contains(name))
            .copied()
            .collect();
        set.sort_by_key(|&(_, line)| line);
        if let Some(&(first, first_line)) = set.first() {
            for &(name, line) in &set[1..] {
                self.problems.push(Problem {
                    line,
                    key: Some(format!("{path}.{name}")),
                    message: format!(
                        "`{name}` and `{first}` (line {first_line}) cannot both be set in \
                         {label}: {fix}"
                    ),
                });
            }
        }
    }

    /// Check one value against its key's kind; `None` (with a problem recorded) if it is wrong.
    fn value(
        &mut self,
        spec: &Key,
        key: &Spanned<DeString<'_>>,
        value: &Spanned<DeValue<'_>>,
        path: &str,
        env: &str,
    ) -> Option<Val> {
        let name = spec.name;
        let must = expected(spec.kind, env);
        match (spec.kind, value.get_ref()) {
            (Kind::Str(_) | Kind::OneOf(_) | Kind::Glob, DeValue::String(s)) if s.is_empty() => {
                self.problem(
                    key.span(),
                    path,
                    format!("`{name}` must be {must}, found an empty string"),
                );
                None
            }
            (Kind::Str(check), DeValue::String(s)) => {
                match check.map_or(Ok(s.to_string()), |c| c(s)) {
                    Ok(s) => Some(Val::Str(s)),
                    Err(msg) => {
                        self.problem(key.span(), path, format!("`{name}`: {msg}"));
                        None
                    }
                }
            }
            (Kind::Glob, DeValue::String(s)) => Some(Val::Str(s.to_string())),
            (Kind::OneOf(values), DeValue::String(s)) => {
                if values.contains(&s.as_ref()) {
                    Some(Val::Str(s.to_string()))
                } else {
                    self.problem(
                        key.span(),
                        path,
                        format!("`{name}` must be {must}, found \"{s}\""),
                    );
                    None
                }
            }
            (Kind::EnvVar, DeValue::String(s)) => {
                if is_env_var_name(s) {
                    return Some(Val::Str(s.to_string()));
                }
                // Never echo the value: it may be the secret itself.
                let message = if looks_like_secret(s) {
                    format!(
                        "`{name}` must be the name of an environment variable holding the \
                         secret (e.g. \"SLACK_WEBHOOK_URL\"), not the secret itself; if this \
                         was committed, rotate the secret"
                    )
                } else {
                    format!(
                        "`{name}` must be the name of an environment variable (letters, digits \
                         and '_', not starting with a digit)"
                    )
                };
                self.problem(key.span(), path, message);
                None
            }
            (Kind::SecretPath, DeValue::String(s)) => {
                let message = if s.trim().is_empty() {
                    format!("`{name}` must be {must}, found an empty string")
                } else if looks_like_secret(s) {
                    format!(
                        "`{name}` must be the path of a file holding the secret, not the secret \
                         itself; if this was committed, rotate the secret"
                    )
                } else if s.as_ref() == "-" {
                    format!(
                        "`{name}` must be the path of a file: standard input ('-') is for the \
                         --{} flag only",
                        name.replace('_', "-")
                    )
                } else {
                    return Some(Val::Path(self.base.join(s.as_ref())));
                };
                self.problem(key.span(), path, message);
                None
            }
            (Kind::Bool, DeValue::Boolean(b)) => Some(Val::Bool(*b)),
            (Kind::Int { min, max }, DeValue::Integer(i)) => {
                match i64::from_str_radix(i.as_str(), i.radix()) {
                    Ok(n) if (min..=max).contains(&n) => Some(Val::Int(n)),
                    _ => {
                        self.problem(
                            key.span(),
                            path,
                            format!("`{name}` must be {must}, found {i}"),
                        );
                        None
                    }
                }
            }
            (Kind::IntOneOf(values), DeValue::Integer(i)) => {
                match i64::from_str_radix(i.as_str(), i.radix()) {
                    Ok(n) if values.contains(&n) => Some(Val::Int(n)),
                    _ => {
                        self.problem(
                            key.span(),
                            path,
                            format!("`{name}` must be {must}, found {i}"),
                        );
                        None
                    }
                }
            }
            (Kind::List(check), DeValue::Array(items)) => {
                let mut list = Vec::new();
                let mut ok = true;
                for (n, item) in items.iter().enumerate() {
                    let message = match item.get_ref() {
                        DeValue::String(s) if s.is_empty() => {
                            format!(
                                "`{name}` must be {must}, found an empty string (item {})",
                                n + 1
                            )
                        }
                        DeValue::String(s) => match check.map_or(Ok(s.to_string()), |c| c(s)) {
                            Ok(s) => {
                                list.push(s);
                                continue;
                            }
                            Err(msg) => format!("`{name}`: {msg}"),
                        },
                        other => {
                            format!(
                                "`{name}` must be {must}, found {} (item {})",
                                a_type(other),
                                n + 1
                            )
                        }
                    };
                    self.problem(item.span(), path, message);
                    ok = false;
                }
                ok.then_some(Val::List(list))
            }
            (Kind::StrMap, DeValue::Table(table)) => {
                let mut map = BTreeMap::new();
                let mut ok = true;
                for (k, v) in table {
                    let entry: &str = k.get_ref();
                    let message = match v.get_ref() {
                        _ if entry.is_empty() => format!("`{name}`: a tag key cannot be empty"),
                        DeValue::String(s) => {
                            map.insert(entry.to_string(), s.to_string());
                            continue;
                        }
                        other => format!(
                            "`{name}` must be {must}, found {} for `{entry}`",
                            a_type(other)
                        ),
                    };
                    self.problem(k.span(), path, message);
                    ok = false;
                }
                ok.then_some(Val::Map(map))
            }
            (Kind::Overrides, DeValue::Array(items)) => {
                let mut overrides = Vec::new();
                let mut ok = true;
                for (n, item) in items.iter().enumerate() {
                    match self.override_table(env, n, item) {
                        Some(o) => overrides.push(o),
                        None => ok = false,
                    }
                }
                ok.then_some(Val::Overrides(overrides))
            }
            (_, other) => {
                let found = a_type(other);
                self.problem(
                    key.span(),
                    path,
                    format!("`{name}` must be {must}, found {found}"),
                );
                None
            }
        }
    }

    /// One `[[env.NAME.override]]`, the `n`th (0-based).
    fn override_table(
        &mut self,
        env: &str,
        n: usize,
        item: &Spanned<DeValue<'_>>,
    ) -> Option<Override> {
        let path = format!("env.{env}.override.{n}");
        let label = override_label(env);
        let line = self.line(item.span());
        let DeValue::Table(table) = item.get_ref() else {
            let found = a_type(item.get_ref());
            self.problem(
                item.span(),
                &path,
                format!("each override must be a table ({label}), found {found}"),
            );
            return None;
        };
        let before = self.problems.len();
        let mut present: Vec<(&'static str, usize)> = Vec::new();
        let mut globs: [Option<String>; 2] = [None, None];
        let (mut count, mut percent) = (None, None);
        // Keys a misspelt key was taken for: not reported missing on top of the misspelling.
        let mut meant: Vec<&'static str> = Vec::new();
        for (key, value) in table {
            let key_name: &str = key.get_ref();
            let key_path = format!("{path}.{key_name}");
            if self.refuse_secret(key, &key_path) {
                continue;
            }
            let Some(spec) = keys::find(keys::OVERRIDE_KEYS, key_name) else {
                let message = if keys::find(keys::ENV_KEYS, key_name).is_some() {
                    format!(
                        "`{key_name}` cannot be set in {label}: an override sets only \
                         `target_group`, `load_balancer` and `min_healthy` or \
                         `min_healthy_percent` (put `{key_name}` in {})",
                        env_label(env)
                    )
                } else {
                    let (message, suggested) = unknown(key_name, &label, keys::OVERRIDE_KEYS);
                    meant.extend(suggested);
                    message
                };
                self.problem(key.span(), key_path, message);
                continue;
            };
            present.push((spec.name, self.line(key.span())));
            match (spec.name, self.value(spec, key, value, &key_path, env)) {
                ("target_group", Some(Val::Str(s))) => globs[0] = Some(s),
                ("load_balancer", Some(Val::Str(s))) => globs[1] = Some(s),
                (keys::MIN_HEALTHY, Some(Val::Int(v))) => count = Some(to_u32(v)),
                (keys::MIN_HEALTHY_PERCENT, Some(Val::Int(v))) => percent = Some(to_u32(v)),
                (_, None) => {}
                (other, Some(_)) => unreachable!("override key `{other}` has no field"),
            }
        }
        let has = |name: &str| present.iter().any(|(n, _)| *n == name) || meant.contains(&name);
        if !has("target_group") && !has("load_balancer") {
            self.problems.push(Problem {
                line,
                key: Some(path.clone()),
                message: format!(
                    "{label} must say what it applies to: set `target_group` and/or \
                     `load_balancer` (globs)"
                ),
            });
        }
        if !has(keys::MIN_HEALTHY) && !has(keys::MIN_HEALTHY_PERCENT) {
            self.problems.push(Problem {
                line,
                key: Some(path.clone()),
                message: format!("{label} must set `min_healthy` or `min_healthy_percent`"),
            });
        }
        self.exclusive(
            &present,
            &[keys::MIN_HEALTHY, keys::MIN_HEALTHY_PERCENT],
            &path,
            &label,
            "keep one",
        );
        if self.problems.len() > before {
            return None;
        }
        let threshold = match (count, percent) {
            (Some(c), None) => Threshold::Count(c),
            (None, Some(p)) => Threshold::Percent(p),
            _ => unreachable!("checked above: exactly one threshold"),
        };
        let [target_group, load_balancer] = globs;
        Some(Override {
            target_group,
            load_balancer,
            threshold,
            line,
        })
    }
}

/// "unknown key `x` in [env.prod]", with the key meant when one is near (also returned).
fn unknown(name: &str, label: &str, keys: &'static [Key]) -> (String, Option<&'static str>) {
    let candidates = keys.iter().map(|k| (k.name, k.aliases));
    let meant = suggest(name, candidates);
    let message = match meant {
        Some(s) => format!("unknown key `{name}` in {label} (did you mean `{s}`?)"),
        None => format!("unknown key `{name}` in {label}"),
    };
    (message, meant)
}

/// Integers checked against a range within u32.
fn to_u32(v: i64) -> u32 {
    u32::try_from(v).expect("range-checked by its key's kind")
}

/// Put a checked value in the field of its key.
fn assign(env: &mut EnvConfig, key: &str, val: Val) {
    match (key, val) {
        ("region", Val::Str(s)) => env.region = Some(s),
        ("profile", Val::Str(s)) => env.profile = Some(s),
        ("endpoint_url", Val::Str(s)) => env.endpoint_url = Some(s),
        ("lbs", Val::List(l)) => env.lbs = l,
        ("all", Val::Bool(b)) => env.all = Some(b),
        ("tags", Val::Map(m)) => env.tags = m,
        ("slack_url_env", Val::Str(s)) => env.slack_url = Some(SecretSource::Env(s)),
        ("slack_url_file", Val::Path(p)) => env.slack_url = Some(SecretSource::File(p)),
        ("slack_token_env", Val::Str(s)) => env.slack_token = Some(SecretSource::Env(s)),
        ("slack_token_file", Val::Path(p)) => env.slack_token = Some(SecretSource::File(p)),
        ("slack_channel", Val::Str(s)) => env.slack_channel = Some(s),
        ("slack_api_url", Val::Str(s)) => env.slack_api_url = Some(s),
        ("mentions", Val::List(l)) => env.mentions = l,
        ("runbook", Val::Str(s)) => env.runbook = Some(s),
        (keys::MIN_HEALTHY, Val::Int(n)) => env.min_healthy = Some(to_u32(n)),
        (keys::MIN_HEALTHY_PERCENT, Val::Int(n)) => env.min_healthy_percent = Some(to_u32(n)),
        ("per_zone", Val::Bool(b)) => env.per_zone = Some(b),
        ("email", Val::Str(s)) => env.email = Some(s),
        ("log_retention_days", Val::Int(n)) => {
            env.log_retention_days = Some(i32::try_from(n).expect("one of LOG_RETENTION_DAYS"));
        }
        ("permissions_boundary", Val::Str(s)) => env.permissions_boundary = Some(s),
        ("arch", Val::Str(s)) => {
            env.arch = Some(crate::bundle::Arch::from_lambda_name(&s).expect("one of ARCHES"));
        }
        ("notifier_concurrency", Val::Int(n)) => env.notifier_concurrency = Some(to_u32(n)),
        ("allow_any_webhook", Val::Bool(b)) => env.allow_any_webhook = Some(b),
        (keys::OVERRIDE, Val::Overrides(o)) => env.overrides = o,
        (other, _) => unreachable!("env key `{other}` has no field of its kind"),
    }
}
