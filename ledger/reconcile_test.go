package ledger

import (
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// tableChain is a ChainView backed by maps: the chain facts are plain data.
type tableChain struct {
	deals    map[common.Hash]ChainDeal
	channels map[common.Hash]ChainChannel
	err      error
}

func (c tableChain) DealOnChain(_ context.Context, id common.Hash) (ChainDeal, error) {
	if c.err != nil {
		return ChainDeal{}, c.err
	}
	return c.deals[id], nil
}

func (c tableChain) ChannelOnChain(_ context.Context, id common.Hash) (ChainChannel, error) {
	if c.err != nil {
		return ChainChannel{}, c.err
	}
	return c.channels[id], nil
}

var _ ChainView = tableChain{}

func TestReconcileDealTable(t *testing.T) {
	now := time.Unix(2000, 0)
	for _, tc := range []struct {
		name    string
		state   DealState
		chain   ChainDeal
		want    DealState // "" = no correction
		anomaly bool
	}{
		{"opening mined", DealOpening, ChainDeal{Status: ChainDealOpen}, DealOpened, false},
		{"opening not mined yet", DealOpening, ChainDeal{}, "", false},
		{"opening never mined, deadline gone", DealOpening, ChainDeal{}, DealAbandoned, false},
		{"opened agrees", DealOpened, ChainDeal{Status: ChainDealOpen}, "", false},
		{"opened, result submitted", DealOpened, ChainDeal{Status: ChainDealSubmitted, At: 1500}, DealSubmitted, false},
		{"opening, already submitted", DealOpening, ChainDeal{Status: ChainDealSubmitted, At: 1500}, DealSubmitted, false},
		{"submitted, claimed", DealSubmitted, ChainDeal{Status: ChainDealClosed, Outcome: DealClaimed}, DealClaimed, false},
		{"submitted, accepted", DealSubmitted, ChainDeal{Status: ChainDealClosed, Outcome: DealAccepted}, DealAccepted, false},
		{"opened, refunded", DealOpened, ChainDeal{Status: ChainDealClosed, Outcome: DealRefunded}, DealRefunded, false},
		{"submitted, disputed", DealSubmitted, ChainDeal{Status: ChainDealDisputed, At: 1600}, DealDisputed, false},
		{"disputed, resolved", DealDisputed, ChainDeal{Status: ChainDealClosed, Outcome: DealResolved, ForProvider: true}, DealResolved, false},
		{"disputed, expired", DealDisputed, ChainDeal{Status: ChainDealClosed, Outcome: DealRefunded}, DealRefunded, false},
		{"closed, unknown outcome", DealSubmitted, ChainDeal{Status: ChainDealClosed}, "", true},
		{"opened, chain has none", DealOpened, ChainDeal{}, "", true},
		{"ledger ahead of chain", DealSubmitted, ChainDeal{Status: ChainDealOpen}, "", true},
		{"submitted, dispute expired while down", DealSubmitted, ChainDeal{Status: ChainDealClosed, Outcome: DealRefunded}, DealRefunded, false},
		{"claimed but ledger says opening? fine: reachable", DealOpening, ChainDeal{Status: ChainDealClosed, Outcome: DealClaimed}, DealClaimed, false},
		{"terminal is final", DealClaimed, ChainDeal{Status: ChainDealOpen}, "", false},
		{"bad status", DealOpened, ChainDeal{Status: 9}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Deal{ID: hash(1), Role: RoleProvider, State: tc.state, Deadline: 3000, Price: big.NewInt(1)}
			if tc.name == "opening never mined, deadline gone" {
				d.Deadline = 1000
			}
			c, ok := ReconcileDeal(d, tc.chain, now)
			switch {
			case tc.want == "" && !tc.anomaly:
				if ok {
					t.Fatalf("unexpected correction %+v", c)
				}
			case tc.anomaly:
				if !ok || !c.Anomaly || c.deal != nil {
					t.Fatalf("want anomaly, got %+v %t", c, ok)
				}
			default:
				if !ok || c.Anomaly || c.To != string(tc.want) || c.deal.State != tc.want {
					t.Fatalf("want %s, got %+v %t", tc.want, c, ok)
				}
				if tc.chain.Status == ChainDealSubmitted && c.deal.SubmittedAt != tc.chain.At {
					t.Fatal("submitted time not taken from the chain")
				}
			}
		})
	}
}

func TestReconcileChannelTable(t *testing.T) {
	base := Channel{ID: hash(1), Role: RoleProvider, State: ChannelOpen, Deposit: big.NewInt(100), Redeemed: big.NewInt(10), Promised: big.NewInt(50)}
	for _, tc := range []struct {
		name    string
		state   ChannelState
		chain   ChainChannel
		want    ChannelState
		changed bool
		anomaly bool
	}{
		{"agrees", ChannelOpen, ChainChannel{Exists: true, Deposit: big.NewInt(100), Redeemed: big.NewInt(10)}, ChannelOpen, false, false},
		{"top-up", ChannelOpen, ChainChannel{Exists: true, Deposit: big.NewInt(150), Redeemed: big.NewInt(10)}, ChannelOpen, true, false},
		{"redeemed more", ChannelOpen, ChainChannel{Exists: true, Deposit: big.NewInt(100), Redeemed: big.NewInt(40)}, ChannelOpen, true, false},
		{"redeemed less is ignored", ChannelOpen, ChainChannel{Exists: true, Deposit: big.NewInt(100), Redeemed: big.NewInt(5)}, ChannelOpen, false, false},
		{"exit started", ChannelOpen, ChainChannel{Exists: true, Deposit: big.NewInt(100), Redeemed: big.NewInt(10), ExitAt: 99}, ChannelExiting, true, false},
		{"finished", ChannelExiting, ChainChannel{Exists: true, Deposit: big.NewInt(100), Redeemed: big.NewInt(100), ExitAt: 99, Finished: true}, ChannelClosed, true, false},
		{"opening mined", ChannelOpening, ChainChannel{Exists: true, Deposit: big.NewInt(100), Redeemed: big.NewInt(10)}, ChannelOpen, true, false},
		{"opening not mined", ChannelOpening, ChainChannel{}, "", false, false},
		{"vanished", ChannelOpen, ChainChannel{}, "", true, true},
		{"closed is final", ChannelClosed, ChainChannel{}, "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := base
			ch.State = tc.state
			c, ok := ReconcileChannel(ch, tc.chain)
			if ok != tc.changed || c.Anomaly != tc.anomaly {
				t.Fatalf("got %+v %t", c, ok)
			}
			if ok && !tc.anomaly && (c.To != string(tc.want) || c.channel.State != tc.want) {
				t.Fatalf("want %s got %+v", tc.want, c)
			}
		})
	}
}

// Reconcile applies corrections and carries the jobs along: a provider job
// whose deal was claimed while the node was down ends paid; a client job
// whose deal was refunded ends refunded; a redeemed channel finishes its
// voucher jobs.
func TestReconcileApply(t *testing.T) {
	l, _ := openTest(t)
	pj, cj, vj := "prov-job", "client-job", "voucher-job"
	mustPut := func(j Job, path ...JobState) {
		t.Helper()
		if _, err := l.PutJob(ctxb, j); err != nil {
			t.Fatal(err)
		}
		for _, s := range path {
			if _, err := l.Transition(ctxb, j.ID, s, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	mustPut(Job{ID: pj, Role: RoleProvider, State: JobAwarded, DealID: hash(1)}, JobPaymentVerified, JobRunning, JobResultStored, JobResultSent, JobCommitted)
	mustPut(Job{ID: cj, Role: RoleClient, State: JobBidding, DealID: hash(2)}, JobPaying, JobAwarded)
	mustPut(Job{ID: vj, Role: RoleProvider, State: JobAwarded, ChannelID: hash(3), Voucher: big.NewInt(30)}, JobPaymentVerified, JobRunning, JobResultStored, JobResultSent, JobVoucherHeld)
	for _, d := range []Deal{
		{ID: hash(1), Role: RoleProvider, State: DealOpened, JobID: pj, Price: big.NewInt(5)},
		{ID: hash(2), Role: RoleClient, State: DealOpening, JobID: cj, Price: big.NewInt(5)},
		{ID: hash(4), Role: RoleClient, State: DealOpened, Price: big.NewInt(5)}, // chain lost it: anomaly
	} {
		if _, err := l.PutDeal(ctxb, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.PutChannel(ctxb, Channel{ID: hash(3), Role: RoleProvider, State: ChannelOpen, Deposit: big.NewInt(100)}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AcceptVoucher(ctxb, Voucher{ChannelID: hash(3), Cumulative: big.NewInt(30), Signature: []byte{1}, JobID: vj}); err != nil {
		t.Fatal(err)
	}
	chain := tableChain{
		deals: map[common.Hash]ChainDeal{
			hash(1): {Status: ChainDealClosed, Outcome: DealClaimed, CloseTx: hash(77)},
			hash(2): {Status: ChainDealClosed, Outcome: DealRefunded},
		},
		channels: map[common.Hash]ChainChannel{hash(3): {Exists: true, Deposit: big.NewInt(120), Redeemed: big.NewInt(30)}},
	}
	if _, err := l.Reconcile(ctxb, tableChain{err: errors.New("rpc down")}); err == nil {
		t.Fatal("chain error swallowed")
	}
	corr, err := l.Reconcile(ctxb, chain)
	if err != nil {
		t.Fatal(err)
	}
	if len(corr) != 4 {
		t.Fatalf("%d corrections: %+v", len(corr), corr)
	}
	for id, want := range map[string]JobState{pj: JobPaid, cj: JobRefunded, vj: JobRedeemed} {
		if j, _ := l.Job(ctxb, id); j.State != want {
			t.Errorf("%s: %s, want %s", id, j.State, want)
		}
	}
	if d, _ := l.Deal(ctxb, hash(1)); d.State != DealClaimed || d.CloseTx != hash(77) {
		t.Errorf("deal %+v", d)
	}
	if c, _ := l.Channel(ctxb, hash(3)); c.Deposit.Int64() != 120 || c.Redeemed.Int64() != 30 {
		t.Errorf("channel %+v", c)
	}
	// Second pass: nothing left but the anomaly.
	corr, err = l.Reconcile(ctxb, chain)
	if err != nil || len(corr) != 1 || !corr[0].Anomaly || corr[0].ID != hash(4) {
		t.Fatalf("second pass %+v %v", corr, err)
	}
}
