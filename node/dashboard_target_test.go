package node

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/node/client"
)

type dashboardTarget struct {
	url, token, peerID string
	finalState         string
	runJob             func(t *testing.T) string
}

// startDashboardTarget runs a provider and a client daemon (in process,
// loopback, port 0) on a dev chain; runJob runs a real job through the
// client's control API, the way `cloudless run` does, and waits until it
// is paid. The dashboard under test is the client's.
func startDashboardTarget(t *testing.T) *dashboardTarget {
	mp := startMarketPair(t)
	module, err := os.ReadFile(filepath.Join("testdata", "hello.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return &dashboardTarget{
		url: "http://" + mp.client.APIAddr(), token: mp.client.Token(), peerID: mp.client.id.PeerID.String(),
		finalState: "paid",
		runJob: func(t *testing.T) string {
			j := runMarketJob(t, mp, module)
			return j.ID
		},
	}
}

// runMarketJob publishes module on the client, runs it on the provider
// and waits until the job is paid.
func runMarketJob(t *testing.T, mp *marketPair, module []byte) client.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pub, err := mp.cc.Publish(ctx, bytes.NewReader(module), "hello.wasm")
	if err != nil {
		t.Fatal(err)
	}
	// Ask the provider directly: the offer book fills over gossipsub at the
	// provider's offer interval (30 s), too slow for a test.
	j, err := mp.cc.Run(ctx, map[string]any{
		"spec":      map[string]any{"module": pub.CID, "resources": map[string]any{"timeout": "10s"}, "price": map[string]any{"max": "0.01 ether"}},
		"providers": []string{mp.provider.p2p.ID().String()},
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	var last client.Job
	if err := waitFor(ctx, func() (bool, error) {
		last, err = mp.cc.Job(ctx, j.ID)
		return last.State == "paid" || last.State == "failed" || last.State == "refunded", err
	}); err != nil {
		t.Fatalf("job %s stuck in %q: %v", j.ID, last.State, err)
	}
	if last.State != "paid" || last.ExitCode == nil || *last.ExitCode != 0 || last.ResultCID == "" {
		last.Detail = nil
		t.Fatalf("job ended %+v", last)
	}
	return last
}
