#!/usr/bin/env bash
# Installs what stackbench needs to build, test and benchmark, from Debian's packages.
# Idempotent and quiet: when everything is there it prints nothing and exits 0.
#   scripts/install.sh          what the build, the tests, the peers and `stackbench run` need
#   scripts/install.sh --bench  that, and the anchors only the benchmarks run (ghz: `make bench`)
#   scripts/install.sh --check  only report what is missing (exit 1 if anything is)
set -euo pipefail

# build + tests: compiler, sanitizers, libFuzzer runtime (clang), curl for smoke checks
pkgs_build=(build-essential pkg-config clang llvm libclang-rt-14-dev curl ca-certificates)
# libraries the services use (HTTP/2, PostgreSQL, protobuf, io_uring, CSV for csv's idiomatic tier)
# and the decision's input files (YAML), zlib for the gzip of pprof profiles; libprotobuf-dev for descriptor.proto, from which the
# build generates the reader of the FileDescriptorSets protoc makes of a user's .proto
# (src/codec/pbjson.c), and for the well-known types (google/protobuf/*.proto) such files import
pkgs_libs=(libnghttp2-dev libpq-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler liburing-dev
           libcsv-dev libyaml-dev libprotobuf-dev zlib1g-dev)
# the lab's throwaway database and the reference tools the benchmarks compare against
pkgs_tools=(postgresql wrk nghttp2-client nginx-light util-linux procps time)
# CPU profiles (stackbench profile, run --profile: docs/profile.md)
pkgs_tools+=(linux-perf)
# the browser the report's test opens report.html in, headless (tests/integration/test_report.c)
pkgs_browser=(chromium)

missing=()
for p in "${pkgs_build[@]}" "${pkgs_libs[@]}" "${pkgs_tools[@]}" "${pkgs_browser[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
# Go and Rust toolchains for the peers: use the ones on PATH, else Debian's.
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || missing+=(golang-go)
command -v cargo >/dev/null 2>&1 || [ -x "$HOME/.cargo/bin/cargo" ] || missing+=(cargo)

# Go programs used as validators and anchors, pinned by the modules in scripts/tools (go.mod,
# go.sum) and built into .tools/bin: h2spec and grpcurl (tests/integration/test_grpc.c), ghz
# (bench/), promtool (`promtool check metrics` on every service's /metrics:
# tests/integration/test_metrics.c), otelcol (below). ghz, promtool and otelcol have modules of their own, so that their
# dependencies do not move the others'. They are built after the Debian packages, which bring
# Go when it is missing. A fourth field is the build's tags: promtool is built without
# Prometheus's service discovery plugins (its own remove_all_sd tag; `check metrics` does not use
# them), 3.0 minutes of CPU instead of 7.9 from empty caches (measured 2026-12-02).
root=$(cd "$(dirname "$0")/.." && pwd)
tools_bin="$root/.tools/bin"
# otelcol (tests/integration/test_traces.c) is our own build of the OpenTelemetry Collector,
# the OTLP receiver and the file exporter only (scripts/tools/otelcol/main.go, collector
# v0.165.0, contrib v0.165.1), 54 MB. Its build is the longest of these: from an empty Go build
# cache 240 s of CPU and 800 MiB of memory (8.5 minutes on 2 CPUs shared with other builds;
# measured 2026-12-02), 120 s of CPU when the standard library is already built, the module
# downloads (about 150 modules) on top.
go_tools=(h2spec:scripts/tools:github.com/summerwind/h2spec/cmd/h2spec
          grpcurl:scripts/tools:github.com/fullstorydev/grpcurl/cmd/grpcurl
          promtool:scripts/tools/promtool:github.com/prometheus/prometheus/cmd/promtool:remove_all_sd
          otelcol:scripts/tools/otelcol:.)
# ghz is bench/'s alone (bench/grpc_load.sh): built with --bench only, which saves `make check`
# and `make run` its build (about 2 minutes of CPU from an empty Go build cache).
[ "${1:-}" = "--bench" ] && go_tools+=(ghz:scripts/tools/ghz:github.com/bojand/ghz/cmd/ghz)
missing_tools=()
for t in "${go_tools[@]}"; do
    # Rebuilt when its module's go.sum is newer than the binary (a version changed).
    name=${t%%:*} rest=${t#*:}; mod=${rest%%:*}
    if [ ! -x "$tools_bin/$name" ] || [ "$root/$mod/go.sum" -nt "$tools_bin/$name" ]; then
        missing_tools+=("$t")
    fi
done

if [ "${1:-}" = "--check" ]; then
    [ ${#missing[@]} -eq 0 ] && [ ${#missing_tools[@]} -eq 0 ] && exit 0
    echo "missing: ${missing[*]} ${missing_tools[*]%%:*}" >&2
    exit 1
fi

build_tools() {
    [ ${#missing_tools[@]} -eq 0 ] && return 0
    local go
    go=$(command -v go || echo /usr/local/go/bin/go)
    mkdir -p "$tools_bin"
    for t in "${missing_tools[@]}"; do
        local name=${t%%:*} rest=${t#*:}
        local mod=${rest%%:*} pkg=${rest#*:} tags=""
        # NAME:MODULE:PACKAGE[:TAGS]
        if [ "${pkg#*:}" != "$pkg" ]; then tags=${pkg#*:}; pkg=${pkg%%:*}; fi
        echo "install: $name (go install $pkg, pinned by $mod/go.mod)" >&2
        (cd "$root/$mod" && GOBIN="$tools_bin" "$go" install ${tags:+-tags "$tags"} "$pkg")
        touch "$tools_bin/$name"
    done
}
if [ ${#missing[@]} -eq 0 ]; then
    build_tools
    exit 0
fi

echo "install: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts nginx and a PostgreSQL cluster on install; stackbench runs its own instances only.
for svc in nginx postgresql; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
        $sudo systemctl stop "$svc" >/dev/null 2>&1 || true
    fi
done
$sudo service nginx stop >/dev/null 2>&1 || true
$sudo service postgresql stop >/dev/null 2>&1 || true
build_tools
echo "install: done" >&2
