package ledger

import (
	"math/big"
	"testing"
	"time"
)

// The db file can be damaged, so every value decoder must refuse garbage
// with an error and never panic. Seeds are valid and near-valid values,
// in both formats: CBOR (what is written) and JSON (files written before
// CBOR, still read).

func seedsFor(f *testing.F, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add([]byte{})
	f.Add([]byte("null"))
	f.Add([]byte("{}"))
	f.Add([]byte(`{"id":"x"} {"id":"y"}`))
	f.Add([]byte{0xa0})                 // empty CBOR map
	f.Add([]byte{0xf6})                 // CBOR null
	f.Add([]byte{0xbf, 0xff})           // indefinite-length map
	f.Add([]byte{0xa1, 0x62, 'i', 'd'}) // truncated
}

// cborSeeds adds the CBOR encodings of valid records, and each one with a
// byte flipped in the middle and its last byte cut.
func cborSeeds(f *testing.F, recs ...any) {
	for _, r := range recs {
		b, err := encode(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		flip := append([]byte{}, b...)
		flip[len(flip)/2] ^= 0x20
		f.Add(flip)
		f.Add(b[:len(b)-1])
	}
}

func FuzzDecodeJob(f *testing.F) {
	seedsFor(f,
		`{"id":"a","role":"client","state":"requested","created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z","price":123456789012345678901234567890}`,
		`{"id":"a@b","role":"provider","state":"voucher_held","channel_id":"0x00000000000000000000000000000000000000000000000000000000000003e9","voucher":30,"providers":[{"provider":"p","price":1}]}`,
		`{"id":"a","role":"provider","state":"requested"}`)
	cborSeeds(f, sampleJob(), Job{ID: "a", Role: RoleProvider, State: JobVoucherHeld, Voucher: big.NewInt(30)})
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := decodeJob(b)
		if err != nil {
			return
		}
		m, ok := jobMachine(j.Role)
		if !ok || !m.known(j.State) || checkID(j.ID) != nil {
			t.Fatalf("accepted a bad job: %+v", j)
		}
		// A decoded job re-encodes and decodes to the same bytes.
		e1, err := encode(j)
		if err != nil {
			t.Fatal(err)
		}
		j2, err := decodeJob(e1)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if e2, _ := encode(j2); string(e1) != string(e2) {
			t.Fatalf("not stable:\n%x\n%x", e1, e2)
		}
		// A CBOR value is accepted only in the form this encoder writes.
		if !isJSON(b) && string(b) != string(e1) {
			t.Fatalf("accepted non-canonical CBOR:\n%x\n%x", b, e1)
		}
	})
}

func FuzzDecodeDeal(f *testing.F) {
	seedsFor(f, `{"id":"0x00000000000000000000000000000000000000000000000000000000000003e9","role":"client","state":"opened","client":"0x000000000000000000000000000000000000004d","provider":"0x000000000000000000000000000000000000004e","price":5,"deadline":100,"challenge_window":10,"job_hash":"0x00000000000000000000000000000000000000000000000000000000000003e9","created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}`)
	cborSeeds(f, sampleDeal())
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := decodeDeal(b); err == nil && (!deals.known(d.State) || d.Price == nil || d.Price.Sign() < 0) {
			t.Fatalf("accepted a bad deal: %+v", d)
		}
	})
}

func FuzzDecodeChannel(f *testing.F) {
	seedsFor(f, `{"id":"0x00000000000000000000000000000000000000000000000000000000000003e9","role":"provider","state":"open","client":"0x000000000000000000000000000000000000004d","provider":"0x000000000000000000000000000000000000004e","deposit":100,"redeemed":0,"promised":30,"latest":{"channel_id":"0x00000000000000000000000000000000000000000000000000000000000003e9","cumulative":30,"signature":"AQ==","at":"2026-01-01T00:00:00Z"},"created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}`)
	cborSeeds(f, sampleChannel())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeChannel(b)
		if err != nil {
			return
		}
		if !channels.known(c.State) || c.Deposit == nil || c.Redeemed == nil || c.Promised == nil {
			t.Fatalf("accepted a bad channel: %+v", c)
		}
		_ = c.Unredeemed()
	})
}

func FuzzDecodeVoucherPaymentEvent(f *testing.F) {
	seedsFor(f,
		`{"channel_id":"0x00000000000000000000000000000000000000000000000000000000000003e9","cumulative":30,"signature":"AQ==","job_id":"j","amount":30,"at":"2026-01-01T00:00:00Z"}`,
		`{"id":"p1","kind":"earned","amount":30,"at":"2026-01-01T00:00:00Z"}`,
		`{"seq":1,"kind":"job","id":"a","job_id":"a","from":"","to":"requested","at":"2026-01-01T00:00:00Z"}`,
		`{"provider":"0x000000000000000000000000000000000000004d","successes":3,"failures":1,"disagreements":0}`)
	at := time.Date(2026, 1, 1, 0, 0, 0, 5, time.UTC)
	cborSeeds(f, *sampleChannel().Latest,
		Payment{ID: "p1", Kind: PaymentEarned, Amount: bigWei, Ref: hash(1), At: at},
		Event{Seq: 1, Kind: "job", ID: "a", JobID: "a", To: "requested", At: at},
		Rep{Provider: addr(1), Successes: 3, Failures: 1, Updated: at})
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, err := decodeVoucher(b); err == nil && (v.Cumulative == nil || v.Cumulative.Sign() < 0) {
			t.Fatalf("bad voucher %+v", v)
		}
		if p, err := decodePayment(b); err == nil && (!validKind(p.Kind) || p.Amount == nil || p.Amount.Sign() < 0) {
			t.Fatalf("bad payment %+v", p)
		}
		_, _ = decodeEvent(b)
		if r, err := decodeRep(b); err == nil {
			if s := r.Score(); s < 0 || s > 1 {
				t.Fatalf("score %v", s)
			}
		}
	})
}
