package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/contracts/devnet"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/node"
	"github.com/cloudless-network/cloudless/node/client"
)

// spinWasm is the demo's hostile module: a _start that loops forever.
// Hand-assembled from this WAT (wat2wasm gives the same bytes):
//
//	(module
//	  (memory (export "memory") 1)
//	  (func (export "_start") (loop $l (br $l))))
//
// Only the provider's sandbox deadline stops it.
var spinWasm = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: func() -> ()
	0x03, 0x02, 0x01, 0x00, // function section: func 0 has type 0
	0x05, 0x03, 0x01, 0x00, 0x01, // memory section: one memory, min 1 page
	0x07, 0x13, 0x02, // export section, 2 exports
	0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00, // "_start" func 0
	0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00, // "memory" memory 0
	0x0a, 0x09, 0x01, 0x07, 0x00, // code section, 1 body of 7 bytes, no locals
	0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // loop; br 0; end; end
}

// demoProviders are the three sellers: same hardware, different prices per
// job (wei); the per-second price is the dev default.
var demoProviders = []struct {
	name  string
	price string
}{
	{"provider-a", "10000000000000"}, // 10 µETH per job
	{"provider-b", "20000000000000"}, // 20 µETH
	{"provider-c", "40000000000000"}, // 40 µETH
}

type demoOptions struct {
	examples string
	manifest string
	timeout  time.Duration
	keep     bool
}

func newDemoCmd(g *globalFlags) *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a whole local marketplace: dev chain, three providers, a client, real jobs",
		Long: `demo starts, in this process, the embedded dev chain, three provider
daemons with different prices and a client daemon (throwaway repos in a temp
directory, loopback only, port 0 everywhere), publishes the example functions,
and runs jobs through the client's market: hello paid by escrow, sha256 paid
through a payment channel (three jobs, one channel), wordfreq on two providers
(redundancy 2) and a hostile module that loops forever, is stopped by the
provider's sandbox and is refunded (the demo moves the dev chain's clock past
the deal deadline). Then it deploys the functions of examples/cloudless.yaml
to the client daemon, which serves the HTTP gateway, and calls each over
HTTP: one on the market, paid per call on the channel, one on the daemon's
own executor. It prints what ran where, at what price, and the balances
before and after, then shuts everything down.

It is also a smoke test: it exits non-zero when any step does not behave as
designed. The example modules come from ` + "`make examples`" + ` (--examples DIR).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d := &demo{opts: o, json: g.json, out: cmd.OutOrStdout()}
			return d.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.examples, "examples", filepath.Join("build", "examples"), "directory with hello.wasm, sha256.wasm and wordfreq.wasm (`make examples`)")
	f.StringVar(&o.manifest, "manifest", filepath.Join("examples", "cloudless.yaml"), "functions to deploy and call through the client's HTTP gateway (skipped when missing)")
	f.DurationVar(&o.timeout, "timeout", 3*time.Minute, "give up (and fail) after this long")
	f.BoolVar(&o.keep, "keep", false, "keep the temp directory (repos, logs) after a successful run")
	return cmd
}

// demoRow is one line of the job table.
type demoRow struct {
	Job       string   `json:"job"`
	Pay       string   `json:"pay"`
	Providers []string `json:"providers"`
	Bids      int      `json:"bids"`             // bids the client chose from
	Direct    bool     `json:"direct,omitempty"` // awarded without bids: open channel to the book's first pick
	Price     string   `json:"price"`            // what the client paid, formatted
	PaidWei   string   `json:"paid_wei"`
	TimeMS    int64    `json:"time_ms"`
	Channel   string   `json:"channel,omitempty"` // payment channel used
	State     string   `json:"state"`
	ExitCode  *int     `json:"exit_code,omitempty"`
	Result    string   `json:"result"`
	ID        string   `json:"id"`
	OK        bool     `json:"ok"`
	Problem   string   `json:"problem,omitempty"`
}

// demoBalance is one node's money at one point.
type demoBalance struct {
	Node         string `json:"node"`
	Address      string `json:"address"`
	Ether        string `json:"ether_wei"`
	Withdrawable string `json:"withdrawable_wei"` // credits in the contract
	Earned       string `json:"earned_wei"`
	Spent        string `json:"spent_wei"`
	Channels     int    `json:"channels"`
}

type demoReport struct {
	Rows   []demoRow     `json:"jobs"`
	Before []demoBalance `json:"balances_before"`
	After  []demoBalance `json:"balances_after"`
	Offers int           `json:"offers_seen"`
	// Functions are the HTTP calls of the deployed functions.
	Functions []demoCall `json:"functions,omitempty"`
	TotalMS   int64      `json:"total_ms"`
	OK        bool       `json:"ok"`
	Failures  []string   `json:"failures,omitempty"`
}

type demoNode struct {
	name string
	repo string
	n    *node.Node
	c    *client.Client
	id   client.ID
}

type demo struct {
	opts   demoOptions
	json   bool
	out    io.Writer
	dir    string
	log    *slog.Logger
	chain  *devnet.Chain
	nodes  []*demoNode // providers first, the client last
	cl     *demoNode
	rep    demoReport
	byPeer map[string]string // peer ID -> node name
}

func (d *demo) say(format string, args ...any) {
	if !d.json {
		fmt.Fprintf(d.out, format+"\n", args...)
	}
}

func (d *demo) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	d.rep.Failures = append(d.rep.Failures, msg)
	d.say("  FAIL: %s", msg)
}

func (d *demo) client() *demoNode { return d.cl }

func (d *demo) run(parent context.Context) (err error) {
	if parent == nil {
		parent = context.Background()
	}
	t0 := time.Now()
	mods, err := loadDemoModules(d.opts.examples)
	if err != nil {
		return err
	}
	if d.dir, err = os.MkdirTemp("", "cloudless-demo-"); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(d.dir, "demo.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	d.log = slog.New(slog.NewTextHandler(logf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(parent, d.opts.timeout)
	defer cancel()

	defer func() {
		ts := time.Now()
		sErr := d.shutdown()
		if sErr != nil {
			d.rep.Failures = append(d.rep.Failures, "shutdown: "+sErr.Error())
		}
		d.rep.TotalMS = time.Since(t0).Milliseconds()
		if err == nil {
			d.rep.OK = len(d.rep.Failures) == 0
			d.print()
			if sErr == nil {
				d.say("shut down 4 daemons and the dev chain cleanly in %s; total %s", time.Since(ts).Round(10*time.Millisecond), time.Since(t0).Round(100*time.Millisecond))
			}
			if !d.rep.OK {
				err = &ExitCodeError{Code: 1, Err: fmt.Errorf("demo: %d step(s) did not behave as designed: %s (logs in %s)", len(d.rep.Failures), d.rep.Failures[0], d.dir)}
			}
		} else {
			err = fmt.Errorf("demo: %w (logs in %s)", err, d.dir)
		}
		if err == nil && !d.opts.keep {
			os.RemoveAll(d.dir)
		}
	}()

	if err := d.start(ctx); err != nil {
		return err
	}
	if err := d.balances(ctx, &d.rep.Before); err != nil {
		return err
	}
	if err := d.jobs(ctx, mods); err != nil {
		return err
	}
	d.functions(ctx)
	if err := d.settle(ctx); err != nil {
		d.fail("%v", err)
	}
	if err := d.balances(ctx, &d.rep.After); err != nil {
		return err
	}
	d.checkMoney()
	return nil
}

func loadDemoModules(dir string) (map[string][]byte, error) {
	mods := map[string][]byte{"spin": spinWasm}
	for _, name := range []string{"hello", "sha256", "wordfreq"} {
		b, err := os.ReadFile(filepath.Join(dir, name+".wasm"))
		if err != nil {
			return nil, fmt.Errorf("example module %s.wasm: %w; build them with `make examples` or pass --examples DIR", name, err)
		}
		mods[name] = b
	}
	return mods, nil
}

// start runs the dev chain and the four daemons. The client starts first
// and is the providers' bootstrap peer, so they are connected to it when
// they announce their first offer.
func (d *demo) start(ctx context.Context) error {
	t0 := time.Now()
	ch, err := devnet.Start(ctx, devnet.Config{RPCAddr: "127.0.0.1:0", Logger: d.log.With("part", "devnet")})
	if err != nil {
		return fmt.Errorf("dev chain: %w", err)
	}
	d.chain = ch
	info := ch.Info()
	d.say("dev chain    %s  contract %s", info.RPC, info.Contract.Hex())
	d.byPeer = map[string]string{}
	specs := append([]struct{ name, price string }{{"client", ""}}, demoProviders...)
	for _, s := range specs {
		dn := &demoNode{name: s.name, repo: filepath.Join(d.dir, s.name)}
		cfg := node.DefaultConfig(true) // loopback, port 0 everywhere, DHT server
		cfg.MDNS = false                // stay out of other nodes on this machine
		cfg.Chain.RPC, cfg.Chain.Contract = info.RPC, info.Contract.Hex()
		if d.cl != nil {
			cfg.Bootstrap = d.cl.id.Addrs
		} else {
			cfg.Gateway = "127.0.0.1:0" // the client serves the functions' gateway
		}
		if s.price != "" {
			cfg.Provide.Enabled = true
			if cfg.Provide.PricePerJob, err = node.ParseWei(s.price); err != nil {
				return err
			}
		}
		id, err := node.Init(dn.repo, node.InitOptions{Dev: true, Config: &cfg})
		if err != nil {
			return fmt.Errorf("%s: init: %w", s.name, err)
		}
		if err := ch.Fund(ctx, devnet.DefaultFundAmount, common.HexToAddress(id.Address)); err != nil {
			return fmt.Errorf("%s: fund: %w", s.name, err)
		}
		dn.n, err = node.Start(ctx, dn.repo, &cfg, node.Options{Logger: d.log.With("node", s.name), Version: "demo"})
		if err != nil {
			return fmt.Errorf("%s: start: %w", s.name, err)
		}
		if d.cl == nil {
			d.cl = dn
		} else {
			d.nodes = append(d.nodes, dn)
		}
		if dn.c, err = client.DialAPI(dn.repo); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if dn.id, err = dn.c.ID(ctx); err != nil {
			return fmt.Errorf("%s: id: %w", s.name, err)
		}
		d.byPeer[dn.id.PeerID] = s.name
		role := "client"
		if s.price != "" {
			role = "provider, " + fmtWei(s.price) + " per job"
		}
		d.say("%-12s %s  %s  (%s)", s.name, dn.id.PeerID, dn.id.Address, role)
	}
	d.nodes = append(d.nodes, d.cl) // stopped first, listed last
	d.say("started a dev chain and %d daemons in %s", len(d.nodes), time.Since(t0).Round(10*time.Millisecond))
	return nil
}

// waitOffers polls the client's offer book briefly. Providers announce at
// start (before anyone is connected) and then every offer interval, or
// when their capacity changes; a job request that finds the book empty is
// gossiped to every provider, who bid on it. Either way the client picks
// among bids.
func (d *demo) waitOffers(ctx context.Context, want int, wait time.Duration) int {
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	n := 0
	_ = pollUntil(wctx, 100*time.Millisecond, func() (bool, error) {
		os, err := d.client().c.Offers(wctx)
		n = len(os)
		return n >= want, err
	})
	d.rep.Offers = max(d.rep.Offers, n)
	return n
}

type demoJob struct {
	name       string
	module     string // key in mods
	args       []string
	env        map[string]string
	stdin      []byte
	pay        string
	redundancy int
	timeout    string
	check      func(j *market.Job, cj client.Job) error
	hostile    bool
}

func (d *demo) jobs(ctx context.Context, mods map[string][]byte) error {
	cl := d.client().c
	cids := map[string]string{}
	for _, name := range []string{"hello", "sha256", "wordfreq", "spin"} {
		pub, err := cl.Publish(ctx, bytes.NewReader(mods[name]), name+".wasm")
		if err != nil {
			return fmt.Errorf("publish %s: %w", name, err)
		}
		cids[name] = pub.CID
	}
	d.say("published hello, sha256, wordfreq and the hostile spin module on the client")

	text := []byte(demoText)
	data := make([][]byte, 3)
	for i := range data {
		data[i] = bytes.Repeat([]byte(fmt.Sprintf("cloudless block %d\n", i)), 4096*(i+1))
	}
	sha := func(b []byte) func(*market.Job, client.Job) error {
		want := hex.EncodeToString(func() []byte { s := sha256.Sum256(b); return s[:] }())
		return func(j *market.Job, _ client.Job) error {
			if !strings.HasPrefix(string(j.Stdout), want) {
				return fmt.Errorf("digest %q, want %s", firstLine(j.Stdout), want)
			}
			return nil
		}
	}
	jobs := []demoJob{
		{name: "hello", module: "hello", args: []string{"cloudless"}, env: map[string]string{"GREETING": "Hello"}, pay: "escrow",
			check: func(j *market.Job, _ client.Job) error {
				if !strings.Contains(string(j.Stdout), "cloudless") {
					return fmt.Errorf("stdout %q lacks the argument", firstLine(j.Stdout))
				}
				return nil
			}},
		{name: "sha256 #1", module: "sha256", stdin: data[0], pay: "channel", check: sha(data[0])},
		{name: "sha256 #2", module: "sha256", stdin: data[1], pay: "channel", check: sha(data[1])},
		{name: "sha256 #3", module: "sha256", stdin: data[2], pay: "channel", check: sha(data[2])},
		{name: "wordfreq k=2", module: "wordfreq", args: []string{"-n", "3"}, stdin: text, pay: "escrow", redundancy: 2,
			check: func(j *market.Job, _ client.Job) error {
				if !strings.Contains(string(j.Stdout), "the") {
					return fmt.Errorf("top words %q lack \"the\"", firstLine(j.Stdout))
				}
				return nil
			}},
		{name: "hostile loop", module: "spin", pay: "escrow", timeout: "1s", hostile: true},
	}
	// Wait for every provider's offer: the client asks the providers in
	// its book directly and gossips the request only when too few bid. A
	// lost first offer is repeated at the next offer interval (30 s).
	t0 := time.Now()
	n := d.waitOffers(ctx, len(demoProviders), 35*time.Second)
	d.say("offer book: %d offer(s) after %s", n, time.Since(t0).Round(10*time.Millisecond))
	if n < len(demoProviders) {
		d.fail("offer book has %d of %d providers' offers", n, len(demoProviders))
	}
	d.say("")
	for _, jb := range jobs {
		row := d.runJob(ctx, jb, cids)
		d.rep.Rows = append(d.rep.Rows, row)
		if !row.OK {
			d.fail("%s: %s", row.Job, row.Problem)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	// The channel jobs that went to one provider reuse one channel: a
	// single on-chain deposit, then vouchers.
	chans := map[string]map[string]bool{} // provider -> channels
	for _, r := range d.rep.Rows {
		if r.Pay != "channel" || len(r.Providers) != 1 {
			continue
		}
		if r.Channel == "" {
			d.fail("%s: paid by channel but names no channel", r.Job)
			continue
		}
		if chans[r.Providers[0]] == nil {
			chans[r.Providers[0]] = map[string]bool{}
		}
		chans[r.Providers[0]][r.Channel] = true
	}
	for p, cs := range chans {
		if len(cs) != 1 {
			d.fail("channel jobs on %s used %d channels, want one reused", p, len(cs))
		}
	}
	// Providers re-announce when their capacity changes, so after the jobs
	// the book has offers in it.
	n = d.waitOffers(ctx, 1, 5*time.Second)
	os, err := cl.Offers(ctx)
	if err != nil {
		return err
	}
	d.say("")
	d.say("offer book after the jobs: %d offer(s)", n)
	for _, o := range os {
		d.say("  %-12s %s per job + %s per second per %d MiB, %d free slot(s)", d.name(o.Provider), fmtWei(o.PricePerJob), fmtWei(o.PricePerSecond), o.MemoryTier>>20, o.FreeSlots)
	}
	d.say("")
	return nil
}

func (d *demo) name(peerID string) string {
	if n := d.byPeer[peerID]; n != "" {
		return n
	}
	return peerID
}

func (d *demo) runJob(ctx context.Context, jb demoJob, cids map[string]string) demoRow {
	row := demoRow{Job: jb.name, Pay: jb.pay, Price: "-", PaidWei: "0"}
	cl := d.client().c
	spec := map[string]any{
		"module":        cids[jb.module],
		"deterministic": true,
		"price":         map[string]any{"max": "0.01 ether"},
	}
	if jb.args != nil {
		spec["args"] = jb.args
	}
	if jb.env != nil {
		spec["env"] = jb.env
	}
	if jb.redundancy > 0 {
		spec["redundancy"] = jb.redundancy
	}
	to := jb.timeout
	if to == "" {
		to = "20s"
	}
	spec["resources"] = map[string]any{"timeout": to, "memory": "64MiB"}
	t0 := time.Now()
	if jb.stdin != nil {
		pub, err := cl.Publish(ctx, bytes.NewReader(jb.stdin), "stdin")
		if err != nil {
			row.Problem = "publish stdin: " + err.Error()
			return row
		}
		spec["stdin"] = pub.CID
	}
	sub, err := cl.Run(ctx, map[string]any{"spec": spec, "pay": jb.pay})
	if err != nil {
		row.Problem = "submit: " + err.Error()
		return row
	}
	row.ID = sub.ID
	var cj client.Job
	err = pollUntil(ctx, 100*time.Millisecond, func() (bool, error) {
		var err error
		cj, err = cl.Job(ctx, sub.ID)
		switch cj.State {
		case "paid", "failed", "refunded", "cancelled":
			return true, nil
		}
		return false, err
	})
	if err == nil && jb.hostile && cj.State == "failed" {
		cj, err = d.awaitRefund(ctx, sub.ID)
	}
	row.TimeMS = time.Since(t0).Milliseconds()
	row.State = cj.State
	if err != nil {
		row.Problem = fmt.Sprintf("stuck in %q: %v", cj.State, err)
		return row
	}
	var j market.Job
	if err := json.Unmarshal(cj.Detail, &j); err != nil {
		row.Problem = "job detail: " + err.Error()
		return row
	}
	row.Bids, row.Direct = j.Bids, j.Direct
	for _, a := range j.Assigned {
		row.Providers = append(row.Providers, d.name(a.Provider.String()))
		if a.Channel != (common.Hash{}) {
			row.Channel = a.Channel.Hex()
		}
	}
	if j.Paid != nil {
		row.PaidWei = j.Paid.String()
		row.Price = fmtWei(row.PaidWei)
	}
	if cj.ExitCode != nil {
		row.ExitCode = cj.ExitCode
	}
	if jb.hostile {
		return d.judgeHostile(row, &j, cj)
	}
	k := max(jb.redundancy, 1)
	switch {
	case cj.State != "paid":
		row.Problem = fmt.Sprintf("ended %s: %s", cj.State, cj.Error)
	case len(j.Assigned) != k:
		row.Problem = fmt.Sprintf("ran on %d providers, want %d", len(j.Assigned), k)
	case cj.ExitCode == nil || *cj.ExitCode != 0:
		row.Problem = fmt.Sprintf("exit code %v", cj.ExitCode)
	case j.Paid == nil || j.Paid.Sign() <= 0:
		row.Problem = "nothing paid for a good result"
	case j.Bids < 2 && !j.Direct:
		row.Problem = fmt.Sprintf("%d bid(s): the client had no choice among the three providers", j.Bids)
	}
	if k > 1 && len(j.Assigned) == k && j.Assigned[0].Provider == j.Assigned[1].Provider {
		row.Problem = "redundant copies ran on the same provider"
	}
	if row.Problem == "" && jb.check != nil {
		if err := jb.check(&j, cj); err != nil {
			row.Problem = err.Error()
		}
	}
	row.Result = firstLine(j.Stdout)
	if k > 1 {
		row.Result = fmt.Sprintf("%d/%d agree: %s", k, k, row.Result)
	}
	row.OK = row.Problem == ""
	return row
}

// awaitRefund follows a stopped escrow job to its refund. The client may
// refund only after the deal deadline (job timeout + the client's result
// margin, 60 s by default, in chain time), so the demo moves the dev
// chain's clock past it instead of waiting, and then polls the client's
// job until its settle loop (every 2 s) has refunded the deal.
func (d *demo) awaitRefund(ctx context.Context, id string) (client.Job, error) {
	var cj client.Job
	actx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	// The dev chain refuses to move its clock while transactions are
	// pending; retry until it does.
	if err := pollUntil(actx, 50*time.Millisecond, func() (bool, error) {
		err := d.chain.AdjustTime(2 * time.Minute)
		return err == nil, err
	}); err != nil {
		return cj, fmt.Errorf("advance chain time past the deal deadline: %w", err)
	}
	d.say("  hostile loop stopped; chain time moved 2 min past the deal deadline so the client can refund")
	err := pollUntil(actx, 100*time.Millisecond, func() (bool, error) {
		var err error
		cj, err = d.client().c.Job(actx, id)
		return cj.State == "refunded", err
	})
	if err != nil {
		return cj, fmt.Errorf("escrow not refunded within 20 s of the deadline: %w", err)
	}
	return cj, nil
}

// judgeHostile checks the infinite loop: the provider's sandbox must stop
// it at its deadline, the client must not pay for it, and the escrow must
// come back to the client.
func (d *demo) judgeHostile(row demoRow, j *market.Job, cj client.Job) demoRow {
	var why []string
	for _, a := range j.Assigned {
		if a.Error != "" && !slices.Contains(why, a.Error) && !strings.HasSuffix(j.Error, a.Error) {
			why = append(why, a.Error)
		}
	}
	if j.Error != "" {
		why = append(why, strings.TrimPrefix(j.Error, "market: job stopped by the sandbox: "))
	}
	row.Result = "stopped: " + firstLine([]byte(strings.Join(why, "; ")))
	if row.ExitCode == nil && j.ExitCode != 0 {
		code := int(j.ExitCode) // the API reports exit codes of paid results only
		row.ExitCode = &code
	}
	if len(why) == 0 && cj.ExitCode != nil {
		row.Result = fmt.Sprintf("stopped: exit %d", *cj.ExitCode)
	}
	stopped := len(j.Assigned) > 0 && (cj.ExitCode != nil && *cj.ExitCode != 0 || len(why) > 0)
	switch {
	case len(j.Assigned) == 0:
		row.Problem = fmt.Sprintf("never ran (%s: %s)", cj.State, cj.Error)
	case !stopped:
		row.Problem = "the loop was not reported as stopped"
	case j.Paid != nil && j.Paid.Sign() > 0:
		row.Problem = fmt.Sprintf("the client was charged %s for a module the sandbox had to stop (%s)", fmtWei(j.Paid.String()), strings.TrimPrefix(row.Result, "stopped: "))
	case cj.State != "refunded":
		row.Problem = fmt.Sprintf("ended %s, want refunded (%s)", cj.State, strings.TrimPrefix(row.Result, "stopped: "))
	}
	if row.Problem == "" {
		row.Result += "; escrow refunded, 0 paid"
	}
	row.OK = row.Problem == ""
	return row
}

// settle waits for the providers' books to catch up with the client's:
// a provider marks a job paid at its next settle tick.
func (d *demo) settle(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var spent, earned *big.Int
	err := pollUntil(sctx, 200*time.Millisecond, func() (bool, error) {
		w, err := d.client().c.Wallet(sctx)
		if err != nil {
			return false, err
		}
		spent = bigOf(w.Spent)
		earned = new(big.Int)
		for _, p := range d.nodes[:len(d.nodes)-1] {
			pw, err := p.c.Wallet(sctx)
			if err != nil {
				return false, err
			}
			earned.Add(earned, bigOf(pw.Earned))
		}
		return spent.Cmp(earned) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("providers earned %s but the client spent %s: %v", fmtBig(earned), fmtBig(spent), err)
	}
	return nil
}

func (d *demo) balances(ctx context.Context, dst *[]demoBalance) error {
	*dst = nil
	for _, dn := range d.nodes {
		w, err := dn.c.Wallet(ctx)
		if err != nil {
			return fmt.Errorf("%s wallet: %w", dn.name, err)
		}
		*dst = append(*dst, demoBalance{Node: dn.name, Address: w.Address, Ether: w.Balance, Withdrawable: w.Withdrawable,
			Earned: w.Earned, Spent: w.Spent, Channels: len(w.Channels)})
	}
	return nil
}

// checkMoney: the client spent what the rows say it paid, and nobody
// earned on the hostile job.
func (d *demo) checkMoney() {
	paid := new(big.Int)
	for _, r := range d.rep.Rows {
		paid.Add(paid, bigOf(r.PaidWei))
	}
	for _, c := range d.rep.Functions {
		paid.Add(paid, bigOf(c.PaidWei))
		paid.Add(paid, bigOf(c.WarmPaid))
	}
	cl := d.rep.After[len(d.rep.After)-1]
	if spent := bigOf(cl.Spent); spent.Cmp(paid) != 0 {
		d.fail("client wallet says spent %s, the jobs paid %s", fmtBig(spent), fmtBig(paid))
	}
	before, after := bigOf(d.rep.Before[len(d.rep.Before)-1].Ether), bigOf(cl.Ether)
	if after.Cmp(before) >= 0 {
		d.fail("client ether did not go down (%s -> %s)", before, after)
	}
}

func (d *demo) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), node.DefaultShutdownTimeout)
	defer cancel()
	var errs []error
	for i := len(d.nodes) - 1; i >= 0; i-- {
		if err := d.nodes[i].n.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.nodes[i].name, err))
		}
	}
	if d.chain != nil {
		if err := d.chain.Close(); err != nil {
			errs = append(errs, fmt.Errorf("dev chain: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (d *demo) print() {
	if d.json {
		enc := json.NewEncoder(d.out)
		enc.SetIndent("", "  ")
		_ = enc.Encode(d.rep)
		return
	}
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tPAY\tBIDS\tPROVIDER(S)\tPAID\tTIME\tSTATE\tEXIT\tRESULT\t")
	for _, r := range d.rep.Rows {
		exit := "-"
		if r.ExitCode != nil {
			exit = fmt.Sprint(*r.ExitCode)
		}
		res := r.Result
		if !r.OK {
			res = "FAIL: " + r.Problem
		}
		if len(res) > 100 {
			res = res[:97] + "..."
		}
		bids := fmt.Sprint(r.Bids)
		if r.Direct {
			bids = "direct"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Job, r.Pay, bids, strings.Join(r.Providers, ","), r.Price,
			(time.Duration(r.TimeMS) * time.Millisecond).Round(10*time.Millisecond), r.State, exit, res)
	}
	tw.Flush()
	fmt.Fprintln(d.out)
	tw = tabwriter.NewWriter(d.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "NODE\tETHER BEFORE\tETHER AFTER\tCHANGE\tIN CONTRACT BEFORE\tIN CONTRACT AFTER\tEARNED\tSPENT\t")
	for i, a := range d.rep.After {
		b := d.rep.Before[i]
		change := new(big.Int).Sub(bigOf(a.Ether), bigOf(b.Ether))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", a.Node, fmtEther(b.Ether), fmtEther(a.Ether), fmtSigned(change),
			fmtBig(bigOf(b.Withdrawable)), fmtBig(bigOf(a.Withdrawable)), fmtBig(bigOf(a.Earned)), fmtBig(bigOf(a.Spent)))
	}
	tw.Flush()
	fmt.Fprintln(d.out, "(ether change of the client includes gas and the channel deposit; IN CONTRACT is what a provider can withdraw;")
	fmt.Fprintln(d.out, " channel earnings stay in vouchers until the provider redeems them)")
	for _, f := range d.rep.Failures {
		fmt.Fprintln(d.out, "FAIL:", f)
	}
	if d.rep.OK {
		fmt.Fprintln(d.out, "every step behaved as designed")
	}
}

// pollUntil calls cond every interval until it holds or ctx ends (the
// demo waits on real networks and a real chain).
func pollUntil(ctx context.Context, interval time.Duration, cond func() (bool, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), last)
		case <-t.C:
		}
	}
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " ..."
	}
	return s
}

func bigOf(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return new(big.Int)
	}
	return v
}

func fmtBig(v *big.Int) string {
	if v == nil {
		return "0"
	}
	return fmtWei(v.String())
}

func fmtSigned(v *big.Int) string {
	if v.Sign() < 0 {
		return "-" + fmtEther(new(big.Int).Neg(v).String())
	}
	return "+" + fmtEther(v.String())
}

// fmtWei prints small amounts in µETH (the demo's prices).
func fmtWei(s string) string {
	v := bigOf(s)
	if v.Sign() == 0 {
		return "0"
	}
	f, _ := new(big.Float).Quo(new(big.Float).SetInt(v), big.NewFloat(1e12)).Float64()
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", f), "0"), ".") + " µETH"
}

// fmtEther prints balances in ether with 6 decimals.
func fmtEther(s string) string {
	f, _ := new(big.Float).Quo(new(big.Float).SetInt(bigOf(s)), big.NewFloat(1e18)).Float64()
	return fmt.Sprintf("%.6f ETH", f)
}

// demoText is the wordfreq input: the opening of A Tale of Two Cities
// (public domain).
const demoText = `It was the best of times, it was the worst of times, it was the age of
wisdom, it was the age of foolishness, it was the epoch of belief, it was the
epoch of incredulity, it was the season of Light, it was the season of
Darkness, it was the spring of hope, it was the winter of despair, we had
everything before us, we had nothing before us, we were all going direct to
Heaven, we were all going direct the other way.
`
