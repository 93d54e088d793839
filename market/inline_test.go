package market_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// TestInlineResults: a small output comes inside the Result (the client
// never fetches the result CID's blocks), a large one by CID over bitswap;
// either way the client gets the same files and the provider keeps the
// output pinned.
func TestInlineResults(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	prov.startProvider(market.ProviderConfig{})
	cl.startClient(market.ClientConfig{})
	cl.waitOffers(1)
	module := cl.publishModule()
	for _, tc := range []struct {
		name   string
		stdin  int
		inline bool
	}{
		{"small, kept in the ledger", 0, true},
		{"medium, inline on the wire only", 10 << 10, true},
		{"large, by CID", 100 << 10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := jobSpec(module, "inline")
			in := bytes.Repeat([]byte("0123456789abcdef"), tc.stdin/16)
			if len(in) > 0 {
				c, err := cl.content.AddBytes(in)
				if err != nil {
					t.Fatal(err)
				}
				spec.Stdin = c
			}
			id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{prov.id()}})
			if err != nil {
				t.Fatal(err)
			}
			out, err := cl.client.Wait(w.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if want := append([]byte("args: inline\n"), in...); !bytes.Equal(out.Stdout, want) {
				t.Errorf("stdout %d bytes, want %d", len(out.Stdout), len(want))
			}
			if b, err := os.ReadFile(filepath.Join(out.Dir, market.OutDirName, "sum.txt")); err != nil || len(b) == 0 {
				t.Errorf("out/sum.txt: %q %v", b, err)
			}
			if h, err := market.OutputHash(out.Dir, out.ExitCode); err != nil || h != out.Job.OutputHash {
				t.Errorf("result directory hashes to %x (%v), want %x", h, err, out.Job.OutputHash)
			}
			root, err := cid.Decode(out.Job.ResultCID)
			if err != nil {
				t.Fatal(err)
			}
			fetched, err := cl.content.st.Has(w.ctx, root)
			if err != nil {
				t.Fatal(err)
			}
			if fetched == tc.inline {
				t.Errorf("client holds the result root: %v, want %v", fetched, !tc.inline)
			}
			pins, err := prov.content.st.Pins(w.ctx)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range pins {
				found = found || p == root
			}
			if !found {
				t.Errorf("provider does not pin the result %s", root)
			}
			waitProviderState(t, prov, id, market.StatePaid)
		})
	}
}

// TestInlineResultTampered: a provider whose inline output does not hash
// to the hash it signed is a bad result, and nothing is written outside
// the result directory.
func TestInlineResultTampered(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(r *wire.Result)
	}{
		{"changed stdout", func(r *wire.Result) { r.Inline[0].Data = append(r.Inline[0].Data, "forged\n"...) }},
		{"extra file", func(r *wire.Result) {
			r.Inline = append(r.Inline, wire.InlineFile{Path: "out/extra", Data: []byte("x")})
		}},
		{"dropped file", func(r *wire.Result) { r.Inline = r.Inline[:2] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 2)
			prov, cl := w.nodes[0], w.nodes[1]
			startSealingProvider(t, prov, func(m wire.Message) wire.Message {
				if r, ok := m.(*wire.Result); ok && r.Inline != nil {
					cp := *r
					cp.Inline = append([]wire.InlineFile(nil), r.Inline...)
					tc.tamper(&cp)
					return &cp
				}
				return m
			})
			cl.startClient(market.ClientConfig{})
			cl.waitOffers(1)
			id, err := cl.client.Submit(w.ctx, jobSpec(cl.publishModule(), "x"), market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{prov.id()}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cl.client.Wait(w.ctx, id); !errors.Is(err, market.ErrBadResult) {
				t.Fatalf("err %v, want ErrBadResult", err)
			}
		})
	}
}

// startSealingProvider starts nd's provider with a sealer that passes
// every message through edit first (a dishonest provider).
func startSealingProvider(t *testing.T, nd *tnode, edit func(wire.Message) wire.Message) {
	if nd.net == nil {
		nd.startNet()
	}
	seal := func(m wire.Message) ([]byte, error) { return nd.seal(edit(m)) }
	p, err := market.NewProvider(market.ProviderDeps{Net: nd.net, Seal: seal, Content: nd.content, Runner: nd.runner,
		Settle: nd.settle, Ledger: nd.journal, Book: nd.book, Logger: quietLogger()},
		market.ProviderConfig{Price: testPrice, TickInterval: 50 * time.Millisecond, OfferInterval: time.Second, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	nd.provider = p
	ctx, cancel := context.WithCancel(nd.w.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); p.Close(); <-done })
}

// offerCounter counts the offers a provider publishes.
type offerCounter struct {
	market.Network
	n atomic.Int32
}

func (c *offerCounter) Publish(ctx context.Context, topic string, sealed []byte) error {
	if topic == wire.TopicOffers {
		c.n.Add(1)
	}
	return c.Network.Publish(ctx, topic, sealed)
}

// TestOffersCoalesced: awards and finishes do not each republish the
// offer; capacity changes are folded into at most one offer a second,
// and the provider still announces the change.
func TestOffersCoalesced(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	prov.startNet()
	cnt := &offerCounter{Network: prov.net}
	p, err := market.NewProvider(market.ProviderDeps{Net: cnt, Seal: prov.seal, Content: prov.content, Runner: prov.runner,
		Settle: prov.settle, Ledger: prov.journal, Logger: quietLogger()},
		market.ProviderConfig{Price: testPrice, TickInterval: 50 * time.Millisecond, OfferInterval: time.Second, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); p.Close(); <-done })
	cl.startClient(market.ClientConfig{})
	cl.waitOffers(1)
	spec := jobSpec(cl.publishModule(), "offers")
	const jobs = 8
	start, before := time.Now(), cnt.n.Load()
	for range jobs {
		id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{prov.id()}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.client.Wait(w.ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	// Before: two offers per job (award, finish) besides the periodic
	// one a second. Now: the periodic one and at most one coalesced
	// update a second.
	published := int(cnt.n.Load() - before)
	if max := 2*int(time.Since(start)/time.Second) + 3; published > max || published >= 2*jobs {
		t.Errorf("%d offers for %d jobs in %v, want at most %d", published, jobs, time.Since(start), max)
	}
}
