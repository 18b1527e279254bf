package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	// requestTimeout bounds how long a request may take to arrive, head and body
	// (ReadHeaderTimeout and ReadTimeout). A body still unfinished then is answered 408 by
	// the handlers; a head still unfinished is dropped by net/http without an answer (it
	// treats the read deadline like any other read error of a connection).
	requestTimeout = 10 * time.Second
	// idleTimeout closes keep-alive connections that send nothing more.
	idleTimeout = 60 * time.Second
	// writeTimeout bounds the time from the end of the request head to the end of the
	// answer, so that a client that stops reading cannot hold a connection forever.
	writeTimeout = 60 * time.Second
	// shutdownGrace is how long a stop waits for the requests in flight.
	shutdownGrace = 10 * time.Second
)

// A server is a workload's server as serve runs it: net/http's for the HTTP workloads
// (httpServer below), grpc-go's for grpc (grpc.go).
type server interface {
	// serve answers on ln until stop or close; an error is a listener that failed for good.
	serve(ln net.Listener) error
	// stop stops accepting and waits for the requests in flight, until ctx is done (then
	// it returns ctx's error and close ends what is left).
	stop(ctx context.Context) error
	// close ends the requests still in flight and their connections.
	close()
	// served is the number of requests answered so far.
	served() uint64
}

// serve listens on cfg.host:cfg.port, prints "listening on http://HOST:PORT" on logw and
// runs srv until SIGTERM or SIGINT; with --metrics-port (grpc), it also serves GET /metrics
// there and prints "metrics on http://HOST:PORT/metrics". Then it stops accepting, lets the
// requests in flight finish and sends the spans still queued (for at most shutdownGrace in
// all), prints "served N requests" and returns nil.
func serve(cfg config, srv server, tel *telemetry, logw io.Writer) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)))
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	var metrics *metricsServer
	var metricsLn net.Listener
	if cfg.metricsPort != 0 {
		metricsLn, err = net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.metricsPort)))
		if err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-port: %w", err)
		}
		metrics = newMetricsServer(tel)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	errc := make(chan error, 2)
	go func() { errc <- srv.serve(ln) }()
	if metrics != nil {
		go func() {
			if err := metrics.serve(metricsLn); err != nil {
				errc <- fmt.Errorf("--metrics-port: %w", err)
			}
		}()
	}
	fmt.Fprintf(logw, "listening on http://%s\n", net.JoinHostPort(cfg.host, strconv.Itoa(port)))
	if metrics != nil {
		fmt.Fprintf(logw, "metrics on http://%s/metrics\n", metricsLn.Addr())
	}

	select {
	case err := <-errc:
		return err // serve only returns early when accepting fails for good
	case <-ctx.Done():
	}
	stop() // from here a second signal ends the process at once

	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.stop(sctx); err != nil {
		fmt.Fprintf(logw, "stackbench-go: requests still in flight after %v (%v): closing their connections\n",
			shutdownGrace, err)
		srv.close()
	}
	if metrics != nil {
		metrics.stop(sctx)
	}
	if err := tel.shutdown(sctx); err != nil {
		fmt.Fprintf(logw, "stackbench-go: spans not sent at stop: %v\n", err)
	}
	fmt.Fprintf(logw, "served %d requests\n", srv.served())
	return nil
}

// httpServer serves a workload's contractMux with net/http and the timeouts above, adds
// GET /metrics to it, measures its requests (httpmetrics.go), traces them with otelhttp when
// tracing is on, and counts the requests the handler answered.
type httpServer struct {
	mux     contractMux // the workload's, as its constructor built it, and /metrics
	metrics *httpMetrics
	tel     *telemetry
	srv     *http.Server
	n       atomic.Uint64
}

// overHTTP makes a constructor of an HTTP handler a constructor of the workloads table.
func overHTTP(newH newHandler) newServer {
	return func(cfg config, tel *telemetry) (server, error) {
		mux, err := newH(cfg, tel)
		if err != nil {
			return nil, err
		}
		return newHTTPServer(mux, tel), nil
	}
}

func newHTTPServer(mux contractMux, tel *telemetry) *httpServer {
	mux.Handle("GET /metrics", tel.metricsHandler())
	mux.HandleFunc("/metrics", methodNotAllowed("GET, HEAD"))
	s := &httpServer{mux: mux, metrics: newHTTPMetrics(tel.reg, mux), tel: tel}
	s.srv = &http.Server{
		ReadHeaderTimeout: requestTimeout,
		ReadTimeout:       requestTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ConnState:         s.metrics.connState,
	}
	return s
}

// handler is the chain a request goes through: the served count, otelhttp when tracing (its
// server.address and server.port are serverAddr's), the metrics, and the workload's mux.
func (s *httpServer) handler(serverAddr string) http.Handler {
	var h http.Handler = s.mux
	if s.tel.tracing() {
		h = routeToSpan(h, s.mux)
	}
	h = s.metrics.handler(h)
	if s.tel.tracing() {
		h = traceHTTP(h, s.tel, s.mux, serverAddr)
	}
	return countRequests(h, &s.n)
}

func (s *httpServer) serve(ln net.Listener) error {
	s.srv.Handler = s.handler(ln.Addr().String())
	return s.srv.Serve(ln)
}
func (s *httpServer) stop(ctx context.Context) error { return s.srv.Shutdown(ctx) }
func (s *httpServer) close()                         { s.srv.Close() }
func (s *httpServer) served() uint64                 { return s.n.Load() }

// countRequests counts the requests the handlers answered.
func countRequests(next http.Handler, n *atomic.Uint64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		n.Add(1)
	})
}

// contractMux is a ServeMux that answers the way every contract wants: GET /health, and JSON
// 404 and 405 answers (net/http's own are plain text), and GET /debug/gc-pauses for the lab
// (debug.go). Workloads add their routes with route, which also records each pattern's route
// for the metrics and the spans (the path pattern, "/accounts/{id}").
type contractMux struct {
	*http.ServeMux
	routes map[string]string // ServeMux pattern -> route; the patterns of route and routeAs only
}

func newContractMux() contractMux {
	m := contractMux{http.NewServeMux(), make(map[string]string)}
	m.HandleFunc("GET /health", health) // GET patterns match HEAD as well
	m.HandleFunc("/health", methodNotAllowed("GET, HEAD"))
	// Not a route of the contracts: not in the metrics (route records routes for them).
	m.HandleFunc("GET /debug/gc-pauses", gcPauses)
	m.HandleFunc("/debug/gc-pauses", methodNotAllowed("GET"))
	m.HandleFunc("/", notFound)
	return m
}

// route serves method on path with h. The method-less pattern catches the other methods on the
// same path: a JSON 405 whose Allow header is method.
func (m contractMux) route(method, path string, h http.HandlerFunc) {
	m.routeAs(method, path, path, h)
}

// routeAs is route for a pattern that is a case of another route: its requests are labelled
// and named as route's ("/accounts/{$}", an empty id, as "/accounts/{id}").
func (m contractMux) routeAs(method, path, route string, h http.HandlerFunc) {
	m.HandleFunc(method+" "+path, h)
	m.HandleFunc(path, methodNotAllowed(method))
	m.routes[method+" "+path] = route
	m.routes[path] = route
}

// bodyLimit is a workload's largest request body (--body-limit) and its 413 answer,
// {"error":"body_too_large","limit":N}, formatted once.
type bodyLimit struct {
	max          int64
	tooLargeBody []byte
}

func newBodyLimit(max int64) bodyLimit {
	return bodyLimit{max, fmt.Appendf(nil, `{"error":"body_too_large","limit":%d}`, max)}
}

// read reads the whole body of r into buf, which it resets first, and reports whether it
// could. When it could not, it has answered, and the connection is closed after the answer:
// 413 over the limit, 408 when the body did not arrive in time, 400 when it was cut short or
// its chunked framing is broken.
func (l bodyLimit) read(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer) bool {
	// A declared length over the limit is refused before reading anything; a chunked body
	// is cut by MaxBytesReader as soon as it passes the limit.
	if r.ContentLength > l.max {
		writeJSONAndClose(w, http.StatusRequestEntityTooLarge, l.tooLargeBody)
		return false
	}
	buf.Reset()
	if r.ContentLength > 0 {
		// Room for the whole body and the read that sees its end: no copy while reading.
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, l.max))
	if err == nil {
		return true
	}
	l.refuse(w, err)
	return false
}

// readInto is read for a caller that keeps its own buffer: the body goes into buf[:0], grown
// when it is too small, and the result is returned (buf's memory when it was large enough).
// A body of known length is read straight into a slice of that length, once, with no
// intermediate buffer and no final read to see its end.
func (l bodyLimit) readInto(w http.ResponseWriter, r *http.Request, buf []byte) ([]byte, bool) {
	if r.ContentLength > l.max {
		writeJSONAndClose(w, http.StatusRequestEntityTooLarge, l.tooLargeBody)
		return buf, false
	}
	var err error
	if r.ContentLength >= 0 {
		n := int(r.ContentLength)
		buf = slices.Grow(buf[:0], n)[:n]
		_, err = io.ReadFull(r.Body, buf) // io.ErrUnexpectedEOF when cut short
	} else {
		buf, err = appendAll(buf[:0], http.MaxBytesReader(w, r.Body, l.max))
	}
	if err != nil {
		l.refuse(w, err)
		return buf, false
	}
	return buf, true
}

// appendAll appends what src gives until EOF to b (io.ReadAll into a buffer of one's own).
func appendAll(b []byte, src io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := src.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// refuse answers a body that could not be read, and closes the connection after the answer.
func (l bodyLimit) refuse(w http.ResponseWriter, err error) {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeJSONAndClose(w, http.StatusRequestEntityTooLarge, l.tooLargeBody)
	case errors.Is(err, os.ErrDeadlineExceeded):
		// ReadTimeout passed with the body unfinished.
		writeJSONAndClose(w, http.StatusRequestTimeout, requestTimeoutBody)
	default:
		// The body was cut short (the client closed) or its chunked framing is broken:
		// the connection cannot be trusted any more.
		writeJSONAndClose(w, http.StatusBadRequest, badRequestBody)
	}
}

// Answers that never change, the same for every workload.
var (
	healthBody           = []byte(`{"status":"ok"}`)
	notFoundBody         = []byte(`{"error":"not_found"}`)
	methodNotAllowedBody = []byte(`{"error":"method_not_allowed"}`)
	badRequestBody       = []byte(`{"error":"bad_request"}`)
	requestTimeoutBody   = []byte(`{"error":"request_timeout"}`)
)

func health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, healthBody)
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, notFoundBody)
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, methodNotAllowedBody)
	}
}

// writeJSON answers status with a JSON body. Content-Length is always set, so answers are
// never chunked (net/http would chunk bodies over its 2 KiB buffer otherwise). For HEAD,
// net/http sends the head only.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body) // an error means the client is gone: nothing left to do
}

// writeJSONAndClose answers, then closes the connection. When request body bytes are left
// unread, net/http either reads and drops them (up to 256 KiB) or, past that or after
// MaxBytesReader hit its limit, half-closes and waits 500 ms before closing, so that the
// client reads the answer rather than a reset.
func writeJSONAndClose(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Connection", "close")
	writeJSON(w, status, body)
}
