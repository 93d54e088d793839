package load

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/contracts/devnet"
	"github.com/cloudless-network/cloudless/node"
	"github.com/cloudless-network/cloudless/node/client"
	"github.com/cloudless-network/cloudless/p2p"
)

// member is one daemon of the cluster: a node started by node.Start on its
// own repo, reached through its control API like `cloudless` reaches it.
type member struct {
	name     string
	provider bool
	repo     string
	addr     common.Address
	key      *ecdsa.PrivateKey // the node's key, for the exit the audit drives
	peerID   string
	n        *node.Node
	api      *client.Client // the project's API client (connect, publish, wallet)
	http     *apiClient     // pooled client for the hot path (submit, poll)
}

// cluster is a dev chain and the daemons settling on it.
type cluster struct {
	chain     *devnet.Chain
	providers []*member
	clients   []*member
	// startBlock is the chain head once the chain is up and funded: the
	// conservation check counts every transaction after it.
	startBlock    uint64
	startBalances map[common.Address]*big.Int
}

func (c *cluster) all() []*member {
	return append(append([]*member(nil), c.clients...), c.providers...)
}

// startCluster makes cfg.Providers provider repos and cfg.Clients client
// repos under dir, starts a dev chain that funds them at genesis, starts a
// daemon on each repo, and connects every client to every provider.
func startCluster(ctx context.Context, cfg Config, dir string, log *slog.Logger) (*cluster, error) {
	c := &cluster{}
	var funded []common.Address
	mk := func(name string, provider bool) (*member, error) {
		repo := filepath.Join(dir, name)
		nc := node.DefaultConfig(true)
		nc.MDNS = false
		nc.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
		nc.Provide.Enabled = provider
		nc.Provide.MaxConcurrent = cfg.ProviderSlots
		nc.Provide.MaxJobDuration = node.Duration(time.Minute)
		if _, err := node.Init(repo, node.InitOptions{Dev: true, Config: &nc}); err != nil {
			return nil, fmt.Errorf("init %s: %w", name, err)
		}
		id, err := p2p.LoadIdentity(repo, "")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		funded = append(funded, id.Address)
		return &member{name: name, provider: provider, repo: repo, addr: id.Address, key: id.Key, peerID: id.PeerID.String()}, nil
	}
	for i := range cfg.Providers {
		m, err := mk(fmt.Sprintf("provider-%d", i+1), true)
		if err != nil {
			return nil, err
		}
		c.providers = append(c.providers, m)
	}
	for i := range cfg.Clients {
		m, err := mk(fmt.Sprintf("client-%d", i+1), false)
		if err != nil {
			return nil, err
		}
		c.clients = append(c.clients, m)
	}

	ch, err := devnet.Start(ctx, devnet.Config{RPCAddr: "127.0.0.1:0", Fund: funded, FundAmount: cfg.Fund,
		Logger: log.With("node", "devnet")})
	if err != nil {
		return nil, fmt.Errorf("devnet: %w", err)
	}
	c.chain = ch
	head, err := ch.Client().BlockNumber(ctx)
	if err != nil {
		c.close()
		return nil, fmt.Errorf("devnet head: %w", err)
	}
	c.startBlock = head
	// Read the start balances now: the dev chain keeps the state of recent
	// blocks only, so after thousands of blocks the start block's state
	// can no longer be queried.
	if c.startBalances, err = c.balances(ctx, new(big.Int).SetUint64(head)); err != nil {
		c.close()
		return nil, err
	}

	info := ch.Info()
	for _, m := range c.all() {
		nc, err := node.LoadConfig(node.ConfigPath(m.repo), func(string) string { return "" })
		if err != nil {
			c.close()
			return nil, err
		}
		nc.Chain.RPC, nc.Chain.Contract = info.RPC, info.Contract.Hex()
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		n, err := node.Start(sctx, m.repo, nc, node.Options{Logger: log.With("node", m.name), Version: "load"})
		cancel()
		if err != nil {
			c.close()
			return nil, fmt.Errorf("start %s: %w", m.name, err)
		}
		m.n = n
		m.api = client.New(n.APIAddr(), n.Token(), m.repo)
		m.http = newAPIClient(n.APIAddr(), n.Token(), cfg.InFlight)
	}
	for _, p := range c.providers {
		id, err := p.api.ID(ctx)
		if err != nil || len(id.Addrs) == 0 {
			c.close()
			return nil, fmt.Errorf("%s: no listen address: %v", p.name, err)
		}
		for _, cl := range c.clients {
			if err := cl.api.Connect(ctx, id.Addrs[0]); err != nil {
				c.close()
				return nil, fmt.Errorf("connect %s to %s: %w", cl.name, p.name, err)
			}
		}
	}
	return c, nil
}

// close stops the daemons (clients first) and the chain.
func (c *cluster) close() error {
	var errs []error
	for _, m := range c.all() {
		if m.n == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := m.n.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", m.name, err))
		}
		cancel()
		m.http.close()
	}
	if c.chain != nil {
		errs = append(errs, c.chain.Close())
	}
	return errors.Join(errs...)
}

// balances reads every account's balance and the contract's at block num
// (nil: the head).
func (c *cluster) balances(ctx context.Context, num *big.Int) (map[common.Address]*big.Int, error) {
	out := map[common.Address]*big.Int{}
	ec := c.chain.Client()
	for _, a := range append(c.addrs(), c.chain.Contract()) {
		b, err := ec.BalanceAt(ctx, a, num)
		if err != nil {
			return nil, fmt.Errorf("balance of %s: %w", a, err)
		}
		out[a] = b
	}
	return out, nil
}

func (c *cluster) addrs() []common.Address {
	var out []common.Address
	for _, m := range c.all() {
		out = append(out, m.addr)
	}
	return out
}

// apiClient is the hot path of the load: submit and poll over one pooled
// keep-alive transport per daemon. The project's client.New keeps the
// net/http default of two idle connections per host, so 16+ concurrent
// pollers would open and close a connection per request and run a long
// load out of ephemeral ports (TIME_WAIT); this one keeps InFlight+4.
type apiClient struct {
	base, token string
	tr          *http.Transport
	hc          *http.Client
}

func newAPIClient(addr, token string, inflight int) *apiClient {
	tr := &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns: inflight + 4, MaxIdleConnsPerHost: inflight + 4, IdleConnTimeout: time.Minute}
	return &apiClient{base: "http://" + addr, token: token, tr: tr, hc: &http.Client{Transport: tr}}
}

func (a *apiClient) close() {
	if a != nil {
		a.tr.CloseIdleConnections()
	}
}
