package contracts_test

import (
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/cloudless-network/cloudless/contracts"
)

func TestVoucherDigestMatchesContract(t *testing.T) {
	e := newEnv(t)
	k := e.client.ChannelKey(e.provider.Address(), common.HexToHash("0x07"))
	id := k.ID()
	for _, amt := range []*big.Int{big.NewInt(0), big.NewInt(1), milli(123), new(big.Int).Lsh(big.NewInt(1), 200)} {
		got, err := e.client.VoucherDigestOnChain(e.ctx, id, amt)
		if err != nil {
			t.Fatal(err)
		}
		if want := contracts.VoucherDigest(e.client.ChainID(), e.client.Contract(), id, amt); got != want {
			t.Fatalf("digest for %s: contract %s, Go %s", amt, got, want)
		}
	}
	v, err := e.client.SignVoucher(k, milli(3))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := contracts.VerifyVoucher(e.client.ChainID(), e.client.Contract(), id, milli(3), v.Signature)
	if err != nil || signer != e.client.Address() {
		t.Fatalf("signer %s, %v", signer, err)
	}
	// Bound to amount, channel, chain and contract.
	for name, check := range map[string]func() (common.Address, error){
		"amount": func() (common.Address, error) {
			return contracts.VerifyVoucher(e.client.ChainID(), e.client.Contract(), id, milli(4), v.Signature)
		},
		"channel": func() (common.Address, error) {
			return contracts.VerifyVoucher(e.client.ChainID(), e.client.Contract(), common.Hash{1}, milli(3), v.Signature)
		},
		"chain": func() (common.Address, error) {
			return contracts.VerifyVoucher(big.NewInt(1), e.client.Contract(), id, milli(3), v.Signature)
		},
		"contract": func() (common.Address, error) {
			return contracts.VerifyVoucher(e.client.ChainID(), common.Address{1}, id, milli(3), v.Signature)
		},
	} {
		if s, err := check(); err == nil && s == e.client.Address() {
			t.Fatalf("voucher verified with another %s", name)
		}
	}
	if _, err := contracts.VerifyVoucher(e.client.ChainID(), e.client.Contract(), id, milli(3), v.Signature[:64]); err == nil {
		t.Fatal("short signature accepted")
	}
	if got := contracts.ChannelID(e.client.Address(), e.provider.Address(), common.HexToHash("0x07")); got != id {
		t.Fatal("ChannelID differs")
	}
}

func TestChannelLifecycle(t *testing.T) {
	e := newEnv(t)
	salt := common.HexToHash("0x01")
	k, _, err := e.client.OpenChannel(e.ctx, e.provider.Address(), salt, milli(10))
	id := k.ID()
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.client.OpenChannel(e.ctx, e.provider.Address(), salt, milli(1))
	mustErr(t, err, contracts.ErrChannelExists)
	_, _, err = e.client.OpenChannel(e.ctx, e.client.Address(), common.HexToHash("0x02"), milli(1))
	mustErr(t, err, contracts.ErrBadParams)
	_, _, err = e.client.OpenChannel(e.ctx, e.provider.Address(), common.HexToHash("0x02"), new(big.Int))
	mustErr(t, err, contracts.ErrZeroAmount)

	v1, _ := e.client.SignVoucher(k, milli(2))
	v2, _ := e.client.SignVoucher(k, milli(5))
	if err := e.provider.VerifyVoucher(e.ctx, v2); err != nil {
		t.Fatal(err)
	}
	_, err = e.other.Redeem(e.ctx, v2)
	mustErr(t, err, contracts.ErrNotProvider)
	e.ok(e.provider.Redeem(e.ctx, v2))
	eqBig(t, "provider", e.credits(e.provider), milli(5))
	_, err = e.provider.Redeem(e.ctx, v2)
	mustErr(t, err, contracts.ErrVoucherTooLow) // replayed
	_, err = e.provider.Redeem(e.ctx, v1)
	mustErr(t, err, contracts.ErrVoucherTooLow) // lowered cumulative amount

	// Signed by someone else, or for another channel.
	bad, _ := e.provider.SignVoucher(k, milli(6))
	_, err = e.provider.Redeem(e.ctx, bad)
	mustErr(t, err, contracts.ErrBadSignature)
	if err := e.provider.VerifyVoucher(e.ctx, bad); err == nil {
		t.Fatal("VerifyVoucher accepted the provider's own signature")
	}
	k2, _, err := e.client.OpenChannel(e.ctx, e.provider.Address(), common.HexToHash("0x02"), milli(10))
	if err != nil {
		t.Fatal(err)
	}
	cross := contracts.Voucher{Key: k2, Cumulative: milli(6), Signature: must6(e, k, milli(6))}
	_, err = e.provider.Redeem(e.ctx, cross)
	mustErr(t, err, contracts.ErrBadSignature)
	// For another chain or contract.
	for _, tc := range []struct {
		chain    *big.Int
		contract common.Address
	}{{big.NewInt(1), e.client.Contract()}, {e.client.ChainID(), common.Address{9}}} {
		sig, _ := contracts.SignVoucher(e.keys[e.client.Address()], tc.chain, tc.contract, id, milli(6))
		_, err = e.provider.Redeem(e.ctx, contracts.Voucher{Key: k, Cumulative: milli(6), Signature: sig})
		mustErr(t, err, contracts.ErrBadSignature)
	}

	// A voucher above the deposit pays the deposit; a top-up lets the rest through.
	v12, _ := e.client.SignVoucher(k, milli(12))
	e.ok(e.provider.Redeem(e.ctx, v12))
	eqBig(t, "provider", e.credits(e.provider), milli(10))
	e.ok(e.other.TopUp(e.ctx, k, milli(5)))
	e.ok(e.provider.Redeem(e.ctx, v12))
	eqBig(t, "provider", e.credits(e.provider), milli(12))
	ch, _ := e.client.Channel(e.ctx, id)
	eqBig(t, "deposit", ch.Deposit, milli(15))
	eqBig(t, "redeemed", ch.Redeemed, milli(12))

	// Exit: the provider can still redeem inside the window.
	_, err = e.provider.StartExit(e.ctx, k)
	mustErr(t, err, contracts.ErrNotClient)
	_, err = e.client.FinishExit(e.ctx, k)
	mustErr(t, err, contracts.ErrNothingPending)
	e.ok(e.client.StartExit(e.ctx, k))
	_, err = e.client.StartExit(e.ctx, k)
	mustErr(t, err, contracts.ErrChannelExiting)
	_, err = e.client.TopUp(e.ctx, k, milli(1))
	mustErr(t, err, contracts.ErrChannelExiting)
	_, err = e.client.FinishExit(e.ctx, k)
	mustErr(t, err, contracts.ErrTooEarly)
	v13, _ := e.client.SignVoucher(k, milli(13))
	e.ok(e.provider.Redeem(e.ctx, v13))
	e.advance(61 * time.Second)
	v14, _ := e.client.SignVoucher(k, milli(14))
	_, err = e.provider.Redeem(e.ctx, v14)
	mustErr(t, err, contracts.ErrTooLate)
	e.ok(e.client.FinishExit(e.ctx, k))
	eqBig(t, "client", e.credits(e.client), milli(2))
	_, err = e.provider.Redeem(e.ctx, v14)
	mustErr(t, err, contracts.ErrChannelFinished) // redeem after exit
	_, err = e.client.FinishExit(e.ctx, k)
	mustErr(t, err, contracts.ErrChannelFinished)
	ch, _ = e.client.Channel(e.ctx, id)
	if !ch.Finished || ch.Remaining().Sign() != 0 {
		t.Fatalf("channel after exit: %+v", ch)
	}
	_, err = e.client.Channel(e.ctx, common.Hash{5})
	mustErr(t, err, contracts.ErrUnknownChannel)
	_, err = e.client.TopUp(e.ctx, contracts.ChannelKey{Client: e.client.Address(), Provider: e.provider.Address()}, milli(1))
	mustErr(t, err, contracts.ErrUnknownChannel)
}

func must6(e *env, k contracts.ChannelKey, amt *big.Int) []byte {
	v, err := e.client.SignVoucher(k, amt)
	if err != nil {
		e.t.Fatal(err)
	}
	return v.Signature
}

func TestRedeemMany(t *testing.T) {
	e := newEnv(t)
	var vs []contracts.Voucher
	for i := range 3 {
		k, _, err := e.client.OpenChannel(e.ctx, e.provider.Address(), common.BigToHash(big.NewInt(int64(i))), milli(10))
		if err != nil {
			t.Fatal(err)
		}
		v, _ := e.client.SignVoucher(k, milli(int64(i+1)))
		vs = append(vs, v)
	}
	e.ok(e.provider.RedeemMany(e.ctx, vs))
	eqBig(t, "provider", e.credits(e.provider), milli(6))
	_, err := e.provider.RedeemMany(e.ctx, vs)
	mustErr(t, err, contracts.ErrVoucherTooLow)
}

// TestConcurrentSends hammers the nonce manager: many goroutines send from
// one key at once; every transaction must land.
func TestConcurrentSends(t *testing.T) {
	e := newEnv(t)
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := e.client.OpenChannel(e.ctx, e.provider.Address(), common.BigToHash(big.NewInt(int64(i))), gwei(1))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.client.FilterChannelsOpened(e.ctx, 0, []common.Address{e.client.Address()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d channels opened, want %d", len(got), n)
	}
	// A foreign send from the same key desynchronizes the nonce; the client recovers.
	same, err := contracts.New(e.ctx, e.chain.Client(), e.chain.Contract(), e.keys[e.client.Address()])
	if err != nil {
		t.Fatal(err)
	}
	e.ok(same.Stake(e.ctx, gwei(1)))
	_, err = e.client.Stake(e.ctx, gwei(1))
	if err == nil {
		t.Log("stale nonce went through (node replaced it)")
	}
	e.ok(e.client.Stake(e.ctx, gwei(1)))
}

func TestGasCapAndErrors(t *testing.T) {
	e := newEnv(t)
	low, err := contracts.New(e.ctx, e.chain.Client(), e.chain.Contract(), e.keys[e.client.Address()], contracts.WithGasCap(30_000))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = low.OpenChannel(e.ctx, e.provider.Address(), common.Hash{}, milli(1))
	mustErr(t, err, contracts.ErrGasCap)
	k, _ := crypto.GenerateKey()
	if _, err := contracts.New(e.ctx, e.chain.Client(), common.Address{1}, k); err == nil {
		t.Fatal("New accepted an address without code")
	}
	if _, err := contracts.New(e.ctx, e.chain.Client(), e.chain.Contract(), k, contracts.WithGasCap(1)); err == nil {
		t.Fatal("gas cap 1 accepted")
	}
}

func TestReceiptTimeoutAndDialErrors(t *testing.T) {
	e := newEnv(t)
	slow, err := contracts.New(e.ctx, e.chain.Client(), e.chain.Contract(), e.keys[e.provider.Address()],
		contracts.WithReceiptTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	e.chain.SetAutomine(false)
	_, err = slow.Stake(e.ctx, gwei(1))
	mustErr(t, err, contracts.ErrReceiptTimeout)
	e.chain.SetAutomine(true)
	// The nonce was used: the next send follows it and both land.
	e.ok(slow.Stake(e.ctx, gwei(1)))
	st, _ := e.client.StakeOf(e.ctx, e.provider.Address())
	eqBig(t, "stake", st.Amount, gwei(2))

	for _, opt := range []contracts.Option{contracts.WithReceiptTimeout(0), contracts.WithPollInterval(-1)} {
		if _, err := contracts.New(e.ctx, e.chain.Client(), e.chain.Contract(), e.keys[e.provider.Address()], opt); err == nil {
			t.Fatal("bad option accepted")
		}
	}
	if _, err := contracts.Dial(e.ctx, "http://127.0.0.1:1", e.chain.Contract(), e.keys[e.provider.Address()]); err == nil {
		t.Fatal("Dial to a closed port succeeded")
	}
}

func TestEventsDecodeEverything(t *testing.T) {
	e := newEnv(t)
	e.ok(e.provider.Stake(e.ctx, milli(10)))
	p := e.deal(milli(1), nil, nil, false)
	id := e.open(p, nil)
	e.ok(e.provider.SubmitResult(e.ctx, p, common.HexToHash("0x77")))
	e.ok(e.client.Accept(e.ctx, p))
	k, _, err := e.client.OpenChannel(e.ctx, e.provider.Address(), common.Hash{3}, milli(2))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := e.client.SignVoucher(k, milli(1))
	e.ok(e.provider.Redeem(e.ctx, v))
	e.ok(e.provider.Withdraw(e.ctx))
	evs, err := e.client.Events(e.ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ev := range evs {
		names = append(names, ev.Name)
	}
	want := []string{"Staked", "DealOpened", "ResultSubmitted", "DealAccepted", "ChannelOpened", "VoucherRedeemed", "Withdrawn"}
	if len(names) != len(want) {
		t.Fatalf("events %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("events %v, want %v", names, want)
		}
	}
	opened := evs[1].Data.(*contracts.MarketplaceDealOpened)
	if opened.DealId != id || opened.Price.Cmp(milli(1)) != 0 || opened.JobHash != p.JobHash {
		t.Fatalf("DealOpened %+v", opened)
	}
	subs, err := e.client.FilterResultsSubmitted(e.ctx, 0, []common.Hash{id})
	if err != nil || len(subs) != 1 || subs[0].ResultHash != common.HexToHash("0x77") {
		t.Fatalf("FilterResultsSubmitted %v %v", subs, err)
	}
	red, err := e.client.FilterVouchersRedeemed(e.ctx, 0, []common.Hash{k.ID()})
	if err != nil || len(red) != 1 || red[0].Paid.Cmp(milli(1)) != 0 {
		t.Fatalf("FilterVouchersRedeemed %v %v", red, err)
	}
	none, err := e.client.FilterDealsOpened(e.ctx, 0, []common.Address{e.other.Address()}, nil)
	if err != nil || len(none) != 0 {
		t.Fatalf("filter by another client: %v %v", none, err)
	}

	// Watch: a new deal arrives on the subscription.
	sink := make(chan *contracts.MarketplaceDealOpened, 1)
	sub, err := e.client.WatchDealsOpened(e.ctx, sink, nil, []common.Address{e.provider.Address()})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	q := e.deal(milli(2), nil, nil, false)
	qid := e.open(q, nil)
	select {
	case got := <-sink:
		if got.DealId != qid {
			t.Fatalf("watched deal %x, want %x", got.DealId, qid)
		}
	case err := <-sub.Err():
		t.Fatal(err)
	case <-e.ctx.Done():
		t.Fatal("no DealOpened on the watch")
	}
}
