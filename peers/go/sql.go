package main

// The sql workload (contracts/sql.md): an API over PostgreSQL through a pgx connection pool.
//
//	GET  /accounts/{id}        one account
//	GET  /accounts?ids=1,2,3   the accounts that exist among 1 to 20 ids, sorted by id
//	POST /orders               {"account_id":N,"amount":N}: debit the account and record the
//	                           order in one statement, answer 201 once committed
//	GET  /health               {"status":"ok"}, without touching the database
//
// Every request is one statement of contracts/sql/queries.sql, the same texts in every
// language (sqlStatements; sql_test.go compares them with the file): one round trip, and for
// an order one implicit transaction, as the debit and the insert are one data-modifying WITH.
// Each connection prepares the three statements when it opens, under their names in that
// file, and requests run them by name.
//
// The pool keeps --pool connections open (MinConns = MaxConns), opened before the service
// says it is listening.
//
// # One request per connection at a time (--db-strategy exclusive), and only that
//
// pgxpool lends a connection to one request at a time: a request holds it from its statement
// to its last row. That is the one strategy the Go peer has. pgx pipelines only within one
// caller's Batch (the statements of one request, sent together), never the statements of
// concurrent requests on one connection, and there is no pgx or database/sql setting that
// would; a hand-made multiplexer over pgconn would be a database driver of our own, not what
// a Go team uses. The C service's pipelined strategy has no Go counterpart.
//
// # Failures
//
// Every request that uses the database has dbTimeout to get a connection and use it; past
// that, or when the database cannot be reached, it is answered 503. Broken connections are
// never handed out again: pgx closes a connection on an I/O error or a FATAL message from
// the server, pgxpool destroys closed connections on release and pings connections idle for
// more than a second before handing them out, and opens new ones on demand, so the service
// recovers by itself once the database is back. A read that failed only because its
// connection had died in the meantime (the database restarted since it was last used) runs
// again on another connection. An order never runs again once its statement may have been
// sent: it may have committed, and only pgx's SafeToRetry (nothing was sent) says otherwise.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	// dbTimeout bounds the database part of a request: acquiring a connection (which may
	// mean opening one) and running the statements. The contract's 2 s.
	dbTimeout = 2 * time.Second
	// startTimeout bounds opening the whole pool at start.
	startTimeout = 10 * time.Second
	// maxIDs is the most ids GET /accounts?ids= takes.
	maxIDs = 20
	// maxAmount is the largest amount of an order; the smallest is 1.
	maxAmount = 1_000_000
	// maxPool is the largest --pool: pgxpool counts connections in an int32.
	maxPool = math.MaxInt32
)

// The statements of contracts/sql/queries.sql, by the name each has there (the text without
// its final ';'). go:embed cannot reach outside the module, so they are copied here, and
// TestSQLStatementsAreTheContracts fails when the copy and the file differ.
const (
	sqlAccount  = `SELECT balance, name FROM accounts WHERE id = $1`
	sqlAccounts = `SELECT id, balance, name FROM accounts WHERE id = ANY($1::int[]) ORDER BY id`
	sqlOrder    = `WITH debit AS (UPDATE accounts SET balance = balance - $2 WHERE id = $1 RETURNING id, balance) INSERT INTO orders (account_id, amount) SELECT id, $2 FROM debit RETURNING id, (SELECT balance FROM debit)`
)

// sqlStatements maps each statement's name to its text: every connection prepares them under
// these names when it opens.
var sqlStatements = map[string]string{"account": sqlAccount, "accounts": sqlAccounts, "order": sqlOrder}

// Answers that never change (the shared ones are in server.go).
var (
	invalidJSONBody         = []byte(`{"error":"invalid_json"}`)
	amountOutOfRangeBody    = []byte(`{"error":"amount_out_of_range"}`)
	databaseUnavailableBody = []byte(`{"error":"database_unavailable"}`)
)

type sqlService struct {
	pool     *pgxpool.Pool
	body     bodyLimit
	attempts int          // how many connections withConn tries: the pool's size + 1
	logw     io.Writer    // where database errors are told, at most once a second
	lastLog  atomic.Int64 // unix nanoseconds of the last database error logged
	// dbErrors counts the database calls that failed (sql_errors_total), unavailableTotal the
	// requests answered 503 (sql_unavailable_total).
	dbErrors, unavailableTotal prometheus.Counter
}

func newSQL(cfg config, tel *telemetry) (contractMux, error) {
	if cfg.pgURL == "" {
		return contractMux{}, errors.New("--pg-url is required")
	}
	if cfg.pool < 1 || cfg.pool > maxPool {
		return contractMux{}, fmt.Errorf("invalid --pool %d: want 1-%d", cfg.pool, maxPool)
	}
	pc, err := poolConfig(cfg.pgURL, int32(cfg.pool))
	if err != nil {
		return contractMux{}, err
	}
	if tel.tracing() {
		pc.ConnConfig.Tracer = newStatementTracer(tel.tracerProvider())
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	pool, err := openPool(ctx, pc)
	if err != nil {
		return contractMux{}, err
	}
	return newSQLService(pool, cfg.bodyLimit, os.Stderr, tel.registerer()).routes(), nil
}

// newSQLService serves the contract over pool, and registers its families on reg (none when
// reg is nil).
func newSQLService(pool *pgxpool.Pool, bodyLimit int64, logw io.Writer, reg prometheus.Registerer) *sqlService {
	s := &sqlService{
		pool:     pool,
		body:     newBodyLimit(bodyLimit),
		attempts: int(pool.Stat().MaxConns()) + 1,
		logw:     logw,
		dbErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sql_errors_total",
			Help: "Database calls that failed: no connection, connection lost, statement error.",
		}),
		unavailableTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sql_unavailable_total",
			Help: "Requests answered 503 because the database could not be used.",
		}),
	}
	if reg != nil {
		reg.MustRegister(s.dbErrors, s.unavailableTotal, newPoolCollector(pool))
	}
	return s
}

// routes maps the contract's routes. GET patterns match HEAD as well.
func (s *sqlService) routes() contractMux {
	mux := newContractMux()
	mux.route("GET", "/accounts/{id}", s.account)
	mux.routeAs("GET", "/accounts/{$}", "/accounts/{id}", badRequest) // an empty {id}
	mux.route("GET", "/accounts", s.accounts)
	mux.route("POST", "/orders", s.order)
	return mux
}

// poolConfig is the configuration of a pool of exactly size connections to the database
// at url, a URL or a keyword/value string as libpq takes them (with libpq's PG*
// environment variables as defaults).
func poolConfig(url string, size int32) (*pgxpool.Config, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("--pg-url: %w", err) // pgconn hides the password in its errors
	}
	pc.MaxConns = size
	pc.MinConns = size
	pc.AfterConnect = prepareStatements
	// The health check reopens the connections a database restart closed, up to MinConns;
	// every second rather than pgxpool's every minute, so that the pool is whole again
	// within a second of the database coming back (a check with nothing to reopen costs
	// no database work).
	pc.HealthCheckPeriod = time.Second
	if pc.ConnConfig.ConnectTimeout == 0 {
		// pgxpool opens connections in the background and lets a connect run for up to 2
		// minutes; a database that accepts but does not answer would then hold pool slots
		// long after the requests that wanted them were answered 503.
		pc.ConnConfig.ConnectTimeout = dbTimeout
	}
	return pc, nil
}

// prepareStatements prepares sqlStatements on a new connection, each under its name.
func prepareStatements(ctx context.Context, c *pgx.Conn) error {
	for name, text := range sqlStatements {
		if _, err := c.Prepare(ctx, name, text); err != nil {
			return fmt.Errorf("preparing %s: %w", name, err)
		}
	}
	return nil
}

// openPool opens the pool pc describes and waits until all its connections are open, so
// that the first requests find the pool as warm as the other languages' services do.
func openPool(ctx context.Context, pc *pgxpool.Config) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, err
	}
	// Hold every connection at once: this opens those the pool has not opened yet.
	held := make([]*pgxpool.Conn, 0, pc.MaxConns)
	for range pc.MaxConns {
		c, err := pool.Acquire(ctx)
		if err != nil {
			for _, c := range held {
				c.Release()
			}
			pool.Close() // waits for the connections held to come back
			return nil, fmt.Errorf("cannot open the connection pool: %w", err)
		}
		held = append(held, c)
	}
	for _, c := range held {
		c.Release()
	}
	return pool, nil
}

// account answers GET /accounts/{id}.
func (s *sqlService) account(w http.ResponseWriter, r *http.Request) {
	id, ok := parseID(r.PathValue("id"))
	if !ok {
		badRequest(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), dbTimeout)
	defer cancel()
	var balance int64
	var name string
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, "account", id).Scan(&balance, &name)
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		notFound(w, r)
	case err != nil:
		s.unavailable(w, err)
	default:
		writeJSON(w, http.StatusOK, appendAccount(make([]byte, 0, 64), id, balance, name))
	}
}

// accounts answers GET /accounts?ids=1,2,3.
func (s *sqlService) accounts(w http.ResponseWriter, r *http.Request) {
	list, present := r.URL.Query()["ids"]
	if !present {
		badRequest(w, r)
		return
	}
	ids, ok := parseIDs(list[0])
	if !ok {
		badRequest(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), dbTimeout)
	defer cancel()
	out := make([]byte, 0, 16+64*len(ids))
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		out = append(out[:0], `{"accounts":[`...)
		rows, err := c.Query(ctx, "accounts", ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		var id int32
		var balance int64
		var name string
		for n := 0; rows.Next(); n++ {
			if err := rows.Scan(&id, &balance, &name); err != nil {
				return err
			}
			if n > 0 {
				out = append(out, ',')
			}
			out = appendAccount(out, id, balance, name)
		}
		return rows.Err()
	})
	if err != nil {
		s.unavailable(w, err)
		return
	}
	writeJSON(w, http.StatusOK, append(out, "]}"...))
}

// order answers POST /orders.
func (s *sqlService) order(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	if !s.body.read(w, r, &body) {
		return
	}
	req, bad := parseOrder(body.Bytes())
	if bad != nil {
		writeJSON(w, bad.status, bad.body)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), dbTimeout)
	defer cancel()
	var orderID, balance int64
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		// No row: no such account, and nothing was written.
		err := c.QueryRow(ctx, "order", req.accountID, req.amount).Scan(&orderID, &balance)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) && !pgconn.SafeToRetry(err) {
			return &unsureError{err}
		}
		return err
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		notFound(w, r)
	case err != nil:
		s.unavailable(w, err)
	default:
		out := make([]byte, 0, 96)
		out = append(out, `{"id":`...)
		out = strconv.AppendInt(out, orderID, 10)
		out = append(out, `,"account_id":`...)
		out = strconv.AppendInt(out, int64(req.accountID), 10)
		out = append(out, `,"amount":`...)
		out = strconv.AppendInt(out, req.amount, 10)
		out = append(out, `,"balance":`...)
		out = strconv.AppendInt(out, balance, 10)
		writeJSON(w, http.StatusCreated, append(out, '}'))
	}
}

// unsureError is an order that failed after its statement may have reached the database:
// whether it committed is unknown, so it is never run again.
type unsureError struct{ err error }

func (e *unsureError) Error() string { return "order sent, outcome unknown: " + e.err.Error() }
func (e *unsureError) Unwrap() error { return e.err }

// withConn runs f on a pooled connection. When f fails and its connection is found closed
// afterwards, f runs again on another connection while ctx allows: the connection was dead
// before f used it (the database restarted since it was last used), or died under it, and
// unless f says its outcome is unknown (unsureError, never retried) running it again is
// safe. Release destroys a connection that pgx closed, so each retry
// uses up one dead connection: after a restart every pooled connection may be dead, hence
// up to the pool's size + 1 tries, the last one on a new connection (pgxpool's Acquire
// bounds its own retries the same way).
func (s *sqlService) withConn(ctx context.Context, f func(c *pgxpool.Conn) error) error {
	for attempt := 1; ; attempt++ {
		c, err := s.pool.Acquire(ctx)
		if err != nil {
			s.dbErrors.Inc()
			return err
		}
		err = f(c)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			s.dbErrors.Inc()
		}
		dead := err != nil && c.Conn().IsClosed()
		c.Release()
		var unsure *unsureError
		if !dead || attempt >= s.attempts || ctx.Err() != nil || errors.As(err, &unsure) {
			return err
		}
	}
}

// unavailable answers 503 for a database failure: no connection within dbTimeout, the
// database unreachable or failing. At most one line a second goes to the log, so that a
// database down under load does not flood it.
func (s *sqlService) unavailable(w http.ResponseWriter, err error) {
	writeJSON(w, http.StatusServiceUnavailable, databaseUnavailableBody)
	s.unavailableTotal.Inc()
	now := time.Now().UnixNano()
	last := s.lastLog.Load()
	if now-last >= int64(time.Second) && s.lastLog.CompareAndSwap(last, now) {
		fmt.Fprintf(s.logw, "stackbench-go sql: answering 503: %s\n", oneLine.Replace(err.Error()))
	}
}

// oneLine puts pgconn's connect errors, which list the attempts one a line, on one line.
var oneLine = strings.NewReplacer(":\n\t", ": ", "\n\t", "; ", "\n", " ")

func badRequest(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusBadRequest, badRequestBody)
}

// parseID reads an account id: decimal digits only (no sign, no white space), value in
// 1..2147483647. Leading zeros are allowed: "007" is 7.
func parseID(s string) (int32, bool) {
	if s == "" {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
		if v > math.MaxInt32 {
			return 0, false
		}
	}
	if v < 1 {
		return 0, false
	}
	return int32(v), true
}

// parseIDs reads the ids of GET /accounts?ids=: 1 to maxIDs ids, each as parseID reads it,
// separated by commas. Duplicates are allowed (each account is answered once).
func parseIDs(s string) ([]int32, bool) {
	if s == "" || strings.Count(s, ",") >= maxIDs {
		return nil, false
	}
	ids := make([]int32, 0, maxIDs)
	for part := range strings.SplitSeq(s, ",") {
		id, ok := parseID(part)
		if !ok {
			return nil, false
		}
		ids = append(ids, id)
	}
	return ids, true
}

// orderRequest is a valid POST /orders body.
type orderRequest struct {
	accountID int32
	amount    int64
}

// answer is a status and body to send as they are.
type answer struct {
	status int
	body   []byte
}

var (
	answerInvalidJSON = &answer{http.StatusBadRequest, invalidJSONBody}
	answerAmountRange = &answer{http.StatusUnprocessableEntity, amountOutOfRangeBody}
	answerNoAccount   = &answer{http.StatusNotFound, notFoundBody}
)

// parseOrder reads a POST /orders body, or says how to refuse it, in the contract's order:
//   - 400 invalid_json: not valid JSON (UTF-8 included), not an object, account_id or
//     amount missing or not an integer (a JSON number with no fraction and no exponent:
//     1.0 and 1e3 are refused, as are strings and null);
//   - 422 amount_out_of_range: amount outside 1..maxAmount (however large);
//   - 404 not_found: account_id outside 1..2147483647, where no account can be.
//
// Members are matched by their exact name (encoding/json would match struct fields
// case-insensitively); when a name repeats, the last one counts, as in encoding/json;
// other members are ignored.
func parseOrder(body []byte) (orderRequest, *answer) {
	if !utf8.Valid(body) { // encoding/json would turn invalid UTF-8 into U+FFFD silently
		return orderRequest{}, answerInvalidJSON
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil || doc == nil { // doc is nil for `null`
		return orderRequest{}, answerInvalidJSON
	}
	accountID, amount := doc["account_id"], doc["amount"]
	if !isJSONInteger(accountID) || !isJSONInteger(amount) {
		return orderRequest{}, answerInvalidJSON
	}
	a, err := strconv.ParseInt(string(amount), 10, 64)
	if err != nil || a < 1 || a > maxAmount { // err: beyond int64, so out of range too
		return orderRequest{}, answerAmountRange
	}
	id, err := strconv.ParseInt(string(accountID), 10, 64)
	if err != nil || id < 1 || id > math.MaxInt32 {
		return orderRequest{}, answerNoAccount
	}
	return orderRequest{int32(id), a}, nil
}

// isJSONInteger tells whether raw, a JSON value as encoding/json hands it over (no white
// space around it), is a number without fraction or exponent: -?(0|[1-9][0-9]*).
func isJSONInteger(raw []byte) bool {
	if len(raw) > 0 && raw[0] == '-' {
		raw = raw[1:]
	}
	if len(raw) == 0 || (raw[0] == '0' && len(raw) > 1) {
		return false
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// appendAccount appends {"id":N,"balance":N,"name":"..."}.
func appendAccount(out []byte, id int32, balance int64, name string) []byte {
	out = append(out, `{"id":`...)
	out = strconv.AppendInt(out, int64(id), 10)
	out = append(out, `,"balance":`...)
	out = strconv.AppendInt(out, balance, 10)
	out = append(out, `,"name":`...)
	out = appendJSONString(out, name)
	return append(out, '}')
}

// appendJSONString appends s as a JSON string: '"', '\\' and the control characters are
// escaped, everything else is copied as it is (PostgreSQL text is valid UTF-8 in a UTF8
// database; invalid bytes, which another encoding could bring, become U+FFFD).
func appendJSONString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			out = append(out, s[start:i]...)
			out = append(out, "\ufffd"...)
			i++
			start = i
			continue
		}
		out = append(out, s[start:i]...)
		switch c {
		case '"', '\\':
			out = append(out, '\\', c)
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		case '\b':
			out = append(out, '\\', 'b')
		case '\f':
			out = append(out, '\\', 'f')
		default:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}

// poolCollector reads the pool's figures from pgxpool's Stat at each scrape: nothing on the
// request path.
type poolCollector struct {
	pool *pgxpool.Pool
	// waitsBefore are the acquires that waited while openPool filled the pool, before any
	// request: sql_pool_waits_total counts from there.
	waitsBefore        int64
	conns, size, waits *prometheus.Desc
}

func newPoolCollector(pool *pgxpool.Pool) *poolCollector {
	return &poolCollector{
		pool:        pool,
		waitsBefore: pool.Stat().EmptyAcquireCount(),
		conns:       prometheus.NewDesc("sql_pool_connections", "Database connections open in the pool.", nil, nil),
		size:        prometheus.NewDesc("sql_pool_size", "The pool's configured size (--pool).", nil, nil),
		waits: prometheus.NewDesc("sql_pool_waits_total",
			"Requests that had to wait for a connection: the pool had none idle.", nil, nil),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.conns
	ch <- c.size
	ch <- c.waits
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(st.TotalConns()))
	ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(st.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(st.EmptyAcquireCount()-c.waitsBefore))
}
