package main

import (
	"errors"
	"flag"
	"strings"
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
		{[]string{"echo", "--otlp-endpoint", "http://127.0.0.1:4318", "--trace-ratio", "1"},
			with(func(c *config) { c.otlpEndpoint, c.traceRatio = "http://127.0.0.1:4318", 1 })},
		{[]string{"echo", "--otlp-endpoint=https://collector:4318/", "--trace-ratio=0"},
			with(func(c *config) { c.otlpEndpoint, c.traceRatio = "https://collector:4318/", 0 })},
		{[]string{"echo", "--metrics-port", "0", "--trace-ratio", "0.25"}, with(func(c *config) { c.traceRatio = 0.25 })},
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
		{"echo", "--trace-ratio", "1.5"}, {"echo", "--trace-ratio", "-0.1"}, {"echo", "--trace-ratio", "NaN"},
		{"echo", "--trace-ratio", "x"}, {"echo", "--trace-ratio", ""},
		{"echo", "--otlp-endpoint", "127.0.0.1:4318"}, {"echo", "--otlp-endpoint", "ftp://h:1"},
		{"echo", "--otlp-endpoint", "http://"}, {"echo", "--otlp-endpoint", "http://h:1/?x=1"},
		{"echo", "--metrics-port", "9090"}, {"sql", "--metrics-port", "9090"},
		{"grpc", "--metrics-port", "65536"}, {"grpc", "--metrics-port", "-1"},
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
	if cfg, _, err := parseArgs([]string{"grpc", "--metrics-port", "9464"}); err != nil || cfg.metricsPort != 9464 {
		t.Errorf("grpc --metrics-port 9464: %+v, %v", cfg, err)
	}
	for _, name := range []string{"csv", "echo"} {
		for _, tier := range []string{tierIdiomatic, tierTuned} {
			if _, _, err := parseArgs([]string{name, "--tier", tier}); err != nil {
				t.Errorf("%s --tier %s: %v", name, tier, err)
			}
		}
	}
}

// TestUsageListsTheTelemetryFlags: --help names every flag parseArgs takes.
func TestUsageListsTheTelemetryFlags(t *testing.T) {
	var b strings.Builder
	usage(&b)
	for _, f := range []string{"--metrics-port N", "--otlp-endpoint URL", "--trace-ratio R", "default 0.01"} {
		if !strings.Contains(b.String(), f) {
			t.Errorf("--help does not say %q", f)
		}
	}
}
