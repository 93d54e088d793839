package market_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
	"github.com/cloudless-network/cloudless/storage"
)

// TestRunFromMemory: a module that cannot reach a file (testdata/echo.wasm
// imports only args and fd_write) runs without a /out or a scratch
// directory; its result is still the usual directory (stdout, stderr, an
// empty out/): the CID is the one an import of that directory gives, the
// provider keeps it pinned, and a client can fetch it over bitswap.
func TestRunFromMemory(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	prov.startProvider(market.ProviderConfig{})
	cl.startClient(market.ClientConfig{})
	cl.waitOffers(1)
	b, err := os.ReadFile("testdata/echo.wasm")
	if err != nil {
		t.Fatal(err)
	}
	module, err := cl.content.AddBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{"first", "second"} { // the second from the module cache
		spec := jobSpec(module, arg)
		id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{prov.id()}})
		if err != nil {
			t.Fatal(err)
		}
		out, err := cl.client.Wait(w.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := "module\x00" + arg + "\x00"
		if string(out.Stdout) != want || out.ExitCode != 0 {
			t.Fatalf("stdout %q exit %d, want %q exit 0", out.Stdout, out.ExitCode, want)
		}
		// The same output laid out on disk and imported by the provider's
		// store gives the result's CID.
		dir := filepath.Join(t.TempDir(), "result")
		if err := os.MkdirAll(filepath.Join(dir, market.OutDirName), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, market.StdoutName), []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, market.StderrName), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := prov.content.st.AddPath(w.ctx, dir, storage.WithHidden(true), storage.WithPin(false))
		if err != nil {
			t.Fatal(err)
		}
		if c.String() != out.Job.ResultCID {
			t.Fatalf("result CID %s, the same directory imports as %s", out.Job.ResultCID, c)
		}
		if h, err := market.OutputHash(dir, 0); err != nil || h != out.Job.OutputHash {
			t.Fatalf("output hash %x (%v), want %x", h, err, out.Job.OutputHash)
		}
		root, _ := cid.Decode(out.Job.ResultCID)
		pins, err := prov.content.st.Pins(w.ctx)
		if err != nil {
			t.Fatal(err)
		}
		pinned := false
		for _, p := range pins {
			pinned = pinned || p == root
		}
		if !pinned {
			t.Fatalf("provider does not pin %s", root)
		}
		// Fetchable: the client asks for it by CID (it had it inline).
		got := filepath.Join(t.TempDir(), "fetched")
		if err := cl.content.st.Get(w.ctx, root, got, 0, nil); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(got, market.StdoutName)); err != nil || string(b) != want {
			t.Fatalf("fetched stdout %q %v", b, err)
		}
	}
}

// TestRunWithInput: a job with an input gets its scratch directory (made
// on demand) and sees the input; a file input at /in is mounted as a
// directory /in holding it (named after the path's last element).
func TestRunWithInput(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	prov.startProvider(market.ProviderConfig{})
	cl.startClient(market.ClientConfig{})
	cl.waitOffers(1)
	in, err := cl.content.AddBytes([]byte("input bytes"))
	if err != nil {
		t.Fatal(err)
	}
	spec := jobSpec(cl.publishModule(), "with-input")
	spec.Inputs = []wire.Input{{CID: in, Path: "/in"}}
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{prov.id()}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cl.client.Wait(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if want := "args: with-input\nin: in\n"; string(out.Stdout) != want {
		t.Fatalf("stdout %q, want %q", out.Stdout, want)
	}
}
