package main

// Telemetry (contracts/telemetry.md): Prometheus metrics with client_golang and traces with
// the OpenTelemetry SDK, the same in every workload and tier.
//
// Metrics go to a registry of the service's own (not client_golang's global one): the
// contract's families, the process collector's process_* and the Go runtime collector's
// go_*. The HTTP workloads answer GET /metrics on their port (httpmetrics.go); grpc on a
// listener of its own, --metrics-port, as gRPC's port speaks HTTP/2 only.
//
// Traces exist only with --otlp-endpoint: without it no tracer provider is made, and nothing
// on the request path knows of tracing (no otelhttp, no otelgrpc stats handler, no pgx
// tracer). With it, spans are sampled parent-based on a trace-id ratio (--trace-ratio),
// queued and sent in batches by the SDK's BatchSpanProcessor to URL/v1/traces over OTLP/HTTP
// protobuf, off the request path; stop flushes what is queued within what is left of the
// grace period.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// durationBuckets are the contract's buckets for every duration histogram, in seconds:
// 10 µs to 10 s in 1-2.5-5 steps.
var durationBuckets = []float64{
	0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// The contract's BatchSpanProcessor: queue, batch and the longest wait before a batch goes.
const (
	spanQueueSize = 2048
	spanBatchSize = 512
	spanBatchWait = time.Second
	// spanExportTimeout bounds one export, so that a collector that accepts and then says
	// nothing cannot hold the exporter for the SDK's default 10 s.
	spanExportTimeout = 5 * time.Second
)

// defaultTraceRatio is --trace-ratio's default: 1 % of the root requests.
const defaultTraceRatio = 0.01

// telemetry is what every workload's server reports to: the metrics registry, and the tracer
// provider when tracing is on.
type telemetry struct {
	reg *prometheus.Registry
	// tp is nil without --otlp-endpoint: nothing is traced.
	tp *sdktrace.TracerProvider
	// propagator reads W3C traceparent (and tracestate) from requests.
	propagator propagation.TextMapPropagator
}

// newTelemetry makes the registry and, with --otlp-endpoint, the tracer provider of the
// service stackbench-WORKLOAD. Making the exporter opens no connection: a collector that is
// not there yet costs nothing until the first batch.
func newTelemetry(cfg config, workload string) (*telemetry, error) {
	t := &telemetry{reg: prometheus.NewRegistry(), propagator: propagation.TraceContext{}}
	t.reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
	)
	if cfg.otlpEndpoint == "" {
		return t, nil
	}
	otel.SetErrorHandler(&exportErrors{w: os.Stderr})
	exp, err := otlptracehttp.New(context.Background(),
		otlptracehttp.WithEndpointURL(tracesURL(cfg.otlpEndpoint)),
		otlptracehttp.WithTimeout(spanExportTimeout))
	if err != nil {
		return nil, fmt.Errorf("--otlp-endpoint: %w", err)
	}
	res, err := resource.New(context.Background(),
		resource.WithTelemetrySDK(), // telemetry.sdk.language=go, .name, .version
		resource.WithAttributes(
			semconv.ServiceName("stackbench-"+workload),
			semconv.ServiceVersion(version),
		))
	if err != nil {
		return nil, err
	}
	t.tp = sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.traceRatio))),
		sdktrace.WithBatcher(exp,
			sdktrace.WithMaxQueueSize(spanQueueSize),
			sdktrace.WithMaxExportBatchSize(spanBatchSize),
			sdktrace.WithBatchTimeout(spanBatchWait)),
	)
	return t, nil
}

// exportErrors is the OpenTelemetry SDK's error handler: a collector that is down makes an
// error of every export; at most one line a second of them goes to the log, as sql's 503s.
type exportErrors struct {
	w    io.Writer
	last atomic.Int64 // unix nanoseconds of the last line
}

func (e *exportErrors) Handle(err error) {
	now := time.Now().UnixNano()
	last := e.last.Load()
	if now-last >= int64(time.Second) && e.last.CompareAndSwap(last, now) {
		fmt.Fprintf(e.w, "stackbench-go: telemetry: %v\n", err)
	}
}

// tracing reports whether requests are traced (--otlp-endpoint was given).
func (t *telemetry) tracing() bool { return t != nil && t.tp != nil }

// tracerProvider is the provider of the request path's instrumentation; only called when
// tracing.
func (t *telemetry) tracerProvider() trace.TracerProvider { return t.tp }

// registerer is where a workload registers its own families; nil telemetry (tests that build
// a handler alone) registers nowhere.
func (t *telemetry) registerer() prometheus.Registerer {
	if t == nil {
		return nil
	}
	return t.reg
}

// metricsHandler answers GET /metrics from the registry. promhttp negotiates the format from
// Accept: a scraper that asks for nothing gets the text format 0.0.4.
func (t *telemetry) metricsHandler() http.Handler {
	return promhttp.HandlerFor(t.reg, promhttp.HandlerOpts{})
}

// shutdown sends the spans still queued, until ctx is done.
func (t *telemetry) shutdown(ctx context.Context) error {
	if !t.tracing() {
		return nil
	}
	return t.tp.Shutdown(ctx)
}

// tracesURL is the OTLP/HTTP traces URL of a collector's base URL: URL/v1/traces.
func tracesURL(base string) string {
	return strings.TrimSuffix(base, "/") + "/v1/traces"
}

// parseOTLPEndpoint checks --otlp-endpoint: an http or https URL with a host, and no query.
func parseOTLPEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid --otlp-endpoint %q: %v", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("invalid --otlp-endpoint %q: want http://HOST:PORT (the spans go to URL/v1/traces)", s)
	}
	return nil
}

// parseTraceRatio reads --trace-ratio: a number from 0 to 1.
func parseTraceRatio(s string) (float64, error) {
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(r) || r < 0 || r > 1 {
		return 0, fmt.Errorf("invalid --trace-ratio %q: want a number from 0 to 1", s)
	}
	return r, nil
}

// version is the resource's service.version: stackbench's version, which peers/Makefile
// stamps in (-X main.version=VERSION, VERSION from the top Makefile, as the C services have
// it); "dev" in a build without it.
var version = "dev"

// metricsServer serves GET /metrics and GET /health over HTTP/1.1, for grpc's --metrics-port.
type metricsServer struct{ srv *http.Server }

func newMetricsServer(t *telemetry) *metricsServer {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", t.metricsHandler())
	mux.HandleFunc("GET /health", health) // as the C service's metrics port
	mux.HandleFunc("/", notFound)
	return &metricsServer{&http.Server{
		Handler:           mux,
		ReadHeaderTimeout: requestTimeout,
		ReadTimeout:       requestTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
	}}
}

// serve answers on ln until stop; http.ErrServerClosed is not an error.
func (m *metricsServer) serve(ln net.Listener) error {
	if err := m.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (m *metricsServer) stop(ctx context.Context) error { return m.srv.Shutdown(ctx) }
