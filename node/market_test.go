package node

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/contracts/devnet"
	"github.com/cloudless-network/cloudless/node/client"
)

// marketPair is a provider and a client daemon on loopback sharing an
// in-process dev chain, connected to each other.
type marketPair struct {
	chain            *devnet.Chain
	provider, client *Node
	pc, cc           *client.Client
}

func startMarketPair(t *testing.T) *marketPair {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ch, err := devnet.Start(ctx, devnet.Config{RPCAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("devnet: %v", err)
	}
	t.Cleanup(func() { ch.Close() })
	info := ch.Info()

	mp := &marketPair{chain: ch}
	start := func(provide bool) (*Node, *client.Client) {
		repo, cfg := newTestRepo(t)
		cfg.Provide.Enabled = provide
		cfg.Chain.RPC, cfg.Chain.Contract = info.RPC, info.Contract.Hex()
		id, err := ReadID(repo, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := ch.Fund(ctx, devnet.DefaultFundAmount, addrOf(id.Address)); err != nil {
			t.Fatalf("fund: %v", err)
		}
		n := startTestNode(t, repo, cfg)
		c, err := client.DialAPI(repo)
		if err != nil {
			t.Fatal(err)
		}
		return n, c
	}
	mp.provider, mp.pc = start(true)
	mp.client, mp.cc = start(false)
	if err := mp.cc.Connect(ctx, mp.provider.p2p.Addrs()[0]); err != nil {
		t.Fatalf("connect: %v", err)
	}
	return mp
}

// TestNodeMarketJob runs a job end to end through two daemons' control
// APIs: publish the module on the client, ask the provider,
// submit, and follow the job until it is paid.
func TestNodeMarketJob(t *testing.T) {
	if testing.Short() {
		t.Skip("two daemons and a dev chain")
	}
	mp := startMarketPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()

	module, err := os.ReadFile(filepath.Join("testdata", "hello.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if ch, err := mp.cc.Chain(ctx); err != nil || !ch.Enabled || ch.Block == 0 {
		t.Fatalf("chain status: %+v %v", ch, err)
	}
	runMarketJob(t, mp, module)
	// The provider lists it too; the client's wallet shows the spending.
	pj, err := mp.pc.Jobs(ctx)
	if err != nil || len(pj) == 0 || pj[0].Role != "provider" {
		t.Fatalf("provider jobs: %+v %v", pj, err)
	}
	w, err := mp.cc.Wallet(ctx)
	if err != nil || w.Balance == "" || w.Balance == "0" || w.Spent == "0" {
		t.Fatalf("client wallet: %+v %v", w, err)
	}
	// The provider marks the job paid at its next settle tick (2 s).
	var pw client.Wallet
	if err := waitFor(ctx, func() (bool, error) {
		pw, err = mp.pc.Wallet(ctx)
		return pw.Earned != "0", err
	}); err != nil || pw.Withdrawable == "0" {
		t.Fatalf("provider wallet: %+v %v", pw, err)
	}
	// Withdraw: a partial amount is refused (the contract pays all), then
	// everything is paid out.
	var ae *client.APIError
	if _, err := mp.pc.Withdraw(ctx, "1"); !errors.As(err, &ae) || ae.Status != 400 {
		t.Fatalf("partial withdraw: %v", err)
	}
	res, err := mp.pc.Withdraw(ctx, "")
	if err != nil || res.Tx == "" || res.Amount != pw.Withdrawable {
		t.Fatalf("withdraw: %+v %v (had %s)", res, err, pw.Withdrawable)
	}
	if _, err := mp.pc.Withdraw(ctx, ""); !errors.As(err, &ae) || ae.Status != 400 {
		t.Fatalf("second withdraw: %v", err)
	}
	// The offer book fills once the provider's next offer is gossiped;
	// the API answers with a list either way.
	if os, err := mp.cc.Offers(ctx); err != nil || os == nil {
		t.Fatalf("offers: %v %v", os, err)
	}
}

// waitFor polls cond (a real network is involved) until it holds or ctx
// ends.
func waitFor(ctx context.Context, cond func() (bool, error)) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), lastErr)
		case <-t.C:
		}
	}
}
