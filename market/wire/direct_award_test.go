package wire

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// TestDirectAward: an Award carrying its JobRequest (a direct award)
// round-trips sealed, and is refused when the request is not the same
// channel job of the same client, or is itself invalid.
func TestDirectAward(t *testing.T) {
	priv, id := newKey(t)
	_, other := newKey(t)
	exp := TimestampOf(time.Now().Add(time.Minute))
	jid := JobID{7}
	req := func() *JobRequest {
		return &JobRequest{ID: jid, Client: id, ClientAddr: common.HexToAddress("0x01"), Spec: testSpec(),
			BidDeadline: exp, PayMode: PayChannel, Expiry: exp}
	}
	award := func(r *JobRequest) *Award {
		return &Award{JobID: jid, Client: id, Provider: other, Price: big.NewInt(5000), PayMode: PayChannel,
			Voucher: &Voucher{ChannelID: [32]byte{1}, Cumulative: big.NewInt(5000), Signature: make([]byte, 65)}, Expiry: exp, Request: r}
	}
	data, err := Seal(priv, award(req()))
	if err != nil {
		t.Fatal(err)
	}
	msg, _, err := Open(data, MaxMessageSize)
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.(*Award).Request; got == nil || got.ID != jid || got.Spec.Module != testSpec().Module {
		t.Fatalf("request after the round trip: %+v", got)
	}
	for name, mut := range map[string]func(*JobRequest){
		"other job":      func(r *JobRequest) { r.ID = JobID{8} },
		"other client":   func(r *JobRequest) { r.Client = other },
		"escrow request": func(r *JobRequest) { r.PayMode = PayEscrow },
		"invalid spec":   func(r *JobRequest) { r.Spec.Module = "" },
	} {
		r := req()
		mut(r)
		if err := award(r).Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	esc := award(req())
	esc.PayMode, esc.Voucher, esc.DealID, esc.Request.PayMode = PayEscrow, nil, [32]byte{1}, PayEscrow
	if err := esc.Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("escrow direct award: %v, want ErrInvalid", err)
	}
}
