package p2p

import (
	"net"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Gossipsub score thresholds. A peer below GraylistThreshold has all its
// RPCs ignored; below PublishThreshold we do not publish to it; below
// GossipThreshold we exchange no gossip with it. The numbers follow the
// shape used by Filecoin and Ethereum consensus clients; see
// docs/rationale/p2p.md.
var scoreThresholds = &pubsub.PeerScoreThresholds{
	GossipThreshold:             -500,
	PublishThreshold:            -1000,
	GraylistThreshold:           -2500,
	AcceptPXThreshold:           10,
	OpportunisticGraftThreshold: 5,
}

// GraylistThreshold is exported for tests and dashboards.
const GraylistThreshold = -2500

func (n *Node) scoreParams() *pubsub.PeerScoreParams {
	return &pubsub.PeerScoreParams{
		// The market topics are scored from the start, whoever joins them:
		// market.HostNetwork registers its own validator with the router
		// instead of going through JoinTopic, and without these entries an
		// invalid message on them cost the sender nothing (P4 counts only
		// on scored topics), so a flooder was never graylisted.
		Topics: map[string]*pubsub.TopicScoreParams{
			TopicOffers: topicScoreParams(),
			TopicJobs:   topicScoreParams(),
		},
		TopicScoreCap: 100,
		AppSpecificScore: func(p peer.ID) float64 {
			if f := n.appScore.Load(); f != nil {
				return (*f)(p)
			}
			return 0
		},
		AppSpecificWeight: 1,
		// P6: many peers behind one IP are a Sybil smell.
		IPColocationFactorWeight:    -50,
		IPColocationFactorThreshold: 10,
		// Nodes on one machine (dev, demo) share loopback; do not punish that.
		IPColocationFactorWhitelist: loopbackNets,
		// P7: misbehaving in the control protocol (broken promises).
		BehaviourPenaltyWeight:    -10,
		BehaviourPenaltyThreshold: 6,
		BehaviourPenaltyDecay:     pubsub.ScoreParameterDecay(10 * time.Minute),
		DecayInterval:             time.Second,
		DecayToZero:               0.01,
		RetainScore:               10 * time.Minute,
	}
}

// topicScoreParams rewards time in the mesh and first deliveries a little
// and punishes invalid messages hard: the penalty is the square of the count
// of invalid messages times -100, so 5 invalid messages reach the graylist.
// Mesh delivery-rate penalties (P3) stay off: offers are bursty and a quiet
// topic must not punish honest peers.
func topicScoreParams() *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		TopicWeight: 1,

		TimeInMeshWeight:  0.01,
		TimeInMeshQuantum: time.Second,
		TimeInMeshCap:     300,

		FirstMessageDeliveriesWeight: 1,
		FirstMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(10 * time.Minute),
		FirstMessageDeliveriesCap:    50,

		MeshMessageDeliveriesWeight:     0,
		MeshMessageDeliveriesDecay:      pubsub.ScoreParameterDecay(time.Minute),
		MeshMessageDeliveriesCap:        1,
		MeshMessageDeliveriesThreshold:  1,
		MeshMessageDeliveriesWindow:     10 * time.Millisecond,
		MeshMessageDeliveriesActivation: time.Minute,
		MeshFailurePenaltyWeight:        0,
		MeshFailurePenaltyDecay:         pubsub.ScoreParameterDecay(time.Minute),

		InvalidMessageDeliveriesWeight: -100,
		InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(time.Hour),
	}
}

var loopbackNets = []*net.IPNet{
	{IP: net.IPv4(127, 0, 0, 0), Mask: net.CIDRMask(8, 32)},
	{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
}
