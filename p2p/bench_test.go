package p2p

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/market/wire"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
)

// BenchmarkOfferPropagation measures how long a signed offer takes to reach
// 99% of N simulated nodes over links with 20 ms latency, and how many
// copies each node receives per offer (amplification). Topology: each node
// dials 8 random others (a sparse random graph, as the DHT and MinPeers
// leave it); every node validates with wire.GossipValidator.
//
//	go test ./p2p -run '^$' -bench OfferPropagation -benchtime 10x
func BenchmarkOfferPropagation(b *testing.B) {
	for _, n := range []int{100, 500} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			if n > 100 && testing.Short() {
				b.Skip("N=500 is slow; run without -short")
			}
			benchPropagation(b, n, 8, 20*time.Millisecond)
		})
	}
}

func benchPropagation(b *testing.B, n, degree int, latency time.Duration) {
	nodes := sparseMockNodes(b, n, degree, latency)
	type counter struct{ got atomic.Int32 }
	var seen sync.Map // offer bytes -> *counter
	topics := make([]*Topic, n)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(func() { cancel(); wg.Wait() })
	for i, nd := range nodes {
		tp, err := nd.JoinTopic(TopicOffers, wire.GossipValidator(wire.TypeOffer, nil), WithRateLimit(1000, 1000))
		if err != nil {
			b.Fatal(err)
		}
		topics[i] = tp
		sub, err := tp.Subscribe()
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := sub.Next(ctx)
				if err != nil {
					return
				}
				if c, ok := seen.Load(string(m.Data)); ok {
					c.(*counter).got.Add(1)
				}
			}
		}()
	}
	waitMesh(b, nodes, TopicOffers)
	before := totalReceived(nodes)
	need := int32((n*99 + 99) / 100)
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		pub := nodes[rand.IntN(n)]
		offer := testOffer(b, pub, uint64(i+1))
		c := &counter{}
		seen.Store(string(offer), c)
		start := time.Now()
		if err := topics[indexOf(nodes, pub)].Publish(ctx, offer); err != nil {
			b.Fatal(err)
		}
		deadline := start.Add(30 * time.Second)
		for c.got.Load() < need {
			if time.Now().After(deadline) {
				b.Fatalf("offer %d reached %d of %d nodes in 30s", i, c.got.Load(), n)
			}
			time.Sleep(time.Millisecond)
		}
		lat = append(lat, time.Since(start))
		// Let stragglers and duplicates land before the next offer.
		for c.got.Load() < int32(n) && time.Since(start) < 2*time.Second {
			time.Sleep(5 * time.Millisecond)
		}
	}
	b.StopTimer()
	after := totalReceived(nodes)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-to-99%-p50")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "ms-to-99%-max")
	b.ReportMetric(float64(after-before)/float64(n)/float64(b.N), "msgs/node/offer")
}

func indexOf(nodes []*Node, x *Node) int {
	for i, n := range nodes {
		if n == x {
			return i
		}
	}
	return -1
}

// totalReceived sums copies received from the network by all nodes.
func totalReceived(nodes []*Node) uint64 {
	var t uint64
	for _, nd := range nodes {
		s := nd.GossipStats()
		t += s.Delivered + s.Duplicates + s.Rejected
	}
	return t
}

// sparseMockNodes starts n nodes on a mocknet where each dials degree
// random others over links with the given latency (only those pairs are
// linked, so large n stays cheap).
func sparseMockNodes(tb testing.TB, n, degree int, latency time.Duration) []*Node {
	tb.Helper()
	mn := mocknet.New()
	tb.Cleanup(func() { _ = mn.Close() })
	ids := make([]*Identity, n)
	for i := range ids {
		id, err := GenerateIdentity()
		if err != nil {
			tb.Fatal(err)
		}
		ids[i] = id
		a, _ := ma.NewMultiaddr(fmt.Sprintf("/ip4/10.%d.%d.%d/tcp/4242", (i>>16)&0xff, (i>>8)&0xff, i&0xff))
		if _, err := mn.AddPeer(id.PrivKey, a); err != nil {
			tb.Fatal(err)
		}
	}
	nodes := make([]*Node, n)
	for i := range nodes {
		cfg := Config{DisableNAT: true, DHTMode: DHTClient, MinPeers: 0, PeerCheckInterval: time.Hour}
		nd, err := New(context.Background(), ids[i], cfg, WithHost(mn.Host(ids[i].PeerID)), WithLogger(quietLog))
		if err != nil {
			tb.Fatal(err)
		}
		nodes[i] = nd
	}
	tb.Cleanup(func() {
		for _, nd := range nodes {
			_ = nd.Close()
		}
	})
	opts := mocknet.LinkOptions{Latency: latency}
	for i := range n {
		for range degree / 2 {
			j := rand.IntN(n)
			if j == i {
				continue
			}
			if _, err := mn.LinkPeers(ids[i].PeerID, ids[j].PeerID); err != nil {
				tb.Fatal(err)
			}
			for _, l := range mn.LinksBetweenPeers(ids[i].PeerID, ids[j].PeerID) {
				l.SetOptions(opts)
			}
			if _, err := mn.ConnectPeers(ids[i].PeerID, ids[j].PeerID); err != nil {
				tb.Fatal(err)
			}
		}
	}
	// Ring edges keep the graph connected.
	for i := range n {
		j := (i + 1) % n
		if _, err := mn.LinkPeers(ids[i].PeerID, ids[j].PeerID); err != nil {
			tb.Fatal(err)
		}
		for _, l := range mn.LinksBetweenPeers(ids[i].PeerID, ids[j].PeerID) {
			l.SetOptions(opts)
		}
		if _, err := mn.ConnectPeers(ids[i].PeerID, ids[j].PeerID); err != nil {
			tb.Fatal(err)
		}
	}
	return nodes
}
