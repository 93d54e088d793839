package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p"

	"github.com/cloudless-network/cloudless/storage"
)

const helloCID = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4" // "hello world\n", as kubo prints it

func TestPublishGetPinCLI(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	hello := filepath.Join(dir, "hello.txt")
	os.WriteFile(hello, []byte("hello world\n"), 0o644)

	r := c.run("publish", hello)
	if r.code != 0 || r.stdout != "added "+helloCID+" hello.txt\n" {
		t.Fatalf("publish: %+v", r)
	}
	if r := c.run("publish", "-q", hello); r.stdout != helloCID+"\n" {
		t.Errorf("publish -q: %+v", r)
	}
	r = c.run("--json", "publish", hello)
	var pub struct {
		Cid  string
		Size int64
	}
	if err := json.Unmarshal([]byte(r.stdout), &pub); err != nil || pub.Cid != helloCID || pub.Size != 12 {
		t.Errorf("publish --json: %+v %v", r, err)
	}
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(filepath.Join(tree, "sub"), 0o755)
	os.WriteFile(filepath.Join(tree, "sub", "f"), []byte("f"), 0o644)
	if r := c.run("publish", tree); r.code == 0 || !strings.Contains(r.stderr, "-r") {
		t.Errorf("publish of a dir without -r: %+v", r)
	}
	r = c.run("publish", "-q", "-r", tree)
	dirCID := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(dirCID, "bafybei") {
		t.Fatalf("publish -r: %+v", r)
	}

	out := filepath.Join(dir, "out")
	if r := c.run("get", dirCID, "-o", out); r.code != 0 {
		t.Fatalf("get: %+v", r)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "sub", "f")); string(b) != "f" {
		t.Errorf("get wrote %q", b)
	}
	if r := c.run("get", helloCID, "-o", filepath.Join(dir, "small"), "--max-size", "4B"); r.code == 0 || !strings.Contains(r.stderr, "cap") {
		t.Errorf("get over --max-size: %+v", r)
	}
	missing := "bafkreie3cmz6dmq2zlzv3ekxuy6xbhsv2tykfvvv3pc3vbvn3fv7fz5lbu"
	if r := c.run("get", missing, "-o", filepath.Join(dir, "m")); r.code == 0 || !strings.Contains(r.stderr, missing) || !strings.Contains(r.stderr, "--peer") {
		t.Errorf("get of a missing CID: %+v", r)
	}

	r = c.run("pin", "ls")
	if !strings.Contains(r.stdout, helloCID+" recursive") || !strings.Contains(r.stdout, dirCID+" recursive") {
		t.Errorf("pin ls: %+v", r)
	}
	if r := c.run("pin", "rm", helloCID); r.code != 0 {
		t.Errorf("pin rm: %+v", r)
	}
	if r := c.run("pin", "rm", helloCID); r.code == 0 {
		t.Errorf("second pin rm succeeded: %+v", r)
	}
	if r := c.run("repo", "gc"); r.code != 0 || !strings.HasPrefix(r.stdout, "removed ") || r.stdout == "removed 0 blocks\n" {
		t.Errorf("repo gc: %+v", r)
	}
	if r := c.run("pin", "add", "not-a-cid"); r.code == 0 {
		t.Errorf("pin add garbage: %+v", r)
	}

	// CAR round trip into a second repo.
	car := filepath.Join(dir, "x.car")
	if r := c.run("car", "export", dirCID, "-o", car); r.code != 0 {
		t.Fatalf("car export: %+v", r)
	}
	c2 := newCLI(t)
	if r := c2.run("car", "import", car); r.code != 0 || r.stdout != "imported "+dirCID+"\n" {
		t.Fatalf("car import: %+v", r)
	}
	if r := c2.run("get", dirCID, "-o", filepath.Join(dir, "out2")); r.code != 0 {
		t.Errorf("get after import: %+v", r)
	}
	os.WriteFile(filepath.Join(dir, "bad.car"), []byte("garbage"), 0o644)
	if r := c2.run("car", "import", filepath.Join(dir, "bad.car")); r.code == 0 || !strings.Contains(r.stderr, "bad CAR") {
		t.Errorf("bad car: %+v", r)
	}
}

func TestRepoVerifyCLI(t *testing.T) {
	c := newCLI(t)
	f := filepath.Join(t.TempDir(), "f")
	os.WriteFile(f, []byte("some content that will rot"), 0o644)
	if r := c.run("publish", "-q", f); r.code != 0 {
		t.Fatal(r)
	}
	if r := c.run("repo", "verify"); r.code != 0 || !strings.Contains(r.stdout, "repo ok") {
		t.Fatalf("verify of a sound repo: %+v", r)
	}
	var blockFile string
	filepath.WalkDir(filepath.Join(c.repo, "ipfs", "blocks"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".data") {
			blockFile = p
		}
		return nil
	})
	os.WriteFile(blockFile, []byte("rotten"), 0o644)
	r := c.run("repo", "verify")
	if r.code != 1 || !strings.Contains(r.stdout, "removed corrupt block") || !strings.Contains(r.stderr, "1 corrupt blocks removed") {
		t.Errorf("verify of a corrupt repo: %+v", r)
	}
}

// TestGetFromPeerCLI fetches over bitswap from a store served by this
// test process on a loopback libp2p host.
func TestGetFromPeerCLI(t *testing.T) {
	ctx := context.Background()
	st, err := storage.Open(ctx, filepath.Join(t.TempDir(), "ipfs"), &storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := st.Serve(ctx, h, nil); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 600<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	cid, err := st.AddBytes(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	addr := h.Addrs()[0].String() + "/p2p/" + h.ID().String()
	c := newCLI(t)
	out := filepath.Join(t.TempDir(), "got")
	if r := c.run("get", cid.String(), "-o", out, "--peer", addr, "--timeout", "30s"); r.code != 0 {
		t.Fatalf("get --peer: %+v", r)
	}
	if b, _ := os.ReadFile(out); string(b) != string(data) {
		t.Error("fetched data differs")
	}
	if r := c.run("get", cid.String(), "-o", out+"2", "--peer", "/ip4/127.0.0.1/tcp/1"); r.code == 0 || !strings.Contains(r.stderr, "--peer") {
		t.Errorf("bad --peer: %+v", r)
	}
}

// TestExecByCIDCLI runs a module published into the repo by its CID.
func TestExecByCIDCLI(t *testing.T) {
	c := newCLI(t)
	// A minimal WASI command: (module (func (export "_start"))).
	nop := []byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x07\x0a\x01\x06_start\x00\x00\x0a\x04\x01\x02\x00\x0b")
	f := filepath.Join(t.TempDir(), "nop.wasm")
	os.WriteFile(f, nop, 0o644)
	r := c.run("publish", "-q", f)
	if r.code != 0 {
		t.Fatal(r)
	}
	id := strings.TrimSpace(r.stdout)
	if r := c.run("exec", id); r.code != 0 {
		t.Errorf("exec %s: %+v", id, r)
	}
	if r := c.run("exec", "--max-module", "10B", id); r.code == 0 || !strings.Contains(r.stderr, "cap") {
		t.Errorf("exec over --max-module: %+v", r)
	}
}
