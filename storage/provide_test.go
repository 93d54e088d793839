package storage

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// slowRouter is a content router whose Provide blocks until released, so
// the test can see how many provides run at once.
type slowRouter struct {
	release  chan struct{}
	running  atomic.Int32
	peak     atomic.Int32
	mu       sync.Mutex
	provided map[cid.Cid]bool
}

func (r *slowRouter) Provide(ctx context.Context, c cid.Cid, _ bool) error {
	n := r.running.Add(1)
	defer r.running.Add(-1)
	for {
		p := r.peak.Load()
		if n <= p || r.peak.CompareAndSwap(p, n) {
			break
		}
	}
	select {
	case <-r.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	r.mu.Lock()
	r.provided[c] = true
	r.mu.Unlock()
	return nil
}

func (r *slowRouter) FindProvidersAsync(context.Context, cid.Cid, int) <-chan peer.AddrInfo {
	ch := make(chan peer.AddrInfo)
	close(ch)
	return ch
}

// TestProvideBounded: a burst of adds announces every root through at
// most provideWorkers concurrent provides, not one goroutine each.
func TestProvideBounded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := openTestStore(t, nil)
	r := &slowRouter{release: make(chan struct{}), provided: map[cid.Cid]bool{}}
	if err := s.Serve(ctx, newHost(t), r); err != nil {
		t.Fatal(err)
	}
	const n = 50
	var want []cid.Cid
	for i := range n {
		c, err := s.AddBytes(ctx, []byte(fmt.Sprintf("output %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, c)
	}
	close(r.release)
	for {
		r.mu.Lock()
		got := 0
		for _, c := range want {
			if r.provided[c] {
				got++
			}
		}
		r.mu.Unlock()
		if got == n {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d roots provided", got, n)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if p := r.peak.Load(); p > provideWorkers {
		t.Errorf("%d provides ran at once, want at most %d", p, provideWorkers)
	}
}
