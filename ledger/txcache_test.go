package ledger

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"testing"
)

// TestOneTxJobWrites runs a provider job's writes the way market does in
// one transaction (create, Advance over several edges, read, Advance, an
// edit) and checks the stored bytes are the canonical encoding of what the
// calls returned, and that the history has one event per edge.
func TestOneTxJobWrites(t *testing.T) {
	l, _ := openTest(t)
	ctx := context.Background()
	var last Job
	err := l.Update(ctx, func(tx *Tx) error {
		if _, err := tx.PutJob(Job{ID: "j", Role: RoleProvider, State: JobAwarded}); err != nil {
			return err
		}
		if ok, err := tx.HasJob("j"); err != nil || !ok {
			t.Fatalf("HasJob = %v, %v", ok, err)
		}
		if _, err := tx.Advance("j", JobResultSent, func(j *Job) error { j.Price = big.NewInt(7); return nil }); err != nil {
			return err
		}
		j, err := tx.Job("j")
		if err != nil {
			return err
		}
		if j.State != JobResultSent || j.Price.Int64() != 7 {
			t.Fatalf("read back %s %v", j.State, j.Price)
		}
		j.Price.SetInt64(99) // the caller's copy, not the ledger's
		if _, err := tx.Advance("j", JobPaid, func(j *Job) error { j.Note = "paid"; return nil }); err != nil {
			return err
		}
		last, err = tx.UpdateJob("j", func(j *Job) error { j.Module = "m"; return nil })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if last.Price.Int64() != 7 || last.State != JobPaid || last.Module != "m" {
		t.Fatalf("last = %+v", last)
	}
	got, err := l.Job(ctx, "j")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := encode(last)
	stored, _ := encode(got)
	if !bytes.Equal(want, stored) {
		t.Fatalf("stored %+v, returned %+v", got, last)
	}
	var h []Event
	if err := l.View(ctx, func(tx *Tx) (err error) { h, err = tx.History("j"); return }); err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, e := range h {
		states = append(states, e.To)
	}
	if len(h) != 1+len(providerJobs.shortestPath(JobAwarded, JobPaid)) || states[len(states)-1] != string(JobPaid) {
		t.Fatalf("history %v", states)
	}
	if h, _ := l.Job(ctx, "nope"); h.ID != "" {
		t.Fatal("phantom job")
	}
	if err := l.View(ctx, func(tx *Tx) error {
		if ok, err := tx.HasJob("nope"); ok || err != nil {
			t.Fatalf("HasJob(nope) = %v, %v", ok, err)
		}
		_, err := tx.HasJob("")
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("HasJob(\"\") = %v", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestCheckedCacheSeesChangedBytes: a value changed under a transaction
// after it read the job (here a non-canonical one) is checked again, not
// trusted because the same job was read before.
func TestCheckedCacheSeesChangedBytes(t *testing.T) {
	l, _ := openTest(t)
	ctx := context.Background()
	if _, err := l.PutJob(ctx, Job{ID: "j", Role: RoleProvider, State: JobAwarded}); err != nil {
		t.Fatal(err)
	}
	err := l.Update(ctx, func(tx *Tx) error {
		if _, err := tx.Job("j"); err != nil {
			return err
		}
		raw := tx.tx.Bucket(bucketJobs).Get([]byte("j"))
		bad := append([]byte(nil), raw...)
		bad[0]++ // one more map pair than the map holds: garbled
		if err := tx.tx.Bucket(bucketJobs).Put([]byte("j"), bad); err != nil {
			return err
		}
		_, err := tx.Advance("j", JobPaymentVerified, nil)
		return err
	})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Advance on changed bytes = %v, want ErrCorrupt", err)
	}
	if j, err := l.Job(ctx, "j"); err != nil || j.State != JobAwarded {
		t.Fatalf("after the failed write: %v %v", j.State, err)
	}
}
