package node

import "context"

// partSteps lists the parts in start order. Each step registers its own
// stop function with onClose and its status with setPart.
func (n *Node) partSteps() []func(context.Context) error {
	return []func(context.Context) error{
		n.startExecutor,
		n.startP2P,
		n.startStorage,
		n.startLedger,
		n.startChain,
		n.startMarket,
		n.startFunctions,
	}
}

// listenAddrs are the host's real listen addresses, with /p2p/ID.
func (n *Node) listenAddrs() []string {
	if n.p2p == nil {
		return nil
	}
	return n.p2p.Addrs()
}
