//! The plan for the undelivered-alerts queue and the notifier's invocation settings. Pure; part
//! of [`super::plan`] (which `up` applies and `status` reports as drift).

use super::change::{Action, Change};
use super::desired::{Desired, MIN_UNRESERVED};
use super::observed::Observed;
use super::warnings::Warning;

/// Kind of the warning for an account that cannot spare the reserved concurrency.
pub const CONCURRENCY_NOT_RESERVED: &str = "concurrency-not-reserved";

/// (queue, asynchronous invocation config, reserved concurrency).
pub fn plan_queue(desired: &Desired, observed: &Observed) -> (Change, Change, Change) {
    let spec = &desired.queue;
    let queue = Change::diff(
        "sqs-queue",
        &spec.name,
        observed.queue.is_some(),
        match &observed.queue {
            None => vec![],
            Some(q) => {
                let mut r = Vec::new();
                if q.sse != spec.sse || q.kms_key.is_some() {
                    r.push("encryption (SQS-managed SSE)".to_string());
                }
                if q.retention_s != Some(spec.retention_s) {
                    r.push("message retention".to_string());
                }
                r
            }
        },
    );

    let want = &desired.async_invoke;
    let function = &desired.function.name;
    // Without a function there is no config to read: both are created with it.
    let present = observed.function.is_some();
    let async_invoke = Change::diff(
        "lambda-async-config",
        function,
        present && observed.async_invoke.is_some(),
        match (&observed.async_invoke, present) {
            (Some(a), true) => {
                let mut r = Vec::new();
                if a.max_retry_attempts != Some(want.max_retry_attempts) {
                    r.push(format!(
                        "retry attempts ({} → {})",
                        shown(a.max_retry_attempts),
                        want.max_retry_attempts
                    ));
                }
                if a.max_event_age_s != Some(want.max_event_age_s) {
                    r.push(format!(
                        "maximum event age ({} → {} s)",
                        shown(a.max_event_age_s),
                        want.max_event_age_s
                    ));
                }
                if a.on_failure.as_deref() != Some(want.on_failure.as_str()) {
                    r.push("on-failure destination".to_string());
                }
                if a.on_success.is_some() {
                    r.push("on-success destination (none wanted)".to_string());
                }
                r
            }
            _ => vec![],
        },
    );

    let concurrency = Change::diff(
        "lambda-concurrency",
        function,
        present && observed.concurrency.is_some(),
        match (observed.concurrency, present) {
            (Some(n), true) if i64::from(n) != i64::from(desired.concurrency) => {
                vec![format!(
                    "reserved concurrency ({n} → {})",
                    desired.concurrency
                )]
            }
            _ => vec![],
        },
    );
    (queue, async_invoke, concurrency)
}

/// The warning for an account that cannot spare `wanted` reserved executions.
pub fn concurrency_warning(function: &str, wanted: u32, unreserved: i32) -> Warning {
    Warning {
        kind: CONCURRENCY_NOT_RESERVED,
        load_balancer: String::new(),
        target_group: String::new(),
        target_group_arn: String::new(),
        message: format!(
            "reserved concurrency {wanted} not set on {function}: the account has {unreserved} \
             unreserved concurrent executions and Lambda keeps at least {MIN_UNRESERVED} \
             unreserved (new accounts often have a limit of 10); the notifier runs unbounded. \
             Ask AWS for a higher concurrency quota and run `up` again"
        ),
    }
}

/// Whether the account can reserve `wanted` for the function: Lambda refuses a reservation that
/// leaves fewer than 100 unreserved executions. `current` is what the function already holds
/// (it is returned to the pool when the reservation changes).
pub fn can_reserve(unreserved: i32, current: Option<i32>, wanted: u32) -> bool {
    i64::from(unreserved) + i64::from(current.unwrap_or(0)) - i64::from(wanted)
        >= i64::from(MIN_UNRESERVED)
}

/// Reserving concurrency the account cannot spare (Lambda keeps 100 unreserved; new accounts
/// may have a limit of 10) is a warning, not a failed `up` nor drift in `status`: the notifier
/// then runs unbounded. Given the account's unreserved concurrency (`GetAccountSettings`),
/// takes the reservation out of the plan (its `concurrency` change) when it cannot be made and
/// says so.
pub fn waive_concurrency(
    concurrency: &mut Change,
    desired: &Desired,
    observed: &Observed,
    unreserved: Option<i32>,
) -> Option<Warning> {
    let unreserved = unreserved?;
    if concurrency.action == Action::Unchanged
        || can_reserve(unreserved, observed.concurrency, desired.concurrency)
    {
        return None;
    }
    concurrency.action = Action::Unchanged;
    concurrency.reasons = vec!["not reserved: see the warning".to_string()];
    Some(concurrency_warning(
        &desired.function.name,
        desired.concurrency,
        unreserved,
    ))
}

fn shown(v: Option<i32>) -> String {
    v.map_or_else(|| "default".to_string(), |n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::desired::{DEFAULT_CONCURRENCY, Inputs, desired};
    use crate::state::fixtures;
    use crate::state::observed::{AsyncObs, FunctionObs, QueueObs};
    use crate::state::plan::Action;

    fn want(concurrency: u32) -> Desired {
        let inputs = Inputs {
            notifier_concurrency: concurrency,
            ..fixtures::inputs()
        };
        desired(&inputs, &fixtures::identity(), &[])
    }

    fn in_sync(d: &Desired) -> Observed {
        Observed {
            function: Some(FunctionObs::default()),
            queue: Some(QueueObs {
                url: "u".into(),
                arn: d.queue.arn.clone(),
                sse: true,
                kms_key: None,
                retention_s: Some(d.queue.retention_s),
                owned: true,
                messages: 0,
            }),
            async_invoke: Some(AsyncObs {
                max_retry_attempts: Some(2),
                max_event_age_s: Some(3600),
                on_failure: Some(d.queue.arn.clone()),
                on_success: None,
            }),
            concurrency: Some(DEFAULT_CONCURRENCY as i32),
            ..Default::default()
        }
    }

    #[test]
    fn the_queue_is_the_on_failure_destination_with_two_retries_and_an_hour() {
        let d = want(DEFAULT_CONCURRENCY);
        assert_eq!(d.queue.name, "elb-watch-prod-undelivered");
        assert_eq!(
            d.queue.arn,
            "arn:aws:sqs:us-east-1:1:elb-watch-prod-undelivered"
        );
        assert!(d.queue.sse);
        assert_eq!(d.async_invoke.on_failure, d.queue.arn);
        assert_eq!(d.async_invoke.max_retry_attempts, 2);
        assert_eq!(d.async_invoke.max_event_age_s, 3600);
        assert_eq!(d.concurrency, 2);
        // The role may send to that queue only.
        let doc = d.runtime_policy.to_string();
        assert!(doc.contains("\"sqs:SendMessage\""), "{doc}");
        assert!(doc.contains(&d.queue.arn), "{doc}");
    }

    #[test]
    fn in_sync_is_unchanged_and_an_env_made_before_gets_everything_created() {
        let d = want(DEFAULT_CONCURRENCY);
        let (q, a, c) = plan_queue(&d, &in_sync(&d));
        assert_eq!(
            (q.action, a.action, c.action),
            (Action::Unchanged, Action::Unchanged, Action::Unchanged)
        );
        // An env created before this change: the function exists, nothing else does.
        let old = Observed {
            function: Some(FunctionObs::default()),
            ..Default::default()
        };
        let (q, a, c) = plan_queue(&d, &old);
        assert_eq!(
            (q.action, a.action, c.action),
            (Action::Create, Action::Create, Action::Create)
        );
    }

    #[test]
    fn drift_says_what_differs() {
        let d = want(5);
        let mut o = in_sync(&d);
        if let Some(q) = o.queue.as_mut() {
            q.sse = false;
            q.retention_s = Some(345_600);
        }
        o.async_invoke = Some(AsyncObs {
            max_retry_attempts: None,
            max_event_age_s: Some(21_600),
            on_failure: None,
            on_success: Some("arn:aws:sqs:us-east-1:1:other".into()),
        });
        let (q, a, c) = plan_queue(&d, &o);
        assert_eq!(q.action, Action::Update);
        assert_eq!(
            q.reasons,
            ["encryption (SQS-managed SSE)", "message retention"]
        );
        assert_eq!(a.action, Action::Update);
        assert_eq!(
            a.reasons,
            [
                "retry attempts (default → 2)",
                "maximum event age (21600 → 3600 s)",
                "on-failure destination",
                "on-success destination (none wanted)"
            ]
        );
        assert_eq!(c.reasons, ["reserved concurrency (2 → 5)"]);
    }

    #[test]
    fn aws_keeps_one_hundred_unreserved() {
        // A new account: limit 10, nothing reserved.
        assert!(!can_reserve(10, None, 2));
        // The default account: 1000.
        assert!(can_reserve(1000, None, 2));
        assert!(can_reserve(102, None, 2));
        assert!(!can_reserve(101, None, 2));
        // Changing 2 → 5 with 100 unreserved: the 2 come back first.
        assert!(!can_reserve(100, Some(2), 5));
        assert!(can_reserve(103, Some(2), 5));
    }

    #[test]
    fn the_warning_says_what_and_what_to_do() {
        let w = concurrency_warning("elb-watch-prod-notifier", 2, 10);
        assert_eq!(w.kind, CONCURRENCY_NOT_RESERVED);
        assert!(w.message.contains("10 unreserved"), "{}", w.message);
        assert!(w.message.contains("run `up` again"), "{}", w.message);
    }

    #[test]
    fn a_reservation_the_account_cannot_spare_is_waived_with_a_warning() {
        let d = want(DEFAULT_CONCURRENCY);
        let o = Observed {
            concurrency: None,
            ..in_sync(&d)
        };
        let mut p = crate::state::plan::drift(&d, &o);
        assert_eq!(p.concurrency.action, Action::Create);
        // Plenty to spare: nothing waived.
        assert_eq!(
            waive_concurrency(&mut p.concurrency, &d, &o, Some(1000)),
            None
        );
        assert_eq!(p.concurrency.action, Action::Create);
        // Unknown (no answer): nothing waived.
        assert_eq!(waive_concurrency(&mut p.concurrency, &d, &o, None), None);
        // A new account's 10: waived, so `status` is in sync and `up` makes no call.
        let w = waive_concurrency(&mut p.concurrency, &d, &o, Some(10)).unwrap();
        assert_eq!(w.kind, CONCURRENCY_NOT_RESERVED);
        assert_eq!(p.concurrency.action, Action::Unchanged);
        assert!(p.concurrency.is_noop());
    }

    #[test]
    fn without_a_function_the_invoke_settings_are_created_with_it() {
        let d = want(DEFAULT_CONCURRENCY);
        let mut o = in_sync(&d);
        o.function = None;
        let (q, a, c) = plan_queue(&d, &o);
        assert_eq!(q.action, Action::Unchanged);
        assert_eq!((a.action, c.action), (Action::Create, Action::Create));
    }
}
