package wire

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
)

const testCID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"

var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func newKey(t testing.TB) (crypto.PrivKey, peer.ID) {
	t.Helper()
	priv, _, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return priv, id
}

func testSpec() JobSpec {
	return JobSpec{
		Module:     testCID,
		Args:       []string{"--size", "256"},
		Env:        map[string]string{"MODE": "fast", "A": "b"},
		Stdin:      testCID,
		Inputs:     []Input{{CID: testCID, Path: "/data"}},
		Resources:  Resources{Memory: 128 << 20, Timeout: Duration(30 * time.Second), MaxOutput: 64 << 20},
		Price:      Price{Max: big.NewInt(1_000_000_000_000_000)},
		Redundancy: 1, Deterministic: true, Seed: 7,
	}
}

// sampleMessages returns one valid message of every type authored by id.
func sampleMessages(id peer.ID) []Message {
	exp := TimestampOf(testNow.Add(time.Minute))
	jid := JobID{1, 2, 3}
	return []Message{
		&Offer{Provider: id, Seq: 3, CPUMillicores: 2000, Slots: 4, Memory: 1 << 30,
			MaxDuration: Duration(time.Minute), Runtime: Runtime,
			Price:  PriceSchedule{PerJob: big.NewInt(1000), Tiers: []TierPrice{{MaxMemory: 128 << 20, PerSecond: big.NewInt(10)}, {MaxMemory: 1 << 30, PerSecond: big.NewInt(50)}}},
			Payout: common.HexToAddress("0x00000000000000000000000000000000000000aa"), Stake: big.NewInt(0),
			MaxModuleSize: 16 << 20, Addrs: []string{"/ip4/127.0.0.1/tcp/4001"}, Expiry: exp},
		&JobRequest{ID: jid, Client: id, ClientAddr: common.HexToAddress("0x01"), Spec: testSpec(),
			BidDeadline: exp, PayMode: PayEscrow, Expiry: exp},
		&Bid{JobID: jid, Provider: id, Price: big.NewInt(5000), ExpectedStart: Duration(time.Second), Expiry: exp, Nonce: 9},
		&Award{JobID: jid, Client: id, Provider: id, Price: big.NewInt(5000), PayMode: PayChannel,
			Voucher: &Voucher{ChannelID: common.Hash{9}, Cumulative: big.NewInt(9000), Signature: bytes.Repeat([]byte{1}, 65)}, Expiry: exp},
		&Result{JobID: jid, Provider: id, ResultCID: testCID, ExitCode: 0,
			Usage: Usage{Wall: Duration(time.Second), PeakMemory: 1 << 20, OutputBytes: 12}, OutputHash: [32]byte{7}},
		&Cancel{JobID: jid, Sender: id, Reason: "changed my mind", Expiry: exp},
		&Result{JobID: jid, Provider: id, ResultCID: testCID, ExitCode: 0,
			Usage: Usage{Wall: Duration(time.Millisecond), PeakMemory: 1 << 20, OutputBytes: 8}, OutputHash: [32]byte{8},
			Inline: []InlineFile{{Path: "stdout", Data: []byte("hello\n")}, {Path: "stderr"}, {Path: "out/a/b.txt", Data: []byte("hi")}}},
	}
}

func TestResultInlineValidate(t *testing.T) {
	_, id := newKey(t)
	base := func() *Result {
		r := *sampleMessages(id)[6].(*Result)
		r.Inline = slices.Clone(r.Inline)
		return &r
	}
	if err := base().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(r *Result){
		"no cid":        func(r *Result) { r.ResultCID = "" },
		"no stdout":     func(r *Result) { r.Inline = r.Inline[1:] },
		"no stderr":     func(r *Result) { r.Inline = slices.Delete(r.Inline, 1, 2) },
		"twice":         func(r *Result) { r.Inline = append(r.Inline, r.Inline[2]) },
		"escape":        func(r *Result) { r.Inline[2].Path = "out/../x" },
		"absolute":      func(r *Result) { r.Inline[2].Path = "/etc/passwd" },
		"not under out": func(r *Result) { r.Inline[2].Path = "x" },
		"bare out":      func(r *Result) { r.Inline[2].Path = "out/" },
		"backslash":     func(r *Result) { r.Inline[2].Path = "out/a\\..\\b" },
		"dot":           func(r *Result) { r.Inline[2].Path = "out/./a" },
		"too many": func(r *Result) {
			for i := range MaxInline {
				r.Inline = append(r.Inline, InlineFile{Path: fmt.Sprintf("out/%d", i)})
			}
		},
		"long path": func(r *Result) { r.Inline[2].Path = "out/" + strings.Repeat("a", MaxPathLen) },
	} {
		r := base()
		mut(r)
		if err := r.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	// An empty (non-nil) inline list is refused too: stdout and stderr are always there.
	r := base()
	r.Inline = []InlineFile{}
	if err := r.Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty inline: %v", err)
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	priv, id := newKey(t)
	for _, m := range sampleMessages(id) {
		t.Run(string(m.Type()), func(t *testing.T) {
			data, err := Seal(priv, m)
			if err != nil {
				t.Fatal(err)
			}
			got, signer, err := OpenAt(data, MaxSize(m.Type()), testNow)
			if err != nil {
				t.Fatal(err)
			}
			if signer != id {
				t.Fatalf("signer %s, want %s", signer, id)
			}
			if got.Type() != m.Type() {
				t.Fatalf("type %s", got.Type())
			}
			a, _ := Marshal(m)
			b, _ := Marshal(got)
			if !bytes.Equal(a, b) {
				t.Fatalf("re-encoding differs:\n%x\n%x", a, b)
			}
			// Deterministic: sealing again gives the same payload.
			data2, err := Seal(priv, m)
			if err != nil {
				t.Fatal(err)
			}
			e1, _ := record.UnmarshalEnvelope(data)
			e2, _ := record.UnmarshalEnvelope(data2)
			if !bytes.Equal(e1.RawPayload, e2.RawPayload) {
				t.Fatal("payload not deterministic")
			}
		})
	}
}

func TestOpenRefusals(t *testing.T) {
	priv, id := newKey(t)
	other, _ := newKey(t)
	bid := func() *Bid { return sampleMessages(id)[2].(*Bid) }
	good, err := Seal(priv, bid())
	if err != nil {
		t.Fatal(err)
	}
	// A bid signed by another key but naming id as provider.
	otherID, _ := peer.IDFromPrivateKey(other)
	b2 := bid()
	b2.Provider = otherID
	forgedAuthor, _ := Seal(other, b2)
	forgedAuthor = replaceAuthor(t, other, forgedAuthor, id)

	// Flip a payload byte: the signature no longer verifies.
	tampered := append([]byte(nil), good...)
	tampered[len(tampered)-80] ^= 0xff

	// Version 2.
	b3 := bid()
	b3.Version = 2
	env, _ := record.Seal(b3, priv)
	v2, _ := env.Marshal()

	// Ed25519 signer.
	edPriv, _, _ := crypto.GenerateEd25519Key(rand.Reader)
	edEnv, _ := record.Seal(bid(), edPriv)
	edData, _ := edEnv.Marshal()

	// Invalid schema (zero price) sealed by hand.
	b4 := bid()
	b4.Version = 1
	b4.Price = big.NewInt(0)
	env4, _ := record.Seal(b4, priv)
	badSchema, _ := env4.Marshal()

	tests := []struct {
		name string
		data []byte
		max  int
		now  time.Time
		want error
	}{
		{"too large", good, len(good) - 1, testNow, ErrTooLarge},
		{"garbage", []byte("not an envelope"), 1 << 10, testNow, ErrMalformed},
		{"empty", nil, 1 << 10, testNow, ErrMalformed},
		{"tampered", tampered, 1 << 16, testNow, nil}, // any refusal
		{"expired", good, 1 << 16, testNow.Add(time.Hour), ErrExpired},
		{"version", v2, 1 << 16, testNow, ErrVersion},
		{"ed25519", edData, 1 << 16, testNow, ErrKeyType},
		{"schema", badSchema, 1 << 16, testNow, ErrInvalid},
		{"author", forgedAuthor, 1 << 16, testNow, ErrSigner},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := OpenAt(tc.data, tc.max, tc.now)
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// replaceAuthor re-seals the bid in data with the provider field set to
// author, signed by priv (not author's key).
func replaceAuthor(t *testing.T, priv crypto.PrivKey, data []byte, author peer.ID) []byte {
	t.Helper()
	m, _, err := OpenAt(data, 1<<16, testNow)
	if err != nil {
		t.Fatal(err)
	}
	m.(*Bid).Provider = author
	env, err := record.Seal(m, priv)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := env.Marshal()
	return out
}

func TestSealRefusesWrongAuthorAndKey(t *testing.T) {
	priv, _ := newKey(t)
	_, other := newKey(t)
	m := sampleMessages(other)[2]
	if _, err := Seal(priv, m); !errors.Is(err, ErrSigner) {
		t.Fatalf("got %v", err)
	}
	ed, _, _ := crypto.GenerateEd25519Key(rand.Reader)
	if _, err := Seal(ed, m); !errors.Is(err, ErrKeyType) {
		t.Fatalf("got %v", err)
	}
}

func TestDecoderLimits(t *testing.T) {
	// Duplicate map keys.
	dup := []byte{0xa2, 0x61, 'v', 0x01, 0x61, 'v', 0x02}
	var b Bid
	if err := Unmarshal(dup, &b); !errors.Is(err, ErrMalformed) {
		t.Fatalf("dup keys: %v", err)
	}
	// Unknown field.
	unk := []byte{0xa1, 0x61, 'z', 0x01}
	if err := Unmarshal(unk, &b); !errors.Is(err, ErrMalformed) {
		t.Fatalf("unknown field: %v", err)
	}
	// Array longer than the limit.
	args := make([]string, maxArrayElements+1)
	enc, _ := Marshal(map[string]any{"args": args})
	var s JobSpec
	if err := Unmarshal(enc, &s); !errors.Is(err, ErrMalformed) {
		t.Fatalf("long array: %v", err)
	}
	// Deep nesting.
	var deep any = 1
	for range 20 {
		deep = []any{deep}
	}
	enc, _ = Marshal(deep)
	var x any
	if err := Unmarshal(enc, &x); !errors.Is(err, ErrMalformed) {
		t.Fatalf("deep: %v", err)
	}
}

func TestGossipValidator(t *testing.T) {
	priv, id := newKey(t)
	_, other := newKey(t)
	msgs := sampleMessages(id)
	offer, _ := Seal(priv, msgs[0])
	job, _ := Seal(priv, msgs[1])
	v := GossipValidator(TypeOffer, func() time.Time { return testNow })
	if err := v(t.Context(), id, offer); err != nil {
		t.Fatal(err)
	}
	if err := v(t.Context(), other, offer); !errors.Is(err, ErrSigner) {
		t.Fatalf("relayed as own: %v", err)
	}
	if err := v(t.Context(), id, job); !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrUnknownType) {
		t.Fatalf("wrong type: %v", err)
	}
}

func TestPriceFor(t *testing.T) {
	_, id := newKey(t)
	o := sampleMessages(id)[0].(*Offer)
	p, ok := o.PriceFor(100<<20, Duration(1500*time.Millisecond))
	if !ok || p.Int64() != 1000+2*10 {
		t.Fatalf("got %v %v", p, ok)
	}
	p, ok = o.PriceFor(512<<20, Duration(time.Second))
	if !ok || p.Int64() != 1050 {
		t.Fatalf("got %v %v", p, ok)
	}
	if _, ok := o.PriceFor(2<<30, Duration(time.Second)); ok {
		t.Fatal("no tier should cover 2GiB")
	}
}

func TestJobIDText(t *testing.T) {
	id := NewJobID()
	got, err := ParseJobID(id.String())
	if err != nil || got != id {
		t.Fatal(err)
	}
	if _, err := ParseJobID("zz"); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
}
