package trigger

import (
	"context"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// TestMarketWarmPathIsDirect: once a function ran on a provider (the
// channel to it open, its offer in the client's book), the next call goes
// to it as a direct award: no bid round trip, the price its offer quotes,
// paid; the job record says so (no bids).
func TestMarketWarmPathIsDirect(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a dev chain and two nodes")
	}
	e := newMarketEnv(t)
	inv := NewMarketInvoker(e.cl.client, e.cl.store, WithMarketLogger(quietLogger()))
	fn := marketFn("echo", e.cl.store.publish(t, "echo"), "/echo", 5*time.Second, 1<<20)
	in := Invocation{Trigger: KindHTTP, Env: map[string]string{"REQUEST_METHOD": "GET", "QUERY_STRING": "x"}}
	ctx := context.Background()
	var first *market.Job
	for i := range 3 {
		out, err := inv.Invoke(ctx, fn, in)
		if err != nil {
			t.Fatal(err)
		}
		id, err := wire.ParseJobID(out.JobID)
		if err != nil {
			t.Fatal(err)
		}
		j, err := e.cl.client.Job(id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State != market.StatePaid || len(j.Assigned) != 1 {
			t.Fatalf("call %d: job %s, assignments %+v: want paid by one provider", i, j.State, j.Assigned)
		}
		switch {
		case i == 0:
			first = j
			if j.Bids == 0 {
				t.Errorf("first call: no bids, want a bid (no channel yet)")
			}
		case j.Bids != 0:
			t.Errorf("warm call %d: %d bids, want a direct award", i, j.Bids)
		case j.Assigned[0].Price.Cmp(first.Assigned[0].Price) != 0:
			t.Errorf("warm call %d: price %s, want the bid's %s", i, j.Assigned[0].Price, first.Assigned[0].Price)
		}
	}
}
