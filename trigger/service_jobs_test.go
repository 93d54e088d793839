package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// TestServiceLocalJobs: every local invocation, one that exits and one the
// sandbox stops, becomes a finished client job in the real ledger (price
// 0, pay mode local, run by this node) whose market record the market
// client can read, as the job list does.
func TestServiceLocalJobs(t *testing.T) {
	store := openStore(t)
	ex, err := executor.New(executor.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close(context.Background()) })
	l, err := ledger.Open(filepath.Join(t.TempDir(), ledger.FileName), &ledger.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	const self = "12D3KooWHHzSeKaY8xuZVzkLbKFfvNgPPeKhFBGrMbNzbm5akpqu"
	e := newSvcEnv(t)
	e.opts.Local, e.opts.Jobs, e.opts.Self = NewLocalInvoker(ex, store), l, self
	s := e.open(t)
	echo := httpFn("echo", "/echo")
	echo.Module, echo.Local, echo.MaxPrice, echo.DailyCap = store.publish(t, "echo"), true, nil, nil
	loop := httpFn("loop", "/loop")
	loop.Module, loop.Local, loop.MaxPrice, loop.DailyCap = store.publish(t, "loop"), true, nil, nil
	loop.Resources.Timeout = wire.Duration(100 * time.Millisecond)
	if err := s.Deploy(context.Background(), []Function{echo, loop}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ok, err := s.Invoke(ctx, &echo, Invocation{Trigger: KindHTTP, Detail: "GET /echo", StdoutOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	stopped, err := s.Invoke(ctx, &loop, Invocation{Trigger: KindHTTP, Detail: "GET /loop"})
	if !errors.Is(err, ErrDeadline) || stopped == nil || stopped.JobID == "" || stopped.ExitCode != -1 {
		t.Fatalf("loop: %+v %v", stopped, err)
	}
	// Written behind the call; Logs flushes the writer.
	if _, err := s.Logs("loop", 1); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		out    *Output
		state  ledger.JobState
		mstate market.State
		errSub string
	}{
		{ok, ledger.JobAccepted, market.StatePaid, ""},
		{stopped, ledger.JobFailed, market.StateFailed, "ran past its deadline"},
	} {
		j, err := l.Job(ctx, tc.out.JobID)
		if err != nil {
			t.Fatalf("job %s: %v", tc.out.JobID, err)
		}
		if j.Role != ledger.RoleClient || j.State != tc.state || j.PayMode != ledger.PayLocal || j.Price == nil || j.Price.Sign() != 0 ||
			j.Provider != self || j.Module == "" || (tc.errSub == "") != (j.Error == "") {
			t.Errorf("ledger job %+v", j)
		}
		var mj market.Job
		if err := json.Unmarshal(j.Extra, &mj); err != nil {
			t.Fatal(err)
		}
		if mj.ID.String() != tc.out.JobID || mj.State != tc.mstate || len(mj.Assigned) != 1 || mj.Assigned[0].Provider.String() != self ||
			mj.Assigned[0].Price.Sign() != 0 || string(mj.PayMode) != ledger.PayLocal {
			t.Errorf("market record %+v", mj)
		}
	}
	js, err := l.Jobs(ctx, ledger.JobFilter{Role: ledger.RoleClient})
	if err != nil || len(js) != 2 {
		t.Fatalf("jobs %d %v", len(js), err)
	}
	// Both ended: nothing for a restarted node to finish.
	if un, _ := l.Unfinished(ctx); len(un) != 0 {
		t.Errorf("unfinished %v", un)
	}
}
