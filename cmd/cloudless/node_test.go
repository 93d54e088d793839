package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/node/client"
)

var (
	nodeTestBinOnce sync.Once
	nodeTestBinPath string
	nodeTestBinErr  error
)

// cloudlessBin builds the binary once per test process (the daemon tests
// run it as a child process, the way users do).
func nodeTestBin(t testing.TB) string {
	t.Helper()
	nodeTestBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cloudless-bin-")
		if err != nil {
			nodeTestBinErr = err
			return
		}
		nodeTestBinPath = filepath.Join(dir, "cloudless")
		out, err := exec.Command("go", "build", "-o", nodeTestBinPath, ".").CombinedOutput()
		if err != nil {
			nodeTestBinErr = errors.New(string(out))
		}
	})
	if nodeTestBinErr != nil {
		t.Fatalf("build cloudless: %v", nodeTestBinErr)
	}
	return nodeTestBinPath
}

// cli runs the binary with a clean environment and returns stdout, stderr
// and the exit code.
func nodeCLI(t testing.TB, repo string, args ...string) (string, string, int) {
	t.Helper()
	bin := nodeTestBin(t) // the build is not part of the command's time
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--repo", repo}, args...)...)
	cmd.Env = nodeCLIEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func nodeCLIEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CLOUDLESS_") {
			env = append(env, kv)
		}
	}
	return env
}

// oneLineError checks the CLI's error contract: exit 1, one line on stderr
// starting with "cloudless: ", containing want.
func nodeOneLineError(t testing.TB, stderr string, code int, want string) {
	t.Helper()
	if code == 0 {
		t.Fatalf("exit 0, want an error containing %q", want)
	}
	line := strings.TrimSuffix(stderr, "\n")
	if strings.Contains(line, "\n") || !strings.HasPrefix(line, "cloudless: ") || !strings.Contains(line, want) {
		t.Fatalf("stderr %q: want one line \"cloudless: ...%s...\"", stderr, want)
	}
}

func TestCLIInitAndOffline(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	out, errOut, code := nodeCLI(t, repo, "init", "--dev", "--json")
	if code != 0 {
		t.Fatalf("init: %d %s", code, errOut)
	}
	var ini map[string]string
	if err := json.Unmarshal([]byte(out), &ini); err != nil || !strings.HasPrefix(ini["peer_id"], "16Uiu2") {
		t.Fatalf("init --json: %q %v", out, err)
	}
	_, errOut, code = nodeCLI(t, repo, "init", "--dev")
	nodeOneLineError(t, errOut, code, "repo already exists")

	out, errOut, code = nodeCLI(t, repo, "id", "--json")
	if code != 0 {
		t.Fatalf("offline id: %s", errOut)
	}
	var id client.ID
	if err := json.Unmarshal([]byte(out), &id); err != nil || id.PeerID != ini["peer_id"] || id.Running || len(id.Addrs) == 0 {
		t.Fatalf("offline id: %+v %v", id, err)
	}
	for _, args := range [][]string{{"peers"}, {"offers"}, {"peers", "connect", "/ip4/127.0.0.1/tcp/1/p2p/" + id.PeerID}, {"ui"}} {
		_, errOut, code = nodeCLI(t, repo, args...)
		nodeOneLineError(t, errOut, code, "no daemon is running on repo "+repo+"; start one with `cloudless node`")
	}

	// Strict config: an unknown key is one line naming file and line.
	cfgPath := filepath.Join(repo, "config.yaml")
	b, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, append(b, []byte("colour: blue\n")...), 0o600)
	_, errOut, code = nodeCLI(t, repo, "config", "show")
	nodeOneLineError(t, errOut, code, `config.yaml:`+nodeItoa(bytes.Count(b, []byte("\n"))+1)+`: unknown key "colour"`)
	os.WriteFile(cfgPath, b, 0o600)

	// config show: file < env.
	cmd := exec.Command(nodeTestBin(t), "--repo", repo, "config", "show", "--json")
	cmd.Env = append(nodeCLIEnv(), "CLOUDLESS_API_ADDR=127.0.0.1:6123", "CLOUDLESS_PROVIDE_MAX_CONCURRENT=7")
	out2, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		API     struct{ Addr string }
		Provide struct {
			MaxConcurrent int `json:"max_concurrent"`
		}
	}
	if err := json.Unmarshal(out2, &cfg); err != nil || cfg.API.Addr != "127.0.0.1:6123" || cfg.Provide.MaxConcurrent != 7 {
		t.Fatalf("config show with env: %s %v", out2, err)
	}
}

func nodeItoa(n int) string { return strconv.Itoa(n) }

// daemon is a `cloudless node` child process.
type nodeDaemon struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	mu     *sync.Mutex
	exited chan error
}

func startNodeDaemon(t *testing.T, repo string, env []string, args ...string) *nodeDaemon {
	t.Helper()
	cmd := exec.Command(nodeTestBin(t), append([]string{"--repo", repo, "node"}, args...)...)
	cmd.Env = append(nodeCLIEnv(), env...)
	pr, pw, _ := os.Pipe()
	cmd.Stderr = pw
	d := &nodeDaemon{cmd: cmd, stderr: &bytes.Buffer{}, mu: &sync.Mutex{}, exited: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := sync.Once{}
		for sc.Scan() {
			d.mu.Lock()
			d.stderr.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
			if strings.Contains(sc.Text(), "node running") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	go func() { d.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-d.exited
		}
	})
	select {
	case <-ready:
	case err := <-d.exited:
		t.Fatalf("daemon exited early: %v\n%s", err, d.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("daemon not ready after 60s:\n%s", d.log())
	}
	return d
}

func (d *nodeDaemon) log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stderr.String()
}

func TestCLIDaemon(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	if _, errOut, code := nodeCLI(t, repo, "init", "--dev"); code != 0 {
		t.Fatal(errOut)
	}
	// Precedence: the file says text logs and a dev API address; the
	// environment says otherwise; the flags win over both.
	d := startNodeDaemon(t, repo, []string{"CLOUDLESS_API_ADDR=127.0.0.1:1", "CLOUDLESS_LOG_FORMAT=text", "CLOUDLESS_PROVIDE_MAX_CONCURRENT=3"},
		"--api-addr", "127.0.0.1:0", "--log-format", "json")
	apiFile, err := os.ReadFile(filepath.Join(repo, "api"))
	if err != nil {
		t.Fatalf("api file: %v", err)
	}
	if addr := strings.TrimSpace(string(apiFile)); !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Fatalf("api file holds %q, want the real loopback port", addr)
	}
	// Logs are JSON (--log-format json).
	first, _, _ := strings.Cut(d.log(), "\n")
	if !json.Valid([]byte(first)) {
		t.Errorf("log line is not JSON: %s", first)
	}

	out, errOut, code := nodeCLI(t, repo, "id", "--json")
	if code != 0 {
		t.Fatalf("id: %s", errOut)
	}
	var id client.ID
	if err := json.Unmarshal([]byte(out), &id); err != nil || !id.Running || !strings.HasPrefix(id.PeerID, "16Uiu2") {
		t.Fatalf("id from daemon: %+v %v", id, err)
	}
	out, errOut, code = nodeCLI(t, repo, "config", "show", "--json")
	var eff struct {
		API     struct{ Addr string }
		Log     struct{ Format string }
		Provide struct {
			MaxConcurrent int `json:"max_concurrent"`
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &eff) != nil {
		t.Fatalf("config show: %s %s", out, errOut)
	}
	if eff.API.Addr != "127.0.0.1:0" || eff.Log.Format != "json" || eff.Provide.MaxConcurrent != 3 {
		t.Fatalf("effective config of the daemon %+v: want flags over env over file", eff)
	}
	for _, a := range id.Addrs {
		if strings.Contains(a, "/tcp/0/") || strings.HasSuffix(a, "/tcp/0") {
			t.Errorf("id reports unresolved port 0: %s", a)
		}
	}
	if _, errOut, code := nodeCLI(t, repo, "peers"); code != 0 {
		t.Fatalf("peers: %s", errOut)
	}
	out, errOut, code = nodeCLI(t, repo, "peers", "--json")
	if code != 0 || !json.Valid([]byte(out)) {
		t.Fatalf("peers --json: %q %s", out, errOut)
	}

	// A second daemon on the same repo fails with a clear error.
	_, errOut, code = nodeCLI(t, repo, "node")
	nodeOneLineError(t, errOut, code, "is held by another cloudless daemon")

	// SIGTERM: clean exit, api file removed.
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.exited:
		if err != nil {
			t.Fatalf("daemon exit: %v\n%s", err, d.log())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("daemon did not stop after SIGTERM:\n%s", d.log())
	}
	if _, err := os.Stat(filepath.Join(repo, "api")); !os.IsNotExist(err) {
		t.Fatalf("api file left behind: %v", err)
	}
	if !strings.Contains(d.log(), "stopped cleanly") {
		t.Errorf("no clean-stop log line:\n%s", d.log())
	}
	// And the CLI says so.
	_, errOut, code = nodeCLI(t, repo, "peers")
	nodeOneLineError(t, errOut, code, "no daemon is running")
}

func TestCLINodeRefusesRemoteAPI(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	if _, errOut, code := nodeCLI(t, repo, "init", "--dev"); code != 0 {
		t.Fatal(errOut)
	}
	_, errOut, code := nodeCLI(t, repo, "node", "--api-addr", "0.0.0.0:0")
	nodeOneLineError(t, errOut, code, "--api-allow-remote")
	_, errOut, code = nodeCLI(t, repo, "node", "--chain-rpc", "http://127.0.0.1:1")
	nodeOneLineError(t, errOut, code, "--chain-rpc and --contract go together")
}
