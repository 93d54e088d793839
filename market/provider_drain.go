package market

import (
	"slices"

	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/cloudless-network/cloudless/market/wire"
)

// A provider takes no new job once its host stops serving the market
// protocol: a draining node removes the handler (node/drain.go) and
// waits for the jobs it has. An award reaches a provider only over that
// protocol, so a bid (to a gossiped request, which still arrives) or an
// offer then promises what no award can take up: the client's award
// fails to open a stream, and the client waits the job's whole deadline
// for a result that never comes. Before offers and bids counted a
// running job once (freeSlots), a draining provider with one job
// running on two slots looked full and the question did not come up.

// marketServer is a Network that can say whether peers can still reach
// this node's market handlers.
type marketServer interface {
	ServesMarket() bool
}

// ServesMarket reports whether the host still serves the market protocol.
func (n *HostNetwork) ServesMarket() bool {
	return slices.Contains(n.h.Mux().Protocols(), protocol.ID(wire.MarketProtocol))
}

// takingJobs reports whether p may offer, bid or take an award: false
// once its network stopped serving the market protocol.
func (p *Provider) takingJobs() bool {
	s, ok := p.d.Net.(marketServer)
	return !ok || s.ServesMarket()
}
