package main

// The csv workload (contracts/csv.md): POST /csv parses a body of RFC 4180 trades
// `timestamp,symbol,price,quantity` and answers their aggregate per symbol (count, quantity,
// min/max price, VWAP); GET /health answers {"status":"ok"}.
//
// # Reading the body: encoding/csv, and where it differs from the contract
//
// Records come from an encoding/csv Reader over the body (FieldsPerRecord = -1: the field
// count is checked here, to report the contract's column; ReuseRecord = true). Each field is
// then checked against the contract's grammar with a small byte loop, left to right, and only
// then read with strconv.ParseFloat: the library parsers accept much more than the contract
// ("1e5", "inf", "+1", "0x1p3").
//
// The reader's errors become the contract's:
//   - ErrBareQuote (a `"` in an unquoted field) is "bare quote"; ErrQuote is either a quoted
//     field never closed ("unterminated quote") or a closing quote followed by something else
//     than `,` or a line end ("bare quote"). ParseError.Line and Column (1-based byte column)
//     point at that closing quote in the second case, and where the reader stopped, at the end
//     of the body, in the first (past its last byte, or on a final LF or CR, never on a
//     quote): the byte at that position tells them apart.
//   - The record returned with a ParseError holds the fields that completed before the one at
//     fault, so that field's number is len(record)+1. The line is ParseError.StartLine, the
//     line where the record starts (line ends inside quoted fields counted, skipped empty
//     lines too); for a record read without error it is FieldPos(0)'s line, the same thing.
//
// Two differences are mended by hand:
//   - The reader drops a CR that ends the body ("for backwards compatibility"); to the
//     contract it is data (only CR LF is a line end). When the last record ends the body and
//     the body ends with CR, that CR goes back to the end of the record's last field, or, when
//     that field was quoted, is the text after its closing quote (a bare quote). When no
//     record reaches the end (the body ends with LF CR), the CR is a record of its own: a
//     trade whose timestamp is bad.
//   - The reader turns CR LF into LF inside quoted fields; no field grammar allows either, so
//     the value is refused the same way, and line counting is not affected.
//
// # Which error is reported
//
// The first one in the body. Within a record the fields are checked as they complete, left
// to right: a quote error is an error of the field it is in, found after the fields before it
// were checked; a fifth field is an error (wrong field count, column 5) as soon as it starts,
// unless one of the first four failed; a record of k < 4 fields fails at column k+1 after its
// k fields were checked. The first record is the header when it has no quote error and is
// exactly the four names (ASCII case-insensitive, after unquoting); otherwise it is a trade.
//
// # Arithmetic and answer
//
// Per symbol: count, quantity (uint64), min and max price, and Σ price × quantity added in
// body order, one rounding per operation (the explicit float64 conversion keeps the compiler
// from fusing the multiplication and the addition into an FMA, which the Go spec allows on
// some platforms). The answer is appended to a []byte with strconv: 'f' with 6 digits is
// correctly rounded, ties to even, as printf("%.6f").

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// csvBodyLimit is the csv workload's default --body-limit: 16 MiB.
const csvBodyLimit = 16 << 20

// The contract's reasons.
const (
	reasonUnterminatedQuote = "unterminated quote"
	reasonBareQuote         = "bare quote"
	reasonWrongFieldCount   = "wrong field count"
	reasonBadTimestamp      = "bad timestamp"
	reasonBadSymbol         = "bad symbol"
	reasonBadPrice          = "bad price"
	reasonBadQuantity       = "bad quantity"
)

type csvService struct {
	body bodyLimit
	jobs sync.Pool // of *csvJob
}

// csvJob is what one request needs, kept in a pool so that buffers, the symbol table and
// the reader's buffer are reused from one request to the next.
type csvJob struct {
	body   bytes.Buffer
	src    bytes.Reader
	br     *bufio.Reader
	trades trades
	out    []byte
}

func newCSV(cfg config, _ *telemetry) (contractMux, error) {
	s := &csvService{body: newBodyLimit(cfg.bodyLimit)}
	s.jobs.New = func() any {
		return &csvJob{br: bufio.NewReaderSize(nil, 64<<10)}
	}
	mux := newContractMux()
	mux.route("POST", "/csv", s.post)
	return mux, nil
}

func (s *csvService) post(w http.ResponseWriter, r *http.Request) {
	job := s.jobs.Get().(*csvJob)
	defer s.jobs.Put(job)
	if !s.body.read(w, r, &job.body) {
		return
	}

	job.src.Reset(job.body.Bytes())
	job.br.Reset(&job.src)
	if bad := job.trades.parse(job.body.Bytes(), job.br); bad != nil {
		job.out = bad.appendJSON(job.out[:0])
		writeJSON(w, http.StatusBadRequest, job.out)
		return
	}
	job.out = job.trades.appendJSON(job.out[:0])
	writeJSON(w, http.StatusOK, job.out)
}

// invalidCSV is the first error of a body.
type invalidCSV struct {
	line   int    // 1-based line where the failing record starts
	column int    // 1-based number of the field at fault
	reason string // one of the reason* constants: no character to escape in JSON
}

// appendJSON appends the 400 answer {"error":"invalid_csv","line":L,"column":C,"reason":"..."}.
func (e *invalidCSV) appendJSON(b []byte) []byte {
	b = append(b, `{"error":"invalid_csv","line":`...)
	b = strconv.AppendInt(b, int64(e.line), 10)
	b = append(b, `,"column":`...)
	b = strconv.AppendInt(b, int64(e.column), 10)
	b = append(b, `,"reason":"`...)
	b = append(b, e.reason...)
	return append(b, `"}`...)
}

// symbolAgg is one symbol's trades.
type symbolAgg struct {
	count    uint64
	quantity uint64
	minPrice float64
	maxPrice float64
	sumPQ    float64 // Σ price × quantity, in body order
}

// trades is the aggregate of a body's trades. Its memory is kept from one parse to the next.
type trades struct {
	rows uint64
	syms map[string]*symbolAgg
	keys []string // the sorted symbols, while answering
}

func (t *trades) add(symbol string, price float64, quantity uint64) {
	t.rows++
	a := t.syms[symbol]
	if a == nil {
		// The key must not pin the record's string (the reader allocates one per record).
		a = &symbolAgg{minPrice: price, maxPrice: price}
		t.syms[strings.Clone(symbol)] = a
	}
	a.count++
	a.quantity += quantity
	if price < a.minPrice {
		a.minPrice = price
	}
	if price > a.maxPrice {
		a.maxPrice = price
	}
	// One multiplication rounded to float64, then one addition: no fused multiply-add.
	a.sumPQ += float64(price * float64(quantity))
}

// parse reads body (also available through br, positioned at its start) and aggregates its
// trades into t, or returns the first error of the body.
func (t *trades) parse(body []byte, br *bufio.Reader) *invalidCSV {
	t.rows = 0
	if t.syms == nil {
		t.syms = make(map[string]*symbolAgg)
	}
	clear(t.syms)

	cr := csv.NewReader(br) // br is a *bufio.Reader already: used as is
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	// encoding/csv drops a CR that ends the body; to the contract it is data.
	endsWithCR := len(body) > 0 && body[len(body)-1] == '\r'
	header := true // the next record may be the header
	for {
		record, err := cr.Read()
		if err == io.EOF {
			if endsWithCR {
				// No record reached the end of the body: the body ends with LF CR (or is a
				// lone CR), and that CR is a record of one field, a trade with a bad
				// timestamp (not the header).
				return &invalidCSV{bytes.Count(body, []byte{'\n'}) + 1, 1, reasonBadTimestamp}
			}
			return nil
		}

		var line int
		complete := len(record) // the fields that completed
		quoteErr := ""          // a quote error in field complete+1
		if err != nil {
			pe, ok := err.(*csv.ParseError)
			if !ok {
				// A reader over memory has no I/O error, and FieldsPerRecord = -1 rules out
				// ErrFieldCount: only parse errors are left.
				panic("csv: unexpected error from encoding/csv: " + err.Error())
			}
			line = pe.StartLine
			switch {
			case errors.Is(pe.Err, csv.ErrBareQuote):
				quoteErr = reasonBareQuote
			case errors.Is(pe.Err, csv.ErrQuote):
				quoteErr = quoteErrorReason(body, pe.Line, pe.Column)
			default:
				panic("csv: unexpected error from encoding/csv: " + err.Error())
			}
		} else {
			line, _ = cr.FieldPos(0)
			if endsWithCR && cr.InputOffset() == int64(len(body)) {
				// The last record, and the reader dropped the CR that ends the body.
				endsWithCR = false
				last := len(record) - 1
				if len(body) >= 2 && body[len(body)-2] == '"' {
					// The last field was quoted (an unquoted one cannot hold a quote): the
					// CR is text after its closing quote.
					complete = last
					quoteErr = reasonBareQuote
				} else {
					record[last] += "\r"
				}
			}
		}

		if header {
			header = false
			if quoteErr == "" && isHeader(record) {
				continue
			}
		}

		// The fields that completed, left to right; a fifth field is an error as soon as it
		// starts, a quote error as soon as it is found.
		fail := func(column int, reason string) *invalidCSV {
			return &invalidCSV{line, column, reason}
		}
		n := min(complete, 4)
		if n >= 1 && !isTimestamp(record[0]) {
			return fail(1, reasonBadTimestamp)
		}
		if n >= 2 && !isSymbol(record[1]) {
			return fail(2, reasonBadSymbol)
		}
		var price float64
		if n >= 3 {
			var ok bool
			if price, ok = parsePrice(record[2]); !ok {
				return fail(3, reasonBadPrice)
			}
		}
		var quantity uint64
		if n >= 4 {
			var ok bool
			if quantity, ok = parseQuantity(record[3]); !ok {
				return fail(4, reasonBadQuantity)
			}
		}
		switch {
		case quoteErr != "" && complete >= 4:
			return fail(5, reasonWrongFieldCount)
		case quoteErr != "":
			return fail(complete+1, quoteErr)
		case len(record) > 4:
			return fail(5, reasonWrongFieldCount)
		case len(record) < 4:
			return fail(len(record)+1, reasonWrongFieldCount)
		}
		t.add(record[1], price, quantity)
	}
}

// quoteErrorReason tells the two cases of csv.ErrQuote apart, given where the reader says
// the error is (1-based line, and 1-based byte column in that line). When a closing quote is
// followed by something else than `,` or a line end, that is the position of the closing
// quote: a bare quote. When a quoted field is never closed, it is where the reader stopped at
// the end of the body: past it, or on its final LF (the reader counts CR LF as one byte) or
// final CR (the reader drops it).
func quoteErrorReason(body []byte, line, column int) string {
	at := 0 // the offset of the line
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(body[at:], '\n')
		if i < 0 {
			return reasonUnterminatedQuote
		}
		at += i + 1
	}
	at += column - 1
	if at < len(body) && body[at] == '"' {
		return reasonBareQuote
	}
	return reasonUnterminatedQuote
}

// headerNames is the header record; it is compared ASCII case-insensitively.
var headerNames = [4]string{"timestamp", "symbol", "price", "quantity"}

func isHeader(record []string) bool {
	if len(record) != len(headerNames) {
		return false
	}
	for i, name := range headerNames {
		if !equalFoldASCII(record[i], name) {
			return false
		}
	}
	return true
}

// equalFoldASCII reports whether s equals the lower-case ASCII word lower, ignoring ASCII
// case only (strings.EqualFold also folds Unicode: "ſymbol" would match).
func equalFoldASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digitsPrefix is the number of ASCII digits s starts with.
func digitsPrefix(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// num is the value of the digits s (already checked to be digits).
func num(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// timestampShape is the fixed part of an RFC 3339 timestamp: d stands for a digit.
const timestampShape = "dddd-dd-ddTdd:dd:dd"

// isTimestamp: epoch milliseconds [0-9]{1,15}, or
// YYYY-MM-DDTHH:MM:SS[.fraction of 1 to 9 digits](Z|+HH:MM|-HH:MM) with a real date (leap
// years included), hour 00-23, minutes and seconds 00-59, offset 00:00-23:59.
func isTimestamp(s string) bool {
	if d := digitsPrefix(s); d == len(s) {
		return 1 <= d && d <= 15
	}
	if len(s) < len(timestampShape)+1 {
		return false
	}
	for i := 0; i < len(timestampShape); i++ {
		if timestampShape[i] == 'd' {
			if !isDigit(s[i]) {
				return false
			}
		} else if s[i] != timestampShape[i] {
			return false
		}
	}
	year, month, day := num(s[0:4]), num(s[5:7]), num(s[8:10])
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return false
	}
	if num(s[11:13]) > 23 || num(s[14:16]) > 59 || num(s[17:19]) > 59 {
		return false
	}
	rest := s[len(timestampShape):]
	if rest[0] == '.' {
		d := digitsPrefix(rest[1:])
		if d < 1 || d > 9 {
			return false
		}
		rest = rest[1+d:]
	}
	if rest == "Z" {
		return true
	}
	return len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') &&
		isDigit(rest[1]) && isDigit(rest[2]) && rest[3] == ':' && isDigit(rest[4]) && isDigit(rest[5]) &&
		num(rest[1:3]) <= 23 && num(rest[4:6]) <= 59
}

// daysIn is the number of days of month (1-12) in year, in the proleptic Gregorian calendar.
func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	default:
		return 31
	}
}

// isSymbol: [A-Za-z0-9._-]{1,16}.
func isSymbol(s string) bool {
	if len(s) < 1 || len(s) > 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// parsePrice: [0-9]{1,10}(\.[0-9]{1,8})?, read as the nearest double.
func parsePrice(s string) (float64, bool) {
	whole := digitsPrefix(s)
	if whole < 1 || whole > 10 {
		return 0, false
	}
	if whole < len(s) {
		frac := s[whole+1:]
		if s[whole] != '.' || len(frac) < 1 || len(frac) > 8 || digitsPrefix(frac) != len(frac) {
			return 0, false
		}
	}
	// The grammar is a subset of ParseFloat's, which rounds correctly: no error is possible.
	price, err := strconv.ParseFloat(s, 64)
	return price, err == nil
}

// parseQuantity: [0-9]{1,9}, at least 1.
func parseQuantity(s string) (uint64, bool) {
	if len(s) < 1 || len(s) > 9 || digitsPrefix(s) != len(s) {
		return 0, false
	}
	q := uint64(num(s))
	return q, q >= 1
}

// appendJSON appends the answer: {"rows":N,"symbols":[...]}, symbols sorted bytewise, no
// white space, prices and vwap with exactly 6 decimals.
func (t *trades) appendJSON(b []byte) []byte {
	t.keys = t.keys[:0]
	for symbol := range t.syms {
		t.keys = append(t.keys, symbol)
	}
	slices.Sort(t.keys) // strings compare bytewise
	b = append(b, `{"rows":`...)
	b = strconv.AppendUint(b, t.rows, 10)
	b = append(b, `,"symbols":[`...)
	for i, symbol := range t.keys {
		a := t.syms[symbol]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"symbol":"`...)
		b = append(b, symbol...) // [A-Za-z0-9._-]: nothing to escape
		b = append(b, `","count":`...)
		b = strconv.AppendUint(b, a.count, 10)
		b = append(b, `,"quantity":`...)
		b = strconv.AppendUint(b, a.quantity, 10)
		b = append(b, `,"min_price":`...)
		b = strconv.AppendFloat(b, a.minPrice, 'f', 6, 64)
		b = append(b, `,"max_price":`...)
		b = strconv.AppendFloat(b, a.maxPrice, 'f', 6, 64)
		b = append(b, `,"vwap":`...)
		b = strconv.AppendFloat(b, a.sumPQ/float64(a.quantity), 'f', 6, 64)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}
