//! The `csv` workload (contracts/csv.md): `POST /csv` parses a body of RFC 4180 trades
//! `timestamp,symbol,price,quantity` and answers their aggregate per symbol (count, quantity,
//! min/max price, VWAP); `GET /health` answers `{"status":"ok"}`.
//!
//! Two tiers (see `tier`), with the same answers byte for byte, errors included: `tuned` is
//! the C service's one-pass kernel (`tuned` module); `idiomatic`, below, is what a Rust team
//! writes first, on the `csv` crate.
//!
//! # Reading the body: the `csv` crate, and what it does not check
//!
//! Records come from `csv::Reader` (`has_headers(false)`: the header is recognised by its
//! content; `flexible(true)`: the field count is checked here, to report the contract's error),
//! read into one reused `ByteRecord`. The crate is lenient where the contract is strict, so
//! each record is also looked at in the body itself, between the reader's byte positions before
//! and after it was read:
//!
//! - The terminator is `Terminator::Any(b'\n')`, not the default `CRLF`: the default also ends a
//!   record on a lone CR, which the contract keeps as data. With LF alone, a CRLF line end leaves
//!   its CR at the end of the record's last field (unquoted `100\r`, or quoted `"100"\r`, where
//!   the crate appends what follows a closing quote); when the record's bytes end with CR LF,
//!   that CR is cut from the last field. A line holding only CR LF comes as a record of one
//!   field `"\r"`: its bytes are exactly CR LF, so it is skipped as the empty line it is (a
//!   quoted `""` line has other bytes and is a record).
//! - The crate accepts a `"` inside an unquoted field, text after a closing quote (both kept as
//!   data), and a quoted field never closed (read to the end of the body). A record whose bytes
//!   hold a `"` is therefore walked once more by `check_quotes`, a small loop with the
//!   contract's grammar, which finds the first field with a bare or unterminated quote. Up to
//!   that field the crate and the contract split the record alike, so the fields before it are
//!   the crate's.
//! - csv-core skips a UTF-8 byte order mark at the start of the body; to the contract it is
//!   data, so a body that starts with one is answered before the reader sees it.
//! - Lines: the reader's position before a read is where the previous record ended; empty LF
//!   lines skipped by the crate come first in the record's bytes. The record's line is the
//!   position's line plus those skipped LFs (the crate counts every LF it consumes, quoted ones
//!   included, as the contract does).
//!
//! # Rows: validated bytes, not serde
//!
//! Each field is checked against the contract's grammar with a small byte loop, left to right,
//! then read: the price with `str::parse::<f64>` (correctly rounded), the quantity, nine digits
//! at most, by folding its digits.
//! Deserializing rows with serde (`record.deserialize::<Trade>()`) would parse every field at
//! once with grammars wider than the contract's (`1e5`, `inf`, `+1` are fine `f64`s) and would
//! report one error for the whole row: the fields need the byte checks anyway, in order, and
//! after them serde would only parse a second time. serde serializes the error answers.
//!
//! # Which error is reported
//!
//! The first one in the body. Within a record, fields are checked as they complete, left to
//! right: a bad or unterminated quote is an error of the field it is in, found before that
//! field completes (so before its value is checked, and after the fields before it were); a
//! fifth field is an error as soon as it starts (`wrong field count`, column 5), unless one of
//! the first four failed; a record of k < 4 fields fails at column k + 1 after its k fields
//! were checked. The first record is the header when it has no quote error and is exactly the
//! four names (ASCII case-insensitive, after unquoting); otherwise it is a trade like any
//! other.

pub mod tuned;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use csv::{ByteRecord, ReaderBuilder, Terminator};
use serde::Serialize;

use crate::server::{self, AnswerBuf, Recycler};
use crate::tier::Tier;

/// The default largest request body: 16 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 16 << 20;

/// The header record, compared ASCII case-insensitively.
const HEADER: [&[u8]; 4] = [b"timestamp", b"symbol", b"price", b"quantity"];

#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Largest request body, in bytes.
    pub body_limit: usize,
    pub tier: Tier,
}

pub fn router(config: Config) -> Router {
    let csv = match config.tier {
        Tier::Idiomatic => post(csv).with_state(config),
        Tier::Tuned => post(csv_tuned).with_state(Arc::new(Tuned {
            body_limit: config.body_limit,
            aggregates: Recycler::new(64, tuned::Aggregate::worth_keeping),
            buffers: server::buffers(),
        })),
    };
    Router::new()
        .route("/csv", server::only("POST", csv))
        .route("/health", server::health_route())
        .layer(DefaultBodyLimit::max(config.body_limit))
}

/// What the tuned handler keeps from one request to the next.
struct Tuned {
    body_limit: usize,
    /// Symbol tables, reset and reused.
    aggregates: Recycler<tuned::Aggregate>,
    /// The answers' buffers.
    buffers: Arc<Recycler<Vec<u8>>>,
}

/// `POST /csv`, tuned: the body read once, parsed and aggregated in one pass into a recycled
/// symbol table, the answer written into a recycled buffer.
async fn csv_tuned(State(t): State<Arc<Tuned>>, request: Request) -> Response {
    let body = match server::read_body(request, t.body_limit).await {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    let mut aggregate = t.aggregates.take();
    aggregate.reset();
    let answer = match aggregate.add_body(&body) {
        Ok(()) => {
            let mut out = AnswerBuf::take(&t.buffers);
            aggregate.write_json(out.vec());
            server::json(out.into_bytes())
        }
        Err(invalid) => invalid_answer(&invalid),
    };
    t.aggregates.give(aggregate);
    answer
}

/// 400 `{"error":"invalid_csv","line":L,"column":C,"reason":"..."}`.
fn invalid_answer(invalid: &Invalid) -> Response {
    let body = InvalidCsv {
        error: "invalid_csv",
        line: invalid.line,
        column: invalid.column,
        reason: invalid.reason.text(),
    };
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

#[derive(Serialize)]
struct InvalidCsv {
    error: &'static str,
    line: u64,
    column: usize,
    reason: &'static str,
}

async fn csv(State(config): State<Config>, request: Request) -> Response {
    let body = match server::read_body(request, config.body_limit).await {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    // The parse runs on the runtime's worker: it is the CPU work the request is for, bounded by
    // the body limit, and the runtime has one worker per CPU (a blocking pool would only add a
    // thread hop and more threads than CPUs).
    match aggregate(&body) {
        Ok(summary) => server::json(summary.to_json()),
        Err(invalid) => invalid_answer(&invalid),
    }
}

/// Why a record is invalid: the contract's reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    UnterminatedQuote,
    BareQuote,
    WrongFieldCount,
    BadTimestamp,
    BadSymbol,
    BadPrice,
    BadQuantity,
}

impl Reason {
    pub const fn text(self) -> &'static str {
        match self {
            Reason::UnterminatedQuote => "unterminated quote",
            Reason::BareQuote => "bare quote",
            Reason::WrongFieldCount => "wrong field count",
            Reason::BadTimestamp => "bad timestamp",
            Reason::BadSymbol => "bad symbol",
            Reason::BadPrice => "bad price",
            Reason::BadQuantity => "bad quantity",
        }
    }
}

/// The first error of a body: the 1-based line where its record starts, the 1-based number of
/// the field at fault, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct Invalid {
    pub line: u64,
    pub column: usize,
    pub reason: Reason,
}

/// One symbol's trades.
#[derive(Debug, Clone, Copy)]
struct Agg {
    count: u64,
    quantity: u64,
    min_price: f64,
    max_price: f64,
    /// Σ price × quantity, added in body order.
    sum_pq: f64,
}

impl Agg {
    fn new(price: f64, quantity: u64) -> Agg {
        Agg {
            count: 1,
            quantity,
            min_price: price,
            max_price: price,
            sum_pq: price * quantity as f64,
        }
    }

    fn add(&mut self, price: f64, quantity: u64) {
        self.count += 1;
        self.quantity += quantity;
        self.min_price = self.min_price.min(price);
        self.max_price = self.max_price.max(price);
        // One multiplication, then one addition: Rust never fuses them into an FMA by itself.
        self.sum_pq += price * quantity as f64;
    }

    fn vwap(&self) -> f64 {
        self.sum_pq / self.quantity as f64
    }
}

/// The trades of a valid body, per symbol.
#[derive(Debug, Default)]
pub struct Summary {
    rows: u64,
    symbols: HashMap<Box<[u8]>, Agg>,
}

impl Summary {
    fn add(&mut self, symbol: &[u8], price: f64, quantity: u64) {
        self.rows += 1;
        match self.symbols.get_mut(symbol) {
            Some(agg) => agg.add(price, quantity),
            None => {
                self.symbols
                    .insert(symbol.into(), Agg::new(price, quantity));
            }
        }
    }

    /// The answer: symbols sorted bytewise, prices and VWAP with `{:.6}` (correctly rounded,
    /// ties to even, as `printf("%.6f")`), no white space.
    pub fn to_json(&self) -> String {
        let mut symbols: Vec<(&[u8], &Agg)> = self.symbols.iter().map(|(s, a)| (&**s, a)).collect();
        symbols.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut out = String::with_capacity(32 + 128 * symbols.len());
        // Writing to a String cannot fail.
        let _ = write!(out, r#"{{"rows":{},"symbols":["#, self.rows);
        for (i, (symbol, a)) in symbols.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Validated `[A-Za-z0-9._-]`: ASCII, and nothing to escape in JSON.
            let symbol = std::str::from_utf8(symbol).expect("a symbol is ASCII");
            let _ = write!(
                out,
                r#"{{"symbol":"{symbol}","count":{},"quantity":{},"min_price":{:.6},"max_price":{:.6},"vwap":{:.6}}}"#,
                a.count,
                a.quantity,
                a.min_price,
                a.max_price,
                a.vwap()
            );
        }
        out.push_str("]}");
        out
    }
}

/// Parses `body` (contracts/csv.md) and aggregates its trades, or tells the first error.
pub fn aggregate(body: &[u8]) -> Result<Summary, Invalid> {
    // csv-core skips a UTF-8 byte order mark at the start of its input. To the contract those
    // three bytes are data: the start of the first field of line 1, which makes that record a
    // trade (not the header) whose timestamp is bad, unless a `"` comes before the field ends.
    if let Some(rest) = body.strip_prefix(b"\xef\xbb\xbf") {
        let reason = match memchr::memchr3(b',', b'\n', b'"', rest) {
            Some(k) if rest[k] == b'"' => Reason::BareQuote,
            _ => Reason::BadTimestamp,
        };
        return Err(Invalid {
            line: 1,
            column: 1,
            reason,
        });
    }
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .terminator(Terminator::Any(b'\n'))
        .from_reader(body);
    let mut record = ByteRecord::new();
    let mut summary = Summary::default();
    let mut first = true;
    loop {
        let before = reader.position().clone();
        // Reading from memory has no I/O error, `flexible` rules out the length error and byte
        // records have no UTF-8 one: the crate has nothing else to report.
        let more = reader
            .read_byte_record(&mut record)
            .expect("a csv::Reader over bytes in memory, flexible, reports no error");
        if !more {
            break;
        }
        let start = before.byte() as usize;
        let end = reader.position().byte() as usize;
        let raw = &body[start..end];
        // The empty LF lines the crate skipped before the record.
        let skipped = raw.iter().take_while(|&&b| b == b'\n').count();
        let raw = &raw[skipped..];
        if raw == b"\r\n" {
            continue; // an empty CRLF line
        }
        let line = before.line() + skipped as u64;
        let fail = |column, reason| Invalid {
            line,
            column,
            reason,
        };

        let quote_error = if memchr::memchr(b'"', raw).is_some() {
            check_quotes(raw)
        } else {
            None
        };
        // The fields that completed: all of them, or those before a quote error.
        let complete = quote_error.map_or(record.len(), |(column, _)| column - 1);
        let crlf = raw.ends_with(b"\r\n");
        let last = record.len() - 1;
        let field = |i: usize| -> &[u8] {
            let f = &record[i];
            match f.strip_suffix(b"\r") {
                Some(cut) if crlf && i == last => cut, // the CR of the CRLF line end
                _ => f,
            }
        };

        if std::mem::take(&mut first)
            && quote_error.is_none()
            && record.len() == HEADER.len()
            && (0..HEADER.len()).all(|i| field(i).eq_ignore_ascii_case(HEADER[i]))
        {
            continue;
        }

        // Left to right, each field as it completes (columns are 1-based).
        let n = complete.min(4);
        if n >= 1 && !is_timestamp(field(0)) {
            return Err(fail(1, Reason::BadTimestamp));
        }
        let symbol = if n >= 2 {
            Some(symbol(field(1)).ok_or_else(|| fail(2, Reason::BadSymbol))?)
        } else {
            None
        };
        let price = if n >= 3 {
            Some(price(field(2)).ok_or_else(|| fail(3, Reason::BadPrice))?)
        } else {
            None
        };
        let quantity = if n >= 4 {
            Some(quantity(field(3)).ok_or_else(|| fail(4, Reason::BadQuantity))?)
        } else {
            None
        };
        match quote_error {
            Some((column, reason)) if column <= 4 => return Err(fail(column, reason)),
            Some(_) => return Err(fail(5, Reason::WrongFieldCount)),
            None => {}
        }
        let (Some(symbol), Some(price), Some(quantity)) = (symbol, price, quantity) else {
            return Err(fail(record.len() + 1, Reason::WrongFieldCount));
        };
        if record.len() > 4 {
            return Err(fail(5, Reason::WrongFieldCount));
        }
        summary.add(symbol, price, quantity);
    }
    Ok(summary)
}

/// The first quote error of one record's bytes (line end included, if any), by the contract's
/// grammar: the 1-based number of the field it is in, and the reason. A quoted field starts
/// with `"` and ends at the next `"` that is not doubled, followed by `,`, a line end or the end
/// of the body; an unquoted field has no `"`.
fn check_quotes(raw: &[u8]) -> Option<(usize, Reason)> {
    let mut i = 0;
    let mut column = 1;
    loop {
        if raw.get(i) == Some(&b'"') {
            i += 1;
            loop {
                match memchr::memchr(b'"', &raw[i..]) {
                    None => return Some((column, Reason::UnterminatedQuote)),
                    Some(k) if raw.get(i + k + 1) == Some(&b'"') => i += k + 2, // `""`
                    Some(k) => {
                        i += k + 1;
                        break;
                    }
                }
            }
            match &raw[i..] {
                [] | [b'\n', ..] | [b'\r', b'\n', ..] => return None,
                [b',', ..] => i += 1,
                _ => return Some((column, Reason::BareQuote)),
            }
        } else {
            match memchr::memchr3(b',', b'\n', b'"', &raw[i..]) {
                None => return None,
                Some(k) => match raw[i + k] {
                    b',' => i += k + 1,
                    b'\n' => return None,
                    _ => return Some((column, Reason::BareQuote)),
                },
            }
        }
        column += 1;
    }
}

/// `[0-9]{1,15}` (epoch milliseconds), or `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)` with a real
/// date and time.
fn is_timestamp(b: &[u8]) -> bool {
    if b.iter().all(u8::is_ascii_digit) {
        return (1..=15).contains(&b.len());
    }
    // Two digits at b[i..i + 2] as a number, if they are digits.
    let num = |i: usize| -> Option<u32> {
        match b.get(i..i + 2)? {
            [h @ b'0'..=b'9', l @ b'0'..=b'9'] => {
                Some(u32::from(h - b'0') * 10 + u32::from(l - b'0'))
            }
            _ => None,
        }
    };
    let (Some(c), Some(y), Some(month), Some(day)) = (num(0), num(2), num(5), num(8)) else {
        return false;
    };
    let (Some(hour), Some(minute), Some(second)) = (num(11), num(14), num(17)) else {
        return false;
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return false;
    }
    let year = c * 100 + y;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if !(1..=days).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return false;
    }
    let mut rest = &b[19..];
    if let [b'.', tail @ ..] = rest {
        let digits = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=9).contains(&digits) {
            return false;
        }
        rest = &tail[digits..];
    }
    match rest {
        b"Z" => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            let two = |h: u8, l: u8| {
                (h.is_ascii_digit() && l.is_ascii_digit())
                    .then(|| u32::from(h - b'0') * 10 + u32::from(l - b'0'))
            };
            matches!((two(*h1, *h2), two(*m1, *m2)), (Some(h), Some(m)) if h <= 23 && m <= 59)
        }
        _ => false,
    }
}

/// `[A-Za-z0-9._-]{1,16}`. Kept as bytes: made a `str` only when written.
fn symbol(b: &[u8]) -> Option<&[u8]> {
    let ok = (1..=16).contains(&b.len())
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
    ok.then_some(b)
}

/// `[0-9]{1,10}(\.[0-9]{1,8})?`, read as the nearest double.
fn price(b: &[u8]) -> Option<f64> {
    let whole = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=10).contains(&whole) {
        return None;
    }
    match &b[whole..] {
        [] => {}
        [b'.', frac @ ..] => {
            if !(1..=8).contains(&frac.len()) || !frac.iter().all(u8::is_ascii_digit) {
                return None;
            }
        }
        _ => return None,
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// `[0-9]{1,9}`, at least 1.
fn quantity(b: &[u8]) -> Option<u64> {
    if !(1..=9).contains(&b.len()) || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Nine digits at most: no overflow. (`str::parse` would want the bytes checked as UTF-8
    // first, which costs more than this loop.)
    let q = b.iter().fold(0, |q, d| q * 10 + u64::from(d - b'0'));
    (q >= 1).then_some(q)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod reference_tests;
