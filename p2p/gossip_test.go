package p2p

import (
	"context"
	"errors"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/market/wire"
	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestDHTDiscoveryAndGossip50: 50 nodes that only know one bootstrap peer
// find each other through the DHT, and an offer published by one reaches
// all of them.
func TestDHTDiscoveryAndGossip50(t *testing.T) {
	n := 50
	if testing.Short() {
		n = 20
	}
	start := time.Now()
	nodes, _ := mockNodes(t, n, 0, func(i int, boot []string) Config { return simConfig(boot...) })
	t.Logf("%d nodes started in %s", n, time.Since(start))

	// Every node has peers besides the bootstrap node (found via the DHT),
	// in its routing table too: a peer is added there only once identify
	// has shown it speaks the DHT protocol, after the connection, and a
	// lookup from an empty table fails at once ("failed to find any peer
	// in table", seen under -race).
	eventually(t, 30*time.Second, "every node connected to >= 3 peers, with them in its routing table", func() bool {
		for _, nd := range nodes {
			if len(nd.Peers()) < 3 || nd.dht.RoutingTable().Size() < 3 {
				return false
			}
		}
		return true
	})
	t.Logf("peers found after %s", time.Since(start))
	// Every node can look up a node it was never told about.
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i, nd := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := nodes[(i+n/2)%n].ID()
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			ai, err := nd.Routing().FindPeer(ctx, target)
			if err != nil || ai.ID != target {
				t.Errorf("node %d: FindPeer(%s): %v", i, target, err)
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.FailNow()
	}

	t.Logf("lookups done after %s", time.Since(start))
	// Gossip: a signed offer from node 7 reaches all n nodes.
	subs := make([]*Subscription, n)
	for i, nd := range nodes {
		tp, err := nd.JoinTopic(TopicOffers, wire.GossipValidator(wire.TypeOffer, nil))
		if err != nil {
			t.Fatal(err)
		}
		if subs[i], err = tp.Subscribe(); err != nil {
			t.Fatal(err)
		}
	}
	pub := nodes[7]
	offer := testOffer(t, pub, 1)
	tp, _ := pub.JoinTopic(TopicOffers, nil) // same topic; validator already set
	waitMesh(t, nodes, TopicOffers)
	t.Logf("meshes formed after %s", time.Since(start))
	if err := tp.Publish(t.Context(), offer); err != nil {
		t.Fatal(err)
	}
	var got atomic.Int32
	for i, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			m, err := s.Next(ctx)
			if err != nil {
				t.Errorf("node %d: no offer: %v", i, err)
				return
			}
			if m.From != pub.ID() {
				t.Errorf("node %d: offer from %s", i, m.From)
				return
			}
			got.Add(1)
		}()
	}
	wg.Wait()
	if int(got.Load()) != n {
		t.Fatalf("offer reached %d of %d nodes", got.Load(), n)
	}
	t.Logf("offer delivered everywhere after %s", time.Since(start))
}

// testOffer seals an offer by nd with sequence seq.
func testOffer(tb testing.TB, nd *Node, seq uint64) []byte {
	tb.Helper()
	o := &wire.Offer{
		Provider: nd.ID(), Seq: seq, CPUMillicores: 1000, Slots: 1, Memory: 1 << 30,
		MaxDuration: wire.Duration(time.Minute), Runtime: wire.Runtime,
		Price:  wire.PriceSchedule{PerJob: big.NewInt(1), Tiers: []wire.TierPrice{{MaxMemory: 1 << 30, PerSecond: big.NewInt(1)}}},
		Payout: common.Address(nd.Identity().Address), Stake: big.NewInt(0), MaxModuleSize: 1 << 20,
		Expiry: wire.TimestampOf(time.Now().Add(time.Hour)),
	}
	b, err := wire.Seal(nd.Identity().PrivKey, o)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestFlooderGraylisted: a peer that floods garbage and offers forged as
// its own (someone else's signed envelope under its gossip signature) is
// pushed below the graylist threshold by the victim, while the honest
// peer's offers keep arriving.
func TestFlooderGraylisted(t *testing.T) {
	nodes, mn := mockNodes(t, 3, 0, noBoot)
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	victim, honest, flooder := nodes[0], nodes[1], nodes[2]
	vt, err := victim.JoinTopic(TopicOffers, wire.GossipValidator(wire.TypeOffer, nil))
	if err != nil {
		t.Fatal(err)
	}
	vsub, _ := vt.Subscribe()
	ht, _ := honest.JoinTopic(TopicOffers, wire.GossipValidator(wire.TypeOffer, nil))
	hsub, _ := ht.Subscribe()
	defer hsub.Cancel()
	ft, _ := flooder.JoinTopic(TopicOffers, nil) // the flooder checks nothing
	fsub, _ := ft.Subscribe()
	defer fsub.Cancel()
	for _, tp := range []*Topic{vt, ht, ft} {
		eventually(t, 10*time.Second, "topic peers", func() bool { return len(tp.ListPeers()) == 2 })
	}

	honestOffer := testOffer(t, honest, 1)
	if err := ht.Publish(t.Context(), honestOffer); err != nil {
		t.Fatal(err)
	}
	expectFrom(t, vsub, honest.ID())

	// The flood: garbage and forged offers.
	for i := range 30 {
		data := []byte("garbage garbage garbage")
		if i%2 == 1 {
			data = honestOffer // signed by honest, gossiped by flooder as its own
		}
		if err := ft.Publish(t.Context(), data); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 15*time.Second, "flooder graylisted by victim", func() bool {
		s, ok := victim.PeerScores()[flooder.ID()]
		return ok && s < GraylistThreshold
	})
	if s := victim.PeerScores()[honest.ID()]; s < 0 {
		t.Fatalf("honest peer score %v", s)
	}
	// Honest traffic still flows.
	if err := ht.Publish(t.Context(), testOffer(t, honest, 2)); err != nil {
		t.Fatal(err)
	}
	expectFrom(t, vsub, honest.ID())
	// Nothing from the flooder was ever delivered.
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if m, err := vsub.Next(ctx); err == nil {
		t.Fatalf("unexpected delivery from %s", m.From)
	}
}

// expectFrom waits for the next message and checks its author.
func expectFrom(t *testing.T, s *Subscription, from peer.ID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	m, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("waiting for %s: %v", from, err)
	}
	if m.From != from {
		t.Fatalf("delivered from %s, want %s", m.From, from)
	}
}

// TestRateLimitAndSizeCap: a direct author over its burst and a message
// over the size cap are refused; Publish refuses oversized data locally.
func TestRateLimitAndSizeCap(t *testing.T) {
	nodes, mn := mockNodes(t, 2, 0, noBoot)
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	a, b := nodes[0], nodes[1]
	bt, _ := b.JoinTopic("/cloudless/events/1/test", nil, WithRateLimit(0.001, 3), WithMaxMessageSize(100))
	bsub, _ := bt.Subscribe()
	at, _ := a.JoinTopic("/cloudless/events/1/test", nil, WithRateLimit(1000, 1000), WithMaxMessageSize(1000))
	eventually(t, 10*time.Second, "topic peers", func() bool { return len(at.ListPeers()) == 1 })
	if err := bt.Publish(t.Context(), make([]byte, 101)); err == nil {
		t.Fatal("local oversize publish accepted")
	}
	_ = at.Publish(t.Context(), make([]byte, 200)) // over b's cap
	for range 5 {
		_ = at.Publish(t.Context(), []byte("x"))
	}
	got := 0
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		m, err := bsub.Next(ctx)
		cancel()
		if err != nil {
			break
		}
		if len(m.Data) > 100 {
			t.Fatal("oversized message delivered")
		}
		got++
	}
	if got != 3 {
		t.Fatalf("delivered %d messages, want the burst of 3", got)
	}
}

// TestAppScore: the application score reaches gossipsub's peer score.
func TestAppScore(t *testing.T) {
	nodes, mn := mockNodes(t, 2, 0, noBoot)
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	a, b := nodes[0], nodes[1]
	_, _ = a.JoinTopic(TopicJobs, nil)
	_, _ = b.JoinTopic(TopicJobs, nil)
	a.SetAppScore(func(p peer.ID) float64 {
		if p == b.ID() {
			return -5000
		}
		return 0
	})
	eventually(t, 10*time.Second, "app score applied", func() bool {
		s, ok := a.PeerScores()[b.ID()]
		return ok && s <= -5000
	})
	a.SetAppScore(nil)
	eventually(t, 10*time.Second, "app score removed", func() bool {
		s, ok := a.PeerScores()[b.ID()]
		return ok && s > -1
	})
}

// waitMesh waits until every node has a gossipsub mesh for the topic.
func waitMesh(tb testing.TB, nodes []*Node, topic string) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var missing []int
		for i, nd := range nodes {
			nd.mu.Lock()
			tp := nd.topics[topic]
			nd.mu.Unlock()
			if tp == nil || len(tp.MeshPeers()) == 0 {
				missing = append(missing, i)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, i := range missing {
				nd := nodes[i]
				tp := nd.topics[topic]
				tb.Logf("node %d: %d peers, %d topic peers, scores %v", i, len(nd.Peers()), len(tp.ListPeers()), nd.PeerScores())
			}
			tb.Fatalf("nodes without a mesh on %s: %v", topic, missing)
		}
		time.Sleep(20 * time.Millisecond) // polling a simulated network
	}
}

func TestTopicAfterCloseAndIterator(t *testing.T) {
	nodes, mn := mockNodes(t, 2, 0, noBoot)
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	a, b := nodes[0], nodes[1]
	bt, _ := b.JoinTopic("/cloudless/events/1/iter", nil)
	sub, _ := bt.Subscribe()
	at, _ := a.JoinTopic("/cloudless/events/1/iter", nil)
	if again, _ := a.JoinTopic("/cloudless/events/1/iter", nil); again != at {
		t.Fatal("joining twice gave a different topic")
	}
	eventually(t, 10*time.Second, "topic peers", func() bool { return len(at.ListPeers()) == 1 })
	for _, s := range []string{"a", "b", "c"} {
		if err := at.Publish(t.Context(), []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var got string
	for m := range sub.All(ctx) {
		got += string(m.Data)
		if len(got) == 3 {
			break
		}
	}
	b2 := []byte(got)
	slices.Sort(b2) // validation runs concurrently: order is not guaranteed
	if string(b2) != "abc" {
		t.Fatalf("iterated %q", got)
	}
	sub.Cancel()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.JoinTopic(TopicJobs, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("join after close: %v", err)
	}
}
