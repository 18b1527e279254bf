//! The `csv` workload (contracts/csv.md): `POST /csv` parses a body of RFC 4180 trades
//! `timestamp,symbol,price,quantity` and answers their aggregate per symbol (count, quantity,
//! min/max price, VWAP); `GET /health` answers `{"status":"ok"}`.
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

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use csv::{ByteRecord, ReaderBuilder, Terminator};
use serde::Serialize;

use crate::server;

/// The default largest request body: 16 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 16 << 20;

/// The header record, compared ASCII case-insensitively.
const HEADER: [&[u8]; 4] = [b"timestamp", b"symbol", b"price", b"quantity"];

#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Largest request body, in bytes.
    pub body_limit: usize,
}

pub fn router(config: Config) -> Router {
    Router::new()
        .route("/csv", server::only("POST", post(csv)))
        .route("/health", server::health_route())
        .layer(DefaultBodyLimit::max(config.body_limit))
        .with_state(config)
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
        Err(invalid) => {
            let body = InvalidCsv {
                error: "invalid_csv",
                line: invalid.line,
                column: invalid.column,
                reason: invalid.reason.text(),
            };
            (StatusCode::BAD_REQUEST, Json(body)).into_response()
        }
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
mod tests {
    use super::*;

    /// The three trades of the contract's example, and the answer they give.
    const TRADES: &str = "2026-11-23T08:15:30.123Z,AAPL,187.25,100\n\
                          2026-11-23T08:15:31Z,MSFT,411,10\n\
                          1795422931000,AAPL,187.50,50\n";
    const EXAMPLE: &str = r#"{"rows":3,"symbols":[{"symbol":"AAPL","count":2,"quantity":150,"min_price":187.250000,"max_price":187.500000,"vwap":187.333333},{"symbol":"MSFT","count":1,"quantity":10,"min_price":411.000000,"max_price":411.000000,"vwap":411.000000}]}"#;

    fn ok(body: &str) -> String {
        match aggregate(body.as_bytes()) {
            Ok(summary) => summary.to_json(),
            Err(e) => panic!("{body:?} rejected: {e:?}"),
        }
    }

    /// (line, column, reason) of the error of `body`.
    fn bad(body: &[u8]) -> (u64, usize, &'static str) {
        match aggregate(body) {
            Ok(summary) => panic!("{body:?} accepted as {}", summary.to_json()),
            Err(e) => (e.line, e.column, e.reason.text()),
        }
    }

    /// One symbol `X` with these prices and quantities: (min, max, vwap) as answered.
    fn prices(rows: &[(&str, &str)]) -> String {
        let body: String = rows.iter().map(|(p, q)| format!("1,X,{p},{q}\n")).collect();
        let json = ok(&body);
        let at = json.find("\"min_price\":").unwrap();
        json[at..json.len() - 3].to_owned()
    }

    #[test]
    fn the_contract_example_byte_for_byte() {
        // 01: with a header; 02: without
        assert_eq!(
            ok(&format!("timestamp,symbol,price,quantity\n{TRADES}")),
            EXAMPLE
        );
        assert_eq!(ok(TRADES), EXAMPLE);
    }

    #[test]
    fn the_header_in_any_case_is_skipped_once() {
        // 03
        assert_eq!(
            ok(&format!("TimeStamp,SYMBOL,Price,quantity\n{TRADES}")),
            EXAMPLE
        );
        assert_eq!(
            ok(&format!("TIMESTAMP,SYMBOL,PRICE,QUANTITY\r\n{TRADES}")),
            EXAMPLE
        );
        // quoted fields are unquoted before the comparison, like any field's
        assert_eq!(
            ok(&format!(
                "\"timestamp\",symbol,\"price\",quantity\n{TRADES}"
            )),
            EXAMPLE
        );
        // the first record after empty lines is still the first record
        assert_eq!(
            ok(&format!(
                "\n\r\n\ntimestamp,symbol,price,quantity\n{TRADES}"
            )),
            EXAMPLE
        );
        // 11
        assert_eq!(
            ok("timestamp,symbol,price,quantity\n"),
            r#"{"rows":0,"symbols":[]}"#
        );
        assert_eq!(
            ok("timestamp,symbol,price,quantity"),
            r#"{"rows":0,"symbols":[]}"#
        );
        assert_eq!(
            ok("timestamp,symbol,price,quantity\r\n"),
            r#"{"rows":0,"symbols":[]}"#
        );
    }

    #[test]
    fn anything_but_the_exact_header_first_is_a_trade() {
        // a second header is a trade
        assert_eq!(
            bad(format!(
                "timestamp,symbol,price,quantity\n{TRADES}timestamp,symbol,price,quantity\n"
            )
            .as_bytes()),
            (5, 1, "bad timestamp")
        );
        assert_eq!(
            bad(format!("{TRADES}timestamp,symbol,price,quantity\n").as_bytes()),
            (4, 1, "bad timestamp")
        );
        for header in [
            "timestamp,symbol,price,quantity,x",
            "timestamp,symbol,price",
            "timestamp ,symbol,price,quantity",
            " timestamp,symbol,price,quantity",
            "timestamp;symbol;price;quantity",
            "\u{feff}timestamp,symbol,price,quantity",
            "timestamp,symbol,quantity,price",
            // a record with a quote error is not exactly the header: its first field fails
            // before the quote error is reached
            "timestamp,sym\"bol,price,quantity",
            "timestamp,symbol,price,\"quantity",
            "timestamp,symbol,price,quantity\"",
            "timestamp,symbol,price,quantity\r\r", // then LF: CR CR LF, the field is `quantity\r`
        ] {
            assert_eq!(
                bad(format!("{header}\n{TRADES}").as_bytes()),
                (1, 1, "bad timestamp"),
                "{header:?}"
            );
        }
    }

    #[test]
    fn quoted_fields_are_unquoted() {
        // 04
        let body = "timestamp,symbol,price,quantity\n\
                    \"2026-11-23T08:15:30.123Z\",\"AAPL\",187.25,\"100\"\n\
                    2026-11-23T08:15:31Z,MSFT,\"411\",10\n\
                    1795422931000,\"AAPL\",\"187.50\",50\n";
        assert_eq!(ok(body), EXAMPLE);
        // quoted then CRLF, quoted last field without a line end
        let body = "\"2026-11-23T08:15:30.123Z\",AAPL,187.25,\"100\"\r\n\
                    2026-11-23T08:15:31Z,\"MSFT\",411,\"10\"\r\n\
                    1795422931000,AAPL,187.50,\"50\"";
        assert_eq!(ok(body), EXAMPLE);
        // `""` is one quote; `,`, CR and LF are data inside quotes
        assert_eq!(bad(b"1,\"A\"\"B\",1,1\n"), (1, 2, "bad symbol"));
        assert_eq!(bad(b"1,A,\"1,5\",1\n"), (1, 3, "bad price"));
        assert_eq!(bad(b"1,A,1,\"1\r\"\n"), (1, 4, "bad quantity"));
        assert_eq!(bad(b"1,A,1,\"1\n\"\n"), (1, 4, "bad quantity"));
        // an empty quoted field is a field, and a line of `""` is a record
        assert_eq!(bad(b"1,\"\",1,1\n"), (1, 2, "bad symbol"));
        assert_eq!(bad(b"1,A,1,1\n\"\"\n"), (2, 1, "bad timestamp"));
        assert_eq!(bad(b"1,A,1,1\n\"\"\r\n"), (2, 1, "bad timestamp"));
    }

    #[test]
    fn line_ends_lf_crlf_and_empty_lines() {
        // 05
        let crlf = "timestamp,symbol,price,quantity\r\n\
                    2026-11-23T08:15:30.123Z,AAPL,187.25,100\r\n\
                    2026-11-23T08:15:31Z,MSFT,411,10\r\n\
                    1795422931000,AAPL,187.50,50";
        assert_eq!(ok(crlf), EXAMPLE);
        assert_eq!(ok(&format!("{crlf}\r\n")), EXAMPLE);
        // 06
        let body = "\ntimestamp,symbol,price,quantity\n\n\r\n\
                    2026-11-23T08:15:30.123Z,AAPL,187.25,100\n\n\
                    2026-11-23T08:15:31Z,MSFT,411,10\r\n\r\n\
                    1795422931000,AAPL,187.50,50\n\n";
        assert_eq!(ok(body), EXAMPLE);
        // 10, and bodies of empty lines only
        for body in ["", "\n", "\r\n", "\n\n\r\n\n", "\r\n\r\n"] {
            assert_eq!(ok(body), r#"{"rows":0,"symbols":[]}"#, "{body:?}");
        }
    }

    #[test]
    fn a_byte_order_mark_is_data() {
        // csv-core would skip it (and see the header); to the contract it starts field 1
        for body in [
            &b"\xef\xbb\xbftimestamp,symbol,price,quantity\n1,A,1,1\n"[..],
            b"\xef\xbb\xbf1,A,1,1\n",
            b"\xef\xbb\xbf",
            b"\xef\xbb\xbf\n1,A,1,1\n",
            b"\xef\xbb\xbf\r\n",
            b"\xef\xbb\xbf,A\",1,1\n",
        ] {
            assert_eq!(bad(body), (1, 1, "bad timestamp"), "{body:?}");
        }
        assert_eq!(bad(b"\xef\xbb\xbf\"1\",A,1,1\n"), (1, 1, "bare quote"));
        assert_eq!(bad(b"\xef\xbb\xbf1\"\n"), (1, 1, "bare quote"));
        // elsewhere it is data the crate keeps
        assert_eq!(
            bad(b"1,A,1,1\n\xef\xbb\xbf1,A,1,1\n"),
            (2, 1, "bad timestamp")
        );
        assert_eq!(bad(b"1,\xef\xbb\xbfA,1,1\n"), (1, 2, "bad symbol"));
    }

    #[test]
    fn a_lone_cr_is_data() {
        assert_eq!(bad(b"1,A,1,1\r2,B,1,1\n"), (1, 4, "bad quantity"));
        assert_eq!(bad(b"1,A\rB,1,1\n"), (1, 2, "bad symbol"));
        // a line of a CR alone is not empty: CR LF is its line end, CR is its field
        assert_eq!(bad(b"1,A,1,1\n\r\r\n"), (2, 1, "bad timestamp"));
        // nor is a CR at the very end of the body
        assert_eq!(bad(b"1,A,1,1\n\r"), (2, 1, "bad timestamp"));
        assert_eq!(bad(b"1,A,1,1\r"), (1, 4, "bad quantity"));
        // CR CR LF: only the last CR belongs to the line end
        assert_eq!(bad(b"1,A,1,1\r\r\n"), (1, 4, "bad quantity"));
    }

    #[test]
    fn timestamps() {
        // 07
        let body = "timestamp,symbol,price,quantity\n\
                    2028-02-29T23:59:59.999999999+05:30,X,1,1\n\
                    2026-11-23T00:00:00-23:59,X,2,1\n\
                    0,X,3,1\n\
                    999999999999999,X,4,1\n";
        assert_eq!(
            ok(body),
            r#"{"rows":4,"symbols":[{"symbol":"X","count":4,"quantity":4,"min_price":1.000000,"max_price":4.000000,"vwap":2.500000}]}"#
        );
        for good in [
            "0",
            "000000000000000",
            "2026-11-23T08:15:30Z",
            "2026-11-23T08:15:30.1Z",
            "2026-11-23T08:15:30.123456789Z",
            "2026-11-23T08:15:30+00:00",
            "2026-11-23T08:15:30.5-23:59",
            "2000-02-29T00:00:00Z",
            "2024-02-29T00:00:00Z",
            "0000-02-29T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2026-01-31T00:00:00Z",
            "2026-04-30T00:00:00Z",
        ] {
            assert!(is_timestamp(good.as_bytes()), "{good}");
            assert!(
                ok(&format!("{good},X,1,1")).starts_with(r#"{"rows":1,"#),
                "{good}"
            );
        }
        for wrong in [
            "",
            "1000000000000000",
            "-1",
            "+1",
            "1.5",
            "1e3",
            " 1",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "2026-01-32T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T23:60:00Z",
            "2026-11-23T23:59:60Z",
            "2026-11-23T08:15:30",
            "2026-11-23T08:15:30.Z",
            "2026-11-23T08:15:30.1234567890Z",
            "2026-11-23T08:15:30z",
            "2026-11-23t08:15:30Z",
            "2026-11-23 08:15:30Z",
            "2026-11-23T08:15Z",
            "2026-11-23T08:15:30ZZ",
            "2026-11-23T08:15:30Z ",
            "2026-11-23T08:15:30+24:00",
            "2026-11-23T08:15:30+23:60",
            "2026-11-23T08:15:30+0530",
            "2026-11-23T08:15:30+05",
            "2026-11-23T08:15:30+5:30",
            "2026-11-23T08:15:30.5+05:30Z",
            "26-11-23T08:15:30Z",
            "2026/11/23T08:15:30Z",
            "2026-1-23T08:15:30Z",
            "2026-11-23T8:15:30Z",
            "20261123T081530Z",
            "2026-11-23",
            "２026-11-23T08:15:30Z",
        ] {
            assert!(!is_timestamp(wrong.as_bytes()), "{wrong}");
            assert_eq!(
                bad(format!("{wrong},X,1,1\n").as_bytes()),
                (1, 1, "bad timestamp"),
                "{wrong}"
            );
        }
        // 25-28
        for ts in [
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-23T08:15:30",
            "2026-02-29T00:00:00Z",
        ] {
            let body = format!("timestamp,symbol,price,quantity\n{ts},AAPL,1.0,1\n");
            assert_eq!(bad(body.as_bytes()), (2, 1, "bad timestamp"), "{ts}");
        }
    }

    #[test]
    fn symbols() {
        for good in [
            "A",
            "ABCDEFGHIJKLMNOP",
            "brk.b",
            "RDS-A",
            "SAP_DE",
            "7203.T",
            "._-",
            "0",
        ] {
            assert_eq!(symbol(good.as_bytes()), Some(good.as_bytes()));
        }
        // 29-31, and more
        for wrong in [
            "AA PL",
            "ABCDEFGHIJKLMNOPQ",
            "",
            " AAPL",
            "AAPL ",
            "A/B",
            "A+B",
            "A:B",
            "É",
            "A\tB",
        ] {
            assert_eq!(symbol(wrong.as_bytes()), None, "{wrong}");
            let body = format!("timestamp,symbol,price,quantity\n1,{wrong},1.0,1\n");
            assert_eq!(bad(body.as_bytes()), (2, 2, "bad symbol"), "{wrong:?}");
        }
    }

    #[test]
    fn symbols_are_sorted_bytewise() {
        // 08
        let body =
            "timestamp,symbol,price,quantity\n1,b,1,1\n1,B,2,2\n1,a.1,3,3\n1,A,4,4\n1,_z-9,5,5\n";
        assert_eq!(
            ok(body),
            r#"{"rows":5,"symbols":[{"symbol":"A","count":1,"quantity":4,"min_price":4.000000,"max_price":4.000000,"vwap":4.000000},{"symbol":"B","count":1,"quantity":2,"min_price":2.000000,"max_price":2.000000,"vwap":2.000000},{"symbol":"_z-9","count":1,"quantity":5,"min_price":5.000000,"max_price":5.000000,"vwap":5.000000},{"symbol":"a.1","count":1,"quantity":3,"min_price":3.000000,"max_price":3.000000,"vwap":3.000000},{"symbol":"b","count":1,"quantity":1,"min_price":1.000000,"max_price":1.000000,"vwap":1.000000}]}"#
        );
        // digits, `-`, `.`, upper case, `_`, lower case; a prefix first
        let json = ok("1,a,1,1\n1,_,1,1\n1,Z,1,1\n1,.,1,1\n1,-,1,1\n1,9,1,1\n1,AA,1,1\n1,A,1,1\n");
        let order: Vec<&str> = json
            .split("\"symbol\":\"")
            .skip(1)
            .map(|s| &s[..s.find('"').unwrap()])
            .collect();
        assert_eq!(order, ["-", ".", "9", "A", "AA", "Z", "_", "a"]);
    }

    #[test]
    fn prices_and_quantities() {
        for good in [
            "0",
            "1",
            "0.5",
            "007.50",
            "9999999999",
            "1.12345678",
            "9999999999.99999999",
        ] {
            assert!(price(good.as_bytes()).is_some(), "{good}");
        }
        // 32-35, and what `parse::<f64>` would accept
        for wrong in [
            "1e5",
            "-1.0",
            "1.",
            "1.123456789",
            "",
            ".5",
            "+1",
            "inf",
            "NaN",
            "infinity",
            "99999999999",
            "1.5.",
            "1,5",
            " 1",
            "1 ",
            "0x10",
            "1E5",
            "1.0e0",
            "١",
        ] {
            assert_eq!(price(wrong.as_bytes()), None, "{wrong}");
            let body = format!("timestamp,symbol,price,quantity\n1,AAPL,{wrong},1\n");
            let at = if wrong.contains(',') {
                (2, 5, "wrong field count")
            } else {
                (2, 3, "bad price")
            };
            assert_eq!(bad(body.as_bytes()), at, "{wrong:?}");
        }
        for (good, q) in [
            ("1", 1),
            ("000000001", 1),
            ("999999999", 999_999_999),
            ("0010", 10),
        ] {
            assert_eq!(quantity(good.as_bytes()), Some(q));
        }
        // 36-37, and more
        for wrong in [
            "0",
            "000000000",
            "1.5",
            "",
            "-1",
            "+1",
            "1000000000",
            "0000000001",
            "1e3",
            " 1",
            "١",
        ] {
            assert_eq!(quantity(wrong.as_bytes()), None, "{wrong}");
            let body = format!("timestamp,symbol,price,quantity\n1,AAPL,1.0,{wrong}\n");
            assert_eq!(bad(body.as_bytes()), (2, 4, "bad quantity"), "{wrong:?}");
        }
    }

    #[test]
    fn six_decimals_correctly_rounded() {
        // 09
        let body = "timestamp,symbol,price,quantity\n1,R,0.0000005,1\n1,S,0.0000015,1\n\
                    1,T,9999999999.99999999,1\n1,U,0.1,3\n1,U,0.2,7\n";
        assert_eq!(
            ok(body),
            r#"{"rows":5,"symbols":[{"symbol":"R","count":1,"quantity":1,"min_price":0.000000,"max_price":0.000000,"vwap":0.000000},{"symbol":"S","count":1,"quantity":1,"min_price":0.000002,"max_price":0.000002,"vwap":0.000002},{"symbol":"T","count":1,"quantity":1,"min_price":10000000000.000000,"max_price":10000000000.000000,"vwap":10000000000.000000},{"symbol":"U","count":2,"quantity":10,"min_price":0.100000,"max_price":0.200000,"vwap":0.170000}]}"#
        );
        // exact ties (binary fractions with a 5 in the 7th decimal): to even
        assert_eq!(
            prices(&[("0.0078125", "1")]),
            r#""min_price":0.007812,"max_price":0.007812,"vwap":0.007812"#
        );
        assert_eq!(
            prices(&[("0.0234375", "1")]),
            r#""min_price":0.023438,"max_price":0.023438,"vwap":0.023438"#
        );
        assert_eq!(
            prices(&[("1.0000005", "1")]), // not a tie: the double is just above
            r#""min_price":1.000001,"max_price":1.000001,"vwap":1.000001"#
        );
        assert_eq!(format!("{:.6}", 1.0000005_f64), "1.000001");
        assert_eq!(format!("{:.6}", 0.0078125_f64), "0.007812");
        assert_eq!(format!("{:.6}", 2.0000025_f64), "2.000002"); // just below
    }

    #[test]
    fn arithmetic_in_body_order() {
        // 12: 64-bit quantities
        let body = "timestamp,symbol,price,quantity\n1,Q,1.5,999999999\n2,Q,2.25,999999999\n3,Q,0.00000001,123456789\n";
        assert_eq!(
            ok(body),
            r#"{"rows":3,"symbols":[{"symbol":"Q","count":3,"quantity":2123456787,"min_price":0.000000,"max_price":2.250000,"vwap":1.765988}]}"#
        );
        // sums past 2^32, and well past any 32-bit count
        let body = "1,Q,1,999999999\n".repeat(10);
        assert!(ok(&body).contains(r#""quantity":9999999990,"#));
        // Σ(p×q) in body order, then one division: the same operations give the same double
        let rows = [
            ("0.1", "3"),
            ("0.2", "7"),
            ("1234567.89", "999999999"),
            ("0.00000001", "1"),
        ];
        let mut sum = 0.0_f64;
        let mut qty = 0_u64;
        for (p, q) in rows {
            let q: u64 = q.parse().unwrap();
            sum += p.parse::<f64>().unwrap() * q as f64;
            qty += q;
        }
        let expected = format!("{:.6}", sum / qty as f64);
        assert!(prices(&rows).ends_with(&format!("\"vwap\":{expected}")));
        // order matters in floating point: the reverse order is a different body
        let big = [
            ("9999999999.99999999", "999999999"),
            ("0.00000001", "1"),
            ("0.00000001", "1"),
        ];
        let json = prices(&big);
        assert!(json.starts_with(r#""min_price":0.000000,"max_price":10000000000.000000,"#));
    }

    #[test]
    fn unterminated_quote() {
        // 20
        let body = "timestamp,symbol,price,quantity\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n\
                    1,\"AAPL,1.0,1\n2,MSFT,1.0,1\n";
        assert_eq!(bad(body.as_bytes()), (3, 2, "unterminated quote"));
        assert_eq!(bad(b"\""), (1, 1, "unterminated quote"));
        assert_eq!(bad(b"1,A,1,\"1"), (1, 4, "unterminated quote"));
        assert_eq!(bad(b"1,A,1,\"1\"\"\n"), (1, 4, "unterminated quote"));
        assert_eq!(bad(b"\n\n1,A,\"1,1\n\r\n\n"), (3, 3, "unterminated quote"));
        // the fields before it are checked first
        assert_eq!(bad(b"x,\"AAPL,1,1\n"), (1, 1, "bad timestamp"));
        // in a fifth field: the fifth field is the error
        assert_eq!(bad(b"1,A,1,1,\"x\n"), (1, 5, "wrong field count"));
    }

    #[test]
    fn bare_quotes() {
        // 21, 22
        let prefix = "timestamp,symbol,price,quantity\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n";
        assert_eq!(
            bad(format!("{prefix}1,AA\"PL,1.0,1\n").as_bytes()),
            (3, 2, "bare quote")
        );
        assert_eq!(
            bad(format!("{prefix}1,\"AAPL\"x,1.0,1\n").as_bytes()),
            (3, 2, "bare quote")
        );
        for (body, at) in [
            (&b"AAPL\",1,1,1"[..], (1, 1, "bare quote")),
            (b"1,AAPL\"", (1, 2, "bare quote")),
            (b"1,A,1,1\"\n", (1, 4, "bare quote")),
            (b"1,A,1,\"1\" \n", (1, 4, "bare quote")),
            (b"1,A,1,\"1\"\r", (1, 4, "bare quote")), // a CR alone is not a line end
            (b"1,A,1,\"1\"\r\r\n", (1, 4, "bare quote")),
            (b"1,A,\"1\"\"\"x,1\n", (1, 3, "bare quote")), // `"1"""x`: `1"`, then x
            (b"1,A,\"1\"\"\"\"x,1\n", (1, 3, "unterminated quote")), // `"1""""x,1`: never closed
            (b"1,\"A\"\"\",1,1\n1,A\"\n", (1, 2, "bad symbol")), // `"A"""` is `A"`
            // a bare quote is found before its field's value is checked
            (b"1,A A\",1,1\n", (1, 2, "bare quote")),
            // and after the fields before it
            (b"x,AA\"PL,1,1\n", (1, 1, "bad timestamp")),
            (b"1,AAPL,1e5,\"1\"x\n", (1, 3, "bad price")),
            // in the first four fields of a long record: before the count
            (b"1,A\"A,1,1,1\n", (1, 2, "bare quote")),
            // in a fifth or later field: the fifth field is the error
            (b"1,A,1,1,x\"\n", (1, 5, "wrong field count")),
            (b"1,A,1,1,x,\"y\"z\n", (1, 5, "wrong field count")),
        ] {
            assert_eq!(bad(body), at, "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn wrong_field_count() {
        // 23, 24, 42
        let prefix = "timestamp,symbol,price,quantity\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n";
        assert_eq!(
            bad(format!("{prefix}1,AAPL,1.0\n").as_bytes()),
            (3, 4, "wrong field count")
        );
        assert_eq!(
            bad(format!("{prefix}1,AAPL,1.0,1,x\n").as_bytes()),
            (3, 5, "wrong field count")
        );
        assert_eq!(
            bad(b"timestamp,symbol,price,quantity\n1,AAPL,1.0,1,1\n"),
            (2, 5, "wrong field count")
        );
        assert_eq!(bad(b"1\n"), (1, 2, "wrong field count"));
        assert_eq!(bad(b"1,A"), (1, 3, "wrong field count"));
        assert_eq!(bad(b"1,A,1,1,\n"), (1, 5, "wrong field count"));
        assert_eq!(bad(b"1,A,1,1,,,,\r\n"), (1, 5, "wrong field count"));
        assert_eq!(bad(b"1,A,1,\"1\",\"\"\n"), (1, 5, "wrong field count"));
        // 43: a bad field among the first four comes first
        assert_eq!(
            bad(b"timestamp,symbol,price,quantity\n1,AAPL,1e5,1,x\n"),
            (2, 3, "bad price")
        );
        // the k fields of a short record are checked before the count
        assert_eq!(bad(b"1,A,x\n"), (1, 3, "bad price"));
        assert_eq!(bad(b"x\n"), (1, 1, "bad timestamp"));
        assert_eq!(bad(b"1,\n"), (1, 2, "bad symbol"));
    }

    #[test]
    fn the_first_error_wins_left_to_right() {
        // 38, 39
        assert_eq!(
            bad(b"timestamp,symbol,price,quantity\n1,AAPL,x,1\n2,AAPL,1.0,y\n"),
            (2, 3, "bad price")
        );
        assert_eq!(
            bad(b"timestamp,symbol,price,quantity\nx,AA PL,y,0\n"),
            (2, 1, "bad timestamp")
        );
        assert_eq!(bad(b"1,AA PL,y,0\n"), (1, 2, "bad symbol"));
        assert_eq!(bad(b"1,A,y,0\n"), (1, 3, "bad price"));
        // an error in a later record, whatever it is, loses to an earlier one
        assert_eq!(bad(b"1,A,1,0\n1,\"A\n"), (1, 4, "bad quantity"));
        assert_eq!(bad(b"1,A,1,1\n1,A\"\n1,A,1,0\n"), (2, 2, "bare quote"));
    }

    #[test]
    fn lines_count_empty_lines_and_quoted_line_ends() {
        // 40
        let body = "\n\ntimestamp,symbol,price,quantity\n\r\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n\n1,AAPL,1.0,0\n";
        assert_eq!(bad(body.as_bytes()), (7, 4, "bad quantity"));
        // 41
        let body = "timestamp,symbol,price,quantity\n1,AAPL,\"1.0\",1\n1,AAPL,1.0,\"1\n\n2\"\n1,AAPL,1.0,1\n";
        assert_eq!(bad(body.as_bytes()), (3, 4, "bad quantity"));
        // a record after quoted line ends, CRLF ones too
        let body = "1,\"A\nB\",1,1\n1,A,1,1\r\n1,\"A\r\n\r\nB\",1,1\n\r\n1,A,1,0\r\n";
        assert_eq!(bad(body.as_bytes()), (1, 2, "bad symbol"));
        let body = "1,\"AB\",\"1\n\",1\n1,\"A\r\n\r\nB\",1,1\n\r\n1,A,1,0\r\n";
        assert_eq!(bad(body.as_bytes()), (1, 3, "bad price"));
        let body = "1,\"AB\",1,\"1\n\n\n\"\r\n\r\n\n1,A,1,0\r\n";
        assert_eq!(bad(body.as_bytes()), (1, 4, "bad quantity"));
        let body = "1,A,1,1\r\n\n\r\n1,\"A\n\",\"1\r\n\",1\n\n1,A,1,0\n";
        assert_eq!(bad(body.as_bytes()), (4, 2, "bad symbol"));
        let body = "1,A,1,1\r\n\n\r\n1,A,\"1\r\n.5\",1\n1,A,1,0\n";
        assert_eq!(bad(body.as_bytes()), (4, 3, "bad price"));
        let body = "1,A,\"1\n\",1\n";
        assert_eq!(bad(body.as_bytes()), (1, 3, "bad price"));
        let body = "\r\n\r\n1,\"A\n\nB\",1,1\n";
        assert_eq!(bad(body.as_bytes()), (3, 2, "bad symbol"));
        let body = "\r\n\r\n1,\"AB\",\"1\n\n\",1\n\n1,A,1,0";
        assert_eq!(bad(body.as_bytes()), (3, 3, "bad price"));
        let body = "1,\"AB\",\"1.5\",\"1\"\n\n\n1,\"A\n\",1,1\n";
        assert_eq!(bad(body.as_bytes()), (4, 2, "bad symbol"));
    }

    #[test]
    fn check_quotes_by_the_contracts_grammar() {
        for ok_record in [
            &b"a,b,c,d\n"[..],
            b"\"a\",\"b\"\n",
            b"\"a\"\r\n",
            b"\"\"",
            b"\"a,\"\"\r\n\",b",
            b",,,",
            b"a\rb,c\r\n",
        ] {
            assert_eq!(check_quotes(ok_record), None, "{ok_record:?}");
        }
        assert_eq!(check_quotes(b"\"a"), Some((1, Reason::UnterminatedQuote)));
        assert_eq!(
            check_quotes(b"a,\"b\"\"\n"),
            Some((2, Reason::UnterminatedQuote))
        );
        assert_eq!(check_quotes(b"a,b\"\n"), Some((2, Reason::BareQuote)));
        assert_eq!(check_quotes(b"a,b,\"c\"d"), Some((3, Reason::BareQuote)));
        assert_eq!(check_quotes(b"a,b,\"c\"\r"), Some((3, Reason::BareQuote)));
        assert_eq!(check_quotes(b" \"a\""), Some((1, Reason::BareQuote)));
    }

    #[test]
    fn the_answer_has_no_white_space_and_keys_in_order() {
        let json = ok(TRADES);
        assert!(!json.bytes().any(|b| b.is_ascii_whitespace()));
        let keys = [
            "\"symbol\":",
            "\"count\":",
            "\"quantity\":",
            "\"min_price\":",
            "\"max_price\":",
            "\"vwap\":",
        ];
        let positions: Vec<usize> = keys.iter().map(|k| json.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["rows"], 3);
    }
}

/// The crate-based parser against a direct reading of the contract: a byte-by-byte tokenizer
/// written from the grammar alone, on bodies made of the pieces where the two could differ
/// (quotes, CR, LF, CRLF, commas, empty fields, header names, a BOM).
#[cfg(test)]
mod reference_tests {
    use super::*;

    /// Splits the record starting at `*i` into its fields, by the contract's grammar, stopping at
    /// the first quote error (the 1-based number of its field, and why). Moves `*i` past the
    /// record and its line end, and counts the LFs it consumes in `*line`.
    fn tokenize(
        body: &[u8],
        i: &mut usize,
        line: &mut u64,
    ) -> (Vec<Vec<u8>>, Option<(usize, Reason)>) {
        let at = |k: usize| body.get(k).copied();
        let mut fields = Vec::new();
        loop {
            let column = fields.len() + 1;
            let mut field = Vec::new();
            if at(*i) == Some(b'"') {
                *i += 1;
                loop {
                    match at(*i) {
                        None => return (fields, Some((column, Reason::UnterminatedQuote))),
                        Some(b'"') if at(*i + 1) == Some(b'"') => {
                            field.push(b'"');
                            *i += 2;
                        }
                        Some(b'"') => {
                            *i += 1;
                            break;
                        }
                        Some(c) => {
                            *line += u64::from(c == b'\n');
                            field.push(c);
                            *i += 1;
                        }
                    }
                }
                fields.push(field);
                match (at(*i), at(*i + 1)) {
                    (None, _) => return (fields, None),
                    (Some(b','), _) => *i += 1,
                    (Some(b'\n'), _) => {
                        *i += 1;
                        *line += 1;
                        return (fields, None);
                    }
                    (Some(b'\r'), Some(b'\n')) => {
                        *i += 2;
                        *line += 1;
                        return (fields, None);
                    }
                    _ => {
                        fields.pop();
                        return (fields, Some((column, Reason::BareQuote)));
                    }
                }
            } else {
                loop {
                    match (at(*i), at(*i + 1)) {
                        (None, _) => {
                            fields.push(field);
                            return (fields, None);
                        }
                        (Some(b','), _) => {
                            *i += 1;
                            break;
                        }
                        (Some(b'\n'), _) | (Some(b'\r'), Some(b'\n')) => {
                            *i += if body[*i] == b'\n' { 1 } else { 2 };
                            *line += 1;
                            fields.push(field);
                            return (fields, None);
                        }
                        (Some(b'"'), _) => return (fields, Some((column, Reason::BareQuote))),
                        (Some(c), _) => {
                            field.push(c);
                            *i += 1;
                        }
                    }
                }
                fields.push(field);
            }
        }
    }

    fn reference(body: &[u8]) -> Result<Summary, Invalid> {
        let mut summary = Summary::default();
        let (mut i, mut line) = (0, 1);
        let mut first = true;
        while i < body.len() {
            if body[i] == b'\n' || body[i..].starts_with(b"\r\n") {
                i += if body[i] == b'\n' { 1 } else { 2 };
                line += 1;
                continue; // an empty line
            }
            let record_line = line;
            let (fields, error) = tokenize(body, &mut i, &mut line);
            let fail = |column, reason| Invalid {
                line: record_line,
                column,
                reason,
            };
            if std::mem::take(&mut first)
                && error.is_none()
                && fields.len() == 4
                && fields
                    .iter()
                    .zip(HEADER)
                    .all(|(f, h)| f.eq_ignore_ascii_case(h))
            {
                continue;
            }
            type Check = fn(&[u8]) -> bool;
            let checks: [(Check, Reason); 4] = [
                (is_timestamp, Reason::BadTimestamp),
                (|f| symbol(f).is_some(), Reason::BadSymbol),
                (|f| price(f).is_some(), Reason::BadPrice),
                (|f| quantity(f).is_some(), Reason::BadQuantity),
            ];
            for (k, (f, (check, reason))) in fields.iter().zip(checks).enumerate() {
                if !check(f) {
                    return Err(fail(k + 1, reason));
                }
            }
            match error {
                Some((column, reason)) if column <= 4 => return Err(fail(column, reason)),
                Some(_) => return Err(fail(5, Reason::WrongFieldCount)),
                None if fields.len() > 4 => return Err(fail(5, Reason::WrongFieldCount)),
                None if fields.len() < 4 => {
                    return Err(fail(fields.len() + 1, Reason::WrongFieldCount));
                }
                None => {}
            }
            let sym = symbol(&fields[1]).unwrap();
            summary.add(
                sym,
                price(&fields[2]).unwrap(),
                quantity(&fields[3]).unwrap(),
            );
        }
        Ok(summary)
    }

    /// xorshift64*: enough randomness for bodies, no dependency.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
        }
    }

    fn same(body: &[u8]) {
        let got = aggregate(body).map(|s| s.to_json());
        let want = reference(body).map(|s| s.to_json());
        assert_eq!(got, want, "{:?}", String::from_utf8_lossy(body));
    }

    #[test]
    fn random_pieces() {
        const PIECES: &[&str] = &[
            ",",
            ",",
            ",",
            "\n",
            "\n",
            "\r\n",
            "\r\n",
            "\r",
            "\"",
            "\"",
            "\"\"",
            "\"\"\"",
            "1",
            "07",
            "2026-11-23T08:15:30Z",
            "A",
            "AAPL",
            "1.5",
            "10",
            "0",
            "x",
            " ",
            "timestamp",
            "symbol",
            "price",
            "quantity",
            "TIMESTAMP",
            "\u{feff}",
            "1,A,1,1",
            "\"1\"",
            "\"A\"",
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut body = Vec::new();
        for _ in 0..100_000 {
            body.clear();
            for _ in 0..rng.below(24) {
                body.extend_from_slice(PIECES[rng.below(PIECES.len())].as_bytes());
            }
            same(&body);
        }
    }

    #[test]
    fn random_records_mostly_valid() {
        const FIELDS: [&[&str]; 4] = [
            &[
                "1",
                "1795422931000",
                "2026-11-23T08:15:30.123Z",
                "\"2028-02-29T00:00:00+05:30\"",
                "timestamp",
                "x",
            ],
            &[
                "AAPL",
                "MSFT",
                "\"BRK.B\"",
                "\"A\nB\"",
                "symbol",
                "A\"",
                "\"A\"x",
                "a",
                "Z_9",
            ],
            &[
                "187.25",
                "\"411\"",
                "0.0078125",
                "9999999999.99999999",
                "0.1",
                "price",
                "1e5",
                "\"1\r\n\"",
            ],
            &["100", "\"10\"", "999999999", "1", "quantity", "0", "\"7"],
        ];
        const ENDS: &[&str] = &[
            "\n", "\n", "\r\n", "\r\n", "\n\n", "\r\n\r\n", ",", ",x\n", "\r", "",
        ];
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut body = Vec::new();
        let (mut valid, mut invalid) = (0, 0);
        for _ in 0..100_000 {
            body.clear();
            for _ in 0..rng.below(8) {
                let n = match rng.below(20) {
                    0 => 3,
                    1 => 5,
                    _ => 4,
                };
                for k in 0..n {
                    if k > 0 {
                        body.push(b',');
                    }
                    let choices = FIELDS[k % 4];
                    // mostly the valid ones, which come first in each list
                    let pick = if rng.below(8) == 0 {
                        rng.below(choices.len())
                    } else {
                        rng.below(3)
                    };
                    body.extend_from_slice(choices[pick].as_bytes());
                }
                let end = if rng.below(10) == 0 {
                    rng.below(ENDS.len())
                } else {
                    rng.below(4)
                };
                body.extend_from_slice(ENDS[end].as_bytes());
            }
            same(&body);
            if aggregate(&body).is_ok() {
                valid += 1
            } else {
                invalid += 1
            }
        }
        assert!(
            valid > 10_000 && invalid > 10_000,
            "{valid} valid, {invalid} invalid"
        );
    }
}
