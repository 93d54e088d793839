package ledger

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Group commit. bbolt serializes writers and fsyncs once per transaction;
// with many jobs in flight (a provider running dozens of small jobs at
// once) the node would wait on one fsync per transition, one after the
// other. Instead, a writer that finds no commit under way commits at once
// (no added latency when alone); writers that arrive while a commit is
// under way queue, and the first of them then commits the whole queue in
// one bbolt transaction, one fsync. Every caller still returns only after
// its own changes are on disk.
//
// A function that fails is taken out of the group, which is retried
// without it, and is then run alone, so one caller's error never
// rolls back or fails another's. Functions may therefore run more than
// once; every write path of the ledger rebuilds its changes from the
// transaction's state, so a re-run is the same as the first run (the
// contract bbolt's DB.Batch asks for too; we do not use Batch because it
// waits up to MaxBatchDelay to gather a group, which a lone job would pay
// on every transition).

var errLead = errors.New("ledger: lead the next group") // internal hand-off signal

type groupCall struct {
	fn   func(*bolt.Tx) error
	done chan error
}

type committer struct {
	mu      sync.Mutex
	queue   []*groupCall
	running bool
}

// commit runs fn in a group-committed write transaction.
func (l *Ledger) commit(fn func(*bolt.Tx) error) error {
	c := &groupCall{fn: fn, done: make(chan error, 1)}
	g := &l.group
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if g.running {
		g.mu.Unlock()
		if err := <-c.done; !errors.Is(err, errLead) {
			return err
		}
		g.mu.Lock() // we lead now; running is still true
	}
	g.running = true
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()

	l.runGroup(batch)

	g.mu.Lock()
	if len(g.queue) > 0 {
		next := g.queue[0]
		g.mu.Unlock()
		next.done <- errLead // hand over; it takes the queue
	} else {
		g.running = false
		g.mu.Unlock()
	}
	return <-c.done
}

// runGroup commits batch in one transaction, answering every call.
func (l *Ledger) runGroup(batch []*groupCall) {
	var solo []*groupCall
	for len(batch) > 0 {
		failed := -1
		err := l.db.Update(func(tx *bolt.Tx) error {
			for i, c := range batch {
				if err := safeCall(c.fn, tx, l.path); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if err == nil || failed < 0 || len(batch) == 1 {
			for _, c := range batch {
				c.done <- err
			}
			break
		}
		solo = append(solo, batch[failed])
		batch = append(batch[:failed:failed], batch[failed+1:]...)
	}
	for _, c := range solo {
		c.done <- l.db.Update(func(tx *bolt.Tx) error { return safeCall(c.fn, tx, l.path) })
	}
}

// safeCall runs fn, turning a panic (a damaged page: bbolt trusts page
// headers) into a *CorruptError so that one call cannot take the group's
// goroutine down.
func safeCall(fn func(*bolt.Tx) error, tx *bolt.Tx, path string) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = &CorruptError{Path: path, What: "write", Err: fmt.Errorf("panic: %v", r)}
		}
	}()
	return fn(tx)
}
