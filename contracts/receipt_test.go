package contracts_test

import (
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/cloudless-network/cloudless/contracts"
)

// TestReceiptAfterManualSeal: a transaction whose block comes late (the
// dev chain paused) is still picked up by the backing-off poll once the
// block is sealed.
func TestReceiptAfterManualSeal(t *testing.T) {
	e := newEnv(t)
	c, err := contracts.New(e.ctx, e.chain.Client(), e.chain.Contract(), e.keys[e.other.Address()],
		contracts.WithReceiptTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	e.chain.SetAutomine(false)
	defer e.chain.SetAutomine(true)
	type res struct {
		r   *types.Receipt
		err error
	}
	done := make(chan res, 1)
	go func() {
		r, err := c.Transfer(e.ctx, common.Address{0xaa}, big.NewInt(1))
		done <- res{r, err}
	}()
	// Polling a real (in-process) chain with a deadline.
	for deadline := time.Now().Add(20 * time.Second); e.chain.Pending() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("transaction never reached the pool")
		}
	}
	e.chain.Commit()
	r := <-done
	if r.err != nil || r.r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("receipt %v, %v", r.r, r.err)
	}
	if bal := e.balance(common.Address{0xaa}); bal.Int64() != 1 {
		t.Fatalf("balance %s", bal)
	}
}

// BenchmarkTxToReceipt is what one transaction costs a caller on the dev
// chain (blocks on demand): estimate, sign, send, the block, the receipt
// (polled from 1 ms, doubling). "seal" is the dev chain sealing one block
// holding one transfer (Chain.Commit), the "one block" of issue 9's
// escrow goal.
//
//	go test ./contracts -run '^$' -bench TxToReceipt -benchtime 40x
func BenchmarkTxToReceipt(b *testing.B) {
	report := func(b *testing.B, ds []time.Duration) {
		slices.Sort(ds)
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, "p99-ms")
	}
	b.Run("send", func(b *testing.B) {
		e := newEnv(b)
		c, err := contracts.New(e.ctx, e.chain.Client(), e.chain.Contract(), e.keys[e.other.Address()])
		if err != nil {
			b.Fatal(err)
		}
		var ds []time.Duration
		for b.Loop() {
			t0 := time.Now()
			e.ok(c.Transfer(e.ctx, common.Address{0xcc}, big.NewInt(1)))
			ds = append(ds, time.Since(t0))
		}
		report(b, ds)
	})
	b.Run("seal", func(b *testing.B) {
		e := newEnv(b)
		key := e.keys[e.other.Address()]
		ec := e.chain.Client()
		chainID := e.chain.ChainID()
		nonce, err := ec.PendingNonceAt(e.ctx, crypto.PubkeyToAddress(key.PublicKey))
		if err != nil {
			b.Fatal(err)
		}
		tip := big.NewInt(1e9)
		e.chain.SetAutomine(false)
		defer e.chain.SetAutomine(true)
		var ds []time.Duration
		for b.Loop() {
			tx, err := types.SignTx(types.NewTx(&types.DynamicFeeTx{ChainID: chainID, Nonce: nonce, GasTipCap: tip,
				GasFeeCap: big.NewInt(100e9), Gas: 21_000, To: &common.Address{0xdd}, Value: big.NewInt(1)}),
				types.LatestSignerForChainID(chainID), key)
			if err != nil {
				b.Fatal(err)
			}
			if err := ec.SendTransaction(e.ctx, tx); err != nil {
				b.Fatal(err)
			}
			nonce++
			for deadline := time.Now().Add(10 * time.Second); e.chain.Pending() == 0; time.Sleep(100 * time.Microsecond) {
				if time.Now().After(deadline) {
					b.Fatal("transaction never pending")
				}
			}
			t0 := time.Now()
			e.chain.Commit()
			ds = append(ds, time.Since(t0))
		}
		report(b, ds)
	})
}
