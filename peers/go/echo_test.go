package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testLimit = 1 << 20

// newTestServer serves the echo workload's tier with the production timeouts unless told
// otherwise.
func newTestServer(t *testing.T, tier string, readTimeout time.Duration) *httptest.Server {
	t.Helper()
	h := workloadHandler(t, "echo", config{host: "127.0.0.1", bodyLimit: testLimit, tier: tier})
	return startTestServer(t, h, readTimeout)
}

// eachTier runs test once per tier, as a subtest named after it.
func eachTier(t *testing.T, test func(t *testing.T, tier string)) {
	for _, tier := range []string{tierIdiomatic, tierTuned} {
		t.Run(tier, func(t *testing.T) { test(t, tier) })
	}
}

func nested(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

func TestEchoMinifies(t *testing.T) { eachTier(t, testEchoMinifies) }

func testEchoMinifies(t *testing.T, tier string) {
	ts := newTestServer(t, tier, requestTimeout)
	cases := []struct{ name, in, want string }{
		{"object", "{ \"id\" : 7, \"tags\" : [ \"a\", \"b\" ],\n  \"ok\" : true, \"n\" : null, \"x\" : {} }",
			`{"id":7,"tags":["a","b"],"ok":true,"n":null,"x":{}}`},
		{"numbers as written", "[ 1.50e+3, -0.0, 0, 1E-7, 12345678901234567890123, 3.14159265358979323846 ]",
			`[1.50e+3,-0.0,0,1E-7,12345678901234567890123,3.14159265358979323846]`},
		{"escapes as written", `{ "e" : "caf\u00e9 \/ \"q\" \\ \n\t\b\f\r\uD83D\uDE00" }`,
			`{"e":"caf\u00e9 \/ \"q\" \\ \n\t\b\f\r\uD83D\uDE00"}`},
		{"raw UTF-8 as written", "{ \"u\" : \"café 日本 😀\", \"k k\" : \" spaced \" }",
			`{"u":"café 日本 😀","k k":" spaced "}`},
		{"HTML characters untouched", `[ "<a href='x'>&amp;</a>", "\u2028" ]`, `["<a href='x'>&amp;</a>","\u2028"]`},
		{"raw U+2028 untouched", "[\"\u2028\u2029\"]", "[\"\u2028\u2029\"]"},
		{"order and duplicates", `{"z":1,"a":2,"z":3}`, `{"z":1,"a":2,"z":3}`},
		{"scalar string", "  \"just a string\"  \n", `"just a string"`},
		{"scalar number", "\t-12.5E+07\r\n", `-12.5E+07`},
		{"literals", " [ true , false , null ] ", `[true,false,null]`},
		{"empty containers", "{ \"a\" : [ ] , \"b\" : { } }", `{"a":[],"b":{}}`},
		{"depth 128", nested(128), nested(128)},
		{"depth 128 of objects", strings.Repeat(`{"a":`, 127) + "{}" + strings.Repeat("}", 127),
			strings.Repeat(`{"a":`, 127) + "{}" + strings.Repeat("}", 127)},
		{"brackets in strings do not nest", `["` + strings.Repeat("[", 200) + `\"` + `"]`,
			`["` + strings.Repeat("[", 200) + `\"` + `"]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, body := post(t, ts, "/echo", c.in)
			checkJSONAnswer(t, res, http.StatusOK)
			if body != c.want {
				t.Errorf("body %q, want %q", body, c.want)
			}
			if res.ContentLength != int64(len(c.want)) {
				t.Errorf("Content-Length %d, want %d", res.ContentLength, len(c.want))
			}
		})
	}
}

func TestEchoRejectsInvalidJSON(t *testing.T) { eachTier(t, testEchoRejectsInvalidJSON) }

func testEchoRejectsInvalidJSON(t *testing.T, tier string) {
	ts := newTestServer(t, tier, requestTimeout)
	cases := []struct {
		name, in string
		offset   int64
	}{
		{"trailing comma", `{"a": [1, 2,]}`, 12},
		{"trailing garbage", `{"a":1} x`, 8},
		{"two documents", `{} {}`, 3},
		{"leading zero", `[01]`, 2},
		{"bad escape", `["\x"]`, 3},
		{"bad unicode escape", `"\uZZZZ"`, 3},
		{"unterminated string", `["abc`, 5},
		{"raw tab in string", "[\"a\tb\"]", 3},
		{"raw NUL in string", "[\"a\x00b\"]", 3},
		{"single quotes", `{'a':1}`, 1},
		{"NaN", `[NaN]`, 1},
		{"unclosed object", `{"a":1`, 6},
		{"missing colon", `{"a" 1}`, 5},
		{"number key", `{1:2}`, 1},
		{"empty body", ``, 0},
		{"white space only", " \n ", 3},
		{"plus sign", `[+1]`, 1},
		{"bare fraction", `[.5]`, 1},
		{"empty fraction", `[1.]`, 3},
		{"empty exponent", `[1e]`, 3},
		{"cut literal", `tru`, 3},
		{"cut number", `-`, 1},
		{"cut fraction", `1.`, 2},
		{"bad literal", `tr `, 2},
		{"depth 129", nested(129), 128},
		{"invalid UTF-8", "[\"\x80\"]", 2},
		{"overlong UTF-8", "[\"\xc0\xaf\"]", 2},
		{"UTF-8 surrogate", "[\"\xed\xa0\x80\"]", 2},
		{"truncated UTF-8", "[\"\xe6\x97\"]", 2},
		{"UTF-8 above U+10FFFF", "[\"\xf4\x90\x80\x80\"]", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, body := post(t, ts, "/echo", c.in)
			checkJSONAnswer(t, res, http.StatusBadRequest)
			var e struct {
				Error  string `json:"error"`
				Offset *int64 `json:"offset"`
				Reason string `json:"reason"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("body %q is not JSON: %v", body, err)
			}
			if e.Error != "invalid_json" || e.Offset == nil || e.Reason == "" {
				t.Fatalf("body %q, want error, offset and reason", body)
			}
			if *e.Offset != c.offset {
				t.Errorf("offset %d, want %d (%s)", *e.Offset, c.offset, e.Reason)
			}
			if !strings.HasPrefix(body, `{"error":"invalid_json","offset":`) {
				t.Errorf("body %q: members out of order", body)
			}
		})
	}
}

func TestHealth(t *testing.T) { eachTier(t, testHealth) }

func testHealth(t *testing.T, tier string) {
	ts := newTestServer(t, tier, requestTimeout)
	for _, path := range []string{"/health", "/health?probe=1"} {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		checkJSONAnswer(t, res, http.StatusOK)
		if string(b) != `{"status":"ok"}` {
			t.Errorf("GET %s: body %q", path, b)
		}
	}

	// HEAD: the head only, with the length GET would have; the connection stays usable.
	c := dialRaw(t, ts)
	c.send("HEAD /health HTTP/1.1\r\nHost: t\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\n\r\n")
	res, body := c.answer("HEAD")
	checkJSONAnswer(t, res, http.StatusOK)
	if body != "" || res.ContentLength != 15 {
		t.Errorf("HEAD: body %q, Content-Length %d", body, res.ContentLength)
	}
	res, body = c.answer("GET")
	if res.StatusCode != http.StatusOK || body != `{"status":"ok"}` {
		t.Errorf("GET after HEAD: %d %q", res.StatusCode, body)
	}
}

func TestRoutingErrors(t *testing.T) { eachTier(t, testRoutingErrors) }

func testRoutingErrors(t *testing.T, tier string) {
	ts := newTestServer(t, tier, requestTimeout)
	cases := []struct {
		method, path string
		status       int
		allow, body  string
	}{
		{"GET", "/echo", 405, "POST", `{"error":"method_not_allowed"}`},
		{"PUT", "/echo?x=1", 405, "POST", `{"error":"method_not_allowed"}`},
		{"DELETE", "/echo", 405, "POST", `{"error":"method_not_allowed"}`},
		{"POST", "/health", 405, "GET, HEAD", `{"error":"method_not_allowed"}`},
		{"PATCH", "/health", 405, "GET, HEAD", `{"error":"method_not_allowed"}`},
		{"GET", "/nope", 404, "", `{"error":"not_found"}`},
		{"GET", "/", 404, "", `{"error":"not_found"}`},
		{"POST", "/echo/", 404, "", `{"error":"not_found"}`},
		{"GET", "/health/x", 404, "", `{"error":"not_found"}`},
		{"POST", "/ECHO", 404, "", `{"error":"not_found"}`},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			got := do(t, c.method, ts.URL+c.path, "{}")
			if got.status != c.status || got.allow != c.allow || got.body != c.body {
				t.Errorf("%d %s (Allow %q), want %d %s (Allow %q)", got.status, got.body, got.allow,
					c.status, c.body, c.allow)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) { eachTier(t, testBodyLimit) }

func testBodyLimit(t *testing.T, tier string) {
	ts := newTestServer(t, tier, requestTimeout)
	wantBody := fmt.Sprintf(`{"error":"body_too_large","limit":%d}`, testLimit)
	atLimit := `"` + strings.Repeat("a", testLimit-2) + `"`
	over := `"` + strings.Repeat("a", testLimit+22) + `"`
	chunk := func(s string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(s), s) }

	t.Run("at the limit", func(t *testing.T) {
		res, body := post(t, ts, "/echo", atLimit)
		checkJSONAnswer(t, res, http.StatusOK)
		if body != atLimit {
			t.Errorf("body of %d bytes, want the %d posted", len(body), len(atLimit))
		}
	})
	t.Run("at the limit, chunked", func(t *testing.T) {
		c := dialRaw(t, ts)
		c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
			chunk(atLimit[:1000]) + chunk(atLimit[1000:]) + "0\r\n\r\n")
		res, body := c.answer("POST")
		checkJSONAnswer(t, res, http.StatusOK)
		if body != atLimit {
			t.Errorf("body of %d bytes, want the %d posted", len(body), len(atLimit))
		}
	})

	over413 := func(t *testing.T, request string) {
		c := dialRaw(t, ts)
		go io.WriteString(c.c, request) // the server may answer before it has read it all
		res, body := c.answer("POST")
		checkJSONAnswer(t, res, http.StatusRequestEntityTooLarge)
		if body != wantBody {
			t.Errorf("body %q, want %q", body, wantBody)
		}
		if !res.Close {
			t.Error("no Connection: close")
		}
		if !c.closed() {
			t.Error("connection left open")
		}
	}
	t.Run("Content-Length over", func(t *testing.T) {
		over413(t, fmt.Sprintf("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s", len(over), over))
	})
	t.Run("Content-Length over, body not sent", func(t *testing.T) {
		over413(t, "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n")
	})
	t.Run("chunked over", func(t *testing.T) {
		over413(t, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"+
			chunk(over[:10])+chunk(over[10:])+"0\r\n\r\n")
	})
}

func TestKeepAlivePipeliningAndClose(t *testing.T) { eachTier(t, testKeepAlivePipeliningAndClose) }

func testKeepAlivePipeliningAndClose(t *testing.T, tier string) {
	ts := newTestServer(t, tier, requestTimeout)

	t.Run("pipelined, answered in order", func(t *testing.T) {
		c := dialRaw(t, ts)
		c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n[ 1 ]" +
			"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n[ 2 ]" +
			"GET /health HTTP/1.1\r\nHost: t\r\n\r\n" +
			"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n" +
			"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[3]\r\n0\r\n\r\n")
		want := []struct {
			status int
			body   string
		}{{200, "[1]"}, {200, "[2]"}, {200, `{"status":"ok"}`}, {404, `{"error":"not_found"}`}, {200, "[3]"}}
		for i, w := range want {
			res, body := c.answer("POST")
			if res.StatusCode != w.status || body != w.body {
				t.Errorf("answer %d: %d %q, want %d %q", i+1, res.StatusCode, body, w.status, w.body)
			}
		}
	})
	t.Run("Connection: close honoured", func(t *testing.T) {
		c := dialRaw(t, ts)
		c.send("GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
		if res, _ := c.answer("GET"); res.StatusCode != 200 {
			t.Errorf("status %d", res.StatusCode)
		}
		if !c.closed() {
			t.Error("connection left open")
		}
	})
	t.Run("HTTP/1.0 closes", func(t *testing.T) {
		c := dialRaw(t, ts)
		c.send("GET /health HTTP/1.0\r\n\r\n")
		if res, _ := c.answer("GET"); res.StatusCode != 200 {
			t.Errorf("status %d", res.StatusCode)
		}
		if !c.closed() {
			t.Error("connection left open")
		}
	})
	t.Run("HTTP/1.0 keep-alive", func(t *testing.T) {
		c := dialRaw(t, ts)
		c.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\nPOST /echo HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 4\r\n\r\n[ ] ")
		if res, _ := c.answer("GET"); res.StatusCode != 200 {
			t.Errorf("status %d", res.StatusCode)
		}
		if res, body := c.answer("POST"); res.StatusCode != 200 || body != "[]" {
			t.Errorf("second answer %d %q", res.StatusCode, body)
		}
	})
	t.Run("Expect: 100-continue", func(t *testing.T) {
		c := dialRaw(t, ts)
		c.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 8\r\n\r\n")
		line, err := c.br.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
			t.Fatalf("first line %q (%v), want 100 Continue", line, err)
		}
		if blank, _ := c.br.ReadString('\n'); blank != "\r\n" {
			t.Fatalf("100 Continue followed by %q", blank)
		}
		c.send("[ 1, 2 ]")
		if res, body := c.answer("POST"); res.StatusCode != 200 || body != "[1,2]" {
			t.Errorf("answer %d %q", res.StatusCode, body)
		}
	})
	t.Run("split request", func(t *testing.T) {
		c := dialRaw(t, ts)
		for _, part := range []string{"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Le", "ngth: 9\r\n\r\n{\"a\"", ": 1 }"} {
			c.send(part)
			time.Sleep(30 * time.Millisecond)
		}
		if res, body := c.answer("POST"); res.StatusCode != 200 || body != `{"a":1}` {
			t.Errorf("answer %d %q", res.StatusCode, body)
		}
	})
}

func TestBrokenRequests(t *testing.T) { eachTier(t, testBrokenRequests) }

func testBrokenRequests(t *testing.T, tier string) {
	ts := newTestServer(t, tier, requestTimeout)
	cases := []struct {
		name, request string
		status        int
	}{
		// net/http answers these itself, before any handler, with a plain-text body.
		{"malformed header", "GET / HTTP/1.1\r\nBad Header Line\r\n\r\n", 400},
		{"garbage request line", "HELLO?? \x01\x02\r\n\r\n", 400},
		// the handler answers these: the body's framing broke.
		{"bad chunk size", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc := dialRaw(t, ts)
			rc.send(c.request)
			res, _ := rc.answer("GET")
			if res.StatusCode != c.status {
				t.Errorf("status %d, want %d", res.StatusCode, c.status)
			}
			if !rc.closed() {
				t.Error("connection left open")
			}
		})
	}

	t.Run("body cut short is never 200", func(t *testing.T) {
		rc := dialRaw(t, ts)
		rc.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"a\": 1")
		rc.c.(*net.TCPConn).CloseWrite()
		res, err := http.ReadResponse(rc.br, nil)
		if err == nil {
			io.Copy(io.Discard, res.Body)
			if res.StatusCode < 400 {
				t.Errorf("status %d, want no answer or an error", res.StatusCode)
			}
		}
		if !rc.closed() {
			t.Error("connection left open")
		}
	})
}

func TestBodyTimeoutIs408(t *testing.T) { eachTier(t, testBodyTimeoutIs408) }

func testBodyTimeoutIs408(t *testing.T, tier string) {
	ts := newTestServer(t, tier, 300*time.Millisecond)
	c := dialRaw(t, ts)
	c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"a\": 1")
	res, body := c.answer("POST")
	checkJSONAnswer(t, res, http.StatusRequestTimeout)
	if body != `{"error":"request_timeout"}` {
		t.Errorf("body %q", body)
	}
	if !c.closed() {
		t.Error("connection left open")
	}
}

func TestMinifyMatchesReference(t *testing.T) {
	// minify must agree with a decode/re-encode round trip on what it accepts: the same
	// values, only white space removed.
	docs := []string{
		`{"a":[1,2,{"b":null}],"c":"d"}`,
		" [ \"x\" , { } , [ ] , -1.5e-3 ] ",
		`"\ud83d\ude00"`,
	}
	for _, d := range docs {
		out, bad := minify([]byte(d))
		if bad != nil {
			t.Fatalf("%q: %+v", d, bad)
		}
		var a, b any
		if err := json.Unmarshal([]byte(d), &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("%q minified to invalid %q", d, out)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Errorf("%q minified to %q: different value", d, out)
		}
		if bytes.ContainsAny(out, " \t\r\n") && !strings.Contains(d, `"`) {
			t.Errorf("%q minified to %q: white space left", d, out)
		}
	}
}

func TestTooDeep(t *testing.T) {
	cases := []struct {
		doc  string
		want int
	}{
		{nested(128), -1},
		{nested(129), 128},
		{`{"a":` + nested(128) + `}`, 132},
		{`["\"[[[[", ` + nested(127) + `]`, -1},
		{`[` + `"\\"` + `,` + nested(127) + `]`, -1},
	}
	for _, c := range cases {
		if got := tooDeep([]byte(c.doc), maxDepth); got != c.want {
			t.Errorf("tooDeep(%.40q…) = %d, want %d", c.doc, got, c.want)
		}
	}
}

func FuzzMinify(f *testing.F) {
	for _, s := range []string{`{"a":[1,2]}`, ` "x" `, `[01]`, "[\"\xc0\"]", nested(129), `1.5e+3`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		out, bad := minify(doc)
		if bad != nil {
			if bad.Offset < 0 || bad.Offset > int64(len(doc)) {
				t.Fatalf("offset %d outside the %d-byte body", bad.Offset, len(doc))
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("accepted %q, answered invalid %q", doc, out)
		}
		if len(out) > len(doc) {
			t.Fatalf("answer %q longer than the document %q", out, doc)
		}
	})
}

var benchDoc = []byte(`{ "id" : 7, "tags" : [ "a", "b" ], "ok" : true, "n" : null, "x" : {"y": [1.50e+3, "caf\u00e9"]} }`)

func BenchmarkMinify(b *testing.B) {
	b.SetBytes(int64(len(benchDoc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, bad := minify(benchDoc); bad != nil {
			b.Fatal(bad)
		}
	}
}

func BenchmarkEchoHandler(b *testing.B) {
	h, _ := newEcho(config{bodyLimit: testLimit}, nil)
	b.SetBytes(int64(len(benchDoc)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/echo", bytes.NewReader(benchDoc))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
