package trigger

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// recDispatcher passes what the invoker returned to the test.
type recDispatcher struct {
	*testDispatcher
	got chan invoked
}

type invoked struct {
	out *Output
	err error
}

func (r *recDispatcher) Invoke(ctx context.Context, fn *Function, inv Invocation) (*Output, error) {
	out, err := r.testDispatcher.Invoke(ctx, fn, inv)
	r.got <- invoked{out, err}
	return out, err
}

// checkAbandon: a market invocation whose caller got 504 does not leave a
// job behind that gets paid unnoticed. Before the award the job is
// cancelled and nothing is paid; after it (the voucher went out with the
// award) the invoker says the job could not be cancelled and returns the
// amount, so the Service logs it and counts it against the daily cap.
// Run on TestGatewayMarket's environment (one dev chain for both).
func checkAbandon(t *testing.T, e *marketEnv, inv Invoker) {
	t.Helper()
	// Before the award: nobody bids under 1 wei, the gateway's deadline
	// (200ms + 1ns) passes while the client still waits for bids.
	cheap := marketFn("cheap", e.cl.store.publish(t, "echo"), "/cheap", 200*time.Millisecond, 1<<20)
	cheap.MaxPrice = big.NewInt(1)
	rd := &recDispatcher{testDispatcher: newTestDispatcher(inv, cheap), got: make(chan invoked, 1)}
	gw := NewGateway(rd, GatewayOptions{Margin: time.Nanosecond, Logger: quietLogger()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := gw.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	r := do(t, "GET", "http://"+addr+"/cheap", nil, nil)
	if r.code != 504 || r.body != "function cheap ran past its deadline of 200ms\n" {
		t.Fatalf("cheap: %d %q", r.code, r.body)
	}
	got := <-rd.got
	if got.out == nil || got.err == nil || !strings.Contains(got.err.Error(), "cancelled, nothing paid") || got.out.Price != nil {
		t.Fatalf("cheap: %+v %v", got.out, got.err)
	}
	id, err := wire.ParseJobID(got.out.JobID)
	if err != nil {
		t.Fatal(err)
	}
	j, err := e.cl.client.Job(id)
	if err != nil {
		t.Fatal(err)
	}
	// Ended with no award (cancelled, or failed with no bids when the
	// cancel stopped the bid wait), nothing paid.
	if (j.State != market.StateCancelled && j.State != market.StateFailed) || len(j.Assigned) != 0 || (j.Paid != nil && j.Paid.Sign() != 0) {
		t.Errorf("cheap job: state %s, assigned %+v, paid %v (%s)", j.State, j.Assigned, j.Paid, j.Error)
	}

	// After the award: the function runs for its 5s, the caller gives up
	// after 1s (as the gateway does at its deadline); the voucher is out.
	slow := marketFn("slow", e.cl.store.publish(t, "loop"), "/slow", 5*time.Second, 1<<20)
	ictx, icancel := context.WithTimeout(context.Background(), time.Second)
	defer icancel()
	out, err := inv.Invoke(ictx, slow, Invocation{Trigger: KindHTTP})
	if err == nil || !strings.Contains(err.Error(), "could not be cancelled") || !strings.Contains(err.Error(), ErrDeadline.Error()) {
		t.Fatalf("slow: %v", err)
	}
	if out == nil || out.Price == nil || out.Price.Sign() <= 0 || out.Provider != e.prov.h.ID().String() || out.JobID == "" {
		t.Fatalf("slow: output %+v", out)
	}
}
