//! Reading a Slack Web API request: where the token is and what the arguments are.
//!
//! Slack's rules (<https://docs.slack.dev/apis/web-api>, "POST bodies"; and
//! <https://docs.slack.dev/changelog/2017-10-keeping-up-with-the-jsons>):
//! - arguments come as GET query-string parameters, as an `application/x-www-form-urlencoded`
//!   POST body, or (for write methods such as `chat.postMessage` and `chat.update`) as a JSON
//!   POST body (`Content-type: application/json; charset=utf-8`);
//! - the token goes in `Authorization: Bearer xoxb-…`, or, for query-string / form bodies only,
//!   in a `token` argument. A JSON body *must* use the header;
//! - JSON without a `charset` is accepted with a `missing_charset` warning;
//! - in form bodies, complex arguments (`blocks`, `attachments`) are JSON strings.
//!
//! Pure: no server, no state.

use serde_json::{Map, Value};

/// A parsed request.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    /// The token, from the `Authorization` header or a `token` form / query argument.
    pub token: Option<String>,
    /// The arguments; JSON-in-form arguments (`blocks`, `attachments`) decoded to JSON.
    pub args: Map<String, Value>,
    /// `application/json` without `charset=utf-8`: Slack answers with a `missing_charset`
    /// warning.
    pub missing_charset: bool,
}

/// Why a request cannot be read; the `error` Slack answers with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

/// Arguments that Slack documents as "A JSON-based array … presented as a URL-encoded string"
/// in form bodies.
const JSON_ARGS: [&str; 2] = ["blocks", "attachments"];

/// Reads a request: `authorization` header value, `content_type` header value, query string,
/// body bytes.
pub fn parse(
    authorization: Option<&str>,
    content_type: Option<&str>,
    query: Option<&str>,
    body: &[u8],
) -> Result<Parsed, Malformed> {
    let mut args = Map::new();
    let mut missing_charset = false;
    let mut body_token = None;
    if let Some(q) = query {
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            args.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    let media = content_type
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if !body.is_empty() {
        match media.as_str() {
            "application/json" => {
                let ct = content_type.unwrap_or("").to_ascii_lowercase();
                missing_charset = !ct.contains("charset=");
                let value: Value =
                    serde_json::from_slice(body).map_err(|_| Malformed("invalid_json"))?;
                let Value::Object(map) = value else {
                    return Err(Malformed("json_not_object"));
                };
                args.extend(map);
            }
            "application/x-www-form-urlencoded" => {
                for (k, v) in form_urlencoded::parse(body) {
                    if k == "token" {
                        body_token = Some(v.into_owned());
                        continue;
                    }
                    args.insert(k.into_owned(), Value::String(v.into_owned()));
                }
            }
            "" => return Err(Malformed("missing_post_type")),
            _ => return Err(Malformed("invalid_post_type")),
        }
    }
    // Form-encoded complex arguments are JSON strings; a JSON body already has them as JSON.
    if media != "application/json" {
        for name in JSON_ARGS {
            if let Some(Value::String(s)) = args.get(name) {
                let decoded =
                    serde_json::from_str(s).map_err(|_| Malformed("invalid_arguments"))?;
                args.insert(name.to_owned(), decoded);
            }
        }
    }
    let query_token = match args.remove("token") {
        // In a JSON body Slack ignores a `token` field: the header is required.
        Some(Value::String(t)) if media != "application/json" => Some(t),
        _ => None,
    };
    let header_token = authorization.and_then(bearer);
    Ok(Parsed {
        token: header_token.or(body_token).or(query_token),
        args,
        missing_charset,
    })
}

/// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive).
fn bearer(value: &str) -> Option<String> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// A string argument (`channel`, `ts`, `text`...); numbers are accepted as Slack does for
/// form bodies, where everything is a string.
pub fn str_arg<'a>(args: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    match args.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_body_with_bearer() {
        let p = parse(
            Some("Bearer xoxb-1"),
            Some("application/json; charset=utf-8"),
            None,
            br#"{"channel":"C1","blocks":[{"type":"divider"}]}"#,
        )
        .unwrap();
        assert_eq!(p.token.as_deref(), Some("xoxb-1"));
        assert_eq!(p.args["blocks"], json!([{"type": "divider"}]));
        assert!(!p.missing_charset);
    }

    #[test]
    fn json_body_token_field_is_ignored_and_charset_warned() {
        let p = parse(
            None,
            Some("application/json"),
            None,
            br#"{"token":"xoxb-1","channel":"C1"}"#,
        )
        .unwrap();
        assert_eq!(p.token, None);
        assert!(p.missing_charset);
    }

    #[test]
    fn form_body_token_and_json_args() {
        let p = parse(
            None,
            Some("application/x-www-form-urlencoded"),
            None,
            b"token=xoxb-2&channel=%23alerts&blocks=%5B%7B%22type%22%3A%22divider%22%7D%5D",
        )
        .unwrap();
        assert_eq!(p.token.as_deref(), Some("xoxb-2"));
        assert_eq!(p.args["channel"], "#alerts");
        assert_eq!(p.args["blocks"], json!([{"type": "divider"}]));
    }

    #[test]
    fn malformed_bodies() {
        let json = Some("application/json; charset=utf-8");
        assert_eq!(parse(None, json, None, b"{").unwrap_err().0, "invalid_json");
        assert_eq!(
            parse(None, json, None, b"[]").unwrap_err().0,
            "json_not_object"
        );
        assert_eq!(
            parse(None, None, None, b"a=b").unwrap_err().0,
            "missing_post_type"
        );
        assert_eq!(
            parse(None, Some("text/xml"), None, b"<a/>").unwrap_err().0,
            "invalid_post_type"
        );
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer("bearer xoxb-3").as_deref(), Some("xoxb-3"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("xoxb-3"), None);
    }
}
