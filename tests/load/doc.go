// Package load is the marketplace under load (issue 8, "Proof under
// fire"): five client daemons submit small jobs paid through payment
// channels to five provider daemons, all real — node.Start on its own repo
// per daemon, libp2p on loopback, a boxo store each, the wazero executor —
// settling on one in-process dev chain (contracts/devnet). The driver
// talks to the daemons through their control APIs only, as `cloudless run`
// does, so the market's internals can change under it.
//
// After the load the audit checks that nothing was lost and no wei
// appeared or vanished: every job ended paid or failed, the client's and
// the provider's records agree job by job, each client exits its channels
// so the providers redeem their vouchers, and the redeemed amounts equal
// the prices of the jobs that succeeded; finally every account's balance
// at the end plus the fee of every transaction in between equals its
// balance at the start, account by account.
//
//	rep, err := load.Run(ctx, load.Config{Clients: 5, Providers: 5, JobsPerClient: 2000, Module: wasm})
//	fmt.Print(rep.Summary()) // jobs/s, p50/p99, per provider, chain, money
//	if !rep.OK() { ... rep.Problems ... }
//
// `make load-smoke` runs 5 × 40 jobs, `make load` 5 × 2,000; figures are in
// docs/benchmarks/load.md and the choices in docs/rationale/load.md.
package load
