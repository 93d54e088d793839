package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLIStorageThroughDaemon: while a daemon holds the repo, publish, get
// and pin go through its control API and give what offline mode gives.
func TestCLIStorageThroughDaemon(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "hello.txt")
	data := []byte(strings.Repeat("hello world\n", 40000)) // > one 256 KiB chunk
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(tmp, "tree")
	for _, d := range []string{"sub", "empty", ".hid"} {
		os.MkdirAll(filepath.Join(tree, d), 0o755)
	}
	os.WriteFile(filepath.Join(tree, "a.txt"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(tree, "sub", "b.txt"), data, 0o644)
	os.WriteFile(filepath.Join(tree, ".dot"), []byte("dot"), 0o644)
	os.WriteFile(filepath.Join(tree, ".hid", "c"), []byte("c"), 0o644)
	if err := os.Symlink("sub/b.txt", filepath.Join(tree, "link")); err != nil {
		t.Fatal(err)
	}

	// The CIDs offline publish gives, on a repo no daemon holds.
	offline := filepath.Join(tmp, "offline")
	if _, errOut, code := nodeCLI(t, offline, "init", "--dev"); code != 0 {
		t.Fatal(errOut)
	}
	want := map[string]string{}
	for name, args := range map[string][]string{
		"file":   {"publish", file},
		"dir":    {"publish", "-r", tree},
		"hidden": {"publish", "-r", "--hidden", tree},
	} {
		out, errOut, code := nodeCLI(t, offline, args...)
		if code != 0 {
			t.Fatalf("offline %v: %s", args, errOut)
		}
		want[name] = out
	}

	if want["hidden"] == want["dir"] {
		t.Fatalf("--hidden gave the same CID: %q", want["dir"])
	}
	repo := filepath.Join(tmp, "repo")
	if _, errOut, code := nodeCLI(t, repo, "init", "--dev"); code != 0 {
		t.Fatal(errOut)
	}
	d := startNodeDaemon(t, repo, nil, "--api-addr", "127.0.0.1:0")

	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := nodeCLI(t, repo, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s\n%s", args, code, errOut, d.log())
		}
		return out
	}
	for name, args := range map[string][]string{
		"file":   {"publish", file},
		"dir":    {"publish", "-r", tree},
		"hidden": {"publish", "-r", "--hidden", tree},
	} {
		if got := run(args...); got != want[name] {
			t.Errorf("%v through the daemon: %q, offline: %q", args, got, want[name])
		}
	}
	fileCID := strings.Fields(want["file"])[1]
	dirCID := strings.Fields(want["dir"])[1]
	if got := run("publish", "-q", file); got != fileCID+"\n" {
		t.Errorf("publish -q: %q", got)
	}
	var pub struct {
		CID  string `json:"cid"`
		Name string `json:"name"`
		Size int64  `json:"size"`
	}
	if err := json.Unmarshal([]byte(run("--json", "publish", file)), &pub); err != nil || pub.CID != fileCID || pub.Name != "hello.txt" || pub.Size != int64(len(data)) {
		t.Errorf("publish --json: %+v %v", pub, err)
	}

	// get round-trips the bytes; --max-size is refused in one line.
	out := filepath.Join(tmp, "out")
	if got := run("get", fileCID, "-o", out); !strings.HasPrefix(got, "saved "+fileCID) {
		t.Errorf("get: %q", got)
	}
	if b, _ := os.ReadFile(out); string(b) != string(data) {
		t.Errorf("get wrote %d bytes, want %d", len(b), len(data))
	}
	// A directory comes back as a tree that publishes to the same CID.
	outdir := filepath.Join(tmp, "outdir")
	if got := run("get", dirCID, "-o", outdir); !strings.HasPrefix(got, "saved "+dirCID) {
		t.Errorf("get of a directory: %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(outdir, "sub", "b.txt")); string(b) != string(data) {
		t.Errorf("get of a directory wrote sub/b.txt with %d bytes, want %d", len(b), len(data))
	}
	if l, err := os.Readlink(filepath.Join(outdir, "link")); err != nil || l != "sub/b.txt" {
		t.Errorf("get of a directory: link = %q, %v", l, err)
	}
	if got, errOut, code := nodeCLI(t, offline, "publish", "-r", outdir); code != 0 || strings.Fields(got)[1] != dirCID {
		t.Errorf("the fetched directory publishes as %q (%s), want %s", got, errOut, dirCID)
	}
	_, errOut, code := nodeCLI(t, repo, "get", dirCID, "-o", filepath.Join(tmp, "smalldir"), "--max-size", "4B")
	nodeOneLineError(t, errOut, code, "max")
	if _, err := os.Stat(filepath.Join(tmp, "smalldir")); !os.IsNotExist(err) {
		t.Errorf("get of a directory over --max-size left %v", err)
	}
	_, errOut, code = nodeCLI(t, repo, "get", fileCID, "-o", filepath.Join(tmp, "small"), "--max-size", "4B")
	nodeOneLineError(t, errOut, code, "max_size")
	if _, err := os.Stat(filepath.Join(tmp, "small")); !os.IsNotExist(err) {
		t.Errorf("get over --max-size left a file: %v", err)
	}

	// Content no peer has: the daemon gives up after --timeout.
	only := filepath.Join(tmp, "only-offline.txt")
	os.WriteFile(only, []byte("nowhere else"), 0o644)
	onlyCID, errOut, code := nodeCLI(t, offline, "publish", "-q", only)
	if code != 0 {
		t.Fatal(errOut)
	}
	start := time.Now()
	_, errOut, code = nodeCLI(t, repo, "get", strings.TrimSpace(onlyCID), "-o", filepath.Join(tmp, "nowhere"), "--timeout", "1s")
	t.Logf("get --timeout: %s", errOut)
	nodeOneLineError(t, errOut, code, "not found after")
	if time.Since(start) > 20*time.Second {
		t.Errorf("get --timeout 1s took %v", time.Since(start))
	}

	// pin ls, rm, add.
	if got := run("pin", "ls"); !strings.Contains(got, fileCID+" recursive\n") || !strings.Contains(got, dirCID+" recursive\n") {
		t.Errorf("pin ls: %q", got)
	}
	if got := run("pin", "rm", fileCID); got != "unpinned "+fileCID+"\n" {
		t.Errorf("pin rm: %q", got)
	}
	if got := run("pin", "ls"); strings.Contains(got, fileCID) {
		t.Errorf("pin ls after rm: %q", got)
	}
	_, errOut, code = nodeCLI(t, repo, "pin", "rm", fileCID)
	nodeOneLineError(t, errOut, code, "not pinned")
	if got := run("pin", "add", "--direct", fileCID); got != "pinned "+fileCID+"\n" {
		t.Errorf("pin add: %q", got)
	}
	var rows []struct{ CID, Type string }
	if err := json.Unmarshal([]byte(run("--json", "pin", "ls")), &rows); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		found = found || (r.CID == fileCID && r.Type == "direct")
	}
	if !found {
		t.Errorf("pin ls --json after add --direct: %+v", rows)
	}

	// car export through the daemon; the offline repo imports the same root.
	carFile := filepath.Join(tmp, "dir.car")
	run("car", "export", dirCID, "-o", carFile)
	if got, errOut, code := nodeCLI(t, offline, "car", "import", carFile); code != 0 || got != "imported "+dirCID+"\n" {
		t.Errorf("offline car import of the daemon's export: %q %s (exit %d)", got, errOut, code)
	}
	// car import through the daemon of a CAR made offline.
	onlyCAR := filepath.Join(tmp, "only.car")
	if _, errOut, code := nodeCLI(t, offline, "car", "export", strings.TrimSpace(onlyCID), "-o", onlyCAR); code != 0 {
		t.Fatal(errOut)
	}
	if got := run("car", "import", onlyCAR); got != "imported "+strings.TrimSpace(onlyCID)+"\n" {
		t.Errorf("car import through the daemon: %q", got)
	}
	if got := run("pin", "ls"); !strings.Contains(got, strings.TrimSpace(onlyCID)+" recursive\n") {
		t.Errorf("pin ls after car import: %q", got)
	}
	_, errOut, code = nodeCLI(t, repo, "car", "export", "notacid", "-o", filepath.Join(tmp, "bad.car"))
	nodeOneLineError(t, errOut, code, "not a CID")

	// repo verify and gc through the daemon.
	if got := run("repo", "verify"); !strings.Contains(got, "repo ok") {
		t.Errorf("repo verify through the daemon: %q", got)
	}
	var rep struct {
		Checked int   `json:"checked"`
		Bytes   int64 `json:"bytes"`
	}
	if err := json.Unmarshal([]byte(run("--json", "repo", "verify")), &rep); err != nil || rep.Checked == 0 || rep.Bytes == 0 {
		t.Errorf("repo verify --json through the daemon: %+v %v", rep, err)
	}
	if got := run("repo", "gc"); !strings.HasPrefix(got, "removed ") {
		t.Errorf("repo gc through the daemon: %q", got)
	}
	if got := run("car", "export", strings.TrimSpace(onlyCID), "-o", filepath.Join(tmp, "after-gc.car")); got != "" {
		t.Errorf("car export after gc: %q", got)
	}
}
