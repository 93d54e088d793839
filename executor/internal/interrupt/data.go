package interrupt

import (
	"slices"

	"github.com/cloudless-network/cloudless/executor/internal/wasmbin"
)

// dataGap is the largest run of zero bytes between two data segments that
// packData fills in to merge them. Go's linker starts a new segment after
// every run of ≈ 16 zero bytes (a 2.6 MB hello world has 30,377 segments,
// most 18–19 bytes apart); filling those gaps leaves a few dozen segments.
const dataGap = 64

// packData rewrites a data section payload into fewer, larger active
// segments with the same effect on the initial memory, or returns nil when
// it cannot prove that (the section is then kept as it is).
//
// Why: wazero decodes, validates and instantiates every segment separately,
// and a Go module has ≈ 30k of them; that is a large share of a disk-cache
// hit and of every instantiation (docs/rationale/executor.md, "Why pack
// data segments?").
//
// It applies only when every segment is active on memory 0 with an
// i32.const offset, no two segments overlap, the memory is defined by the
// module (so it starts zeroed) and there is no data count section (without
// one no instruction can name a segment, so segment indices are free to
// change). Then the initial memory does not depend on the order of the
// segments, the bytes between two neighbours are zero, and a merged segment
// reaches exactly as far as its last member, so it is out of bounds exactly
// when one of its members was (instantiation fails either way).
func packData(payload []byte) []byte {
	type seg struct {
		off  uint64
		data []byte
	}
	r := &wasmbin.Reader{B: payload}
	n, err := r.U32()
	if err != nil || n < 2 {
		return nil
	}
	segs := make([]seg, 0, min(n, 1<<20))
	for i := uint32(0); i < n; i++ {
		flags, err := r.U32()
		if err != nil || flags != 0 {
			return nil
		}
		if op, err := r.Byte(); err != nil || op != 0x41 { // i32.const
			return nil
		}
		off, err := r.SLEB(32)
		if err != nil {
			return nil
		}
		if end, err := r.Byte(); err != nil || end != 0x0b {
			return nil
		}
		size, err := r.U32()
		if err != nil {
			return nil
		}
		b, err := r.Bytes(int(size))
		if err != nil {
			return nil
		}
		segs = append(segs, seg{off: uint64(uint32(int32(off))), data: b})
	}
	if r.Len() != 0 {
		return nil
	}
	slices.SortStableFunc(segs, func(a, b seg) int {
		switch {
		case a.off < b.off:
			return -1
		case a.off > b.off:
			return 1
		}
		return 0
	})
	for i := 1; i < len(segs); i++ {
		if segs[i].off < segs[i-1].off+uint64(len(segs[i-1].data)) {
			return nil // overlap: the order of the writes matters
		}
	}
	var body []byte
	count := uint32(0)
	for i := 0; i < len(segs); {
		j := i + 1
		end := segs[i].off + uint64(len(segs[i].data))
		for j < len(segs) && segs[j].off-end <= dataGap {
			end = segs[j].off + uint64(len(segs[j].data))
			j++
		}
		if end-segs[i].off > 1<<32-1 {
			return nil
		}
		body = append(body, 0x00, 0x41)
		body = appendS32(body, int32(uint32(segs[i].off)))
		body = append(body, 0x0b)
		body = appendU32(body, uint32(end-segs[i].off))
		for k := i; k < j; k++ {
			if k > i {
				prev := segs[k-1].off + uint64(len(segs[k-1].data))
				body = append(body, make([]byte, segs[k].off-prev)...)
			}
			body = append(body, segs[k].data...)
		}
		count++
		i = j
	}
	if count == n {
		return nil
	}
	return appendVecOf(nil, count, body)
}
