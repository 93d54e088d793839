package p2p

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
)

var quietLog = func() *slog.Logger {
	if os.Getenv("P2P_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}()

// simConfig is the config of an in-process simulated node.
func simConfig(boot ...string) Config {
	return Config{
		Bootstrap:         boot,
		DisableNAT:        true,
		DHTMode:           DHTServer,
		MinPeers:          6,
		PeerCheckInterval: 500 * time.Millisecond,
		StreamTimeout:     5 * time.Second,
		HandlerTimeout:    5 * time.Second,
	}
}

// mockNodes starts n nodes on a mocknet with every pair linked (links with
// the given latency) but none connected. cfg builds node i's config; node
// 0's addresses are passed to it as boot (nil for node 0 itself).
func mockNodes(tb testing.TB, n int, latency time.Duration, cfg func(i int, boot []string) Config) ([]*Node, mocknet.Mocknet) {
	tb.Helper()
	mn := mocknet.New()
	tb.Cleanup(func() { _ = mn.Close() })
	mn.SetLinkDefaults(mocknet.LinkOptions{Latency: latency})
	ids := make([]*Identity, n)
	for i := range ids {
		id, err := GenerateIdentity()
		if err != nil {
			tb.Fatal(err)
		}
		ids[i] = id
		// One IP per node: gossipsub's IP-colocation score (P6) would punish
		// a shared one, as it should on the real network.
		a, _ := ma.NewMultiaddr(fmt.Sprintf("/ip4/10.%d.%d.%d/tcp/4242", (i>>16)&0xff, (i>>8)&0xff, i&0xff))
		if _, err := mn.AddPeer(id.PrivKey, a); err != nil {
			tb.Fatal(err)
		}
	}
	if err := mn.LinkAll(); err != nil {
		tb.Fatal(err)
	}
	nodes := make([]*Node, n)
	var boot []string
	start := func(i int) {
		h := mn.Host(ids[i].PeerID)
		nd, err := New(context.Background(), ids[i], cfg(i, boot), WithHost(h), WithLogger(quietLog))
		if err != nil {
			tb.Fatalf("node %d: %v", i, err)
		}
		nodes[i] = nd
	}
	start(0)
	boot = nodes[0].Addrs()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := 1; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			start(i)
		}()
	}
	wg.Wait()
	tb.Cleanup(func() {
		var wg sync.WaitGroup
		for _, nd := range nodes {
			if nd != nil {
				wg.Add(1)
				go func() { defer wg.Done(); _ = nd.Close() }()
			}
		}
		wg.Wait()
	})
	return nodes, mn
}

// eventually polls cond until it holds or the deadline passes (waiting on a
// real, if simulated, network).
func eventually(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", d, what)
		}
		<-tick.C
	}
}
