package ledger

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"path/filepath"
	"testing"
)

// BenchmarkProviderJobWrites is the ledger work of one small channel job
// on a provider, as market does it (docs/benchmarks/provider-throughput.md):
// the award transaction (the job created, then advanced with its record to
// result_sent) and the delivered mark's (the record read, advanced to
// paid). 32 jobs share a transaction, as they share a group commit at
// load, so that cpu-ns/op is the records' work more than the fsync's.
// Uses only API that existed before the per-transaction changes, so the
// same benchmark runs on the older code (go test -overlay).
func BenchmarkProviderJobWrites(b *testing.B) {
	const group = 32
	l, err := Open(filepath.Join(b.TempDir(), FileName), &Options{NoSync: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	extra := typicalJob().Extra
	fill := func(j *Job) error {
		j.Module, j.PayMode, j.Price, j.Voucher = "bafkreiexampleexampleexampleexampleexampleexample", "channel", big.NewInt(5000), big.NewInt(123456789)
		j.ChannelID, j.Result, j.Extra = hash(1), make([]byte, 300), extra
		return nil
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for n := 0; n < b.N; n += group {
		ids := make([]string, 0, group)
		for i := n; i < n+group && i < b.N; i++ {
			ids = append(ids, fmt.Sprintf("0x%040x/%064x", i, i))
		}
		for _, id := range ids { // one award transaction each, grouped
			err := l.Update(ctx, func(tx *Tx) error {
				if _, err := tx.Job(id); err == nil {
					return fmt.Errorf("duplicate")
				}
				if _, err := tx.Job(id); err == nil {
					b.Fatal("exists")
				}
				if _, err := tx.PutJob(Job{ID: id, Role: RoleProvider, State: JobAwarded, Client: "12D3KooWclient"}); err != nil {
					return err
				}
				_, err := tx.Advance(id, JobResultSent, fill)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		err := l.Update(ctx, func(tx *Tx) error { // the marks
			for _, id := range ids {
				j, err := tx.Job(id)
				if err != nil {
					return err
				}
				ex := append([]byte(nil), j.Extra...)
				if _, err := tx.Advance(id, JobPaid, func(j *Job) error { j.Extra = ex; return fill(j) }); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}
