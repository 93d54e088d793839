package trigger

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/p2p"
)

// MaxTopicMessage caps a topic trigger's message (the gossip validator
// rejects larger ones before any function sees them).
const MaxTopicMessage = 64 << 10

// DefaultTopicConcurrency bounds the invocations one topic trigger runs at
// once.
const DefaultTopicConcurrency = 8

// Bus is the gossip layer topic triggers listen on and `cloudless fn emit`
// publishes to. Topic names are full (TopicPrefix + name). A Bus must only
// deliver messages signed by their author and at most MaxTopicMessage
// long; NewP2PBus is the gossipsub one.
type Bus interface {
	Subscribe(topic string) (Feed, error)
	Publish(ctx context.Context, topic string, data []byte) error
}

// Feed is a subscription to one topic.
type Feed interface {
	// Next blocks for the next valid message: its author and payload.
	Next(ctx context.Context) (from string, data []byte, err error)
	Cancel()
}

// NewP2PBus returns the Bus over the node's gossipsub: each topic is
// joined with a MaxTopicMessage size cap and the p2p package's per-author
// rate limit, and gossipsub runs with strict signing, so a forged,
// unsigned or oversized message is rejected by the validator (and its
// forwarder penalized) before it reaches a Feed.
func NewP2PBus(n *p2p.Node) Bus { return p2pBus{n} }

type p2pBus struct{ n *p2p.Node }

func (b p2pBus) join(topic string) (*p2p.Topic, error) {
	return b.n.JoinTopic(topic, func(_ context.Context, _ peer.ID, data []byte) error {
		if len(data) == 0 {
			return errors.New("empty event")
		}
		return nil
	}, p2p.WithMaxMessageSize(MaxTopicMessage))
}

func (b p2pBus) Subscribe(topic string) (Feed, error) {
	t, err := b.join(topic)
	if err != nil {
		return nil, err
	}
	s, err := t.Subscribe()
	if err != nil {
		return nil, err
	}
	return p2pFeed{s}, nil
}

func (b p2pBus) Publish(ctx context.Context, topic string, data []byte) error {
	t, err := b.join(topic)
	if err != nil {
		return err
	}
	return t.Publish(ctx, data)
}

type p2pFeed struct{ s *p2p.Subscription }

func (f p2pFeed) Next(ctx context.Context) (string, []byte, error) {
	m, err := f.s.Next(ctx)
	if err != nil {
		return "", nil, err
	}
	return m.From.String(), m.Data, nil
}

func (f p2pFeed) Cancel() { f.s.Cancel() }

// Emit publishes data on the topic of topic triggers named name
// (TopicPrefix + name), signed by this node; every function subscribed to
// it, here or on other nodes, runs with data as stdin.
//
// # Errors
//
// ErrBadFunction for an invalid topic name or an empty or oversized
// message; an error when there is no Bus; the Bus's error.
func (s *Service) Emit(ctx context.Context, name string, data []byte) error {
	if !topicNameRE.MatchString(name) {
		return fmt.Errorf("%w: topic %q is not a valid name: use 1-64 of a-z, 0-9, '.', '_', '-'", ErrBadFunction, clip([]byte(name)))
	}
	if len(data) == 0 {
		return fmt.Errorf("%w: the message is empty: give a file or pipe something in", ErrBadFunction)
	}
	if len(data) > MaxTopicMessage {
		return fmt.Errorf("%w: the message is %d bytes, at most %d: publish the data (`cloudless publish`) and send its CID", ErrBadFunction, len(data), MaxTopicMessage)
	}
	if s.opts.Bus == nil {
		return errors.New("trigger: no p2p host in this daemon to publish with")
	}
	return s.opts.Bus.Publish(ctx, TopicPrefix+name, data)
}

// topicTrigger runs a function with each valid message of its topic as
// stdin, at most TopicConcurrency at once (further messages wait in the
// subscription's buffer, which drops the oldest when full).
type topicTrigger struct {
	cancel context.CancelFunc
	feed   Feed
	wg     sync.WaitGroup
}

func (t *topicTrigger) stop() {
	t.cancel()
	t.feed.Cancel()
	t.wg.Wait()
}

func (s *Service) startTopic(fn *Function, tr *Trigger, gate <-chan struct{}) (running, error) {
	if !topicNameRE.MatchString(tr.Topic) {
		return nil, fmt.Errorf("topic %q is not a valid name", tr.Topic)
	}
	feed, err := s.opts.Bus.Subscribe(TopicPrefix + tr.Topic)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(s.ctx)
	t := &topicTrigger{cancel: cancel, feed: feed}
	log := s.log.With("function", fn.Name, "topic", tr.Topic)
	sem := make(chan struct{}, s.opts.TopicConcurrency)
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		select {
		case <-gate:
		case <-ctx.Done():
			return
		}
		for {
			from, data, err := feed.Next(ctx)
			if err != nil {
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			t.wg.Add(1)
			go func() {
				defer t.wg.Done()
				defer func() { <-sem }()
				_, err := s.Invoke(ctx, fn, Invocation{Trigger: KindTopic, Detail: "from " + from, Stdin: data})
				if err != nil && ctx.Err() == nil {
					log.Warn("topic run failed", "from", from, "err", err)
				}
			}()
		}
	}()
	return t, nil
}
