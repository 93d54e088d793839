package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/node/client"
)

// echoWasm is the gateway tests' CGI echo function (trigger/testdata).
func echoWasm(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "trigger", "testdata", "echo.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no %s: %v", p, err)
	}
	return p
}

func writeManifest(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "cloudless.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// fnLogs polls `fn logs --json` (the triggers fire on real time, the
// file system and gossip) until cond holds.
func fnLogs(t *testing.T, repo, name string, cond func([]client.Invocation) bool) []client.Invocation {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		out, errOut, code := nodeCLI(t, repo, "fn", "logs", name, "-n", "0", "--json")
		var recs []client.Invocation
		if code == 0 && json.Unmarshal([]byte(out), &recs) == nil && cond(recs) {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("fn logs %s: condition not met after 20s: %s %s", name, out, errOut)
		}
		<-tick.C
	}
}

// TestCLIDeploy deploys functions to a real daemon (no chain: local
// functions) with the gateway on, and fires every trigger kind: an HTTP
// request from a real client, a new file in a watched directory, a topic
// message from `fn emit`, a cron schedule.
func TestCLIDeploy(t *testing.T) {
	if testing.Short() {
		t.Skip("a daemon and real triggers")
	}
	echo := echoWasm(t)
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	if _, errOut, code := nodeCLI(t, repo, "init", "--dev"); code != 0 {
		t.Fatal(errOut)
	}
	inbox := filepath.Join(dir, "inbox")
	if err := os.Mkdir(inbox, 0o755); err != nil {
		t.Fatal(err)
	}

	// Without a daemon: the manifest is checked, then the daemon is needed.
	good := `version: 1
functions:
  echo:
    module: ` + echo + `
    local: true
    triggers:
      - http: /echo
  ingest:
    module: ` + echo + `
    local: true
    triggers:
      - watch: ` + inbox + `
      - topic: uploads
      - cron: "@every 1s"
`
	mf := writeManifest(t, dir, good)
	_, errOut, code := nodeCLI(t, repo, "deploy", "-f", mf)
	nodeOneLineError(t, errOut, code, "deploy needs a running daemon")

	startNodeDaemon(t, repo, nil, "--gateway", "127.0.0.1:0")

	// Bad manifests: one line naming file, line and fix; nothing registered.
	bad := writeManifest(t, t.TempDir(), strings.Replace(good, "local: true\n    triggers:\n      - http: /echo", "local: true\n    colour: blue\n    triggers:\n      - http: /echo", 1))
	_, errOut, code = nodeCLI(t, repo, "deploy", "-f", bad)
	nodeOneLineError(t, errOut, code, bad+":6: unknown key \"colour\" in functions.echo")
	badCron := writeManifest(t, t.TempDir(), strings.Replace(good, `"@every 1s"`, `"61 * * * *"`, 1))
	_, errOut, code = nodeCLI(t, repo, "deploy", "-f", badCron)
	nodeOneLineError(t, errOut, code, "bad cron expression")
	// A market function on a daemon without a chain is refused by the
	// daemon; the local function in the same manifest is not registered
	// either.
	market := writeManifest(t, t.TempDir(), good+`  paid:
    module: `+echo+`
    price: {max: "0.001 ether", daily: "0.01 ether"}
    triggers:
      - http: /paid
`)
	_, errOut, code = nodeCLI(t, repo, "deploy", "-f", market)
	nodeOneLineError(t, errOut, code, "function paid: this daemon has no market")
	out, _, _ := nodeCLI(t, repo, "fn", "list")
	if !strings.Contains(out, "no functions deployed") {
		t.Fatalf("half registered after refusals: %s", out)
	}

	out, errOut, code = nodeCLI(t, repo, "deploy", "-f", mf)
	if code != 0 || !strings.Contains(out, "echo") || !strings.Contains(out, "/echo") || !strings.Contains(out, "watch "+inbox) {
		t.Fatalf("deploy: %d %s %s", code, out, errOut)
	}
	out, _, code = nodeCLI(t, repo, "fn", "list", "--json")
	var l client.FunctionList
	if code != 0 || json.Unmarshal([]byte(out), &l) != nil || len(l.Functions) != 2 || !strings.HasPrefix(l.Gateway, "http://127.0.0.1:") {
		t.Fatalf("fn list: %s", out)
	}

	// HTTP: a real client on the gateway.
	resp, err := http.Post(l.Gateway+"/echo/a?x=1", "text/plain", strings.NewReader("ping"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "POST /a?x=1\nping" || resp.Header.Get("X-Cloudless-Job") == "" {
		t.Fatalf("gateway: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	recs := fnLogs(t, repo, "echo", func(r []client.Invocation) bool { return len(r) == 1 })
	if recs[0].Trigger != "http" || recs[0].JobID != resp.Header.Get("X-Cloudless-Job") || recs[0].ExitCode != 0 || recs[0].Provider != "local" {
		t.Fatalf("echo log %+v", recs[0])
	}

	// Watch, topic and cron all fire ingest.
	if err := os.WriteFile(filepath.Join(inbox, "photo.txt"), []byte("a new file"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = nodeCLI(t, repo, "fn", "emit", "uploads", writeManifest(t, t.TempDir(), "event body"))
	if code != 0 || !strings.Contains(out, "sent 10 bytes on /cloudless/events/1/uploads") {
		t.Fatalf("emit: %d %s %s", code, out, errOut)
	}
	fnLogs(t, repo, "ingest", func(r []client.Invocation) bool {
		seen := map[string]bool{}
		for _, x := range r {
			if x.Error == "" && x.ExitCode == 0 {
				seen[x.Trigger] = true
			}
		}
		return seen["watch"] && seen["topic"] && seen["cron"]
	})
	// The watched file's output is recorded next to it.
	b, err := os.ReadFile(filepath.Join(inbox, ".cloudless", "ingest.json"))
	if err != nil || !strings.Contains(string(b), `"photo.txt"`) || !strings.Contains(string(b), `"input_cid": "bafk`) {
		t.Fatalf("watch results: %s %v", b, err)
	}
	out, _, code = nodeCLI(t, repo, "fn", "logs", "ingest", "-n", "3")
	if code != 0 || !strings.Contains(out, "TRIGGER") || strings.Count(out, "\n") != 4 {
		t.Fatalf("fn logs table:\n%s", out)
	}

	// Emit refusals.
	_, errOut, code = nodeCLI(t, repo, "fn", "emit", "Bad/Topic", mf)
	nodeOneLineError(t, errOut, code, "not a valid name")

	// rm: gone from the list and the gateway.
	if out, errOut, code = nodeCLI(t, repo, "fn", "rm", "echo"); code != 0 || out != "removed echo\n" {
		t.Fatalf("rm: %s %s", out, errOut)
	}
	_, errOut, code = nodeCLI(t, repo, "fn", "rm", "echo")
	nodeOneLineError(t, errOut, code, `"echo" is not deployed`)
	_, errOut, code = nodeCLI(t, repo, "fn", "logs", "echo")
	nodeOneLineError(t, errOut, code, `"echo" is not deployed`)
	resp, err = http.Get(l.Gateway + "/echo")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("removed route answered %d", resp.StatusCode)
	}
	if _, errOut, code := nodeCLI(t, repo, "fn", "rm", "ingest"); code != 0 {
		t.Fatal(errOut)
	}
}
