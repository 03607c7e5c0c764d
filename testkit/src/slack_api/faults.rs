//! Scripted faults of the Slack Web API stand-in: answers a test queues for the next calls of
//! a method, or sets for every call.
//!
//! Rate limiting is what Slack documents in <https://docs.slack.dev/apis/web-api/rate-limits>:
//! "HTTP 429 Too Many Requests" with a `Retry-After` header giving the seconds to wait; the
//! body is `{"ok": false, "error": "ratelimited"}`. Other errors are HTTP 200 with
//! `{"ok": false, "error": ...}` (<https://docs.slack.dev/apis/web-api>, "Evaluating
//! responses").

use std::collections::{HashMap, VecDeque};

use serde_json::json;

use super::workspace::Answer;

/// One scripted answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 429, `Retry-After: <retry_after_s>`, `{"ok": false, "error": "ratelimited"}`.
    RateLimited { retry_after_s: u64 },
    /// HTTP 200 `{"ok": false, "error": <code>}` (`token_revoked`, `channel_not_found`,
    /// `ratelimited`...).
    Error(String),
    /// HTTP 200 `{"ok": false, "error": "missing_scope", "needed": <scope>, "provided": ...}`.
    MissingScope { needed: String },
    /// A server error: this HTTP status (500, 502, 503...), body
    /// `{"ok": false, "error": "internal_error"}` — what Slack's edge may answer when it is
    /// unwell; a client should retry it.
    Status(u16),
}

impl Fault {
    /// HTTP 200 `{"ok": false, "error": code}`.
    pub fn error(code: &str) -> Self {
        Self::Error(code.to_owned())
    }

    /// The answer this fault gives.
    pub fn answer(&self) -> Answer {
        match self {
            Fault::RateLimited { retry_after_s } => Answer {
                status: 429,
                retry_after_s: Some(*retry_after_s),
                body: json!({"ok": false, "error": "ratelimited"}),
            },
            Fault::Error(code) => Answer::error(code),
            Fault::MissingScope { needed } => Answer::ok(json!({
                "ok": false,
                "error": "missing_scope",
                "needed": needed,
                "provided": "channels:read",
            })),
            Fault::Status(status) => Answer {
                status: *status,
                retry_after_s: None,
                body: json!({"ok": false, "error": "internal_error"}),
            },
        }
    }
}

/// Which calls a fault applies to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every method.
    All,
    /// One method, e.g. `"chat.postMessage"`.
    Method(String),
}

impl Scope {
    pub fn method(name: &str) -> Self {
        Self::Method(name.to_owned())
    }

    fn covers(&self, method: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Method(m) => m == method,
        }
    }
}

/// The faults scripted so far.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Consumed one per call, in order; a method's own queue before the `All` queue.
    queued: HashMap<Scope, VecDeque<Fault>>,
    /// Answered to every call in scope until cleared (after the queues).
    always: Vec<(Scope, Fault)>,
}

impl Plan {
    /// Queues `fault` for the next `times` calls in `scope`.
    pub fn queue(&mut self, scope: Scope, times: usize, fault: Fault) {
        let q = self.queued.entry(scope).or_default();
        q.extend(std::iter::repeat_n(fault, times));
    }

    /// Answers `fault` to every call in `scope` from now on.
    pub fn always(&mut self, scope: Scope, fault: Fault) {
        self.always.retain(|(s, _)| *s != scope);
        self.always.push((scope, fault));
    }

    /// Removes every fault.
    pub fn clear(&mut self) {
        self.queued.clear();
        self.always.clear();
    }

    /// The fault answering this call of `method`, if any (consumes a queued one).
    pub fn take(&mut self, method: &str) -> Option<Fault> {
        for scope in [Scope::method(method), Scope::All] {
            if let Some(f) = self.queued.get_mut(&scope).and_then(VecDeque::pop_front) {
                return Some(f);
            }
        }
        self.always
            .iter()
            .find(|(s, _)| s.covers(method))
            .map(|(_, f)| f.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_then_always_then_nothing() {
        let mut plan = Plan::default();
        let limited = Fault::RateLimited { retry_after_s: 1 };
        plan.queue(Scope::method("chat.postMessage"), 2, limited.clone());
        assert_eq!(plan.take("auth.test"), None);
        assert_eq!(plan.take("chat.postMessage"), Some(limited.clone()));
        assert_eq!(plan.take("chat.postMessage"), Some(limited));
        assert_eq!(plan.take("chat.postMessage"), None);
        plan.always(Scope::All, Fault::error("token_revoked"));
        assert_eq!(plan.take("auth.test"), Some(Fault::error("token_revoked")));
        assert_eq!(
            plan.take("chat.update"),
            Some(Fault::error("token_revoked"))
        );
        plan.clear();
        assert_eq!(plan.take("chat.update"), None);
    }

    #[test]
    fn answers() {
        let a = Fault::RateLimited { retry_after_s: 3 }.answer();
        assert_eq!((a.status, a.retry_after_s), (429, Some(3)));
        assert_eq!(a.body["error"], "ratelimited");
        let a = Fault::error("not_in_channel").answer();
        assert_eq!((a.status, a.body["ok"].as_bool()), (200, Some(false)));
        assert_eq!(Fault::Status(503).answer().status, 503);
    }
}
