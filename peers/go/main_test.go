package main

import (
	"errors"
	"flag"
	"testing"
)

func TestParseArgs(t *testing.T) {
	defaults := config{host: "127.0.0.1", port: 8080, bodyLimit: 1 << 20, tier: tierIdiomatic, pool: 8, dbStrat: dbExclusive, traceRatio: 0.01}
	with := func(change func(c *config)) config {
		c := defaults
		change(&c)
		return c
	}
	good := []struct {
		args []string
		want config
	}{
		{[]string{"echo"}, defaults},
		{[]string{"echo", "--port", "0", "--host", "::1", "--body-limit", "64"}, with(func(c *config) { c.host, c.port, c.bodyLimit = "::1", 0, 64 })},
		{[]string{"--port=9", "echo", "-body-limit=7"}, with(func(c *config) { c.port, c.bodyLimit = 9, 7 })},
		{[]string{"echo", "--pg-url", "host=/tmp port=1", "--pool=3"}, with(func(c *config) { c.pgURL, c.pool = "host=/tmp port=1", 3 })},
		{[]string{"echo", "--tier", "tuned"}, with(func(c *config) { c.tier = tierTuned })},
		{[]string{"--tier=idiomatic", "echo", "--db-strategy", "exclusive"}, defaults},
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
		{"echo", "--tier", "fast"}, {"echo", "--tier", ""}, {"sql", "--tier", "tuned"}, {"grpc", "--tier", "tuned"},
		{"sql", "--db-strategy", "pipelined"}, {"echo", "--db-strategy", ""},
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
	for _, args := range [][]string{{"echo", "--bogus"}, {"sql", "--tier", "tuned"}, {"grpc", "--tier", "tuned"}, {"sql", "--db-strategy", "shared"}} {
		if got := run(args); got != 2 {
			t.Errorf("run(%q): exit %d, want 2", args, got)
		}
	}
	if _, name, err := parseArgs([]string{"grpc", "--port", "0"}); err != nil || name != "grpc" {
		t.Errorf("grpc --port 0: %q, %v", name, err)
	}
	for _, name := range []string{"csv", "echo"} {
		for _, tier := range []string{tierIdiomatic, tierTuned} {
			if _, _, err := parseArgs([]string{name, "--tier", tier}); err != nil {
				t.Errorf("%s --tier %s: %v", name, tier, err)
			}
		}
	}
}
