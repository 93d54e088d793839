package ledger

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// testdata/json-v2.db.gz is a ledger written by the build before CBOR
// values (layout version 2, every value JSON): a client escrow job awarded
// with its deal opened, a provider channel job holding a voucher, a client
// channel with an issued voucher and a cancelled job, payments, a
// reputation record and a seen key. It was made by running that build's
// ledger package (git show of ledger/*.go before the change) on a fixed
// clock; see docs/benchmarks/ledger.md.

func openJSONFixture(t *testing.T) (*Ledger, string) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "json-v2.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}
	l, err := Open(path, &Options{Now: clk.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return l, path
}

// formats counts the JSON and CBOR values of the record buckets.
func formats(t *testing.T, l *Ledger) (nJSON, nCBOR int) {
	t.Helper()
	err := l.db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketJobs, bucketDeals, bucketChannels, bucketVouchers, bucketPayments, bucketRep, bucketHistory} {
			if err := tx.Bucket(b).ForEach(func(_, v []byte) error {
				if isJSON(v) {
					nJSON++
				} else {
					nCBOR++
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return nJSON, nCBOR
}

func rawOf(t *testing.T, l *Ledger, bucket, key []byte) []byte {
	t.Helper()
	var out []byte
	if err := l.db.View(func(tx *bolt.Tx) error {
		out = bytes.Clone(tx.Bucket(bucket).Get(key))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReadsJSONLedger: a ledger written before CBOR opens, reads back
// exactly, treats replays as replays (no write, no conflict), moves on,
// and its rewritten records become CBOR next to the untouched JSON ones.
func TestReadsJSONLedger(t *testing.T) {
	l, path := openJSONFixture(t)
	var version string
	_ = l.db.View(func(tx *bolt.Tx) error { version = string(tx.Bucket(bucketMeta).Get(keyVersion)); return nil })
	if version != layoutVersion {
		t.Errorf("layout version %q after Open, want %q (so that builds before CBOR refuse the file)", version, layoutVersion)
	}
	nJSON, nCBOR := formats(t, l)
	if nJSON < 20 || nCBOR != 0 {
		t.Fatalf("fixture: %d JSON and %d CBOR values, want all JSON", nJSON, nCBOR)
	}
	big1, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	provJob := JobKey("12D3KooWclient", "0xbeef")

	// Everything reads back.
	j, err := l.Job(ctxb, "client-escrow")
	if err != nil {
		t.Fatal(err)
	}
	if j.State != JobAwarded || j.Price.Cmp(big.NewInt(5000)) != 0 || j.MaxPrice.Cmp(big1) != 0 || j.DealID != hash(1) ||
		j.Payout != addr(2) || len(j.Providers) != 1 || j.Providers[0].DealID != hash(1) || string(j.Extra) != `{"state":"requested"}` ||
		!bytes.Equal(j.Request, []byte{1, 2, 3}) || !bytes.Equal(j.Award, []byte{9, 9}) ||
		!j.Deadline.Equal(time.Date(2026, 11, 23, 11, 0, 0, 123456789, time.UTC)) || j.Created.Nanosecond() != 123456789+int(time.Millisecond) {
		t.Errorf("client job %+v", j)
	}
	pj, err := l.Job(ctxb, provJob)
	if err != nil || pj.State != JobVoucherHeld || pj.ExitCode != -1 || pj.OutputHash != hash(12) || pj.ClientAddr != addr(1) || string(pj.Result) != "signed result" {
		t.Errorf("provider job %+v (%v)", pj, err)
	}
	d, err := l.Deal(ctxb, hash(1))
	if err != nil || d.State != DealOpened || d.OpenTx != hash(3) || d.Mediator != addr(3) || d.MediatorFee.Int64() != 7 || d.Deadline != 1_800_000_000 {
		t.Errorf("deal %+v (%v)", d, err)
	}
	c, err := l.Channel(ctxb, hash(10))
	if err != nil || c.Deposit.Cmp(big1) != 0 || c.Promised.Int64() != 300 || c.Latest == nil || c.Latest.Cumulative.Int64() != 300 || c.Salt != hash(11) {
		t.Errorf("channel %+v (%v)", c, err)
	}
	if vs, err := l.Vouchers(ctxb, hash(20)); err != nil || len(vs) != 1 || vs[0].Cumulative.Int64() != 250 || string(vs[0].Signature) != "\x01\x02\x03" {
		t.Errorf("client vouchers %+v (%v)", vs, err)
	}
	if tot, err := l.Totals(ctxb); err != nil || tot.Locked.Int64() != 5007 || tot.Earned.Int64() != 300 || tot.Count != 2 {
		t.Errorf("totals %+v (%v)", tot, err)
	}
	if r, err := l.Reputation(ctxb, addr(2)); err != nil || r.Successes != 1 {
		t.Errorf("rep %+v (%v)", r, err)
	}
	if seen, err := l.Seen(ctxb, "bid", "k1"); err != nil || !seen {
		t.Errorf("seen %v %v", seen, err)
	}
	if un, err := l.Unfinished(ctxb); err != nil || len(un) != 2 { // client-escrow, and the provider job's voucher is not redeemed yet
		t.Errorf("unfinished %+v (%v)", un, err)
	}
	hist, err := l.History(ctxb, "client-escrow")
	if err != nil || len(hist) != 6 { // 4 job states, deal opening, deal opened
		t.Fatalf("history %+v (%v)", hist, err)
	}

	// Replays of what is stored are no-ops and leave the JSON in place.
	before := rawOf(t, l, bucketJobs, []byte("client-escrow"))
	if _, err := l.Transition(ctxb, "client-escrow", JobAwarded, func(j *Job) error { j.Award = []byte{9, 9}; return nil }); err != nil {
		t.Errorf("replayed transition: %v", err)
	}
	if _, err := l.UpdateJob(ctxb, "client-escrow", func(j *Job) error { j.Price = big.NewInt(5000); return nil }); err != nil {
		t.Errorf("no-op update: %v", err)
	}
	if _, err := l.TransitionDeal(ctxb, hash(1), DealOpened, nil); err != nil {
		t.Errorf("replayed deal transition: %v", err)
	}
	if _, err := l.TransitionChannel(ctxb, hash(10), ChannelOpen, nil); err != nil {
		t.Errorf("replayed channel transition: %v", err)
	}
	if after := rawOf(t, l, bucketJobs, []byte("client-escrow")); !bytes.Equal(before, after) {
		t.Errorf("a replay rewrote the record:\n%s\n%x", before, after)
	}
	if _, err := l.Transition(ctxb, "client-escrow", JobAwarded, func(j *Job) error { j.Award = []byte{1}; return nil }); !errors.Is(err, ErrConflict) {
		t.Errorf("different data in the same state: %v, want ErrConflict", err)
	}
	if _, err := l.Transition(ctxb, provJob, JobRunning, nil); !errors.Is(err, ErrStale) {
		t.Errorf("late replay: %v, want ErrStale", err)
	}

	// Life goes on; what is rewritten becomes CBOR.
	if _, err := l.Transition(ctxb, "client-escrow", JobRunning, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.TransitionDeal(ctxb, hash(1), DealSubmitted, func(d *Deal) error { d.ResultHash = hash(5); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AcceptVoucher(ctxb, Voucher{ChannelID: hash(10), Cumulative: big.NewInt(400), Signature: make([]byte, 65)}); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordPayment(ctxb, Payment{ID: "gas/1", Kind: PaymentGas, Amount: big1}); err != nil {
		t.Fatal(err)
	}
	if raw := rawOf(t, l, bucketJobs, []byte("client-escrow")); isJSON(raw) {
		t.Errorf("rewritten job still JSON: %s", raw)
	}
	if hist, err := l.History(ctxb, "client-escrow"); err != nil || len(hist) != 8 || hist[6].To != string(JobRunning) || hist[7].To != string(DealSubmitted) {
		t.Errorf("mixed history %+v (%v)", hist, err)
	}
	if tot, err := l.Totals(ctxb); err != nil || tot.Gas.Cmp(big1) != 0 || tot.Locked.Int64() != 5007 {
		t.Errorf("mixed totals %+v (%v)", tot, err)
	}
	if err := checkInvariants(l); err != nil {
		t.Error(err)
	}
	nJSON2, nCBOR2 := formats(t, l)
	if nCBOR2 == 0 || nJSON2 == 0 || nJSON2 >= nJSON {
		t.Errorf("after: %d JSON, %d CBOR values", nJSON2, nCBOR2)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// A mixed file opens (page check, index) and reads.
	l, err = Open(path, &Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if js, err := l.Jobs(ctxb, JobFilter{}); err != nil || len(js) != 3 {
		t.Errorf("jobs %d (%v)", len(js), err)
	}
	if err := checkInvariants(l); err != nil {
		t.Error(err)
	}
}
