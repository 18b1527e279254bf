package main

import (
	"errors"
	"flag"
	"testing"
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
