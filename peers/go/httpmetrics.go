package main

// The HTTP workloads' request metrics (contracts/telemetry.md), a net/http middleware over
// client_golang. It is the server's outermost handler when tracing is off, and the first one
// inside otelhttp when it is on, so its clock starts at net/http's first hook.
//
// The request path stays cheap: every route's children (its duration histogram, its body
// byte counters, its requests counter curried with the route) are resolved when the server
// is built, the status codes' label strings are made once, and the response writer and body
// wrappers that see the status and byte counts come from a sync.Pool. What is left per
// request is one lookup of the (method, code) child in the route's curried counter and a few
// atomic adds, with no allocation (BenchmarkHTTPMetrics).
//
// promhttp's InstrumentHandler* middlewares are not used: they build a prometheus.Labels map
// per request, write the method in lower case, and count approximate request sizes (head
// included) in histograms where the contract wants body bytes in counters.

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// routeOther is the route label of a request that matched no route of the workload.
const routeOther = "other"

// httpMetrics holds the HTTP families and each route's resolved children.
type httpMetrics struct {
	inFlight   prometheus.Gauge
	connsOpen  prometheus.Gauge
	connsTotal prometheus.Counter
	// byPattern maps every ServeMux pattern of the workload to its route's children; it is
	// filled before serving and only read afterwards.
	byPattern map[string]*routeMetrics
	other     *routeMetrics
}

// routeMetrics are one route's children of the HTTP families.
type routeMetrics struct {
	requests  *prometheus.CounterVec // http_requests_total curried with route: method, code
	duration  prometheus.Observer
	reqBytes  prometheus.Counter
	respBytes prometheus.Counter
}

// newHTTPMetrics registers the HTTP families on reg and resolves the children of every route
// of mux.
func newHTTPMetrics(reg prometheus.Registerer, mux contractMux) *httpMetrics {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total",
		Help: "HTTP requests answered, by method, route pattern and status code.",
	}, []string{"method", "route", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_request_duration_seconds",
		Help:    "Time from the request's arrival in the handler chain to its answer queued, by route.",
		Buckets: durationBuckets,
	}, []string{"route"})
	reqBytes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_request_body_bytes_total",
		Help: "Request body bytes read (after de-chunking), by route.",
	}, []string{"route"})
	respBytes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_response_body_bytes_total",
		Help: "Response body bytes written, by route.",
	}, []string{"route"})
	m := &httpMetrics{
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "http_requests_in_flight",
			Help: "Requests being handled: read and not yet answered.",
		}),
		connsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "http_connections_open",
			Help: "Client connections open.",
		}),
		connsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "http_connections_total",
			Help: "Client connections accepted.",
		}),
		byPattern: make(map[string]*routeMetrics),
	}
	if reg != nil {
		reg.MustRegister(requests, duration, reqBytes, respBytes, m.inFlight, m.connsOpen, m.connsTotal)
	}
	children := make(map[string]*routeMetrics)
	child := func(route string) *routeMetrics {
		if rm, ok := children[route]; ok {
			return rm
		}
		labels := prometheus.Labels{"route": route}
		rm := &routeMetrics{
			requests:  requests.MustCurryWith(labels),
			duration:  duration.With(labels),
			reqBytes:  reqBytes.With(labels),
			respBytes: respBytes.With(labels),
		}
		children[route] = rm
		return rm
	}
	for pattern, route := range mux.routes {
		m.byPattern[pattern] = child(route)
	}
	m.other = child(routeOther)
	return m
}

// unmeasured are the paths whose requests are not counted: a scrape does not measure itself,
// and neither do the health check and the lab's GC read.
func unmeasured(path string) bool {
	return path == "/metrics" || path == "/health" || path == "/debug/gc-pauses"
}

// handler counts what next answers. next must be the workload's contractMux, or a handler
// that passes the request it gets to the mux as it is: the route is read from r.Pattern,
// which the mux sets on that request.
func (m *httpMetrics) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if unmeasured(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		m.inFlight.Inc()
		x := exchanges.Get().(*exchange)
		x.w.ResponseWriter = w
		body := r.Body
		if body != nil && body != http.NoBody {
			x.body.ReadCloser = body
			r.Body = &x.body
		}

		defer m.done(x, r, body, start)
		next.ServeHTTP(&x.w, r)
	})
}

// done counts a request that next has answered, and gives its wrappers back to the pool.
// Deferred, so that a handler that panics (net/http recovers and drops the connection)
// leaves no request in flight for ever.
func (m *httpMetrics) done(x *exchange, r *http.Request, body io.ReadCloser, start time.Time) {
	rm := m.byPattern[r.Pattern]
	if rm == nil {
		rm = m.other
	}
	status := x.w.status
	if status == 0 {
		status = http.StatusOK // net/http answers 200 for a handler that wrote nothing
	}
	rm.requests.WithLabelValues(methodLabel(r.Method), statusLabel(status)).Inc()
	rm.reqBytes.Add(float64(x.body.n))
	rm.respBytes.Add(float64(x.w.written))
	rm.duration.Observe(time.Since(start).Seconds())
	m.inFlight.Dec()

	r.Body = body
	*x = exchange{}
	exchanges.Put(x)
}

// connState keeps the connection figures, as http.Server's ConnState hook.
func (m *httpMetrics) connState(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		m.connsTotal.Inc()
		m.connsOpen.Inc()
	case http.StateClosed, http.StateHijacked:
		m.connsOpen.Dec()
	}
}

// exchange is one request's wrappers, pooled.
type exchange struct {
	w    statusRecorder
	body countingBody
}

var exchanges = sync.Pool{New: func() any { return new(exchange) }}

// statusRecorder is a ResponseWriter that keeps the status and the body bytes written.
type statusRecorder struct {
	http.ResponseWriter
	status  int
	written int64
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // 1xx answers are informational: the final one follows
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.written += int64(n)
	return n, err
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// countingBody is a request body that counts the bytes read from it.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// methodLabel is the method as the contract's label has it: the methods of RFC 9110 and
// PATCH as they are, any other "_OTHER" (as OpenTelemetry's http.request.method), so that a
// client cannot make a new series per invented method.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// statusLabels are the code label strings of 100-599, made once.
var statusLabels = func() (s [600]string) {
	for c := 100; c < len(s); c++ {
		s[c] = strconv.Itoa(c)
	}
	return s
}()

func statusLabel(code int) string {
	if code >= 100 && code < len(statusLabels) {
		return statusLabels[code]
	}
	return strconv.Itoa(code)
}
