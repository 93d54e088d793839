// Package hostile holds end-to-end tests of a node under attack: a
// malicious libp2p peer on loopback sends malformed, truncated, oversized,
// badly signed, expired and replayed market messages, floods the gossip
// topics and stalls streams, while an honest client and provider daemon
// (node.Start with an in-process dev chain) keep running jobs. The tests
// check that the node does not crash or stall, that goroutines and heap
// return near their baseline once the attacker leaves, and that gossipsub
// scoring graylists the attacker.
//
// Run them with
//
//	go test ./tests/hostile/
//
// (-short floods less). See docs/threat-model.md for the threats covered.
package hostile
