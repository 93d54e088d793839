package trigger

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"
)

// DBFile is the Service's registry in the node repo: deployed functions,
// today's spending per function, the invocation logs and the last fire of
// every cron schedule (docs/rationale/trigger.md, "Service and triggers").
const DBFile = "trigger.db"

// DefaultLogSize is how many invocation records a function keeps.
const DefaultLogSize = 100

// bbolt buckets of DBFile.
var (
	bucketFunctions = []byte("functions") // name → Function JSON
	bucketSpend     = []byte("spend")     // name → spendRecord JSON
	bucketLogs      = []byte("logs")      // name → bucket of seq → Record JSON
	bucketCron      = []byte("cron")      // name NUL schedule → RFC 3339 time
)

// ServiceOptions are what a Service needs. Every dependency may be nil;
// then functions that need it are refused at deploy with a message saying
// what is missing.
type ServiceOptions struct {
	// Dir is the directory of DBFile (the node repo). Required.
	Dir string
	// Local runs functions with local: true (the daemon's executor).
	Local Invoker
	// Market runs the others (the market client, paying per use).
	Market Invoker
	// Files publishes new files of watch triggers to IPFS.
	Files FilePublisher
	// Bus carries topic triggers (gossipsub).
	Bus Bus
	// Clock drives cron triggers and the UTC day of the spending caps;
	// nil is the system clock.
	Clock Clock
	// Logger; nil discards.
	Logger *slog.Logger
	// Registerer gets the Service's metrics (service_metrics.go); nil
	// registers none.
	Registerer prometheus.Registerer
	// LogSize is the invocation records kept per function
	// (DefaultLogSize when 0).
	LogSize int
	// WatchSettle is how long a new file must see no writes before it is
	// published (DefaultWatchSettle when 0).
	WatchSettle time.Duration
	// TopicConcurrency bounds the invocations one topic trigger runs at
	// once (DefaultTopicConcurrency when 0); further messages wait.
	TopicConcurrency int
	// Jobs records every local invocation as a job (price 0, pay mode
	// ledger.PayLocal), written behind the call with its log record; nil
	// records none. Self is this node's peer ID, the provider of those
	// jobs ("" shows LocalProvider).
	Jobs JobBook
	Self string
}

// Record is one invocation in a function's log.
type Record struct {
	Time      time.Time     `json:"time"`
	Trigger   string        `json:"trigger"`
	Detail    string        `json:"detail,omitempty"`
	JobID     string        `json:"job_id,omitempty"`
	Provider  string        `json:"provider,omitempty"`
	ExitCode  int32         `json:"exit_code"`
	Duration  time.Duration `json:"duration"`
	Price     *big.Int      `json:"price,omitempty"`
	OutputCID string        `json:"output_cid,omitempty"`
	// Error is set when the function did not run to an exit code
	// (refused over budget, no provider, deadline...).
	Error string `json:"error,omitempty"`
}

// Status is a deployed function with its spending today, for listings.
type Status struct {
	Function
	// SpentToday is the wei paid for this function since 00:00 UTC.
	SpentToday *big.Int `json:"spent_today"`
	// Invocations counts the records in its log; Last is the newest.
	Invocations int     `json:"invocations"`
	Last        *Record `json:"last,omitempty"`
	// Errors are triggers that failed to start after a restart (a watched
	// directory deleted meanwhile); the function stays deployed.
	Errors []string `json:"errors,omitempty"`
}

// Service is the registry of deployed functions and the Dispatcher the
// triggers fire into: it starts each function's cron, watch and topic
// triggers, routes HTTP requests, enforces the daily spending caps, picks
// the invoker and logs every invocation. Everything it must remember
// across a restart is in DBFile. It is safe for concurrent use.
type Service struct {
	opts  ServiceOptions
	db    *bolt.DB
	log   *slog.Logger
	clock Clock
	m     *serviceMetrics

	ctx    context.Context
	cancel context.CancelFunc

	deployMu sync.Mutex // serializes Deploy and Remove

	mu      sync.Mutex
	fns     map[string]*deployed
	routes  []routeEntry // longest route first
	spend   map[string]*spendState
	started bool

	// The log writer (record, writer).
	logq       chan logEntry
	stopWriter chan struct{}
	writerDone chan struct{}

	closeOnce sync.Once
	closeErr  error
}

var _ Dispatcher = (*Service)(nil)

// deployed is a registered function and its running triggers.
type deployed struct {
	fn      *Function
	running []running
	errs    []string
}

// running is a started trigger; stop ends it and waits for its goroutines.
type running interface{ stop() }

type routeEntry struct {
	route string
	fn    *Function
	tr    *Trigger
}

// spendState is one function's spending on one UTC day: spent is paid,
// reserved is the max price of invocations in flight.
type spendState struct {
	day      string
	spent    *big.Int
	reserved *big.Int
}

type spendRecord struct {
	Day   string   `json:"day"`
	Spent *big.Int `json:"spent"`
}

// NewService opens (or creates) the registry in opts.Dir and starts the
// triggers of every function deployed before. A trigger that cannot start
// any more (its directory is gone) is logged and reported by List; the
// function stays registered.
//
// # Errors
//
// The registry cannot be opened (another process holds it, a corrupt
// file).
func NewService(opts ServiceOptions) (*Service, error) {
	if opts.Dir == "" {
		return nil, errors.New("trigger: ServiceOptions.Dir is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock()
	}
	if opts.LogSize <= 0 {
		opts.LogSize = DefaultLogSize
	}
	if opts.WatchSettle <= 0 {
		opts.WatchSettle = DefaultWatchSettle
	}
	if opts.TopicConcurrency <= 0 {
		opts.TopicConcurrency = DefaultTopicConcurrency
	}
	db, err := bolt.Open(filepath.Join(opts.Dir, DBFile), 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("trigger: open %s: %w", filepath.Join(opts.Dir, DBFile), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{
		opts: opts, db: db, log: opts.Logger, clock: opts.Clock, ctx: ctx, cancel: cancel, m: newServiceMetrics(opts.Registerer),
		fns: map[string]*deployed{}, spend: map[string]*spendState{},
		logq: make(chan logEntry, 4096), stopWriter: make(chan struct{}), writerDone: make(chan struct{}),
	}
	var fns []*Function
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketFunctions, bucketSpend, bucketLogs, bucketCron} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketFunctions).ForEach(func(k, v []byte) error {
			fn := new(Function)
			if err := json.Unmarshal(v, fn); err != nil {
				return fmt.Errorf("function %s: %w", k, err)
			}
			fns = append(fns, fn)
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bucketSpend).ForEach(func(k, v []byte) error {
			var r spendRecord
			if json.Unmarshal(v, &r) == nil && r.Spent != nil {
				s.spend[string(k)] = &spendState{day: r.Day, spent: r.Spent, reserved: new(big.Int)}
			}
			return nil
		})
	})
	if err != nil {
		cancel()
		db.Close()
		return nil, fmt.Errorf("trigger: read %s: %w", DBFile, err)
	}
	go s.writer()
	gate := make(chan struct{})
	defer close(gate)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, fn := range fns {
		d := &deployed{fn: fn}
		for i := range fn.Triggers {
			r, err := s.startTrigger(fn, &fn.Triggers[i], gate)
			if err != nil {
				msg := fmt.Sprintf("%s trigger: %v", fn.Triggers[i].Kind, err)
				d.errs = append(d.errs, msg)
				s.log.Warn("trigger did not start", "function", fn.Name, "err", msg)
				continue
			}
			if r != nil {
				d.running = append(d.running, r)
			}
		}
		s.fns[fn.Name] = d
	}
	s.rebuildRoutes()
	s.m.functions.Set(float64(len(s.fns)))
	s.log.Info("functions loaded", "count", len(fns))
	return s, nil
}

// Close stops every trigger (in-flight trigger invocations are cancelled)
// and closes the registry. Safe to call twice.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.deployMu.Lock()
		defer s.deployMu.Unlock()
		s.cancel()
		s.mu.Lock()
		all := s.fns
		s.fns = map[string]*deployed{}
		s.routes = nil
		s.mu.Unlock()
		for _, d := range all {
			stopAll(d.running)
		}
		close(s.stopWriter)
		<-s.writerDone
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

func stopAll(rs []running) {
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Go(r.stop)
	}
	wg.Wait()
}

// Deploy registers fns, replacing functions of the same names, and starts
// their triggers. It is all or nothing: every function is checked first,
// then every trigger started; if one fails, the triggers started are
// stopped again and the registry is as before.
//
// # Errors
//
// ErrBadFunction (wrapped, one line naming the function and the fix) for
// an invalid function or one whose trigger could not start; the
// registry's write error.
func (s *Service) Deploy(ctx context.Context, fns []Function) error {
	if len(fns) == 0 {
		return fmt.Errorf("%w: nothing to deploy: give at least one function", ErrBadFunction)
	}
	s.deployMu.Lock()
	defer s.deployMu.Unlock()
	if s.ctx.Err() != nil {
		return errors.New("trigger: service closed")
	}
	names := map[string]bool{}
	routes := map[string]string{}
	now := s.clock.Now().UTC()
	newFns := make([]*Function, len(fns))
	for i := range fns {
		fn := cloneFunction(&fns[i])
		fn.Deployed = now
		if names[fn.Name] {
			return fmt.Errorf("%w: function %s is given twice: give each function one definition", ErrBadFunction, fn.Name)
		}
		names[fn.Name] = true
		if err := s.check(fn); err != nil {
			return err
		}
		for _, tr := range fn.Triggers {
			if tr.Kind != KindHTTP {
				continue
			}
			if other, dup := routes[tr.Route]; dup {
				return fmt.Errorf("%w: functions %s and %s both claim route %s: give each its own", ErrBadFunction, other, fn.Name, tr.Route)
			}
			routes[tr.Route] = fn.Name
		}
		newFns[i] = fn
	}
	// Routes of functions that stay must not be claimed by another.
	s.mu.Lock()
	for name, d := range s.fns {
		if names[name] {
			continue
		}
		for _, tr := range d.fn.Triggers {
			if tr.Kind == KindHTTP {
				if other, dup := routes[tr.Route]; dup {
					s.mu.Unlock()
					return fmt.Errorf("%w: route %s of function %s is already served by deployed function %s: change the route or `cloudless fn rm %s`", ErrBadFunction, tr.Route, other, name, name)
				}
			}
		}
	}
	s.mu.Unlock()

	// Start every trigger; undo all on the first failure.
	gate := make(chan struct{})
	started := make([][]running, len(newFns))
	undo := func() {
		for _, rs := range started {
			stopAll(rs)
		}
	}
	for i, fn := range newFns {
		for j := range fn.Triggers {
			r, err := s.startTrigger(fn, &fn.Triggers[j], gate)
			if err != nil {
				undo()
				return fmt.Errorf("%w: function %s: %s trigger did not start: %v", ErrBadFunction, fn.Name, fn.Triggers[j].Kind, err)
			}
			if r != nil {
				started[i] = append(started[i], r)
			}
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFunctions)
		for _, fn := range newFns {
			v, err := json.Marshal(fn)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(fn.Name), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		undo()
		return fmt.Errorf("trigger: save functions: %w", err)
	}
	s.mu.Lock()
	var old []running
	for i, fn := range newFns {
		if d, ok := s.fns[fn.Name]; ok {
			old = append(old, d.running...)
		}
		s.fns[fn.Name] = &deployed{fn: fn, running: started[i]}
	}
	s.rebuildRoutes()
	s.m.functions.Set(float64(len(s.fns)))
	s.mu.Unlock()
	stopAll(old)
	close(gate)
	for _, fn := range newFns {
		s.log.Info("function deployed", "function", fn.Name, "module", fn.Module, "triggers", len(fn.Triggers), "local", fn.Local)
	}
	return nil
}

// check validates a function as Deploy receives it (already parsed and
// published by the CLI, or sent by another API client).
func (s *Service) check(fn *Function) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: function %s: %s", ErrBadFunction, fn.Name, fmt.Sprintf(format, args...))
	}
	if !fnNameRE.MatchString(fn.Name) {
		return fmt.Errorf("%w: function name %q is not valid: use letters, digits, - and _ (at most 64)", ErrBadFunction, clip([]byte(fn.Name)))
	}
	if _, err := cid.Decode(fn.Module); err != nil || len(fn.Module) > 256 {
		return bad("module %q is not a CID: publish it first (`cloudless deploy` does) or give the CID from `cloudless publish`", clip([]byte(fn.Module)))
	}
	if fn.Local {
		if s.opts.Local == nil {
			return bad("local: true but this daemon has no executor")
		}
	} else {
		if fn.MaxPrice == nil || fn.MaxPrice.Sign() <= 0 || fn.DailyCap == nil || fn.DailyCap.Sign() <= 0 {
			return bad(`price.max and price.daily are required and positive: add price: {max: "0.001 ether", daily: "0.1 ether"} (or local: true)`)
		}
		if fn.DailyCap.Cmp(fn.MaxPrice) < 0 {
			return bad("price.daily (%s) is less than price.max (%s), so no invocation could run: raise daily", formatEther(fn.DailyCap), formatEther(fn.MaxPrice))
		}
		if s.opts.Market == nil {
			return bad("this daemon has no market (it needs a chain: `cloudless devnet` or --chain-rpc): run it with local: true or start the daemon with a chain")
		}
	}
	if fn.Resources.Memory <= 0 || fn.Resources.Timeout <= 0 {
		return bad("resources.memory and resources.timeout must be positive")
	}
	if len(fn.Triggers) == 0 {
		return bad("no triggers: add triggers: [{http: /%s}] (or cron, watch, topic)", fn.Name)
	}
	for _, tr := range fn.Triggers {
		switch tr.Kind {
		case KindHTTP:
			if !routeRE.MatchString(tr.Route) || len(tr.Route) > 256 || strings.Contains(tr.Route, "//") || (len(tr.Route) > 1 && strings.HasSuffix(tr.Route, "/")) {
				return bad("http route %q must start with / and be a plain path without a trailing /", clip([]byte(tr.Route)))
			}
			for _, m := range tr.Methods {
				if !slices.Contains(httpMethods, m) {
					return bad("http method %q: use %s", clip([]byte(m)), strings.Join(httpMethods, ", "))
				}
			}
		case KindCron:
			if err := checkCron(tr.Schedule); err != nil {
				return bad("bad cron expression %q: %v: write five fields like \"*/5 * * * *\" or @hourly, @every 30s", clip([]byte(tr.Schedule)), err)
			}
		case KindWatch:
			if !filepath.IsAbs(tr.Dir) {
				return bad("watch directory %q must be an absolute path", clip([]byte(tr.Dir)))
			}
			st, err := os.Stat(tr.Dir)
			if err != nil || !st.IsDir() {
				return bad("watch directory %s does not exist or is not a directory: create it (mkdir -p %s)", tr.Dir, tr.Dir)
			}
			if s.opts.Files == nil {
				return bad("watch triggers need the daemon's IPFS store, which is not running")
			}
		case KindTopic:
			if !topicNameRE.MatchString(tr.Topic) {
				return bad("topic %q is not a valid name: use 1-64 of a-z, 0-9, '.', '_', '-'", clip([]byte(tr.Topic)))
			}
			if s.opts.Bus == nil {
				return bad("topic triggers need the daemon's p2p host, which is not running")
			}
		default:
			return bad("unknown trigger kind %q: use http, cron, watch or topic", clip([]byte(tr.Kind)))
		}
	}
	return nil
}

// startTrigger starts one trigger of fn (nil for http: the route table is
// all it needs).
//
// A started trigger does nothing until gate is closed, which the caller
// does once the function is registered: a fire must find it deployed.
func (s *Service) startTrigger(fn *Function, tr *Trigger, gate <-chan struct{}) (running, error) {
	switch tr.Kind {
	case KindHTTP:
		return nil, nil
	case KindCron:
		return s.startCron(fn, tr, gate)
	case KindWatch:
		if s.opts.Files == nil {
			return nil, errors.New("no IPFS store to publish new files")
		}
		return s.startWatch(fn, tr, gate)
	case KindTopic:
		if s.opts.Bus == nil {
			return nil, errors.New("no p2p host to subscribe with")
		}
		return s.startTopic(fn, tr, gate)
	}
	return nil, fmt.Errorf("unknown trigger kind %q", tr.Kind)
}

func cloneFunction(in *Function) *Function {
	fn := *in
	fn.Args = slices.Clone(in.Args)
	if in.Env != nil {
		fn.Env = make(map[string]string, len(in.Env))
		for k, v := range in.Env {
			fn.Env[k] = v
		}
	}
	if in.MaxPrice != nil {
		fn.MaxPrice = new(big.Int).Set(in.MaxPrice)
	}
	if in.DailyCap != nil {
		fn.DailyCap = new(big.Int).Set(in.DailyCap)
	}
	fn.Triggers = slices.Clone(in.Triggers)
	for i := range fn.Triggers {
		fn.Triggers[i].Methods = slices.Clone(in.Triggers[i].Methods)
	}
	return &fn
}

// rebuildRoutes recomputes the route table (s.mu held).
func (s *Service) rebuildRoutes() {
	s.routes = s.routes[:0]
	for _, d := range s.fns {
		for i := range d.fn.Triggers {
			if tr := &d.fn.Triggers[i]; tr.Kind == KindHTTP {
				s.routes = append(s.routes, routeEntry{route: tr.Route, fn: d.fn, tr: tr})
			}
		}
	}
	slices.SortFunc(s.routes, func(a, b routeEntry) int {
		return cmp.Or(cmp.Compare(len(b.route), len(a.route)), cmp.Compare(a.route, b.route))
	})
}

// Route returns the function whose HTTP route is the longest prefix of
// path (on segment boundaries: /thumb matches /thumb and /thumb/x, not
// /thumbnail) and whose methods allow method. HEAD is allowed where GET
// is.
func (s *Service) Route(method, path string) (*Function, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.routes {
		if !routeMatch(r.route, path) {
			continue
		}
		if len(r.tr.Methods) > 0 && !slices.Contains(r.tr.Methods, method) &&
			!(method == "HEAD" && slices.Contains(r.tr.Methods, "GET")) {
			continue
		}
		return r.fn, r.route, true
	}
	return nil, "", false
}

func routeMatch(route, path string) bool {
	if route == "/" {
		return strings.HasPrefix(path, "/")
	}
	return path == route || strings.HasPrefix(path, route+"/")
}

// List returns the deployed functions, by name.
func (s *Service) List() []Function {
	s.mu.Lock()
	out := make([]Function, 0, len(s.fns))
	for _, d := range s.fns {
		out = append(out, *cloneFunction(d.fn))
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Function) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Statuses returns the deployed functions with today's spending and their
// last invocation, by name.
func (s *Service) Statuses() []Status {
	s.flush()
	fns := s.List()
	out := make([]Status, len(fns))
	for i, fn := range fns {
		st := Status{Function: fn, SpentToday: s.SpentToday(fn.Name)}
		s.mu.Lock()
		if d, ok := s.fns[fn.Name]; ok {
			st.Errors = slices.Clone(d.errs)
		}
		s.mu.Unlock()
		_ = s.db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketLogs).Bucket([]byte(fn.Name))
			if b == nil {
				return nil
			}
			st.Invocations = b.Stats().KeyN
			if _, v := b.Cursor().Last(); v != nil {
				var r Record
				if json.Unmarshal(v, &r) == nil {
					st.Last = &r
				}
			}
			return nil
		})
		out[i] = st
	}
	return out
}

// Get returns the deployed function name.
func (s *Service) Get(name string) (Function, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.fns[name]
	if !ok {
		return Function{}, false
	}
	return *cloneFunction(d.fn), true
}

// Remove stops name's triggers (cancelling their in-flight invocations)
// and deletes it with its log and cron state. Today's spending is kept, so
// removing and redeploying does not reset the daily cap.
//
// # Errors
//
// ErrNoFunction when nothing by that name is deployed.
func (s *Service) Remove(name string) error {
	s.deployMu.Lock()
	defer s.deployMu.Unlock()
	s.mu.Lock()
	d, ok := s.fns[name]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %q is not deployed (see `cloudless fn list`)", ErrNoFunction, name)
	}
	s.flush()
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketFunctions).Delete([]byte(name)); err != nil {
			return err
		}
		if tx.Bucket(bucketLogs).Bucket([]byte(name)) != nil {
			if err := tx.Bucket(bucketLogs).DeleteBucket([]byte(name)); err != nil {
				return err
			}
		}
		c := tx.Bucket(bucketCron).Cursor()
		prefix := []byte(name + "\x00")
		for k, _ := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("trigger: remove %s: %w", name, err)
	}
	s.mu.Lock()
	delete(s.fns, name)
	s.rebuildRoutes()
	s.m.functions.Set(float64(len(s.fns)))
	s.mu.Unlock()
	stopAll(d.running)
	s.log.Info("function removed", "function", name)
	return nil
}

// Logs returns the last n invocation records of name, oldest first (all
// kept when n <= 0). The log is persisted and bounded by
// ServiceOptions.LogSize per function.
//
// # Errors
//
// ErrNoFunction when nothing by that name is deployed.
func (s *Service) Logs(name string, n int) ([]Record, error) {
	if _, ok := s.Get(name); !ok {
		return nil, fmt.Errorf("%w: %q is not deployed (see `cloudless fn list`)", ErrNoFunction, name)
	}
	s.flush()
	var out []Record
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLogs).Bucket([]byte(name))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && (n <= 0 || len(out) < n); k, v = c.Prev() {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	slices.Reverse(out)
	if out == nil {
		out = []Record{}
	}
	return out, err
}

// SpentToday is the wei paid for name's invocations since 00:00 UTC.
func (s *Service) SpentToday(name string) *big.Int {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.spendFor(name)
	return new(big.Int).Set(st.spent)
}

// spendFor returns name's spending for today, starting a new day at 00:00
// UTC (s.mu held).
func (s *Service) spendFor(name string) *spendState {
	day := s.clock.Now().UTC().Format(time.DateOnly)
	st, ok := s.spend[name]
	if !ok {
		st = &spendState{day: day, spent: new(big.Int), reserved: new(big.Int)}
		s.spend[name] = st
	}
	if st.day != day {
		st.day = day
		st.spent = new(big.Int)
	}
	return st
}

// Invoke runs fn once: it checks that fn is still deployed, reserves its
// max price against the daily cap, runs it on the local or the market
// invoker, records the price paid and appends the invocation to the log.
//
// # Errors
//
// ErrNoFunction when fn is not deployed (removed meanwhile);
// ErrOverBudget when spent today plus the max price would pass the daily
// cap; the invoker's error when the function did not run to an exit code.
func (s *Service) Invoke(ctx context.Context, fn *Function, inv Invocation) (*Output, error) {
	start := s.clock.Now()
	rec := Record{Time: start.UTC(), Trigger: inv.Trigger, Detail: clipDetail(inv.Detail)}
	s.mu.Lock()
	d, ok := s.fns[fn.Name]
	if !ok {
		s.mu.Unlock()
		s.m.invocations.WithLabelValues(inv.Trigger, "removed").Inc()
		return nil, fmt.Errorf("%w: %q is not deployed (see `cloudless fn list`)", ErrNoFunction, fn.Name)
	}
	_ = d
	capped := !fn.Local && fn.DailyCap != nil && fn.MaxPrice != nil
	var st *spendState
	if capped {
		st = s.spendFor(fn.Name)
		need := new(big.Int).Add(st.spent, st.reserved)
		need.Add(need, fn.MaxPrice)
		if need.Cmp(fn.DailyCap) > 0 {
			spent := new(big.Int).Set(st.spent)
			inFlight := st.reserved.Sign() > 0
			s.mu.Unlock()
			msg := fmt.Sprintf("function %s would pass its daily cap of %s (spent %s today", fn.Name, formatEther(fn.DailyCap), formatEther(spent))
			if inFlight {
				msg += ", more in flight"
			}
			err := fmt.Errorf("%w: %s): raise price.daily or wait until 00:00 UTC", ErrOverBudget, msg)
			rec.Error = err.Error()
			s.record(fn.Name, rec, nil, nil)
			s.m.invocations.WithLabelValues(inv.Trigger, "over_budget").Inc()
			return nil, err
		}
		st.reserved.Add(st.reserved, fn.MaxPrice)
	}
	s.mu.Unlock()

	invoker := s.opts.Market
	if fn.Local {
		invoker = s.opts.Local
	}
	var out *Output
	var err error
	if invoker == nil {
		err = fmt.Errorf("function %s: no invoker for it in this daemon", fn.Name)
	} else {
		out, err = invoker.Invoke(ctx, fn, inv)
	}
	rec.Duration = s.clock.Now().Sub(start)

	var paid *big.Int
	if out != nil && out.Price != nil && out.Price.Sign() > 0 {
		paid = new(big.Int).Set(out.Price)
	}
	var spendRec *spendRecord
	if capped || paid != nil {
		s.mu.Lock()
		if capped {
			st.reserved.Sub(st.reserved, fn.MaxPrice)
		}
		if paid != nil {
			cur := s.spendFor(fn.Name)
			cur.spent.Add(cur.spent, paid)
			spendRec = &spendRecord{Day: cur.day, Spent: new(big.Int).Set(cur.spent)}
		}
		s.mu.Unlock()
	}
	if out != nil {
		rec.JobID, rec.Provider, rec.ExitCode = out.JobID, out.Provider, out.ExitCode
		rec.OutputCID, rec.Price = out.ResultCID, paid
		if out.Duration > 0 {
			rec.Duration = out.Duration
		}
	}
	outcome := "ok"
	if err != nil {
		rec.Error = oneLine(err.Error())
		outcome = "failed"
	}
	s.m.invocations.WithLabelValues(inv.Trigger, outcome).Inc()
	if paid != nil {
		f, _ := paid.Float64()
		s.m.spent.Add(f)
	}
	var local *localRun
	if fn.Local && out != nil && out.JobID != "" {
		local = &localRun{fn: fn, trigger: inv.Trigger, detail: rec.Detail, out: out, err: rec.Error, started: start}
	}
	s.record(fn.Name, rec, spendRec, local)
	return out, err
}

// logEntry is one record (and spending) for the log writer; an entry
// with no name is a flush barrier.
type logEntry struct {
	name  string
	rec   []byte
	spend []byte
	local *localRun     // a local invocation, for the JobBook (nil: none)
	done  chan struct{} // closed once committed (nil: nobody waits)
}

// maxLogBatch bounds the entries committed in one transaction.
const maxLogBatch = 256

// record queues rec for name's log (trimmed to LogSize) with the
// spending. Records of paid invocations wait for their commit, so the
// spending is on disk before the caller learns the result; the others do
// not (a local function's run is not held up by an fsync), and the writer
// commits whatever has queued meanwhile in one transaction.
func (s *Service) record(name string, rec Record, spend *spendRecord, local *localRun) {
	v, err := json.Marshal(rec)
	if err != nil {
		return
	}
	e := logEntry{name: name, rec: v, local: local}
	if spend != nil {
		if e.spend, err = json.Marshal(spend); err != nil {
			return
		}
		e.done = make(chan struct{})
	}
	s.enqueue(e)
}

// flush waits until every record queued so far is committed.
func (s *Service) flush() { s.enqueue(logEntry{done: make(chan struct{})}) }

func (s *Service) enqueue(e logEntry) {
	select {
	case s.logq <- e:
	case <-s.writerDone:
		return
	}
	if e.done != nil {
		select {
		case <-e.done:
		case <-s.writerDone:
		}
	}
}

// writer commits queued records in batches until stopWriter is closed,
// then commits what is left.
func (s *Service) writer() {
	defer close(s.writerDone)
	for {
		var batch []logEntry
		select {
		case e := <-s.logq:
			batch = append(batch, e)
		case <-s.stopWriter:
			for {
				select {
				case e := <-s.logq:
					batch = append(batch, e)
					continue
				default:
				}
				break
			}
			s.commit(batch)
			return
		}
	more:
		for len(batch) < maxLogBatch {
			select {
			case e := <-s.logq:
				batch = append(batch, e)
			default:
				break more
			}
		}
		s.commit(batch)
	}
}

func (s *Service) commit(batch []logEntry) {
	if len(batch) == 0 {
		return
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, e := range batch {
			if e.name == "" {
				continue
			}
			if err := s.put(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, bolt.ErrDatabaseNotOpen) {
		s.log.Warn("invocation logs not saved", "records", len(batch), "err", err)
	}
	s.recordJobs(batch)
	for _, e := range batch {
		if e.done != nil {
			close(e.done)
		}
	}
}

// put writes one entry in tx.
func (s *Service) put(tx *bolt.Tx, e logEntry) error {
	name := []byte(e.name)
	if e.spend != nil {
		if err := tx.Bucket(bucketSpend).Put(name, e.spend); err != nil {
			return err
		}
	}
	if tx.Bucket(bucketFunctions).Get(name) == nil {
		return nil // removed meanwhile: no log to keep
	}
	b, err := tx.Bucket(bucketLogs).CreateBucketIfNotExists(name)
	if err != nil {
		return err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	if err := b.Put(k[:], e.rec); err != nil {
		return err
	}
	if seq > uint64(s.opts.LogSize) {
		c := b.Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= seq-uint64(s.opts.LogSize); k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
	}
	return nil
}

// cronLast returns the persisted last fire of a cron key.
func (s *Service) cronLast(key string) (time.Time, bool) {
	var t time.Time
	var ok bool
	_ = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketCron).Get([]byte(key)); v != nil {
			ok = t.UnmarshalText(v) == nil
		}
		return nil
	})
	return t, ok
}

// setCronLast persists the last fire of a cron key.
func (s *Service) setCronLast(key string, t time.Time) error {
	v, _ := t.UTC().MarshalText()
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketCron).Put([]byte(key), v) })
}

// clipDetail keeps a record's detail short.
func clipDetail(s string) string {
	s = oneLine(s)
	if len(s) > 256 {
		return s[:256] + "..."
	}
	return s
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var weiPerEther = new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)

// formatEther writes wei as an exact decimal amount of ether:
// "0.0099 ether".
func formatEther(v *big.Int) string {
	if v == nil {
		return "0 ether"
	}
	q, r := new(big.Int).QuoRem(v, weiPerEther, new(big.Int))
	if r.Sign() == 0 {
		return q.String() + " ether"
	}
	frac := strings.TrimRight(fmt.Sprintf("%018s", r.String()), "0")
	return q.String() + "." + frac + " ether"
}
