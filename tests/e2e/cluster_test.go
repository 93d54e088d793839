package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/node/client"
)

// providerSpec is one provider daemon to start.
type providerSpec struct {
	name        string
	pricePerJob string // wei or "0.01 ether"
	slots       int    // provide.max_concurrent (default 2)
}

// clusterOpts shape a cluster.
type clusterOpts struct {
	providers []providerSpec
	// rpcProxy puts a TCP proxy the test controls between every node and
	// the devnet's JSON-RPC.
	rpcProxy bool
	// providersOnly: only the providers go through the proxy; the client
	// dials the devnet directly (a provider cut off from the chain).
	providersOnly bool
}

// cluster is a devnet, providers and one client, each a process.
type cluster struct {
	t       *testing.T
	ctx     context.Context
	dir     string
	devnet  *proc
	info    devnetOut
	rpc     string // what the nodes dial (the proxy's URL with rpcProxy)
	rpcProv bool   // only providers dial rpc; the client dials the devnet
	proxy   *proxy
	eth     *ethclient.Client
	mk      *contracts.Client // read-only use (faucet key)
	prov    []*node
	client  *node
	genesis uint64 // head block when the cluster was up
}

// provider by name.
func (c *cluster) provider(name string) *node {
	for _, p := range c.prov {
		if p.name == name {
			return p
		}
	}
	c.t.Fatalf("no provider %s", name)
	return nil
}

// The price per second is 0 so every job costs exactly its provider's
// price_per_job: the balance checks then know each price in advance.
const pricePerSecond = "0"

func newCluster(t *testing.T, o clusterOpts) *cluster {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	c := &cluster{t: t, ctx: ctx, dir: dir}
	start := time.Now()
	t.Cleanup(func() {
		if !t.Failed() && !t.Skipped() {
			writeFigure(t, t.Name(), "passed in "+time.Since(start).Round(time.Second).String())
		}
		if t.Failed() {
			dumpLogs(t, dir)
		}
		for _, p := range c.prov {
			p.close()
		}
		if c.client != nil {
			c.client.close()
		}
		if c.proxy != nil {
			c.proxy.close()
		}
		if c.devnet != nil {
			c.devnet.close()
		}
		if c.eth != nil {
			c.eth.Close()
		}
		cancel()
	})

	repos := []string{filepath.Join(dir, "client")}
	for _, p := range o.providers {
		repos = append(repos, filepath.Join(dir, p.name))
	}
	for _, r := range repos {
		res, err := runCLI(ctx, r, "init", "--dev", "--json")
		if err != nil || res.code != 0 {
			t.Fatalf("init %s: %v %s", r, err, res.stderr)
		}
	}
	dn, info, err := startDevnet(ctx, dir, repos)
	if err != nil {
		t.Fatal(err)
	}
	c.devnet, c.info, c.rpc = dn, info, info.RPC
	if c.eth, err = ethclient.DialContext(ctx, info.RPC); err != nil {
		t.Fatal(err)
	}
	key, err := crypto.HexToECDSA(strings.TrimPrefix(info.FaucetKey, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	if c.mk, err = contracts.New(ctx, c.eth, info.Contract, key); err != nil {
		t.Fatal(err)
	}
	if o.rpcProxy {
		target := strings.TrimPrefix(info.RPC, "http://")
		if c.proxy, err = newProxy(target); err != nil {
			t.Fatal(err)
		}
		c.rpc, c.rpcProv = "http://"+c.proxy.addr, o.providersOnly
	}

	for i, ps := range o.providers {
		slots := ps.slots
		if slots == 0 {
			slots = 2
		}
		n := &node{repo: repos[i+1], provider: true}
		n.proc = &proc{name: ps.name, logPath: filepath.Join(dir, ps.name+".log"),
			env: nodeEnv("CLOUDLESS_PROVIDE_PRICE_PER_JOB="+ps.pricePerJob, "CLOUDLESS_PROVIDE_PRICE_PER_SECOND="+pricePerSecond,
				fmt.Sprintf("CLOUDLESS_PROVIDE_MAX_CONCURRENT=%d", slots))}
		n.args = c.nodeArgs(n, []string{"/ip4/127.0.0.1/tcp/0"}, nil)
		if err := n.start(); err != nil {
			t.Fatal(err)
		}
		c.prov = append(c.prov, n)
	}
	for _, p := range c.prov {
		if err := p.waitUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cl := &node{repo: repos[0]}
	cl.proc = &proc{name: "client", logPath: filepath.Join(dir, "client.log"), env: nodeEnv()}
	var boot []string
	for _, p := range c.prov {
		boot = append(boot, p.tcpAddr())
	}
	cl.args = c.nodeArgs(cl, []string{"/ip4/127.0.0.1/tcp/0"}, boot)
	if err := cl.start(); err != nil {
		t.Fatal(err)
	}
	c.client = cl
	if err := cl.waitUp(ctx); err != nil {
		t.Fatal(err)
	}
	c.waitPeers(cl, len(c.prov))
	if c.genesis, err = c.eth.BlockNumber(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

// nodeEnv is a daemon's environment: clean, plus CLOUDLESS_LOG_LEVEL from
// $CLOUDLESS_E2E_LOG_LEVEL (e.g. debug) when set, plus extra.
func nodeEnv(extra ...string) []string {
	if lv := os.Getenv("CLOUDLESS_E2E_LOG_LEVEL"); lv != "" {
		extra = append(extra, "CLOUDLESS_LOG_LEVEL="+lv)
	}
	return cleanEnv(extra...)
}

// nodeArgs are a daemon's command line.
func (c *cluster) nodeArgs(n *node, listen, boot []string) []string {
	args := []string{"--repo", n.repo, "node", "--no-mdns"}
	if n.provider {
		args = append(args, "--provide")
	}
	for _, l := range listen {
		args = append(args, "--listen", l)
	}
	for _, b := range boot {
		args = append(args, "--bootstrap", b)
	}
	if c.rpc != c.info.RPC && (n.provider || !c.rpcProv) {
		args = append(args, "--chain-rpc", c.rpc, "--contract", c.info.Contract.Hex())
	}
	return args
}

// waitPeers waits until n is connected to at least want peers.
func (c *cluster) waitPeers(n *node, want int) {
	c.t.Helper()
	var got []client.Peer
	err := poll(c.ctx, 30*time.Second, func() bool {
		got = nil
		r, err := runCLI(c.ctx, n.repo, "peers", "--json")
		if err != nil || r.code != 0 {
			return false
		}
		_ = json.Unmarshal([]byte(r.stdout), &got)
		return len(got) >= want
	})
	if err != nil {
		c.t.Fatalf("%s: %d peers, want %d: %v", n.name, len(got), want, err)
	}
}

// kill SIGKILLs a node.
func (c *cluster) kill(n *node) { n.signal(syscall.SIGKILL) }

// restart starts a killed node again on the same listen ports.
func (c *cluster) restart(n *node) {
	c.t.Helper()
	// A restarted node rejoins through a bootstrap peer, as on a real
	// network: the client dials the providers, a provider dials the client.
	var boot []string
	if n.provider {
		boot = append(boot, c.client.tcpAddr())
	} else {
		for _, p := range c.prov {
			if p.running() {
				boot = append(boot, p.tcpAddr())
			}
		}
	}
	n.args = c.nodeArgs(n, n.boundListen(), boot)
	if err := n.start(); err != nil {
		c.t.Fatal(err)
	}
	if err := n.waitUp(c.ctx); err != nil {
		c.t.Fatal(err)
	}
}

// cli runs a command on n's repo and fails the test on a non-zero exit.
func (c *cluster) cli(n *node, args ...string) string {
	c.t.Helper()
	r, err := runCLI(c.ctx, n.repo, args...)
	if err != nil || r.code != 0 {
		c.t.Fatalf("%s: cloudless %s: exit %d %v\nstdout: %s\nstderr: %s", n.name, strings.Join(args, " "), r.code, err, r.stdout, r.stderr)
	}
	return r.stdout
}

// cliJSON runs a --json command and decodes its output into v.
func (c *cluster) cliJSON(n *node, v any, args ...string) {
	c.t.Helper()
	out := c.cli(n, append([]string{"--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("%s: cloudless --json %s: %v\n%s", n.name, strings.Join(args, " "), err, out)
	}
}

func (c *cluster) jobs(n *node) []client.Job {
	c.t.Helper()
	var js []client.Job
	c.cliJSON(n, &js, "job", "list")
	return js
}

func (c *cluster) wallet(n *node) client.Wallet {
	c.t.Helper()
	var w client.Wallet
	c.cliJSON(n, &w, "wallet", "balance")
	return w
}

// publish adds the spin module through the client's daemon.
func (c *cluster) publishSpin() string {
	c.t.Helper()
	wasm, err := filepath.Abs("testdata/spin.wasm")
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := os.Stat(wasm); err != nil {
		c.t.Fatalf("%v (build it: clang --target=wasm32-wasi --sysroot=/usr -O2 testdata/spin.c -o testdata/spin.wasm)", err)
	}
	return strings.TrimSpace(c.cli(c.client, "publish", "-q", wasm))
}

// submit starts a job with `run --detach --json` and returns its ID.
func (c *cluster) submit(args ...string) string {
	c.t.Helper()
	var j client.Job
	c.cliJSON(c.client, &j, append([]string{"run", "--detach"}, args...)...)
	if j.ID == "" {
		c.t.Fatalf("run --detach printed no job ID")
	}
	return j.ID
}

// settled: a job is over and its money settled: it ended (paid,
// refunded, failed or cancelled) and none of its escrow deals is still
// open. A failed job waits for Settle to refund its deal (then it is
// refunded); a paid job after --retry waits for the refund of the deal
// its silent first provider left open.
func settled(j client.Job) bool {
	switch j.State {
	case "paid", "refunded", "failed", "cancelled":
	default:
		return false
	}
	for _, a := range detail(j).Assigned {
		if a.DealID != (common.Hash{}) && a.State != "refunded" && a.State != "cancelled" && a.State != "paid" {
			return false
		}
	}
	return true
}

// waitSettled polls the client's job list until every job in ids is
// settled (or max passes) and returns the jobs by ID.
func (c *cluster) waitSettled(ids []string, max time.Duration) map[string]client.Job {
	c.t.Helper()
	var byID map[string]client.Job
	err := poll(c.ctx, max, func() bool {
		r, err := runCLI(c.ctx, c.client.repo, "--json", "job", "list")
		if err != nil || r.code != 0 {
			return false
		}
		var js []client.Job
		if json.Unmarshal([]byte(r.stdout), &js) != nil {
			return false
		}
		byID = map[string]client.Job{}
		for _, j := range js {
			byID[j.ID] = j
		}
		for _, id := range ids {
			if !settled(byID[id]) {
				return false
			}
		}
		return true
	})
	if err != nil {
		var open []string
		for _, id := range ids {
			if j := byID[id]; !settled(j) {
				open = append(open, fmt.Sprintf("%s=%s(%s)", id[:8], j.State, j.Error))
			}
		}
		c.t.Fatalf("jobs not settled: %v: %s", err, strings.Join(open, " "))
	}
	return byID
}
