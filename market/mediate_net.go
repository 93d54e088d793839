package market

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/cloudless-network/cloudless/market/wire"
)

// CaseHandler answers one sealed mediation case that arrived on
// wire.MediateProtocol from peer from (the stream's authenticated remote
// peer, which may relay someone else's case). Its reply is sent back; an
// error is sent back as a one-line refusal.
type CaseHandler func(ctx context.Context, from peer.ID, sealed []byte) ([]byte, error)

// MediationNetwork is the optional part of a Network that carries
// mediation cases on their own stream protocol, wire.MediateProtocol
// (*HostNetwork has it). A client or provider whose Network lacks it
// cannot bring a case; its disputes then end by expiry.
type MediationNetwork interface {
	// RequestMediation sends a sealed MediationCase to p and returns the
	// reply (a sealed MediationReply); a refusal before the case could be
	// opened comes back as an error wrapping ErrRefused.
	RequestMediation(ctx context.Context, p peer.ID, sealed []byte) ([]byte, error)
	// HandleMediation serves wire.MediateProtocol with fn; nil stops.
	HandleMediation(fn CaseHandler)
}

var _ MediationNetwork = (*HostNetwork)(nil)

// HandleMediation serves cases on wire.MediateProtocol with fn (nil
// removes the handler). Frames are as on the market protocol; a request
// is capped at wire.MaxCaseSize before it is read.
func (n *HostNetwork) HandleMediation(fn CaseHandler) {
	if fn == nil {
		n.h.RemoveStreamHandler(protocol.ID(wire.MediateProtocol))
		return
	}
	n.h.SetStreamHandler(protocol.ID(wire.MediateProtocol), func(s network.Stream) {
		defer s.Close()
		_ = s.SetDeadline(time.Now().Add(StreamTimeout))
		from := s.Conn().RemotePeer()
		_, data, err := readFrame(bufio.NewReader(s), wire.MaxCaseSize)
		if err != nil {
			n.log.Debug("bad mediation frame", "peer", from, "err", err)
			_ = s.Reset()
			return
		}
		reply, err := fn(n.ctx, from, data)
		if err != nil {
			_ = writeFrame(s, replyError, []byte(reasonText(err.Error())))
			return
		}
		_ = writeFrame(s, replyOK, reply)
	})
}

// RequestMediation sends a sealed case to p on wire.MediateProtocol.
func (n *HostNetwork) RequestMediation(ctx context.Context, p peer.ID, sealed []byte) ([]byte, error) {
	s, err := n.h.NewStream(network.WithAllowLimitedConn(ctx, "mediate"), p, protocol.ID(wire.MediateProtocol))
	if err != nil {
		return nil, fmt.Errorf("market: open mediation stream to %s: %w", p, err)
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
		return nil, fmt.Errorf("market: send case to %s: %w", p, err)
	}
	if err := s.CloseWrite(); err != nil {
		return nil, fmt.Errorf("market: send case to %s: %w", p, err)
	}
	status, reply, err := readFrame(bufio.NewReader(s), wire.MaxMessageSize)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("market: mediation reply from %s: %w", p, err)
	}
	if status != replyOK {
		return nil, fmt.Errorf("%w by mediator %s: %s", ErrRefused, p, reply)
	}
	return reply, nil
}

// reasonText cuts s to its first line and wire.MaxTextLen bytes (valid UTF-8).
func reasonText(s string) string {
	s = oneLine(s)
	if len(s) > wire.MaxTextLen {
		s = strings.ToValidUTF8(s[:wire.MaxTextLen], "")
	}
	return s
}
