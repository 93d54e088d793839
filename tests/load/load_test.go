package load

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestLoad runs the load and fails on any lost job or money mismatch. It
// is opt-in (CLOUDLESS_LOAD=1): the make targets set the sizes.
//
//	CLOUDLESS_LOAD_CLIENTS, _PROVIDERS   daemons (5, 5)
//	CLOUDLESS_LOAD_JOBS                  jobs per client (40)
//	CLOUDLESS_LOAD_INFLIGHT              concurrent jobs per client (16)
//	CLOUDLESS_LOAD_SLOTS                 provider max_concurrent (32)
//	CLOUDLESS_LOAD_OUT                   write the report as JSON here
//	CLOUDLESS_LOAD_LOG                   append the daemons' logs here
//	CLOUDLESS_LOAD_PPROF                 serve net/http/pprof at this HOST:PORT
func TestLoad(t *testing.T) {
	if os.Getenv("CLOUDLESS_LOAD") == "" {
		t.Skip("set CLOUDLESS_LOAD=1 (make load-smoke, make load)")
	}
	module, err := os.ReadFile(filepath.Join("testdata", "hello.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Clients: envInt(t, "CLOUDLESS_LOAD_CLIENTS"), Providers: envInt(t, "CLOUDLESS_LOAD_PROVIDERS"),
		JobsPerClient: envInt(t, "CLOUDLESS_LOAD_JOBS"), InFlight: envInt(t, "CLOUDLESS_LOAD_INFLIGHT"),
		ProviderSlots: envInt(t, "CLOUDLESS_LOAD_SLOTS"), Module: module, Dir: t.TempDir(),
		Logger: testLogger(t),
	}
	last := time.Now()
	cfg.Progress = func(done, total int) {
		if time.Since(last) > 10*time.Second || done == total {
			last = time.Now()
			t.Logf("%d/%d jobs ended", done, total)
		}
	}
	if addr := os.Getenv("CLOUDLESS_LOAD_PPROF"); addr != "" {
		// net/http/pprof on loopback: goroutine dumps and profiles of a
		// run that stalls, while it stalls.
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("pprof on http://%s/debug/pprof/", ln.Addr())
		srv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 170*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if rep != nil {
		t.Logf("\n%s", rep.Summary())
		if out := os.Getenv("CLOUDLESS_LOAD_OUT"); out != "" {
			writeReport(t, out, rep)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("the load did not hold: %d problems (first: %s)", len(rep.Problems), rep.Problems[0])
	}
	if rep.Succeeded == 0 {
		t.Fatal("no job succeeded")
	}
}

func envInt(t *testing.T, k string) int {
	v := os.Getenv(k)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a count", k, v)
	}
	return n
}

func writeReport(t *testing.T, path string, rep *Report) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Error(err)
		return
	}
	b, _ := json.MarshalIndent(struct {
		*Report
		Samples []Sample `json:"samples"`
	}{rep, rep.Samples}, "", "  ")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Error(err)
	}
}

// testLogger discards the daemons' logs unless CLOUDLESS_LOAD_LOG names a
// file to append them to.
func testLogger(t *testing.T) *slog.Logger {
	p := os.Getenv("CLOUDLESS_LOAD_LOG")
	if p == "" {
		return slog.New(slog.DiscardHandler)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
