package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// newCSVServer serves the csv workload's tier with the production timeouts.
func newCSVServer(t *testing.T, tier string, bodyLimit int64) *httptest.Server {
	t.Helper()
	h := workloadHandler(t, "csv", config{host: "127.0.0.1", bodyLimit: bodyLimit, tier: tier})
	return startTestServer(t, h, requestTimeout)
}

// aggregateCSV runs the idiomatic parser alone: the answer, or the error's JSON.
func aggregateCSV(body string) (string, bool) {
	var t trades
	b := []byte(body)
	if bad := t.parse(b, bufio.NewReader(bytes.NewReader(b))); bad != nil {
		return string(bad.appendJSON(nil)), false
	}
	return string(t.appendJSON(nil)), true
}

// aggregateCSVTuned runs the tuned parser alone, as aggregateCSV.
func aggregateCSVTuned(body string) (string, bool) {
	var a csvAgg
	if bad := a.aggregate([]byte(body)); bad != nil {
		return string(bad.appendJSON(nil)), false
	}
	return string(a.appendJSON(nil)), true
}

// csvKernels are the parsers of the two tiers.
var csvKernels = []struct {
	tier      string
	aggregate func(body string) (string, bool)
}{{tierIdiomatic, aggregateCSV}, {tierTuned, aggregateCSVTuned}}

func invalid(line, column int, reason string) string {
	return fmt.Sprintf(`{"error":"invalid_csv","line":%d,"column":%d,"reason":%q}`, line, column, reason)
}

// sym is one symbol object of an answer.
func sym(symbol string, count, quantity int, minPrice, maxPrice, vwap string) string {
	return fmt.Sprintf(`{"symbol":"%s","count":%d,"quantity":%d,"min_price":%s,"max_price":%s,"vwap":%s}`,
		symbol, count, quantity, minPrice, maxPrice, vwap)
}

func aggAnswer(rows int, syms ...string) string {
	return fmt.Sprintf(`{"rows":%d,"symbols":[%s]}`, rows, strings.Join(syms, ","))
}

const (
	exampleTrades = "2026-11-23T08:15:30.123Z,AAPL,187.25,100\n2026-11-23T08:15:31Z,MSFT,411,10\n1795422931000,AAPL,187.50,50\n"
	// exampleAnswer is the answer of contracts/csv.md, byte for byte.
	exampleAnswer = `{"rows":3,"symbols":[{"symbol":"AAPL","count":2,"quantity":150,"min_price":187.250000,"max_price":187.500000,"vwap":187.333333},{"symbol":"MSFT","count":1,"quantity":10,"min_price":411.000000,"max_price":411.000000,"vwap":411.000000}]}`
	hdr           = "timestamp,symbol,price,quantity\n"
)

func TestCSVValid(t *testing.T) {
	one := func(symbol, price string) string { return sym(symbol, 1, 1, price, price, price) }
	cases := []struct{ name, body, want string }{
		{"example", hdr + exampleTrades, exampleAnswer},
		{"no header", exampleTrades, exampleAnswer},
		{"header any case", "TimeStamp,SYMBOL,Price,quantity\n" + exampleTrades, exampleAnswer},
		{"header quoted", `"timestamp","Symbol",price,"QUANTITY"` + "\n" + exampleTrades, exampleAnswer},
		{"header CRLF", "timestamp,symbol,price,quantity\r\n" + exampleTrades, exampleAnswer},
		{"quoted fields", hdr + `"2026-11-23T08:15:30.123Z","AAPL",187.25,"100"` + "\n" +
			`2026-11-23T08:15:31Z,MSFT,"411",10` + "\n" + `1795422931000,"AAPL","187.50",50` + "\n", exampleAnswer},
		{"CRLF, no final line end", "timestamp,symbol,price,quantity\r\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\r\n" +
			"2026-11-23T08:15:31Z,MSFT,411,10\r\n1795422931000,AAPL,187.50,50", exampleAnswer},
		{"quoted last field, CRLF", `1,A,1,"1"` + "\r\n" + `1,A,1,"1"`, aggAnswer(2, sym("A", 2, 2, "1.000000", "1.000000", "1.000000"))},
		{"empty lines", "\ntimestamp,symbol,price,quantity\n\n\r\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n\n" +
			"2026-11-23T08:15:31Z,MSFT,411,10\r\n\r\n1795422931000,AAPL,187.50,50\n\n", exampleAnswer},
		{"empty lines only", "\n\r\n\n", aggAnswer(0)},
		{"empty body", "", aggAnswer(0)},
		{"header only", hdr, aggAnswer(0)},
		{"header only, no line end", "timestamp,symbol,price,quantity", aggAnswer(0)},
		{"second header is a trade", hdr + hdr, invalid(2, 1, "bad timestamp")},
		{"timestamp forms", hdr + "2028-02-29T23:59:59.999999999+05:30,X,1,1\n2026-11-23T00:00:00-23:59,X,2,1\n" +
			"0,X,3,1\n999999999999999,X,4,1\n",
			aggAnswer(4, sym("X", 4, 4, "1.000000", "4.000000", "2.500000"))},
		{"symbols sorted bytewise", hdr + "1,b,1,1\n1,B,2,2\n1,a.1,3,3\n1,A,4,4\n1,_z-9,5,5\n",
			aggAnswer(5, sym("A", 1, 4, "4.000000", "4.000000", "4.000000"),
				sym("B", 1, 2, "2.000000", "2.000000", "2.000000"), sym("_z-9", 1, 5, "5.000000", "5.000000", "5.000000"),
				sym("a.1", 1, 3, "3.000000", "3.000000", "3.000000"), one("b", "1.000000"))},
		{"rounding", hdr + "1,R,0.0000005,1\n1,S,0.0000015,1\n1,T,9999999999.99999999,1\n1,U,0.1,3\n1,U,0.2,7\n",
			aggAnswer(5, one("R", "0.000000"), one("S", "0.000002"), one("T", "10000000000.000000"),
				sym("U", 2, 10, "0.100000", "0.200000", "0.170000"))},
		// 0.0078125 and 0.0234375 are exact doubles halfway between two 6-decimal numbers.
		{"ties to even", "1,E,0.0078125,1\n1,O,0.0234375,1\n1,Z,0.0000005,1\n",
			aggAnswer(3, one("E", "0.007812"), one("O", "0.023438"), one("Z", "0.000000"))},
		{"large quantities", hdr + "1,Q,1.5,999999999\n2,Q,2.25,999999999\n3,Q,0.00000001,123456789\n",
			aggAnswer(3, sym("Q", 3, 2123456787, "0.000000", "2.250000", "1.765988"))},
		{"leading zeros", "0001,A,007.50000000,0009\n", aggAnswer(1, sym("A", 1, 9, "7.500000", "7.500000", "7.500000"))},
		{"price limits", "1,A,0,1\n1,A,9999999999,1\n", aggAnswer(2, sym("A", 2, 2, "0.000000", "9999999999.000000", "4999999999.500000"))},
		{"symbol of 16", "1,ABCDEFGHIJKLMNOP,1,1\n", aggAnswer(1, one("ABCDEFGHIJKLMNOP", "1.000000"))},
		// Σ p×q in body order, one rounding each: 0.1×3 + 0.2×3 + 0.3×3 = 1.7999999999999998 / 9.
		{"sum in body order", "1,A,0.1,3\n1,A,0.2,3\n1,A,0.3,3\n", aggAnswer(3, sym("A", 3, 9, "0.100000", "0.300000", "0.200000"))},
		{"lone CR then LF only ends", "1,A,1,1\n\r\n", aggAnswer(1, one("A", "1.000000"))},
	}
	for _, k := range csvKernels {
		for _, c := range cases {
			if got, _ := k.aggregate(c.body); got != c.want {
				t.Errorf("%s, %s:\n got %s\nwant %s", k.tier, c.name, got, c.want)
			}
		}
	}
}

func TestCSVInvalid(t *testing.T) {
	good := "2026-11-23T08:15:30.123Z,AAPL,187.25,100\n"
	cases := []struct {
		name, body   string
		line, column int
		reason       string
	}{
		{"unterminated quote", hdr + good + "1,\"AAPL,1.0,1\n2,MSFT,1.0,1\n", 3, 2, "unterminated quote"},
		{"unterminated quote, first field", "\"1,A,1,1", 1, 1, "unterminated quote"},
		{"unterminated quote, empty", "1,A,1,\"", 1, 4, "unterminated quote"},
		{"unterminated quote, after a line end", "1,A,1,\"\n", 1, 4, "unterminated quote"},
		{"unterminated quote, CRLF", "1,A,1,\"1\r\n\r\n", 1, 4, "unterminated quote"},
		{"unterminated quote, CR at the end", "1,A,1,\"1\r", 1, 4, "unterminated quote"},
		{"unterminated quote, doubled quote at the end", "1,A,1,\"1\"\"", 1, 4, "unterminated quote"},
		{"unterminated quote, long", "1,A,1,\"" + strings.Repeat("x", 10000), 1, 4, "unterminated quote"},
		{"bare quote", hdr + good + "1,AA\"PL,1.0,1\n", 3, 2, "bare quote"},
		{"bare quote, end of field", "1,AAPL\",1.0,1\n", 1, 2, "bare quote"},
		{"text after closing quote", hdr + good + "1,\"AAPL\"x,1.0,1\n", 3, 2, "bare quote"},
		{"text after closing quote, last line", "1,\"AAPL\"x,1.0,1", 1, 2, "bare quote"},
		{"space after closing quote", "1,A,1,\"1\" \n", 1, 4, "bare quote"},
		{"lone CR after closing quote", "1,A,1,\"1\"\r1\n", 1, 4, "bare quote"},
		{"CR CR LF after closing quote", "1,A,1,\"1\"\r\r\n", 1, 4, "bare quote"},
		{"CR at the end after closing quote", "1,A,1,\"1\"\r", 1, 4, "bare quote"},
		{"text after closing quote, 2nd line of a field", "1,A,1,\"1\n2\"x\n", 1, 4, "bare quote"},
		{"text after closing quote, long line", strings.Repeat("\n", 3) + "1,A,1,\"" + strings.Repeat("y", 9000) + "\"z", 4, 4, "bare quote"},
		{"too few fields", hdr + good + "1,AAPL,1.0\n", 3, 4, "wrong field count"},
		{"one field", "1\n", 1, 2, "wrong field count"},
		{"too many fields", hdr + good + "1,AAPL,1.0,1,x\n", 3, 5, "wrong field count"},
		{"fifth field fine", hdr + "1,AAPL,1.0,1,1\n", 2, 5, "wrong field count"},
		{"fifth field empty", "1,AAPL,1.0,1,\n", 1, 5, "wrong field count"},
		{"fifth field with a bare quote", "1,AAPL,1.0,1,x\"\n", 1, 5, "wrong field count"},
		{"sixth field unterminated", "1,AAPL,1.0,1,x,\"", 1, 5, "wrong field count"},
		{"bad field before the count", hdr + "1,AAPL,1e5,1,x\n", 2, 3, "bad price"},
		{"bad field before the bare quote", "x,A\"\n", 1, 1, "bad timestamp"},
		{"bad field before the unterminated quote", "1,A,x,\"1\n", 1, 3, "bad price"},
		{"bad field before too few", "1,A,x\n", 1, 3, "bad price"},
		{"month 13", hdr + "2026-13-01T00:00:00Z,AAPL,1.0,1\n", 2, 1, "bad timestamp"},
		{"30 February", hdr + "2026-02-30T00:00:00Z,AAPL,1.0,1\n", 2, 1, "bad timestamp"},
		{"no zone", hdr + "2026-11-23T08:15:30,AAPL,1.0,1\n", 2, 1, "bad timestamp"},
		{"not leap", hdr + "2026-02-29T00:00:00Z,AAPL,1.0,1\n", 2, 1, "bad timestamp"},
		{"1900 not leap", "1900-02-29T00:00:00Z,A,1,1\n", 1, 1, "bad timestamp"},
		{"symbol with a space", hdr + "1,AA PL,1.0,1\n", 2, 2, "bad symbol"},
		{"symbol of 17", hdr + "1,ABCDEFGHIJKLMNOPQ,1.0,1\n", 2, 2, "bad symbol"},
		{"empty symbol", hdr + "1,,1.0,1\n", 2, 2, "bad symbol"},
		{"symbol with UTF-8", "1,Ä,1.0,1\n", 1, 2, "bad symbol"},
		{"price exponent", hdr + "1,AAPL,1e5,1\n", 2, 3, "bad price"},
		{"price negative", hdr + "1,AAPL,-1.0,1\n", 2, 3, "bad price"},
		{"price trailing point", hdr + "1,AAPL,1.,1\n", 2, 3, "bad price"},
		{"price nine decimals", hdr + "1,AAPL,1.123456789,1\n", 2, 3, "bad price"},
		{"price eleven digits", "1,A,12345678901,1\n", 1, 3, "bad price"},
		{"price leading point", "1,A,.5,1\n", 1, 3, "bad price"},
		{"price plus", "1,A,+1,1\n", 1, 3, "bad price"},
		{"price inf", "1,A,inf,1\n", 1, 3, "bad price"},
		{"price hex", "1,A,0x1p3,1\n", 1, 3, "bad price"},
		{"price underscore", "1,A,1_0,1\n", 1, 3, "bad price"},
		{"price empty", "1,A,,1\n", 1, 3, "bad price"},
		{"price with a space", "1,A, 1,1\n", 1, 3, "bad price"},
		{"quantity zero", hdr + "1,AAPL,1.0,0\n", 2, 4, "bad quantity"},
		{"quantity 000", "1,A,1,000\n", 1, 4, "bad quantity"},
		{"quantity decimal", hdr + "1,AAPL,1.0,1.5\n", 2, 4, "bad quantity"},
		{"quantity of 10 digits", "1,A,1,1000000000\n", 1, 4, "bad quantity"},
		{"quantity plus", "1,A,1,+1\n", 1, 4, "bad quantity"},
		{"quantity empty", "1,A,1,\n", 1, 4, "bad quantity"},
		{"first error wins", hdr + "1,AAPL,x,1\n2,AAPL,1.0,y\n", 2, 3, "bad price"},
		{"left to right", hdr + "x,AA PL,y,0\n", 2, 1, "bad timestamp"},
		{"lines count empty lines", "\n\ntimestamp,symbol,price,quantity\n\r\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n\n1,AAPL,1.0,0\n", 7, 4, "bad quantity"},
		{"lines count quoted line ends", hdr + "1,AAPL,\"1.0\",1\n1,AAPL,1.0,\"1\n\n2\"\n1,AAPL,1.0,1\n", 3, 4, "bad quantity"},
		{"lines count quoted CRLF", "1,A,1,1\r\n\r\n1,A,\"1\r\n\r\n\",1\n1,A,1,0\n", 3, 3, "bad price"},
		{"quoted line end in a field", "1,\"A\r\nB\",1,1\n", 1, 2, "bad symbol"},
		{"lone CR in a field", "1,A,1,1\r2\n", 1, 4, "bad quantity"},
		{"lone CR line", "1,A,1,1\n\r\n\r\r\n", 3, 1, "bad timestamp"},
		{"CR at the end of the last field", "1,A,1,1\r", 1, 4, "bad quantity"},
		{"CR at the end of the 2nd field", "1,A\r", 1, 2, "bad symbol"},
		{"CR at the end of a fifth field", "1,A,1,1,1\r", 1, 5, "wrong field count"},
		{"CR at the end, quoted fifth field", "1,A,1,1,\"1\"\r", 1, 5, "wrong field count"},
		{"CR at the end after a bad field", "1,A,x,1\r", 1, 3, "bad price"},
		{"CR alone", "\r", 1, 1, "bad timestamp"},
		{"CR alone after a record", "1,A,1,1\n\r", 2, 1, "bad timestamp"},
		{"CR alone after empty lines", "1,A,1,1\n\n\r\n\r", 4, 1, "bad timestamp"},
		{"header with a CR at the end", "timestamp,symbol,price,quantity\r", 1, 1, "bad timestamp"},
		{"header with a quote error", "timestamp,symbol,price,\"quantity", 1, 1, "bad timestamp"},
		{"header with a bare quote", "timestamp,sym\"bol,price,quantity\n", 1, 1, "bad timestamp"},
		{"header with five fields", "timestamp,symbol,price,quantity,x\n", 1, 1, "bad timestamp"},
		{"header with three fields", "timestamp,symbol,price\n", 1, 1, "bad timestamp"},
		{"header with Unicode folding", "timestamp,ſymbol,price,quantity\n", 1, 1, "bad timestamp"},
		{"header with spaces", "timestamp, symbol,price,quantity\n", 1, 1, "bad timestamp"},
		{"byte order mark", "\xef\xbb\xbftimestamp,symbol,price,quantity\n", 1, 1, "bad timestamp"},
		{"empty quoted line", "\"\"\n", 1, 1, "bad timestamp"},
		{"commas only", ",,,\n", 1, 1, "bad timestamp"},
	}
	for _, k := range csvKernels {
		for _, c := range cases {
			got, ok := k.aggregate(c.body)
			if want := invalid(c.line, c.column, c.reason); ok || got != want {
				t.Errorf("%s, %s (%q):\n got %s\nwant %s", k.tier, c.name, c.body, got, want)
			}
		}
	}
}

func TestIsTimestamp(t *testing.T) {
	good := []string{
		"0", "1", "123456789012345", "000000000000000",
		"2026-11-23T08:15:30Z", "2026-11-23T08:15:30.1Z", "2026-11-23T08:15:30.123456789Z",
		"2028-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "0000-02-29T00:00:00Z", "9999-12-31T23:59:59Z",
		"2026-01-31T00:00:00+00:00", "2026-04-30T00:00:00-23:59", "2026-11-23T08:15:30.5+23:59",
		"2026-11-23T08:15:30.1234567+23:59", "2026-11-23T08:15:30.12345678-00:00",
		"2026-11-23T08:15:30.123456789+23:59", "2026-11-23T08:15:30.12345678Z",
	}
	bad := []string{
		"", "1234567890123456", "-1", "+1", "1.5", " 1", "1 ", "1e3",
		"2026-11-23T08:15:30", "2026-11-23t08:15:30Z", "2026-11-23T08:15:30z", "2026-11-23 08:15:30Z",
		"2026-11-23T08:15:30.Z", "2026-11-23T08:15:30.1234567890Z", "2026-11-23T08:15:30,1Z",
		"2026-00-10T00:00:00Z", "2026-13-10T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-32T00:00:00Z",
		"2026-04-31T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
		"2026-11-23T24:00:00Z", "2026-11-23T23:60:00Z", "2026-11-23T23:59:60Z",
		"2026-11-23T08:15:30+24:00", "2026-11-23T08:15:30+23:60", "2026-11-23T08:15:30+0100",
		"2026-11-23T08:15:30+01", "2026-11-23T08:15:30+01:00Z", "2026-11-23T08:15:30ZZ",
		"2026-11-23T08:15:30Z ", "26-11-23T08:15:30Z", "2026-1-23T08:15:30Z", "20260-11-23T08:15:30Z",
		"2026-11-23T08:15:3Z", "２026-11-23T08:15:30Z", "2026-11-23T08:15:30UTC",
		"2026-11-23T08:15:30.12345678+23:60", "2026-11-23T08:15:30.123456789+24:00",
		"2026-11-23T08:15:30.123456789+2:00", "2026-11-23T08:15:30.12345678+23-59",
		"2026-11-23T08:15:30.1234567+3a:00", "2026-11-23T08:15:30.1+30:00", "2026-11-23T08:15:30.1+00:5x",
		"2026-11-23T08:15:30.12345678", "2026-11-23T08:15:30.123456789", "2026-11-23T08:15:30.",
	}
	for _, s := range good {
		if !isTimestamp(s) || !matchesWhole(matchTimestamp, s) {
			t.Errorf("isTimestamp(%q) = %v, matchTimestamp %v; want true", s, isTimestamp(s), matchesWhole(matchTimestamp, s))
		}
	}
	for _, s := range bad {
		if isTimestamp(s) || matchesWhole(matchTimestamp, s) {
			t.Errorf("isTimestamp(%q) = %v, matchTimestamp %v; want false", s, isTimestamp(s), matchesWhole(matchTimestamp, s))
		}
	}
}

// TestCSVHTTP runs the routes of contracts/csv.md through a real server.
func TestCSVHTTP(t *testing.T) { eachTier(t, testCSVHTTP) }

func testCSVHTTP(t *testing.T, tier string) {
	ts := newCSVServer(t, tier, csvBodyLimit)

	res, body := post(t, ts, "/csv", hdr+exampleTrades)
	checkJSONAnswer(t, res, http.StatusOK)
	if body != exampleAnswer {
		t.Errorf("example: %s\nwant %s", body, exampleAnswer)
	}
	res, body = post(t, ts, "/csv?x=1", "1,A,1,0\n")
	checkJSONAnswer(t, res, http.StatusBadRequest)
	if want := invalid(1, 4, "bad quantity"); body != want {
		t.Errorf("invalid: %s, want %s", body, want)
	}

	for _, c := range []struct {
		method, path string
		status       int
		allow, body  string
	}{
		{"GET", "/csv", 405, "POST", `{"error":"method_not_allowed"}`},
		{"PUT", "/csv", 405, "POST", `{"error":"method_not_allowed"}`},
		{"POST", "/health", 405, "GET, HEAD", `{"error":"method_not_allowed"}`},
		{"GET", "/health", 200, "", `{"status":"ok"}`},
		{"HEAD", "/health", 200, "", ""},
		{"POST", "/echo", 404, "", `{"error":"not_found"}`},
		{"GET", "/", 404, "", `{"error":"not_found"}`},
		{"POST", "/csv/", 404, "", `{"error":"not_found"}`},
	} {
		got := do(t, c.method, ts.URL+c.path, "")
		if got.status != c.status || got.body != c.body || got.allow != c.allow {
			t.Errorf("%s %s: %d %q Allow %q, want %d %q Allow %q", c.method, c.path, got.status, got.body, got.allow,
				c.status, c.body, c.allow)
		}
	}

	// Pipelined requests, answered in order on one connection.
	c := dialRaw(t, ts)
	c.send("POST /csv HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\n\r\n1,A,1,1" +
		"POST /csv HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n1,B\r\n4\r\n,2,1\r\n0\r\n\r\n")
	for _, want := range []string{
		aggAnswer(1, sym("A", 1, 1, "1.000000", "1.000000", "1.000000")),
		aggAnswer(1, sym("B", 1, 1, "2.000000", "2.000000", "2.000000")),
	} {
		res, body := c.answer("POST")
		checkJSONAnswer(t, res, http.StatusOK)
		if body != want {
			t.Errorf("pipelined: %s, want %s", body, want)
		}
	}
}

func TestCSVBodyLimit(t *testing.T) { eachTier(t, testCSVBodyLimit) }

func testCSVBodyLimit(t *testing.T, tier string) {
	const limit = 1000
	ts := newCSVServer(t, tier, limit)
	wantBody := fmt.Sprintf(`{"error":"body_too_large","limit":%d}`, limit)
	row := "1,A,1,1\n"
	atLimit := strings.Repeat(row, limit/len(row)) + strings.Repeat("\n", limit%len(row))
	over := atLimit + "\n"

	res, body := post(t, ts, "/csv", atLimit)
	checkJSONAnswer(t, res, http.StatusOK)
	if want := aggAnswer(limit/len(row), sym("A", limit/len(row), limit/len(row), "1.000000", "1.000000", "1.000000")); body != want {
		t.Errorf("at the limit: %s, want %s", body, want)
	}
	chunk := func(s string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(s), s) }
	for name, request := range map[string]string{
		"Content-Length over":           fmt.Sprintf("POST /csv HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s", len(over), over),
		"Content-Length over, not sent": "POST /csv HTTP/1.1\r\nHost: t\r\nContent-Length: 16777217\r\n\r\n",
		"chunked over":                  "POST /csv HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(over[:10]) + chunk(over[10:]) + "0\r\n\r\n",
	} {
		c := dialRaw(t, ts)
		go io.WriteString(c.c, request) // the server may answer before it has read it all
		res, body := c.answer("POST")
		checkJSONAnswer(t, res, http.StatusRequestEntityTooLarge)
		if body != wantBody || !res.Close || !c.closed() {
			t.Errorf("%s: %q close %v, want %q and the connection closed", name, body, res.Close, wantBody)
		}
	}
}

func TestCSVDefaultBodyLimit(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int64
	}{
		{[]string{"csv"}, 16 << 20},
		{[]string{"csv", "--body-limit", "1048576"}, 1 << 20},
		{[]string{"--body-limit=64", "csv"}, 64},
		{[]string{"echo"}, 1 << 20},
	} {
		cfg, _, err := parseArgs(c.args)
		if err != nil || cfg.bodyLimit != c.want {
			t.Errorf("parseArgs(%q): body limit %d, %v; want %d", c.args, cfg.bodyLimit, err, c.want)
		}
	}
}

// TestCSVContractCases runs contracts/csv/*.case, the contract as data, against the handler.
func TestCSVContractCases(t *testing.T) { eachTier(t, testCSVContractCases) }

func testCSVContractCases(t *testing.T, tier string) {
	files, _ := filepath.Glob("../../contracts/csv/*.case")
	if len(files) == 0 {
		t.Skip("no contracts/csv/*.case")
	}
	ts := newCSVServer(t, tier, csvBodyLimit)
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(strings.TrimSuffix(filepath.Base(file), ".case"), func(t *testing.T) {
			runCase(t, ts, string(text))
		})
	}
}

// runCase runs one case (the format of src/lab/contract.h).
func runCase(t *testing.T, ts *httptest.Server, text string) {
	c := dialRaw(t, ts)
	var res *http.Response
	var body string
	for _, line := range strings.Split(text, "\n") {
		key, value, ok := strings.Cut(line, ": ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		switch key {
		case "send":
			data := unescapeCase(t, value)
			if head, payload, ok := strings.Cut(data, "\r\n\r\n"); ok {
				data = strings.ReplaceAll(head, "{len}", strconv.Itoa(len(payload))) + "\r\n\r\n" + payload
			}
			go io.WriteString(c.c, data)
		case "expect":
			res, body = c.answer("POST")
			if want, _ := strconv.Atoi(value); res.StatusCode != want {
				t.Errorf("status %d, want %d (%s)", res.StatusCode, want, body)
			}
		case "header":
			name, want, _ := strings.Cut(value, ": ")
			if got := res.Header.Get(name); got != want {
				t.Errorf("%s: %q, want %q", name, got, want)
			}
		case "body":
			if want := unescapeCase(t, value); body != want {
				t.Errorf("body %s\nwant %s", body, want)
			}
		case "body-has":
			if want := unescapeCase(t, value); !strings.Contains(body, want) {
				t.Errorf("body %s, want it to hold %s", body, want)
			}
		case "closed":
			if !c.closed() {
				t.Error("connection left open")
			}
		default:
			t.Fatalf("unknown step %q", key)
		}
	}
}

var repeatRE = regexp.MustCompile(`\{repeat:([0-9]+):([^}]*)\}`)

func unescapeCase(t *testing.T, s string) string {
	s = repeatRE.ReplaceAllStringFunc(s, func(m string) string {
		p := repeatRE.FindStringSubmatch(m)
		n, _ := strconv.Atoi(p[1])
		return strings.Repeat(p[2], n)
	})
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'x':
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				t.Fatalf("bad escape in %q", s)
			}
			b.WriteByte(byte(v))
			i += 2
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// refAggregate is the contract read literally, byte by byte, with nothing of encoding/csv:
// the reference the parser is compared with. Fields are checked as they complete; the first
// record is held back as a possible header while it matches the header names.
func refAggregate(body []byte) string {
	type agg struct {
		count, quantity   uint64
		minP, maxP, sumPQ float64
	}
	syms := map[string]*agg{}
	rows := 0
	i, line := 0, 1
	first := true
	lineEndAt := func(i int) int { // the length of the line end at i, or 0
		switch {
		case i < len(body) && body[i] == '\n':
			return 1
		case i+1 < len(body) && body[i] == '\r' && body[i+1] == '\n':
			return 2
		}
		return 0
	}
	for i < len(body) {
		if n := lineEndAt(i); n > 0 { // an empty line
			i += n
			line++
			continue
		}
		recLine := line
		isFirst := first
		first = false
		maybeHeader := false
		fail := func(column int, reason string) string { return invalid(recLine, column, reason) }
		var fields []string
		for {
			column := len(fields) + 1
			if column == 5 {
				if maybeHeader {
					return fail(1, "bad timestamp")
				}
				return fail(5, "wrong field count")
			}
			var value []byte
			quoteErr := ""
			if i < len(body) && body[i] == '"' {
				i++
				closed := false
				for i < len(body) {
					if body[i] == '"' {
						if i+1 < len(body) && body[i+1] == '"' {
							value = append(value, '"')
							i += 2
							continue
						}
						i++
						closed = true
						break
					}
					if body[i] == '\n' {
						line++
					}
					value = append(value, body[i])
					i++
				}
				switch {
				case !closed:
					quoteErr = "unterminated quote"
				case i < len(body) && body[i] != ',' && lineEndAt(i) == 0:
					quoteErr = "bare quote"
				}
			} else {
				for i < len(body) && body[i] != ',' && lineEndAt(i) == 0 {
					if body[i] == '"' {
						quoteErr = "bare quote"
						break
					}
					value = append(value, body[i])
					i++
				}
			}
			if quoteErr != "" {
				if maybeHeader {
					return fail(1, "bad timestamp")
				}
				return fail(column, quoteErr)
			}
			v := string(value)
			if maybeHeader {
				if !strings.EqualFold(v, headerNames[column-1]) || !isASCII(v) {
					return fail(1, "bad timestamp")
				}
			} else if reason := refCheck(column, v); reason != "" {
				if column == 1 && isFirst && strings.EqualFold(v, "timestamp") && isASCII(v) {
					maybeHeader = true
				} else {
					return fail(column, reason)
				}
			}
			fields = append(fields, v)
			if i < len(body) && body[i] == ',' {
				i++
				continue
			}
			if n := lineEndAt(i); n > 0 {
				i += n
				line++
			}
			break
		}
		if len(fields) < 4 {
			if maybeHeader {
				return fail(1, "bad timestamp")
			}
			return fail(len(fields)+1, "wrong field count")
		}
		if maybeHeader {
			continue
		}
		p, _ := strconv.ParseFloat(fields[2], 64)
		q, _ := strconv.ParseUint(fields[3], 10, 64)
		rows++
		a := syms[fields[1]]
		if a == nil {
			a = &agg{minP: p, maxP: p}
			syms[fields[1]] = a
		}
		a.count++
		a.quantity += q
		a.minP = min(a.minP, p)
		a.maxP = max(a.maxP, p)
		a.sumPQ += float64(p * float64(q))
	}
	var out []string
	for _, s := range slices.Sorted(func(yield func(string) bool) {
		for k := range syms {
			if !yield(k) {
				return
			}
		}
	}) {
		a := syms[s]
		out = append(out, fmt.Sprintf(`{"symbol":"%s","count":%d,"quantity":%d,"min_price":%.6f,"max_price":%.6f,"vwap":%.6f}`,
			s, a.count, a.quantity, a.minP, a.maxP, a.sumPQ/float64(a.quantity)))
	}
	return fmt.Sprintf(`{"rows":%d,"symbols":[%s]}`, rows, strings.Join(out, ","))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

var (
	refEpoch    = regexp.MustCompile(`^[0-9]{1,15}$`)
	refRFC3339  = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?(Z|[+-]([0-9]{2}):([0-9]{2}))$`)
	refSymbol   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,16}$`)
	refPrice    = regexp.MustCompile(`^[0-9]{1,10}(\.[0-9]{1,8})?$`)
	refQuantity = regexp.MustCompile(`^[0-9]{1,9}$`)
)

// refCheck checks field column (1-4) with regular expressions and package time.
func refCheck(column int, v string) string {
	switch column {
	case 1:
		if refEpoch.MatchString(v) {
			return ""
		}
		m := refRFC3339.FindStringSubmatch(v)
		if m == nil {
			return "bad timestamp"
		}
		n := func(s string) int { x, _ := strconv.Atoi(s); return x }
		y, mo, d := n(m[1]), n(m[2]), n(m[3])
		date := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
		if mo < 1 || mo > 12 || date.Day() != d || date.Month() != time.Month(mo) ||
			n(m[4]) > 23 || n(m[5]) > 59 || n(m[6]) > 59 || (m[8] != "Z" && (n(m[9]) > 23 || n(m[10]) > 59)) {
			return "bad timestamp"
		}
	case 2:
		if !refSymbol.MatchString(v) {
			return "bad symbol"
		}
	case 3:
		if !refPrice.MatchString(v) {
			return "bad price"
		}
	case 4:
		if !refQuantity.MatchString(v) || strings.Trim(v, "0") == "" {
			return "bad quantity"
		}
	}
	return ""
}

// randomBody builds bodies out of pieces that hit the corners of the grammar: quotes,
// CR and LF in all places, headers, bad values, wrong field counts.
func randomBody(r *rand.Rand) []byte {
	valid := [][]string{
		{"1", "0", "999999999999999", "2026-11-23T08:15:30.123Z", "2028-02-29T23:59:59+05:30", "2026-11-23T00:00:00-23:59"},
		{"A", "B", "a.1", "_z-9", "ABCDEFGHIJKLMNOP"},
		{"1", "1.5", "0.1", "0.0000005", "9999999999.99999999", "0.0078125"},
		{"1", "3", "999999999", "007"},
	}
	invalid := [][]string{
		{"timestamp", "TimeStamp", "x", "1e3", "", "1\r", "2026-02-29T00:00:00Z", "2026-11-23T08:15:30", "1234567890123456"},
		{"symbol", "ſymbol", "AA PL", "", "ABCDEFGHIJKLMNOPQ", "A\r"},
		{"price", "1e5", "1.", "", "-1", "1.123456789"},
		{"quantity", "QUANTITY", "1.5", "", "0", "1000000000"},
	}
	field := func(f int) string {
		if r.IntN(12) == 0 {
			return invalid[f%4][r.IntN(len(invalid[f%4]))]
		}
		return valid[f%4][r.IntN(len(valid[f%4]))]
	}
	var b []byte
	if r.IntN(3) == 0 {
		b = append(b, "timestamp,symbol,price,quantity\n"...)
	}
	for range r.IntN(8) {
		switch r.IntN(16) {
		case 0:
			b = append(b, '\n')
			continue
		case 1:
			b = append(b, "\r\n"...)
			continue
		case 2:
			b = append(b, '\r')
		}
		n := 4
		if r.IntN(12) == 0 {
			n = r.IntN(7)
		}
		for f := range n {
			if f > 0 {
				b = append(b, ',')
			}
			v := field(f)
			switch r.IntN(30) {
			case 0, 1, 2:
				b = append(b, '"')
				b = append(b, strings.ReplaceAll(v, `"`, `""`)...)
				b = append(b, '"')
			case 3: // a quote in an odd place
				k := r.IntN(len(v) + 1)
				b = append(b, v[:k]...)
				b = append(b, '"')
				b = append(b, v[k:]...)
			case 4: // a quoted field with line ends, quotes or text after it
				b = append(b, '"')
				b = append(b, v...)
				b = append(b, []string{"\n", "\r\n", `""`, "\r", ","}[r.IntN(5)]...)
				if r.IntN(3) > 0 {
					b = append(b, '"')
				}
				b = append(b, []string{"", "", "x", "\r", " "}[r.IntN(5)]...)
			default:
				b = append(b, v...)
			}
		}
		switch r.IntN(6) {
		case 0:
			b = append(b, "\r\n"...)
		case 1:
			b = append(b, '\r')
		default:
			b = append(b, '\n')
		}
	}
	if r.IntN(4) == 0 && len(b) > 0 {
		b = b[:r.IntN(len(b))] // cut anywhere
	}
	return b
}

func TestCSVMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 200000
	if testing.Short() {
		n = 10000
	}
	failures := 0
	for range n {
		body := randomBody(r)
		got, _ := aggregateCSV(string(body))
		if want := refAggregate(body); got != want {
			t.Errorf("body %q:\n got %s\nwant %s", body, got, want)
			if failures++; failures == 10 {
				t.FailNow()
			}
		}
	}
}

func FuzzCSV(f *testing.F) {
	for _, s := range []string{hdr + exampleTrades, "1,\"A\"x,1,1\r", "\n\r", "1,A,1,\"1\n2\"\r\n", "timestamp,symbol,price,quantity\r"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, _ := aggregateCSV(string(body))
		if want := refAggregate(body); got != want {
			t.Errorf("body %q:\n got %s\nwant %s", body, got, want)
		}
	})
}

// tradesBody is n rows of valid trades over 50 symbols, prices of 0 to 8 decimals.
func tradesBody(r *rand.Rand, n int) []byte {
	var b []byte
	b = append(b, hdr...)
	for i := range n {
		b = strconv.AppendInt(b, 1795422931000+int64(i), 10)
		b = fmt.Appendf(b, ",SYM%02d,%d", r.IntN(50), r.IntN(1000))
		if d := r.IntN(9); d > 0 {
			b = fmt.Appendf(b, ".%0*d", d, r.IntN(int(math.Pow10(d))))
		}
		b = fmt.Appendf(b, ",%d\n", 1+r.IntN(1000))
	}
	return b
}

func BenchmarkCSVParse(b *testing.B) {
	body := tradesBody(rand.New(rand.NewPCG(3, 4)), 10000)
	var t trades
	var src bytes.Reader
	br := bufio.NewReaderSize(nil, 64<<10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(body)
		br.Reset(&src)
		if bad := t.parse(body, br); bad != nil {
			b.Fatal(string(bad.appendJSON(nil)))
		}
	}
}

func BenchmarkCSVHandler(b *testing.B) {
	body := tradesBody(rand.New(rand.NewPCG(3, 4)), 10000)
	h, _ := newCSV(config{bodyLimit: csvBodyLimit}, nil)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/csv", bytes.NewReader(body)))
		if w.Code != 200 {
			b.Fatal(w.Body.String())
		}
	}
}

// TestCSVAgainstPeer compares the answers with another implementation's, byte for byte, over
// random bodies: STACKBENCH_CSV_PEER=http://127.0.0.1:PORT go test -run AgainstPeer.
func TestCSVAgainstPeer(t *testing.T) { eachTier(t, testCSVAgainstPeer) }

func testCSVAgainstPeer(t *testing.T, tier string) {
	peer := os.Getenv("STACKBENCH_CSV_PEER")
	if peer == "" {
		t.Skip("STACKBENCH_CSV_PEER not set")
	}
	ts := newCSVServer(t, tier, csvBodyLimit)
	postBody := func(url string, body []byte) string {
		res, err := http.Post(url+"/csv", "text/csv", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return strconv.Itoa(res.StatusCode) + " " + string(b)
	}
	r := rand.New(rand.NewPCG(5, 6))
	n := 20000
	if s := os.Getenv("STACKBENCH_CSV_PEER_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	failures := 0
	for i := range n {
		body := randomBody(r)
		if i%100 == 0 {
			body = tradesBody(r, 1000+r.IntN(5000))
		}
		got, want := postBody(ts.URL, body), postBody(peer, body)
		if got != want {
			t.Errorf("body %q:\n here %s\n peer %s", body, got, want)
			if failures++; failures == 10 {
				t.FailNow()
			}
		}
	}
}
