package main

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// matchesWhole says whether match, run on v padded as the slow path pads values, matches
// all of v.
func matchesWhole(match func(s []byte, p int) int, v string) bool {
	pad := make([]byte, len(v)+csvFastRoom)
	copy(pad, v)
	return match(pad, 0) == len(v)
}

// genCSV is a body of rows trades as the lab's generator writes them (src/lab/gen.c): a
// header, 50 symbols with Zipf-like frequencies and drifting prices of 2 to 4 decimals,
// timestamps in both forms, some symbols quoted, LF or CR LF line ends.
func genCSV(r *rand.Rand, rows int) []byte {
	const nsym = 50
	var price [nsym]int64
	for i := range price {
		price[i] = (10+r.Int64N(990))*10000 + r.Int64N(10000)
	}
	nl := "\n"
	crlf := r.IntN(4) == 0
	if crlf {
		nl = "\r\n"
	}
	b := []byte("timestamp,symbol,price,quantity" + nl)
	t := int64(1795420800000) + r.Int64N(3600000)
	for row := range rows {
		t += r.Int64N(250)
		u := r.Uint64N(1 << 16)
		s := int(u * u * nsym >> 32)
		if step := r.Int64N(2001) - 1000; price[s]+step > 10000 {
			price[s] += step
		}
		switch kind, sec := r.IntN(10), t/1000; {
		case kind < 2:
			b = strconv.AppendInt(b, t, 10)
		case kind < 8:
			b = fmt.Appendf(b, "2026-11-%02dT%02d:%02d:%02d.%03dZ", 23+sec/86400%5, sec/3600%24, sec/60%60, sec%60, t%1000)
		default:
			b = fmt.Appendf(b, "2026-11-%02dT%02d:%02d:%02d+00:00", 23+sec/86400%5, sec/3600%24, sec/60%60, sec%60)
		}
		sym := fmt.Sprintf("SYM%02d", s)
		if r.IntN(10) == 0 {
			sym = `"` + sym + `"`
		}
		decimals := 2 + r.IntN(3)
		p := strconv.FormatFloat(float64(price[s])/10000, 'f', decimals, 64)
		if r.IntN(20) == 0 {
			p = `"` + p + `"`
		}
		qty := 1 + r.IntN(500)
		if r.IntN(8) == 0 {
			qty = 1 + r.IntN(5000)
		}
		b = fmt.Appendf(b, ",%s,%s,%d", sym, p, qty)
		if row+1 < rows || r.IntN(2) == 0 {
			if !crlf && r.IntN(20) == 0 {
				b = append(b, "\r\n"...)
			} else {
				b = append(b, nl...)
			}
		}
	}
	return b
}

// mutateCSV makes one local edit of a kind the contract names, as tests/integration/
// test_csv_diff.c does: an insertion, a byte deleted or replaced, or the end cut.
func mutateCSV(b []byte, r *rand.Rand) []byte {
	if len(b) == 0 {
		return b
	}
	at := r.IntN(len(b))
	inserts := []string{`"`, ",", "\n", "\r\n", "x", "-", ".", "e5", `""`, " ", "0", "13", "99", ":", "Z", "+", "T", "\r"}
	switch r.IntN(4) {
	case 0:
		ins := inserts[r.IntN(len(inserts))]
		return append(b[:at], append([]byte(ins), b[at:]...)...)
	case 1:
		return append(b[:at], b[at+1:]...)
	case 2:
		b[at] = "\",\n0aZ.:-\r"[r.IntN(10)]
		return b
	default:
		return b[:at]
	}
}

// caseBodies are the request bodies of contracts/csv/*.case, as sent.
func caseBodies(t *testing.T) [][]byte {
	t.Helper()
	files, _ := filepath.Glob("../../contracts/csv/*.case")
	if len(files) == 0 {
		t.Fatal("no contracts/csv/*.case")
	}
	var bodies [][]byte
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(text), "\n") {
			if value, ok := strings.CutPrefix(line, "send: "); ok {
				if _, body, ok := strings.Cut(unescapeCase(t, value), "\r\n\r\n"); ok {
					bodies = append(bodies, []byte(body))
				}
			}
		}
	}
	return bodies
}

// checkTiersAgree requires the same answer from both tiers for body, and for body between
// rows of valid trades (so that its records are also read where the fast paths run, far from
// the end of the body).
func checkTiersAgree(t *testing.T, body []byte, filler []byte) (valid bool) {
	t.Helper()
	for _, b := range [][]byte{body, join(filler, body), join(body, filler), join(filler, body, filler)} {
		want, ok := aggregateCSV(string(b))
		if got, _ := aggregateCSVTuned(string(b)); got != want {
			t.Fatalf("body %q:\n tuned     %s\n idiomatic %s", b, got, want)
		}
		valid = valid || ok
	}
	return valid
}

func join(parts ...[]byte) []byte { return bytes.Join(parts, []byte("\n")) }

func TestCSVTunedMatchesIdiomatic(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	filler := tradesBody(r, 3)[len(hdr):]
	filler = filler[:len(filler)-1]
	for _, body := range caseBodies(t) {
		checkTiersAgree(t, body, filler)
		for range 20 {
			checkTiersAgree(t, mutateCSV(bytes.Clone(body), r), filler)
		}
	}
	n := 30000
	if testing.Short() {
		n = 3000
	}
	valid := 0
	for i := range n {
		var body []byte
		switch i % 3 {
		case 0:
			body = randomBody(r)
		case 1:
			body = genCSV(r, r.IntN(12))
			for range 1 + r.IntN(2) {
				body = mutateCSV(body, r)
			}
		default:
			body = genCSV(r, r.IntN(40))
		}
		if checkTiersAgree(t, body, filler) {
			valid++
		}
	}
	if valid < n/4 {
		t.Errorf("only %d of %d inputs valid", valid, n)
	}
	for range 20 { // large bodies, and their malformed variants
		body := genCSV(r, 1000+r.IntN(5000))
		checkTiersAgree(t, body, filler)
		checkTiersAgree(t, mutateCSV(body, r), filler)
	}
}

func TestCSVTunedMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		body := randomBody(r)
		if got, want := func() string { s, _ := aggregateCSVTuned(string(body)); return s }(), refAggregate(body); got != want {
			t.Fatalf("body %q:\n got %s\nwant %s", body, got, want)
		}
	}
}

func TestAppendFixed6(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	values := []float64{0, 1, 0.5, 0.0000005, 0.0000015, 0.0078125, 0.0234375, 9999999999.99999999,
		187.333333333, 1e12 - 1, 1e12, 1e15, math.SmallestNonzeroFloat64, 2.5e-7, 1.5e-6,
		math.Nextafter(0.0000005, 1), math.Nextafter(0.0000005, 0), 4999999999.5}
	for range 200000 {
		switch r.IntN(3) {
		case 0:
			values = append(values, r.Float64()*math.Pow10(r.IntN(13)))
		case 1: // halfway cases: an odd multiple of 2^-k near six decimals
			values = append(values, float64(r.Int64N(1<<20)*2+1)/float64(uint64(1)<<(20+r.IntN(30))))
		default:
			values = append(values, math.Float64frombits(r.Uint64N(0x4270000000000000)))
		}
	}
	for _, v := range values {
		want := strconv.FormatFloat(v, 'f', 6, 64)
		if got := string(appendFixed6(nil, v)); got != want {
			t.Fatalf("appendFixed6(%v) = %s, want %s", v, got, want)
		}
	}
}

func FuzzCSVTuned(f *testing.F) {
	for _, s := range []string{hdr + exampleTrades, "1,\"A\"x,1,1\r", "\n\r", "1,A,1,\"1\n2\"\r\n", "timestamp,symbol,price,quantity\r"} {
		f.Add([]byte(s))
	}
	filler := []byte("1795422931000,SYM01,187.25,100\n2026-11-23T08:15:30.123Z,SYM02,1.5,7\n1,A,1,1")
	f.Fuzz(func(t *testing.T, body []byte) { checkTiersAgree(t, body, filler) })
}

func BenchmarkCSVTunedParse(b *testing.B) {
	body := tradesBody(rand.New(rand.NewPCG(3, 4)), 10000)
	var a csvAgg
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if bad := a.aggregate(body); bad != nil {
			b.Fatal(string(bad.appendJSON(nil)))
		}
	}
}
