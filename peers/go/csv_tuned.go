package main

// The csv workload, tuned tier: the C service's parser and aggregator (src/codec/csv.c,
// src/serve/csv.c) by hand in Go. The answers are the idiomatic tier's and the C service's,
// byte for byte, errors included (csv_tuned_test.go runs both tiers side by side).
//
// # How a body is read
//
// None of the four field grammars allows `,`, `"`, CR or LF. So fields need no tokenizing pass
// and no unescaping: each field is read by a matcher for its own grammar, straight from the
// body, and what matters is where the matcher stops. When the byte there is the field's
// terminator (`,`, or LF or CR LF after the quantity; symbol and price may be quoted whole),
// the field is done: a record of such fields is aggregated without a byte copied or a string
// made. Everything else (an error, `""`, line ends in quotes, a field too long, the body's
// last 64 bytes) goes to csvSlowField, which finds the field's structure with a SWAR scan for
// the structural bytes (quote errors are found there) and copies the value into a small buffer
// padded with NUL bytes, where the same matcher runs and must match it whole. Matchers stop
// at a NUL as at any delimiter, so both ways accept exactly the same values. A quoted value is
// checked as it stands between its quotes: `""` leaves a `"` in it, which no grammar allows.
//
// One part of the C kernel is left out: its record fast path, which takes a record's four
// delimiters from one SSE2 mask of the 64 bytes at its start before any field is read, so
// that the four matchers do not wait for each other. Built from SWAR words it made this
// kernel slower (645 against 795 MB/s on `stackbench gen csv`, in process, one CPU), so this
// is the kernel as C runs it without SSE2 (CSV_NO_SSE2: 901 MB/s on that CPU, 1544 with it).
//
// The matchers read 8 bytes at a time and branch little: digit runs from one mask of a uint64
// (SWAR), their value from three multiplications, a price's integer and decimals in one go
// with the point taken out, the fixed part of an RFC 3339 timestamp as three words checked
// against templates. They may read up to 40 bytes from a field's start whatever the field
// holds, hence the room (csvFastRoom) they need after it.
//
// # Which error is reported, line ends and CR, header
//
// As in csv.go and src/codec/csv.c: the first error in the body; within a record each field
// is checked as it completes, left to right; a fifth field is an error as soon as it starts
// (at the `,` after the fourth, once the fourth was checked); a record of k < 4 fields fails at
// column k + 1. A line end is LF or CR LF; any other CR is data. The first record that is not
// an empty line is the header, and skipped, when it is exactly the four names, ASCII
// case-insensitive, each quoted or not, followed by a line end or the end of the body.
//
// # Numbers
//
// A price is at most 18 digits: its digits as a uint64 m and its number of decimals k give
// m / 10^k. When m <= 2^53, m and 10^k (k <= 8) are exact doubles and one IEEE division is
// correctly rounded (Clinger's fast path); larger mantissas go to strconv.ParseFloat, correctly
// rounded too. Σ price × quantity is one multiplication and one addition at a time, the
// explicit float64 conversion keeping the compiler from fusing them. The answer's numbers with
// six decimals are written from the double's exact binary value with 128-bit integer
// arithmetic, rounded half to even, as printf("%.6f") does (appendFixed6).

import (
	"encoding/binary"
	"math"
	"math/bits"
	"net/http"
	"slices"
	"strconv"
	"sync"
)

const (
	// csvFastRoom is the room a matcher may read from a field's start (a quoted timestamp
	// with nine decimals and an offset, and the terminator checks after it, stay within 40).
	csvFastRoom = 64
	// csvValueMax is above the longest value any grammar accepts, 35 bytes
	// (2026-11-23T08:15:30.123456789+05:30): a longer value is refused without a look.
	csvValueMax = 40
)

type csvTuned struct {
	body bodyLimit
	jobs sync.Pool // of *csvTunedJob
}

// csvTunedJob is what one request needs, pooled: the body, the aggregate, the answer.
type csvTunedJob struct {
	body []byte
	agg  csvAgg
	out  []byte
}

func newCSVTuned(cfg config, _ *telemetry) (contractMux, error) {
	s := &csvTuned{body: newBodyLimit(cfg.bodyLimit)}
	s.jobs.New = func() any { return new(csvTunedJob) }
	mux := newContractMux()
	mux.route("POST", "/csv", s.post)
	return mux, nil
}

func (s *csvTuned) post(w http.ResponseWriter, r *http.Request) {
	job := s.jobs.Get().(*csvTunedJob)
	defer s.jobs.Put(job)
	var ok bool
	if job.body, ok = s.body.readInto(w, r, job.body); !ok {
		return
	}
	if bad := job.agg.aggregate(job.body); bad != nil {
		job.out = bad.appendJSON(job.out[:0])
		writeJSON(w, http.StatusBadRequest, job.out)
		return
	}
	job.out = job.agg.appendJSON(job.out[:0])
	writeJSON(w, http.StatusOK, job.out)
}

// ---- 8 bytes at a time ----

// le64 is the 8 bytes at s[p:], s[p] in the low byte.
func le64(s []byte, p int) uint64 { return binary.LittleEndian.Uint64(s[p:]) }

// byteAt is v in byte i of a word.
func byteAt(i int, v byte) uint64 { return uint64(v) << (8 * i) }

// nondigits has bit 7 of each byte of w that is not an ASCII digit. b = w ^ '0' is 0..9 for a
// digit; adding 0x76 to the low 7 bits of b sets bit 7 exactly when they are above 9, and b's
// own bit 7 is set for bytes >= 0x80. No carry crosses a byte: (b & 0x7f) + 0x76 <= 0xf5.
func nondigits(w uint64) uint64 {
	b := w ^ (ones * '0')
	return (((b &^ highs) + ones*0x76) | b) & highs
}

// digitRun is the number of ASCII digits w starts with, 0..8.
func digitRun(w uint64) int { return bits.TrailingZeros64(nondigits(w)) >> 3 }

// digitsValue is the value of the first n (1..8) bytes of w, all digits. Shifting them to the
// top leaves zero bytes (leading zeros) below; then pairs, quads and octets are combined by
// multiplication.
func digitsValue(w uint64, n int) uint64 {
	v := (w & (ones * 0x0f)) << (8 * (8 - n))
	v = (v * (1 + 10<<8)) >> 8 & 0x00ff00ff00ff00ff
	v = (v * (1 + 100<<16)) >> 16 & 0x0000ffff0000ffff
	return (v * (1 + 10000<<32)) >> 32
}

// digitPairs has in each byte i 10 * d[i] + d[i+1], d being w's low nibbles: two-digit numbers
// wherever w has two digits in a row (garbage elsewhere, with no carry between bytes, as
// 10 * 15 + 15 < 256).
func digitPairs(w uint64) uint64 {
	d := w & (ones * 0x0f)
	return d*10 + d>>8
}

// pair is byte i of digitPairs' result.
func pair(t uint64, i int) uint { return uint(t>>(8*i)) & 0xff }

var (
	pow10  = [9]uint64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}
	pow10f = [9]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}
)

// ---- matchers ----
//
// Each reads one value of its grammar starting at s[p] and returns the index where the value
// ends, or -1 when s[p:] does not start with a value of the grammar. They stop at the first
// byte that cannot continue the value (a terminator, a quote, a NUL of the slow path's
// padding...): the caller checks that byte. They may read csvFastRoom bytes from p.

// mdays is the number of days in each month, February of a common year; 0 for the months
// that do not exist.
var mdays = [20]uint8{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// badDate: month 1..12, day 1..the days of the month (leap years included).
func badDate(year, month, day uint) bool {
	if day-1 < uint(mdays[month]) {
		return false
	}
	leap := year%4 == 0 && (year%100 != 0 || year%400 == 0)
	return !(month == 2 && day == 29 && leap)
}

// matchRFC3339Tail reads what follows a timestamp's seconds, at q:
// [.fraction of 1 to 9 digits](Z|+HH:MM|-HH:MM). The usual cases (a fraction of up to 7
// digits or none, then Z or an offset) take one word for the fraction's digits and one for the
// zone, whose offset form is checked whole against a template.
func matchRFC3339Tail(s []byte, q int) int {
	dot := s[q] == '.'
	n := digitRun(le64(s, q+1))
	if n < 8 && (n > 0 || !dot) {
		if dot {
			q += 1 + n
		}
		// Z, or sHH:MM with the tens of the hours at most 2 and of the minutes at most 5
		w := le64(s, q)
		if byte(w) == 'Z' {
			return q + 1
		}
		x := w ^ (byteAt(1, '0') | byteAt(2, '0') | byteAt(3, ':') | byteAt(4, '0') | byteAt(5, '0'))
		h1, h0 := uint(x>>8&0xff), uint(x>>16&0xff)
		if (byte(w) == '+' || byte(w) == '-') && h1 <= 2 && h0 <= 9 && x>>24&0xff == 0 &&
			x>>32&0xff <= 5 && x>>40&0xff <= 9 && h1*10+h0 < 24 {
			return q + 6
		}
		return -1
	}
	if dot { // eight digits or more, or none
		if n == 0 {
			return -1
		}
		if n == 8 && isDigit(s[q+9]) {
			if isDigit(s[q+10]) {
				return -1 // ten digits or more
			}
			n = 9
		}
		q += 1 + n
	}
	if s[q] == 'Z' {
		return q + 1
	}
	if s[q] != '+' && s[q] != '-' {
		return -1
	}
	if !isDigit(s[q+1]) || !isDigit(s[q+2]) || s[q+3] != ':' || !isDigit(s[q+4]) || !isDigit(s[q+5]) {
		return -1
	}
	hh := uint(s[q+1]-'0')*10 + uint(s[q+2]-'0')
	mm := uint(s[q+4]-'0')*10 + uint(s[q+5]-'0')
	if hh < 24 && mm < 60 {
		return q + 6
	}
	return -1
}

// matchRFC3339 reads YYYY-MM-DDTHH:MM:SS and the tail at s[p], which starts with 4 digits and
// '-'. w0 = "YYYY-MM-", w1 = "DDTHH:MM", w2 = "HH:MM:SS" (bytes 11..18, overlapping w1): each
// word's digits checked with one mask, its separators with another, the numbers read in
// pairs.
func matchRFC3339(s []byte, p int, w0 uint64) int {
	w1, w2 := le64(s, p+8), le64(s, p+11)
	const (
		d0 = highs &^ (0xff<<32 | 0xff<<56)
		d1 = highs &^ (0xff<<16 | 0xff<<40)
		d2 = 0x80<<48 | 0x80<<56
		m0 = 0xff<<32 | 0xff<<56
		v0 = '-'<<32 | '-'<<56
		m1 = 0xff<<16 | 0xff<<40
		v1 = 'T'<<16 | ':'<<40
		m2 = 0xff << 40
		v2 = ':' << 40
	)
	if nondigits(w0)&d0|nondigits(w1)&d1|nondigits(w2)&d2|(w0&m0^v0)|(w1&m1^v1)|(w2&m2^v2) != 0 {
		return -1
	}
	t0, t1, t2 := digitPairs(w0), digitPairs(w1), digitPairs(w2)
	month, day := pair(t0, 5), pair(t1, 0)
	if month-1 >= 12 || pair(t1, 3) >= 24 || pair(t1, 6) >= 60 || pair(t2, 6) >= 60 {
		return -1
	}
	if badDate(pair(t0, 0)*100+pair(t0, 2), month, day) {
		return -1
	}
	return matchRFC3339Tail(s, p+19)
}

// matchTimestamp: [0-9]{1,15} (epoch milliseconds) or RFC 3339. Only checked: the value is
// not used.
func matchTimestamp(s []byte, p int) int {
	w0 := le64(s, p)
	n := digitRun(w0)
	if n == 4 && s[p+4] == '-' {
		return matchRFC3339(s, p, w0)
	}
	if n < 8 {
		if n == 0 {
			return -1
		}
		return p + n
	}
	n = 8 + digitRun(le64(s, p+8))
	if n <= 15 {
		return p + n
	}
	return -1
}

// symKey is a symbol's bytes, NUL-padded to 16, as two words (bytes 0..7 and 8..15, s[p] in
// the low byte of lo). Symbols hold no NUL, so two keys are equal exactly when the symbols
// are, and comparing keys as big-endian numbers orders symbols bytewise (a shorter symbol's
// padding sorts before any byte).
type symKey struct{ lo, hi uint64 }

// symbolChar is [A-Za-z0-9._-].
var symbolChar = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	return t
}()

// matchSymbol: [A-Za-z0-9._-]{1,16}; k gets the key.
func matchSymbol(s []byte, p int, k *symKey) int {
	n := 0
	for n <= 16 && symbolChar[s[p+n]] {
		n++
	}
	if n == 0 || n > 16 {
		return -1
	}
	lo, hi := le64(s, p), le64(s, p+8)
	switch {
	case n < 8:
		lo &= 1<<(8*n) - 1
		hi = 0
	case n < 16:
		hi &= 1<<(8*(n-8)) - 1
	}
	*k = symKey{lo, hi}
	return p + n
}

// matchPrice: [0-9]{1,10}(\.[0-9]{1,8})?; price gets the nearest double.
func matchPrice(s []byte, p int, price *float64) int {
	w := le64(s, p)
	n := digitRun(w)
	if uint(n-1) < 6 && byte(w>>(8*n)) == '.' {
		// Integer and fraction in the first 8 bytes, the usual case: the point taken out (the
		// bytes above it moved down one), one digit run and one conversion read both. The top
		// byte becomes 0, so the run ends by byte 7; when it reaches it, the fraction ends
		// there only if s[p+8] is no digit, else it is read the general way below.
		low := uint64(1)<<(8*n) - 1
		c := w&low | (w>>8)&^low
		t := digitRun(c)
		if t > n && (t < 7 || !isDigit(s[p+8])) {
			*price = float64(int64(digitsValue(c, t))) / pow10f[t-n] // < 10^7: exact, one rounding
			return p + t + 1
		}
		if t == n {
			return -1 // a point and no decimals
		}
	}
	var m uint64
	var q int
	switch {
	case uint(n-1) < 7: // 1..7 digits
		m = digitsValue(w, n)
		q = p + n
	case n == 0:
		return -1
	default:
		m = digitsValue(w, 8)
		for q = p + 8; isDigit(s[q]); q++ {
			if q-p == 10 {
				return -1 // eleven digits or more
			}
			m = m*10 + uint64(s[q]-'0')
		}
	}
	k := 0
	if s[q] == '.' {
		wf := le64(s, q+1)
		k = digitRun(wf)
		if k == 0 || k == 8 && isDigit(s[q+9]) {
			return -1
		}
		m = m*pow10[k] + digitsValue(wf, k)
		q += 1 + k
	}
	if m <= 1<<53 {
		*price = float64(int64(m)) / pow10f[k]
	} else {
		*price, _ = strconv.ParseFloat(string(s[p:q]), 64) // 16 digits or more: rare
	}
	return q
}

// matchQuantity: [0-9]{1,9}, at least 1.
func matchQuantity(s []byte, p int, qty *uint64) int {
	w := le64(s, p)
	n := digitRun(w)
	var v uint64
	switch {
	case uint(n-1) < 7:
		v = digitsValue(w, n)
	case n == 0:
		return -1
	default:
		v = digitsValue(w, 8)
		if isDigit(s[p+8]) {
			if isDigit(s[p+9]) {
				return -1 // ten digits or more
			}
			v = v*10 + uint64(s[p+8]-'0')
			n = 9
		}
	}
	*qty = v
	if v == 0 {
		return -1
	}
	return p + n
}

// ---- structure: the slow path ----

// zeroBytes has bit 7 of each zero byte of y, exactly (no borrow: bit 7 of (y & 0x7f) + 0x7f
// is set when the low 7 bits are not all zero).
func zeroBytes(y uint64) uint64 { return ^((y&^highs + ones*0x7f) | y) & highs }

// findSpecial is the index of the first of , " CR LF at or after p, or len(s).
func findSpecial(s []byte, p int) int {
	for ; p+8 <= len(s); p += 8 {
		w := le64(s, p)
		if m := zeroBytes(w^(ones*',')) | zeroBytes(w^(ones*'"')) | zeroBytes(w^(ones*'\r')) |
			zeroBytes(w^(ones*'\n')); m != 0 {
			return p + bits.TrailingZeros64(m)>>3
		}
	}
	for p < len(s) && s[p] != ',' && s[p] != '"' && s[p] != '\r' && s[p] != '\n' {
		p++
	}
	return p
}

// findQuoteLF is the index of the first '"' or LF at or after p, or len(s).
func findQuoteLF(s []byte, p int) int {
	for ; p+8 <= len(s); p += 8 {
		w := le64(s, p)
		if m := zeroBytes(w^(ones*'"')) | zeroBytes(w^(ones*'\n')); m != 0 {
			return p + bits.TrailingZeros64(m)>>3
		}
	}
	for p < len(s) && s[p] != '"' && s[p] != '\n' {
		p++
	}
	return p
}

// How a field ends.
const (
	termComma = iota
	termEOL   // LF or CR LF
	termEOF
)

// csvField is one field read by csvSlowField.
type csvField struct {
	next int // just past the terminator
	term int // termComma, termEOL or termEOF
	lfs  int // LFs inside the quotes
	len  int // the value's length; over csvValueMax, the value is not copied
	// the value, then NUL bytes: room for the matchers' reads
	pad [csvValueMax + csvFastRoom]byte
}

// csvSlowField reads the field at s[p] the general way and fills f in, or returns its quote
// error (the field's own, as nothing of it has been checked yet). LFs inside a quoted field
// are counted in f.lfs, also on error.
func csvSlowField(s []byte, p int, f *csvField) string {
	v, q := p, p
	end := len(s)
	f.lfs = 0
	if p < end && s[p] == '"' {
		v, q = p+1, p+1
		for {
			q = findQuoteLF(s, q)
			if q == end {
				return reasonUnterminatedQuote
			}
			if s[q] == '\n' {
				f.lfs++
				q++
			} else if q+1 < end && s[q+1] == '"' {
				q += 2 // "" is a quote in the value
			} else {
				break
			}
		}
		f.len = q - v
		q++ // the closing quote
		switch {
		case q == end:
			f.term, f.next = termEOF, end
		case s[q] == ',':
			f.term, f.next = termComma, q+1
		case s[q] == '\n':
			f.term, f.next = termEOL, q+1
		case s[q] == '\r' && q+1 < end && s[q+1] == '\n':
			f.term, f.next = termEOL, q+2
		default:
			return reasonBareQuote
		}
	} else {
		for {
			q = findSpecial(s, q)
			if q == end {
				f.term, f.next = termEOF, end
				break
			}
			if s[q] == ',' {
				f.term, f.next = termComma, q+1
				break
			}
			if s[q] == '\n' {
				f.term, f.next = termEOL, q+1
				break
			}
			if s[q] == '"' {
				return reasonBareQuote
			}
			if q+1 < end && s[q+1] == '\n' { // CR LF
				f.term, f.next = termEOL, q+2
				break
			}
			q++ // a CR alone is data
		}
		f.len = q - v
	}
	f.pad = [len(f.pad)]byte{}
	if f.len <= csvValueMax {
		copy(f.pad[:], s[v:v+f.len])
	}
	return ""
}

// ---- header ----

// skipHeader is where the next record starts when the record at s[p] (not an empty line) is
// the header, with line counted; p otherwise.
func skipHeader(s []byte, p int, line *int) int {
	q := p
	end := len(s)
	for k, name := range headerNames {
		quoted := q < end && s[q] == '"'
		if quoted {
			q++
		}
		if end-q < len(name) {
			return p
		}
		for i := range len(name) {
			if s[q+i]|0x20 != name[i] { // the names are lower-case letters
				return p
			}
		}
		q += len(name)
		if quoted {
			if q == end || s[q] != '"' {
				return p
			}
			q++
		}
		if k < 3 {
			if q == end || s[q] != ',' {
				return p
			}
			q++
		}
	}
	switch {
	case q == end:
		return q
	case s[q] == '\n':
		*line++
		return q + 1
	case s[q] == '\r' && q+1 < end && s[q+1] == '\n':
		*line++
		return q + 2
	}
	return p
}

// ---- the symbol table ----

// csvSym is one symbol's trades.
type csvSym struct {
	key      symKey
	count    uint64
	quantity uint64
	minPrice float64
	maxPrice float64
	sumPQ    float64 // Σ price × quantity, in body order
}

// csvAgg is the aggregate of a body: the symbols in order of first appearance and an
// open-addressing hash index of them. Its memory is kept from one body to the next.
type csvAgg struct {
	rows  uint64
	syms  []csvSym
	index []uint32 // syms index + 1, 0 for an empty slot; a power of two long
	order []*csvSym
}

// csvIndexMin is the index's first size: the 50-odd symbols of a typical body fill a fifth of
// it, so most lookups find their symbol in the first slot.
const csvIndexMin = 256

// hash is the key's hash; the index is taken from its top bits, which depend on every bit of
// the multiplicands.
func (k symKey) hash() uint64 { return k.lo*0x9E3779B97F4A7C15 ^ k.hi*0xD6E8FEB86659FD93 }

func indexShift(size int) uint { return 64 - uint(bits.TrailingZeros(uint(size))) }

// reset empties a, its memory kept.
func (a *csvAgg) reset() {
	if a.index == nil {
		a.index = make([]uint32, csvIndexMin)
	} else if len(a.index) > 4096 && len(a.syms)*16 < len(a.index) {
		// A table grown by an earlier body with many symbols, mostly empty: clear the slots
		// in use rather than the whole table. Slots already cleared are walked over (each
		// symbol's slot lies on its probe path, which cannot stop at them).
		mask := len(a.index) - 1
		shift := indexShift(len(a.index))
		for j := range a.syms {
			i := int(a.syms[j].key.hash() >> shift)
			for a.index[i] != uint32(j+1) {
				i = (i + 1) & mask
			}
			a.index[i] = 0
		}
	} else {
		clear(a.index)
	}
	a.rows = 0
	a.syms = a.syms[:0]
}

// insert adds a new symbol with its first trade at slot, growing the index at 50% load.
func (a *csvAgg) insert(slot int, k symKey, price float64, qty uint64) {
	if (len(a.syms)+1)*2 > len(a.index) {
		idx := make([]uint32, 2*len(a.index))
		mask := len(idx) - 1
		shift := indexShift(len(idx))
		for j := range a.syms {
			i := int(a.syms[j].key.hash() >> shift)
			for idx[i] != 0 {
				i = (i + 1) & mask
			}
			idx[i] = uint32(j + 1)
		}
		a.index = idx
		slot = int(k.hash() >> shift)
		for idx[slot] != 0 {
			slot = (slot + 1) & mask
		}
	}
	a.syms = append(a.syms, csvSym{key: k, count: 1, quantity: qty, minPrice: price, maxPrice: price,
		sumPQ: float64(price * float64(qty))})
	a.index[slot] = uint32(len(a.syms))
}

// add adds one trade.
func (a *csvAgg) add(k symKey, price float64, qty uint64) {
	a.rows++
	mask := len(a.index) - 1
	for i := int(k.hash() >> indexShift(len(a.index))); ; i = (i + 1) & mask {
		j := a.index[i]
		if j == 0 {
			a.insert(i, k, price, qty)
			return
		}
		if e := &a.syms[j-1]; e.key == k {
			e.count++
			e.quantity += qty
			e.minPrice = min(e.minPrice, price)
			e.maxPrice = max(e.maxPrice, price)
			// One multiplication rounded to float64, then one addition: no fused multiply-add.
			e.sumPQ += float64(price * float64(qty))
			return
		}
	}
}

// ---- the body ----

// csvRecord is one record read field by field.
type csvRecord struct {
	key    symKey
	price  float64
	qty    uint64
	line   int    // in: the record's line; out: the next record's (LFs in quotes counted)
	col    int    // on error: the field at fault
	reason string // on error: why
}

// careful reads the record at s[p], each field by its own matcher (unquoted, or quoted with
// nothing special inside) when csvFastRoom bytes remain, else by csvSlowField. It returns
// where the next record starts, or -1 with r.col and r.reason set.
func (r *csvRecord) careful(s []byte, p int, f *csvField) int {
	end := len(s)
	var q int

	// 1: timestamp
	r.col = 1
	if end-p >= csvFastRoom {
		if q = matchTimestamp(s, p); q >= 0 && s[q] == ',' {
			p = q + 1
			goto symbol
		}
		if s[p] == '"' {
			if q = matchTimestamp(s, p+1); q >= 0 && s[q] == '"' && s[q+1] == ',' {
				p = q + 2
				goto symbol
			}
		}
	}
	if r.reason = csvSlowField(s, p, f); r.reason != "" {
		return -1
	}
	r.line += f.lfs
	if f.len > csvValueMax || matchTimestamp(f.pad[:], 0) != f.len {
		r.reason = reasonBadTimestamp
		return -1
	}
	if f.term != termComma {
		return r.tooFew()
	}
	p = f.next

symbol:
	r.col = 2
	if end-p >= csvFastRoom {
		if q = matchSymbol(s, p, &r.key); q >= 0 && s[q] == ',' {
			p = q + 1
			goto price
		}
		if s[p] == '"' {
			if q = matchSymbol(s, p+1, &r.key); q >= 0 && s[q] == '"' && s[q+1] == ',' {
				p = q + 2
				goto price
			}
		}
	}
	if r.reason = csvSlowField(s, p, f); r.reason != "" {
		return -1
	}
	r.line += f.lfs
	if f.len > csvValueMax || matchSymbol(f.pad[:], 0, &r.key) != f.len {
		r.reason = reasonBadSymbol
		return -1
	}
	if f.term != termComma {
		return r.tooFew()
	}
	p = f.next

price:
	r.col = 3
	if end-p >= csvFastRoom {
		if q = matchPrice(s, p, &r.price); q >= 0 && s[q] == ',' {
			p = q + 1
			goto quantity
		}
		if s[p] == '"' {
			if q = matchPrice(s, p+1, &r.price); q >= 0 && s[q] == '"' && s[q+1] == ',' {
				p = q + 2
				goto quantity
			}
		}
	}
	if r.reason = csvSlowField(s, p, f); r.reason != "" {
		return -1
	}
	r.line += f.lfs
	if f.len > csvValueMax || matchPrice(f.pad[:], 0, &r.price) != f.len {
		r.reason = reasonBadPrice
		return -1
	}
	if f.term != termComma {
		return r.tooFew()
	}
	p = f.next

quantity:
	r.col = 4
	if end-p >= csvFastRoom {
		q = matchQuantity(s, p, &r.qty)
		if q < 0 && s[p] == '"' {
			if u := matchQuantity(s, p+1, &r.qty); u >= 0 && s[u] == '"' {
				q = u + 1
			}
		}
		if q >= 0 {
			if s[q] == '\n' {
				r.line++
				return q + 1
			}
			if s[q] == '\r' && s[q+1] == '\n' {
				r.line++
				return q + 2
			}
		}
	}
	if r.reason = csvSlowField(s, p, f); r.reason != "" {
		return -1
	}
	r.line += f.lfs
	if f.len > csvValueMax || matchQuantity(f.pad[:], 0, &r.qty) != f.len {
		r.reason = reasonBadQuantity
		return -1
	}
	if f.term == termComma { // a fifth field starts
		r.col, r.reason = 5, reasonWrongFieldCount
		return -1
	}
	if f.term == termEOL {
		r.line++
	}
	return f.next
}

// tooFew: the record ended after r.col fields, the first one missing is at fault.
func (r *csvRecord) tooFew() int {
	r.col++
	r.reason = reasonWrongFieldCount
	return -1
}

// aggregate parses body and adds every trade to a, which it resets first, or returns the
// body's first error.
func (a *csvAgg) aggregate(body []byte) *invalidCSV {
	a.reset()
	s := body
	p, end := 0, len(s)
	line := 1

	// empty lines, then the header maybe
	for p < end {
		if s[p] == '\n' {
			line++
			p++
		} else if s[p] == '\r' && end-p >= 2 && s[p+1] == '\n' {
			line++
			p += 2
		} else {
			break
		}
	}
	p = skipHeader(s, p, &line)

	var f csvField
	var r csvRecord
	for p < end {
		if s[p] <= '\r' { // one compare for LF and CR
			if s[p] == '\n' {
				line++
				p++
				continue
			}
			if s[p] == '\r' && end-p >= 2 && s[p+1] == '\n' {
				line++
				p += 2
				continue
			}
		}
		r.line = line
		next := r.careful(s, p, &f)
		if next < 0 {
			return &invalidCSV{line, r.col, r.reason} // line: where the record starts
		}
		p, line = next, r.line
		a.add(r.key, r.price, r.qty)
	}
	return nil
}

// ---- the answer ----

// appendFixed6 appends v with exactly six decimals, as printf("%.6f") writes it: v = m × 2^e
// exactly, so v × 10^6 = m × 10^6 × 2^e, an integer (m × 10^6 < 2^73) shifted right by -e,
// rounded half to even on the bits shifted out. Values printf would write with more than 18
// digits, and negative ones, NaN and infinities, are left to strconv (correctly rounded too).
func appendFixed6(b []byte, v float64) []byte {
	fb := math.Float64bits(v)
	if !(v >= 0 && v < 1e12) || fb>>63 != 0 {
		return strconv.AppendFloat(b, v, 'f', 6, 64)
	}
	m := fb & (1<<52 - 1)
	shift := uint(1074) // v < 2^40: the shift is at least 13
	if be := uint(fb >> 52); be != 0 {
		shift = 1075 - be
		m |= 1 << 52
	}
	hi, lo := bits.Mul64(m, 1000000)
	var x uint64
	if shift < 128 { // below 2^-55, v rounds to 0
		var remHi, remLo, halfHi, halfLo uint64
		if shift < 64 {
			x = lo>>shift | hi<<(64-shift)
			remLo, halfLo = lo&(1<<shift-1), 1<<(shift-1)
		} else {
			x = hi >> (shift - 64)
			remHi, remLo = hi&(1<<(shift-64)-1), lo
			if shift == 64 {
				halfLo = 1 << 63
			} else {
				halfHi = 1 << (shift - 65)
			}
		}
		if remHi > halfHi || remHi == halfHi && (remLo > halfLo || remLo == halfLo && x&1 == 1) {
			x++
		}
	}
	// x < 10^18 + 1: the integer part, the point, six digits
	b = strconv.AppendUint(b, x/1000000, 10)
	frac := x % 1000000
	b = append(b, '.', 0, 0, 0, 0, 0, 0)
	for i := len(b) - 1; i >= len(b)-6; i-- {
		b[i] = byte('0' + frac%10)
		frac /= 10
	}
	return b
}

// appendSymbol appends a key's symbol: its bytes up to the first NUL.
func appendSymbol(b []byte, k symKey) []byte {
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[:8], k.lo)
	binary.LittleEndian.PutUint64(raw[8:], k.hi)
	n := 0
	for n < 16 && raw[n] != 0 {
		n++
	}
	return append(b, raw[:n]...)
}

// appendJSON appends the answer: {"rows":N,"symbols":[...]}, symbols sorted bytewise, no
// white space, prices and vwap with exactly 6 decimals.
func (a *csvAgg) appendJSON(b []byte) []byte {
	a.order = a.order[:0]
	for i := range a.syms {
		a.order = append(a.order, &a.syms[i])
	}
	slices.SortFunc(a.order, func(x, y *csvSym) int {
		x0, y0 := bits.ReverseBytes64(x.key.lo), bits.ReverseBytes64(y.key.lo)
		if x0 != y0 {
			if x0 < y0 {
				return -1
			}
			return 1
		}
		x1, y1 := bits.ReverseBytes64(x.key.hi), bits.ReverseBytes64(y.key.hi)
		switch {
		case x1 < y1:
			return -1
		case x1 > y1:
			return 1
		}
		return 0
	})
	b = append(b, `{"rows":`...)
	b = strconv.AppendUint(b, a.rows, 10)
	b = append(b, `,"symbols":[`...)
	for i, e := range a.order {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"symbol":"`...)
		b = appendSymbol(b, e.key) // [A-Za-z0-9._-]: nothing to escape
		b = append(b, `","count":`...)
		b = strconv.AppendUint(b, e.count, 10)
		b = append(b, `,"quantity":`...)
		b = strconv.AppendUint(b, e.quantity, 10)
		b = append(b, `,"min_price":`...)
		b = appendFixed6(b, e.minPrice)
		b = append(b, `,"max_price":`...)
		b = appendFixed6(b, e.maxPrice)
		b = append(b, `,"vwap":`...)
		b = appendFixed6(b, e.sumPQ/float64(e.quantity))
		b = append(b, '}')
	}
	return append(b, "]}"...)
}
