package node

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
	"github.com/cloudless-network/cloudless/node/client"
)

// spin.wasm (tests/e2e/testdata/spin.c) computes about 0.7 s per 300 of
// its argument on an idle core.

// startSpinJob publishes spin.wasm on the client and awards it to the
// provider directly; it returns once the provider has the job (awarded or
// running).
func startSpinJob(t *testing.T, ctx context.Context, mp *marketPair, spinArg string) client.Job {
	t.Helper()
	module, err := os.ReadFile(filepath.Join("testdata", "spin.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := mp.cc.Publish(ctx, bytes.NewReader(module), "spin.wasm")
	if err != nil {
		t.Fatal(err)
	}
	j, err := mp.cc.Run(ctx, map[string]any{
		"spec": map[string]any{"module": pub.CID, "args": []string{spinArg},
			"resources": map[string]any{"timeout": "60s"}, "price": map[string]any{"max": "0.01 ether"}},
		"providers": []string{mp.provider.p2p.ID().String()},
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if err := waitFor(ctx, func() (bool, error) {
		pj, err := mp.pc.Job(ctx, j.ID)
		return err == nil && pj.Role == "provider" && (pj.State == "awarded" || pj.State == "running"), nil
	}); err != nil {
		t.Fatalf("provider never took job %s: %v", j.ID, err)
	}
	return j
}

// TestCloseFinishesRunningJob: Close on a provider in the middle of a
// job waits for the job to run, be committed and be delivered, then stops
// cleanly within the shutdown timeout. The client has its result (and
// pays) without waiting for any deadline, and after a restart both
// ledgers agree: nothing is re-run, nothing is left half-done.
func TestCloseFinishesRunningJob(t *testing.T) {
	if testing.Short() {
		t.Skip("two daemons and a dev chain")
	}
	mp := startMarketPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	j := startSpinJob(t, ctx, mp, "1500") // a few seconds
	var err error

	const timeout = 45 * time.Second
	cctx, ccancel := context.WithTimeout(context.Background(), timeout)
	defer ccancel()
	t0 := time.Now()
	closed := make(chan error, 1)
	go func() { closed <- mp.provider.Close(cctx) }()

	// While it drains, the provider takes no new job: the market protocol
	// is gone from its host, and a job sent to it ends without it.
	if err := waitFor(ctx, func() (bool, error) {
		return !slices.Contains(mp.provider.p2p.Host().Mux().Protocols(), protocol.ID(wire.MarketProtocol)), nil
	}); err != nil {
		t.Fatalf("market protocol still served: %v", err)
	}
	var late client.Job
	late, err = mp.cc.Run(ctx, map[string]any{
		"spec":      map[string]any{"module": j.Module, "args": []string{"1"}, "resources": map[string]any{"timeout": "5s"}, "price": map[string]any{"max": "0.01 ether"}},
		"providers": []string{mp.provider.p2p.ID().String()},
	})
	if err == nil {
		if err := waitFor(ctx, func() (bool, error) {
			late, err = mp.cc.Job(ctx, late.ID)
			return late.State == "failed" || late.State == "cancelled" || late.State == "refunded" || late.State == "paid", err
		}); err != nil || late.State == "paid" {
			late.Detail = nil
			t.Fatalf("job sent while draining: %+v: %v", late, err)
		}
		t.Logf("job sent while draining ended %s after %s: %s", late.State, time.Since(t0), late.Error)
	} else {
		t.Logf("job sent while draining refused: %v", err)
	}

	if err := <-closed; err != nil {
		t.Fatalf("close: %v", err)
	}
	took := time.Since(t0)
	if took >= timeout {
		t.Fatalf("close took %s, over the %s shutdown timeout", took, timeout)
	}
	t.Logf("provider stopped in %s", took)

	// The result was delivered before the provider stopped: the client
	// has it now, not after a deadline.
	cj, err := mp.cc.Job(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cj.ResultCID == "" || cj.ExitCode == nil || *cj.ExitCode != 0 {
		cj.Detail = nil
		t.Fatalf("client job right after the provider stopped: %+v", cj)
	}
	// The client verifies and pays on chain with the provider down.
	if err := waitFor(ctx, func() (bool, error) {
		cj, err = mp.cc.Job(ctx, j.ID)
		return cj.State == "paid" || cj.State == "failed" || cj.State == "refunded", err
	}); err != nil || cj.State != "paid" {
		cj.Detail = nil
		t.Fatalf("client job %+v: %v", cj, err)
	}

	// Restart: the provider's ledger has the job delivered, with the same
	// result; it is not run again and settles as paid.
	repo, cfg := mp.provider.repo, mp.provider.cfg
	startTestNode(t, repo, &cfg)
	pc, err := client.DialAPI(repo)
	if err != nil {
		t.Fatal(err)
	}
	pj, err := pc.Job(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if pj.Role != "provider" || (pj.State != "submitted" && pj.State != "paid") || pj.ResultCID != cj.ResultCID {
		t.Fatalf("provider job after restart: %+v (client result %s)", pj, cj.ResultCID)
	}
	if err := waitFor(ctx, func() (bool, error) {
		pj, err = pc.Job(ctx, j.ID)
		return pj.State == "paid", err
	}); err != nil {
		t.Fatalf("provider job never paid after restart: %+v: %v", pj, err)
	}
	// No job on either side is left in flight.
	for side, c := range map[string]*client.Client{"provider": pc, "client": mp.cc} {
		js, err := c.Jobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range js {
			if x.ID == late.ID {
				if side == "provider" || x.State != "failed" {
					t.Errorf("%s ledger: job sent while draining in %q", side, x.State)
				}
				continue
			}
			if x.State != "paid" {
				t.Errorf("%s ledger: job %s %s in %q", side, x.ID, x.Role, x.State)
			}
		}
	}
}

// TestCloseDeadlineLeavesJobForRecovery: when the shutdown timeout is
// shorter than the running job, Close still stops on time and cleanly:
// the job is cancelled, stays awarded in the provider's ledger (nothing
// half-written), and the next start re-runs and delivers it, so the
// client gets its result and pays.
func TestCloseDeadlineLeavesJobForRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("two daemons and a dev chain")
	}
	mp := startMarketPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	j := startSpinJob(t, ctx, mp, "4000") // several times the deadline

	const timeout = 2500 * time.Millisecond
	cctx, ccancel := context.WithTimeout(context.Background(), timeout)
	defer ccancel()
	t0 := time.Now()
	err := mp.provider.Close(cctx)
	took := time.Since(t0)
	// Every part stops within the deadline: no part is reported as left.
	if err != nil || took > timeout+time.Second {
		t.Fatalf("close: %v after %s", err, took)
	}
	cj, err := mp.cc.Job(ctx, j.ID)
	if err != nil || cj.ResultCID != "" || cj.State != "awarded" {
		cj.Detail = nil
		t.Fatalf("client job after an over-deadline stop: %+v %v", cj, err)
	}
	repo, cfg := mp.provider.repo, mp.provider.cfg
	n := startTestNode(t, repo, &cfg)
	pc, err := client.DialAPI(repo)
	if err != nil {
		t.Fatal(err)
	}
	// The restarted provider listens on a new port: the client finds it
	// again (bootstrap or the DHT would, outside a test).
	if err := mp.cc.Connect(ctx, n.p2p.Addrs()[0]); err != nil {
		t.Fatalf("reconnect: %v", err)
	}
	if err := waitFor(ctx, func() (bool, error) {
		cj, err = mp.cc.Job(ctx, j.ID)
		return cj.State == "paid" || cj.State == "failed" || cj.State == "refunded", err
	}); err != nil || cj.State != "paid" || cj.ExitCode == nil || *cj.ExitCode != 0 {
		cj.Detail = nil
		t.Fatalf("client job after the provider's restart: %+v: %v", cj, err)
	}
	var pj client.Job
	if err := waitFor(ctx, func() (bool, error) {
		pj, err = pc.Job(ctx, j.ID)
		return pj.State == "paid", err
	}); err != nil || pj.ResultCID != cj.ResultCID {
		t.Fatalf("provider job after restart: %+v: %v", pj, err)
	}
}

func TestInFlight(t *testing.T) {
	now := time.Now()
	old, recent := now.Add(-2*serveGrace), now.Add(-time.Second)
	cases := []struct {
		name string
		j    market.ProviderJob
		want bool
	}{
		{"awarded", market.ProviderJob{State: market.StateAwarded}, true},
		{"running", market.ProviderJob{State: market.StateRunning}, true},
		{"done, not committed", market.ProviderJob{State: market.StateDone, Updated: old}, true},
		{"submitted, not delivered", market.ProviderJob{State: market.StateSubmitted, Updated: old}, true},
		{"submitted, just delivered", market.ProviderJob{State: market.StateSubmitted, Delivered: true, Updated: recent}, true},
		{"submitted, delivered long ago", market.ProviderJob{State: market.StateSubmitted, Delivered: true, Updated: old}, false},
		{"escrow paid", market.ProviderJob{State: market.StatePaid, PayMode: wire.PayEscrow, Delivered: true, Updated: recent}, false},
		{"channel paid, just delivered", market.ProviderJob{State: market.StatePaid, PayMode: wire.PayChannel, Delivered: true, Updated: recent}, true},
		{"channel paid long ago", market.ProviderJob{State: market.StatePaid, PayMode: wire.PayChannel, Delivered: true, Updated: old}, false},
		{"stopped, report not delivered", market.ProviderJob{State: market.StateFailed, Stopped: true}, true},
		{"stopped, report delivered", market.ProviderJob{State: market.StateFailed, Stopped: true, Delivered: true, Updated: recent}, false},
		{"failed commit", market.ProviderJob{State: market.StateFailed}, false},
		{"refunded", market.ProviderJob{State: market.StateRefunded}, false},
	}
	for _, c := range cases {
		if got := inFlight(c.j, now); got != c.want {
			t.Errorf("%s: inFlight %v, want %v", c.name, got, c.want)
		}
	}
}

// A node without a provider (or without a market) has nothing to drain.
func TestDrainWithoutProvider(t *testing.T) {
	repo, cfg := newTestRepo(t)
	n := startTestNode(t, repo, cfg)
	if k := n.drainProvider(t.Context()); k != 0 {
		t.Fatalf("drain of a node without a provider: %d jobs", k)
	}
}
