package ledger

import (
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// checkOpenIndex compares the open-jobs index with a full scan of the jobs.
func checkOpenIndex(tb testing.TB, l *Ledger) {
	tb.Helper()
	want, got := map[string]string{}, map[string]string{}
	err := l.View(ctxb, func(tx *Tx) error {
		if err := tx.eachJob(func(j Job) error {
			if !j.Terminal() {
				want[j.ID] = string(openJobValue(j))
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.tx.Bucket(bucketOpenJobs).ForEach(func(k, v []byte) error { got[string(k)] = string(v); return nil })
	})
	if err != nil {
		tb.Fatal(err)
	}
	if fmt.Sprint(want) != fmt.Sprint(got) {
		tb.Fatalf("open-jobs index\n got %q\nwant %q", got, want)
	}
}

func ids(js []Job) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = j.ID
	}
	slices.Sort(out)
	return out
}

// Every legal path to every state of both machines keeps the index equal
// to the set of non-terminal jobs, and Jobs/Unfinished answer from it.
func TestOpenJobsIndexEveryTransition(t *testing.T) {
	l, _ := openTest(t)
	for _, role := range []Role{RoleClient, RoleProvider} {
		m, _ := jobMachine(role)
		for _, s := range JobStates(role) {
			id := fmt.Sprintf("%s-%s", role, s)
			path := pathTo(m, s)
			if path == nil {
				t.Fatalf("%s: no path to %s", role, s)
			}
			if _, err := l.PutJob(ctxb, Job{ID: id, Role: role, State: path[0]}); err != nil {
				t.Fatal(err)
			}
			checkOpenIndex(t, l)
			for _, st := range path[1:] {
				if _, err := l.Transition(ctxb, id, st, func(j *Job) error { j.Note = "to " + string(st); return nil }); err != nil {
					t.Fatalf("%s -> %s: %v", id, st, err)
				}
				checkOpenIndex(t, l)
			}
			if _, err := l.UpdateJob(ctxb, id, func(j *Job) error { j.Price = big.NewInt(7); return nil }); err != nil {
				t.Fatal(err)
			}
			checkOpenIndex(t, l)
			// The query the settle loops make, for this one state.
			js, err := l.Jobs(ctxb, JobFilter{Role: role, States: []JobState{s}})
			if err != nil || len(js) != 1 || js[0].ID != id || js[0].Price.Int64() != 7 {
				t.Fatalf("Jobs(%s %s) = %v, %v", role, s, ids(js), err)
			}
		}
	}
	// A local run is recorded straight into a terminal state.
	if err := l.RecordLocalJobs(ctxb, Job{ID: "local", Role: RoleClient, State: JobAccepted, PayMode: PayLocal}); err != nil {
		t.Fatal(err)
	}
	checkOpenIndex(t, l)
	un, err := l.Unfinished(ctxb)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range un {
		if j.Terminal() {
			t.Errorf("Unfinished returned terminal job %s", j.ID)
		}
	}
	if n := len(JobStates(RoleClient)) + len(JobStates(RoleProvider)); len(un) >= n || len(un) == 0 {
		t.Fatalf("%d unfinished of %d", len(un), n)
	}
}

// A failed transaction leaves the index as it was (it is written in the
// same bbolt transaction as the job).
func TestOpenJobsIndexRollback(t *testing.T) {
	l, _ := openTest(t)
	if _, err := l.PutJob(ctxb, Job{ID: "a", Role: RoleClient, State: JobRequested}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := l.Update(ctxb, func(tx *Tx) error {
		if _, err := tx.Transition("a", JobCancelled, nil); err != nil {
			return err
		}
		if _, err := tx.PutJob(Job{ID: "b", Role: RoleClient, State: JobRequested}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	checkOpenIndex(t, l)
	if js, _ := l.Jobs(ctxb, JobFilter{Role: RoleClient, States: []JobState{JobRequested}}); !slices.Equal(ids(js), []string{"a"}) {
		t.Fatalf("%v", ids(js))
	}
}

// A copy of the file taken while the ledger is open (what a crash after a
// commit leaves) reopens with a consistent index.
func TestOpenJobsIndexCrashImage(t *testing.T) {
	l, _ := openTest(t)
	for i := range 20 {
		id := fmt.Sprint("j", i)
		if _, err := l.PutJob(ctxb, Job{ID: id, Role: RoleProvider, State: JobBidSent}); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := l.Transition(ctxb, id, JobCancelled, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	raw, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(img, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	l2, err := Open(img, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	checkOpenIndex(t, l2)
	js, err := l2.Jobs(ctxb, JobFilter{Role: RoleProvider, States: []JobState{JobBidSent}})
	if err != nil || len(js) != 10 {
		t.Fatalf("%d open after reopen, %v", len(js), err)
	}
	if _, err := l2.Transition(ctxb, js[0].ID, JobAwarded, nil); err != nil {
		t.Fatal(err)
	}
	checkOpenIndex(t, l2)
}

// downgrade turns l's file into what a build before the index wrote.
func downgrade(tb testing.TB, l *Ledger) {
	tb.Helper()
	if err := l.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketOpenJobs); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyVersion, []byte(layoutV1))
	}); err != nil {
		tb.Fatal(err)
	}
}

func TestOpenJobsIndexBuiltAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	quiet := &Options{Logger: slog.New(slog.DiscardHandler)}
	l, err := Open(path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		id := fmt.Sprint("j", i)
		if _, err := l.PutJob(ctxb, Job{ID: id, Role: RoleClient, State: JobRequested}); err != nil {
			t.Fatal(err)
		}
		if i < 4 {
			if _, err := l.Transition(ctxb, id, JobFailed, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	downgrade(t, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = Open(path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	checkOpenIndex(t, l)
	if js, _ := l.Jobs(ctxb, JobFilter{States: []JobState{JobRequested}}); !slices.Equal(ids(js), []string{"j4", "j5"}) {
		t.Fatalf("%v", ids(js))
	}
	var v string
	_ = l.db.View(func(tx *bolt.Tx) error { v = string(tx.Bucket(bucketMeta).Get(keyVersion)); return nil })
	if v != layoutVersion {
		t.Fatalf("version %q after migration", v)
	}
	// Current version but the bucket gone: rebuilt too.
	if err := l.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketOpenJobs) }); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if l, err = Open(path, quiet); err != nil {
		t.Fatal(err)
	}
	checkOpenIndex(t, l)
	// A version from the future is refused.
	if err := l.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyVersion, []byte("9")) }); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := Open(path, quiet); err == nil || !strings.Contains(err.Error(), "layout version") {
		t.Fatalf("future version: %v", err)
	}
}

// A damaged job record found while building the index fails Open as
// ErrCorrupt rather than building a wrong index.
func TestOpenJobsIndexBuildCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	l, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	downgrade(t, l)
	rawPut(t, l, bucketJobs, []byte("bad"), []byte(`{"id":"bad",`))
	l.Close()
	_, err = Open(path, nil)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `job "bad"`) {
		t.Fatalf("%v", err)
	}
}

func TestOpenOnly(t *testing.T) {
	for _, c := range []struct {
		f    JobFilter
		want bool
	}{
		{JobFilter{}, false},
		{JobFilter{Role: RoleClient}, false},
		{JobFilter{Role: RoleClient, States: []JobState{JobPaying, JobRunning}}, true},
		{JobFilter{Role: RoleClient, States: []JobState{JobRunning, JobAccepted}}, false},
		{JobFilter{Role: RoleProvider, States: []JobState{JobPaid}}, false},
		{JobFilter{Role: RoleProvider, States: []JobState{JobResultStored, JobResultSent, JobCommitted}}, true},
		{JobFilter{States: []JobState{JobAwarded}}, true},
		{JobFilter{States: []JobState{JobRefunded}}, false},
	} {
		if got := openOnly(c.f); got != c.want {
			t.Errorf("openOnly(%+v) = %v", c.f, got)
		}
	}
}

// A filter naming a terminal state still reads every job: a record
// written behind the ledger's back (not in the index) is found by a
// terminal-state query but not by an open-state one; an index entry with
// no record is ErrCorrupt.
func TestJobsTerminalStateScans(t *testing.T) {
	l, _ := openTest(t)
	const tmpl = `{"id":"%s","role":"client","state":"%s","created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}`
	if _, err := l.PutJob(ctxb, Job{ID: "open", Role: RoleClient, State: JobRequested}); err != nil {
		t.Fatal(err)
	}
	rawPut(t, l, bucketJobs, []byte("done"), fmt.Appendf(nil, tmpl, "done", JobCancelled))
	rawPut(t, l, bucketJobs, []byte("hidden"), fmt.Appendf(nil, tmpl, "hidden", JobRequested))
	js, err := l.Jobs(ctxb, JobFilter{Role: RoleClient, States: []JobState{JobRequested, JobCancelled}})
	if err != nil || !slices.Equal(ids(js), []string{"done", "hidden", "open"}) {
		t.Fatalf("terminal filter: %v %v", ids(js), err)
	}
	js, err = l.Jobs(ctxb, JobFilter{Role: RoleClient, States: []JobState{JobRequested}})
	if err != nil || !slices.Equal(ids(js), []string{"open"}) {
		t.Fatalf("open filter: %v %v", ids(js), err)
	}
	rawPut(t, l, bucketOpenJobs, []byte("ghost"), openJobValue(Job{Role: RoleClient, State: JobRequested}))
	if _, err := l.Jobs(ctxb, JobFilter{Role: RoleClient, States: []JobState{JobRequested}}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("ghost entry: %v", err)
	}
	rawPut(t, l, bucketOpenJobs, []byte("ghost"), nil)
	rawPut(t, l, bucketOpenJobs, []byte("open"), openJobValue(Job{Role: RoleClient, State: JobBidding}))
	if _, err := l.Unfinished(ctxb); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("disagreeing entry: %v", err)
	}
	// Clean up for the invariant check.
	_ = l.db.Update(func(tx *bolt.Tx) error {
		_ = tx.Bucket(bucketOpenJobs).Delete([]byte("ghost"))
		_ = tx.Bucket(bucketJobs).Delete([]byte("done"))
		return tx.Bucket(bucketJobs).Delete([]byte("hidden"))
	})
}

// BenchmarkSettleQuery is the client's settle-tick query on a ledger with
// 10,000 finished jobs and 10 open ones: "index" is Jobs (answered from the
// open-jobs index), "scan" the old full read of every job.
func BenchmarkSettleQuery(b *testing.B) {
	l, err := Open(filepath.Join(b.TempDir(), FileName), &Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	req := make([]byte, 600) // signed envelopes are a few hundred bytes
	if err := l.Update(ctxb, func(tx *Tx) error {
		for i := range 10_010 {
			id := fmt.Sprintf("job-%05d", i)
			if _, err := tx.PutJob(Job{ID: id, Role: RoleClient, State: JobRequested, Price: big.NewInt(1000), Module: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy", Request: req, Award: req[:200], Result: req[:300]}); err != nil {
				return err
			}
			path := []JobState{JobBidding, JobPaying, JobAwarded, JobRunning}
			if i >= 10 {
				path = append(path, JobResultReceived, JobVerified, JobAccepted)
			}
			for _, s := range path {
				if _, err := tx.Transition(id, s, nil); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	f := JobFilter{Role: RoleClient, States: []JobState{JobPaying, JobAwarded, JobRunning, JobResultReceived, JobVerified, JobDisputed}}
	scan := func(tx *Tx) (out []Job, err error) {
		err = tx.eachJob(func(j Job) error {
			if j.Role == f.Role && containsState(f.States, j.State) {
				out = append(out, j)
			}
			return nil
		})
		return out, err
	}
	for _, c := range []struct {
		name string
		q    func(*Tx) ([]Job, error)
	}{{"index", func(tx *Tx) ([]Job, error) { return tx.Jobs(f) }}, {"scan", scan}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := l.View(ctxb, func(tx *Tx) error {
					js, err := c.q(tx)
					if err == nil && len(js) != 10 {
						err = fmt.Errorf("%d jobs, want 10", len(js))
					}
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
