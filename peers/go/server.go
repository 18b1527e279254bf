package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
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

// serve listens on cfg.host:cfg.port, prints "listening on http://HOST:PORT" on logw and
// serves h until SIGTERM or SIGINT. Then it stops accepting, lets the requests in flight
// finish (for at most shutdownGrace), prints "served N requests" and returns nil.
func serve(cfg config, h http.Handler, logw io.Writer) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)))
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port

	var served atomic.Uint64
	srv := &http.Server{
		Handler:           countRequests(h, &served),
		ReadHeaderTimeout: requestTimeout,
		ReadTimeout:       requestTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(logw, "listening on http://%s\n", net.JoinHostPort(cfg.host, strconv.Itoa(port)))

	select {
	case err := <-errc:
		return err // Serve only returns early when accepting fails for good
	case <-ctx.Done():
	}
	stop() // from here a second signal ends the process at once

	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(logw, "stackbench-go: requests still in flight after %v (%v): closing their connections\n",
			shutdownGrace, err)
		srv.Close()
	}
	fmt.Fprintf(logw, "served %d requests\n", served.Load())
	return nil
}

// countRequests counts the requests the handlers answered.
func countRequests(next http.Handler, n *atomic.Uint64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		n.Add(1)
	})
}

// contractMux routes a workload's one endpoint and /health the way every contract wants them.
// The method-less patterns catch the other methods on the same paths: net/http's own 404 and
// 405 answers are plain text, the contracts want JSON ones.
func contractMux(method, path string, h http.HandlerFunc) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc(method+" "+path, h)
	mux.HandleFunc(path, methodNotAllowed(method))
	mux.HandleFunc("GET /health", health) // GET patterns match HEAD as well
	mux.HandleFunc("/health", methodNotAllowed("GET, HEAD"))
	mux.HandleFunc("/", notFound)
	return mux
}
