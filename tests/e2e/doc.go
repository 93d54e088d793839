// Package e2e holds the multi-process end-to-end and fault tests of
// cloudless: a `cloudless devnet`, provider daemons and a client daemon run
// as separate processes on loopback and are driven only through the CLI
// (publish, run, job list, wallet), while the tests read the chain over
// JSON-RPC to check every balance to the wei.
//
// The tests need the built binary and take minutes, so they run only with
// CLOUDLESS_E2E=1 (`make e2e`; `make e2e-long` for the long crash rounds);
// plain `go test ./...` skips them at once. CLOUDLESS_BIN names the binary
// to test (default: built from ./cmd/cloudless into a temp dir).
//
// Faults injected: SIGKILL of a provider mid-run and at random points
// across many jobs (issue 6's crash injection), SIGKILL of the client
// mid-job, the chain's JSON-RPC cut off by a TCP proxy the test controls
// (for every node, or for the providers only: a provider cut off from the
// chain), and a provider frozen with SIGSTOP (a peer that stops answering without
// closing its connections). Each test asserts the outcome: every job ends
// paid or refunded, the nodes' job lists agree with the contract's events,
// no transaction is sent twice, and the ether of all accounts and the
// contract adds up to the start minus the burnt base fee.
package e2e
