package ledger

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// ChainView is what reconciliation needs from the chain: the current state
// of one deal and of one channel. The market (or node) implements it over
// contracts.Client (Deal, Channel, and the closing event of a deal for its
// Outcome); tests use a table.
type ChainView interface {
	DealOnChain(ctx context.Context, id common.Hash) (ChainDeal, error)
	ChannelOnChain(ctx context.Context, id common.Hash) (ChainChannel, error)
}

// ChainDealStatus mirrors contracts.DealStatus (same order and values).
type ChainDealStatus uint8

// On-chain deal states.
const (
	ChainDealNone ChainDealStatus = iota
	ChainDealOpen
	ChainDealSubmitted
	ChainDealDisputed
	ChainDealClosed
)

func (s ChainDealStatus) String() string {
	switch s {
	case ChainDealNone:
		return "none"
	case ChainDealOpen:
		return "open"
	case ChainDealSubmitted:
		return "submitted"
	case ChainDealDisputed:
		return "disputed"
	case ChainDealClosed:
		return "closed"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// ChainDeal is a deal as the chain has it.
type ChainDeal struct {
	Status ChainDealStatus
	At     uint64 // unix seconds of the result submission (Submitted) or of the dispute (Disputed)
	// Outcome says how a Closed deal closed: DealAccepted, DealClaimed,
	// DealResolved (with ForProvider) or DealRefunded, from the deal's
	// closing event (DealAccepted, DealClaimed, DealResolved, DealRefunded or
	// DisputeExpired, which is a refund). Empty when unknown: the deal is
	// then reported as an anomaly and left alone.
	Outcome     DealState
	ForProvider bool
	// Expired: the deal closed by DisputeExpired (the mediator stayed
	// silent past the mediation timeout). Outcome is then DealRefunded:
	// the client got price and fee back, the provider's collateral was
	// unlocked, not slashed.
	Expired bool
	CloseTx common.Hash
}

// ChainChannel is a channel as the chain has it.
type ChainChannel struct {
	Exists   bool
	Deposit  *big.Int
	Redeemed *big.Int
	ExitAt   uint64 // unix seconds; 0: no exit started
	Finished bool   // exit finished, remainder returned to the client
}

// Correction is one change reconciliation makes (or, for an Anomaly, would
// need a human for).
type Correction struct {
	Kind string      // "deal" or "channel"
	ID   common.Hash // deal or channel ID
	From string      // state before
	To   string      // state after (equal to From when only fields change)
	Note string      // what the chain said
	// Anomaly: the chain contradicts the ledger in a way no legal move
	// fixes (for example the ledger has a deal the chain never saw, past
	// its opening). Nothing is changed; it is logged and returned.
	Anomaly bool

	deal    *Deal
	channel *Channel
}

// Deal states other than DealOpening record chain facts: a caller moves a
// deal to DealSubmitted (say) after the receipt, while the job's own state
// (JobCommitted) records the intent before the transaction is sent. So the
// chain can be ahead of a deal, never behind it; behind is an anomaly.

// ReconcileDeal returns the correction that brings d in line with the chain
// fact c at time now, and false when d already agrees. It is pure: it reads
// nothing and writes nothing.
func ReconcileDeal(d Deal, c ChainDeal, now time.Time) (Correction, bool) {
	if d.State.Terminal() {
		return Correction{}, false
	}
	corr := Correction{Kind: "deal", ID: d.ID, From: string(d.State)}
	anomaly := func(note string) (Correction, bool) {
		corr.To, corr.Anomaly, corr.Note = corr.From, true, note
		return corr, true
	}
	next := d
	var to DealState
	switch c.Status {
	case ChainDealNone:
		if d.State != DealOpening {
			return anomaly(fmt.Sprintf("ledger has the deal %s but the chain has none", d.State))
		}
		// Opening can still land until the deadline (the contract refuses
		// an open with deadline <= block time).
		if now.Unix() < int64(d.Deadline) {
			return Correction{}, false
		}
		to, next.Note = DealAbandoned, "open transaction never mined before the deadline"
	case ChainDealOpen:
		to, next.Note = DealOpened, "open on chain"
	case ChainDealSubmitted:
		to, next.SubmittedAt, next.Note = DealSubmitted, c.At, "result submitted on chain"
	case ChainDealDisputed:
		to, next.Note = DealDisputed, "disputed on chain"
	case ChainDealClosed:
		switch c.Outcome {
		case DealAccepted, DealClaimed, DealRefunded, DealResolved:
		default:
			return anomaly(fmt.Sprintf("closed on chain with unknown outcome %q", c.Outcome))
		}
		to, next.ForProvider, next.CloseTx = c.Outcome, c.Outcome == DealResolved && c.ForProvider, c.CloseTx
		next.Note = "closed on chain: " + closeNote(c)
	default:
		return anomaly(fmt.Sprintf("unknown chain status %d", c.Status))
	}
	if to == d.State {
		if next.SubmittedAt == d.SubmittedAt {
			return Correction{}, false
		}
		next.Note = d.Note // a field refresh is not a new story
	} else if !deals.reachable(d.State, to) {
		return anomaly(fmt.Sprintf("chain says %s, ledger says %s (ledger ahead of chain)", c.Status, d.State))
	}
	next.State = to
	corr.To, corr.Note, corr.deal = string(to), next.Note, &next
	return corr, true
}

// closeNote says in words how a deal closed on chain and who got the
// money.
func closeNote(c ChainDeal) string {
	switch {
	case c.Outcome == DealResolved && c.ForProvider:
		return "resolved: the mediator ruled for the provider (provider paid)"
	case c.Outcome == DealResolved:
		return "resolved: the mediator ruled for the client (price refunded, collateral forfeited)"
	case c.Outcome == DealRefunded && c.Expired:
		return "refunded: dispute expired, the mediator stayed silent (price and fee refunded, collateral unlocked)"
	}
	return string(c.Outcome)
}

// ReconcileChannel returns the correction that brings ch in line with the
// chain fact c, and false when ch already agrees. Pure.
func ReconcileChannel(ch Channel, c ChainChannel) (Correction, bool) {
	if ch.State.Terminal() {
		return Correction{}, false
	}
	corr := Correction{Kind: "channel", ID: ch.ID, From: string(ch.State)}
	if !c.Exists {
		if ch.State == ChannelOpening {
			return Correction{}, false // may still be mined; the caller resends or abandons
		}
		corr.To, corr.Anomaly, corr.Note = corr.From, true, fmt.Sprintf("ledger has the channel %s but the chain has none", ch.State)
		return corr, true
	}
	next := ch
	to := ChannelOpen
	switch {
	case c.Finished:
		to = ChannelClosed
	case c.ExitAt != 0:
		to = ChannelExiting
	}
	next.ExitAt = c.ExitAt
	if c.Deposit != nil && c.Deposit.Cmp(ch.Deposit) != 0 {
		next.Deposit = new(big.Int).Set(c.Deposit)
	}
	if c.Redeemed != nil && c.Redeemed.Cmp(ch.Redeemed) > 0 {
		next.Redeemed = new(big.Int).Set(c.Redeemed)
	}
	changed := to != ch.State || next.ExitAt != ch.ExitAt || next.Deposit.Cmp(ch.Deposit) != 0 || next.Redeemed.Cmp(ch.Redeemed) != 0
	if !changed {
		return Correction{}, false
	}
	if to != ch.State && !channels.reachable(ch.State, to) {
		corr.To, corr.Anomaly, corr.Note = corr.From, true, fmt.Sprintf("chain says %s, ledger says %s", to, ch.State)
		return corr, true
	}
	next.State = to
	corr.To = string(to)
	corr.Note = fmt.Sprintf("chain: deposit %s, redeemed %s, exit at %d, finished %t", next.Deposit, next.Redeemed, c.ExitAt, c.Finished)
	corr.channel = &next
	return corr, true
}

// jobAfterDeal maps a deal's new state to its job's state on that side;
// ok false when the job is not moved.
func jobAfterDeal(role Role, d Deal) (JobState, bool) {
	paid := d.State == DealAccepted || d.State == DealClaimed || (d.State == DealResolved && d.ForProvider)
	refunded := d.State == DealRefunded || (d.State == DealResolved && !d.ForProvider) || d.State == DealAbandoned
	switch {
	case d.State == DealDisputed:
		return JobDisputed, true
	case paid && role == RoleProvider:
		return JobPaid, true
	case paid && role == RoleClient:
		return JobAccepted, true
	case refunded && d.State == DealAbandoned && role == RoleClient:
		return JobFailed, true
	case refunded && d.State != DealAbandoned:
		return JobRefunded, true
	}
	return "", false
}

// applyDeal writes a deal correction and moves the deal's job along when
// the job is waiting on that deal alone (provider side, or a client job
// with a single provider) and the move is reachable. A client job with
// several providers (redundancy, retries) is left to the market: its
// state depends on every deal (one refunded liar does not make a job
// whose majority was paid "refunded"), and the market's settle loop
// reads the deals this wrote. Likewise a client job whose deal ended a
// dispute stays where it is (disputed) for the market to finish.
func (tx *Tx) applyDeal(next Deal, c ChainDeal) error {
	prev, err := tx.Deal(next.ID)
	if err != nil {
		return err
	}
	d, err := tx.moveDeal(next.ID, next.State, func(d *Deal) error { *d = next; return nil }, true)
	if err != nil {
		return err
	}
	if d.Role == RoleClient && (d.State == DealResolved || c.Expired || prev.State == DealDisputed) {
		// The end of a dispute: the client's market reads the closing
		// event and records the job, its assignment and the refund (the
		// amount depends on the ruling) in one write; a terminal job
		// here would hide it from that settle loop.
		return nil
	}
	if d.JobID == "" {
		return nil
	}
	j, err := tx.Job(d.JobID)
	if errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if j.Terminal() || j.Role != d.Role || j.DealID != d.ID || (j.Role == RoleClient && len(j.Providers) > 1) {
		return nil
	}
	to, ok := jobAfterDeal(j.Role, d)
	m, _ := jobMachine(j.Role)
	if !ok || to == j.State || !m.reachable(j.State, to) {
		return nil
	}
	from := j.State
	j.State, j.Note = to, "reconciled: deal "+string(d.State)
	_, err = tx.writeJob(j, from, j.Note)
	return err
}

func (tx *Tx) applyChannel(next Channel) error {
	cur, err := tx.Channel(next.ID)
	if err != nil {
		return err
	}
	redeemed := next.Redeemed
	next.Redeemed = cur.Redeemed // RecordRedeemed moves it, with its jobs
	if _, err := tx.moveChannel(next.ID, next.State, func(c *Channel) error {
		c.State, c.Deposit, c.ExitAt = next.State, next.Deposit, next.ExitAt
		return nil
	}, true); err != nil {
		return err
	}
	if redeemed.Cmp(cur.Redeemed) > 0 {
		_, err = tx.RecordRedeemed(next.ID, redeemed, common.Hash{})
	}
	return err
}

func (l *Ledger) reconcile(ctx context.Context, cv ChainView) ([]Correction, error) {
	var ds []Deal
	var cs []Channel
	err := l.view(ctx, func(tx *Tx) error {
		all, err := tx.Deals("")
		if err != nil {
			return err
		}
		for _, d := range all {
			if !d.State.Terminal() {
				ds = append(ds, d)
			}
		}
		allc, err := tx.Channels("")
		for _, c := range allc {
			if !c.State.Terminal() {
				cs = append(cs, c)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []Correction
	var errs []error
	for _, d := range ds {
		c, err := cv.DealOnChain(ctx, d.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("ledger: reconcile deal %s: %w", d.ID, err))
			continue
		}
		var corr Correction
		var ok bool
		err = l.update(ctx, func(tx *Tx) error {
			cur, err := tx.Deal(d.ID) // fresh: the market may have moved it meanwhile
			if err != nil {
				return err
			}
			if corr, ok = ReconcileDeal(cur, c, tx.now); !ok || corr.Anomaly {
				return nil
			}
			return tx.applyDeal(*corr.deal, c)
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			l.logCorrection(corr)
			out = append(out, corr)
		}
	}
	for _, ch := range cs {
		c, err := cv.ChannelOnChain(ctx, ch.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("ledger: reconcile channel %s: %w", ch.ID, err))
			continue
		}
		var corr Correction
		var ok bool
		err = l.update(ctx, func(tx *Tx) error {
			cur, err := tx.Channel(ch.ID)
			if err != nil {
				return err
			}
			if corr, ok = ReconcileChannel(cur, c); !ok || corr.Anomaly {
				return nil
			}
			return tx.applyChannel(*corr.channel)
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			l.logCorrection(corr)
			out = append(out, corr)
		}
	}
	return out, errors.Join(errs...)
}

func (l *Ledger) logCorrection(c Correction) {
	if c.Anomaly {
		l.log.Warn("ledger disagrees with the chain", "kind", c.Kind, "id", c.ID, "state", c.From, "chain", c.Note)
		return
	}
	l.log.Info("reconciled with the chain", "kind", c.Kind, "id", c.ID, "from", c.From, "to", c.To, "note", c.Note)
}
