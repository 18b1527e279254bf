// Command grpc-check checks a server of the grpc workload against contracts/grpc.md with
// grpc-go's client, whatever language the server is written in:
//
//	grpc-check [--timeout D] HOST:PORT
//
// It runs every check on one connection, prints one line per check ("ok   name" or
// "FAIL name: why") and a last line "N passed, N failed", and exits 0 when every check
// passed, 1 when one failed, 2 on a bad command line. Each check has --timeout (default 3 s)
// and the whole run at most runBudget, so a server that accepts and never answers fails every
// check within that.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/stackbench/stackbench/peers/go/internal/ticks"
	"github.com/stackbench/stackbench/peers/go/ticksv1"
)

// runBudget bounds the whole run, whatever --timeout says.
const runBudget = 30 * time.Second

const usageText = `usage: grpc-check [--timeout D] HOST:PORT

Checks the gRPC server at HOST:PORT (h2c, no TLS) against contracts/grpc.md: Quote, Stream
(every tick checked), each invalid field, an unknown method, a deadline, a cancel, the health
check and 8 concurrent streams on one connection. One line per check, then a summary; exit 0
when all pass, 1 otherwise, 2 on a bad command line.

flags:
  --timeout D   the longest one check may take (default 3s); the whole run takes at most 30s
  -h, --help    this help
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses the command line, runs the checks and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	addr, timeout, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usageText)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "grpc-check: %v (see grpc-check --help)\n", err)
		return 2
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintf(stderr, "grpc-check: %v\n", err)
		return 2
	}
	defer conn.Close()
	c := client{conn, ticksv1.NewTicksClient(conn), healthpb.NewHealthClient(conn)}

	end := time.Now().Add(runBudget)
	passed, failed := 0, 0
	for _, ch := range checks {
		deadline := time.Now().Add(timeout)
		if deadline.After(end) {
			deadline = end
		}
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err := ch.run(ctx, c)
		cancel()
		if err != nil {
			fmt.Fprintf(stdout, "FAIL %s: %v\n", ch.name, err)
			failed++
		} else {
			fmt.Fprintf(stdout, "ok   %s\n", ch.name)
			passed++
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// parseArgs accepts the flags before or after HOST:PORT, as stackbench-go does.
func parseArgs(args []string) (addr string, timeout time.Duration, err error) {
	fs := flag.NewFlagSet("grpc-check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.DurationVar(&timeout, "timeout", 3*time.Second, "the longest one check may take")
	if err := fs.Parse(args); err != nil {
		return "", 0, err
	}
	if fs.NArg() == 0 {
		return "", 0, errors.New("missing HOST:PORT")
	}
	addr = fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil {
		return "", 0, err
	}
	if fs.NArg() > 0 {
		return "", 0, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", 0, fmt.Errorf("invalid HOST:PORT %q: %v", addr, err)
	}
	if timeout <= 0 {
		return "", 0, fmt.Errorf("invalid --timeout %v: want a positive duration", timeout)
	}
	return addr, timeout, nil
}

// client is the one connection every check uses.
type client struct {
	conn   *grpc.ClientConn
	ticks  ticksv1.TicksClient
	health healthpb.HealthClient
}

type check struct {
	name string
	run  func(ctx context.Context, c client) error
}

// The contract's bounds and refusals.
const (
	maxCount   = 1_000_000
	maxPayload = 65536
	symbolMsg  = "symbol"
	countMsg   = "count"
	payloadMsg = "payload_bytes"
)

// checks are run in this order; the cancel check needs the connection to have carried a
// stream before, so it comes after the streams.
var checks = []check{
	{"Quote AAPL", checkQuote},
	{"Stream AAPL count 1000 payload 64", streamCheck("AAPL", 1000, 64)},
	{"Stream AAPL count 50 payload 65536", streamCheck("AAPL", 50, maxPayload)},
	{"Stream BRK.B count 3 payload 0", streamCheck("BRK.B", 3, 0)},
	{`invalid Quote symbol ""`, invalidQuote("", symbolMsg)},
	{`invalid Quote symbol "aapl"`, invalidQuote("aapl", symbolMsg)},
	{`invalid Quote symbol of 13 bytes`, invalidQuote("ABCDEFGHIJKLM", symbolMsg)},
	{`invalid Stream symbol "aapl"`, invalidStream("aapl", 1, 0, symbolMsg)},
	{"invalid Stream count 0", invalidStream("AAPL", 0, 0, countMsg)},
	{"invalid Stream count 1000001", invalidStream("AAPL", maxCount+1, 0, countMsg)},
	{"invalid Stream payload_bytes 65537", invalidStream("AAPL", 1, maxPayload+1, payloadMsg)},
	{"invalid symbol checked before count", invalidStream("", 0, maxPayload+1, symbolMsg)},
	{"invalid count checked before payload_bytes", invalidStream("AAPL", 0, maxPayload+1, countMsg)},
	{"unknown method /stackbench.v1.Ticks/Nope", checkUnknownMethod},
	{"deadline 200 ms on Stream count 1000000 payload 65536", checkDeadline},
	{"cancel a Stream after 10 ticks, then Quote", checkCancel},
	{`health Check "" SERVING`, healthCheck("", codes.OK)},
	{`health Check "stackbench.v1.Ticks" SERVING`, healthCheck("stackbench.v1.Ticks", codes.OK)},
	{`health Check "nope" NOT_FOUND`, healthCheck("nope", codes.NotFound)},
	{"8 concurrent Streams on one connection", checkConcurrentStreams},
}

// checkTick checks every field of tick seq of symbol with a payload of n bytes.
func checkTick(t *ticksv1.Tick, symbol string, seq uint64, n int) error {
	if t.GetSymbol() != symbol {
		return fmt.Errorf("tick %d: symbol %q, want %q", seq, t.GetSymbol(), symbol)
	}
	if t.GetSeq() != seq {
		return fmt.Errorf("tick %d: seq %d", seq, t.GetSeq())
	}
	if want := ticks.Symbol(symbol).At(seq); t.GetPriceMicros() != want {
		return fmt.Errorf("tick %d: price_micros %d, want %d", seq, t.GetPriceMicros(), want)
	}
	if t.GetTsNs() == 0 {
		return fmt.Errorf("tick %d: ts_ns 0", seq)
	}
	p := t.GetPayload()
	if len(p) != n {
		return fmt.Errorf("tick %d: %d payload bytes, want %d", seq, len(p), n)
	}
	for i, b := range p {
		if want := byte(seq + uint64(i)); b != want {
			return fmt.Errorf("tick %d: payload byte %d is %d, want %d", seq, i, b, want)
		}
	}
	return nil
}

func checkQuote(ctx context.Context, c client) error {
	t, err := c.ticks.Quote(ctx, &ticksv1.QuoteRequest{Symbol: "AAPL"})
	if err != nil {
		return err
	}
	if err := checkTick(t, "AAPL", 0, 0); err != nil {
		return err
	}
	// The contract's own example, in case the shared arithmetic were wrong too.
	if t.GetPriceMicros() != 45295362 {
		return fmt.Errorf("price_micros %d, want 45295362", t.GetPriceMicros())
	}
	// The server's clock: on the same machine, or one whose clock is set.
	if d := time.Since(time.Unix(0, int64(t.GetTsNs()))); d < -time.Minute || d > time.Minute {
		return fmt.Errorf("ts_ns %d is %v away from this machine's clock", t.GetTsNs(), d)
	}
	return nil
}

// readTicks reads a Stream call to its end, checking every tick: the ticks that came and
// the status that ended it (nil for OK).
func readTicks(st grpc.ServerStreamingClient[ticksv1.Tick], symbol string, n int) (int, error) {
	got := 0
	for {
		t, err := st.Recv()
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got++
		if err := checkTick(t, symbol, uint64(got), n); err != nil {
			return got, err
		}
	}
}

func streamCheck(symbol string, count, n uint32) func(context.Context, client) error {
	return func(ctx context.Context, c client) error {
		st, err := c.ticks.Stream(ctx, &ticksv1.StreamRequest{Symbol: symbol, Count: count, PayloadBytes: n})
		if err != nil {
			return err
		}
		got, err := readTicks(st, symbol, int(n))
		if err != nil {
			return fmt.Errorf("after %d ticks: %v", got, err)
		}
		if got != int(count) {
			return fmt.Errorf("%d ticks, want %d", got, count)
		}
		return nil
	}
}

// wantStatus checks that err is a status of code whose message starts with prefix.
func wantStatus(err error, code codes.Code, prefix string) error {
	if err == nil {
		return fmt.Errorf("status OK, want %v", code)
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%v, want status %v", err, code)
	}
	if st.Code() != code {
		return fmt.Errorf("status %v (%q), want %v", st.Code(), st.Message(), code)
	}
	if !strings.HasPrefix(st.Message(), prefix) {
		return fmt.Errorf("message %q, want one starting %q", st.Message(), prefix)
	}
	return nil
}

func invalidQuote(symbol, field string) func(context.Context, client) error {
	return func(ctx context.Context, c client) error {
		_, err := c.ticks.Quote(ctx, &ticksv1.QuoteRequest{Symbol: symbol})
		return wantStatus(err, codes.InvalidArgument, field)
	}
}

func invalidStream(symbol string, count, n uint32, field string) func(context.Context, client) error {
	return func(ctx context.Context, c client) error {
		st, err := c.ticks.Stream(ctx, &ticksv1.StreamRequest{Symbol: symbol, Count: count, PayloadBytes: n})
		if err != nil {
			return wantStatus(err, codes.InvalidArgument, field)
		}
		if _, err := st.Recv(); err != io.EOF {
			return wantStatus(err, codes.InvalidArgument, field)
		}
		return errors.New("status OK, want InvalidArgument")
	}
}

func checkUnknownMethod(ctx context.Context, c client) error {
	err := c.conn.Invoke(ctx, "/stackbench.v1.Ticks/Nope", &ticksv1.QuoteRequest{Symbol: "AAPL"}, &ticksv1.Tick{})
	return wantStatus(err, codes.Unimplemented, "")
}

// checkDeadline: a Stream far longer than its 200 ms deadline ends DEADLINE_EXCEEDED soon
// after it, every tick before it right, none after it. grpc-go's client keeps the deadline
// itself too, so this cannot tell whether the server honoured grpc-timeout or the client
// gave up; it checks what a grpc-go client sees.
func checkDeadline(ctx context.Context, c client) error {
	const deadline = 200 * time.Millisecond
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	st, err := c.ticks.Stream(dctx, &ticksv1.StreamRequest{Symbol: "AAPL", Count: maxCount, PayloadBytes: maxPayload})
	if err != nil {
		return wantStatus(err, codes.DeadlineExceeded, "")
	}
	got, err := readTicks(st, "AAPL", maxPayload)
	took := time.Since(start)
	if err := wantStatus(err, codes.DeadlineExceeded, ""); err != nil {
		return fmt.Errorf("after %d ticks: %v", got, err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("the check's own time ran out first (%v)", took)
	}
	if took < deadline {
		return fmt.Errorf("DEADLINE_EXCEEDED after %v, before the deadline", took)
	}
	if t, err := st.Recv(); err == nil {
		return fmt.Errorf("tick %d after DEADLINE_EXCEEDED", t.GetSeq())
	}
	return nil
}

// checkCancel: cancelling a Stream after 10 ticks ends it (CANCELED on this side), and the
// connection goes on: a Quote on it is answered.
func checkCancel(ctx context.Context, c client) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := c.ticks.Stream(sctx, &ticksv1.StreamRequest{Symbol: "AAPL", Count: maxCount, PayloadBytes: 64})
	if err != nil {
		return err
	}
	for k := uint64(1); k <= 10; k++ {
		t, err := st.Recv()
		if err != nil {
			return fmt.Errorf("after %d ticks: %v", k-1, err)
		}
		if err := checkTick(t, "AAPL", k, 64); err != nil {
			return err
		}
	}
	cancel()
	for {
		_, err := st.Recv()
		if err == nil {
			continue // ticks already on their way when the cancel went
		}
		if err := wantStatus(err, codes.Canceled, ""); err != nil {
			return fmt.Errorf("the cancelled Stream: %v", err)
		}
		break
	}
	t, err := c.ticks.Quote(ctx, &ticksv1.QuoteRequest{Symbol: "AAPL"})
	if err != nil {
		return fmt.Errorf("Quote after the cancel: %v", err)
	}
	return checkTick(t, "AAPL", 0, 0)
}

func healthCheck(service string, want codes.Code) func(context.Context, client) error {
	return func(ctx context.Context, c client) error {
		res, err := c.health.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if want != codes.OK {
			return wantStatus(err, want, "")
		}
		if err != nil {
			return err
		}
		if res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("status %v, want SERVING", res.GetStatus())
		}
		return nil
	}
}

// checkConcurrentStreams: 8 Streams at once on the one connection, each of another symbol
// and payload size, all complete with every tick right.
func checkConcurrentStreams(ctx context.Context, c client) error {
	const streams, count = 8, 2000
	symbols := []string{"AAPL", "MSFT", "BRK.B", "X", "GOOG", "A1", "Z.Z", "ABCDEFGHIJKL"}
	errs := make([]error, streams)
	var wg sync.WaitGroup
	for i := range streams {
		wg.Go(func() {
			errs[i] = streamCheck(symbols[i], count, uint32(100*i))(ctx, c)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("stream %d (%s): %v", i+1, symbols[i], errs[i])
			}
		})
	}
	wg.Wait()
	failed := 0
	var first error
	for _, err := range errs {
		if err != nil {
			failed++
			first = cmp.Or(first, err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d failed; %v", failed, streams, first)
	}
	return nil
}
