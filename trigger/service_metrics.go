package trigger

import (
	"github.com/prometheus/client_golang/prometheus"
)

// serviceMetrics are the Service's Prometheus metrics, registered with
// ServiceOptions.Registerer when set (else unregistered):
//
//	cloudless_trigger_invocations_total{trigger,outcome}  invocations by trigger kind and outcome (ok, failed, over_budget, removed)
//	cloudless_trigger_spent_wei_total                      wei paid for invocations of deployed functions
//	cloudless_trigger_functions                            functions deployed
type serviceMetrics struct {
	invocations *prometheus.CounterVec
	spent       prometheus.Counter
	functions   prometheus.Gauge
}

func newServiceMetrics(reg prometheus.Registerer) *serviceMetrics {
	m := &serviceMetrics{
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cloudless_trigger_invocations_total",
			Help: "Function invocations, by trigger kind and outcome (ok, failed, over_budget, removed)."}, []string{"trigger", "outcome"}),
		spent: prometheus.NewCounter(prometheus.CounterOpts{Name: "cloudless_trigger_spent_wei_total",
			Help: "Wei paid for invocations of deployed functions."}),
		functions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cloudless_trigger_functions",
			Help: "Functions deployed."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.invocations, m.spent, m.functions} {
			_ = reg.Register(c) // a second Service in one process keeps the first's
		}
	}
	return m
}
