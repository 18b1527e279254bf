package main

import (
	"bufio"
	"errors"
	"flag"
	"io"
	"net/http"
	"regexp"
	"syscall"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	good := []struct {
		args []string
		want config
	}{
		{[]string{"echo"}, config{host: "127.0.0.1", port: 8080, bodyLimit: 1 << 20, pool: 8}},
		{[]string{"echo", "--port", "0", "--host", "::1", "--body-limit", "64"}, config{host: "::1", port: 0, bodyLimit: 64, pool: 8}},
		{[]string{"--port=9", "echo", "-body-limit=7"}, config{host: "127.0.0.1", port: 9, bodyLimit: 7, pool: 8}},
		{[]string{"echo", "--pg-url", "host=/tmp port=1", "--pool=3"}, config{host: "127.0.0.1", port: 8080, bodyLimit: 1 << 20, pgURL: "host=/tmp port=1", pool: 3}},
	}
	for _, g := range good {
		cfg, name, err := parseArgs(g.args)
		if err != nil || name != "echo" || cfg != g.want {
			t.Errorf("parseArgs(%q) = %+v, %q, %v; want %+v", g.args, cfg, name, err, g.want)
		}
	}
	bad := [][]string{
		{}, {"nope"}, {"echo", "--bogus"}, {"echo", "--port", "x"}, {"echo", "--port", "65536"},
		{"echo", "--port", "-1"}, {"echo", "--body-limit", "0"}, {"echo", "extra"}, {"--port"},
		{"echo", "--pool", "0"}, {"echo", "--pool", "x"},
	}
	for _, b := range bad {
		if _, _, err := parseArgs(b); err == nil || errors.Is(err, flag.ErrHelp) {
			t.Errorf("parseArgs(%q): err %v, want a usage error", b, err)
		}
	}
	for _, h := range [][]string{{"-h"}, {"--help"}, {"echo", "--help"}} {
		if _, _, err := parseArgs(h); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("parseArgs(%q): err %v, want flag.ErrHelp", h, err)
		}
	}
	if got := run([]string{"echo", "--bogus"}); got != 2 {
		t.Errorf("run with a bad flag: exit %d, want 2", got)
	}
}

// TestServeStopsGracefully runs the whole server: the listening line, answers, a request in
// flight when SIGTERM arrives (it is answered), then "served N requests" and a nil return.
func TestServeStopsGracefully(t *testing.T) {
	h, _ := newEcho(config{bodyLimit: 1 << 20})
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- serve(config{host: "127.0.0.1", port: 0, bodyLimit: 1 << 20}, h, pw)
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
