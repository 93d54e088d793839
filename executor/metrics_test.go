package executor

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newExecutor(t, WithRegisterer(reg))
	run(t, e, Spec{Module: fixture(t, "tool")})
	run(t, e, Spec{Module: fixture(t, "tool"), Args: []string{"exit", "3"}})
	run(t, e, Spec{Module: fixture(t, "loop"), Limits: Limits{Timeout: 10 * time.Millisecond}})
	run(t, e, Spec{Module: fixture(t, "unreachable")})
	run(t, e, Spec{Module: []byte("junk")})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	compiles := uint64(0)
	for _, mf := range mfs {
		switch mf.GetName() {
		case "cloudless_executor_runs_total":
			for _, m := range mf.GetMetric() {
				got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
		case "cloudless_executor_compile_duration_seconds":
			compiles = mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	want := map[string]float64{"ok": 1, "exit_nonzero": 1, "deadline": 1, "trap": 1, "invalid_module": 1}
	if len(got) != len(want) {
		t.Fatalf("runs by outcome %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("outcome %s: %v, want %v", k, got[k], v)
		}
	}
	if compiles != 3 {
		t.Errorf("compile histogram has %d samples, want 3", compiles)
	}
	// A second executor on the same registry is a registration conflict.
	if _, err := New(WithRegisterer(reg)); err == nil {
		t.Fatal("duplicate registration accepted")
	}
}

func TestOutcomeLabels(t *testing.T) {
	for err, want := range map[error]string{
		&LimitError{Kind: LimitMemory}:     "memory_limit",
		&LimitError{Kind: LimitOutput}:     "output_limit",
		&LimitError{Kind: LimitStdin}:      "too_large",
		&MissingImportError{}:              "missing_import",
		ErrNoStart:                         "no_start",
		ErrClosed:                          "closed",
		&HostError{Op: "x"}:                "host_error",
		&LimitError{Kind: LimitModuleSize}: "too_large",
	} {
		if got := outcome(nil, err); got != want {
			t.Errorf("%v: %s, want %s", err, got, want)
		}
	}
}

func TestDebugLog(t *testing.T) {
	var buf bytes.Buffer
	e := newExecutor(t, WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	run(t, e, Spec{Module: fixture(t, "tool"), Args: []string{"exit", "5"}})
	for _, want := range []string{"module compiled", "run done", "outcome=exit_nonzero", "exit_code=5"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
}
