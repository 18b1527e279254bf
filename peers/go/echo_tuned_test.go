package main

import (
	"bytes"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
)

// randomJSON appends a random value nested at most depth more levels, with random white space
// between tokens, strings with every kind of escape and raw UTF-8, numbers in every form.
func randomJSON(b []byte, r *rand.Rand, depth int) []byte {
	space := func() {
		for r.IntN(3) == 0 {
			b = append(b, " \t\r\n"[r.IntN(4)])
		}
	}
	space()
	switch k := r.IntN(10); {
	case depth > 0 && k < 2:
		b = append(b, '[')
		for i := range r.IntN(5) {
			if i > 0 {
				space()
				b = append(b, ',')
			}
			b = randomJSON(b, r, depth-1)
		}
		space()
		b = append(b, ']')
	case depth > 0 && k < 4:
		b = append(b, '{')
		for i := range r.IntN(5) {
			if i > 0 {
				space()
				b = append(b, ',')
			}
			space()
			b = randomString(b, r)
			space()
			b = append(b, ':')
			b = randomJSON(b, r, depth-1)
		}
		space()
		b = append(b, '}')
	case k < 6:
		b = randomString(b, r)
	case k < 8:
		b = append(b, []string{"0", "-0", "7", "-12", "1.5", "-0.25", "1e5", "1E+07", "2.5e-3",
			"12345678901234567890", "3.14159265358979323846", "0.0"}[r.IntN(12)]...)
	default:
		b = append(b, []string{"true", "false", "null"}[r.IntN(3)]...)
	}
	space()
	return b
}

func randomString(b []byte, r *rand.Rand) []byte {
	pieces := []string{"a", "plain text of some length", `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`,
		`\t`, `\u00e9`, `\uD83D\uDE00`, "é", "日本", "😀", "\u2028", "<&>", " ", "0123456789abcdef"}
	b = append(b, '"')
	for range r.IntN(6) {
		b = append(b, pieces[r.IntN(len(pieces))]...)
	}
	return append(b, '"')
}

// mutateJSON makes one local edit: a byte inserted, deleted or replaced, or the end cut.
func mutateJSON(b []byte, r *rand.Rand) []byte {
	if len(b) == 0 {
		return append(b, "{[\"0"[r.IntN(4)])
	}
	at := r.IntN(len(b))
	bytesOf := []string{`"`, `\`, ",", ":", "[", "]", "{", "}", "0", "-", ".", "e", "+", " ", "x",
		"\x00", "\x1f", "\x80", "\xc0", "\xed", "\xf4", "\xff", "u", "t", "n"}
	switch r.IntN(4) {
	case 0:
		ins := bytesOf[r.IntN(len(bytesOf))]
		return append(b[:at], append([]byte(ins), b[at:]...)...)
	case 1:
		return append(b[:at], b[at+1:]...)
	case 2:
		b[at] = bytesOf[r.IntN(len(bytesOf))][0]
		return b
	default:
		return b[:at]
	}
}

// checkTunedLikeIdiomatic requires the tuned minifier to accept exactly what the idiomatic
// one accepts and answer the same bytes, in place and into a buffer of its own.
func checkTunedLikeIdiomatic(t *testing.T, doc []byte) {
	t.Helper()
	want, wantBad := minify(bytes.Clone(doc))
	dst := make([]byte, len(doc))
	n, bad := minifyTuned(dst, doc)
	inPlace := bytes.Clone(doc)
	m, badInPlace := minifyTuned(inPlace, inPlace)
	switch {
	case (bad == nil) != (wantBad == nil):
		t.Fatalf("%q: tuned refuses %v, idiomatic refuses %v", doc, bad, wantBad)
	case (bad == nil) != (badInPlace == nil) || (bad != nil && *bad != *badInPlace):
		t.Fatalf("%q: tuned refuses %v into a buffer, %v in place", doc, bad, badInPlace)
	case bad != nil:
		if bad.offset < 0 || bad.offset > len(doc) {
			t.Fatalf("%q: offset %d outside the body", doc, bad.offset)
		}
	case !bytes.Equal(dst[:n], want) || !bytes.Equal(inPlace[:m], want):
		t.Fatalf("%q: tuned %q (in place %q), idiomatic %q", doc, dst[:n], inPlace[:m], want)
	}
}

func TestMinifyTunedMatchesIdiomatic(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	n := 100000
	if testing.Short() {
		n = 10000
	}
	valid := 0
	for i := range n {
		doc := randomJSON(nil, r, 1+r.IntN(6))
		if i%3 != 0 {
			for range 1 + r.IntN(2) {
				doc = mutateJSON(doc, r)
			}
		}
		if _, bad := minify(bytes.Clone(doc)); bad == nil {
			valid++
		}
		checkTunedLikeIdiomatic(t, doc)
	}
	if valid < n/4 || valid > 3*n/4 {
		t.Errorf("%d of %d documents valid: the generator should make about half", valid, n)
	}
}

func TestMinifyTunedDepth(t *testing.T) {
	for _, doc := range []string{
		nested(128), nested(129), strings.Repeat(`{"a":`, 127) + "{}" + strings.Repeat("}", 127),
		strings.Repeat(`{"a":`, 128) + "{}" + strings.Repeat("}", 128),
		strings.Repeat("[", 128) + `{}` + strings.Repeat("]", 128),
		`["` + strings.Repeat("[", 200) + `"]`, strings.Repeat("[", 1000),
	} {
		checkTunedLikeIdiomatic(t, []byte(doc))
	}
	if _, bad := minifyTuned(make([]byte, 258), []byte(nested(129))); bad == nil || bad.offset != 128 {
		t.Errorf("depth 129: %v, want offset 128", bad)
	}
}

func FuzzMinifyTuned(f *testing.F) {
	for _, s := range []string{`{"a":[1,2]}`, ` "x" `, `[01]`, "[\"\xc0\"]", nested(129), `1.5e+3`, `"\u00e9 plain"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) { checkTunedLikeIdiomatic(t, doc) })
}

func BenchmarkMinifyTuned(b *testing.B) {
	dst := make([]byte, len(benchDoc))
	b.SetBytes(int64(len(benchDoc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, bad := minifyTuned(dst, benchDoc); bad != nil {
			b.Fatal(bad)
		}
	}
}

func BenchmarkEchoTunedHandler(b *testing.B) {
	h, _ := newEchoTuned(config{bodyLimit: testLimit}, nil)
	b.SetBytes(int64(len(benchDoc)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/echo", bytes.NewReader(benchDoc))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
