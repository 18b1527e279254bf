package main

import (
	"encoding/json"
	"net/http"
	"runtime"
	"testing"
)

func TestGCPauses(t *testing.T) {
	for name, wl := range workloads {
		switch name {
		case "sql":
			continue // needs a database to start; its routes are the same mux
		case "grpc":
			continue // gRPC only: no HTTP/1.1 route at all
		}
		for tier := range wl.tiers {
			handler := workloadHandler(t, name, config{bodyLimit: 1 << 20, tier: tier})
			ts := startTestServer(t, handler, requestTimeout)
			read := func() (buckets []*float64, counts []uint64, cycles uint64) {
				t.Helper()
				got := do(t, "GET", ts.URL+"/debug/gc-pauses", "")
				var v struct {
					Buckets  []*float64 `json:"buckets"`
					Counts   []uint64   `json:"counts"`
					GCCycles *uint64    `json:"gc_cycles"`
				}
				if got.status != http.StatusOK || json.Unmarshal([]byte(got.body), &v) != nil || v.GCCycles == nil {
					t.Fatalf("%s %s: %d %s", name, tier, got.status, got.body)
				}
				return v.Buckets, v.Counts, *v.GCCycles
			}
			b0, c0, n0 := read()
			runtime.GC()
			runtime.GC()
			b1, c1, n1 := read()
			if len(b0) != len(c0)+1 || len(b1) != len(b0) || len(c1) != len(c0) {
				t.Fatalf("%s %s: %d buckets, %d counts; then %d and %d", name, tier, len(b0), len(c0), len(b1), len(c1))
			}
			for i := 1; i < len(b0)-1; i++ { // the ends may be null (±Inf)
				if b0[i] == nil || (i > 1 && *b0[i] <= *b0[i-1]) {
					t.Fatalf("%s %s: bucket boundary %d not finite and increasing", name, tier, i)
				}
			}
			var more uint64
			for i := range c0 {
				more += c1[i] - c0[i]
			}
			if n1 < n0+2 || more < 2*2 { // two stop-the-world pauses per cycle
				t.Errorf("%s %s: after two GCs, %d more cycles and %d more pauses", name, tier, n1-n0, more)
			}
			if got := do(t, "POST", ts.URL+"/debug/gc-pauses", ""); got.status != 405 || got.allow != "GET" {
				t.Errorf("%s %s: POST answered %d (Allow %q)", name, tier, got.status, got.allow)
			}
		}
	}
}
