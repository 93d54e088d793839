package trigger

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/market/wire"
)

// fnCID is a valid CID for functions whose module is never run (the
// recording invoker stands in for the sandbox in registry tests; the real
// invokers run in TestServiceLocalInvoker and the gateway tests).
const fnCID = testCID

// recInvoker records invocations and answers with out (a fresh copy each
// time, with a job ID) or err.
type recInvoker struct {
	mu    sync.Mutex
	calls []recCall
	ch    chan recCall
	out   Output
	err   error
	block chan struct{} // when set, Invoke waits for it (or ctx)
	n     atomic.Int64
}

type recCall struct {
	fn  string
	inv Invocation
}

func newRecInvoker() *recInvoker { return &recInvoker{ch: make(chan recCall, 1024)} }

func (r *recInvoker) Invoke(ctx context.Context, fn *Function, inv Invocation) (*Output, error) {
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := recCall{fn.Name, inv}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	r.ch <- c
	if r.err != nil {
		return nil, r.err
	}
	out := r.out
	out.JobID = fmt.Sprintf("job-%d", r.n.Add(1))
	if out.Price != nil {
		out.Price = new(big.Int).Set(out.Price)
	}
	return &out, nil
}

func (r *recInvoker) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// next waits for the next invocation (the triggers run on real
// goroutines; fsnotify and gossip on real time).
func (r *recInvoker) next(t testing.TB) recCall {
	t.Helper()
	select {
	case c := <-r.ch:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for an invocation")
		return recCall{}
	}
}

func ether(s string) *big.Int {
	v, err := wire.ParseWei(s + " ether")
	if err != nil {
		panic(err)
	}
	return v
}

// httpFn is a market function with an http trigger.
func httpFn(name, route string, methods ...string) Function {
	return Function{
		Name: name, Module: fnCID, Source: fnCID,
		Resources: wire.Resources{Memory: DefaultFnMemory, Timeout: DefaultFnTimeout, MaxOutput: DefaultFnMaxOutput},
		MaxPrice:  ether("0.001"), DailyCap: ether("0.01"), PayMode: wire.PayChannel, Deterministic: true,
		Triggers: []Trigger{{Kind: KindHTTP, Route: route, Methods: methods}},
	}
}

func withTriggers(fn Function, trs ...Trigger) Function {
	fn.Triggers = trs
	return fn
}

func renamed(fn Function, name string) Function {
	fn.Name = name
	return fn
}

type svcEnv struct {
	dir    string
	opts   ServiceOptions
	market *recInvoker
	local  *recInvoker
}

func newSvcEnv(t testing.TB) *svcEnv {
	e := &svcEnv{dir: t.TempDir(), market: newRecInvoker(), local: newRecInvoker()}
	e.opts = ServiceOptions{Dir: e.dir, Market: e.market, Local: e.local, Logger: quietLogger(), WatchSettle: 30 * time.Millisecond}
	return e
}

func (e *svcEnv) open(t testing.TB) *Service {
	t.Helper()
	s, err := NewService(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func names(fns []Function) string {
	var out []string
	for _, fn := range fns {
		out = append(out, fn.Name)
	}
	return strings.Join(out, ",")
}

func TestServiceDeployRouteRemove(t *testing.T) {
	e := newSvcEnv(t)
	s := e.open(t)
	ctx := context.Background()
	if err := s.Deploy(ctx, []Function{
		httpFn("root", "/"),
		httpFn("thumb", "/thumb", "POST"),
		httpFn("thumbsmall", "/thumb/small"),
	}); err != nil {
		t.Fatal(err)
	}
	if got := names(s.List()); got != "root,thumb,thumbsmall" {
		t.Fatalf("List = %s", got)
	}
	for _, tc := range []struct{ method, path, fn, route string }{
		{"POST", "/thumb", "thumb", "/thumb"},
		{"POST", "/thumb/x/y", "thumb", "/thumb"},
		{"GET", "/thumb/x", "root", "/"}, // thumb is POST only
		{"GET", "/thumb/small/x", "thumbsmall", "/thumb/small"},
		{"HEAD", "/thumb/small", "thumbsmall", "/thumb/small"},
		{"POST", "/thumbnail", "root", "/"}, // segment boundary
		{"GET", "/", "root", "/"},
	} {
		fn, route, ok := s.Route(tc.method, tc.path)
		if !ok || fn.Name != tc.fn || route != tc.route {
			t.Errorf("Route(%s %s) = %v %q %v, want %s %s", tc.method, tc.path, fn, route, ok, tc.fn, tc.route)
		}
	}

	// Redeploy replaces by name: thumb moves to /t.
	if err := s.Deploy(ctx, []Function{httpFn("thumb", "/t")}); err != nil {
		t.Fatal(err)
	}
	if fn, _, _ := s.Route("POST", "/thumb"); fn.Name != "root" {
		t.Errorf("old route still served by %s", fn.Name)
	}
	if fn, _, ok := s.Route("GET", "/t/1"); !ok || fn.Name != "thumb" {
		t.Errorf("new route not served")
	}
	// A route another deployed function serves is refused.
	err := s.Deploy(ctx, []Function{httpFn("other", "/thumb/small")})
	if !errors.Is(err, ErrBadFunction) || !strings.Contains(err.Error(), "already served by deployed function thumbsmall") {
		t.Fatalf("route clash: %v", err)
	}

	// The registry survives a restart.
	s.Close()
	s = e.open(t)
	if got := names(s.List()); got != "root,thumb,thumbsmall" {
		t.Fatalf("after restart List = %s", got)
	}
	if fn, _, ok := s.Route("GET", "/t"); !ok || fn.Name != "thumb" {
		t.Fatal("route lost in restart")
	}

	if err := s.Remove("thumb"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("thumb"); !errors.Is(err, ErrNoFunction) {
		t.Fatalf("second remove: %v", err)
	}
	if _, err := s.Logs("thumb", 5); !errors.Is(err, ErrNoFunction) {
		t.Fatalf("logs of removed: %v", err)
	}
	fn := httpFn("thumb", "/t")
	if _, err := s.Invoke(ctx, &fn, Invocation{Trigger: KindHTTP}); !errors.Is(err, ErrNoFunction) {
		t.Fatalf("invoke removed: %v", err)
	}
	if fn, _, _ := s.Route("GET", "/t"); fn.Name != "root" {
		t.Fatalf("removed route still served")
	}
}

func TestServiceDeployRefusals(t *testing.T) {
	e := newSvcEnv(t)
	watchDir := t.TempDir()
	noMarket := e.opts
	noMarket.Market, noMarket.Files, noMarket.Bus = nil, nil, nil
	noMarket.Dir = t.TempDir()
	s2, err := NewService(noMarket)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s := e.open(t)
	good := httpFn("good", "/good")
	local := httpFn("loc", "/loc")
	local.Local, local.MaxPrice, local.DailyCap = true, nil, nil

	tests := []struct {
		name string
		svc  *Service
		fns  []Function
		want string
	}{
		{"empty", s, nil, "nothing to deploy"},
		{"bad name", s, []Function{httpFn("a b", "/x")}, "function name"},
		{"path module", s, []Function{func() Function { f := httpFn("p", "/p"); f.Module = "/home/x/fn.wasm"; return f }()}, "is not a CID"},
		{"no price", s, []Function{func() Function { f := httpFn("p", "/p"); f.MaxPrice = nil; return f }()}, "price.max and price.daily are required"},
		{"daily below max", s, []Function{func() Function { f := httpFn("p", "/p"); f.DailyCap = ether("0.0001"); return f }()}, "less than price.max"},
		{"no triggers", s, []Function{withTriggers(httpFn("p", "/p"))}, "no triggers"},
		{"bad cron", s, []Function{withTriggers(httpFn("p", "/p"), Trigger{Kind: KindCron, Schedule: "61 * * * *"})}, "bad cron expression"},
		{"relative dir", s, []Function{withTriggers(httpFn("p", "/p"), Trigger{Kind: KindWatch, Dir: "inbox"})}, "absolute path"},
		{"missing dir", s, []Function{withTriggers(httpFn("p", "/p"), Trigger{Kind: KindWatch, Dir: filepath.Join(watchDir, "nope")})}, "does not exist"},
		{"bad topic", s, []Function{withTriggers(httpFn("p", "/p"), Trigger{Kind: KindTopic, Topic: "Up/loads"})}, "not a valid name"},
		{"unknown kind", s, []Function{withTriggers(httpFn("p", "/p"), Trigger{Kind: "smtp"})}, "unknown trigger kind"},
		{"bad route", s, []Function{httpFn("p", "x")}, "must start with /"},
		{"twice", s, []Function{good, good}, "given twice"},
		{"route clash in set", s, []Function{good, httpFn("g2", "/good")}, "both claim route /good"},
		{"no market", s2, []Function{good}, "no market"},
		{"no store for watch", s2, []Function{renamed(withTriggers(local, Trigger{Kind: KindWatch, Dir: watchDir}), "w")}, "need the daemon's IPFS store"},
		{"no p2p for topic", s2, []Function{renamed(withTriggers(local, Trigger{Kind: KindTopic, Topic: "x"}), "t")}, "need the daemon's p2p host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// good first: a refusal of a later function registers nothing.
			var fns []Function
			if tc.fns != nil {
				fns = append([]Function{local}, tc.fns...)
			}
			err := tc.svc.Deploy(context.Background(), fns)
			if !errors.Is(err, ErrBadFunction) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line wrapping ErrBadFunction with %q", err, tc.want)
			}
			if got := tc.svc.List(); len(got) != 0 {
				t.Fatalf("half registered: %s", names(got))
			}
		})
	}
}

// failBus refuses every subscription: the trigger that needs it fails to
// start after the others have started.
type failBus struct{}

func (failBus) Subscribe(string) (Feed, error) { return nil, errors.New("gossip is down") }
func (failBus) Publish(context.Context, string, []byte) error {
	return errors.New("gossip is down")
}

func TestServiceDeployRollback(t *testing.T) {
	e := newSvcEnv(t)
	e.opts.Bus = failBus{}
	e.opts.Files = fileStore{openStore(t)}
	clock := NewFakeClock(time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC))
	e.opts.Clock = clock
	s := e.open(t)
	ctx := context.Background()
	keep := httpFn("keep", "/keep")
	if err := s.Deploy(ctx, []Function{keep}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a := withTriggers(httpFn("a", "/a"), Trigger{Kind: KindCron, Schedule: "@every 1m"}, Trigger{Kind: KindWatch, Dir: dir})
	b := withTriggers(httpFn("keep", "/b"), Trigger{Kind: KindHTTP, Route: "/b"}, Trigger{Kind: KindTopic, Topic: "uploads"})
	err := s.Deploy(ctx, []Function{a, b})
	if !errors.Is(err, ErrBadFunction) || !strings.Contains(err.Error(), "function keep: topic trigger did not start: gossip is down") {
		t.Fatalf("err = %v", err)
	}
	// Nothing of a or b is registered, keep is unchanged, and a's cron
	// trigger (started before b's failed) is stopped again: no timer.
	if got := names(s.List()); got != "keep" {
		t.Fatalf("List = %s", got)
	}
	if fn, _, ok := s.Route("GET", "/keep"); !ok || fn.Name != "keep" {
		t.Fatal("keep's route was lost")
	}
	if _, _, ok := s.Route("GET", "/a"); ok {
		t.Fatal("a's route was registered")
	}
	clock.mu.Lock()
	pending := len(clock.timers)
	clock.mu.Unlock()
	if pending != 0 {
		t.Fatalf("%d cron timers left running after the rollback", pending)
	}
	if _, ok := s.cronLast(cronKey("a", "@every 1m")); ok {
		t.Fatal("the rolled-back cron trigger left its state")
	}
	s.Close()
	s = e.open(t)
	if got := names(s.List()); got != "keep" {
		t.Fatalf("after restart List = %s", got)
	}
}

func TestServiceDailyCap(t *testing.T) {
	e := newSvcEnv(t)
	clock := NewFakeClock(time.Date(2026, 3, 4, 23, 0, 0, 0, time.UTC))
	e.opts.Clock = clock
	reg := prometheus.NewRegistry()
	e.opts.Registerer = reg
	e.market.out = Output{Provider: "12D3KooWprov", ExitCode: 0, ResultCID: fnCID, Price: ether("0.0033")}
	s := e.open(t)
	ctx := context.Background()
	fn := httpFn("thumb", "/thumb")
	fn.MaxPrice, fn.DailyCap = ether("0.0034"), ether("0.01")
	if err := s.Deploy(ctx, []Function{fn}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := s.Invoke(ctx, &fn, Invocation{Trigger: KindHTTP, Detail: "GET /thumb"}); err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
	}
	// 0.0066 spent + 0.0034 max = 0.01: still within the cap.
	if _, err := s.Invoke(ctx, &fn, Invocation{Trigger: KindHTTP}); err != nil {
		t.Fatal(err)
	}
	if got := s.SpentToday("thumb"); got.Cmp(ether("0.0099")) != 0 {
		t.Fatalf("spent %s", got)
	}
	_, err := s.Invoke(ctx, &fn, Invocation{Trigger: KindHTTP})
	want := "function thumb would pass its daily cap of 0.01 ether (spent 0.0099 ether today)"
	if !errors.Is(err, ErrOverBudget) || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want ErrOverBudget with %q", err, want)
	}
	if e.market.count() != 3 {
		t.Fatalf("%d invocations reached the invoker, want 3", e.market.count())
	}
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetValue()
			}
			got[key] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	if got["cloudless_trigger_invocations_total,ok,http"] != 3 || got["cloudless_trigger_invocations_total,over_budget,http"] != 1 ||
		got["cloudless_trigger_functions"] != 1 || got["cloudless_trigger_spent_wei_total"] != 0.0099e18 {
		t.Fatalf("metrics %v", got)
	}

	// The spending survives a restart.
	s.Close()
	s = e.open(t)
	if _, err := s.Invoke(ctx, &fn, Invocation{Trigger: KindHTTP}); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("after restart: %v", err)
	}
	// A new UTC day starts from zero.
	clock.Advance(time.Hour)
	if got := s.SpentToday("thumb"); got.Sign() != 0 {
		t.Fatalf("spent %s on a new day", got)
	}
	if _, err := s.Invoke(ctx, &fn, Invocation{Trigger: KindHTTP}); err != nil {
		t.Fatalf("new day: %v", err)
	}

	// Logs: the refusals are recorded too, with their error.
	logs, err := s.Logs("thumb", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 6 {
		t.Fatalf("%d records, want 6", len(logs))
	}
	r := logs[0]
	if r.Trigger != KindHTTP || r.Detail != "GET /thumb" || r.JobID != "job-1" || r.Provider != "12D3KooWprov" || r.OutputCID != fnCID ||
		r.Price.Cmp(ether("0.0033")) != 0 || r.Error != "" || !r.Time.Equal(time.Date(2026, 3, 4, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("first record %+v", r)
	}
	if logs[3].Error == "" || !strings.Contains(logs[3].Error, "daily cap") || logs[3].JobID != "" {
		t.Errorf("refusal record %+v", logs[3])
	}
	if logs[5].Error != "" || logs[5].JobID != "job-4" {
		t.Errorf("last record %+v", logs[5])
	}
}

// TestServiceCapConcurrent: concurrent invocations reserve their max price
// before running, so however they interleave, no more run than the cap
// allows.
func TestServiceCapConcurrent(t *testing.T) {
	e := newSvcEnv(t)
	e.market.out = Output{Price: ether("0.001")}
	e.market.block = make(chan struct{})
	s := e.open(t)
	ctx := context.Background()
	fn := httpFn("f", "/f")
	fn.MaxPrice, fn.DailyCap = ether("0.001"), ether("0.005")
	if err := s.Deploy(ctx, []Function{fn}); err != nil {
		t.Fatal(err)
	}
	var ok, over atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := s.Invoke(ctx, &fn, Invocation{Trigger: KindHTTP})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrOverBudget):
				if over.Add(1) == 15 {
					close(e.market.block) // the 15 refusals are in: let the 5 run
				}
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 5 || over.Load() != 15 {
		t.Fatalf("%d ran, %d refused; want 5 and 15", ok.Load(), over.Load())
	}
	if got := s.SpentToday("f"); got.Cmp(ether("0.005")) != 0 {
		t.Fatalf("spent %s", got)
	}
	if logs, _ := s.Logs("f", 0); len(logs) != 20 {
		t.Fatalf("%d records", len(logs))
	}
}

func TestServiceLogRing(t *testing.T) {
	e := newSvcEnv(t)
	e.opts.LogSize = 3
	s := e.open(t)
	ctx := context.Background()
	fn := httpFn("f", "/f")
	fn.Local = true
	if err := s.Deploy(ctx, []Function{fn}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := s.Invoke(ctx, &fn, Invocation{Trigger: KindHTTP, Detail: fmt.Sprint("req ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if e.local.count() != 5 || e.market.count() != 0 {
		t.Fatalf("local %d market %d: a local function must run locally", e.local.count(), e.market.count())
	}
	check := func(n int, want ...string) {
		t.Helper()
		logs, err := s.Logs("f", n)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range logs {
			got = append(got, r.Detail)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("Logs(%d) = %v, want %v", n, got, want)
		}
	}
	check(0, "req 2", "req 3", "req 4")
	check(2, "req 3", "req 4")
	s.Close()
	s = e.open(t)
	check(10, "req 2", "req 3", "req 4")
	st := s.Statuses()
	if len(st) != 1 || st[0].Invocations != 3 || st[0].Last == nil || st[0].Last.Detail != "req 4" || st[0].SpentToday.Sign() != 0 {
		t.Fatalf("status %+v", st)
	}
}

func TestServiceInvokerError(t *testing.T) {
	e := newSvcEnv(t)
	e.market.err = fmt.Errorf("%w: no bids within 3s", ErrNoProvider)
	s := e.open(t)
	fn := httpFn("f", "/f")
	if err := s.Deploy(context.Background(), []Function{fn}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Invoke(context.Background(), &fn, Invocation{Trigger: KindHTTP}); !errors.Is(err, ErrNoProvider) {
		t.Fatalf("err = %v", err)
	}
	// The reservation is released: nothing spent, the next may run.
	if got := s.SpentToday("f"); got.Sign() != 0 {
		t.Fatalf("spent %s", got)
	}
	logs, _ := s.Logs("f", 1)
	if len(logs) != 1 || !strings.Contains(logs[0].Error, "no bids") {
		t.Fatalf("logs %+v", logs)
	}
}

func TestFormatEther(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0 ether", "1": "0.000000000000000001 ether", "10000000000000000": "0.01 ether",
		"1000000000000000000": "1 ether", "1500000000000000000": "1.5 ether", "9900000000000000": "0.0099 ether",
	} {
		v, _ := new(big.Int).SetString(in, 10)
		if got := formatEther(v); got != want {
			t.Errorf("formatEther(%s) = %q, want %q", in, got, want)
		}
	}
}

// fileStore adapts the real IPFS store to FilePublisher, as node does.
type fileStore struct{ storeContent }

func (f fileStore) AddPath(ctx context.Context, path string) (string, error) {
	c, err := f.st.AddPath(ctx, path)
	if err != nil {
		return "", err
	}
	return c.String(), nil
}

// TestServiceLocalInvoker runs a deployed local function on the real
// executor through the Service.
func TestServiceLocalInvoker(t *testing.T) {
	store := openStore(t)
	ex, err := executor.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close(context.Background()) })
	e := newSvcEnv(t)
	e.opts.Local = NewLocalInvoker(ex, store)
	s := e.open(t)
	fn := httpFn("echo", "/echo")
	fn.Module, fn.Local, fn.MaxPrice, fn.DailyCap = store.publish(t, "echo"), true, nil, nil
	if err := s.Deploy(context.Background(), []Function{fn}); err != nil {
		t.Fatal(err)
	}
	got, _, _ := s.Route("POST", "/echo/x")
	out, err := s.Invoke(context.Background(), got, Invocation{Trigger: KindHTTP, Detail: "POST /echo/x",
		Env: map[string]string{"REQUEST_METHOD": "POST", "PATH_INFO": "/x"}, Stdin: []byte("ping")})
	if err != nil {
		t.Fatal(err)
	}
	if out.ExitCode != 0 || !strings.HasSuffix(string(out.Stdout), "POST /x?\nping") || out.Provider != LocalProvider {
		t.Fatalf("out %+v stdout %q", out, out.Stdout)
	}
	logs, _ := s.Logs("echo", 1)
	if len(logs) != 1 || logs[0].JobID != out.JobID || logs[0].Provider != LocalProvider {
		t.Fatalf("logs %+v", logs)
	}
}

func TestNewServiceErrors(t *testing.T) {
	if _, err := NewService(ServiceOptions{}); err == nil {
		t.Fatal("no Dir accepted")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, DBFile), []byte("not a bolt file, not at all, nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewService(ServiceOptions{Dir: dir}); err == nil {
		t.Fatal("corrupt registry accepted")
	}
}
