package storage

// Interop with a real kubo (IPFS reference implementation). Run with
// `make interop-kubo`, which builds kubo with .ci/install-kubo.sh and sets
// CLOUDLESS_KUBO to its path. Without CLOUDLESS_KUBO the tests skip.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// kubo is one kubo repo, optionally with its daemon running.
type kubo struct {
	tb     testing.TB
	bin    string
	path   string // IPFS_PATH
	daemon *exec.Cmd
	done   chan struct{}
}

func kuboBin(tb testing.TB) string {
	tb.Helper()
	bin := os.Getenv("CLOUDLESS_KUBO")
	if bin == "" {
		tb.Skip("CLOUDLESS_KUBO not set; run `make interop-kubo` (builds kubo v0.41.0 with .ci/install-kubo.sh)")
	}
	if _, err := os.Stat(bin); err != nil {
		tb.Fatalf("CLOUDLESS_KUBO=%s: %v", bin, err)
	}
	return bin
}

// newKubo makes a kubo repo with the test profile: loopback-only swarm,
// API and gateway on free ports, no bootstrap peers, no mDNS.
func newKubo(tb testing.TB) *kubo {
	tb.Helper()
	k := &kubo{tb: tb, bin: kuboBin(tb), path: filepath.Join(tb.TempDir(), "kubo")}
	k.run("init", "--profile=test", "-e")
	return k
}

func (k *kubo) cmd(args ...string) *exec.Cmd {
	c := exec.Command(k.bin, args...)
	c.Env = append(os.Environ(), "IPFS_PATH="+k.path)
	return c
}

// run runs an ipfs command and returns its trimmed stdout.
func (k *kubo) run(args ...string) string {
	k.tb.Helper()
	var out, errb bytes.Buffer
	c := k.cmd(args...)
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		k.tb.Fatalf("ipfs %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// start runs `ipfs daemon` until the test ends and waits for its API.
func (k *kubo) start() {
	k.tb.Helper()
	k.daemon = k.cmd("daemon")
	var logs bytes.Buffer
	k.daemon.Stdout, k.daemon.Stderr = &logs, &logs
	if err := k.daemon.Start(); err != nil {
		k.tb.Fatal(err)
	}
	k.done = make(chan struct{})
	go func() { k.daemon.Wait(); close(k.done) }()
	k.tb.Cleanup(func() {
		k.daemon.Process.Signal(os.Interrupt)
		select {
		case <-k.done:
		case <-time.After(15 * time.Second):
			k.daemon.Process.Kill()
			<-k.done
		}
	})
	// Poll the real process for readiness: the api file appears once the
	// API listens.
	deadline := time.Now().Add(90 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(k.path, "api")); err == nil {
			if k.cmd("id").Run() == nil {
				return
			}
		}
		select {
		case <-k.done:
			k.tb.Fatalf("ipfs daemon exited:\n%s", logs.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			k.tb.Fatalf("ipfs daemon not ready after 90s:\n%s", logs.String())
		}
	}
}

// addrInfo is the daemon's peer ID and loopback TCP address.
func (k *kubo) addrInfo() peer.AddrInfo {
	k.tb.Helper()
	var id struct {
		ID        string
		Addresses []string
	}
	if err := json.Unmarshal([]byte(k.run("id")), &id); err != nil {
		k.tb.Fatal(err)
	}
	for _, a := range id.Addresses {
		if strings.HasPrefix(a, "/ip4/127.0.0.1/tcp/") {
			ai, err := peer.AddrInfoFromString(a)
			if err != nil {
				k.tb.Fatal(err)
			}
			return *ai
		}
	}
	k.tb.Fatalf("kubo has no loopback TCP address: %v", id.Addresses)
	return peer.AddrInfo{}
}

// swarmConnect makes kubo dial h.
func (k *kubo) swarmConnect(h host.Host) {
	k.tb.Helper()
	for _, a := range h.Addrs() {
		if strings.HasPrefix(a.String(), "/ip4/127.0.0.1/tcp/") {
			p2p, _ := ma.NewMultiaddr("/p2p/" + h.ID().String())
			k.run("swarm", "connect", a.Encapsulate(p2p).String())
			return
		}
	}
	k.tb.Fatalf("host has no loopback TCP address: %v", h.Addrs())
}

// interopTree writes the nested directory used by the CID tests: files of
// several sizes, an empty dir, dot files (skipped by both), a symlink, and
// a directory big enough to become a HAMT shard.
func interopTree(tb testing.TB, root string, hamt bool) {
	tree := map[string][]byte{
		"README.md":              []byte("# hello\n"),
		"bin/module.wasm":        randBytes(ChunkSize+1, 1),
		"bin/empty":              {},
		"data/nested/deep/x":     randBytes(3*ChunkSize+100, 2),
		"data/nested/one":        []byte("1"),
		"data/emptydir":          nil,
		".git/config":            []byte("hidden"),
		"data/.hidden-file":      []byte("hidden"),
		"unicode/naïve café.txt": []byte("utf-8 names"),
	}
	writeTree(tb, root, tree)
	if err := os.Symlink("../README.md", filepath.Join(root, "bin", "link")); err != nil {
		tb.Fatal(err)
	}
	if hamt {
		// ~61 bytes per entry by the "links" estimate; > 256 KiB needs > 4297.
		if err := os.MkdirAll(filepath.Join(root, "shard"), 0o755); err != nil {
			tb.Fatal(err)
		}
		for i := range 4400 {
			p := filepath.Join(root, "shard", fmt.Sprintf("entry-%05d-with-a-long-name.txt", i))
			if err := os.WriteFile(p, []byte(fmt.Sprint(i)), 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

func TestKuboSameCIDs(t *testing.T) {
	k := newKubo(t) // offline: `ipfs add` works on the repo directly
	s := openTestStore(t, nil)
	ctx := context.Background()
	dir := t.TempDir()
	for _, n := range []int{0, 1, ChunkSize, ChunkSize + 1, 10_000_000} {
		t.Run(fmt.Sprintf("file-%d", n), func(t *testing.T) {
			p := filepath.Join(dir, fmt.Sprintf("f%d", n))
			if err := os.WriteFile(p, randBytes(n, uint64(n)+100), 0o644); err != nil {
				t.Fatal(err)
			}
			want := k.run("add", "--cid-version=1", "-Q", p)
			got, err := s.AddPath(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != want {
				t.Errorf("size %d: cloudless %s, kubo %s", n, got, want)
			}
		})
	}
	t.Run("nested-dir", func(t *testing.T) {
		root := filepath.Join(dir, "tree")
		interopTree(t, root, false)
		want := k.run("add", "-r", "--cid-version=1", "-Q", root)
		got, err := s.AddPath(ctx, root)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != want {
			t.Errorf("cloudless %s, kubo %s", got, want)
		}
		wantH := k.run("add", "-r", "--hidden", "--cid-version=1", "-Q", root)
		gotH, err := s.AddPath(ctx, root, WithHidden(true))
		if err != nil {
			t.Fatal(err)
		}
		if gotH.String() != wantH {
			t.Errorf("--hidden: cloudless %s, kubo %s", gotH, wantH)
		}
	})
	t.Run("hamt-dir", func(t *testing.T) {
		root := filepath.Join(dir, "big")
		interopTree(t, root, true)
		want := k.run("add", "-r", "--cid-version=1", "-Q", root)
		got, err := s.AddPath(ctx, root)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != want {
			t.Errorf("cloudless %s, kubo %s", got, want)
		}
		// The big directory really became a HAMT shard.
		rootNode, err := s.dagService().Get(ctx, got)
		if err != nil {
			t.Fatal(err)
		}
		l, _, err := rootNode.ResolveLink([]string{"shard"})
		if err != nil {
			t.Fatal(err)
		}
		shard, err := s.dagService().Get(ctx, l.Cid)
		if err != nil {
			t.Fatal(err)
		}
		fsn, err := unixfs.FSNodeFromBytes(shard.(*dag.ProtoNode).Data())
		if err != nil || fsn.Type() != unixfs.THAMTShard {
			t.Errorf("shard dir is not a HAMT: %v %v", fsn, err)
		}
	})
}

func TestKuboBitswap(t *testing.T) {
	k := newKubo(t)
	k.start()
	s := openTestStore(t, nil)
	h := newHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := s.Serve(ctx, h, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.Connect(ctx, k.addrInfo()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	t.Run("kubo-to-cloudless", func(t *testing.T) {
		for _, n := range []int{1, ChunkSize + 1, 10_000_000} {
			data := randBytes(n, uint64(n)+7)
			p := filepath.Join(dir, fmt.Sprintf("k%d", n))
			os.WriteFile(p, data, 0o644)
			c := cid.MustParse(k.run("add", "--cid-version=1", "-Q", p))
			fctx, fcancel := context.WithTimeout(ctx, 30*time.Second)
			got, err := s.ReadFile(fctx, c, 0)
			fcancel()
			if err != nil {
				t.Fatalf("%d bytes: %v", n, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("%d bytes: data differs", n)
			}
		}
		root := filepath.Join(dir, "ktree")
		interopTree(t, root, false)
		c := cid.MustParse(k.run("add", "-r", "--cid-version=1", "-Q", root))
		out := filepath.Join(dir, "ktree-out")
		if err := s.Get(ctx, c, out, 0, nil); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(filepath.Join(out, "data/nested/deep/x"))
		want, _ := os.ReadFile(filepath.Join(root, "data/nested/deep/x"))
		if !bytes.Equal(got, want) {
			t.Error("directory fetched from kubo differs")
		}
	})

	t.Run("cloudless-to-kubo", func(t *testing.T) {
		k.swarmConnect(h)
		for _, n := range []int{0, 1, ChunkSize, 10_000_000} {
			data := randBytes(n, uint64(n)+99)
			c, err := s.AddBytes(ctx, data)
			if err != nil {
				t.Fatal(err)
			}
			cmd := k.cmd("cat", "--timeout=60s", c.String())
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				t.Fatalf("ipfs cat %s: %v %s", c, err, errb.String())
			}
			if !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("%d bytes: kubo read different data", n)
			}
		}
		root := filepath.Join(dir, "ctree")
		interopTree(t, root, false)
		c, err := s.AddPath(ctx, root)
		if err != nil {
			t.Fatal(err)
		}
		got := k.run("cat", "--timeout=60s", c.String()+"/data/nested/one")
		if got != "1" {
			t.Errorf("ipfs cat of a file in a cloudless dir: %q", got)
		}
	})

	t.Run("unknown-cid-timeout", func(t *testing.T) {
		c := cid.NewCidV1(cid.Raw, mustSum(t, []byte("nobody anywhere")))
		tctx, tcancel := context.WithTimeout(ctx, time.Second)
		defer tcancel()
		_, err := s.ReadFile(tctx, c, 0)
		if err == nil || !strings.Contains(err.Error(), c.String()) {
			t.Fatalf("want a timeout naming %s, got %v", c, err)
		}
	})
}
