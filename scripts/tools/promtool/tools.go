//go:build tools

// Package tools pins promtool, whose `check metrics` the tests run on every service's /metrics
// scrape. Prometheus is a large module: it has a module of its own here, so that its
// dependencies do not move those of the other tools.
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
