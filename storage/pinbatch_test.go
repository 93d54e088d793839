package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ipfs/go-cid"
)

// TestConcurrentAddsDurable: adds that share group commits (syncfs and
// the pin store's synced write) are all pinned, and the pins survive a
// reopen; a pin removed the same way stays removed.
func TestConcurrentAddsDurable(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "ipfs")
	s, err := Open(ctx, dir, &Options{}) // sync on
	if err != nil {
		t.Fatal(err)
	}
	const n = 24
	cids := make([]cid.Cid, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			c, err := s.AddBytes(ctx, fmt.Appendf(nil, "file %d", i))
			cids[i] = c
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Unpin(ctx, cids[0], true); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, dir, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pins, err := s.Pins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[cid.Cid]bool{}
	for _, p := range pins {
		got[p] = true
	}
	if got[cids[0]] {
		t.Errorf("unpinned %s is pinned after reopen", cids[0])
	}
	for _, c := range cids[1:] {
		if !got[c] {
			t.Errorf("%s not pinned after reopen", c)
		}
	}
	if len(pins) != n-1 {
		t.Errorf("%d pins, want %d", len(pins), n-1)
	}
}

// TestGroupCommit: every caller returns only after a run of fn that
// started after its call; concurrent callers share runs; a failed run is
// retried by the callers it did not cover.
func TestGroupCommit(t *testing.T) {
	var g group
	var runs, started atomic.Int64
	var calls sync.WaitGroup
	gate := make(chan struct{})
	fn := func() error {
		started.Add(1)
		<-gate
		runs.Add(1)
		return nil
	}
	// The first caller runs fn and blocks in it; the others queue behind.
	calls.Go(func() { _ = g.do(fn) })
	for started.Load() == 0 {
		runtime.Gosched()
	}
	const waiters = 8
	var seen [waiters]int64
	for i := range waiters {
		calls.Go(func() {
			if err := g.do(fn); err != nil {
				t.Error(err)
			}
			seen[i] = runs.Load()
		})
	}
	close(gate)
	calls.Wait()
	if r := runs.Load(); r < 2 || r > 1+waiters {
		t.Errorf("%d runs for %d callers", r, 1+waiters)
	}
	for i, r := range seen {
		if r < 2 { // the first run started before this call: not covered by it
			t.Errorf("caller %d returned after %d runs, want a run that started after its call", i, r)
		}
	}

	// A failure: the caller sees it; the next call runs fn again.
	var g2 group
	boom := errors.New("boom")
	if err := g2.do(func() error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	ran := false
	if err := g2.do(func() error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("retry after a failure: ran %v, err %v", ran, err)
	}
}
