package market

import (
	"context"
	"strings"

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
		n.serveFrame(s, wire.MaxCaseSize, fn)
	})
}

// RequestMediation sends a sealed case to p on wire.MediateProtocol.
func (n *HostNetwork) RequestMediation(ctx context.Context, p peer.ID, sealed []byte) ([]byte, error) {
	return n.request(ctx, p, protocol.ID(wire.MediateProtocol), streamLabels{stream: "mediation ", request: "case ", peer: "mediator "}, sealed)
}

// reasonText cuts s to its first line and wire.MaxTextLen bytes (valid UTF-8).
func reasonText(s string) string {
	s = oneLine(s)
	if len(s) > wire.MaxTextLen {
		s = strings.ToValidUTF8(s[:wire.MaxTextLen], "")
	}
	return s
}
