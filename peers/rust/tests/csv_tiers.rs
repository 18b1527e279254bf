//! The two csv tiers side by side: the idiomatic parser (the `csv` crate) and the tuned one
//! (the C service's kernel) must give the same answer, byte for byte, errors included (line,
//! column, reason), for every body: the bodies of contracts/csv/*.case, generated ones (every
//! form of every field the contract allows, records long and short, quoting, CR LF, empty
//! lines, many symbols) and one to three local edits of each.

use std::path::Path;

use stackbench_rust::csv::{Invalid, aggregate, tuned};

/// An answer as the service sends it: the aggregate's JSON, or the error.
fn idiomatic(body: &[u8]) -> Result<String, Invalid> {
    aggregate(body).map(|summary| summary.to_json())
}

fn tuned(table: &mut tuned::Aggregate, body: &[u8]) -> Result<String, Invalid> {
    table.reset();
    table.add_body(body)?;
    let mut out = Vec::new();
    table.write_json(&mut out);
    Ok(String::from_utf8(out).expect("the answer is ASCII"))
}

/// A small deterministic generator (xorshift64*), so that a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 33) % n as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

const SYMBOLS: &[&str] = &[
    "AAPL",
    "MSFT",
    "BRK.B",
    "V",
    "RDS-A",
    "SAP_DE",
    "7203.T",
    "0700.HK",
    "a",
    "Z9",
    "ABCDEFGHIJKLMNOP",
    "x.y_z-0",
    "aapl",
    "AAPL.",
    "_",
    "-",
    ".",
];

/// One field of a kind: valid, or when `near_misses`, now and then a day past the month's end.
fn timestamp(r: &mut Rng, near_misses: bool) -> String {
    match r.below(8) {
        0 => format!("{}", r.next() % 10u64.pow(1 + r.below(15) as u32)),
        1 => "1795422931000".into(),
        _ => {
            let year = 1970 + r.below(130);
            let month = 1 + r.below(12);
            let leap =
                year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
            let days = match month {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            let past_the_end = near_misses && r.chance(8);
            let day = 1 + r.below(days + usize::from(past_the_end));
            let mut t = format!(
                "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
                r.below(24),
                r.below(60),
                r.below(60)
            );
            if r.chance(2) {
                let digits = 1 + r.below(9);
                t.push('.');
                for _ in 0..digits {
                    t.push(char::from(b'0' + r.below(10) as u8));
                }
            }
            match r.below(4) {
                0 | 1 => t.push('Z'),
                2 => t.push_str(&format!("+{:02}:{:02}", r.below(24), r.below(60))),
                _ => t.push_str(&format!("-{:02}:{:02}", r.below(24), r.below(60))),
            }
            t
        }
    }
}

fn price(r: &mut Rng) -> String {
    let whole = match r.below(6) {
        0 => r.next() % 10_000_000_000,
        1 => 0,
        _ => 1 + r.next() % 1000,
    };
    let mut p = whole.to_string();
    if r.chance(6) {
        p = format!("{:0width$}", whole, width = 1 + r.below(10)); // leading zeros
    }
    if !r.chance(4) {
        let decimals = 1 + r.below(8);
        p.push('.');
        for _ in 0..decimals {
            p.push(char::from(b'0' + r.below(10) as u8));
        }
    }
    p
}

fn quantity(r: &mut Rng) -> String {
    match r.below(5) {
        0 => (1 + r.next() % 999_999_999).to_string(),
        1 => format!("{:09}", 1 + r.below(1000)),
        _ => (1 + r.below(500)).to_string(),
    }
}

/// `value` quoted sometimes (`""` in a value stays an error of its field).
fn maybe_quoted(r: &mut Rng, value: String, one_in: usize) -> String {
    if r.chance(one_in) {
        format!("\"{value}\"")
    } else {
        value
    }
}

/// A body of `rows` trades, with the forms the contract allows: a header or not (in any
/// case, quoted or not), LF or CR LF, empty lines, quoted fields, the last line end or not.
fn body(r: &mut Rng, rows: usize, near_misses: bool) -> Vec<u8> {
    let crlf = r.chance(4);
    let nl = |r: &mut Rng| if crlf || r.chance(20) { "\r\n" } else { "\n" };
    let mut b = String::new();
    if r.chance(6) {
        b.push_str(nl(r));
    }
    match r.below(4) {
        0 => {}
        1 => b.push_str("TimeStamp,SYMBOL,price,Quantity"),
        2 => b.push_str("\"timestamp\",symbol,\"price\",quantity"),
        _ => b.push_str("timestamp,symbol,price,quantity"),
    }
    if !b.is_empty() {
        b.push_str(nl(r));
    }
    let symbols = 1 + r.below(SYMBOLS.len());
    for row in 0..rows {
        let ts = timestamp(r, near_misses);
        let ts = maybe_quoted(r, ts, 15);
        let sym = if r.chance(30) {
            format!("S{}", r.below(100_000)) // many symbols: the table grows
        } else {
            SYMBOLS[r.below(symbols)].to_owned()
        };
        let sym = maybe_quoted(r, sym, 8);
        let px = price(r);
        let px = maybe_quoted(r, px, 12);
        let qty = quantity(r);
        let qty = maybe_quoted(r, qty, 15);
        b.push_str(&format!("{ts},{sym},{px},{qty}"));
        if row + 1 < rows || r.chance(2) {
            b.push_str(nl(r));
            if r.chance(25) {
                b.push_str(nl(r)); // an empty line
            }
        }
    }
    b.into_bytes()
}

/// One local edit of a kind the contract names (test_csv_diff.c's, and a few more).
fn mutate(r: &mut Rng, b: &mut Vec<u8>) {
    if b.is_empty() {
        return;
    }
    const INSERTS: &[&str] = &[
        "\"",
        ",",
        "\n",
        "\r\n",
        "\r",
        "x",
        "-",
        ".",
        "e5",
        "\"\"",
        " ",
        "0",
        "13",
        "99",
        ":",
        "Z",
        "+",
        "T",
        "\"a\nb\"",
        "\u{feff}",
        "\0",
        "\u{e9}",
        "1234567890",
        "9.123456789",
        ",,",
        "\"\",",
    ];
    let at = r.below(b.len());
    match r.below(5) {
        0 | 1 => {
            let ins = r.pick(INSERTS).as_bytes();
            b.splice(at..at, ins.iter().copied());
        }
        2 => {
            b.remove(at);
        }
        3 => b[at] = b"\",\n0aZ.:-\r9"[r.below(11)],
        _ => b.truncate(at),
    }
}

/// The body of each `send:` line of a case file: after the first empty line, C escapes and
/// `{repeat:N:TEXT}` expanded (src/verify/contract.h).
fn case_bodies(text: &str) -> Vec<Vec<u8>> {
    let mut bodies = Vec::new();
    for line in text.lines() {
        let Some(send) = line.strip_prefix("send: ") else {
            continue;
        };
        let bytes = unescape(&expand_repeats(send));
        if let Some(k) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            bodies.push(bytes[k + 4..].to_vec());
        }
    }
    bodies
}

fn expand_repeats(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find("{repeat:") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + "{repeat:".len()..];
        let (n, tail) = tail.split_once(':').expect("{repeat:N:TEXT}");
        let (text, tail) = tail.split_once('}').expect("{repeat:N:TEXT}");
        out.push_str(&text.repeat(n.parse().expect("a count")));
        rest = tail;
    }
    out.push_str(rest);
    out
}

fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let (byte, len) = match b[i + 1] {
                b'r' => (b'\r', 2),
                b'n' => (b'\n', 2),
                b't' => (b'\t', 2),
                b'\\' => (b'\\', 2),
                b'x' => (u8::from_str_radix(&s[i + 2..i + 4], 16).expect("\\xHH"), 4),
                _ => (b'\\', 1),
            };
            out.push(byte);
            i += len;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Checks one body; a difference is described for the report.
fn compare(table: &mut tuned::Aggregate, body: &[u8], what: &str) -> Result<bool, String> {
    let want = idiomatic(body);
    let got = tuned(table, body);
    if want == got {
        return Ok(want.is_ok());
    }
    let shown = String::from_utf8_lossy(&body[..body.len().min(400)]).into_owned();
    Err(format!(
        "{what}: {shown:?}\n  idiomatic {want:?}\n  tuned     {got:?}"
    ))
}

#[test]
fn every_contract_case_body_the_same() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts/csv");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("contracts/csv")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "case"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "{} cases in {}",
        files.len(),
        dir.display()
    );
    let mut table = tuned::Aggregate::default();
    let mut r = Rng(7);
    let mut wrong = Vec::new();
    let mut bodies = 0;
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        for body in case_bodies(&std::fs::read_to_string(file).unwrap()) {
            bodies += 1;
            if let Err(e) = compare(&mut table, &body, &name) {
                wrong.push(e);
            }
            for k in 0..50 {
                let mut edited = body.clone();
                for _ in 0..1 + r.below(3) {
                    mutate(&mut r, &mut edited);
                }
                if let Err(e) = compare(&mut table, &edited, &format!("{name}, edit {k}")) {
                    wrong.push(e);
                }
            }
        }
    }
    assert!(bodies >= 40);
    assert!(
        wrong.is_empty(),
        "{} differences:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(5)].join("\n")
    );
}

#[test]
fn generated_and_edited_bodies_the_same() {
    let mut r = Rng(0x5EED_0FC5);
    let mut table = tuned::Aggregate::default();
    let (mut valid, mut invalid) = (0, 0);
    let mut wrong = Vec::new();
    for k in 0..6000 {
        let rows = match r.below(10) {
            0 => 0,
            1 => 200 + r.below(800),
            _ => r.below(20),
        };
        let mut b = body(&mut r, rows, true);
        let edits = if k % 3 == 0 { 0 } else { 1 + r.below(3) };
        for _ in 0..edits {
            mutate(&mut r, &mut b);
        }
        match compare(&mut table, &b, &format!("body {k}")) {
            Ok(true) => valid += 1,
            Ok(false) => invalid += 1,
            Err(e) => wrong.push(e),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} differences:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(5)].join("\n")
    );
    assert!(
        valid > 1000 && invalid > 1000,
        "{valid} valid, {invalid} invalid"
    );
}

/// Every field form in long valid bodies, where the record fast path reads most records: the
/// aggregates of many rows the same.
#[test]
fn long_valid_bodies_the_same() {
    let mut r = Rng(99);
    let mut table = tuned::Aggregate::default();
    for k in 0..40 {
        let rows = 2000 + r.below(3000);
        let b = body(&mut r, rows, false);
        assert_eq!(compare(&mut table, &b, &format!("long body {k}")), Ok(true));
    }
}
