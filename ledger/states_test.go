package ledger

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
)

// The expected machines, written out by hand (independently of states.go)
// so a change to the tables has to be made twice, on purpose.
var wantClientEdges = `
requested>bidding requested>cancelled requested>failed
bidding>paying bidding>cancelled bidding>failed
paying>awarded paying>bidding paying>refunded paying>cancelled paying>failed
awarded>running awarded>result_received awarded>bidding awarded>disputed awarded>refunded awarded>cancelled awarded>failed
running>result_received running>bidding running>disputed running>refunded running>cancelled running>failed
result_received>verified result_received>bidding result_received>disputed result_received>refunded result_received>failed
verified>accepted verified>disputed
disputed>accepted disputed>refunded disputed>failed`

var wantProviderEdges = `
bid_sent>awarded bid_sent>cancelled bid_sent>failed
awarded>payment_verified awarded>cancelled awarded>failed
payment_verified>running payment_verified>refunded payment_verified>cancelled payment_verified>failed
running>result_stored running>refunded running>cancelled running>failed
result_stored>result_sent result_stored>committed result_stored>refunded result_stored>failed
result_sent>committed result_sent>voucher_held result_sent>paid result_sent>refunded result_sent>failed
committed>paid committed>disputed committed>refunded
disputed>paid disputed>refunded
voucher_held>redeemed voucher_held>failed`

var wantDealEdges = `
opening>opened opening>abandoned
opened>submitted opened>refunded
submitted>accepted submitted>claimed submitted>disputed
disputed>resolved disputed>refunded`

var wantChannelEdges = `
opening>open opening>abandoned
open>exiting open>closed
exiting>closed`

func edgeSet(s string) map[string]bool {
	out := map[string]bool{}
	for _, f := range strings.Fields(s) {
		out[f] = true
	}
	return out
}

func allStates[S ~string](m machine[S]) []S {
	var out []S
	for s := range m.states {
		out = append(out, s)
	}
	sortStrings(out)
	return out
}

func TestMachinesMatchSpec(t *testing.T) {
	check := func(name string, got map[string]bool, want string) {
		w := edgeSet(want)
		for e := range w {
			if !got[e] {
				t.Errorf("%s: missing edge %s", name, e)
			}
		}
		for e := range got {
			if !w[e] {
				t.Errorf("%s: unexpected edge %s", name, e)
			}
		}
	}
	flat := func(m map[string][]string) map[string]bool {
		out := map[string]bool{}
		for f, ts := range m {
			for _, t := range ts {
				out[f+">"+t] = true
			}
		}
		return out
	}
	conv := func(e any) map[string][]string {
		out := map[string][]string{}
		switch e := e.(type) {
		case map[JobState][]JobState:
			for f, ts := range e {
				for _, t := range ts {
					out[string(f)] = append(out[string(f)], string(t))
				}
			}
		case map[DealState][]DealState:
			for f, ts := range e {
				for _, t := range ts {
					out[string(f)] = append(out[string(f)], string(t))
				}
			}
		case map[ChannelState][]ChannelState:
			for f, ts := range e {
				for _, t := range ts {
					out[string(f)] = append(out[string(f)], string(t))
				}
			}
		}
		return out
	}
	check("client", flat(conv(clientJobEdges)), wantClientEdges)
	check("provider", flat(conv(providerJobEdges)), wantProviderEdges)
	check("deal", flat(conv(dealEdges)), wantDealEdges)
	check("channel", flat(conv(channelEdges)), wantChannelEdges)

	// Every state is reachable from an initial one, and every non-terminal
	// state can reach a terminal one (no job can get stuck).
	for _, role := range []Role{RoleClient, RoleProvider} {
		m, _ := jobMachine(role)
		for _, s := range allStates(m) {
			if !reachableFromInitial(m, s) {
				t.Errorf("%s: %s unreachable", role, s)
			}
			if !m.terminal(s) {
				ok := false
				for _, x := range allStates(m) {
					if m.terminal(x) && m.reachable(s, x) {
						ok = true
					}
				}
				if !ok {
					t.Errorf("%s: %s cannot finish", role, s)
				}
			}
		}
	}
}

// TestJobEdges drives a job into every state through the API and tries
// every possible next state: legal edges succeed and write one event,
// illegal ones fail with a *TransitionError naming from/to (stale when the
// record is past it) and change nothing.
func TestJobEdges(t *testing.T) {
	l, _ := openTest(t)
	n := 0
	for _, tc := range []struct {
		role Role
		want map[string]bool
	}{{RoleClient, edgeSet(wantClientEdges)}, {RoleProvider, edgeSet(wantProviderEdges)}} {
		m, _ := jobMachine(tc.role)
		for _, from := range allStates(m) {
			for _, to := range allStates(m) {
				if from == to {
					continue
				}
				name := fmt.Sprintf("%s/%s>%s", tc.role, from, to)
				t.Run(name, func(t *testing.T) {
					n++
					id := fmt.Sprintf("job-%d", n)
					path := pathTo(m, from)
					if _, err := l.PutJob(ctxb, Job{ID: id, Role: tc.role, State: path[0]}); err != nil {
						t.Fatal(err)
					}
					for _, s := range path[1:] {
						if _, err := l.Transition(ctxb, id, s, nil); err != nil {
							t.Fatalf("path to %s: %v", from, err)
						}
					}
					before, _ := l.History(ctxb, id)
					j, err := l.Transition(ctxb, id, to, func(j *Job) error { j.Note = "test"; return nil })
					after, _ := l.History(ctxb, id)
					if tc.want[string(from)+">"+string(to)] {
						if err != nil {
							t.Fatalf("legal edge refused: %v", err)
						}
						if j.State != to || len(after) != len(before)+1 || after[len(after)-1].Note != "test" {
							t.Fatalf("state %s, events %d -> %d", j.State, len(before), len(after))
						}
						if CanTransition(tc.role, from, to) != true {
							t.Fatal("CanTransition disagrees")
						}
						return
					}
					var te *TransitionError
					if !errors.As(err, &te) || !errors.Is(err, ErrBadTransition) {
						t.Fatalf("illegal edge: err = %v", err)
					}
					if te.From != string(from) || te.To != string(to) || te.Kind != "job" || te.ID != id {
						t.Fatalf("error fields %+v", te)
					}
					if stale := m.reachable(to, from); errors.Is(err, ErrStale) != stale {
						t.Fatalf("stale = %t, want %t", errors.Is(err, ErrStale), stale)
					}
					if got, _ := l.Job(ctxb, id); got.State != from || len(after) != len(before) {
						t.Fatalf("illegal edge changed the record: %s, events %d -> %d", got.State, len(before), len(after))
					}
				})
			}
		}
	}
}

func TestDealAndChannelEdges(t *testing.T) {
	l, _ := openTest(t)
	want := edgeSet(wantDealEdges)
	n := 0
	for _, from := range allStates(deals) {
		for _, to := range allStates(deals) {
			if from == to {
				continue
			}
			n++
			id := hash(n)
			path := pathTo(deals, from)
			if _, err := l.PutDeal(ctxb, Deal{ID: id, Role: RoleClient, State: path[0], Price: big.NewInt(1)}); err != nil {
				t.Fatal(err)
			}
			for _, s := range path[1:] {
				if _, err := l.TransitionDeal(ctxb, id, s, nil); err != nil {
					t.Fatal(err)
				}
			}
			_, err := l.TransitionDeal(ctxb, id, to, nil)
			if legal := want[string(from)+">"+string(to)]; legal != (err == nil) {
				t.Errorf("deal %s>%s: legal %t, err %v", from, to, legal, err)
			} else if !legal && !errors.Is(err, ErrBadTransition) {
				t.Errorf("deal %s>%s: err %v", from, to, err)
			}
		}
	}
	want = edgeSet(wantChannelEdges)
	for _, from := range allStates(channels) {
		for _, to := range allStates(channels) {
			if from == to {
				continue
			}
			n++
			id := hash(n)
			path := pathTo(channels, from)
			if _, err := l.PutChannel(ctxb, Channel{ID: id, Role: RoleProvider, State: path[0], Deposit: big.NewInt(5)}); err != nil {
				t.Fatal(err)
			}
			for _, s := range path[1:] {
				if _, err := l.TransitionChannel(ctxb, id, s, nil); err != nil {
					t.Fatal(err)
				}
			}
			_, err := l.TransitionChannel(ctxb, id, to, nil)
			if legal := want[string(from)+">"+string(to)]; legal != (err == nil) {
				t.Errorf("channel %s>%s: legal %t, err %v", from, to, legal, err)
			} else if !legal && !errors.Is(err, ErrBadTransition) {
				t.Errorf("channel %s>%s: err %v", from, to, err)
			}
		}
	}
}
