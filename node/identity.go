package node

import (
	"github.com/cloudless-network/cloudless/node/client"
	"github.com/cloudless-network/cloudless/p2p"
)

func createIdentity(repoDir string, pass string, light bool) (client.ID, error) {
	id, err := p2p.CreateIdentity(repoDir, pass, light)
	if err != nil {
		return client.ID{}, err
	}
	return client.ID{PeerID: id.PeerID.String(), Address: id.Address.Hex(), Addrs: []string{}}, nil
}

// ReadID unlocks the repo's key and returns the node's peer ID and address
// (no addresses: the caller knows which ones it wants to show).
func ReadID(repoDir string, pass string) (client.ID, error) {
	id, err := p2p.LoadIdentity(repoDir, pass)
	if err != nil {
		return client.ID{}, err
	}
	return client.ID{PeerID: id.PeerID.String(), Address: id.Address.Hex(), Repo: repoDir, Addrs: []string{}}, nil
}
