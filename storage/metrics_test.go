package storage

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestMetrics(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reg := prometheus.NewRegistry()
	a := openTestStore(t, &Options{Registerer: reg})
	b := openTestStore(t, &Options{Registerer: reg}) // shares the collectors
	ha, hb := newHost(t), newHost(t)
	a.Serve(ctx, ha, nil)
	b.Serve(ctx, hb, nil)
	connect(t, ha, hb)
	c, err := a.AddBytes(ctx, randBytes(3*ChunkSize, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ReadFile(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	m := a.met.(*promMetrics)
	if got := val(m.bytesIn); got < 3*ChunkSize {
		t.Errorf("bytes in %v", got)
	}
	if got := val(m.bytesOut); got < 3*ChunkSize {
		t.Errorf("bytes out %v", got)
	}
	if got := val(m.pins); got != 1 {
		t.Errorf("pins %v", got)
	}
	if mfs, err := reg.Gather(); err != nil || len(mfs) != 7 {
		t.Errorf("%d metrics registered, %v", len(mfs), err)
	}
}

func val(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		return -1
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}
