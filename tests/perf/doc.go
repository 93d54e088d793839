// Package perf measures a real provider daemon from the outside (issue 9):
// the resident memory of `cloudless node --provide` when idle and per
// concurrent job, read from /proc/PID/status (VmRSS, VmHWM) of the child
// process, with a client daemon submitting the jobs through its control
// API and an in-process dev chain (contracts/devnet) serving JSON-RPC.
//
//	go build -o bin/cloudless ./cmd/cloudless
//	CLOUDLESS_BIN=$PWD/bin/cloudless go test ./tests/perf -run '^$' -bench ProviderRSS -benchtime 1x
//
// Without CLOUDLESS_BIN the benchmark builds the binary itself (with
// -short it skips instead). Linux only
// (it reads /proc). The figures are in docs/benchmarks/node.md.
package perf
