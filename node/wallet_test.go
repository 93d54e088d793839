package node

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/node/client"
)

// TestWalletChannels runs a channel-paid job (with --retry's API field)
// through two daemons and reads both sides' channel from /v1/wallet, which
// the ledger answers: the client's deposit, spent and remaining; the
// provider's best voucher and what it has not redeemed.
func TestWalletChannels(t *testing.T) {
	if testing.Short() {
		t.Skip("two daemons and a dev chain")
	}
	mp := startMarketPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	module, err := os.ReadFile(filepath.Join("testdata", "hello.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := mp.cc.Publish(ctx, bytes.NewReader(module), "hello.wasm")
	if err != nil {
		t.Fatal(err)
	}
	j, err := mp.cc.Run(ctx, map[string]any{
		"spec":      map[string]any{"module": pub.CID, "resources": map[string]any{"timeout": "10s"}, "price": map[string]any{"max": "0.01 ether"}},
		"providers": []string{mp.provider.p2p.ID().String()},
		"pay":       "channel",
		"retry":     1,
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	var last client.Job
	if err := waitFor(ctx, func() (bool, error) {
		last, err = mp.cc.Job(ctx, j.ID)
		return last.State == "paid" || last.State == "failed", err
	}); err != nil || last.State != "paid" {
		t.Fatalf("job %+v: %v", last.State, err)
	}
	w, err := mp.cc.Wallet(ctx)
	if err != nil || len(w.Channels) != 1 {
		t.Fatalf("client wallet channels %+v: %v", w.Channels, err)
	}
	c := w.Channels[0]
	if c.Role != "payer" || c.State != "open" || c.Spent != last.Price || c.Remaining == "" || c.Remaining == "0" || c.Deposit == "0" {
		t.Errorf("client channel %+v (job price %s)", c, last.Price)
	}
	var pw client.Wallet
	if err := waitFor(ctx, func() (bool, error) {
		// The provider records the job earned once the client
		// acknowledged the result, which it does after its own write:
		// the client may see "paid" a moment before.
		pw, err = mp.pc.Wallet(ctx)
		return len(pw.Channels) == 1 && pw.Earned == last.Price, err
	}); err != nil {
		t.Fatalf("provider wallet: %+v %v", pw, err)
	}
	p := pw.Channels[0]
	if p.Role != "payee" || p.ID != c.ID || p.Best != last.Price || p.Unredeemed != last.Price || p.Redeemed != "0" {
		t.Errorf("provider channel %+v (job price %s)", p, last.Price)
	}
	if pw.Earned != last.Price {
		t.Errorf("provider earned %s, want %s", pw.Earned, last.Price)
	}
}
