//! Which load balancers a selection means. Pure.
//!
//! A selection is the union of: the load balancers named with `--lb`/`--alb` (any kind; a name
//! an ALB and a Classic ELB share selects both), every load balancer (`--all`), and those whose
//! tags match every `--tag` key (`--tag team=a --tag team=b --tag env=prod`: team a or b, and
//! env prod — the Resource Groups Tagging API's `TagFilters` semantics).

use super::LoadBalancer;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Selection {
    /// Load balancer names, in the order given.
    pub names: Vec<String>,
    pub all: bool,
    /// (key, value) filters.
    pub tags: Vec<(String, String)>,
}

impl Selection {
    pub fn named(names: &[String]) -> Self {
        Selection {
            names: names.to_vec(),
            ..Default::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && !self.all && self.tags.is_empty()
    }

    /// For people: `web-alb, api-nlb`, `every load balancer`, `tag team=payments`.
    pub fn describe(&self) -> String {
        if self.all {
            return "every load balancer".to_string();
        }
        let mut parts: Vec<String> = Vec::new();
        if !self.names.is_empty() {
            parts.push(self.names.join(", "));
        }
        if !self.tags.is_empty() {
            let tags: Vec<String> = self.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            parts.push(format!("tag {}", tags.join(" ")));
        }
        parts.join(" + ")
    }

    /// Whether a load balancer with these tags matches the tag filters (false without any).
    pub fn tags_match(&self, tags: &BTreeMap<String, String>) -> bool {
        if self.tags.is_empty() {
            return false;
        }
        let mut by_key: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (k, v) in &self.tags {
            by_key.entry(k).or_default().push(v);
        }
        by_key
            .iter()
            .all(|(k, values)| tags.get(*k).is_some_and(|v| values.contains(&v.as_str())))
    }
}

/// A load balancer found in the region, with its tags (read only when a selection needs them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub lb: LoadBalancer,
    pub tags: BTreeMap<String, String>,
}

/// The load balancers `selection` means: named ones in the order given, then the others by
/// name and kind. `Err` holds the names that match no load balancer.
pub fn choose(
    candidates: &[Candidate],
    selection: &Selection,
) -> Result<Vec<LoadBalancer>, Vec<String>> {
    let missing: Vec<String> = selection
        .names
        .iter()
        .filter(|n| !candidates.iter().any(|c| &c.lb.name == *n))
        .cloned()
        .collect();
    if !missing.is_empty() {
        let mut unique = missing;
        unique.dedup();
        return Err(unique);
    }
    let mut out: Vec<LoadBalancer> = Vec::new();
    let mut push = |lb: &LoadBalancer| {
        if !out.iter().any(|o| o.arn == lb.arn) {
            out.push(lb.clone());
        }
    };
    for name in &selection.names {
        let mut same: Vec<&Candidate> = candidates.iter().filter(|c| &c.lb.name == name).collect();
        same.sort_by_key(|c| c.lb.kind);
        for c in same {
            push(&c.lb);
        }
    }
    let mut rest: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| selection.all || selection.tags_match(&c.tags))
        .collect();
    rest.sort_by(|a, b| (&a.lb.name, a.lb.kind).cmp(&(&b.lb.name, b.lb.kind)));
    for c in rest {
        push(&c.lb);
    }
    Ok(out)
}

/// Why names given with `--lb` cannot be watched, with what exists instead.
pub fn missing_error(missing: &[String], region: &str, existing: &[String]) -> String {
    let names = missing.join(", ");
    let available = if existing.is_empty() {
        "there are no load balancers there".to_string()
    } else {
        format!("load balancers there: {}", existing.join(", "))
    };
    format!(
        "no load balancer named {names} in region {region} ({available}); check --lb/--alb and \
         --region"
    )
}

/// clap value parser for `--tag KEY=VALUE`.
pub fn parse_tag_filter(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!(
            "'{s}' is not KEY=VALUE (e.g. --tag team=payments; the value may be empty: team=)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::LbKind;

    fn cand(name: &str, kind: LbKind, tags: &[(&str, &str)]) -> Candidate {
        Candidate {
            lb: LoadBalancer {
                name: name.into(),
                arn: format!("arn:{name}:{kind:?}"),
                kind,
                dimension: name.into(),
                dns_name: String::new(),
                zones: Vec::new(),
            },
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn names(lbs: &[LoadBalancer]) -> Vec<String> {
        lbs.iter()
            .map(|l| format!("{}:{}", l.name, l.kind.short()))
            .collect()
    }

    fn region() -> Vec<Candidate> {
        vec![
            cand(
                "web",
                LbKind::Application,
                &[("team", "a"), ("env", "prod")],
            ),
            cand("tcp", LbKind::Network, &[("team", "b"), ("env", "prod")]),
            cand("old", LbKind::Classic, &[("team", "a"), ("env", "dev")]),
            cand("web", LbKind::Classic, &[]),
            cand("fw", LbKind::Gateway, &[]),
        ]
    }

    #[test]
    fn names_select_every_kind_in_the_order_given() {
        let got = choose(
            &region(),
            &Selection::named(&["tcp".into(), "web".into(), "tcp".into()]),
        )
        .unwrap();
        assert_eq!(names(&got), ["tcp:NLB", "web:ALB", "web:Classic ELB"]);
    }

    #[test]
    fn unknown_names_are_all_reported() {
        let err = choose(
            &region(),
            &Selection::named(&["nope".into(), "web".into(), "gone".into()]),
        )
        .unwrap_err();
        assert_eq!(err, ["nope", "gone"]);
        let msg = missing_error(&err, "eu-west-1", &["fw".into(), "web".into()]);
        assert_eq!(
            msg,
            "no load balancer named nope, gone in region eu-west-1 (load balancers there: fw, \
             web); check --lb/--alb and --region"
        );
        assert!(missing_error(&err, "us-east-1", &[]).contains("no load balancers"));
    }

    #[test]
    fn tags_and_within_a_key_or_across_keys() {
        let sel = |tags: &[(&str, &str)]| Selection {
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        };
        let got = choose(&region(), &sel(&[("team", "a")])).unwrap();
        assert_eq!(names(&got), ["old:Classic ELB", "web:ALB"]);
        let got = choose(&region(), &sel(&[("team", "a"), ("env", "prod")])).unwrap();
        assert_eq!(names(&got), ["web:ALB"]);
        let got = choose(&region(), &sel(&[("team", "a"), ("team", "b")])).unwrap();
        assert_eq!(names(&got), ["old:Classic ELB", "tcp:NLB", "web:ALB"]);
        assert!(
            choose(&region(), &sel(&[("team", "z")]))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn all_is_everything_once_and_names_come_first() {
        let sel = Selection {
            names: vec!["tcp".into()],
            all: true,
            tags: vec![],
        };
        let got = choose(&region(), &sel).unwrap();
        assert_eq!(
            names(&got),
            [
                "tcp:NLB",
                "fw:GWLB",
                "old:Classic ELB",
                "web:ALB",
                "web:Classic ELB"
            ]
        );
        assert_eq!(sel.describe(), "every load balancer");
    }

    #[test]
    fn tag_filters_parse() {
        assert_eq!(
            parse_tag_filter("team=payments"),
            Ok(("team".into(), "payments".into()))
        );
        assert_eq!(parse_tag_filter("team="), Ok(("team".into(), "".into())));
        assert_eq!(parse_tag_filter("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_tag_filter("team").is_err());
        assert!(parse_tag_filter("=x").is_err());
    }
}
