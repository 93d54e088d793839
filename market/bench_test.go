package market_test

import (
	"testing"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// BenchmarkJobToResult is the time from Submit to a verified, paid result
// for a small cached function on a warm in-process network (mocknet,
// bitswap, wazero, the dev chain): request, bid, pay, award, run, store,
// result, fetch, verify, accept.
func BenchmarkJobToResult(b *testing.B) {
	for _, mode := range []wire.PayMode{wire.PayChannel, wire.PayEscrow} {
		b.Run(string(mode), func(b *testing.B) {
			w := newWorld(b, 2)
			prov, cl := w.nodes[0], w.nodes[1]
			prov.startProvider(market.ProviderConfig{})
			cl.startClient(market.ClientConfig{})
			cl.waitOffers(1)
			spec := jobSpec(cl.publishModule(), "bench")
			run := func() {
				id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: mode})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := cl.client.Wait(w.ctx, id); err != nil {
					b.Fatal(err)
				}
			}
			run() // warm: compile, open the channel
			b.ResetTimer()
			for b.Loop() {
				run()
			}
		})
	}
}
