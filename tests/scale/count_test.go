package scale

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// countingHost counts the streams a node opens, by protocol. Every part
// of the node (gossipsub, the DHT, bitswap, the market) opens its streams
// through the host it was given, so wrapping it once sees them all.
type countingHost struct {
	host.Host
	mu      sync.Mutex
	streams map[protocol.ID]uint64
}

func newCountingHost(h host.Host) *countingHost {
	return &countingHost{Host: h, streams: map[protocol.ID]uint64{}}
}

func (h *countingHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	s, err := h.Host.NewStream(ctx, p, pids...)
	if err == nil {
		h.mu.Lock()
		h.streams[s.Protocol()]++
		h.mu.Unlock()
	}
	return s, err
}

// snapshot copies the per-protocol counts.
func (h *countingHost) snapshot() map[protocol.ID]uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[protocol.ID]uint64, len(h.streams))
	for k, v := range h.streams {
		out[k] = v
	}
	return out
}

// countingNet wraps a market.Network: it counts the requests sent and the
// gossip deliveries per topic, and (on clients) timestamps each bid that
// arrives, whether as the reply to a direct request or pushed by a
// provider that heard the request on the jobs topic.
type countingNet struct {
	market.Network
	requests  atomic.Uint64
	published atomic.Uint64
	offersIn  atomic.Uint64 // first deliveries on wire.TopicOffers
	jobsIn    atomic.Uint64 // first deliveries on wire.TopicJobs
	asked     atomic.Uint64 // job requests received directly (market stream)
	bids      *bidClock     // nil except on clients
	// onRequest, when set, gets the type and round-trip time of every
	// request sent (phase timing in the cold-path benchmark).
	onRequest func(t wire.Type, d time.Duration)
}

var _ market.Network = (*countingNet)(nil)

func (n *countingNet) Request(ctx context.Context, p peer.ID, sealed []byte) ([]byte, error) {
	n.requests.Add(1)
	t0 := time.Now()
	if n.bids != nil {
		if msg, _, oerr := wire.Open(sealed, wire.MaxJobSize); oerr == nil {
			if a, ok := msg.(*wire.Award); ok {
				n.bids.award(a.JobID, t0)
			}
		}
	}
	reply, err := n.Network.Request(ctx, p, sealed)
	if n.onRequest != nil {
		if msg, _, oerr := wire.Open(sealed, wire.MaxJobSize); oerr == nil {
			n.onRequest(msg.Type(), time.Since(t0))
		}
	}
	if err == nil && n.bids != nil && len(reply) > 0 {
		if msg, _, oerr := wire.Open(reply, wire.MaxMessageSize); oerr == nil {
			if b, ok := msg.(*wire.Bid); ok {
				n.bids.arrived(b.JobID)
			}
		}
	}
	return reply, err
}

func (n *countingNet) Handle(t wire.Type, fn market.Handler) {
	if t == wire.TypeJobRequest {
		inner := fn
		fn = func(ctx context.Context, from peer.ID, msg wire.Message) ([]byte, error) {
			n.asked.Add(1)
			return inner(ctx, from, msg)
		}
	}
	if t == wire.TypeBid && n.bids != nil {
		inner := fn
		fn = func(ctx context.Context, from peer.ID, msg wire.Message) ([]byte, error) {
			if b, ok := msg.(*wire.Bid); ok {
				n.bids.arrived(b.JobID)
			}
			return inner(ctx, from, msg)
		}
	}
	n.Network.Handle(t, fn)
}

func (n *countingNet) Publish(ctx context.Context, topic string, sealed []byte) error {
	n.published.Add(1)
	return n.Network.Publish(ctx, topic, sealed)
}

func (n *countingNet) Subscribe(ctx context.Context, topic string, fn func(from peer.ID, msg wire.Message)) error {
	c := &n.offersIn
	if topic == wire.TopicJobs {
		c = &n.jobsIn
	}
	return n.Network.Subscribe(ctx, topic, func(from peer.ID, msg wire.Message) {
		c.Add(1)
		fn(from, msg)
	})
}

// bidClock records when each bid of a job arrived, and when the first
// award went out (the client stopped collecting and chose).
type bidClock struct {
	mu      sync.Mutex
	got     map[wire.JobID][]time.Time
	awarded map[wire.JobID]time.Time
}

func newBidClock() *bidClock {
	return &bidClock{got: map[wire.JobID][]time.Time{}, awarded: map[wire.JobID]time.Time{}}
}

func (c *bidClock) award(id wire.JobID, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.awarded[id]; !ok {
		c.awarded[id] = t
	}
}

// awardAt returns when job id's first award was sent.
func (c *bidClock) awardAt(id wire.JobID) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.awarded[id]
	return t, ok
}

func (c *bidClock) arrived(id wire.JobID) {
	now := time.Now()
	c.mu.Lock()
	c.got[id] = append(c.got[id], now)
	c.mu.Unlock()
}

// kth returns when the k-th bid (1-based) of job id arrived.
func (c *bidClock) kth(id wire.JobID, k int) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := c.got[id]
	if len(ts) < k {
		return time.Time{}, false
	}
	return ts[k-1], true
}

// count is how many bids job id got.
func (c *bidClock) count(id wire.JobID) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got[id])
}
