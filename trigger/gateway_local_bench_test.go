package trigger

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/executor"
)

// BenchmarkGatewayServeLocal splits the local path's CPU without the
// network: "gateway" is Gateway.ServeHTTP over the local invoker (CGI
// environment, invoke, CGI response, headers), "invoker" the local
// invoker alone with that request's invocation, "executor" the
// executor's Run of the spec the invoker builds. "-unique" variants send
// a new query string every time (no two environments alike). Reports
// the p50 of the calls and allocs/op; the difference between two rows is
// what the layer between them costs.
//
//	go test -run '^$' -bench 'BenchmarkGatewayServeLocal' -benchmem ./trigger/
func BenchmarkGatewayServeLocal(b *testing.B) {
	store := openStore(b)
	ex, err := executor.New(executor.WithMaxConcurrent(4), executor.WithLogger(quietLogger()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ex.Close(context.Background()) })
	echo := store.publish(b, "echo")
	fn := localFn("echo", echo, "/echo", 30*time.Second, 1<<20)
	inv := NewLocalInvoker(ex, store)
	gw := NewGateway(newTestDispatcher(inv, fn), GatewayOptions{Logger: quietLogger(), ServerAddr: "127.0.0.1:8080"})
	mod, err := os.ReadFile("testdata/echo.wasm")
	if err != nil {
		b.Fatal(err)
	}
	request := func(i int, unique bool) *http.Request {
		target := "/echo?hello"
		if unique {
			target = "/echo?n=" + strconv.Itoa(i)
		}
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.Header.Set("User-Agent", "Go-http-client/1.1")
		r.Header.Set("Accept-Encoding", "gzip")
		return r
	}
	for _, unique := range []bool{false, true} {
		sfx := ""
		if unique {
			sfx = "-unique"
		}
		b.Run("gateway"+sfx, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			var ds []time.Duration
			defer func() { reportP50(b, ds) }()
			for b.Loop() {
				i++
				w := httptest.NewRecorder()
				r := request(i, unique)
				t0 := time.Now()
				gw.ServeHTTP(w, r)
				ds = append(ds, time.Since(t0))
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
		b.Run("invoker"+sfx, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			var ds []time.Duration
			defer func() { reportP50(b, ds) }()
			for b.Loop() {
				i++
				r := request(i, unique)
				t0 := time.Now()
				out, err := inv.Invoke(context.Background(), fn, Invocation{Trigger: KindHTTP, Env: CGIEnv(r, "/echo", "127.0.0.1:8080"),
					Stdin: []byte{}, StdoutOnly: true})
				ds = append(ds, time.Since(t0))
				if err != nil || out.ExitCode != 0 {
					b.Fatal(err)
				}
			}
		})
		b.Run("executor"+sfx, func(b *testing.B) {
			b.ReportAllocs()
			h := executor.HashModule(mod)
			i := 0
			var ds []time.Duration
			defer func() { reportP50(b, ds) }()
			for b.Loop() {
				i++
				r := request(i, unique)
				spec := executor.Spec{Module: mod, ModuleHash: h, Env: CGIEnv(r, "/echo", "127.0.0.1:8080"),
					Deterministic: true, NoOut: true, Limits: executor.Limits{Memory: 64 << 20, Timeout: 30 * time.Second, MaxOutput: 1 << 20}}
				t0 := time.Now()
				res, err := ex.Run(context.Background(), spec)
				ds = append(ds, time.Since(t0))
				if err != nil || res.ExitCode != 0 {
					b.Fatal(err)
				}
			}
		})
	}
}

// reportP50 reports the median of ds in µs.
func reportP50(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1000, "p50-µs")
}
