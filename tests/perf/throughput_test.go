package perf

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/contracts/devnet"
	"github.com/cloudless-network/cloudless/node"
	"github.com/cloudless-network/cloudless/node/client"
)

// clockTick is the unit of utime and stime in /proc/PID/stat: USER_HZ,
// 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).
const clockTick = 10 * time.Millisecond

// procCPU is the user+system CPU time pid has used, from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a
// /proc/PID/stat line. The command name (field 2) is in parentheses and
// may hold spaces and parentheses itself, so fields count from the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("perf: stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): utime is field 14, f[11].
	if len(f) < 13 {
		return 0, fmt.Errorf("perf: stat: %d fields after the name, want at least 13", len(f))
	}
	var ticks [2]uint64
	for k := range ticks {
		n, err := strconv.ParseUint(f[11+k], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("perf: stat field %d: %w", 14+k, err)
		}
		ticks[k] = n
	}
	return time.Duration(ticks[0]+ticks[1]) * clockTick, nil
}

// selfCPU is this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pprofOverlay is a file added to package main of cmd/cloudless at build
// time (go build -overlay) when the benchmark is asked for a CPU profile
// of the provider: with CLOUDLESS_PERF_CPUPROFILE set, the first SIGUSR1
// starts a CPU profile into that file and the second stops it. The
// shipped binary has no such hook; the tree is not touched.
const pprofOverlay = `package main

import (
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func init() {
	path := os.Getenv("CLOUDLESS_PERF_CPUPROFILE")
	if path == "" {
		return
	}
	c := make(chan os.Signal, 2)
	signal.Notify(c, syscall.SIGUSR1)
	go func() {
		<-c
		f, err := os.Create(path)
		if err != nil {
			return
		}
		if pprof.StartCPUProfile(f) != nil {
			return
		}
		<-c
		pprof.StopCPUProfile()
		f.Close()
	}()
}
`

// profiledBin builds cloudless with pprofOverlay into a temp dir.
func profiledBin(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	src := filepath.Join(dir, "perf_pprof.go")
	if err := os.WriteFile(src, []byte(pprofOverlay), 0o644); err != nil {
		tb.Fatal(err)
	}
	pkg, err := filepath.Abs("../../cmd/cloudless")
	if err != nil {
		tb.Fatal(err)
	}
	ov, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(pkg, "zz_perf_pprof.go"): src}})
	ovf := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(ovf, ov, 0o644); err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(dir, "cloudless")
	if b, err := exec.Command("go", "build", "-overlay", ovf, "-o", out, "../../cmd/cloudless").CombinedOutput(); err != nil {
		tb.Fatalf("build cloudless with the profile hook: %v\n%s", err, b)
	}
	return out
}

// startClientNode starts a client node (no --provide) inside the test
// process, as tests/load does: a dev repo, funded on chain, its control
// API on loopback.
func startClientNode(tb testing.TB, ctx context.Context, chain *devnet.Chain, name string) *node.Node {
	tb.Helper()
	repo := filepath.Join(tb.TempDir(), name)
	nc := node.DefaultConfig(true)
	nc.MDNS = false
	nc.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	id, err := node.Init(repo, node.InitOptions{Dev: true, Config: &nc})
	if err != nil {
		tb.Fatal(err)
	}
	addr, err := devnet.KeystoreAddress(filepath.Join(repo, "keystore"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := chain.Fund(ctx, devnet.DefaultFundAmount, addr); err != nil {
		tb.Fatal(err)
	}
	cfg, err := node.LoadConfig(node.ConfigPath(repo), func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	info := chain.Info()
	cfg.Chain.RPC, cfg.Chain.Contract = info.RPC, info.Contract.Hex()
	n, err := node.Start(ctx, repo, cfg, node.Options{Logger: slog.New(slog.DiscardHandler), Version: "perf"})
	if err != nil {
		tb.Fatalf("start client %s (%s): %v", name, id.PeerID, err)
	}
	tb.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = n.Close(cctx)
	})
	return n
}

// jobAPI is the hot path of the benchmark's clients: submit over one
// pooled keep-alive transport (client.New keeps net/http's two idle
// connections per host, so 64 submitters would open a connection per
// request), and learn job ends from the event stream.
type jobAPI struct {
	base, token string
	hc          *http.Client
	api         *client.Client

	mu      sync.Mutex
	waiters map[string]chan client.Job
	ended   map[string]client.Job // ends seen before anyone waited
}

func newJobAPI(ctx context.Context, api *client.Client, conns int) *jobAPI {
	a := &jobAPI{
		base: api.Addr(), token: api.Token(),
		hc:      &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}},
		api:     api,
		waiters: map[string]chan client.Job{}, ended: map[string]client.Job{},
	}
	go func() {
		_ = a.api.Events(ctx, func(ev client.Event) error {
			if ev.Job != nil && jobEnded(ev.Job.State) {
				a.end(*ev.Job)
			}
			return nil
		})
	}()
	return a
}

func jobEnded(state string) bool {
	switch state {
	case "paid", "failed", "refunded", "cancelled":
		return true
	}
	return false
}

func (a *jobAPI) end(j client.Job) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.waiters[j.ID]; ok {
		delete(a.waiters, j.ID)
		c <- j
		return
	}
	a.ended[j.ID] = j
}

func (a *jobAPI) submit(ctx context.Context, body any) (string, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+"/v1/jobs", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("submit: %s: %s", resp.Status, bytes.TrimSpace(rb))
	}
	var j client.Job
	if err := json.Unmarshal(rb, &j); err != nil {
		return "", fmt.Errorf("submit: %w", err)
	}
	return j.ID, nil
}

// wait returns job id's end state: from the event stream, or from a poll
// when no event came for two seconds (the stream drops events for a slow
// reader).
func (a *jobAPI) wait(ctx context.Context, id string) (client.Job, error) {
	c := make(chan client.Job, 1)
	a.mu.Lock()
	if j, ok := a.ended[id]; ok {
		delete(a.ended, id)
		a.mu.Unlock()
		return j, nil
	}
	a.waiters[id] = c
	a.mu.Unlock()
	defer func() { a.mu.Lock(); delete(a.waiters, id); a.mu.Unlock() }()
	for {
		select {
		case j := <-c:
			return j, nil
		case <-ctx.Done():
			return client.Job{}, fmt.Errorf("job %s: %w", id, ctx.Err())
		case <-time.After(2 * time.Second): // a real daemon, polled as a fallback
			j, err := a.api.Job(ctx, id)
			if err != nil {
				return j, err
			}
			if jobEnded(j.State) {
				return j, nil
			}
		}
	}
}

// BenchmarkProviderDaemon is issue 9's throughput goal measured where it
// is set: one provider, `cloudless node --provide` in its own process,
// and as many small jobs as its clients can push through it. The clients
// are nodes inside the test process (PERF_CLIENTS, default 1) on a dev
// chain served from the test process too, each keeping PERF_INFLIGHT
// (default 64) channel-paid jobs in flight; the job is a 244-byte WASI
// module (testdata/echo.wasm) that prints its arguments, one distinct
// argument per job, so every output is new and comes back inline.
//
// PERF_CLIENT_BIN=path runs each client as a daemon of that binary instead
// (`cloudless node`, no --provide), the test process only submitting and
// waiting: for an A/B of two provider binaries against the same clients.
//
// It reports the jobs per second achieved (on a 2-core box the clients and
// the chain share the cores with the provider, so this is a floor), the
// provider process's own CPU per job from /proc/PID/stat (utime+stime
// over the run, background loops included), and from it the capacity of
// two idle cores given to the provider alone: 2000 ms / provider-cpu-ms/job.
//
//	CLOUDLESS_BIN=$PWD/bin/cloudless go test ./tests/perf -run '^$' -bench ProviderDaemon -benchtime 2000x
//
// PERF_CPUPROFILE=file builds the binary with a profile hook (see
// pprofOverlay) and writes the provider's CPU profile of the measured
// run there (go tool pprof -top file); PERF_CPUPROFILE_BIN names a binary
// already built with that hook instead (go build -overlay, as profiledBin).
func BenchmarkProviderDaemon(b *testing.B) {
	profile := os.Getenv("PERF_CPUPROFILE")
	if testing.Short() && os.Getenv("CLOUDLESS_BIN") == "" {
		b.Skip("builds the cloudless binary; set CLOUDLESS_BIN or run without -short")
	}
	envInt := func(name string, def int) int {
		s := os.Getenv(name)
		if s == "" {
			return def
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("%s=%q: want a positive number", name, s)
		}
		return n
	}
	clients, inflight := envInt("PERF_CLIENTS", 1), envInt("PERF_INFLIGHT", 64)
	// Slots: enough that no job is refused for a full provider (bids
	// outstanding count against them too).
	slots := envInt("PERF_SLOTS", 2*clients*inflight)
	module, err := os.ReadFile(filepath.Join("testdata", "echo.wasm"))
	if err != nil {
		b.Fatal(err)
	}
	var bin string
	if profile != "" {
		if profile, err = filepath.Abs(profile); err != nil {
			b.Fatal(err)
		}
		if bin = os.Getenv("PERF_CPUPROFILE_BIN"); bin == "" {
			bin = profiledBin(b)
		}
	} else {
		bin = cloudlessBin(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	chain, err := devnet.Start(ctx, devnet.Config{RPCAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer chain.Close()
	env := []string{
		"CLOUDLESS_PROVIDE_MAX_CONCURRENT=" + strconv.Itoa(slots),
		// 4 MiB a job: the budget admits every slot, and 1 GiB in 64 MiB
		// tiers stays within an offer's 16 price tiers.
		"CLOUDLESS_PROVIDE_MEMORY=" + strconv.Itoa(max(slots*4, 1024)) + "MiB",
		"CLOUDLESS_PROVIDE_MEMORY_TIER=" + strconv.Itoa(max(slots*4, 1024)/16) + "MiB",
		"CLOUDLESS_LOG_LEVEL=warn",
	}
	if profile != "" {
		env = append(env, "CLOUDLESS_PERF_CPUPROFILE="+profile)
	}
	prov := startDaemon(b, bin, chain, env, "--provide")
	pid := prov.cmd.Process.Pid
	id, err := prov.api.ID(ctx)
	if err != nil || len(id.Addrs) == 0 {
		b.Fatalf("provider id: %+v %v", id, err)
	}

	apis := make([]*jobAPI, clients)
	var clientPIDs []int
	for i := range apis {
		var api *client.Client
		if cbin := os.Getenv("PERF_CLIENT_BIN"); cbin != "" {
			d := startDaemon(b, cbin, chain, []string{"CLOUDLESS_LOG_LEVEL=warn"})
			api, clientPIDs = d.api, append(clientPIDs, d.cmd.Process.Pid)
		} else {
			n := startClientNode(b, ctx, chain, fmt.Sprintf("client-%d", i+1))
			api = client.New(n.APIAddr(), n.Token(), "")
		}
		apis[i] = newJobAPI(ctx, api, inflight+4)
		if err := apis[i].api.Connect(ctx, id.Addrs[0]); err != nil {
			b.Fatal(err)
		}
	}
	pub, err := apis[0].api.Publish(ctx, bytes.NewReader(module), "echo.wasm")
	if err != nil {
		b.Fatal(err)
	}
	var seq int64
	var seqMu sync.Mutex
	run := func(a *jobAPI) (time.Duration, error) {
		seqMu.Lock()
		seq++
		arg := fmt.Sprintf("job-%d", seq)
		seqMu.Unlock()
		t0 := time.Now()
		jid, err := a.submit(ctx, map[string]any{
			"spec": map[string]any{"module": pub.CID, "args": []string{arg},
				"resources": map[string]any{"timeout": "10s", "memory": "4MiB"},
				"price":     map[string]any{"max": "0.01 ether"}},
			"pay":       "channel",
			"providers": []string{id.PeerID},
		})
		if err != nil {
			return 0, err
		}
		j, err := a.wait(ctx, jid)
		if err == nil && j.State != "paid" {
			err = fmt.Errorf("job %s ended %s: %s", jid, j.State, j.Error)
		}
		return time.Since(t0), err
	}
	// Warm: each client opens its channel, the provider fetches and
	// compiles the module.
	for _, a := range apis {
		if _, err := run(a); err != nil {
			b.Fatalf("first job: %v\nprovider log:\n%s", err, prov.logs)
		}
	}
	// The provider's background CPU (offers, settle ticks) while idle.
	idle0, err := procCPU(pid)
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(2 * time.Second) // sampling a real process's CPU over time
	idle1, err := procCPU(pid)
	if err != nil {
		b.Fatal(err)
	}

	var mu sync.Mutex
	var ds []time.Duration
	var failed int
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	for _, a := range apis {
		for range inflight {
			wg.Go(func() {
				for range jobs {
					d, err := run(a)
					mu.Lock()
					if err != nil {
						failed++
						if failed <= 3 {
							b.Log(err)
						}
					} else {
						ds = append(ds, d)
					}
					mu.Unlock()
				}
			})
		}
	}
	if profile != "" {
		_ = prov.cmd.Process.Signal(syscall.SIGUSR1)
	}
	b.ResetTimer()
	cpu0, err := procCPU(pid)
	if err != nil {
		b.Fatal(err)
	}
	clientsCPU := func() time.Duration {
		d := selfCPU()
		for _, pid := range clientPIDs {
			if c, err := procCPU(pid); err == nil {
				d += c
			}
		}
		return d
	}
	self0, t0 := clientsCPU(), time.Now()
	k := 0
	for b.Loop() {
		jobs <- struct{}{}
		k++
	}
	close(jobs)
	wg.Wait()
	el := time.Since(t0)
	cpu1, err := procCPU(pid)
	if err != nil {
		b.Fatal(err)
	}
	self := clientsCPU() - self0
	b.StopTimer()
	if profile != "" {
		_ = prov.cmd.Process.Signal(syscall.SIGUSR1)
	}
	if failed > 0 {
		b.Errorf("%d of %d jobs failed\nprovider log (tail):\n%s", failed, k, tail(prov.logs.String(), 40))
	}
	if len(ds) == 0 {
		return
	}
	n := float64(len(ds))
	perJob := float64((cpu1 - cpu0).Microseconds()) / 1000 / n
	b.ReportMetric(n/el.Seconds(), "jobs/s")
	b.ReportMetric(perJob, "provider-cpu-ms/job")
	if perJob > 0 {
		b.ReportMetric(2000/perJob, "provider-2core-jobs/s")
	}
	b.ReportMetric(float64((idle1-idle0).Microseconds())/1000/2, "provider-idle-cpu-ms/s")
	b.ReportMetric(float64((cpu1-cpu0).Microseconds())/1000/el.Seconds()/10, "provider-cpu-%")
	b.ReportMetric(float64(self.Microseconds())/1000/n, "clients+chain-cpu-ms/job")
	b.ReportMetric(float64(clients*inflight), "in-flight")
	slices.Sort(ds)
	at := func(q float64) float64 { return float64(ds[int(q*(n-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestParseStatCPU(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want time.Duration
		err  bool
	}{
		{"plain", "4242 (cloudless) S 1 4242 4242 0 -1 4194560 9 0 0 0 150 25 0 0 20 0 12 0 100 0 0", 175 * clockTick, false},
		{"name with spaces and parens", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0", 7 * clockTick, false},
		{"no name", "7 a R 1", 0, true},
		{"short", "7 (x) R 1 2 3", 0, true},
		{"not a number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 x 4 0", 0, true},
	} {
		got, err := parseStatCPU([]byte(tc.in))
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s: %v, %v; want %v, error %v", tc.name, got, err, tc.want, tc.err)
		}
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, err := procCPU(os.Getpid()); err != nil {
		t.Fatalf("own stat: %v", err)
	}
	if _, err := procCPU(-1); err == nil {
		t.Fatal("stat of pid -1: no error")
	}
}
