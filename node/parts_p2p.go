package node

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/node/client"
	"github.com/cloudless-network/cloudless/p2p"
)

// startP2P starts the libp2p host (DHT, gossipsub, mDNS, NAT traversal).
func (n *Node) startP2P(ctx context.Context) error {
	pc := p2p.DefaultConfig()
	pc.ListenAddrs = n.cfg.Listen
	pc.Bootstrap = n.cfg.Bootstrap
	pc.MDNS = n.cfg.MDNS
	pc.RelayService = n.cfg.RelayService
	pc.DisableNAT = !n.cfg.NAT
	pc.DHTMode = n.cfg.DHT
	h, err := p2p.New(ctx, n.id, pc, p2p.WithRegisterer(n.reg), p2p.WithLogger(n.log.With("part", "p2p")))
	if err != nil {
		return fmt.Errorf("p2p: %w", err)
	}
	n.p2p = h
	n.svc.Peers = peerService{h}
	n.onClose("p2p", func(context.Context) error { return h.Close() })
	n.setPart("p2p", true, "")
	n.log.Info("p2p host started", "peer_id", h.ID().String(), "addrs", h.Addrs())
	return nil
}

// peerService answers /v1/peers from the host's live connections.
type peerService struct{ h *p2p.Node }

func (s peerService) Peers(context.Context) ([]client.Peer, error) {
	hst := s.h.Host()
	out := []client.Peer{}
	for _, id := range s.h.Peers() {
		p := client.Peer{ID: id.String(), Addrs: []string{}}
		for _, c := range hst.Network().ConnsToPeer(id) {
			p.Addrs = append(p.Addrs, c.RemoteMultiaddr().String())
			if p.Direction == "" {
				switch c.Stat().Direction {
				case network.DirInbound:
					p.Direction = "inbound"
				case network.DirOutbound:
					p.Direction = "outbound"
				}
			}
		}
		if l := hst.Peerstore().LatencyEWMA(id); l > 0 {
			p.LatencyMS = float64(l.Microseconds()) / 1000
		}
		out = append(out, p)
	}
	return out, nil
}

func (s peerService) Connect(ctx context.Context, addr string) error {
	if _, err := peer.AddrInfoFromString(addr); err != nil {
		return fmt.Errorf("%w: %q is not a multiaddr ending in /p2p/<peer ID>: %v", ErrBadRequest, addr, err)
	}
	_, err := s.h.Connect(ctx, addr)
	return err
}
