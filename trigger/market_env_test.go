package trigger

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/contracts/devnet"
	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
	"github.com/cloudless-network/cloudless/storage"
)

// marketEnv is a real in-process marketplace: the dev chain with the
// Marketplace contract, and two nodes on real libp2p hosts listening on
// loopback TCP, each with its on-disk IPFS store serving bitswap, a bbolt
// journal and a settlement client; one is a provider (with an executor),
// the other the client the gateway's market invoker uses.
type marketEnv struct {
	ctx      context.Context
	chain    *devnet.Chain
	prov, cl *mnode
}

type mnode struct {
	priv     crypto.PrivKey
	h        host.Host
	store    storeContent
	exec     *executor.Executor
	net      *market.HostNetwork
	book     *market.Book
	settle   *contracts.Client
	ledger   *ledger.Ledger
	provider *market.Provider
	client   *market.Client
}

// testPriceSchedule: 1e12 wei per job plus 1 gwei per second.
var testPriceSchedule = wire.PriceSchedule{
	PerJob: big.NewInt(1_000_000_000_000),
	Tiers:  []wire.TierPrice{{MaxMemory: 256 << 20, PerSecond: big.NewInt(1_000_000_000)}},
}

func newMarketEnv(t testing.TB) *marketEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	keys := make([]*ecdsa.PrivateKey, 2)
	var fund []common.Address
	for i := range keys {
		k, err := ethcrypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
		fund = append(fund, ethcrypto.PubkeyToAddress(k.PublicKey))
	}
	chain, err := devnet.Start(ctx, devnet.Config{Fund: fund, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	e := &marketEnv{ctx: ctx, chain: chain}
	e.prov = e.node(t, keys[0])
	e.cl = e.node(t, keys[1])
	if err := e.cl.h.Connect(ctx, peer.AddrInfo{ID: e.prov.h.ID(), Addrs: e.prov.h.Addrs()}); err != nil {
		t.Fatal(err)
	}

	e.prov.exec, err = executor.New(executor.WithMaxConcurrent(4), executor.WithMaxMemory(1<<30), executor.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.prov.exec.Close(context.Background()) })
	p, err := market.NewProvider(market.ProviderDeps{Net: e.prov.net, Seal: e.prov.seal, Content: e.prov.store, Runner: e.prov.exec,
		Settle: e.prov.settle, Ledger: e.prov.ledger, Book: e.prov.book, Logger: quietLogger()},
		market.ProviderConfig{Price: testPriceSchedule, TickInterval: 50 * time.Millisecond, OfferInterval: 500 * time.Millisecond, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e.prov.provider = p
	e.runBackground(t, p.Run, p.Close)

	c, err := market.NewClient(market.ClientDeps{Net: e.cl.net, Seal: e.cl.seal, Content: e.cl.store, Settle: e.cl.settle,
		Ledger: e.cl.ledger, Book: e.cl.book, Logger: quietLogger()},
		market.ClientConfig{BidWait: time.Second, TickInterval: 100 * time.Millisecond, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e.cl.client = c
	e.runBackground(t, c.Run, c.Close)

	deadline := time.Now().Add(30 * time.Second)
	for e.cl.book.Len() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the client never saw the provider's offer")
		}
		time.Sleep(20 * time.Millisecond) // polling a real network, with a deadline
	}
	return e
}

func (e *marketEnv) runBackground(t testing.TB, run func(context.Context) error, closeFn func() error) {
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = run(ctx) }()
	t.Cleanup(func() { cancel(); closeFn(); <-done })
}

func (e *marketEnv) node(t testing.TB, key *ecdsa.PrivateKey) *mnode {
	t.Helper()
	priv, err := crypto.UnmarshalSecp256k1PrivateKey(ethcrypto.FromECDSA(key))
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.Identity(priv), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	n := &mnode{priv: priv, h: h}
	st, err := storage.Open(e.ctx, t.TempDir(), &storage.Options{NoSync: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Serve(e.ctx, h, nil); err != nil {
		t.Fatal(err)
	}
	n.store = storeContent{st}
	n.settle, err = contracts.New(e.ctx, e.chain.Client(), e.chain.Contract(), key, contracts.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	n.ledger, err = ledger.Open(filepath.Join(t.TempDir(), "ledger.db"), &ledger.Options{Logger: quietLogger(),
		// TRIGGER_LEDGER_NOSYNC=1 measures what the fsyncs cost (benchmarks only).
		NoSync: os.Getenv("TRIGGER_LEDGER_NOSYNC") != ""})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.ledger.Close() })
	ps, err := pubsub.NewGossipSub(e.ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	n.net = market.NewHostNetwork(h, ps, quietLogger())
	t.Cleanup(func() { n.net.Close() })
	n.book = market.NewBook(nil)
	return n
}

func (n *mnode) seal(m wire.Message) ([]byte, error) { return wire.Seal(n.priv, m) }

// marketFn is a market function on route, priced for testPriceSchedule.
func marketFn(name, module, route string, timeout time.Duration, maxOut wire.Size) *Function {
	return &Function{Name: name, Module: module, Deterministic: true, PayMode: wire.PayChannel,
		Resources: wire.Resources{Memory: 64 << 20, Timeout: wire.Duration(timeout), MaxOutput: maxOut},
		MaxPrice:  big.NewInt(1e15), DailyCap: new(big.Int).Mul(big.NewInt(1e15), big.NewInt(1000)),
		Triggers: []Trigger{{Kind: KindHTTP, Route: route}}}
}
