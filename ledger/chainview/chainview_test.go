package chainview_test

import (
	"context"
	"crypto/ecdsa"
	"log/slog"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/contracts/devnet"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/ledger/chainview"
)

// The ledger's chain status enum mirrors the contract's, value for value.
func TestStatusValuesMatchContract(t *testing.T) {
	for _, s := range []contracts.DealStatus{contracts.DealNone, contracts.DealOpen, contracts.DealSubmitted, contracts.DealDisputed, contracts.DealClosed} {
		if got := ledger.ChainDealStatus(s).String(); got != s.String() {
			t.Errorf("contracts %d is %s, ledger says %s", s, s, got)
		}
	}
}

type party struct {
	c *contracts.Client
	l *ledger.Ledger
}

// A node that was down while the chain moved on: the provider's deal was
// claimed, the client's deal refunded, a channel redeemed and topped up.
// Reconcile over the real contract (in-process dev chain) brings both
// ledgers, and their jobs, in line.
func TestReconcileAgainstDevChain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a dev chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	keys := make([]*ecdsa.PrivateKey, 2)
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
	defer chain.Close()
	ps := make([]party, 2)
	for i, k := range keys {
		c, err := contracts.New(ctx, chain.Client(), chain.Contract(), k)
		if err != nil {
			t.Fatal(err)
		}
		l, err := ledger.Open(filepath.Join(t.TempDir(), ledger.FileName), &ledger.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ps[i] = party{c, l}
	}
	client, provider := ps[0], ps[1]
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	head, err := chain.Client().HeaderByNumber(ctx, nil)
	must(err)
	milli := func(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e15)) }
	params := func(n int64) contracts.DealParams {
		return contracts.DealParams{Client: client.c.Address(), Provider: provider.c.Address(), Price: milli(n),
			Deadline: head.Time + 600, ChallengeWindow: 300, JobHash: crypto.Keccak256Hash(big.NewInt(n).Bytes())}
	}
	asDeal := func(id common.Hash, role ledger.Role, st ledger.DealState, job string, p contracts.DealParams) ledger.Deal {
		return ledger.Deal{ID: id, Role: role, State: st, JobID: job, Client: p.Client, Provider: p.Provider,
			Price: p.Price, Deadline: p.Deadline, ChallengeWindow: p.ChallengeWindow, JobHash: p.JobHash}
	}
	walk := func(l *ledger.Ledger, j ledger.Job, path ...ledger.JobState) {
		t.Helper()
		_, err := l.PutJob(ctx, j)
		must(err)
		for _, s := range path {
			_, err := l.Transition(ctx, j.ID, s, nil)
			must(err)
		}
	}

	// Deal A: the provider recorded the open deal and its commit intent,
	// submitted, then went down; the window passed and it claimed from
	// another process (or a human did). Its ledger still says opened.
	pa := params(5)
	idA, _, err := client.c.OpenDeal(ctx, pa, nil)
	must(err)
	walk(provider.l, ledger.Job{ID: "job-a", Role: ledger.RoleProvider, State: ledger.JobAwarded, DealID: idA},
		ledger.JobPaymentVerified, ledger.JobRunning, ledger.JobResultStored, ledger.JobResultSent, ledger.JobCommitted)
	_, err = provider.l.PutDeal(ctx, asDeal(idA, ledger.RoleProvider, ledger.DealOpened, "job-a", pa))
	must(err)
	_, err = provider.c.SubmitResult(ctx, pa, common.HexToHash("0xaa"))
	must(err)

	// Deal B: the client recorded DealOpening, sent the open, crashed; no
	// result came; after the deadline it refunded (and crashed again
	// before recording it).
	pb := params(7)
	walk(client.l, ledger.Job{ID: "job-b", Role: ledger.RoleClient, State: ledger.JobBidding, DealID: contracts.DealID(chain.ChainID(), chain.Contract(), pb)},
		ledger.JobPaying)
	_, err = client.l.PutDeal(ctx, asDeal(contracts.DealID(chain.ChainID(), chain.Contract(), pb), ledger.RoleClient, ledger.DealOpening, "job-b", pb))
	must(err)
	_, _, err = client.c.OpenDeal(ctx, pb, nil)
	must(err)

	// Channel: the provider accepted a voucher of 3 on a 10 deposit.
	key, _, err := client.c.OpenChannel(ctx, provider.c.Address(), common.HexToHash("0x5a17"), milli(10))
	must(err)
	_, err = provider.l.PutChannel(ctx, ledger.Channel{ID: key.ID(), Role: ledger.RoleProvider, State: ledger.ChannelOpen,
		Client: client.c.Address(), Provider: provider.c.Address(), Deposit: milli(10)})
	must(err)
	v, err := client.c.SignVoucher(key, milli(3))
	must(err)
	walk(provider.l, ledger.Job{ID: "job-c", Role: ledger.RoleProvider, State: ledger.JobAwarded, ChannelID: key.ID(), Voucher: milli(3)},
		ledger.JobPaymentVerified, ledger.JobRunning, ledger.JobResultStored, ledger.JobResultSent, ledger.JobVoucherHeld)
	_, err = provider.l.AcceptVoucher(ctx, ledger.Voucher{ChannelID: key.ID(), Cumulative: milli(3), Signature: v.Signature, JobID: "job-c"})
	must(err)

	// The chain moves on while both nodes are "down".
	must(chain.AdjustTime(601 * time.Second))
	_, err = provider.c.Claim(ctx, pa)
	must(err)
	_, err = client.c.Refund(ctx, pb)
	must(err)
	_, err = provider.c.Redeem(ctx, v)
	must(err)
	_, err = client.c.TopUp(ctx, key, milli(5))
	must(err)

	for _, p := range ps {
		corr, err := p.l.Reconcile(ctx, chainview.New(p.c, 0))
		must(err)
		for _, c := range corr {
			if c.Anomaly {
				t.Errorf("anomaly: %+v", c)
			}
		}
	}
	check := func(l *ledger.Ledger, job string, want ledger.JobState) {
		t.Helper()
		j, err := l.Job(ctx, job)
		must(err)
		if j.State != want {
			t.Errorf("%s: %s, want %s", job, j.State, want)
		}
	}
	check(provider.l, "job-a", ledger.JobPaid)
	check(client.l, "job-b", ledger.JobRefunded)
	check(provider.l, "job-c", ledger.JobRedeemed)
	if d, _ := provider.l.Deal(ctx, idA); d.State != ledger.DealClaimed || d.CloseTx == (common.Hash{}) || d.SubmittedAt != 0 && d.SubmittedAt < head.Time {
		t.Errorf("deal A %+v", d)
	}
	if c, _ := provider.l.Channel(ctx, key.ID()); c.Redeemed.Cmp(milli(3)) != 0 || c.Deposit.Cmp(milli(15)) != 0 {
		t.Errorf("channel %+v", c)
	}
	// A second pass finds nothing to do.
	for _, p := range ps {
		corr, err := p.l.Reconcile(ctx, chainview.New(p.c, 0))
		must(err)
		if len(corr) != 0 {
			t.Errorf("second pass: %+v", corr)
		}
	}
}
