package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time so far. On the shared,
// loaded benchmark machine wall time per op swings 2× between runs; CPU
// time per op does not, so the benchmarks report both.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds a cpu-ns/op metric measured from start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// typicalJob is a client job as the market stores it mid-life: signed
// request and award envelopes, one provider, the market's own record in
// Extra (≈ 1.2 KB of JSON).
func typicalJob() Job {
	j := sampleJob()
	j.Error, j.Result = "", nil
	j.Providers = j.Providers[:1]
	j.Request, j.Award = bytes.Repeat([]byte{0x5a}, 700), bytes.Repeat([]byte{0xa5}, 420)
	j.Extra = []byte(`{"id":"` + fmt.Sprintf("%064x", 1) + `","spec":{"module":"bafkreiexampleexampleexampleexampleexampleexample",` +
		`"args":["--n","1000"],"resources":{"memory":67108864,"fuel":1000000000,"timeout":"30s"},"price":{"max":"123456789"}},` +
		`"state":"awarded","pay_mode":"escrow","assigned":[{"provider":"12D3KooWprov","addr":"0x000000000000000000000000000000000000004f",` +
		`"price":"5000","deal_id":"0x00000000000000000000000000000000000000000000000000000000000003e9","state":"awarded"}],` +
		`"stdout":"` + string(bytes.Repeat([]byte("x"), 600)) + `","attempts":1}`)
	return j
}

// withJSON makes the ledger write JSON, as builds before CBOR did (the A
// side of the A/B benchmarks and the migration fixture).
func withJSON(tb testing.TB) {
	prev := encodeValue
	encodeValue = json.Marshal
	tb.Cleanup(func() { encodeValue = prev })
}

var codecs = []struct {
	name string
	json bool
}{{"json", true}, {"cbor", false}}

// BenchmarkCodec measures encoding and decoding one stored record, JSON
// (before) against CBOR (after), in the same run.
func BenchmarkCodec(b *testing.B) {
	recs := []struct {
		name   string
		rec    any
		decode func([]byte) error
	}{
		{"job", typicalJob(), func(b []byte) error { _, err := decodeJob(b); return err }},
		{"deal", sampleDeal(), func(b []byte) error { _, err := decodeDeal(b); return err }},
		{"channel", sampleChannel(), func(b []byte) error { _, err := decodeChannel(b); return err }},
		{"event", Event{Seq: 7, Kind: "job", ID: "a", JobID: "a", From: "bidding", To: "paying", At: sampleJob().Created}, func(b []byte) error { _, err := decodeEvent(b); return err }},
	}
	for _, r := range recs {
		for _, c := range codecs {
			b.Run(r.name+"/"+c.name+"/encode", func(b *testing.B) {
				if c.json {
					withJSON(b)
				}
				v, _ := encode(r.rec)
				b.ReportAllocs()
				start := cpuTime()
				for b.Loop() {
					if _, err := encode(r.rec); err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, start)
				b.ReportMetric(float64(len(v)), "bytes")
			})
			b.Run(r.name+"/"+c.name+"/decode", func(b *testing.B) {
				if c.json {
					withJSON(b)
				}
				v, _ := encode(r.rec)
				b.ReportAllocs()
				start := cpuTime()
				for b.Loop() {
					if err := r.decode(v); err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, start)
			})
		}
	}
}

// BenchmarkJobTransition is one transition of a typical (market-sized)
// client job: read, copy, mutate, replay check, write, history event, one
// commit. nosync isolates the CPU; fsync is what a job waits for.
func BenchmarkJobTransition(b *testing.B) {
	for _, sync := range []bool{false, true} {
		for _, c := range codecs {
			name := c.name + "/nosync"
			if sync {
				name = c.name + "/fsync"
			}
			b.Run(name, func(b *testing.B) {
				if c.json {
					withJSON(b)
				}
				l, err := Open(filepath.Join(b.TempDir(), FileName), &Options{NoSync: !sync})
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				tmpl := typicalJob()
				path := []JobState{JobBidding, JobPaying, JobAwarded, JobRunning, JobResultReceived, JobVerified, JobAccepted}
				b.ReportAllocs()
				st0 := l.db.Stats().TxStats
				b.ResetTimer()
				start := cpuTime()
				n := 0
				for i := 0; n < b.N; i++ {
					j := tmpl
					j.ID, j.State = fmt.Sprintf("job-%d", i), JobRequested
					if _, err := l.PutJob(ctxb, j); err != nil {
						b.Fatal(err)
					}
					n++
					for k, s := range path {
						if n >= b.N {
							break
						}
						if _, err := l.Transition(ctxb, j.ID, s, func(j *Job) error { j.Attempts = k; return nil }); err != nil {
							b.Fatal(err)
						}
						n++
					}
				}
				reportCPU(b, start)
				st := l.db.Stats().TxStats
				b.ReportMetric(float64(st.GetWrite()-st0.GetWrite())/float64(b.N), "pages/op")
			})
		}
	}
}
