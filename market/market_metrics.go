package market

import (
	"math/big"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the market's Prometheus metrics. NewMetrics(nil) makes
// unregistered ones (tests, a node without /metrics).
type Metrics struct {
	jobs     *prometheus.CounterVec
	bids     *prometheus.CounterVec
	awards   *prometheus.CounterVec
	payments *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg when not nil:
//
//	cloudless_market_jobs_total{role,state}        job state transitions
//	cloudless_market_bids_total{outcome}           bids sent, refused, received
//	cloudless_market_awards_total{outcome}         awards accepted or refused, by reason
//	cloudless_market_payments_wei_total{kind}      wei moved, by kind
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cloudless_market_jobs_total",
			Help: "Job state transitions by role (client, provider) and state."}, []string{"role", "state"}),
		bids: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cloudless_market_bids_total",
			Help: "Bids by outcome (sent, refused, received, chosen)."}, []string{"outcome"}),
		awards: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cloudless_market_awards_total",
			Help: "Awards received by a provider, by outcome."}, []string{"outcome"}),
		payments: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cloudless_market_payments_wei_total",
			Help: "Wei moved by kind (escrow_open, voucher, accept, refund, provider_escrow, provider_redeemed)."}, []string{"kind"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.jobs, m.bids, m.awards, m.payments} {
			if err := reg.Register(c); err != nil {
				if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
					_ = are // a second provider/client in one process shares the first's
				}
			}
		}
	}
	return m
}

func (m *Metrics) Job(role string, s State) { m.jobs.WithLabelValues(role, string(s)).Inc() }
func (m *Metrics) Bid(outcome string)       { m.bids.WithLabelValues(outcome).Inc() }
func (m *Metrics) Award(outcome string)     { m.awards.WithLabelValues(outcome).Inc() }
func (m *Metrics) Paid(kind string, v *big.Int) {
	if v == nil {
		return
	}
	f, _ := new(big.Float).SetInt(v).Float64()
	m.payments.WithLabelValues(kind).Add(f)
}
