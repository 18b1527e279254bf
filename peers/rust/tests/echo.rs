//! The echo contract's rows through the whole router (the workload and what `server` adds),
//! without a socket. What only exists on a socket (chunked framing, pipelining, closing) is
//! hyper's, and is exercised against the binary by the contract cases. Every row holds for
//! both tiers; only the offsets and reasons of a 400 are each tier's parser's.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use axum::http::header::{ALLOW, CONNECTION, CONTENT_LENGTH};
use common::{chunked, send, stalled};
use stackbench_rust::echo::{Config, router};
use stackbench_rust::server;
use stackbench_rust::telemetry::http::HttpLayer;
use stackbench_rust::telemetry::{Metrics, Protocol};
use stackbench_rust::tier::Tier;

const LIMIT: usize = 64;

const TIERS: [Tier; 2] = [Tier::Idiomatic, Tier::Tuned];

fn app_with_limit(tier: Tier, body_limit: usize) -> Router {
    common::app(router(Config { body_limit, tier }))
}

fn app(tier: Tier) -> Router {
    app_with_limit(tier, LIMIT)
}

#[tokio::test]
async fn post_echo_answers_the_document_minified() {
    for tier in TIERS {
        let a = send(
            &app(tier),
            "POST",
            "/echo",
            " { \"a\" : [ 1.50e+3 , \"\\u00e9\\/\" ] } ",
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.body, r#"{"a":[1.50e+3,"\u00e9\/"]}"#);
        assert_eq!(a.header(CONTENT_LENGTH), Some("26"));
        // the query string is ignored
        let a = send(&app(tier), "POST", "/echo?x=1", "[1]").await;
        assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, "[1]"));
    }
}

#[tokio::test]
async fn post_echo_chunked_body() {
    for tier in TIERS {
        let a = send(&app(tier), "POST", "/echo", chunked(&["[1, ", "2", " ]"])).await;
        assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, "[1,2]"));
    }
}

#[tokio::test]
async fn malformed_json_is_400_with_offset_and_reason() {
    let tier = Tier::Idiomatic; // serde_json's offsets and reasons
    let a = send(&app(tier), "POST", "/echo", "[1,]").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.body,
        r#"{"error":"invalid_json","offset":3,"reason":"expected value"}"#
    );
    assert_eq!(a.header(CONNECTION), None); // the body was read: keep-alive goes on
    let a = send(&app(tier), "POST", "/echo", "").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = send(&app(tier), "POST", "/echo", b"\"\xff\"".to_vec()).await;
    assert_eq!(
        a.body,
        r#"{"error":"invalid_json","offset":1,"reason":"invalid utf-8"}"#
    );
    // reasons are JSON-escaped
    let a = send(&app(tier), "POST", "/echo", "\"\x01\"").await;
    let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(v["error"], "invalid_json");
    assert!(v["reason"].as_str().unwrap().contains("\\u0000"));
}

#[tokio::test]
async fn nesting_128_passes_129_is_400() {
    for tier in TIERS {
        let deep = |n: usize| "[".repeat(n) + &"]".repeat(n);
        let app = app_with_limit(tier, 1000);
        let a = send(&app, "POST", "/echo", deep(128)).await;
        assert_eq!((a.status, a.body), (StatusCode::OK, deep(128)));
        let a = send(&app, "POST", "/echo", deep(129)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert!(
            a.body
                .starts_with(r#"{"error":"invalid_json","offset":128,"#)
        );
    }
}

#[tokio::test]
async fn over_the_limit_is_413_and_closes() {
    for tier in TIERS {
        let at_limit = format!("\"{}\"", "a".repeat(LIMIT - 2));
        let a = send(&app(tier), "POST", "/echo", at_limit.clone()).await;
        assert_eq!((a.status, a.body), (StatusCode::OK, at_limit));

        let too_large = format!(r#"{{"error":"body_too_large","limit":{LIMIT}}}"#);
        let over = format!("\"{}\"", "a".repeat(LIMIT - 1));
        let a = send(&app(tier), "POST", "/echo", over).await; // Content-Length known
        assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(a.body, too_large);
        assert_eq!(a.header(CONNECTION), Some("close"));

        let big = "a".repeat(40);
        let a = send(
            &app(tier),
            "POST",
            "/echo",
            chunked(&["\"", &big, &big, "\""]),
        )
        .await;
        assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(a.body, too_large);
        assert_eq!(a.header(CONNECTION), Some("close"));
    }
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    for tier in TIERS {
        for method in ["GET", "PUT", "DELETE", "HEAD", "OPTIONS"] {
            let a = send(&app(tier), method, "/echo", "").await;
            assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{method} /echo");
            assert_eq!(a.header(ALLOW), Some("POST"));
            if method != "HEAD" {
                assert_eq!(a.body, r#"{"error":"method_not_allowed"}"#);
            }
        }
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            let a = send(&app(tier), method, "/health", "").await;
            assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{method} /health");
            assert_eq!(a.header(ALLOW), Some("GET, HEAD"));
            assert_eq!(a.body, r#"{"error":"method_not_allowed"}"#);
        }
    }
}

#[tokio::test]
async fn health_get_and_head() {
    for tier in TIERS {
        let a = send(&app(tier), "GET", "/health?probe=1", Body::empty()).await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (StatusCode::OK, r#"{"status":"ok"}"#)
        );
        let a = send(&app(tier), "HEAD", "/health", Body::empty()).await;
        assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, ""));
        assert_eq!(a.header(CONTENT_LENGTH), Some("15"));
    }
}

#[tokio::test]
async fn other_paths_are_404() {
    for tier in TIERS {
        for (method, uri) in [("GET", "/"), ("POST", "/echo/"), ("GET", "/healthz")] {
            let a = send(&app(tier), method, uri, Body::empty()).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(a.body, r#"{"error":"not_found"}"#);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_stalled_body_is_408_and_closes() {
    for tier in TIERS {
        let a = send(&app(tier), "POST", "/echo", stalled(&["{"])).await;
        assert_eq!(a.status, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(a.body, r#"{"error":"request_timeout"}"#);
        assert_eq!(a.header(CONNECTION), Some("close"));
    }
}

#[tokio::test(start_paused = true)]
async fn every_answer_is_counted() {
    for tier in TIERS {
        let served = Arc::new(AtomicU64::new(0));
        let app = server::with_common(
            router(Config {
                body_limit: LIMIT,
                tier,
            }),
            Arc::clone(&served),
            HttpLayer::new(Arc::new(Metrics::new(Protocol::Http)), 0),
        );
        let requests = [
            ("POST", "/echo", chunked(&["[1]"])),
            ("POST", "/echo", chunked(&["[1,]"])),
            ("POST", "/echo", stalled(&["{"])), // 408
            ("GET", "/echo", Body::empty()),
            ("GET", "/health", Body::empty()),
            ("HEAD", "/health", Body::empty()),
            ("GET", "/nope", Body::empty()),
            ("POST", "/echo", Body::from("x".repeat(LIMIT + 1))),
        ];
        let n = requests.len() as u64;
        for (method, uri, body) in requests {
            send(&app, method, uri, body).await;
        }
        assert_eq!(served.load(Ordering::Relaxed), n);
    }
}

/// The tuned tier's offsets and reasons are the C service's.
#[tokio::test]
async fn tuned_400_has_the_c_services_offset_and_reason() {
    let tier = Tier::Tuned;
    for (body, want) in [
        (
            &b"[1,]"[..],
            r#"{"error":"invalid_json","offset":3,"reason":"unexpected character"}"#,
        ),
        (
            b"",
            r#"{"error":"invalid_json","offset":0,"reason":"unexpected end of input"}"#,
        ),
        (
            b"\"\xff\"",
            r#"{"error":"invalid_json","offset":1,"reason":"invalid utf-8"}"#,
        ),
        (
            b"{\"a\":1 }x",
            r#"{"error":"invalid_json","offset":8,"reason":"trailing characters"}"#,
        ),
    ] {
        let a = send(&app(tier), "POST", "/echo", body.to_vec()).await;
        assert_eq!((a.status, a.body.as_str()), (StatusCode::BAD_REQUEST, want));
        assert_eq!(a.header(CONNECTION), None);
    }
}
