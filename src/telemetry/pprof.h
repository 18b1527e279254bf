/* pprof: folded stacks (telemetry/profile.h) as a pprof profile, profile.pb.gz: the protobuf
 * of pprof's profile.proto (our subset, src/telemetry/proto/profile.proto, with upstream's
 * field numbers; encoded by protobuf-c), gzipped with zlib. What `go tool pprof`, Pyroscope and
 * Parca read.
 *
 * Two sample types, as Go's own CPU profiles: samples/count and cpu/nanoseconds (a sample's
 * count times the period, the default pprof shows); the period type cpu/nanoseconds. A
 * function per distinct frame name (name and system_name the same: perf gave it demangled),
 * and a location per function (no addresses: a folded stack has none), so that pprof's flat
 * figures are the fold's self counts. */
#ifndef SB_TELEMETRY_PPROF_H
#define SB_TELEMETRY_PPROF_H

#include <stddef.h>

#include "core/buf.h"
#include "telemetry/profile.h"

/* The gzipped profile appended to out. 0, or -1 with the reason in err. */
int pprof_encode(const prof_t *p, buf_t *out, char *err, size_t errlen);
/* The same into the file at path. 0, or -1 with the reason in err. */
int pprof_write(const prof_t *p, const char *path, char *err, size_t errlen);

#endif
