package executor

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDeadlineInstrumented: modules that never end are stopped at the
// deadline through the instrumentation (internal/interrupt), not wazero's
// WithCloseOnContextDone: nested loops with br_table and a br to an outer
// multi-value loop, exponential recursion without loops, a spinning start
// section. A module exporting the reserved name falls back to the
// WithCloseOnContextDone runtime and is stopped too.
func TestDeadlineInstrumented(t *testing.T) {
	e := newExecutor(t)
	for _, tt := range []struct {
		name         string
		instrumented bool
	}{{"nested", true}, {"fib", true}, {"startspin", true}, {"loop", true}, {"brif", true}, {"brtable", true},
		{"indirect", true}, {"reserved", false}} {
		t.Run(tt.name, func(t *testing.T) {
			module := fixture(t, tt.name)
			res, err := run(t, e, Spec{Module: module, Limits: Limits{Timeout: 50 * time.Millisecond}})
			if !errors.Is(err, ErrDeadline) || err.Error() != "deadline of 50ms exceeded" || res == nil {
				t.Fatalf("err %v, res %v", err, res)
			}
			if res.Usage.Wall > 20*time.Second {
				t.Fatalf("stopped after %v", res.Usage.Wall)
			}
			h, err := e.Compile(context.Background(), module)
			if err != nil {
				t.Fatal(err)
			}
			e.mu.Lock()
			got := e.modules[h].instrumented
			e.mu.Unlock()
			if got != tt.instrumented {
				t.Fatalf("instrumented %v, want %v", got, tt.instrumented)
			}
		})
	}
}

// TestNoFallbackRuntime: ordinary modules never need the fallback runtime.
func TestNoFallbackRuntime(t *testing.T) {
	e := newExecutor(t)
	for _, name := range []string{"tool", "sha256", "named", "features"} {
		if _, err := e.Compile(context.Background(), fixture(t, name)); err != nil {
			t.Fatal(name, err)
		}
	}
	if e.fallback != nil {
		t.Fatal("fallback runtime made for instrumentable modules")
	}
	res, err := run(t, e, Spec{Module: fixture(t, "features")})
	if err != nil || string(res.Stdout) == "" {
		t.Fatal(err, res)
	}
}

// TestSpinningRunsOnEveryProc: as many spinning guests as run slots
// (GOMAXPROCS by default) are all stopped at their deadline, and a
// caller's cancel stops one: guests yield to the Go scheduler periodically,
// so the timers that stop them get a P.
func TestSpinningRunsOnEveryProc(t *testing.T) {
	e := newExecutor(t)
	n := cap(e.sem)
	var wg sync.WaitGroup
	errs := make(chan error, n+1)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.Run(context.Background(), Spec{Module: fixture(t, "nested"), OutDir: t.TempDir(),
				Limits: Limits{Timeout: 100 * time.Millisecond}})
			if !errors.Is(err, ErrDeadline) {
				errs <- err
			}
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := e.Run(ctx, Spec{Module: fixture(t, "fib"), OutDir: t.TempDir(), Limits: Limits{Timeout: time.Minute}})
	if !errors.Is(err, context.Canceled) {
		errs <- err
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestInvalidBodyGetsWazeroError: a module whose instrumented form wazero
// rejects is compiled again as it is by the fallback runtime, so the error
// is wazero's verdict on the original.
func TestInvalidBodyGetsWazeroError(t *testing.T) {
	e := newExecutor(t)
	bad := []byte("\x00asm\x01\x00\x00\x00" +
		"\x01\x04\x01\x60\x00\x00" + // type () -> ()
		"\x03\x02\x01\x00" + // one function
		"\x07\x0a\x01\x06_start\x00\x00" + // export _start
		"\x0a\x05\x01\x03\x00\x6a\x0b") // i32.add on an empty stack
	_, err := run(t, e, Spec{Module: bad})
	var ie *InvalidModuleError
	if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), "invalid module: ") {
		t.Fatalf("err %v", err)
	}
	if e.fallback == nil {
		t.Fatal("the original was not compiled by the fallback runtime")
	}
	t.Log(err)
}
