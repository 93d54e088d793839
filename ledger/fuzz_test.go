package ledger

import (
	"testing"
)

// The db file can be damaged, so every value decoder must refuse garbage
// with an error and never panic. Seeds are valid and near-valid values.

func seedsFor(f *testing.F, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add([]byte{})
	f.Add([]byte("null"))
	f.Add([]byte("{}"))
	f.Add([]byte(`{"id":"x"} {"id":"y"}`))
}

func FuzzDecodeJob(f *testing.F) {
	seedsFor(f,
		`{"id":"a","role":"client","state":"requested","created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z","price":123456789012345678901234567890}`,
		`{"id":"a@b","role":"provider","state":"voucher_held","channel_id":"0x00000000000000000000000000000000000000000000000000000000000003e9","voucher":30,"providers":[{"provider":"p","price":1}]}`,
		`{"id":"a","role":"provider","state":"requested"}`)
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
			t.Fatalf("not stable:\n%s\n%s", e1, e2)
		}
	})
}

func FuzzDecodeDeal(f *testing.F) {
	seedsFor(f, `{"id":"0x00000000000000000000000000000000000000000000000000000000000003e9","role":"client","state":"opened","client":"0x000000000000000000000000000000000000004d","provider":"0x000000000000000000000000000000000000004e","price":5,"deadline":100,"challenge_window":10,"job_hash":"0x00000000000000000000000000000000000000000000000000000000000003e9","created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := decodeDeal(b); err == nil && (!deals.known(d.State) || d.Price == nil || d.Price.Sign() < 0) {
			t.Fatalf("accepted a bad deal: %+v", d)
		}
	})
}

func FuzzDecodeChannel(f *testing.F) {
	seedsFor(f, `{"id":"0x00000000000000000000000000000000000000000000000000000000000003e9","role":"provider","state":"open","client":"0x000000000000000000000000000000000000004d","provider":"0x000000000000000000000000000000000000004e","deposit":100,"redeemed":0,"promised":30,"latest":{"channel_id":"0x00000000000000000000000000000000000000000000000000000000000003e9","cumulative":30,"signature":"AQ==","at":"2026-01-01T00:00:00Z"},"created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}`)
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
