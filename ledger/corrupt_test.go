package ledger

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fillLedger writes a few hundred records and closes the file.
func fillLedger(tb testing.TB, path string) {
	tb.Helper()
	l, err := Open(path, &Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	err = l.Update(ctxb, func(tx *Tx) error {
		for i := 0; i < 300; i++ {
			id := fmt.Sprintf("job-%03d", i)
			if _, err := tx.PutJob(Job{ID: id, Role: RoleClient, State: JobRequested, Extra: make([]byte, 200)}); err != nil {
				return err
			}
			if _, err := tx.Transition(id, JobBidding, nil); err != nil {
				return err
			}
			if _, err := tx.PutDeal(Deal{ID: hash(i), Role: RoleClient, State: DealOpening, JobID: id, Price: big.NewInt(int64(i))}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := l.Close(); err != nil {
		tb.Fatal(err)
	}
}

func wantCorrupt(t *testing.T, err error, path string) {
	t.Helper()
	var ce *CorruptError
	if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) {
		t.Fatalf("want ErrCorrupt, got %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || strings.Contains(msg, "\n") {
		t.Fatalf("message must be one line naming the file: %q", msg)
	}
}

func TestCorruptFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	fillLedger(t, good)
	orig, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	ps := os.Getpagesize()
	for name, damage := range map[string]func([]byte) []byte{
		"garbage": func(b []byte) []byte {
			r := rand.New(rand.NewPCG(1, 2))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return b
		},
		"tiny":      func(b []byte) []byte { return b[:100] },
		"torn half": func(b []byte) []byte { return b[:len(b)/2] },
		"torn last page": func(b []byte) []byte {
			f, _ := os.Open(good)
			defer f.Close()
			m0, _ := readMeta(f, 0)
			m1, _ := readMeta(f, int64(ps))
			return b[:max(m0.pgid, m1.pgid)*uint64(ps)-uint64(ps)]
		},
		"both metas zeroed": func(b []byte) []byte {
			clear(b[:2*ps])
			return b
		},
		"text file": func([]byte) []byte { return []byte("jobs: []\n") },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".db")
			if err := os.WriteFile(path, damage(append([]byte(nil), orig...)), 0o600); err != nil {
				t.Fatal(err)
			}
			l, err := Open(path, nil)
			if err == nil {
				l.Close()
			}
			wantCorrupt(t, err, path)
		})
	}
	// One damaged meta page is survivable: bbolt keeps two.
	path := filepath.Join(dir, "one-meta.db")
	b := append([]byte(nil), orig...)
	clear(b[:ps])
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := Open(path, nil)
	if err != nil {
		t.Fatalf("one bad meta page: %v", err)
	}
	if js, err := l.Jobs(ctxb, JobFilter{}); err != nil || len(js) != 300 {
		t.Fatalf("%d jobs, %v", len(js), err)
	}
	l.Close()
}

// Random damage to data pages: Open fails with ErrCorrupt, or it opens and
// every read either works or fails with ErrCorrupt. Never a panic or a
// fault.
func TestCorruptPagesNeverPanic(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	fillLedger(t, good)
	orig, _ := os.ReadFile(good)
	ps := os.Getpagesize()
	r := rand.New(rand.NewPCG(3, 4))
	trials := 40
	if testing.Short() {
		trials = 10
	}
	opened, refused := 0, 0
	for i := 0; i < trials; i++ {
		b := append([]byte(nil), orig...)
		// Scribble on 1..4 random data pages (not the metas).
		for n := 1 + r.IntN(4); n > 0; n-- {
			p := 2 + r.IntN(len(b)/ps-2)
			off := p*ps + r.IntN(ps-64)
			for k := 0; k < 1+r.IntN(64); k++ {
				b[off+k] = byte(r.Uint32())
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("t%d.db", i))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := Open(path, nil)
		if err != nil {
			wantCorrupt(t, err, path)
			refused++
			continue
		}
		opened++
		check := func(err error) {
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("trial %d: read error is not ErrCorrupt: %v", i, err)
			}
		}
		_, err = l.Jobs(ctxb, JobFilter{})
		check(err)
		_, err = l.Deals(ctxb, "")
		check(err)
		_, err = l.History(ctxb, "job-007")
		check(err)
		_, err = l.Transition(ctxb, "job-100", JobPaying, nil)
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotFound) {
			t.Fatalf("trial %d: %v", i, err)
		}
		l.Close()
	}
	t.Logf("%d damaged files refused at Open, %d opened (damage in values or free pages)", refused, opened)
}

func TestCorruptValues(t *testing.T) {
	l, _ := openTest(t)
	if _, err := l.PutJob(ctxb, Job{ID: "ok", Role: RoleClient, State: JobRequested}); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{
		"not json":      `{"id":"bad",`,
		"unknown state": `{"id":"bad","role":"client","state":"teleported","created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}`,
		"unknown field": `{"id":"bad","role":"client","state":"requested","evil":1,"created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}`,
		"wrong key":     `{"id":"other","role":"client","state":"requested","created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}`,
		"negative":      `{"id":"bad","role":"client","state":"requested","price":-5,"created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}`,
	} {
		rawPut(t, l, bucketJobs, []byte("bad"), []byte(v))
		_, err := l.Job(ctxb, "bad")
		wantCorrupt(t, err, l.Path())
		if !strings.Contains(err.Error(), `job "bad"`) {
			t.Errorf("%s: error does not name the record: %v", name, err)
		}
		if _, err := l.Jobs(ctxb, JobFilter{}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Jobs: %v", name, err)
		}
		if _, err := l.Transition(ctxb, "bad", JobBidding, nil); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Transition: %v", name, err)
		}
	}
	rawPut(t, l, bucketJobs, []byte("bad"), []byte(`{"id":"bad","role":"client","state":"requested","created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}`))
	rawPut(t, l, bucketDeals, hash(1).Bytes(), []byte(`{"id":"0x01"}`))
	if _, err := l.Deal(ctxb, hash(1)); !errors.Is(err, ErrCorrupt) {
		t.Fatal(err)
	}
	rawPut(t, l, bucketDeals, hash(1).Bytes(), nil)
	rawPut(t, l, bucketChannels, hash(2).Bytes(), []byte(`{"id":"`+hash(2).Hex()+`","role":"provider","state":"open","deposit":1,"redeemed":-1,"promised":0}`))
	if _, err := l.Channel(ctxb, hash(2)); !errors.Is(err, ErrCorrupt) {
		t.Fatal(err)
	}
	// Clean up so the invariant check at cleanup passes.
	_ = l.db.Update(func(tx *boltTx) error {
		_ = tx.Bucket(bucketDeals).Delete(hash(1).Bytes())
		return tx.Bucket(bucketChannels).Delete(hash(2).Bytes())
	})
	if err := l.db.Update(func(tx *boltTx) error { return tx.Bucket(bucketJobs).Delete([]byte("bad")) }); err != nil {
		t.Fatal(err)
	}
}
