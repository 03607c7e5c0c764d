//! The vocabulary of a plan: what happens to one resource ([`Change`], [`Action`]). Pure; the
//! plans of each service (`plan`, `queue_plan`) are written in it.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Unchanged,
    Delete,
}

impl Action {
    pub fn label(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
            Action::Delete => "delete",
        }
    }

    pub fn past_tense(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Unchanged => "unchanged",
            Action::Delete => "deleted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Resource kind, e.g. "kms-key", "alarm".
    pub kind: &'static str,
    pub name: String,
    pub action: Action,
    /// What differs (for updates) — never a secret.
    pub reasons: Vec<String>,
}

impl Change {
    pub(crate) fn new(kind: &'static str, name: impl Into<String>, action: Action) -> Self {
        Change {
            kind,
            name: name.into(),
            action,
            reasons: Vec::new(),
        }
    }

    /// Create when absent; update with `reasons` when present and differing; else unchanged.
    pub(crate) fn diff(
        kind: &'static str,
        name: impl Into<String>,
        exists: bool,
        reasons: Vec<String>,
    ) -> Self {
        let action = match (exists, reasons.is_empty()) {
            (false, _) => Action::Create,
            (true, false) => Action::Update,
            (true, true) => Action::Unchanged,
        };
        let reasons = if exists { reasons } else { Vec::new() };
        Change {
            kind,
            name: name.into(),
            action,
            reasons,
        }
    }

    pub fn is_noop(&self) -> bool {
        self.action == Action::Unchanged
    }
}
