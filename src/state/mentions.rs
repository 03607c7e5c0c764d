//! `up --mention` and `--runbook`, validated (pure): what the notifier is told to add to ALARM
//! messages.
//!
//! Slack's syntax (<https://docs.slack.dev/messaging/formatting-message-text#mentioning-users>,
//! `#special-mentions`, `#mentioning-groups`): `<!here>`, `<!channel>`, `<!subteam^ID>` for a
//! user group, `<@ID>` for a user. A mention must be in Slack's syntax to notify anyone; plain
//! `@here` in text does nothing, so `@here` and `@channel` are accepted and written as Slack
//! wants them.

/// Longest runbook URL: a Block Kit button's `url` (3000 characters,
/// <https://docs.slack.dev/reference/block-kit/block-elements/button-element>).
pub const MAX_RUNBOOK_URL: usize = 3000;

/// clap value parser for `--mention`: Slack's syntax for it.
pub fn parse_mention(s: &str) -> Result<String, String> {
    let t = s.trim();
    let id = |rest: &str, first: char| {
        rest.len() >= 2
            && rest.len() <= 20
            && rest.starts_with(first)
            && rest
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    };
    let ok = match t {
        "@here" | "<!here>" => return Ok("<!here>".into()),
        "@channel" | "<!channel>" => return Ok("<!channel>".into()),
        _ => match t.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
            Some(inner) => match (inner.strip_prefix("!subteam^"), inner.strip_prefix('@')) {
                (Some(group), _) => id(group, 'S'),
                (_, Some(user)) => id(user, 'U') || id(user, 'W'),
                _ => false,
            },
            None => false,
        },
    };
    if ok {
        Ok(t.to_string())
    } else {
        Err(format!(
            "'{s}' is not a Slack mention: use @here, @channel, a user group as \
             <!subteam^S0123ABC> or a user as <@U0123ABC> (their IDs are in Slack's profile \
             and user-group menus)"
        ))
    }
}

/// clap value parser for `--runbook`: an https URL a button can hold.
pub fn parse_runbook(s: &str) -> Result<String, String> {
    let url = url::Url::parse(s.trim()).map_err(|e| format!("'{s}' is not a URL: {e}"))?;
    if url.scheme() != "https" || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{s}': a runbook must be an https URL"));
    }
    let text = url.as_str().to_string();
    if text.len() > MAX_RUNBOOK_URL {
        return Err(format!(
            "'{s}': a runbook URL is at most {MAX_RUNBOOK_URL} characters (a Slack button's limit)"
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_written_as_slack_wants_them() {
        assert_eq!(parse_mention("@here").unwrap(), "<!here>");
        assert_eq!(parse_mention("<!channel>").unwrap(), "<!channel>");
        assert_eq!(
            parse_mention("<!subteam^S0123ABC>").unwrap(),
            "<!subteam^S0123ABC>"
        );
        assert_eq!(parse_mention("<@U0123ABC>").unwrap(), "<@U0123ABC>");
        for bad in [
            "here",
            "@everyone",
            "<!subteam^x>",
            "<@u01>",
            "<!here",
            "<@U01 2>",
            "<#C0123>",
        ] {
            assert!(parse_mention(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_runbook_is_an_https_url() {
        assert_eq!(
            parse_runbook("https://wiki.example.com/runbooks/web").unwrap(),
            "https://wiki.example.com/runbooks/web"
        );
        for bad in [
            "http://wiki.example.com/x",
            "wiki/x",
            "javascript:alert(1)",
            "https://",
        ] {
            assert!(parse_runbook(bad).is_err(), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(3000));
        assert!(parse_runbook(&long).is_err());
    }
}
