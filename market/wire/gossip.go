package wire

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// GossipValidator returns a validator for a gossip topic carrying messages
// of type t (TypeOffer on TopicOffers, TypeJobRequest on TopicJobs). It has
// the shape of p2p.Validator: from is the gossip source (the message author
// whose pubsub signature the p2p layer has already checked). The validator
// opens the envelope with size cap MaxSize(t) and clock now (time.Now when
// nil), requires the type to be t and the envelope signer to be from, so a
// peer cannot republish someone else's signed offer as its own.
func GossipValidator(t Type, now func() time.Time) func(ctx context.Context, from peer.ID, data []byte) error {
	if now == nil {
		now = time.Now
	}
	max := MaxSize(t)
	return func(_ context.Context, from peer.ID, data []byte) error {
		msg, signer, err := OpenAt(data, max, now())
		if err != nil {
			return err
		}
		if msg.Type() != t {
			return fmt.Errorf("%w: %s on a %s topic", ErrUnknownType, msg.Type(), t)
		}
		if signer != from {
			return fmt.Errorf("%w: gossip source %s, envelope signer %s", ErrSigner, from, signer)
		}
		return nil
	}
}
