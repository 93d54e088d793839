// Package wire defines the messages of the cloudless market protocol, once:
// Offer, JobRequest (with its JobSpec), Bid, Award, Result and Cancel.
//
// Every message is deterministic CBOR (RFC 8949 core deterministic encoding)
// carried in a libp2p signed envelope (core/record) under the domain
// "cloudless-market" with the message Type as payload type. The signer's
// peer ID embeds its secp256k1 public key, so p2p.AddressOf(signer) is the
// Ethereum account that signed. Each message has a Version, is size-capped
// (reject, don't truncate), is decoded with bounded nesting, array and map
// sizes and no duplicate keys, carries an expiry (where replay matters) and a
// job ID or sequence number.
//
// Sending:
//
//	offer := &wire.Offer{Provider: id.PeerID, Runtime: wire.Runtime, ...}
//	data, err := wire.Seal(id.PrivKey, offer)
//
// Receiving:
//
//	msg, signer, err := wire.Open(data, wire.MaxMessageSize)
//	switch m := msg.(type) {
//	case *wire.Bid: ...
//	}
//
// Gossip topics take wire.GossipValidator(wire.TypeOffer, nil) as their
// p2p validator. Users write job specs in YAML or JSON; ParseJobSpec reads
// them strictly.
//
// The full protocol, with topics, stream framing and limits, is in
// docs/protocol.md.
package wire
