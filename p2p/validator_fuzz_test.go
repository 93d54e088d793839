package p2p

import (
	"bytes"
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/market/wire"
)

// fuzzNow is the validators' clock in FuzzGossipValidator, so the checked-in
// seeds (sealed with fuzzKey, expiring an hour later) stay valid.
var fuzzNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fuzzKey is a fixed secp256k1 key: checked-in seeds are signed by it.
func fuzzKey(tb testing.TB) (crypto.PrivKey, peer.ID) {
	priv, err := crypto.UnmarshalSecp256k1PrivateKey(bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	return priv, id
}

func fuzzGossipSeeds(tb testing.TB) [][]byte {
	priv, id := fuzzKey(tb)
	exp := wire.TimestampOf(fuzzNow.Add(time.Hour))
	offer := &wire.Offer{
		Provider: id, Seq: 1, CPUMillicores: 1000, Slots: 1, Memory: 1 << 30,
		MaxDuration: wire.Duration(time.Minute), Runtime: wire.Runtime,
		Price:  wire.PriceSchedule{PerJob: big.NewInt(1), Tiers: []wire.TierPrice{{MaxMemory: 1 << 30, PerSecond: big.NewInt(1)}}},
		Payout: common.HexToAddress("0x01"), Stake: big.NewInt(0), MaxModuleSize: 1 << 20,
		Expiry: exp,
	}
	cancel := &wire.Cancel{JobID: wire.JobID{1}, Sender: id, Reason: "x", Expiry: exp}
	var out [][]byte
	for _, m := range []wire.Message{offer, cancel} {
		b, err := wire.Seal(priv, m)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return append(out, []byte{}, []byte("garbage"), bytes.Repeat([]byte{0xa1}, 100))
}

// FuzzGossipValidator feeds arbitrary payloads and authors through a
// joined topic's whole validation path (size cap, per-author rate limit,
// market/wire.GossipValidator), as gossipsub would for every message a
// peer sends. Properties: no panic; over the size cap is rejected before
// anything else; an accepted message opens as the topic's type, signed by
// its gossip author; a rate-limited message is rejected when it came from
// its author directly and ignored (no penalty) when relayed.
func FuzzGossipValidator(f *testing.F) {
	nodes, _ := mockNodes(f, 1, 0, func(int, []string) Config { return simConfig() })
	nd := nodes[0]
	clock := func() time.Time { return fuzzNow }
	const maxSize = 4 << 10
	offers, err := nd.JoinTopic(TopicOffers, wire.GossipValidator(wire.TypeOffer, clock),
		WithMaxMessageSize(maxSize), WithRateLimit(1e9, 1<<30))
	if err != nil {
		f.Fatal(err)
	}
	// A tiny bucket, so the rate-limit path is exercised too.
	limited, err := nd.JoinTopic("/cloudless/fuzz/limited", wire.GossipValidator(wire.TypeOffer, clock),
		WithMaxMessageSize(maxSize), WithRateLimit(0.001, 1))
	if err != nil {
		f.Fatal(err)
	}
	_, seedAuthor := fuzzKey(f)
	if err := wire.GossipValidator(wire.TypeOffer, clock)(f.Context(), seedAuthor, fuzzGossipSeeds(f)[0]); err != nil {
		f.Fatalf("seed offer does not validate: %v", err)
	}
	for _, s := range fuzzGossipSeeds(f) {
		f.Add(s, []byte(seedAuthor), false, false)
		f.Add(s, []byte(seedAuthor), true, true)
	}
	other, _ := GenerateIdentity()
	f.Add(fuzzGossipSeeds(f)[0], []byte(other.PeerID), false, false)

	f.Fuzz(func(t *testing.T, data, from []byte, relayed, useLimited bool) {
		tp := offers
		if useLimited {
			tp = limited
		}
		author := peer.ID(from)
		recv := author
		if relayed {
			recv = other.PeerID
		}
		msg := &pubsub.Message{Message: &pb.Message{From: from, Data: data}, ReceivedFrom: recv}
		res, reason := tp.check(context.Background(), recv, msg)
		switch res {
		case pubsub.ValidationAccept, pubsub.ValidationReject, pubsub.ValidationIgnore:
		default:
			t.Fatalf("verdict %v", res)
		}
		if len(data) > maxSize {
			if res != pubsub.ValidationReject || reason != "too_large" {
				t.Fatalf("%d bytes over cap %d: %v %s", len(data), maxSize, res, reason)
			}
			return
		}
		if reason == "rate_limited" {
			want := pubsub.ValidationReject
			if relayed {
				want = pubsub.ValidationIgnore
			}
			if res != want {
				t.Fatalf("rate limited (relayed=%v): %v", relayed, res)
			}
			return
		}
		vErr := wire.GossipValidator(wire.TypeOffer, clock)(context.Background(), author, data)
		if (res == pubsub.ValidationAccept) != (vErr == nil) {
			t.Fatalf("verdict %v (%s) but validator says %v", res, reason, vErr)
		}
		if res != pubsub.ValidationAccept {
			return
		}
		m, signer, err := wire.OpenAt(data, wire.MaxSize(wire.TypeOffer), fuzzNow)
		if err != nil || m.Type() != wire.TypeOffer || signer != author {
			t.Fatalf("accepted %T signer %s author %s: %v", m, signer, author, err)
		}
	})
}
