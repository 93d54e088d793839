// Package market is the cloudless marketplace: providers sell their idle
// sandbox capacity, clients buy runs of WebAssembly jobs, and money moves
// through the settlement contract (escrow deals or payment channels).
//
// A node can be both. The provider side (Provider) publishes signed offers
// on wire.TopicOffers, admits job requests (free capacity, price floor,
// limits, module size) and answers with signed bids, verifies an award's
// payment before anything else, records the job in the node's ledger,
// fetches module and inputs by CID, runs the job in the executor, stores the
// output (stdout, stderr, out/) as one UnixFS directory, commits its hash on
// chain (escrow), sends the signed result, and claims or redeems its pay.
//
// The client side (Client) asks fitting providers from the offer book
// (Book) directly and falls back to gossip on wire.TopicJobs, chooses the
// cheapest bids weighted by reputation and latency (K distinct providers
// for redundancy K), pays in (an escrow deal per provider, or a cumulative
// voucher on a channel opened once per provider), awards, waits for the
// results, fetches and checks each against its output hash, pays the
// majority and disputes (escrow) or stops using (channel) the rest, and
// refunds deals whose provider stayed silent past the deadline.
//
// Every transition is written to the ledger (package ledger, the repo's
// ledger.db: typed jobs, deals, channels, vouchers, payments, reputation)
// and fsynced before the message or transaction that depends on it;
// Provider.Run and Client.Run finish what the ledger says was under way.
// MigrateJournal folds an old market.db into the ledger once.
//
// Wiring (node does this):
//
//	net := market.NewHostNetwork(host, gossipsub, log)
//	book := market.NewBook(nil)
//	p, _ := market.NewProvider(market.ProviderDeps{Net: net, Seal: seal, Content: store,
//		Runner: exec, Settle: chainClient, Ledger: l, Book: book}, market.ProviderConfig{Price: prices})
//	go p.Run(ctx)
//	c, _ := market.NewClient(market.ClientDeps{Net: net, Seal: seal, Content: store,
//		Settle: chainClient, Ledger: l, Book: book}, market.ClientConfig{})
//	go c.Run(ctx)
//	id, _ := c.Submit(ctx, spec, market.RunOptions{PayMode: wire.PayChannel, Retry: 2})
//	out, err := c.Wait(ctx, id)
//
// The life of a job is in docs/architecture.md; the choices behind it in
// docs/rationale/market.md; the messages in package wire.
package market
