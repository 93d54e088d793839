package wire

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// fuzzKey is deterministic-enough: a fresh key per process is fine because
// the fuzzers check invariants, not fixed bytes.
func fuzzSeeds(f *testing.F) [][]byte {
	priv, _, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	id, _ := peer.IDFromPrivateKey(priv)
	var out [][]byte
	for _, m := range sampleMessages(id) {
		b, err := Seal(priv, m)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzOpen: Open never panics, and whatever it accepts re-validates and
// re-encodes.
func FuzzOpen(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, signer, err := OpenAt(data, MaxMessageSize, testNow)
		if err != nil {
			return
		}
		if signer == "" || m.Author() != signer {
			t.Fatalf("accepted with signer %q author %q", signer, m.Author())
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted message fails Validate: %v", err)
		}
		if _, err := Marshal(m); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzParseJobSpec: never panics; an accepted spec validates and survives a
// CBOR round trip.
func FuzzParseJobSpec(f *testing.F) {
	f.Add([]byte(specYAML))
	f.Add([]byte(specJSON))
	f.Add([]byte("module: x\nprice: {max: 1 wei}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseJobSpec(data)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		b, err := Marshal(&s)
		if err != nil {
			t.Fatal(err)
		}
		var back JobSpec
		if err := Unmarshal(b, &back); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// fuzzPayload decodes raw CBOR into one message type and checks Validate
// does not panic and accepted values re-encode.
func fuzzPayload(f *testing.F, newMsg func() Message) {
	priv, _, _ := crypto.GenerateSecp256k1Key(rand.Reader)
	id, _ := peer.IDFromPrivateKey(priv)
	for _, m := range sampleMessages(id) {
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

func FuzzOffer(f *testing.F)      { fuzzPayload(f, func() Message { return new(Offer) }) }
func FuzzJobRequest(f *testing.F) { fuzzPayload(f, func() Message { return new(JobRequest) }) }
func FuzzBid(f *testing.F)        { fuzzPayload(f, func() Message { return new(Bid) }) }
func FuzzAward(f *testing.F)      { fuzzPayload(f, func() Message { return new(Award) }) }
func FuzzResult(f *testing.F)     { fuzzPayload(f, func() Message { return new(Result) }) }
func FuzzCancel(f *testing.F)     { fuzzPayload(f, func() Message { return new(Cancel) }) }

// TestWriteFuzzCorpus regenerates testdata/fuzz seed files when
// CLOUDLESS_WRITE_CORPUS=1; otherwise it is skipped.
func TestWriteFuzzCorpus(t *testing.T) {
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
	targets := map[Type]string{TypeOffer: "FuzzOffer", TypeJobRequest: "FuzzJobRequest", TypeBid: "FuzzBid",
		TypeAward: "FuzzAward", TypeResult: "FuzzResult", TypeCancel: "FuzzCancel"}
	for _, m := range sampleMessages(id) {
		sealed, err := Seal(priv, m)
		if err != nil {
			t.Fatal(err)
		}
		name := "seed-" + filepath.Base(string(m.Type()))
		if r, ok := m.(*Result); ok && r.Inline != nil {
			name += "-inline"
		}
		write("FuzzOpen", name, sealed)
		raw, _ := Marshal(m)
		write(targets[m.Type()], strings.Replace(name, "seed-"+filepath.Base(string(m.Type())), "seed", 1), raw)
	}
	write("FuzzParseJobSpec", "seed-yaml", []byte(specYAML))
	write("FuzzParseJobSpec", "seed-json", []byte(specJSON))
}
