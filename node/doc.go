// Package node is the composition root of a cloudless daemon: it builds a
// running node from a repo and its config (p2p host, IPFS storage, wazero
// executor, ledger, settlement chain client, market) and serves the local
// control API, the dashboard at /ui and Prometheus metrics at /metrics.
//
//	cfg, err := node.LoadConfig(node.ConfigPath(repo), os.Getenv) // file < env
//	n, err := node.Start(ctx, repo, cfg, node.Options{Passphrase: pass})
//	defer n.Close(ctx)                                              // reverse order
//
// A repo is made by Init (key + commented config.yaml). While a daemon runs
// it holds repo.lock (flock) and writes api (HOST:PORT) and api.token;
// package node/client reads them to talk to it. The API is described in
// docs/api.md, operations in docs/operating.md, design choices in
// docs/rationale/node.md.
//
// node wires, it does not decide: prices, admission and settlement live in
// market, ledger and contracts. The API handlers depend on small service
// interfaces (PeerService, JobService, ...) that node.go adapts each part
// to, so a part missing from a build answers 503 instead of breaking the
// daemon.
package node
