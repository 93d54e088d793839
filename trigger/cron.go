package trigger

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Clock is the time source of cron triggers and of the UTC day of the
// spending caps. SystemClock is the real one; tests give a fake clock so
// schedules run without sleeping.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once after d.
	NewTimer(d time.Duration) Timer
}

// Timer is a Clock's one-shot timer.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// SystemClock returns the wall clock.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time                 { return time.Now() }
func (systemClock) NewTimer(d time.Duration) Timer { return sysTimer{time.NewTimer(d)} }

type sysTimer struct{ t *time.Timer }

func (t sysTimer) C() <-chan time.Time { return t.t.C }
func (t sysTimer) Stop() bool          { return t.t.Stop() }

// cronTrigger runs a function on a schedule. Schedules are parsed by
// robfig/cron/v3 (five fields or a descriptor such as @hourly or
// @every 30s) but timed by the Service's Clock, which robfig's own runner
// cannot take.
//
// The last fire of each function and schedule is persisted. At start, if
// at least one fire fell in the time the daemon was down, the function
// runs once (never once per missed fire). A fire that comes while the
// previous run is still going is skipped, so a slow function cannot pile
// up runs either.
type cronTrigger struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (c *cronTrigger) stop() {
	c.cancel()
	<-c.done
}

func cronKey(fn, schedule string) string { return fn + "\x00" + schedule }

func (s *Service) startCron(fn *Function, tr *Trigger, gate <-chan struct{}) (running, error) {
	if err := checkCron(tr.Schedule); err != nil {
		return nil, fmt.Errorf("schedule %q: %w", tr.Schedule, err)
	}
	sched, err := cronParser.Parse(tr.Schedule)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", tr.Schedule, err)
	}
	key := cronKey(fn.Name, tr.Schedule)
	now := s.clock.Now()
	last, seen := s.cronLast(key)
	missed := seen && !sched.Next(last).After(now)
	ctx, cancel := context.WithCancel(s.ctx)
	c := &cronTrigger{cancel: cancel, done: make(chan struct{})}
	log := s.log.With("function", fn.Name, "schedule", tr.Schedule)
	fire := func(at time.Time, detail string) {
		// Saved before the run: a crash during it does not run it again.
		if err := s.setCronLast(key, at); err != nil {
			log.Warn("cron state not saved", "err", err)
		}
		out, err := s.Invoke(ctx, fn, Invocation{Trigger: KindCron, Detail: detail})
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("cron run failed", "err", err)
		case out != nil:
			log.Debug("cron run", "job", out.JobID, "exit", out.ExitCode)
		}
	}
	go func() {
		defer close(c.done)
		select {
		case <-gate:
		case <-ctx.Done():
			return
		}
		if !seen {
			// First deploy: count from now, so a restart knows what it
			// missed. Saved only once registered (a rolled-back deploy
			// leaves no state behind).
			if err := s.setCronLast(key, s.clock.Now()); err != nil {
				log.Warn("cron state not saved", "err", err)
			}
		}
		if missed {
			log.Info("running once for the fires missed while the daemon was down")
			fire(s.clock.Now(), tr.Schedule+" (missed while down)")
		}
		for {
			now := s.clock.Now()
			next := sched.Next(now)
			if next.IsZero() { // a schedule that never fires (Feb 30)
				<-ctx.Done()
				return
			}
			t := s.clock.NewTimer(next.Sub(now))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C():
			}
			fire(next, tr.Schedule)
			if ctx.Err() != nil {
				return
			}
		}
	}()
	return c, nil
}

// FakeClock is a Clock that moves only when told (Advance), for tests of
// schedules: no sleeping, no flakiness.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	changed chan struct{}
}

// NewFakeClock returns a FakeClock set to now.
func NewFakeClock(now time.Time) *FakeClock {
	return &FakeClock{now: now, changed: make(chan struct{})}
}

type fakeTimer struct {
	c     *FakeClock
	at    time.Time
	ch    chan time.Time
	fired bool
}

// Now returns the fake time.
func (f *FakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a timer that fires when Advance passes now+d.
func (f *FakeClock) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{c: f, at: f.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.fired = true
		t.ch <- f.now
	} else {
		f.timers = append(f.timers, t)
	}
	f.notify()
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	f := t.c
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.timers {
		if x == t {
			f.timers = append(f.timers[:i], f.timers[i+1:]...)
			f.notify()
			return !t.fired
		}
	}
	return false
}

// notify wakes WaitTimers (f.mu held).
func (f *FakeClock) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Advance moves the clock by d and fires the timers due by then.
func (f *FakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	keep := f.timers[:0]
	for _, t := range f.timers {
		if !t.at.After(f.now) {
			t.fired = true
			t.ch <- f.now
			continue
		}
		keep = append(keep, t)
	}
	f.timers = keep
	f.notify()
}

// WaitTimers blocks until at least n timers are pending (goroutines under
// test have armed them) or ctx ends.
func (f *FakeClock) WaitTimers(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		pending, ch := len(f.timers), f.changed
		f.mu.Unlock()
		if pending >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d timers (%d pending): %w", n, pending, ctx.Err())
		}
	}
}
