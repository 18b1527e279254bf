package main

// The grpc workload over a real loopback listener: grpc-go's client for what a client sees,
// and a bare h2c client (net/http's) for the answers to requests no gRPC client sends.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stackbench/stackbench/peers/go/internal/ticks"
	"github.com/stackbench/stackbench/peers/go/ticksv1"
)

// grpcTest is a grpc workload serving on loopback, built from the workloads table, and one
// client connection to it.
type grpcTest struct {
	srv   *grpcServer
	addr  string
	conn  *grpc.ClientConn
	ticks ticksv1.TicksClient
	tel   *telemetry
}

func startGRPC(t *testing.T) *grpcTest {
	t.Helper()
	tel := testTelemetry(t, "grpc")
	s, err := workloads["grpc"].tiers[tierIdiomatic](config{host: "127.0.0.1", tier: tierIdiomatic}, tel)
	if err != nil {
		t.Fatal(err)
	}
	srv := s.(*grpcServer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.serve(ln)
	t.Cleanup(srv.close)
	addr := ln.Addr().String()
	conn := dialGRPC(t, addr)
	return &grpcTest{srv, addr, conn, ticksv1.NewTicksClient(conn), tel}
}

func dialGRPC(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// callCtx bounds every call of a test.
func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// checkTick checks every field of tick seq of symbol with a payload of n bytes.
func checkTick(t *testing.T, tick *ticksv1.Tick, symbol string, seq uint64, n int) {
	t.Helper()
	if tick.GetSymbol() != symbol || tick.GetSeq() != seq {
		t.Fatalf("tick %q #%d, want %q #%d", tick.GetSymbol(), tick.GetSeq(), symbol, seq)
	}
	if want := ticks.Symbol(symbol).At(seq); tick.GetPriceMicros() != want {
		t.Fatalf("tick #%d: price %d, want %d", seq, tick.GetPriceMicros(), want)
	}
	if tick.GetTsNs() == 0 {
		t.Fatalf("tick #%d: ts_ns 0", seq)
	}
	p := tick.GetPayload()
	if len(p) != n {
		t.Fatalf("tick #%d: %d payload bytes, want %d", seq, len(p), n)
	}
	for i, b := range p {
		if b != byte(seq+uint64(i)) {
			t.Fatalf("tick #%d: payload byte %d is %d, want %d", seq, i, b, byte(seq+uint64(i)))
		}
	}
}

// streamAll reads a whole Stream and checks every tick; it returns how many came.
func streamAll(t *testing.T, ctx context.Context, c ticksv1.TicksClient, symbol string, count, n uint32) int {
	t.Helper()
	st, err := c.Stream(ctx, &ticksv1.StreamRequest{Symbol: symbol, Count: count, PayloadBytes: n})
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for {
		tick, err := st.Recv()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("after %d ticks: %v", got, err)
		}
		got++
		checkTick(t, tick, symbol, uint64(got), int(n))
	}
}

func TestGRPCPriceExamples(t *testing.T) {
	g := startGRPC(t)
	ctx := callCtx(t)
	cases := []struct {
		symbol string
		seq    uint64
		want   int64
	}{
		{"AAPL", 0, 45295362},
		{"AAPL", 1, 46135581},
		{"AAPL", 2, 46784881},
		{"MSFT", 1, 431584221},
		{"BRK.B", 3, 704101619},
	}
	for _, c := range cases {
		var last *ticksv1.Tick
		if c.seq == 0 {
			tick, err := g.ticks.Quote(ctx, &ticksv1.QuoteRequest{Symbol: c.symbol})
			if err != nil {
				t.Fatal(err)
			}
			last = tick
		} else {
			st, err := g.ticks.Stream(ctx, &ticksv1.StreamRequest{Symbol: c.symbol, Count: uint32(c.seq)})
			if err != nil {
				t.Fatal(err)
			}
			for {
				tick, err := st.Recv()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				last = tick
			}
		}
		if last.GetSeq() != c.seq || last.GetPriceMicros() != c.want {
			t.Errorf("price(%q, %d): got tick #%d at %d, want %d", c.symbol, c.seq, last.GetSeq(), last.GetPriceMicros(), c.want)
		}
	}
}

func TestGRPCStreamEveryTick(t *testing.T) {
	g := startGRPC(t)
	ctx := callCtx(t)
	cases := []struct {
		symbol   string
		count, n uint32
	}{
		{"AAPL", 1000, 100},
		{"BRK.B", 3, 0},
		{"ABCDEFGHIJKL", 300, maxPayload}, // 12 bytes, the largest payload, every offset once
		{"0.9", 1, 1},
	}
	for _, c := range cases {
		if got := streamAll(t, ctx, g.ticks, c.symbol, c.count, c.n); got != int(c.count) {
			t.Errorf("Stream(%q, %d, %d): %d ticks", c.symbol, c.count, c.n, got)
		}
	}
}

func TestGRPCQuote(t *testing.T) {
	g := startGRPC(t)
	before := uint64(time.Now().UnixNano())
	tick, err := g.ticks.Quote(callCtx(t), &ticksv1.QuoteRequest{Symbol: "AAPL"})
	if err != nil {
		t.Fatal(err)
	}
	checkTick(t, tick, "AAPL", 0, 0)
	if after := uint64(time.Now().UnixNano()); tick.GetTsNs() < before || tick.GetTsNs() > after {
		t.Errorf("ts_ns %d not between %d and %d", tick.GetTsNs(), before, after)
	}
}

// wantStatus checks a call's error: its code, and its message's start.
func wantStatus(t *testing.T, what string, err error, code codes.Code, prefix string) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != code || !strings.HasPrefix(st.Message(), prefix) {
		t.Errorf("%s: %v, want %v starting %q", what, err, code, prefix)
	}
}

// streamStatus is the status that ends a Stream call read to its end.
func streamStatus(ctx context.Context, c ticksv1.TicksClient, req *ticksv1.StreamRequest) error {
	st, err := c.Stream(ctx, req)
	if err != nil {
		return err
	}
	for {
		if _, err := st.Recv(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func TestGRPCInvalidFields(t *testing.T) {
	g := startGRPC(t)
	ctx := callCtx(t)
	const symbolMsg, countMsg, payloadMsg = "symbol: want 1-12 of [A-Z0-9.]", "count: want 1-1000000", "payload_bytes: want 0-65536"
	for _, sym := range []string{"", "aapl", "ABCDEFGHIJKLM", "AA PL", "AAPL\x00", "A-B", "É"} {
		_, err := g.ticks.Quote(ctx, &ticksv1.QuoteRequest{Symbol: sym})
		wantStatus(t, "Quote "+sym, err, codes.InvalidArgument, symbolMsg)
		err = streamStatus(ctx, g.ticks, &ticksv1.StreamRequest{Symbol: sym, Count: 1})
		wantStatus(t, "Stream "+sym, err, codes.InvalidArgument, symbolMsg)
	}
	cases := []struct {
		req  *ticksv1.StreamRequest
		want string
	}{
		{&ticksv1.StreamRequest{Symbol: "AAPL", Count: 0}, countMsg},
		{&ticksv1.StreamRequest{Symbol: "AAPL", Count: maxCount + 1}, countMsg},
		{&ticksv1.StreamRequest{Symbol: "AAPL", Count: 1, PayloadBytes: maxPayload + 1}, payloadMsg},
		{&ticksv1.StreamRequest{Symbol: "AAPL", Count: 1, PayloadBytes: 1 << 31}, payloadMsg},
		// The first field that fails is the one answered.
		{&ticksv1.StreamRequest{Symbol: "x", Count: 0, PayloadBytes: maxPayload + 1}, symbolMsg},
		{&ticksv1.StreamRequest{Symbol: "AAPL", Count: 0, PayloadBytes: maxPayload + 1}, countMsg},
	}
	for _, c := range cases {
		err := streamStatus(ctx, g.ticks, c.req)
		wantStatus(t, c.req.String(), err, codes.InvalidArgument, c.want)
		if st, _ := status.FromError(err); st.Message() != c.want {
			t.Errorf("%v: message %q, want exactly %q", c.req, st.Message(), c.want)
		}
	}
}

func TestGRPCDeadline(t *testing.T) {
	g := startGRPC(t)
	before := g.srv.served()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	st, err := g.ticks.Stream(ctx, &ticksv1.StreamRequest{Symbol: "AAPL", Count: maxCount, PayloadBytes: maxPayload})
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for {
		tick, err := st.Recv()
		if err != nil {
			wantStatus(t, "Stream past its deadline", err, codes.DeadlineExceeded, "")
			break
		}
		got++
		checkTick(t, tick, "AAPL", uint64(got), maxPayload)
	}
	if _, err := st.Recv(); err == nil {
		t.Error("a tick after the deadline's status")
	}
	if got == 0 || got == maxCount {
		t.Errorf("%d ticks before the deadline", got)
	}
	waitServed(t, g.srv, before+1) // the server's call ended too
}

func TestGRPCCancel(t *testing.T) {
	g := startGRPC(t)
	before := g.srv.served()
	ctx, cancel := context.WithCancel(callCtx(t))
	st, err := g.ticks.Stream(ctx, &ticksv1.StreamRequest{Symbol: "AAPL", Count: maxCount, PayloadBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	for k := uint64(1); k <= 10; k++ {
		tick, err := st.Recv()
		if err != nil {
			t.Fatal(err)
		}
		checkTick(t, tick, "AAPL", k, 64)
	}
	cancel()
	for {
		if _, err := st.Recv(); err != nil {
			wantStatus(t, "cancelled Stream", err, codes.Canceled, "")
			break
		}
	}
	waitServed(t, g.srv, before+1) // the server's call ended
	tick, err := g.ticks.Quote(callCtx(t), &ticksv1.QuoteRequest{Symbol: "MSFT"})
	if err != nil {
		t.Fatalf("Quote on the same connection after a cancel: %v", err)
	}
	checkTick(t, tick, "MSFT", 0, 0)
}

func TestGRPCUnknownMethod(t *testing.T) {
	g := startGRPC(t)
	ctx := callCtx(t)
	for _, method := range []string{"/stackbench.v1.Ticks/Nope", "/stackbench.v1.Nope/Stream", "/nope/nope"} {
		err := g.conn.Invoke(ctx, method, &ticksv1.QuoteRequest{Symbol: "AAPL"}, &ticksv1.Tick{})
		wantStatus(t, method, err, codes.Unimplemented, "")
	}
}

func TestGRPCHealth(t *testing.T) {
	g := startGRPC(t)
	ctx := callCtx(t)
	hc := healthpb.NewHealthClient(g.conn)
	for _, service := range []string{"", "stackbench.v1.Ticks"} {
		res, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("Check(%q) = %v, %v; want SERVING", service, res, err)
		}
	}
	_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"})
	wantStatus(t, `Check("nope")`, err, codes.NotFound, "")
}

// TestGRPCConcurrentStreams: 8 streams at once on one connection, every tick of each checked.
func TestGRPCConcurrentStreams(t *testing.T) {
	g := startGRPC(t)
	ctx := callCtx(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			symbol := []string{"AAPL", "MSFT", "BRK.B", "X"}[i%4]
			if got := streamAll(t, ctx, g.ticks, symbol, 5000, uint32(64*i)); got != 5000 {
				t.Errorf("stream %d: %d ticks", i, got)
			}
		})
	}
	wg.Wait()
}

// TestGRPCStalledStreamHoldsItself: a client that stops reading a Stream of a million 64 KiB
// ticks stalls only that stream. The server makes ticks as the window lets them go, so the
// process (client and server: one heap) stays far from the 64 GB the call would make, and
// a Quote on the same connection is answered meanwhile.
func TestGRPCStalledStreamHoldsItself(t *testing.T) {
	g := startGRPC(t)
	ctx, cancel := context.WithCancel(callCtx(t))
	defer cancel()
	var m0 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	st, err := g.ticks.Stream(ctx, &ticksv1.StreamRequest{Symbol: "AAPL", Count: maxCount, PayloadBytes: maxPayload})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	tick, err := g.ticks.Quote(callCtx(t), &ticksv1.QuoteRequest{Symbol: "AAPL"})
	if err != nil {
		t.Fatalf("Quote beside a stalled stream: %v", err)
	}
	checkTick(t, tick, "AAPL", 0, 0)
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	if grown := int64(m1.HeapInuse) - int64(m0.HeapInuse); grown > 64<<20 {
		t.Errorf("heap grew by %d MiB while the stream was stalled", grown>>20)
	}
	// Reading again, the ticks go on where they stopped.
	for k := uint64(2); k <= 100; k++ {
		tick, err := st.Recv()
		if err != nil {
			t.Fatal(err)
		}
		checkTick(t, tick, "AAPL", k, maxPayload)
	}
}

// TestGRPCCountsEveryCall: served counts every call that reached a method, whatever its
// status (callCounter says which are not).
func TestGRPCCountsEveryCall(t *testing.T) {
	g := startGRPC(t)
	ctx := callCtx(t)
	g.ticks.Quote(ctx, &ticksv1.QuoteRequest{Symbol: "AAPL"})                                 // 1: OK
	g.ticks.Quote(ctx, &ticksv1.QuoteRequest{Symbol: "aapl"})                                 // 2: INVALID_ARGUMENT
	streamStatus(ctx, g.ticks, &ticksv1.StreamRequest{Symbol: "AAPL", Count: 3})              // 3: OK
	streamStatus(ctx, g.ticks, &ticksv1.StreamRequest{Symbol: "AAPL", Count: 0})              // 4: INVALID_ARGUMENT
	g.conn.Invoke(ctx, "/stackbench.v1.Ticks/Nope", &ticksv1.QuoteRequest{}, &ticksv1.Tick{}) // 5: UNIMPLEMENTED
	hc := healthpb.NewHealthClient(g.conn)
	hc.Check(ctx, &healthpb.HealthCheckRequest{})                // 6: SERVING
	hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"}) // 7: NOT_FOUND
	h2cCall(t, g.addr, "/stackbench.v1.Ticks/Stream", nil, nil)  // 8: no request message, INTERNAL
	// Not counted: grpc-go refuses a unary call without a message before any interceptor.
	h2cCall(t, g.addr, "/stackbench.v1.Ticks/Quote", nil, nil)
	waitServed(t, g.srv, 8)
	time.Sleep(100 * time.Millisecond)
	if n := g.srv.served(); n != 8 {
		t.Errorf("served %d, want 8", n)
	}
}

// waitServed waits until the server has counted at least n calls: the client may see a
// status before the server's call has ended.
func waitServed(t *testing.T, srv *grpcServer, n uint64) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); srv.served() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("served %d, want %d", srv.served(), n)
		}
	}
}

// grpcFrame is one gRPC message as it goes on the wire: a flag byte (1: compressed), the
// length in 4 bytes, the message.
func grpcFrame(compressed bool, msg []byte) []byte {
	b := make([]byte, 5, 5+len(msg))
	if compressed {
		b[0] = 1
	}
	binary.BigEndian.PutUint32(b[1:], uint32(len(msg)))
	return append(b, msg...)
}

func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// h2cAnswer is what a bare HTTP/2 request got: the HTTP status, grpc-status and grpc-message
// (from the trailers, or from the head of a trailers-only answer), the body's bytes, and the
// error that ended reading the body (a stream reset, say).
type h2cAnswer struct {
	httpStatus int
	grpcStatus string
	grpcMsg    string
	body       []byte
	bodyErr    error
}

// h2cCall sends one request over cleartext HTTP/2 with prior knowledge: POST path with
// gRPC's headers (content-type application/grpc, te trailers) unless hdr sets them, and body.
func h2cCall(t *testing.T, addr, path string, hdr map[string]string, body []byte) h2cAnswer {
	t.Helper()
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	req, err := http.NewRequest("POST", "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := (&http.Client{Transport: tr}).Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer res.Body.Close()
	a := h2cAnswer{httpStatus: res.StatusCode}
	a.body, a.bodyErr = io.ReadAll(res.Body)
	a.grpcStatus, a.grpcMsg = res.Header.Get("Grpc-Status"), res.Header.Get("Grpc-Message")
	if a.grpcStatus == "" {
		a.grpcStatus, a.grpcMsg = res.Trailer.Get("Grpc-Status"), res.Trailer.Get("Grpc-Message")
	}
	return a
}

// TestGRPCWireAnswers: grpc-go's answers to the requests of contracts/grpc.md's error table
// that no well-behaved gRPC client sends.
func TestGRPCWireAnswers(t *testing.T) {
	g := startGRPC(t)
	quote := marshal(t, &ticksv1.QuoteRequest{Symbol: "AAPL"})
	cases := []struct {
		name       string
		path       string
		hdr        map[string]string
		body       []byte
		httpStatus int
		grpcStatus string
	}{
		{"a well-formed Quote", "/stackbench.v1.Ticks/Quote", nil, grpcFrame(false, quote), 200, "0"},
		{"no request message", "/stackbench.v1.Ticks/Quote", nil, nil, 200, "13"},
		{"no request message on a Stream", "/stackbench.v1.Ticks/Stream", nil, nil, 200, "13"},
		{"not protobuf", "/stackbench.v1.Ticks/Quote", nil, grpcFrame(false, []byte{0xff, 0xff}), 200, "13"},
		{"a symbol that is not UTF-8", "/stackbench.v1.Ticks/Quote", nil, grpcFrame(false, []byte{0x0a, 2, 'A', 0xff}), 200, "13"},
		{"a frame cut short", "/stackbench.v1.Ticks/Quote", nil, grpcFrame(false, quote)[:4], 200, "13"},
		// gzip is registered with grpc-go by the OTLP exporter's module (contracts/grpc.md,
		// "Where the peers differ"): a compressed frame that is not gzip fails to decompress.
		{"compressed, grpc-encoding gzip", "/stackbench.v1.Ticks/Quote", map[string]string{"grpc-encoding": "gzip"}, grpcFrame(true, quote), 200, "13"},
		{"compressed, grpc-encoding br", "/stackbench.v1.Ticks/Quote", map[string]string{"grpc-encoding": "br"}, grpcFrame(true, quote), 200, "12"},
		{"compressed, no grpc-encoding", "/stackbench.v1.Ticks/Quote", nil, grpcFrame(true, quote), 200, "13"},
		{"compressed, grpc-encoding identity", "/stackbench.v1.Ticks/Quote", map[string]string{"grpc-encoding": "identity"}, grpcFrame(true, quote), 200, "13"},
		{"a message over 4 MiB", "/stackbench.v1.Ticks/Quote", nil, grpcFrame(false, make([]byte, 4<<20+1)), 200, "8"},
		{"unknown method", "/stackbench.v1.Ticks/Nope", nil, grpcFrame(false, quote), 200, "12"},
		{"content-type text/plain", "/stackbench.v1.Ticks/Quote", map[string]string{"content-type": "text/plain"}, grpcFrame(false, quote), 415, "3"},
		// Not HTTP 200, as the contract would have every gRPC answer: grpc-go's transport
		// refuses the header before the call exists.
		{"a malformed grpc-timeout", "/stackbench.v1.Ticks/Quote", map[string]string{"grpc-timeout": "1x"}, grpcFrame(false, quote), 400, "13"},
	}
	for _, c := range cases {
		a := h2cCall(t, g.addr, c.path, c.hdr, c.body)
		t.Logf("%s: HTTP %d, grpc-status %s, grpc-message %q, %d body bytes, %v", c.name, a.httpStatus, a.grpcStatus, a.grpcMsg, len(a.body), a.bodyErr)
		if a.httpStatus != c.httpStatus || a.grpcStatus != c.grpcStatus {
			t.Errorf("%s: HTTP %d grpc-status %q (%q), want %d %q", c.name, a.httpStatus, a.grpcStatus, a.grpcMsg, c.httpStatus, c.grpcStatus)
		}
	}
}

// TestGRPCTimeoutOnTheWire: a grpc-timeout that the server alone enforces (this client has no
// deadline of its own). grpc-go's server does not answer DEADLINE_EXCEEDED: when the timeout
// passes it resets the stream (RST_STREAM CANCEL) and sends no status; a gRPC client, whose
// own deadline passed at the same moment, reports DEADLINE_EXCEEDED itself.
func TestGRPCTimeoutOnTheWire(t *testing.T) {
	g := startGRPC(t)
	req := marshal(t, &ticksv1.StreamRequest{Symbol: "AAPL", Count: maxCount, PayloadBytes: maxPayload})
	start := time.Now()
	a := h2cCall(t, g.addr, "/stackbench.v1.Ticks/Stream", map[string]string{"grpc-timeout": "200m"}, grpcFrame(false, req))
	took := time.Since(start)
	t.Logf("grpc-timeout 200m: after %v, HTTP %d, grpc-status %q, %d body bytes, %v", took, a.httpStatus, a.grpcStatus, len(a.body), a.bodyErr)
	// net/http's HTTP/2 error types are unexported: the reset is known by its text.
	if a.httpStatus != 200 || a.grpcStatus != "" || a.bodyErr == nil || !strings.Contains(a.bodyErr.Error(), "CANCEL") {
		t.Errorf("HTTP %d, grpc-status %q, body ended by %v; want 200 and a reset (CANCEL) without a status", a.httpStatus, a.grpcStatus, a.bodyErr)
	}
	if took < 200*time.Millisecond || took > 3*time.Second {
		t.Errorf("the stream ended after %v, want soon after 200 ms", took)
	}
	if len(a.body) >= maxCount*maxPayload {
		t.Errorf("%d body bytes: the whole stream", len(a.body))
	}
}

// TestGRPCServeStopsGracefully runs the whole server as run does: the listening line, a
// Stream in flight when SIGTERM arrives (it finishes), no new connection, then "served N
// requests" and a nil return.
func TestGRPCServeStopsGracefully(t *testing.T) {
	tel := testTelemetry(t, "grpc")
	srv, err := newGRPC(config{tier: tierIdiomatic}, tel)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- serve(config{host: "127.0.0.1", port: 0}, srv, tel, pw)
		pw.Close()
	}()
	log := bufio.NewReader(pr)
	line, err := log.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^listening on http://(127\.0\.0\.1:[0-9]+)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q", line)
	}
	addr := m[1]
	rest := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(log)
		rest <- string(b)
	}()

	c := ticksv1.NewTicksClient(dialGRPC(t, addr))
	ctx := callCtx(t)
	for range 3 {
		if _, err := c.Quote(ctx, &ticksv1.QuoteRequest{Symbol: "AAPL"}); err != nil {
			t.Fatal(err)
		}
	}
	// A Stream read slowly enough to be in flight when the signal comes.
	st, err := c.Stream(ctx, &ticksv1.StreamRequest{Symbol: "AAPL", Count: 20, PayloadBytes: maxPayload})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("still accepting after SIGTERM")
	}
	got := 1
	for {
		_, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("in-flight Stream after %d ticks: %v", got, err)
		}
		got++
		time.Sleep(10 * time.Millisecond)
	}
	if got != 20 {
		t.Errorf("in-flight Stream: %d ticks, want 20", got)
	}

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after SIGTERM")
	}
	if tail := <-rest; tail != "served 4 requests\n" {
		t.Errorf("log after the first line %q, want only \"served 4 requests\"", tail)
	}
}

// TestGRPCCheckPasses builds cmd/grpc-check and runs it against the workload: every check
// passes.
func TestGRPCCheckPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/grpc-check")
	}
	g := startGRPC(t)
	bin := filepath.Join(t.TempDir(), "grpc-check")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "./cmd/grpc-check")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("building grpc-check: %v", err)
	}
	out, err := exec.Command(bin, g.addr).CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	if err != nil || strings.Contains(string(out), "FAIL") {
		t.Errorf("grpc-check %s: %v\n%s", g.addr, err, out)
	}
}
