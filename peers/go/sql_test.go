package main

// Tests of the sql workload. The unit tests need no database: validation, JSON, routes,
// and the 503 answers when the database refuses connections or never answers. The
// integration tests need STACKBENCH_PG_URL to name a database loaded with
// contracts/sql/schema.sql (they write orders for accounts 9991..10000 only), as
// `stackbench pg` gives one:
//
//	stackbench pg -- go test -run SQL -v .
//
// Without it they are skipped, saying why (go test -v shows it), or fail when
// STACKBENCH_PG_REQUIRED=1.
//
// They reach the database through a TCP proxy of their own to take it away and bring it back
// (connections cut and refused, or frozen). With STACKBENCH_PG_STOP and STACKBENCH_PG_START
// also set (shell commands that stop and start that PostgreSQL), a test stops and restarts
// the real server too.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// contractStatements reads contracts/sql/queries.sql: each `-- name: NAME` line starts a
// statement, made of the lines after it that are not comments, without its final ';'.
func contractStatements(t *testing.T) map[string]string {
	t.Helper()
	text, err := os.ReadFile("../../contracts/sql/queries.sql")
	if err != nil {
		t.Fatal(err)
	}
	statements := map[string]string{}
	var name string
	var lines []string
	flush := func() {
		if name != "" {
			statements[name] = strings.TrimSuffix(strings.TrimSpace(strings.Join(lines, "\n")), ";")
		}
		lines = nil
	}
	for _, line := range strings.Split(string(text), "\n") {
		if n, ok := strings.CutPrefix(line, "-- name:"); ok {
			flush()
			name = strings.TrimSpace(n)
			continue
		}
		if name != "" && !strings.HasPrefix(strings.TrimSpace(line), "--") {
			lines = append(lines, line)
		}
	}
	flush()
	return statements
}

func TestSQLStatementsAreTheContracts(t *testing.T) {
	want := contractStatements(t)
	if len(want) != 3 {
		t.Fatalf("contracts/sql/queries.sql has %d statements (%v), want account, accounts and order", len(want), want)
	}
	for name, text := range want {
		if got, ok := sqlStatements[name]; !ok || got != text {
			t.Errorf("statement %s:\n here     %q\n contract %q", name, got, text)
		}
	}
	for name := range sqlStatements {
		if _, ok := want[name]; !ok {
			t.Errorf("statement %s is not in contracts/sql/queries.sql", name)
		}
	}
}

func TestParseID(t *testing.T) {
	good := map[string]int32{"1": 1, "42": 42, "007": 7, "2147483647": math32, "10000": 10000}
	for in, want := range good {
		if got, ok := parseID(in); !ok || got != want {
			t.Errorf("parseID(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "0", "00", "-1", "+1", "2147483648", "99999999999999999999",
		"1a", "a", " 1", "1 ", "1.0", "1e3", "0x10", "١"} {
		if got, ok := parseID(in); ok {
			t.Errorf("parseID(%q) = %d, want refused", in, got)
		}
	}
}

const math32 = 2147483647

func TestParseIDs(t *testing.T) {
	twenty := strings.TrimSuffix(strings.Repeat("7,", 20), ",")
	good := map[string][]int32{
		"1":          {1},
		"3,1,2,1":    {3, 1, 2, 1},
		twenty:       slices.Repeat([]int32{7}, 20),
		"2147483647": {math32},
	}
	for in, want := range good {
		if got, ok := parseIDs(in); !ok || !slices.Equal(got, want) {
			t.Errorf("parseIDs(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", ",", "1,", ",1", "1,,2", "1, 2", "1;2", "0", "1,0", "x",
		"2147483648", twenty + ",7"} {
		if got, ok := parseIDs(in); ok {
			t.Errorf("parseIDs(%q) = %v, want refused", in, got)
		}
	}
}

func TestParseOrder(t *testing.T) {
	good := map[string]orderRequest{
		`{"account_id":1,"amount":1}`:                          {1, 1},
		` { "amount" : 1000000 , "account_id" : 2147483647 } `: {math32, 1000000},
		`{"account_id":5,"amount":7,"note":[1,{"x":null}]}`:    {5, 7},
		`{"account_id":1,"account_id":9,"amount":2}`:           {9, 2}, // the last one counts
		`{"account\u005fid":3,"amount":4}`:                     {3, 4}, // escapes in names
	}
	for in, want := range good {
		if got, bad := parseOrder([]byte(in)); bad != nil || got != want {
			t.Errorf("parseOrder(%s) = %+v, %v; want %+v", in, got, bad, want)
		}
	}
	refused := map[*answer][]string{
		answerInvalidJSON: {
			``, ` `, `{`, `{"account_id":1,"amount":1`, `{"account_id":1,"amount":1}x`,
			`[]`, `null`, `1`, `"x"`, `true`,
			`{}`, `{"account_id":1}`, `{"amount":1}`,
			`{"account_id":"1","amount":1}`, `{"account_id":1,"amount":"1"}`,
			`{"account_id":1,"amount":1.0}`, `{"account_id":1.0,"amount":1}`,
			`{"account_id":1,"amount":1e2}`, `{"account_id":1,"amount":1E2}`,
			`{"account_id":1,"amount":-0.5}`, `{"account_id":null,"amount":1}`,
			`{"account_id":1,"amount":null}`, `{"account_id":[1],"amount":1}`,
			`{"account_id":1,"amount":{}}`, `{"account_id":1,"amount":true}`,
			`{"Account_ID":1,"amount":1}`, `{"account_id":1,"AMOUNT":1}`, // names are exact
			`{"account_id":01,"amount":1}`, `{"account_id":1,"amount":+1}`,
			"{\"account_id\":1,\"amount\":1,\"n\":\"\xff\"}", // invalid UTF-8
			`{"account_id":1,"amount":1,"n":"` + "\x01" + `"}`,
		},
		answerAmountRange: {
			`{"account_id":1,"amount":0}`, `{"account_id":1,"amount":-0}`,
			`{"account_id":1,"amount":-5}`, `{"account_id":1,"amount":1000001}`,
			`{"account_id":1,"amount":99999999999999999999999}`,
			`{"account_id":1,"amount":-99999999999999999999999}`,
			`{"account_id":0,"amount":0}`, // the amount is checked before the account
		},
		answerNoAccount: {
			`{"account_id":0,"amount":1}`, `{"account_id":-1,"amount":1}`,
			`{"account_id":2147483648,"amount":1}`,
			`{"account_id":99999999999999999999999,"amount":1}`,
		},
	}
	for want, ins := range refused {
		for _, in := range ins {
			if got, bad := parseOrder([]byte(in)); bad != want {
				t.Errorf("parseOrder(%q) = %+v, %v; want %d %s", in, got, bad, want.status, want.body)
			}
		}
	}
}

func TestIsJSONInteger(t *testing.T) {
	for _, in := range []string{"0", "-0", "1", "-1", "10", "123456789012345678901234567890"} {
		if !isJSONInteger([]byte(in)) {
			t.Errorf("isJSONInteger(%q) = false", in)
		}
	}
	for _, in := range []string{"", "-", "01", "-01", "1.0", "1e2", "+1", "1 ", "\"1\"", "null", "--1"} {
		if isJSONInteger([]byte(in)) {
			t.Errorf("isJSONInteger(%q) = true", in)
		}
	}
}

func TestAppendJSON(t *testing.T) {
	if got := string(appendAccount(nil, 12, -3, "account-12")); got != `{"id":12,"balance":-3,"name":"account-12"}` {
		t.Errorf("appendAccount: %s", got)
	}
	if got := string(appendAccount(nil, math32, 9223372036854775807, "")); got !=
		`{"id":2147483647,"balance":9223372036854775807,"name":""}` {
		t.Errorf("appendAccount: %s", got)
	}
	exact := map[string]string{
		"":             `""`,
		"a\"b\\c/d":    `"a\"b\\c/d"`,
		"\n\r\t\b\f":   `"\n\r\t\b\f"`,
		"\x00\x1f\x7f": `"\u0000\u001f` + "\x7f" + `"`,
		"é€😀<>&":       `"é€😀<>&"`,
		"a\xffb":       `"a` + "\ufffd" + `b"`,
	}
	for in, want := range exact {
		if got := string(appendJSONString(nil, in)); got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", in, got, want)
		}
	}
	// Every byte value, alone and among others: valid JSON that decodes to the input.
	for b := range 256 {
		s := "x" + string([]byte{byte(b)}) + "y\u2028"
		out := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("appendJSONString(%q) = %s: %v", s, out, err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); back != want {
			t.Errorf("appendJSONString(%q) decodes to %q", s, back)
		}
	}
}

// --- routes with no database ------------------------------------------------------------

// freePort is a loopback port with nothing listening on it (for now).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// lazyPool is a pool of size connections to host:port that connects only when asked (no
// warm-up), as the service's pool is configured otherwise.
func lazyPool(t *testing.T, host string, port, size int) *pgxpool.Pool {
	t.Helper()
	pc, err := poolConfig(fmt.Sprintf("postgresql://bench@%s:%d/stackbench?sslmode=disable", host, port), int32(size))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// testServer serves s over HTTP on loopback; log lines of s go to the test log.
func testServer(t *testing.T, pool *pgxpool.Pool, bodyLimit int64) (*sqlService, string) {
	t.Helper()
	s := newSQLService(pool, bodyLimit, testLog{t}, nil)
	srv := httptest.NewServer(s.routes())
	t.Cleanup(srv.Close) // registered after the pool's Close: runs before it
	return s, srv.URL
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("service: %s", strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// A row of the contract: a request and its exact answer (allow: the Allow header).
type row struct {
	method, path, body string
	status             int
	want, allow        string
}

const (
	badReq     = `{"error":"bad_request"}`
	notFound_  = `{"error":"not_found"}`
	invalidJ   = `{"error":"invalid_json"}`
	outOfRange = `{"error":"amount_out_of_range"}`
	notAllowed = `{"error":"method_not_allowed"}`
	unavail    = `{"error":"database_unavailable"}`
)

// validationRows are the rows answered without the database.
var validationRows = []row{
	{"GET", "/health", "", 200, `{"status":"ok"}`, ""},
	{"HEAD", "/health", "", 200, "", ""},
	{"GET", "/nope", "", 404, notFound_, ""},
	{"GET", "/accounts/1/x", "", 404, notFound_, ""},
	{"GET", "/orders/1", "", 404, notFound_, ""},
	{"GET", "/", "", 404, notFound_, ""},
	// ids
	{"GET", "/accounts/0", "", 400, badReq, ""},
	{"GET", "/accounts/-1", "", 400, badReq, ""},
	{"GET", "/accounts/+1", "", 400, badReq, ""},
	{"GET", "/accounts/1a", "", 400, badReq, ""},
	{"GET", "/accounts/1.0", "", 400, badReq, ""},
	{"GET", "/accounts/0x1", "", 400, badReq, ""},
	{"GET", "/accounts/%201", "", 400, badReq, ""},
	{"GET", "/accounts/2147483648", "", 400, badReq, ""},
	{"GET", "/accounts/99999999999999999999", "", 400, badReq, ""},
	{"GET", "/accounts/", "", 400, badReq, ""},
	{"GET", "/accounts", "", 400, badReq, ""},
	{"GET", "/accounts?id=1", "", 400, badReq, ""},
	{"GET", "/accounts?ids", "", 400, badReq, ""},
	{"GET", "/accounts?ids=", "", 400, badReq, ""},
	{"GET", "/accounts?ids=,", "", 400, badReq, ""},
	{"GET", "/accounts?ids=1,", "", 400, badReq, ""},
	{"GET", "/accounts?ids=1,,2", "", 400, badReq, ""},
	{"GET", "/accounts?ids=1,%202", "", 400, badReq, ""},
	{"GET", "/accounts?ids=0", "", 400, badReq, ""},
	{"GET", "/accounts?ids=1,x", "", 400, badReq, ""},
	{"GET", "/accounts?ids=2147483648", "", 400, badReq, ""},
	{"GET", "/accounts?ids=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21", "", 400, badReq, ""},
	// order bodies
	{"POST", "/orders", "", 400, invalidJ, ""},
	{"POST", "/orders", `{"account_id":1,"amount":1`, 400, invalidJ, ""},
	{"POST", "/orders", `[1,2]`, 400, invalidJ, ""},
	{"POST", "/orders", `null`, 400, invalidJ, ""},
	{"POST", "/orders", `{"account_id":9991}`, 400, invalidJ, ""},
	{"POST", "/orders", `{"amount":1}`, 400, invalidJ, ""},
	{"POST", "/orders", `{"account_id":"9991","amount":1}`, 400, invalidJ, ""},
	{"POST", "/orders", `{"account_id":9991,"amount":1.0}`, 400, invalidJ, ""},
	{"POST", "/orders", `{"account_id":9991,"amount":1e2}`, 400, invalidJ, ""},
	{"POST", "/orders", `{"account_id":9991,"amount":null}`, 400, invalidJ, ""},
	{"POST", "/orders", `{"account_id":9991,"amount":0}`, 422, outOfRange, ""},
	{"POST", "/orders", `{"account_id":9991,"amount":-1}`, 422, outOfRange, ""},
	{"POST", "/orders", `{"account_id":9991,"amount":1000001}`, 422, outOfRange, ""},
	{"POST", "/orders", `{"account_id":9991,"amount":100000000000000000000}`, 422, outOfRange, ""},
	{"POST", "/orders", `{"account_id":0,"amount":1}`, 404, notFound_, ""},
	{"POST", "/orders", `{"account_id":2147483648,"amount":1}`, 404, notFound_, ""},
	{"POST", "/orders", `{"account_id":-9991,"amount":1}`, 404, notFound_, ""},
	// methods
	{"DELETE", "/accounts/1", "", 405, notAllowed, "GET"},
	{"POST", "/accounts/1", "{}", 405, notAllowed, "GET"},
	{"PUT", "/accounts/x", "", 405, notAllowed, "GET"},
	{"POST", "/accounts", "{}", 405, notAllowed, "GET"},
	{"POST", "/accounts?ids=1", "{}", 405, notAllowed, "GET"},
	{"GET", "/orders", "", 405, notAllowed, "POST"},
	{"PUT", "/orders", `{"account_id":9991,"amount":1}`, 405, notAllowed, "POST"},
	{"POST", "/health", "", 405, notAllowed, "GET, HEAD"},
}

func checkRows(t *testing.T, base string, rows []row) {
	t.Helper()
	for _, r := range rows {
		got := do(t, r.method, base+r.path, r.body)
		if got.status != r.status || got.body != r.want || got.allow != r.allow {
			t.Errorf("%s %s %s: %d %s (Allow %q); want %d %s (Allow %q)", r.method, r.path, r.body,
				got.status, got.body, got.allow, r.status, r.want, r.allow)
		}
	}
}

func TestSQLRoutesWithoutDatabase(t *testing.T) {
	// Nothing listens on the pool's port: any row that reached the database would be 503.
	_, base := testServer(t, lazyPool(t, "127.0.0.1", freePort(t), 2), 1<<20)
	checkRows(t, base, validationRows)

	if got := do(t, "POST", base+"/orders", `{"account_id":9991,"amount":1,"pad":"`+strings.Repeat("x", 1<<20)+`"}`); got.status != 413 ||
		got.body != `{"error":"body_too_large","limit":1048576}` {
		t.Errorf("body over the limit: %d %s", got.status, got.body)
	}
}

func TestSQLUnavailableWhenRefused(t *testing.T) {
	_, base := testServer(t, lazyPool(t, "127.0.0.1", freePort(t), 4), 1<<20)
	for range 3 {
		for _, r := range []row{
			{"GET", "/accounts/1", "", 503, unavail, ""},
			{"GET", "/accounts?ids=1,2", "", 503, unavail, ""},
			{"POST", "/orders", `{"account_id":9991,"amount":1}`, 503, unavail, ""},
		} {
			got := do(t, r.method, base+r.path, r.body)
			if got.status != 503 || got.body != unavail || got.took > time.Second {
				t.Errorf("%s %s with the database refusing: %d %s after %v", r.method, r.path, got.status, got.body, got.took)
			}
		}
	}
	checkRows(t, base, validationRows[:3]) // /health does not touch the database
}

// TestSQLUnavailableWhenSilent: a "database" that accepts connections and never answers.
// Every request is answered 503 after dbTimeout, concurrent ones too, and never later.
func TestSQLUnavailableWhenSilent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	_, base := testServer(t, lazyPool(t, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, 2), 1<<20)

	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			method, path, body := "GET", "/accounts/"+strconv.Itoa(i+1), ""
			if i%2 == 1 {
				method, path, body = "POST", "/orders", `{"account_id":9991,"amount":1}`
			}
			got := do(t, method, base+path, body)
			if got.status != 503 || got.body != unavail || got.took < dbTimeout-50*time.Millisecond ||
				got.took > dbTimeout+500*time.Millisecond {
				t.Errorf("%s %s with a silent database: %d %s after %v", method, path, got.status, got.body, got.took)
			}
		})
	}
	wg.Wait()
}

func TestNewSQLErrors(t *testing.T) {
	port := freePort(t)
	for _, c := range []struct {
		cfg  config
		want string
	}{
		{config{bodyLimit: 1 << 20, pool: 8}, "--pg-url is required"},
		{config{bodyLimit: 1 << 20, pool: 8, pgURL: "postgresql://bench@127.0.0.1:notaport/x"}, "--pg-url"},
		{config{bodyLimit: 1 << 20, pool: 0, pgURL: "host=/tmp"}, "invalid --pool"},
		{config{bodyLimit: 1 << 20, pool: 2, pgURL: fmt.Sprintf("postgresql://bench@127.0.0.1:%d/x", port)},
			"cannot open the connection pool"},
	} {
		start := time.Now()
		_, err := newSQL(c.cfg, testTelemetry(t, "sql"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("newSQL(%+v): %v, want an error with %q", c.cfg, err, c.want)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("newSQL(%+v) took %v", c.cfg, took)
		}
	}
}

// --- against PostgreSQL -----------------------------------------------------------------

// pgConfig is the pool configuration for STACKBENCH_PG_URL. Without it the test is skipped,
// or fails when STACKBENCH_PG_REQUIRED=1 says the database must be there (tests/run.sh sets
// it, so that a suite that was meant to reach PostgreSQL cannot pass without it).
func pgConfig(t *testing.T, size int) *pgxpool.Config {
	t.Helper()
	url := os.Getenv("STACKBENCH_PG_URL")
	if url == "" {
		const why = "needs a PostgreSQL: STACKBENCH_PG_URL is not set (run inside `stackbench pg -- go test ./...`)"
		if os.Getenv("STACKBENCH_PG_REQUIRED") == "1" {
			t.Fatal(why + ", and STACKBENCH_PG_REQUIRED=1")
		}
		t.Skip(why)
	}
	pc, err := poolConfig(url, int32(size))
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

// pgService opens the pool pc describes, warm as the service opens it, and serves it.
func pgService(t *testing.T, pc *pgxpool.Config) (*sqlService, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	pool, err := openPool(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if n := pool.Stat().TotalConns(); n != pc.MaxConns {
		t.Errorf("pool opened with %d connections, want %d", n, pc.MaxConns)
	}
	return testServer(t, pool, 1<<20)
}

func balanceOf(t *testing.T, pool *pgxpool.Pool, id int) int64 {
	t.Helper()
	var b int64
	if err := pool.QueryRow(context.Background(), "SELECT balance FROM accounts WHERE id = $1", id).Scan(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

func countOrders(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM orders").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func account(id int, balance int64) string {
	return string(appendAccount(nil, int32(id), balance, "account-"+strconv.Itoa(id)))
}

func TestSQLContract(t *testing.T) {
	s, base := pgService(t, pgConfig(t, 4))
	checkRows(t, base, validationRows)

	// Accounts 1..9990 are never written to; 9991..10000 may have been by earlier runs.
	var twenty []string
	var twentyWant []string
	for i := 20; i >= 1; i-- {
		twenty = append(twenty, strconv.Itoa(i*100))
		twentyWant = append([]string{account(i*100, 1000000)}, twentyWant...)
	}
	checkRows(t, base, []row{
		{"GET", "/accounts/1", "", 200, account(1, 1000000), ""},
		{"GET", "/accounts/007", "", 200, account(7, 1000000), ""},
		{"GET", "/accounts/%31", "", 200, account(1, 1000000), ""},
		{"GET", "/accounts/10000", "", 200, account(10000, balanceOf(t, s.pool, 10000)), ""},
		{"HEAD", "/accounts/1", "", 200, "", ""},
		{"GET", "/accounts/1?ids=2", "", 200, account(1, 1000000), ""},
		{"GET", "/accounts/10001", "", 404, notFound_, ""},
		{"GET", "/accounts/2147483647", "", 404, notFound_, ""},
		{"GET", "/accounts?ids=3,1,2,1,10001", "", 200,
			`{"accounts":[` + account(1, 1000000) + "," + account(2, 1000000) + "," + account(3, 1000000) + `]}`, ""},
		{"GET", "/accounts?ids=5", "", 200, `{"accounts":[` + account(5, 1000000) + `]}`, ""},
		{"GET", "/accounts?ids=5%2C4", "", 200, `{"accounts":[` + account(4, 1000000) + "," + account(5, 1000000) + `]}`, ""},
		{"GET", "/accounts?ids=10001,2147483647", "", 200, `{"accounts":[]}`, ""},
		{"GET", "/accounts?ids=" + strings.Join(twenty, ","), "", 200, `{"accounts":[` + strings.Join(twentyWant, ",") + `]}`, ""},
		{"GET", "/accounts?ids=1&ids=x", "", 200, `{"accounts":[` + account(1, 1000000) + `]}`, ""}, // the first ids counts
	})
}

func TestSQLOrders(t *testing.T) {
	s, base := pgService(t, pgConfig(t, 4))
	ctx := context.Background()

	// 201 with the order and the balance after it; both are in the database.
	before := balanceOf(t, s.pool, 9991)
	got := do(t, "POST", base+"/orders", `{"account_id":9991,"amount":250}`)
	var order struct {
		ID        int64 `json:"id"`
		AccountID int64 `json:"account_id"`
		Amount    int64 `json:"amount"`
		Balance   int64 `json:"balance"`
	}
	if got.status != 201 || json.Unmarshal([]byte(got.body), &order) != nil {
		t.Fatalf("order: %d %s", got.status, got.body)
	}
	want := fmt.Sprintf(`{"id":%d,"account_id":9991,"amount":250,"balance":%d}`, order.ID, before-250)
	if got.body != want {
		t.Errorf("order: %s, want %s", got.body, want)
	}
	if b := balanceOf(t, s.pool, 9991); b != before-250 {
		t.Errorf("balance after the order %d, want %d", b, before-250)
	}
	var acc, amount int64
	if err := s.pool.QueryRow(ctx, "SELECT account_id, amount FROM orders WHERE id = $1", order.ID).Scan(&acc, &amount); err != nil ||
		acc != 9991 || amount != 250 {
		t.Errorf("order %d in the database: %d %d %v", order.ID, acc, amount, err)
	}

	// The bounds of amount; nothing is written for the refused ones.
	n := countOrders(t, s.pool)
	b9992 := balanceOf(t, s.pool, 9992)
	checkRows(t, base, []row{
		{"POST", "/orders", `{"account_id":10001,"amount":1}`, 404, notFound_, ""},
		{"POST", "/orders", `{"account_id":2147483647,"amount":1}`, 404, notFound_, ""},
		{"POST", "/orders", `{"account_id":9992,"amount":0}`, 422, outOfRange, ""},
		{"POST", "/orders", `{"account_id":9992,"amount":1000001}`, 422, outOfRange, ""},
		{"POST", "/orders", `{"account_id":9992,"amount":1.5}`, 400, invalidJ, ""},
	})
	if m := countOrders(t, s.pool); m != n {
		t.Errorf("refused orders wrote %d rows", m-n)
	}
	if b := balanceOf(t, s.pool, 9992); b != b9992 {
		t.Errorf("refused orders changed the balance: %d, was %d", b, b9992)
	}
	for _, amount := range []int64{1, 1000000} {
		got := do(t, "POST", base+"/orders", fmt.Sprintf(`{"amount":%d,"account_id":9992,"x":[]}`, amount))
		b9992 -= amount
		if got.status != 201 || !strings.HasSuffix(got.body, fmt.Sprintf(`,"account_id":9992,"amount":%d,"balance":%d}`, amount, b9992)) {
			t.Errorf("order of %d: %d %s", amount, got.status, got.body)
		}
	}

	// Concurrent orders on one account: each sees its own balance, none is lost.
	const k = 40
	b9993 := balanceOf(t, s.pool, 9993)
	var mu sync.Mutex
	var balances []int64
	var wg sync.WaitGroup
	for range k {
		wg.Go(func() {
			got := do(t, "POST", base+"/orders", `{"account_id":9993,"amount":1}`)
			var order struct{ Balance int64 }
			if got.status != 201 || json.Unmarshal([]byte(got.body), &order) != nil {
				t.Errorf("concurrent order: %d %s", got.status, got.body)
				return
			}
			mu.Lock()
			balances = append(balances, order.Balance)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(balances)
	for i, b := range balances {
		if b != b9993-k+int64(i) {
			t.Fatalf("concurrent orders: balances %v, want %d..%d", balances, b9993-k, b9993-1)
		}
	}
	if b := balanceOf(t, s.pool, 9993); b != b9993-k {
		t.Errorf("balance after %d orders %d, want %d", k, b, b9993-k)
	}
}

// TestSQLPoolExhausted: no connection free within dbTimeout is a 503 after dbTimeout.
func TestSQLPoolExhausted(t *testing.T) {
	s, base := pgService(t, pgConfig(t, 2))
	var held []*pgxpool.Conn
	for range 2 {
		c, err := s.pool.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	got := do(t, "GET", base+"/accounts/1", "")
	if got.status != 503 || got.body != unavail || got.took < dbTimeout-50*time.Millisecond || got.took > dbTimeout+500*time.Millisecond {
		t.Errorf("pool exhausted: %d %s after %v", got.status, got.body, got.took)
	}
	for _, c := range held {
		c.Release()
	}
	if got := do(t, "GET", base+"/accounts/1", ""); got.status != 200 {
		t.Errorf("pool free again: %d %s", got.status, got.body)
	}
}

// pgProxy stands between the service and PostgreSQL to take the database away: down cuts
// every connection and refuses new ones (as a stopped server does), up listens again on the
// same port, freeze stops all traffic without closing anything (as a hung server does).
type pgProxy struct {
	addr   string
	dial   func() (net.Conn, error)
	mu     sync.Mutex
	thawed *sync.Cond
	ln     net.Listener
	frozen bool
	mute   bool // the server's next bytes are dropped and their connection cut
	conns  map[net.Conn]bool
}

func startProxy(t *testing.T, pc *pgxpool.Config) *pgProxy {
	t.Helper()
	cc := pc.ConnConfig
	target := net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port)))
	network := "tcp"
	if strings.HasPrefix(cc.Host, "/") {
		network, target = "unix", filepath.Join(cc.Host, ".s.PGSQL."+strconv.Itoa(int(cc.Port)))
	}
	p := &pgProxy{
		dial:  func() (net.Conn, error) { return net.DialTimeout(network, target, time.Second) },
		conns: map[net.Conn]bool{},
	}
	p.thawed = sync.NewCond(&p.mu)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.listen(ln)
	t.Cleanup(func() { p.thaw(); p.down() })

	// The service now reaches the database through the proxy, without TLS (loopback).
	port, _ := strconv.Atoi(p.addr[strings.LastIndexByte(p.addr, ':')+1:])
	cc.Host, cc.Port, cc.TLSConfig, cc.Fallbacks = "127.0.0.1", uint16(port), nil, nil
	return p
}

func (p *pgProxy) listen(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *pgProxy) forward(c net.Conn) {
	d, err := p.dial()
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[d] = true, true
	p.mu.Unlock()
	go p.pipe(d, c, false)
	p.pipe(c, d, true)
}

func (p *pgProxy) pipe(dst, src net.Conn, toClient bool) {
	defer func() {
		dst.Close()
		src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.frozen {
				p.thawed.Wait()
			}
			mute := p.mute && toClient
			if mute {
				p.mute = false
			}
			p.mu.Unlock()
			if mute {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *pgProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

func (p *pgProxy) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.listen(ln)
}

// cutNextAnswer cuts the connection on which the server next answers, dropping the answer:
// what the client sent has reached the server, nothing comes back.
func (p *pgProxy) cutNextAnswer() {
	p.mu.Lock()
	p.mute = true
	p.mu.Unlock()
}

func (p *pgProxy) freeze() {
	p.mu.Lock()
	p.frozen = true
	p.mu.Unlock()
}

func (p *pgProxy) thaw() {
	p.mu.Lock()
	p.frozen = false
	p.thawed.Broadcast()
	p.mu.Unlock()
}

// dbRows are one request of each route that uses the database.
var dbRows = []row{
	{"GET", "/accounts/1", "", 200, account(1, 1000000), ""},
	{"GET", "/accounts?ids=2,1", "", 200, `{"accounts":[` + account(1, 1000000) + "," + account(2, 1000000) + `]}`, ""},
	{"POST", "/orders", `{"account_id":9994,"amount":1}`, 201, "", ""}, // the body is checked for its status only
}

// checkAll sends dbRows and says whether each got its status (or 503 when want503),
// and how long the slowest took.
func checkAll(t *testing.T, base string, want503 bool) (ok bool, slowest time.Duration) {
	t.Helper()
	ok = true
	for _, r := range dbRows {
		got := do(t, r.method, base+r.path, r.body)
		slowest = max(slowest, got.took)
		switch {
		case want503:
			ok = ok && got.status == 503 && got.body == unavail
		case r.status == 201:
			ok = ok && got.status == 201 && strings.Contains(got.body, `"account_id":9994,"amount":1,"balance":`)
		default:
			ok = ok && got.status == r.status && got.body == r.want
		}
		if !ok {
			t.Logf("%s %s: %d %s after %v", r.method, r.path, got.status, got.body, got.took)
			return
		}
	}
	return
}

// waitWhole waits until the pool has all its connections again, and says how long that took.
func waitWhole(t *testing.T, s *sqlService, since time.Time) time.Duration {
	t.Helper()
	want := s.pool.Stat().MaxConns()
	for s.pool.Stat().TotalConns() < want {
		if time.Since(since) > 5*time.Second {
			t.Errorf("pool has %d of %d connections %v after the database came back",
				s.pool.Stat().TotalConns(), want, time.Since(since))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(since)
}

func TestSQLDatabaseOutage(t *testing.T) {
	pc := pgConfig(t, 4)
	proxy := startProxy(t, pc)
	s, base := pgService(t, pc)
	if ok, _ := checkAll(t, base, false); !ok {
		t.Fatal("not serving through the proxy")
	}

	// Down: every request is 503 at once, for as long as it lasts.
	proxy.down()
	for range 3 {
		if ok, slowest := checkAll(t, base, true); !ok || slowest > time.Second {
			t.Errorf("database down: want 503 at once (slowest %v)", slowest)
		}
		time.Sleep(500 * time.Millisecond) // the pool tries to reconnect meanwhile
	}
	checkRows(t, base, validationRows[:1])

	// Back: the very next requests are answered, and the pool is whole again soon.
	proxy.up(t)
	back := time.Now()
	ok, slowest := checkAll(t, base, false)
	if !ok {
		t.Error("database back: not answered at once")
	}
	t.Logf("database back: first answers after %v (slowest request %v); pool whole after %v",
		time.Since(back), slowest, waitWhole(t, s, back))

	// A restart between two requests: the pooled connections were all used less than a
	// second ago (pgxpool does not ping them) and are dead; not one request may fail.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { checkAll(t, base, false) })
	}
	wg.Wait()
	proxy.down()
	proxy.up(t)
	back = time.Now()
	for i := range 3 {
		if ok, slowest := checkAll(t, base, false); !ok {
			t.Errorf("round %d after a restart: a request failed (slowest %v)", i, slowest)
		}
	}
	t.Logf("restart between requests: pool whole after %v", waitWhole(t, s, back))

	// Frozen: every request, concurrent ones too, is 503 after dbTimeout, never later.
	proxy.freeze()
	frozen := time.Now()
	for i := range 4 {
		wg.Go(func() {
			r := dbRows[i%len(dbRows)]
			got := do(t, r.method, base+r.path, r.body)
			if got.status != 503 || got.body != unavail || got.took > dbTimeout+500*time.Millisecond {
				t.Errorf("frozen database: %s %s: %d %s after %v", r.method, r.path, got.status, got.body, got.took)
			}
		})
	}
	wg.Wait()
	t.Logf("frozen database: 4 concurrent requests answered 503 within %v", time.Since(frozen))
	proxy.thaw()
	back = time.Now()
	for !func() bool { ok, _ := checkAll(t, base, false); return ok }() {
		if time.Since(back) > 5*time.Second {
			t.Fatal("not serving 5 s after the database thawed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("database thawed: answering after %v, pool whole after %v", time.Since(back), waitWhole(t, s, back))
}

// TestSQLOrderNeverSentTwice: an order whose statement reached the database but whose answer
// was lost may have committed: it is answered 503 and not run again, and it is in the
// database once.
func TestSQLOrderNeverSentTwice(t *testing.T) {
	pc := pgConfig(t, 2)
	proxy := startProxy(t, pc)
	s, base := pgService(t, pc)
	before := countOrders(t, s.pool)
	b9995 := balanceOf(t, s.pool, 9995)

	proxy.cutNextAnswer()
	got := do(t, "POST", base+"/orders", `{"account_id":9995,"amount":3}`)
	if got.status != 503 || got.body != unavail {
		t.Errorf("order with its answer lost: %d %s, want 503", got.status, got.body)
	}
	// The database has run it, once (it may still be committing as the answer is cut).
	deadline := time.Now().Add(2 * time.Second)
	for countOrders(t, s.pool) == before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if n := countOrders(t, s.pool); n != before+1 {
		t.Errorf("%d orders written, want 1", n-before)
	}
	if b := balanceOf(t, s.pool, 9995); b != b9995-3 {
		t.Errorf("balance %d, want %d", b, b9995-3)
	}
	if got := do(t, "POST", base+"/orders", `{"account_id":9995,"amount":1}`); got.status != 201 {
		t.Errorf("next order: %d %s", got.status, got.body)
	}
}

// TestSQLRealRestart stops and starts the real PostgreSQL with the commands in
// STACKBENCH_PG_STOP and STACKBENCH_PG_START.
//
// The commands come first: STACKBENCH_PG_REQUIRED asks for a database, not for commands
// that `stackbench pg` does not give, so without them the test is skipped in any case.
func TestSQLRealRestart(t *testing.T) {
	stop, start := os.Getenv("STACKBENCH_PG_STOP"), os.Getenv("STACKBENCH_PG_START")
	if stop == "" || start == "" {
		t.Skip("needs STACKBENCH_PG_STOP and STACKBENCH_PG_START, shell commands that stop and start the PostgreSQL of STACKBENCH_PG_URL")
	}
	pc := pgConfig(t, 4)
	sh := func(cmd string) {
		t.Helper()
		if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, out)
		}
	}
	t.Cleanup(func() { exec.Command("sh", "-c", start).Run() }) // left running, whatever happened
	s, base := pgService(t, pc)
	if ok, _ := checkAll(t, base, false); !ok {
		t.Fatal("not serving")
	}

	sh(stop)
	for range 3 {
		if ok, slowest := checkAll(t, base, true); !ok || slowest > time.Second {
			t.Errorf("database stopped: want 503 at once (slowest %v)", slowest)
		}
	}
	sh(start)
	back := time.Now()
	if ok, slowest := checkAll(t, base, false); !ok {
		t.Error("database started: not answered at once")
	} else {
		t.Logf("database started: answered at once (slowest %v), pool whole after %v", slowest, waitWhole(t, s, back))
	}

	// A restart between two requests: not one request may fail.
	sh(stop)
	sh(start)
	back = time.Now()
	for i := range 3 {
		if ok, _ := checkAll(t, base, false); !ok {
			t.Errorf("round %d after a restart: a request failed", i)
		}
	}
	t.Logf("restart between requests: pool whole after %v", waitWhole(t, s, back))
}
