package executor

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
)

// The executor's environ_sizes_get and environ_get refuse pointers outside
// the guest's memory (past its end, straddling it, wrapping around 2^32)
// with EFAULT and write nothing; in bounds they hand over the run's
// variables, sorted, NUL-terminated (testdata/envhostile.wat: the exit code
// is the first check that failed). Deterministic or not, instrumented or
// on the fallback runtime (a module Instrument refuses would take the same
// host module).
func TestEnvironHostilePointers(t *testing.T) {
	e := newExecutor(t)
	mod := fixture(t, "envhostile")
	for _, det := range []bool{false, true} {
		res, err := e.Run(context.Background(), Spec{Module: mod, NoOut: true, Deterministic: det,
			Env: map[string]string{"B": "", "A": "xy"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.ExitCode != 0 {
			t.Fatalf("deterministic %v: check %d failed", det, res.ExitCode)
		}
	}
}

// Without variables the guest sees none (count 0, size 0), and a C
// program's getenv finds nothing.
func TestEnvironEmpty(t *testing.T) {
	e := newExecutor(t)
	res, err := e.Run(context.Background(), Spec{Module: fixture(t, "tool"), Args: []string{"env"}, NoOut: true})
	if err != nil || res.ExitCode != 0 || len(res.Stdout) != 0 {
		t.Fatalf("%q, %v", res.Stdout, err)
	}
	// envhostile: sizes still refuses bad pointers (checks 1, 2), but with
	// nothing to write environ_get has nothing out of bounds (check 3).
	res, err = e.Run(context.Background(), Spec{Module: fixture(t, "envhostile"), NoOut: true})
	if err != nil || res.ExitCode != 3 {
		t.Fatalf("exit %d, %v; want check 3 to fail", res.ExitCode, err)
	}
}

// Variables WASI cannot carry are refused before the run, with ErrHost,
// as wazero refused them: an empty name, '=' in a name, NUL anywhere.
func TestEnvironInvalid(t *testing.T) {
	e := newExecutor(t)
	tool := fixture(t, "tool")
	for name, env := range map[string]map[string]string{
		"empty name":    {"": "x"},
		"= in name":     {"A=B": "x"},
		"NUL in name":   {"A\x00": "x"},
		"NUL in value":  {"A": "x\x00y"},
		"one bad of 3":  {"A": "1", "B": "2", "C\x00": "3"},
		"NUL and valid": {"A": "x\x00B\x00y"},
	} {
		res, err := e.Run(context.Background(), Spec{Module: tool, Args: []string{"env"}, Env: env, NoOut: true})
		if !errors.Is(err, ErrHost) || res != nil {
			t.Errorf("%s: %v, %v; want ErrHost and no result", name, res, err)
		}
	}
	if n := e.compiles.Load(); n != 0 {
		t.Fatalf("%d compiles: the environment is checked before anything else", n)
	}
	// '=' in a value is fine.
	res, err := e.Run(context.Background(), Spec{Module: tool, Args: []string{"env"}, Env: map[string]string{"A": "b=c"}, NoOut: true})
	if err != nil || string(res.Stdout) != "A=b=c\n" {
		t.Fatalf("%q, %v", res.Stdout, err)
	}
}

// Linear memories come from a pool and go back to it: a run never sees
// what an earlier one wrote, neither in the buffer it starts with nor in
// the one it grows into (memdirty fills 5 pages with 0xa5, memzero traps
// on any byte that is not zero, before and after growing from 2 to 5
// pages), also with runs of both interleaved on several goroutines.
func TestMemoryPoolZeroed(t *testing.T) {
	e := newExecutor(t, WithMaxConcurrent(4))
	dirty, zero := fixture(t, "memdirty"), fixture(t, "memzero")
	run := func(mod []byte) error {
		res, err := e.Run(context.Background(), Spec{Module: mod, NoOut: true})
		if err == nil && res.ExitCode != 0 {
			err = errors.New("exit code " + string(rune('0'+res.ExitCode)))
		}
		return err
	}
	for i := range 5 {
		if err := run(dirty); err != nil {
			t.Fatalf("dirty %d: %v", i, err)
		}
		if err := run(zero); err != nil {
			t.Fatalf("zero %d: %v", i, err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 8 {
				mod := dirty
				if (g+i)%2 == 0 {
					mod = zero
				}
				if err := run(mod); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// getMem rounds a pooled capacity up to a power of two but never past the
// run's limit, and putMem keeps only those sizes and hands them back
// zeroed.
func TestMemPoolClasses(t *testing.T) {
	for _, tc := range []struct {
		size, want, limit uint64
		cap               int
	}{
		{65536, 65536, 1 << 30, 65536},
		{65536, 2 * 65536, 1 << 30, 2 * 65536},
		{3 * 65536, 3 * 65536, 1 << 30, 4 * 65536},
		{3 * 65536, 3 * 65536, 3 * 65536, 3 * 65536}, // 4 pages would pass the limit
		{1, 100, 1 << 30, 65536},
		{memPoolMax + 65536, memPoolMax + 65536, 1 << 30, memPoolMax + 65536}, // too big to pool
	} {
		b := getMem(tc.size, tc.want, tc.limit)
		if uint64(len(b)) != tc.size || cap(b) != tc.cap {
			t.Errorf("getMem(%d, %d, %d): len %d cap %d, want len %d cap %d",
				tc.size, tc.want, tc.limit, len(b), cap(b), tc.size, tc.cap)
		}
		for i := range b {
			b[i] = 0xff
		}
		putMem(b)
	}
	for range 4 {
		b := getMem(2*65536, 2*65536, 1<<30)
		if strings.Count(string(b[:cap(b)]), "\x00") != cap(b) {
			t.Fatal("a pooled buffer is not zero")
		}
		putMem(b)
	}
}
