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
	open := GossipOpener(t, now)
	return func(ctx context.Context, from peer.ID, data []byte) error {
		_, err := open(ctx, from, data)
		return err
	}
}

// GossipOpener is GossipValidator that also returns the opened message, so
// a subscriber can use what the validator decoded and checked instead of
// opening the envelope a second time (gossipsub's ValidatorData carries it).
func GossipOpener(t Type, now func() time.Time) func(ctx context.Context, from peer.ID, data []byte) (Message, error) {
	if now == nil {
		now = time.Now
	}
	max := MaxSize(t)
	return func(_ context.Context, from peer.ID, data []byte) (Message, error) {
		msg, signer, err := OpenAt(data, max, now())
		if err != nil {
			return nil, err
		}
		if msg.Type() != t {
			return nil, fmt.Errorf("%w: %s on a %s topic", ErrUnknownType, msg.Type(), t)
		}
		if signer != from {
			return nil, fmt.Errorf("%w: gossip source %s, envelope signer %s", ErrSigner, from, signer)
		}
		return msg, nil
	}
}
