package p2p

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics is the node's Prometheus collectors; a nil registerer gives a
// no-op set so tests and simulations of hundreds of nodes need none.
type metrics struct {
	peersG     prometheus.Gauge
	validatedC *prometheus.CounterVec
	publishedC *prometheus.CounterVec
	discC      *prometheus.CounterVec
	requestsC  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return &metrics{}
	}
	return &metrics{
		peersG: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cloudless_p2p_peers", Help: "Connected libp2p peers.",
		})),
		validatedC: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudless_p2p_gossip_messages_total", Help: "Gossip messages validated, by topic and result (accepted, invalid, too_large, rate_limited).",
		}, []string{"topic", "result"})),
		publishedC: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudless_p2p_gossip_published_total", Help: "Gossip messages published by this node, by topic.",
		}, []string{"topic"})),
		discC: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudless_p2p_discovered_peers_total", Help: "Peers connected through discovery, by source.",
		}, []string{"source"})),
		requestsC: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudless_p2p_stream_requests_total", Help: "Framed request/response exchanges, by protocol, direction and result.",
		}, []string{"protocol", "direction", "result"})),
	}
}

// register registers c, or returns the collector already registered under
// the same name (several nodes in one process share one registry).
func register[T prometheus.Collector](reg prometheus.Registerer, c T) T {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(T); ok {
				return old
			}
		}
	}
	return c
}

func (m *metrics) peers(n int) {
	if m.peersG != nil {
		m.peersG.Set(float64(n))
	}
}

func (m *metrics) validated(topic, result string) {
	if m.validatedC != nil {
		m.validatedC.WithLabelValues(topic, result).Inc()
	}
}

func (m *metrics) published(topic string) {
	if m.publishedC != nil {
		m.publishedC.WithLabelValues(topic).Inc()
	}
}

func (m *metrics) discovered(source string) {
	if m.discC != nil {
		m.discC.WithLabelValues(source).Inc()
	}
}

func (m *metrics) request(proto, dir, result string) {
	if m.requestsC != nil {
		m.requestsC.WithLabelValues(proto, dir, result).Inc()
	}
}
