package node

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/node/client"
)

// TestNodeContent publishes through one daemon's API and fetches through
// another's (bitswap between the two embedded IPFS stores on loopback).
func TestNodeContent(t *testing.T) {
	repoA, cfgA := newTestRepo(t)
	repoB, cfgB := newTestRepo(t)
	a := startTestNode(t, repoA, cfgA)
	b := startTestNode(t, repoB, cfgB)
	ca, _ := client.DialAPI(repoA)
	cb, _ := client.DialAPI(repoB)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	data := bytes.Repeat([]byte("cloudless "), 100_000) // 1 MB: several blocks
	pub, err := ca.Publish(ctx, bytes.NewReader(data), "x")
	if err != nil {
		t.Fatal(err)
	}
	if pub.Size != int64(len(data)) || !strings.HasPrefix(pub.CID, "bafy") {
		t.Fatalf("publish: %+v", pub)
	}
	if err := cb.Connect(ctx, a.p2p.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	rc, err := cb.Get(ctx, pub.CID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get: %d bytes, %v", len(got), err)
	}
	// A directory, the way the market stores a job's output and fetches it.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "stdout"), []byte("hello\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "out"), 0o755)
	os.WriteFile(filepath.Join(dir, "out", "r.txt"), data[:1000], 0o644)
	root, err := storageContent{a.store}.AddDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "fetched")
	if err := (storageContent{b.store}).Fetch(ctx, root, dst); err != nil {
		t.Fatalf("fetch dir: %v", err)
	}
	// And back: the fetcher of the first transfer now serves (a provider
	// fetched the module from the client, then the client fetches the
	// output from the provider).
	os.WriteFile(filepath.Join(dir, "stdout"), []byte("hello again\n"), 0o644)
	back, err := storageContent{b.store}.AddDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := (storageContent{a.store}).Fetch(ctx, back, filepath.Join(t.TempDir(), "back")); err != nil {
		t.Fatalf("fetch dir back: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "out", "r.txt")); err != nil || !bytes.Equal(b, data[:1000]) {
		t.Fatalf("fetched dir: %v", err)
	}

	var ae *client.APIError
	if _, err := cb.Get(ctx, "not-a-cid"); !errors.As(err, &ae) || ae.Status != 400 {
		t.Fatalf("bad CID: %v", err)
	}
}
