# stackbench build. `make` builds ./stackbench and its man page ./stackbench.1; `make test`
# runs every test; `make sanitize` runs the same tests built with AddressSanitizer +
# UndefinedBehaviorSanitizer; `make fuzz` runs each libFuzzer target for FUZZ_SECONDS (`make
# fuzz-long`, by hand, for FUZZ_RUNS executions each);
# `make peers` builds the Go and Rust peers.
CC      ?= cc
BUILD   ?= build
CFLAGS  ?= -O2 -g
SAN     ?=
VERSION := 0.1.0
ALL_CFLAGS = $(CFLAGS) $(SAN) -std=gnu11 -Wall -Wextra -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers \
             -D_GNU_SOURCE -Isrc -MMD -MP -DSB_VERSION='"$(VERSION)"' -DSB_CC='"$(CC_VERSION)"' \
             -I$(PG_INCLUDE) -I$(BUILD)/gen
CC_VERSION := $(shell $(CC) --version | head -n 1)
LDLIBS  += -lpthread -lm
# libpq: the sql service and the lab's PostgreSQL (src/lab/pg.c, docs/POSTGRES.md). Its headers at
# build time; the library itself is opened with dlopen on first use (src/core/pq.h).
PG_INCLUDE := $(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
LDLIBS  += -ldl
# libcsv: the csv service's idiomatic tier (src/serve/csv_idiomatic.c). Linked, not opened with
# dlopen: its pages add 16 kB to the 2.4 MB VmRSS of `serve echo --workers 1`.
LDLIBS  += -lcsv
# libyaml: the decision's input files (src/codec/yaml.c reads profile, prices and mesh with it).
LDLIBS  += -lyaml
# nghttp2 (HTTP/2) and protobuf-c (messages generated at build time from contracts/grpc/*.proto
# by protoc-c into $(BUILD)/gen): the grpc service (src/serve/h2.c, src/serve/grpc.c).
# descriptor.proto (libprotobuf-dev) is generated the same way: codec/pbjson reads the
# FileDescriptorSet protoc makes of a user's .proto with it.
LDLIBS  += -lnghttp2 -lprotobuf-c
PROTOS  := $(wildcard contracts/grpc/*.proto)
# The telemetry's own messages (src/telemetry/proto), our subsets with upstream's packages and
# field numbers: opentelemetry-proto's trace export (telemetry/otlp.c) and pprof's profile.proto
# (telemetry/pprof.c, gzipped with zlib).
TELEMETRY_PROTOS := $(wildcard src/telemetry/proto/*.proto)
DESCRIPTOR_PROTO := /usr/include/google/protobuf/descriptor.proto
LDLIBS  += -lz
PB_C    := $(patsubst contracts/grpc/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS)) $(BUILD)/gen/descriptor.pb-c.c \
           $(patsubst src/telemetry/proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(TELEMETRY_PROTOS))
PB_H    := $(PB_C:.c=.h)

SRC      := $(shell find src -name '*.c' | sort)
LIB_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(filter-out src/main.c,$(SRC))) $(BUILD)/gen/contracts.o \
            $(PB_C:.c=.o)
CASES    := $(sort $(wildcard contracts/*/*.case))
UNIT     := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_*.c))
INTEG    := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(wildcard tests/integration/test_*.c))
TESTLIB  := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/lib/*.c))
TOOLS    := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(wildcard tests/tools/*.c))
FUZZ_SECONDS ?= 10
PEER_TESTS   ?= 1

.PHONY: all man test sanitize fuzz fuzz-build fuzz-long peers clean bench install-deps run check
all: stackbench man

stackbench: $(BUILD)/stackbench
	@if [ "$(BUILD)" = build ]; then ln -sf $(BUILD)/stackbench stackbench; fi

$(BUILD)/stackbench: $(BUILD)/src/main.o $(BUILD)/libstackbench.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The man page stackbench(1), made from the binary's help texts so that the two cannot
# disagree (`man ./stackbench.1`; tests/integration/test_docs.c compares them).
man: $(BUILD)/stackbench.1
	@if [ "$(BUILD)" = build ]; then ln -sf $(BUILD)/stackbench.1 stackbench.1; fi

$(BUILD)/stackbench.1: $(BUILD)/stackbench scripts/man.sh
	scripts/man.sh $(BUILD)/stackbench > $@.tmp && mv $@.tmp $@

$(BUILD)/libstackbench.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/gen/contracts.c: $(CASES) $(wildcard contracts/*/*.sql) $(wildcard examples/*.yaml) \
                          scripts/embed_contracts.sh
	@mkdir -p $(dir $@)
	scripts/embed_contracts.sh $@

$(BUILD)/gen/contracts.o: $(BUILD)/gen/contracts.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: contracts/grpc/%.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen -Icontracts/grpc $<

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: src/telemetry/proto/%.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen -Isrc/telemetry/proto $<

# One run makes both files (&: a grouped target), so that -j2 does not run protoc-c twice.
$(BUILD)/gen/descriptor.pb-c.c $(BUILD)/gen/descriptor.pb-c.h &: $(DESCRIPTOR_PROTO)
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen -I$(dir $<) $<
$(DESCRIPTOR_PROTO):
	@echo "$@: missing (Debian's libprotobuf-dev; scripts/install.sh installs it)" >&2; exit 1

$(BUILD)/gen/%.pb-c.o: $(BUILD)/gen/%.pb-c.c
	$(CC) $(ALL_CFLAGS) -Wno-unused-parameter -c -o $@ $<

# What includes the generated headers waits for them.
$(patsubst %.c,$(BUILD)/%.o,$(SRC)) $(BUILD)/tests/unit/test_grpc.o \
    $(BUILD)/tests/unit/test_contract.o $(BUILD)/tests/unit/test_pbjson.o \
    $(BUILD)/tests/unit/test_message.o $(BUILD)/tests/unit/test_trace.o $(BUILD)/tests/unit/test_pprof.o \
    $(BUILD)/tests/integration/test_traces.o: | $(PB_H)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The tests see src/ and their own headers; src/ never sees tests/.
$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -Itests/lib -c -o $@ $<

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(TESTLIB) $(BUILD)/libstackbench.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/integration/%: $(BUILD)/tests/integration/%.o $(TESTLIB) $(BUILD)/libstackbench.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(BUILD)/libstackbench.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests-build: $(BUILD)/stackbench $(BUILD)/stackbench.1 $(UNIT) $(INTEG) $(TOOLS)

test: tests-build peers
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) PEER_TESTS=$(PEER_TESTS) tests/run.sh

sanitize:
	$(MAKE) BUILD=build/san CFLAGS='-O1 -g -fno-omit-frame-pointer' \
	    SAN='-fsanitize=address,undefined -fno-sanitize-recover=undefined' FUZZ_SECONDS=0 \
	    PEER_TESTS=0 test

# libFuzzer targets: tests/fuzz/fuzz_X.c, built with clang, run from their kept corpus.
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_LIB_SRC := $(filter-out src/main.c,$(SRC)) build/gen/contracts.c \
                $(patsubst contracts/grpc/%.proto,build/gen/%.pb-c.c,$(PROTOS)) build/gen/descriptor.pb-c.c \
                $(patsubst src/telemetry/proto/%.proto,build/gen/%.pb-c.c,$(TELEMETRY_PROTOS))
# The library is compiled once for every target, with the fuzzer's coverage instrumentation
# but without its main (-fsanitize=fuzzer-no-link); each target links it with its own file.
# Compiling the whole library into each target took 13 times as long (about a minute a target
# on 2 CPUs).
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc -Ibuild/gen -I$(PG_INCLUDE) \
               -DSB_VERSION='"$(VERSION)"'
FUZZ_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(FUZZ_LIB_SRC))
build/fuzz/obj/%.o: %.c | $(patsubst %.c,%.h,$(filter build/gen/%.pb-c.c,$(FUZZ_LIB_SRC)))
	@mkdir -p $(dir $@)
	@clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c -o $@ $<
build/fuzz/libfuzzlib.a: $(FUZZ_OBJ)
	@rm -f $@
	@ar rcs $@ $^
build/fuzz/%: tests/fuzz/%.c build/fuzz/libfuzzlib.a
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< build/fuzz/libfuzzlib.a \
	    -lpthread -lm -ldl -lcsv -lyaml -lnghttp2 -lprotobuf-c -lz

fuzz-build: $(FUZZ_TARGETS)
fuzz: fuzz-build
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_ONLY=1 tests/run.sh

# Long fuzzing, run by hand (the tests run `make fuzz`'s short one): each target for FUZZ_RUNS
# executions from its kept corpus, one after the other. As in tests/run.sh the new inputs a
# target finds go to a scratch folder, $(BUILD)/fuzz-long/NAME (kept after the run), and an
# input that fails to $(BUILD)/fuzz-long/artifacts; each run's output is in
# $(BUILD)/fuzz-long/NAME.log. Ends with one line per target: executions, coverage (the last
# cov: of libFuzzer, from its final line) and seconds; exit status 1 when a target failed.
#
# What a run found is kept by merging it into the kept corpus: -merge=1 copies into the first
# folder only the inputs of the others that add coverage.
#     build/fuzz/fuzz_X -merge=1 tests/fuzz/corpus/fuzz_X build/fuzz-long/fuzz_X
# To minimise the kept corpus itself, merge it into an empty folder and take that instead:
#     mkdir /tmp/min && build/fuzz/fuzz_X -merge=1 /tmp/min tests/fuzz/corpus/fuzz_X \
#         && rm -r tests/fuzz/corpus/fuzz_X && mv /tmp/min tests/fuzz/corpus/fuzz_X
# An input that failed is never merged: it stays out of the corpus until the bug is fixed.
FUZZ_RUNS ?= 10000000
fuzz-long: fuzz-build
	@out=$(BUILD)/fuzz-long; mkdir -p $$out/artifacts; : > $$out/summary; failed=0; \
	export ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}; \
	export UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}; \
	for bin in $(FUZZ_TARGETS); do \
	    name=$${bin##*/}; mkdir -p $$out/$$name; \
	    echo "== $$name ($(FUZZ_RUNS) runs)"; \
	    start=$$(date +%s); \
	    if $$bin -runs=$(FUZZ_RUNS) -print_final_stats=1 -artifact_prefix=$$out/artifacts/$$name- \
	            $$out/$$name tests/fuzz/corpus/$$name > $$out/$$name.log 2>&1; then \
	        status=ok; \
	    else \
	        status=FAIL; failed=1; tail -n 30 $$out/$$name.log; \
	    fi; \
	    secs=$$(( $$(date +%s) - start )); \
	    execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$out/$$name.log); \
	    cov=$$(grep -o 'cov: [0-9]*' $$out/$$name.log | tail -n 1 | cut -d' ' -f2); \
	    printf '%-4s %-18s %10s executions  cov %5s  %6ss\n' $$status $$name \
	        "$${execs:-?}" "$${cov:-?}" $$secs | tee -a $$out/summary; \
	done; \
	echo; cat $$out/summary; exit $$failed

peers:
	@$(MAKE) -s -C peers

bench: stackbench
	scripts/install.sh --bench
	bench/run_all.sh

# The two commands of README.md: each installs what is missing, builds, then runs.
run: install-deps
	@$(MAKE) -s stackbench peers
	@./stackbench run

check: install-deps
	@$(MAKE) -s tests-build peers
	@$(MAKE) -s test
	@$(MAKE) -s sanitize

install-deps:
	scripts/install.sh

clean:
	rm -rf build stackbench stackbench.1

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
$(if $(filter build,$(BUILD)),,$(eval -include $(shell find build/fuzz/obj -name '*.d' 2>/dev/null)))

# Benchmark tools (not part of the tests).
$(BUILD)/bench/csv_scan: bench/csv_scan.c $(BUILD)/libstackbench.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/metrics_cost: bench/metrics_cost.c $(BUILD)/libstackbench.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -o $@ $<
