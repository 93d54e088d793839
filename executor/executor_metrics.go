package executor

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// tracer receives the executor's events; metrics implements it with
// Prometheus, noopTracer when no registerer is given.
type tracer interface {
	RunDone(outcome string, d time.Duration)
	Compiled(d time.Duration)
}

type noopTracer struct{}

func (noopTracer) RunDone(string, time.Duration) {}
func (noopTracer) Compiled(time.Duration)        {}

type metrics struct {
	runs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	compile  prometheus.Histogram
}

func newMetrics(r prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudless_executor_runs_total",
			Help: "Runs by outcome (ok, exit_nonzero, deadline, memory_limit, output_limit, trap, ...).",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cloudless_executor_run_duration_seconds",
			Help:    "Time Run took, including the wait for a slot and compilation.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"outcome"}),
		compile: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cloudless_executor_compile_duration_seconds",
			Help:    "Time to compile a module (or load it from the disk cache).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}),
	}
	for _, c := range []prometheus.Collector{m.runs, m.duration, m.compile} {
		if err := r.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) RunDone(outcome string, d time.Duration) {
	m.runs.WithLabelValues(outcome).Inc()
	m.duration.WithLabelValues(outcome).Observe(d.Seconds())
}

func (m *metrics) Compiled(d time.Duration) { m.compile.Observe(d.Seconds()) }

// outcome is the metrics label of a finished run.
func outcome(res *Result, err error) string {
	switch {
	case err == nil && res != nil && res.ExitCode != 0:
		return "exit_nonzero"
	case err == nil:
		return "ok"
	case errors.Is(err, ErrDeadline):
		return "deadline"
	case errors.Is(err, ErrMemoryLimit):
		return "memory_limit"
	case errors.Is(err, ErrOutputLimit):
		return "output_limit"
	case errors.Is(err, ErrModuleTooLarge), errors.Is(err, ErrStdinTooLarge):
		return "too_large"
	case errors.Is(err, ErrTrap):
		return "trap"
	case errors.Is(err, ErrInvalidModule):
		return "invalid_module"
	case errors.Is(err, ErrMissingImport):
		return "missing_import"
	case errors.Is(err, ErrNoStart):
		return "no_start"
	case errors.Is(err, ErrClosed):
		return "closed"
	case errors.Is(err, ErrHost):
		return "host_error"
	}
	return "canceled"
}
