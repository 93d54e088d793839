package node

import (
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/market"
)

// validateMediation checks the market's mediation settings: peer IDs
// that carry a secp256k1 key (their Ethereum address is what deals
// name), and a fee only with a mediator (the contract refuses a fee
// without one).
func (m MarketConfig) validateMediation() error {
	if m.Mediator != "" {
		if _, err := mediatorPeer(m.Mediator); err != nil {
			return fmt.Errorf("%w: market.mediator: %v", ErrConfig, err)
		}
	}
	if m.MediatorFee.Sign() < 0 {
		return fmt.Errorf("%w: market.mediator_fee must not be negative", ErrConfig)
	}
	if m.MediatorFee.Sign() > 0 && m.Mediator == "" {
		return fmt.Errorf("%w: market.mediator_fee needs market.mediator", ErrConfig)
	}
	for _, s := range m.Mediators {
		if _, err := mediatorPeer(s); err != nil {
			return fmt.Errorf("%w: market.mediators: %v", ErrConfig, err)
		}
	}
	return nil
}

// mediatorPeer parses a mediator's peer ID; it must carry a secp256k1
// key, from which its address derives.
func mediatorPeer(s string) (peer.ID, error) {
	id, err := peer.Decode(s)
	if err != nil {
		return "", fmt.Errorf("peer ID %q: %v", s, err)
	}
	if _, err := market.AddressOf(id); err != nil {
		return "", fmt.Errorf("peer ID %q has no secp256k1 key (no Ethereum address)", s)
	}
	return id, nil
}
