//! The globs of `[[env.NAME.override]]`.

/// Whether `name` matches `pattern`, wholly: `*` matches any run of characters (none
/// included), `?` exactly one character, every other character itself (case-sensitive; there
/// is no escaping and no `[...]` class). Runs in O(pattern × name) at worst, never exponential.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // The last `*` seen and the name position it was tried at: on a mismatch, let it swallow
    // one more character and go on from there.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        for (pattern, name, expected) in [
            ("api-*", "api-tg", true),
            ("api-*", "api-", true),
            ("api-*", "web-api-tg", false),
            ("api-*", "API-tg", false), // case-sensitive
            ("*", "", true),
            ("*", "anything", true),
            ("", "", true),
            ("", "a", false),
            ("a", "", false),
            ("?", "", false),
            ("?", "a", true),
            ("?", "ab", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("é?", "éa", true), // `?` is one character, not one byte
            ("*-alb", "batch-alb", true),
            ("*-alb", "batch-alb-2", false),
            ("*a*b*", "xxaxxbxx", true),
            ("*a*b*", "xxbxxaxx", false),
            ("a*b*c", "abbbc", true),
            ("a*b*c", "abcb", false),
            ("**", "x", true),
            ("web.*", "web.1", true),
            ("web.*", "webx1", false), // `.` is literal
            ("[ab]", "a", false),      // no classes: `[ab]` is literal
            ("[ab]", "[ab]", true),
        ] {
            assert_eq!(
                glob_match(pattern, name),
                expected,
                "glob_match({pattern:?}, {name:?})"
            );
        }
    }

    #[test]
    fn many_stars_stay_fast() {
        let pattern = "*a".repeat(30) + "b";
        let name = "a".repeat(200);
        assert!(!glob_match(&pattern, &name));
        assert!(glob_match(&pattern, &(name.clone() + "b")));
    }
}
