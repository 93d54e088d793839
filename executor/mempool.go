package executor

import (
	"math/bits"
	"sync"
)

// Linear memories of up to memPoolMax bytes are taken from and given back
// to per-size pools, so a run of a small module does not allocate (and
// the Go runtime does not zero, fault in and later collect) a fresh
// buffer each time. Sizes are powers of two from memPoolMin to memPoolMax.
//
// A buffer in a pool is zero over its whole capacity: putMem clears the
// part that was ever in use (a linear memory only grows, so that is its
// final length) before giving it back, so a run never sees a byte of
// another (docs/rationale/executor.md, "Why pool linear memories?").
const (
	memPoolMinShift = 16 // 64 KiB: one wasm page
	memPoolMaxShift = 24 // 16 MiB
	memPoolMax      = 1 << memPoolMaxShift
)

var memPools [memPoolMaxShift - memPoolMinShift + 1]sync.Pool

// memClass returns the pool index for a buffer of capacity c (a power of
// two within the pooled range), or -1.
func memClass(c uint64) int {
	if c < 1<<memPoolMinShift || c > memPoolMax || c&(c-1) != 0 {
		return -1
	}
	return bits.TrailingZeros64(c) - memPoolMinShift
}

// getMem returns a zeroed buffer of length size and capacity at least
// want (≥ size). When want rounded up to a power of two is pooled and not
// over limit, the buffer has that capacity and may come from the pool.
func getMem(size, want, limit uint64) []byte {
	c := want
	if c <= memPoolMax {
		p := uint64(1) << memPoolMinShift
		if c > p {
			p = 1 << bits.Len64(c-1)
		}
		if p <= limit {
			c = p
		}
	}
	if i := memClass(c); i >= 0 {
		if b, ok := memPools[i].Get().(*[]byte); ok {
			return (*b)[:size]
		}
	}
	return make([]byte, size, c)
}

// putMem clears b (up to its length: beyond it the buffer was never in
// use, so it is still zero) and pools it if its capacity is a pooled size.
func putMem(b []byte) {
	i := memClass(uint64(cap(b)))
	if i < 0 {
		return
	}
	clear(b)
	b = b[:0]
	memPools[i].Put(&b)
}
