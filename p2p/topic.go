package p2p

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"
)

// Gossip topic names (see docs/protocol.md).
const (
	TopicOffers = "/cloudless/offers/1"
	TopicJobs   = "/cloudless/jobs/1"
	// TopicEventsPrefix starts the names of trigger event topics:
	// TopicEventsPrefix + "<name>".
	TopicEventsPrefix = "/cloudless/events/1/"
)

// Validator checks one gossip message. from is the message's author (its
// pubsub signature is already verified); data is the payload. A non-nil
// error rejects the message: it is dropped, not forwarded, and the peer
// that sent it to us loses score. market/wire.GossipValidator returns one.
type Validator func(ctx context.Context, from peer.ID, data []byte) error

// TopicOption tunes JoinTopic.
type TopicOption func(*topicConfig)

type topicConfig struct {
	maxSize int
	rate    rate.Limit
	burst   int
}

// WithMaxMessageSize caps a message's payload (default 64 KiB). The cap is
// checked before any other validation.
func WithMaxMessageSize(n int) TopicOption { return func(c *topicConfig) { c.maxSize = n } }

// WithRateLimit sets the per-author token bucket: r messages per second,
// bursts of b (default 2/s, burst 10).
func WithRateLimit(r float64, b int) TopicOption {
	return func(c *topicConfig) { c.rate, c.burst = rate.Limit(r), b }
}

// Topic is a joined gossip topic.
type Topic struct {
	n    *Node
	name string
	t    *pubsub.Topic
	cfg  topicConfig

	userValidator Validator

	mu       sync.Mutex
	limiters map[peer.ID]*limiter
	closed   bool
}

type limiter struct {
	l    *rate.Limiter
	last time.Time
}

// Message is a validated gossip message.
type Message struct {
	// From is the author (verified pubsub signature).
	From peer.ID
	// ReceivedFrom is the neighbour that forwarded it to us.
	ReceivedFrom peer.ID
	// ID is the gossipsub message ID.
	ID string
	// Data is the payload.
	Data []byte
}

// JoinTopic joins a gossip topic and installs v (may be nil: accept all
// that pass the size cap and rate limit) as its validator together with the
// size cap and per-author rate limit. Joining a name twice returns
// the same Topic.
//
// Validation order: size cap, rate limit, v. A message over the size cap or
// failing v is rejected (the forwarding peer is penalized); one over the
// rate limit is rejected when the author sent it to us directly and
// ignored (no penalty) when it was relayed, since an honest relay cannot
// know our bucket.
//
// # Errors
//
// ErrClosed after Close; pubsub errors.
func (n *Node) JoinTopic(name string, v Validator, opts ...TopicOption) (*Topic, error) {
	cfg := topicConfig{maxSize: 64 << 10, rate: 2, burst: 10}
	for _, o := range opts {
		o(&cfg)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if t, ok := n.topics[name]; ok {
		return t, nil
	}
	t := &Topic{n: n, name: name, cfg: cfg, limiters: map[peer.ID]*limiter{}}
	if err := n.ps.RegisterTopicValidator(name, t.validate,
		pubsub.WithValidatorTimeout(5*time.Second),
		pubsub.WithValidatorConcurrency(64),
	); err != nil {
		return nil, fmt.Errorf("p2p: topic %s validator: %w", name, err)
	}
	pt, err := n.ps.Join(name)
	if err != nil {
		_ = n.ps.UnregisterTopicValidator(name)
		return nil, fmt.Errorf("p2p: join %s: %w", name, err)
	}
	if err := pt.SetScoreParams(topicScoreParams()); err != nil {
		_ = pt.Close()
		_ = n.ps.UnregisterTopicValidator(name)
		return nil, fmt.Errorf("p2p: topic %s score: %w", name, err)
	}
	t.t = pt
	t.userValidator = v
	n.topics[name] = t
	return t, nil
}

// Name returns the topic name.
func (t *Topic) Name() string { return t.name }

// Publish signs and sends data to the topic. Our own validator runs on it
// first, so a message we would reject is not sent.
//
// # Errors
//
// ErrMessageTooLarge; the validator's error; pubsub errors.
func (t *Topic) Publish(ctx context.Context, data []byte) error {
	if len(data) > t.cfg.maxSize {
		return fmt.Errorf("%w: %d bytes, max %d on %s", ErrMessageTooLarge, len(data), t.cfg.maxSize, t.name)
	}
	if err := t.t.Publish(ctx, data); err != nil {
		return fmt.Errorf("p2p: publish on %s: %w", t.name, err)
	}
	t.n.metrics.published(t.name)
	return nil
}

// ListPeers returns the peers we know to be subscribed to the topic.
func (t *Topic) ListPeers() []peer.ID { return t.t.ListPeers() }

// Subscription delivers a topic's validated messages.
type Subscription struct {
	s *pubsub.Subscription
}

// Subscribe starts receiving the topic's messages (our own included).
func (t *Topic) Subscribe() (*Subscription, error) {
	s, err := t.t.Subscribe(pubsub.WithBufferSize(256))
	if err != nil {
		return nil, fmt.Errorf("p2p: subscribe %s: %w", t.name, err)
	}
	return &Subscription{s: s}, nil
}

// Next blocks for the next validated message.
//
// # Errors
//
// ctx's error; ErrClosed when the subscription or topic is cancelled.
func (s *Subscription) Next(ctx context.Context) (*Message, error) {
	m, err := s.s.Next(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %v", ErrClosed, err)
	}
	return &Message{From: m.GetFrom(), ReceivedFrom: m.ReceivedFrom, ID: m.ID, Data: m.GetData()}, nil
}

// All iterates over validated messages until ctx ends or the subscription
// is cancelled.
func (s *Subscription) All(ctx context.Context) iter.Seq[*Message] {
	return func(yield func(*Message) bool) {
		for {
			m, err := s.Next(ctx)
			if err != nil || !yield(m) {
				return
			}
		}
	}
}

// Cancel stops the subscription.
func (s *Subscription) Cancel() { s.s.Cancel() }

func (t *Topic) validate(ctx context.Context, recv peer.ID, m *pubsub.Message) pubsub.ValidationResult {
	res, reason := t.check(ctx, recv, m)
	t.n.metrics.validated(t.name, reason)
	if res != pubsub.ValidationAccept {
		t.n.log.Debug("gossip refused", "topic", t.name, "from", m.GetFrom(), "via", recv, "reason", reason)
	}
	return res
}

// check returns the verdict and a short reason label for metrics.
func (t *Topic) check(ctx context.Context, recv peer.ID, m *pubsub.Message) (pubsub.ValidationResult, string) {
	data := m.GetData()
	if len(data) > t.cfg.maxSize {
		return pubsub.ValidationReject, "too_large"
	}
	from := m.GetFrom()
	if from != t.n.h.ID() && !t.allow(from) {
		if recv == from {
			return pubsub.ValidationReject, "rate_limited"
		}
		return pubsub.ValidationIgnore, "rate_limited"
	}
	if v := t.userValidator; v != nil {
		if err := v(ctx, from, data); err != nil {
			return pubsub.ValidationReject, "invalid"
		}
	}
	return pubsub.ValidationAccept, "accepted"
}

// allow takes a token from the author's bucket. Idle buckets are swept so
// the map stays bounded by the peers active in the last minute.
func (t *Topic) allow(p peer.ID) bool {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	l, ok := t.limiters[p]
	if !ok {
		if len(t.limiters) >= 4096 {
			for id, x := range t.limiters {
				if now.Sub(x.last) > time.Minute {
					delete(t.limiters, id)
				}
			}
		}
		l = &limiter{l: rate.NewLimiter(t.cfg.rate, t.cfg.burst)}
		t.limiters[p] = l
	}
	l.last = now
	return l.l.AllowN(now, 1)
}

func (t *Topic) close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	t.mu.Unlock()
	_ = t.n.ps.UnregisterTopicValidator(t.name)
	if err := t.t.Close(); err != nil && !errors.Is(err, context.Canceled) {
		t.n.log.Debug("topic close", "topic", t.name, "err", err)
	}
}
