package market

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/market/wire"
)

// caseNet is a Network whose mediator answers every case with answer
// (or fails when answer is nil), counting the cases sent.
type caseNet struct {
	me     peer.ID
	med    crypto.PrivKey
	answer func(c *wire.MediationCase) *wire.MediationReply
	sent   int
}

func (n *caseNet) ID() peer.ID                                   { return n.me }
func (n *caseNet) Handle(wire.Type, Handler)                     {}
func (n *caseNet) HandleMediation(CaseHandler)                   {}
func (n *caseNet) Publish(context.Context, string, []byte) error { return nil }
func (n *caseNet) Request(context.Context, peer.ID, []byte) ([]byte, error) {
	return nil, errors.New("not here")
}
func (n *caseNet) Subscribe(context.Context, string, func(peer.ID, wire.Message)) error { return nil }

func (n *caseNet) RequestMediation(_ context.Context, _ peer.ID, sealed []byte) ([]byte, error) {
	n.sent++
	m, _, err := wire.Open(sealed, wire.MaxCaseSize)
	if err != nil {
		return nil, err
	}
	r := n.answer(m.(*wire.MediationCase))
	if r == nil {
		return nil, errors.New("connection refused (test)")
	}
	return wire.Seal(n.med, r)
}

// bring sends at most once per caseRecheck after an answer, backs off
// after a refusal or an error, and refuses a reply that does not answer
// its case.
func TestBringCaseBackoff(t *testing.T) {
	key := func() (crypto.PrivKey, peer.ID) {
		k, _, err := crypto.GenerateSecp256k1Key(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := peer.IDFromPrivateKey(k)
		return k, id
	}
	myKey, me := key()
	medKey, med := key()
	dp := &contracts.DealParams{Client: common.Address{1}, Provider: common.Address{2}, Mediator: common.Address{3},
		Price: big.NewInt(1), Deadline: 1, JobHash: common.Hash{4}}
	spec := wire.JobSpec{Module: "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
		Resources: wire.Resources{Memory: 1 << 20, Timeout: wire.Duration(time.Second), MaxOutput: 1 << 20},
		Price:     wire.Price{Max: big.NewInt(1)}, Redundancy: 1, Deterministic: true}
	status := wire.MediationAccepted
	net := &caseNet{me: me, med: medKey, answer: func(c *wire.MediationCase) *wire.MediationReply {
		if status == "" {
			return nil
		}
		r := &wire.MediationReply{Mediator: med, DealID: c.DealID, Nonce: c.Nonce, Status: status}
		if status == wire.MediationRefused {
			r.Reason = "deal is open, not disputed"
		}
		return r
	}}
	cs := caseSender{net: net, seal: func(m wire.Message) ([]byte, error) { return wire.Seal(myKey, m) }}
	deal := common.Hash{9}
	t.Cleanup(func() { forgetCase(me, deal) })
	ctx := context.Background()

	r, err := cs.bring(ctx, med, dp, deal, wire.JobID{1}, &spec)
	if err != nil || r == nil || r.Status != wire.MediationAccepted || net.sent != 1 {
		t.Fatalf("first case: %+v %v (sent %d)", r, err, net.sent)
	}
	if r, err := cs.bring(ctx, med, dp, deal, wire.JobID{1}, &spec); r != nil || err != nil || net.sent != 1 {
		t.Fatalf("second case within caseRecheck was sent: %+v %v", r, err)
	}
	// Refused: the reason comes back as ErrRefused, and the next try waits.
	forgetCase(me, deal)
	status = wire.MediationRefused
	if _, err := cs.bring(ctx, med, dp, deal, wire.JobID{1}, &spec); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "not disputed") {
		t.Fatalf("refusal: %v", err)
	}
	if _, err := cs.bring(ctx, med, dp, deal, wire.JobID{1}, &spec); err != nil || net.sent != 2 {
		t.Fatalf("case sent again within the backoff (sent %d, %v)", net.sent, err)
	}
	caseTimes.mu.Lock()
	st := caseTimes.m[caseKey{me, deal}]
	caseTimes.mu.Unlock()
	if st.fails != 1 || time.Until(st.next) > caseBackoffMin || time.Until(st.next) <= 0 {
		t.Errorf("after one refusal: %+v, want one failure and a wait of at most %v", st, caseBackoffMin)
	}
	// A network error backs off further (doubling).
	caseTimes.mu.Lock()
	st.next = time.Time{}
	caseTimes.m[caseKey{me, deal}] = st
	caseTimes.mu.Unlock()
	status = ""
	if _, err := cs.bring(ctx, med, dp, deal, wire.JobID{1}, &spec); err == nil {
		t.Fatal("network error not reported")
	}
	caseTimes.mu.Lock()
	st = caseTimes.m[caseKey{me, deal}]
	caseTimes.mu.Unlock()
	if st.fails != 2 || time.Until(st.next) <= caseBackoffMin {
		t.Errorf("after two failures: %+v, want a longer wait than %v", st, caseBackoffMin)
	}
	// A reply for another case (wrong nonce) is not taken.
	forgetCase(me, deal)
	status = wire.MediationAccepted
	net.answer = func(c *wire.MediationCase) *wire.MediationReply {
		return &wire.MediationReply{Mediator: med, DealID: c.DealID, Nonce: c.Nonce + 1, Status: wire.MediationAccepted}
	}
	if _, err := cs.bring(ctx, med, dp, deal, wire.JobID{1}, &spec); err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Fatalf("mismatched reply: %v", err)
	}
}

func TestReasonText(t *testing.T) {
	if got := reasonText("one\ntwo"); got != "one" {
		t.Errorf("%q", got)
	}
	long := strings.Repeat("é", wire.MaxTextLen)
	if got := reasonText(long); len(got) > wire.MaxTextLen || !strings.HasPrefix(long, got) || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("cut %d bytes, invalid UTF-8 or not a prefix", len(got))
	}
}
