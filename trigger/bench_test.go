package trigger

import (
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// The gateway benchmarks answer the same bytes ("hello, world\n" as
// text/plain) three ways, one request at a time from a real HTTP client on
// loopback: a bare net/http handler, the gateway running echo.wasm on the
// daemon's own executor (local: true), and the gateway running it as a
// market job on a warm provider (channel voucher, real libp2p on
// loopback, the dev chain). Each reports p50 and p99 latency and req/s.
//
//	go test -run '^$' -bench 'BenchmarkGateway' -benchtime 2000x ./trigger/

const helloBody = "hello, world\n"

// latencies runs n requests to url and reports p50, p99 and req/s.
func latencies(b *testing.B, url string) { latenciesOf(b, url, helloBody) }

// latenciesOf is latencies for a function answering want.
func latenciesOf(b *testing.B, url, want string) {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func() {
		resp, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || string(body) != want {
			b.Fatalf("%d %q %v", resp.StatusCode, body, err)
		}
	}
	for range 3 {
		get() // warm: connection, compile cache, channel
	}
	var lat []time.Duration
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		t0 := time.Now()
		get()
		lat = append(lat, time.Since(t0))
	}
	total := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := int(p * float64(len(lat)-1))
		return float64(lat[i].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat))/total.Seconds(), "req/s")
}

func BenchmarkGatewayBare(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, helloBody)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	latencies(b, "http://"+ln.Addr().String()+"/hello")
}

func BenchmarkGatewayLocal(b *testing.B) {
	env := newLocalEnv(b, GatewayOptions{})
	latencies(b, env.url+"/echo?hello")
}

// BenchmarkGatewayLocalMarkdown is the local path with a representative
// Go function (build/examples/markdown.wasm, 3 MB, wasip1): its runtime's
// start, not the gateway, is most of each request.
//
//	go test -run '^$' -bench 'BenchmarkGatewayLocalMarkdown$' -benchtime 200x ./trigger/
func BenchmarkGatewayLocalMarkdown(b *testing.B) {
	mod, err := os.ReadFile(filepath.Join("..", "build", "examples", "markdown.wasm"))
	if err != nil {
		b.Skip("build/examples/markdown.wasm not built (make examples)")
	}
	store := openStore(b)
	c, err := store.AddBytes(context.Background(), mod)
	if err != nil {
		b.Fatal(err)
	}
	ex, err := executor.New(executor.WithMaxConcurrent(4), executor.WithLogger(quietLogger()))
	if err != nil {
		b.Fatal(err)
	}
	defer ex.Close(context.Background())
	fn := localFn("md", c, "/md", 30*time.Second, 1<<20)
	fn.Resources.Memory = 128 << 20
	gw := NewGateway(newTestDispatcher(NewLocalInvoker(ex, store), fn), GatewayOptions{Logger: quietLogger()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := gw.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer gw.Close()
	latenciesOf(b, "http://"+addr+"/md?text=hi", "<p>hi</p>\n")
}

func BenchmarkGatewayMarket(b *testing.B) {
	e := newMarketEnv(b)
	inv := NewMarketInvoker(e.cl.client, e.cl.store, WithMarketLogger(quietLogger()))
	d := newTestDispatcher(inv, marketFn("echo", e.cl.store.publish(b, "echo"), "/echo", 5*time.Second, 1<<20))
	d.fns[0].DailyCap = nil // no cap in the benchmark
	gw := NewGateway(d, GatewayOptions{Logger: quietLogger()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := gw.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer gw.Close()
	latencies(b, "http://"+addr+"/echo?hello")
}

// BenchmarkColdModule is the first request for a never-seen ≈3 MB module
// (build/examples/markdown.wasm, Go), broken down by phase on the
// provider: fetch (bitswap from the client's store), compile (wazero,
// empty cache), first run; then the same first request end to end
// through the gateway and the market for another never-seen variant of
// the module, and a warm request after it. Each iteration makes fresh
// variants (a random custom section), so nothing is cached.
//
//	go test -run '^$' -bench BenchmarkColdModule -benchtime 1x -count 3 ./trigger/
func BenchmarkColdModule(b *testing.B) {
	base, err := os.ReadFile(filepath.Join("..", "build", "examples", "markdown.wasm"))
	if err != nil {
		b.Skip("build/examples/markdown.wasm not built (make examples)")
	}
	e := newMarketEnv(b)
	inv := NewMarketInvoker(e.cl.client, e.cl.store, WithMarketLogger(quietLogger()))
	d := newTestDispatcher(inv)
	gw := NewGateway(d, GatewayOptions{Logger: quietLogger(), Margin: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := gw.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer gw.Close()
	var fetch, compile, run, first, warm time.Duration
	for b.Loop() {
		// Phases, measured on the provider's own parts.
		modA := variant(b, base)
		cidA, err := e.cl.store.AddBytes(ctx, modA)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		got, err := e.prov.store.Cat(ctx, cidA, 64<<20)
		if err != nil {
			b.Fatal(err)
		}
		fetch += time.Since(t0)
		ex, err := executor.New(executor.WithLogger(quietLogger()))
		if err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		if _, err := ex.Compile(ctx, got); err != nil {
			b.Fatal(err)
		}
		compile += time.Since(t0)
		t0 = time.Now()
		res, err := ex.Run(ctx, executor.Spec{Module: got, Env: map[string]string{"REQUEST_METHOD": "GET", "QUERY_STRING": "text=hi"},
			Deterministic: true, Limits: executor.Limits{Memory: 128 << 20, Timeout: time.Minute}})
		if err != nil || res.ExitCode != 0 {
			b.Fatalf("run: %v", err)
		}
		run += time.Since(t0)
		ex.Close(ctx)

		// End to end, another never-seen variant.
		cidB, err := e.cl.store.AddBytes(ctx, variant(b, base))
		if err != nil {
			b.Fatal(err)
		}
		fn := marketFn("md", cidB, "/md", 30*time.Second, 1<<20)
		fn.Resources.Memory = 128 << 20
		fn.DailyCap = nil
		d.mu.Lock()
		d.fns = []*Function{fn}
		d.mu.Unlock()
		for i, acc := range []*time.Duration{&first, &warm} {
			t0 = time.Now()
			resp, err := http.Get("http://" + addr + "/md?text=hi")
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "<p>hi</p>\n" {
				b.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
			}
			*acc += time.Since(t0)
		}
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / n }
	b.ReportMetric(float64(len(base))/1e6, "module-MB")
	b.ReportMetric(ms(fetch), "fetch-ms")
	b.ReportMetric(ms(compile), "compile-ms")
	b.ReportMetric(ms(run), "run-ms")
	b.ReportMetric(ms(first), "first-request-ms")
	b.ReportMetric(ms(warm), "warm-request-ms")
}

// variant appends a custom section with random bytes: a valid module
// with a new CID and a new compile-cache key.
func variant(b *testing.B, mod []byte) []byte {
	var salt [16]byte
	if _, err := rand.Read(salt[:]); err != nil {
		b.Fatal(err)
	}
	payload := append([]byte{4, 's', 'a', 'l', 't'}, salt[:]...)
	out := append([]byte(nil), mod...)
	out = append(out, 0, byte(len(payload)))
	return append(out, payload...)
}

// BenchmarkMarketPhases breaks a warm market invocation (the gateway
// benchmark's echo.wasm, channel voucher, warm provider) into the phases
// the market client's job events mark, to show where the time over the
// local path goes. Medians over b.N jobs:
//
//	submit   Submit: spec checks, the job written to the ledger
//	award    Submit returned -> awarded (the warm provider's bid, the
//	         voucher signed and written, the award sent and checked; the
//	         paying event in between often comes before Events subscribes)
//	run      awarded -> verifying (provider runs, stores, sends the result)
//	accept   verifying -> paid (output checked, job written as paid)
//	wake     paid -> Wait returned
//
//	go test -run '^$' -bench 'BenchmarkMarketPhases$' -benchtime 30x ./trigger/
func BenchmarkMarketPhases(b *testing.B) {
	e := newMarketEnv(b)
	inv := NewMarketInvoker(e.cl.client, e.cl.store, WithMarketLogger(quietLogger())).(*marketInvoker)
	fn := marketFn("echo", e.cl.store.publish(b, "echo"), "/echo", 5*time.Second, 1<<20)
	ctx := context.Background()
	in := Invocation{Trigger: KindHTTP, Env: map[string]string{"REQUEST_METHOD": "GET", "QUERY_STRING": "hello"}}
	for range 2 { // warm: channel open, provider remembered, module compiled
		if _, err := inv.Invoke(ctx, fn, in); err != nil {
			b.Fatal(err)
		}
	}
	warm, _ := WarmProvider(inv, fn.Module)
	names := []string{"submit", "award", "run", "accept", "wake", "total"}
	phases := make([][]time.Duration, len(names))
	for b.Loop() {
		spec, err := inv.spec(ctx, fn, in)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		id, err := e.cl.client.Submit(ctx, spec, market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{warm}})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		evs, stop := e.cl.client.Events(id)
		if _, err := e.cl.client.Wait(ctx, id); err != nil {
			b.Fatal(err)
		}
		t6 := time.Now()
		stop()
		at := map[market.State]time.Time{}
		for ev := range evs {
			if _, ok := at[ev.State]; !ok {
				at[ev.State] = ev.Time
			}
		}
		t3, t4, t5 := at[market.StateAwarded], at[market.StateVerifying], at[market.StatePaid]
		if t3.IsZero() || t4.IsZero() || t5.IsZero() {
			b.Fatalf("missing events: %v", at)
		}
		for i, d := range []time.Duration{t1.Sub(t0), t3.Sub(t1), t4.Sub(t3), t5.Sub(t4), t6.Sub(t5), t6.Sub(t0)} {
			phases[i] = append(phases[i], d)
		}
	}
	for i, ds := range phases {
		slices.Sort(ds)
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, names[i]+"-ms")
	}
}
