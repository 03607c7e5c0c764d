//! Which notifications are worth a Slack post. Pure.
//!
//! A brand-new CloudWatch alarm starts in `INSUFFICIENT_DATA` and, when it first evaluates to
//! `OK`, runs its OK actions ("When this operation creates an alarm, the alarm state is
//! immediately set to INSUFFICIENT_DATA. The alarm is then evaluated and its state is set
//! appropriately. Any actions associated with the new state are then executed."
//! — <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>).
//! Posting those as "recovered" would tell Slack about 50 recoveries when 50 target groups
//! are first watched. So `OK` is posted only when it ends an `ALARM`.
//!
//! | transition | posted? |
//! |---|---|
//! | any → `ALARM` | yes |
//! | `ALARM` → `OK` | yes: a recovery |
//! | `INSUFFICIENT_DATA` → `OK`, unknown → `OK` | no: nothing had been reported wrong; logged |
//! | `ALARM` → `INSUFFICIENT_DATA` | yes: an alarm went blind while firing |
//! | `OK` → `INSUFFICIENT_DATA` | yes: the metric stopped (elb-watch's own alarms treat missing data as breaching and have no INSUFFICIENT_DATA actions, so this comes from other alarms on the topic, for which it may be the only sign of an outage) |
//! | anything else (an unknown state, a message that is not an alarm) | yes, as today |

use crate::event::parse::{AlarmState, Notification};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Post,
    /// Not posted; the reason is logged.
    Skip(&'static str),
}

pub const NOT_A_RECOVERY: &str =
    "OK without a preceding ALARM (e.g. a new alarm's first evaluation) is not a recovery";

pub fn decide(notification: &Notification) -> Decision {
    let Notification::Alarm(alarm) = notification else {
        return Decision::Post;
    };
    match (&alarm.new_state, &alarm.old_state) {
        (AlarmState::Ok, Some(AlarmState::Alarm)) => Decision::Post,
        (AlarmState::Ok, _) => Decision::Skip(NOT_A_RECOVERY),
        _ => Decision::Post,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse::parse_notification;
    use serde_json::json;

    fn transition(old: Option<&str>, new: &str) -> Decision {
        let mut msg = json!({"AlarmName": "a", "NewStateValue": new});
        if let Some(old) = old {
            msg["OldStateValue"] = json!(old);
        }
        decide(&parse_notification(None, &msg.to_string()))
    }

    #[test]
    fn ok_is_posted_only_after_alarm() {
        assert_eq!(transition(Some("ALARM"), "OK"), Decision::Post);
        assert_eq!(
            transition(Some("INSUFFICIENT_DATA"), "OK"),
            Decision::Skip(NOT_A_RECOVERY)
        );
        assert_eq!(transition(None, "OK"), Decision::Skip(NOT_A_RECOVERY));
    }

    #[test]
    fn alarms_insufficient_data_and_other_messages_are_posted() {
        assert_eq!(transition(Some("OK"), "ALARM"), Decision::Post);
        assert_eq!(
            transition(Some("INSUFFICIENT_DATA"), "ALARM"),
            Decision::Post
        );
        assert_eq!(
            transition(Some("ALARM"), "INSUFFICIENT_DATA"),
            Decision::Post
        );
        assert_eq!(transition(Some("OK"), "INSUFFICIENT_DATA"), Decision::Post);
        assert_eq!(
            decide(&parse_notification(Some("hi"), "plain text")),
            Decision::Post
        );
    }
}
