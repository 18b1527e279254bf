#!/bin/sh
# Regenerates ticksv1/ (the grpc workload's messages and service stubs) from
# contracts/grpc/ticks.proto. The generated files are committed, so a build needs neither
# protoc nor the plugins; run this after changing the proto. Needs protoc (Debian's
# protobuf-compiler) and Go; the plugins are built at the versions pinned here.
# The health check is not generated: it is grpc-go's own google.golang.org/grpc/health.
set -eu

PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
MODULE=github.com/stackbench/stackbench/peers/go

cd "$(dirname "$0")"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
GOBIN=$bin go install "$PROTOC_GEN_GO"
GOBIN=$bin go install "$PROTOC_GEN_GO_GRPC"

protoc -I ../../contracts/grpc \
	--plugin=protoc-gen-go="$bin/protoc-gen-go" \
	--plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" \
	--go_out=. --go_opt=module="$MODULE" \
	--go-grpc_out=. --go-grpc_opt=module="$MODULE" \
	ticks.proto
