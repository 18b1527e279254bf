//! The `echo` workload (contracts/echo.md): `POST /echo` answers the posted JSON document
//! minified "as written", `GET /health` answers `{"status":"ok"}`.
//!
//! Two tiers (see `tier`): `tuned` is the C service's one-pass validating minifier (`tuned`
//! module); `idiomatic`, below, is what a Rust team writes first, serde_json for the grammar.
//!
//! In the idiomatic tier a document goes through three steps:
//! 1. UTF-8: `std::str::from_utf8` (rejects overlong forms and encoded surrogates);
//! 2. JSON: a full serde_json parse into `IgnoredAny`, which checks the grammar (numbers,
//!    escapes, control characters, one value and nothing after it) without building anything;
//! 3. minify: one pass that cuts the white space between tokens and counts the nesting depth.
//!
//! Re-serializing a `serde_json::Value` is not an option: it would rewrite strings (`"\u00e9"`
//! becomes `"é"`, `"\/"` becomes `"/"`), numbers (`1.50e+3` becomes `1500.0`) and drop duplicate
//! keys, while the contract wants the document exactly as written.
//!
//! The depth limit is counted here, not left to serde_json: its recursion limit (128) does not
//! apply to `IgnoredAny`, which serde_json skips iteratively at any depth, and when it does apply
//! (deserializing into a `Value`) it already fails at 128 nested arrays, where the contract wants
//! 128 to pass and 129 to fail.

pub mod tuned;

use std::borrow::Cow;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde::Serialize;
use serde::de::IgnoredAny;

use crate::server::{self, AnswerBuf, Recycler};
use crate::tier::Tier;

/// The deepest nesting of arrays and objects a document may have.
pub const MAX_DEPTH: usize = 128;

#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Largest request body, in bytes.
    pub body_limit: usize,
    pub tier: Tier,
}

pub fn router(config: Config) -> Router {
    let echo = match config.tier {
        Tier::Idiomatic => post(echo).with_state(config),
        Tier::Tuned => post(echo_tuned).with_state(Arc::new(Tuned {
            body_limit: config.body_limit,
            buffers: server::buffers(),
        })),
    };
    Router::new()
        .route("/echo", server::only("POST", echo))
        .route("/health", server::health_route())
        .layer(DefaultBodyLimit::max(config.body_limit))
}

/// What the tuned handler keeps from one request to the next.
struct Tuned {
    body_limit: usize,
    /// The answers' buffers: a document with white space to cut is minified into one.
    buffers: Arc<Recycler<Vec<u8>>>,
}

/// `POST /echo`, tuned: the body is read once, validated and minified in one pass into a
/// recycled buffer; a document with nothing to cut is answered as it came, without a copy.
async fn echo_tuned(State(t): State<Arc<Tuned>>, request: Request) -> Response {
    let body = match server::read_body(request, t.body_limit).await {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    let mut out = AnswerBuf::take(&t.buffers);
    match tuned::minify(&body, out.vec()) {
        Ok(tuned::Minified::AsIs) => server::json(body),
        Ok(tuned::Minified::Cut) => server::json(out.into_bytes()),
        Err(e) => {
            let body = format!(
                r#"{{"error":"invalid_json","offset":{},"reason":"{}"}}"#,
                e.offset, e.reason
            );
            (StatusCode::BAD_REQUEST, server::json(body)).into_response()
        }
    }
}

#[derive(Serialize)]
struct InvalidJson {
    error: &'static str,
    offset: usize,
    reason: String,
}

async fn echo(State(config): State<Config>, request: Request) -> Response {
    let body = match server::read_body(request, config.body_limit).await {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    match minify_checked(&body) {
        Ok(Cow::Borrowed(_)) => server::json(body), // nothing to cut: the body as received
        Ok(Cow::Owned(minified)) => server::json(Bytes::from(minified)),
        Err(invalid) => {
            let body = InvalidJson {
                error: "invalid_json",
                offset: invalid.offset,
                reason: invalid.reason,
            };
            (StatusCode::BAD_REQUEST, Json(body)).into_response()
        }
    }
}

/// Why a body is not a valid document: where (0-based byte offset) and a short text.
#[derive(Debug, PartialEq, Eq)]
pub struct Invalid {
    pub offset: usize,
    pub reason: String,
}

/// Validates `doc` in full and returns it minified (borrowed when there was nothing to cut).
pub fn minify_checked(doc: &[u8]) -> Result<Cow<'_, [u8]>, Invalid> {
    // serde_json does not check the UTF-8 of strings it skips, so the whole body is checked
    // first; after this, `from_str` parses a `&str` known to be valid.
    let text = std::str::from_utf8(doc).map_err(|e| Invalid {
        offset: e.valid_up_to(),
        reason: "invalid utf-8".to_owned(),
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    IgnoredAny::deserialize(&mut de)
        .and_then(|_| de.end())
        .map_err(|e| invalid_from_serde(doc, &e))?;
    minify(doc)
}

/// serde_json reports a 1-based line and a column that counts bytes; the contract wants a
/// 0-based byte offset, and a reason without serde_json's " at line L column C" suffix.
fn invalid_from_serde(doc: &[u8], e: &serde_json::Error) -> Invalid {
    let text = e.to_string();
    let reason = match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    };
    Invalid {
        offset: byte_offset(doc, e),
        reason,
    }
}

/// The offset of the byte serde_json stopped at. Its column is the number of bytes of the line
/// consumed when it gave up, so the offending byte is column - 1 bytes into the line; at the end
/// of the input ("EOF while parsing ...") the offset is the length of the body.
pub fn byte_offset(doc: &[u8], e: &serde_json::Error) -> usize {
    if e.is_eof() {
        return doc.len();
    }
    let line_start = match e.line() {
        0 | 1 => 0,
        line => memchr::memchr_iter(b'\n', doc)
            .nth(line - 2)
            .map_or(doc.len(), |nl| nl + 1),
    };
    (line_start + e.column().saturating_sub(1)).min(doc.len())
}

const fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Cuts the white space between tokens of a valid document and checks its depth. Strings are
/// copied untouched (escapes included); the output is allocated only when there is something to
/// cut.
pub fn minify(doc: &[u8]) -> Result<Cow<'_, [u8]>, Invalid> {
    let mut out = Vec::new();
    let mut kept = 0; // doc[kept..i] is to be kept and not copied to `out` yet
    let mut depth = 0usize;
    let mut i = 0;
    while i < doc.len() {
        match doc[i] {
            b'"' => {
                i = string_end(doc, i + 1);
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Invalid {
                        offset: i,
                        reason: format!("nesting deeper than {MAX_DEPTH}"),
                    });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b if is_space(b) => {
                if out.capacity() == 0 {
                    out.reserve(doc.len());
                }
                out.extend_from_slice(&doc[kept..i]);
                i += 1;
                while i < doc.len() && is_space(doc[i]) {
                    i += 1;
                }
                kept = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if kept == 0 {
        return Ok(Cow::Borrowed(doc));
    }
    out.extend_from_slice(&doc[kept..]);
    Ok(Cow::Owned(out))
}

/// The index just after the closing quote of the string whose contents start at `i`.
fn string_end(doc: &[u8], mut i: usize) -> usize {
    while i < doc.len() {
        match memchr::memchr2(b'"', b'\\', &doc[i..]) {
            Some(k) if doc[i + k] == b'"' => return i + k + 1,
            Some(k) => i += k + 2, // a backslash and the byte it escapes
            None => break,
        }
    }
    doc.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(doc: &str) -> String {
        match minify_checked(doc.as_bytes()) {
            Ok(out) => String::from_utf8(out.into_owned()).unwrap(),
            Err(e) => panic!("{doc:?} rejected: {e:?}"),
        }
    }

    fn bad(doc: &[u8]) -> Invalid {
        match minify_checked(doc) {
            Ok(out) => panic!("{doc:?} accepted as {out:?}"),
            Err(e) => e,
        }
    }

    fn nested(depth: usize) -> String {
        "[".repeat(depth) + &"]".repeat(depth)
    }

    #[test]
    fn minifies_as_written() {
        assert_eq!(
            ok(" { \"a\" : [ 1 , 2 ] ,\n\t\"b\" : null } \r\n"),
            r#"{"a":[1,2],"b":null}"#
        );
        assert_eq!(ok(r#"{"a":1,"a":2}"#), r#"{"a":1,"a":2}"#); // duplicates kept, in order
        assert_eq!(ok(r#"{"z":1, "a":2}"#), r#"{"z":1,"a":2}"#);
        assert_eq!(
            ok("[1.50e+3, -0, 0.0, 1E-7, 12345678901234567890123]"),
            "[1.50e+3,-0,0.0,1E-7,12345678901234567890123]"
        );
        assert_eq!(
            ok(r#"[ "\u00e9", "é", "\/", "a b", "\"] [", "\\" , "\\\"" ]"#),
            r#"["\u00e9","é","\/","a b","\"] [","\\","\\\""]"#
        );
        assert_eq!(ok(r#""\ud800""#), r#""\ud800""#); // escapes are checked, not decoded
        assert_eq!(ok("  true "), "true");
        assert_eq!(ok("-0.0e-0"), "-0.0e-0");
        assert_eq!(ok("[ 1e5 , 0.5E+10 , -1 ]"), "[1e5,0.5E+10,-1]");
        assert_eq!(ok("\"日本 語\""), "\"日本 語\"");
    }

    #[test]
    fn borrows_when_there_is_nothing_to_cut() {
        assert!(matches!(
            minify(br#"{"a":[1,"b c"]}"#),
            Ok(Cow::Borrowed(_))
        ));
        assert!(matches!(minify(b" 1"), Ok(Cow::Owned(_))));
        assert!(matches!(minify(b"1 "), Ok(Cow::Owned(_))));
    }

    #[test]
    fn depth_128_passes_129_fails() {
        assert_eq!(ok(&nested(MAX_DEPTH)), nested(MAX_DEPTH));
        let e = bad(nested(MAX_DEPTH + 1).as_bytes());
        assert_eq!(e.offset, MAX_DEPTH);
        let objects = "{\"a\":".repeat(MAX_DEPTH) + "1" + &"}".repeat(MAX_DEPTH);
        assert_eq!(ok(&objects), objects);
        let objects = "{\"a\":".repeat(MAX_DEPTH + 1) + "1" + &"}".repeat(MAX_DEPTH + 1);
        assert_eq!(bad(objects.as_bytes()).offset, MAX_DEPTH * 5);
        // brackets inside strings do not count
        let s = format!("[\"{}\"]", "[".repeat(1000));
        assert_eq!(ok(&s), s);
        // serde_json alone accepts any depth when skipping: the check above is needed
        let deep = nested(10_000);
        assert!(serde_json::from_str::<IgnoredAny>(&deep).is_ok());
        assert!(minify_checked(deep.as_bytes()).is_err());
        // ...and where its limit applies, it is one short of the contract's
        assert!(serde_json::from_str::<serde_json::Value>(&nested(127)).is_ok());
        assert!(serde_json::from_str::<serde_json::Value>(&nested(128)).is_err());
    }

    #[test]
    fn re_serializing_a_value_would_not_be_as_written() {
        let doc = r#"{"b":"\u00e9\/","a":1.50e+3,"b":2}"#;
        let value: serde_json::Value = serde_json::from_str(doc).unwrap();
        assert_eq!(value.to_string(), r#"{"a":1500.0,"b":2}"#);
        assert_eq!(ok(doc), doc);
    }

    #[test]
    fn rejects_what_rfc_8259_rejects() {
        let cases: &[&[u8]] = &[
            b"",
            b"   ",
            b"[1,]",
            b"{\"a\":1,}",
            b"[1 2]",
            b"{\"a\" 1}",
            b"{1:2}",
            b"01",
            b"1.",
            b".5",
            b"+1",
            b"-",
            b"1e",
            b"1e+",
            b"0x10",
            b"NaN",
            b"Infinity",
            b"tru",
            b"nul",
            b"'a'",
            b"[1] x",
            b"1 2",
            b"{} {}",
            b"\"a",
            b"\"\\x\"",
            b"\"\\u12G4\"",
            b"\"a\x01b\"",
            b"\"tab\there\"",
            b"\x0c1",
            b"[1]\x00",
            b"\"\xff\"",
            b"\"\xc3\xa9",
            b"\"\xc0\xaf\"",
            b"\"\xed\xa0\x80\"",
            b"\xef\xbb\xbf{}",
            b"/* */ 1",
            b"-01",
            b"1.e5",
            b"-.5",
            b"[-]",
            b"{\"a\"}",
            b"[,1]",
            b"\"\\u00e\"",
            b"True",
            b"\"\\\"",
        ];
        for doc in cases {
            bad(doc);
        }
    }

    #[test]
    fn offsets_are_0_based_bytes() {
        let at = |doc: &[u8]| bad(doc).offset;
        assert_eq!(at(b"[1,]"), 3);
        assert_eq!(at(b"{\"a\" 1}"), 5);
        assert_eq!(at(b"[1 2]"), 3);
        assert_eq!(at(b"[1] x"), 4);
        assert_eq!(at(b"{\"a\":1,}"), 7);
        assert_eq!(at(b"[\n  1,\n  x]"), 9);
        assert_eq!(at(b"\"\xe9\""), 1); // invalid UTF-8
        assert_eq!(at("[\"é\", x]".as_bytes()), 7); // columns count bytes, not characters
        // serde_json points at the byte before a raw control character (it reports that error
        // before consuming the character, unlike the others): one byte early, as it tells.
        assert_eq!(at(b"\"a\x01\""), 1);
        assert_eq!(at(b"01"), 1);
        // at the end of the input: the length of the body
        assert_eq!(at(b""), 0);
        assert_eq!(at(b"[1,"), 3);
        assert_eq!(at(b"{\"a\":\n"), 6);
        assert_eq!(at(b"tru"), 3);
    }

    #[test]
    fn reasons_have_no_position_suffix() {
        assert_eq!(bad(b"[1,]").reason, "expected value");
        assert_eq!(bad(b"{\"a\" 1}").reason, "expected `:`");
        assert_eq!(bad(b"[1] x").reason, "trailing characters");
        assert_eq!(bad(b"").reason, "EOF while parsing a value");
        assert_eq!(bad(b"\"\xff\"").reason, "invalid utf-8");
        assert_eq!(
            bad(nested(129).as_bytes()).reason,
            "nesting deeper than 128"
        );
    }
}
