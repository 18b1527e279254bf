//! The crate-based parser against a direct reading of the contract: a byte-by-byte tokenizer
//! written from the grammar alone, on bodies made of the pieces where the two could differ
//! (quotes, CR, LF, CRLF, commas, empty fields, header names, a BOM).

use super::*;

/// Splits the record starting at `*i` into its fields, by the contract's grammar, stopping at
/// the first quote error (the 1-based number of its field, and why). Moves `*i` past the
/// record and its line end, and counts the LFs it consumes in `*line`.
fn tokenize(body: &[u8], i: &mut usize, line: &mut u64) -> (Vec<Vec<u8>>, Option<(usize, Reason)>) {
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
