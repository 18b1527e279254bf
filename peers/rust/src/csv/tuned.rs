//! The `tuned` tier of csv: the C service's parser and aggregator (src/codec/csv.c) in Rust,
//! the same algorithm step for step. Its answers (errors included) are the idiomatic tier's,
//! byte for byte; tests/csv_tiers.rs holds the two side by side.
//!
//! # How a body is read
//!
//! None of the four field grammars allows `,`, `"`, CR or LF. So fields need no separate
//! tokenizing pass and no unescaping: each field is read by a matcher for its own grammar,
//! straight from the body, and what matters is where the matcher stops.
//!
//! The record fast path (SSE2) takes one 64-byte mask of the `,` and LF bytes at the record's
//! start; its four lowest bits are the record's delimiters. Each field's matcher must end
//! exactly at its delimiter (the fourth before LF or CR LF; symbol and price may be quoted),
//! and the delimiters must be `,` `,` `,` LF. A record that passes holds no quote except around
//! a whole symbol or price, so its delimiters are real and the record is exactly what was
//! matched: it is aggregated without a byte copied or allocated. Knowing every field's start up
//! front matters for speed: the four matchers do not wait for each other.
//!
//! Everything else (an error, quoted timestamps or quantities, `""`, more than 64 bytes, the
//! body's last 128 bytes, or machines without SSE2) goes to `careful_record`, which reads the
//! record field by field: a field's own matcher where the terminator follows it, else
//! `slow_field`, which finds the field's structure with an SSE2 scan for the structural bytes
//! (quote errors are found there) and copies the value into a small buffer padded with NUL
//! bytes, where the same matcher runs and must match it whole. Matchers stop at a NUL as at any
//! delimiter, so every path accepts exactly the same values. A quoted value is checked as it
//! stands between its quotes: `""` leaves a `"` in it, and as no grammar allows `"`,
//! unescaping could not make it valid.
//!
//! The matchers read wide and branch little: digit runs 8 bytes at a time in a `u64` (SWAR: the
//! run length from one mask, the value from three multiplications, a price's integer and
//! decimals in one go with the point taken out), the fixed part of an RFC 3339 timestamp as two
//! vectors checked against a template, a symbol as one vector (masked to its length, it is also
//! the hash key). Each reads a `Window` of `MATCH_READ` bytes from the field's start, whatever
//! the field holds: the fast paths are taken only where the body has that room left.
//!
//! Which error is reported, line ends, CR and the header: as the module `csv` says, and as the
//! C file's comment details.
//!
//! # Numbers
//!
//! A price is at most 18 digits: its digits as a `u64` m and its number of decimals k give
//! m / 10^k. When m <= 2^53, m and 10^k (k <= 8) are exact doubles and one IEEE division is
//! correctly rounded (Clinger's fast path); larger mantissas go to `str::parse`, correctly
//! rounded too. `price × quantity` is one multiplication and one addition at a time (Rust never
//! fuses them into an FMA by itself). The answer's `%.6f` numbers are written from the double's
//! exact binary value with 128-bit integer arithmetic, rounded half to even (`fmt6`).

use super::{Invalid, Reason};

/// Room the fast paths want after a field's start: a matcher's window, and the terminator
/// checks after it. The record fast path wants twice that (its 64-byte mask, then a matcher
/// at the end of it).
const FAST_ROOM: usize = 64;

/// The bytes a matcher may read from where it starts. They read at most 35 (a timestamp with
/// nine decimals and an offset).
const MATCH_READ: usize = 40;

/// The longest value copied for a matcher: longer ones match no grammar (the longest value any
/// grammar accepts is 35 bytes, 2026-11-23T08:15:30.123456789+05:30).
const VALUE_MAX: usize = MATCH_READ;

type Window = [u8; MATCH_READ];

/// The window of a matcher starting at `s[p]`.
#[inline(always)]
fn window(s: &[u8], p: usize) -> &Window {
    s[p..p + MATCH_READ]
        .try_into()
        .expect("a window inside the body")
}

/// 8 bytes with `w[i]` in the low byte.
#[inline(always)]
fn load8(w: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(w[i..i + 8].try_into().expect("8 bytes"))
}

// ---- 8 bytes at a time ----

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

const fn byte(i: u32, v: u8) -> u64 {
    (v as u64) << (8 * i)
}

/// Bit 7 of each byte of `w` that is not an ASCII digit. `b = w ^ '0'` is 0..9 for a digit;
/// adding 0x76 to the low 7 bits of b sets bit 7 exactly when they are above 9, and b's own
/// bit 7 is set for bytes >= 0x80. No carry crosses a byte: (b & 0x7f) + 0x76 <= 0xf5.
#[inline(always)]
const fn nondigits(w: u64) -> u64 {
    let b = w ^ (ONES * b'0' as u64);
    (((b & !HIGHS) + ONES * 0x76) | b) & HIGHS
}

/// Number of ASCII digits `w` starts with, 0..8.
#[inline(always)]
const fn digit_run(w: u64) -> usize {
    let nd = nondigits(w);
    if nd != 0 {
        (nd.trailing_zeros() >> 3) as usize
    } else {
        8
    }
}

/// The value of the first n (1..8) bytes of `w`, all digits. Shifting them to the top leaves
/// zero bytes (leading zeros) below; then pairs, quads and octets are combined by
/// multiplication.
#[inline(always)]
const fn digits_value(w: u64, n: usize) -> u64 {
    let v = (w & (ONES * 0x0f)) << (8 * (8 - n));
    let v = (v.wrapping_mul(1 + (10 << 8)) >> 8) & 0x00ff_00ff_00ff_00ff;
    let v = (v.wrapping_mul(1 + (100 << 16)) >> 16) & 0x0000_ffff_0000_ffff;
    v.wrapping_mul(1 + (10000 << 32)) >> 32
}

/// Each byte i of the result is 10 * d[i] + d[i + 1], d being w's low nibbles: two-digit
/// numbers wherever w has two digits in a row (garbage elsewhere, but no carry between bytes,
/// as 10 * 15 + 15 < 256).
#[inline(always)]
const fn digit_pairs(w: u64) -> u64 {
    let d = w & (ONES * 0x0f);
    d * 10 + (d >> 8)
}

#[inline(always)]
const fn pair(t: u64, i: u32) -> u32 {
    ((t >> (8 * i)) & 0xff) as u32
}

const POW10: [u64; 9] = [
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
];
const POW10D: [f64; 9] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];

// ---- matchers ----
// Each reads one value of its grammar at the start of its window and returns where the value
// ends, or None when the window does not start with a value of the grammar. They stop at the
// first byte that cannot continue the value (a terminator, a quote, a NUL of slow_field's
// padding...): the caller checks that byte.

/// Days in each month, February of a common year; 0 for the months that do not exist (the
/// template check lets months up to 19 through).
const MDAYS: [u8; 20] = [
    0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0, 0, 0, 0, 0, 0, 0,
];

/// The rest of a timestamp after its seconds, `[.fraction](Z|+HH:MM|-HH:MM)`, from `w[q]`. The
/// usual cases (a fraction of up to 7 digits or none, then Z or an offset) take one 8-byte word
/// for the fraction's digits and one for the zone, whose offset form is checked whole against
/// a template.
#[inline(always)]
fn match_rfc3339_tail(w: &Window, mut q: usize) -> Option<usize> {
    let dot = w[q] == b'.';
    let mut n = digit_run(load8(w, q + 1));
    if n < 8 && (n != 0 || !dot) {
        if dot {
            q += 1 + n;
        }
        // Z, or sHH:MM with the tens of the hours at most 2 and of the minutes at most 5
        let z = load8(w, q);
        let x = z ^ (byte(1, b'0') | byte(2, b'0') | byte(3, b':') | byte(4, b'0') | byte(5, b'0'));
        let at = |i: u32| (x >> (8 * i)) & 0xff;
        let sign = z as u8 == b'+' || z as u8 == b'-';
        let hh = at(1) * 10 + at(2);
        let offset = sign
            & (at(1) <= 2)
            & (at(2) <= 9)
            & (at(3) == 0)
            & (at(4) <= 5)
            & (at(5) <= 9)
            & (hh < 24);
        if z as u8 == b'Z' {
            return Some(q + 1);
        }
        return offset.then_some(q + 6);
    }
    if dot {
        // eight digits or more, or none
        if n == 0 {
            return None;
        }
        if n == 8 && w[q + 9].is_ascii_digit() {
            if w[q + 10].is_ascii_digit() {
                return None; // ten digits or more
            }
            n = 9;
        }
        q += 1 + n;
    }
    if w[q] == b'Z' {
        return Some(q + 1);
    }
    if w[q] != b'+' && w[q] != b'-' {
        return None;
    }
    let d = |i: usize| w[q + i].is_ascii_digit();
    if !d(1) || !d(2) || w[q + 3] != b':' || !d(4) || !d(5) {
        return None;
    }
    let num = |i: usize| u32::from(w[q + i] - b'0') * 10 + u32::from(w[q + i + 1] - b'0');
    (num(1) < 24 && num(4) < 60).then_some(q + 6)
}

/// A real date: month 1..12 (up to 19 may come in), day 1..days in the month.
#[inline(always)]
fn bad_date(year: u32, month: u32, day: u32) -> bool {
    if day.wrapping_sub(1) < u32::from(MDAYS[month as usize]) {
        return false;
    }
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    !(month == 2 && day == 29 && leap)
}

/// `YYYY-MM-DDTHH:MM:SS` then the tail; the window starts with 4 digits and `-`.
#[inline(always)]
fn match_rfc3339(w: &Window) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    let fixed = sse2::rfc3339_fixed(w);
    #[cfg(not(target_arch = "x86_64"))]
    let fixed = swar_rfc3339_fixed(w);
    if !fixed {
        return None;
    }
    // "YYYY-MM-" and "DDTHH:MM"
    let t0 = digit_pairs(load8(w, 0));
    let t1 = digit_pairs(load8(w, 8));
    let (month, day) = (pair(t0, 5), pair(t1, 0));
    if pair(t1, 3) >= 24 || bad_date(pair(t0, 0) * 100 + pair(t0, 2), month, day) {
        return None;
    }
    match_rfc3339_tail(w, 19)
}

/// The fixed part's characters, without SIMD: digits where digits go, the separators, and the
/// tens of month, minutes and seconds (what the vector template checks; the template also
/// bounds the tens of day and hour, which the numbers check anyway).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn swar_rfc3339_fixed(w: &Window) -> bool {
    // w0 = "YYYY-MM-", w1 = "DDTHH:MM", w2 = "HH:MM:SS" (bytes 11..18, overlapping w1)
    let (w0, w1, w2) = (load8(w, 0), load8(w, 8), load8(w, 11));
    const D0: u64 = HIGHS & !(byte(4, 0xff) | byte(7, 0xff));
    const D1: u64 = HIGHS & !(byte(2, 0xff) | byte(5, 0xff));
    const D2: u64 = byte(6, 0x80) | byte(7, 0x80);
    const M0: u64 = byte(4, 0xff) | byte(7, 0xff);
    const V0: u64 = byte(4, b'-') | byte(7, b'-');
    const M1: u64 = byte(2, 0xff) | byte(5, 0xff);
    const V1: u64 = byte(2, b'T') | byte(5, b':');
    const M2: u64 = byte(5, 0xff);
    const V2: u64 = byte(5, b':');
    if (nondigits(w0) & D0)
        | (nondigits(w1) & D1)
        | (nondigits(w2) & D2)
        | ((w0 & M0) ^ V0)
        | ((w1 & M1) ^ V1)
        | ((w2 & M2) ^ V2)
        != 0
    {
        return false;
    }
    let (t0, t1, t2) = (digit_pairs(w0), digit_pairs(w1), digit_pairs(w2));
    let month = pair(t0, 5);
    month.wrapping_sub(1) < 12 && pair(t1, 6) < 60 && pair(t2, 6) < 60
}

/// `[0-9]{1,15}` (epoch milliseconds) or RFC 3339. Only checked: the value is not used.
#[inline(always)]
fn match_timestamp(w: &Window) -> Option<usize> {
    let n = digit_run(load8(w, 0));
    if n == 4 && w[4] == b'-' {
        return match_rfc3339(w);
    }
    if n < 8 {
        return (n > 0).then_some(n);
    }
    let n = 8 + digit_run(load8(w, 8));
    (n <= 15).then_some(n)
}

/// A symbol's key: its bytes, NUL-padded to 16, as two little-endian words. Symbols hold no
/// NUL, so two keys are equal exactly when the symbols are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Key {
    lo: u64,
    hi: u64,
}

impl Key {
    /// The first `n` (1..16) bytes of `w`.
    #[inline(always)]
    fn of(w: &Window, n: usize) -> Key {
        let mask = |k: usize| if k >= 8 { !0 } else { (1u64 << (8 * k)) - 1 };
        Key {
            lo: load8(w, 0) & mask(n),
            hi: load8(w, 8) & mask(n.saturating_sub(8)),
        }
    }

    /// The NUL-padded bytes: ordering them orders the symbols bytewise (a shorter symbol's
    /// padding sorts before any byte).
    fn bytes(self) -> [u8; 16] {
        let mut b = [0; 16];
        b[..8].copy_from_slice(&self.lo.to_le_bytes());
        b[8..].copy_from_slice(&self.hi.to_le_bytes());
        b
    }

    /// The top bits of a product depend on every bit of the multiplicand: the index is taken
    /// from them.
    #[inline(always)]
    fn hash(self) -> u64 {
        self.lo.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ self.hi.wrapping_mul(0xD6E8_FEB8_6659_FD93)
    }
}

/// `[A-Za-z0-9._-]`, as a table for the bytes looked at one at a time.
const SYMBOL_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-';
        c += 1;
    }
    t
};

/// `[A-Za-z0-9._-]{1,16}`, and its key.
#[inline(always)]
fn match_symbol(w: &Window) -> Option<(usize, Key)> {
    #[cfg(target_arch = "x86_64")]
    let n = sse2::symbol_len(w);
    #[cfg(not(target_arch = "x86_64"))]
    let n = symbol_len(w);
    if n == 0 || (n == 16 && SYMBOL_CHAR[usize::from(w[16])]) {
        return None; // none, or 17 characters or more
    }
    Some((n, Key::of(w, n)))
}

/// The number of symbol characters the window starts with, up to 16, one byte at a time.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn symbol_len(w: &Window) -> usize {
    w[..16]
        .iter()
        .take_while(|&&c| SYMBOL_CHAR[usize::from(c)])
        .count()
}

/// `[0-9]{1,10}(\.[0-9]{1,8})?` and the nearest double.
#[inline(always)]
fn match_price(w: &Window) -> Option<(usize, f64)> {
    let word = load8(w, 0);
    let n = digit_run(word);
    if n.wrapping_sub(1) < 6 && (word >> (8 * n)) & 0xff == u64::from(b'.') {
        // Integer and fraction in the first 8 bytes, the usual case: the point taken out (the
        // bytes above it moved down one), one digit run and one conversion read both. The top
        // byte becomes 0, so the run ends by byte 7; when it reaches it, the fraction ends
        // there only if w[8] is no digit, else it is read the general way below.
        let low = (1u64 << (8 * n)) - 1;
        let c = (word & low) | ((word >> 8) & !low);
        let t = digit_run(c);
        if (t > n) & ((t < 7) | !w[8].is_ascii_digit()) {
            let k = t - n;
            // < 10^7: exact, and one rounding
            return Some((t + 1, digits_value(c, t) as f64 / POW10D[k]));
        }
        if t == n {
            return None; // a point and no decimals
        }
    }
    let (mut m, mut q) = if n.wrapping_sub(1) < 7 {
        (digits_value(word, n), n) // 1..7 digits
    } else if n == 0 {
        return None;
    } else {
        let mut m = digits_value(word, 8);
        let mut q = 8;
        while w[q].is_ascii_digit() {
            if q == 10 {
                return None; // eleven digits or more
            }
            m = m * 10 + u64::from(w[q] - b'0');
            q += 1;
        }
        (m, q)
    };
    let mut k = 0;
    if w[q] == b'.' {
        let frac = load8(w, q + 1);
        k = digit_run(frac);
        if k == 0 || (k == 8 && w[q + 9].is_ascii_digit()) {
            return None;
        }
        m = m * POW10[k] + digits_value(frac, k);
        q += 1 + k;
    }
    let price = if m <= 1 << 53 {
        m as f64 / POW10D[k]
    } else {
        parse_price(&w[..q])
    };
    Some((q, price))
}

/// The rare price with 16 or more significant digits: `str::parse`, correctly rounded.
#[cold]
#[inline(never)]
fn parse_price(text: &[u8]) -> f64 {
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse().ok())
        .expect("a price of the grammar is a float")
}

/// `[0-9]{1,9}`, at least 1.
#[inline(always)]
fn match_quantity(w: &Window) -> Option<(usize, u64)> {
    let word = load8(w, 0);
    let mut n = digit_run(word);
    let v = if n.wrapping_sub(1) < 7 {
        digits_value(word, n)
    } else if n == 0 {
        return None;
    } else {
        let mut v = digits_value(word, 8);
        if w[8].is_ascii_digit() {
            if w[9].is_ascii_digit() {
                return None; // ten digits or more
            }
            v = v * 10 + u64::from(w[8] - b'0');
            n = 9;
        }
        v
    };
    (v != 0).then_some((n, v))
}

// ---- structure ----

/// First byte at or after `p` among `,` `"` CR LF; `s.len()` if none.
#[inline]
fn find_special(s: &[u8], p: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    let p = sse2::find_special(s, p);
    let mut p = p;
    while p < s.len() && !matches!(s[p], b',' | b'"' | b'\r' | b'\n') {
        p += 1;
    }
    p
}

/// First `"` or LF at or after `p`; `s.len()` if none.
#[inline]
fn find_quote_lf(s: &[u8], p: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    let p = sse2::find_quote_lf(s, p);
    let mut p = p;
    while p < s.len() && s[p] != b'"' && s[p] != b'\n' {
        p += 1;
    }
    p
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    //! The SSE2 parts, as in the C file: the structural scans, the record's delimiter mask,
    //! the timestamp template and the symbol classification.

    use std::arch::x86_64::*;

    use super::{MATCH_READ, Window};

    /// The 16 bytes at `s[i..]` as a vector.
    #[inline(always)]
    fn load(s: &[u8], i: usize) -> __m128i {
        let chunk: &[u8; 16] = s[i..i + 16].try_into().expect("16 bytes");
        // SAFETY: SSE2 is part of x86-64, and the load reads the 16 bytes of `chunk`.
        unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) }
    }

    /// Bit k set when byte k of `v` equals one of `bytes`.
    #[inline(always)]
    fn any_of<const N: usize>(v: __m128i, bytes: [u8; N]) -> u32 {
        // SAFETY: SSE2 is part of x86-64; these touch registers only.
        unsafe {
            let mut m = _mm_setzero_si128();
            for b in bytes {
                m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8)));
            }
            _mm_movemask_epi8(m) as u32
        }
    }

    /// Where the byte loop of `find_special` starts: the first special byte of the 16-byte
    /// blocks, or the first byte after them.
    #[inline(always)]
    pub fn find_special(s: &[u8], mut p: usize) -> usize {
        while p + 16 <= s.len() {
            let m = any_of(load(s, p), [b',', b'"', b'\r', b'\n']);
            if m != 0 {
                return p + m.trailing_zeros() as usize;
            }
            p += 16;
        }
        p
    }

    /// The same for `find_quote_lf`.
    #[inline(always)]
    pub fn find_quote_lf(s: &[u8], mut p: usize) -> usize {
        while p + 16 <= s.len() {
            let m = any_of(load(s, p), [b'"', b'\n']);
            if m != 0 {
                return p + m.trailing_zeros() as usize;
            }
            p += 16;
        }
        p
    }

    /// Bit i set when `s[i]` is `,` or LF, for the 64 bytes at `s`.
    #[inline(always)]
    pub fn delims64(s: &[u8; 128]) -> u64 {
        let mut m = 0;
        for k in 0..4 {
            m |= u64::from(any_of(load(s, 16 * k), [b',', b'\n'])) << (16 * k);
        }
        m
    }

    /// The fixed part `YYYY-MM-DDTHH:MM:SS` in two vectors (bytes 0..15 and 3..18), each byte
    /// xored with a template ('0' where a digit goes, the separator itself elsewhere) and
    /// compared with the largest value allowed there: 9 for a digit, 0 for a separator, and
    /// the tens of month, day, hour, minute and second limited to 1, 3, 2, 5 and 5. A byte c
    /// passes "c ^ '0' <= k" exactly when it is one of the digits 0..k. One saturating
    /// subtraction per vector finds every byte over its limit. What the limits leave open is
    /// checked on the numbers by the caller: month 0 and 13..19, days past the month's end,
    /// hours 24..29.
    #[inline(always)]
    pub fn rfc3339_fixed(w: &Window) -> bool {
        const T0: [u8; 16] = *b"0000-00-00T00:00";
        const L0: [u8; 16] = [9, 9, 9, 9, 0, 1, 9, 0, 3, 9, 0, 2, 9, 0, 5, 9];
        const T1: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b':', b'0', b'0'];
        const L1: [u8; 16] = [
            255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 5, 9,
        ];
        let (v0, v1) = (load(w, 0), load(w, 3));
        let (t0, l0, t1, l1) = (load(&T0, 0), load(&L0, 0), load(&T1, 0), load(&L1, 0));
        // SAFETY: SSE2 is part of x86-64; these touch registers only.
        unsafe {
            let over = _mm_or_si128(
                _mm_subs_epu8(_mm_xor_si128(v0, t0), l0),
                _mm_subs_epu8(_mm_xor_si128(v1, t1), l1),
            );
            _mm_movemask_epi8(_mm_cmpeq_epi8(over, _mm_setzero_si128())) == 0xffff
        }
    }

    /// The number of symbol characters `[A-Za-z0-9._-]` the window starts with, up to 16, in
    /// one vector. A range lo..hi is one signed compare once lo is moved to -128 (adding
    /// 0x80 - lo, wrapping): the range becomes -128..-128 + hi - lo, and every other byte is
    /// above it. Letters are the bytes whose value | 0x20 is in a..z (that maps exactly A..Z
    /// and a..z there); '-' '.' and the digits are 0x2d..0x39 without '/'; '_' alone.
    #[inline(always)]
    pub fn symbol_len(w: &Window) -> usize {
        const _: () = assert!(MATCH_READ >= 17);
        let v = load(w, 0);
        let ok = {
            // SAFETY: SSE2 is part of x86-64; these touch registers only.
            unsafe {
                let shifted = |x: __m128i, lo: u8| {
                    _mm_add_epi8(x, _mm_set1_epi8(0x80u8.wrapping_sub(lo) as i8))
                };
                let below = |lo: u8, hi: u8| _mm_set1_epi8(0x80u8.wrapping_add(hi - lo + 1) as i8);
                let letter = _mm_cmplt_epi8(
                    shifted(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a'),
                    below(b'a', b'z'),
                );
                let dignum = _mm_andnot_si128(
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(b'/' as i8)),
                    _mm_cmplt_epi8(shifted(v, b'-'), below(b'-', b'9')),
                );
                let under = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8));
                _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, dignum), under)) as u32
            }
        };
        (!ok).trailing_zeros() as usize // <= 16: !ok has bit 16 set
    }
}

/// How a field ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Term {
    Comma,
    /// LF or CR LF.
    Eol,
    Eof,
}

/// A field read the general way.
struct Field {
    /// Just past the terminator.
    next: usize,
    term: Term,
    /// LFs inside the quotes.
    lfs: u64,
    /// The value's length; over `VALUE_MAX`, the value is not copied.
    len: usize,
    /// The value, then NUL bytes: a window for the matchers.
    pad: Window,
}

/// One field from `p`, its structure checked the general way, or its quote error (the
/// field's own, as nothing of it has been checked yet).
#[cold]
#[inline(never)]
fn slow_field(s: &[u8], p: usize) -> Result<Field, Reason> {
    let end = s.len();
    let (v, len, next, term);
    let mut lfs = 0;
    if p < end && s[p] == b'"' {
        v = p + 1;
        let mut q = v;
        loop {
            q = find_quote_lf(s, q);
            if q == end {
                return Err(Reason::UnterminatedQuote);
            }
            if s[q] == b'\n' {
                lfs += 1;
                q += 1;
            } else if q + 1 < end && s[q + 1] == b'"' {
                q += 2; // "" is a quote in the value
            } else {
                break;
            }
        }
        len = q - v;
        q += 1; // the closing quote
        (next, term) = match s.get(q..) {
            Some([]) => (end, Term::Eof),
            Some([b',', ..]) => (q + 1, Term::Comma),
            Some([b'\n', ..]) => (q + 1, Term::Eol),
            Some([b'\r', b'\n', ..]) => (q + 2, Term::Eol),
            _ => return Err(Reason::BareQuote),
        };
    } else {
        v = p;
        let mut q = p;
        loop {
            q = find_special(s, q);
            match s.get(q..) {
                None | Some([]) => {
                    (next, term) = (end, Term::Eof);
                    break;
                }
                Some([b',', ..]) => {
                    (next, term) = (q + 1, Term::Comma);
                    break;
                }
                Some([b'\n', ..]) => {
                    (next, term) = (q + 1, Term::Eol);
                    break;
                }
                Some([b'"', ..]) => return Err(Reason::BareQuote),
                Some([b'\r', b'\n', ..]) => {
                    (next, term) = (q + 2, Term::Eol);
                    break;
                }
                Some(_) => q += 1, // a CR alone is data
            }
        }
        len = q - v;
    }
    let mut pad = [0; MATCH_READ];
    if len <= VALUE_MAX {
        pad[..len].copy_from_slice(&s[v..v + len]);
    }
    Ok(Field {
        next,
        term,
        lfs,
        len,
        pad,
    })
}

/// The header when the record at `p` (not an empty line) is one: where the next record
/// starts (`line` counted); `p` otherwise.
fn skip_header(s: &[u8], p: usize, line: &mut u64) -> usize {
    const NAMES: [&[u8]; 4] = [b"timestamp", b"symbol", b"price", b"quantity"];
    let end = s.len();
    let mut q = p;
    for (k, name) in NAMES.iter().enumerate() {
        let quoted = q < end && s[q] == b'"';
        q += usize::from(quoted);
        // names are lower-case letters: `| 0x20` maps exactly the letters to them
        if end - q < name.len()
            || s[q..q + name.len()]
                .iter()
                .zip(*name)
                .any(|(&c, &n)| c | 0x20 != n)
        {
            return p;
        }
        q += name.len();
        if quoted {
            if q == end || s[q] != b'"' {
                return p;
            }
            q += 1;
        }
        if k < 3 {
            if q == end || s[q] != b',' {
                return p;
            }
            q += 1;
        }
    }
    match &s[q..] {
        [] => q,
        [b'\n', ..] => {
            *line += 1;
            q + 1
        }
        [b'\r', b'\n', ..] => {
            *line += 1;
            q + 2
        }
        _ => p,
    }
}

/// One record read by `careful_record`: the trade, and the line the next record starts on.
struct Trade {
    next: usize,
    line: u64,
    key: Key,
    price: f64,
    quantity: u64,
}

/// The record at `p` (on `line`), each field by its own fast path (unquoted, or quoted with
/// nothing special inside) when `FAST_ROOM` bytes remain, else by `slow_field`. The error is
/// the field at fault and why.
#[cold]
#[inline(never)]
fn careful_record(s: &[u8], mut p: usize, mut line: u64) -> Result<Trade, (usize, Reason)> {
    let end = s.len();
    let roomy = |p: usize| end - p >= FAST_ROOM;
    // A field of a grammar: by `matcher` at p, unquoted or quoted, when followed by `,`.
    macro_rules! field {
        ($column:expr, $matcher:ident, $reason:expr) => {{
            let fast = if roomy(p) {
                match $matcher(window(s, p)) {
                    Some((n, v)) if s[p + n] == b',' => Some((p + n + 1, v)),
                    _ if s[p] == b'"' => match $matcher(window(s, p + 1)) {
                        Some((n, v)) if s[p + 1 + n] == b'"' && s[p + 2 + n] == b',' => {
                            Some((p + n + 3, v))
                        }
                        _ => None,
                    },
                    _ => None,
                }
            } else {
                None
            };
            match fast {
                Some((next, v)) => {
                    p = next;
                    v
                }
                None => {
                    let f = slow_field(s, p).map_err(|r| ($column, r))?;
                    line += f.lfs;
                    let v = match $matcher(&f.pad) {
                        Some((n, v)) if f.len <= VALUE_MAX && n == f.len => v,
                        _ => return Err(($column, $reason)),
                    };
                    if f.term != Term::Comma {
                        return Err(($column + 1, Reason::WrongFieldCount)); // the first one missing
                    }
                    p = f.next;
                    v
                }
            }
        }};
    }
    let timestamp = |w: &Window| match_timestamp(w).map(|n| (n, ()));
    field!(1, timestamp, Reason::BadTimestamp);
    let key = field!(2, match_symbol, Reason::BadSymbol);
    let price = field!(3, match_price, Reason::BadPrice);

    // 4: quantity, then the line end
    if roomy(p) {
        let mut m = match_quantity(window(s, p)).map(|(n, v)| (p + n, v));
        if m.is_none() && s[p] == b'"' {
            m = match_quantity(window(s, p + 1))
                .and_then(|(n, v)| (s[p + 1 + n] == b'"').then_some((p + n + 2, v)));
        }
        if let Some((q, quantity)) = m {
            let next = match &s[q..] {
                [b'\n', ..] => Some(q + 1),
                [b'\r', b'\n', ..] => Some(q + 2),
                _ => None,
            };
            if let Some(next) = next {
                return Ok(Trade {
                    next,
                    line: line + 1,
                    key,
                    price,
                    quantity,
                });
            }
        }
    }
    let f = slow_field(s, p).map_err(|r| (4, r))?;
    line += f.lfs;
    let quantity = match match_quantity(&f.pad) {
        Some((n, v)) if f.len <= VALUE_MAX && n == f.len => v,
        _ => return Err((4, Reason::BadQuantity)),
    };
    if f.term == Term::Comma {
        return Err((5, Reason::WrongFieldCount)); // a fifth field starts
    }
    Ok(Trade {
        next: f.next,
        line: line + u64::from(f.term == Term::Eol),
        key,
        price,
        quantity,
    })
}

/// The record fast path at `p`, given the 128 bytes there: the trade and the length of its
/// record (line end included), or None for `careful_record`. The record's four delimiters
/// come from one mask of the 64 bytes at its start, so that each field's start is known before
/// any field is read. Each matcher must end exactly at its field's delimiter; as no grammar
/// allows '"' or ',', a record that passes has no quote but around a whole symbol or price,
/// and its delimiters are real.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn fast_record(r: &[u8; 128]) -> Option<(usize, Key, f64, u64)> {
    let m0 = sse2::delims64(r);
    let m1 = m0 & m0.wrapping_sub(1);
    let m2 = m1 & m1.wrapping_sub(1);
    let m3 = m2 & m2.wrapping_sub(1);
    if m3 == 0 {
        return None;
    }
    let at = |m: u64| m.trailing_zeros() as usize;
    let (d1, d2, d3, d4) = (at(m0), at(m1), at(m2), at(m3));
    let e4 = d4 - usize::from(r[d4 - 1] == b'\r'); // d4 >= 3
    let mut ok = (r[d1] == b',') & (r[d2] == b',') & (r[d3] == b',') & (r[d4] == b'\n');
    // symbols and prices may come quoted: q2, q3
    let q2 = usize::from(r[d1 + 1] == b'"');
    let q3 = usize::from(r[d2 + 1] == b'"');
    ok &= match_timestamp(window(r, 0)) == Some(d1);
    let symbol = match_symbol(window(r, d1 + 1 + q2));
    let price = match_price(window(r, d2 + 1 + q3));
    let quantity = match_quantity(window(r, d3 + 1));
    ok &= symbol.map(|(n, _)| d1 + 1 + q2 + n) == Some(d2 - q2);
    ok &= price.map(|(n, _)| d2 + 1 + q3 + n) == Some(d3 - q3);
    ok &= quantity.map(|(n, _)| d3 + 1 + n) == Some(e4);
    ok &= ((r[d2 - 1] == b'"') >= (q2 == 1)) & ((r[d3 - 1] == b'"') >= (q3 == 1));
    match (ok, symbol, price, quantity) {
        (true, Some((_, key)), Some((_, price)), Some((_, quantity))) => {
            Some((d4 + 1, key, price, quantity))
        }
        _ => None,
    }
}

// ---- the symbol table ----

/// One symbol's trades.
#[derive(Clone, Copy, Debug)]
struct Symbol {
    key: Key,
    len: u8,
    count: u64,
    quantity: u64,
    min_price: f64,
    max_price: f64,
    /// Σ price × quantity, in body order.
    sum_pq: f64,
}

/// 256 slots: the 50-odd symbols of a typical body fill a fifth of them, so most lookups find
/// their symbol in the first slot.
const INDEX_MIN: usize = 256;

/// The aggregate of a body: rows, and the symbols in order of first appearance, found through
/// an open-addressing hash of their keys. Kept from one body to the next (`reset` keeps the
/// memory), as the C service keeps one per worker.
#[derive(Debug, Default)]
pub struct Aggregate {
    rows: u64,
    syms: Vec<Symbol>,
    /// Symbol index + 1 (0: empty); a power of two long.
    index: Vec<u32>,
}

const fn index_shift(cap: usize) -> u32 {
    64 - cap.trailing_zeros()
}

impl Aggregate {
    /// Whether its memory is worth keeping for the next body: a table grown past a million
    /// slots (4 MiB) by a body of many symbols is let go.
    pub fn worth_keeping(&self) -> bool {
        self.index.len() <= 1 << 20
    }

    /// Empty, memory kept.
    pub fn reset(&mut self) {
        let cap = self.index.len();
        if cap > 4096 && self.syms.len() * 16 < cap {
            // A table grown by an earlier body with many symbols, mostly empty: clear the
            // slots in use rather than the whole table. Slots already cleared are walked over
            // (each symbol's slot lies on its probe path, which cannot stop at them).
            let (mask, shift) = (cap - 1, index_shift(cap));
            for (j, sym) in self.syms.iter().enumerate() {
                let mut i = (sym.key.hash() >> shift) as usize;
                while self.index[i] as usize != j + 1 {
                    i = (i + 1) & mask;
                }
                self.index[i] = 0;
            }
        } else {
            self.index.fill(0);
        }
        self.rows = 0;
        self.syms.clear();
    }

    /// Parses `body` and adds every trade to the aggregate (which should be reset first), or
    /// tells the first error.
    pub fn add_body(&mut self, body: &[u8]) -> Result<(), Invalid> {
        if self.index.is_empty() {
            self.index = vec![0; INDEX_MIN];
        }
        let s = body;
        let end = s.len();
        let mut p = 0;
        let mut line: u64 = 1;

        // empty lines, then the header maybe
        loop {
            match &s[p..] {
                [b'\n', ..] => p += 1,
                [b'\r', b'\n', ..] => p += 2,
                _ => break,
            }
            line += 1;
        }
        p = skip_header(s, p, &mut line);

        while p < end {
            if s[p] <= b'\r' {
                // one compare for LF and CR
                match &s[p..] {
                    [b'\n', ..] => {
                        line += 1;
                        p += 1;
                        continue;
                    }
                    [b'\r', b'\n', ..] => {
                        line += 1;
                        p += 2;
                        continue;
                    }
                    _ => {}
                }
            }
            #[cfg(target_arch = "x86_64")]
            if let Some(record) = s.get(p..p + 2 * FAST_ROOM) {
                let record: &[u8; 128] = record.try_into().expect("128 bytes");
                if let Some((len, key, price, quantity)) = fast_record(record) {
                    p += len;
                    line += 1;
                    self.add(key, price, quantity);
                    continue;
                }
            }
            match careful_record(s, p, line) {
                Ok(t) => {
                    p = t.next;
                    line = t.line;
                    self.add(t.key, t.price, t.quantity);
                }
                Err((column, reason)) => {
                    return Err(Invalid {
                        line, // where the record starts
                        column,
                        reason,
                    });
                }
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn add(&mut self, key: Key, price: f64, quantity: u64) {
        self.rows += 1;
        let mask = self.index.len() - 1;
        let mut i = (key.hash() >> index_shift(self.index.len())) as usize;
        loop {
            let slot = self.index[i] as usize;
            if slot == 0 {
                self.insert(i, key, price, quantity);
                return;
            }
            let e = &mut self.syms[slot - 1];
            if e.key == key {
                e.count += 1;
                e.quantity += quantity;
                e.min_price = if price < e.min_price {
                    price
                } else {
                    e.min_price
                };
                e.max_price = if price > e.max_price {
                    price
                } else {
                    e.max_price
                };
                e.sum_pq += price * quantity as f64; // one rounding for the product, one for the sum
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// A new symbol with its first trade, in `slot`. Grows the index at 50% load.
    #[cold]
    #[inline(never)]
    fn insert(&mut self, mut slot: usize, key: Key, price: f64, quantity: u64) {
        if (self.syms.len() + 1) * 2 > self.index.len() {
            let cap = self.index.len() * 2;
            let (mask, shift) = (cap - 1, index_shift(cap));
            let mut index = vec![0u32; cap];
            for (j, sym) in self.syms.iter().enumerate() {
                let mut i = (sym.key.hash() >> shift) as usize;
                while index[i] != 0 {
                    i = (i + 1) & mask;
                }
                index[i] = (j + 1) as u32;
            }
            slot = (key.hash() >> shift) as usize;
            while index[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            self.index = index;
        }
        let len = key.bytes().iter().take_while(|&&b| b != 0).count() as u8;
        self.syms.push(Symbol {
            key,
            len,
            count: 1,
            quantity,
            min_price: price,
            max_price: price,
            sum_pq: price * quantity as f64,
        });
        self.index[slot] = self.syms.len() as u32;
    }

    /// Appends the answer of contracts/csv.md: symbols sorted bytewise, no white space.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut order: Vec<(&Symbol, [u8; 16])> =
            self.syms.iter().map(|s| (s, s.key.bytes())).collect();
        order.sort_unstable_by_key(|a| a.1);
        out.reserve(32 + 160 * order.len());
        out.extend_from_slice(br#"{"rows":"#);
        put_u64(out, self.rows);
        out.extend_from_slice(br#","symbols":["#);
        for (i, (s, bytes)) in order.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(br#"{"symbol":""#);
            out.extend_from_slice(&bytes[..usize::from(s.len)]); // [A-Za-z0-9._-]: nothing to escape
            out.extend_from_slice(br#"","count":"#);
            put_u64(out, s.count);
            out.extend_from_slice(br#","quantity":"#);
            put_u64(out, s.quantity);
            out.extend_from_slice(br#","min_price":"#);
            fmt6(out, s.min_price);
            out.extend_from_slice(br#","max_price":"#);
            fmt6(out, s.max_price);
            out.extend_from_slice(br#","vwap":"#);
            fmt6(out, s.sum_pq / s.quantity as f64);
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
    }
}

/// `v` in decimal.
fn put_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// `v` with exactly six decimals, as `printf("%.6f")` writes it: v = m × 2^e exactly, so
/// v × 10^6 = m × 10^6 × 2^e, an integer (m × 10^6 < 2^73) shifted right by -e, rounded half
/// to even on the bits shifted out. Values that would need more than 18 digits, and negative
/// ones, go to `format!("{:.6}")`, correctly rounded too.
fn fmt6(out: &mut Vec<u8>, v: f64) {
    let bits = v.to_bits();
    if !(0.0..1e12).contains(&v) || bits >> 63 != 0 {
        out.extend_from_slice(format!("{v:.6}").as_bytes());
        return;
    }
    let mut m = bits & ((1 << 52) - 1);
    let be = (bits >> 52) as u32;
    let shift = if be != 0 { 1075 - be } else { 1074 }; // v < 2^40: always > 0
    if be != 0 {
        m |= 1 << 52;
    }
    let n = u128::from(m) * 1_000_000;
    let x = if shift >= 128 {
        0 // below 2^-55: rounds to 0
    } else {
        let half = 1u128 << (shift - 1);
        let rem = n & ((half << 1) - 1);
        let x = (n >> shift) as u64;
        x + u64::from(rem > half || (rem == half && x & 1 == 1))
    };
    put_u64(out, x / 1_000_000);
    out.push(b'.');
    let mut frac = x % 1_000_000;
    let mut six = [0u8; 6];
    for d in six.iter_mut().rev() {
        *d = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    out.extend_from_slice(&six);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` at the start of a window, the rest NUL (as `slow_field` pads values).
    fn win(text: &[u8]) -> Window {
        let mut w = [0; MATCH_READ];
        w[..text.len()].copy_from_slice(text);
        w
    }

    #[test]
    fn digit_words() {
        for (text, run) in [
            (&b"12345678"[..], 8),
            (b"1234a678", 4),
            (b"x", 0),
            (b"9\x00", 1),
        ] {
            assert_eq!(digit_run(load8(&win(text), 0)), run, "{text:?}");
        }
        for n in 1..=8 {
            let w = load8(b"98765432", 0);
            assert_eq!(digits_value(w, n), "98765432"[..n].parse::<u64>().unwrap());
        }
    }

    #[test]
    fn timestamps() {
        for t in [
            &b"0"[..],
            b"123456789012345",
            b"2026-11-23T08:15:30Z",
            b"2024-02-29T23:59:59.123456789+23:59",
            b"2026-11-23T08:15:30.1-05:30",
            b"2000-02-29T00:00:00Z",
            b"1999-12-31T00:00:00.1234567Z",
            b"1999-12-31T00:00:00.12345678Z",
            b"1999-12-31T00:00:00+00:00",
        ] {
            assert_eq!(
                match_timestamp(&win(t)),
                Some(t.len()),
                "{}",
                String::from_utf8_lossy(t)
            );
        }
        for t in [
            &b""[..],
            b"1234567890123456",
            b"2026-13-01T00:00:00Z",
            b"2026-00-01T00:00:00Z",
            b"2026-02-29T00:00:00Z",
            b"1900-02-29T00:00:00Z",
            b"2026-04-31T00:00:00Z",
            b"2026-01-01T24:00:00Z",
            b"2026-01-01T00:60:00Z",
            b"2026-01-01T00:00:60Z",
            b"2026-01-01T00:00:00",
            b"2026-01-01T00:00:00.Z",
            b"2026-01-01T00:00:00.1234567890Z",
            b"2026-01-01T00:00:00+24:00",
            b"2026-01-01T00:00:00+00:60",
            b"2026-01-01 00:00:00Z",
            b"2026-1-01T00:00:00Z",
        ] {
            let got = match_timestamp(&win(t));
            assert!(
                got != Some(t.len()),
                "{} accepted",
                String::from_utf8_lossy(t)
            );
        }
    }

    #[test]
    fn the_fixed_part_of_a_timestamp_by_vector_and_by_word() {
        let good = *b"2026-11-23T08:15:30";
        let mut t = good;
        let alphabet = b"0123456789-T:Z .a\x00\xff";
        for i in 0..t.len() {
            for &c in alphabet {
                t[i] = c;
                let w = win(&t);
                let both = match_rfc3339(&w);
                let words = swar_rfc3339_fixed(&w)
                    .then(|| {
                        let t0 = digit_pairs(load8(&w, 0));
                        let t1 = digit_pairs(load8(&w, 8));
                        let bad = pair(t1, 3) >= 24
                            || bad_date(pair(t0, 0) * 100 + pair(t0, 2), pair(t0, 5), pair(t1, 0));
                        (!bad).then(|| match_rfc3339_tail(&w, 19)).flatten()
                    })
                    .flatten();
                assert_eq!(both, words, "{}", String::from_utf8_lossy(&t));
            }
            t[i] = good[i];
        }
    }

    #[test]
    fn symbols_by_vector_and_by_byte() {
        for b in 0..=255u8 {
            for n in 0..=17 {
                let mut text = vec![b'A'; n];
                text.push(b);
                let w = win(&text);
                let bytewise = symbol_len(&w);
                #[cfg(target_arch = "x86_64")]
                assert_eq!(sse2::symbol_len(&w), bytewise, "{n} then {b:#x}");
                let want = if SYMBOL_CHAR[usize::from(b)] {
                    (n + 1).min(16)
                } else {
                    n.min(16)
                };
                assert_eq!(bytewise, want);
            }
        }
        assert_eq!(
            match_symbol(&win(b"AAPL,")).map(|(n, k)| (n, k.bytes())),
            Some((4, *b"AAPL\0\0\0\0\0\0\0\0\0\0\0\0"))
        );
        assert_eq!(
            match_symbol(&win(b"ABCDEFGHIJKLMNOP")).map(|(n, _)| n),
            Some(16)
        );
        assert_eq!(match_symbol(&win(b"ABCDEFGHIJKLMNOPQ")), None);
        assert_eq!(match_symbol(&win(b",")), None);
    }

    #[test]
    fn prices() {
        for (text, want) in [
            ("187.25", 187.25),
            ("0", 0.0),
            ("1", 1.0),
            ("9999999999", 9999999999.0),
            ("9999999999.99999999", 9999999999.99999999),
            ("0.1", 0.1),
            ("123456.7", 123456.7),
            ("1234567.8", 1234567.8),
            ("12.34567", 12.34567),
            ("1.2345678", 1.2345678),
            ("00000001.00000001", 1.00000001),
            ("12345678.12345678", 12345678.12345678),
            ("0.00000001", 0.00000001),
        ] {
            assert_eq!(
                match_price(&win(text.as_bytes())),
                Some((text.len(), want)),
                "{text}"
            );
        }
        for text in ["", ".5", "1.", "12345678901", "1.123456789", "-1", "1e5"] {
            let got = match_price(&win(text.as_bytes())).map(|(n, _)| n);
            assert!(got != Some(text.len()), "{text} accepted");
        }
    }

    #[test]
    fn quantities() {
        for (text, want) in [
            ("1", 1),
            ("100", 100),
            ("999999999", 999999999),
            ("00000001", 1),
        ] {
            assert_eq!(
                match_quantity(&win(text.as_bytes())),
                Some((text.len(), want)),
                "{text}"
            );
        }
        for text in ["0", "000000000", "", "1234567890"] {
            let got = match_quantity(&win(text.as_bytes())).map(|(n, _)| n);
            assert!(got != Some(text.len()), "{text} accepted");
        }
    }

    #[test]
    fn six_decimals_as_printf() {
        for v in [
            0.0,
            1.0,
            187.333333333,
            0.0000005,
            0.0000015,
            0.0000025,
            1e-300,
            5e-324,
            2.5e-7,
            9999999999.99999999,
            411.0,
            0.1,
            0.125,
            1234.5678905,
            1e11 + 0.5,
            3.0000005,
        ] {
            let mut out = Vec::new();
            fmt6(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), format!("{v:.6}"), "{v:e}");
        }
    }

    #[test]
    fn find_special_and_quote_lf_by_vector_and_by_byte() {
        let mut s = vec![b'a'; 50];
        for at in 0..s.len() {
            for c in [b',', b'"', b'\r', b'\n', b'x'] {
                s[at] = c;
                for p in 0..=at {
                    let special = (p..s.len())
                        .find(|&i| matches!(s[i], b',' | b'"' | b'\r' | b'\n'))
                        .unwrap_or(s.len());
                    let quote_lf = (p..s.len())
                        .find(|&i| matches!(s[i], b'"' | b'\n'))
                        .unwrap_or(s.len());
                    assert_eq!(find_special(&s, p), special);
                    assert_eq!(find_quote_lf(&s, p), quote_lf);
                }
            }
            s[at] = b'a';
        }
    }

    fn answer(body: &[u8]) -> Result<String, Invalid> {
        let mut a = Aggregate::default();
        a.add_body(body)?;
        let mut out = Vec::new();
        a.write_json(&mut out);
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn the_contracts_example() {
        let body = b"timestamp,symbol,price,quantity\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n2026-11-23T08:15:31Z,MSFT,411,10\n1795422931000,AAPL,187.50,50\n";
        assert_eq!(
            answer(body).unwrap(),
            r#"{"rows":3,"symbols":[{"symbol":"AAPL","count":2,"quantity":150,"min_price":187.250000,"max_price":187.500000,"vwap":187.333333},{"symbol":"MSFT","count":1,"quantity":10,"min_price":411.000000,"max_price":411.000000,"vwap":411.000000}]}"#
        );
    }

    #[test]
    fn many_symbols_grow_the_table_and_reset_clears_it() {
        let mut body = Vec::new();
        for i in 0..5000 {
            body.extend_from_slice(format!("1,S{i},1.5,{}\n", i + 1).as_bytes());
        }
        let mut a = Aggregate::default();
        a.add_body(&body).unwrap();
        assert_eq!((a.rows, a.syms.len()), (5000, 5000));
        assert!(a.index.len() >= 10000);
        a.reset();
        a.add_body(b"1,A,1,1\n1,A,2,1\n").unwrap();
        let mut out = Vec::new();
        a.write_json(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"rows":2,"symbols":[{"symbol":"A","count":2,"quantity":2,"min_price":1.000000,"max_price":2.000000,"vwap":1.500000}]}"#
        );
        a.reset();
        assert!(a.index.iter().all(|&s| s == 0));
    }
}
