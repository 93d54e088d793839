package storage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

const benchSize = 64 << 20

// openBenchStore opens a store with fsync on, as kubo's flatfs has.
func openBenchStore(b *testing.B) *Store {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "ipfs"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func mibps(d time.Duration) float64 { return float64(benchSize) / (1 << 20) / d.Seconds() }

// BenchmarkKuboFetch64MiB fetches 64 MiB added in kubo A over loopback,
// once into cloudless (bitswap, streamed to io.Discard) and once into
// kubo B (`ipfs cat` on B's daemon, to io.Discard), with fresh data each
// time, and reports both rates and their ratio (goal >= 0.9).
func BenchmarkKuboFetch64MiB(b *testing.B) {
	ka, kb := newKubo(b), newKubo(b)
	ka.start()
	kb.start()
	s := openBenchStore(b)
	h := newHost(b)
	ctx := context.Background()
	if err := s.Serve(ctx, h, nil); err != nil {
		b.Fatal(err)
	}
	aInfo := ka.addrInfo()
	if err := h.Connect(ctx, aInfo); err != nil {
		b.Fatal(err)
	}
	kb.run("swarm", "connect", aInfo.Addrs[0].String()+"/p2p/"+aInfo.ID.String())
	dir := b.TempDir()
	var tCL, tKubo time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		addNew := func(tag string) cid.Cid {
			p := filepath.Join(dir, fmt.Sprintf("%s%d", tag, i))
			os.WriteFile(p, randBytes(benchSize, uint64(i)*2+uint64(len(tag))), 0o644)
			defer os.Remove(p)
			return cid.MustParse(ka.run("add", "--cid-version=1", "-Q", p))
		}
		c1, c2 := addNew("c"), addNew("kubo")
		b.StartTimer()

		t0 := time.Now()
		r, _, err := s.Open(ctx, c1)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, r)
		r.Close()
		if err != nil || n != benchSize {
			b.Fatalf("cloudless fetch: %d bytes, %v", n, err)
		}
		tCL += time.Since(t0)

		t0 = time.Now()
		cmd := kb.cmd("cat", c2.String())
		cw := &countWriter{}
		var errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = cw, &errb
		if err := cmd.Run(); err != nil || cw.n != benchSize {
			b.Fatalf("kubo cat: %d bytes, %v %s", cw.n, err, errb.String())
		}
		tKubo += time.Since(t0)
	}
	b.StopTimer()
	cl, ku := mibps(tCL/time.Duration(b.N)), mibps(tKubo/time.Duration(b.N))
	b.ReportMetric(cl, "cloudless-MiB/s")
	b.ReportMetric(ku, "kubo-MiB/s")
	b.ReportMetric(cl/ku, "ratio")
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkAdd64MiB imports the same 64 MiB file with AddPath and with
// kubo's `ipfs add --cid-version=1 -Q` (offline repo, command start
// included, as in docs/BASELINES.md), and reports both rates.
func BenchmarkAdd64MiB(b *testing.B) {
	k := newKubo(b)
	dir := b.TempDir()
	p := filepath.Join(dir, "in")
	os.WriteFile(p, randBytes(benchSize, 5), 0o644)
	var tCL, tKubo time.Duration
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		s := openBenchStore(b)
		t0 := time.Now()
		c, err := s.AddPath(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		tCL += time.Since(t0)
		b.StopTimer()
		s.Close()
		k.run("repo", "gc") // nothing pinned twice: gc does not remove pinned
		b.StartTimer()
		t0 = time.Now()
		got := k.run("add", "--cid-version=1", "-Q", p)
		tKubo += time.Since(t0)
		if got != c.String() {
			b.Fatalf("CIDs differ: %s vs %s", c, got)
		}
		b.StopTimer()
		k.run("pin", "rm", got)
		k.run("repo", "gc")
		b.StartTimer()
	}
	b.StopTimer()
	cl, ku := mibps(tCL/time.Duration(b.N)), mibps(tKubo/time.Duration(b.N))
	b.ReportMetric(cl, "cloudless-MiB/s")
	b.ReportMetric(ku, "kubo-MiB/s")
	b.ReportMetric(cl/ku, "ratio")
}

// BenchmarkFetchLoopback is cloudless-to-cloudless over loopback, no kubo.
func BenchmarkFetchLoopback(b *testing.B) {
	ctx := context.Background()
	a, c := openBenchStore(b), openBenchStore(b)
	ha, hc := newHost(b), newHost(b)
	a.Serve(ctx, ha, nil)
	c.Serve(ctx, hc, nil)
	connect(b, ha, hc)
	b.SetBytes(benchSize)
	for i := range b.N {
		b.StopTimer()
		id, err := a.AddBytes(ctx, randBytes(benchSize, uint64(i)+1000))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		r, _, err := c.Open(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, r); err != nil || n != benchSize {
			b.Fatal(n, err)
		}
		r.Close()
	}
}
