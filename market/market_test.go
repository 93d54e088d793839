package market_test

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// jobPrice is what testPrice charges for jobSpec (64 MiB, 5 s).
var jobPrice = big.NewInt(1_000_000_000_000 + 5*1_000_000_000)

// waitProviderState polls the provider's journal until job id reaches s.
func waitProviderState(t *testing.T, nd *tnode, id wire.JobID, s market.State) market.ProviderJob {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		jobs, err := nd.provider.Jobs()
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			if j.ID == id && j.State == s {
				return j
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("provider job %s never reached %s (jobs %+v)", id, s, jobs)
		}
		time.Sleep(20 * time.Millisecond) // polling a real chain and network, with a deadline
	}
}

func TestJobLifeEscrowAndChannel(t *testing.T) {
	for _, mode := range []wire.PayMode{wire.PayEscrow, wire.PayChannel} {
		t.Run(string(mode), func(t *testing.T) {
			w := newWorld(t, 2)
			prov, cl := w.nodes[0], w.nodes[1]
			prov.startProvider(market.ProviderConfig{RedeemAmount: big.NewInt(1)})
			cl.startClient(market.ClientConfig{Mediator: w.mediator.Address()})
			cl.waitOffers(1)

			mod := cl.publishModule()
			stdin, err := cl.content.AddBytes([]byte("hello market\n"))
			if err != nil {
				t.Fatal(err)
			}
			spec := jobSpec(mod, "a", "b", "exit=3")
			spec.Stdin = stdin
			provBefore := w.credits(prov.addr())
			clBefore := w.balance(cl.addr())

			ctx, cancel := context.WithTimeout(w.ctx, time.Minute)
			defer cancel()
			id, err := cl.client.Submit(ctx, spec, market.RunOptions{PayMode: mode})
			if err != nil {
				t.Fatal(err)
			}
			out, err := cl.client.Wait(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if out.ExitCode != 3 {
				t.Errorf("exit code %d, want 3", out.ExitCode)
			}
			if !bytes.Contains(out.Stdout, []byte("args: a b exit=3\nhello market\n")) {
				t.Errorf("stdout %q", out.Stdout)
			}
			if !bytes.HasPrefix(out.Stderr, []byte("sum ")) {
				t.Errorf("stderr %q", out.Stderr)
			}
			if b, err := os.ReadFile(filepath.Join(out.Dir, "out", "sum.txt")); err != nil || len(b) == 0 {
				t.Errorf("out/sum.txt: %q %v", b, err)
			}
			if mode == wire.PayEscrow {
				// Wait returns the verified result; the accept follows.
				if out.Job.State != market.StateVerified || out.Job.Paid.Sign() != 0 {
					t.Errorf("outcome %s paid %v, want verified, nothing paid yet", out.Job.State, out.Job.Paid)
				}
				j, err := cl.client.WaitSettled(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				out.Job = *j
			}
			if out.Job.State != market.StatePaid || out.Job.Paid.Cmp(jobPrice) != 0 {
				t.Errorf("job %s paid %v, want paid %v", out.Job.State, out.Job.Paid, jobPrice)
			}
			pj := waitProviderState(t, prov, id, market.StatePaid)
			if pj.Price.Cmp(jobPrice) != 0 {
				t.Errorf("provider price %v", pj.Price)
			}
			// The provider earned exactly the price, in the contract's credits.
			deadline := time.Now().Add(20 * time.Second)
			for {
				got := new(big.Int).Sub(w.credits(prov.addr()), provBefore)
				if got.Cmp(jobPrice) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("provider earned %v, want %v", got, jobPrice)
				}
				time.Sleep(20 * time.Millisecond) // polling the chain for the redemption
			}
			// The client paid the price plus gas; gas is small.
			spent := new(big.Int).Sub(clBefore, w.balance(cl.addr()))
			if mode == wire.PayChannel {
				// the unspent deposit stays in the channel
				spent.Sub(spent, channelRemaining(t, w, cl, prov))
			}
			gas := new(big.Int).Sub(spent, jobPrice)
			if gas.Sign() <= 0 || gas.Cmp(big.NewInt(1e16)) > 0 {
				t.Errorf("client spent %v: price %v + gas %v", spent, jobPrice, gas)
			}
		})
	}
}

func channelRemaining(t *testing.T, w *world, cl, prov *tnode) *big.Int {
	t.Helper()
	evs, err := cl.settle.FilterChannelsOpened(w.ctx, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := new(big.Int)
	for _, e := range evs {
		if e.Client == cl.addr() && e.Provider == prov.addr() {
			ch, err := cl.settle.Channel(w.ctx, e.ChannelId)
			if err != nil {
				t.Fatal(err)
			}
			sum.Add(sum, ch.Remaining())
		}
	}
	return sum
}

func TestNoBidsNamesWhatWasAsked(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	prov.startProvider(market.ProviderConfig{})
	cl.startClient(market.ClientConfig{BidWait: 500 * time.Millisecond})
	cl.waitOffers(1)
	spec := jobSpec(cl.publishModule())
	spec.Price.Max = big.NewInt(1000) // far below the provider's floor
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.client.Wait(w.ctx, id)
	var nb *market.NoBidsError
	if !errors.As(err, &nb) || !errors.Is(err, market.ErrNoBids) {
		t.Fatalf("err %v, want NoBidsError", err)
	}
	for _, want := range []string{"64MiB", "1000 wei", spec.Module} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}
