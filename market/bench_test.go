package market_test

import (
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// reportLatency adds p50 and p99 (ms) of ds to b's output.
func reportLatency(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		i := int(q * float64(len(ds)-1))
		return float64(ds[i].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkJobToResult is the time from Submit to a verified, paid result
// for a small cached function on a warm in-process network (mocknet,
// bitswap, wazero, the dev chain): request, bid, pay, award, run, store,
// result, fetch, verify, accept. One job at a time.
func BenchmarkJobToResult(b *testing.B) {
	for _, mode := range []wire.PayMode{wire.PayChannel, wire.PayEscrow} {
		b.Run(string(mode), func(b *testing.B) {
			w := newWorld(b, 2)
			prov, cl := w.nodes[0], w.nodes[1]
			prov.startProvider(market.ProviderConfig{})
			cl.startClient(market.ClientConfig{})
			cl.waitOffers(1)
			spec := jobSpec(cl.publishModule(), "bench")
			run := func() time.Duration {
				t0 := time.Now()
				id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: mode, Providers: []peer.ID{prov.id()}})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := cl.client.Wait(w.ctx, id); err != nil {
					b.Fatal(err)
				}
				return time.Since(t0)
			}
			run() // warm: compile, open the channel
			var ds []time.Duration
			b.ResetTimer()
			for b.Loop() {
				ds = append(ds, run())
			}
			reportLatency(b, ds)
		})
	}
}

// BenchmarkProviderThroughput is jobs per second through one provider
// (32 sandbox slots) with many small channel-paid jobs in flight at once
// (16 at a time, from one client over one channel), and their time to
// result.
func BenchmarkProviderThroughput(b *testing.B) {
	const inFlight = 16
	w := newWorld(b, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	ex, err := executor.New(executor.WithMaxConcurrent(32), executor.WithMaxMemory(4<<30))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ex.Close(w.ctx) })
	prov.exec, prov.runner = ex, ex
	prov.startProvider(market.ProviderConfig{})
	cl.startClient(market.ClientConfig{ChannelDeposit: new(big.Int).Mul(ether, big.NewInt(10))})
	cl.waitOffers(1)
	spec := jobSpec(cl.publishModule(), "tput")
	opts := market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{prov.id()}}
	run := func() (time.Duration, error) {
		t0 := time.Now()
		id, err := cl.client.Submit(w.ctx, spec, opts)
		if err != nil {
			return 0, err
		}
		_, err = cl.client.Wait(w.ctx, id)
		return time.Since(t0), err
	}
	if _, err := run(); err != nil { // warm: compile, open the channel
		b.Fatal(err)
	}
	var mu sync.Mutex
	var ds []time.Duration
	var failed int
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	for range inFlight {
		wg.Go(func() {
			for range jobs {
				d, err := run()
				mu.Lock()
				if err != nil {
					failed++
					if failed == 1 {
						b.Log(err)
					}
				} else {
					ds = append(ds, d)
				}
				mu.Unlock()
			}
		})
	}
	b.ResetTimer()
	t0, cpu0 := time.Now(), cpuTime()
	for b.Loop() {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	el, cpu := time.Since(t0), cpuTime()-cpu0
	b.StopTimer()
	if failed > 0 {
		b.Errorf("%d of %d jobs failed", failed, b.N)
	}
	b.ReportMetric(float64(len(ds))/el.Seconds(), "jobs/s")
	// CPU time of the whole process (client, provider, chain, network)
	// per job: on a loaded machine a steadier figure than jobs/s; 2 idle
	// cores give at most 2000/cpu-ms jobs/s.
	if len(ds) > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(ds)), "cpu-ms/job")
	}
	reportLatency(b, ds)
}
