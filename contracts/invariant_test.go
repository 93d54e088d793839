package contracts_test

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/cloudless-network/cloudless/contracts"
)

// TestInvariantRandomOps runs random operations by several accounts and
// checks after each one that the contract holds exactly what it owes:
// credits + escrow of unsettled deals + unredeemed channel deposits +
// stakes (bonded and pending).
func TestInvariantRandomOps(t *testing.T) {
	steps := 250
	if testing.Short() {
		steps = 80
	}
	for _, seed := range []uint64{1, 2} {
		t.Run("seed", func(t *testing.T) { runInvariant(t, seed, steps) })
	}
}

func runInvariant(t *testing.T, seed uint64, steps int) {
	e := newEnv(t)
	rng := rand.New(rand.NewPCG(seed, 99))
	actors := []*contracts.Client{e.client, e.provider, e.mediator, e.other}
	pick := func() *contracts.Client { return actors[rng.IntN(len(actors))] }
	var deals []contracts.DealParams
	var channels []contracts.ChannelKey
	amount := func() *big.Int { return gwei(int64(1 + rng.IntN(5_000_000))) }
	nOK, nRevert := 0, 0

	for step := range steps {
		a := pick()
		var err error
		op := rng.IntN(16)
		switch op {
		case 0:
			_, err = a.Stake(e.ctx, amount())
		case 1:
			_, err = a.RequestUnstake(e.ctx, amount())
		case 2:
			_, err = a.Unstake(e.ctx)
		case 3, 4:
			prov := pick()
			p := contracts.DealParams{
				Client: a.Address(), Provider: prov.Address(), Price: amount(),
				Deadline: e.now() + uint64(30+rng.IntN(300)), ChallengeWindow: uint64(rng.IntN(200)),
				JobHash: crypto.Keccak256Hash(big.NewInt(int64(step)).Bytes()),
			}
			if rng.IntN(2) == 0 {
				p.Mediator = pick().Address()
				p.MediatorFee = gwei(int64(rng.IntN(1000)))
			}
			var sig []byte
			if rng.IntN(2) == 0 {
				p.Collateral = amount()
				sig, _ = prov.SignDeal(p)
			}
			_, _, err = a.OpenDeal(e.ctx, p, sig)
			if err == nil {
				deals = append(deals, p)
			}
		case 5, 6, 7, 8, 9, 10:
			if len(deals) == 0 {
				continue
			}
			p := deals[rng.IntN(len(deals))]
			switch rng.IntN(7) {
			case 0:
				_, err = a.SubmitResult(e.ctx, p, common.Hash{byte(step)})
			case 1:
				_, err = a.Accept(e.ctx, p)
			case 2:
				_, err = a.Claim(e.ctx, p)
			case 3:
				_, err = a.Refund(e.ctx, p)
			case 4:
				_, err = a.Dispute(e.ctx, p)
			case 5:
				_, err = a.Resolve(e.ctx, p, rng.IntN(2) == 0)
			case 6:
				_, err = a.ExpireDispute(e.ctx, p)
			}
		case 11:
			var k contracts.ChannelKey
			k, _, err = a.OpenChannel(e.ctx, pick().Address(), common.Hash{byte(step), byte(step >> 8)}, amount())
			if err == nil {
				channels = append(channels, k)
			}
		case 12, 13:
			if len(channels) == 0 {
				continue
			}
			k := channels[rng.IntN(len(channels))]
			ch, cerr := e.client.Channel(e.ctx, k.ID())
			if cerr != nil {
				t.Fatal(cerr)
			}
			signer := actors[0]
			for _, x := range actors {
				if x.Address() == k.Client {
					signer = x
				}
			}
			switch rng.IntN(4) {
			case 0:
				_, err = a.TopUp(e.ctx, k, amount())
			case 1:
				v, _ := signer.SignVoucher(k, new(big.Int).Add(ch.Redeemed, amount()))
				_, err = a.Redeem(e.ctx, v)
			case 2:
				_, err = a.StartExit(e.ctx, k)
			case 3:
				_, err = a.FinishExit(e.ctx, k)
			}
		case 14:
			_, err = a.Withdraw(e.ctx)
		case 15:
			e.advance(time.Duration(1+rng.IntN(200)) * time.Second)
		}
		var re *contracts.RevertError
		switch {
		case err == nil:
			nOK++
		case errors.As(err, &re) || errors.Is(err, contracts.ErrAmountOverflow):
			nRevert++
		default:
			t.Fatalf("step %d op %d: %v", step, op, err)
		}
		checkSolvent(t, e, actors, deals, channels, step)
	}
	t.Logf("seed %d: %d ops succeeded, %d reverted as expected", seed, nOK, nRevert)
	if nOK < steps/4 {
		t.Fatalf("only %d of %d ops succeeded: the random walk explores too little", nOK, steps)
	}
}

func checkSolvent(t *testing.T, e *env, actors []*contracts.Client, deals []contracts.DealParams, channels []contracts.ChannelKey, step int) {
	t.Helper()
	owed := new(big.Int)
	for _, a := range actors {
		owed.Add(owed, e.credits(a))
		st, err := e.client.StakeOf(e.ctx, a.Address())
		if err != nil {
			t.Fatal(err)
		}
		owed.Add(owed, st.Amount).Add(owed, st.Pending)
		if st.Locked.Cmp(st.Amount) > 0 {
			t.Fatalf("step %d: locked %s > stake %s", step, st.Locked, st.Amount)
		}
	}
	for _, p := range deals {
		s := e.state(e.client.DealID(p))
		if s == contracts.DealOpen || s == contracts.DealSubmitted || s == contracts.DealDisputed {
			owed.Add(owed, p.Value())
		}
	}
	for _, k := range channels {
		ch, err := e.client.Channel(e.ctx, k.ID())
		if err != nil {
			t.Fatal(err)
		}
		if ch.Redeemed.Cmp(ch.Deposit) > 0 {
			t.Fatalf("step %d: channel redeemed %s > deposit %s", step, ch.Redeemed, ch.Deposit)
		}
		owed.Add(owed, ch.Remaining())
	}
	bal := e.balance(e.client.Contract())
	if bal.Cmp(owed) != 0 {
		t.Fatalf("step %d: contract holds %s, owes %s", step, bal, owed)
	}
}
