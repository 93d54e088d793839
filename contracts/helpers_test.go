package contracts_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/params"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/contracts/devnet"
)

var ether = big.NewInt(params.Ether)

func eth(n int64) *big.Int   { return new(big.Int).Mul(big.NewInt(n), ether) }
func gwei(n int64) *big.Int  { return new(big.Int).Mul(big.NewInt(n), big.NewInt(params.GWei)) }
func milli(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(params.Ether/1000)) }

// env is a dev chain with the Marketplace and a few funded parties.
type env struct {
	t        testing.TB
	ctx      context.Context
	chain    *devnet.Chain
	client   *contracts.Client // the job's client
	provider *contracts.Client
	mediator *contracts.Client
	other    *contracts.Client
	keys     map[common.Address]*ecdsa.PrivateKey
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	keys := make([]*ecdsa.PrivateKey, 4)
	var addrs []common.Address
	for i := range keys {
		k, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
		addrs = append(addrs, crypto.PubkeyToAddress(k.PublicKey))
	}
	chain, err := devnet.Start(ctx, devnet.Config{Fund: addrs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	e := &env{t: t, ctx: ctx, chain: chain, keys: map[common.Address]*ecdsa.PrivateKey{}}
	cs := make([]*contracts.Client, len(keys))
	for i, k := range keys {
		c, err := contracts.New(ctx, chain.Client(), chain.Contract(), k)
		if err != nil {
			t.Fatal(err)
		}
		cs[i] = c
		e.keys[c.Address()] = k
	}
	e.client, e.provider, e.mediator, e.other = cs[0], cs[1], cs[2], cs[3]
	return e
}

// now is the head block's time.
func (e *env) now() uint64 {
	h, err := e.chain.Client().HeaderByNumber(e.ctx, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return h.Time
}

func (e *env) advance(d time.Duration) {
	e.t.Helper()
	if err := e.chain.AdjustTime(d); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) deal(price, fee, collateral *big.Int, mediated bool) contracts.DealParams {
	p := contracts.DealParams{
		Client:          e.client.Address(),
		Provider:        e.provider.Address(),
		Price:           price,
		MediatorFee:     fee,
		Collateral:      collateral,
		Deadline:        e.now() + 600,
		ChallengeWindow: 300,
		JobHash:         crypto.Keccak256Hash(big.NewInt(int64(e.now())).Bytes(), price.Bytes(), []byte(e.t.Name())),
	}
	if mediated {
		p.Mediator = e.mediator.Address()
	}
	return p
}

func (e *env) credits(c *contracts.Client) *big.Int {
	e.t.Helper()
	v, err := e.client.Credits(e.ctx, c.Address())
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// ok fails the test on a send error and returns the receipt.
func (e *env) ok(r *types.Receipt, err error) *types.Receipt {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// state reads a deal's status.
func (e *env) state(id common.Hash) contracts.DealStatus {
	e.t.Helper()
	st, err := e.client.Deal(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return st.Status
}

func (e *env) balance(a common.Address) *big.Int {
	e.t.Helper()
	b, err := e.client.Balance(e.ctx, a)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) open(p contracts.DealParams, sig []byte) common.Hash {
	e.t.Helper()
	id, _, err := e.client.OpenDeal(e.ctx, p, sig)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func mustErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

func eqBig(t testing.TB, what string, got, want *big.Int) {
	t.Helper()
	if got.Cmp(want) != 0 {
		t.Fatalf("%s = %s, want %s", what, got, want)
	}
}

// The client also runs over go-ethereum's simulated backend.
var _ contracts.Backend = (simulated.Client)(nil)
