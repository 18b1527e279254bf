//go:build tools

// Package tools pins the Go programs that scripts/install.sh builds as validators: h2spec
// (HTTP/2 conformance of the grpc service) and grpcurl (a real gRPC client). `go install` from
// this module builds each at the versions go.mod and go.sum hold. ghz has a module of its own
// (ghz/): its last release needs a grpc-go older than grpcurl's.
package tools

import (
	_ "github.com/fullstorydev/grpcurl/cmd/grpcurl"
	_ "github.com/summerwind/h2spec/cmd/h2spec"
)
