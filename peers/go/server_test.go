package main

// What the tests of every workload share: a loopback server with serve's timeouts, a raw
// connection to send bytes as the contract cases do, and a client that checks what every
// answer has. And the test of serve itself.

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// workloadHandler builds the handler of a workload served over HTTP from the workloads
// table, as run does.
func workloadHandler(t *testing.T, name string, cfg config) http.Handler {
	t.Helper()
	srv, err := workloads[name].tiers[cfg.tier](cfg, testTelemetry(t, name))
	if err != nil {
		t.Fatal(err)
	}
	hs, ok := srv.(*httpServer)
	if !ok {
		t.Fatalf("%s is not served over HTTP", name)
	}
	return hs.handler("")
}

// testTelemetry is the telemetry of a service without --otlp-endpoint: metrics only.
func testTelemetry(t *testing.T, workload string) *telemetry {
	t.Helper()
	tel, err := newTelemetry(config{traceRatio: defaultTraceRatio}, workload)
	if err != nil {
		t.Fatal(err)
	}
	return tel
}

// startTestServer serves h on loopback with serve's timeouts (readTimeout for the head and
// the body), closed when the test ends.
func startTestServer(t *testing.T, h http.Handler, readTimeout time.Duration) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(h)
	ts.Config.ReadHeaderTimeout = readTimeout
	ts.Config.ReadTimeout = readTimeout
	ts.Config.IdleTimeout = idleTimeout
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

// rawConn sends raw bytes and reads answers, the way the contract cases do.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, ts *httptest.Server) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) send(s string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, s); err != nil {
		r.t.Fatal(err)
	}
}

// answer reads one answer to a request with method m; body is "" for HEAD.
func (r *rawConn) answer(m string) (*http.Response, string) {
	r.t.Helper()
	res, err := http.ReadResponse(r.br, &http.Request{Method: m})
	if err != nil {
		r.t.Fatalf("reading the answer: %v", err)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		r.t.Fatalf("reading the answer's body: %v", err)
	}
	return res, string(b)
}

// closed reports whether the server closed the connection (EOF or reset, nothing else sent).
func (r *rawConn) closed() bool {
	r.c.SetReadDeadline(time.Now().Add(3 * time.Second))
	var b [1]byte
	n, err := r.br.Read(b[:])
	if n > 0 {
		r.t.Errorf("unexpected byte %q after the answer", b[0])
		return false
	}
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func post(t *testing.T, ts *httptest.Server, path, body string) (*http.Response, string) {
	t.Helper()
	res, err := http.Post(ts.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func checkJSONAnswer(t *testing.T, res *http.Response, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("status %d, want %d", res.StatusCode, status)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if len(res.TransferEncoding) > 0 {
		t.Errorf("Transfer-Encoding %v, want a Content-Length", res.TransferEncoding)
	}
}

var client = &http.Client{Timeout: 10 * time.Second}

// reply is an answer as do reads it.
type reply struct {
	status int
	allow  string
	body   string
	took   time.Duration
}

// do sends one request (no body when body is "") and checks what every answer of every
// workload has: a JSON Content-Type and a Content-Length that is the body's (so, no chunks).
func do(t *testing.T, method, url, body string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, url, ct)
	}
	if method != "HEAD" && res.Header.Get("Content-Length") != strconv.Itoa(len(b)) {
		t.Errorf("%s %s: Content-Length %q for %d bytes", method, url, res.Header.Get("Content-Length"), len(b))
	}
	return reply{res.StatusCode, res.Header.Get("Allow"), string(b), took}
}

// TestServeStopsGracefully runs the whole server: the listening line, answers, a request in
// flight when SIGTERM arrives (it is answered), then "served N requests" and a nil return.
func TestServeStopsGracefully(t *testing.T) {
	h, _ := newEcho(config{bodyLimit: 1 << 20}, nil)
	tel := testTelemetry(t, "echo")
	srv := newHTTPServer(h, tel)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- serve(config{host: "127.0.0.1", port: 0, bodyLimit: 1 << 20}, srv, tel, pw)
		pw.Close()
	}()
	log := bufio.NewReader(pr)
	line, err := log.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^listening on (http://127\.0\.0\.1:[0-9]+)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q", line)
	}
	url := m[1]
	rest := make(chan string, 1)
	go func() { // io.Pipe is unbuffered: keep reading so serve never blocks on its log
		b, _ := io.ReadAll(log)
		rest <- string(b)
	}()

	for range 3 {
		res, err := http.Get(url + "/health")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}

	// A request whose body is still on its way when the signal comes.
	body, bodyw := io.Pipe()
	type result struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", url+"/echo", body)
		req.ContentLength = 9
		res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		if err != nil {
			inflight <- result{err: err}
			return
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		inflight <- result{res.StatusCode, string(b), err}
	}()
	io.WriteString(bodyw, `{"a"`)
	time.Sleep(200 * time.Millisecond) // the request is in the handler now
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := http.Get(url + "/health"); err == nil {
		t.Error("still accepting after SIGTERM")
	}
	io.WriteString(bodyw, ": 1 }")
	bodyw.Close()
	r := <-inflight
	if r.err != nil || r.status != 200 || r.body != `{"a":1}` {
		t.Errorf("in-flight request: %d %q %v", r.status, r.body, r.err)
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
