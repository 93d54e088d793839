package executor

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// signalWriter closes ch on the first write: the guest is running.
type signalWriter struct {
	once sync.Once
	ch   chan struct{}
}

func (s *signalWriter) Write(p []byte) (int, error) {
	s.once.Do(func() { close(s.ch) })
	return len(p), nil
}

// overlapReader counts how many runs are reading stdin at once.
type overlapReader struct {
	r           io.Reader
	active, max *atomic.Int64
	started     bool
}

func (o *overlapReader) Read(p []byte) (int, error) {
	if !o.started {
		o.started = true
		n := o.active.Add(1)
		for {
			m := o.max.Load()
			if n <= m || o.max.CompareAndSwap(m, n) {
				break
			}
		}
	}
	n, err := o.r.Read(p)
	if err == io.EOF {
		o.active.Add(-1)
	}
	return n, err
}

// TestHammer runs many goroutines against one executor: a shared compiled
// module per hash, MaxConcurrent respected, every outcome correct.
func TestHammer(t *testing.T) {
	const slots, workers = 2, 16
	e := newExecutor(t, WithMaxConcurrent(slots))
	tool, named, loop := fixture(t, "tool"), fixture(t, "named"), fixture(t, "loop")
	iters := 8
	if testing.Short() {
		iters = 3
	}
	var active, maxActive atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers*iters)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range iters {
				switch (w + i) % 3 {
				case 0:
					in := strings.Repeat("hammer ", 100)
					res, err := e.Run(context.Background(), Spec{Module: tool, Args: []string{"cat"}, OutDir: t.TempDir(),
						Stdin: &overlapReader{r: strings.NewReader(in), active: &active, max: &maxActive}})
					if err != nil || string(res.Stdout) != in {
						errs <- errors.New("cat: wrong result")
					}
				case 1:
					res, err := e.Run(context.Background(), Spec{Module: named, OutDir: t.TempDir()})
					if err != nil || res.ExitCode != 7 {
						errs <- errors.New("named: wrong result")
					}
				case 2:
					_, err := e.Run(context.Background(), Spec{Module: loop, OutDir: t.TempDir(), Limits: Limits{Timeout: 5 * time.Millisecond}})
					if !errors.Is(err, ErrDeadline) {
						errs <- err
					}
				}
				if c := e.Capacity(); c.Running > slots {
					errs <- errors.New("more runs than slots")
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if m := maxActive.Load(); m < 1 || m > slots {
		t.Errorf("max overlapping runs %d, slots %d", m, slots)
	}
	if n := e.compiles.Load(); n != 3 {
		t.Errorf("%d compilations for 3 modules", n)
	}
}

// TestConcurrentFirstCompile checks that concurrent first users compile once.
func TestConcurrentFirstCompile(t *testing.T) {
	e := newExecutor(t)
	tool := fixture(t, "tool")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.Compile(context.Background(), tool); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := e.compiles.Load(); n != 1 {
		t.Fatalf("%d compilations, want 1", n)
	}
}

// TestCloseDuringRuns closes the executor while modules spin and while a
// run waits for a slot; all of them return ErrClosed and Close returns.
func TestCloseDuringRuns(t *testing.T) {
	e, err := New(WithMaxConcurrent(2))
	if err != nil {
		t.Fatal(err)
	}
	signal := fixture(t, "signal")
	type out struct {
		res *Result
		err error
	}
	results := make(chan out, 3)
	var started []chan struct{}
	for range 2 {
		ch := make(chan struct{})
		started = append(started, ch)
		go func() {
			res, err := e.Run(context.Background(), Spec{Module: signal, OutDir: t.TempDir(),
				Stdout: &signalWriter{ch: ch}, Limits: Limits{Timeout: time.Minute}})
			results <- out{res, err}
		}()
	}
	for _, ch := range started {
		<-ch
	}
	// A third run finds no free slot (or a closed executor).
	go func() {
		res, err := e.Run(context.Background(), Spec{Module: signal, OutDir: t.TempDir(), Limits: Limits{Timeout: time.Minute}})
		results <- out{res, err}
	}()
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		o := <-results
		if !errors.Is(o.err, ErrClosed) {
			t.Errorf("run after close: %v", o.err)
		}
	}
}

// TestCloseTimeout: Close gives up waiting when its ctx ends. A run blocked
// in a host read cannot be interrupted by the sandbox (wazero stops guest
// code, not a Go reader), so its Stdin must honour the caller's ctx.
func TestCloseTimeout(t *testing.T) {
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := e.Run(context.Background(), Spec{Module: fixture(t, "tool"), Args: []string{"cat"}, OutDir: t.TempDir(),
			Stdin: &gateReader{started: started, release: release}, Limits: Limits{Timeout: time.Minute}})
		done <- err
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("close: %v", err)
	}
	close(release)
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("run: %v", err)
	}
}

type gateReader struct {
	started, release chan struct{}
	once             sync.Once
}

func (g *gateReader) Read([]byte) (int, error) {
	g.once.Do(func() { close(g.started) })
	<-g.release
	return 0, io.EOF
}
