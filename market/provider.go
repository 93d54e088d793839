package market

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market/wire"
)

// ProviderDeps are the parts a provider runs on. All are required except
// Book and Logger.
type ProviderDeps struct {
	Net     Network
	Seal    Sealer
	Content Content
	Runner  Runner
	Settle  Settlement
	// Ledger is the node's durable record (ledger.db): every transition
	// is written to it, fsynced, before the message or transaction that
	// depends on it.
	Ledger *ledger.Ledger
	// Book, when set, gets the provider's own offers too.
	Book   *Book
	Logger *slog.Logger
	// Tracer receives metrics; nil: none (see NewMetrics).
	Metrics *Metrics
}

// ProviderConfig is the provider's policy. Zero fields take the defaults
// listed with each.
type ProviderConfig struct {
	// Price is the schedule offered and the floor of every bid. Required.
	Price wire.PriceSchedule
	// Payout is announced in offers (default: the settlement address; the
	// contract pays the settlement address, which may forward).
	Payout common.Address
	// Stake is announced in offers (default 0).
	Stake *big.Int
	// MaxMemory caps one job's memory (default: the executor's free budget).
	MaxMemory wire.Size
	// MaxDuration caps one job's timeout (default 5 min).
	MaxDuration wire.Duration
	// MaxModuleSize caps the module (default 64 MiB).
	MaxModuleSize wire.Size
	// PayModes accepted (default both).
	PayModes []wire.PayMode
	// Mediators the provider accepts in escrow deals; a deal without a
	// mediator is always accepted.
	Mediators []common.Address
	// MediatorPeers are the peer IDs of (some of) the Mediators: the
	// provider brings a disputed deal's case to the one whose address the
	// deal names (mediate_case.go). List their addresses in Mediators too.
	MediatorPeers []peer.ID
	// MaxChallengeWindow refuses deals whose window is longer (default 1 h).
	MaxChallengeWindow time.Duration
	// ResultMargin: a deal's deadline must leave this much after the job's
	// timeout (default 15 s).
	ResultMargin time.Duration
	// OfferInterval between offers (default 30 s); offers live 3 intervals.
	OfferInterval time.Duration
	// BidTTL is how long a bid holds (default 30 s).
	BidTTL time.Duration
	// RedeemAmount and RedeemAge trigger a voucher redemption (defaults
	// 0.01 ether, 1 h).
	RedeemAmount *big.Int
	RedeemAge    time.Duration
	// TickInterval of the claim and redeem loop (default 2 s).
	TickInterval time.Duration
	// FastGrace: a short channel run that ends within it is written once,
	// with its result; a longer one has its award written at FastGrace
	// (default 100 ms; fast_provider.go).
	FastGrace time.Duration
	// FromBlock is where chain event lookups start (default 0).
	FromBlock uint64
	// Addrs are announced in offers.
	Addrs []string
	// WorkDir holds job scratch directories (default os.TempDir()).
	WorkDir string
}

func (c *ProviderConfig) defaults(settle Settlement) error {
	if c.Price.PerJob == nil && len(c.Price.Tiers) == 0 {
		return errors.New("market: provider needs a price schedule")
	}
	if c.Payout == (common.Address{}) {
		c.Payout = settle.Address()
	}
	if c.Stake == nil {
		c.Stake = new(big.Int)
	}
	if c.MaxDuration == 0 {
		c.MaxDuration = wire.Duration(5 * time.Minute)
	}
	if c.MaxModuleSize == 0 {
		c.MaxModuleSize = 64 << 20
	}
	if len(c.PayModes) == 0 {
		c.PayModes = []wire.PayMode{wire.PayEscrow, wire.PayChannel}
	}
	if c.MaxChallengeWindow == 0 {
		c.MaxChallengeWindow = time.Hour
	}
	if c.ResultMargin == 0 {
		c.ResultMargin = 15 * time.Second
	}
	if c.OfferInterval == 0 {
		c.OfferInterval = 30 * time.Second
	}
	if c.BidTTL == 0 {
		c.BidTTL = 30 * time.Second
	}
	if c.RedeemAmount == nil {
		c.RedeemAmount = big.NewInt(1e16)
	}
	if c.RedeemAge == 0 {
		c.RedeemAge = time.Hour
	}
	if c.TickInterval == 0 {
		c.TickInterval = 2 * time.Second
	}
	if c.FastGrace == 0 {
		c.FastGrace = defaultFastGrace
	}
	if c.WorkDir == "" {
		c.WorkDir = os.TempDir()
	}
	return nil
}

type pendingBid struct {
	req    *wire.JobRequest
	price  *big.Int
	expiry time.Time
}

// Provider sells the node's capacity: offers, bids, runs paid jobs, gets
// paid. Create with NewProvider, start with Run, stop with Close.
type Provider struct {
	d   ProviderDeps
	cfg ProviderConfig
	me  common.Address
	log *slog.Logger
	m   *Metrics

	mu       sync.Mutex // guards bids, reserved, seq
	redeemMu sync.Mutex // one redemption at a time
	bids     map[wire.JobID]*pendingBid
	reserved int // awards accepted but not yet running
	seq      uint64
	busy     map[string]bool      // commits and deliveries under way, by "commit/"+key, "deliver/"+key
	retryAt  map[string]time.Time // next commit retry of a done job, by key
	retryGap map[string]time.Duration

	offerNow chan struct{}
	// offerDirty: capacity changed since the last offer; offeredFree:
	// the last offer published had a free slot (see changed).
	offerDirty  bool
	offeredFree bool
	// marks are deliveries not yet written to the ledger, by job key
	// (true: delivered, false: given up); see queueDelivered.
	marks      map[string]bool
	markQueued bool
	flushMu    sync.Mutex // held while queued deliveries are written
	// lastFull is when recordReconciled last ran (fullSettleEvery).
	lastFull time.Time
	// inline holds, by job key, the sealed Result with the output inline
	// when it is too big to keep in the ledger record (see run).
	inline map[string][]byte
	mods   modCache // modules run, by CID (run_mem.go)
	// runStops: the stop func of each channel run under way, by job key
	// (channel_run.go).
	runStops sync.Map

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// NewProvider checks deps and cfg and registers the provider's handlers on
// deps.Net. Call Run to start offering.
func NewProvider(deps ProviderDeps, cfg ProviderConfig) (*Provider, error) {
	if deps.Net == nil || deps.Seal == nil || deps.Content == nil || deps.Runner == nil || deps.Settle == nil || deps.Ledger == nil {
		return nil, errors.New("market: provider needs Net, Seal, Content, Runner, Settle and Ledger")
	}
	if err := cfg.defaults(deps.Settle); err != nil {
		return nil, err
	}
	log := deps.Logger
	if log == nil {
		log = slog.Default()
	}
	p := &Provider{
		d: deps, cfg: cfg, me: deps.Settle.Address(), log: log.With("part", "market", "role", "provider"),
		m: deps.Metrics, bids: map[wire.JobID]*pendingBid{}, offerNow: make(chan struct{}, 1),
		seq: uint64(time.Now().UnixNano()),
	}
	if p.m == nil {
		p.m = NewMetrics(nil)
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	deps.Net.Handle(wire.TypeJobRequest, p.handleRequest)
	deps.Net.Handle(wire.TypeAward, p.handleAward)
	deps.Net.Handle(wire.TypeCancel, p.handleCancel)
	return p, nil
}

// Run recovers unfinished jobs from the ledger, then offers, bids, runs,
// claims and redeems until ctx ends or Close. It returns nil on a clean stop.
func (p *Provider) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(p.ctx, cancel)
	defer stop()
	if err := p.d.Net.Subscribe(ctx, wire.TopicJobs, func(from peer.ID, msg wire.Message) {
		if req, ok := msg.(*wire.JobRequest); ok {
			go p.gossipRequest(ctx, req)
		}
	}); err != nil {
		p.log.Warn("no gossip job requests; direct requests only", "err", err)
	}
	if err := p.recover(ctx); err != nil {
		p.log.Error("recovery", "err", err)
	}
	p.publishOffer(ctx)
	offerT := time.NewTicker(p.cfg.OfferInterval)
	defer offerT.Stop()
	coalesceT := time.NewTicker(min(offerCoalesce, p.cfg.OfferInterval))
	defer coalesceT.Stop()
	tick := time.NewTicker(p.cfg.TickInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			p.wg.Wait()
			return nil
		case <-offerT.C:
			p.publishOffer(ctx)
		case <-p.offerNow:
			p.publishOffer(ctx)
		case <-coalesceT.C:
			if p.takeDirty() {
				p.publishOffer(ctx)
			}
		case <-tick.C:
			p.Settle(ctx)
		}
	}
}

// Close stops Run and waits for running jobs. Safe to call twice.
func (p *Provider) Close() error {
	p.once.Do(func() { p.cancel(); p.wg.Wait(); p.flushMarks() })
	return nil
}

// offerCoalesce is the shortest time between two offers that only
// update the free capacity; an offer that turns the provider from full to
// free (or back) goes out at once.
const offerCoalesce = time.Second

// changed notes that capacity changed (an award taken, a job finished).
// The offer is republished at once only when the provider went from full
// to having a free slot or back; other changes are folded into one offer
// per offerCoalesce (Run). Republishing on every award and finish was
// ~99% of the gossip traffic under load (docs/rationale/market-speed.md).
func (p *Provider) changed() {
	c := p.d.Runner.Capacity()
	p.mu.Lock()
	free := p.freeSlots(c) > 0
	cross := free != p.offeredFree
	p.offerDirty = true
	p.mu.Unlock()
	if cross {
		select {
		case p.offerNow <- struct{}{}:
		default:
		}
	}
}

// freeSlots is how many more jobs p can take (p.mu held): what its
// offers announce, what its bids and direct awards are admitted against.
// reserved counts every award accepted until its run has ended, and the
// executor's Running counts the runs under way (the market's, and local
// or mediation runs besides): subtracting both would count each running
// market job twice, and a provider with n slots would take only n/2
// jobs at once (awards reserve as they are admitted; a bid reserves
// nothing).
func (p *Provider) freeSlots(c executor.Capacity) int {
	if c.MaxConcurrent == 0 { // a runner that reports free slots only
		return c.FreeSlots - p.reserved
	}
	return c.MaxConcurrent - max(c.Running, p.reserved)
}

// takeDirty reports whether capacity changed since the last offer.
func (p *Provider) takeDirty() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.offerDirty
}

// Offer builds the provider's current signed offer (nil when it has no free slot).
func (p *Provider) Offer() *wire.Offer {
	c := p.d.Runner.Capacity()
	p.mu.Lock()
	slots := p.freeSlots(c)
	p.seq++
	seq := p.seq
	p.mu.Unlock()
	if slots <= 0 || !p.takingJobs() {
		return nil
	}
	mem := wire.Size(c.FreeMemory)
	if c.MaxMemory == 0 {
		mem = wire.Size(c.MemoryLimit)
	}
	if p.cfg.MaxMemory != 0 && mem > p.cfg.MaxMemory {
		mem = p.cfg.MaxMemory
	}
	if mem == 0 {
		return nil
	}
	return &wire.Offer{
		Provider: p.d.Net.ID(), Seq: seq, CPUMillicores: uint32(1000 * runtime.NumCPU()), Slots: uint32(slots),
		Memory: mem, MaxDuration: p.cfg.MaxDuration, Runtime: wire.Runtime, Price: p.cfg.Price,
		Payout: p.cfg.Payout, Stake: p.cfg.Stake, MaxModuleSize: p.cfg.MaxModuleSize, Addrs: p.cfg.Addrs,
		Expiry: wire.TimestampOf(time.Now().Add(3 * p.cfg.OfferInterval)),
	}
}

func (p *Provider) publishOffer(ctx context.Context) {
	o := p.Offer()
	p.mu.Lock()
	p.offerDirty, p.offeredFree = false, o != nil
	p.mu.Unlock()
	if o == nil {
		return
	}
	if p.d.Book != nil {
		p.d.Book.Add(o)
	}
	sealed, err := p.d.Seal(o)
	if err != nil {
		p.log.Error("seal offer", "err", err)
		return
	}
	if err := p.d.Net.Publish(ctx, wire.TopicOffers, sealed); err != nil {
		p.log.Debug("publish offer", "err", err)
	}
}

// admit decides whether to bid on req and at what price.
func (p *Provider) admit(ctx context.Context, req *wire.JobRequest) (*big.Int, error) {
	s := &req.Spec
	if !slices.Contains(p.cfg.PayModes, req.PayMode) {
		return nil, fmt.Errorf("%w: pay mode %s not accepted", ErrRefused, req.PayMode)
	}
	if s.Resources.Timeout > p.cfg.MaxDuration {
		return nil, fmt.Errorf("%w: timeout %s over max %s", ErrRefused, s.Resources.Timeout, p.cfg.MaxDuration)
	}
	c := p.d.Runner.Capacity()
	free := c.FreeMemory
	if c.MaxMemory == 0 {
		free = c.MemoryLimit
	}
	if p.cfg.MaxMemory != 0 && s.Resources.Memory > p.cfg.MaxMemory || uint64(s.Resources.Memory) > free {
		return nil, fmt.Errorf("%w: memory %s does not fit (free %s)", ErrRefused, s.Resources.Memory, wire.Size(free))
	}
	p.mu.Lock()
	busy := p.freeSlots(c) <= 0
	p.mu.Unlock()
	if busy {
		return nil, fmt.Errorf("%w: no free slot", ErrRefused)
	}
	if !p.takingJobs() {
		return nil, fmt.Errorf("%w: not taking jobs (stopping)", ErrRefused) // provider_drain.go
	}
	o := wire.Offer{Price: p.cfg.Price}
	price, ok := o.PriceFor(s.Resources.Memory, s.Resources.Timeout)
	if !ok {
		return nil, fmt.Errorf("%w: no price tier covers memory %s", ErrRefused, s.Resources.Memory)
	}
	if price.Sign() == 0 {
		price = big.NewInt(1) // a bid is never free: wire requires a positive price
	}
	if s.Price.Max != nil && price.Cmp(s.Price.Max) > 0 {
		return nil, fmt.Errorf("%w: price %s over max %s", ErrRefused, wire.FormatWei(price), wire.FormatWei(s.Price.Max))
	}
	if sz, ok := p.d.Content.(Sizer); ok {
		n, err := sz.Size(ctx, s.Module)
		if err == nil && n > int64(p.cfg.MaxModuleSize) {
			return nil, fmt.Errorf("%w: module is %d bytes, max %s", ErrRefused, n, p.cfg.MaxModuleSize)
		}
	}
	return price, nil
}

// bid admits req and returns a sealed bid.
func (p *Provider) bid(ctx context.Context, req *wire.JobRequest) ([]byte, error) {
	if _, err := p.d.Ledger.Job(ctx, providerKey(req.Client, req.ID)); err == nil {
		return nil, fmt.Errorf("%w: job %s already awarded", ErrDuplicate, req.ID)
	}
	price, err := p.admit(ctx, req)
	if err != nil {
		p.m.Bid("refused")
		return nil, err
	}
	exp := time.Now().Add(p.cfg.BidTTL)
	if e := req.Expiry.Time(); e.Before(exp) {
		exp = e
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	b := &wire.Bid{JobID: req.ID, Provider: p.d.Net.ID(), Price: price, Expiry: wire.TimestampOf(exp), Nonce: binary.BigEndian.Uint64(nonce[:])}
	sealed, err := p.d.Seal(b)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	now := time.Now()
	for id, x := range p.bids {
		if now.After(x.expiry) {
			delete(p.bids, id)
		}
	}
	p.bids[req.ID] = &pendingBid{req: req, price: price, expiry: exp}
	p.mu.Unlock()
	p.m.Bid("sent")
	return sealed, nil
}

func (p *Provider) handleRequest(ctx context.Context, from peer.ID, msg wire.Message) ([]byte, error) {
	return p.bid(ctx, msg.(*wire.JobRequest))
}

func (p *Provider) gossipRequest(ctx context.Context, req *wire.JobRequest) {
	if req.Client == p.d.Net.ID() {
		return
	}
	sealed, err := p.bid(ctx, req)
	if err != nil {
		p.log.Debug("no bid", "job", req.ID, "err", err)
		return
	}
	rctx, cancel := context.WithDeadline(ctx, req.BidDeadline.Time())
	defer cancel()
	if _, err := p.d.Net.Request(rctx, req.Client, sealed); err != nil {
		p.log.Debug("send bid", "job", req.ID, "err", err)
	}
}

func (p *Provider) handleCancel(ctx context.Context, from peer.ID, msg wire.Message) ([]byte, error) {
	c := msg.(*wire.Cancel)
	p.mu.Lock()
	if b, ok := p.bids[c.JobID]; ok && b.req.Client == c.Sender {
		delete(p.bids, c.JobID)
	}
	p.mu.Unlock()
	return p.cancelAwarded(ctx, c) // an awarded channel job: credited (provider_late.go)
}

func (p *Provider) save(r *ProviderJob) error {
	return p.saveWith(r, nil)
}

// saveWith writes r and whatever more (may be nil) in one fsynced ledger
// transaction.
func (p *Provider) saveWith(r *ProviderJob, more func(tx *ledger.Tx) error) error {
	r.Updated = time.Now()
	return update(p.d.Ledger, func(tx *ledger.Tx) error {
		if err := putProviderJob(tx, r); err != nil {
			return err
		}
		if more != nil {
			return more(tx)
		}
		return nil
	})
}

// handleAward checks the award and its payment, persists the job with
// its payment in one fsynced ledger transaction, and starts it. It is
// idempotent: a second award for the same job is refused with
// ErrDuplicate and changes nothing. p.mu is held only to take the bid:
// chain reads of one award do not hold up the others. An award with no
// bid before it is a direct award (wire.Award.Request), admitted here
// as a bid would be (direct_provider.go). A channel award of a
// non-redundant job runs before it is written, and a run that ends
// within FastGrace is written once with its result (fast_provider.go);
// the answer always follows the write.
func (p *Provider) handleAward(ctx context.Context, from peer.ID, msg wire.Message) ([]byte, error) {
	a := msg.(*wire.Award)
	key := providerKey(a.Client, a.JobID)
	p.mu.Lock()
	b, ok := p.bids[a.JobID]
	if ok && time.Now().Before(b.expiry) && a.Client == b.req.Client {
		delete(p.bids, a.JobID) // ours while we check it
		p.reserved++
	} else {
		ok = false
	}
	p.mu.Unlock()
	direct := false
	if !ok {
		if _, err := p.d.Ledger.Job(ctx, key); err == nil {
			p.m.Award("duplicate")
			return nil, fmt.Errorf("%w: award for job %s already accepted", ErrDuplicate, a.JobID)
		}
		if a.Request == nil {
			p.m.Award("unknown")
			return nil, fmt.Errorf("%w: no open bid for job %s", ErrRefused, a.JobID)
		}
		// A direct award: admitted as a bid would be (direct_provider.go).
		release, db, err := p.admitDirect(ctx, key, a)
		if err != nil {
			return nil, err
		}
		defer release()
		b, direct = db, true
	}
	accepted := false
	defer func() {
		if !accepted { // give the bid back: a corrected award may follow
			p.mu.Lock()
			p.reserved--
			if _, taken := p.bids[a.JobID]; !taken && !direct {
				p.bids[a.JobID] = b
			}
			p.mu.Unlock()
		}
	}()
	if a.Provider != p.d.Net.ID() || a.PayMode != b.req.PayMode {
		p.m.Award("mismatch")
		return nil, fmt.Errorf("%w: award does not match the request (provider, client or pay mode)", ErrRefused)
	}
	if a.Price.Cmp(b.price) < 0 {
		p.m.Award("underpaid")
		return nil, fmt.Errorf("%w: award price %s below bid %s", ErrUnpaid, a.Price, b.price)
	}
	r := &ProviderJob{
		ID: a.JobID, Client: a.Client, ClientAddr: b.req.ClientAddr, Spec: b.req.Spec, Price: new(big.Int).Set(b.price),
		PayMode: a.PayMode, State: StateAwarded, Created: time.Now(),
	}
	vctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var pay *ledger.Voucher
	switch a.PayMode {
	case wire.PayEscrow:
		dp, err := p.verifyDeal(vctx, r, a.DealID)
		if err != nil {
			p.m.Award("unpaid")
			return nil, err
		}
		r.Deal, r.DealID = dp, a.DealID
	case wire.PayChannel:
		v, err := p.verifyVoucher(vctx, r, a.Voucher)
		if err != nil {
			p.m.Award("unpaid")
			return nil, err
		}
		pay = v
		r.Channel, r.Cumulative = a.Voucher.ChannelID, new(big.Int).Set(a.Voucher.Cumulative)
	}
	if fastEligible(a, r) {
		// Run first, write once (fast_provider.go): the award is
		// answered after the write, of the job with its result or, for
		// a run longer than FastGrace, of the award alone.
		ok, err := p.awardFast(key, a, r, pay)
		accepted = ok
		if err != nil {
			return nil, err
		}
		p.changed()
		return nil, nil
	}
	// Persist before acting: the job, its deal or its voucher, in one
	// transaction. The ledger refuses a second award of the job and a
	// voucher that does not cover what the channel already carries.
	if err := p.recordAward(key, a, r, pay, nil); err != nil {
		return nil, err
	}
	accepted = true
	p.m.Award("accepted")
	p.m.Job("provider", StateAwarded)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.execute(p.ctx, r, true)
	}()
	p.changed()
	return nil, nil
}

func (p *Provider) chainNow(ctx context.Context) (uint64, error) {
	h, err := p.d.Settle.Backend().HeaderByNumber(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("market: chain head: %w", err)
	}
	return h.Time, nil
}

// verifyDeal finds the deal on chain and checks it pays this provider for
// this job at least the bid price, with a deadline that leaves time to run,
// an acceptable mediator and challenge window, and that it is still open.
//
// It is on the award's critical path, so the deal's state is read while
// the head and the opening event are, and the event is looked for in the
// last recentDealBlocks blocks first (the client opened the deal just
// before the award) instead of the whole chain since FromBlock, which
// grows with every deal between the two.
func (p *Provider) verifyDeal(ctx context.Context, r *ProviderJob, id common.Hash) (*contracts.DealParams, error) {
	const recentDealBlocks = 256
	var st contracts.DealState
	var stErr error
	stDone := make(chan struct{})
	go func() {
		defer close(stDone)
		st, stErr = p.d.Settle.Deal(ctx, id)
	}()
	defer func() { <-stDone }()
	head, err := p.d.Settle.Backend().HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("market: chain head: %w", err)
	}
	find := func(from uint64) (*contracts.MarketplaceDealOpened, error) {
		evs, err := p.d.Settle.FilterDealsOpened(ctx, from, []common.Address{r.ClientAddr}, []common.Address{p.me})
		if err != nil {
			return nil, fmt.Errorf("%w: look up deal %s: %v", ErrUnpaid, id, err)
		}
		for _, e := range evs {
			if e.DealId == id {
				return e, nil
			}
		}
		return nil, nil
	}
	from := p.cfg.FromBlock
	if n := head.Number.Uint64(); n > recentDealBlocks {
		from = max(from, n-recentDealBlocks)
	}
	ev, err := find(from)
	if err == nil && ev == nil && from != p.cfg.FromBlock {
		ev, err = find(p.cfg.FromBlock)
	}
	if err != nil {
		return nil, err
	}
	if ev == nil {
		return nil, fmt.Errorf("%w: no deal %s from %s to %s on chain", ErrUnpaid, id, r.ClientAddr, p.me)
	}
	dp := &contracts.DealParams{
		Client: ev.Client, Provider: ev.Provider, Mediator: ev.Mediator, Price: ev.Price, MediatorFee: ev.MediatorFee,
		Collateral: ev.Collateral, Deadline: ev.Deadline.Uint64(), ChallengeWindow: ev.ChallengeWindow.Uint64(), JobHash: ev.JobHash,
	}
	spec, err := wire.Marshal(&r.Spec)
	if err != nil {
		return nil, err
	}
	now := head.Time
	switch {
	case dp.Price.Cmp(r.Price) < 0:
		return nil, fmt.Errorf("%w: deal price %s below bid %s", ErrUnpaid, dp.Price, r.Price)
	case dp.JobHash != jobHash(r.ID, spec):
		return nil, fmt.Errorf("%w: deal is for another job", ErrUnpaid)
	case dp.Mediator != (common.Address{}) && !slices.Contains(p.cfg.Mediators, dp.Mediator):
		return nil, fmt.Errorf("%w: mediator %s is not trusted", ErrRefused, dp.Mediator)
	case time.Duration(dp.ChallengeWindow)*time.Second > p.cfg.MaxChallengeWindow:
		return nil, fmt.Errorf("%w: challenge window %ds too long", ErrRefused, dp.ChallengeWindow)
	case dp.Deadline < now+uint64((r.Spec.Resources.Timeout.D()+p.cfg.ResultMargin)/time.Second):
		return nil, fmt.Errorf("%w: deal deadline leaves too little time to run", ErrRefused)
	}
	<-stDone
	if stErr != nil {
		return nil, fmt.Errorf("%w: deal state: %v", ErrUnpaid, stErr)
	}
	if st.Status != contracts.DealOpen {
		return nil, fmt.Errorf("%w: deal %s is %s", ErrUnpaid, id, st.Status)
	}
	return dp, nil
}

// verifyVoucher checks the voucher is signed by the job's client for an
// open channel from that client to this provider, that it covers
// everything charged on the channel plus this job, and that the channel
// holds that much. The channel is read from the chain once (first voucher,
// or a voucher above the deposit last seen: a top-up); after that the
// signature and amounts are checked against the ledger's copy, and Settle
// watches the chain for exits. AcceptPayment re-checks the amounts
// atomically when the job is written.
func (p *Provider) verifyVoucher(ctx context.Context, r *ProviderJob, v *wire.Voucher) (*ledger.Voucher, error) {
	ch, err := p.d.Ledger.Channel(ctx, v.ChannelID)
	if errors.Is(err, ledger.ErrNotFound) {
		ch, err = p.learnChannel(ctx, r.ClientAddr, v.ChannelID)
	}
	if err != nil {
		return nil, err
	}
	if ch.Role != ledger.RoleProvider || ch.Client != r.ClientAddr || ch.Provider != p.me {
		return nil, fmt.Errorf("%w: channel %s is not from this client to this provider", ErrUnpaid, v.ChannelID)
	}
	if ch.State != ledger.ChannelOpen {
		return nil, fmt.Errorf("%w: channel %s is %s", ErrUnpaid, v.ChannelID, ch.State)
	}
	signer, err := contracts.VerifyVoucher(p.d.Settle.ChainID(), p.d.Settle.Contract(), v.ChannelID, v.Cumulative, v.Signature)
	if err != nil || signer != ch.Client {
		return nil, fmt.Errorf("%w: voucher: bad signature (%v)", ErrUnpaid, err)
	}
	need := new(big.Int).Add(ch.Charged(), r.Price)
	if best := maxBig(ch.Promised, v.Cumulative); best.Cmp(need) < 0 {
		return nil, fmt.Errorf("%w: voucher for %s does not cover %s promised on the channel", ErrUnpaid, v.Cumulative, need)
	}
	if v.Cumulative.Cmp(ch.Deposit) > 0 {
		// Maybe topped up since we last looked.
		onchain, err := p.d.Settle.Channel(ctx, v.ChannelID)
		if err != nil {
			return nil, fmt.Errorf("%w: channel state: %v", ErrUnpaid, err)
		}
		if onchain.ExitAt != 0 || onchain.Finished {
			_, _ = p.d.Ledger.TransitionChannel(ctx, v.ChannelID, ledger.ChannelExiting, func(c *ledger.Channel) error { c.ExitAt = onchain.ExitAt; return nil })
			return nil, fmt.Errorf("%w: channel %s is closing", ErrUnpaid, v.ChannelID)
		}
		if _, err := p.d.Ledger.UpdateChannel(ctx, v.ChannelID, func(c *ledger.Channel) error {
			if onchain.Deposit.Cmp(c.Deposit) > 0 {
				c.Deposit = onchain.Deposit
			}
			return nil
		}); err != nil {
			return nil, err
		}
		if v.Cumulative.Cmp(onchain.Deposit) > 0 {
			return nil, fmt.Errorf("%w: voucher %s exceeds the channel deposit %s", ErrUnpaid, v.Cumulative, onchain.Deposit)
		}
	}
	return &ledger.Voucher{ChannelID: v.ChannelID, Cumulative: new(big.Int).Set(v.Cumulative), Signature: slices.Clone(v.Signature)}, nil
}

// learnChannel looks a channel up on chain (its opening event and state)
// and records it in the ledger.
func (p *Provider) learnChannel(ctx context.Context, client common.Address, id common.Hash) (ledger.Channel, error) {
	evs, err := p.d.Settle.FilterChannelsOpened(ctx, p.cfg.FromBlock, []common.Address{client}, []common.Address{p.me})
	if err != nil {
		return ledger.Channel{}, fmt.Errorf("%w: look up channel: %v", ErrUnpaid, err)
	}
	var key *contracts.ChannelKey
	for _, e := range evs {
		if e.ChannelId == id {
			key = &contracts.ChannelKey{Client: e.Client, Provider: e.Provider, Salt: e.Salt}
		}
	}
	if key == nil {
		return ledger.Channel{}, fmt.Errorf("%w: no channel %s from %s to %s on chain", ErrUnpaid, id, client, p.me)
	}
	onchain, err := p.d.Settle.Channel(ctx, id)
	if err != nil {
		return ledger.Channel{}, fmt.Errorf("%w: channel state: %v", ErrUnpaid, err)
	}
	if onchain.ExitAt != 0 || onchain.Finished {
		return ledger.Channel{}, fmt.Errorf("%w: channel %s is closing", ErrUnpaid, id)
	}
	c, err := p.d.Ledger.PutChannel(ctx, ledger.Channel{ID: id, Role: ledger.RoleProvider, State: ledger.ChannelOpen,
		Client: key.Client, Provider: key.Provider, Salt: key.Salt, Deposit: onchain.Deposit, Redeemed: onchain.Redeemed, Promised: onchain.Redeemed})
	if errors.Is(err, ledger.ErrExists) { // a concurrent award recorded it first
		return p.d.Ledger.Channel(ctx, id)
	}
	return c, err
}

// execute runs a paid job and delivers its result; fresh is false when
// recovering.
func (p *Provider) execute(ctx context.Context, r *ProviderJob, fresh bool) {
	if fresh {
		defer func() {
			p.mu.Lock()
			p.reserved--
			p.mu.Unlock()
			p.changed()
		}()
	}
	log := p.log.With("job", r.ID, "client", r.Client)
	ran := r.State == StateAwarded || r.State == StateRunning
	if ran {
		// Running is not journaled: it moves no money and sends nothing;
		// a job found paid-but-not-done at recovery is simply run again.
		p.m.Job("provider", StateRunning)
		// A Cancel accepted before the result stops the run (channel_run.go).
		rctx, release, cancelled := p.jobContext(ctx, providerKey(r.Client, r.ID))
		err := p.run(rctx, r)
		release()
		if cancelled() && ctx.Err() == nil {
			err = p.failResult(r, errGivenUp) // credited by the Cancel already
		}
		if err != nil {
			if ctx.Err() != nil {
				return // stopping: recovery runs it again
			}
			// The host failed it (not the module): report a failure
			// result so that the client can re-award at once.
			log.Error("job not run", "err", err)
			if ferr := p.failResult(r, "provider failed: "+err.Error()); ferr != nil {
				log.Error("seal failure result", "err", ferr)
				return // no output stored: the client's refund path applies
			}
		}
		var more func(tx *ledger.Tx) error
		switch {
		case r.Stopped:
			// The sandbox stopped the module (a limit or a trap), or the
			// host failed: a failed job, not a result. Nothing is
			// committed or claimed: the client refunds the escrow after
			// the deal deadline, and a channel job's price is credited
			// back on the channel (the client's next voucher reuses it).
			r.State = StateFailed
			if r.PayMode == wire.PayChannel {
				r.Credited = true
				key := providerKey(r.Client, r.ID)
				more = func(tx *ledger.Tx) error { _, err := tx.CreditJob(r.Channel, key, r.Price); return err }
			}
			log.Info("job failed; not charging", "cause", r.Error)
		case r.PayMode == wire.PayChannel:
			r.State = StateSubmitted // nothing to commit on chain: one write
		default:
			r.State = StateDone
		}
		if err := p.saveWith(r, more); err != nil {
			log.Error("ledger", "err", err)
			return
		}
		p.m.Job("provider", r.State)
	}
	if r.State == StateDone {
		if r.PayMode == wire.PayEscrow && ran {
			// Just run, the deal open: the result goes out while its
			// commitment is mined (escrow_commit.go).
			p.commitWhileDelivering(ctx, r)
			return
		}
		if r.PayMode == wire.PayEscrow {
			if err := p.commit(ctx, r); err != nil {
				// The job stays done: Settle retries the commit with
				// backoff until the deal deadline.
				if !errors.Is(err, errBusy) {
					log.Warn("submit result; retrying from the settle loop", "err", err)
				}
				return
			}
		} else {
			r.State = StateSubmitted
			if err := p.save(r); err != nil {
				log.Error("ledger", "err", err)
				return
			}
			p.m.Job("provider", StateSubmitted)
		}
	}
	if !r.Delivered && r.State != StateDone && r.State != StateRefunded && (r.State != StateFailed || r.Stopped) {
		p.deliver(ctx, r)
	}
}

// errBusy: another goroutine is committing or delivering the same job.
var errBusy = errors.New("market: job busy")

// claim marks what (a job key with a prefix) as under way; release with
// the returned func. false: someone else has it.
func (p *Provider) claim(what string) (func(), bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.busy == nil {
		p.busy = map[string]bool{}
	}
	if p.busy[what] {
		return nil, false
	}
	p.busy[what] = true
	return func() { p.mu.Lock(); delete(p.busy, what); p.mu.Unlock() }, true
}

// commit submits an escrow job's result on chain and moves the job by
// what the chain then says about the deal: submitted (our result is on
// chain), refunded (the deal closed without our result: the client took
// its money back), or failed (the deadline passed with the deal open).
// An error (the chain unreachable, the transaction refused while the
// deal is open and in time) leaves the job done for Settle to retry.
func (p *Provider) commit(ctx context.Context, r *ProviderJob) error {
	release, ok := p.claim("commit/" + providerKey(r.Client, r.ID))
	if !ok {
		return errBusy
	}
	defer release()
	_, serr := p.d.Settle.SubmitResult(ctx, *r.Deal, common.Hash(r.OutputHash))
	st, err := p.d.Settle.Deal(ctx, r.DealID)
	if err != nil {
		return fmt.Errorf("deal state: %w (submit: %v)", err, serr)
	}
	switch st.Status {
	case contracts.DealSubmitted, contracts.DealDisputed:
		// Only the provider submits: our result is on chain.
		if st.Status == contracts.DealSubmitted {
			r.ClaimAfter = st.At + r.Deal.ChallengeWindow
		}
		r.State = StateSubmitted
	case contracts.DealClosed:
		landed, err := p.resultLanded(ctx, r.DealID, false)
		if err != nil {
			return err
		}
		if landed { // an earlier submission went through; Settle sees how it closed
			r.State = StateSubmitted
		} else {
			r.State, r.Error = StateRefunded, "deal refunded to the client before the result was committed"
		}
	case contracts.DealOpen:
		now, err := p.chainNow(ctx)
		if err != nil || now <= r.Deal.Deadline {
			if serr == nil {
				serr = errors.New("deal still open after the submission")
			}
			return fmt.Errorf("submit result: %w", serr)
		}
		r.State, r.Error = StateFailed, fmt.Sprintf("result not committed before the deal deadline (%v)", serr)
	default:
		r.State, r.Error = StateFailed, "deal not on chain"
	}
	if err := p.saveCommitted(r); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	p.m.Job("provider", r.State)
	if r.State != StateSubmitted {
		p.log.Warn("result not committed; not paid", "job", r.ID, "state", r.State, "cause", r.Error)
	}
	return nil
}

// resultLogs is the optional Settlement extension that reads
// ResultSubmitted events (*contracts.Client has it).
type resultLogs interface {
	FilterResultsSubmitted(ctx context.Context, from uint64, deals []common.Hash) ([]*contracts.MarketplaceResultSubmitted, error)
}

// resultLanded reports whether our result was ever submitted for a
// deal (a closed deal without it was refunded: accept and claim need a
// submitted result). Without event access it returns assume.
func (p *Provider) resultLanded(ctx context.Context, deal common.Hash, assume bool) (bool, error) {
	rl, ok := p.d.Settle.(resultLogs)
	if !ok {
		return assume, nil
	}
	evs, err := rl.FilterResultsSubmitted(ctx, p.cfg.FromBlock, []common.Hash{deal})
	if err != nil {
		return false, fmt.Errorf("result events: %w", err)
	}
	for _, e := range evs {
		if e.Provider == p.me && common.Hash(e.DealId) == deal {
			return true, nil
		}
	}
	return false, nil
}

// failResult turns r into a failure report: the cause, a non-zero exit
// code, no output and no hash (wire allows no CID when Error is set).
func (p *Provider) failResult(r *ProviderJob, cause string) error {
	r.Stopped, r.ResultCID, r.OutputHash = true, "", [32]byte{}
	if r.ExitCode == 0 {
		r.ExitCode = -1
	}
	r.Error = oneLine(cause)
	if len(r.Error) > wire.MaxTextLen {
		r.Error = r.Error[:wire.MaxTextLen]
	}
	sealed, err := p.d.Seal(&wire.Result{JobID: r.ID, Provider: p.d.Net.ID(), ExitCode: r.ExitCode, Usage: r.Usage, Error: r.Error})
	if err != nil {
		return err
	}
	r.Result = sealed
	return nil
}

// run fetches, runs and stores; it fills r's result fields.
func (p *Provider) run(ctx context.Context, r *ProviderJob) error {
	// The scratch directory is made only when the job needs one (inputs,
	// or a module that can write /out): see run_mem.go.
	work := scratchName(p.cfg.WorkDir)
	defer os.RemoveAll(work)
	x, err := execJob(ctx, cachedContent{p.d.Content, &p.mods}, p.d.Runner, work, int64(p.cfg.MaxModuleSize), r.ID, &r.Spec)
	if err != nil {
		return err
	}
	r.ExitCode, r.Usage, r.Error, r.OutputHash = x.exitCode, x.usage, x.errText, x.hash
	if x.stopped {
		return p.failResult(r, r.Error)
	}
	cid, err := p.addOutput(ctx, x, work)
	if err != nil {
		return fmt.Errorf("store output: %w", err)
	}
	r.ResultCID = cid
	res := &wire.Result{JobID: r.ID, Provider: p.d.Net.ID(), ResultCID: cid, ExitCode: r.ExitCode, Usage: r.Usage, OutputHash: r.OutputHash, Error: r.Error}
	if x.inline != nil {
		// A small output goes inside the Result: the client checks the
		// hash over it and skips the bitswap fetch. The CID stays
		// stored and pinned for `job result`, disputes and mediators.
		res.Inline = x.inline
		sealed, err := p.d.Seal(res)
		if err == nil && len(sealed) <= wire.MaxMessageSize { // else: by CID only
			if inlineBytes(x.inline) <= ledgerInline {
				r.Result = sealed
				return nil
			}
			// Too big to carry in every ledger read of the job: the
			// ledger keeps the CID-only Result (recovery re-delivers
			// that), the first delivery sends this one.
			p.mu.Lock()
			if p.inline == nil {
				p.inline = map[string][]byte{}
			}
			p.inline[providerKey(r.Client, r.ID)] = sealed
			p.mu.Unlock()
		}
		res.Inline = nil
	}
	sealed, err := p.d.Seal(res)
	if err != nil {
		return err
	}
	r.Result = sealed
	return nil
}

// Inline results: outputs of at most inlineMax bytes (and whose sealed
// Result fits wire.MaxMessageSize) travel inside the Result; up to
// ledgerInline bytes the ledger keeps that Result too.
const (
	inlineMax    = 60 << 10
	ledgerInline = 4 << 10
)

func inlineBytes(fs []wire.InlineFile) int {
	n := 0
	for _, f := range fs {
		n += len(f.Path) + len(f.Data)
	}
	return n
}

// takeInline returns (and forgets) the inline Result kept for key's
// first delivery, or nil.
func (p *Provider) takeInline(key string) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.inline[key]
	delete(p.inline, key)
	return b
}

// execution is what execJob produced: stdout, stderr, the /out
// directory (if the run had one) and the output's hash.
type execution struct {
	stdout, stderr []byte
	// outDir is the guest's /out on disk, under work/result; "" when the
	// module ran without one (it cannot reach a file: run_mem.go).
	outDir   string
	exitCode int32
	usage    wire.Usage
	errText  string
	hash     [32]byte
	// inline is the output's files when they fit inlineMax, else nil.
	inline []wire.InlineFile
	// stopped: the sandbox stopped or refused the module (a limit, a
	// trap, an invalid module), as opposed to a host failure.
	stopped bool
}

// sandboxStop reports whether err from Runner.Run is the sandbox stopping
// or refusing the module: the job failed through the module's own fault,
// not the host's (executor.ErrHost, ErrClosed, a context error).
func sandboxStop(err error) bool {
	if err == nil || errors.Is(err, executor.ErrHost) || errors.Is(err, executor.ErrClosed) {
		return false
	}
	for _, e := range []error{executor.ErrDeadline, executor.ErrMemoryLimit, executor.ErrOutputLimit, executor.ErrModuleTooLarge,
		executor.ErrStdinTooLarge, executor.ErrTrap, executor.ErrInvalidModule, executor.ErrMissingImport, executor.ErrNoStart} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// oneLine keeps the first line of s.
func oneLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' || s[i] == '\r' {
			return s[:i]
		}
	}
	return s
}

// execJob fetches a job's module and inputs and runs it; the output
// (stdout and stderr in memory, /out under work/result when the module
// can reach files) and its hash are in the execution. work need not
// exist: it is made only for inputs or a /out. A failure of the job
// itself (fetch, limits, traps) is part of the output (errText, exit code
// -1 when it never started); only a local failure, or ctx ending, is an
// error. Providers run jobs with it and mediators re-run them: one rule
// for all of them decides whether a module gets a /out, so they hash the
// same output.
func execJob(ctx context.Context, content Content, runner Runner, work string, maxModule int64, id wire.JobID, s *wire.JobSpec) (*execution, error) {
	x := &execution{}
	timeout := s.Resources.Timeout.D()
	fctx, cancel := context.WithTimeout(ctx, timeout+time.Minute)
	defer cancel()
	var res *executor.Result
	var runErr error
	mod, err := fetchModule(fctx, content, s.Module, maxModule)
	if err != nil {
		runErr = fmt.Errorf("fetch module %s: %w", s.Module, err)
	}
	var stdin []byte
	if runErr == nil && s.Stdin != "" {
		if stdin, err = content.Cat(fctx, s.Stdin, executor.DefaultMaxStdin); err != nil {
			runErr = fmt.Errorf("fetch stdin %s: %w", s.Stdin, err)
		}
	}
	var mounts []executor.Mount
	if runErr == nil && len(s.Inputs) > 0 {
		if err := os.MkdirAll(filepath.Join(work, "inputs"), 0o755); err != nil {
			return nil, err
		}
	}
	for i, in := range s.Inputs {
		if runErr != nil {
			break
		}
		dst := filepath.Join(work, "inputs", fmt.Sprint(i))
		if err := content.Fetch(fctx, in.CID, dst); err != nil {
			runErr = fmt.Errorf("fetch input %s: %w", in.CID, err)
			break
		}
		if st, err := os.Stat(dst); err == nil && !st.IsDir() {
			// A file input is mounted as a directory holding it.
			dir := dst + ".d"
			if err := os.MkdirAll(dir, 0o755); err == nil {
				_ = os.Rename(dst, filepath.Join(dir, filepath.Base(in.Path)))
				dst = dir
			}
		}
		mounts = append(mounts, executor.Mount{HostPath: dst, GuestPath: in.Path})
	}
	if runErr == nil {
		if mod.files {
			x.outDir = filepath.Join(work, "result", OutDirName)
			if err := os.MkdirAll(x.outDir, 0o755); err != nil {
				return nil, err
			}
		}
		seed := append(id[:0:0], id[:]...)
		seed = binary.BigEndian.AppendUint64(seed, s.Seed)
		res, runErr = runner.Run(fctx, executor.Spec{
			Module: mod.b, ModuleHash: mod.hash, Args: s.Args, Env: s.Env, Stdin: bytes.NewReader(stdin), Mounts: mounts,
			OutDir: x.outDir, NoOut: x.outDir == "",
			Limits: executor.Limits{Memory: uint64(s.Resources.Memory), Timeout: timeout, MaxOutput: int64(s.Resources.MaxOutput),
				MaxModuleSize: maxModule},
			Deterministic: s.Deterministic, Seed: seed,
		})
		x.stopped = sandboxStop(runErr)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err() // stopping: recovery re-runs the job
	}
	var listed []string // the executor's list of /out files; nil: walk
	if res != nil {
		x.exitCode = int32(res.ExitCode)
		x.stdout, x.stderr = res.Stdout, res.Stderr
		x.usage = wire.Usage{Wall: wire.Duration(res.Usage.Wall), PeakMemory: wire.Size(res.Usage.PeakMemory), OutputBytes: wire.Size(res.Usage.OutputBytes)}
		if listed = res.OutFiles; listed == nil {
			listed = []string{}
		}
	}
	if runErr != nil {
		x.errText = runErr.Error()
		if len(x.errText) > wire.MaxTextLen {
			x.errText = x.errText[:wire.MaxTextLen]
		}
		if res == nil {
			x.exitCode = -1
		}
	}
	var names []string
	var outs [][]byte
	if x.outDir != "" {
		if names, outs, err = readOutFiles(x.outDir, listed); err != nil {
			return nil, err
		}
	}
	x.hash, x.inline = collectOutput(x.exitCode, x.stdout, x.stderr, names, outs, inlineMax)
	return x, nil
}

// deliver sends the sealed result to the client, retrying with backoff
// until it is acknowledged or the job's time is up.
func (p *Provider) deliver(ctx context.Context, r *ProviderJob) {
	release, ok := p.claim("deliver/" + providerKey(r.Client, r.ID))
	if !ok {
		return // another goroutine delivers it
	}
	defer release()
	deadline := r.Created.Add(r.Spec.Resources.Timeout.D() + 5*time.Minute)
	delay := 100 * time.Millisecond
	msg := r.Result
	if b := p.takeInline(providerKey(r.Client, r.ID)); b != nil {
		msg = b // the first attempt carries the output; retries the CID only
	}
	// A channel job the client cancelled before its result existed is
	// sent as a credited failure instead (provider_late.go); a result is
	// never credited for being late or unacknowledged.
	if p.settleLate(r) {
		msg = r.Result
	}
	for {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := p.d.Net.Request(rctx, r.Client, msg)
		cancel()
		if err == nil || errors.Is(err, ErrRefused) || errors.Is(err, ErrDuplicate) {
			p.queueDelivered(r, true)
			return
		}
		p.settleLate(r)
		msg = r.Result
		if time.Now().After(deadline) {
			p.log.Warn("result not delivered", "job", r.ID, "err", err)
			p.keepUnacked(r) // a channel result: its voucher is kept, never credited
			p.queueDelivered(r, false)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

// markDelay is how late a delivery is written to the ledger: deliveries
// within it share one transaction and one fsync.
const markDelay = 50 * time.Millisecond

// queueDelivered records a delivery (delivered false: given up) in a batch
// that flushMarks writes within markDelay. Nothing is sent on the strength
// of this write, so it is not written before anything: a crash before the
// flush only makes recovery deliver the result again, which the client
// answers as a duplicate (docs/rationale/market-speed.md).
func (p *Provider) queueDelivered(r *ProviderJob, delivered bool) {
	key := providerKey(r.Client, r.ID)
	p.mu.Lock()
	if p.marks == nil {
		p.marks = map[string]bool{}
	}
	p.marks[key] = p.marks[key] || delivered
	start := !p.markQueued
	p.markQueued = true
	p.mu.Unlock()
	if start {
		time.AfterFunc(markDelay, p.flushMarks)
	}
}

// flushMarks writes the queued deliveries. It returns once they, and any
// a concurrent call took, are written.
func (p *Provider) flushMarks() {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	p.mu.Lock()
	marks := p.marks
	p.marks, p.markQueued = nil, false
	p.mu.Unlock()
	if len(marks) == 0 {
		return
	}
	if err := p.markDelivered(marks); err != nil {
		// One bad record must not hold up the others: one by one.
		for k, d := range marks {
			if err := p.markDelivered(map[string]bool{k: d}); err != nil {
				p.log.Error("ledger", "job", k, "err", err)
			}
		}
	}
}

// markDelivered records deliveries (by job key; false: given up) on the
// jobs' current ledger records, in one transaction; a delivered channel
// result's voucher is held, so the job becomes paid.
func (p *Provider) markDelivered(marks map[string]bool) error {
	var paid []*big.Int
	err := update(p.d.Ledger, func(tx *ledger.Tx) error {
		paid = paid[:0]
		now := time.Now()
		for key, delivered := range marks {
			lj, err := tx.Job(key)
			if err != nil {
				return err
			}
			cur, err := providerJobOf(lj)
			if err != nil {
				return err
			}
			cur.Delivered = cur.Delivered || delivered
			if cur.PayMode == wire.PayChannel && cur.State == StateSubmitted && cur.Delivered {
				// The voucher is held; redemption is per channel. A result
				// never acknowledged keeps its voucher too (keepUnacked); only
				// one cancelled before it existed is credited (settleLate).
				cur.State = StatePaid
				paid = append(paid, cur.Price)
			}
			cur.Updated = now
			if err := putProviderJob(tx, cur); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, price := range paid {
		p.m.Job("provider", StatePaid)
		p.m.Paid("provider_voucher", price)
	}
	return nil
}

// retryDue reports whether a done job's commit may be retried now.
func (p *Provider) retryDue(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !time.Now().Before(p.retryAt[key])
}

// retryLater backs a done job's next commit off (doubling from
// TickInterval to a minute); ok clears it.
func (p *Provider) retryLater(key string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.retryAt == nil {
		p.retryAt, p.retryGap = map[string]time.Time{}, map[string]time.Duration{}
	}
	if ok {
		delete(p.retryAt, key)
		delete(p.retryGap, key)
		return
	}
	g := min(max(2*p.retryGap[key], p.cfg.TickInterval), time.Minute)
	p.retryGap[key], p.retryAt[key] = g, time.Now().Add(g)
}

// Settle commits results whose commit failed (with backoff, until the
// deal deadline), claims escrow deals past their challenge window, notices
// deals the client accepted or refunded, and redeems vouchers that are
// due. Run calls it every TickInterval; tests call it directly.
func (p *Provider) Settle(ctx context.Context) {
	// Disputed deals first: the loop below reads a closed deal with our
	// result on chain as paid, which holds only for accept and claim.
	p.SettleDisputes(ctx)
	now, err := p.chainNow(ctx)
	if err != nil {
		p.log.Debug("settle", "err", err)
		return
	}
	p.mu.Lock()
	full := p.lastFull.IsZero() || time.Since(p.lastFull) >= fullSettleEvery
	if full {
		p.lastFull = time.Now()
	}
	p.mu.Unlock()
	ljs, err := p.settleJobs(ctx)
	if err != nil {
		p.log.Warn("settle", "err", err)
		return
	}
	for _, lj := range ljs {
		r, err := providerJobOf(lj)
		if err != nil {
			continue
		}
		if r.State == StateDone && r.PayMode == wire.PayEscrow && r.Deal != nil {
			key := providerKey(r.Client, r.ID)
			if !p.retryDue(key) {
				continue
			}
			if err := p.commit(ctx, r); err != nil {
				if !errors.Is(err, errBusy) {
					p.log.Info("commit retry", "job", r.ID, "err", err)
					p.retryLater(key, false)
				}
				continue
			}
			p.retryLater(key, true)
			if r.State == StateSubmitted && !r.Delivered {
				p.wg.Add(1)
				go func() {
					defer p.wg.Done()
					p.deliver(ctx, r)
				}()
			}
			continue
		}
		if r.State != StateSubmitted {
			continue
		}
		if r.PayMode == wire.PayChannel {
			// deliver marks it paid when it delivers; this catches a
			// record written before it did (an old journal's).
			if r.Delivered {
				r.State = StatePaid
				_ = p.save(r)
			}
			continue
		}
		st, err := p.d.Settle.Deal(ctx, r.DealID)
		if err != nil {
			continue
		}
		switch {
		case st.Status == contracts.DealClosed:
			// Accepted or claimed only if our result is on chain;
			// otherwise the client refunded the deal.
			landed, err := p.resultLanded(ctx, r.DealID, true)
			if err != nil {
				continue
			}
			if !landed {
				r.State, r.Error = StateRefunded, "deal refunded to the client; no result of ours on chain"
				if err := p.save(r); err != nil {
					p.log.Warn("ledger", "job", r.ID, "err", err)
				}
				p.m.Job("provider", StateRefunded)
				continue
			}
			r.State = StatePaid
		case st.Status == contracts.DealSubmitted && now > st.At+r.Deal.ChallengeWindow:
			if _, err := p.d.Settle.Claim(ctx, *r.Deal); err != nil {
				p.log.Warn("claim", "job", r.ID, "err", err)
				continue
			}
			r.State, r.Claimed = StatePaid, true
		default:
			continue
		}
		if err := p.save(r); err != nil {
			p.log.Warn("ledger", "job", r.ID, "err", err)
			continue
		}
		p.m.Job("provider", StatePaid)
		p.m.Paid("provider_escrow", r.Price)
	}
	if full {
		p.recordReconciled(ctx)
	}
	p.redeem(ctx, p.cfg.RedeemAmount)
}

// fullSettleEvery: recordReconciled (which asks for paid jobs, a full
// scan of the ledger) runs on Settle's first call and then once a minute.
// The jobs Settle acts on come from the ledger's open-job index every
// tick, which costs O(jobs under way), not O(jobs ever run).
const fullSettleEvery = time.Minute

var settleStates = []ledger.JobState{ledger.JobResultStored, ledger.JobResultSent, ledger.JobCommitted}

// settleJobs returns the provider jobs Settle may act on.
func (p *Provider) settleJobs(ctx context.Context) ([]ledger.Job, error) {
	return p.d.Ledger.Jobs(ctx, ledger.JobFilter{Role: ledger.RoleProvider, States: settleStates})
}

// recordReconciled finishes escrow jobs the ledger's reconciliation with
// the chain moved to paid behind the market's back (the node reconciles
// at start, e.g. deals the client accepted while we were down): their
// market record and earned payment (idempotent by ID) are written.
func (p *Provider) recordReconciled(ctx context.Context) {
	ljs, err := p.d.Ledger.Jobs(ctx, ledger.JobFilter{Role: ledger.RoleProvider, States: []ledger.JobState{ledger.JobPaid}})
	if err != nil {
		return
	}
	for _, lj := range ljs {
		var raw struct {
			State State `json:"state"`
		}
		if json.Unmarshal(lj.Extra, &raw) != nil || raw.State == StatePaid {
			continue
		}
		r, err := providerJobOf(lj) // State is paid: the ledger's wins
		if err != nil || r.PayMode != wire.PayEscrow {
			continue
		}
		if err := p.save(r); err != nil {
			p.log.Warn("ledger", "job", r.ID, "err", err)
			continue
		}
		p.m.Job("provider", StatePaid)
		p.m.Paid("provider_escrow", r.Price)
	}
}

// redeem redeems every channel whose unredeemed vouchers reached minAmount
// or RedeemAge, or whose client started an exit. Only what the channel's
// jobs were charged is redeemed (ledger.Tx.Redeemable): a credited job's
// price stays with the client.
func (p *Provider) redeem(ctx context.Context, minAmount *big.Int) {
	p.redeemMu.Lock()
	defer p.redeemMu.Unlock()
	open, err := p.d.Ledger.Channels(ctx, ledger.RoleProvider, ledger.ChannelOpen)
	if err != nil {
		return
	}
	// Watch the chain for exits on channels that owe us something: a
	// voucher must be redeemed before the exit finishes.
	for _, ch := range open {
		if ch.Unredeemed().Sign() == 0 {
			continue
		}
		if oc, err := p.d.Settle.Channel(ctx, ch.ID); err == nil && (oc.ExitAt != 0 || oc.Finished) {
			_, _ = p.d.Ledger.TransitionChannel(ctx, ch.ID, ledger.ChannelExiting, func(c *ledger.Channel) error { c.ExitAt = oc.ExitAt; return nil })
		}
	}
	chans, err := p.d.Ledger.VouchersToRedeem(ctx, minAmount, p.cfg.RedeemAge, time.Now())
	if err != nil || len(chans) == 0 {
		return
	}
	var due []contracts.Voucher
	var ids []common.Hash
	for _, ch := range chans {
		var v ledger.Voucher
		var ok bool
		if err := p.d.Ledger.View(ctx, func(tx *ledger.Tx) (err error) { v, ok, err = tx.Redeemable(ch.ID); return }); err != nil || !ok {
			continue
		}
		due = append(due, contracts.Voucher{Key: contracts.ChannelKey{Client: ch.Client, Provider: ch.Provider, Salt: ch.Salt},
			Cumulative: v.Cumulative, Signature: v.Signature})
		ids = append(ids, ch.ID)
	}
	if len(due) == 0 {
		return
	}
	rc, err := p.d.Settle.RedeemMany(ctx, due)
	if err != nil {
		p.log.Warn("redeem", "vouchers", len(due), "err", err)
		// Sync with the chain: a replayed redemption is refused as too low.
		for _, id := range ids {
			if oc, err := p.d.Settle.Channel(ctx, id); err == nil {
				_, _ = p.d.Ledger.RecordRedeemed(ctx, id, oc.Redeemed, common.Hash{})
			}
		}
		return
	}
	for i, id := range ids {
		before, _ := p.d.Ledger.Channel(ctx, id)
		if _, err := p.d.Ledger.RecordRedeemed(ctx, id, due[i].Cumulative, rc.TxHash); err != nil {
			p.log.Error("ledger", "err", err)
			continue
		}
		got := new(big.Int).Sub(due[i].Cumulative, orZero(before.Redeemed))
		p.m.Paid("provider_redeemed", got)
		_ = p.d.Ledger.RecordPayment(ctx, ledger.Payment{Kind: ledger.PaymentWithdrawn, Amount: got, Ref: id, Tx: rc.TxHash,
			Peer: before.Client, Note: "voucher redeemed into contract credits"})
	}
}

// RedeemAll redeems every unredeemed voucher now (wallet withdraw, shutdown).
func (p *Provider) RedeemAll(ctx context.Context) {
	p.redeem(ctx, big.NewInt(1))
}

// recover finishes what the ledger says was under way: jobs paid but not
// run, results not committed or not delivered. Claims and redemptions are
// picked up by Settle.
func (p *Provider) recover(ctx context.Context) error {
	ljs, err := p.d.Ledger.Jobs(ctx, ledger.JobFilter{Role: ledger.RoleProvider})
	if err != nil {
		return err
	}
	var todo []*ProviderJob
	for _, lj := range ljs {
		if lj.State != ledger.JobFailed && lj.Terminal() {
			continue
		}
		r, err := providerJobOf(lj)
		if err != nil {
			return err
		}
		if !r.State.Terminal() && (r.State != StateSubmitted || !r.Delivered) || r.State == StateFailed && r.Stopped && !r.Delivered {
			todo = append(todo, r)
		}
	}
	p.creditInterrupted(todo) // channel jobs too late to re-run: credited (provider_recover.go)
	for _, r := range todo {
		p.log.Info("recovering job", "job", r.ID, "state", r.State)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.execute(ctx, r, false)
		}()
	}
	return nil
}

// Jobs returns the provider's job records, newest first.
func (p *Provider) Jobs() ([]ProviderJob, error) {
	p.flushMarks() // what is delivered shows as delivered
	ljs, err := p.d.Ledger.Jobs(context.Background(), ledger.JobFilter{Role: ledger.RoleProvider})
	if err != nil {
		return nil, err
	}
	out := make([]ProviderJob, 0, len(ljs))
	for _, lj := range ljs {
		r, err := providerJobOf(lj)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, nil
}
