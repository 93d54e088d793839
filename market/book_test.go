package market_test

import (
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

func testPeer(t *testing.T) peer.ID {
	t.Helper()
	k, _ := ethcrypto.GenerateKey()
	priv, err := crypto.UnmarshalSecp256k1PrivateKey(ethcrypto.FromECDSA(k))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := market.AddressOf(id); err != nil || a != ethcrypto.PubkeyToAddress(k.PublicKey) {
		t.Fatalf("AddressOf: %v %v", a, err)
	}
	return id
}

func TestBookDropsExpiredAndSuperseded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	b := market.NewBook(func() time.Time { return now })
	p1, p2 := testPeer(t), testPeer(t)
	offer := func(p peer.ID, seq uint64, perJob int64, ttl time.Duration, mem wire.Size) *wire.Offer {
		return &wire.Offer{Provider: p, Seq: seq, Slots: 1, Memory: mem, MaxDuration: wire.Duration(time.Minute),
			Price:  wire.PriceSchedule{PerJob: big.NewInt(perJob), Tiers: []wire.TierPrice{{MaxMemory: 1 << 30, PerSecond: big.NewInt(1)}}},
			Expiry: wire.TimestampOf(now.Add(ttl))}
	}
	cases := []struct {
		name string
		o    *wire.Offer
		kept bool
	}{
		{"first", offer(p1, 5, 100, time.Minute, 1<<30), true},
		{"older seq", offer(p1, 4, 1, time.Minute, 1<<30), false},
		{"same seq", offer(p1, 5, 1, time.Minute, 1<<30), false},
		{"newer seq", offer(p1, 6, 50, time.Minute, 1<<30), true},
		{"expired", offer(p2, 1, 10, -time.Second, 1<<30), false},
		{"other provider", offer(p2, 1, 10, 2*time.Second, 64<<20), true},
	}
	for _, c := range cases {
		if got := b.Add(c.o); got != c.kept {
			t.Errorf("%s: kept %v, want %v", c.name, got, c.kept)
		}
	}
	if o, _ := b.Get(p1); o.Seq != 6 {
		t.Errorf("p1 seq %d, want 6", o.Seq)
	}
	if os := b.Offers(); len(os) != 2 || os[0].Provider != p2 {
		t.Errorf("offers not cheapest first: %v", os)
	}
	spec := wire.JobSpec{Resources: wire.Resources{Memory: 128 << 20, Timeout: wire.Duration(time.Second)}, Price: wire.Price{Max: big.NewInt(1000)}}
	if q := b.Fitting(&spec, nil); len(q) != 1 || q[0].Offer.Provider != p1 || q[0].Price.Int64() != 51 {
		t.Errorf("fitting %+v: p2 lacks memory, p1 costs 50+1", q)
	}
	spec.Price.Max = big.NewInt(10)
	if q := b.Fitting(&spec, nil); len(q) != 0 {
		t.Errorf("fitting under the cap: %+v", q)
	}
	now = now.Add(3 * time.Second)
	if b.Offers(); b.Len() != 1 {
		t.Errorf("expired offer kept: %d", b.Len())
	}
}

func TestOutputHash(t *testing.T) {
	mk := func(stdout string, files map[string]string) string {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, market.StdoutName), []byte(stdout), 0o644)
		for n, c := range files {
			p := filepath.Join(d, market.OutDirName, n)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(c), 0o644)
		}
		return d
	}
	h := func(d string, code int32) [32]byte {
		x, err := market.OutputHash(d, code)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	a := mk("x", map[string]string{"a": "1", "d/b": "2"})
	if h(a, 0) != h(mk("x", map[string]string{"d/b": "2", "a": "1"}), 0) {
		t.Error("same output, different hash")
	}
	for name, other := range map[string][32]byte{
		"exit code":    h(a, 1),
		"stdout":       h(mk("y", map[string]string{"a": "1", "d/b": "2"}), 0),
		"file content": h(mk("x", map[string]string{"a": "1", "d/b": "3"}), 0),
		"file name":    h(mk("x", map[string]string{"a": "1", "d/c": "2"}), 0),
		"boundary":     h(mk("x", map[string]string{"a": "1d/b", "": ""}), 0),
	} {
		if other == h(a, 0) {
			t.Errorf("%s change not in the hash", name)
		}
	}
}

func FuzzDecodeSubmit(f *testing.F) {
	f.Add([]byte(`{"module":"bafkreihwvmh3g5lvgo4ytjcquifr6mfn2xcjdkmfninyi23zx75baccham","price":{"max":"1 ether"}}`))
	f.Add([]byte(`{"spec":{"module":"bafkreihwvmh3g5lvgo4ytjcquifr6mfn2xcjdkmfninyi23zx75baccham","price":{"max":"1 ether"}},"pay":"channel"}`))
	f.Add([]byte(`{"spec":{},"providers":["x"]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		spec, _, err := market.DecodeSubmit(b)
		if err == nil {
			if verr := spec.Validate(); verr != nil {
				t.Fatalf("accepted an invalid spec: %v", verr)
			}
		}
	})
}

// TestBookFittingSharesEqualPrices: providers quoting the same price
// come in an order of each book's own, so the 2k+1 that clients ask are
// not always the same ones, while one book keeps its order; the cheaper
// one still comes first and the dearer one last.
func TestBookFittingSharesEqualPrices(t *testing.T) {
	offer := func(p peer.ID, perJob int64) *wire.Offer {
		return &wire.Offer{Provider: p, Seq: 1, Slots: 1, Memory: 1 << 30, MaxDuration: wire.Duration(time.Minute),
			Price:  wire.PriceSchedule{PerJob: big.NewInt(perJob), Tiers: []wire.TierPrice{{MaxMemory: 1 << 30, PerSecond: big.NewInt(1)}}},
			Expiry: wire.TimestampOf(time.Now().Add(time.Hour))}
	}
	cheap, dear := testPeer(t), testPeer(t)
	var equal []peer.ID
	for range 8 {
		equal = append(equal, testPeer(t))
	}
	spec := wire.JobSpec{Resources: wire.Resources{Memory: 64 << 20, Timeout: wire.Duration(time.Second)}, Price: wire.Price{Max: big.NewInt(1e6)}}
	asked := map[peer.ID]int{}
	const books = 300
	for range books {
		b := market.NewBook(nil)
		b.Add(offer(dear, 1000))
		for _, p := range equal {
			b.Add(offer(p, 100))
		}
		b.Add(offer(cheap, 10))
		q := b.Fitting(&spec, nil)
		if len(q) != 10 || q[0].Offer.Provider != cheap || q[9].Offer.Provider != dear {
			t.Fatalf("order broken: %d quotes, first %s, last %s", len(q), q[0].Offer.Provider, q[len(q)-1].Offer.Provider)
		}
		for i := 1; i < 9; i++ {
			if q[i].Price.Cmp(q[i+1].Price) > 0 {
				t.Fatalf("quote %d dearer than quote %d", i, i+1)
			}
		}
		again := b.Fitting(&spec, nil)
		for i := range q {
			if again[i].Offer.Provider != q[i].Offer.Provider {
				t.Fatalf("one book ranked equal quotes differently on two calls (position %d)", i)
			}
		}
		// A client asking 2k+1 = 3 takes the cheap one and two of the equal ones.
		asked[q[1].Offer.Provider]++
		asked[q[2].Offer.Provider]++
	}
	// 600 picks over 8 providers, 75 each on average (sd ≈ 8); a fair
	// draw leaves one under 25 with odds below 1e-9.
	for _, p := range equal {
		if asked[p] < 25 {
			t.Errorf("provider %s asked by %d of %d books' picks: ties are not shared", p, asked[p], 2*books)
		}
	}
}
