// Package p2p is cloudless's libp2p layer: the node identity, the host,
// discovery, gossip topics with validators, and framed request/response
// streams.
//
// Identity: one secp256k1 key per node, kept in the repo's keystore/ in
// go-ethereum's encrypted keystore format. Its libp2p peer ID and its
// Ethereum address derive from the same public key, so AddressOf(peerID)
// names the account behind any signed message.
//
//	id, err := p2p.LoadIdentity(repo, pass)
//	n, err := p2p.New(ctx, id, p2p.DefaultConfig())
//	defer n.Close()
//
// Host: TCP and QUIC, Noise and TLS, yamux, the resource manager with
// limits scaled to the machine, a connection manager, AutoNAT, UPnP, circuit
// relay v2 client (static relays or candidates from the DHT), hole punching,
// and optionally a relay service. Discovery: a Kademlia DHT under the
// /cloudless prefix, bootstrap peers, mDNS on the LAN, and a loop that keeps
// MinPeers by redialing bootstrap peers and peers advertised in the DHT.
//
// Gossip: JoinTopic installs a Validator behind a size cap and a per-author
// token bucket; gossipsub runs with strict signing and peer scoring
// (invalid messages push a peer to the graylist; SetAppScore adds the
// market's reputation).
//
//	t, _ := n.JoinTopic(p2p.TopicOffers, wire.GossipValidator(wire.TypeOffer, nil))
//	sub, _ := t.Subscribe()
//	msg, _ := sub.Next(ctx)
//
// Streams: Handle and Request exchange one varint-length-prefixed frame
// each way, with the size cap checked before allocating and deadlines on
// every read and write; WriteFrame and ReadFrame are the framing alone.
//
// The wire format is in docs/protocol.md; design choices in
// docs/rationale/p2p.md.
package p2p
