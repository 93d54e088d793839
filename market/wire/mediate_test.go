package wire

import (
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
)

// sampleMediation returns a valid case and reply authored by id.
func sampleMediation(id peer.ID) []Message {
	return []Message{
		&MediationCase{Sender: id, Deal: DealTerms{
			Client: common.HexToAddress("0x01"), Provider: common.HexToAddress("0x02"), Mediator: common.HexToAddress("0x03"),
			Price: big.NewInt(5000), MediatorFee: big.NewInt(10), Collateral: big.NewInt(0),
			Deadline: 1_800_000_000, ChallengeWindow: 60, JobHash: common.Hash{4}},
			DealID: common.Hash{5}, JobID: JobID{1, 2, 3}, Spec: testSpec(),
			Expiry: TimestampOf(testNow.Add(time.Minute)), Nonce: 42},
		&MediationReply{Mediator: id, DealID: common.Hash{5}, Nonce: 42, Status: MediationRuled, ForProvider: true, Tx: common.Hash{6}},
		&MediationReply{Mediator: id, DealID: common.Hash{5}, Nonce: 42, Status: MediationRefused, Reason: "deal 0x05 is closed, not disputed"},
	}
}

func TestMediationSealOpen(t *testing.T) {
	priv, id := newKey(t)
	for _, m := range sampleMediation(id) {
		data, err := Seal(priv, m)
		if err != nil {
			t.Fatal(err)
		}
		got, signer, err := OpenAt(data, MaxSize(m.Type()), testNow)
		if err != nil {
			t.Fatal(err)
		}
		if signer != id || got.Type() != m.Type() {
			t.Fatalf("signer %s type %s", signer, got.Type())
		}
		a, _ := Marshal(m)
		b, _ := Marshal(got)
		if string(a) != string(b) {
			t.Fatalf("%s re-encodes differently", m.Type())
		}
	}
	// A case signed by someone else than its sender is refused.
	other, _ := newKey(t)
	c := sampleMediation(id)[0]
	if _, err := Seal(other, c); !errors.Is(err, ErrSigner) {
		t.Fatalf("foreign signer: %v", err)
	}
	// Expired.
	data, err := Seal(priv, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenAt(data, MaxCaseSize, testNow.Add(2*time.Minute)); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired case: %v", err)
	}
	// Over the cap.
	if _, _, err := OpenAt(data, len(data)-1, testNow); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized case: %v", err)
	}
}

// Every job whose request fits the JobRequest cap can be mediated: a
// case carrying the largest such spec still fits MaxCaseSize.
func TestMediationCaseFitsAnyJob(t *testing.T) {
	priv, id := newKey(t)
	spec := testSpec()
	req := &JobRequest{ID: JobID{1}, Client: id, ClientAddr: common.HexToAddress("0x01"), Spec: spec,
		BidDeadline: TimestampOf(testNow.Add(time.Minute)), PayMode: PayEscrow, Expiry: TimestampOf(testNow.Add(time.Minute))}
	// Grow the spec's args until the request is at its cap.
	for {
		req.Spec.Args = append(req.Spec.Args, strings.Repeat("x", MaxArgLen-16))
		if _, err := Seal(priv, req); err != nil {
			req.Spec.Args = req.Spec.Args[:len(req.Spec.Args)-1]
			break
		}
	}
	// Then the first argument, by bisection, to the byte.
	base := req.Spec.Args[0]
	lo, hi := 0, MaxArgLen-len(base)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		req.Spec.Args[0] = base + strings.Repeat("y", mid)
		if _, err := Seal(priv, req); err != nil {
			hi = mid - 1
		} else {
			lo = mid
		}
	}
	req.Spec.Args[0] = base + strings.Repeat("y", lo)
	if _, err := Seal(priv, req); err != nil {
		t.Fatal(err)
	}
	c := sampleMediation(id)[0].(*MediationCase)
	c.Spec = req.Spec
	max := new(big.Int).Lsh(common.Big1, 96)
	max.Sub(max, common.Big1)
	c.Deal.Price, c.Deal.MediatorFee, c.Deal.Collateral = max, max, max
	c.Nonce, c.Expiry = ^uint64(0), Timestamp(1<<62)
	data, err := Seal(priv, c)
	if err != nil {
		t.Fatalf("a case for a job of the largest request: %v", err)
	}
	if len(data) > MaxCaseSize || len(data) <= MaxMessageSize-1024 {
		t.Fatalf("case of %d bytes (cap %d): the test did not fill the request", len(data), MaxCaseSize)
	}
}

func TestMediationValidate(t *testing.T) {
	_, id := newKey(t)
	baseCase := func() *MediationCase {
		c := *sampleMediation(id)[0].(*MediationCase)
		return &c
	}
	for name, mut := range map[string]func(c *MediationCase){
		"no sender":         func(c *MediationCase) { c.Sender = "" },
		"no mediator":       func(c *MediationCase) { c.Deal.Mediator = common.Address{} },
		"mediator is party": func(c *MediationCase) { c.Deal.Mediator = c.Deal.Client },
		"client=provider":   func(c *MediationCase) { c.Deal.Provider = c.Deal.Client },
		"zero price":        func(c *MediationCase) { c.Deal.Price = new(big.Int) },
		"fee over 96 bits":  func(c *MediationCase) { c.Deal.MediatorFee = new(big.Int).Lsh(common.Big1, 96) },
		"negative coll":     func(c *MediationCase) { c.Deal.Collateral = big.NewInt(-1) },
		"no job hash":       func(c *MediationCase) { c.Deal.JobHash = common.Hash{} },
		"no deadline":       func(c *MediationCase) { c.Deal.Deadline = 0 },
		"no deal id":        func(c *MediationCase) { c.DealID = common.Hash{} },
		"no job id":         func(c *MediationCase) { c.JobID = JobID{} },
		"bad spec":          func(c *MediationCase) { c.Spec.Module = "nope" },
		"no expiry":         func(c *MediationCase) { c.Expiry = 0 },
	} {
		c := baseCase()
		mut(c)
		if err := c.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("case %s: %v", name, err)
		}
	}
	baseReply := func() *MediationReply {
		r := *sampleMediation(id)[1].(*MediationReply)
		return &r
	}
	for name, mut := range map[string]func(r *MediationReply){
		"no mediator":      func(r *MediationReply) { r.Mediator = "" },
		"no deal":          func(r *MediationReply) { r.DealID = common.Hash{} },
		"unknown status":   func(r *MediationReply) { r.Status = "maybe" },
		"ruled without tx": func(r *MediationReply) { r.Tx = common.Hash{} },
		"two lines":        func(r *MediationReply) { r.Status, r.Reason = MediationRefused, "a\nb" },
		"long reason":      func(r *MediationReply) { r.Status, r.Reason = MediationRefused, strings.Repeat("a", MaxTextLen+1) },
	} {
		r := baseReply()
		mut(r)
		if err := r.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("reply %s: %v", name, err)
		}
	}
}

func fuzzMediation(f *testing.F, newMsg func() Message) {
	_, id := newKey(f)
	for _, m := range sampleMediation(id) {
		if m.Type() == newMsg().Type() {
			b, _ := Marshal(m)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := newMsg()
		if err := m.UnmarshalRecord(data); err != nil {
			return
		}
		if m.Validate() != nil {
			return
		}
		if _, err := m.MarshalRecord(); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzMediationCase(f *testing.F) { fuzzMediation(f, func() Message { return new(MediationCase) }) }
func FuzzMediationReply(f *testing.F) {
	fuzzMediation(f, func() Message { return new(MediationReply) })
}

// TestWriteMediationCorpus regenerates the mediation seeds under
// testdata/fuzz (FuzzOpen, FuzzMediationCase, FuzzMediationReply) when
// CLOUDLESS_WRITE_CORPUS=1.
func TestWriteMediationCorpus(t *testing.T) {
	if os.Getenv("CLOUDLESS_WRITE_CORPUS") != "1" {
		t.Skip("set CLOUDLESS_WRITE_CORPUS=1 to regenerate testdata/fuzz")
	}
	priv, id := newKey(t)
	write := func(target, name string, data []byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range sampleMediation(id) {
		sealed, err := Seal(priv, m)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("seed-%s-%d", filepath.Base(string(m.Type())), i)
		write("FuzzOpen", name, sealed)
		raw, _ := Marshal(m)
		target := "FuzzMediationCase"
		if m.Type() == TypeMediationReply {
			target = "FuzzMediationReply"
		}
		write(target, fmt.Sprintf("seed-%d", i), raw)
	}
}
