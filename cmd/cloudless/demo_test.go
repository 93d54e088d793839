package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// demoExamples returns a directory with hello.wasm, sha256.wasm and
// wordfreq.wasm: build/examples when `make examples` ran, else built here.
func demoExamples(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "build", "examples")
	if _, err := loadDemoModules(dir); err == nil {
		return dir
	}
	dir = t.TempDir()
	fx := buildFixtures(t, t.TempDir())
	for _, name := range []string{"hello", "sha256"} {
		b, err := os.ReadFile(fx[name])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".wasm"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "wordfreq.wasm"), "../../examples/functions/wordfreq")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build wordfreq: %v\n%s", err, b)
	}
	return dir
}

// TestDemo runs `cloudless demo --json` in a child process: a dev chain,
// three providers and a client, every job of the demo. It must exit 0 with
// one passing row per job.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("a dev chain, four daemons and real jobs")
	}
	ex, err := filepath.Abs(demoExamples(t))
	if err != nil {
		t.Fatal(err)
	}
	res := newCLI(t).run("demo", "--json", "--examples", ex, "--timeout", "2m", "--manifest", demoManifest(t, ex))
	var rep demoReport
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("exit %d, stdout is not the JSON report: %v\nstdout: %s\nstderr: %s", res.code, err, res.stdout, res.stderr)
	}
	if res.code != 0 || !rep.OK {
		t.Errorf("exit %d, ok %v, failures %q\nstderr: %s", res.code, rep.OK, rep.Failures, res.stderr)
	}
	want := []string{"hello", "sha256 #1", "sha256 #2", "sha256 #3", "wordfreq k=2", "hostile loop"}
	if len(rep.Rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rep.Rows), len(want), rep.Rows)
	}
	for i, r := range rep.Rows {
		if r.Job != want[i] || !r.OK {
			t.Errorf("row %d: %+v", i, r)
		}
	}
	if len(rep.Before) != 4 || len(rep.After) != 4 || rep.Offers != 3 {
		t.Errorf("balances %d/%d, offers %d", len(rep.Before), len(rep.After), rep.Offers)
	}
	if len(rep.Functions) != 2 || !rep.Functions[0].OK || !rep.Functions[1].OK || rep.Functions[0].PaidWei == "0" || !rep.Functions[1].Local {
		t.Errorf("function calls through the gateway: %+v", rep.Functions)
	}
	if rep.Rows[4].Pay != "escrow" || len(rep.Rows[4].Providers) != 2 || rep.Rows[4].Providers[0] == rep.Rows[4].Providers[1] {
		t.Errorf("redundant job: %+v", rep.Rows[4])
	}
	if rep.Rows[1].Channel == "" || rep.Rows[1].Providers[0] == rep.Rows[3].Providers[0] && rep.Rows[1].Channel != rep.Rows[3].Channel {
		t.Errorf("channel jobs did not reuse one channel: %q %q", rep.Rows[1].Channel, rep.Rows[3].Channel)
	}
	if h := rep.Rows[5]; h.PaidWei != "0" || h.State != "refunded" || !strings.Contains(h.Result, "deadline") {
		t.Errorf("hostile job: paid %s wei, state %s, result %q; want 0, refunded, the deadline cause", h.PaidWei, h.State, h.Result)
	}
}

// TestDemoMissingExamples: without the example modules the demo starts
// nothing and says how to build them, in one line.
func TestDemoMissingExamples(t *testing.T) {
	res := newCLI(t).run("demo", "--examples", filepath.Join(t.TempDir(), "none"))
	if res.code == 0 || !strings.Contains(res.stderr, "make examples") || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
}

// demoManifest is examples/cloudless.yaml with its module taken from ex
// (markdown.wasm, built here when missing).
func demoManifest(t *testing.T, ex string) string {
	t.Helper()
	mod := filepath.Join(ex, "markdown.wasm")
	if _, err := os.Stat(mod); err != nil {
		mod = filepath.Join(t.TempDir(), "markdown.wasm")
		cmd := exec.Command("go", "build", "-trimpath", "-o", mod, "../../examples/functions/markdown")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build markdown: %v\n%s", err, b)
		}
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "cloudless.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "../build/examples/markdown.wasm") {
		t.Fatalf("examples/cloudless.yaml no longer names ../build/examples/markdown.wasm: update this test")
	}
	p := filepath.Join(t.TempDir(), "cloudless.yaml")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(b), "../build/examples/markdown.wasm", mod)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
