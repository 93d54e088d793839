package ledger

import (
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkCommitOptions compares bbolt settings that keep every commit
// durable (two fdatasyncs: data pages, then the meta page) on a typical
// job transition with fsync ON, A/B in one run. pages/op is bbolt's count
// of pages written per commit (load-independent); ns/op is what a job
// waits for. Figures in docs/benchmarks/ledger.md.
func BenchmarkCommitOptions(b *testing.B) {
	for _, v := range []struct {
		name string
		edit func(*bolt.Options)
	}{
		{"before", func(o *bolt.Options) { o.NoFreelistSync = false }},
		{"nofreelistsync", func(o *bolt.Options) { o.NoFreelistSync = true }},
		{"mmap64m", func(o *bolt.Options) { o.NoFreelistSync = false; o.InitialMmapSize = 64 << 20 }},
		{"page16k", func(o *bolt.Options) { o.NoFreelistSync = false; o.PageSize = 16 << 10 }},
		{"array-freelist", func(o *bolt.Options) { o.NoFreelistSync = false; o.FreelistType = bolt.FreelistArrayType }},
		{"default", func(*bolt.Options) {}},
	} {
		b.Run(v.name, func(b *testing.B) {
			l, err := Open(filepath.Join(b.TempDir(), FileName), &Options{bolt: v.edit})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			// A ledger with history: 300 finished jobs before the clock starts.
			tmpl := typicalJob()
			if err := l.Update(ctxb, func(tx *Tx) error {
				for i := range 300 {
					j := tmpl
					j.ID, j.State = fmt.Sprintf("old-%d", i), JobRequested
					if _, err := tx.PutJob(j); err != nil {
						return err
					}
					if _, err := tx.Transition(j.ID, JobCancelled, nil); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			path := []JobState{JobBidding, JobPaying, JobAwarded, JobRunning, JobResultReceived, JobVerified, JobAccepted}
			st0 := l.db.Stats().TxStats
			b.ResetTimer()
			n := 0
			for i := 0; n < b.N; i++ {
				j := tmpl
				j.ID, j.State = fmt.Sprintf("job-%d", i), JobRequested
				if _, err := l.PutJob(ctxb, j); err != nil {
					b.Fatal(err)
				}
				n++
				for _, s := range path {
					if n >= b.N {
						break
					}
					if _, err := l.Transition(ctxb, j.ID, s, nil); err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			b.StopTimer()
			st := l.db.Stats().TxStats
			b.ReportMetric(float64(st.GetWrite()-st0.GetWrite())/float64(b.N), "pages/op")
			b.ReportMetric(float64(st.GetWriteTime()-st0.GetWriteTime())/float64(b.N), "write+sync-ns/op")
		})
	}
}
