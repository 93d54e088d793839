package ledger

import (
	"errors"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
)

// Many goroutines drive different jobs and race on the same ones. Racing
// writers to one job must serialize: each legal edge is taken exactly once
// (one event per step; the others get the no-op or ErrStale), and the
// history stays a chain (checked at cleanup).
func TestHammer(t *testing.T) {
	l, _ := openTest(t)
	const workers = 8
	const shared = 4
	path := []JobState{JobAwarded, JobPaymentVerified, JobRunning, JobResultStored, JobResultSent, JobVoucherHeld, JobRedeemed}
	for i := 0; i < shared; i++ {
		if _, err := l.PutJob(ctxb, Job{ID: fmt.Sprintf("shared-%d", i), Role: RoleProvider, State: JobBidSent}); err != nil {
			t.Fatal(err)
		}
	}
	ch := hash(1)
	if _, err := l.PutChannel(ctxb, Channel{ID: ch, Role: RoleProvider, State: ChannelOpen, Deposit: big.NewInt(1 << 40)}); err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			fail := func(err error) { errc <- err }
			// Own job: a straight walk.
			own := fmt.Sprintf("own-%d", w)
			if _, err := l.PutJob(ctxb, Job{ID: own, Role: RoleClient, State: JobRequested}); err != nil {
				fail(err)
				return
			}
			for _, s := range []JobState{JobBidding, JobPaying, JobAwarded, JobRunning, JobResultReceived, JobVerified, JobAccepted} {
				if _, err := l.Transition(ctxb, own, s, nil); err != nil {
					fail(err)
					return
				}
			}
			// Shared jobs: everyone tries every step.
			for i := 0; i < shared; i++ {
				id := fmt.Sprintf("shared-%d", i)
				for _, s := range path {
					_, err := l.Transition(ctxb, id, s, func(j *Job) error { j.Note = "step"; return nil })
					switch {
					case err == nil, errors.Is(err, ErrStale):
					default:
						fail(fmt.Errorf("worker %d %s -> %s: %w", w, id, s, err))
						return
					}
				}
			}
			// Vouchers racing on one channel: strictly increasing or refused.
			for k := 0; k < 10; k++ {
				c, err := l.Channel(ctxb, ch)
				if err != nil {
					fail(err)
					return
				}
				_, err = l.AcceptVoucher(ctxb, Voucher{ChannelID: ch, Cumulative: new(big.Int).Add(c.Promised, big.NewInt(1)), Signature: []byte{1}})
				switch {
				case err == nil:
					accepted.Add(1)
				case errors.Is(err, ErrVoucherNotHigher):
				default:
					fail(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	// Each edge was taken exactly once: one event per step, in order.
	for i := range shared {
		h, _ := l.History(ctxb, fmt.Sprintf("shared-%d", i))
		if len(h) != len(path)+1 {
			t.Errorf("shared-%d: %d events, want %d", i, len(h), len(path)+1)
			continue
		}
		for k, s := range path {
			if h[k+1].To != string(s) {
				t.Errorf("shared-%d: event %d is %s, want %s", i, k+1, h[k+1].To, s)
			}
		}
	}
	if c, _ := l.Channel(ctxb, ch); c.Promised.Int64() != accepted.Load() {
		t.Errorf("promised %s after %d accepted vouchers of +1", c.Promised, accepted.Load())
	}
}
