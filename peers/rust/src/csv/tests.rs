//! The contract's rows through `aggregate` and the field checks.

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
        bad(
            format!("timestamp,symbol,price,quantity\n{TRADES}timestamp,symbol,price,quantity\n")
                .as_bytes()
        ),
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
    let body =
        "timestamp,symbol,price,quantity\n1,AAPL,\"1.0\",1\n1,AAPL,1.0,\"1\n\n2\"\n1,AAPL,1.0,1\n";
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
