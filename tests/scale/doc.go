// Package scale holds the network-scale benchmarks of cloudless (issue 9):
// up to 1,000 in-process nodes on a libp2p mocknet with simulated link
// latency, a subset of them real providers (market.Provider over the wazero
// executor and an IPFS store), the rest plain nodes that follow the offer
// topic into an offer book as every node's market client does, and a few
// clients, all settling on one in-process dev chain (contracts/devnet).
//
// Everything is built through the parts' exported APIs, the way node wires
// them (p2p.New with a mocknet host, market.NewHostNetwork over its gossip
// router, storage.Serve for bitswap). Two counting wrappers measure the
// traffic: one around the libp2p host counts the streams each node opens,
// by protocol; one around market.Network counts market requests and the
// gossip deliveries per topic and timestamps the bids a client receives.
//
// The package has only tests and benchmarks:
//
//	go test ./tests/scale -run TestScaleSmoke            # 100 nodes, < 60 s
//	go test ./tests/scale -run '^$' -bench Scale -benchtime 20x -timeout 60m
//	go test ./tests/scale -run '^$' -bench ColdPath -benchtime 5x
//	go test ./tests/scale -run '^$' -bench WarmPath -benchtime 50x
//
// The figures and how to read them are in docs/benchmarks/scale.md.
package scale
