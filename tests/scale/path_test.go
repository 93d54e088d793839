package scale

import (
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// phases times the provider's steps of one job through wrappers of the
// interfaces market.Provider runs on: what it fetches (Content), what it
// runs (Runner: an explicit Compile, then Run, which then finds the
// compiled module in the executor's table) and the result it delivers
// (the Result request on market.Network).
type phases struct {
	mu                             sync.Mutex
	fetch, compile, run, store, dl time.Duration
	award, resultFetch             time.Duration // client side
}

func (p *phases) add(d *time.Duration, v time.Duration) {
	p.mu.Lock()
	*d += v
	p.mu.Unlock()
}

func (p *phases) reset() {
	p.mu.Lock()
	p.fetch, p.compile, p.run, p.store, p.dl, p.award, p.resultFetch = 0, 0, 0, 0, 0, 0, 0
	p.mu.Unlock()
}

type timedContent struct {
	market.Content
	p *phases
}

func (c timedContent) Cat(ctx context.Context, cid string, max int64) ([]byte, error) {
	t0 := time.Now()
	b, err := c.Content.Cat(ctx, cid, max)
	c.p.add(&c.p.fetch, time.Since(t0))
	return b, err
}

func (c timedContent) AddDir(ctx context.Context, dir string) (string, error) {
	t0 := time.Now()
	id, err := c.Content.AddDir(ctx, dir)
	c.p.add(&c.p.store, time.Since(t0))
	return id, err
}

// clientContent times the client's fetch of a result.
type clientContent struct {
	market.Content
	p *phases
}

func (c clientContent) Fetch(ctx context.Context, cid string, dst string) error {
	t0 := time.Now()
	err := c.Content.Fetch(ctx, cid, dst)
	c.p.add(&c.p.resultFetch, time.Since(t0))
	return err
}

type timedRunner struct {
	*executor.Executor
	p *phases
}

func (r timedRunner) Run(ctx context.Context, spec executor.Spec) (*executor.Result, error) {
	t0 := time.Now()
	if _, err := r.Executor.Compile(ctx, spec.Module); err != nil {
		return r.Executor.Run(ctx, spec) // let Run report the module's fault as it would
	}
	t1 := time.Now()
	res, err := r.Executor.Run(ctx, spec)
	r.p.add(&r.p.compile, t1.Sub(t0))
	r.p.add(&r.p.run, time.Since(t1))
	return res, err
}

// coldModule returns a Go wasip1 module of about 3 MB: the wordfreq
// example (build/examples/wordfreq.wasm from `make examples`, else built
// here).
func coldModule(tb testing.TB) []byte {
	tb.Helper()
	if b, err := os.ReadFile("../../build/examples/wordfreq.wasm"); err == nil {
		return b
	}
	out := filepath.Join(tb.TempDir(), "wordfreq.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "../../examples/functions/wordfreq")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build wordfreq: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// unseen makes a module no node has seen: the same code with a custom
// section of random bytes appended (valid WebAssembly, so a new CID and a
// new hash: no block, compile or cache hit anywhere).
func unseen(module []byte) []byte {
	var salt [16]byte
	_, _ = rand.Read(salt[:])
	name := "cloudless-salt"
	payload := append([]byte{byte(len(name))}, name...)
	payload = append(payload, salt[:]...)
	out := append([]byte{}, module...)
	out = append(out, 0) // custom section id
	out = appendULEB(out, uint64(len(payload)))
	return append(out, payload...)
}

func appendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

// pathBench runs one job per iteration from a client to a provider on
// another node over links with 1 ms latency (a warm local network) and
// reports the time of each phase: bids, the award's round trip (the
// provider checks the payment), the provider's module fetch (bitswap from
// the client, or its own store when cached), compile, run, storing the
// output, delivering the result, the client's fetch of the result, and
// the rest (choosing, signing, ledger writes, checking, paying). With
// fresh, every iteration publishes a module never seen before (not
// timed).
func pathBench(b *testing.B, module []byte, args []string, fresh bool) {
	ph := &phases{}
	l := layout{Nodes: 3, Providers: 1, Clients: 1, Degree: 2, Latency: time.Millisecond, OfferInterval: time.Minute,
		Module: module, Args: args,
		WrapProvider: func(c market.Content, e *executor.Executor) (market.Content, market.Runner) {
			return timedContent{c, ph}, timedRunner{e, ph}
		},
		WrapClient: func(c market.Content) market.Content { return clientContent{c, ph} }}
	c := newCluster(b, l)
	prov, cl := c.providers[0], c.clients[0]
	prov.net.onRequest = func(t wire.Type, d time.Duration) {
		if t == wire.TypeResult {
			ph.add(&ph.dl, d)
		}
	}
	cl.net.onRequest = func(t wire.Type, d time.Duration) {
		if t == wire.TypeAward {
			ph.add(&ph.award, d)
		}
	}
	// Warm: the channel to the provider and the connection (and, without
	// fresh, the module's fetch and compile), so the figure is the job's
	// path, not the first contact.
	if _, err := c.runJob(cl, 1); err != nil {
		b.Fatal(err)
	}
	var sum phases
	var bid time.Duration
	var totals []time.Duration
	for b.Loop() {
		if fresh {
			b.StopTimer()
			c.module = c.publish(cl, unseen(module))
			b.StartTimer()
		}
		ph.reset()
		jt, err := c.runJob(cl, 1)
		if err != nil {
			b.Fatal(err)
		}
		totals = append(totals, jt.result)
		bid += jt.firstBid
		ph.mu.Lock()
		sum.fetch += ph.fetch
		sum.compile += ph.compile
		sum.run += ph.run
		sum.store += ph.store
		sum.dl += ph.dl
		sum.award += ph.award
		sum.resultFetch += ph.resultFetch
		ph.mu.Unlock()
	}
	n := float64(len(totals))
	var total time.Duration
	for _, t := range totals {
		total += t
	}
	slices.Sort(totals)
	per := func(d time.Duration) float64 { return ms(d) / n }
	b.ReportMetric(per(total), "total-ms")
	b.ReportMetric(ms(percentile(totals, .5)), "total-p50-ms")
	b.ReportMetric(per(bid), "bid-ms")
	b.ReportMetric(per(sum.award), "award-ms")
	b.ReportMetric(per(sum.fetch), "fetch-ms")
	b.ReportMetric(per(sum.compile), "compile-ms")
	b.ReportMetric(per(sum.run), "run-ms")
	b.ReportMetric(per(sum.store), "store-ms")
	b.ReportMetric(per(sum.dl), "deliver-ms")
	b.ReportMetric(per(sum.resultFetch), "result-fetch-ms")
	b.ReportMetric(per(total-bid-sum.award-sum.fetch-sum.compile-sum.run-sum.store-sum.dl-sum.resultFetch), "rest-ms")
	b.ReportMetric(float64(len(module))/1e6, "module-MB")
}

// BenchmarkColdPath is the cold path of a job by phase: a ≈ 3 MB Go
// module (the wordfreq example) never seen before, published on the
// client, requested by a provider on another node: bitswap fetch, compile,
// run, store, deliver. It also compiles the module once with bare wazero
// (bare-compile-ms): the anchor on the same machine at the same time.
//
//	go test ./tests/scale -run '^$' -bench ColdPath -benchtime 5x
func BenchmarkColdPath(b *testing.B) {
	module := coldModule(b)
	pathBench(b, module, []string{"-n", "3"}, true)
	rt := wazero.NewRuntime(context.Background())
	defer rt.Close(context.Background())
	t0 := time.Now()
	if _, err := rt.CompileModule(context.Background(), unseen(module)); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(ms(time.Since(t0)), "bare-compile-ms")
}

// BenchmarkWarmPath is the same path for a small cached function (the
// market tests' 21 KB C job, fetched and compiled once before timing):
// where the time to result goes on a warm local network.
//
//	go test ./tests/scale -run '^$' -bench WarmPath -benchtime 50x
func BenchmarkWarmPath(b *testing.B) {
	module, err := os.ReadFile("../../market/testdata/job.wasm")
	if err != nil {
		b.Fatal(err)
	}
	pathBench(b, module, []string{"warm"}, false)
}
