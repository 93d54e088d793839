package market

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market/wire"
)

// MediationChain is what a serving mediator needs from the chain
// (*contracts.Client): a Mediator's calls, the deal ID of a deal's
// terms, and how a deal closed.
type MediationChain interface {
	MediatorSettlement
	DealID(p contracts.DealParams) common.Hash
	FilterDealClosings(ctx context.Context, from uint64, deals []common.Hash) ([]contracts.DealClosing, error)
}

var _ MediationChain = (*contracts.Client)(nil)

// DefaultCaseLimit is the per-peer rate of mediation cases a mediator
// reads: a party brings a case once per settle tick at most (and backs
// off once accepted), so 1/s with a burst of 20 (one per deal of a
// redundancy-16 job and some) leaves honest peers a wide margin.
var DefaultCaseLimit = AuthorLimit{Rate: 1, Burst: 20, MaxAuthors: 4096}

// MediatorDeps are the parts a serving mediator runs on. Logger is optional.
type MediatorDeps struct {
	// Net must implement MediationNetwork (*HostNetwork does).
	Net     Network
	Seal    Sealer
	Content Content
	Runner  Runner
	Settle  MediationChain
	// Ledger keeps each ruling (written before its transaction) and the
	// fee earned (a PaymentEarned "mediated/<deal>").
	Ledger *ledger.Ledger
	Logger *slog.Logger
}

// MediatorConfig is a serving mediator's policy; zero fields take the
// listed defaults.
type MediatorConfig struct {
	// WorkDir for re-runs (default os.TempDir()).
	WorkDir string
	// MaxModuleSize of a re-run job's module (default 64 MiB).
	MaxModuleSize int64
	// MaxConcurrent re-runs (default 2); a case past it is refused as busy
	// and its sender brings it again on a later tick.
	MaxConcurrent int
	// Limit is the per-peer case rate (default DefaultCaseLimit).
	Limit AuthorLimit
	// FromBlock for closing-event lookups (default 0).
	FromBlock uint64
	// Now is the clock for case expiry (default time.Now).
	Now func() time.Time
}

// MediatorService serves wire.MediateProtocol: a party of a disputed
// escrow deal that names this node's address as mediator brings the case
// (wire.MediationCase); the service checks it, re-runs the job in the
// background (Mediator) and rules on chain once per deal. See
// docs/rationale/disputes.md and docs/protocol.md "Mediation".
type MediatorService struct {
	m     *Mediator
	d     MediatorDeps
	cfg   MediatorConfig
	net   MediationNetwork
	me    peer.ID
	addr  common.Address
	lim   *authorLimiter
	sem   chan struct{}
	log   *slog.Logger
	ctx   context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup
	close sync.Once

	mu      sync.Mutex
	running map[common.Hash]bool // deals being re-run or ruled now
}

// Reasons a case is refused (in MediationReply.Reason, or the stream's
// error text before the case could be opened).
var (
	errNotParty       = errors.New("the case's signer is neither the deal's client nor its provider")
	errNotMediator    = errors.New("the deal names another mediator")
	errDealIDMismatch = errors.New("the deal ID does not match the deal's terms")
)

// NewMediatorService starts serving cases on d.Net. Close stops it and
// waits for the re-runs under way.
//
// # Errors
//
// ErrInvalid-like errors when a dependency is missing or d.Net cannot
// carry cases.
func NewMediatorService(d MediatorDeps, cfg MediatorConfig) (*MediatorService, error) {
	if d.Net == nil || d.Seal == nil || d.Content == nil || d.Runner == nil || d.Settle == nil || d.Ledger == nil {
		return nil, errors.New("market: mediator needs a network, a sealer, content, a runner, a chain and a ledger")
	}
	mn, ok := d.Net.(MediationNetwork)
	if !ok {
		return nil, fmt.Errorf("market: network %T cannot carry mediation cases", d.Net)
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 2
	}
	if cfg.Limit.Rate == 0 {
		cfg.Limit = DefaultCaseLimit
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &MediatorService{
		m: &Mediator{Settle: d.Settle, Content: d.Content, Runner: d.Runner, WorkDir: cfg.WorkDir, MaxModuleSize: cfg.MaxModuleSize, Logger: d.Logger},
		d: d, cfg: cfg, net: mn, me: d.Net.ID(), addr: d.Settle.Address(),
		lim: newAuthorLimiter(cfg.Limit, cfg.Now), sem: make(chan struct{}, cfg.MaxConcurrent),
		log: d.Logger.With("role", "mediator"), running: map[common.Hash]bool{},
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	mn.HandleMediation(s.Handle)
	s.wg.Go(s.reconcileOnStart) // fees of rulings a crash cut off (reconcile_mediator.go)
	return s, nil
}

// Close stops serving and waits for the re-runs under way (they are
// cancelled; their deals are ruled when a party brings the case again).
// Safe to call twice.
func (s *MediatorService) Close() error {
	s.close.Do(func() {
		s.net.HandleMediation(nil)
		s.stop()
		s.wg.Wait()
	})
	return nil
}

// Address is the mediator's Ethereum address (what deals name).
func (s *MediatorService) Address() common.Address { return s.addr }

// Handle answers one sealed case from peer from: a sealed MediationReply
// (accepted, ruled or refused with a reason), or an error when the case
// could not be opened at all (rate limit, size, signature, type).
func (s *MediatorService) Handle(ctx context.Context, from peer.ID, sealed []byte) ([]byte, error) {
	if !s.lim.allow(from) {
		return nil, fmt.Errorf("%w: too many cases from %s", ErrRefused, from)
	}
	msg, signer, err := wire.OpenAt(sealed, wire.MaxCaseSize, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	c, ok := msg.(*wire.MediationCase)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a mediation case", wire.ErrUnknownType, msg.Type())
	}
	status, forProvider, tx, err := s.take(ctx, signer, c)
	r := &wire.MediationReply{Mediator: s.me, DealID: c.DealID, Nonce: c.Nonce, Status: status, ForProvider: forProvider, Tx: tx}
	if err != nil {
		r.Status, r.ForProvider, r.Tx, r.Reason = wire.MediationRefused, false, common.Hash{}, reasonText(err.Error())
		s.log.Debug("case refused", "deal", c.DealID, "from", signer, "why", r.Reason)
	}
	return s.d.Seal(r)
}

// take checks a case (cheapest first) and starts its re-run, or says how
// the deal was already ruled.
func (s *MediatorService) take(ctx context.Context, signer peer.ID, c *wire.MediationCase) (wire.MediationStatus, bool, common.Hash, error) {
	var none common.Hash
	who, err := AddressOf(signer)
	if err != nil {
		return "", false, none, err
	}
	dp := dealParamsOf(&c.Deal)
	switch {
	case who != dp.Client && who != dp.Provider:
		return "", false, none, errNotParty
	case dp.Mediator != s.addr:
		return "", false, none, fmt.Errorf("%w (%s), not this node (%s)", errNotMediator, dp.Mediator, s.addr)
	case s.d.Settle.DealID(dp) != c.DealID:
		return "", false, none, errDealIDMismatch
	}
	if err := checkJob(&dp, c.JobID, &c.Spec); err != nil {
		return "", false, none, err
	}
	st, err := s.d.Settle.Deal(ctx, c.DealID)
	if err != nil {
		return "", false, none, fmt.Errorf("chain: %w", err)
	}
	switch st.Status {
	case contracts.DealDisputed:
	case contracts.DealClosed:
		return s.ruled(ctx, &dp, c)
	default:
		return "", false, none, fmt.Errorf("deal %s is %s, not disputed", c.DealID, st.Status)
	}
	s.mu.Lock()
	busy := s.running[c.DealID]
	s.mu.Unlock()
	if busy {
		return wire.MediationAccepted, false, none, nil
	}
	claimed, err := s.m.check(ctx, dp, c.DealID, c.JobID, &c.Spec)
	if err != nil {
		return "", false, none, err
	}
	select {
	case s.sem <- struct{}{}:
	default:
		return "", false, none, fmt.Errorf("busy: %d re-runs under way, bring the case again later", cap(s.sem))
	}
	s.mu.Lock()
	if s.running[c.DealID] {
		s.mu.Unlock()
		<-s.sem
		return wire.MediationAccepted, false, none, nil
	}
	s.running[c.DealID] = true
	s.mu.Unlock()
	s.log.Info("case accepted: re-running the job", "deal", c.DealID, "job", c.JobID, "from", signer)
	s.wg.Go(func() {
		defer func() {
			s.mu.Lock()
			delete(s.running, c.DealID)
			s.mu.Unlock()
			<-s.sem
		}()
		s.rule(dp, c, claimed)
	})
	return wire.MediationAccepted, false, none, nil
}

// verdictScope is the ledger's seen-scope of a deal's ruling: its key is
// "provider" or "client", written before the resolve transaction, so the
// deal is ruled the same way whatever happens next (a failed
// transaction, a restart, the case brought again).
func verdictScope(deal common.Hash) string { return "mediate/" + deal.Hex() }

// verdict returns the ruling recorded for deal, if any.
func (s *MediatorService) verdict(deal common.Hash) (forProvider, ok bool, err error) {
	for _, side := range []bool{true, false} {
		seen, err := s.d.Ledger.Seen(context.Background(), verdictScope(deal), sideName(side))
		if err != nil {
			return false, false, err
		}
		if seen {
			return side, true, nil
		}
	}
	return false, false, nil
}

func sideName(forProvider bool) string {
	if forProvider {
		return "provider"
	}
	return "client"
}

// rule re-runs the job (unless a ruling is recorded already), records
// the ruling, sends the resolve transaction and records the fee.
func (s *MediatorService) rule(dp contracts.DealParams, c *wire.MediationCase, claimed [32]byte) {
	ctx := s.ctx
	forProvider, ok, err := s.verdict(c.DealID)
	if err != nil {
		s.log.Warn("ledger", "deal", c.DealID, "err", err)
		return
	}
	if !ok {
		if forProvider, err = s.m.judge(ctx, c.JobID, &c.Spec, claimed); err != nil {
			s.log.Warn("re-run failed; the deal is not ruled", "deal", c.DealID, "job", c.JobID, "err", err)
			return
		}
	}
	// The ruling and the fee it will earn, before the transaction
	// (reconcile_mediator.go finds a fee whose write a crash cut off).
	if err := s.writeRuling(ctx, &dp, c, forProvider); err != nil {
		s.log.Warn("ledger", "deal", c.DealID, "err", err)
		return
	}
	rcpt, err := s.d.Settle.Resolve(ctx, dp, forProvider)
	if err != nil {
		// Closed meanwhile (our earlier transaction, or an expiry):
		// the closing event says which.
		if _, _, _, rerr := s.ruled(ctx, &dp, c); rerr == nil {
			return
		}
		s.log.Warn("resolve", "deal", c.DealID, "for_provider", forProvider, "err", err)
		return
	}
	if err := s.recordFee(ctx, dp.MediatorFee, dp.Client, c.DealID, c.JobID.String(), forProvider, rcptHash(rcpt)); err != nil {
		s.log.Warn("ledger", "deal", c.DealID, "err", err)
		return
	}
	s.log.Info("ruled", "deal", c.DealID, "job", c.JobID, "for", sideName(forProvider), "fee", orZero(dp.MediatorFee))
}

func rcptHash(r *types.Receipt) common.Hash {
	if r == nil {
		return common.Hash{}
	}
	return r.TxHash
}

// ruled answers a case for a closed deal: ruled, when it closed by our
// DealResolved (the fee is recorded if it was not yet: a restart between
// the transaction and the ledger write), else refused.
func (s *MediatorService) ruled(ctx context.Context, dp *contracts.DealParams, c *wire.MediationCase) (wire.MediationStatus, bool, common.Hash, error) {
	cl, ok, err := closingOf(ctx, s.d.Settle, s.cfg.FromBlock, c.DealID)
	if err != nil {
		return "", false, common.Hash{}, fmt.Errorf("chain: %w", err)
	}
	if !ok || cl.Event != "DealResolved" || cl.Mediator != s.addr {
		how := "closed"
		if ok {
			how = "closed by " + cl.Event
		}
		return "", false, common.Hash{}, fmt.Errorf("deal %s is %s, not disputed", c.DealID, how)
	}
	if err := s.recordFee(ctx, dp.MediatorFee, dp.Client, c.DealID, c.JobID.String(), cl.ForProvider, cl.Log.TxHash); err != nil {
		return "", false, common.Hash{}, err
	}
	return wire.MediationRuled, cl.ForProvider, cl.Log.TxHash, nil
}

// recordFee writes the fee the ruling earned (idempotent: one payment
// per deal).
func (s *MediatorService) recordFee(ctx context.Context, fee *big.Int, client common.Address, deal common.Hash, jobID string, forProvider bool, tx common.Hash) error {
	return s.d.Ledger.RecordPayment(ctx, ledger.Payment{ID: MediatorFeeID(deal), Kind: ledger.PaymentEarned,
		Amount: new(big.Int).Set(orZero(fee)), JobID: jobID, Ref: deal, Tx: tx, Peer: client,
		Note: "mediator fee: ruled for the " + sideName(forProvider)})
}

// MediatorFeeID is the ledger payment ID of the fee a mediator earned
// on a deal (PaymentEarned), and of the fee the client paid for it
// (PaymentPaid, in the client's ledger).
func MediatorFeeID(deal common.Hash) string { return "mediated/" + deal.Hex() }

// dealParamsOf converts wire terms to the chain's parameters.
func dealParamsOf(t *wire.DealTerms) contracts.DealParams {
	return contracts.DealParams{Client: t.Client, Provider: t.Provider, Mediator: t.Mediator, Price: t.Price,
		MediatorFee: t.MediatorFee, Collateral: t.Collateral, Deadline: t.Deadline, ChallengeWindow: t.ChallengeWindow, JobHash: t.JobHash}
}

// dealTermsOf converts the chain's parameters to wire terms.
func dealTermsOf(p *contracts.DealParams) wire.DealTerms {
	return wire.DealTerms{Client: p.Client, Provider: p.Provider, Mediator: p.Mediator, Price: p.Price,
		MediatorFee: p.MediatorFee, Collateral: p.Collateral, Deadline: p.Deadline, ChallengeWindow: p.ChallengeWindow, JobHash: p.JobHash}
}
