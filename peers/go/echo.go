package main

// The echo workload (contracts/echo.md): POST /echo answers the posted JSON document
// minified, GET /health answers {"status":"ok"}.

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxDepth is the deepest nesting of arrays and objects a document may have.
const maxDepth = 128

type echoService struct {
	body bodyLimit
}

func newEcho(cfg config, _ *telemetry) (contractMux, error) {
	e := &echoService{body: newBodyLimit(cfg.bodyLimit)}
	mux := newContractMux()
	mux.route("POST", "/echo", e.echo)
	return mux, nil
}

func (e *echoService) echo(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	if !e.body.read(w, r, &body) {
		return
	}
	out, bad := minify(body.Bytes())
	if bad != nil {
		writeJSON(w, http.StatusBadRequest, bad.body())
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// invalidJSON says where and why a body is not a JSON document the contract accepts.
type invalidJSON struct {
	Offset int64  // 0-based offset of the byte where the document stopped being valid
	Reason string // short human text
}

// body is the 400 answer: {"error":"invalid_json","offset":N,"reason":"..."}.
func (e *invalidJSON) body() []byte {
	b, _ := json.Marshal(struct {
		Error  string `json:"error"`
		Offset int64  `json:"offset"`
		Reason string `json:"reason"`
	}{"invalid_json", e.Offset, e.Reason})
	return b
}

// minify validates doc against RFC 8259 and the contract's limits and returns it with the
// insignificant white space removed and nothing else changed: members in the order
// written, numbers and strings byte for byte as written, or says why doc is refused.
//
// json.Compact does the work: it runs encoding/json's full scanner (grammar, numbers,
// escapes, control characters, nothing after the value) and only drops white space.
// It does not check UTF-8, and it allows nesting far deeper than 128, so both are checked
// here.
func minify(doc []byte) ([]byte, *invalidJSON) {
	if !utf8.Valid(doc) {
		return nil, &invalidJSON{int64(invalidUTF8At(doc)), "invalid UTF-8"}
	}
	var out bytes.Buffer
	out.Grow(len(doc))
	if err := json.Compact(&out, doc); err != nil {
		return nil, syntaxError(doc, err)
	}
	if at := tooDeep(doc, maxDepth); at >= 0 {
		return nil, &invalidJSON{int64(at), "nested deeper than " + strconv.Itoa(maxDepth)}
	}
	return out.Bytes(), nil
}

// syntaxError turns json.Compact's error into an *invalidJSON.
//
// json.Compact's *json.SyntaxError always has Offset 0 (Compact does not count the bytes
// it scans), so the offset comes from json.Unmarshal's validation pass, which runs the same
// scanner over the same bytes and counts them. This second pass runs only on invalid
// documents. Its Offset is the number of bytes read, the offending one included, so the
// offending byte is at Offset-1. When the input ends too early, Offset is the length of
// the body, which is where the document stopped: either the error says so ("unexpected end
// of JSON input"), or the scanner was amid a number or literal (`[1.`, `tru`) and failed on
// the space it feeds itself after the last byte to end it; that space is not in the body.
func syntaxError(doc []byte, err error) *invalidJSON {
	var raw json.RawMessage
	if uerr := json.Unmarshal(doc, &raw); uerr != nil {
		err = uerr
	}
	var se *json.SyntaxError
	if !errors.As(err, &se) || se.Offset <= 0 || se.Offset > int64(len(doc)) {
		return &invalidJSON{0, err.Error()}
	}
	const endOfInput = "unexpected end of JSON input"
	reason := se.Error()
	switch {
	case strings.HasPrefix(reason, endOfInput):
		return &invalidJSON{se.Offset, reason}
	case se.Offset == int64(len(doc)) && strings.HasPrefix(reason, "invalid character ' '") &&
		doc[len(doc)-1] != ' ':
		return &invalidJSON{se.Offset, endOfInput}
	default:
		return &invalidJSON{se.Offset - 1, reason}
	}
}

// invalidUTF8At is the offset of the first byte of b that is not valid UTF-8, or -1.
// Go's decoder rejects overlong forms and UTF-8-encoded surrogates, as RFC 3629 says.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// tooDeep is the offset of the first '[' or '{' of the valid JSON document doc that opens
// nesting level limit+1, or -1 when doc nests at most limit deep.
func tooDeep(doc []byte, limit int) int {
	depth := 0
	inString := false
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if inString {
			switch c {
			case '\\':
				i++ // the escaped byte cannot end the string
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth > limit {
				return i
			}
		case ']', '}':
			depth--
		}
	}
	return -1
}
