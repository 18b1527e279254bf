// Package ticks is the arithmetic of the grpc contract (contracts/grpc.md) that the grpc
// workload and its checker (cmd/grpc-check) share: a tick's price. A tick's payload is one
// line of arithmetic and each side writes it its own way.
package ticks

import "hash/fnv"

// Price is price(symbol, seq) of the contract; Symbol hashes the symbol once for all its
// ticks.
type Price struct{ h uint64 }

// Symbol prices the ticks of symbol: h is FNV-1a 64 of its bytes.
func Symbol(symbol string) Price {
	f := fnv.New64a()
	f.Write([]byte(symbol))
	return Price{f.Sum64()}
}

// At is the price of tick seq, in micros: a base of 10 to 999.99999 fixed by the symbol,
// moved by at most ±1 by splitmix64 of h + seq, in uint64 arithmetic that wraps. Always
// at least 9, so positive as an int64.
func (p Price) At(seq uint64) int64 {
	base := 10_000_000 + p.h%990_000_000
	z := p.h + seq + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return int64(base + z%2_000_001 - 1_000_000)
}
