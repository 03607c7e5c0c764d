//! The inputs `up` records in the topic's tags (so `status` knows what `up` was asked for), and
//! their reading back. Pure.
//!
//! Every key and value written here fits what AWS accepts on every service that takes tags:
//! the general pattern `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`, keys ≤ 128 and values ≤ 256
//! characters, at most 50 tags per resource
//! (<https://docs.aws.amazon.com/sns/latest/api/API_Tag.html>,
//! <https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions>).
//!
//! - Free text (the Slack channel `#ops`, the permissions-boundary ARN, which may hold `,`) is
//!   written with a reversible escape: every character outside `[A-Za-z0-9_.:/+-@]` becomes `=XX`
//!   per UTF-8 byte (`#ops` → `=23ops`), so only ASCII the pattern allows is ever written.
//! - A value longer than 256 characters is split across numbered keys: part 1 under the key
//!   itself, part n under `KEY:n` (ten 32-character ALB names joined already need two). The ALB
//!   list is split between names, so each tag reads as a list of names in the console.
//! - `elb-watch:settings-digest` holds a digest of all the other setting tags: a set of tags
//!   left half-rewritten (an `up` killed between UntagResource and TagResource) or edited by hand
//!   is recognised as unreadable instead of being read as a shorter list.
//! - The e-mail address is NOT recorded (personal data, readable by anyone allowed
//!   `tag:GetResources`): only that `up` subscribed one. `status` learns the address from the
//!   topic's subscriptions.
//!
//! Topics tagged by earlier versions (no digest: `elb-watch:albs` as one space-separated value,
//! the channel and `elb-watch:email` verbatim) are still read; the next `up` rewrites them.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Load balancer names given with `--lb`/`--alb` (any kind; the key predates the other kinds).
pub const KEY_ALBS: &str = "elb-watch:albs";
/// `true` with `--all`.
pub const KEY_SELECT_ALL: &str = "elb-watch:select-all";
/// `--tag` filters: `KEY&VALUE` items, key and value escaped, then listed like the names.
pub const KEY_SELECT_TAGS: &str = "elb-watch:select-tags";
pub const KEY_MIN_HEALTHY: &str = "elb-watch:min-healthy";
pub const KEY_CHANNEL: &str = "elb-watch:slack-channel";
pub const KEY_RETENTION: &str = "elb-watch:log-retention-days";
/// `true` when `up` subscribed an e-mail address (which one is not recorded).
pub const KEY_EMAIL_SUBSCRIBED: &str = "elb-watch:email-subscribed";
pub const KEY_BOUNDARY: &str = "elb-watch:permissions-boundary";
pub const KEY_DIGEST: &str = "elb-watch:settings-digest";
/// The notifier's Lambda architecture, recorded only when not x86_64 (the default), so
/// existing environments keep their tags.
pub const KEY_ARCH: &str = "elb-watch:arch";
/// The `CodeSha256` of a prebuilt notifier (`--notifier-bootstrap`); absent for the embedded one.
pub const KEY_CODE: &str = "elb-watch:notifier-sha256";
/// `--notifier-concurrency`, recorded only when not the default (so earlier envs keep their tags).
pub const KEY_CONCURRENCY: &str = "elb-watch:notifier-concurrency";
/// Slack app mode, with its Web API root (escaped); absent in webhook mode.
pub const KEY_SLACK_APP: &str = "elb-watch:slack-app";
/// `true` with `--per-zone` (absent otherwise, so earlier envs keep their tags).
pub const KEY_PER_ZONE: &str = "elb-watch:per-zone";
/// `--mention`s (Slack syntax, space-separated, escaped), absent when none.
pub const KEY_MENTIONS: &str = "elb-watch:mentions";
/// `--runbook` (escaped), absent when none.
pub const KEY_RUNBOOK: &str = "elb-watch:runbook-default";
/// `--min-healthy-percent` (`min_healthy_percent`), absent when the threshold is a count.
pub const KEY_MIN_HEALTHY_PERCENT: &str = "elb-watch:min-healthy-percent";
/// The environments file's threshold overrides, in order: `TG&LB&cN` or `TG&LB&pP` items (each
/// glob escaped, empty when not given), listed like the names; absent when none.
pub const KEY_OVERRIDES: &str = "elb-watch:threshold-overrides";
/// Written by earlier versions (the address itself); read, and removed by the next `up`.
pub const LEGACY_KEY_EMAIL: &str = "elb-watch:email";

/// Longest tag value AWS accepts.
pub const MAX_VALUE: usize = 256;
/// Longest tag key AWS accepts.
pub const MAX_KEY: usize = 128;
/// Most tags one resource may carry.
pub const MAX_TAGS: usize = 50;

/// Keys whose value may be split across numbered parts.
const MULTIPART: [&str; 7] = [
    KEY_ALBS,
    KEY_OVERRIDES,
    KEY_SELECT_TAGS,
    KEY_CHANNEL,
    KEY_BOUNDARY,
    KEY_MENTIONS,
    KEY_RUNBOOK,
];
const SINGLE: [&str; 12] = [
    KEY_MIN_HEALTHY_PERCENT,
    KEY_SLACK_APP,
    KEY_PER_ZONE,
    KEY_SELECT_ALL,
    KEY_MIN_HEALTHY,
    KEY_CONCURRENCY,
    KEY_ARCH,
    KEY_CODE,
    KEY_RETENTION,
    KEY_EMAIL_SUBSCRIBED,
    KEY_DIGEST,
    LEGACY_KEY_EMAIL,
];

/// The settings as `up` was given them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub albs: Vec<String>,
    /// `--all`.
    pub select_all: bool,
    /// `--tag` filters as (key, value).
    pub select_tags: Vec<(String, String)>,
    pub min_healthy: u32,
    /// `--per-zone`: `--min-healthy` applies to each zone.
    pub per_zone: bool,
    pub channel: Option<String>,
    pub log_retention_days: i32,
    /// `up` subscribed an e-mail address.
    pub email_subscribed: bool,
    pub permissions_boundary: Option<String>,
    /// Lambda's name of the notifier's architecture when not `x86_64`.
    pub arch: Option<String>,
    /// `CodeSha256` of a prebuilt notifier package.
    pub notifier_sha256: Option<String>,
    /// The notifier's reserved concurrency when not the default.
    pub notifier_concurrency: Option<u32>,
    /// Slack app mode's Web API root; `None` for a webhook.
    pub slack_app: Option<String>,
    /// `--mention`s, in Slack syntax (`<!here>`, `<!subteam^S0123>`, `<@U0123>`).
    pub mentions: Vec<String>,
    /// `--runbook`: the env's default runbook URL.
    pub runbook: Option<String>,
    /// `--min-healthy-percent`: the env's threshold as a share (instead of `min_healthy`).
    pub min_healthy_percent: Option<u32>,
    /// The environments file's per-target-group thresholds, in order (the last match wins).
    pub overrides: Vec<crate::envfile::Override>,
}

/// The settings read back, with what older versions recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub settings: Settings,
    /// The address an earlier version wrote into `elb-watch:email`.
    pub legacy_email: Option<String>,
}

/// Why the recorded settings cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("the settings `up` records in the topic's tags are missing")]
    Missing,
    #[error(
        "the settings recorded in the topic's tags are incomplete or were edited (digest \
         mismatch): run `up` again"
    )]
    Inconsistent,
}

/// Whether a topic tag key is one of the recorded settings (or a part of one).
pub fn is_setting_key(key: &str) -> bool {
    if SINGLE.contains(&key) || MULTIPART.contains(&key) {
        return true;
    }
    MULTIPART.iter().any(|base| {
        key.strip_prefix(base)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n >= 2))
    })
}

fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.:/+-@".contains(c)
}

/// `#ops` → `=23ops`: characters outside the plain ASCII set become `=XX` per UTF-8 byte.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_plain(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("={b:02X}"));
            }
        }
    }
    out
}

/// The inverse of [`encode`]; `None` on a malformed escape or invalid UTF-8.
pub fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn part_key(base: &str, n: usize) -> String {
    if n == 1 {
        base.to_string()
    } else {
        format!("{base}:{n}")
    }
}

/// Split an (encoded, ASCII) text into ≤ 256-character parts.
fn split_text(encoded: &str) -> Vec<String> {
    if encoded.is_empty() {
        return vec![String::new()];
    }
    encoded
        .as_bytes()
        .chunks(MAX_VALUE)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

/// Pack encoded names into space-separated parts of ≤ 256 characters, never splitting a name
/// that fits in one part.
fn split_list(items: &[String]) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    for item in items.iter().map(|i| encode(i)) {
        for piece in split_text(&item) {
            let extra = if current.is_empty() { 0 } else { 1 };
            if !current.is_empty() && current.len() + extra + piece.len() > MAX_VALUE {
                parts.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(&piece);
        }
    }
    if !current.is_empty() || parts.is_empty() {
        parts.push(current);
    }
    parts
}

fn put_parts(tags: &mut BTreeMap<String, String>, base: &str, parts: Vec<String>) {
    for (i, part) in parts.into_iter().enumerate() {
        tags.insert(part_key(base, i + 1), part);
    }
}

/// Part 1, 2, … of `base` until one is missing.
fn get_parts<'a>(tags: &'a BTreeMap<String, String>, base: &str) -> Option<Vec<&'a str>> {
    let mut parts = Vec::new();
    while let Some(v) = tags.get(&part_key(base, parts.len() + 1)) {
        parts.push(v.as_str());
    }
    (!parts.is_empty()).then_some(parts)
}

/// Digest of every setting tag but the digest itself: `key=value` lines in key order.
fn digest(tags: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for (k, v) in tags
        .iter()
        .filter(|(k, _)| is_setting_key(k) && *k != KEY_DIGEST)
    {
        h.update(k.as_bytes());
        h.update(b"=");
        h.update(v.as_bytes());
        h.update(b"\n");
    }
    h.finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The tags recording `s`.
pub fn to_tags(s: &Settings) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    put_parts(&mut m, KEY_ALBS, split_list(&s.albs));
    if s.select_all {
        m.insert(KEY_SELECT_ALL.to_string(), "true".to_string());
    }
    if !s.select_tags.is_empty() {
        // Key and value escaped apart and joined by `&`, which `encode` never leaves bare: once
        // the list is read back, the item's one `&` is the separator, whatever the key holds.
        let items: Vec<String> = s
            .select_tags
            .iter()
            .map(|(k, v)| format!("{}&{}", encode(k), encode(v)))
            .collect();
        put_parts(&mut m, KEY_SELECT_TAGS, split_list(&items));
    }
    m.insert(KEY_MIN_HEALTHY.to_string(), s.min_healthy.to_string());
    if s.per_zone {
        m.insert(KEY_PER_ZONE.to_string(), "true".to_string());
    }
    m.insert(KEY_RETENTION.to_string(), s.log_retention_days.to_string());
    if let Some(c) = &s.channel {
        put_parts(&mut m, KEY_CHANNEL, split_text(&encode(c)));
    }
    if let Some(b) = &s.permissions_boundary {
        put_parts(&mut m, KEY_BOUNDARY, split_text(&encode(b)));
    }
    if s.email_subscribed {
        m.insert(KEY_EMAIL_SUBSCRIBED.to_string(), "true".to_string());
    }
    if let Some(a) = &s.arch {
        m.insert(KEY_ARCH.to_string(), encode(a));
    }
    if let Some(sha) = &s.notifier_sha256 {
        m.insert(KEY_CODE.to_string(), encode(sha));
    }
    if let Some(n) = s.notifier_concurrency {
        m.insert(KEY_CONCURRENCY.to_string(), n.to_string());
    }
    if let Some(api) = &s.slack_app {
        m.insert(KEY_SLACK_APP.to_string(), encode(api));
    }
    if !s.mentions.is_empty() {
        put_parts(
            &mut m,
            KEY_MENTIONS,
            split_text(&encode(&s.mentions.join(" "))),
        );
    }
    if let Some(r) = &s.runbook {
        put_parts(&mut m, KEY_RUNBOOK, split_text(&encode(r)));
    }
    if let Some(p) = s.min_healthy_percent {
        m.insert(KEY_MIN_HEALTHY_PERCENT.to_string(), p.to_string());
    }
    if !s.overrides.is_empty() {
        let items: Vec<String> = s.overrides.iter().map(override_item).collect();
        put_parts(&mut m, KEY_OVERRIDES, split_list(&items));
    }
    let d = digest(&m);
    m.insert(KEY_DIGEST.to_string(), d);
    m
}

/// Read the settings back from a topic's tags (other tags are ignored).
pub fn from_tags(tags: &BTreeMap<String, String>) -> Result<Recorded, Unreadable> {
    if !tags.contains_key(KEY_ALBS) || !tags.contains_key(KEY_MIN_HEALTHY) {
        return Err(Unreadable::Missing);
    }
    let Some(recorded_digest) = tags.get(KEY_DIGEST) else {
        return legacy(tags);
    };
    if *recorded_digest != digest(tags) {
        return Err(Unreadable::Inconsistent);
    }
    let text = |base: &str| -> Result<Option<String>, Unreadable> {
        match get_parts(tags, base) {
            None => Ok(None),
            Some(parts) => decode(&parts.concat())
                .map(Some)
                .ok_or(Unreadable::Inconsistent),
        }
    };
    let list = |base: &str| {
        get_parts(tags, base)
            .unwrap_or_default()
            .iter()
            .flat_map(|p| p.split(' '))
            .filter(|s| !s.is_empty())
            .map(|s| decode(s).ok_or(Unreadable::Inconsistent))
            .collect::<Result<Vec<_>, _>>()
    };
    let albs = list(KEY_ALBS)?;
    let select_tags = list(KEY_SELECT_TAGS)?
        .into_iter()
        .map(|item| {
            let (k, v) = item.split_once('&').ok_or(Unreadable::Inconsistent)?;
            Ok((
                decode(k).ok_or(Unreadable::Inconsistent)?,
                decode(v).ok_or(Unreadable::Inconsistent)?,
            ))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Recorded {
        settings: Settings {
            albs,
            select_all: tags.get(KEY_SELECT_ALL).is_some_and(|v| v == "true"),
            select_tags,
            min_healthy: number(tags, KEY_MIN_HEALTHY)?,
            per_zone: tags.get(KEY_PER_ZONE).is_some_and(|v| v == "true"),
            channel: text(KEY_CHANNEL)?,
            log_retention_days: number(tags, KEY_RETENTION)?,
            email_subscribed: tags.get(KEY_EMAIL_SUBSCRIBED).is_some_and(|v| v == "true"),
            permissions_boundary: text(KEY_BOUNDARY)?,
            arch: text(KEY_ARCH)?,
            notifier_sha256: text(KEY_CODE)?,
            notifier_concurrency: match tags.get(KEY_CONCURRENCY) {
                None => None,
                Some(_) => Some(number(tags, KEY_CONCURRENCY)?),
            },
            slack_app: text(KEY_SLACK_APP)?,
            mentions: text(KEY_MENTIONS)?
                .map(|m| m.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            runbook: text(KEY_RUNBOOK)?,
            min_healthy_percent: match tags.get(KEY_MIN_HEALTHY_PERCENT) {
                None => None,
                Some(_) => Some(number(tags, KEY_MIN_HEALTHY_PERCENT)?),
            },
            overrides: list(KEY_OVERRIDES)?
                .iter()
                .map(|item| read_override(item).ok_or(Unreadable::Inconsistent))
                .collect::<Result<Vec<_>, _>>()?,
        },
        legacy_email: None,
    })
}

/// One override as a list item: `TG&LB&cN` / `TG&LB&pP`, each glob escaped (so its `*`, `?`
/// and `&` never stay bare), empty when not given.
fn override_item(o: &crate::envfile::Override) -> String {
    use crate::envfile::Threshold;
    let glob = |g: &Option<String>| g.as_deref().map(encode).unwrap_or_default();
    let threshold = match o.threshold {
        Threshold::Count(n) => format!("c{n}"),
        Threshold::Percent(p) => format!("p{p}"),
    };
    format!(
        "{}&{}&{threshold}",
        glob(&o.target_group),
        glob(&o.load_balancer)
    )
}

fn read_override(item: &str) -> Option<crate::envfile::Override> {
    use crate::envfile::Threshold;
    let mut parts = item.split('&');
    let (tg, lb, t) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let glob = |g: &str| -> Option<Option<String>> {
        if g.is_empty() {
            Some(None)
        } else {
            decode(g).map(Some)
        }
    };
    let threshold = match t.split_at_checked(1)? {
        ("c", n) => Threshold::Count(n.parse().ok()?),
        ("p", p) => Threshold::Percent(p.parse().ok()?),
        _ => return None,
    };
    Some(crate::envfile::Override {
        target_group: glob(tg)?,
        load_balancer: glob(lb)?,
        threshold,
        line: 0,
    })
}

fn number<T: std::str::FromStr>(
    tags: &BTreeMap<String, String>,
    key: &str,
) -> Result<T, Unreadable> {
    tags.get(key)
        .and_then(|v| v.parse().ok())
        .ok_or(Unreadable::Inconsistent)
}

/// The form earlier versions wrote: one value per setting, verbatim.
fn legacy(tags: &BTreeMap<String, String>) -> Result<Recorded, Unreadable> {
    let legacy_email = tags.get(LEGACY_KEY_EMAIL).cloned();
    Ok(Recorded {
        settings: Settings {
            albs: tags[KEY_ALBS]
                .split_whitespace()
                .map(String::from)
                .collect(),
            select_all: false,
            select_tags: Vec::new(),
            min_healthy: number(tags, KEY_MIN_HEALTHY)?,
            per_zone: false,
            channel: tags.get(KEY_CHANNEL).cloned(),
            log_retention_days: tags
                .get(KEY_RETENTION)
                .and_then(|d| d.parse().ok())
                .unwrap_or(30),
            email_subscribed: legacy_email.is_some(),
            permissions_boundary: None,
            arch: None,
            notifier_sha256: None,
            notifier_concurrency: None,
            slack_app: None,
            mentions: Vec::new(),
            runbook: None,
            min_healthy_percent: None,
            overrides: Vec::new(),
        },
        legacy_email,
    })
}

/// Why a tag (key, value) would be refused by AWS, if it would be. Checks a subset of the
/// general pattern (ASCII only), which is all this module writes.
pub fn tag_problem(key: &str, value: &str) -> Option<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c);
    if key.is_empty() || key.chars().count() > MAX_KEY {
        return Some(format!("tag key '{key}' is not 1 to {MAX_KEY} characters"));
    }
    if value.chars().count() > MAX_VALUE {
        return Some(format!(
            "tag {key}'s value is longer than {MAX_VALUE} characters"
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Some(format!("tag key '{key}' uses the reserved prefix aws:"));
    }
    if !key.chars().all(allowed) || !value.chars().all(allowed) {
        return Some(format!(
            "tag {key} holds characters outside the allowed set"
        ));
    }
    None
}

/// `up` refuses settings that would not fit on the topic (`other_tags`: the tags the topic
/// carries besides the settings).
pub fn check_fits(tags: &BTreeMap<String, String>, other_tags: usize) -> anyhow::Result<()> {
    if let Some(problem) = tags.iter().find_map(|(k, v)| tag_problem(k, v)) {
        anyhow::bail!("cannot record the settings on the topic: {problem}");
    }
    if tags.len() + other_tags > MAX_TAGS {
        anyhow::bail!(
            "the settings need {} tags on the topic, more than the {MAX_TAGS} AWS allows: watch \
             fewer ALBs per environment",
            tags.len() + other_tags
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn settings() -> Settings {
        Settings {
            albs: vec!["web-alb".into(), "api-alb".into()],
            select_all: false,
            select_tags: Vec::new(),
            min_healthy: 2,
            per_zone: false,
            channel: Some("#ops".into()),
            log_retention_days: 14,
            email_subscribed: true,
            permissions_boundary: Some("arn:aws:iam::1:policy/org/Boundary,v2".into()),
            arch: Some("arm64".into()),
            notifier_sha256: Some("n0tAr3alSha+/=".into()),
            notifier_concurrency: Some(5),
            slack_app: Some("https://slack-gov.com/api/".into()),
            mentions: vec!["<!here>".into(), "<!subteam^S0123ABC>".into()],
            runbook: Some("https://wiki.example.com/runbooks/web?x=1&y=2".into()),
            min_healthy_percent: Some(50),
            overrides: vec![
                crate::envfile::Override {
                    target_group: Some("api-*".into()),
                    load_balancer: None,
                    threshold: crate::envfile::Threshold::Count(5),
                    line: 0,
                },
                crate::envfile::Override {
                    target_group: Some("a&b?".into()),
                    load_balancer: Some("batch-*".into()),
                    threshold: crate::envfile::Threshold::Percent(40),
                    line: 0,
                },
            ],
        }
    }

    #[test]
    fn channel_is_escaped_and_fits_the_pattern() {
        let tags = to_tags(&settings());
        assert_eq!(tags[KEY_CHANNEL], "=23ops");
        assert_eq!(
            tags[KEY_BOUNDARY],
            "arn:aws:iam::1:policy/org/Boundary=2Cv2"
        );
        assert_eq!(tags[KEY_ALBS], "web-alb api-alb");
        for (k, v) in &tags {
            assert_eq!(tag_problem(k, v), None, "{k}={v}");
        }
        assert_eq!(from_tags(&tags).unwrap().settings, settings());
    }

    #[test]
    fn all_and_tag_filters_round_trip_escaped() {
        let s = Settings {
            albs: Vec::new(),
            select_all: true,
            select_tags: vec![
                ("team".into(), "payments & risk".into()),
                ("env".into(), "".into()),
                ("k=1".into(), "v=2".into()),
            ],
            ..settings()
        };
        let tags = to_tags(&s);
        assert_eq!(tags[KEY_SELECT_ALL], "true");
        for (k, v) in &tags {
            assert_eq!(tag_problem(k, v), None, "{k}={v}");
        }
        assert_eq!(from_tags(&tags).unwrap().settings, s);
    }

    #[test]
    fn the_email_address_is_never_recorded() {
        let tags = to_tags(&settings());
        assert!(!tags.values().any(|v| v.contains('@')), "{tags:?}");
        assert_eq!(tags[KEY_EMAIL_SUBSCRIBED], "true");
        assert!(!tags.contains_key(LEGACY_KEY_EMAIL));
    }

    #[test]
    fn ten_long_alb_names_are_split_between_names() {
        let albs: Vec<String> = (0..10).map(|i| format!("{i:0>32}")).collect();
        let s = Settings {
            albs: albs.clone(),
            ..settings()
        };
        let tags = to_tags(&s);
        assert!(albs.join(" ").len() > MAX_VALUE);
        assert_eq!(tags[KEY_ALBS].split(' ').count(), 7);
        assert_eq!(tags[&format!("{KEY_ALBS}:2")].split(' ').count(), 3);
        assert!(tags.values().all(|v| v.len() <= MAX_VALUE));
        assert_eq!(from_tags(&tags).unwrap().settings.albs, albs);
    }

    #[test]
    fn a_missing_part_or_a_hand_edit_is_detected() {
        let albs: Vec<String> = (0..10).map(|i| format!("{i:0>32}")).collect();
        let mut tags = to_tags(&Settings { albs, ..settings() });
        let mut missing = tags.clone();
        missing.remove(&format!("{KEY_ALBS}:2"));
        assert_eq!(from_tags(&missing), Err(Unreadable::Inconsistent));
        tags.insert(KEY_MIN_HEALTHY.into(), "3".into());
        assert_eq!(from_tags(&tags), Err(Unreadable::Inconsistent));
        assert_eq!(from_tags(&BTreeMap::new()), Err(Unreadable::Missing));
    }

    #[test]
    fn tags_of_earlier_versions_are_still_read() {
        let old: BTreeMap<String, String> = [
            (KEY_ALBS, "web-alb api-alb"),
            (KEY_MIN_HEALTHY, "2"),
            (KEY_CHANNEL, "#ops"),
            (LEGACY_KEY_EMAIL, "ops@example.com"),
            (KEY_RETENTION, "14"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let r = from_tags(&old).unwrap();
        assert_eq!(r.legacy_email.as_deref(), Some("ops@example.com"));
        assert_eq!(
            r.settings,
            Settings {
                permissions_boundary: None,
                arch: None,
                notifier_sha256: None,
                notifier_concurrency: None,
                slack_app: None,
                mentions: Vec::new(),
                runbook: None,
                min_healthy_percent: None,
                overrides: Vec::new(),
                ..settings()
            }
        );
        assert!(old.keys().all(|k| is_setting_key(k)));
    }

    #[test]
    fn setting_keys_include_parts_but_not_lookalikes() {
        assert!(is_setting_key("elb-watch:albs:2"));
        assert!(is_setting_key("elb-watch:slack-channel:3"));
        assert!(!is_setting_key("elb-watch:albs:1"));
        assert!(!is_setting_key("elb-watch:albs:x"));
        assert!(!is_setting_key("elb-watch:env"));
        assert!(!is_setting_key("team"));
    }

    #[test]
    fn too_many_albs_are_refused_with_a_clear_message() {
        let albs: Vec<String> = (0..400).map(|i| format!("{i:0>32}")).collect();
        let tags = to_tags(&Settings { albs, ..settings() });
        let err = check_fits(&tags, 2).unwrap_err().to_string();
        assert!(err.contains("more than the 50"), "{err}");
        check_fits(&to_tags(&settings()), 2).unwrap();
    }

    fn alb_name() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?"
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn any_settings_round_trip_and_every_tag_fits(
            albs in proptest::collection::vec(alb_name(), 0..40),
            channel in proptest::option::of(any::<String>()),
            boundary in proptest::option::of("arn:aws:iam::[0-9]{12}:policy/[\\PC]{1,300}"),
            min_healthy in 1u32..1000,
            email_subscribed in any::<bool>(),
            per_zone in any::<bool>(),
            mentions in proptest::collection::vec("<(!here|!channel|!subteam\\^S[A-Z0-9]{8,11}|@U[A-Z0-9]{8,11})>", 0..6),
            runbook in proptest::option::of("https://[a-z.]{3,30}/[\\PC]{0,300}"),
        ) {
            let s = Settings {
                albs,
                select_all: false,
                select_tags: Vec::new(),
                min_healthy,
                per_zone,
                channel,
                log_retention_days: 30,
                email_subscribed,
                permissions_boundary: boundary,
                arch: None,
                notifier_sha256: None,
                notifier_concurrency: None,
                slack_app: None,
                mentions,
                runbook,
                min_healthy_percent: None,
                overrides: Vec::new(),
            };
            let tags = to_tags(&s);
            for (k, v) in &tags {
                prop_assert_eq!(tag_problem(k, v), None);
                prop_assert!(is_setting_key(k), "{} is not recognised as a setting", k);
            }
            prop_assert!(tags.len() <= MAX_TAGS - 2);
            prop_assert_eq!(from_tags(&tags).unwrap().settings, s);
        }

        #[test]
        fn escaping_round_trips_any_text(text in any::<String>()) {
            let e = encode(&text);
            prop_assert!(e.chars().all(|c| is_plain(c) || c == '=' || c.is_ascii_hexdigit()));
            prop_assert_eq!(decode(&e), Some(text));
        }
    }
}
