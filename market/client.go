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
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market/wire"
)

// ClientDeps are the parts a client runs on. Book and Logger are optional.
type ClientDeps struct {
	Net     Network
	Seal    Sealer
	Content Content
	Settle  Settlement
	// Ledger is the node's durable record (ledger.db), written before
	// every message or transaction that depends on it.
	Ledger *ledger.Ledger
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
	// MediatorPeer is the mediator's peer ID: after a dispute lands the
	// client brings the case to it (mediate_case.go) until the deal
	// closes. Mediator must be AddressOf(MediatorPeer).
	MediatorPeer peer.ID
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
	// Retry re-awards the job up to Retry more times when its providers
	// stay silent past the deadline, fail it or return a result that does
	// not check out; each round asks providers not tried before. A
	// provider that failed is not paid (escrow refunded, channel price
	// credited back when it said it failed or stayed silent past the
	// job's timeout plus ResultMargin). 0: no retry.
	Retry int
	// NoDirect always asks for bids, even when a direct award
	// (direct_client.go) is possible: for measuring the bid path.
	NoDirect bool
	// ResultTimeout, when set, is how long to wait for results after an
	// award before a retry (default: the job's timeout + ResultMargin).
	ResultTimeout time.Duration
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
	retired bool // guarded by Client.mu: results are no longer handed over (client_giveup.go)
}

type bidIn struct {
	bid     *wire.Bid
	latency time.Duration
	direct  *wire.JobRequest // a direct award's request (direct_client.go); nil: a bid
}

type resultIn struct {
	from peer.ID
	res  *wire.Result
	ack  chan struct{} // closed once res is written (result_ack.go); nil: no wait
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
	all    []chan Event // WatchAll (client_watch.go)
	chanMu sync.Mutex   // serializes opening channels
	funds  channelFunds // vouchers in flight and top-ups, by channel (channel_topup.go)
	rep    map[common.Address]ledger.Rep
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	accepting map[wire.JobID]bool // escrow accepts under way, guarded by mu (escrow_accept.go)
	asks      askBackoff          // asks about silent channel jobs (channel_ask.go)

	// unwritten: channel jobs submitted and not yet in the ledger, as
	// submitted (fast_client.go); guarded by mu.
	unwritten map[wire.JobID]Job
}

// NewClient registers the client's handlers on deps.Net.
func NewClient(deps ClientDeps, cfg ClientConfig) (*Client, error) {
	if deps.Net == nil || deps.Seal == nil || deps.Content == nil || deps.Settle == nil || deps.Ledger == nil {
		return nil, errors.New("market: client needs Net, Seal, Content, Settle and Ledger")
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
		m: deps.Metrics, jobs: map[wire.JobID]*inflight{}, subs: map[wire.JobID][]chan Event{}, rep: map[common.Address]ledger.Rep{}}
	if c.m == nil {
		c.m = NewMetrics(nil)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	reps, err := deps.Ledger.Reputations(context.Background())
	if err != nil {
		return nil, fmt.Errorf("market: reputations: %w", err)
	}
	for _, r := range reps {
		c.rep[r.Provider] = r
	}
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
	for _, ch := range c.all {
		select {
		case ch <- ev:
		default:
		}
	}
}

func (c *Client) save(j *Job) error { return c.saveWith(j, nil) }

// saveWith writes j and whatever more (may be nil) in one fsynced ledger
// transaction.
func (c *Client) saveWith(j *Job, more func(tx *ledger.Tx) error) error {
	j.Updated = time.Now()
	return update(c.d.Ledger, func(tx *ledger.Tx) error {
		if more != nil {
			if err := more(tx); err != nil {
				return err
			}
		}
		return putClientJob(tx, j)
	})
}

func (c *Client) setState(j *Job, s State, format string, args ...any) error {
	return c.setStateWith(j, s, nil, format, args...)
}

// setStateWith is setState writing more in the same transaction.
func (c *Client) setStateWith(j *Job, s State, more func(tx *ledger.Tx) error, format string, args ...any) error {
	j.State = s
	c.m.Job("client", s)
	err := c.saveWith(j, more)
	// After the write, so that a watcher re-reading the job on the event
	// (the control API's /v1/events) finds this state.
	c.emit(j.ID, s, format, args...)
	return err
}

// note sets j's state and tells subscribers without writing: for steps no
// message or transaction depends on, persisted with the next write.
func (c *Client) note(j *Job, s State, format string, args ...any) {
	j.State = s
	c.m.Job("client", s)
	c.emit(j.ID, s, format, args...)
}

// Job returns a job's record.
func (c *Client) Job(id wire.JobID) (*Job, error) {
	lj, err := c.d.Ledger.Job(context.Background(), id.String())
	if errors.Is(err, ledger.ErrNotFound) {
		if j := c.unwrittenJob(id); j != nil { // submitted, not yet written (fast_client.go)
			return j, nil
		}
		return nil, fmt.Errorf("%w: job %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	return clientJobOf(lj)
}

// Jobs returns every job of this client, newest first.
func (c *Client) Jobs() ([]Job, error) {
	return c.jobsIn(context.Background(), ledger.JobFilter{Role: ledger.RoleClient})
}

func (c *Client) jobsIn(ctx context.Context, f ledger.JobFilter) ([]Job, error) {
	ljs, err := c.d.Ledger.Jobs(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]Job, 0, len(ljs))
	for _, lj := range ljs {
		j, err := clientJobOf(lj)
		if err != nil {
			return nil, err
		}
		out = append(out, *j)
	}
	return out, nil
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
	// A channel job is first written with its voucher and assignment
	// (voucher): nothing sent before that promises anything (a request
	// or a bid), and the write would be one more fsync on every job's
	// critical path (docs/rationale/market.md, "Why is a channel job
	// first written with its voucher?"). Escrow jobs are written now.
	if opts.PayMode != wire.PayChannel {
		if err := c.save(j); err != nil {
			return wire.JobID{}, err
		}
	} else {
		c.holdUnwritten(j) // Job answers from it until the ledger has the job
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
		c.retire(j.ID, f) // results it did not read go to the ledger (client_giveup.go)
		c.dropUnwritten(j.ID)
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
	// A channel result is acknowledged once written (result_ack.go).
	ack := resultAck(j)
	if done := c.forwardResult(r, ack); done != nil {
		return nil, c.awaitRecorded(ctx, r, ack, done)
	}
	// No process waits (we restarted, or it ended): record it; Settle
	// verifies and pays, or refunds a stopped job (client_giveup.go).
	return nil, c.recordResult(r)
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
	addr, err := AddressOf(p)
	if err != nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return scoreOf(c.rep[addr])
}

// Reputation returns a provider's score in [0, 1] (0.5 when unknown).
func (c *Client) Reputation(p peer.ID) float64 { return c.reputation(p) }

// rate records how p did on job in the ledger (idempotent per job).
func (c *Client) rate(p peer.ID, job wire.JobID, o ledger.Outcome) {
	addr, err := AddressOf(p)
	if err != nil {
		return
	}
	r, err := c.d.Ledger.RecordOutcome(context.Background(), addr, job.String(), o)
	if err != nil {
		c.log.Warn("reputation", "provider", p, "err", err)
		return
	}
	c.mu.Lock()
	c.rep[addr] = r
	c.mu.Unlock()
}

// creditStopped returns what to write with a's failure report: on a
// channel, a's price is credited back (the provider did the same before
// sending the report), so the next voucher reuses it.
func (c *Client) creditStopped(j *Job, a *Assignment) func(tx *ledger.Tx) error {
	if j.PayMode != wire.PayChannel || !a.Stopped || a.Credited || a.Channel == (common.Hash{}) || a.Price == nil {
		return nil
	}
	a.Credited = true
	return func(tx *ledger.Tx) error { _, err := tx.CreditJob(a.Channel, j.ID.String(), a.Price); return err }
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
	c.emit(j.ID, StateRequested, "finding providers")
	exclude := map[peer.ID]bool{}
	for attempt := 0; ; attempt++ {
		last := attempt >= opts.Retry
		out, err := c.round(ctx, j, f, opts, req, sealed, specCBOR, exclude, last)
		if err == nil || last || !retryable(err) {
			return out, err
		}
		// Nothing usable from this round, and retries are left: ask
		// providers not tried yet. Silent providers' escrow is refunded
		// by Settle after the deadline; a provider that reported a
		// failure was not charged.
		for _, a := range j.Assigned {
			exclude[a.Provider] = true
		}
		j.Attempts = attempt + 1
		c.m.Job("client", StateBidding)
		if err := c.setState(j, StateBidding, "attempt %d failed (%v); re-awarding", attempt+1, err); err != nil {
			return fail(err)
		}
		now := time.Now()
		req.BidDeadline, req.Expiry = wire.TimestampOf(now.Add(c.cfg.BidWait)), wire.TimestampOf(now.Add(c.cfg.BidWait+30*time.Second))
		if sealed, err = c.d.Seal(req); err != nil {
			return fail(err)
		}
	}
}

// retryable: the round ended with no usable result from its providers
// (silent, failed, or a result that did not check out).
func retryable(err error) bool {
	return errors.Is(err, ErrNoResult) || errors.Is(err, ErrStopped) || errors.Is(err, ErrBadResult) || errors.Is(err, ErrNoBids)
}

// MaxRetry caps RunOptions.Retry.
const MaxRetry = 16

// minAskScore: providers scoring below it are not asked (one wrong answer
// with no good ones, or a long record of failures).
const minAskScore = 0.15

// round is one bid-award-result round of a job; last says whether a
// failure ends the job (otherwise the caller re-awards).
func (c *Client) round(ctx context.Context, j *Job, f *inflight, opts RunOptions, req *wire.JobRequest, sealed, specCBOR []byte, exclude map[peer.ID]bool, last bool) (*Outcome, error) {
	fail := func(err error) (*Outcome, error) {
		if !last && retryable(err) {
			return nil, err
		}
		j.Error = err.Error()
		s := StateFailed
		if errors.Is(err, context.Canceled) {
			s, err = StateCancelled, fmt.Errorf("%w: %v", ErrCancelled, err)
			j.Error = err.Error()
		}
		_ = c.setState(j, s, "%v", err)
		return nil, err
	}
	k := j.Spec.Redundancy
	first := len(j.Assigned)
	// A provider whose offer quotes the job and that we pay on an open
	// channel is awarded directly, without bids (direct_client.go); a
	// refused direct award is credited, and bids are asked for.
	if !c.awardDirect(ctx, j, req, len(sealed), specCBOR, opts, exclude) {
		first = len(j.Assigned)
		bids, asked, reasons := c.collectBids(ctx, req, sealed, f, opts, exclude)
		j.Bids = len(bids)
		if len(bids) < k {
			return fail(&NoBidsError{Memory: j.Spec.Resources.Memory, Timeout: j.Spec.Resources.Timeout, MaxPrice: j.Spec.Price.Max,
				Module: j.Spec.Module, Asked: asked, Got: len(bids), Wanted: k, Reasons: reasons})
		}
		chosen := c.choose(bids, k)
		// Paying is written with the deal or voucher, before money moves.
		c.note(j, StatePaying, "%d bids; paying %d providers", len(bids), len(chosen))
		if err := c.payAndAward(ctx, j, chosen, specCBOR); err != nil && len(j.Assigned) == first {
			return fail(err)
		}
	}
	awarded, why := 0, ""
	for _, a := range j.Assigned[first:] {
		if a.State == StateAwarded {
			awarded++
		} else if a.Error != "" {
			why = " (" + a.Error + ")"
		}
	}
	if awarded == 0 {
		return fail(fmt.Errorf("%w: every award was refused%s", ErrNoResult, why))
	}
	if j.PayMode == wire.PayChannel {
		// The job and every assignment are written as they stand
		// (awarded with the voucher, or refused and credited): no
		// write between the award's answer and the result.
		c.note(j, StateAwarded, "running on %d providers", awarded)
	} else if err := c.setState(j, StateAwarded, "running on %d providers", awarded); err != nil {
		return fail(err)
	}
	awardedAt := time.Now()
	out, err := c.awaitResults(ctx, j, f, first, opts.ResultTimeout, last)
	// A channel provider silent past the whole deadline is not charged
	// (client_silent.go); its escrow counterpart is refunded by Settle.
	c.creditSilent(ctx, j, first, awardedAt)
	return out, err
}

// collectBids asks fitting providers from the book directly; if too few
// bid, it also gossips the request and waits for bids until the deadline.
// It does not wait for the deadline when it has enough: it returns once
// every provider asked has answered, or 2k+1 bids are in, or k bids are in
// and a grace of half the time the k-th took has passed (at least
// minBidGrace), so a cheaper bid a little behind still counts but one slow
// or unreachable provider no longer holds every job up to BidWait.
func (c *Client) collectBids(ctx context.Context, req *wire.JobRequest, sealed []byte, f *inflight, opts RunOptions, exclude map[peer.ID]bool) ([]bidIn, int, []string) {
	k := req.Spec.Redundancy
	want := 2*k + 1
	var targets []peer.ID
	for _, p := range opts.Providers {
		if !exclude[p] {
			targets = append(targets, p)
		}
	}
	if len(opts.Providers) == 0 {
		for _, q := range c.d.Book.Fitting(&req.Spec, map[peer.ID]bool{c.d.Net.ID(): true}) {
			if c.reputation(q.Offer.Provider) < minAskScore || exclude[q.Offer.Provider] {
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
	start := time.Now()
	var mu sync.Mutex
	var bids []bidIn
	var reasons []string
	closed := false
	seen := map[peer.ID]bool{}
	accept := func(b *wire.Bid, from peer.ID, lat time.Duration) bool {
		mu.Lock()
		defer mu.Unlock()
		if closed || b.JobID != req.ID || b.Provider != from || seen[from] || from == c.d.Net.ID() || exclude[from] ||
			(req.Spec.Price.Max != nil && b.Price.Cmp(req.Spec.Price.Max) > 0) {
			return false
		}
		seen[from] = true
		bids = append(bids, bidIn{bid: b, latency: lat})
		c.m.Bid("received")
		return true
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(bids)
	}
	// The grace starts when the k-th bid is in.
	var graceT *time.Timer
	var graceC <-chan time.Time
	defer func() {
		if graceT != nil {
			graceT.Stop()
		}
	}()
	grace := func() {
		if graceT == nil && count() >= k {
			graceT = time.NewTimer(max(minBidGrace, time.Since(start)/2))
			graceC = graceT.C
		}
	}
	answered := make(chan struct{}, len(targets))
	for _, p := range targets {
		go func() {
			defer func() { answered <- struct{}{} }()
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
direct:
	for left := len(targets); left > 0; {
		select {
		case <-answered:
			left--
			if count() >= want {
				break direct
			}
			grace()
		case <-graceC:
			break direct
		case <-bctx.Done():
			break direct
		}
	}
	if n := count(); n < k || len(targets) == 0 {
		c.emit(req.ID, StateBidding, "asking the network (gossip)")
		if err := c.d.Net.Publish(bctx, wire.TopicJobs, sealed); err != nil {
			mu.Lock()
			reasons = append(reasons, "gossip: "+err.Error())
			mu.Unlock()
		}
		t0 := time.Now()
	gossip:
		for {
			select {
			case <-bctx.Done():
				break gossip
			case <-graceC:
				break gossip
			case b := <-f.bids:
				accept(b.bid, b.bid.Provider, time.Since(t0))
				if count() >= want {
					break gossip
				}
				grace()
			}
		}
	}
	// Requests still in flight are cancelled on return; a late answer is
	// not taken (closed), so the caller owns the slice it gets.
	mu.Lock()
	defer mu.Unlock()
	closed = true
	return slices.Clone(bids), len(targets), slices.Clone(reasons)
}

// minBidGrace is the least time collectBids waits for more bids once it
// has k.
const minBidGrace = 2 * time.Millisecond

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
			Expiry: wire.TimestampOf(time.Now().Add(time.Minute)), Request: b.direct}
		switch j.PayMode {
		case wire.PayEscrow:
			now, err := c.chainNow(ctx)
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				continue
			}
			// The head's time is the last block's: on an idle chain it lags
			// the clock, and the deal's block will be stamped near the
			// clock (a retry after a long wait hit this).
			now = max(now, uint64(time.Now().Unix()))
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
			// Recorded with the award below; a crash before that leaves a
			// deal the ledger has as opening, which Settle and Reconcile
			// find on chain.
			j.Assigned[len(j.Assigned)-1].DealOpen = true
			c.m.Paid("escrow_open", a.Price)
			award.DealID = a.DealID
		case wire.PayChannel:
			// The voucher is reserved, signed and stored with the job's
			// assignment in one transaction before the award goes out.
			v, err := c.voucher(ctx, b.bid.Provider, addr, a.Price, j, &a)
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				continue
			}
			c.m.Paid("voucher", a.Price)
			award.Voucher = &wire.Voucher{ChannelID: v.Key.ID(), Cumulative: v.Cumulative, Signature: v.Signature}
			award.Expiry = c.awardExpiry(j) // no later than this assignment may be credited
		}
		i := len(j.Assigned) - 1
		sealed, err := c.d.Seal(award)
		if err == nil {
			_, err = c.d.Net.Request(ctx, b.bid.Provider, sealed)
		}
		switch {
		case err == nil:
			j.Assigned[i].State = StateAwarded
		case errors.Is(err, ErrRefused) || errors.Is(err, ErrUnpaid):
			// The provider answered no: it journaled nothing, so a channel
			// voucher is credited back now (the next one reuses the amount)
			// and an escrow deal is refunded by Settle after its deadline.
			firstErr = cmpErr(firstErr, err)
			if err := c.refusedAward(j, i, err); err != nil {
				return err
			}
		default:
			// No answer (timeout, reset stream): the provider may have the
			// award and run the job. The assignment waits for a result like
			// any other; silence past the deadline is credited (channel) or
			// refunded (escrow), a result is verified and paid as usual.
			// Failing it here would leave a job the provider runs and is
			// paid for while this client lists it failed.
			firstErr = cmpErr(firstErr, err)
			j.Assigned[i].State = StateAwarded
			c.log.Info("award unconfirmed; waiting for a result or the deadline", "job", j.ID, "provider", b.bid.Provider, "err", err)
			if ctx.Err() == nil {
				c.rate(b.bid.Provider, j.ID, ledger.OutcomeFailure) // bid, then went quiet
			}
		}
		// Written with the job's next state (awarded or failed): the
		// payment was written before the award went out.
	}
	return firstErr
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// voucher returns a signed voucher paying price for job j on the channel
// to provider, opening or topping up the channel as needed. The voucher is
// reserved in the ledger (IssueVoucher: the channel's charges plus price,
// so a credit from a refunded job is used first) and a is appended to j's
// assignments and saved in the same transaction, before the voucher
// leaves this function.
func (c *Client) voucher(ctx context.Context, p peer.ID, addr common.Address, price *big.Int, j *Job, a *Assignment) (contracts.Voucher, error) {
	// fundedChannel reserves room for price and tops up in the
	// background (channel_topup.go); the voucher itself is issued
	// atomically by the ledger, so concurrent jobs on the same channel
	// share fsyncs (group commit) instead of queueing for one.
	for try := 0; ; try++ {
		ch, release, err := c.fundedChannel(ctx, p, addr, price)
		if err != nil {
			return contracts.Voucher{}, err
		}
		key := contracts.ChannelKey{Client: ch.Client, Provider: ch.Provider, Salt: ch.Salt}
		var out contracts.Voucher
		base := j.Assigned[:len(j.Assigned):len(j.Assigned)]
		// The ledger may run this more than once (group commit): it
		// rebuilds its changes from base each time.
		err = update(c.d.Ledger, func(tx *ledger.Tx) error {
			v, err := tx.IssueVoucher(ch.ID, j.ID.String(), price, func(cum *big.Int) ([]byte, error) {
				sv, err := c.d.Settle.SignVoucher(key, cum)
				return sv.Signature, err
			})
			if err != nil {
				return err
			}
			out = contracts.Voucher{Key: key, Cumulative: v.Cumulative, Signature: v.Signature}
			a.Channel, a.Cumulative = ch.ID, new(big.Int).Set(v.Cumulative)
			// Written as awarded (the job and the assignment) before the
			// award goes out: a crash before or after sending it then
			// ends in the silent provider's credit (Settle), as an
			// unanswered award does, and nothing needs writing once the
			// provider answers (round).
			a.State, j.State = StateAwarded, StateAwarded
			j.Assigned = append(base, *a)
			j.Updated = time.Now()
			return putClientJob(tx, j)
		})
		release()
		if errors.Is(err, ledger.ErrInsufficientDeposit) && try < 3 {
			continue // spent by a voucher issued elsewhere: reserve again
		}
		if err != nil {
			return contracts.Voucher{}, err
		}
		return out, nil
	}
}

// fundedChannel returns the open channel to addr with room for price
// reserved (opening it, or waiting for its top-up, as needed) and the
// func releasing the reservation once the voucher is written or failed.
// Top-ups run ahead of the jobs in flight (channel_topup.go).
func (c *Client) fundedChannel(ctx context.Context, p peer.ID, addr common.Address, price *big.Int) (ledger.Channel, func(), error) {
	return c.reserveVoucher(ctx, p, addr, price)
}

// channelTo returns the open channel from this client to addr, opening
// one (recorded as opening before the transaction) when there is none.
func (c *Client) channelTo(ctx context.Context, p peer.ID, addr common.Address, price *big.Int) (ledger.Channel, error) {
	chs, err := c.d.Ledger.Channels(ctx, ledger.RoleClient, ledger.ChannelOpening, ledger.ChannelOpen)
	if err != nil {
		return ledger.Channel{}, err
	}
	for i := len(chs) - 1; i >= 0; i-- {
		ch := chs[i]
		if ch.Provider != addr {
			continue
		}
		if ch.State == ledger.ChannelOpen {
			return ch, nil
		}
		// Recorded before an open that did not go through (or whose
		// receipt we never saw): use it if the chain has it.
		if oc, err := c.d.Settle.Channel(ctx, ch.ID); err == nil {
			return c.d.Ledger.TransitionChannel(ctx, ch.ID, ledger.ChannelOpen, func(x *ledger.Channel) error { x.Deposit = oc.Deposit; return nil })
		}
		_, _ = c.d.Ledger.TransitionChannel(ctx, ch.ID, ledger.ChannelAbandoned, nil)
	}
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
	if _, err := c.d.Ledger.PutChannel(ctx, ledger.Channel{ID: key.ID(), Role: ledger.RoleClient, State: ledger.ChannelOpening,
		Client: c.me, Provider: addr, Peer: p.String(), Salt: salt, Deposit: new(big.Int)}); err != nil {
		return ledger.Channel{}, err
	}
	_, rc, err := c.d.Settle.OpenChannel(ctx, addr, salt, dep)
	if err != nil {
		return ledger.Channel{}, fmt.Errorf("open channel to %s: %w", addr, err)
	}
	var ch ledger.Channel
	err = update(c.d.Ledger, func(tx *ledger.Tx) (err error) {
		ch, err = tx.TransitionChannel(key.ID(), ledger.ChannelOpen, func(x *ledger.Channel) error {
			x.Deposit, x.OpenTx = new(big.Int).Set(dep), rc.TxHash
			return nil
		})
		if err != nil {
			return err
		}
		return tx.RecordPayment(ledger.Payment{Kind: ledger.PaymentLocked, Amount: dep, Ref: key.ID(), Tx: rc.TxHash, Peer: addr, Note: "channel deposit"})
	})
	if err != nil {
		return ledger.Channel{}, err
	}
	c.m.Paid("channel_deposit", dep)
	return ch, nil
}

// awaitResults collects results until every awarded provider answered or
// the deadline, verifies them, and settles. A wait shorter than the full
// deadline (RunOptions.ResultTimeout) cancels the channel providers still
// silent (giveUp); a result of an earlier round's provider given up on is
// recorded for Settle (lateResult), not counted in this round.
func (c *Client) awaitResults(ctx context.Context, j *Job, f *inflight, first int, wait time.Duration, last bool) (*Outcome, error) {
	full := time.Now().Add(j.Spec.Resources.Timeout.D() + c.cfg.ResultMargin)
	if wait <= 0 {
		wait = time.Until(full)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	pending := 0
	for _, a := range j.Assigned[first:] {
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
	var acks []chan struct{} // results acknowledged after decide's write (result_ack.go)
	defer func() {
		for _, a := range acks {
			closeAck(a)
		}
	}()
loop:
	for pending > 0 {
		select {
		case <-ctx.Done():
			break loop
		case <-timer.C:
			if more := c.giveUp(ctx, j, first, full); more > 0 {
				pending = more // results that exist: wait for them, up to the deadline
				timer.Reset(time.Until(full))
				continue
			}
			break loop
		case r := <-f.results:
			i := slices.IndexFunc(j.Assigned, func(a Assignment) bool { return a.Provider == r.from })
			if i >= 0 && i < first {
				c.lateResult(j, i, r.res) // an earlier round's: Settle verifies and pays it
				closeAck(r.ack)
				continue
			}
			if i >= 0 && j.Assigned[i].ResultCID != "" {
				acks = append(acks, r.ack) // a result delivered again: acknowledged with the first
				continue
			}
			if i < 0 || j.Assigned[i].State != StateAwarded {
				closeAck(r.ack)
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
				_ = c.saveWith(j, c.creditStopped(j, a))
				closeAck(r.ack)
				c.rate(a.Provider, j.ID, ledger.OutcomeFailure)
				continue
			}
			acks = append(acks, r.ack)
			a.State = StateSubmitted
			c.emit(j.ID, StateVerifying, "result from %s; fetching %s", short(r.from), r.res.ResultCID)
			pdir := filepath.Join(dir, safeName(r.from.String()))
			if err := c.checkResult(ctx, a, r.res.Inline, pdir); err != nil {
				a.Error = err.Error()
				c.log.Warn("bad result", "job", j.ID, "provider", r.from, "err", err)
			} else {
				a.Verified = true
				counts[a.OutputHash]++
			}
			// decide writes the verdicts (nothing is sent before that).
			if counts[a.OutputHash] >= majorityNeeded && a.Verified && j.Spec.Redundancy == 1 {
				break loop
			}
			// With redundancy, a majority already reached lets the rest be settled later.
			if a.Verified && counts[a.OutputHash] >= majorityNeeded && pending == 0 {
				break loop
			}
		}
	}
	return c.decide(ctx, j, dir, counts, majorityNeeded, first, last)
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
func (c *Client) decide(ctx context.Context, j *Job, dir string, counts map[[32]byte]int, need int, first int, last bool) (*Outcome, error) {
	var win [32]byte
	found := false
	for h, n := range counts {
		if n >= need {
			win, found = h, true
		}
	}
	if j.PayMode == wire.PayEscrow && len(counts) > 0 && disputesAhead(j, first, found, win) {
		// The verdicts are written before the dispute transactions that
		// act on them (the accepts go out after the last write below).
		if err := c.save(j); err != nil {
			return nil, err
		}
	}
	paid := orZero(j.Paid)
	var winner *Assignment
	type rating struct {
		p peer.ID
		o ledger.Outcome
	}
	var ratings []rating
	rates := func(tx *ledger.Tx) error {
		for _, r := range ratings {
			addr, err := AddressOf(r.p)
			if err != nil {
				continue
			}
			rep, err := tx.RecordOutcome(addr, j.ID.String(), r.o)
			if err != nil {
				return err
			}
			c.mu.Lock()
			c.rep[addr] = rep
			c.mu.Unlock()
		}
		return nil
	}
	for i := first; i < len(j.Assigned); i++ {
		a := &j.Assigned[i]
		switch {
		case found && a.Verified && a.OutputHash == win:
			if j.PayMode == wire.PayEscrow {
				a.State = StateVerified // accepted on chain after Wait has the outcome (escrow_accept.go)
			} else {
				a.State = StatePaid
				paid.Add(paid, a.Price)
				c.m.Paid("accept", a.Price)
			}
			ratings = append(ratings, rating{a.Provider, ledger.OutcomeSuccess})
			if winner == nil {
				winner = a
			}
		case a.State == StateSubmitted:
			// A result that is wrong, unfetchable, or outvoted: its
			// reputation drops in both pay modes. Escrow: disputed when
			// the deal names a mediator (disputed only once the chain
			// says so, so the ledger is never ahead of it); without one
			// the contract allows no dispute and the provider may claim
			// after the challenge window (Settle then records it paid).
			// Channel: its voucher was paid before the run (see
			// docs/rationale/market.md).
			ratings = append(ratings, rating{a.Provider, ledger.OutcomeDisagreement})
			a.State = StateFailed
			if j.PayMode == wire.PayEscrow && a.Deal != nil {
				if a.Deal.Mediator == (common.Address{}) {
					a.Error = joinErr(a.Error, "not accepted; the deal names no mediator, so the provider may claim after the challenge window")
				} else if c.dispute(ctx, j, a) {
					a.State = StateDisputed
				}
			}
		case a.State == StateAwarded:
			ratings = append(ratings, rating{a.Provider, ledger.OutcomeFailure}) // silent: escrow is refunded by Settle after the deadline
			a.Error = "no result before the deadline"
		}
	}
	j.Paid = paid
	round := j.Assigned[first:]
	if i := slices.IndexFunc(round, func(a Assignment) bool { return a.Stopped }); winner == nil && i >= 0 {
		a := round[i]
		err := fmt.Errorf("%w: %s", ErrStopped, a.Error)
		if !last {
			_ = c.saveWith(j, rates)
			return nil, err
		}
		j.Error, j.ExitCode = err.Error(), a.ExitCode
		how := "the escrow is refunded after the deal deadline"
		if j.PayMode == wire.PayChannel {
			how = "its price is credited back on the channel"
		}
		_ = c.setStateWith(j, StateFailed, rates, "%v; %s", err, how)
		return nil, err
	}
	if winner == nil {
		err := ErrNoResult
		if len(counts) > 0 || slices.ContainsFunc(round, func(a Assignment) bool {
			return a.State == StateDisputed || a.State == StateFailed && a.ResultCID != ""
		}) {
			err = ErrNoMajority
			if j.Spec.Redundancy == 1 {
				err = ErrBadResult
			}
		}
		if !last {
			_ = c.saveWith(j, rates)
			return nil, err
		}
		j.Error = err.Error()
		_ = c.setStateWith(j, StateFailed, rates, "%v", err)
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
	if j.PayMode == wire.PayEscrow {
		// The outcome goes to Wait now, verified; the accept follows
		// once the commitment is on chain (escrow_accept.go).
		if err := c.setStateWith(j, StateVerified, rates, "done: exit %d, verified; accepting on chain", winner.ExitCode); err != nil {
			return nil, err
		}
		out.Job = *j
		c.acceptLater(j)
		return out, nil
	}
	if err := c.setStateWith(j, StatePaid, rates, "done: exit %d, paid %s", winner.ExitCode, wire.FormatWei(paid)); err != nil {
		return nil, err
	}
	out.Job = *j
	return out, nil
}

// Settle refunds escrow deals whose provider stayed silent past the
// deadline and verifies results that came in while no process waited for
// them. Run calls it every TickInterval; tests call it directly.
func (c *Client) Settle(ctx context.Context) {
	// Disputed deals first, so a claimed deal is recorded as claimed, not
	// accepted.
	c.SettleDisputes(ctx)
	now, err := c.chainNow(ctx)
	if err != nil {
		return
	}
	// Jobs with money outstanding are not terminal in the ledger.
	jobs, err := c.jobsIn(ctx, ledger.JobFilter{Role: ledger.RoleClient, States: []ledger.JobState{
		ledger.JobPaying, ledger.JobAwarded, ledger.JobRunning, ledger.JobResultReceived, ledger.JobVerified, ledger.JobDisputed}})
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
				// The process still owns the job; a retry's abandoned
				// escrow is refunded all the same once it is due.
				c.refundAbandoned(ctx, &j, now)
				continue
			}
		}
		if acceptPending(&j) && c.acceptBusy(j.ID) {
			continue // acceptLater is accepting it (escrow_accept.go)
		}
		changed := false
		var ends []dealEnd // closed deals as the chain closed them (escrow_chain.go)
		for i := range j.Assigned {
			a := &j.Assigned[i]
			if j.PayMode != wire.PayEscrow || a.Deal == nil || a.State == StatePaid || a.State == StateRefunded || a.State == StateDisputed || a.State == StateCancelled {
				continue
			}
			st, err := c.d.Settle.Deal(ctx, a.DealID)
			if err != nil {
				continue
			}
			if st.Status != contracts.DealNone && !a.DealOpen {
				a.DealOpen, changed = true, true
			}
			c.syncCommitted(ctx, a, st) // the ledger deal submitted once the chain is (escrow_chain.go)
			switch {
			case st.Status == contracts.DealNone && a.State != StateAwarded:
				a.State, changed = StateCancelled, true // the deal was never opened: nothing to settle
			case st.Status == contracts.DealClosed:
				refunded, err := c.closedByRefund(ctx, a)
				if err != nil {
					continue
				}
				if refunded {
					// Refunded while the job's process ran (a retry), or
					// before a crash kept the job record from saying so.
					refundedVerified(a)
					a.State, changed = StateRefunded, true
					continue
				}
				// Not refunded, not disputed: the provider claimed it
				// (or we accepted it before a crash). The chain says paid,
				// and its closing event says by whom.
				e, ok := c.paidEnd(ctx, a)
				if !ok {
					continue
				}
				ends = append(ends, e)
				if e.end.deal == ledger.DealClaimed {
					a.Error = joinErr(a.Error, e.end.note)
				}
				a.State, changed = StatePaid, true
				j.Paid = new(big.Int).Add(orZero(j.Paid), a.Price)
				c.m.Paid("accept", a.Price)
			case st.Status == contracts.DealOpen && now > a.Deal.Deadline:
				if _, err := c.d.Settle.Refund(ctx, *a.Deal); err != nil {
					c.log.Warn("refund", "job", j.ID, "err", err)
					continue
				}
				refundedVerified(a)
				a.State, changed = StateRefunded, true
				c.m.Paid("refund", a.Price)
			case st.Status == contracts.DealSubmitted && a.State == StateVerified:
				// Verified before a restart, or its accept failed: accept it now.
				changed = c.settleVerified(ctx, &j, a)
			case st.Status == contracts.DealSubmitted && a.ResultCID != "" && !a.Verified && a.Error == "" && j.Spec.Redundancy == 1:
				// A result that came while no process waited for it (or
				// after the wait gave up): verify it and pay.
				dir, err := c.fetchLate(ctx, a)
				if err != nil {
					continue // the provider claims after the window unless disputed
				}
				if _, err := c.d.Settle.Accept(ctx, *a.Deal); err != nil {
					_ = os.RemoveAll(dir)
					continue
				}
				a.State, a.Verified, changed = StatePaid, true, true
				j.Paid = new(big.Int).Add(orZero(j.Paid), a.Price)
				j.ResultCID, j.OutputHash, j.ExitCode, j.Error = a.ResultCID, a.OutputHash, a.ExitCode, ""
				keepOutputs(&j, dir)
				c.m.Paid("accept", a.Price)
				c.rate(a.Provider, j.ID, ledger.OutcomeSuccess)
			}
		}
		var credits func(tx *ledger.Tx) error
		if j.PayMode == wire.PayChannel {
			if ch, more := c.settleChannel(ctx, &j); ch {
				changed, credits = true, more
			}
		}
		if changed {
			switch {
			case acceptPending(&j):
				// Another winner's accept is still to come: still verified.
			case slices.ContainsFunc(j.Assigned, func(a Assignment) bool { return a.State == StatePaid }):
				j.State = StatePaid
				if j.ResultCID == "" {
					j.Error = "paid on chain (the provider claimed) but no verified result reached this client"
				}
			case !slices.ContainsFunc(j.Assigned, func(a Assignment) bool {
				return a.State == StateAwarded || a.State == StatePaying || a.State == StateSubmitted
			}) && slices.ContainsFunc(j.Assigned, func(a Assignment) bool { return a.State == StateRefunded }):
				j.State = StateRefunded
			case j.PayMode == wire.PayChannel && !slices.ContainsFunc(j.Assigned, func(a Assignment) bool {
				return a.State == StateAwarded || a.State == StatePaying || a.State == StateSubmitted
			}):
				j.State = StateFailed
				if j.Error == "" {
					j.Error = ErrNoResult.Error()
				}
			}
			_ = c.saveWith(&j, recordDealEnds(ends, credits))
			c.emit(j.ID, j.State, "settled")
		}
	}
}

// fetchLate fetches a result that came while no process waited for it
// into a fresh directory (Content.Fetch refuses an existing destination)
// and checks its hash; it returns the result's directory.
func (c *Client) fetchLate(ctx context.Context, a *Assignment) (string, error) {
	dir, err := os.MkdirTemp(c.cfg.WorkDir, "cloudless-result-")
	if err != nil {
		return "", err
	}
	pdir := filepath.Join(dir, "result")
	if err := c.fetchAndCheck(ctx, a, pdir); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return pdir, nil
}

// keepOutputs records the inline stdout and stderr and the out/ file list
// of an accepted result fetched into pdir, as decide does.
func keepOutputs(j *Job, pdir string) {
	if b, err := os.ReadFile(filepath.Join(pdir, StdoutName)); err == nil && len(b) <= InlineOutput {
		j.Stdout = b
	}
	if b, err := os.ReadFile(filepath.Join(pdir, StderrName)); err == nil && len(b) <= InlineOutput {
		j.Stderr = b
	}
	j.OutFiles = nil
	outDir := filepath.Join(pdir, OutDirName)
	_ = filepath.WalkDir(outDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(outDir, p)
			j.OutFiles = append(j.OutFiles, filepath.ToSlash(rel))
		}
		return nil
	})
}

// settleChannel settles a channel job no process waits for (the client
// restarted): a result that came in is fetched and checked (the voucher
// already paid it; a wrong one is a disagreement), and a provider still
// silent after the job's timeout plus ResultMargin is asked first, as
// the waiting path does (askDueSilent, channel_ask.go): on the provider's
// "credited" it is failed, its price credited back on the channel
// (creditSilentOne); a provider with a result delivers it again (recorded
// by handleResult, paid here on a later tick); one that does not answer
// leaves it open, asked again with backoff. It reports whether j changed
// and returns the ledger credits to write with j (nil when none).
func (c *Client) settleChannel(ctx context.Context, j *Job) (bool, func(tx *ledger.Tx) error) {
	changed := false
	late := time.Now().After(j.Updated.Add(j.Spec.Resources.Timeout.D() + c.cfg.ResultMargin))
	var credits []func(tx *ledger.Tx) error
	asked := c.askDueSilent(ctx, j, late) // silent past the deadline: credited only on the provider's word (channel_ask.go)
	if len(asked) > 0 {
		// The asks went over the network; what came meanwhile (a result
		// or failure report they prompted, recordResult) is in the
		// ledger: settle from there, not from the copy read before.
		fresh, err := c.Job(j.ID)
		if err != nil {
			return false, nil
		}
		*j = *fresh
	}
	for i := range j.Assigned {
		a := &j.Assigned[i]
		switch {
		case a.State == StateSubmitted && a.ResultCID != "" && !a.Verified && !a.Credited && j.Spec.Redundancy == 1:
			dir, err := c.fetchLate(ctx, a)
			if err != nil {
				if !late && ctx.Err() == nil {
					continue // maybe not reachable yet: try again next tick
				}
				a.State, a.Error, changed = StateFailed, err.Error(), true
				c.rate(a.Provider, j.ID, ledger.OutcomeDisagreement)
				continue
			}
			a.State, a.Verified, changed = StatePaid, true, true
			j.Paid = new(big.Int).Add(orZero(j.Paid), a.Price)
			j.ResultCID, j.OutputHash, j.ExitCode, j.Error = a.ResultCID, a.OutputHash, a.ExitCode, ""
			keepOutputs(j, dir)
			c.rate(a.Provider, j.ID, ledger.OutcomeSuccess)
		case (a.State == StateAwarded || a.State == StateSubmitted) && late:
			if silentChannel(j, a) && asked[i] != askCredited {
				continue // open: asked again on a later tick
			}
			if f := creditSilentOne(j, a); f != nil {
				credits = append(credits, f)
				changed = true
				c.rate(a.Provider, j.ID, ledger.OutcomeFailure)
				continue
			}
			a.State, changed = StateFailed, true
			if a.Error == "" {
				a.Error = "no result before the deadline"
			}
			c.rate(a.Provider, j.ID, ledger.OutcomeFailure)
		}
	}
	awaiting := slices.ContainsFunc(j.Assigned, func(a Assignment) bool {
		return a.State == StateAwarded || a.State == StatePaying || a.State == StateSubmitted
	})
	if !awaiting && !j.State.Terminal() {
		changed = true // e.g. a failure report recorded by handleResult
		if i := slices.IndexFunc(j.Assigned, func(a Assignment) bool { return a.Stopped }); i >= 0 && j.Error == "" &&
			!slices.ContainsFunc(j.Assigned, func(a Assignment) bool { return a.State == StatePaid }) {
			j.Error = fmt.Errorf("%w: %s", ErrStopped, j.Assigned[i].Error).Error()
		}
	}
	if len(credits) == 0 {
		return changed, nil
	}
	return changed, func(tx *ledger.Tx) error {
		for _, f := range credits {
			if err := f(tx); err != nil {
				return err
			}
		}
		return nil
	}
}
