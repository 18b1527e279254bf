package ticks

import "testing"

// TestPriceExamples: the examples contracts/grpc.md gives.
func TestPriceExamples(t *testing.T) {
	cases := []struct {
		symbol string
		seq    uint64
		want   int64
	}{
		{"AAPL", 0, 45295362},
		{"AAPL", 1, 46135581},
		{"AAPL", 2, 46784881},
		{"MSFT", 1, 431584221},
		{"BRK.B", 3, 704101619},
	}
	for _, c := range cases {
		if got := Symbol(c.symbol).At(c.seq); got != c.want {
			t.Errorf("price(%q, %d) = %d, want %d", c.symbol, c.seq, got, c.want)
		}
	}
}

// TestPriceStaysInItsBand: within ±1 of the symbol's base for any seq, the wrapping ones
// included.
func TestPriceStaysInItsBand(t *testing.T) {
	p := Symbol("ZZZZZZZZZZZZ")
	base := int64(10_000_000 + p.h%990_000_000)
	for _, seq := range []uint64{0, 1, 1_000_000, 1<<63 - 1, 1 << 63, ^uint64(0) - p.h, ^uint64(0)} {
		if got := p.At(seq); got < base-1_000_000 || got > base+1_000_000 {
			t.Errorf("At(%d) = %d, outside %d ± 1000000", seq, got, base)
		}
	}
}
