// Package devnet runs a local Ethereum dev chain in process for cloudless:
// go-ethereum's node and eth service with the simulated beacon (the stack
// behind ethclient/simulated and geth --dev), serving JSON-RPC on loopback,
// with the Marketplace contract deployed at start and chosen accounts
// prefunded.
//
//	chain, err := devnet.Start(ctx, devnet.Config{RPCAddr: "127.0.0.1:0", Fund: addrs})
//	defer chain.Close()
//	fmt.Println(chain.RPCURL(), chain.ChainID(), chain.Contract())
//
// By default a block is sealed as soon as a transaction enters the pool
// (blocks on demand); Config.BlockTime seals on a clock instead. Tests move
// chain time with AdjustTime. The chain lives in memory only.
//
// Info, WriteInfo and ReadInfo handle chain.json, the file `cloudless devnet`
// writes into a node repo and `cloudless node` reads when it has no
// --chain-rpc.
package devnet
