package scale

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/contracts/devnet"
	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
	"github.com/cloudless-network/cloudless/p2p"
	"github.com/cloudless-network/cloudless/storage"
)

// layout is the shape of a simulated network.
type layout struct {
	Nodes     int           // all nodes, providers and clients included
	Providers int           // nodes running a market.Provider
	Clients   int           // nodes running a market.Client that submit jobs
	Degree    int           // random links per node (plus a ring), as p2p's benchmark
	Latency   time.Duration // one-way latency of every link
	// OfferInterval of the providers; long, so the per-job figures are not
	// drowned by periodic offers (offers triggered by a job still count).
	OfferInterval time.Duration
	// WrapProvider, when set, wraps what a provider fetches and runs with
	// (phase timing in the cold-path benchmark).
	WrapProvider func(market.Content, *executor.Executor) (market.Content, market.Runner)
	// WrapClient, when set, wraps the clients' content (result fetch timing).
	WrapClient func(market.Content) market.Content
	// Module and Args are the job of runJob (default: the market tests'
	// job.wasm, a 21 KB C module, with one argument).
	Module []byte
	Args   []string
}

// cluster is a running simulated network.
type cluster struct {
	tb        testing.TB
	ctx       context.Context
	chain     *devnet.Chain
	mn        mocknet.Mocknet
	nodes     []*simNode
	providers []*simNode
	clients   []*simNode
	module    string // CID of the job module, published on the clients
	args      []string
	booked    int // offers in the smallest client book after setup
}

// simNode is one node: a p2p.Node on a counting mocknet host, the market
// network over its gossip router and an offer book; providers and clients
// also get an IPFS store, a chain client and a ledger.
type simNode struct {
	id       *p2p.Identity
	host     *countingHost
	p2p      *p2p.Node
	net      *countingNet
	book     *market.Book
	store    *storage.Store
	exec     *executor.Executor
	settle   *contracts.Client
	provider *market.Provider
	client   *market.Client
}

func logger() *slog.Logger {
	if os.Getenv("SCALE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// openLedger is the one place the market's durable record is made (the
// node's ledger.db, fsync on, as in a node): when the market's
// dependencies change, only this function and the two Deps literals below
// follow.
func openLedger(tb testing.TB, dir string) *ledger.Ledger {
	tb.Helper()
	l, err := ledger.Open(filepath.Join(dir, "ledger.db"), &ledger.Options{Logger: logger()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

// content adapts the IPFS store to market.Content the way node does.
type content struct{ st *storage.Store }

var _ market.Content = content{}

func (c content) Cat(ctx context.Context, s string, max int64) ([]byte, error) {
	id, err := cid.Decode(s)
	if err != nil {
		return nil, fmt.Errorf("bad CID %q: %w", s, err)
	}
	return c.st.ReadFile(ctx, id, max)
}

func (c content) Fetch(ctx context.Context, s string, dst string) error {
	id, err := cid.Decode(s)
	if err != nil {
		return fmt.Errorf("bad CID %q: %w", s, err)
	}
	return c.st.Get(ctx, id, dst, 0, nil)
}

func (c content) AddDir(ctx context.Context, dir string) (string, error) {
	id, err := c.st.AddPath(ctx, dir, storage.WithHidden(true))
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

var price = wire.PriceSchedule{
	PerJob: big.NewInt(1_000_000_000_000),
	Tiers:  []wire.TierPrice{{MaxMemory: 256 << 20, PerSecond: big.NewInt(1_000_000_000)}},
}

// newCluster builds and starts the network of l: node i < Providers is a
// provider, the last Clients nodes are clients. It returns once every
// client's offer book holds the providers' offers (see waitOffers).
func newCluster(tb testing.TB, l layout) *cluster {
	tb.Helper()
	if l.Providers+l.Clients > l.Nodes {
		tb.Fatalf("layout: %d providers + %d clients > %d nodes", l.Providers, l.Clients, l.Nodes)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	c := &cluster{tb: tb, ctx: ctx, mn: mocknet.New(), args: l.Args}
	if c.args == nil {
		c.args = []string{"scale"}
	}
	tb.Cleanup(func() { _ = c.mn.Close() })

	ids := make([]*p2p.Identity, l.Nodes)
	var fund []common.Address
	for i := range ids {
		id, err := p2p.GenerateIdentity()
		if err != nil {
			tb.Fatal(err)
		}
		ids[i] = id
		if i < l.Providers || i >= l.Nodes-l.Clients {
			fund = append(fund, id.Address)
		}
	}
	chain, err := devnet.Start(ctx, devnet.Config{Fund: fund, Logger: logger()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { chain.Close() })
	c.chain = chain

	// Hosts, then the topology, then the nodes on top.
	for i, id := range ids {
		a := ma.StringCast(fmt.Sprintf("/ip4/10.%d.%d.%d/tcp/4001", (i>>16)&0xff, (i>>8)&0xff, i&0xff))
		if _, err := c.mn.AddPeer(id.PrivKey, a); err != nil {
			tb.Fatal(err)
		}
	}
	link := func(i, j int, connect bool) {
		a, b := ids[i].PeerID, ids[j].PeerID
		if len(c.mn.LinksBetweenPeers(a, b)) == 0 {
			if _, err := c.mn.LinkPeers(a, b); err != nil {
				tb.Fatal(err)
			}
			for _, lk := range c.mn.LinksBetweenPeers(a, b) {
				lk.SetOptions(mocknet.LinkOptions{Latency: l.Latency})
			}
		}
		if connect {
			if _, err := c.mn.ConnectPeers(a, b); err != nil {
				tb.Fatal(err)
			}
		}
	}

	c.nodes = make([]*simNode, l.Nodes)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 8)
	for i := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			nd, err := c.startNode(ids[i])
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("node %d: %w", i, err)
			}
			c.nodes[i] = nd
		}()
	}
	wg.Wait()
	tb.Cleanup(func() {
		var wg sync.WaitGroup
		for _, nd := range c.nodes {
			if nd != nil && nd.p2p != nil {
				wg.Go(func() { _ = nd.p2p.Close() })
			}
		}
		wg.Wait()
	})
	if firstErr != nil {
		tb.Fatal(firstErr)
	}
	for i := range ids {
		for range l.Degree / 2 {
			if j := rand.IntN(l.Nodes); j != i {
				link(i, j, true)
			}
		}
		link(i, (i+1)%l.Nodes, true)
	}
	// A client dials the providers it picks from the offer book (their
	// offers carry addresses); on a mocknet a dial needs a link.
	for ci := l.Nodes - l.Clients; ci < l.Nodes; ci++ {
		for pi := range l.Providers {
			link(ci, pi, false)
		}
	}

	// Every node follows the offer topic (a client's market.Client does it
	// itself), and the providers announce only once the topic's peers are
	// known: an offer published before that reaches the neighbours only,
	// and announcing again floods all N nodes (a simulated N, on 2 cores).
	for i, nd := range c.nodes {
		if i < l.Nodes-l.Clients {
			if err := nd.followOffers(ctx); err != nil {
				tb.Fatal(err)
			}
		}
	}
	t0 := time.Now()
	c.progress("%d nodes started and linked", l.Nodes)
	c.waitTopicPeers(l.Nodes-l.Clients, max(2*time.Minute, time.Duration(l.Nodes)*time.Second/2))
	tTopic := time.Since(t0)
	for i, nd := range c.nodes {
		switch {
		case i < l.Providers:
			c.startProvider(nd, l)
			c.providers = append(c.providers, nd)
		case i >= l.Nodes-l.Clients:
			c.startClient(nd, l)
			c.clients = append(c.clients, nd)
		}
	}
	module := l.Module
	if module == nil {
		if module, err = os.ReadFile("../../market/testdata/job.wasm"); err != nil {
			tb.Fatal(err)
		}
	}
	for _, cl := range c.clients {
		c.module = c.publish(cl, module)
	}
	t0 = time.Now()
	// Set-up time grows with N (every offer floods every node): allow
	// half a second per node, at least two minutes.
	setupWait := max(2*time.Minute, time.Duration(l.Nodes)*time.Second/2)
	c.booked = c.waitOffers(l.Providers, setupWait)
	tOffers := time.Since(t0)
	t0 = time.Now()
	c.waitQuiet(time.Second, setupWait)
	c.progress("%d nodes: topic peers known in %s, offers in every client book in %s, gossip quiet after %s more",
		l.Nodes, tTopic.Round(time.Millisecond), tOffers.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
	return c
}

// progress logs a set-up step, and prints it at once when SCALE_PROGRESS
// is set (a 1,000-node set-up takes minutes; tb.Logf shows at the end).
func (c *cluster) progress(format string, args ...any) {
	c.tb.Logf(format, args...)
	if os.Getenv("SCALE_PROGRESS") != "" {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
	}
}

// waitTopicPeers polls until each of the first n nodes (those that
// follow the offer topic from the start) knows at least one peer on it,
// so the first offers travel the whole graph.
func (c *cluster) waitTopicPeers(n int, d time.Duration) {
	deadline := time.Now().Add(d)
	for i := 0; i < n; {
		if len(c.nodes[i].p2p.PubSub().ListPeers(wire.TopicOffers)) > 0 {
			i++
			continue
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("node %d knows no peer on the offer topic after %s", i, d)
		}
		time.Sleep(20 * time.Millisecond) // polling a network, with a deadline
	}
}

// waitQuiet polls until no node received a gossip message for window:
// the offers of the set-up have been validated and forwarded everywhere,
// so the measured jobs do not queue behind the set-up's backlog.
func (c *cluster) waitQuiet(window, d time.Duration) {
	deadline := time.Now().Add(d)
	total := func() uint64 {
		var t uint64
		for _, nd := range c.nodes {
			g := nd.p2p.GossipStats()
			t += g.Delivered + g.Duplicates + g.Rejected
		}
		return t
	}
	last, since := total(), time.Now()
	for time.Since(since) < window {
		if time.Now().After(deadline) {
			c.tb.Logf("gossip still busy after %s; going on", d)
			return
		}
		time.Sleep(window / 10) // polling a network, with a deadline
		if t := total(); t != last {
			last, since = t, time.Now()
		}
	}
}

// publish adds module to nd's store and returns its CID.
func (c *cluster) publish(nd *simNode, module []byte) string {
	id, err := nd.store.AddBytes(c.ctx, module)
	if err != nil {
		c.tb.Fatal(err)
	}
	return id.String()
}

func (c *cluster) startNode(id *p2p.Identity) (*simNode, error) {
	nd := &simNode{id: id, host: newCountingHost(c.mn.Host(id.PeerID)), book: market.NewBook(nil)}
	cfg := p2p.Config{DisableNAT: true, DHTMode: p2p.DHTClient, MinPeers: 0, PeerCheckInterval: time.Hour}
	var err error
	nd.p2p, err = p2p.New(c.ctx, id, cfg, p2p.WithHost(nd.host), p2p.WithLogger(logger()))
	if err != nil {
		return nil, err
	}
	hn := market.NewHostNetwork(nd.host, nd.p2p.PubSub(), logger())
	c.tb.Cleanup(func() { hn.Close() })
	nd.net = &countingNet{Network: hn}
	return nd, nil
}

// followOffers subscribes the node's book to the offer topic, as every
// node's market client does.
func (nd *simNode) followOffers(ctx context.Context) error {
	return nd.net.Subscribe(ctx, wire.TopicOffers, func(_ peer.ID, msg wire.Message) {
		if o, ok := msg.(*wire.Offer); ok {
			nd.book.Add(o)
		}
	})
}

// startStore gives nd an IPFS store served over bitswap, a chain client
// and a ledger.
func (c *cluster) startStore(nd *simNode) *ledger.Ledger {
	tb := c.tb
	dir := tb.TempDir()
	st, err := storage.Open(c.ctx, filepath.Join(dir, "ipfs"), &storage.Options{NoSync: true, Logger: logger()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Serve(c.ctx, nd.host, nil); err != nil {
		tb.Fatal(err)
	}
	nd.store = st
	// Its own connection to the chain, as a node has: one in-process
	// connection shared by 104 market nodes stopped answering at 1,000
	// nodes (every caller waiting in rpc.(*requestOp).wait).
	ec := c.chain.Attach()
	tb.Cleanup(ec.Close)
	nd.settle, err = contracts.New(c.ctx, ec, c.chain.Contract(), nd.id.Key, contracts.WithLogger(logger()))
	if err != nil {
		tb.Fatal(err)
	}
	return openLedger(tb, dir)
}

func (nd *simNode) seal(m wire.Message) ([]byte, error) { return wire.Seal(nd.id.PrivKey, m) }

func (c *cluster) startProvider(nd *simNode, l layout) {
	tb := c.tb
	j := c.startStore(nd)
	var err error
	nd.exec, err = executor.New(executor.WithMaxConcurrent(4), executor.WithMaxMemory(1<<30), executor.WithLogger(logger()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nd.exec.Close(context.Background()) })
	var cont market.Content = content{nd.store}
	var runner market.Runner = nd.exec
	if l.WrapProvider != nil {
		cont, runner = l.WrapProvider(cont, nd.exec)
	}
	p, err := market.NewProvider(market.ProviderDeps{Net: nd.net, Seal: nd.seal, Content: cont, Runner: runner,
		Settle: nd.settle, Ledger: j, Book: nd.book, Logger: logger()},
		market.ProviderConfig{Price: price, OfferInterval: l.OfferInterval, WorkDir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	nd.provider = p
	ctx, cancel := context.WithCancel(c.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Run(ctx); err != nil {
			tb.Logf("provider stopped: %v", err)
		}
	}()
	tb.Cleanup(func() { cancel(); p.Close(); <-done })
}

func (c *cluster) startClient(nd *simNode, l layout) {
	tb := c.tb
	j := c.startStore(nd)
	nd.net.bids = newBidClock()
	var cont market.Content = content{nd.store}
	if l.WrapClient != nil {
		cont = l.WrapClient(cont)
	}
	cl, err := market.NewClient(market.ClientDeps{Net: nd.net, Seal: nd.seal, Content: cont, Settle: nd.settle,
		Ledger: j, Book: nd.book, Logger: logger()},
		market.ClientConfig{BidWait: 3 * time.Second, WorkDir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	nd.client = cl
	ctx, cancel := context.WithCancel(c.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := cl.Run(ctx); err != nil {
			tb.Logf("client stopped: %v", err)
		}
	}()
	tb.Cleanup(func() { cancel(); cl.Close(); <-done })
}

// waitOffers polls (a simulated but real network) until every client's
// book holds n offers. The benchmark's offer interval is long, so when
// the books stopped growing for 5 s the providers whose offer some client
// still lacks announce again, exactly as their own offer ticker would
// (Provider.Offer, sealed, on wire.TopicOffers). Only those, and only when
// the network is quiet: every offer floods all N nodes, and re-announcing
// everything on a timer while the last round is still being validated
// piles rounds onto a simulation that has 2 cores for N nodes (that storm
// is what made the first 1,000-node runs time out). On a machine too
// loaded for gossip to reach everyone within d, it goes on when every book
// holds at least 90% of the offers (a client asks only the 2k+1
// cheapest), and returns the smallest book.
func (c *cluster) waitOffers(n int, d time.Duration) int {
	deadline := time.Now().Add(d)
	const idle = 5 * time.Second
	smallest := func() (m, sum int) {
		m = n
		for _, cl := range c.clients {
			m = min(m, cl.book.Len())
			sum += cl.book.Len()
		}
		return m, sum
	}
	_, lastSum := smallest()
	grew := time.Now()
	for {
		m, sum := smallest()
		if m >= n {
			return m
		}
		if sum != lastSum {
			lastSum, grew = sum, time.Now()
		}
		if time.Now().After(deadline) {
			if m*10 >= n*9 {
				c.tb.Logf("offer books hold %d of %d offers after %s; going on", m, n, d)
				return m
			}
			c.tb.Fatalf("a client's offer book has %d of %d offers after %s", m, n, d)
		}
		if time.Since(grew) > idle {
			for _, p := range c.providers {
				missing := false
				for _, cl := range c.clients {
					if _, ok := cl.book.Get(p.id.PeerID); !ok {
						missing = true
					}
				}
				if !missing {
					continue
				}
				if o := p.provider.Offer(); o != nil {
					if sealed, err := p.seal(o); err == nil {
						_ = p.net.Publish(c.ctx, wire.TopicOffers, sealed)
					}
				}
			}
			grew = time.Now()
		}
		time.Sleep(50 * time.Millisecond) // polling a network, with a deadline
	}
}

func (c *cluster) spec() wire.JobSpec {
	s := wire.JobSpec{Module: c.module, Args: c.args, Deterministic: true,
		Resources: wire.Resources{Memory: 64 << 20, Timeout: wire.Duration(30 * time.Second)},
		Price:     wire.Price{Max: big.NewInt(1e15)}}
	s.ApplyDefaults()
	s.Resources.MaxOutput = 1 << 20
	return s
}

// traffic is the network's counters at one moment.
type traffic struct {
	streams   uint64 // streams opened, all protocols
	market    uint64 // of which on the market protocol
	bitswap   uint64 // of which bitswap
	gossip    uint64 // gossip copies received (first, duplicate, rejected)
	offersIn  uint64 // first deliveries of offers
	jobsIn    uint64 // first deliveries of job requests
	requests  uint64 // market requests sent
	publishes uint64 // market gossip publishes
}

func (c *cluster) traffic() (t traffic, perNode []uint64) {
	perNode = make([]uint64, len(c.nodes))
	for i, nd := range c.nodes {
		var mine uint64
		for p, v := range nd.host.snapshot() {
			t.streams += v
			mine += v
			switch {
			case string(p) == wire.MarketProtocol:
				t.market += v
			case len(p) >= 12 && p[:12] == "/ipfs/bitswa":
				t.bitswap += v
			}
		}
		g := nd.p2p.GossipStats()
		gs := g.Delivered + g.Duplicates + g.Rejected
		t.gossip += gs
		mine += gs
		t.offersIn += nd.net.offersIn.Load()
		t.jobsIn += nd.net.jobsIn.Load()
		t.requests += nd.net.requests.Load()
		t.publishes += nd.net.published.Load()
		perNode[i] = mine
	}
	return t, perNode
}

func (t traffic) sub(u traffic) traffic {
	return traffic{streams: t.streams - u.streams, market: t.market - u.market, bitswap: t.bitswap - u.bitswap,
		gossip: t.gossip - u.gossip, offersIn: t.offersIn - u.offersIn, jobsIn: t.jobsIn - u.jobsIn,
		requests: t.requests - u.requests, publishes: t.publishes - u.publishes}
}
