package market_test

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/contracts/devnet"
	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
	"github.com/cloudless-network/cloudless/storage"
)

var ether = big.NewInt(1e18)

// world is a dev chain with the Marketplace, a mocknet, and nodes on it.
type world struct {
	t        testing.TB
	ctx      context.Context
	chain    *devnet.Chain
	mn       mocknet.Mocknet
	mediator *contracts.Client
	nodes    []*tnode
}

// tnode is one in-process node: host, gossip, bitswap content, executor,
// bbolt journal, settlement client, and a provider and/or client.
type tnode struct {
	w        *world
	key      *ecdsa.PrivateKey
	priv     crypto.PrivKey
	h        host.Host
	net      *market.HostNetwork
	content  storeContent
	exec     *executor.Executor
	runner   market.Runner
	journal  *ledger.Ledger
	jpath    string
	settle   *contracts.Client
	book     *market.Book
	provider *market.Provider
	client   *market.Client
	cancel   context.CancelFunc
}

func quietLogger() *slog.Logger {
	if os.Getenv("MARKET_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(discard{}, nil))
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func newWorld(t testing.TB, n int) *world {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	keys := make([]*ecdsa.PrivateKey, n+1)
	var addrs []common.Address
	for i := range keys {
		k, err := ethcrypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
		addrs = append(addrs, ethcrypto.PubkeyToAddress(k.PublicKey))
	}
	chain, err := devnet.Start(ctx, devnet.Config{Fund: addrs, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	w := &world{t: t, ctx: ctx, chain: chain, mn: mocknet.New()}
	t.Cleanup(func() { w.mn.Close() })
	w.mediator, err = contracts.New(ctx, chain.Client(), chain.Contract(), keys[n], contracts.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		w.nodes = append(w.nodes, w.addNode(keys[i], i))
	}
	if err := w.mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	if err := w.mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) addNode(key *ecdsa.PrivateKey, i int) *tnode {
	t := w.t
	priv, err := crypto.UnmarshalSecp256k1PrivateKey(ethcrypto.FromECDSA(key))
	if err != nil {
		t.Fatal(err)
	}
	h, err := w.mn.AddPeer(priv, ma.StringCast(fmt.Sprintf("/ip4/10.0.0.%d/tcp/4001", i+1)))
	if err != nil {
		t.Fatal(err)
	}
	nd := &tnode{w: w, key: key, priv: priv, h: h, jpath: filepath.Join(t.TempDir(), "ledger.db")}
	st, err := storage.Open(w.ctx, t.TempDir(), &storage.Options{NoSync: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Serve(w.ctx, h, nil); err != nil {
		t.Fatal(err)
	}
	nd.content = storeContent{st}
	nd.exec, err = executor.New(executor.WithMaxConcurrent(4), executor.WithMaxMemory(1<<30))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nd.exec.Close(context.Background()) })
	nd.runner = nd.exec
	nd.settle, err = contracts.New(w.ctx, w.chain.Client(), w.chain.Contract(), key, contracts.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	nd.openJournal()
	return nd
}

func (nd *tnode) openJournal() {
	j, err := ledger.Open(nd.jpath, &ledger.Options{Logger: quietLogger()})
	if err != nil {
		nd.w.t.Fatal(err)
	}
	nd.journal = j
	nd.w.t.Cleanup(func() { j.Close() })
}

func (nd *tnode) seal(m wire.Message) ([]byte, error) { return wire.Seal(nd.priv, m) }

func (nd *tnode) id() peer.ID { return nd.h.ID() }

func (nd *tnode) addr() common.Address { return nd.settle.Address() }

// startNet (re)creates the gossip router and the market network adapter.
func (nd *tnode) startNet() {
	ps, err := pubsub.NewGossipSub(nd.w.ctx, nd.h)
	if err != nil {
		nd.w.t.Fatal(err)
	}
	nd.net = market.NewHostNetwork(nd.h, ps, quietLogger())
	nd.w.t.Cleanup(func() { nd.net.Close() })
	nd.book = market.NewBook(nil)
}

var testPrice = wire.PriceSchedule{
	PerJob: big.NewInt(1_000_000_000_000), // 1e12 wei
	Tiers:  []wire.TierPrice{{MaxMemory: 256 << 20, PerSecond: big.NewInt(1_000_000_000)}},
}

func (nd *tnode) startProvider(cfg market.ProviderConfig) {
	t := nd.w.t
	if nd.net == nil {
		nd.startNet()
	}
	if cfg.Price.PerJob == nil {
		cfg.Price = testPrice
	}
	if cfg.TickInterval == 0 {
		cfg.TickInterval = 50 * time.Millisecond
	}
	if cfg.OfferInterval == 0 {
		cfg.OfferInterval = time.Second
	}
	cfg.Mediators = append(cfg.Mediators, nd.w.mediator.Address())
	cfg.WorkDir = t.TempDir()
	p, err := market.NewProvider(market.ProviderDeps{Net: nd.net, Seal: nd.seal, Content: nd.content, Runner: nd.runner,
		Settle: nd.settle, Ledger: nd.journal, Book: nd.book, Logger: quietLogger()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	nd.provider = p
	ctx, cancel := context.WithCancel(nd.w.ctx)
	nd.cancel = cancel
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); p.Close(); <-done })
}

func (nd *tnode) startClient(cfg market.ClientConfig) {
	t := nd.w.t
	if nd.net == nil {
		nd.startNet()
	}
	if cfg.BidWait == 0 {
		cfg.BidWait = 3 * time.Second
	}
	if cfg.TickInterval == 0 {
		cfg.TickInterval = 50 * time.Millisecond
	}
	if cfg.ResultMargin == 0 {
		cfg.ResultMargin = time.Minute
	}
	cfg.WorkDir = t.TempDir()
	c, err := market.NewClient(market.ClientDeps{Net: nd.net, Seal: nd.seal, Content: nd.content, Settle: nd.settle,
		Ledger: nd.journal, Book: nd.book, Logger: quietLogger()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	nd.client = c
	ctx, cancel := context.WithCancel(nd.w.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); c.Close(); <-done })
}

// waitOffers waits (polling, on a real network) until nd's book holds n offers.
func (nd *tnode) waitOffers(n int) {
	deadline := time.Now().Add(20 * time.Second)
	for nd.book.Len() < n {
		if time.Now().After(deadline) {
			nd.w.t.Fatalf("offer book has %d offers, want %d", nd.book.Len(), n)
		}
		time.Sleep(20 * time.Millisecond) // polling a real network, with a deadline
	}
}

// balance is the account's ether plus what it may withdraw from the contract.
func (w *world) balance(a common.Address) *big.Int {
	b, err := w.chain.Client().BalanceAt(w.ctx, a, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	cr, err := w.mediator.Credits(w.ctx, a)
	if err != nil {
		w.t.Fatal(err)
	}
	return b.Add(b, cr)
}

func (w *world) credits(a common.Address) *big.Int {
	cr, err := w.mediator.Credits(w.ctx, a)
	if err != nil {
		w.t.Fatal(err)
	}
	return cr
}

func (nd *tnode) publishModule() string {
	b, err := os.ReadFile("testdata/job.wasm")
	if err != nil {
		nd.w.t.Fatal(err)
	}
	c, err := nd.content.AddBytes(b)
	if err != nil {
		nd.w.t.Fatal(err)
	}
	return c
}

func jobSpec(module string, args ...string) wire.JobSpec {
	s := wire.JobSpec{Module: module, Args: args, Deterministic: true,
		Resources: wire.Resources{Memory: 64 << 20, Timeout: wire.Duration(5 * time.Second)},
		Price:     wire.Price{Max: new(big.Int).Mul(big.NewInt(1e15), big.NewInt(1))}}
	s.ApplyDefaults()
	s.Resources.MaxOutput = 1 << 20
	return s
}

// adjustTime moves chain time forward; the dev chain refuses while
// transactions of the running nodes are pending, so it retries.
func (w *world) adjustTime(d time.Duration) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := w.chain.AdjustTime(d)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // waiting for pending transactions to be mined
	}
}
