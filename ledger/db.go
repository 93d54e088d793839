package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Bucket names. The layout version lives in bucketMeta.
var (
	bucketMeta       = []byte("meta")
	bucketJobs       = []byte("jobs")         // Job.ID -> Job
	bucketDeals      = []byte("deals")        // 32-byte deal ID -> Deal
	bucketChannels   = []byte("channels")     // 32-byte channel ID -> Channel
	bucketVouchers   = []byte("vouchers")     // channel ID ‖ 32-byte big-endian cumulative -> Voucher
	bucketVoucherJob = []byte("voucher_jobs") // channel ID ‖ job ID -> cumulative (client: one voucher per job)
	bucketSeen       = []byte("seen")         // scope ‖ 0 ‖ key -> unix nanos
	bucketPayments   = []byte("payments")     // 8-byte seq -> Payment
	bucketPaymentIDs = []byte("payment_ids")  // Payment.ID -> seq
	bucketRep        = []byte("rep")          // 20-byte address -> Rep
	bucketRepJobs    = []byte("rep_jobs")     // address ‖ job ID -> Outcome
	bucketHistory    = []byte("history")      // group ‖ 0 ‖ 8-byte seq -> Event

	allBuckets = [][]byte{bucketMeta, bucketJobs, bucketDeals, bucketChannels, bucketVouchers,
		bucketVoucherJob, bucketSeen, bucketPayments, bucketPaymentIDs, bucketRep, bucketRepJobs, bucketHistory}

	keyVersion = []byte("version")
)

// layoutVersion is the on-disk layout; bump it with a migration. Version 2
// added the open-jobs index (index.go); Open migrates a version-1 file.
// Version 3 writes values as CBOR (codec.go) and still reads the JSON
// values of versions 1 and 2, so Open only rewrites the version of such a
// file; the bump makes a build from before CBOR refuse the file with a
// message instead of reporting every rewritten record as corrupt.
const (
	layoutVersion = "3"
	layoutV2      = "2"
	layoutV1      = "1"
)

// maxID caps string IDs (bbolt keys may be up to 32 KiB; ours are short).
const maxID = 512

// defaultLockTimeout is how long Open waits for another process's lock.
const defaultLockTimeout = time.Second

func open(path string, opts *Options) (l *Ledger, err error) {
	if opts == nil {
		opts = &Options{}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultLockTimeout
	}
	var tr tracer = noopTracer{}
	if opts.Registerer != nil {
		m, err := newMetrics(opts.Registerer)
		if err != nil {
			return nil, fmt.Errorf("ledger: metrics: %w", err)
		}
		tr = m
	}
	corrupt := func(what string, e error) error { return &CorruptError{Path: path, What: what, Err: e} }
	// bbolt can panic on a damaged file (it trusts its page headers); turn
	// that, and a memory fault in the mapping, into ErrCorrupt rather than a
	// crash.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = corrupt("open", fmt.Errorf("panic: %v", r))
			l = nil
		}
	}()
	if err := preflight(path); err != nil {
		return nil, err
	}
	// Not NoFreelistSync: it saves one page write per commit, but Open
	// then rebuilds the free list by walking every page in a goroutine of
	// bbolt's own, where a damaged page faults the whole process instead of
	// becoming ErrCorrupt (TestCorruptPagesNeverPanic). See docs/rationale/ledger.md,
	// "Why these bbolt options?".
	bo := &bolt.Options{Timeout: timeout, NoSync: opts.NoSync, FreelistType: bolt.FreelistMapType}
	if opts.bolt != nil {
		opts.bolt(bo)
	}
	db, err := bolt.Open(path, 0o600, bo)
	if err != nil {
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("ledger: %s is locked by another process (is a cloudless node running on this repo?): %w", path, err)
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
			errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrInvalidMapping):
			return nil, corrupt("meta page", err)
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("ledger: open %s: %w", path, err)
		}
		// Anything else while reading the file (short file, bad page size,
		// mmap of garbage) is damage.
		return nil, corrupt("open", err)
	}
	l = &Ledger{db: db, path: path, now: func() time.Time { return utc(now()) }, log: log.With("part", "ledger"), tr: tr}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get(keyVersion)
		switch {
		case v == nil, string(v) == layoutV1:
			// New file, or one written before the open-jobs index: build it
			// (see index.go).
		case string(v) == layoutV2:
			// Its JSON values are read as they are (codec.go).
			if tx.Bucket(bucketOpenJobs) != nil {
				l.log.Info("ledger layout upgraded; builds from before it will refuse this file", "from_version", string(v), "to_version", layoutVersion)
				return meta.Put(keyVersion, []byte(layoutVersion))
			}
		case string(v) != layoutVersion:
			return fmt.Errorf("ledger: %s has layout version %q, this build reads %q", path, v, layoutVersion)
		case tx.Bucket(bucketOpenJobs) != nil:
			return nil
		}
		n, err := buildOpenJobs(tx, corrupt)
		if err != nil {
			return err
		}
		if v != nil {
			l.log.Info("built the open-jobs index", "from_version", string(v), "open_jobs", n)
		}
		return meta.Put(keyVersion, []byte(layoutVersion))
	}); err != nil {
		_ = db.Close()
		return nil, err
	}
	// The check runs after that first commit: bbolt keeps two meta pages,
	// and when a crash tore one, the commit above rewrote it from the good
	// one (it writes meta slot txid%2), so a torn meta is repaired rather
	// than reported.
	if err := l.check(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return l, nil
}

// check walks every page of the file (bbolt's consistency check). On a
// ledger of thousands of jobs this takes milliseconds and catches torn or
// overwritten pages at Open instead of as a panic in the middle of a
// transition.
func (l *Ledger) check() error {
	return l.db.View(func(tx *bolt.Tx) error {
		var first error
		for err := range tx.Check() { // drain it all: the checker is a goroutine
			if first == nil {
				first = err
			}
		}
		if first != nil {
			return &CorruptError{Path: l.path, What: "page check", Err: first}
		}
		return nil
	})
}

func (l *Ledger) close() error {
	var err error
	l.once.Do(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.closed = true
		err = l.db.Close()
	})
	return err
}

func (l *Ledger) update(ctx context.Context, fn func(*Tx) error) error {
	return l.run(ctx, true, fn)
}

func (l *Ledger) view(ctx context.Context, fn func(*Tx) error) error {
	return l.run(ctx, false, fn)
}

func (l *Ledger) run(ctx context.Context, write bool, fn func(*Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	// bbolt rolls the transaction back when fn panics; a panic here means a
	// damaged page (bbolt trusts page headers). Mutate callbacks have their
	// own recover (callMutate).
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = &CorruptError{Path: l.path, What: "read", Err: fmt.Errorf("panic: %v", r)}
			l.log.Error("ledger transaction panicked", "err", err)
		}
	}()
	tx := &Tx{l: l, now: l.now()}
	body := func(btx *bolt.Tx) error { tx.tx, tx.events, tx.checked = btx, nil, nil; return fn(tx) }
	start := time.Now()
	if write {
		err = l.commit(body)
	} else {
		err = l.db.View(body)
	}
	if errors.Is(err, ErrCorrupt) {
		l.tr.Corrupt()
	} else if err == nil {
		l.tr.Committed(write, time.Since(start), tx.events)
	}
	return err
}
