package market_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	bolt "go.etcd.io/bbolt"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

func ethPeer(t *testing.T) (peer.ID, common.Address) {
	t.Helper()
	k, _, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	a, err := market.AddressOf(id)
	if err != nil {
		t.Fatal(err)
	}
	return id, a
}

// TestMigrateJournal: a repo from before the market wrote to the ledger
// has its records in market.db. MigrateJournal folds them into the ledger
// once (typed jobs, channels with their best voucher, reputation), renames
// the file, and a second run finds nothing to do.
func TestMigrateJournal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old := filepath.Join(dir, market.JournalFile)
	client, clientAddr := ethPeer(t)
	prov, provAddr := ethPeer(t)
	price := big.NewInt(1_000_000)
	key := contracts.ChannelKey{Client: clientAddr, Provider: provAddr, Salt: common.HexToHash("0x07")}
	outKey := contracts.ChannelKey{Client: clientAddr, Provider: provAddr, Salt: common.HexToHash("0x08")}
	now := time.Now().UTC()

	pj := market.ProviderJob{ID: wire.NewJobID(), Client: client, ClientAddr: clientAddr, Spec: jobSpec("bafkreimodule"),
		Price: price, PayMode: wire.PayChannel, State: market.StatePaid, Channel: key.ID(), Cumulative: new(big.Int).Mul(price, big.NewInt(2)),
		ResultCID: "bafyresult", Delivered: true, Created: now, Updated: now}
	escrow := contracts.DealParams{Client: clientAddr, Provider: provAddr, Price: price, Deadline: 100, ChallengeWindow: 60}
	cj := market.Job{ID: wire.NewJobID(), Spec: jobSpec("bafkreimodule"), PayMode: wire.PayEscrow, State: market.StatePaid,
		Assigned: []market.Assignment{{Provider: prov, Addr: provAddr, Price: price, State: market.StatePaid, Deal: &escrow,
			DealID: common.HexToHash("0xdea1"), ResultCID: "bafyresult", Verified: true}},
		ResultCID: "bafyresult", Paid: price, Stdout: []byte("hi\n"), Created: now, Updated: now}
	records := map[string]map[string]any{
		"market.provider.jobs": {pj.ID.String(): pj},
		"market.provider.channels": {key.ID().Hex(): map[string]any{"key": key, "accepted": new(big.Int).Mul(price, big.NewInt(2)),
			"best": new(big.Int).Mul(price, big.NewInt(2)), "best_sig": []byte{1, 2, 3}, "best_at": now, "redeemed": price, "redeemed_at": now}},
		"market.client.jobs":     {cj.ID.String(): cj},
		"market.client.channels": {provAddr.Hex(): map[string]any{"key": outKey, "provider": prov, "deposit": big.NewInt(1e9), "promised": price}},
		"market.reputation":      {prov.String(): 0.9},
	}
	db, err := bolt.Open(old, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for bucket, recs := range records {
			b, err := tx.CreateBucketIfNotExists([]byte(bucket))
			if err != nil {
				return err
			}
			for k, v := range recs {
				raw, err := json.Marshal(v)
				if err != nil {
					return err
				}
				if err := b.Put([]byte(k), raw); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	l, err := ledger.Open(filepath.Join(dir, ledger.FileName), &ledger.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n, err := market.MigrateJournal(ctx, old, l)
	if err != nil || n != 5 {
		t.Fatalf("migrated %d records (%v), want 5", n, err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there (%v)", old, err)
	}
	if _, err := os.Stat(old + ".migrated"); err != nil {
		t.Errorf("no %s.migrated: %v", old, err)
	}
	// Jobs: typed states, the market's record intact.
	lp, err := l.Job(ctx, ledger.JobKey(client.String(), pj.ID.String()))
	if err != nil || lp.State != ledger.JobVoucherHeld || lp.ResultCID != "bafyresult" || lp.Voucher.Cmp(pj.Cumulative) != 0 {
		t.Fatalf("provider job %+v (%v)", lp, err)
	}
	lc, err := l.Job(ctx, cj.ID.String())
	if err != nil || lc.State != ledger.JobAccepted || len(lc.Providers) != 1 || lc.Providers[0].Verdict != "agree" {
		t.Fatalf("client job %+v (%v)", lc, err)
	}
	if d, err := l.Deal(ctx, cj.Assigned[0].DealID); err != nil || d.State != ledger.DealAccepted {
		t.Errorf("deal %+v (%v), want accepted", d, err)
	}
	// Channels: the provider's with its best voucher, redeemable above
	// what was redeemed; the client's open with its deposit.
	if c, err := l.Channel(ctx, outKey.ID()); err != nil || c.Role != ledger.RoleClient || c.State != ledger.ChannelOpen || c.Deposit.Int64() != 1e9 || c.Charged().Cmp(price) != 0 {
		t.Errorf("client channel %+v (%v)", c, err)
	}
	var v ledger.Voucher
	var ok bool
	if err := l.View(ctx, func(tx *ledger.Tx) (err error) { v, ok, err = tx.Redeemable(key.ID()); return }); err != nil || !ok || v.Cumulative.Cmp(pj.Cumulative) != 0 {
		t.Errorf("redeemable %+v %v (%v), want the best voucher", v, ok, err)
	}
	if tot, err := l.Totals(ctx); err != nil || tot.Earned.Cmp(price) != 0 || tot.Paid.Cmp(price) != 0 {
		t.Errorf("totals %+v (%v), want earned and paid %s", tot, err, price)
	}
	if r, err := l.Reputation(ctx, provAddr); err != nil || r.Successes != 1 {
		t.Errorf("reputation %+v (%v)", r, err)
	}
	// The market reads it back.
	back, err := l.Job(ctx, cj.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	var j market.Job
	if err := json.Unmarshal(back.Extra, &j); err != nil || string(j.Stdout) != "hi\n" {
		t.Errorf("market record %+v (%v)", j, err)
	}
	// Once only.
	if n, err := market.MigrateJournal(ctx, old, l); err != nil || n != 0 {
		t.Errorf("second migration: %d (%v), want 0", n, err)
	}
}
