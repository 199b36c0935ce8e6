// Package loadtest is a load generator for Flowise-compatible prediction APIs, and the harness
// behind `flowgate bench`: it sends predictions at a fixed concurrency (closed model) or a fixed
// arrival rate (open model), measures latency (and, for SSE, time to first and last token),
// counts errors by kind, samples the server processes' CPU and memory from /proc, and can start
// Flowgate itself (one-process or queue mode) to reproduce the benchmark matrix.
package loadtest
