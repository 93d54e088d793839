package ledger

import (
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkTransition measures one fsynced job transition (one bbolt
// commit: two fsyncs). Figures in docs/benchmarks/ledger.md.
func BenchmarkTransition(b *testing.B) {
	for _, sync := range []bool{true, false} {
		name := "fsync"
		if !sync {
			name = "nosync"
		}
		b.Run(name, func(b *testing.B) {
			l, err := Open(filepath.Join(b.TempDir(), FileName), &Options{NoSync: !sync})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			path := []JobState{JobBidding, JobPaying, JobAwarded, JobRunning, JobResultReceived, JobVerified, JobAccepted}
			b.ResetTimer()
			n := 0
			for i := 0; n < b.N; i++ {
				id := fmt.Sprintf("job-%d", i)
				if _, err := l.PutJob(ctxb, Job{ID: id, Role: RoleClient, State: JobRequested, Price: big.NewInt(1000)}); err != nil {
					b.Fatal(err)
				}
				n++
				for _, s := range path {
					if n >= b.N {
						break
					}
					if _, err := l.Transition(ctxb, id, s, nil); err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "transitions/s")
		})
	}
}

// BenchmarkAcceptVoucher measures the provider's per-job voucher write.
func BenchmarkAcceptVoucher(b *testing.B) {
	l, err := Open(filepath.Join(b.TempDir(), FileName), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ch := hash(1)
	if _, err := l.PutChannel(ctxb, Channel{ID: ch, Role: RoleProvider, State: ChannelOpen, Deposit: new(big.Int).Lsh(big.NewInt(1), 200)}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.AcceptVoucher(ctxb, Voucher{ChannelID: ch, Cumulative: big.NewInt(int64(i + 1)), Signature: make([]byte, 65)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "vouchers/s")
}

// BenchmarkOpen10k measures Open (with its full page check) of a ledger
// holding 10,000 finished jobs.
func BenchmarkOpen10k(b *testing.B) {
	path := filepath.Join(b.TempDir(), FileName)
	l, err := Open(path, &Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	err = l.Update(ctxb, func(tx *Tx) error {
		for i := 0; i < 10000; i++ {
			id := fmt.Sprintf("job-%05d", i)
			if _, err := tx.PutJob(Job{ID: id, Role: RoleClient, State: JobRequested, Price: big.NewInt(1000), Module: "bafkreiexampleexampleexampleexampleexampleexample"}); err != nil {
				return err
			}
			if _, err := tx.Transition(id, JobCancelled, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	l.Close()
	for _, v := range []struct {
		name           string
		noFreelistSync bool
	}{{"freelistsync", false}, {"nofreelistsync", true}} {
		b.Run(v.name, func(b *testing.B) {
			// One write so that the file's freelist is (not) synced.
			o := &Options{bolt: func(o *bolt.Options) { o.NoFreelistSync = v.noFreelistSync }}
			l, err := Open(path, o)
			if err != nil {
				b.Fatal(err)
			}
			err = l.MarkSeen(ctxb, "bench", v.name)
			l.Close()
			if err != nil && !errors.Is(err, ErrDuplicate) {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				l, err := Open(path, o)
				if err != nil {
					b.Fatal(err)
				}
				l.Close()
			}
		})
	}
}

// BenchmarkBoltPut is the floor: one bare bbolt commit of a 300-byte value
// with the same options, nothing of the ledger on top.
func BenchmarkBoltPut(b *testing.B) {
	for _, sync := range []bool{true, false} {
		name := "fsync"
		if !sync {
			name = "nosync"
		}
		b.Run(name, func(b *testing.B) {
			l, err := Open(filepath.Join(b.TempDir(), FileName), &Options{NoSync: !sync})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			v := make([]byte, 300)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				err := l.db.Update(func(tx *boltTx) error {
					return tx.Bucket(bucketJobs).Put([]byte(fmt.Sprintf("job-%d", i)), v)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}
