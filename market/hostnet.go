package market

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/cloudless-network/cloudless/market/wire"
)

// StreamTimeout bounds one request/response exchange on the market protocol.
const StreamTimeout = 30 * time.Second

// Reply status bytes on the market stream.
const (
	replyOK    byte = 0
	replyError byte = 1
)

// HostNetwork implements Network over a libp2p host (streams on
// wire.MarketProtocol, one uvarint-length-prefixed sealed message each way)
// and a gossipsub router (topics with wire.GossipValidator).
type HostNetwork struct {
	h   host.Host
	ps  *pubsub.PubSub
	log *slog.Logger

	mu       sync.Mutex
	handlers map[wire.Type]Handler
	topics   map[string]*pubsub.Topic
	// limits are the per-author gossip rate limits by topic (ratelimit.go);
	// a topic without an entry gets TopicLimit's default when joined.
	limits map[string]*authorLimiter
	ctx    context.Context
	cancel context.CancelFunc
}

var _ Network = (*HostNetwork)(nil)

// NewHostNetwork registers the market protocol on h. ps may be nil (no
// gossip: Publish and Subscribe fail, direct requests still work).
func NewHostNetwork(h host.Host, ps *pubsub.PubSub, log *slog.Logger) *HostNetwork {
	if log == nil {
		log = slog.Default()
	}
	n := &HostNetwork{h: h, ps: ps, log: log.With("part", "market-net"), handlers: map[wire.Type]Handler{}, topics: map[string]*pubsub.Topic{},
		limits: map[string]*authorLimiter{}}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	h.SetStreamHandler(protocol.ID(wire.MarketProtocol), n.serve)
	return n
}

// Close removes the stream handler and leaves the topics. Safe to call twice.
func (n *HostNetwork) Close() error {
	n.cancel()
	n.h.RemoveStreamHandler(protocol.ID(wire.MarketProtocol))
	n.mu.Lock()
	defer n.mu.Unlock()
	for name, t := range n.topics {
		_ = t.Close()
		delete(n.topics, name)
	}
	return nil
}

// ID is the host's peer ID.
func (n *HostNetwork) ID() peer.ID { return n.h.ID() }

// Handle registers fn for messages of type t.
func (n *HostNetwork) Handle(t wire.Type, fn Handler) {
	n.mu.Lock()
	n.handlers[t] = fn
	n.mu.Unlock()
}

func writeFrame(w io.Writer, status byte, b []byte) error {
	var hdr [binary.MaxVarintLen64 + 1]byte
	hdr[0] = status
	k := binary.PutUvarint(hdr[1:], uint64(len(b)))
	if _, err := w.Write(hdr[:1+k]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

func readFrame(r *bufio.Reader, max int) (byte, []byte, error) {
	status, err := r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	l, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, nil, err
	}
	if l > uint64(max) {
		return 0, nil, fmt.Errorf("%w: frame of %d bytes, max %d", wire.ErrTooLarge, l, max)
	}
	b := make([]byte, l)
	if _, err := io.ReadFull(r, b); err != nil {
		return 0, nil, err
	}
	return status, b, nil
}

func (n *HostNetwork) serve(s network.Stream) { n.serveFrame(s, wire.MaxJobSize, n.dispatch) }

// serveFrame answers one request frame of at most max bytes on s with fn:
// its reply, or its error as a one-line refusal.
func (n *HostNetwork) serveFrame(s network.Stream, max int, fn func(ctx context.Context, from peer.ID, data []byte) ([]byte, error)) {
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(StreamTimeout))
	from := s.Conn().RemotePeer()
	_, data, err := readFrame(bufio.NewReader(s), max)
	if err != nil {
		n.log.Debug("bad frame", "peer", from, "protocol", s.Protocol(), "err", err)
		_ = s.Reset()
		return
	}
	reply, err := fn(n.ctx, from, data)
	if err != nil {
		_ = writeFrame(s, replyError, []byte(reasonText(err.Error())))
		return
	}
	_ = writeFrame(s, replyOK, reply)
}

func (n *HostNetwork) dispatch(ctx context.Context, from peer.ID, data []byte) ([]byte, error) {
	msg, signer, err := wire.Open(data, wire.MaxJobSize)
	if err != nil {
		return nil, err
	}
	if msg.Type() != wire.TypeJobRequest && len(data) > wire.MaxMessageSize {
		return nil, wire.ErrTooLarge
	}
	_ = signer // author == signer is checked by Open; the stream peer may relay
	n.mu.Lock()
	h := n.handlers[msg.Type()]
	n.mu.Unlock()
	if h == nil {
		return nil, fmt.Errorf("%w: no handler for %s", ErrRefused, msg.Type())
	}
	return h(ctx, from, msg)
}

// Request sends sealed to p and reads the reply. A refusal comes back as an
// error wrapping ErrRefused with the peer's text.
func (n *HostNetwork) Request(ctx context.Context, p peer.ID, sealed []byte) ([]byte, error) {
	if p == n.h.ID() {
		return n.dispatch(ctx, p, sealed)
	}
	return n.request(ctx, p, protocol.ID(wire.MarketProtocol), streamLabels{}, sealed)
}

// streamLabels name a protocol's stream, request and peer in request's
// errors ("" for the market protocol).
type streamLabels struct{ stream, request, peer string }

// request sends sealed to p as one frame on proto and reads the reply
// frame; a refusal comes back as an error wrapping ErrRefused.
func (n *HostNetwork) request(ctx context.Context, p peer.ID, proto protocol.ID, l streamLabels, sealed []byte) ([]byte, error) {
	s, err := n.h.NewStream(network.WithAllowLimitedConn(ctx, string(proto)), p, proto)
	if err != nil {
		return nil, fmt.Errorf("market: open %sstream to %s: %w", l.stream, p, err)
	}
	defer s.Close()
	dl := time.Now().Add(StreamTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	_ = s.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()
	if err := writeFrame(s, replyOK, sealed); err != nil {
		_ = s.Reset()
		return nil, fmt.Errorf("market: send %sto %s: %w", l.request, p, err)
	}
	if err := s.CloseWrite(); err != nil {
		return nil, fmt.Errorf("market: send %sto %s: %w", l.request, p, err)
	}
	status, reply, err := readFrame(bufio.NewReader(s), wire.MaxMessageSize)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("market: %sreply from %s: %w", l.stream, p, err)
	}
	if status != replyOK {
		return nil, fmt.Errorf("%w by %s%s: %s", ErrRefused, l.peer, p, reply)
	}
	return reply, nil
}

func (n *HostNetwork) topic(name string) (*pubsub.Topic, error) {
	if n.ps == nil {
		return nil, errors.New("market: no gossip router")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if t, ok := n.topics[name]; ok {
		return t, nil
	}
	typ := wire.TypeOffer
	if name == wire.TopicJobs {
		typ = wire.TypeJobRequest
	}
	v := wire.GossipOpener(typ, nil)
	lim, ok := n.limits[name]
	if !ok {
		lim = newAuthorLimiter(TopicLimit(name), nil)
		n.limits[name] = lim
	}
	self := n.h.ID()
	err := n.ps.RegisterTopicValidator(name, func(ctx context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		src, err := peer.IDFromBytes(m.From)
		if err != nil {
			return pubsub.ValidationReject
		}
		// The rate limit comes first and costs a map lookup: a flood of
		// valid-signed messages from one author stops here, before the
		// CBOR decode and the signature check. Over the limit is
		// ignored, not rejected: the relay that forwarded it did nothing
		// wrong, and an honest author's burst must not cost it score.
		if src != self && !lim.allow(src) {
			return pubsub.ValidationIgnore
		}
		msg, err := v(ctx, src, m.Data)
		if err != nil {
			return pubsub.ValidationReject
		}
		m.ValidatorData = msg // Subscribe delivers it without opening it again
		return pubsub.ValidationAccept
	})
	if err != nil {
		return nil, fmt.Errorf("market: validator for %s: %w", name, err)
	}
	t, err := n.ps.Join(name)
	if err != nil {
		return nil, fmt.Errorf("market: join %s: %w", name, err)
	}
	n.topics[name] = t
	return t, nil
}

// SetAuthorLimit sets the per-author rate limit of a gossip topic (a zero
// Rate: no limit). It takes effect when the topic is first joined (by
// Publish or Subscribe), so call it before them; topics without a call get
// TopicLimit(topic).
func (n *HostNetwork) SetAuthorLimit(topic string, lim AuthorLimit) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.limits[topic] = newAuthorLimiter(lim, nil)
}

// RateLimited returns how many gossip messages of topic the per-author
// limit has refused so far.
func (n *HostNetwork) RateLimited(topic string) uint64 {
	n.mu.Lock()
	lim := n.limits[topic]
	n.mu.Unlock()
	_, dropped := lim.stats()
	return dropped
}

// Publish gossips sealed on topic.
func (n *HostNetwork) Publish(ctx context.Context, topic string, sealed []byte) error {
	t, err := n.topic(topic)
	if err != nil {
		return err
	}
	return t.Publish(ctx, sealed)
}

// Subscribe delivers valid messages of topic to fn until ctx ends. It
// returns once subscribed.
func (n *HostNetwork) Subscribe(ctx context.Context, topic string, fn func(from peer.ID, msg wire.Message)) error {
	t, err := n.topic(topic)
	if err != nil {
		return err
	}
	sub, err := t.Subscribe()
	if err != nil {
		return fmt.Errorf("market: subscribe %s: %w", topic, err)
	}
	go func() {
		defer sub.Cancel()
		for {
			m, err := sub.Next(ctx)
			if err != nil {
				return
			}
			src, err := peer.IDFromBytes(m.From)
			if err != nil {
				continue
			}
			// The topic's validator opened and checked it (expiry,
			// signer, type) moments ago and left it here; opening it
			// again cost ≈8% of a 250-node run's CPU. The fallback
			// covers a message delivered without our validator.
			msg, ok := m.ValidatorData.(wire.Message)
			if !ok {
				if msg, _, err = wire.Open(m.Data, wire.MaxSize(wire.TypeJobRequest)); err != nil {
					continue
				}
			}
			fn(src, msg)
		}
	}()
	return nil
}
