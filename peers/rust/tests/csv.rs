//! The csv contract's HTTP rows through the whole router (the workload and what `server` adds),
//! without a socket, for both tiers. The parser's rows are the unit tests of `csv`; the two
//! tiers' parsers are compared in csv_tiers.rs.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use axum::http::header::{ALLOW, CONNECTION, CONTENT_LENGTH};
use common::{chunked, send};
use stackbench_rust::csv::{Config, DEFAULT_BODY_LIMIT, router};
use stackbench_rust::tier::Tier;

const LIMIT: usize = 64;

/// The answer of the contract's example.
const EXAMPLE: &str = r#"{"rows":3,"symbols":[{"symbol":"AAPL","count":2,"quantity":150,"min_price":187.250000,"max_price":187.500000,"vwap":187.333333},{"symbol":"MSFT","count":1,"quantity":10,"min_price":411.000000,"max_price":411.000000,"vwap":411.000000}]}"#;

const TIERS: [Tier; 2] = [Tier::Idiomatic, Tier::Tuned];

fn app_with_limit(tier: Tier, body_limit: usize) -> Router {
    common::app(router(Config { body_limit, tier }))
}

fn app(tier: Tier) -> Router {
    app_with_limit(tier, DEFAULT_BODY_LIMIT)
}

#[tokio::test]
async fn post_csv_answers_the_aggregate() {
    for tier in TIERS {
        let body = "timestamp,symbol,price,quantity\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n\
                    2026-11-23T08:15:31Z,MSFT,411,10\n1795422931000,AAPL,187.50,50\n";
        let a = send(&app(tier), "POST", "/csv?x=1", body).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.body, EXAMPLE);
        let a = send(&app(tier), "POST", "/csv", "").await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (StatusCode::OK, r#"{"rows":0,"symbols":[]}"#)
        );
        let a = send(
            &app_with_limit(tier, LIMIT),
            "POST",
            "/csv",
            chunked(&["1,A,", "1,1\r", "\n1,B,2,1"]),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body.starts_with(r#"{"rows":2,"#));
    }
}

#[tokio::test]
async fn invalid_csv_is_400_with_line_column_reason() {
    for tier in TIERS {
        let a = send(
            &app(tier),
            "POST",
            "/csv",
            "timestamp,symbol,price,quantity\n1,AAPL,1e5,1,x\n",
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            a.body,
            r#"{"error":"invalid_csv","line":2,"column":3,"reason":"bad price"}"#
        );
        assert_eq!(a.header(CONNECTION), None); // the body was read: keep-alive goes on
        let a = send(&app(tier), "POST", "/csv", "1,\"A").await;
        assert_eq!(
            a.body,
            r#"{"error":"invalid_csv","line":1,"column":2,"reason":"unterminated quote"}"#
        );
    }
}

#[tokio::test]
async fn over_the_limit_is_413_and_closes() {
    for tier in TIERS {
        let limited = app_with_limit(tier, LIMIT);
        // exactly the limit: read in full, then parsed (a quantity of too many digits)
        let at_limit = format!("1,A,1,{}", "0".repeat(LIMIT - 7) + "1");
        assert_eq!(at_limit.len(), LIMIT);
        let a = send(&limited, "POST", "/csv", at_limit).await;
        assert_eq!(
            a.body,
            r#"{"error":"invalid_csv","line":1,"column":4,"reason":"bad quantity"}"#
        );
        let over = "x".repeat(LIMIT + 1);
        for body in [
            Body::from(over.clone()),
            chunked(&[&over[..40], &over[40..]]),
        ] {
            let a = send(&limited, "POST", "/csv", body).await;
            assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
            assert_eq!(
                a.body,
                format!(r#"{{"error":"body_too_large","limit":{LIMIT}}}"#)
            );
            assert_eq!(a.header(CONNECTION), Some("close"));
        }
        // the default limit is 16 MiB
        let a = send(
            &app(tier),
            "POST",
            "/csv",
            "x".repeat(DEFAULT_BODY_LIMIT + 1),
        )
        .await;
        assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(a.body, r#"{"error":"body_too_large","limit":16777216}"#);
    }
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    for tier in TIERS {
        for method in ["GET", "PUT", "DELETE", "HEAD", "PATCH"] {
            let a = send(&app(tier), method, "/csv", "").await;
            assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{method} /csv");
            assert_eq!(a.header(ALLOW), Some("POST"));
            if method != "HEAD" {
                assert_eq!(a.body, r#"{"error":"method_not_allowed"}"#);
            }
        }
        let a = send(&app(tier), "POST", "/health", "").await;
        assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(a.header(ALLOW), Some("GET, HEAD"));
    }
}

#[tokio::test]
async fn health_and_other_paths() {
    for tier in TIERS {
        let a = send(&app(tier), "GET", "/health", Body::empty()).await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (StatusCode::OK, r#"{"status":"ok"}"#)
        );
        let a = send(&app(tier), "HEAD", "/health", Body::empty()).await;
        assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, ""));
        assert_eq!(a.header(CONTENT_LENGTH), Some("15"));
        for (method, uri) in [("POST", "/echo"), ("GET", "/"), ("POST", "/csv/")] {
            let a = send(&app(tier), method, uri, "{}").await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(a.body, r#"{"error":"not_found"}"#);
        }
    }
}
