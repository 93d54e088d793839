package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	bolt "go.etcd.io/bbolt"
)

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond) // strictly increasing, like a real clock
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openTest opens a fresh ledger in a temp dir with fsync ON (the tests
// measure the real thing) and checks its invariants at cleanup.
func openTest(tb testing.TB) (*Ledger, *fakeClock) {
	tb.Helper()
	clk := newClock()
	path := filepath.Join(tb.TempDir(), FileName)
	l, err := Open(path, &Options{Now: clk.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := checkInvariants(l); err != nil {
			tb.Errorf("invariants: %v", err)
		}
		if err := l.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return l, clk
}

// checkInvariants checks what must hold after any sequence of operations:
// the file passes bbolt's check, every record decodes and sits in a state
// reachable from an initial state of its machine, every job's history is a
// chain of legal moves ending in its state, and channel amounts are sane.
func checkInvariants(l *Ledger) error {
	if l.closed {
		return nil
	}
	if err := l.check(); err != nil {
		return err
	}
	return l.View(context.Background(), func(tx *Tx) error {
		var errs []error
		err := tx.eachJob(func(j Job) error {
			m, _ := jobMachine(j.Role)
			if !reachableFromInitial(m, j.State) {
				errs = append(errs, fmt.Errorf("job %s in unreachable state %s", j.ID, j.State))
			}
			h, err := tx.History(j.ID)
			if err != nil {
				return err
			}
			var last JobState
			for _, e := range h {
				if e.Kind != "job" {
					continue
				}
				switch {
				case e.From == "" && !m.isInitial(JobState(e.To)):
					errs = append(errs, fmt.Errorf("job %s created in %s", j.ID, e.To))
				case e.From != "" && (JobState(e.From) != last || !m.reachable(last, JobState(e.To))):
					errs = append(errs, fmt.Errorf("job %s history %s -> %s after %s", j.ID, e.From, e.To, last))
				}
				last = JobState(e.To)
			}
			if last != j.State {
				errs = append(errs, fmt.Errorf("job %s history ends in %q, record is %s", j.ID, last, j.State))
			}
			return nil
		})
		if err != nil {
			return err
		}
		ds, err := tx.Deals("")
		if err != nil {
			return err
		}
		for _, d := range ds {
			if !reachableFromInitial(deals, d.State) {
				errs = append(errs, fmt.Errorf("deal %s in unreachable state %s", d.ID, d.State))
			}
		}
		cs, err := tx.Channels("")
		if err != nil {
			return err
		}
		for _, c := range cs {
			if !reachableFromInitial(channels, c.State) {
				errs = append(errs, fmt.Errorf("channel %s in unreachable state %s", c.ID, c.State))
			}
			if c.Role == RoleClient && c.Promised.Cmp(c.Deposit) > 0 {
				errs = append(errs, fmt.Errorf("channel %s promised %s > deposit %s", c.ID, c.Promised, c.Deposit))
			}
			if c.Latest != nil && c.Latest.Cumulative.Cmp(c.Promised) != 0 {
				errs = append(errs, fmt.Errorf("channel %s latest %s != promised %s", c.ID, c.Latest.Cumulative, c.Promised))
			}
		}
		return errors.Join(errs...)
	})
}

func reachableFromInitial[S ~string](m machine[S], s S) bool {
	for _, i := range m.initial {
		if i == s || m.reachable(i, s) {
			return true
		}
	}
	return false
}

func hash(i int) common.Hash { return common.BigToHash(big.NewInt(int64(i) + 1000)) }

func addr(i int) common.Address { return common.BigToAddress(big.NewInt(int64(i) + 77)) }

// rawPut writes raw bytes under a key, bypassing the ledger (to fake damage).
func rawPut(tb testing.TB, l *Ledger, bucket, key, value []byte) {
	tb.Helper()
	if err := l.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(key, value) }); err != nil {
		tb.Fatal(err)
	}
}

// pathTo returns the shortest legal path from one of m's initial states to
// s (inclusive), or nil.
func pathTo[S ~string](m machine[S], s S) []S {
	type node struct {
		s    S
		prev *node
	}
	for _, start := range m.initial {
		seen := map[S]bool{start: true}
		queue := []*node{{s: start}}
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			if n.s == s {
				var p []S
				for x := n; x != nil; x = x.prev {
					p = append([]S{x.s}, p...)
				}
				return p
			}
			for _, t := range m.edges[n.s] {
				if !seen[t] {
					seen[t] = true
					queue = append(queue, &node{s: t, prev: n})
				}
			}
		}
	}
	return nil
}

var ctxb = context.Background()

type boltTx = bolt.Tx
