//! "Did you mean …?" for a misspelt key.

/// Edit distance between `a` and `b` counting insertions, deletions, substitutions and
/// transpositions of two adjacent characters as one edit each (optimal string alignment, the
/// restricted Damerau–Levenshtein distance), over `char`s.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: the one before the previous (for transpositions), the previous, this one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut row: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(row[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            row[j] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut row);
    }
    prev[b.len()]
}

/// The candidate `typed` most likely stands for, if one is near enough.
///
/// `candidates` are (key, aliases) pairs. A key is suggested when `typed`, lower-cased and with
/// `-` read as `_`, is the key or one of its aliases; else the nearest key by [`distance`]
/// (the first in table order on a tie) when that distance is at most 2 or at most a third of
/// `typed`'s length, and less than `typed`'s length (so `ok` is not "near" `all`).
pub(crate) fn suggest<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = (&'a str, &'a [&'a str])> + Clone,
) -> Option<&'a str> {
    let normal = typed.to_lowercase().replace('-', "_");
    if let Some((key, _)) = candidates
        .clone()
        .into_iter()
        .find(|(key, aliases)| *key == normal || aliases.contains(&normal.as_str()))
    {
        return Some(key);
    }
    let len = typed.chars().count();
    let limit = 2.max(len / 3);
    let (key, d) = candidates
        .into_iter()
        .map(|(key, _)| (key, distance(&normal, key)))
        .min_by_key(|&(_, d)| d)?;
    (d <= limit && d < len).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("abc", ""), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("slak_channel", "slack_channel"), 1);
        assert_eq!(distance("min_healhty", "min_healthy"), 1); // a transposition is one edit
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("ca", "abc"), 3); // OSA, not unrestricted Damerau (2)
        assert_eq!(distance("région", "region"), 1); // chars, not bytes
    }

    const KEYS: &[(&str, &[&str])] = &[
        ("all", &[]),
        ("lbs", &["lb", "alb"]),
        ("slack_channel", &[]),
        ("min_healthy", &[]),
        ("min_healthy_percent", &[]),
    ];

    fn s(typed: &str) -> Option<&'static str> {
        suggest(typed, KEYS.iter().copied())
    }

    #[test]
    fn suggestions() {
        assert_eq!(s("slak_channel"), Some("slack_channel"));
        assert_eq!(s("Slack-Channel"), Some("slack_channel"));
        assert_eq!(s("alb"), Some("lbs")); // alias beats `all` at distance 1
        assert_eq!(s("minimum_healthy"), Some("min_healthy")); // 4 edits ≤ 15 / 3
        assert_eq!(s("minimum_heal"), None); // 7 edits > 12 / 3
        assert_eq!(s("min_healthy_percnt"), Some("min_healthy_percent"));
        assert_eq!(s("al"), Some("all"));
        assert_eq!(s("ab"), None); // 2 edits from `all`, but as many as it has characters
        assert_eq!(s("colour"), None);
        assert_eq!(s("channel"), None); // 6 edits > 2
    }
}
