package main

// The checker against servers that break the contract, each in a known way; that it passes a
// correct server is tested where the server is (peers/go, TestGRPCCheckPasses).

import (
	"bytes"
	"context"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/stackbench/stackbench/peers/go/internal/ticks"
	"github.com/stackbench/stackbench/peers/go/ticksv1"
)

// serveFake serves ts (and no health service) on loopback until the test ends.
func serveFake(t *testing.T, ts ticksv1.TicksServer) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	ticksv1.RegisterTicksServer(srv, ts)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

// runCheck runs grpc-check and returns its exit status and its lines, each line checked for
// the format.
func runCheck(t *testing.T, args ...string) (int, []string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	line := regexp.MustCompile(`^(ok   |FAIL )[^:\n]+(: .+)?$`)
	for i, l := range lines[:len(lines)-1] {
		if !line.MatchString(l) || strings.HasPrefix(l, "ok") && strings.Contains(l, ": ") {
			t.Errorf("line %d %q", i+1, l)
		}
	}
	if !regexp.MustCompile(`^[0-9]+ passed, [0-9]+ failed$`).MatchString(lines[len(lines)-1]) {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
	return code, lines
}

// brokenTicks breaks the contract twice: Quote's price is off by one, and Stream skips tick
// 500. Everything else it answers right.
type brokenTicks struct {
	ticksv1.UnimplementedTicksServer
}

func (brokenTicks) Quote(_ context.Context, req *ticksv1.QuoteRequest) (*ticksv1.Tick, error) {
	return &ticksv1.Tick{Symbol: req.Symbol, PriceMicros: ticks.Symbol(req.Symbol).At(0) + 1, TsNs: uint64(time.Now().UnixNano())}, nil
}

func (brokenTicks) Stream(req *ticksv1.StreamRequest, st grpc.ServerStreamingServer[ticksv1.Tick]) error {
	for k := uint64(1); k <= uint64(req.Count); k++ {
		if k == 500 {
			continue
		}
		p := make([]byte, req.PayloadBytes)
		for i := range p {
			p[i] = byte(k + uint64(i))
		}
		err := st.Send(&ticksv1.Tick{Symbol: req.Symbol, Seq: k, PriceMicros: ticks.Symbol(req.Symbol).At(k), TsNs: 1, Payload: p})
		if err != nil {
			return err
		}
	}
	return nil
}

func TestCheckNamesWhatIsBroken(t *testing.T) {
	code, lines := runCheck(t, serveFake(t, brokenTicks{}))
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	want := map[string]string{
		"Quote AAPL":                               "FAIL Quote AAPL: tick 0: price_micros 45295363, want 45295362",
		"Stream AAPL count 1000 payload 64":        "FAIL Stream AAPL count 1000 payload 64: after 500 ticks: tick 500: seq 501",
		"Stream AAPL count 50 payload 65536":       "ok   Stream AAPL count 50 payload 65536",
		"unknown method /stackbench.v1.Ticks/Nope": "ok   unknown method /stackbench.v1.Ticks/Nope",
		`invalid Quote symbol ""`:                  `FAIL invalid Quote symbol "": status OK, want InvalidArgument`,
		`health Check "" SERVING`:                  `FAIL health Check "" SERVING: rpc error: code = Unimplemented desc = unknown service grpc.health.v1.Health`,
	}
	for name, w := range want {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l[5:], name+":") || l[5:] == name {
				found = true
				if l != w {
					t.Errorf("%q, want %q", l, w)
				}
			}
		}
		if !found {
			t.Errorf("no line for %q", name)
		}
	}
}

func TestCheckAgainstNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	start := time.Now()
	code, lines := runCheck(t, "--timeout", "1s", addr)
	if code != 1 || lines[len(lines)-1] != "0 passed, 20 failed" {
		t.Errorf("exit %d, last line %q", code, lines[len(lines)-1])
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v", took)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"127.0.0.1"}, {"--timeout", "0s", "127.0.0.1:1"}, {"--timeout", "x", "127.0.0.1:1"},
		{"127.0.0.1:1", "extra"}, {"--bogus", "127.0.0.1:1"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 || !strings.HasPrefix(errOut.String(), "grpc-check: ") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"--help"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "usage: grpc-check") {
		t.Errorf("--help: exit %d, %q", code, out.String())
	}
	if _, timeout, err := parseArgs([]string{"[::1]:50051", "--timeout=5s"}); err != nil || timeout != 5*time.Second {
		t.Errorf("flags after HOST:PORT: %v, %v", timeout, err)
	}
}
