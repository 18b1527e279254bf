// Command stackbench-go is the Go peer of stackbench: the same workloads as the C services
// (contracts/*.md), in Go.
//
//	stackbench-go WORKLOAD [--host ADDR] [--port N] [--body-limit BYTES] [--tier TIER]
//	    [--metrics-port N] [--otlp-endpoint URL] [--trace-ratio R]
//
// Each workload lives in its own file and registers its constructors in the workloads table
// below, one per tier it offers; server.go runs whatever server the workload builds: an HTTP
// handler under net/http, or for grpc a grpc-go server (grpc.go).
//
// # Tiers
//
// Every implementation says how it was written, so that a comparison compares like with like:
//   - idiomatic (the default): the libraries a good Go team reaches for first (net/http,
//     encoding/json, encoding/csv, pgx, grpc-go), used competently;
//   - tuned: the algorithm and strategy of the fastest implementation, the C one, written by
//     hand in Go with nothing the other languages are denied (no unsafe, no assembly). The
//     HTTP layer stays net/http: only the work of the request changes.
//
// echo and csv offer both; sql only idiomatic (see sql.go for why), and grpc too: grpc-go is
// the whole of its server, and a tuned tier would be a gRPC server of our own.
//
// # Telemetry
//
// Every workload and tier has the same telemetry, contracts/telemetry.md's (telemetry.go):
// Prometheus metrics on GET /metrics (grpc: on --metrics-port), and with --otlp-endpoint
// OpenTelemetry traces sent over OTLP/HTTP.
//
// GOMAXPROCS is left at Go's default on purpose: the runtime sizes it from the CPU affinity
// mask the process starts with, so it follows the CPUs the lab pins the service to.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
)

// config is what the command line sets; every workload sees the same flags.
type config struct {
	host      string
	port      int
	bodyLimit int64
	tier      string // tierIdiomatic or tierTuned
	pgURL     string // sql: the database, a libpq URL or keyword/value string
	pool      int    // sql: the number of database connections kept open
	dbStrat   string // sql: how requests share database connections (dbExclusive)
	// Telemetry (contracts/telemetry.md).
	metricsPort  int     // grpc: GET /metrics on this port; 0: none
	otlpEndpoint string  // the OTLP/HTTP collector's base URL; "": no tracing
	traceRatio   float64 // the share of root requests sampled
}

// The tiers (see the package comment).
const (
	tierIdiomatic = "idiomatic"
	tierTuned     = "tuned"
)

// dbExclusive is the one --db-strategy of the Go peer: pgx's pool lends a connection to one
// request at a time (sql.go says why there is no other).
const dbExclusive = "exclusive"

// A workload builds the server of one contract, for each tier it offers.
type workload struct {
	summary string
	tiers   map[string]newServer
}

// newServer builds a workload's server (server.go) from the command line, reporting to tel.
type newServer func(cfg config, tel *telemetry) (server, error)

// newHandler builds the routes of a workload served over HTTP/1.1; overHTTP (server.go)
// makes it a newServer.
type newHandler func(cfg config, tel *telemetry) (contractMux, error)

// defaultBodyLimits are the --body-limit defaults of the workloads whose contract sets one
// other than 1 MiB.
var defaultBodyLimits = map[string]int64{"csv": csvBodyLimit}

// workloads is the table main dispatches on. New workloads add a line here and a file of
// their own.
var workloads = map[string]workload{
	"csv": {"POST /csv: per-symbol aggregate of posted CSV trades; GET /health",
		map[string]newServer{tierIdiomatic: overHTTP(newCSV), tierTuned: overHTTP(newCSVTuned)}},
	"echo": {"POST /echo: the posted JSON minified; GET /health",
		map[string]newServer{tierIdiomatic: overHTTP(newEcho), tierTuned: overHTTP(newEchoTuned)}},
	"grpc": {"gRPC over h2c: stackbench.v1.Ticks (Stream, Quote), grpc.health.v1 Check",
		map[string]newServer{tierIdiomatic: newGRPC}},
	"sql": {"GET /accounts/{id}, GET /accounts?ids=, POST /orders over PostgreSQL",
		map[string]newServer{tierIdiomatic: overHTTP(newSQL)}},
}

const usageText = `usage: stackbench-go WORKLOAD [flags]

Serves a workload until SIGTERM or SIGINT, then stops accepting, finishes the requests in
flight (for at most 10 s) and prints "served N requests". grpc serves gRPC over cleartext
HTTP/2 (h2c, prior knowledge); a gRPC call counts as a request. The other workloads serve
HTTP/1.1 and also answer GET /metrics (Prometheus text, contracts/telemetry.md) and
GET /debug/gc-pauses: the Go runtime's GC pause histogram, for the lab (not in any contract).
With --metrics-port, grpc prints "metrics on http://HOST:PORT/metrics" after its listening line.

workloads:
%s
flags:
  --host ADDR          address to listen on (default 127.0.0.1)
  --port N             port (default 8080; 0 picks a free one, printed on start)
  --body-limit BYTES   largest request body in bytes (default 1048576, csv 16777216): 413 above
                       (not grpc: its largest request message is grpc-go's 4 MiB)
  --tier TIER          idiomatic (default): the libraries a Go team reaches for first;
                       tuned: the C implementation's algorithm by hand (echo and csv only)
  --pg-url URL         sql: the database, a libpq URL or keyword/value string (required)
  --pool N             sql: database connections to keep open (default 8)
  --db-strategy S      sql: exclusive (default, the only one): a pooled connection serves one
                       request at a time
  --metrics-port N     grpc: GET /metrics (Prometheus text) over HTTP/1.1 on this port; 0
                       (default): none. The other workloads answer GET /metrics on --port
  --otlp-endpoint URL  send trace spans over OTLP/HTTP protobuf to URL/v1/traces
                       (http://127.0.0.1:4318); absent (default): nothing is traced
  --trace-ratio R      0-1 (default 0.01): the share of root requests traced; a request with
                       a W3C traceparent follows its sampled flag
  -h, --help           this help
`

func usage(w io.Writer) {
	var list strings.Builder
	for _, name := range slices.Sorted(maps.Keys(workloads)) {
		wl := workloads[name]
		tiers := slices.Sorted(maps.Keys(wl.tiers))
		fmt.Fprintf(&list, "  %-8s %s (tiers: %s)\n", name, wl.summary, strings.Join(tiers, ", "))
	}
	fmt.Fprintf(w, usageText, list.String())
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run parses the command line and serves; it returns the exit status.
func run(args []string) int {
	cfg, name, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		usage(os.Stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "stackbench-go: %v (see stackbench-go --help)\n", err)
		return 2
	}
	tel, err := newTelemetry(cfg, name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "stackbench-go %s: %v\n", name, err)
		return 1
	}
	srv, err := workloads[name].tiers[cfg.tier](cfg, tel)
	if err != nil {
		fmt.Fprintf(os.Stderr, "stackbench-go %s: %v\n", name, err)
		return 1
	}
	if err := serve(cfg, srv, tel, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "stackbench-go %s: %v\n", name, err)
		return 1
	}
	return 0
}

// parseArgs accepts the workload before or after the flags. The flag package stops at the
// first non-flag argument, so the flags after the workload are parsed in a second pass.
func parseArgs(args []string) (config, string, error) {
	cfg := config{}
	fs := flag.NewFlagSet("stackbench-go", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported in one line by run, help by usage
	fs.Usage = func() {}
	fs.StringVar(&cfg.host, "host", "127.0.0.1", "address to listen on")
	fs.IntVar(&cfg.port, "port", 8080, "port (0 picks a free one)")
	fs.Int64Var(&cfg.bodyLimit, "body-limit", 1<<20, "largest request body in bytes")
	fs.StringVar(&cfg.pgURL, "pg-url", "", "sql: the database")
	fs.StringVar(&cfg.tier, "tier", tierIdiomatic, "idiomatic or tuned")
	fs.IntVar(&cfg.pool, "pool", 8, "sql: database connections to keep open")
	fs.StringVar(&cfg.dbStrat, "db-strategy", dbExclusive, "sql: exclusive")
	fs.IntVar(&cfg.metricsPort, "metrics-port", 0, "grpc: GET /metrics on this port")
	fs.StringVar(&cfg.otlpEndpoint, "otlp-endpoint", "", "OTLP/HTTP collector URL")
	traceRatio := fs.String("trace-ratio", strconv.FormatFloat(defaultTraceRatio, 'g', -1, 64), "share of root requests traced")

	if err := fs.Parse(args); err != nil {
		return cfg, "", err
	}
	if fs.NArg() == 0 {
		return cfg, "", errors.New("missing WORKLOAD")
	}
	name := fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil {
		return cfg, "", err
	}
	if fs.NArg() > 0 {
		return cfg, "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	wl, ok := workloads[name]
	if !ok {
		return cfg, "", fmt.Errorf("unknown workload %q", name)
	}
	if cfg.tier != tierIdiomatic && cfg.tier != tierTuned {
		return cfg, "", fmt.Errorf("invalid --tier %q: want idiomatic or tuned", cfg.tier)
	}
	if _, ok := wl.tiers[cfg.tier]; !ok {
		return cfg, "", fmt.Errorf("%s has no %s tier in Go", name, cfg.tier)
	}
	if cfg.dbStrat != dbExclusive {
		return cfg, "", fmt.Errorf("invalid --db-strategy %q: Go has only exclusive", cfg.dbStrat)
	}
	if limit, ok := defaultBodyLimits[name]; ok && !flagSet(fs, "body-limit") {
		cfg.bodyLimit = limit
	}
	if cfg.port < 0 || cfg.port > 65535 {
		return cfg, "", fmt.Errorf("invalid --port %d: want 0-65535", cfg.port)
	}
	if cfg.bodyLimit <= 0 {
		return cfg, "", fmt.Errorf("invalid --body-limit %d: want a positive number of bytes", cfg.bodyLimit)
	}
	if cfg.pool < 1 {
		return cfg, "", fmt.Errorf("invalid --pool %d: want at least 1", cfg.pool)
	}
	if cfg.metricsPort < 0 || cfg.metricsPort > 65535 {
		return cfg, "", fmt.Errorf("invalid --metrics-port %d: want 0-65535", cfg.metricsPort)
	}
	if cfg.metricsPort != 0 && name != "grpc" {
		return cfg, "", fmt.Errorf("--metrics-port is for grpc only: %s answers GET /metrics on --port", name)
	}
	if cfg.otlpEndpoint != "" {
		if err := parseOTLPEndpoint(cfg.otlpEndpoint); err != nil {
			return cfg, "", err
		}
	}
	var err error
	if cfg.traceRatio, err = parseTraceRatio(*traceRatio); err != nil {
		return cfg, "", err
	}
	return cfg, name, nil
}

// flagSet reports whether the command line set the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
