package hostile_test

import (
	"context"
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	mkt "github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// TestGossipFloodRateLimited: a peer floods both market topics with
// valid-signed messages (every offer a new sequence number, every job
// request a new ID, so gossipsub's duplicate cache does not help) while
// another peer behaves. The daemons' per-author limit (market/ratelimit.go)
// lets through at most the flooder's burst plus its rate, so an observer
// that hears the topics only through the two daemons counts few of the
// flood; every message of the honest peer still arrives; and an honest job
// runs during the flood.
func TestGossipFloodRateLimited(t *testing.T) {
	offersN, jobsN := 400, 1200
	if testing.Short() {
		offersN, jobsN = 150, 500
	}
	// The flood stops after floodFor even if not all was sent: signing
	// and publishing 1,600 messages takes over a minute under -race on a
	// loaded machine. The bound below uses what was really sent.
	const floodFor = 10 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	m := startMarket(t)

	// The observer is connected to the two daemons only: what it hears
	// of the flooder is what their validators accepted and forwarded.
	obs := newObserver(t, ctx)
	flooder, honest := newAttacker(t), newAttacker(t)
	t.Cleanup(func() { flooder.h.Close(); honest.h.Close() })
	for _, d := range []*daemon{m.provider, m.client} {
		for _, p := range []*attacker{flooder, honest} {
			if err := p.connect(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		ai, _ := peer.AddrInfoFromString(d.id.Addrs[0])
		if err := obs.h.Connect(ctx, *ai); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*attacker{flooder, honest} {
		if err := poll(ctx, func() (bool, error) {
			return len(p.topics[wire.TopicOffers].ListPeers()) >= 2 && len(p.topics[wire.TopicJobs].ListPeers()) >= 1, nil
		}); err != nil {
			t.Fatalf("the peers never saw the daemons on the topics: %v", err)
		}
	}
	// The observer must be in a daemon's mesh to be forwarded to (the
	// graft comes at a heartbeat after the connection): the honest peer
	// republishes its offer until the observer hears it.
	seq := uint64(0)
	if err := poll(ctx, func() (bool, error) {
		if obs.count(wire.TopicOffers, honest.id) > 0 {
			return true, nil
		}
		seq++
		return false, honest.topics[wire.TopicOffers].Publish(ctx, honest.seal(t, honest.offer(seq, 1, time.Now().Add(time.Hour))))
	}); err != nil {
		t.Fatalf("the observer never heard the honest offer through the daemons: %v", err)
	}
	// Give the stragglers of that loop up to 2 s to arrive (some were
	// sent before the graft and never will), then count from here.
	sctx, scancel := context.WithTimeout(ctx, 2*time.Second)
	_ = poll(sctx, func() (bool, error) { return obs.count(wire.TopicOffers, honest.id) >= int(seq), nil })
	scancel()
	base := obs.count(wire.TopicOffers, honest.id)

	start := time.Now()
	var wg, floods sync.WaitGroup
	var sent [2]atomic.Int64
	floods.Go(func() {
		for i := range offersN {
			if time.Since(start) > floodFor {
				return
			}
			sent[0].Add(1)
			o := flooder.offer(uint64(i+1), uint32(i%64+1), time.Now().Add(time.Hour))
			if err := flooder.topics[wire.TopicOffers].Publish(ctx, flooder.seal(t, o)); err != nil {
				t.Errorf("offer flood: %v", err)
				return
			}
		}
	})
	floods.Go(func() {
		for range jobsN {
			if time.Since(start) > floodFor {
				return
			}
			sent[1].Add(1)
			r := flooder.jobRequest(t, m.module, time.Now().Add(2*time.Second))
			if err := flooder.topics[wire.TopicJobs].Publish(ctx, flooder.seal(t, r)); err != nil {
				t.Errorf("job request flood: %v", err)
				return
			}
		}
	})
	// What the observer heard of the flooder when the flood ended, and
	// how long it took: both taken at once, so the bound holds whatever
	// the machine's speed.
	var floodElapsed time.Duration
	floodGot := map[string]int{}
	wg.Go(func() {
		floods.Wait()
		obs.mu.Lock()
		floodElapsed = time.Since(start)
		for _, topic := range []string{wire.TopicOffers, wire.TopicJobs} {
			floodGot[topic] = obs.n[topic][flooder.id]
		}
		obs.mu.Unlock()
	})
	// The honest peer publishes at an honest pace during the flood.
	wg.Go(func() {
		for i := uint64(1); i <= 3; i++ {
			if err := honest.topics[wire.TopicOffers].Publish(ctx, honest.seal(t, honest.offer(seq+i, 1, time.Now().Add(time.Hour)))); err != nil {
				t.Errorf("honest offer: %v", err)
			}
		}
	})
	during := m.runJob(t, "during the gossip flood")
	wg.Wait()
	// gossipsub drops what overflows a router's validation queue before
	// any validator runs, whoever sent it, so an honest offer sent
	// mid-burst may be lost as a real provider's would be until its next
	// one (30 s later). The next one must get through at once.
	if err := honest.topics[wire.TopicOffers].Publish(ctx, honest.seal(t, honest.offer(seq+4, 1, time.Now().Add(time.Hour)))); err != nil {
		t.Fatal(err)
	}
	hctx, hcancel := context.WithTimeout(ctx, 20*time.Second)
	err := poll(hctx, func() (bool, error) { return obs.count(wire.TopicOffers, honest.id) >= base+1, nil })
	hcancel()
	if err != nil {
		t.Fatalf("honest offers starved by the flood: the observer heard none of 4")
	}
	t.Logf("honest offers heard: %d of 4 (3 during the flood)", obs.count(wire.TopicOffers, honest.id)-base)
	m.alive(t)

	// Each daemon passes at most burst + rate × elapsed of one author;
	// the observer hears the union of the two daemons' (+1 each for the
	// token refilled while we count). The check holds at any instant; the
	// end of the flood is the tightest.
	for _, tc := range []struct {
		topic string
		lim   mkt.AuthorLimit
		sent  int
	}{
		{wire.TopicOffers, mkt.DefaultOfferLimit, int(sent[0].Load())},
		{wire.TopicJobs, mkt.DefaultJobLimit, int(sent[1].Load())},
	} {
		elapsed := floodElapsed
		bound := 2 * (tc.lim.Burst + int(tc.lim.Rate*elapsed.Seconds()) + 1)
		got := floodGot[tc.topic]
		t.Logf("%s: flooder sent %d, the daemons forwarded %d (bound %d) in %s", tc.topic, tc.sent, got, bound, elapsed.Round(time.Millisecond))
		if got > bound {
			t.Errorf("%s: the daemons forwarded %d of the flooder's %d messages in %s; the per-author limit allows %d",
				tc.topic, got, tc.sent, elapsed, bound)
		}
		if bound >= tc.sent {
			t.Logf("%s: the flood was too slow to exceed the limit on this machine (%s); the bound proves nothing here", tc.topic, elapsed)
		}
	}
	t.Logf("honest job during the flood: %s", during)
}

// obsHost is a plain gossipsub peer that counts what it hears per topic
// and author.
type obsHost struct {
	h  host.Host
	ps *pubsub.PubSub
	mu sync.Mutex
	n  map[string]map[peer.ID]int
}

func (o *obsHost) count(topic string, author peer.ID) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[topic][author]
}

func newObserver(t *testing.T, ctx context.Context) *obsHost {
	t.Helper()
	priv, _, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.Identity(priv), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ps, err := pubsub.NewGossipSub(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	o := &obsHost{h: h, ps: ps, n: map[string]map[peer.ID]int{}}
	for _, name := range []string{wire.TopicOffers, wire.TopicJobs} {
		tp, err := ps.Join(name)
		if err != nil {
			t.Fatal(err)
		}
		sub, err := tp.Subscribe()
		if err != nil {
			t.Fatal(err)
		}
		o.n[name] = map[peer.ID]int{}
		go func() {
			for {
				msg, err := sub.Next(ctx)
				if err != nil {
					return
				}
				o.mu.Lock()
				o.n[name][msg.GetFrom()]++
				o.mu.Unlock()
			}
		}()
	}
	return o
}
