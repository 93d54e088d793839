package p2p

import (
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// GossipStats counts gossip messages this node received from the network
// (first deliveries, duplicates and rejected ones), for amplification
// figures and the dashboard.
type GossipStats struct {
	Delivered  uint64 // first copies that passed validation
	Duplicates uint64 // further copies of messages already seen
	Rejected   uint64 // copies refused by signature check or a validator
}

// tracer follows the gossipsub mesh per topic and counts receptions.
type tracer struct {
	mu   sync.Mutex
	mesh map[string]map[peer.ID]struct{}

	delivered, duplicates, rejected atomic.Uint64
}

var _ pubsub.RawTracer = (*tracer)(nil)

func newTracer() *tracer { return &tracer{mesh: map[string]map[peer.ID]struct{}{}} }

func (t *tracer) Graft(p peer.ID, topic string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.mesh[topic]
	if m == nil {
		m = map[peer.ID]struct{}{}
		t.mesh[topic] = m
	}
	m[p] = struct{}{}
}

func (t *tracer) Prune(p peer.ID, topic string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.mesh[topic], p)
}

func (t *tracer) Leave(topic string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.mesh, topic)
}

// meshPeers returns the topic's mesh peers that are still connected (a
// disconnect removes a peer from the mesh without a Prune event).
func (t *tracer) meshPeers(topic string, net network.Network) []peer.ID {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []peer.ID
	for p := range t.mesh[topic] {
		if net.Connectedness(p) == network.Connected {
			out = append(out, p)
		}
	}
	return out
}

func (t *tracer) DeliverMessage(msg *pubsub.Message) {
	if !msg.Local {
		t.delivered.Add(1)
	}
}
func (t *tracer) DuplicateMessage(*pubsub.Message)                     { t.duplicates.Add(1) }
func (t *tracer) RejectMessage(*pubsub.Message, string)                { t.rejected.Add(1) }
func (t *tracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (t *tracer) OnClosedOutboundStream(peer.ID)                       {}
func (t *tracer) Join(string)                                          {}
func (t *tracer) ValidateMessage(*pubsub.Message)                      {}
func (t *tracer) ThrottlePeer(peer.ID)                                 {}
func (t *tracer) RecvRPC(*pubsub.RPC)                                  {}
func (t *tracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (t *tracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (t *tracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (t *tracer) UndeliverableMessage(*pubsub.Message)                 {}

// GossipStats returns the node's gossip reception counters.
func (n *Node) GossipStats() GossipStats {
	return GossipStats{
		Delivered:  n.tracer.delivered.Load(),
		Duplicates: n.tracer.duplicates.Load(),
		Rejected:   n.tracer.rejected.Load(),
	}
}

// MeshPeers returns the peers in this node's gossipsub mesh for the topic
// (formed at the 1 s heartbeat after joining). Tests and the dashboard use
// it to tell when a topic is ready to carry messages.
func (t *Topic) MeshPeers() []peer.ID { return t.n.tracer.meshPeers(t.name, t.n.h.Network()) }
