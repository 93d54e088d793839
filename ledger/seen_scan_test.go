package ledger

import (
	"context"
	"math/big"
	"slices"
	"testing"
)

func TestSeenKeysAndHasPayment(t *testing.T) {
	l, _ := openTest(t)
	ctx := context.Background()
	for _, sk := range [][2]string{{"mediate-owed", "b"}, {"mediate-owed", "a"}, {"mediate-owed/x", "c"}, {"mediate", "d"}, {"mediate-owed2", "e"}} {
		if err := l.MarkSeen(ctx, sk[0], sk[1]); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := l.SeenKeys(ctx, "mediate-owed")
	if err != nil || !slices.Equal(keys, []string{"a", "b"}) {
		t.Fatalf("SeenKeys = %q (%v), want [a b]: only the exact scope, in key order", keys, err)
	}
	if keys, err := l.SeenKeys(ctx, "nothing"); err != nil || len(keys) != 0 {
		t.Fatalf("SeenKeys of an empty scope = %q (%v)", keys, err)
	}
	if ok, err := l.HasPayment(ctx, "fee/1"); err != nil || ok {
		t.Fatalf("HasPayment before = %v (%v)", ok, err)
	}
	if err := l.RecordPayment(ctx, Payment{ID: "fee/1", Kind: PaymentEarned, Amount: big.NewInt(5)}); err != nil {
		t.Fatal(err)
	}
	if ok, err := l.HasPayment(ctx, "fee/1"); err != nil || !ok {
		t.Fatalf("HasPayment after = %v (%v)", ok, err)
	}
	if err := checkInvariants(l); err != nil {
		t.Fatal(err)
	}
}
