// Command stackbench-go is the Go peer of stackbench: the same workloads as the C services
// (contracts/*.md), written the way a Go team would write them, with the standard library.
//
//	stackbench-go WORKLOAD [--host ADDR] [--port N] [--body-limit BYTES]
//
// Each workload lives in its own file and registers a constructor in the workloads table
// below; server.go runs whatever handler the workload builds.
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
	"net/http"
	"os"
	"slices"
	"strings"
)

// config is what the command line sets; every workload sees the same flags.
type config struct {
	host      string
	port      int
	bodyLimit int64
	pgURL     string // sql: the database, a libpq URL or keyword/value string
	pool      int    // sql: the number of database connections kept open
}

// A workload builds the HTTP handler that serves one contract.
type workload struct {
	summary string
	handler func(cfg config) (http.Handler, error)
}

// defaultBodyLimits are the --body-limit defaults of the workloads whose contract sets one
// other than 1 MiB.
var defaultBodyLimits = map[string]int64{"csv": csvBodyLimit}

// workloads is the table main dispatches on. New workloads (csv, sql, grpc) add a line here
// and a file of their own.
var workloads = map[string]workload{
	"csv":  {"POST /csv: per-symbol aggregate of posted CSV trades; GET /health", newCSV},
	"echo": {"POST /echo: the posted JSON minified; GET /health", newEcho},
	"sql":  {"GET /accounts/{id}, GET /accounts?ids=, POST /orders over PostgreSQL", newSQL},
}

const usageText = `usage: stackbench-go WORKLOAD [flags]

Serves a workload over HTTP/1.1 until SIGTERM or SIGINT, then stops accepting, finishes the
requests in flight and prints "served N requests".

workloads:
%s
flags:
  --host ADDR          address to listen on (default 127.0.0.1)
  --port N             port (default 8080; 0 picks a free one, printed on start)
  --body-limit BYTES   largest request body in bytes (default 1048576, csv 16777216): 413 above
  --pg-url URL         sql: the database, a libpq URL or keyword/value string (required)
  --pool N             sql: database connections to keep open (default 8)
  -h, --help           this help
`

func usage(w io.Writer) {
	var list strings.Builder
	for _, name := range slices.Sorted(maps.Keys(workloads)) {
		fmt.Fprintf(&list, "  %-8s %s\n", name, workloads[name].summary)
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
	h, err := workloads[name].handler(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "stackbench-go %s: %v\n", name, err)
		return 1
	}
	if err := serve(cfg, h, os.Stderr); err != nil {
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
	fs.IntVar(&cfg.pool, "pool", 8, "sql: database connections to keep open")

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
	if _, ok := workloads[name]; !ok {
		return cfg, "", fmt.Errorf("unknown workload %q", name)
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
	return cfg, name, nil
}

// flagSet reports whether the command line set the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
