package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/node/client"
)

// The env gate and the binary under test.
var (
	e2eBin    string
	e2eBinErr error
	e2eLong   = os.Getenv("CLOUDLESS_E2E_LONG") == "1"
)

func TestMain(m *testing.M) {
	var cleanup func()
	if os.Getenv("CLOUDLESS_E2E") == "1" {
		e2eBin, cleanup, e2eBinErr = findBinary()
	}
	code := m.Run()
	if cleanup != nil {
		cleanup()
	}
	os.Exit(code)
}

// findBinary returns $CLOUDLESS_BIN, or builds ./cmd/cloudless once.
func findBinary() (string, func(), error) {
	if b := os.Getenv("CLOUDLESS_BIN"); b != "" {
		abs, err := filepath.Abs(b)
		if err != nil {
			return "", nil, err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", nil, fmt.Errorf("CLOUDLESS_BIN: %w (run `make build`)", err)
		}
		return abs, nil, nil
	}
	dir, err := os.MkdirTemp("", "cloudless-e2e-bin-")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "cloudless")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/cloudless").CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("build cloudless: %v\n%s", err, out)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// needE2E skips unless CLOUDLESS_E2E=1 and fails when the binary is missing.
func needE2E(t *testing.T) {
	t.Helper()
	if os.Getenv("CLOUDLESS_E2E") != "1" {
		t.Skip("multi-process end-to-end test: set CLOUDLESS_E2E=1 or run `make e2e` (builds bin/cloudless, takes minutes)")
	}
	if e2eBinErr != nil {
		t.Fatal(e2eBinErr)
	}
}

// cleanEnv is the test's environment without CLOUDLESS_* overrides, plus extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CLOUDLESS_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// proc is one long-running child process (the devnet or a daemon).
type proc struct {
	name    string
	args    []string
	env     []string
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  *os.File
}

func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.log == nil {
		f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		p.log = f
	}
	fmt.Fprintf(p.log, "\n===== %s: start %s %s\n", time.Now().Format(time.RFC3339Nano), p.name, strings.Join(p.args, " "))
	cmd := exec.Command(e2eBin, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	done := p.done
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// signal sends sig and, for SIGKILL/SIGTERM, waits for the exit.
func (p *proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		p.mu.Lock()
		fmt.Fprintf(p.log, "===== %s: %s after %v (exit: %v)\n", time.Now().Format(time.RFC3339Nano), p.name, sig, p.err)
		p.cmd = nil
		p.mu.Unlock()
	}
}

func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) close() {
	if p.running() {
		// SIGCONT first: a frozen process cannot act on SIGTERM.
		p.signal(syscall.SIGCONT)
		p.signal(syscall.SIGTERM)
	}
	p.mu.Lock()
	if p.log != nil {
		p.log.Close()
		p.log = nil
	}
	p.mu.Unlock()
}

// cliResult is one CLI invocation's outcome.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the binary once with a clean environment.
func runCLI(ctx context.Context, repo string, args ...string) (cliResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e2eBin, append([]string{"--repo", repo}, args...)...)
	cmd.Env = cleanEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := cliResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		return r, err
	}
	return r, nil
}

// node is a daemon (provider or client) with its repo.
type node struct {
	*proc
	repo     string
	provider bool
	peerID   string
	address  common.Address
	addrs    []string // bound listen addrs, with /p2p/ID
}

// waitUp polls `id --json` until the daemon answers with bound addresses.
func (n *node) waitUp(ctx context.Context) error {
	var lastErr error
	err := poll(ctx, 60*time.Second, func() bool {
		if !n.running() {
			lastErr = fmt.Errorf("%s exited", n.name)
			return true
		}
		r, err := runCLI(ctx, n.repo, "id", "--json")
		if err != nil || r.code != 0 {
			lastErr = fmt.Errorf("id: %v %s", err, r.stderr)
			return false
		}
		var id client.ID
		if err := json.Unmarshal([]byte(r.stdout), &id); err != nil || !id.Running {
			lastErr = fmt.Errorf("id: not running yet")
			return false
		}
		n.peerID, n.address, n.addrs = id.PeerID, common.HexToAddress(id.Address), id.Addrs
		lastErr = nil
		return true
	})
	if err == nil {
		err = lastErr
	}
	if err != nil {
		return fmt.Errorf("%s did not come up: %w", n.name, err)
	}
	return nil
}

// tcpAddr is the node's TCP multiaddr with /p2p/ID.
func (n *node) tcpAddr() string {
	for _, a := range n.addrs {
		if strings.Contains(a, "/tcp/") {
			return a
		}
	}
	return n.addrs[0]
}

// boundListen is the node's bound listen addresses without /p2p/ID, to
// restart it on the same ports (so peers that know it can redial).
func (n *node) boundListen() []string {
	var out []string
	for _, a := range n.addrs {
		if i := strings.Index(a, "/p2p/"); i >= 0 {
			a = a[:i]
		}
		out = append(out, a)
	}
	return out
}

// poll calls cond every 100 ms until it returns true, ctx ends or max passes.
// It waits on real processes and a real network, so there is no fake clock.
func poll(ctx context.Context, max time.Duration, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, max)
	defer cancel()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up after %s: %w", max, ctx.Err())
		case <-t.C:
		}
	}
}

// after waits d, or less when ctx ends: the fault tests' random delays
// before a kill, on real processes.
func after(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// devnetOut is the first line `cloudless devnet --json` prints.
type devnetOut struct {
	RPC       string         `json:"rpc"`
	ChainID   uint64         `json:"chain_id"`
	Contract  common.Address `json:"contract"`
	Faucet    common.Address `json:"faucet"`
	FaucetKey string         `json:"faucet_key"`
}

// startDevnet runs `cloudless devnet` funding repos and returns its info.
func startDevnet(ctx context.Context, dir string, repos []string) (*proc, devnetOut, error) {
	repo := filepath.Join(dir, "devnet")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		return nil, devnetOut{}, err
	}
	args := []string{"--repo", repo, "--json", "devnet", "--rpc-addr", "127.0.0.1:0", "--block-time", "1s"}
	for _, r := range repos {
		args = append(args, "--fund", r)
	}
	p := &proc{name: "devnet", args: args, env: cleanEnv(), logPath: filepath.Join(dir, "devnet.log")}
	// The devnet prints its info on stdout's first line: read it through a pipe.
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, devnetOut{}, err
	}
	p.log = f
	cmd := exec.Command(e2eBin, args...)
	cmd.Env = p.env
	cmd.Stderr = f
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		return nil, devnetOut{}, err
	}
	p.cmd, p.done = cmd, make(chan struct{})
	done := p.done
	go func() {
		err := cmd.Wait()
		pw.CloseWithError(fmt.Errorf("devnet exited: %v", err))
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(done)
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(f, pr) // keep draining into the log
	}()
	var info devnetOut
	select {
	case line, ok := <-lines:
		if !ok {
			p.close()
			return nil, info, errors.New("devnet exited before printing its info")
		}
		if err := json.Unmarshal([]byte(line), &info); err != nil {
			p.close()
			return nil, info, fmt.Errorf("devnet info %q: %w", line, err)
		}
	case <-time.After(60 * time.Second):
		p.close()
		return nil, info, errors.New("devnet printed nothing within 60s")
	case <-ctx.Done():
		p.close()
		return nil, info, ctx.Err()
	}
	return p, info, nil
}

// dumpLogs prints every log file under dir (the test failed).
func dumpLogs(t *testing.T, dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	slices.Sort(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		const max = 24 << 10
		if len(b) > max {
			b = append([]byte("...(cut)...\n"), b[len(b)-max:]...)
		}
		t.Logf("----- %s -----\n%s", filepath.Base(f), b)
	}
}
