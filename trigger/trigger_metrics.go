package trigger

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// gatewayMetrics are the gateway's Prometheus metrics, registered with
// GatewayOptions.Registerer when set (else unregistered):
//
//	cloudless_trigger_http_requests_total{code}              answered requests by status code
//	cloudless_trigger_http_request_duration_seconds{outcome} time to answer (ok, client_error, function_error, timeout, unavailable)
//	cloudless_trigger_http_inflight_requests                 requests being answered
//	cloudless_trigger_http_invocation_price_wei_total        wei paid for gateway invocations
type gatewayMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
	paid     prometheus.Counter
}

func newGatewayMetrics(reg prometheus.Registerer) *gatewayMetrics {
	m := &gatewayMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cloudless_trigger_http_requests_total",
			Help: "Requests the gateway answered, by status code."}, []string{"code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cloudless_trigger_http_request_duration_seconds",
			Help:    "Time from request to response through the gateway, by outcome.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5, 10, 30}}, []string{"outcome"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cloudless_trigger_http_inflight_requests",
			Help: "Requests the gateway is answering now."}),
		paid: prometheus.NewCounter(prometheus.CounterOpts{Name: "cloudless_trigger_http_invocation_price_wei_total",
			Help: "Wei paid to providers for invocations through the gateway."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.duration, m.inflight, m.paid} {
			_ = reg.Register(c) // a second gateway in one process keeps the first's
		}
	}
	return m
}

func (m *gatewayMetrics) done(code int, took time.Duration) {
	m.requests.WithLabelValues(strconv.Itoa(code)).Inc()
	outcome := "ok"
	switch {
	case code == 504:
		outcome = "timeout"
	case code == 503:
		outcome = "unavailable"
	case code >= 500:
		outcome = "function_error"
	case code >= 400:
		outcome = "client_error"
	}
	m.duration.WithLabelValues(outcome).Observe(took.Seconds())
}
