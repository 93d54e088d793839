package market_test

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// TestChannelResultAckedAfterWrite: the provider's delivery of a channel
// result is answered only once the client's ledger holds the result
// (result_ack.go). The reply is what the provider acts on (it counts the
// job delivered and its voucher earned); acknowledged before the write, a
// client crash in between restarted with the job silent, credited it at
// the deadline while the provider counted it paid, and every later
// voucher on the channel was refused. Every answered Result is checked
// against the client's ledger at the moment the answer arrives.
func TestChannelResultAckedAfterWrite(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	cl.startClient(market.ClientConfig{})
	client := cl.client
	var mu sync.Mutex
	var acked int
	var errs []string
	prov.startNet()
	pnet := &filterNet{Network: prov.net, after: func(m wire.Message, _ []byte, err error) {
		r, ok := m.(*wire.Result)
		if !ok || err != nil {
			return
		}
		j, jerr := client.Job(r.JobID)
		mu.Lock()
		defer mu.Unlock()
		acked++
		if jerr != nil {
			errs = append(errs, jerr.Error())
			return
		}
		for _, a := range j.Assigned {
			if a.Provider == r.Provider && a.ResultCID != r.ResultCID {
				errs = append(errs, fmt.Sprintf("job %s acknowledged with the client's ledger at %s, result %q", r.JobID, a.State, a.ResultCID))
			}
		}
	}}
	p, err := market.NewProvider(market.ProviderDeps{Net: pnet, Seal: prov.seal, Content: prov.content, Runner: prov.runner,
		Settle: prov.settle, Ledger: prov.journal, Book: prov.book, Logger: quietLogger()},
		market.ProviderConfig{Price: testPrice, TickInterval: 50 * time.Millisecond, OfferInterval: time.Second,
			RedeemAmount: big.NewInt(1), WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	prov.provider = p
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); p.Close(); <-done })
	cl.waitOffers(1)
	mod := cl.publishModule()

	const jobs = 3
	jctx, jcancel := context.WithTimeout(w.ctx, time.Minute)
	defer jcancel()
	for i := range jobs {
		id, err := client.Submit(jctx, jobSpec(mod, fmt.Sprint("ack", i)), market.RunOptions{PayMode: wire.PayChannel})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Wait(jctx, id); err != nil {
			t.Fatal(err)
		}
		waitProviderState(t, prov, id, market.StatePaid) // delivered: acknowledged
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := acked
		mu.Unlock()
		if n >= jobs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d results acknowledged, want %d", n, jobs)
		}
		time.Sleep(20 * time.Millisecond) // polling a real network, with a deadline
	}
	mu.Lock()
	defer mu.Unlock()
	for _, e := range errs {
		t.Error(e)
	}
}
