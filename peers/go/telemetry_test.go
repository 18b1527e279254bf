package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stackbench/stackbench/peers/go/ticksv1"
)

// The contract's text format and the families every HTTP workload has.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

var processFamilies = []string{
	"process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
	"process_start_time_seconds", "process_open_fds", "process_max_fds",
}

// telemetryServer is a workload served over HTTP as run serves it, on a loopback port.
type telemetryServer struct {
	url   string
	srv   *httpServer
	tel   *telemetry
	dials *int // connections the client opened
	c     *http.Client
}

// startTelemetryServer serves workload's tier with cfg's telemetry flags; its client counts
// the connections it opens.
func startTelemetryServer(t *testing.T, workload string, cfg config) *telemetryServer {
	t.Helper()
	cfg.host, cfg.bodyLimit = "127.0.0.1", 1<<20
	if cfg.tier == "" {
		cfg.tier = tierIdiomatic
	}
	tel, err := newTelemetry(cfg, workload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := workloads[workload].tiers[cfg.tier](cfg, tel)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := s.(*httpServer)
	go hs.serve(ln)
	t.Cleanup(hs.close)
	dials := new(int)
	var mu sync.Mutex
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		*dials++
		mu.Unlock()
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &telemetryServer{"http://" + ln.Addr().String(), hs, tel, dials, &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// do sends a request and returns its status and body.
func (s *telemetryServer) do(t *testing.T, method, path, body string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body = http.NoBody
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := s.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// scrape reads GET url and parses it as the Prometheus text format, checking the content type
// and that every family has its HELP.
func scrape(t *testing.T, c *http.Client, url string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, metricsContentType) {
		t.Errorf("GET %s: Content-Type %q, want %q", url, ct, metricsContentType)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	for name, f := range families {
		if f.GetHelp() == "" {
			t.Errorf("%s has no HELP", name)
		}
	}
	return families
}

// value is the value of the series of family with exactly labels, or -1 when there is none.
func value(families map[string]*dto.MetricFamily, family string, labels ...string) float64 {
	f := families[family]
	if f == nil {
		return -1
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if !maps.Equal(got, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// labelValues lists the values label takes in family.
func labelValues(families map[string]*dto.MetricFamily, family, label string) []string {
	var vs []string
	for _, m := range families[family].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label {
				vs = append(vs, l.GetValue())
			}
		}
	}
	slices.Sort(vs)
	return slices.Compact(vs)
}

// histogramBuckets are the upper bounds of family's first series, +Inf left out.
func histogramBuckets(families map[string]*dto.MetricFamily, family string) []float64 {
	var bounds []float64
	if f := families[family]; f != nil && len(f.GetMetric()) > 0 {
		for _, b := range f.GetMetric()[0].GetHistogram().GetBucket() {
			if !math.IsInf(b.GetUpperBound(), 1) {
				bounds = append(bounds, b.GetUpperBound())
			}
		}
	}
	return bounds
}

// TestHTTPMetrics sends known requests to echo and csv, in both tiers, and reads the exact
// counts back from /metrics: by method, route and code, with unknown paths as route "other",
// /health and /metrics not counted, the body bytes both ways, the contract's buckets, nothing
// left in flight, and the connections the client opened.
func TestHTTPMetrics(t *testing.T) {
	const doc = `{ "a" : [1, 2] }`
	cases := []struct {
		workload, route, body, answer string
	}{
		{"echo", "/echo", doc, `{"a":[1,2]}`},
		{"csv", "/csv", "timestamp,symbol,price,quantity\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n", ""},
	}
	for _, c := range cases {
		for _, tier := range []string{tierIdiomatic, tierTuned} {
			t.Run(c.workload+"/"+tier, func(t *testing.T) {
				s := startTelemetryServer(t, c.workload, config{tier: tier})
				var sent, answered int
				for range 3 {
					code, out := s.do(t, "POST", c.route, c.body)
					if code != 200 || c.answer != "" && out != c.answer {
						t.Fatalf("POST %s: %d %s", c.route, code, out)
					}
					sent, answered = sent+len(c.body), answered+len(out)
				}
				code, out := s.do(t, "POST", c.route, "{")
				sent, answered = sent+1, answered+len(out)
				if code != 400 {
					t.Fatalf("POST %s {: %d", c.route, code)
				}
				code, out = s.do(t, "GET", c.route, "")
				answered += len(out)
				if code != 405 {
					t.Fatalf("GET %s: %d", c.route, code)
				}
				if code, _ := s.do(t, "GET", "/nope", ""); code != 404 {
					t.Fatalf("GET /nope: %d", code)
				}
				if code, _ := s.do(t, "FETCH", "/nope", ""); code != 404 {
					t.Fatalf("FETCH /nope: %d", code)
				}
				for range 2 {
					if code, _ := s.do(t, "GET", "/health", ""); code != 200 {
						t.Fatalf("GET /health: %d", code)
					}
				}
				scrape(t, s.c, s.url+"/metrics")
				m := scrape(t, s.c, s.url+"/metrics")

				for _, w := range []struct {
					labels []string
					want   float64
				}{
					{[]string{"method", "POST", "route", c.route, "code", "200"}, 3},
					{[]string{"method", "POST", "route", c.route, "code", "400"}, 1},
					{[]string{"method", "GET", "route", c.route, "code", "405"}, 1},
					{[]string{"method", "GET", "route", "other", "code", "404"}, 1},
					{[]string{"method", "_OTHER", "route", "other", "code", "404"}, 1},
				} {
					if got := value(m, "http_requests_total", w.labels...); got != w.want {
						t.Errorf("http_requests_total%v = %v, want %v", w.labels, got, w.want)
					}
				}
				if got := labelValues(m, "http_requests_total", "route"); !slices.Equal(got, []string{c.route, "other"}) {
					t.Errorf("routes %q, want only %s and other (no /health, no /metrics)", got, c.route)
				}
				if got := value(m, "http_request_duration_seconds", "route", c.route); got != 5 {
					t.Errorf("http_request_duration_seconds{route=%s} count %v, want 5", c.route, got)
				}
				if got := histogramBuckets(m, "http_request_duration_seconds"); !slices.Equal(got, durationBuckets) {
					t.Errorf("buckets %v, want %v", got, durationBuckets)
				}
				if got := value(m, "http_request_body_bytes_total", "route", c.route); got != float64(sent) {
					t.Errorf("http_request_body_bytes_total = %v, want %d", got, sent)
				}
				if got := value(m, "http_response_body_bytes_total", "route", c.route); got != float64(answered) {
					t.Errorf("http_response_body_bytes_total = %v, want %d", got, answered)
				}
				if got := value(m, "http_requests_in_flight"); got != 0 {
					t.Errorf("http_requests_in_flight = %v during a scrape, want 0", got)
				}
				if got, want := value(m, "http_connections_total"), float64(*s.dials); got != want || want < 1 {
					t.Errorf("http_connections_total = %v, the client opened %v", got, want)
				}
				if got := value(m, "http_connections_open"); got < 1 || got > float64(*s.dials) {
					t.Errorf("http_connections_open = %v, the client opened %d", got, *s.dials)
				}
				for _, name := range processFamilies {
					if m[name] == nil {
						t.Errorf("no %s", name)
					}
				}
			})
		}
	}
}

// TestMetricsRefusesOtherMethods: /metrics answers GET and HEAD only, with the JSON 405 of
// every route.
func TestMetricsRefusesOtherMethods(t *testing.T) {
	s := startTelemetryServer(t, "echo", config{})
	if code, out := s.do(t, "POST", "/metrics", "x"); code != 405 || out != string(methodNotAllowedBody) {
		t.Errorf("POST /metrics: %d %s", code, out)
	}
}

// TestGRPCMetrics makes known calls and reads go-grpc-middleware's families from the metrics
// listener: calls started and handled by method and status, messages sent, the handling time
// in the contract's buckets.
func TestGRPCMetrics(t *testing.T) {
	g := startGRPC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 2 {
		if _, err := g.ticks.Quote(ctx, &ticksv1.QuoteRequest{Symbol: "AAPL"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.ticks.Quote(ctx, &ticksv1.QuoteRequest{Symbol: "aapl"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("Quote aapl: %v", err)
	}
	stream, err := g.ticks.Stream(ctx, &ticksv1.StreamRequest{Symbol: "AAPL", Count: 5})
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; ; n++ {
		if _, err := stream.Recv(); err == io.EOF {
			if n != 5 {
				t.Fatalf("%d ticks", n)
			}
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms := newMetricsServer(g.tel)
	go ms.serve(ln)
	t.Cleanup(func() { ms.stop(context.Background()) })
	m := scrape(t, http.DefaultClient, "http://"+ln.Addr().String()+"/metrics")

	for _, w := range []struct {
		family string
		labels []string
		want   float64
	}{
		{"grpc_server_started_total", []string{"grpc_method", "Quote"}, 3},
		{"grpc_server_started_total", []string{"grpc_method", "Stream"}, 1},
		{"grpc_server_started_total", []string{"grpc_method", "Check"}, 0},
		{"grpc_server_handled_total", []string{"grpc_method", "Quote", "grpc_code", "OK"}, 2},
		{"grpc_server_handled_total", []string{"grpc_method", "Quote", "grpc_code", "InvalidArgument"}, 1},
		{"grpc_server_handled_total", []string{"grpc_method", "Stream", "grpc_code", "OK"}, 1},
		{"grpc_server_msg_sent_total", []string{"grpc_method", "Stream"}, 5},
		{"grpc_server_msg_sent_total", []string{"grpc_method", "Quote"}, 2},
		{"grpc_server_handling_seconds", []string{"grpc_method", "Quote"}, 3},
	} {
		if got := grpcValue(m, w.family, w.labels...); got != w.want {
			t.Errorf("%s%v = %v, want %v", w.family, w.labels, got, w.want)
		}
	}
	if got := histogramBuckets(m, "grpc_server_handling_seconds"); !slices.Equal(got, durationBuckets) {
		t.Errorf("buckets %v, want %v", got, durationBuckets)
	}
	for _, name := range processFamilies {
		if m[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	if m["http_requests_total"] != nil {
		t.Error("grpc has http_requests_total")
	}
	res, err := http.Get("http://" + ln.Addr().String() + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("GET /nope on the metrics port: %d", res.StatusCode)
	}
}

// grpcValue is value for go-grpc-middleware's families, whose series also carry grpc_type and
// grpc_service (contracts/telemetry.md, Go): the labels given must match, the others are
// summed over.
func grpcValue(families map[string]*dto.MetricFamily, family string, labels ...string) float64 {
	f := families[family]
	if f == nil {
		return -1
	}
	sum, found := 0.0, false
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if got[labels[i]] != labels[i+1] {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	if !found {
		return -1
	}
	return sum
}

// otlpReceiver is an OTLP/HTTP collector in the test: it decodes every
// ExportTraceServiceRequest posted to /v1/traces.
type otlpReceiver struct {
	url  string
	mu   sync.Mutex
	reqs []*coltracepb.ExportTraceServiceRequest
	bad  []string
}

func startOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(r.receive)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	r.url = "http://" + ln.Addr().String()
	return r
}

func (r *otlpReceiver) receive(w http.ResponseWriter, req *http.Request) {
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	var msg coltracepb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(b, &msg)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case req.Method != "POST" || req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf":
		r.bad = append(r.bad, fmt.Sprintf("%s %s %s", req.Method, req.URL.Path, req.Header.Get("Content-Type")))
	case err != nil:
		r.bad = append(r.bad, err.Error())
	default:
		r.reqs = append(r.reqs, &msg)
	}
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

// receivedSpan is a span as received, with its resource's attributes.
type receivedSpan struct {
	*tracepb.Span
	resource map[string]string
}

func (r *otlpReceiver) spans(t *testing.T) []receivedSpan {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.bad {
		t.Errorf("the collector got %s", b)
	}
	var spans []receivedSpan
	for _, req := range r.reqs {
		for _, rs := range req.GetResourceSpans() {
			res := attrMap(rs.GetResource().GetAttributes())
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					spans = append(spans, receivedSpan{s, res})
				}
			}
		}
	}
	return spans
}

// attrMap renders attributes as strings: "POST", "200", "true".
func attrMap(kvs []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.GetKey()] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.GetKey()] = strconv.FormatInt(v.IntValue, 10)
		case *commonpb.AnyValue_BoolValue:
			m[kv.GetKey()] = strconv.FormatBool(v.BoolValue)
		default:
			m[kv.GetKey()] = kv.GetValue().String()
		}
	}
	return m
}

// checkAttrs reports the attributes of want that span lacks or has otherwise.
func checkAttrs(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q, want %q (all: %v)", what, k, got[k], v, got)
		}
	}
}

// flush stops the service's tracer provider, which sends what is queued.
func flush(t *testing.T, tel *telemetry) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tel.shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

const (
	testTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	testSpanID  = "00f067aa0ba902b7"
)

// TestHTTPTraces: with every root sampled, a request with a sampled traceparent is its trace's
// child, one without is a new root, one with an unsampled traceparent is not sent, and an
// invalid traceparent starts a new root; each SERVER span has the contract's name and
// attributes, the resource its service, and /health and /metrics are not traced.
func TestHTTPTraces(t *testing.T) {
	rcv := startOTLPReceiver(t)
	s := startTelemetryServer(t, "echo", config{otlpEndpoint: rcv.url, traceRatio: 1})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.url, "http://"))

	s.do(t, "POST", "/echo", "[1]", "traceparent", "00-"+testTraceID+"-"+testSpanID+"-01")
	s.do(t, "POST", "/echo", "[2]")
	s.do(t, "POST", "/echo", "[3]", "traceparent", "00-"+testTraceID+"-"+testSpanID+"-00")
	s.do(t, "POST", "/echo", "[4]", "traceparent", "00-"+strings.Repeat("0", 32)+"-"+testSpanID+"-01")
	s.do(t, "GET", "/nope", "")
	s.do(t, "GET", "/health", "")
	s.do(t, "GET", "/metrics", "")
	flush(t, s.tel)

	spans := rcv.spans(t)
	if len(spans) != 4 {
		for _, sp := range spans {
			t.Logf("span %s %s", sp.GetName(), attrMap(sp.GetAttributes()))
		}
		t.Fatalf("%d spans, want 4 (child, root, invalid parent's root, 404)", len(spans))
	}
	child, root, invalid, unknown := spans[0], spans[1], spans[2], spans[3]
	for i, sp := range spans[:3] {
		what := fmt.Sprintf("span %d", i)
		if sp.GetName() != "POST /echo" || sp.GetKind() != tracepb.Span_SPAN_KIND_SERVER {
			t.Errorf("%s: %q kind %v, want a SERVER span POST /echo", what, sp.GetName(), sp.GetKind())
		}
		checkAttrs(t, what, attrMap(sp.GetAttributes()), map[string]string{
			"http.request.method": "POST", "url.path": "/echo", "http.route": "/echo",
			"http.response.status_code": "200", "network.protocol.version": "1.1",
			"server.port": port,
		})
		checkAttrs(t, what+" resource", sp.resource, map[string]string{
			"service.name": "stackbench-echo", "telemetry.sdk.language": "go", "service.version": "dev",
		})
	}
	if hex.EncodeToString(child.GetTraceId()) != testTraceID || hex.EncodeToString(child.GetParentSpanId()) != testSpanID {
		t.Errorf("child: trace %x parent %x, want %s %s", child.GetTraceId(), child.GetParentSpanId(), testTraceID, testSpanID)
	}
	for what, sp := range map[string]receivedSpan{"root": root, "invalid traceparent": invalid} {
		if len(sp.GetParentSpanId()) != 0 || hex.EncodeToString(sp.GetTraceId()) == testTraceID {
			t.Errorf("%s: trace %x parent %x, want a new root", what, sp.GetTraceId(), sp.GetParentSpanId())
		}
	}
	if unknown.GetName() != "GET" {
		t.Errorf("unknown path: span %q, want GET (no route)", unknown.GetName())
	}
	if a := attrMap(unknown.GetAttributes()); a["http.route"] != "" || a["http.response.status_code"] != "404" {
		t.Errorf("unknown path: attributes %v", a)
	}
}

// TestTraceRatioZeroSendsNothing: with --trace-ratio 0 and no traceparent nothing is sampled,
// and the collector hears nothing, not even an empty batch.
func TestTraceRatioZeroSendsNothing(t *testing.T) {
	rcv := startOTLPReceiver(t)
	s := startTelemetryServer(t, "echo", config{otlpEndpoint: rcv.url, traceRatio: 0})
	for range 20 {
		if code, _ := s.do(t, "POST", "/echo", "[1]"); code != 200 {
			t.Fatalf("POST /echo: %d", code)
		}
	}
	flush(t, s.tel)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.reqs)+len(rcv.bad) != 0 {
		t.Errorf("%d exports with ratio 0", len(rcv.reqs)+len(rcv.bad))
	}
}

// TestDeadCollectorCostsNothing: with every request sampled and the collector's port closed,
// requests are answered as usual, and stop returns when its deadline passes, whatever the
// exporter is still trying.
func TestDeadCollectorCostsNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	s := startTelemetryServer(t, "echo", config{otlpEndpoint: dead, traceRatio: 1})
	for i := range 3000 { // more than the queue holds: the rest are dropped
		if code, out := s.do(t, "POST", "/echo", "[1]"); code != 200 || out != "[1]" {
			t.Fatalf("request %d: %d %s", i, code, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.tel.shutdown(ctx) }()
	select {
	case <-done: // an error, the spans not sent, or nil if the exporter gave up first
	case <-time.After(30 * time.Second):
		t.Fatal("shutdown did not return after its deadline")
	}
}

// TestGRPCTraces: a Quote with a sampled traceparent gives one SERVER span, its child, named
// and described as the contract says.
func TestGRPCTraces(t *testing.T) {
	rcv := startOTLPReceiver(t)
	tel, err := newTelemetry(config{otlpEndpoint: rcv.url, traceRatio: 1}, "grpc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := newGRPC(config{tier: tierIdiomatic}, tel)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := s.(*grpcServer)
	go srv.serve(ln)
	t.Cleanup(srv.close)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "traceparent", "00-"+testTraceID+"-"+testSpanID+"-01")
	if _, err := ticksv1.NewTicksClient(conn).Quote(ctx, &ticksv1.QuoteRequest{Symbol: "AAPL"}); err != nil {
		t.Fatal(err)
	}
	flush(t, tel)
	spans := rcv.spans(t)
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	sp := spans[0]
	if sp.GetName() != "stackbench.v1.Ticks/Quote" || sp.GetKind() != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("span %q kind %v", sp.GetName(), sp.GetKind())
	}
	if hex.EncodeToString(sp.GetTraceId()) != testTraceID || hex.EncodeToString(sp.GetParentSpanId()) != testSpanID {
		t.Errorf("trace %x parent %x", sp.GetTraceId(), sp.GetParentSpanId())
	}
	checkAttrs(t, "Quote", attrMap(sp.GetAttributes()), map[string]string{
		"rpc.system": "grpc", "rpc.service": "stackbench.v1.Ticks", "rpc.method": "Quote",
		"rpc.grpc.status_code": "0",
	})
	checkAttrs(t, "resource", sp.resource, map[string]string{"service.name": "stackbench-grpc", "telemetry.sdk.language": "go"})
}

// TestNoTracingWithoutEndpoint: without --otlp-endpoint there is no tracer provider, and the
// HTTP chain has no otelhttp in it: a traceparent changes nothing.
func TestNoTracingWithoutEndpoint(t *testing.T) {
	s := startTelemetryServer(t, "echo", config{traceRatio: 1})
	if s.tel.tracing() {
		t.Fatal("tracing without --otlp-endpoint")
	}
	if _, ok := s.srv.handler("").(http.HandlerFunc); !ok {
		t.Errorf("handler chain %T", s.srv.handler(""))
	}
	if code, _ := s.do(t, "POST", "/echo", "[1]", "traceparent", "00-"+testTraceID+"-"+testSpanID+"-01"); code != 200 {
		t.Errorf("POST /echo: %d", code)
	}
}

// BenchmarkHTTPMetrics is the metrics middleware alone around a handler that answers 200:
// it must not allocate.
func BenchmarkHTTPMetrics(b *testing.B) {
	tel, err := newTelemetry(config{}, "echo")
	if err != nil {
		b.Fatal(err)
	}
	mux := newContractMux()
	mux.route("POST", "/echo", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	h := newHTTPMetrics(tel.reg, mux).handler(mux)
	r, _ := http.NewRequest("POST", "/echo", bytes.NewReader(nil))
	r.Body = http.NoBody
	w := &nullWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		r.Pattern = ""
		h.ServeHTTP(w, r)
	}
}

type nullWriter struct{ h http.Header }

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nullWriter) WriteHeader(int)             {}

// TestServeWithTelemetry runs grpc as run does, with --metrics-port and --otlp-endpoint: the
// metrics line and listener, a traced call, and SIGTERM, after which serve has sent the span
// still queued (the batch's second has not passed) before it returns.
func TestServeWithTelemetry(t *testing.T) {
	rcv := startOTLPReceiver(t)
	cfg := config{host: "127.0.0.1", port: 0, tier: tierIdiomatic, metricsPort: freePort(t), otlpEndpoint: rcv.url, traceRatio: 1}
	tel, err := newTelemetry(cfg, "grpc")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newGRPC(cfg, tel)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- serve(cfg, srv, tel, pw)
		pw.Close()
	}()
	log := bufio.NewReader(pr)
	var lines []string
	for range 2 {
		line, err := log.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	go io.Copy(io.Discard, log)
	addr := strings.TrimSuffix(strings.TrimPrefix(lines[0], "listening on http://"), "\n")
	wantMetrics := fmt.Sprintf("metrics on http://127.0.0.1:%d/metrics\n", cfg.metricsPort)
	if lines[1] != wantMetrics {
		t.Fatalf("second line %q, want %q", lines[1], wantMetrics)
	}
	c := ticksv1.NewTicksClient(dialGRPC(t, addr))
	if _, err := c.Quote(callCtx(t), &ticksv1.QuoteRequest{Symbol: "AAPL"}); err != nil {
		t.Fatal(err)
	}
	m := scrape(t, http.DefaultClient, strings.TrimSuffix(strings.TrimPrefix(wantMetrics, "metrics on "), "\n"))
	if got := grpcValue(m, "grpc_server_handled_total", "grpc_method", "Quote", "grpc_code", "OK"); got != 1 {
		t.Errorf("grpc_server_handled_total{Quote,OK} = %v, want 1", got)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return after SIGTERM")
	}
	if spans := rcv.spans(t); len(spans) != 1 || spans[0].GetName() != "stackbench.v1.Ticks/Quote" {
		t.Errorf("%d spans received by the time serve returned, want the Quote's", len(spans))
	}
	if _, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", cfg.metricsPort), time.Second); err == nil {
		t.Error("the metrics port still accepts after stop")
	}
}
