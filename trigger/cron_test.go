package trigger

import (
	"context"
	"strings"
	"testing"
	"time"
)

// cronFn is a local function on a schedule.
func cronFn(name, schedule string) Function {
	fn := httpFn(name, "/"+name)
	fn.Local, fn.MaxPrice, fn.DailyCap = true, nil, nil
	fn.Triggers = []Trigger{{Kind: KindCron, Schedule: schedule}}
	return fn
}

// waitTimers waits until the cron goroutines have armed n timers: after
// that, nothing runs until the clock moves.
func waitTimers(t testing.TB, c *FakeClock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitTimers(ctx, n); err != nil {
		t.Fatal(err)
	}
}

func TestCronEvery(t *testing.T) {
	e := newSvcEnv(t)
	t0 := time.Date(2026, 5, 6, 10, 0, 0, 0, time.UTC)
	clock := NewFakeClock(t0)
	e.opts.Clock = clock
	s := e.open(t)
	if err := s.Deploy(context.Background(), []Function{cronFn("tick", "@every 30s")}); err != nil {
		t.Fatal(err)
	}
	waitTimers(t, clock, 1)
	if n := e.local.count(); n != 0 {
		t.Fatalf("%d runs before the first fire", n)
	}
	clock.Advance(30 * time.Second)
	c := e.local.next(t)
	if c.fn != "tick" || c.inv.Trigger != KindCron || c.inv.Detail != "@every 30s" {
		t.Fatalf("call %+v", c)
	}
	// The clock jumps 95 s at once (a suspended laptop): one run, not three.
	waitTimers(t, clock, 1)
	clock.Advance(95 * time.Second)
	e.local.next(t)
	waitTimers(t, clock, 1)
	if n := e.local.count(); n != 2 {
		t.Fatalf("%d runs after the jump, want 2", n)
	}
	// The log has the runs.
	logs, err := s.Logs("tick", 0)
	if err != nil || len(logs) != 2 || logs[1].Trigger != KindCron {
		t.Fatalf("logs %+v %v", logs, err)
	}
	// Removing stops the schedule: its timer is gone.
	if err := s.Remove("tick"); err != nil {
		t.Fatal(err)
	}
	clock.mu.Lock()
	pending := len(clock.timers)
	clock.mu.Unlock()
	if pending != 0 {
		t.Fatalf("%d timers after remove", pending)
	}
}

func TestCronFiveFields(t *testing.T) {
	e := newSvcEnv(t)
	clock := NewFakeClock(time.Date(2026, 5, 6, 10, 2, 0, 0, time.UTC))
	e.opts.Clock = clock
	s := e.open(t)
	if err := s.Deploy(context.Background(), []Function{cronFn("five", "*/5 * * * *"), cronFn("hourly", "@hourly")}); err != nil {
		t.Fatal(err)
	}
	waitTimers(t, clock, 2)
	clock.Advance(2*time.Minute + 59*time.Second) // 10:04:59
	waitTimers(t, clock, 2)                       // both still pending: nothing fired
	if n := e.local.count(); n != 0 {
		t.Fatalf("%d runs before 10:05", n)
	}
	clock.Advance(time.Second) // 10:05
	if c := e.local.next(t); c.fn != "five" {
		t.Fatalf("fired %s", c.fn)
	}
	waitTimers(t, clock, 2)
	clock.Advance(55 * time.Minute) // 11:00: both fire, once each
	got := map[string]int{}
	got[e.local.next(t).fn]++
	got[e.local.next(t).fn]++
	waitTimers(t, clock, 2)
	if got["five"] != 1 || got["hourly"] != 1 || e.local.count() != 3 {
		t.Fatalf("runs %v (total %d)", got, e.local.count())
	}
}

// TestCronMissedAtStart: a daemon down over one or many fires runs the
// function once at start, never a burst; one down between fires runs
// nothing extra.
func TestCronMissedAtStart(t *testing.T) {
	e := newSvcEnv(t)
	t0 := time.Date(2026, 5, 6, 10, 0, 0, 0, time.UTC)
	clock := NewFakeClock(t0)
	e.opts.Clock = clock
	s := e.open(t)
	if err := s.Deploy(context.Background(), []Function{cronFn("m", "@every 1m"), cronFn("h", "@hourly")}); err != nil {
		t.Fatal(err)
	}
	waitTimers(t, clock, 2)
	s.Close()

	// Down for 10 minutes: m missed ten fires, h none.
	clock.Advance(10*time.Minute + 5*time.Second)
	s = e.open(t)
	c := e.local.next(t)
	if c.fn != "m" || !strings.Contains(c.inv.Detail, "missed while down") {
		t.Fatalf("call %+v", c)
	}
	waitTimers(t, clock, 2) // both loops armed: no more runs without time passing
	if n := e.local.count(); n != 1 {
		t.Fatalf("%d runs at start, want 1", n)
	}
	// The next fire is on schedule again, from the restart.
	clock.Advance(time.Minute)
	if c := e.local.next(t); c.fn != "m" || c.inv.Detail != "@every 1m" {
		t.Fatalf("call %+v", c)
	}
	waitTimers(t, clock, 2)
	s.Close()

	// Down for 20 s, between two fires of m: nothing missed.
	clock.Advance(20 * time.Second)
	s = e.open(t)
	waitTimers(t, clock, 2)
	if n := e.local.count(); n != 2 {
		t.Fatalf("%d runs, want 2: a restart between fires ran the function", n)
	}
	// Down over 11:00: h runs once at start.
	s.Close()
	clock.Advance(time.Hour)
	s = e.open(t)
	got := map[string]int{}
	got[e.local.next(t).fn]++
	got[e.local.next(t).fn]++
	waitTimers(t, clock, 2)
	if got["m"] != 1 || got["h"] != 1 || e.local.count() != 4 {
		t.Fatalf("runs %v (total %d)", got, e.local.count())
	}
}

// TestCronSkipsWhileRunning: a fire that comes while the previous run is
// still going is skipped.
func TestCronSkipsWhileRunning(t *testing.T) {
	e := newSvcEnv(t)
	clock := NewFakeClock(time.Date(2026, 5, 6, 10, 0, 0, 0, time.UTC))
	e.opts.Clock = clock
	e.local.block = make(chan struct{})
	s := e.open(t)
	if err := s.Deploy(context.Background(), []Function{cronFn("slow", "@every 10s")}); err != nil {
		t.Fatal(err)
	}
	waitTimers(t, clock, 1)
	clock.Advance(10 * time.Second) // fires; the run blocks
	clock.Advance(10 * time.Second) // no timer armed: nothing
	clock.Advance(10 * time.Second)
	close(e.local.block)
	e.local.next(t)
	waitTimers(t, clock, 1)
	if n := e.local.count(); n != 1 {
		t.Fatalf("%d runs, want 1", n)
	}
}

func TestFakeClockStop(t *testing.T) {
	c := NewFakeClock(time.Unix(0, 0))
	tm := c.NewTimer(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer returned false")
	}
	c.Advance(2 * time.Second)
	select {
	case <-tm.C():
		t.Fatal("stopped timer fired")
	default:
	}
	if tm := c.NewTimer(0); tm.Stop() {
		t.Fatal("a fired timer stopped")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.WaitTimers(ctx, 1); err == nil {
		t.Fatal("WaitTimers ignored ctx")
	}
}
