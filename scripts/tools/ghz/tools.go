//go:build tools

// Package tools pins ghz, the gRPC load generator bench/ compares the load engine with, at its
// last release and the grpc-go that release was built with.
package tools

import _ "github.com/bojand/ghz/cmd/ghz"
