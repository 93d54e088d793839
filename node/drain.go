package node

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// drainPoll is how often a draining node looks at its provider jobs.
const drainPoll = 100 * time.Millisecond

// maxDrainReserve caps the part of the shutdown time (a quarter) kept for
// stopping the parts after the drain.
const maxDrainReserve = 5 * time.Second

// serveGrace is how long a draining provider keeps serving a delivered
// result: the client fetches the output from this node (bitswap) before
// it verifies and pays, so stopping at delivery would make an honest
// result look missing.
const serveGrace = 10 * time.Second

// inFlight reports whether a provider job is still under way on this
// node at now: paid for but not run, run but not committed, its result
// (or failure report) not yet delivered, or delivered less than
// serveGrace ago and not yet settled (the client may still be fetching
// the output). The first three are what the provider's recovery would
// pick up again at the next start.
func inFlight(j market.ProviderJob, now time.Time) bool {
	fresh := j.Delivered && now.Sub(j.Updated) < serveGrace
	switch {
	case j.State == market.StateFailed:
		return j.Stopped && !j.Delivered // a failure report has no output to fetch
	case j.State == market.StatePaid:
		// An escrow job is paid once the client accepted: it has the
		// output. A channel job is marked paid at delivery.
		return j.PayMode == wire.PayChannel && fresh
	case j.State.Terminal():
		return false
	case j.State == market.StateSubmitted && j.Delivered:
		return fresh
	}
	return true
}

// drainProvider is the first step of Close on a providing node: it stops
// taking market requests (the market protocol handler goes: direct job
// requests and every award are refused, so clients ask elsewhere; a bid
// to a gossiped request can still go out, but its award is refused) and
// waits, until ctx's deadline
// less a reserve for the rest of the shutdown, for the jobs already
// awarded to run, be committed and be delivered, and for their clients
// to fetch the output (serveGrace). What is still in flight
// when the time is up is cancelled; it stays in the ledger and the
// provider's recovery finishes it at the next start. It returns how many
// jobs were still in flight when it gave up.
func (n *Node) drainProvider(ctx context.Context) int {
	ms, ok := n.svc.Jobs.(*marketService)
	if !ok || ms.p == nil {
		return 0
	}
	pending := func() int {
		js, err := ms.p.Jobs()
		if err != nil {
			n.log.Warn("drain: read provider jobs", "err", err)
			return -1
		}
		k, now := 0, time.Now()
		for _, j := range js {
			if inFlight(j, now) {
				k++
			}
		}
		return k
	}
	if n.p2p != nil {
		n.p2p.Host().RemoveStreamHandler(protocol.ID(wire.MarketProtocol))
	}
	if dl, ok := ctx.Deadline(); ok {
		reserve := min(time.Until(dl)/4, maxDrainReserve)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-reserve))
		defer cancel()
	}
	start := time.Now()
	k := pending()
	if k > 0 {
		n.log.Info("waiting for running jobs to finish and be delivered", "jobs", k)
	}
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for k != 0 {
		select {
		case <-ctx.Done():
			if k > 0 {
				n.log.Warn("shutdown deadline: leaving jobs for recovery at the next start", "jobs", k)
			}
			return max(k, 0)
		case <-t.C:
		}
		k = pending()
	}
	n.log.Info("provider drained", "took", time.Since(start))
	return 0
}
