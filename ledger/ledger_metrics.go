package ledger

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// tracer receives the ledger's events after a commit succeeded; metrics
// implements it with Prometheus, noopTracer when no registerer is given.
type tracer interface {
	Committed(write bool, d time.Duration, events []Event)
	Corrupt()
}

type noopTracer struct{}

func (noopTracer) Committed(bool, time.Duration, []Event) {}
func (noopTracer) Corrupt()                               {}

type metrics struct {
	transitions *prometheus.CounterVec
	commit      prometheus.Histogram
	corrupt     prometheus.Counter
}

func newMetrics(r prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudless_ledger_transitions_total",
			Help: "Committed state changes by record kind (job, deal, channel, voucher) and new state.",
		}, []string{"kind", "to"}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cloudless_ledger_commit_duration_seconds",
			Help:    "Time of a read-write ledger transaction including its fsync.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
		}),
		corrupt: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cloudless_ledger_corrupt_errors_total",
			Help: "Reads that found damaged data (ErrCorrupt).",
		}),
	}
	for _, c := range []prometheus.Collector{m.transitions, m.commit, m.corrupt} {
		if err := r.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) Committed(write bool, d time.Duration, events []Event) {
	if !write {
		return
	}
	m.commit.Observe(d.Seconds())
	for _, e := range events {
		to := e.To
		if e.Kind == "voucher" || e.Kind == "channel" && e.From != "" && !channels.known(ChannelState(to)) {
			to = "" // amounts, not states: keep the label set small
		}
		m.transitions.WithLabelValues(e.Kind, to).Inc()
	}
}

func (m *metrics) Corrupt() { m.corrupt.Inc() }
