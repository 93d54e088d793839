package perf

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/contracts/devnet"
	"github.com/cloudless-network/cloudless/node/client"
)

// cloudlessBin returns the cloudless binary: $CLOUDLESS_BIN, else one built
// into a temp dir.
func cloudlessBin(tb testing.TB) string {
	tb.Helper()
	if b := os.Getenv("CLOUDLESS_BIN"); b != "" {
		return b
	}
	out := filepath.Join(tb.TempDir(), "cloudless")
	cmd := exec.Command("go", "build", "-o", out, "../../cmd/cloudless")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build cloudless: %v\n%s", err, b)
	}
	return out
}

// memStatus is what /proc/PID/status says about a process's memory.
type memStatus struct {
	RSS, HWM uint64 // bytes: resident now, resident peak
	// Anon and File split RSS: heap and stacks vs mapped files (mostly
	// the binary's own text and data); 0 when the kernel does not say.
	Anon, File uint64
}

// readStatus parses VmRSS and VmHWM of pid.
func readStatus(pid int) (memStatus, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStatus{}, err
	}
	return parseStatus(b)
}

func parseStatus(b []byte) (memStatus, error) {
	var m memStatus
	var got int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM" && k != "RssAnon" && k != "RssFile") {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return memStatus{}, fmt.Errorf("perf: %s: unexpected %q", k, v)
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return memStatus{}, fmt.Errorf("perf: %s: %w", k, err)
		}
		switch k {
		case "VmRSS":
			m.RSS = n << 10
			got++
		case "VmHWM":
			m.HWM = n << 10
			got++
		case "RssAnon":
			m.Anon = n << 10
		case "RssFile":
			m.File = n << 10
		}
	}
	if got != 2 {
		return memStatus{}, fmt.Errorf("perf: VmRSS or VmHWM missing from status")
	}
	return m, nil
}

// daemon is a `cloudless node` child process on its own repo.
type daemon struct {
	cmd  *exec.Cmd
	repo string
	api  *client.Client
	logs *bytes.Buffer
}

func run(tb testing.TB, bin string, args ...string) {
	tb.Helper()
	if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		tb.Fatalf("cloudless %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

// startDaemon inits a dev repo, funds its address on chain and starts
// `cloudless node` on it with extra flags and environment; it returns
// once the control API answers.
func startDaemon(tb testing.TB, bin string, chain *devnet.Chain, env []string, flags ...string) *daemon {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	repo := filepath.Join(tb.TempDir(), "repo")
	run(tb, bin, "init", "--dev", "--repo", repo)
	addr, err := devnet.KeystoreAddress(filepath.Join(repo, "keystore"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := chain.Fund(ctx, devnet.DefaultFundAmount, addr); err != nil {
		tb.Fatal(err)
	}
	info := chain.Info()
	args := append([]string{"node", "--repo", repo, "--no-mdns", "--chain-rpc", info.RPC, "--contract", info.Contract.Hex()}, flags...)
	d := &daemon{repo: repo, logs: &bytes.Buffer{}, cmd: exec.Command(bin, args...)}
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = d.cmd.Process.Kill()
			<-exited
		}
	})
	for {
		if c, err := client.DialAPI(repo); err == nil {
			if _, err := c.Status(ctx); err == nil {
				d.api = c
				return d
			}
		}
		select {
		case <-exited:
			tb.Fatalf("cloudless node exited early:\n%s", d.logs)
		case <-ctx.Done():
			tb.Fatalf("cloudless node: no control API after 3 min:\n%s", d.logs)
		case <-time.After(100 * time.Millisecond): // polling a real process, with a deadline
		}
	}
}

// spinModule is a WASI command whose _start counts down from n in a loop
// and returns: a small function that stays busy long enough for many runs
// to overlap, with one 64 KiB page of linear memory. It is assembled here
// so the benchmark needs no toolchain.
func spinModule(n int32) []byte {
	sleb := func(b []byte, v int64) []byte {
		for {
			c := byte(v & 0x7f)
			v >>= 7
			if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
				return append(b, c)
			}
			b = append(b, c|0x80)
		}
	}
	section := func(id byte, body []byte) []byte {
		return append(append([]byte{id}, binary.AppendUvarint(nil, uint64(len(body)))...), body...)
	}
	code := []byte{0x01, 0x01, 0x7f, 0x41} // one i32 local; i32.const n
	code = sleb(code, int64(n))
	code = append(code,
		0x21, 0x00, // local.set 0
		0x03, 0x40, // loop
		0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, // local.get 0; i32.const 1; i32.sub; local.tee 0
		0x0d, 0x00, // br_if 0
		0x0b, 0x0b) // end loop; end func
	m := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	m = append(m, section(1, []byte{0x01, 0x60, 0x00, 0x00})...) // type: () -> ()
	m = append(m, section(3, []byte{0x01, 0x00})...)             // func 0: type 0
	m = append(m, section(5, []byte{0x01, 0x00, 0x01})...)       // memory: min 1 page
	exports := []byte{0x02, 0x06}
	exports = append(exports, "memory"...)
	exports = append(exports, 0x02, 0x00, 0x06)
	exports = append(exports, "_start"...)
	exports = append(exports, 0x00, 0x00)
	m = append(m, section(7, exports)...)
	body := append(binary.AppendUvarint(nil, uint64(len(code))), code...)
	return append(m, section(10, append([]byte{0x01}, body...))...)
}

// sampler records the peak VmRSS of pid while it runs.
type sampler struct {
	stop chan struct{}
	done chan struct{}
	peak uint64
}

func sample(pid int, every time.Duration) *sampler {
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if m, err := readStatus(pid); err == nil && m.RSS > s.peak {
				s.peak = m.RSS
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) end() uint64 { close(s.stop); <-s.done; return s.peak }

const mb = 1e6

// BenchmarkProviderRSS starts a real provider daemon (`cloudless node
// --provide`, max_concurrent = jobs) and a client daemon on loopback with a
// dev chain, lets the provider idle, reads its VmRSS, then has the client
// submit PERF_JOBS (default 16) small jobs at once and samples the
// provider's VmRSS every 5 ms until all are paid: memory per concurrent
// job = (peak − idle) / jobs. PERF_PAY=escrow pays by escrow instead of
// a channel.
//
//	CLOUDLESS_BIN=$PWD/bin/cloudless go test ./tests/perf -run '^$' -bench ProviderRSS -benchtime 1x
func BenchmarkProviderRSS(b *testing.B) {
	if testing.Short() && os.Getenv("CLOUDLESS_BIN") == "" {
		b.Skip("builds the cloudless binary; set CLOUDLESS_BIN or run without -short")
	}
	jobs := 16
	if s := os.Getenv("PERF_JOBS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("PERF_JOBS=%q: want a positive number", s)
		}
		jobs = n
	}
	pay := "channel"
	if s := os.Getenv("PERF_PAY"); s != "" {
		pay = s // escrow: a chain transaction per job
	}
	bin := cloudlessBin(b)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	chain, err := devnet.Start(ctx, devnet.Config{RPCAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer chain.Close()
	prov := startDaemon(b, bin, chain, []string{
		"CLOUDLESS_PROVIDE_MAX_CONCURRENT=" + strconv.Itoa(jobs),
		"CLOUDLESS_PROVIDE_MEMORY=" + strconv.Itoa(jobs*64) + "MiB",
	}, "--provide")
	cl := startDaemon(b, bin, chain, nil)
	pid := prov.cmd.Process.Pid

	// Idle: wait until the RSS has stopped moving (two readings 2 s apart
	// within 1%), at most 30 s after start-up.
	var idle memStatus
	deadline := time.Now().Add(30 * time.Second)
	for {
		a, err := readStatus(pid)
		if err != nil {
			b.Fatal(err)
		}
		time.Sleep(2 * time.Second) // sampling a real process's memory over time
		c, err := readStatus(pid)
		if err != nil {
			b.Fatal(err)
		}
		idle = c
		if d := int64(c.RSS) - int64(a.RSS); (d < 0 && -d < int64(a.RSS)/100) || (d >= 0 && d < int64(a.RSS)/100) || time.Now().After(deadline) {
			break
		}
	}

	id, err := prov.api.ID(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if len(id.Addrs) == 0 {
		b.Fatalf("provider has no listen address: %+v", id)
	}
	if err := cl.api.Connect(ctx, id.Addrs[0]); err != nil {
		b.Fatal(err)
	}
	pub, err := cl.api.Publish(ctx, bytes.NewReader(spinModule(50_000_000)), "spin.wasm")
	if err != nil {
		b.Fatal(err)
	}
	submit := func() (string, error) {
		j, err := cl.api.Run(ctx, map[string]any{
			"spec": map[string]any{"module": pub.CID, "resources": map[string]any{"timeout": "60s", "memory": "64MiB"},
				"price": map[string]any{"max": "0.01 ether"}},
			"pay":       pay,
			"providers": []string{id.PeerID},
		})
		return j.ID, err
	}
	wait := func(jid string) error {
		for {
			j, err := cl.api.Job(ctx, jid)
			if err != nil {
				return err
			}
			switch j.State {
			case "paid":
				return nil
			case "failed", "refunded", "cancelled":
				return fmt.Errorf("job %s ended %s: %s", jid, j.State, j.Error)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("job %s: %w (state %s)", jid, ctx.Err(), j.State)
			case <-time.After(50 * time.Millisecond): // polling a real daemon, with a deadline
			}
		}
	}
	// One job first: the channel opens and the module is fetched and
	// compiled, so the batch measures running jobs, not the first contact.
	first, err := submit()
	if err == nil {
		err = wait(first)
	}
	if err != nil {
		b.Fatalf("first job: %v\nprovider log:\n%s", err, prov.logs)
	}
	warm, err := readStatus(pid)
	if err != nil {
		b.Fatal(err)
	}

	var peak uint64
	var busy, wall time.Duration
	for b.Loop() {
		s := sample(pid, 5*time.Millisecond)
		var wg sync.WaitGroup
		var mu sync.Mutex
		errs := make(chan error, jobs)
		t0 := time.Now()
		for range jobs {
			wg.Go(func() {
				t := time.Now()
				jid, err := submit()
				if err == nil {
					err = wait(jid)
				}
				if err != nil {
					errs <- err
				}
				mu.Lock()
				busy += time.Since(t)
				mu.Unlock()
			})
		}
		wg.Wait()
		wall += time.Since(t0)
		peak = max(peak, s.end())
		close(errs)
		for err := range errs {
			b.Fatalf("%v\nprovider log:\n%s", err, prov.logs)
		}
	}
	// Reported after the loop: b.Loop resets the metrics when it starts.
	b.ReportMetric(float64(idle.RSS)/mb, "idle-rss-MB")
	b.ReportMetric(float64(idle.HWM)/mb, "idle-hwm-MB")
	b.ReportMetric(float64(idle.Anon)/mb, "idle-anon-MB")
	b.ReportMetric(float64(idle.File)/mb, "idle-file-MB")
	b.ReportMetric(float64(warm.RSS)/mb, "warm-rss-MB")
	b.ReportMetric(float64(peak)/mb, "busy-peak-rss-MB")
	b.ReportMetric((float64(peak)-float64(warm.RSS))/mb/float64(jobs), "rss-per-job-MB")
	b.ReportMetric(float64(jobs), "jobs")
	// How many jobs were in flight on average (submit to paid, client
	// side): the per-job figure means something only when this is high.
	b.ReportMetric(busy.Seconds()/wall.Seconds(), "avg-in-flight")
}
