package ledger

import (
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// TestReconcileDisputes follows disputed deals to every end the contract
// gives them, on both sides: the mediator rules for the provider (paid),
// for the client (refunded, collateral forfeited), or stays silent
// (DisputeExpired: refunded). A client job with several providers is not
// moved by one deal: the market decides it from all of them.
func TestReconcileDisputes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		chain      ChainDeal
		deal       DealState
		provider   JobState
		client     JobState
		noteSubstr string
	}{
		// The client's job stays disputed: its market records the end
		// (assignment, refund amount) from the closing event.
		{"mediator for provider", ChainDeal{Status: ChainDealClosed, Outcome: DealResolved, ForProvider: true},
			DealResolved, JobPaid, JobDisputed, "ruled for the provider"},
		{"mediator for client", ChainDeal{Status: ChainDealClosed, Outcome: DealResolved},
			DealResolved, JobRefunded, JobDisputed, "ruled for the client"},
		{"mediator silent", ChainDeal{Status: ChainDealClosed, Outcome: DealRefunded, Expired: true},
			DealRefunded, JobRefunded, JobDisputed, "dispute expired"},
		{"still disputed", ChainDeal{Status: ChainDealDisputed, At: 1700},
			DealDisputed, JobDisputed, JobDisputed, "disputed on chain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, _ := openTest(t)
			put := func(j Job, d Deal, path ...JobState) {
				t.Helper()
				if _, err := l.PutJob(ctxb, j); err != nil {
					t.Fatal(err)
				}
				for _, s := range path {
					if _, err := l.Transition(ctxb, j.ID, s, nil); err != nil {
						t.Fatal(err)
					}
				}
				to := d.State
				d.State = DealOpened
				if _, err := l.PutDeal(ctxb, d); err != nil {
					t.Fatal(err)
				}
				if err := l.Update(ctxb, func(tx *Tx) error { _, err := tx.AdvanceDeal(d.ID, to, nil); return err }); err != nil {
					t.Fatal(err)
				}
			}
			// The provider's record: committed, and (second deal) already
			// disputed when the node stopped.
			put(Job{ID: "p1", Role: RoleProvider, State: JobAwarded, DealID: hash(1)},
				Deal{ID: hash(1), Role: RoleProvider, State: DealSubmitted, JobID: "p1", Price: big.NewInt(5)},
				JobPaymentVerified, JobRunning, JobResultStored, JobCommitted)
			put(Job{ID: "p2", Role: RoleProvider, State: JobAwarded, DealID: hash(2)},
				Deal{ID: hash(2), Role: RoleProvider, State: DealDisputed, JobID: "p2", Price: big.NewInt(5)},
				JobPaymentVerified, JobRunning, JobResultStored, JobCommitted, JobDisputed)
			// The client's: one provider, disputed.
			put(Job{ID: "c1", Role: RoleClient, State: JobBidding, DealID: hash(3)},
				Deal{ID: hash(3), Role: RoleClient, State: DealDisputed, JobID: "c1", Price: big.NewInt(5)},
				JobPaying, JobAwarded, JobResultReceived, JobDisputed)
			// Redundancy 3: two paid, the last assignment's deal disputed.
			put(Job{ID: "c3", Role: RoleClient, State: JobBidding, DealID: hash(4),
				Providers: []Assignment{{Provider: "a", DealID: hash(5)}, {Provider: "b", DealID: hash(6)}, {Provider: "c", DealID: hash(4)}}},
				Deal{ID: hash(4), Role: RoleClient, State: DealDisputed, JobID: "c3", Price: big.NewInt(5)},
				JobPaying, JobAwarded, JobResultReceived, JobVerified)
			// The client crashed after its dispute transaction and before
			// recording it: its ledger says submitted.
			put(Job{ID: "c2", Role: RoleClient, State: JobBidding, DealID: hash(7)},
				Deal{ID: hash(7), Role: RoleClient, State: DealSubmitted, JobID: "c2", Price: big.NewInt(5)},
				JobPaying, JobAwarded, JobResultReceived)
			chain := tableChain{deals: map[common.Hash]ChainDeal{hash(1): tc.chain, hash(2): tc.chain, hash(3): tc.chain, hash(4): tc.chain, hash(7): tc.chain}}
			if _, err := l.Reconcile(ctxb, chain); err != nil {
				t.Fatal(err)
			}
			for id, want := range map[common.Hash]DealState{hash(1): tc.deal, hash(2): tc.deal, hash(3): tc.deal, hash(4): tc.deal} {
				d, err := l.Deal(ctxb, id)
				if err != nil || d.State != want {
					t.Errorf("deal %d: %s, want %s (%v)", id.Big().Int64()-1000, d.State, want, err)
				}
				if d.ForProvider != (tc.chain.Outcome == DealResolved && tc.chain.ForProvider) {
					t.Errorf("deal %s: ForProvider %t", id, d.ForProvider)
				}
				moved := tc.deal != DealDisputed || id == hash(1) // the others were disputed already
				if moved && !strings.Contains(d.Note, tc.noteSubstr) {
					t.Errorf("deal note %q, want it to say %q", d.Note, tc.noteSubstr)
				}
			}
			c2 := JobResultReceived // left for the market, which reads the closing event
			if tc.deal == DealDisputed {
				c2 = JobDisputed
			}
			for id, want := range map[string]JobState{"p1": tc.provider, "p2": tc.provider, "c1": tc.client, "c2": c2, "c3": JobVerified} {
				if j, _ := l.Job(ctxb, id); j.State != want {
					t.Errorf("job %s: %s, want %s", id, j.State, want)
				}
			}
			if err := checkInvariants(l); err != nil {
				t.Error(err)
			}
			// A second pass changes nothing.
			if corr, err := l.Reconcile(ctxb, chain); err != nil || len(corr) != 0 {
				t.Errorf("second pass: %+v %v", corr, err)
			}
		})
	}
}
