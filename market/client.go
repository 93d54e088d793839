package market

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/market/wire"
)

// ClientDeps are the parts a client runs on. Book and Logger are optional.
type ClientDeps struct {
	Net     Network
	Seal    Sealer
	Content Content
	Settle  Settlement
	Journal Journal
	// Book is the offer book the client picks providers from (NewBook when nil).
	Book    *Book
	Logger  *slog.Logger
	Metrics *Metrics
}

// ClientConfig is the client's policy; zero fields take the listed defaults.
type ClientConfig struct {
	// BidWait is how long to collect bids (default 2 s).
	BidWait time.Duration
	// Mediator named in escrow deals; zero: no mediator (then a wrong
	// result cannot be disputed, only not accepted). MediatorFee goes with it.
	Mediator    common.Address
	MediatorFee *big.Int
	// ChallengeWindow of escrow deals (default 60 s).
	ChallengeWindow time.Duration
	// ResultMargin is added to the job timeout and the bid's expected start
	// to make the deal deadline (default 60 s).
	ResultMargin time.Duration
	// ChannelDeposit opens a channel (default 100 × the first job's price).
	ChannelDeposit *big.Int
	// FetchTimeout bounds fetching a result (default 60 s).
	FetchTimeout time.Duration
	// WorkDir holds fetched outputs, one directory per job (default os.TempDir()).
	WorkDir string
	// TickInterval of refunds and late results (default 2 s).
	TickInterval time.Duration
	// FromBlock for chain event lookups (default 0).
	FromBlock uint64
}

func (c *ClientConfig) defaults() {
	if c.BidWait == 0 {
		c.BidWait = 2 * time.Second
	}
	if c.MediatorFee == nil {
		c.MediatorFee = new(big.Int)
	}
	if c.ChallengeWindow == 0 {
		c.ChallengeWindow = time.Minute
	}
	if c.ResultMargin == 0 {
		c.ResultMargin = time.Minute
	}
	if c.FetchTimeout == 0 {
		c.FetchTimeout = time.Minute
	}
	if c.WorkDir == "" {
		c.WorkDir = os.TempDir()
	}
	if c.TickInterval == 0 {
		c.TickInterval = 2 * time.Second
	}
}

// RunOptions are per-job choices beyond the spec.
type RunOptions struct {
	// PayMode: escrow (default) or channel.
	PayMode wire.PayMode
	// Providers, when set, are asked directly instead of the offer book's picks.
	Providers []peer.ID
}

// Event is a progress step of a job (for the CLI's progress display).
type Event struct {
	JobID   wire.JobID `json:"job_id"`
	State   State      `json:"state"`
	Message string     `json:"message"`
	Time    time.Time  `json:"time"`
}

// Outcome is a finished job: the record, and the accepted output fetched
// into Dir (stdout, stderr, out/).
type Outcome struct {
	Job      Job
	Dir      string
	Stdout   []byte
	Stderr   []byte
	ExitCode int32
}

type inflight struct {
	bids    chan bidIn
	results chan resultIn
	done    chan struct{}
	out     *Outcome
	err     error
	cancel  context.CancelFunc
}

type bidIn struct {
	bid     *wire.Bid
	latency time.Duration
}

type resultIn struct {
	from peer.ID
	res  *wire.Result
}

// Client buys compute: it requests bids, pays, awards, checks and settles.
type Client struct {
	d   ClientDeps
	cfg ClientConfig
	me  common.Address
	log *slog.Logger
	m   *Metrics

	mu     sync.Mutex
	jobs   map[wire.JobID]*inflight
	subs   map[wire.JobID][]chan Event
	chanMu sync.Mutex // serializes voucher signing per client
	rep    map[peer.ID]float64
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// NewClient registers the client's handlers on deps.Net.
func NewClient(deps ClientDeps, cfg ClientConfig) (*Client, error) {
	if deps.Net == nil || deps.Seal == nil || deps.Content == nil || deps.Settle == nil || deps.Journal == nil {
		return nil, errors.New("market: client needs Net, Seal, Content, Settle and Journal")
	}
	cfg.defaults()
	if deps.Book == nil {
		deps.Book = NewBook(nil)
	}
	log := deps.Logger
	if log == nil {
		log = slog.Default()
	}
	c := &Client{d: deps, cfg: cfg, me: deps.Settle.Address(), log: log.With("part", "market", "role", "client"),
		m: deps.Metrics, jobs: map[wire.JobID]*inflight{}, subs: map[wire.JobID][]chan Event{}, rep: map[peer.ID]float64{}}
	if c.m == nil {
		c.m = NewMetrics(nil)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	_ = deps.Journal.ForEach(bucketReputation, func(k string, v []byte) error {
		var r float64
		if jsonUnmarshal(v, &r) == nil {
			if id, err := peer.Decode(k); err == nil {
				c.rep[id] = r
			}
		}
		return nil
	})
	deps.Net.Handle(wire.TypeBid, c.handleBid)
	deps.Net.Handle(wire.TypeResult, c.handleResult)
	return c, nil
}

// Run follows the offer topic into the book and settles (refunds, late
// results) every TickInterval until ctx ends or Close.
func (c *Client) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()
	if err := c.d.Net.Subscribe(ctx, wire.TopicOffers, func(from peer.ID, msg wire.Message) {
		if o, ok := msg.(*wire.Offer); ok {
			c.d.Book.Add(o)
		}
	}); err != nil {
		c.log.Warn("no offer gossip", "err", err)
	}
	t := time.NewTicker(c.cfg.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			c.Settle(ctx)
		}
	}
}

// Close stops running jobs' goroutines and Run. Safe to call twice.
func (c *Client) Close() error {
	c.once.Do(func() { c.cancel(); c.wg.Wait() })
	return nil
}

// Offers returns the offer book.
func (c *Client) Offers() []*wire.Offer { return c.d.Book.Offers() }

// Book is the client's offer book.
func (c *Client) Book() *Book { return c.d.Book }

// Events subscribes to a job's progress; call the returned func to stop.
func (c *Client) Events(id wire.JobID) (<-chan Event, func()) {
	ch := make(chan Event, 64)
	c.mu.Lock()
	c.subs[id] = append(c.subs[id], ch)
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		s := c.subs[id]
		if i := slices.Index(s, ch); i >= 0 {
			c.subs[id] = slices.Delete(s, i, i+1)
			close(ch)
		}
	}
}

func (c *Client) emit(id wire.JobID, s State, format string, args ...any) {
	ev := Event{JobID: id, State: s, Message: fmt.Sprintf(format, args...), Time: time.Now()}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.subs[id] {
		select {
		case ch <- ev:
		default:
		}
	}
}

func (c *Client) save(j *Job) error {
	j.Updated = time.Now()
	return putJSON(c.d.Journal, bucketClientJobs, j.ID.String(), j)
}

func (c *Client) setState(j *Job, s State, format string, args ...any) error {
	j.State = s
	c.m.Job("client", s)
	c.emit(j.ID, s, format, args...)
	return c.save(j)
}

// Job returns a job's record.
func (c *Client) Job(id wire.JobID) (*Job, error) {
	var j Job
	if err := getJSON(c.d.Journal, bucketClientJobs, id.String(), &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// Jobs returns every job of this client, newest first.
func (c *Client) Jobs() ([]Job, error) {
	var out []Job
	err := c.d.Journal.ForEach(bucketClientJobs, func(_ string, v []byte) error {
		var j Job
		if err := jsonUnmarshal(v, &j); err != nil {
			return err
		}
		out = append(out, j)
		return nil
	})
	sort.Slice(out, func(i, k int) bool { return out[i].Created.After(out[k].Created) })
	return out, err
}

// Submit validates spec, records the job and starts it; follow it with
// Wait or Events.
func (c *Client) Submit(ctx context.Context, spec wire.JobSpec, opts RunOptions) (wire.JobID, error) {
	spec.ApplyDefaults()
	if err := spec.Validate(); err != nil {
		return wire.JobID{}, err
	}
	if opts.PayMode == "" {
		opts.PayMode = wire.PayEscrow
	}
	if opts.PayMode != wire.PayEscrow && opts.PayMode != wire.PayChannel {
		return wire.JobID{}, fmt.Errorf("market: pay mode %q: want escrow or channel", opts.PayMode)
	}
	j := &Job{ID: wire.NewJobID(), Spec: spec, PayMode: opts.PayMode, State: StateRequested, Created: time.Now()}
	if err := c.save(j); err != nil {
		return wire.JobID{}, err
	}
	c.m.Job("client", StateRequested)
	jctx, cancel := context.WithCancel(c.ctx)
	f := &inflight{bids: make(chan bidIn, 256), results: make(chan resultIn, 64), done: make(chan struct{}), cancel: cancel}
	c.mu.Lock()
	c.jobs[j.ID] = f
	c.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer cancel()
		f.out, f.err = c.process(jctx, j, f, opts)
		if f.err != nil {
			c.log.Info("job failed", "job", j.ID, "err", f.err)
		}
		close(f.done)
	}()
	return j.ID, nil
}

// Wait blocks until the job ends and returns its outcome.
//
// # Errors
//
// ErrNotFound for an unknown job; *NoBidsError (ErrNoBids), ErrNoResult,
// ErrNoMajority, ErrBadResult, ErrCancelled for jobs that failed; ctx.Err().
func (c *Client) Wait(ctx context.Context, id wire.JobID) (*Outcome, error) {
	c.mu.Lock()
	f := c.jobs[id]
	c.mu.Unlock()
	if f == nil {
		j, err := c.Job(id)
		if err != nil {
			return nil, err
		}
		if j.State.Terminal() {
			if j.Error != "" {
				return &Outcome{Job: *j, ExitCode: j.ExitCode}, errors.New(j.Error)
			}
			return &Outcome{Job: *j, ExitCode: j.ExitCode}, nil
		}
		return nil, fmt.Errorf("%w: job %s is not running in this process (state %s)", ErrNotFound, id, j.State)
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-f.done:
		return f.out, f.err
	}
}

// Cancel stops a job that has not been awarded yet; after the award the
// job runs to its end (it is paid for) and Cancel only stops the waiting.
func (c *Client) Cancel(ctx context.Context, id wire.JobID) error {
	c.mu.Lock()
	f := c.jobs[id]
	c.mu.Unlock()
	if f == nil {
		return fmt.Errorf("%w: job %s", ErrNotFound, id)
	}
	f.cancel()
	return nil
}

func (c *Client) handleBid(ctx context.Context, from peer.ID, msg wire.Message) ([]byte, error) {
	b := msg.(*wire.Bid)
	c.mu.Lock()
	f := c.jobs[b.JobID]
	c.mu.Unlock()
	if f == nil {
		return nil, fmt.Errorf("%w: no open job %s", ErrRefused, b.JobID)
	}
	select {
	case f.bids <- bidIn{bid: b}:
	default:
	}
	return nil, nil
}

func (c *Client) handleResult(ctx context.Context, from peer.ID, msg wire.Message) ([]byte, error) {
	r := msg.(*wire.Result)
	j, err := c.Job(r.JobID)
	if err != nil {
		return nil, fmt.Errorf("%w: result for unknown job %s", ErrRefused, r.JobID)
	}
	i := slices.IndexFunc(j.Assigned, func(a Assignment) bool { return a.Provider == r.Provider })
	if i < 0 {
		return nil, fmt.Errorf("%w: job %s was not awarded to %s", ErrRefused, r.JobID, r.Provider)
	}
	if j.Assigned[i].ResultCID != "" {
		return nil, fmt.Errorf("%w: result of %s for job %s already received", ErrDuplicate, r.Provider, r.JobID)
	}
	c.mu.Lock()
	f := c.jobs[r.JobID]
	c.mu.Unlock()
	if f != nil {
		select {
		case f.results <- resultIn{from: r.Provider, res: r}:
		case <-f.done:
		}
		return nil, nil
	}
	// Not in flight (we restarted): record it; Settle verifies and pays,
	// or refunds a stopped job.
	a := &j.Assigned[i]
	a.ResultCID, a.OutputHash, a.ExitCode, a.Usage = r.ResultCID, r.OutputHash, r.ExitCode, r.Usage
	a.State = StateSubmitted
	if stoppedResult(r) {
		a.State, a.Stopped, a.Error = StateFailed, true, r.Error
	}
	return nil, c.save(j)
}

// ErrStopped: the provider's sandbox stopped the job (a deadline, memory or
// output limit, a trap); the client does not pay and refunds the escrow.
var ErrStopped = errors.New("market: job stopped by the sandbox")

// stoppedResult reports whether a Result is a failure report rather than a
// result: an error and no output (wire.Result allows no CID only with an
// Error). A provider sends it when its sandbox stopped the module and
// commits nothing on chain.
func stoppedResult(r *wire.Result) bool { return r.ResultCID == "" && r.Error != "" }

func (c *Client) chainNow(ctx context.Context) (uint64, error) {
	h, err := c.d.Settle.Backend().HeaderByNumber(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("market: chain head: %w", err)
	}
	return h.Time, nil
}

func (c *Client) reputation(p peer.ID) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.rep[p]; ok {
		return r
	}
	return 0.5
}

// Reputation returns a provider's score in [0, 1] (0.5 when unknown).
func (c *Client) Reputation(p peer.ID) float64 { return c.reputation(p) }

func (c *Client) rate(p peer.ID, good bool) {
	c.mu.Lock()
	r, ok := c.rep[p]
	if !ok {
		r = 0.5
	}
	if good {
		r += (1 - r) * 0.2
	} else {
		r *= 0.25
	}
	c.rep[p] = r
	c.mu.Unlock()
	_ = putJSON(c.d.Journal, bucketReputation, p.String(), r)
}

// process is the life of one job on the client.
func (c *Client) process(ctx context.Context, j *Job, f *inflight, opts RunOptions) (*Outcome, error) {
	fail := func(err error) (*Outcome, error) {
		j.Error = err.Error()
		s := StateFailed
		if errors.Is(err, context.Canceled) {
			s, err = StateCancelled, fmt.Errorf("%w: %v", ErrCancelled, err)
			j.Error = err.Error()
		}
		_ = c.setState(j, s, "%v", err)
		return nil, err
	}
	specCBOR, err := wire.Marshal(&j.Spec)
	if err != nil {
		return fail(err)
	}
	now := time.Now()
	req := &wire.JobRequest{ID: j.ID, Client: c.d.Net.ID(), ClientAddr: c.me, Spec: j.Spec,
		BidDeadline: wire.TimestampOf(now.Add(c.cfg.BidWait)), PayMode: j.PayMode, Expiry: wire.TimestampOf(now.Add(c.cfg.BidWait + 30*time.Second))}
	sealed, err := c.d.Seal(req)
	if err != nil {
		return fail(err)
	}
	k := j.Spec.Redundancy
	c.emit(j.ID, StateRequested, "finding providers")
	bids, asked, reasons := c.collectBids(ctx, req, sealed, f, opts)
	j.Bids = len(bids)
	if len(bids) < k {
		return fail(&NoBidsError{Memory: j.Spec.Resources.Memory, Timeout: j.Spec.Resources.Timeout, MaxPrice: j.Spec.Price.Max,
			Module: j.Spec.Module, Asked: asked, Got: len(bids), Wanted: k, Reasons: reasons})
	}
	chosen := c.choose(bids, k)
	if err := c.setState(j, StatePaying, "%d bids; paying %d providers", len(bids), len(chosen)); err != nil {
		return fail(err)
	}
	if err := c.payAndAward(ctx, j, chosen, specCBOR); err != nil && len(j.Assigned) == 0 {
		return fail(err)
	}
	awarded := 0
	for _, a := range j.Assigned {
		if a.State == StateAwarded {
			awarded++
		}
	}
	if awarded == 0 {
		return fail(fmt.Errorf("%w: every award was refused", ErrNoResult))
	}
	if err := c.setState(j, StateAwarded, "running on %d providers", awarded); err != nil {
		return fail(err)
	}
	return c.awaitResults(ctx, j, f)
}

// collectBids asks fitting providers from the book directly; if too few
// bid, it also gossips the request and waits for bids until the deadline.
func (c *Client) collectBids(ctx context.Context, req *wire.JobRequest, sealed []byte, f *inflight, opts RunOptions) ([]bidIn, int, []string) {
	k := req.Spec.Redundancy
	want := 2*k + 1
	targets := opts.Providers
	if len(targets) == 0 {
		for _, q := range c.d.Book.Fitting(&req.Spec, map[peer.ID]bool{c.d.Net.ID(): true}) {
			if c.reputation(q.Offer.Provider) < 0.05 {
				continue // a provider caught lying is not asked again
			}
			targets = append(targets, q.Offer.Provider)
			if len(targets) == want {
				break
			}
		}
	}
	deadline := req.BidDeadline.Time()
	bctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var mu sync.Mutex
	var bids []bidIn
	var reasons []string
	seen := map[peer.ID]bool{}
	accept := func(b *wire.Bid, from peer.ID, lat time.Duration) bool {
		mu.Lock()
		defer mu.Unlock()
		if b.JobID != req.ID || b.Provider != from || seen[from] || from == c.d.Net.ID() ||
			(req.Spec.Price.Max != nil && b.Price.Cmp(req.Spec.Price.Max) > 0) {
			return false
		}
		seen[from] = true
		bids = append(bids, bidIn{bid: b, latency: lat})
		c.m.Bid("received")
		return true
	}
	var wg sync.WaitGroup
	for _, p := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			reply, err := c.d.Net.Request(bctx, p, sealed)
			if err != nil {
				mu.Lock()
				reasons = append(reasons, err.Error())
				mu.Unlock()
				return
			}
			msg, _, err := wire.Open(reply, wire.MaxMessageSize)
			if b, ok := msg.(*wire.Bid); err == nil && ok {
				accept(b, p, time.Since(t0))
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	enough := len(bids) >= k
	mu.Unlock()
	if !enough || len(targets) == 0 {
		c.emit(req.ID, StateBidding, "asking the network (gossip)")
		if err := c.d.Net.Publish(bctx, wire.TopicJobs, sealed); err != nil {
			reasons = append(reasons, "gossip: "+err.Error())
		}
		t0 := time.Now()
	wait:
		for {
			select {
			case <-bctx.Done():
				break wait
			case b := <-f.bids:
				accept(b.bid, b.bid.Provider, time.Since(t0))
				mu.Lock()
				n := len(bids)
				mu.Unlock()
				if n >= want {
					break wait
				}
			}
		}
	}
	return bids, len(targets), reasons
}

// choose picks k distinct providers: cheapest, weighted by reputation and latency.
func (c *Client) choose(bids []bidIn, k int) []bidIn {
	score := func(b bidIn) float64 {
		price, _ := new(big.Float).SetInt(b.bid.Price).Float64()
		rep := c.reputation(b.bid.Provider)
		return price * (1.5 - rep) * (1 + b.latency.Seconds())
	}
	sort.SliceStable(bids, func(i, j int) bool { return score(bids[i]) < score(bids[j]) })
	if len(bids) > k {
		bids = bids[:k]
	}
	for range bids {
		c.m.Bid("chosen")
	}
	return bids
}

// payAndAward pays each chosen provider (deal or voucher, persisted before
// the transaction or the award) and sends the awards.
func (c *Client) payAndAward(ctx context.Context, j *Job, chosen []bidIn, specCBOR []byte) error {
	var firstErr error
	for _, b := range chosen {
		addr, err := AddressOf(b.bid.Provider)
		if err != nil {
			firstErr = cmpErr(firstErr, err)
			continue
		}
		a := Assignment{Provider: b.bid.Provider, Addr: addr, Price: new(big.Int).Set(b.bid.Price), State: StatePaying, Latency: b.latency}
		award := &wire.Award{JobID: j.ID, Client: c.d.Net.ID(), Provider: b.bid.Provider, Price: a.Price, PayMode: j.PayMode,
			Expiry: wire.TimestampOf(time.Now().Add(time.Minute))}
		switch j.PayMode {
		case wire.PayEscrow:
			now, err := c.chainNow(ctx)
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				continue
			}
			total := b.bid.ExpectedStart.D() + j.Spec.Resources.Timeout.D() + c.cfg.ResultMargin
			dp := contracts.DealParams{Client: c.me, Provider: addr, Mediator: c.cfg.Mediator, Price: a.Price,
				Deadline: now + uint64(total/time.Second) + 1, ChallengeWindow: uint64(c.cfg.ChallengeWindow / time.Second),
				JobHash: jobHash(j.ID, specCBOR)}
			if c.cfg.Mediator != (common.Address{}) {
				dp.MediatorFee = c.cfg.MediatorFee
			}
			a.Deal, a.DealID = &dp, c.d.Settle.DealID(dp)
			j.Assigned = append(j.Assigned, a)
			if err := c.save(j); err != nil { // before the money moves
				return err
			}
			if _, _, err := c.d.Settle.OpenDeal(ctx, dp, nil); err != nil {
				j.Assigned[len(j.Assigned)-1].State, j.Assigned[len(j.Assigned)-1].Error = StateFailed, err.Error()
				_ = c.save(j)
				firstErr = cmpErr(firstErr, fmt.Errorf("open deal with %s: %w", b.bid.Provider, err))
				continue
			}
			c.m.Paid("escrow_open", a.Price)
			award.DealID = a.DealID
		case wire.PayChannel:
			v, err := c.voucher(ctx, b.bid.Provider, addr, a.Price)
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				continue
			}
			a.Channel, a.Cumulative = v.Key.ID(), v.Cumulative
			j.Assigned = append(j.Assigned, a)
			if err := c.save(j); err != nil {
				return err
			}
			c.m.Paid("voucher", a.Price)
			award.Voucher = &wire.Voucher{ChannelID: v.Key.ID(), Cumulative: v.Cumulative, Signature: v.Signature}
		}
		i := len(j.Assigned) - 1
		sealed, err := c.d.Seal(award)
		if err == nil {
			_, err = c.d.Net.Request(ctx, b.bid.Provider, sealed)
		}
		if err != nil {
			j.Assigned[i].State, j.Assigned[i].Error = StateFailed, "award: "+err.Error()
			firstErr = cmpErr(firstErr, err)
		} else {
			j.Assigned[i].State = StateAwarded
		}
		if err := c.save(j); err != nil {
			return err
		}
	}
	return firstErr
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// voucher returns a signed voucher raising the channel to provider by
// price, opening or topping up the channel as needed. The new promised
// amount is persisted before the voucher leaves this function.
func (c *Client) voucher(ctx context.Context, p peer.ID, addr common.Address, price *big.Int) (contracts.Voucher, error) {
	c.chanMu.Lock()
	defer c.chanMu.Unlock()
	var ch outChannel
	err := getJSON(c.d.Journal, bucketChannelsOut, addr.Hex(), &ch)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return contracts.Voucher{}, err
	}
	need := new(big.Int).Add(orZero(ch.Promised), price)
	if err == nil && orZero(ch.Deposit).Sign() == 0 {
		// Journaled before an openChannel that did not go through (or whose
		// receipt we never saw): open it now unless the chain has it.
		if oc, cerr := c.d.Settle.Channel(ctx, ch.Key.ID()); cerr == nil {
			ch.Deposit = oc.Deposit
		} else {
			err = ErrNotFound
		}
	}
	if errors.Is(err, ErrNotFound) {
		dep := c.cfg.ChannelDeposit
		if dep == nil {
			dep = new(big.Int).Mul(price, big.NewInt(100))
		}
		if dep.Cmp(price) < 0 {
			dep = new(big.Int).Set(price)
		}
		var salt common.Hash
		_, _ = rand.Read(salt[:])
		key := contracts.ChannelKey{Client: c.me, Provider: addr, Salt: salt}
		ch = outChannel{Key: key, Provider: p, Deposit: new(big.Int), Promised: new(big.Int)}
		if err := putJSON(c.d.Journal, bucketChannelsOut, addr.Hex(), &ch); err != nil {
			return contracts.Voucher{}, err
		}
		if _, _, err := c.d.Settle.OpenChannel(ctx, addr, salt, dep); err != nil {
			return contracts.Voucher{}, fmt.Errorf("open channel to %s: %w", addr, err)
		}
		ch.Deposit = new(big.Int).Set(dep)
		c.m.Paid("channel_deposit", dep)
	} else if need.Cmp(ch.Deposit) > 0 {
		add := new(big.Int).Sub(need, ch.Deposit)
		add.Add(add, new(big.Int).Mul(price, big.NewInt(50)))
		if _, err := c.d.Settle.TopUp(ctx, ch.Key, add); err != nil {
			return contracts.Voucher{}, fmt.Errorf("top up channel to %s: %w", addr, err)
		}
		ch.Deposit.Add(ch.Deposit, add)
		c.m.Paid("channel_deposit", add)
	}
	v, err := c.d.Settle.SignVoucher(ch.Key, need)
	if err != nil {
		return contracts.Voucher{}, err
	}
	ch.Promised = need
	if err := putJSON(c.d.Journal, bucketChannelsOut, addr.Hex(), &ch); err != nil {
		return contracts.Voucher{}, err
	}
	return v, nil
}

// awaitResults collects results until every awarded provider answered or
// the deadline, verifies them, and settles.
func (c *Client) awaitResults(ctx context.Context, j *Job, f *inflight) (*Outcome, error) {
	var maxWait time.Duration
	for _, a := range j.Assigned {
		if a.State == StateAwarded {
			maxWait = max(maxWait, j.Spec.Resources.Timeout.D()+c.cfg.ResultMargin)
		}
	}
	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	pending := 0
	for _, a := range j.Assigned {
		if a.State == StateAwarded {
			pending++
		}
	}
	dir, err := os.MkdirTemp(c.cfg.WorkDir, "cloudless-result-")
	if err != nil {
		return nil, err
	}
	majorityNeeded := j.Spec.Redundancy/2 + 1
	counts := map[[32]byte]int{}
loop:
	for pending > 0 {
		select {
		case <-ctx.Done():
			break loop
		case <-timer.C:
			break loop
		case r := <-f.results:
			i := slices.IndexFunc(j.Assigned, func(a Assignment) bool { return a.Provider == r.from })
			if i < 0 || j.Assigned[i].ResultCID != "" || j.Assigned[i].State != StateAwarded {
				continue
			}
			pending--
			a := &j.Assigned[i]
			a.ResultCID, a.OutputHash, a.ExitCode, a.Usage, a.Error = r.res.ResultCID, r.res.OutputHash, r.res.ExitCode, r.res.Usage, r.res.Error
			if stoppedResult(r.res) {
				// The provider's sandbox stopped the module: nothing to
				// fetch, accept or pay; Settle refunds the deal.
				a.State, a.Stopped = StateFailed, true
				c.emit(j.ID, StateFailed, "%s stopped the job: %s", short(r.from), r.res.Error)
				_ = c.save(j)
				continue
			}
			a.State = StateSubmitted
			c.emit(j.ID, StateVerifying, "result from %s; fetching %s", short(r.from), r.res.ResultCID)
			pdir := filepath.Join(dir, safeName(r.from.String()))
			if err := c.fetchAndCheck(ctx, a, pdir); err != nil {
				a.Error = err.Error()
				c.log.Warn("bad result", "job", j.ID, "provider", r.from, "err", err)
			} else {
				a.Verified = true
				counts[a.OutputHash]++
			}
			_ = c.save(j)
			if counts[a.OutputHash] >= majorityNeeded && a.Verified && j.Spec.Redundancy == 1 {
				break loop
			}
			// With redundancy, a majority already reached lets the rest be settled later.
			if a.Verified && counts[a.OutputHash] >= majorityNeeded && pending == 0 {
				break loop
			}
		}
	}
	return c.decide(ctx, j, dir, counts, majorityNeeded)
}

func short(p peer.ID) string {
	s := p.String()
	if len(s) > 10 {
		return s[len(s)-8:]
	}
	return s
}

// fetchAndCheck fetches a result directory and checks its hash.
func (c *Client) fetchAndCheck(ctx context.Context, a *Assignment, dir string) error {
	if a.ResultCID == "" {
		return fmt.Errorf("%w: no result CID (%s)", ErrBadResult, a.Error)
	}
	fctx, cancel := context.WithTimeout(ctx, c.cfg.FetchTimeout)
	defer cancel()
	if err := c.d.Content.Fetch(fctx, a.ResultCID, dir); err != nil {
		return fmt.Errorf("%w: fetch %s: %v", ErrBadResult, a.ResultCID, err)
	}
	h, err := OutputHash(dir, a.ExitCode)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadResult, err)
	}
	if h != a.OutputHash {
		return fmt.Errorf("%w: output of %s does not hash to the claimed hash", ErrBadResult, a.ResultCID)
	}
	return nil
}

// decide pays the majority, disputes or withholds from the rest, and
// leaves refunds of silent providers to Settle.
func (c *Client) decide(ctx context.Context, j *Job, dir string, counts map[[32]byte]int, need int) (*Outcome, error) {
	var win [32]byte
	found := false
	for h, n := range counts {
		if n >= need {
			win, found = h, true
		}
	}
	paid := new(big.Int)
	var winner *Assignment
	for i := range j.Assigned {
		a := &j.Assigned[i]
		switch {
		case found && a.Verified && a.OutputHash == win:
			if j.PayMode == wire.PayEscrow {
				if _, err := c.d.Settle.Accept(ctx, *a.Deal); err != nil {
					c.log.Warn("accept", "job", j.ID, "provider", a.Provider, "err", err)
					a.Error = "accept: " + err.Error() // the provider claims after the window
				}
			}
			a.State = StatePaid
			paid.Add(paid, a.Price)
			c.m.Paid("accept", a.Price)
			c.rate(a.Provider, true)
			if winner == nil {
				winner = a
			}
		case a.State == StateSubmitted:
			// A result that is wrong, unfetchable, or outvoted.
			c.rate(a.Provider, false)
			if j.PayMode == wire.PayEscrow && a.Deal.Mediator != (common.Address{}) {
				if _, err := c.d.Settle.Dispute(ctx, *a.Deal); err != nil {
					c.log.Warn("dispute", "job", j.ID, "provider", a.Provider, "err", err)
				}
				a.State = StateDisputed
			} else {
				a.State = StateFailed
			}
		case a.State == StateAwarded:
			c.rate(a.Provider, false) // silent: escrow is refunded by Settle after the deadline
		}
	}
	j.Paid = paid
	if i := slices.IndexFunc(j.Assigned, func(a Assignment) bool { return a.Stopped }); winner == nil && i >= 0 {
		a := j.Assigned[i]
		err := fmt.Errorf("%w: %s", ErrStopped, a.Error)
		j.Error, j.ExitCode = err.Error(), a.ExitCode
		_ = c.setState(j, StateFailed, "%v; the escrow is refunded after the deal deadline", err)
		return nil, err
	}
	if winner == nil {
		err := ErrNoResult
		if len(counts) > 0 || slices.ContainsFunc(j.Assigned, func(a Assignment) bool {
			return a.State == StateDisputed || a.State == StateFailed && a.ResultCID != ""
		}) {
			err = ErrNoMajority
			if j.Spec.Redundancy == 1 {
				err = ErrBadResult
			}
		}
		j.Error = err.Error()
		_ = c.setState(j, StateFailed, "%v", err)
		return nil, err
	}
	j.ResultCID, j.OutputHash, j.ExitCode = winner.ResultCID, winner.OutputHash, winner.ExitCode
	pdir := filepath.Join(dir, safeName(winner.Provider.String()))
	out := &Outcome{Dir: pdir, ExitCode: winner.ExitCode}
	out.Stdout, _ = os.ReadFile(filepath.Join(pdir, StdoutName))
	out.Stderr, _ = os.ReadFile(filepath.Join(pdir, StderrName))
	if len(out.Stdout) <= InlineOutput {
		j.Stdout = out.Stdout
	}
	if len(out.Stderr) <= InlineOutput {
		j.Stderr = out.Stderr
	}
	outDir := filepath.Join(pdir, OutDirName)
	_ = filepath.WalkDir(outDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(outDir, p)
			j.OutFiles = append(j.OutFiles, filepath.ToSlash(rel))
		}
		return nil
	})
	if err := c.setState(j, StatePaid, "done: exit %d, paid %s", winner.ExitCode, wire.FormatWei(paid)); err != nil {
		return nil, err
	}
	out.Job = *j
	return out, nil
}

// Settle refunds escrow deals whose provider stayed silent past the
// deadline and verifies results that came in while no process waited for
// them. Run calls it every TickInterval; tests call it directly.
func (c *Client) Settle(ctx context.Context) {
	now, err := c.chainNow(ctx)
	if err != nil {
		return
	}
	jobs, err := c.Jobs()
	if err != nil {
		return
	}
	for _, j := range jobs {
		c.mu.Lock()
		f := c.jobs[j.ID]
		c.mu.Unlock()
		if f != nil {
			select {
			case <-f.done:
			default:
				continue // process still owns it
			}
		}
		changed := false
		for i := range j.Assigned {
			a := &j.Assigned[i]
			if j.PayMode != wire.PayEscrow || a.Deal == nil || a.State == StatePaid || a.State == StateRefunded || a.State == StateDisputed || a.State == StateCancelled {
				continue
			}
			st, err := c.d.Settle.Deal(ctx, a.DealID)
			if err != nil {
				continue
			}
			switch {
			case st.Status == contracts.DealNone && a.State != StateAwarded:
				a.State, changed = StateCancelled, true // the deal was never opened: nothing to settle
			case st.Status == contracts.DealClosed:
				// Not refunded by us, not disputed: the provider claimed it
				// (or we accepted it before a crash). The chain says paid.
				a.State, changed = StatePaid, true
				j.Paid = new(big.Int).Add(orZero(j.Paid), a.Price)
				c.m.Paid("accept", a.Price)
			case st.Status == contracts.DealOpen && now > a.Deal.Deadline:
				if _, err := c.d.Settle.Refund(ctx, *a.Deal); err != nil {
					c.log.Warn("refund", "job", j.ID, "err", err)
					continue
				}
				a.State, changed = StateRefunded, true
				c.m.Paid("refund", a.Price)
			case st.Status == contracts.DealSubmitted && a.ResultCID != "" && !a.Verified && a.Error == "" && j.Spec.Redundancy == 1:
				// A result that came while no process waited for it (or
				// after the wait gave up): verify it and pay.
				dir, err := os.MkdirTemp(c.cfg.WorkDir, "cloudless-result-")
				if err != nil {
					continue
				}
				if err := c.fetchAndCheck(ctx, a, dir); err != nil {
					continue // the provider claims after the window unless disputed
				}
				if _, err := c.d.Settle.Accept(ctx, *a.Deal); err != nil {
					continue
				}
				a.State, a.Verified, changed = StatePaid, true, true
				j.Paid = new(big.Int).Add(orZero(j.Paid), a.Price)
				j.ResultCID, j.OutputHash, j.ExitCode, j.Error = a.ResultCID, a.OutputHash, a.ExitCode, ""
				c.m.Paid("accept", a.Price)
			}
		}
		if changed {
			switch {
			case slices.ContainsFunc(j.Assigned, func(a Assignment) bool { return a.State == StatePaid }):
				j.State = StatePaid
				if j.ResultCID == "" {
					j.Error = "paid on chain (the provider claimed) but no verified result reached this client"
				}
			case !slices.ContainsFunc(j.Assigned, func(a Assignment) bool {
				return a.State == StateAwarded || a.State == StatePaying || a.State == StateSubmitted
			}) && slices.ContainsFunc(j.Assigned, func(a Assignment) bool { return a.State == StateRefunded }):
				j.State = StateRefunded
			}
			_ = c.save(&j)
			c.emit(j.ID, j.State, "settled")
		}
	}
}
