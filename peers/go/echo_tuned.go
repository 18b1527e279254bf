package main

// The echo workload, tuned tier: the C service's algorithm (src/codec/json.c, src/serve/echo.c)
// by hand in Go. The body is read once, into a pooled buffer of its Content-Length, and
// validated and minified in place in one pass; the answer is that buffer's first bytes.
//
// The scanner is a state machine with three states (a value is expected, a value just ended,
// an object key is expected) written as labels, as in C, and an explicit stack of maxDepth
// bytes saying whether each open container is an object or an array: the depth limit, UTF-8,
// escapes, numbers and literals are all checked in that one pass. The output is the input
// with the white space between tokens cut out: the scanner keeps a "run", the start of the
// input bytes already validated and still to be kept, and moves it down when white space
// begins. The output never gets ahead of the input, so moving in place only overwrites bytes
// already read; input with no white space is never moved at all.
//
// Where the time goes is string contents: they are skipped 8 bytes at a time (SWAR on a
// uint64) while they are printable ASCII other than '"' and '\\'. Error offsets and reasons
// are the C service's.

import (
	"encoding/binary"
	"math/bits"
	"net/http"
	"strconv"
	"sync"
)

type echoTuned struct {
	body bodyLimit
	bufs sync.Pool // of *[]byte: request bodies, minified in place
}

func newEchoTuned(cfg config, _ *telemetry) (contractMux, error) {
	e := &echoTuned{body: newBodyLimit(cfg.bodyLimit)}
	e.bufs.New = func() any { return new([]byte) }
	mux := newContractMux()
	mux.route("POST", "/echo", e.echo)
	return mux, nil
}

func (e *echoTuned) echo(w http.ResponseWriter, r *http.Request) {
	buf := e.bufs.Get().(*[]byte)
	defer e.bufs.Put(buf)
	body, ok := e.body.readInto(w, r, *buf)
	*buf = body[:0] // keep what readInto grew
	if !ok {
		return
	}
	n, bad := minifyTuned(body, body)
	if bad != nil {
		writeJSON(w, http.StatusBadRequest, bad.appendJSON(body[:0]))
		return
	}
	writeJSON(w, http.StatusOK, body[:n]) // written out before the buffer goes back
}

// jsonError is where a document stopped being valid, and why.
type jsonError struct {
	offset int
	reason string // one of the reason constants below: nothing to escape in JSON
}

// appendJSON appends the 400 answer {"error":"invalid_json","offset":N,"reason":"..."}.
func (e *jsonError) appendJSON(b []byte) []byte {
	b = append(b, `{"error":"invalid_json","offset":`...)
	b = strconv.AppendInt(b, int64(e.offset), 10)
	b = append(b, `,"reason":"`...)
	b = append(b, e.reason...)
	return append(b, `"}`...)
}

// The reasons, as the C service words them.
const (
	jsonEOF      = "unexpected end of input"
	jsonChar     = "unexpected character"
	jsonNumber   = "invalid number"
	jsonLiteral  = "invalid literal"
	jsonEscape   = "invalid escape"
	jsonControl  = "control character in string"
	jsonUTF8     = "invalid utf-8"
	jsonDeep     = "nesting too deep"
	jsonTrailing = "trailing characters"
	jsonColon    = "expected ':'"
	jsonObjNext  = "expected ',' or '}'"
	jsonArrNext  = "expected ',' or ']'"
	jsonKey      = "expected string key"
)

func isJSONSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func isHex(c byte) bool { return isDigit(c) || c|0x20-'a' < 6 }

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// skipPlain is the index of the first byte of s at or after i that is not plain string
// content (a '"', a '\\', a control character or a byte >= 0x80), or len(s).
//
// Eight bytes at a time: bit 7 of each byte of (x - 0x20…) | x is set when the byte is below
// 0x20 or above 0x7f, and (y - 0x01…) &^ y has it for the zero bytes of y = x ^ '"'… (a quote)
// or x ^ '\\'… (a backslash). A borrow only sets bits above a byte that is flagged for real,
// so the lowest bit set is exact.
func skipPlain(s []byte, i int) int {
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		q, b := x^(ones*'"'), x^(ones*'\\')
		if m := ((x - ones*0x20) | x | ((q - ones) &^ q) | ((b - ones) &^ b)) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\' {
		i++
	}
	return i
}

// utf8Len is the length of the UTF-8 sequence at s[i], a byte >= 0x80, or 0 when it is not
// valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF, nothing
// truncated). The second byte's range depends on the lead byte; that alone rules out overlong
// forms (E0 80..9F, F0 80..8F, C0, C1), surrogates (ED A0..BF) and F4 90+ / F5+.
func utf8Len(s []byte, i int) int {
	c := s[i]
	lo, hi := byte(0x80), byte(0xbf)
	var n int
	switch {
	case c >= 0xc2 && c <= 0xdf:
		n = 2
	case c >= 0xe0 && c <= 0xef:
		n = 3
		if c == 0xe0 {
			lo = 0xa0
		} else if c == 0xed {
			hi = 0x9f
		}
	case c >= 0xf0 && c <= 0xf4:
		n = 4
		if c == 0xf0 {
			lo = 0x90
		} else if c == 0xf4 {
			hi = 0x8f
		}
	default:
		return 0 // a continuation byte, C0/C1, or F5..FF
	}
	if len(s)-i < n || s[i+1] < lo || s[i+1] > hi {
		return 0
	}
	for k := 2; k < n; k++ {
		if s[i+k]&0xc0 != 0x80 {
			return 0
		}
	}
	return n
}

// scanString reads the string whose opening quote is s[i]: the index just past its closing
// quote, or an error. Escapes are checked, not decoded ("\ud800" alone is accepted as written).
func scanString(s []byte, i int) (int, *jsonError) {
	i++
	for {
		i = skipPlain(s, i)
		if i >= len(s) {
			return 0, &jsonError{len(s), jsonEOF}
		}
		switch c := s[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if len(s)-i < 2 {
				return 0, &jsonError{len(s), jsonEOF}
			}
			switch s[i+1] {
			case 'u':
				for k := 2; k < 6; k++ {
					if i+k >= len(s) {
						return 0, &jsonError{len(s), jsonEOF}
					}
					if !isHex(s[i+k]) {
						return 0, &jsonError{i + k, jsonEscape}
					}
				}
				i += 6
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			default:
				return 0, &jsonError{i + 1, jsonEscape}
			}
		case c < 0x20:
			return 0, &jsonError{i, jsonControl}
		default:
			n := utf8Len(s, i)
			if n == 0 {
				return 0, &jsonError{i, jsonUTF8}
			}
			i += n
		}
	}
}

// scanNumber reads the number at s[i] ('-' or a digit): the index just past it, or an error.
// Grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(s []byte, i int) (int, *jsonError) {
	n := len(s)
	if s[i] == '-' {
		i++
	}
	if i >= n {
		return 0, &jsonError{n, jsonEOF}
	}
	switch {
	case s[i] == '0':
		i++
	case isDigit(s[i]):
		for i++; i < n && isDigit(s[i]); i++ {
		}
	default:
		return 0, &jsonError{i, jsonNumber}
	}
	if i < n && s[i] == '.' {
		i++
		if i >= n {
			return 0, &jsonError{n, jsonEOF}
		}
		if !isDigit(s[i]) {
			return 0, &jsonError{i, jsonNumber}
		}
		for i++; i < n && isDigit(s[i]); i++ {
		}
	}
	if i < n && s[i]|0x20 == 'e' {
		i++
		if i < n && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= n {
			return 0, &jsonError{n, jsonEOF}
		}
		if !isDigit(s[i]) {
			return 0, &jsonError{i, jsonNumber}
		}
		for i++; i < n && isDigit(s[i]); i++ {
		}
	}
	// "01", "-00", "1.5.2", "1e5.0": a digit or a point right after a complete number is not
	// the start of the next token but a malformed number; said at that byte.
	if i < n && (isDigit(s[i]) || s[i] == '.') {
		return 0, &jsonError{i, jsonNumber}
	}
	return i, nil
}

// scanLiteral reads true, false or null (lit) at s[i], where s[i] == lit[0].
func scanLiteral(s []byte, i int, lit string) (int, *jsonError) {
	for k := 1; k < len(lit); k++ {
		if i+k >= len(s) {
			return 0, &jsonError{len(s), jsonEOF}
		}
		if s[i+k] != lit[k] {
			return 0, &jsonError{i + k, jsonLiteral}
		}
	}
	return i + len(lit), nil
}

// cutJSONSpace skips the white space at s[i], if any, and returns minifyTuned's new i, o and
// run: when there is some, the run before it goes to the output first. Minified input has
// none, so minifyTuned calls it only when s[i] <= ' ' (every white space byte is, no byte that
// starts or continues a token is): one compare in the usual case.
func cutJSONSpace(dst, s []byte, i, o, run int) (int, int, int) {
	if !isJSONSpace(s[i]) {
		return i, o, run
	}
	o += copy(dst[o:], s[run:i]) // in place, only the first run can be moved onto itself
	for i++; i < len(s) && isJSONSpace(s[i]); i++ {
	}
	return i, o, i
}

// minifyTuned validates src as exactly one JSON value (RFC 8259, UTF-8 checked, at most
// maxDepth deep) and writes it to dst with the insignificant white space removed and nothing
// else changed. dst must have room for len(src) bytes; dst may be src (in place). It returns
// the minified length, or where and why src is refused.
func minifyTuned(dst, src []byte) (int, *jsonError) {
	s := src
	n := len(s)
	i := 0   // the next input byte
	o := 0   // the output's length
	run := 0 // the start of the input bytes validated and still to be written out
	// The open containers, innermost last: 1 for an object, 0 for an array.
	var stack [maxDepth]byte
	depth := 0
	var err *jsonError

	if i < n && s[i] <= ' ' {
		i, o, run = cutJSONSpace(dst, s, i, o, run)
	}

value: // a value must start at i
	if i >= n {
		return 0, &jsonError{n, jsonEOF}
	}
	switch c := s[i]; c {
	case '"':
		if i, err = scanString(s, i); err != nil {
			return 0, err
		}
		goto afterValue
	case '{', '[':
		if depth == maxDepth {
			return 0, &jsonError{i, jsonDeep}
		}
		isObj := c == '{'
		stack[depth] = 0
		if isObj {
			stack[depth] = 1
		}
		depth++
		i++
		if i < n && s[i] <= ' ' {
			i, o, run = cutJSONSpace(dst, s, i, o, run)
		}
		if i < n && (s[i] == '}' && isObj || s[i] == ']' && !isObj) { // an empty container
			depth--
			i++
			goto afterValue
		}
		if isObj {
			goto key
		}
		goto value
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if i, err = scanNumber(s, i); err != nil {
			return 0, err
		}
		goto afterValue
	case 't':
		if i, err = scanLiteral(s, i, "true"); err != nil {
			return 0, err
		}
		goto afterValue
	case 'f':
		if i, err = scanLiteral(s, i, "false"); err != nil {
			return 0, err
		}
		goto afterValue
	case 'n':
		if i, err = scanLiteral(s, i, "null"); err != nil {
			return 0, err
		}
		goto afterValue
	default:
		return 0, &jsonError{i, jsonChar}
	}

afterValue: // a value just ended at i: a comma, the end of its container, or the end
	if i < n && s[i] <= ' ' {
		i, o, run = cutJSONSpace(dst, s, i, o, run)
	}
	if depth == 0 {
		goto end
	}
	if i >= n {
		return 0, &jsonError{n, jsonEOF}
	}
	if stack[depth-1] == 1 {
		switch s[i] {
		case ',':
			i++
			if i < n && s[i] <= ' ' {
				i, o, run = cutJSONSpace(dst, s, i, o, run)
			}
			goto key
		case '}':
			depth--
			i++
			goto afterValue
		}
		return 0, &jsonError{i, jsonObjNext}
	}
	switch s[i] {
	case ',':
		i++
		if i < n && s[i] <= ' ' {
			i, o, run = cutJSONSpace(dst, s, i, o, run)
		}
		goto value
	case ']':
		depth--
		i++
		goto afterValue
	}
	return 0, &jsonError{i, jsonArrNext}

key: // inside an object, a member's key must start at i
	if i >= n {
		return 0, &jsonError{n, jsonEOF}
	}
	if s[i] != '"' {
		return 0, &jsonError{i, jsonKey}
	}
	if i, err = scanString(s, i); err != nil {
		return 0, err
	}
	if i < n && s[i] <= ' ' {
		i, o, run = cutJSONSpace(dst, s, i, o, run)
	}
	if i >= n {
		return 0, &jsonError{n, jsonEOF}
	}
	if s[i] != ':' {
		return 0, &jsonError{i, jsonColon}
	}
	i++
	if i < n && s[i] <= ' ' {
		i, o, run = cutJSONSpace(dst, s, i, o, run)
	}
	goto value

end:
	if i != n {
		return 0, &jsonError{i, jsonTrailing}
	}
	if o != run || n == 0 || &dst[0] != &src[0] { // minified input in place is not moved at all
		copy(dst[o:], s[run:i])
	}
	return o + i - run, nil
}
