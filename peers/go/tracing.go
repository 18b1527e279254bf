package main

// The request path's tracing instrumentation, installed only with --otlp-endpoint
// (telemetry.go): otelhttp for the HTTP workloads, otelgrpc's stats handler for grpc, and
// otelpgx for sql's statements. Where these libraries name things otherwise than
// contracts/telemetry.md, the contract's "Go" section lists it.

import (
	"context"
	"net/http"
	"os"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// traceHTTP wraps h in otelhttp: a SERVER span per request, the child of a valid traceparent,
// named "METHOD ROUTE" once the mux has matched the route. /metrics, /health and
// /debug/gc-pauses are not traced. otelhttp's own metrics go to a no-op meter: the
// Prometheus families of httpmetrics.go are the service's metrics.
func traceHTTP(h http.Handler, tel *telemetry, mux contractMux, serverAddr string) http.Handler {
	return otelhttp.NewHandler(h, "",
		otelhttp.WithTracerProvider(tel.tracerProvider()),
		otelhttp.WithPropagators(tel.propagator),
		otelhttp.WithMeterProvider(noop.NewMeterProvider()),
		otelhttp.WithServerName(serverAddr),
		otelhttp.WithFilter(func(r *http.Request) bool { return !unmeasured(r.URL.Path) }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			return httpSpanName(r.Method, mux.routes[r.Pattern])
		}))
}

// httpSpanName is "METHOD ROUTE", or "METHOD" for a request that matched no route; a method
// outside RFC 9110 is "HTTP", as the semantic conventions say.
func httpSpanName(method, route string) string {
	if methodLabel(method) == "_OTHER" {
		method = "HTTP"
	}
	if route == "" {
		return method
	}
	return method + " " + route
}

// routeToSpan sets http.route on the request's span once mux has matched the request:
// otelhttp starts the span before routing and sets the name again afterwards, but not the
// attribute.
func routeToSpan(next http.Handler, mux contractMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if route := mux.routes[r.Pattern]; route != "" {
			if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
				span.SetAttributes(semconv.HTTPRoute(route))
			}
		}
	})
}

// grpcStatsHandler is otelgrpc's server handler: a SERVER span per call, named
// "stackbench.v1.Ticks/Stream", no event per message (a Stream sends up to a million).
//
// otelgrpc v0.72 writes the RPC conventions of semconv 1.43 unless OTEL_SEMCONV_STABILITY_OPT_IN
// says rpc/old: the contract's are the older ones (rpc.system, rpc.service, rpc.method,
// rpc.grpc.status_code), which is what rpc/old gives, so it is the default here; a value set
// in the environment is left as it is.
func grpcStatsHandler(tel *telemetry) stats.Handler {
	const optIn = "OTEL_SEMCONV_STABILITY_OPT_IN"
	if _, set := os.LookupEnv(optIn); !set {
		os.Setenv(optIn, "rpc/old")
	}
	return otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(tel.tracerProvider()),
		otelgrpc.WithPropagators(tel.propagator),
		otelgrpc.WithMeterProvider(noop.NewMeterProvider()),
	)
}

// grpcStatusToSpan sets rpc.grpc.status_code, the contract's status attribute, on the call's
// span: otelgrpc writes the status as rpc.response.status_code ("OK", "INVALID_ARGUMENT")
// whatever the conventions chosen. An interceptor sees the status the method returned: a call
// that grpc-go refuses before any method runs keeps otelgrpc's attribute only.
type grpcStatusToSpan struct{}

func (grpcStatusToSpan) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	setGRPCStatus(ctx, err)
	return resp, err
}

func (grpcStatusToSpan) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	err := h(srv, ss)
	setGRPCStatus(ss.Context(), err)
	return err
}

func setGRPCStatus(ctx context.Context, err error) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(attribute.Int("rpc.grpc.status_code", int(status.Code(err))))
	}
}

// statementSpan is how a statement of contracts/sql/queries.sql is traced: its span name
// ("OPERATION TABLE") and attributes.
type statementSpan struct {
	name  string
	attrs []attribute.KeyValue
}

func newStatementSpan(operation, table, text string) statementSpan {
	return statementSpan{operation + " " + table, []attribute.KeyValue{
		semconv.DBOperationName(operation),
		semconv.DBCollectionName(table),
		semconv.DBQueryText(text),
	}}
}

// statementSpans are the spans of sqlStatements, by statement name: requests run the
// prepared statements by name, which is all pgx's tracer sees of them.
var statementSpans = map[string]statementSpan{
	"account":  newStatementSpan("SELECT", "accounts", sqlAccount),
	"accounts": newStatementSpan("SELECT", "accounts", sqlAccounts),
	"order":    newStatementSpan("INSERT", "orders", sqlOrder),
}

// statementTracer is the pgx.QueryTracer of the sql pool when tracing: otelpgx makes a CLIENT
// span per statement (db.system.name postgresql, the connection's server.address and
// server.port, the error and its SQLSTATE), and this adds what otelpgx cannot know of a
// statement run by name: the contract's span name and db.operation.name, db.collection.name
// and the statement's text as db.query.text.
//
// Only queries are traced: the statements prepared when a connection opens, its connect and
// pgxpool's acquire are not statements of a request (statementTracer does not implement
// pgx's PrepareTracer and ConnectTracer, nor pgxpool's AcquireTracer). A statement whose
// request is not sampled costs one context lookup: otelpgx is not called at all.
type statementTracer struct{ otel *otelpgx.Tracer }

func newStatementTracer(tp trace.TracerProvider) *statementTracer {
	return &statementTracer{otelpgx.NewTracer(
		otelpgx.WithTracerProvider(tp),
		otelpgx.WithMeterProvider(noop.NewMeterProvider()),
		otelpgx.WithDisableSQLStatementInAttributes(), // it would write the statement's name
		otelpgx.WithSpanNameFunc(func(name string) string {
			if s, ok := statementSpans[name]; ok {
				return s.name
			}
			return otelpgx.SQLOperationName(context.Background(), name)
		}),
	)}
}

func (t *statementTracer) TraceQueryStart(ctx context.Context, c *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx
	}
	ctx = t.otel.TraceQueryStart(ctx, c, data)
	if s, ok := statementSpans[data.SQL]; ok {
		trace.SpanFromContext(ctx).SetAttributes(s.attrs...)
	}
	return ctx
}

func (t *statementTracer) TraceQueryEnd(ctx context.Context, c *pgx.Conn, data pgx.TraceQueryEndData) {
	// When TraceQueryStart made no span, the span of ctx is the request's, not recording.
	if trace.SpanFromContext(ctx).IsRecording() {
		t.otel.TraceQueryEnd(ctx, c, data)
	}
}
