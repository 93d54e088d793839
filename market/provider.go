package market

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
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
	Journal Journal
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

	mu       sync.Mutex // guards bids, channels cache, award processing
	bids     map[wire.JobID]*pendingBid
	reserved int // awards accepted but not yet running
	seq      uint64

	offerNow chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	once     sync.Once
}

// NewProvider checks deps and cfg and registers the provider's handlers on
// deps.Net. Call Run to start offering.
func NewProvider(deps ProviderDeps, cfg ProviderConfig) (*Provider, error) {
	if deps.Net == nil || deps.Seal == nil || deps.Content == nil || deps.Runner == nil || deps.Settle == nil || deps.Journal == nil {
		return nil, errors.New("market: provider needs Net, Seal, Content, Runner, Settle and Journal")
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

// Run recovers unfinished jobs from the journal, then offers, bids, runs,
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
		case <-tick.C:
			p.Settle(ctx)
		}
	}
}

// Close stops Run and waits for running jobs. Safe to call twice.
func (p *Provider) Close() error {
	p.once.Do(func() { p.cancel(); p.wg.Wait() })
	return nil
}

func (p *Provider) changed() {
	select {
	case p.offerNow <- struct{}{}:
	default:
	}
}

// Offer builds the provider's current signed offer (nil when it has no free slot).
func (p *Provider) Offer() *wire.Offer {
	c := p.d.Runner.Capacity()
	p.mu.Lock()
	slots := c.FreeSlots - p.reserved
	p.seq++
	seq := p.seq
	p.mu.Unlock()
	if slots <= 0 {
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
	busy := c.FreeSlots-p.reserved <= 0
	p.mu.Unlock()
	if busy {
		return nil, fmt.Errorf("%w: no free slot", ErrRefused)
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
	if _, err := getProviderJob(p.d.Journal, req.ID); err == nil {
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
	return nil, nil
}

func getProviderJob(j Journal, id wire.JobID) (*ProviderJob, error) {
	var r ProviderJob
	if err := getJSON(j, bucketProviderJobs, id.String(), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func (p *Provider) save(r *ProviderJob) error {
	r.Updated = time.Now()
	return putJSON(p.d.Journal, bucketProviderJobs, r.ID.String(), r)
}

// handleAward checks the award and its payment on chain, persists the job,
// and starts it. It is idempotent: a second award for the same job is
// refused with ErrDuplicate and changes nothing.
func (p *Provider) handleAward(ctx context.Context, from peer.ID, msg wire.Message) ([]byte, error) {
	a := msg.(*wire.Award)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := getProviderJob(p.d.Journal, a.JobID); err == nil {
		p.m.Award("duplicate")
		return nil, fmt.Errorf("%w: award for job %s already accepted", ErrDuplicate, a.JobID)
	}
	b, ok := p.bids[a.JobID]
	if !ok || time.Now().After(b.expiry) {
		p.m.Award("unknown")
		return nil, fmt.Errorf("%w: no open bid for job %s", ErrRefused, a.JobID)
	}
	if a.Provider != p.d.Net.ID() || a.Client != b.req.Client || a.PayMode != b.req.PayMode {
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
	var ch *inChannel
	switch a.PayMode {
	case wire.PayEscrow:
		dp, err := p.verifyDeal(vctx, r, a.DealID)
		if err != nil {
			p.m.Award("unpaid")
			return nil, err
		}
		r.Deal, r.DealID = dp, a.DealID
	case wire.PayChannel:
		c, err := p.verifyVoucher(vctx, r, a.Voucher)
		if err != nil {
			p.m.Award("unpaid")
			return nil, err
		}
		ch = c
		r.Channel, r.Cumulative = a.Voucher.ChannelID, new(big.Int).Set(a.Voucher.Cumulative)
	}
	// Persist before acting: the job first (it carries the voucher), then
	// the channel totals. Recovery re-derives the channel from the jobs.
	if err := p.save(r); err != nil {
		return nil, err
	}
	if ch != nil {
		if err := putJSON(p.d.Journal, bucketChannelsIn, a.Voucher.ChannelID.Hex(), ch); err != nil {
			return nil, err
		}
	}
	delete(p.bids, a.JobID)
	p.reserved++
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
func (p *Provider) verifyDeal(ctx context.Context, r *ProviderJob, id common.Hash) (*contracts.DealParams, error) {
	evs, err := p.d.Settle.FilterDealsOpened(ctx, p.cfg.FromBlock, []common.Address{r.ClientAddr}, []common.Address{p.me})
	if err != nil {
		return nil, fmt.Errorf("%w: look up deal %s: %v", ErrUnpaid, id, err)
	}
	var ev *contracts.MarketplaceDealOpened
	for _, e := range evs {
		if e.DealId == id {
			ev = e
		}
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
	now, err := p.chainNow(ctx)
	if err != nil {
		return nil, err
	}
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
	st, err := p.d.Settle.Deal(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("%w: deal state: %v", ErrUnpaid, err)
	}
	if st.Status != contracts.DealOpen {
		return nil, fmt.Errorf("%w: deal %s is %s", ErrUnpaid, id, st.Status)
	}
	return dp, nil
}

// verifyVoucher checks the voucher is signed by the job's client for a
// channel from that client to this provider that is open, holds enough
// deposit, and that it covers everything accepted on the channel plus this
// job. Called with p.mu held. It returns the updated channel record.
func (p *Provider) verifyVoucher(ctx context.Context, r *ProviderJob, v *wire.Voucher) (*inChannel, error) {
	var ch inChannel
	err := getJSON(p.d.Journal, bucketChannelsIn, v.ChannelID.Hex(), &ch)
	if errors.Is(err, ErrNotFound) {
		evs, err := p.d.Settle.FilterChannelsOpened(ctx, p.cfg.FromBlock, []common.Address{r.ClientAddr}, []common.Address{p.me})
		if err != nil {
			return nil, fmt.Errorf("%w: look up channel: %v", ErrUnpaid, err)
		}
		found := false
		for _, e := range evs {
			if e.ChannelId == v.ChannelID {
				ch = inChannel{Key: contracts.ChannelKey{Client: e.Client, Provider: e.Provider, Salt: e.Salt},
					Accepted: new(big.Int), Best: new(big.Int), Redeemed: new(big.Int)}
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("%w: no channel %s from %s to %s on chain", ErrUnpaid, v.ChannelID, r.ClientAddr, p.me)
		}
	} else if err != nil {
		return nil, err
	}
	if ch.Key.Client != r.ClientAddr || ch.Key.Provider != p.me {
		return nil, fmt.Errorf("%w: channel %s is not from this client to this provider", ErrUnpaid, v.ChannelID)
	}
	cv := contracts.Voucher{Key: ch.Key, Cumulative: v.Cumulative, Signature: v.Signature}
	if err := p.d.Settle.VerifyVoucher(ctx, cv); err != nil {
		return nil, fmt.Errorf("%w: voucher: %v", ErrUnpaid, err)
	}
	onchain, err := p.d.Settle.Channel(ctx, v.ChannelID)
	if err != nil {
		return nil, fmt.Errorf("%w: channel state: %v", ErrUnpaid, err)
	}
	if onchain.ExitAt != 0 || onchain.Finished {
		return nil, fmt.Errorf("%w: channel %s is closing", ErrUnpaid, v.ChannelID)
	}
	best := ch.Best
	if v.Cumulative.Cmp(best) > 0 {
		best = v.Cumulative
	}
	need := new(big.Int).Add(ch.Accepted, r.Price)
	if best.Cmp(need) < 0 {
		return nil, fmt.Errorf("%w: voucher for %s does not cover %s promised on the channel", ErrUnpaid, v.Cumulative, need)
	}
	if best.Cmp(onchain.Deposit) > 0 {
		return nil, fmt.Errorf("%w: voucher %s exceeds the channel deposit %s", ErrUnpaid, best, onchain.Deposit)
	}
	ch.Accepted = need
	if v.Cumulative.Cmp(ch.Best) > 0 {
		if ch.Best.Cmp(ch.Redeemed) <= 0 {
			ch.BestAt = time.Now()
		}
		ch.Best, ch.BestSig = new(big.Int).Set(v.Cumulative), slices.Clone(v.Signature)
	}
	return &ch, nil
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
	if r.State == StateAwarded || r.State == StateRunning {
		r.State = StateRunning
		if err := p.save(r); err != nil {
			log.Error("journal", "err", err)
			return
		}
		p.m.Job("provider", StateRunning)
		if err := p.run(ctx, r); err != nil {
			log.Error("job not run", "err", err)
			return // no output stored: the client's refund path applies
		}
		r.State = StateDone
		if r.Stopped {
			// The sandbox stopped the module (a limit or a trap): a failed
			// job, not a result. Nothing is committed or claimed; the
			// client refunds the escrow after the deal deadline.
			r.State = StateFailed
			log.Info("job stopped by the sandbox; not charging", "cause", r.Error)
		}
		if err := p.save(r); err != nil {
			log.Error("journal", "err", err)
			return
		}
		p.m.Job("provider", r.State)
	}
	if r.State == StateDone {
		if r.PayMode == wire.PayEscrow {
			if _, err := p.d.Settle.SubmitResult(ctx, *r.Deal, common.Hash(r.OutputHash)); err != nil {
				st, serr := p.d.Settle.Deal(ctx, r.DealID)
				if serr != nil || st.Status == contracts.DealOpen {
					log.Error("submit result", "err", err)
					return
				}
			}
			st, err := p.d.Settle.Deal(ctx, r.DealID)
			if err == nil {
				r.ClaimAfter = st.At + r.Deal.ChallengeWindow
			}
		}
		r.State = StateSubmitted
		if err := p.save(r); err != nil {
			log.Error("journal", "err", err)
			return
		}
		p.m.Job("provider", StateSubmitted)
	}
	if !r.Delivered {
		p.deliver(ctx, r)
	}
}

// run fetches, runs and stores; it fills r's result fields.
func (p *Provider) run(ctx context.Context, r *ProviderJob) error {
	work, err := os.MkdirTemp(p.cfg.WorkDir, "cloudless-job-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	x, err := execJob(ctx, p.d.Content, p.d.Runner, work, int64(p.cfg.MaxModuleSize), r.ID, &r.Spec)
	if err != nil {
		return err
	}
	r.ExitCode, r.Usage, r.Error, r.OutputHash = x.exitCode, x.usage, x.errText, x.hash
	if x.stopped {
		// A failure result: the cause, a non-zero exit code, no output
		// and no hash (wire allows no CID when Error is set).
		r.Stopped = true
		if r.ExitCode == 0 {
			r.ExitCode = -1
		}
		r.Error = oneLine(r.Error)
		r.OutputHash = [32]byte{}
		res := &wire.Result{JobID: r.ID, Provider: p.d.Net.ID(), ExitCode: r.ExitCode, Usage: r.Usage, Error: r.Error}
		sealed, err := p.d.Seal(res)
		if err != nil {
			return err
		}
		r.Result = sealed
		return nil
	}
	cid, err := p.d.Content.AddDir(ctx, x.root)
	if err != nil {
		return fmt.Errorf("store output: %w", err)
	}
	r.ResultCID = cid
	res := &wire.Result{JobID: r.ID, Provider: p.d.Net.ID(), ResultCID: cid, ExitCode: r.ExitCode, Usage: r.Usage, OutputHash: r.OutputHash, Error: r.Error}
	sealed, err := p.d.Seal(res)
	if err != nil {
		return err
	}
	r.Result = sealed
	return nil
}

// execution is what execJob produced: the output directory (stdout,
// stderr, out/) under root and its hash.
type execution struct {
	root     string
	exitCode int32
	usage    wire.Usage
	errText  string
	hash     [32]byte
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

// execJob fetches a job's module and inputs, runs it and lays out its
// output under work/result. A failure of the job itself (fetch, limits,
// traps) is part of the output (errText, exit code -1 when it never
// started); only a local failure, or ctx ending, is an error. Providers
// run jobs with it and mediators re-run them.
func execJob(ctx context.Context, content Content, runner Runner, work string, maxModule int64, id wire.JobID, s *wire.JobSpec) (*execution, error) {
	x := &execution{root: filepath.Join(work, "result")}
	if err := os.MkdirAll(filepath.Join(x.root, OutDirName), 0o755); err != nil {
		return nil, err
	}
	timeout := s.Resources.Timeout.D()
	fctx, cancel := context.WithTimeout(ctx, timeout+time.Minute)
	defer cancel()
	var res *executor.Result
	var runErr error
	module, err := content.Cat(fctx, s.Module, maxModule)
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
		seed := append(id[:0:0], id[:]...)
		seed = binary.BigEndian.AppendUint64(seed, s.Seed)
		res, runErr = runner.Run(fctx, executor.Spec{
			Module: module, Args: s.Args, Env: s.Env, Stdin: bytes.NewReader(stdin), Mounts: mounts,
			OutDir: filepath.Join(x.root, OutDirName),
			Limits: executor.Limits{Memory: uint64(s.Resources.Memory), Timeout: timeout, MaxOutput: int64(s.Resources.MaxOutput),
				MaxModuleSize: maxModule},
			Deterministic: s.Deterministic, Seed: seed,
		})
		x.stopped = sandboxStop(runErr)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err() // stopping: recovery re-runs the job
	}
	var stdout, stderr []byte
	if res != nil {
		x.exitCode = int32(res.ExitCode)
		stdout, stderr = res.Stdout, res.Stderr
		x.usage = wire.Usage{Wall: wire.Duration(res.Usage.Wall), PeakMemory: wire.Size(res.Usage.PeakMemory), OutputBytes: wire.Size(res.Usage.OutputBytes)}
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
	if err := os.WriteFile(filepath.Join(x.root, StdoutName), stdout, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(x.root, StderrName), stderr, 0o644); err != nil {
		return nil, err
	}
	h, err := OutputHash(x.root, x.exitCode)
	if err != nil {
		return nil, err
	}
	x.hash = h
	return x, nil
}

// deliver sends the sealed result to the client, retrying with backoff
// until it is acknowledged or the job's time is up.
func (p *Provider) deliver(ctx context.Context, r *ProviderJob) {
	deadline := r.Created.Add(r.Spec.Resources.Timeout.D() + 5*time.Minute)
	delay := 100 * time.Millisecond
	for {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := p.d.Net.Request(rctx, r.Client, r.Result)
		cancel()
		if err == nil || errors.Is(err, ErrRefused) {
			r.Delivered = true
			if err := p.save(r); err != nil {
				p.log.Error("journal", "err", err)
			}
			return
		}
		if time.Now().After(deadline) {
			p.log.Warn("result not delivered", "job", r.ID, "err", err)
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

// Settle claims escrow deals past their challenge window, notices deals the
// client accepted, and redeems vouchers that are due. Run calls it every
// TickInterval; tests call it directly.
func (p *Provider) Settle(ctx context.Context) {
	now, err := p.chainNow(ctx)
	if err != nil {
		p.log.Debug("settle", "err", err)
		return
	}
	var jobs []*ProviderJob
	_ = p.d.Journal.ForEach(bucketProviderJobs, func(_ string, v []byte) error {
		var r ProviderJob
		if getErr := jsonUnmarshal(v, &r); getErr == nil && r.State == StateSubmitted {
			jobs = append(jobs, &r)
		}
		return nil
	})
	for _, r := range jobs {
		if r.PayMode == wire.PayChannel {
			r.State = StatePaid // the voucher is held; redemption is per channel
			_ = p.save(r)
			p.m.Job("provider", StatePaid)
			p.m.Paid("provider_voucher", r.Price)
			continue
		}
		st, err := p.d.Settle.Deal(ctx, r.DealID)
		if err != nil {
			continue
		}
		switch {
		case st.Status == contracts.DealClosed:
			r.State = StatePaid
		case st.Status == contracts.DealSubmitted && now > st.At+r.Deal.ChallengeWindow:
			if _, err := p.d.Settle.Claim(ctx, *r.Deal); err != nil {
				p.log.Warn("claim", "job", r.ID, "err", err)
				continue
			}
			r.State = StatePaid
		case st.Status == contracts.DealDisputed:
			continue
		default:
			continue
		}
		_ = p.save(r)
		p.m.Job("provider", StatePaid)
		p.m.Paid("provider_escrow", r.Price)
	}
	p.redeem(ctx)
}

// redeem redeems every channel whose unredeemed vouchers reached
// RedeemAmount or RedeemAge, or whose client started an exit.
func (p *Provider) redeem(ctx context.Context) {
	var due []contracts.Voucher
	var chans []*inChannel
	_ = p.d.Journal.ForEach(bucketChannelsIn, func(_ string, v []byte) error {
		var ch inChannel
		if jsonUnmarshal(v, &ch) != nil || ch.Best.Cmp(ch.Redeemed) <= 0 {
			return nil
		}
		pending := new(big.Int).Sub(ch.Best, ch.Redeemed)
		exiting := false
		if oc, err := p.d.Settle.Channel(ctx, ch.Key.ID()); err == nil && oc.ExitAt != 0 {
			exiting = true
		}
		if pending.Cmp(p.cfg.RedeemAmount) >= 0 || time.Since(ch.BestAt) >= p.cfg.RedeemAge || exiting {
			due = append(due, contracts.Voucher{Key: ch.Key, Cumulative: ch.Best, Signature: ch.BestSig})
			chans = append(chans, &ch)
		}
		return nil
	})
	if len(due) == 0 {
		return
	}
	if _, err := p.d.Settle.RedeemMany(ctx, due); err != nil {
		p.log.Warn("redeem", "vouchers", len(due), "err", err)
		// Sync with the chain: a replayed redemption is refused as too low.
		for _, ch := range chans {
			if oc, err := p.d.Settle.Channel(ctx, ch.Key.ID()); err == nil {
				ch.Redeemed = oc.Redeemed
				_ = p.saveChannel(ch)
			}
		}
		return
	}
	for _, ch := range chans {
		p.m.Paid("provider_redeemed", new(big.Int).Sub(ch.Best, ch.Redeemed))
		ch.Redeemed, ch.RedeemedAt = new(big.Int).Set(ch.Best), time.Now()
		_ = p.saveChannel(ch)
	}
}

// RedeemAll redeems every unredeemed voucher now (wallet withdraw, shutdown).
func (p *Provider) RedeemAll(ctx context.Context) {
	saved := p.cfg.RedeemAmount
	p.cfg.RedeemAmount = big.NewInt(1)
	p.redeem(ctx)
	p.cfg.RedeemAmount = saved
}

func (p *Provider) saveChannel(ch *inChannel) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Merge with the stored record: an award may have raised Best meanwhile.
	var cur inChannel
	if err := getJSON(p.d.Journal, bucketChannelsIn, ch.Key.ID().Hex(), &cur); err == nil {
		cur.Redeemed, cur.RedeemedAt = ch.Redeemed, ch.RedeemedAt
		if cur.Best.Cmp(cur.Redeemed) > 0 {
			cur.BestAt = time.Now()
		}
		return putJSON(p.d.Journal, bucketChannelsIn, ch.Key.ID().Hex(), &cur)
	}
	return putJSON(p.d.Journal, bucketChannelsIn, ch.Key.ID().Hex(), ch)
}

// recover finishes what the journal says was under way: jobs paid but not
// run, results not committed or not delivered. Claims and redemptions are
// picked up by Settle.
func (p *Provider) recover(ctx context.Context) error {
	var todo []*ProviderJob
	err := p.d.Journal.ForEach(bucketProviderJobs, func(_ string, v []byte) error {
		var r ProviderJob
		if err := jsonUnmarshal(v, &r); err != nil {
			return err
		}
		if !r.State.Terminal() && (r.State != StateSubmitted || !r.Delivered) || r.State == StateFailed && r.Stopped && !r.Delivered {
			todo = append(todo, &r)
		}
		return nil
	})
	if err != nil {
		return err
	}
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

// Jobs returns the provider's job records.
func (p *Provider) Jobs() ([]ProviderJob, error) {
	var out []ProviderJob
	err := p.d.Journal.ForEach(bucketProviderJobs, func(_ string, v []byte) error {
		var r ProviderJob
		if err := jsonUnmarshal(v, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}
