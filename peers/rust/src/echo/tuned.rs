//! The `tuned` tier of echo: the C service's validating minifier (src/codec/json.c) in Rust.
//!
//! One pass over the body does both jobs. The scanner is a state machine with three states (a
//! value is expected / a value just ended / an object key is expected) and an explicit stack of
//! `MAX_DEPTH` bytes saying whether each open container is an object or an array: nothing
//! recurses, so hostile nesting costs 128 bytes at most. UTF-8 is checked inside strings as
//! they are scanned, not by a pass of its own.
//!
//! Minifying is the same scan plus a few copies. The scanner keeps a "run": the start of the
//! input bytes already validated and still to be kept. When white space begins, the run is
//! appended to the output and a new run starts after the white space. A document with no white
//! space to cut is never copied: the caller answers the body as it came.
//!
//! Where the time goes: string contents. They are skipped 16 bytes at a time with SSE2 (always
//! there on x86-64) or 8 at a time on a `u64` elsewhere, while they are plain printable ASCII;
//! only the bytes that end such a block (quote, backslash, control character, non-ASCII) go
//! through the byte-at-a-time code.
//!
//! Offsets and reasons are the C service's, which differ from serde_json's (the idiomatic
//! tier's): the contract leaves them to the parser; what every client compares is `error`.

use super::MAX_DEPTH;

/// Why a body is not a valid document: where (0-based byte offset) and a short text, the C
/// service's; none holds `"` or `\`, so a reason goes into a JSON string as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    pub offset: usize,
    pub reason: &'static str,
}

pub const R_EOF: &str = "unexpected end of input";
pub const R_CHAR: &str = "unexpected character";
pub const R_NUMBER: &str = "invalid number";
pub const R_LITERAL: &str = "invalid literal";
pub const R_ESCAPE: &str = "invalid escape";
pub const R_CONTROL: &str = "control character in string";
pub const R_UTF8: &str = "invalid utf-8";
pub const R_DEEP: &str = "nesting too deep";
pub const R_TRAILING: &str = "trailing characters";
pub const R_COLON: &str = "expected ':'";
pub const R_OBJ_NEXT: &str = "expected ',' or '}'";
pub const R_ARR_NEXT: &str = "expected ',' or ']'";
pub const R_KEY: &str = "expected string key";

/// What `minify` made of a valid document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Minified {
    /// Nothing to cut: the document is its own answer, and the output was not written to.
    AsIs,
    /// The output holds the document minified.
    Cut,
}

const fn fail<T>(offset: usize, reason: &'static str) -> Result<T, Error> {
    Err(Error { offset, reason })
}

const fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t')
}

const fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

// ---- string contents ----

/// Index of the first byte at or after `i` that is not plain string content: a `"`, a `\`, a
/// control character (< 0x20) or non-ASCII (>= 0x80); `s.len()` if there is none.
#[inline(always)]
fn skip_plain(s: &[u8], i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    let i = sse2::skip_plain(s, i);
    #[cfg(not(target_arch = "x86_64"))]
    let i = swar_skip_plain(s, i);
    let mut i = i;
    while i < s.len() && is_plain(s[i]) {
        i += 1;
    }
    i
}

#[inline(always)]
const fn is_plain(c: u8) -> bool {
    c >= 0x20 && c < 0x80 && c != b'"' && c != b'\\'
}

/// Eight bytes at a time: for each byte, bit 7 of `(x - 0x20..) | x` is set when it is < 0x20
/// or >= 0x80, and of `haszero(x ^ 0x22..)` when it is `"`, `haszero(x ^ 0x5c..)` when `\`.
/// Borrows can only set bits above a true one, so "any bit set" is exact; the byte itself is
/// then found by the caller's byte loop. Returns where that loop is to start.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn swar_skip_plain(s: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = s.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let q = x ^ (ONES * u64::from(b'"'));
        let b = x ^ (ONES * u64::from(b'\\'));
        let m = ((x.wrapping_sub(ONES * 0x20) | x)
            | (q.wrapping_sub(ONES) & !q)
            | (b.wrapping_sub(ONES) & !b))
            & HIGH;
        if m != 0 {
            break;
        }
        i += 8;
    }
    i
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::*;

    /// The 16 bytes at `s[i..]` as a vector.
    #[inline(always)]
    fn load(s: &[u8], i: usize) -> __m128i {
        let chunk: &[u8; 16] = s[i..i + 16].try_into().expect("16 bytes");
        // SAFETY: SSE2 is part of x86-64, and the load reads the 16 bytes of `chunk`.
        unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) }
    }

    /// Bit k set when byte k of `v` is a quote, a backslash, a control character or non-ASCII.
    /// A signed compare "< 0x20" is true for control characters and, as bytes >= 0x80 are
    /// negative, for non-ASCII too: three compares cover the four cases.
    #[inline(always)]
    fn special(v: __m128i) -> u32 {
        // SAFETY: SSE2 is part of x86-64; these touch registers only.
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let bslash = _mm_set1_epi8(b'\\' as i8);
            let space = _mm_set1_epi8(0x20);
            let m = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                _mm_cmplt_epi8(v, space),
            );
            _mm_movemask_epi8(m) as u32
        }
    }

    #[inline(always)]
    pub fn skip_plain(s: &[u8], mut i: usize) -> usize {
        let len = s.len();
        while i + 16 <= len {
            let m = special(load(s, i));
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
            i += 16;
        }
        if i < len && len >= 16 {
            // The last partial block: the final 16 bytes of the input (all in bounds), the
            // lanes before i ignored, rather than finishing byte by byte.
            let base = len - 16;
            let m = special(load(s, base)) >> (i - base);
            return if m != 0 {
                i + m.trailing_zeros() as usize
            } else {
                len
            };
        }
        i
    }

    /// The end of a run of white space starting at `i`, 16 bytes at a time while they last
    /// (indentation runs can be long in pretty-printed input); the caller finishes it.
    #[inline(always)]
    pub fn skip_ws(s: &[u8], mut i: usize) -> (usize, bool) {
        while i + 16 <= s.len() {
            let v = load(s, i);
            // SAFETY: SSE2 is part of x86-64; these touch registers only.
            let m = unsafe {
                let w = _mm_or_si128(
                    _mm_or_si128(
                        _mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8)),
                        _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8)),
                    ),
                    _mm_or_si128(
                        _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\r' as i8)),
                        _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\t' as i8)),
                    ),
                );
                !(_mm_movemask_epi8(w) as u32) & 0xffff
            };
            if m != 0 {
                return (i + m.trailing_zeros() as usize, true);
            }
            i += 16;
        }
        (i, false)
    }
}

/// One UTF-8 sequence starting at `s[i]`, a byte >= 0x80: its length, or 0 when it is not
/// valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF, no
/// truncated sequence). The second byte's range depends on the lead byte; that alone rules
/// out overlong forms (E0 80..9F, F0 80..8F, C0, C1), surrogates (ED A0..BF) and F4 90+ / F5+.
#[inline]
fn utf8_len(s: &[u8], i: usize) -> usize {
    let c = s[i];
    let (n, lo, hi) = match c {
        0xC2..=0xDF => (2, 0x80, 0xBF),
        0xE0 => (3, 0xA0, 0xBF),
        0xED => (3, 0x80, 0x9F),
        0xE1..=0xEF => (3, 0x80, 0xBF),
        0xF0 => (4, 0x90, 0xBF),
        0xF4 => (4, 0x80, 0x8F),
        0xF1..=0xF3 => (4, 0x80, 0xBF),
        _ => return 0, // a continuation byte, C0/C1, or F5..FF
    };
    if s.len() - i < n || !(lo..=hi).contains(&s[i + 1]) {
        return 0;
    }
    if s[i + 2..i + n].iter().any(|&b| b & 0xC0 != 0x80) {
        return 0;
    }
    n
}

/// A string whose opening quote is `s[i]`: the index just past its closing quote. Escapes are
/// checked, never decoded: `"\ud800"` alone is accepted as written.
#[inline(always)]
fn scan_string(s: &[u8], mut i: usize) -> Result<usize, Error> {
    let len = s.len();
    i += 1;
    loop {
        i = skip_plain(s, i);
        if i >= len {
            return fail(len, R_EOF);
        }
        let c = s[i];
        if c == b'"' {
            return Ok(i + 1);
        }
        if c == b'\\' {
            if len - i < 2 {
                return fail(len, R_EOF);
            }
            match s[i + 1] {
                b'u' => {
                    for k in 2..6 {
                        if i + k >= len {
                            return fail(len, R_EOF);
                        }
                        if !is_hex(s[i + k]) {
                            return fail(i + k, R_ESCAPE);
                        }
                    }
                    i += 6;
                }
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                _ => return fail(i + 1, R_ESCAPE),
            }
        } else if c < 0x20 {
            return fail(i, R_CONTROL);
        } else {
            match utf8_len(s, i) {
                0 => return fail(i, R_UTF8),
                n => i += n,
            }
        }
    }
}

// ---- numbers and literals ----

/// A number starting at `s[i]` (`-` or a digit): the index just past it. Grammar:
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
#[inline(always)]
fn scan_number(s: &[u8], mut i: usize) -> Result<usize, Error> {
    let len = s.len();
    let digit = |i: usize| i < len && s[i].is_ascii_digit();
    if s[i] == b'-' {
        i += 1;
    }
    if i >= len {
        return fail(len, R_EOF);
    }
    if s[i] == b'0' {
        i += 1;
    } else if s[i].is_ascii_digit() {
        i += 1;
        while digit(i) {
            i += 1;
        }
    } else {
        return fail(i, R_NUMBER);
    }
    if i < len && s[i] == b'.' {
        i += 1;
        if i >= len {
            return fail(len, R_EOF);
        }
        if !s[i].is_ascii_digit() {
            return fail(i, R_NUMBER);
        }
        while digit(i) {
            i += 1;
        }
    }
    if i < len && s[i] | 0x20 == b'e' {
        i += 1;
        if i < len && (s[i] == b'+' || s[i] == b'-') {
            i += 1;
        }
        if i >= len {
            return fail(len, R_EOF);
        }
        if !s[i].is_ascii_digit() {
            return fail(i, R_NUMBER);
        }
        while digit(i) {
            i += 1;
        }
    }
    // "01", "-00", "1.5.2", "1e5.0": a digit or a point right after a complete number is not
    // the start of the next token but a malformed number; say so at that byte.
    if i < len && (s[i].is_ascii_digit() || s[i] == b'.') {
        return fail(i, R_NUMBER);
    }
    Ok(i)
}

/// `true`, `false` or `null` at `s[i]`; `lit` is the expected word, `s[i] == lit[0]` already.
#[inline]
fn scan_literal(s: &[u8], i: usize, lit: &[u8]) -> Result<usize, Error> {
    for (k, &want) in lit.iter().enumerate().skip(1) {
        match s.get(i + k) {
            None => return fail(s.len(), R_EOF),
            Some(&c) if c != want => return fail(i + k, R_LITERAL),
            Some(_) => {}
        }
    }
    Ok(i + lit.len())
}

// ---- the scanner ----

/// Where the scan is, and the output so far.
struct Scan<'a, 'o> {
    s: &'a [u8],
    /// The next input byte.
    i: usize,
    /// The start of the input bytes validated and still to be written out.
    run: usize,
    out: &'o mut Vec<u8>,
    /// Whether any white space was cut (the output is in use).
    cut: bool,
}

impl Scan<'_, '_> {
    /// Skips white space at `i`. Minified input has none, so the common case is one compare:
    /// every white space byte is <= ' ', every byte that can start or continue a token is
    /// above it. When there is white space, the kept run before it goes to the output first.
    #[inline(always)]
    fn ws(&mut self) {
        let s = self.s;
        let mut i = self.i;
        if i >= s.len() || s[i] > b' ' || !is_ws(s[i]) {
            return;
        }
        if !self.cut {
            self.cut = true;
            self.out.reserve(s.len());
        }
        self.out.extend_from_slice(&s[self.run..i]);
        i += 1;
        #[cfg(target_arch = "x86_64")]
        {
            let (at, done) = sse2::skip_ws(s, i);
            i = at;
            if done {
                self.i = i;
                self.run = i;
                return;
            }
        }
        while i < s.len() && is_ws(s[i]) {
            i += 1;
        }
        self.i = i;
        self.run = i;
    }
}

#[derive(Clone, Copy)]
enum State {
    /// A value must start at `i`.
    Value,
    /// A value just ended at `i`: a comma, the end of its container, or the end.
    AfterValue,
    /// Inside an object, a member's key must start at `i`.
    Key,
}

/// Validates `doc` in full (RFC 8259, UTF-8 checked, at most `MAX_DEPTH` deep) and, when it has
/// white space to cut, appends it minified to `out` (which should be empty).
pub fn minify(doc: &[u8], out: &mut Vec<u8>) -> Result<Minified, Error> {
    let len = doc.len();
    let s = doc;
    let mut sc = Scan {
        s,
        i: 0,
        run: 0,
        out,
        cut: false,
    };
    // The open containers, innermost last: 1 for an object, 0 for an array.
    let mut stack = [0u8; MAX_DEPTH];
    let mut depth = 0usize;
    let mut state = State::Value;
    sc.ws();
    loop {
        match state {
            State::Value => {
                let i = sc.i;
                let Some(&c) = s.get(i) else {
                    return fail(len, R_EOF);
                };
                state = State::AfterValue;
                match c {
                    b'"' => sc.i = scan_string(s, i)?,
                    b'{' | b'[' => {
                        let is_obj = c == b'{';
                        if depth == MAX_DEPTH {
                            return fail(i, R_DEEP);
                        }
                        stack[depth] = u8::from(is_obj);
                        depth += 1;
                        sc.i = i + 1;
                        sc.ws();
                        let close = if is_obj { b'}' } else { b']' };
                        if s.get(sc.i) == Some(&close) {
                            // an empty container
                            depth -= 1;
                            sc.i += 1;
                        } else {
                            state = if is_obj { State::Key } else { State::Value };
                        }
                    }
                    b'-' | b'0'..=b'9' => sc.i = scan_number(s, i)?,
                    b't' => sc.i = scan_literal(s, i, b"true")?,
                    b'f' => sc.i = scan_literal(s, i, b"false")?,
                    b'n' => sc.i = scan_literal(s, i, b"null")?,
                    _ => return fail(i, R_CHAR),
                }
            }
            State::AfterValue => {
                sc.ws();
                if depth == 0 {
                    break;
                }
                let i = sc.i;
                let Some(&c) = s.get(i) else {
                    return fail(len, R_EOF);
                };
                let in_object = stack[depth - 1] != 0;
                match (c, in_object) {
                    (b',', _) => {
                        sc.i = i + 1;
                        sc.ws();
                        state = if in_object { State::Key } else { State::Value };
                    }
                    (b'}', true) | (b']', false) => {
                        depth -= 1;
                        sc.i = i + 1;
                    }
                    (_, true) => return fail(i, R_OBJ_NEXT),
                    (_, false) => return fail(i, R_ARR_NEXT),
                }
            }
            State::Key => {
                let i = sc.i;
                match s.get(i) {
                    None => return fail(len, R_EOF),
                    Some(b'"') => {}
                    Some(_) => return fail(i, R_KEY),
                }
                sc.i = scan_string(s, i)?;
                sc.ws();
                match s.get(sc.i) {
                    None => return fail(len, R_EOF),
                    Some(b':') => {}
                    Some(_) => return fail(sc.i, R_COLON),
                }
                sc.i += 1;
                sc.ws();
                state = State::Value;
            }
        }
    }
    if sc.i != len {
        return fail(sc.i, R_TRAILING);
    }
    if !sc.cut {
        return Ok(Minified::AsIs);
    }
    sc.out.extend_from_slice(&s[sc.run..]);
    Ok(Minified::Cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(doc: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match minify(doc, &mut out) {
            Ok(Minified::AsIs) => {
                assert!(out.is_empty());
                doc.to_vec()
            }
            Ok(Minified::Cut) => out,
            Err(e) => panic!("{:?} rejected: {e:?}", String::from_utf8_lossy(doc)),
        }
    }

    fn bad(doc: &[u8]) -> Error {
        let mut out = Vec::new();
        match minify(doc, &mut out) {
            Ok(_) => panic!("{:?} accepted", String::from_utf8_lossy(doc)),
            Err(e) => e,
        }
    }

    #[test]
    fn minifies_as_written() {
        assert_eq!(
            ok(b" { \"a\" : [ 1 , 2 ] ,\n\t\"b\" : null } \r\n"),
            br#"{"a":[1,2],"b":null}"#
        );
        assert_eq!(ok(br#"{"a":1,"a":2}"#), br#"{"a":1,"a":2}"#);
        assert_eq!(
            ok(br#"[ "\u00e9", "\/", "a b", "\"] [", "\\" ]"#),
            br#"["\u00e9","\/","a b","\"] [","\\"]"#
        );
        assert_eq!(ok(b"  true "), b"true");
        assert_eq!(ok(b"[1e5 , 0.5E+10,-0.0e-0]"), b"[1e5,0.5E+10,-0.0e-0]");
        assert_eq!(ok("\"日本 語\"".as_bytes()), "\"日本 語\"".as_bytes());
        assert_eq!(ok(b"{ }"), b"{}");
        assert_eq!(ok(b"[ ]"), b"[]");
    }

    #[test]
    fn as_is_when_there_is_nothing_to_cut() {
        let mut out = Vec::new();
        assert_eq!(minify(br#"{"a":[1,"b c"]}"#, &mut out), Ok(Minified::AsIs));
        assert!(out.is_empty());
        assert_eq!(minify(b" 1", &mut out), Ok(Minified::Cut));
        assert_eq!(out, b"1");
    }

    #[test]
    fn long_strings_and_white_space_runs() {
        // across the 16-byte blocks and the last partial block
        for n in 0..70 {
            let text = "x".repeat(n);
            let doc = format!("[\"{text}\", \"{text}é\\n\"]");
            assert_eq!(
                ok(doc.as_bytes()),
                format!("[\"{text}\",\"{text}é\\n\"]").as_bytes()
            );
            let doc = format!("[{}1]", " ".repeat(n));
            assert_eq!(ok(doc.as_bytes()), b"[1]");
            let doc = format!("\"{text}\x01\"");
            assert_eq!(
                bad(doc.as_bytes()),
                Error {
                    offset: n + 1,
                    reason: R_CONTROL
                }
            );
            let doc = format!("\"{text}");
            assert_eq!(
                bad(doc.as_bytes()),
                Error {
                    offset: n + 1,
                    reason: R_EOF
                }
            );
        }
    }

    #[test]
    fn depth_128_passes_129_fails() {
        let nested = |d: usize| "[".repeat(d) + &"]".repeat(d);
        assert_eq!(
            ok(nested(MAX_DEPTH).as_bytes()),
            nested(MAX_DEPTH).as_bytes()
        );
        assert_eq!(
            bad(nested(MAX_DEPTH + 1).as_bytes()),
            Error {
                offset: MAX_DEPTH,
                reason: R_DEEP
            }
        );
        let s = format!("[\"{}\"]", "[".repeat(1000));
        assert_eq!(ok(s.as_bytes()), s.as_bytes());
    }

    /// The C service's offsets and reasons (src/codec/json.c).
    #[test]
    fn errors_are_the_c_services() {
        let cases: &[(&[u8], usize, &str)] = &[
            (b"", 0, R_EOF),
            (b"   ", 3, R_EOF),
            (b"[1,]", 3, R_CHAR),
            (b"{\"a\":1,}", 7, R_KEY),
            (b"[1 2]", 3, R_ARR_NEXT),
            (b"{\"a\" 1}", 5, R_COLON),
            (b"{\"a\":1 2}", 7, R_OBJ_NEXT),
            (b"01", 1, R_NUMBER),
            (b"1.", 2, R_EOF),
            (b"1.x", 2, R_NUMBER),
            (b"-", 1, R_EOF),
            (b"1e+", 3, R_EOF),
            (b"tru", 3, R_EOF),
            (b"trux", 3, R_LITERAL),
            (b"[1] x", 4, R_TRAILING),
            (b"\"\\x\"", 2, R_ESCAPE),
            (b"\"\\u12G4\"", 5, R_ESCAPE),
            (b"\"a\x01b\"", 2, R_CONTROL),
            (b"\"\xff\"", 1, R_UTF8),
            (b"\"\xc0\xaf\"", 1, R_UTF8),
            (b"\"\xed\xa0\x80\"", 1, R_UTF8),
            (b"\"\xc3\xa9", 3, R_EOF),
            (b"\"\xe2\x82", 1, R_UTF8),
            (b"\xef\xbb\xbf{}", 0, R_CHAR),
            (b"'a'", 0, R_CHAR),
        ];
        for &(doc, offset, reason) in cases {
            assert_eq!(
                bad(doc),
                Error { offset, reason },
                "{:?}",
                String::from_utf8_lossy(doc)
            );
        }
    }

    #[test]
    fn swar_finds_what_the_byte_loop_finds() {
        let mut doc = b"abcdefghijklmnopqrstuvwxyz0123456789".to_vec();
        for at in 0..doc.len() {
            for special in [b'"', b'\\', 0x01, 0x1f, 0x80, 0xff] {
                let old = doc[at];
                doc[at] = special;
                for start in 0..=at {
                    let mut i = swar_skip_plain(&doc, start);
                    while i < doc.len() && is_plain(doc[i]) {
                        i += 1;
                    }
                    assert_eq!(i, at, "start {start}, special {special:#x} at {at}");
                    assert_eq!(skip_plain(&doc, start), at);
                }
                doc[at] = old;
            }
        }
    }

    /// A small deterministic generator (xorshift64*), so that failures repeat.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.below(from.len())]
        }
    }

    fn value(r: &mut Rng, depth: usize, out: &mut String) {
        const WS: &[&str] = &["", "", "", " ", "\n  ", "\t", "\r\n", "    "];
        const SCALARS: &[&str] = &[
            "0",
            "-0",
            "1.50e+3",
            "12345678901234567890",
            "-1E-7",
            "0.5",
            "true",
            "false",
            "null",
            r#""""#,
            r#""abc""#,
            r#""\u00e9\/\"\\""#,
            r#""é€😀""#,
            r#""a b [ ] { } , :""#,
            r#""a long string of plain ASCII that spans several blocks""#,
        ];
        let ws = |r: &mut Rng, out: &mut String| out.push_str(r.pick(WS));
        match if depth > 6 { 0 } else { r.below(4) } {
            0 | 1 => out.push_str(r.pick(SCALARS)),
            2 => {
                out.push('[');
                for k in 0..r.below(4) {
                    if k > 0 {
                        out.push(',');
                    }
                    ws(r, out);
                    value(r, depth + 1, out);
                    ws(r, out);
                }
                out.push(']');
            }
            _ => {
                out.push('{');
                for k in 0..r.below(4) {
                    if k > 0 {
                        out.push(',');
                    }
                    ws(r, out);
                    out.push_str(r.pick(&[r#""a""#, r#""key""#, r#""a""#, r#""\u0041""#]));
                    ws(r, out);
                    out.push(':');
                    ws(r, out);
                    value(r, depth + 1, out);
                    ws(r, out);
                }
                out.push('}');
            }
        }
    }

    /// Generated documents, and one-byte edits of them: the idiomatic tier (serde_json) and
    /// this one accept the same documents and answer them with the same bytes.
    #[test]
    fn the_same_answers_as_the_idiomatic_tier() {
        const EDITS: &[u8] = b"\"\\,:[]{} \n0-.eE+tfnu\x01\x80\xc3\xff";
        let mut r = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut valid, mut invalid) = (0, 0);
        for _ in 0..20_000 {
            let mut doc = String::new();
            value(&mut r, 0, &mut doc);
            let mut doc = doc.into_bytes();
            if r.below(2) == 0 && !doc.is_empty() {
                let at = r.below(doc.len());
                match r.below(3) {
                    0 => doc.insert(at, EDITS[r.below(EDITS.len())]),
                    1 => {
                        doc.remove(at);
                    }
                    _ => doc.truncate(at),
                }
            }
            let mut out = Vec::new();
            let tuned = minify(&doc, &mut out).map(|m| match m {
                Minified::AsIs => doc.clone(),
                Minified::Cut => out,
            });
            let idiomatic = super::super::minify_checked(&doc).map(|m| m.into_owned());
            match (&tuned, &idiomatic) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "{:?}", String::from_utf8_lossy(&doc));
                    valid += 1;
                }
                (Err(_), Err(_)) => invalid += 1,
                _ => panic!(
                    "{:?}: tuned {:?}, idiomatic {:?}",
                    String::from_utf8_lossy(&doc),
                    tuned.map(|_| ()),
                    idiomatic.map(|_| ())
                ),
            }
        }
        assert!(
            valid > 5000 && invalid > 2000,
            "{valid} valid, {invalid} invalid"
        );
    }
}
