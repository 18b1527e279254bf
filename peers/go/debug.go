package main

// GET /debug/gc-pauses, on every workload: the Go runtime's own record of its stop-the-world
// GC pauses, so that the lab measures them rather than assumes them. Not in any contract and
// not on the measured path: the lab reads it before and after a run and takes the pause
// percentiles and maximum from the difference of the counts.
//
//	{"buckets":[null,0,1e-09,...,null],"counts":[0,3,...],"gc_cycles":N}
//
// buckets and counts are runtime/metrics' /sched/pauses/total/gc:seconds Float64Histogram as
// it is: counts[i] pauses took from buckets[i] to buckets[i+1] seconds, so buckets has one
// boundary more than counts; the first and last boundaries may be -Inf and +Inf, which JSON
// cannot write: they are null. gc_cycles is /gc/cycles/total:gc-cycles, the GC cycles
// completed since the process started.

import (
	"math"
	"net/http"
	"runtime/metrics"
	"strconv"
)

const (
	metricGCPauses = "/sched/pauses/total/gc:seconds"
	metricGCCycles = "/gc/cycles/total:gc-cycles"
)

// appendGCPauses appends the answer of GET /debug/gc-pauses.
func appendGCPauses(b []byte) []byte {
	samples := []metrics.Sample{{Name: metricGCPauses}, {Name: metricGCCycles}}
	metrics.Read(samples)
	b = append(b, `{"buckets":[`...)
	var counts []uint64
	if samples[0].Value.Kind() == metrics.KindFloat64Histogram {
		h := samples[0].Value.Float64Histogram()
		for i, edge := range h.Buckets {
			if i > 0 {
				b = append(b, ',')
			}
			if math.IsInf(edge, 0) {
				b = append(b, "null"...)
			} else {
				b = strconv.AppendFloat(b, edge, 'g', -1, 64)
			}
		}
		counts = h.Counts
	}
	b = append(b, `],"counts":[`...)
	for i, n := range counts {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, n, 10)
	}
	b = append(b, `],"gc_cycles":`...)
	var cycles uint64
	if samples[1].Value.Kind() == metrics.KindUint64 {
		cycles = samples[1].Value.Uint64()
	}
	b = strconv.AppendUint(b, cycles, 10)
	return append(b, '}')
}

func gcPauses(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, appendGCPauses(make([]byte, 0, 8<<10)))
}
