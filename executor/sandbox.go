package executor

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// errOutputLimit, errStdinLimit and errDeadline are the internal cancel
// causes of a run's context; classify turns them into *LimitError.
var (
	errOutputLimit = errors.New("output limit reached")
	errStdinLimit  = errors.New("stdin limit reached")
	errDeadline    = errors.New("run deadline reached")
)

// output is the shared stdout+stderr budget of one run. Bytes are kept only
// up to the limit; the write that crosses it is cut, the run is cancelled
// (which stops the module at its next check) and the guest gets an error.
type output struct {
	mu       sync.Mutex
	limit    int64
	n        int64
	exceeded bool
	onExceed func()
}

type stream struct {
	o   *output
	buf bytes.Buffer
	tee io.Writer
}

func (s *stream) Write(p []byte) (int, error) {
	o := s.o
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.exceeded {
		return 0, errOutputLimit
	}
	cut := false
	if room := o.limit - o.n; int64(len(p)) > room {
		p, cut = p[:room], true
	}
	s.buf.Write(p)
	o.n += int64(len(p))
	if s.tee != nil && len(p) > 0 {
		// A failing tee (a closed terminal) must not fail the run; the
		// captured copy is the record.
		_, _ = s.tee.Write(p)
	}
	if cut {
		o.exceeded = true
		o.onExceed()
		return len(p), errOutputLimit
	}
	return len(p), nil
}

// stdin counts what the guest reads and stops the run past the limit.
type stdin struct {
	r        io.Reader
	n, limit int64
	exceeded atomic.Bool
	onExceed func()
}

func (s *stdin) Read(p []byte) (int, error) {
	if s.exceeded.Load() {
		return 0, errStdinLimit
	}
	// Read one byte past the limit to tell "exactly the limit" from "more".
	if room := s.limit + 1 - s.n; int64(len(p)) > room {
		p = p[:room]
	}
	k, err := s.r.Read(p)
	s.n += int64(k)
	if s.n > s.limit {
		s.exceeded.Store(true)
		s.onExceed()
		return k - int(s.n-s.limit), errStdinLimit
	}
	return k, err
}

// memory is the per-run linear-memory allocator. It enforces Limits.Memory
// on every memory.grow and records whether it refused one and the peak size,
// so the executor can report a memory-limit failure honestly: only when the
// guest actually asked for more than the limit.
//
// Buffers up to memPoolMax come from a pool of zeroed buffers and go back
// to it, cleared, when the run has ended (recycle): a fresh 128 KiB
// allocation per run was ≈ 13% of a CGI request's CPU (page faults on
// memory the Go runtime had returned to the OS, and the garbage collections
// it triggered), see mempool.go.
type memory struct {
	limit   uint64
	refused atomic.Bool
	peak    atomic.Uint64
	// mems are the linear memories allocated for the run (one per
	// instance; a run instantiates one module). Only the run's goroutine
	// touches them: wazero allocates and grows on the calling goroutine.
	mems []*linearMemory
}

func (m *memory) Allocate(capacity, _ uint64) experimental.LinearMemory {
	l := &linearMemory{m: m, capHint: min(capacity, m.limit)}
	m.mems = append(m.mems, l)
	return l
}

// recycle gives the run's buffers back to the pool, zeroed. It must be
// called only once no guest code of the run can execute any more (after
// the instance's last call returned), never from Free: wazero frees on
// Close, which Executor.Close may call while a stuck guest still runs.
func (m *memory) recycle() {
	for _, l := range m.mems {
		for _, b := range l.retired {
			putMem(b)
		}
		if l.buf != nil {
			putMem(l.buf)
		}
		l.buf, l.retired = nil, nil
	}
	m.mems = nil
}

type linearMemory struct {
	m       *memory
	capHint uint64
	buf     []byte
	// retired are the buffers grown out of, recycled with buf.
	retired [][]byte
}

func (l *linearMemory) Reallocate(size uint64) []byte {
	if size > l.m.limit {
		l.m.refused.Store(true)
		return nil
	}
	if size <= uint64(cap(l.buf)) {
		// Within the capacity the bytes are zero: from make, or cleared
		// before the buffer went back to the pool.
		l.buf = l.buf[:size]
	} else {
		// Grow geometrically, bounded by the limit, so a guest growing page
		// by page does not copy quadratically.
		c := max(size, l.capHint, min(2*uint64(cap(l.buf)), l.m.limit))
		nb := getMem(size, c, l.m.limit)
		copy(nb, l.buf)
		if l.buf != nil {
			l.retired = append(l.retired, l.buf)
		}
		l.buf = nb
	}
	if size > l.m.peak.Load() {
		l.m.peak.Store(size)
	}
	return l.buf
}

// Free is a no-op: the buffers go back to the pool in memory.recycle, when
// the run is over.
func (l *linearMemory) Free() {}

// fakeClock is the deterministic clock: it starts at a fixed instant and
// advances 1 µs per reading and by the requested amount per sleep, so a guest
// that sleeps or polls time still makes progress, and two runs read the same
// sequence of times.
type fakeClock struct{ ns atomic.Int64 }

// fakeEpoch is 2024-01-01T00:00:00Z, the wall time a deterministic run starts at.
const fakeEpoch = int64(1704067200)

func (c *fakeClock) nanotime() int64 { return c.ns.Add(1000) }

func (c *fakeClock) walltime() (int64, int32) {
	ns := c.ns.Add(1000)
	return fakeEpoch + ns/1e9, int32(ns % 1e9)
}

func (c *fakeClock) nanosleep(ns int64) {
	if ns > 0 {
		c.ns.Add(ns)
	}
}

// seededRand returns the deterministic random source of a run: ChaCha8 keyed
// by sha256(seed).
func seededRand(seed []byte) io.Reader {
	return rand.NewChaCha8(sha256.Sum256(seed))
}
