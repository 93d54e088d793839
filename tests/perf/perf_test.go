package perf

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/executor"
)

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want memStatus
		err  bool
	}{
		{"ok", "Name:\tcloudless\nVmPeak:\t 900 kB\nVmHWM:\t   81000 kB\nVmRSS:\t   80000 kB\nRssAnon:\t 50000 kB\nRssFile:\t 30000 kB\nThreads:\t12\n",
			memStatus{RSS: 80000 << 10, HWM: 81000 << 10, Anon: 50000 << 10, File: 30000 << 10}, false},
		{"no rss", "VmHWM:\t1 kB\n", memStatus{}, true},
		{"not kB", "VmHWM:\t1 kB\nVmRSS:\t1 MB\n", memStatus{}, true},
		{"not a number", "VmHWM:\t1 kB\nVmRSS:\tx kB\n", memStatus{}, true},
		{"empty", "", memStatus{}, true},
	} {
		got, err := parseStatus([]byte(tc.in))
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v, error %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}

// TestReadStatusSelf reads this process's own status, and fails cleanly
// for a process that does not exist.
func TestReadStatusSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	m, err := readStatus(os.Getpid())
	if err != nil || m.RSS == 0 || m.HWM < m.RSS {
		t.Fatalf("own status: %+v %v", m, err)
	}
	if _, err := readStatus(-1); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("status of pid -1: %v", err)
	}
	s := sample(os.Getpid(), time.Millisecond)
	if peak := s.end(); peak == 0 {
		t.Fatal("sampler saw no RSS")
	}
}

// TestSpinModule runs the hand-assembled module in the real sandbox: it
// must be a valid WASI command that finishes, and a long count must be
// stopped by the deadline (it really loops).
func TestSpinModule(t *testing.T) {
	e, err := executor.New()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	ctx := context.Background()
	res, err := e.Run(ctx, executor.Spec{Module: spinModule(1000)})
	if err != nil || res.ExitCode != 0 || res.Usage.PeakMemory != 64<<10 {
		t.Fatalf("short spin: %+v %v", res, err)
	}
	_, err = e.Run(ctx, executor.Spec{Module: spinModule(2_000_000_000), Limits: executor.Limits{Timeout: 50 * time.Millisecond}})
	if !errors.Is(err, executor.ErrDeadline) {
		t.Fatalf("long spin: %v, want ErrDeadline", err)
	}
}
