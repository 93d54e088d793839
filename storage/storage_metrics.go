package storage

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metricsTracer is what the store reports; the Prometheus implementation
// is used when Options.Registerer is set, a no-op otherwise.
type metricsTracer interface {
	BlockIn(bytes int)
	BlockOut(bytes int)
	BadBlock()
	Pins(n int)
	GCRemoved(n int)
}

type noMetrics struct{}

func (noMetrics) BlockIn(int)   {}
func (noMetrics) BlockOut(int)  {}
func (noMetrics) BadBlock()     {}
func (noMetrics) Pins(int)      {}
func (noMetrics) GCRemoved(int) {}

type promMetrics struct {
	bytesIn, bytesOut, blocksIn, blocksOut, badBlocks, gcRemoved prometheus.Counter
	pins                                                         prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) metricsTracer {
	if reg == nil {
		return noMetrics{}
	}
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "cloudless_storage_" + name, Help: help})
	}
	m := &promMetrics{
		bytesIn:   c("bitswap_received_bytes_total", "Block bytes received over bitswap."),
		bytesOut:  c("bitswap_sent_bytes_total", "Block bytes sent over bitswap."),
		blocksIn:  c("bitswap_received_blocks_total", "Blocks received over bitswap."),
		blocksOut: c("bitswap_sent_blocks_total", "Blocks sent over bitswap."),
		badBlocks: c("bitswap_bad_blocks_total", "Blocks received that we never asked for or that did not hash to the wanted CID; each penalizes the sender."),
		gcRemoved: c("gc_removed_blocks_total", "Unpinned blocks removed by garbage collection."),
		pins: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cloudless_storage_pins", Help: "Pinned roots (recursive and direct).",
		}),
	}
	// A second store in one process (tests) shares the first's collectors.
	reuse := func(c prometheus.Collector) prometheus.Collector {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return are.ExistingCollector
			}
		}
		return c
	}
	for _, c := range []*prometheus.Counter{&m.bytesIn, &m.bytesOut, &m.blocksIn, &m.blocksOut, &m.badBlocks, &m.gcRemoved} {
		if got, ok := reuse(*c).(prometheus.Counter); ok {
			*c = got
		}
	}
	if got, ok := reuse(m.pins).(prometheus.Gauge); ok {
		m.pins = got
	}
	return m
}

func (m *promMetrics) BlockIn(n int)   { m.blocksIn.Inc(); m.bytesIn.Add(float64(n)) }
func (m *promMetrics) BlockOut(n int)  { m.blocksOut.Inc(); m.bytesOut.Add(float64(n)) }
func (m *promMetrics) BadBlock()       { m.badBlocks.Inc() }
func (m *promMetrics) Pins(n int)      { m.pins.Set(float64(n)) }
func (m *promMetrics) GCRemoved(n int) { m.gcRemoved.Add(float64(n)) }
