package main

// The grpc workload (contracts/grpc.md): the service stackbench.v1.Ticks (Stream, Quote) and
// grpc.health.v1's Check, served by grpc-go over cleartext HTTP/2 (no TransportCredentials:
// grpc-go then speaks h2c with prior knowledge, as the contract wants).
//
// Everything the contract asks of the transport is grpc-go's own: the framing, the statuses in
// trailers, grpc-timeout, the 4 MiB limit on a request message, and flow control. A Stream
// makes its ticks one at a time, each when the last has been handed to grpc-go: Send blocks
// while the stream's write quota and HTTP/2 window are used up, so a client that stops reading
// holds its own stream and nothing piles up in memory whatever count is.
//
// Where grpc-go answers otherwise than contracts/grpc.md says (TestGRPCWireAnswers and
// TestGRPCTimeoutOnTheWire hold what it does): when a grpc-timeout passes it resets the stream
// (RST_STREAM CANCEL) and sends no DEADLINE_EXCEEDED, which a gRPC client reports from its own
// deadline; a malformed grpc-timeout is answered HTTP 400 (with grpc-status 13), and a
// content-type that is not gRPC HTTP 415 (with grpc-status 3).

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/stackbench/stackbench/peers/go/internal/ticks"
	"github.com/stackbench/stackbench/peers/go/ticksv1"
)

// The contract's bounds on the fields of a request.
const (
	maxSymbol  = 12
	maxCount   = 1_000_000
	maxPayload = 65536
)

// The INVALID_ARGUMENT answers, each starting with its field's name as the contract says.
var (
	errSymbol  = status.Error(codes.InvalidArgument, "symbol: want 1-12 of [A-Z0-9.]")
	errCount   = status.Error(codes.InvalidArgument, "count: want 1-1000000")
	errPayload = status.Error(codes.InvalidArgument, "payload_bytes: want 0-65536")
)

// payloadWindow holds byte i = i mod 256, 255 bytes more than the largest payload: tick k's
// payload, byte i = (k + i) mod 256, is the slice that starts at k mod 256. grpc-go encodes a
// message before Send returns and never writes to it, so every tick can share these bytes.
var payloadWindow = func() []byte {
	b := make([]byte, maxPayload+255)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

// ticksService implements stackbench.v1.Ticks.
type ticksService struct {
	ticksv1.UnimplementedTicksServer
}

func (ticksService) Stream(req *ticksv1.StreamRequest, stream grpc.ServerStreamingServer[ticksv1.Tick]) error {
	if !validSymbol(req.GetSymbol()) {
		return errSymbol
	}
	count := uint64(req.GetCount())
	if count < 1 || count > maxCount {
		return errCount
	}
	n := uint64(req.GetPayloadBytes())
	if n > maxPayload {
		return errPayload
	}
	price := ticks.Symbol(req.GetSymbol())
	for seq := uint64(1); seq <= count; seq++ {
		at := seq % 256
		err := stream.Send(&ticksv1.Tick{
			Symbol:      req.GetSymbol(),
			Seq:         seq,
			PriceMicros: price.At(seq),
			TsNs:        uint64(time.Now().UnixNano()),
			Payload:     payloadWindow[at : at+n],
		})
		if err != nil {
			// The call is over: the client cancelled, its deadline passed, or the
			// connection is gone. grpc-go's error already carries the status.
			return err
		}
	}
	return nil
}

func (ticksService) Quote(_ context.Context, req *ticksv1.QuoteRequest) (*ticksv1.Tick, error) {
	if !validSymbol(req.GetSymbol()) {
		return nil, errSymbol
	}
	return &ticksv1.Tick{
		Symbol:      req.GetSymbol(),
		Seq:         0,
		PriceMicros: ticks.Symbol(req.GetSymbol()).At(0),
		TsNs:        uint64(time.Now().UnixNano()),
	}, nil
}

// validSymbol: 1 to 12 bytes, each of A-Z, 0-9 and '.'.
func validSymbol(s string) bool {
	if len(s) < 1 || len(s) > maxSymbol {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.') {
			return false
		}
	}
	return true
}

// grpcServer is the grpc workload's server as serve runs it (server.go).
type grpcServer struct {
	srv    *grpc.Server
	health *grpchealth.Server
	calls  *callCounter
}

// newGRPC builds the server with its telemetry: go-grpc-middleware's Prometheus interceptors
// (grpc_server_started_total, _handled_total, _msg_sent_total, _msg_received_total and the
// handling time histogram in the contract's buckets), and when tracing otelgrpc's stats
// handler. The metrics' series of every method are made at start, at 0.
func newGRPC(cfg config, tel *telemetry) (server, error) {
	calls := &callCounter{}
	metrics := grpcprom.NewServerMetrics(
		grpcprom.WithServerHandlingTimeHistogram(grpcprom.WithHistogramBuckets(durationBuckets)))
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(calls.unary, metrics.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(calls.stream, metrics.StreamServerInterceptor()),
		grpc.UnknownServiceHandler(unknownMethod),
	}
	if tel.tracing() {
		opts = append(opts, grpc.StatsHandler(grpcStatsHandler(tel)),
			grpc.ChainUnaryInterceptor(grpcStatusToSpan{}.unary),
			grpc.ChainStreamInterceptor(grpcStatusToSpan{}.stream))
	}
	srv := grpc.NewServer(opts...)
	ticksv1.RegisterTicksServer(srv, ticksService{})
	// grpc-go's health service answers "" SERVING from the start, NOT_FOUND for a service
	// it was never told of.
	hs := grpchealth.NewServer()
	hs.SetServingStatus(ticksv1.Ticks_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	metrics.InitializeMetrics(srv)
	if reg := tel.registerer(); reg != nil {
		reg.MustRegister(metrics)
	}
	return &grpcServer{srv: srv, health: hs, calls: calls}, nil
}

func (s *grpcServer) serve(ln net.Listener) error { return s.srv.Serve(ln) }

// stop: GracefulStop sends GOAWAY on every connection, closes the listener and waits for the
// calls in flight; it takes no deadline, so it runs aside while stop waits for ctx.
func (s *grpcServer) stop(ctx context.Context) error {
	s.health.Shutdown() // a Check still arriving on an open connection answers NOT_SERVING
	done := make(chan struct{})
	go func() {
		s.srv.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close: Stop ends the calls in flight and closes their connections; the GracefulStop that
// stop left running returns with it.
func (s *grpcServer) close()         { s.srv.Stop() }
func (s *grpcServer) served() uint64 { return s.calls.n.Load() }

// unknownMethod answers a method that no service has, 12 UNIMPLEMENTED as grpc-go itself
// would, but as a call that goes through the interceptors, so that it is counted: without
// this handler grpc-go answers an unknown method before any interceptor runs.
func unknownMethod(_ any, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	return status.Errorf(codes.Unimplemented, "unknown method %s", method)
}

// callCounter counts the calls that reached a method, in grpc-go's interceptors: every call
// to Stream, Quote, Check and unknownMethod, whatever its status (refused fields, a deadline
// that passed, a client that cancelled, whose status may never reach it). Not counted: the
// calls grpc-go answers before any method runs: a unary call (Quote, Check) whose request
// message is missing, is not protobuf or is over 4 MiB (grpc-go decodes it before the
// interceptor; Stream decodes inside it, so those Streams count), a grpc-encoding grpc-go
// lacks, a :path that is not /SERVICE/METHOD or a malformed header.
//
// A stats.Handler would see those too, but with one installed grpc-go makes a stats event for
// every message sent: one allocation and a clock read more per tick, measured +1 allocation
// and +82 B per tick (13.2 to 14.1 allocations, client and server, on a 100 000-tick Stream
// with 16-byte payloads), a cost the served line must not add to what the lab measures. (The
// otelgrpc stats handler is installed for tracing, with --otlp-endpoint only, for that reason.)
type callCounter struct{ n atomic.Uint64 }

func (c *callCounter) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	defer c.n.Add(1)
	return h(ctx, req)
}

func (c *callCounter) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	defer c.n.Add(1)
	return h(srv, ss)
}
