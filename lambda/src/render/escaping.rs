//! Slack text safety: escaping of control characters and truncation to Slack's limits.
//!
//! Slack treats `&`, `<` and `>` as control characters in message text: `<!channel>` pings a
//! whole channel and `<https://evil|click>` renders a disguised link. Every piece of text that
//! comes from outside this crate (alarm names, descriptions, reasons, SNS subjects, target
//! descriptions...) goes through [`escape`] before it is placed in a payload.

/// Replaces Slack's three control characters with their HTML entities, as Slack documents.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Marker appended to text that was cut short.
pub const ELLIPSIS: char = '…';

/// Cuts `text` to at most `max_chars` characters (Unicode scalar values, which is how Slack
/// counts), ending it with `…` when something was removed. Never splits a character, and
/// never splits an entity produced by [`escape`] (`&amp;`, `&lt;`, `&gt;`), so the result of
/// `truncate(&escape(x), n)` is still correctly escaped.
pub fn truncate(text: &str, max_chars: usize) -> String {
    if max_chars == 0 {
        return String::new();
    }
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    // Keep max_chars - 1 characters and add the ellipsis.
    let keep = max_chars - 1;
    let cut = text
        .char_indices()
        .nth(keep)
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    let mut kept = &text[..cut];
    // Do not leave half an entity behind: an '&' in escaped text always starts an entity, so
    // drop a trailing '&' that has no ';' after it.
    if let Some(amp) = kept.rfind('&')
        && !kept[amp..].contains(';')
    {
        kept = &kept[..amp];
    }
    let mut out = String::with_capacity(kept.len() + ELLIPSIS.len_utf8());
    out.push_str(kept);
    out.push(ELLIPSIS);
    out
}

/// `truncate(escape(text))`: the usual way to put outside text into a field of `max_chars`.
pub fn escape_truncate(text: &str, max_chars: usize) -> String {
    truncate(&escape(text), max_chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_three_control_characters() {
        assert_eq!(escape("a & b < c > d"), "a &amp; b &lt; c &gt; d");
        assert_eq!(escape("<!channel>"), "&lt;!channel&gt;");
        assert_eq!(
            escape("<https://evil.example|click>"),
            "&lt;https://evil.example|click&gt;"
        );
        assert_eq!(
            escape("&amp;"),
            "&amp;amp;",
            "already-escaped text is escaped again"
        );
        assert_eq!(escape("日本語のテキスト"), "日本語のテキスト");
    }

    #[test]
    fn truncate_keeps_short_text() {
        assert_eq!(truncate("hello", 5), "hello");
        assert_eq!(truncate("", 3), "");
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn truncate_cuts_on_char_boundary_with_ellipsis() {
        assert_eq!(truncate("hello world", 6), "hello…");
        let jp = "監視アラームが発生しました";
        let t = truncate(jp, 5);
        assert_eq!(t, "監視アラ…");
        assert_eq!(t.chars().count(), 5);
    }

    #[test]
    fn truncate_never_leaves_half_an_entity() {
        let escaped = escape("ab<cd");
        assert_eq!(escaped, "ab&lt;cd");
        // Cutting inside "&lt;" must drop the whole entity.
        for max in 1..=escaped.chars().count() {
            let t = truncate(&escaped, max);
            assert!(t.chars().count() <= max, "{t:?} longer than {max}");
            let body = t.trim_end_matches(ELLIPSIS);
            if let Some(amp) = body.rfind('&') {
                assert!(body[amp..].contains(';'), "half entity in {t:?}");
            }
        }
        assert_eq!(truncate(&escaped, 5), "ab…");
    }

    /// Property check over random strings built from a hostile alphabet: the output never
    /// contains a raw control character, respects the limit and is valid UTF-8 text that
    /// round-trips through JSON.
    #[test]
    fn escape_truncate_property() {
        let alphabet: Vec<char> = "<>&|!@#;amplgt 日本 \u{1F6A8}\n\"\\".chars().collect();
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..2000 {
            let len = rng.usize(0..60);
            let s: String = (0..len)
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect();
            let max = rng.usize(1..40);
            let out = escape_truncate(&s, max);
            assert!(out.chars().count() <= max);
            assert!(!out.contains('<') && !out.contains('>'), "{s:?} -> {out:?}");
            // Every '&' starts one of our entities.
            for (i, _) in out.match_indices('&') {
                let rest = &out[i..];
                assert!(
                    rest.starts_with("&amp;")
                        || rest.starts_with("&lt;")
                        || rest.starts_with("&gt;"),
                    "{s:?} -> {out:?}"
                );
            }
            let json = serde_json::to_string(&out).unwrap();
            assert_eq!(serde_json::from_str::<String>(&json).unwrap(), out);
        }
    }
}
