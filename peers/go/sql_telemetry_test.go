package main

import (
	"encoding/hex"
	"net"
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// gather reads reg's families as a scrape would.
func gather(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		m[f.GetName()] = f
	}
	return m
}

// TestSQLMetricsWhenRefused: with nothing listening on the database's port, each request that
// needs the database is one failed database call and one 503, and the pool has its size and
// no connection.
func TestSQLMetricsWhenRefused(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := newSQLService(lazyPool(t, "127.0.0.1", freePort(t), 3), 1<<20, testLog{t}, reg)
	ts := startTestServer(t, s.routes(), requestTimeout)
	for _, path := range []string{"/accounts/1", "/accounts?ids=1,2", "/accounts/x", "/health"} {
		do(t, "GET", ts.URL+path, "")
	}
	m := gather(t, reg)
	for _, w := range []struct {
		name string
		want float64
	}{
		{"sql_unavailable_total", 2}, {"sql_errors_total", 2}, {"sql_pool_size", 3},
		{"sql_pool_connections", 0}, {"sql_pool_waits_total", 0},
	} {
		if got := value(m, w.name); got != w.want {
			t.Errorf("%s = %v, want %v", w.name, got, w.want)
		}
	}
}

// pgURL is STACKBENCH_PG_URL, or the test is skipped (or fails, see pgConfig).
func pgURL(t *testing.T) string {
	t.Helper()
	pgConfig(t, 1)
	return os.Getenv("STACKBENCH_PG_URL")
}

// TestSQLTelemetry runs the sql workload as run does, on a real database, with every request
// traced: exact request counts by route, the pool's figures, and for each request a SERVER
// span with one CLIENT child per statement, named and described as the contract says (and no
// span for the pool's acquire, the connection or the statements prepared at connect).
func TestSQLTelemetry(t *testing.T) {
	url := pgURL(t)
	rcv := startOTLPReceiver(t)
	s := startTelemetryServer(t, "sql", config{pgURL: url, pool: 2, dbStrat: dbExclusive, otlpEndpoint: rcv.url, traceRatio: 1})
	for _, r := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/accounts/1", "", 200},
		{"GET", "/accounts/10001", "", 404},
		{"GET", "/accounts/", "", 400},
		{"GET", "/accounts?ids=1,2", "", 200},
		{"POST", "/orders", `{"account_id":9991,"amount":1}`, 201},
	} {
		if code, out := s.do(t, r.method, r.path, r.body); code != r.want {
			t.Fatalf("%s %s: %d %s, want %d", r.method, r.path, code, out, r.want)
		}
	}
	m := scrape(t, s.c, s.url+"/metrics")
	for _, w := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"http_requests_total", []string{"method", "GET", "route", "/accounts/{id}", "code", "200"}, 1},
		{"http_requests_total", []string{"method", "GET", "route", "/accounts/{id}", "code", "404"}, 1},
		{"http_requests_total", []string{"method", "GET", "route", "/accounts/{id}", "code", "400"}, 1},
		{"http_requests_total", []string{"method", "GET", "route", "/accounts", "code", "200"}, 1},
		{"http_requests_total", []string{"method", "POST", "route", "/orders", "code", "201"}, 1},
		{"sql_pool_size", nil, 2},
		{"sql_pool_connections", nil, 2},
		{"sql_pool_waits_total", nil, 0},
		{"sql_errors_total", nil, 0},
		{"sql_unavailable_total", nil, 0},
	} {
		if got := value(m, w.name, w.labels...); got != w.want {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.want)
		}
	}
	flush(t, s.tel)

	spans := rcv.spans(t)
	byID := map[string]receivedSpan{}
	for _, sp := range spans {
		byID[hex.EncodeToString(sp.GetSpanId())] = sp
	}
	wantClient := map[string][]string{ // server span name -> its statements' spans
		"GET /accounts/{id}": {"SELECT accounts", "SELECT accounts"}, // 1 and 10001; "/accounts/" has none
		"GET /accounts":      {"SELECT accounts"},
		"POST /orders":       {"INSERT orders"},
	}
	gotClient := map[string][]string{}
	servers := 0
	for _, sp := range spans {
		switch sp.GetKind() {
		case tracepb.Span_SPAN_KIND_SERVER:
			servers++
		case tracepb.Span_SPAN_KIND_CLIENT:
			parent, ok := byID[hex.EncodeToString(sp.GetParentSpanId())]
			if !ok || parent.GetKind() != tracepb.Span_SPAN_KIND_SERVER || string(parent.GetTraceId()) != string(sp.GetTraceId()) {
				t.Errorf("CLIENT span %q is not the child of a SERVER span of its trace", sp.GetName())
				continue
			}
			gotClient[parent.GetName()] = append(gotClient[parent.GetName()], sp.GetName())
			op, table := "SELECT", "accounts"
			text := sqlAccount
			switch {
			case sp.GetName() == "INSERT orders":
				op, table, text = "INSERT", "orders", sqlOrder
			case parent.GetName() == "GET /accounts":
				text = sqlAccounts
			}
			checkAttrs(t, sp.GetName(), attrMap(sp.GetAttributes()), map[string]string{
				"db.system.name": "postgresql", "db.operation.name": op, "db.collection.name": table,
				"db.query.text": text,
			})
		default:
			t.Errorf("span %q of kind %v", sp.GetName(), sp.GetKind())
		}
	}
	if servers != 5 {
		t.Errorf("%d SERVER spans, want 5", servers)
	}
	for name, want := range wantClient {
		if got := gotClient[name]; len(got) != len(want) || len(got) > 0 && got[0] != want[0] {
			t.Errorf("%s: statement spans %q, want %q", name, got, want)
		}
	}
	if len(gotClient) != len(wantClient) {
		t.Errorf("statement spans under %v, want only under %v", gotClient, wantClient)
	}
}

// TestSQLUnavailableSpanIsAnError: a request answered 503 (the database refuses) has a SERVER
// span whose status is ERROR, as for every 5xx; a 404 has no error status.
func TestSQLUnavailableSpanIsAnError(t *testing.T) {
	rcv := startOTLPReceiver(t)
	tel, err := newTelemetry(config{otlpEndpoint: rcv.url, traceRatio: 1}, "sql")
	if err != nil {
		t.Fatal(err)
	}
	s := newSQLService(lazyPool(t, "127.0.0.1", freePort(t), 2), 1<<20, testLog{t}, tel.reg)
	hs := newHTTPServer(s.routes(), tel)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.serve(ln)
	t.Cleanup(hs.close)
	base := "http://" + ln.Addr().String()
	if got := do(t, "GET", base+"/accounts/1", ""); got.status != 503 {
		t.Fatalf("GET /accounts/1: %d", got.status)
	}
	if got := do(t, "GET", base+"/nope", ""); got.status != 404 {
		t.Fatalf("GET /nope: %d", got.status)
	}
	flush(t, tel)
	spans := rcv.spans(t)
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	for _, sp := range spans {
		want := tracepb.Status_STATUS_CODE_UNSET
		if sp.GetName() == "GET /accounts/{id}" {
			want = tracepb.Status_STATUS_CODE_ERROR
		}
		if got := sp.GetStatus().GetCode(); got != want {
			t.Errorf("%s: status %v, want %v", sp.GetName(), got, want)
		}
	}
}
