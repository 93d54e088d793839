package scale

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/cloudless-network/cloudless/market/wire"
)

func TestPercentile(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{.5, 5}, {.99, 10}, {0, 1}, {1, 10}} {
		if got := percentile(d, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, .5); got != 0 {
		t.Errorf("empty: %v", got)
	}
}

func TestBidClock(t *testing.T) {
	c := newBidClock()
	var id, other wire.JobID
	other[0] = 1
	if _, ok := c.kth(id, 1); ok {
		t.Fatal("a bid before any arrived")
	}
	c.arrived(id)
	c.arrived(id)
	t1, ok1 := c.kth(id, 1)
	t2, ok2 := c.kth(id, 2)
	if !ok1 || !ok2 || t2.Before(t1) || c.count(id) != 2 || c.count(other) != 0 {
		t.Fatalf("clock: %v %v %v %v", t1, ok1, t2, ok2)
	}
	if _, ok := c.kth(id, 3); ok {
		t.Fatal("third bid that never came")
	}
}

// TestUnseen checks that a salted module is still valid WebAssembly and
// differs from the original and from another salting.
func TestUnseen(t *testing.T) {
	// The smallest valid module: magic and version.
	base := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	a, b := unseen(base), unseen(base)
	if bytes.Equal(a, base) || bytes.Equal(a, b) {
		t.Fatal("salting did not change the module")
	}
	rt := wazero.NewRuntime(context.Background())
	defer rt.Close(context.Background())
	if _, err := rt.CompileModule(context.Background(), a); err != nil {
		t.Fatalf("salted module does not compile: %v", err)
	}
	if got := appendULEB(nil, 300); !bytes.Equal(got, []byte{0xac, 0x02}) {
		t.Fatalf("uleb(300) = %x", got)
	}
}
